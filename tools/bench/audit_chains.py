"""Audited writes per second on PostgreSQL with one audit chain (the old single cluster-wide lock)
and with the partitioned chains: THREADS writers, each transaction appends one event and then
holds its transaction open for HOLD_MS (the rest of a request's work, as a bid's sealing and
flush would) before committing.

    .venv/bin/python tools/bench/audit_chains.py postgresql+psycopg://postgres@127.0.0.1/bench_audit

The database is emptied and migrated first.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from sqlalchemy import create_engine, text

THREADS = int(os.environ.get("THREADS", "8"))
PER_THREAD = int(os.environ.get("PER_THREAD", "40"))
HOLD_MS = float(os.environ.get("HOLD_MS", "5"))


def run(app, chains: int) -> float:
    from core import audit
    from core.db import db

    app.config["AUDIT_CHAINS"] = chains
    barrier = threading.Barrier(THREADS)

    def writer(t):
        with app.app_context():
            barrier.wait()
            for i in range(PER_THREAD):
                audit.record("bench.write", object_type="bids", object_id=f"{chains}-{t}-{i}")
                db.session.execute(text("SELECT pg_sleep(:s)"), {"s": HOLD_MS / 1000})
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return THREADS * PER_THREAD / (time.perf_counter() - t0)


def main():
    url = sys.argv[1]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
    for chains in (1, 16, 1, 16):
        print(f"AUDIT_CHAINS={chains:2d}: {run(app, chains):7.1f} audited transactions/s "
              f"({THREADS} threads, {HOLD_MS} ms held after the event)", flush=True)
    with app.app_context():
        from core import audit

        print("verify:", audit.verify(), "events")


if __name__ == "__main__":
    main()
