"""`make bench`: 50 concurrent bidders on one project through gunicorn on PostgreSQL, counted in the database."""

from __future__ import annotations

import concurrent.futures
import functools
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))  # run alone: the checkout's root

from tools.bench.common import Server, load, log, session_for

# --- bids on PostgreSQL -------------------------------------------------------------------------

def _submit(sessions, tokens, url, price, barrier, statuses, i):
    barrier.wait()
    form = {"csrf_token": tokens[i], "price": price, "plan": "按服务标准组织实施，提前三天发布预告。",
            "team": "负责人1名", "conflicts": ""}
    resp = sessions[i].post(url, data=form, allow_redirects=False, timeout=120)
    statuses[i] = resp.status_code


def _cpu_seconds(pids) -> dict[int, float]:
    """utime + stime of each process still alive (seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _backends(engine) -> list[int]:
    """The PostgreSQL server processes serving this database (the app's pooled connections)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")).scalars())


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def bid_round(db_url: str, rounds: int = 3, bidders: int = 50, **server_env) -> dict:
    """50 providers log in, then submit a bid on one project at the same moment. `server_env`: more
    environment for the server (e.g. WEB_WORKERS, read by gunicorn.conf.py)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    # 50 logins from one address would meet the login rate limit: it is off for this server.
    server = Server(db_url, "gunicorn-pg.log", RATELIMIT_ENABLED="0", **server_env)
    results = []
    try:
        for r in range(rounds):
            with engine.connect() as conn:
                project, budget = conn.execute(text(
                    "SELECT id, budget FROM purchase_projects WHERE state = 'published' AND bid_deadline > now() "
                    "+ interval '1 hour' AND (SELECT count(*) FROM bids WHERE project_id = purchase_projects.id) < 10 "
                    "ORDER BY id OFFSET :r LIMIT 1"), {"r": r}).one()
                chosen = conn.execute(text(
                    "SELECT u.login, p.id FROM providers p JOIN users u ON u.id = p.user_id "
                    "WHERE p.status = 'approved' "
                    "AND NOT EXISTS (SELECT 1 FROM bids b WHERE b.project_id = :p AND b.provider_id = p.id) "
                    "ORDER BY p.id DESC LIMIT :n"), {"p": project, "n": bidders}).all()
            logins, provider_ids = [c[0] for c in chosen], [c[1] for c in chosen]
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                sessions = list(pool.map(lambda who: session_for(server.base, who), logins))
            url = f"{server.base}/projects/{project}/bid"
            tokens = [re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', s.get(url, timeout=30).text)
                      .group(1) for s in sessions]
            barrier = threading.Barrier(len(sessions))
            statuses = [None] * len(sessions)
            price = str((budget * 9 / 10).quantize(budget))
            submit = functools.partial(_submit, sessions, tokens, url, price, barrier, statuses)

            threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(sessions))]
            load_before = load()
            # CPU time where a bid's time goes: the gunicorn workers, the PostgreSQL backends, this client.
            workers, backends = server.worker_pids(), _backends(engine)
            app_cpu, pg_cpu, client_cpu = _cpu_seconds(workers), _cpu_seconds(backends), time.process_time()
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - t0
            client_cpu = time.process_time() - client_cpu
            app_cpu = _spent(app_cpu, _cpu_seconds(server.worker_pids()))
            pg_cpu = _spent(pg_cpu, _cpu_seconds(set(backends) | set(_backends(engine))))
            # Counted in the database: the bidders' bids, their sealed revisions and their audit events.
            mine = "SELECT id FROM bids WHERE project_id = :p AND provider_id = ANY(:ids)"
            with engine.connect() as conn:
                args = {"p": project, "ids": provider_ids}
                total, distinct = conn.execute(text(
                    "SELECT count(*), count(DISTINCT provider_id) FROM bids WHERE project_id = :p "
                    "AND provider_id = ANY(:ids)"), args).one()
                revisions = conn.execute(text(f"SELECT count(*) FROM bid_revisions WHERE bid_id IN ({mine})"),  # nosec B608
                                         args).scalar()
                audited = conn.execute(text(
                    "SELECT count(*) FROM audit_events WHERE action = 'bid.submit' AND object_type = 'bids' "
                    f"AND object_id IN (SELECT CAST(id AS VARCHAR) FROM ({mine}) AS m)"), args).scalar()  # nosec B608
            accepted = sum(1 for s in statuses if s == 302)
            results.append({"project": project, "bidders": len(sessions), "accepted": accepted,
                            "seconds": round(seconds, 3), "bids_per_s": round(accepted / seconds, 1),
                            "bids_in_db": total, "distinct_providers": distinct,
                            "revisions": revisions, "audit_events": audited,
                            "cpu_ms_per_bid": {"app": round(app_cpu * 1000 / max(accepted, 1), 2),
                                               "postgres": round(pg_cpu * 1000 / max(accepted, 1), 2),
                                               "client": round(client_cpu * 1000 / max(accepted, 1), 2)},
                            "lost": accepted - total, "duplicated": total - distinct,
                            "refused": len(sessions) - accepted,
                            "statuses": sorted(set(map(str, statuses))), "load_before": load_before,
                            "load_after": load()})
            log(f"bids round {r + 1}: {results[-1]}")
    finally:
        server.stop()
        engine.dispose()
    best = max(results, key=lambda x: x["bids_per_s"])
    return {"rounds": results, "bids_per_s_median": statistics.median(x["bids_per_s"] for x in results),
            "bids_per_s_best": best["bids_per_s"], "lost": sum(x["lost"] for x in results),
            "duplicated": sum(x["duplicated"] for x in results), "refused": sum(x["refused"] for x in results),
            "cpu_ms_per_bid_median": {k: statistics.median(x["cpu_ms_per_bid"][k] for x in results)
                                      for k in ("app", "postgres", "client")}}


def main(argv=None):
    """Run the bid rounds alone: `python tools/bench/bids.py --db URL [--rounds 3] [--bidders 50]`."""
    import argparse
    import json

    from tools.bench.common import OUT

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="PostgreSQL URL of a scale-seeded database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bidders", type=int, default=50)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    env = {"WEB_WORKERS": args.workers} if args.workers else {}
    print(json.dumps(bid_round(args.db, rounds=args.rounds, bidders=args.bidders, **env), indent=2))


if __name__ == "__main__":
    main()
