"""The bench's own logic (tools/bench): the growth curve's verdicts and table on made-up numbers,
the page table's verdicts, and that the scale seed writes the same rows by COPY as by
executemany on PostgreSQL. Not timed: `make bench` measures speed."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from tests.conftest import FAST_HASH, TEST_DATABASE_URL
from tools.bench import curve
from tools.bench import run as bench


def test_flat_figures_pass_and_growing_ones_miss():
    assert curve.verdict("page", {0.1: 10.0, 0.3: 11.0, 1.0: 14.9}) == "ok"
    assert curve.verdict("page", {0.1: 10.0, 1.0: 15.1}) == "MISS"
    assert curve.verdict("incremental", {0.1: 5.0, 1.0: 5.0}) == "ok"
    assert curve.verdict("incremental", {0.1: 5.0, 1.0: 50.0}) == "MISS"


def test_the_recompute_may_grow_with_the_data_but_not_faster():
    # Ten times the data: ten times the time is linear; thirty times is not.
    assert curve.verdict("recompute", {0.1: 0.1, 1.0: 1.0}) == "ok"
    assert curve.verdict("recompute", {0.1: 0.1, 1.0: 1.4}) == "ok"
    assert curve.verdict("recompute", {0.1: 0.1, 1.0: 3.0}) == "MISS"
    # The growth is read between the smallest and the largest factor, whatever their order.
    assert curve.growth({1.0: 2.0, 0.1: 1.0, 0.3: 1.5}) == (2.0, 10.0)


def test_a_single_factor_gives_no_verdict_and_a_zero_time_is_refused():
    assert curve.verdict("page", {1.0: 3.0}) == "n/a"
    with pytest.raises(ValueError):
        curve.growth({0.1: 0.0, 1.0: 3.0})


def test_the_curve_table_shows_each_figure_its_growth_and_verdict():
    out = curve.table({"factors": [0.1, 0.3, 1.0], "rows": [
        {"name": "project list", "kind": "page", "unit": "ms", "times": {0.1: 4.0, 0.3: 4.2, 1.0: 4.4}},
        {"name": "catalog search", "kind": "page", "unit": "ms", "times": {"0.1": 4.0, "1.0": 12.0}},
        {"name": "full recompute", "kind": "recompute", "unit": "s", "times": {0.1: 0.1, 0.3: 0.3, 1.0: 1.0}},
        {"name": "incremental update", "kind": "incremental", "unit": "ms", "times": {}, "error": "failed"}]})
    lines = out.splitlines()
    assert "F=0.1" in lines[0] and "F=0.3" in lines[0] and "F=1" in lines[0]
    rows = {ln.split("  ")[0].strip(): ln for ln in lines[1:]}
    assert rows["project list"].split()[-4:] == ["1.10", "10", "flat", "ok"]
    assert rows["catalog search"].split()[-4:] == ["3.00", "10", "flat", "MISS"]
    assert " - " in rows["catalog search"]  # no figure at F = 0.3
    assert rows["full recompute"].split()[-4:] == ["10.00", "10", "linear", "ok"]
    assert rows["incremental update"].rstrip().endswith("failed")


def _wrk(p95, errors=0, non2xx=0, requests=600):
    return {"p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 1.2, "rps": requests / 6, "errors": errors,
            "non2xx": non2xx, "requests": requests}


def test_a_page_passes_within_twice_the_floor_and_the_review_report_within_three_times():
    floor = _wrk(5.0)
    assert bench.page_verdict("project list", _wrk(10.0), floor, _wrk(20.0), 5, 5) == "ok"
    assert bench.page_verdict("project list", _wrk(10.5), floor, _wrk(20.0), 5, 5) == "MISS"
    assert bench.page_verdict("project evaluation", _wrk(14.0), floor, _wrk(20.0), 31, 31) == "ok"
    assert bench.page_verdict("project evaluation", _wrk(16.0), floor, _wrk(20.0), 31, 31) == "MISS"
    # More statements at the larger size, or errors under load, are misses however fast.
    assert bench.page_verdict("project list", _wrk(6.0), floor, _wrk(20.0), 5, 6) == "MISS"
    assert bench.page_verdict("project list", _wrk(6.0), floor, _wrk(20.0, non2xx=3), 5, 5) == "MISS"
    # A pass in which every request timed out measured nothing, and is no pass.
    assert bench.page_verdict("project list", _wrk(0.0, requests=0), floor, _wrk(20.0), 5, 5) == "MISS"
    assert bench.page_verdict("project list", _wrk(6.0), floor, _wrk(0.0, requests=0), 5, 5) == "MISS"
    # On PostgreSQL there is one size only.
    assert bench.page_verdict("project list", _wrk(6.0), floor, None, None, 5) == "ok"


def _rows_digest(app) -> dict[str, str]:
    """Every table's rows, bar what is random by design (sealed bids, password salts, attendance codes)."""
    from core.db import db

    skip = {"sealed", "key_id", "content_hash", "password_hash", "attendance_code"}
    out = {}
    with app.app_context():
        for t in db.metadata.sorted_tables:
            # Written by the app's own operations on the real clock (the oversight part's evidence
            # photos and its confirmed falsifications' notices), not by the bulk writer compared here.
            if t.name in ("audit_events", "alembic_version", "stored_files", "notifications"):
                continue
            cols = ", ".join(f'"{c.name}"' for c in t.columns if c.name not in skip)
            rows = sorted(repr(tuple(map(str, r))) for r in db.session.execute(text(f"SELECT {cols} FROM {t.name}")))
            out[t.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="COPY is the PostgreSQL path (set TEST_DATABASE_URL)")
def test_copy_and_executemany_write_the_same_rows(monkeypatch):
    import datetime as dt

    import seeds.scale as scale
    from core.db import db
    from tools.bench.floor import create_app

    fixed = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(scale, "utcnow", lambda: fixed)
    url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    digests, schemas = {}, []
    try:
        for copy in (True, False):
            schema = f"bench_copy_{uuid.uuid4().hex[:8]}"
            schemas.append(schema)
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret", "TESTING": True,
                              "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
                              "PASSWORD_HASH_COST": FAST_HASH, "RATELIMIT_ENABLED": False})
            with app.app_context():
                upgrade()
                scale.seed_scale(0.002, echo=lambda *_: None, copy=copy)
                db.session.commit()
            digests[copy] = _rows_digest(app)
            with app.app_context():
                db.engine.dispose()
    finally:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    assert digests[True]["ratings"] and len(digests[True]) > 30
    assert digests[True] == digests[False]
