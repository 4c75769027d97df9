"""`make bench`: performance at district scale, measured side by side.

    .venv/bin/python tools/bench/run.py [--duration 10] [--skip-pg] [--pg-factor 0.25]

Builds (or reuses) the scale databases in bench/out/ (SQLite at F = 1 and F = 0.1; PostgreSQL
database bench_pg), then measures, in one run:
  1. p50 / p95 latency and requests per second of the key pages under wrk, served by gunicorn
     with 2 workers on the F = 1 SQLite database, beside the floor (/bench/floor), and each page's
     p95 as a multiple of the floor's;
  2. the SQL queries each page issues at F = 0.1 and F = 1;
  3. the full performance recompute beside a bare GROUP BY over the same ratings, and the
     incremental update after one new rating;
  4. the monthly briefing;
  5. bid submission on PostgreSQL: 50 concurrent bidders on one project through gunicorn;
  6. the peak resident memory of a gunicorn worker;
plus the query plans of every page query on PostgreSQL (any sequential scan of a large table is
reported). Prints one table and writes bench/out/bench.json (and the plans next to it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess  # nosec B404  (runs the app's own commands and wrk)
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from tools.bench.bids import bid_round
from tools.bench.briefing import briefing_figures
from tools.bench.common import (
    LARGE_TABLES,
    OUT,
    PAGES,
    PG_ADMIN_URL,
    PG_DB,
    ROOT,
    TARGET_P95_MS,
    TARGET_RATIO,
    VENV,
    Server,
    _child_cpu,
    env_for,
    load,
    log,
    login,
    run,
    seed_version,
    session_for,
    wrk,
)
from tools.bench.scores import recompute_figures

# --- databases ------------------------------------------------------------------------------------

def ensure_db(db_url: str, factor: float, marker: Path, reset) -> dict:
    """Reuse the scale database when it was made by this seeder at this factor; else rebuild it.
    Migrations added since are applied either way."""
    want = {"factor": factor, "seed": seed_version()}
    info = {"factor": factor, "reused": False}
    env = env_for(db_url)
    if marker.exists() and json.loads(marker.read_text()).get("made") == want:
        run([str(VENV / "flask"), "db", "upgrade"], env, quiet=True)
        info["reused"] = True
        return info
    reset()
    run([str(VENV / "flask"), "db", "upgrade"], env, quiet=True)
    t0, cpu0 = time.perf_counter(), _child_cpu()
    run([str(VENV / "flask"), "seed", "scale", "--factor", str(factor)], env)
    info["seed_seconds"] = round(time.perf_counter() - t0, 1)
    # CPU time is what a busy machine disturbs least (wall time waits for the other processes).
    info["seed_cpu_seconds"] = round(_child_cpu() - cpu0, 1)
    info["seed_load"] = load()
    # Scores as a running district would have them.
    run([str(VENV / "flask"), "evaluation", "recompute", "--no-rules"], env)
    marker.write_text(json.dumps({"made": want, **{k: v for k, v in info.items() if k.startswith("seed")}}))
    return info


def sqlite_db(factor: float) -> tuple[str, dict]:
    path = OUT / f"scale-{factor}.db"

    def reset():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    marker = OUT / f"scale-{factor}.json"
    info = ensure_db(f"sqlite:///{path}", factor, marker, reset)
    if info["reused"]:
        info.update({k: v for k, v in json.loads(marker.read_text()).items() if k != "made"})
    return f"sqlite:///{path}", info


def pg_db(factor: float) -> tuple[str, dict]:
    import psycopg

    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB

    def reset():
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_DB}"')

    marker = OUT / f"pg-{factor}.json"
    sa_url = url.replace("postgresql://", "postgresql+psycopg://")
    try:
        with psycopg.connect(url):
            pass
    except psycopg.OperationalError:
        marker.unlink(missing_ok=True)
    info = ensure_db(sa_url, factor, marker, reset)
    if info["reused"]:
        info.update({k: v for k, v in json.loads(marker.read_text()).items() if k != "made"})
    return sa_url, info


# --- in-process: samples, query counts, plans, recompute ------------------------------------------

def make_app(db_url: str):
    from tools.bench.floor import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False})


def samples(app) -> dict:
    """The objects the pages show: the same kind of object at every size."""
    from sqlalchemy import select, text

    from core.db import db
    from evaluation.review.models import Panel
    from marketplace.projects.models import PurchaseProject

    with app.app_context():
        project = db.session.scalar(select(PurchaseProject.id).join(Panel, Panel.project_id == PurchaseProject.id)
                                    .where(PurchaseProject.state == "completed").order_by(PurchaseProject.id)
                                    .limit(1))
        provider = db.session.scalar(text("SELECT provider_id FROM ratings GROUP BY provider_id "
                                          "ORDER BY count(*) DESC, provider_id LIMIT 1"))
        counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}"))  # nosec B608  (fixed names)
                  for t in ("purchase_projects", "bids", "service_sessions", "ratings", "providers")}
    return {"project": project, "provider": provider, "rows": counts}


def test_client_login(app, login_name):
    client = app.test_client()
    login(lambda p: client.get(p).get_data(as_text=True),
          lambda p, d: client.post(p, data=d), login_name)
    return client


def page_queries(app, sample: dict, explain: bool) -> dict:
    """Per page: the number of SQL statements a second request issues with the figure cache
    emptied (what the page computes, not what it reuses), their plans, and that request's time."""
    from sqlalchemy import event

    from core import cache
    from core.db import db

    out = {}
    with app.app_context():
        engine = db.engine
    captured: list = []

    def before(conn, cursor, statement, params, context, executemany):
        captured.append((statement, params))

    clients = {}
    for name, path, who in PAGES:
        url = path.format(**sample)
        client = clients.get(who) or (test_client_login(app, who) if who else app.test_client())
        clients[who] = client
        client.get(url)  # warm: settings, templates, lazy rules
        cache.clear(app)
        captured.clear()
        event.listen(engine, "before_cursor_execute", before)
        t0 = time.perf_counter()
        resp = client.get(url)
        uncached_ms = round(1000 * (time.perf_counter() - t0), 1)
        event.remove(engine, "before_cursor_execute", before)
        stmts = list(captured)
        out[name] = {"status": resp.status_code, "queries": len(stmts), "url": url, "uncached_ms": uncached_ms}
        if explain:
            out[name]["plans"] = plans(engine, stmts)
    return out


