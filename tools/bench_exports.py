"""Time the audit log's downloads (.csv and .xlsx) over many rows.

    DATABASE_URL=sqlite:////tmp/bench.db FLASK_APP=app flask db upgrade && ... flask seed demo
    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python tools/bench_exports.py --rows 50000 [--memory]

Adds plain audit events (outside the hash chain: a scratch database only) until the log holds
`--rows`, then downloads the whole log as the demo admin. `--memory` also reports the peak of
Python allocations during each download (tracemalloc; slower).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import text

from app import create_app
from core.db import db
from seeds.district import DEMO_PASSWORD


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        have, last = db.session.execute(text("SELECT count(*), max(seq) FROM audit_events")).one()
        if have < args.rows:
            at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
            db.session.execute(text(
                "INSERT INTO audit_events (seq, at, actor_label, action, object_type, object_id, summary, address, "
                "request_id, prev_hash, hash) VALUES (:seq, :at, 'bench', 'bench.row', 'users', '1', :summary, "
                "'127.0.0.1', '', '-', '-')"),
                [{"seq": (last or 0) + i + 1, "at": at, "summary": json.dumps({"n": i, "note": "批量测试"})}
                 for i in range(args.rows - have)])
            db.session.commit()
        total = db.session.scalar(text("SELECT count(*) FROM audit_events"))
    client = app.test_client()
    assert client.post("/login", data={"login": "admin@huimin.demo", "password": DEMO_PASSWORD}).status_code == 302
    print(f"audit log: {total} rows")
    for fmt in ("csv", "xlsx"):
        if args.memory:
            tracemalloc.start()
        wall, cpu = time.perf_counter(), time.process_time()
        resp = client.get(f"/admin/audit?format={fmt}")
        body = resp.get_data()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = ""
        if args.memory:
            peak = f", peak Python allocations {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MiB"
            tracemalloc.stop()
        print(f"{fmt}: {resp.status_code}, {len(body) / 2**20:.1f} MiB, {wall:.1f} s wall, {cpu:.1f} s CPU{peak}")


if __name__ == "__main__":
    main()
