"""A quick in-process look at the review report, the provider profile and the coverage map beside
the floor: the Flask test client against a scale database, N requests each, median and p95 and
the ratio of p95 to the floor's (anonymous floor for public pages, signed-in floor for the
officer's). Rough but cheap; `make bench` (gunicorn and wrk) gives the figures that count.

    DATABASE_URL=sqlite:///$PWD/bench/out/scale-1.0.db .venv/bin/python -m tools.bench.inprocess_b [-n 200]
        [--page NAME] [--profile DIR]

With --profile, each page's requests are also run under cProfile and the stats are written to
DIR/<page>.prof (and the top of it, by cumulative time, to DIR/<page>.txt).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import time
from pathlib import Path

from tools.bench.common import OFFICER, login
from tools.bench.run import make_app, samples

PAGES = [
    ("floor", "/bench/floor", None),
    ("project evaluation", "/review/projects/{project}/report", None),
    ("provider profile", "/performance/providers/{provider}", None),
    ("floor (officer)", "/bench/floor", OFFICER),
    ("coverage map", "/coverage/", OFFICER),
]


def client_for(app, who):
    client = app.test_client()
    if who:
        login(lambda p: client.get(p).get_data(as_text=True), lambda p, d: client.post(p, data=d), who)
    return client


def measure(client, url: str, n: int, profile: cProfile.Profile | None = None) -> dict:
    for _ in range(5):  # warm: templates, settings, caches
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        if profile is not None:
            profile.enable()
        client.get(url)
        if profile is not None:
            profile.disable()
        times.append(1000 * (time.perf_counter() - t0))
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * (n - 1))], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--page", action="append", help="only these pages (and their floor)")
    ap.add_argument("--profile", help="directory for cProfile output")
    args = ap.parse_args()
    app = make_app(os.environ["DATABASE_URL"])
    sample = samples(app)
    clients = {}
    out = {}
    for name, path, who in PAGES:
        if args.page and not name.startswith("floor") and name not in args.page:
            continue
        client = clients.get(who) or client_for(app, who)
        clients[who] = client
        prof = cProfile.Profile() if args.profile and not name.startswith("floor") else None
        out[name] = measure(client, path.format(**sample), args.n, prof)
        floor = out.get("floor (officer)" if who else "floor")
        if floor and not name.startswith("floor"):
            out[name]["x_floor"] = round(out[name]["p95_ms"] / floor["p95_ms"], 2)
        if prof is not None:
            d = Path(args.profile)
            d.mkdir(parents=True, exist_ok=True)
            stem = name.replace(" ", "-")
            prof.dump_stats(d / f"{stem}.prof")
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(60)
            (d / f"{stem}.txt").write_text(s.getvalue())
        print(f"{name:<20} p50 {out[name]['p50_ms']:>7} ms  p95 {out[name]['p95_ms']:>7} ms"
              + (f"  ×floor {out[name]['x_floor']}" if "x_floor" in out[name] else ""), flush=True)
    print(json.dumps({"sample": sample, "pages": out}))


if __name__ == "__main__":
    main()
