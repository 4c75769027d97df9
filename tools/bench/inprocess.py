"""Pages beside the floor, in this process: no gunicorn, no wrk, no network.

For each page, N requests through Flask's test client, each followed at once by a request of the
floor (/bench/floor), so both see the same moment's load on a busy machine. Prints the median and
p95 of wall time and of CPU time, the ratio of the page's p95 to the floor's, and the statements
one request issues. `--profile` runs cProfile over the requests of each page and saves the
sorted statistics beside the JSON (bench/out/profile-<page>-<db>.txt).

    DATABASE_URL=sqlite:///$PWD/bench/out/scale-1.0.db .venv/bin/python -m tools.bench.inprocess
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_x .venv/bin/python -m tools.bench.inprocess \
        -n 200 --page "portal home" --page "scorecard of a town" --profile [--uncached]

The pages are make bench's key pages (tools/bench/common.py PAGES), officer pages signed in as the
scale data's officer and compared with the officer's floor; `--page` picks some by name, or takes a
path (measured anonymously). `--uncached` empties the figure cache before every request: what a
page costs when it computes what it shows.

The figures are for comparing a page with the floor, and a change with what was before, on the
same machine: they leave out the HTTP server. `make bench` (run.py) is the served measure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from tools.bench import run as bench  # noqa: E402
from tools.bench.common import PAGES  # noqa: E402

OUT = ROOT / "bench" / "out"
FLOOR = "/bench/floor"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _db_label(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite-" + Path(url.split("///", 1)[-1]).stem
    return "pg-" + url.rsplit("/", 1)[-1]


def make_app(db_url: str):
    from tools.bench.floor import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False})


class StatementCounter:
    """Counts the statements the app's engine runs while `on`."""

    def __init__(self, app):
        from sqlalchemy import event

        from core.db import db

        self.n = 0
        self.on = False
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kw):
        if self.on:
            self.n += 1

    def measure(self, fn) -> int:
        self.n, self.on = 0, True
        try:
            fn()
        finally:
            self.on = False
        return self.n


def _get(client, path: str) -> None:
    """One request, read to its end. A page that does not answer 200 stops the run."""
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    response.get_data()


def timed(client, path: str) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    _get(client, path)
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def measure(app, client, name: str, path: str, n: int, warm: int, counter: StatementCounter,
            profile_to: Path | None, uncached: bool = False) -> dict:
    from core import cache

    def forget():
        if uncached:
            cache.clear(app)

    for _ in range(warm):
        _get(client, path)
        _get(client, FLOOR)
    forget()
    statements = counter.measure(lambda: _get(client, path))
    page, floor = [], []
    prof = cProfile.Profile() if profile_to else None
    for _ in range(n):
        forget()
        if prof:
            prof.enable()
        page.append(timed(client, path))
        if prof:
            prof.disable()
        floor.append(timed(client, FLOOR))
    row = {"path": path, "n": n, "statements": statements}
    for label, series in (("page", page), ("floor", floor)):
        wall, cpu = [w for w, _ in series], [c for _, c in series]
        row[label] = {"p50_ms": round(statistics.median(wall), 2), "p95_ms": round(_p95(wall), 2),
                      "cpu_p50_ms": round(statistics.median(cpu), 2), "cpu_p95_ms": round(_p95(cpu), 2)}
    row["x_floor_p95"] = round(row["page"]["p95_ms"] / row["floor"]["p95_ms"], 2)
    row["x_floor_p50"] = round(row["page"]["p50_ms"] / row["floor"]["p50_ms"], 2)
    if prof:
        text = io.StringIO()
        stats = pstats.Stats(prof, stream=text)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        profile_to.write_text(f"{name} {path}: cProfile over {n} requests\n\n" + text.getvalue())
        row["profile"] = str(profile_to.relative_to(ROOT))
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="requests per page (each paired with one of the floor)")
    parser.add_argument("--warm", type=int, default=20, help="requests per page before measuring")
    parser.add_argument("--page", action="append",
                        help="a key page's name, or a path, to measure instead of every key page (repeatable)")
    parser.add_argument("--uncached", action="store_true", help="empty the figure cache before every request")
    parser.add_argument("--profile", action="store_true", help="save cProfile statistics beside the JSON")
    parser.add_argument("--json", help="where to write the results (default bench/out/inprocess-<db>.json)")
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL")
    if not db_url:
        raise SystemExit("set DATABASE_URL to the scale database to measure")
    label = _db_label(db_url)
    OUT.mkdir(parents=True, exist_ok=True)
    app = make_app(db_url)
    sample = bench.samples(app)
    key_pages = {name: (path.format(**sample), who) for name, path, who in PAGES if not name.startswith("floor")}
    chosen = args.page or list(key_pages)
    pages = [(p, *key_pages.get(p, (p, None))) for p in chosen]
    logging.disable(logging.INFO)  # the access log line of every request would be measured too
    counter = StatementCounter(app)
    clients = {}
    results = {"db": label, "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()), "pages": {}}
    print(f"{'page':<20} {'p50':>7} {'p95':>7} {'floor p95':>9} {'×floor':>7} {'cpu p50':>8} {'stmts':>5}")
    for name, path, who in pages:
        if who not in clients:
            clients[who] = bench.test_client_login(app, who) if who else app.test_client()
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        profile_to = OUT / f"profile-{slug}-{label}.txt" if args.profile else None
        row = measure(app, clients[who], name, path, args.n, args.warm, counter, profile_to, args.uncached)
        results["pages"][name] = row
        print(f"{name:<20} {row['page']['p50_ms']:>7.2f} {row['page']['p95_ms']:>7.2f} "
              f"{row['floor']['p95_ms']:>9.2f} {row['x_floor_p95']:>7.2f} {row['page']['cpu_p50_ms']:>8.2f} "
              f"{row['statements']:>5}", flush=True)
    results["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    target = Path(args.json) if args.json else OUT / f"inprocess-{label}.json"
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
