"""The scorecard pages and API timed in one process beside the officer's floor (/bench/floor).

Requests go through the Flask test client, signed in as the scale data's officer, N rounds in
which each URL is asked once in turn (so the machine's drift falls on every URL alike). Prints
per URL the median and p95 of wall time and of this process's CPU time (which for SQLite holds
the database work too), and each median and p95 as a multiple of the floor's.

    DATABASE_URL=sqlite:///$PWD/bench/out/scale-1.0.db .venv/bin/python tools/bench/inprocess_scorecards.py -n 40
    ... --uncached   empties the figure cache before every request: every card computed, as before
                     the pages reused them
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

OFFICER = "officer@scale.huimin"
PASSWORD = "Huimin-Demo-2026"  # nosec B105  (the demo password of the scale logins)
URLS = [
    ("floor (officer)", "/bench/floor", False),
    ("scorecards of towns", "/scorecards/", False),
    ("scorecard of a town", "/scorecards/area/{town}", False),
    ("card of a community", "/scorecards/area/{community}", False),
    ("API scorecards", "/api/v1/scorecards", True),
]


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=30, help="rounds (each URL once per round)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--uncached", action="store_true")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if not os.environ.get("DATABASE_URL"):
        ap.error("set DATABASE_URL to the scale database")

    from sqlalchemy import select

    from core import cache
    from core.areas.models import Area, AreaLevel
    from core.db import db
    from tools.bench.floor import create_app

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    resp = client.post("/login", data={"login": OFFICER, "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code
    token = client.post("/api/v1/tokens", json={"username": OFFICER, "password": PASSWORD}).get_json()["token"]
    with app.app_context():
        town = db.session.scalar(select(Area.id).where(Area.level == AreaLevel.TOWN).order_by(Area.code).limit(1))
        community = db.session.scalar(select(Area.id).where(Area.parent_id == town).order_by(Area.code).limit(1))
    urls = [(name, path.format(town=town, community=community), {"Authorization": f"Bearer {token}"} if api else {})
            for name, path, api in URLS]

    wall: dict[str, list[float]] = {name: [] for name, _p, _h in urls}
    cpu: dict[str, list[float]] = {name: [] for name, _p, _h in urls}
    for n in range(args.warmup + args.n):
        for name, path, headers in urls:
            if args.uncached:
                cache.clear(app)
            w0, c0 = time.perf_counter(), time.process_time()
            resp = client.get(path, headers=headers)
            w1, c1 = time.perf_counter(), time.process_time()
            assert resp.status_code == 200, (path, resp.status_code)
            if n >= args.warmup:
                wall[name].append((w1 - w0) * 1000)
                cpu[name].append((c1 - c0) * 1000)

    floor = "floor (officer)"
    f50, f95 = statistics.median(wall[floor]), p95(wall[floor])
    dialect = args_db = os.environ["DATABASE_URL"].split(":", 1)[0]
    print(f"{dialect}; {args.n} rounds after {args.warmup}; {'uncached' if args.uncached else 'cached'}")
    print(f"{'url':22} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'×floor p50':>10} {'×floor p95':>10}")
    out = {}
    for name, _path, _h in urls:
        m50, m95, c50 = statistics.median(wall[name]), p95(wall[name]), statistics.median(cpu[name])
        out[name] = {"p50_ms": round(m50, 2), "p95_ms": round(m95, 2), "cpu_p50_ms": round(c50, 2),
                     "x_floor_p50": round(m50 / f50, 2), "x_floor_p95": round(m95 / f95, 2)}
        print(f"{name:22} {m50:8.1f} {m95:8.1f} {c50:8.1f} {m50 / f50:10.2f} {m95 / f95:10.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"db": args_db, "rounds": args.n, "uncached": args.uncached,
                                               "pages": out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