def plans(engine, stmts) -> list[dict]:
    """The plan of every SELECT; scans of large tables that use no index are listed."""
    res = []
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement, params in stmts:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cur = raw.cursor()
            cur.execute(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + statement, params)
            rows = cur.fetchall()
            lines = [r[0] for r in rows] if pg else [r[-1] for r in rows]
            if pg:
                seq = sorted({m.group(1) for ln in lines for m in [re.search(r"Seq Scan on (\w+)", ln)] if m
                              and m.group(1) in LARGE_TABLES})
            else:
                seq = sorted({m.group(1) for ln in lines for m in [re.match(r"SCAN (\w+)(?! USING)", ln)]
                              if m and m.group(1) in LARGE_TABLES and "USING" not in ln})
            res.append({"sql": " ".join(statement.split())[:400], "plan": lines, "full_scans": seq})
        raw.rollback()
    return res


def page_latencies(db_url: str, sample: dict, duration: int) -> tuple[dict, float]:
    server = Server(db_url, "gunicorn-sqlite.log")
    try:
        sessions = {None: None}
        out = {}
        for name, path, who in PAGES:
            if who not in sessions:
                sessions[who] = session_for(server.base, who)
            s = sessions[who]
            url = server.base + path.format(**sample)
            import requests

            check = (s or requests).get(url, timeout=60, allow_redirects=False)
            if check.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {check.status_code}")
            cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items()) if s else None
            wrk(url, cookie, max(2, duration // 3))  # warm both workers
            out[name] = wrk(url, cookie, duration)
            log(f"{name}: p50 {out[name]['p50_ms']} ms, p95 {out[name]['p95_ms']} ms, {out[name]['rps']} req/s")
        return out, server.peak_rss_mb()
    finally:
        server.stop()


def audit_verify(db_url: str) -> str:
    out = subprocess.run([str(VENV / "flask"), "audit", "verify"], env=env_for(db_url), cwd=ROOT,  # nosec B603
                         capture_output=True, text=True)
    return (out.stdout or out.stderr).strip()


# --- the table ------------------------------------------------------------------------------------

def table(res: dict) -> str:
    lines = []
    pages, q = res["pages"], res["queries"]
    lines.append(f"{'page':<20} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7} {'×floor':>7} "
                 f"{'q F=0.1':>8} {'q F=1':>6} {'uncached':>9}  verdict")
    for name, _path, who in PAGES:
        p = pages.get(name)
        floor = pages["floor (officer)" if who else "floor"]
        ratio = p["p95_ms"] / floor["p95_ms"] if p and floor["p95_ms"] else None
        small, big = q["0.1"][name]["queries"], q["1"][name]["queries"]
        ok = (p and p["p95_ms"] < TARGET_P95_MS and (name.startswith("floor") or ratio <= TARGET_RATIO)
              and small == big)
        lines.append(f"{name:<20} {p['p50_ms']:>7} {p['p95_ms']:>7} {p['rps']:>7} "
                     f"{ratio:>7.2f} {small:>8} {big:>6} {q['1'][name]['uncached_ms']:>9}  {'ok' if ok else 'MISS'}")
    r = res["recompute"]
    lines.append("")
    lines.append(f"full recompute {r['full_s']} s vs bare GROUP BY {r['bare_group_by_s']} s: ×{r['ratio']} "
                 f"(target ≤ 2) {'ok' if r['ratio'] <= 2 else 'MISS'}; vs the same GROUP BY with the decay weights "
                 f"{r['bare_decay_s']} s: ×{r['ratio_to_decay']}; incremental after one rating "
                 f"{r['incremental_ms']} ms (target < 50) {'ok' if r['incremental_ms'] < 50 else 'MISS'}")
    b = res["briefing"]
    lines.append(f"monthly briefing: {b['seconds']} s, {b['pages']} pages")
    bids = res.get("bids")
    if bids:
        ok = bids["bids_per_s_median"] >= 100 and not bids["lost"] and not bids["duplicated"]
        ok = ok and not bids["refused"]
        lines.append(f"bids on PostgreSQL (F={res['pg']['factor']}): {bids['bids_per_s_median']} bids/s median "
                     f"(best {bids['bids_per_s_best']}) over {len(bids['rounds'])} rounds of 50; lost "
                     f"{bids['lost']}, duplicated {bids['duplicated']}, refused {bids['refused']} "
                     f"{'ok' if ok else 'MISS'}")
    else:
        lines.append("bids on PostgreSQL: skipped")
    lines.append(f"peak RSS of a gunicorn worker: {res['peak_rss_mb']} MB")
    for key, label in (("db_1", "SQLite F=1"), ("db_0.1", "SQLite F=0.1"), ("pg", "PostgreSQL")):
        d = res.get(key)
        if d and "seed_seconds" in d:
            lines.append(f"scale data {label} (F={d['factor']}): seeded in {d['seed_seconds']} s wall, "
                         f"{d.get('seed_cpu_seconds', '?')} s CPU, load {d['seed_load']}"
                         + (" (reused)" if d.get("reused") else ""))
    rows = res["sample"]["rows"]
    lines.append("F=1 rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    seq = res.get("pg_full_scans")
    if seq is not None:
        lines.append("PostgreSQL plans: " + ("no sequential scan of a large table" if not seq else
                                             "sequential scans: " + "; ".join(f"{k}: {', '.join(v)}"
                                                                              for k, v in seq.items())))
    seq = res.get("sqlite_full_scans")
    lines.append("SQLite plans: " + ("no full scan of a large table" if not seq else
                                     "full scans: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in seq.items())))
    lines.append(f"machine: {os.cpu_count()} cores, {res['machine']['memory_gb']} GB; load at start "
                 f"{res['machine']['load_start']}, at end {res['machine']['load_end']}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--pg-factor", type=float, default=float(os.environ.get("BENCH_PG_FACTOR", "1")))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run `make system-deps` (Debian package wrk)")
    OUT.mkdir(parents=True, exist_ok=True)
    mem = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal")))
    res = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "machine": {"cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1), "load_start": load()}}
    big_url, res["db_1"] = sqlite_db(1.0)
    small_url, res["db_0.1"] = sqlite_db(0.1)
    big, small = make_app(big_url), make_app(small_url)
    res["sample"] = samples(big)
    sample_small = samples(small)
    log(f"samples: {res['sample']}")
    res["queries"] = {"1": page_queries(big, res["sample"], explain=True),
                      "0.1": page_queries(small, sample_small, explain=False)}
    res["sqlite_full_scans"] = {k: sorted({t for p in v["plans"] for t in p["full_scans"]})
                                for k, v in res["queries"]["1"].items()
                                if any(p["full_scans"] for p in v["plans"])}
    (OUT / "plans-sqlite.txt").write_text(plan_text(res["queries"]["1"]))
    res["recompute"] = recompute_figures(big)
    log(f"recompute: {res['recompute']}")
    res["briefing"] = briefing_figures(big)
    res["pages"], res["peak_rss_mb"] = page_latencies(big_url, res["sample"], args.duration)
    res["audit_verify_sqlite"] = audit_verify(big_url)
    if not args.skip_pg:
        pg_url, res["pg"] = pg_db(args.pg_factor)
        pg_app = make_app(pg_url)
        pg_sample = samples(pg_app)
        pg_q = page_queries(pg_app, pg_sample, explain=True)
        res["pg_queries"] = {k: v["queries"] for k, v in pg_q.items()}
        res["pg_full_scans"] = {k: sorted({t for p in v["plans"] for t in p["full_scans"]})
                                for k, v in pg_q.items() if any(p["full_scans"] for p in v["plans"])}
        (OUT / "plans-pg.txt").write_text(plan_text(pg_q))
        res["bids"] = bid_round(pg_url)
        res["audit_verify_pg"] = audit_verify(pg_url)
    res["machine"]["load_end"] = load()
    for v in res["queries"].values():
        for page in v.values():
            page.pop("plans", None)
    text_table = table(res)
    res["table"] = text_table
    (OUT / "bench.json").write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
    print()
    print(text_table)
    print(f"\nwritten: {OUT / 'bench.json'}, plans in {OUT}/plans-*.txt")


def plan_text(queries: dict) -> str:
    out = []
    for name, v in queries.items():
        out.append(f"=== {name} {v['url']} ({v['queries']} queries)")
        for p in v.get("plans", []):
            out.append(p["sql"])
            out.extend("    " + ln for ln in p["plan"])
            if p["full_scans"]:
                out.append("    !! full scan of " + ", ".join(p["full_scans"]))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
