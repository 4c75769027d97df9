"""`make bench`: performance at district scale, measured side by side on SQLite and PostgreSQL.

    .venv/bin/python tools/bench/run.py [--duration 6] [--skip-pg] [--pg-factor 1]
        [--curve-factors 0.1,0.3,1] [--curve-only] [--skip-curve]

Builds (or reuses) the scale databases in bench/out/ (SQLite at each factor of the curve;
PostgreSQL database bench_pg, or BENCH_PG_DB), then measures, in one run:
  1. the key pages served by gunicorn (2 workers) on SQLite F = 1 and on PostgreSQL F = 1, each
     in two passes beside the floor (/bench/floor): latency (wrk with 2 connections, one per
     worker: p50 / p95 and each page's p95 as a multiple of the floor's) and throughput (16
     connections: requests per second, p95, p99);
  2. the SQL statements each page issues at F = 0.1 and F = 1 (and on PostgreSQL), with the
     query plans (any scan of a large table that uses no index is reported);
  3. a cProfile of in-process requests to every page on each database, saved as
     bench/out/profile-<db>-<page>.txt;
  4. the full performance recompute beside a bare GROUP BY over the same ratings, and the
     incremental update after one new rating (on both databases);
  5. the monthly briefing; bid submission on PostgreSQL (50 concurrent bidders on one project);
     the peak resident memory of a gunicorn worker;
  6. the growth curve (tools/bench/curve.py): every page, the recompute and the incremental
     update at each factor, and how each grows.
Prints the tables and writes bench/out/bench.json (the plans and profiles next to it).
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

from tools.bench import curve
from tools.bench.bids import bid_round
from tools.bench.briefing import briefing_figures
from tools.bench.briefing import summary as briefing_summary
from tools.bench.common import (
    LARGE_TABLES,
    OUT,
    PAGES,
    PASSES,
    PG_ADMIN_URL,
    PG_DB,
    REPORT_PAGES,
    REPORT_RATIO,
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

# Issue targets for the scores and the bids (the pages' are in common.py).
RECOMPUTE_RATIO = 1.5  # × the decay-weighted GROUP BY over the same ratings
INCREMENTAL_MS = 10
BIDS_PER_S = 300


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


def page_passes(db_url: str, sample: dict, duration: int, tag: str) -> tuple[dict, float]:
    """Both passes over every page (the floor among them) on one gunicorn: {pass: {page: wrk}}."""
    import requests

    server = Server(db_url, f"gunicorn-{tag}.log")
    try:
        sessions, targets = {None: None}, []
        for name, path, who in PAGES:
            if who not in sessions:
                sessions[who] = session_for(server.base, who)
            s = sessions[who]
            url = server.base + path.format(**sample)
            check = (s or requests).get(url, timeout=60, allow_redirects=False)
            if check.status_code != 200:
                raise RuntimeError(f"{tag} {name}: {url} answered {check.status_code}")
            targets.append((name, url, "; ".join(f"{k}={v}" for k, v in s.cookies.items()) if s else None))
        out = {}
        for label, connections in PASSES.items():
            out[label] = {}
            for name, url, cookie in targets:
                if label == "latency":
                    wrk(url, cookie, 2)  # warm both workers (the throughput pass follows warm)
                r = out[label][name] = wrk(url, cookie, duration, connections)
                log(f"{tag} {label} {name}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, "
                    f"{r['rps']} req/s")
        return out, server.peak_rss_mb()
    finally:
        server.stop()


def profile_pages(app, sample: dict, tag: str, requests: int = 20) -> dict:
    """A cProfile of `requests` in-process requests to each page (after one to warm), saved as
    bench/out/profile-<tag>-<page>.txt: the top functions by cumulative and by own time."""
    import cProfile
    import io
    import pstats

    files, clients = {}, {}
    for name, path, who in PAGES:
        url = path.format(**sample)
        if who not in clients:
            clients[who] = test_client_login(app, who) if who else app.test_client()
        client = clients[who]
        client.get(url)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(requests):
            client.get(url)
        prof.disable()
        buf = io.StringIO()
        buf.write(f"{name}: {url}, {requests} requests in process ({tag})\n\n")
        for key in ("cumulative", "tottime"):
            buf.write(f"--- by {key} ---\n")
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(35)
        # Paths as the reader knows them: the app's relative to the checkout, libraries by package.
        text_out = re.sub(r"\S*/site-packages/", "", buf.getvalue().replace(f"{ROOT}/", ""))
        path_out = OUT / f"profile-{tag}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.txt"
        path_out.write_text(text_out)
        files[name] = path_out.name
    return files


def guarded_recompute(app, tag: str) -> dict:
    """recompute_figures, with a failure reported in the table rather than ending the run."""
    try:
        return recompute_figures(app)
    except Exception as exc:
        log(f"recompute on {tag} failed: {exc!r}")
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}


def growth_curve(factors: list[float], known: dict | None = None) -> dict:
    """Every page, the recompute and the incremental update at each factor (SQLite); `known`:
    recompute figures already measured in this run, by factor."""
    rows: dict[str, dict] = {}
    dbs = {}
    for f in factors:
        url, dbs[str(f)] = sqlite_db(f)
        app = make_app(url)
        sample = samples(app)
        medians = curve.page_medians(app, sample, PAGES, test_client_login)
        for name, ms in medians.items():
            rows.setdefault(name, {"name": name, "kind": "page", "unit": "ms", "times": {}})["times"][f] = ms
        r = (known or {}).get(f) or guarded_recompute(app, f"SQLite F={f}")
        full = rows.setdefault("full recompute", {"name": "full recompute", "kind": "recompute", "unit": "s",
                                                  "times": {}})
        incr = rows.setdefault("incremental update", {"name": "incremental update", "kind": "incremental",
                                                      "unit": "ms", "times": {}})
        if "error" in r:
            full["error"] = incr["error"] = "failed"
        else:
            full["times"][f], incr["times"][f] = r["full_s"], r["incremental_ms"]
        log(f"curve F={f}: {medians}; recompute {r}")
        with app.app_context():
            from core.db import db

            db.engine.dispose()
    return {"factors": factors, "rows": list(rows.values()), "databases": dbs}


def audit_verify(db_url: str) -> str:
    out = subprocess.run([str(VENV / "flask"), "audit", "verify"], env=env_for(db_url), cwd=ROOT,  # nosec B603
                         capture_output=True, text=True)
    return (out.stdout or out.stderr).strip()


# --- the table ------------------------------------------------------------------------------------

def page_verdict(name: str, lat: dict, floor: dict, thr: dict | None, q_small: int | None, q_big: int | None) -> str:
    """ok when the page's latency p95 is under the target and within its multiple of the floor,
    both passes completed requests and saw no error, and it issues as many statements at F = 0.1 as at F = 1."""
    limit = REPORT_RATIO if name in REPORT_PAGES else TARGET_RATIO
    ratio = lat["p95_ms"] / floor["p95_ms"] if floor["p95_ms"] else float("inf")
    ok = lat["p95_ms"] < TARGET_P95_MS and (name.startswith("floor") or ratio <= limit)
    # A pass that completed no request (every one timed out) measured nothing: not a pass.
    ok = ok and not any(p and (p["errors"] or p["non2xx"] or not p["requests"]) for p in (lat, thr))
    ok = ok and (q_small is None or q_small == q_big)
    return "ok" if ok else "MISS"


def pages_table(label: str, passes: dict, queries: dict | None, q_small: dict | None) -> list[str]:
    lat, thr = passes["latency"], passes.get("throughput", {})
    c_lat, c_thr = PASSES["latency"], PASSES["throughput"]
    lines = [f"{label}: latency pass ({c_lat} connections) | throughput pass ({c_thr} connections)",
             f"{'page':<20} {'p50 ms':>7} {'p95 ms':>7} {'×floor':>7} | {'req/s':>7} {'p95 ms':>7} {'p99 ms':>7} | "
             f"{'q F=0.1':>7} {'q':>4} {'uncached':>9}  verdict"]
    for name, _path, who in PAGES:
        p, t = lat.get(name), thr.get(name)
        if not p:
            continue
        floor = lat["floor (officer)" if who else "floor"]
        ratio = p["p95_ms"] / floor["p95_ms"] if floor["p95_ms"] else float("inf")
        q = (queries or {}).get(name, {})
        small = (q_small or {}).get(name, {}).get("queries")
        big = q.get("queries")
        verdict = page_verdict(name, p, floor, t, small, big)
        lines.append(f"{name:<20} {p['p50_ms']:>7} {p['p95_ms']:>7} {ratio:>7.2f} | "
                     f"{t['rps'] if t else '-':>7} {t['p95_ms'] if t else '-':>7} {t['p99_ms'] if t else '-':>7} | "
                     f"{small if small is not None else '-':>7} {big if big is not None else '-':>4} "
                     f"{q.get('uncached_ms', '-'):>9}  {verdict}")
    return lines


def recompute_line(label: str, r: dict) -> str:
    if "error" in r:
        return f"{label}: recompute FAILED ({r['error']})"
    return (f"{label}: full recompute {r['full_s']} s vs the same GROUP BY with the decay weights "
            f"{r['bare_decay_s']} s: ×{r['ratio_to_decay']} (target ≤ {RECOMPUTE_RATIO}) "
            f"{'ok' if r['ratio_to_decay'] <= RECOMPUTE_RATIO else 'MISS'}; vs bare GROUP BY {r['bare_group_by_s']} s: "
            f"×{r['ratio']}; incremental after one rating {r['incremental_ms']} ms (target ≤ {INCREMENTAL_MS}) "
            f"{'ok' if r['incremental_ms'] <= INCREMENTAL_MS else 'MISS'}, "
            f"{r.get('incremental_statements', '?')} statements, differs from the full recompute by "
            f"{r.get('incremental_vs_full_difference', '?')}")


def table(res: dict) -> str:
    lines = []
    if res.get("pages"):
        lines += pages_table(f"SQLite F={res['db_1']['factor']}", res["pages"], res["queries"]["1"],
                             res["queries"]["0.1"])
    if res.get("pg_pages"):
        lines.append("")
        lines += pages_table(f"PostgreSQL F={res['pg']['factor']}", res["pg_pages"], res.get("pg_queries_full"),
                             None)
    elif res.get("pg_pages_error"):
        lines.append(f"PostgreSQL pages: FAILED ({res['pg_pages_error']})")
    lines.append("")
    if "recompute" in res:
        lines.append(recompute_line("SQLite", res["recompute"]))
    if "pg_recompute" in res:
        lines.append(recompute_line("PostgreSQL", res["pg_recompute"]))
    b = res.get("briefing")
    if b:
        lines.append(briefing_summary(b) if "ratio" in b else f"monthly briefing: {b['seconds']} s, {b['pages']} pages")
    bids = res.get("bids")
    if bids:
        ok = bids["bids_per_s_median"] >= BIDS_PER_S and not bids["lost"] and not bids["duplicated"]
        ok = ok and not bids["refused"]
        lines.append(f"bids on PostgreSQL (F={res['pg']['factor']}): {bids['bids_per_s_median']} bids/s median "
                     f"(best {bids['bids_per_s_best']}) over {len(bids['rounds'])} rounds of 50; lost "
                     f"{bids['lost']}, duplicated {bids['duplicated']}, refused {bids['refused']} "
                     f"(target ≥ {BIDS_PER_S}/s) "
                     f"{'ok' if ok else 'MISS'}")
    elif "pages" in res:
        lines.append("bids on PostgreSQL: skipped")
    for key, label in (("peak_rss_mb", "SQLite"), ("pg_peak_rss_mb", "PostgreSQL")):
        if key in res:
            lines.append(f"peak RSS of a gunicorn worker ({label}): {res[key]} MB")
    dbs = {**{f"db_{k}": v for k, v in res.get("curve", {}).get("databases", {}).items()}, **res}
    for key, d in sorted(dbs.items()):
        if key.startswith("db_") and isinstance(d, dict) and "seed_seconds" in d:
            lines.append(f"scale data SQLite F={d['factor']}: seeded in {d['seed_seconds']} s wall, "
                         f"{d.get('seed_cpu_seconds', '?')} s CPU, load {d['seed_load']}"
                         + (" (reused)" if d.get("reused") else ""))
    d = res.get("pg")
    if d and "seed_seconds" in d:
        lines.append(f"scale data PostgreSQL F={d['factor']}: seeded in {d['seed_seconds']} s wall, "
                     f"{d.get('seed_cpu_seconds', '?')} s CPU, load {d['seed_load']}"
                     + (" (reused)" if d.get("reused") else ""))
    if "sample" in res:
        lines.append("F=1 rows: " + ", ".join(f"{k} {v:,}" for k, v in res["sample"]["rows"].items()))
    seq = res.get("pg_full_scans")
    if seq is not None:
        lines.append("PostgreSQL plans: " + ("no sequential scan of a large table" if not seq else
                                             "sequential scans: " + "; ".join(f"{k}: {', '.join(v)}"
                                                                              for k, v in seq.items())))
    seq = res.get("sqlite_full_scans")
    if seq is not None:
        lines.append("SQLite plans: " + ("no full scan of a large table" if not seq else
                                         "full scans: " + "; ".join(f"{k}: {', '.join(v)}"
                                                                    for k, v in seq.items())))
    if res.get("curve"):
        lines.append("")
        lines.append(curve.table(res["curve"]))
    lines.append("")
    lines.append(f"machine: {os.cpu_count()} cores, {res['machine']['memory_gb']} GB; load at start "
                 f"{res['machine']['load_start']}, at end {res['machine']['load_end']}; "
                 f"{res['duration']} s per page and pass; run took {res.get('run_seconds', '?')} s")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "6")),
                    help="seconds of load per page and pass")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-curve", action="store_true")
    ap.add_argument("--curve-only", action="store_true", help="only the growth curve (make bench-curve)")
    ap.add_argument("--pg-factor", type=float, default=float(os.environ.get("BENCH_PG_FACTOR", "1")))
    ap.add_argument("--curve-factors", default=os.environ.get("BENCH_CURVE_FACTORS", "0.1,0.3,1"),
                    help="factors of the growth curve, e.g. 0.1,0.3,1,3")
    ap.add_argument("--profile-requests", type=int, default=int(os.environ.get("BENCH_PROFILE_REQUESTS", "20")))
    args = ap.parse_args()
    factors = sorted(float(x) for x in args.curve_factors.split(",") if x.strip())
    if not args.curve_only and not shutil.which("wrk"):
        sys.exit("wrk is missing: run `make system-deps` (Debian package wrk)")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    mem = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal")))
    res = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "duration": args.duration,
           "machine": {"cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1), "load_start": load()}}
    if not args.curve_only:
        measure_databases(res, args)
    if not args.skip_curve:
        res["curve"] = growth_curve(factors, {1.0: res["recompute"]} if "recompute" in res else None)
    res["machine"]["load_end"] = load()
    res["run_seconds"] = round(time.perf_counter() - started)
    text_table = table(res)
    res["table"] = text_table
    name = "bench-curve.json" if args.curve_only else "bench.json"
    (OUT / name).write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
    print()
    print(text_table)
    print(f"\nwritten: {OUT / name}" + ("" if args.curve_only else
                                         f", plans in {OUT}/plans-*.txt, profiles in {OUT}/profile-*.txt"))


def measure_databases(res: dict, args):
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
    res["profiles_sqlite"] = profile_pages(big, res["sample"], "sqlite", args.profile_requests)
    res["recompute"] = guarded_recompute(big, "SQLite")
    log(f"recompute: {res['recompute']}")
    res["briefing"] = briefing_figures(big)
    res["pages"], res["peak_rss_mb"] = page_passes(big_url, res["sample"], args.duration, "sqlite")
    res["audit_verify_sqlite"] = audit_verify(big_url)
    for v in res["queries"].values():
        for page in v.values():
            page.pop("plans", None)
    if args.skip_pg:
        return
    pg_url, res["pg"] = pg_db(args.pg_factor)
    pg_app = make_app(pg_url)
    pg_sample = samples(pg_app)
    pg_q = page_queries(pg_app, pg_sample, explain=True)
    res["pg_queries"] = {k: v["queries"] for k, v in pg_q.items()}
    res["pg_full_scans"] = {k: sorted({t for p in v["plans"] for t in p["full_scans"]})
                            for k, v in pg_q.items() if any(p["full_scans"] for p in v["plans"])}
    (OUT / "plans-pg.txt").write_text(plan_text(pg_q))
    res["pg_queries_full"] = {k: {kk: vv for kk, vv in v.items() if kk != "plans"} for k, v in pg_q.items()}
    res["profiles_pg"] = profile_pages(pg_app, pg_sample, "pg", args.profile_requests)
    res["pg_recompute"] = guarded_recompute(pg_app, "PostgreSQL")
    log(f"recompute on PostgreSQL: {res['pg_recompute']}")
    try:
        res["pg_pages"], res["pg_peak_rss_mb"] = page_passes(pg_url, pg_sample, args.duration, "pg")
    except Exception as exc:
        res["pg_pages_error"] = f"{type(exc).__name__}: {exc}"
    res["bids"] = bid_round(pg_url)
    res["audit_verify_pg"] = audit_verify(pg_url)


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
