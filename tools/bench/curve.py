"""`make bench` (and `make bench-curve`): how each figure grows with the size of the district.

At each factor F of the scale seed (0.1, 0.3 and 1 by default; 3 when asked), on SQLite: every
key page's median time over in-process requests, the full performance recompute and the
incremental update after one rating. The growth of each is its time at the largest factor over
its time at the smallest, read against the growth of the data:
  - a page is flat: it shows a page of rows whatever the size (growth ≤ 1.5);
  - the full recompute is at most linear: it reads every rating once (growth ≤ 1.5 × the data's);
  - the incremental update is flat: it reads one provider's rows (growth ≤ 1.5).
"""

from __future__ import annotations

import statistics
import time

FLAT = 1.5  # a figure that grows by at most this much over the factors is flat
# What each kind of figure is allowed to do as the data grows.
EXPECTED = {"page": "flat", "recompute": "linear", "incremental": "flat"}


def growth(times: dict[float, float]) -> tuple[float, float]:
    """(growth of the figure, growth of the data): largest factor over smallest."""
    lo, hi = min(times), max(times)
    if times[lo] <= 0:
        raise ValueError(f"a time of {times[lo]} at F = {lo} cannot be grown from")
    return times[hi] / times[lo], hi / lo


def verdict(kind: str, times: dict[float, float]) -> str:
    """'ok' when the figure grows as its kind should, else 'MISS'."""
    if len(times) < 2:
        return "n/a"
    g, data = growth(times)
    limit = FLAT if EXPECTED[kind] == "flat" else FLAT * data
    return "ok" if g <= limit else "MISS"


def table(curve: dict) -> str:
    """curve: {"factors": [...], "rows": [{"name", "kind", "unit", "times": {F: value}}]}."""
    factors = sorted(curve["factors"])
    lo, hi = factors[0], factors[-1]
    head = f"{'growth curve (SQLite)':<24} {'unit':>4} " + " ".join(f"{'F=' + _f(f):>9}" for f in factors)
    head += f" {'×growth':>8} {'data ×':>7}  expect  verdict"
    lines = [head]
    for row in curve["rows"]:
        times = {float(k): v for k, v in row["times"].items() if v is not None}
        cells = " ".join(f"{_num(times.get(f)):>9}" for f in factors)
        if lo in times and hi in times and len(times) >= 2:
            g, data = growth({lo: times[lo], hi: times[hi]})
            tail = f" {g:>8.2f} {data:>7.0f}  {EXPECTED[row['kind']]:<6}  {verdict(row['kind'], times)}"
        else:
            tail = f" {'-':>8} {'-':>7}  {EXPECTED[row['kind']]:<6}  {row.get('error', 'n/a')}"
        lines.append(f"{row['name']:<24} {row['unit']:>4} {cells}{tail}")
    return "\n".join(lines)


def _f(x: float) -> str:
    return f"{x:g}"


def _num(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def page_medians(app, sample: dict, pages, login, requests: int = 30, warm: int = 3) -> dict[str, float]:
    """Each page's median time in ms over `requests` in-process requests after `warm` of them."""
    out = {}
    clients = {}
    for name, path, who in pages:
        url = path.format(**sample)
        if who not in clients:
            clients[who] = login(app, who) if who else app.test_client()
        client = clients[who]
        for _ in range(warm):
            client.get(url)
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append(1000 * (time.perf_counter() - t0))
            if resp.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {resp.status_code}")
        out[name] = round(statistics.median(times), 2)
    return out
