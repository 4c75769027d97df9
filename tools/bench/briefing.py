"""`make bench`: the monthly briefing PDF beside bare WeasyPrint on the very same HTML.

    .venv/bin/python tools/bench/briefing.py [--db sqlite:///bench/out/scale-1.0.db] [--runs 3] [--month 2026-11]

The briefing (`briefing_pdf`: figures, charts, template, layout and PDF) is timed against WeasyPrint
alone laying out and writing the HTML the briefing renders, with the same stylesheets, URL fetcher
and fonts. The two alternate run by run, after a warm-up that renders that HTML (the database's
pages, the templates) and a small Chinese PDF (WeasyPrint's imports, fontconfig), so that neither
pays for what a running server has already paid for; figures the app caches are forgotten before
each run, so the briefing computes everything it shows. The medians give the ratio. Wall-clock and
CPU seconds are both kept: on a busy machine the CPU time says more. One more, untimed, run of the
briefing under cProfile is written to bench/out/profile-briefing.txt.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from tools.bench.common import OUT, load

TARGET_RATIO = 1.3
TARGET_PAGES_PER_S = 4
WARM_UP_HTML = "<p style='font-family: \"WenQuanYi Micro Hei\"'>文化惠民 <b>简报</b> 2026</p>"


def briefing_figures(app, runs: int = 3, month: str | None = None,
                     profile_to: Path | None = OUT / "profile-briefing.txt") -> dict:
    """Seconds and pages of the briefing, pages per second, bare WeasyPrint's seconds and the ratio."""
    import weasyprint
    from flask_babel import force_locale
    from pypdf import PdfReader
    from sqlalchemy import event

    from core import cache
    from core import pdf as core_pdf
    from core.db import db
    from evaluation.reporting import briefing

    if month is None:
        today = dt.date.today()
        month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    with app.app_context(), app.test_request_context():
        html = briefing.briefing_html(month)
        with force_locale("zh_CN"):
            extra_css = core_pdf.pdf_stylesheet_css()  # as create_pdf adds it, in the briefing's language
        weasyprint.HTML(string=WARM_UP_HTML).write_pdf()

        def bare() -> bytes:
            fetcher = core_pdf.make_fetcher(app.static_folder, "/static/")
            return weasyprint.HTML(string=html, base_url=core_pdf.PDF_ORIGIN + "/", url_fetcher=fetcher).write_pdf(
                stylesheets=[weasyprint.CSS(string=extra_css, url_fetcher=fetcher)])

        statements = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        briefing_runs, bare_runs = [], []
        for _run in range(runs):
            statements.clear()
            cache.clear(app)  # every figure computed, as for the first briefing of the month
            seconds, cpu, pdf = _timed(lambda: briefing.briefing_pdf(month))
            briefing_runs.append((seconds, cpu))
            bare_seconds, bare_cpu, bare_pdf = _timed(bare)
            bare_runs.append((bare_seconds, bare_cpu))
        event.remove(db.engine, "before_cursor_execute", count)
        if profile_to is not None:
            profiler = cProfile.Profile()
            profiler.runcall(briefing.briefing_pdf, month)
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
            Path(profile_to).parent.mkdir(parents=True, exist_ok=True)
            Path(profile_to).write_text(out.getvalue(), encoding="utf-8")
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    bare_pages = len(PdfReader(io.BytesIO(bare_pdf)).pages)
    seconds = statistics.median(s for s, _c in briefing_runs)
    cpu = statistics.median(c for _s, c in briefing_runs)
    bare_seconds = statistics.median(s for s, _c in bare_runs)
    bare_cpu = statistics.median(c for _s, c in bare_runs)
    return {"month": month, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "pages": pages,
            "pages_per_s": round(pages / seconds, 1), "bare_seconds": round(bare_seconds, 2),
            "bare_cpu_seconds": round(bare_cpu, 2), "bare_pages": bare_pages,
            "ratio": round(seconds / bare_seconds, 2), "ratio_cpu": round(cpu / bare_cpu, 2),
            "runs": [{"briefing": [round(s, 2), round(c, 2)], "bare": [round(bs, 2), round(bc, 2)]}
                     for (s, c), (bs, bc) in zip(briefing_runs, bare_runs, strict=True)],
            "statements": len(statements), "html_kib": len(html.encode()) // 1024, "pdf_kib": len(pdf) // 1024,
            "load": load()}


def _timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def summary(b: dict) -> str:
    """One line for `make bench`."""
    ok = b["ratio"] <= TARGET_RATIO and b["pages_per_s"] >= TARGET_PAGES_PER_S
    return (f"monthly briefing ({b['month']}): {b['seconds']} s ({b['cpu_seconds']} s CPU), {b['pages']} pages, "
            f"{b['pages_per_s']} pages/s (target ≥ {TARGET_PAGES_PER_S}); bare WeasyPrint on the same HTML "
            f"{b['bare_seconds']} s ({b['bare_cpu_seconds']} s CPU): ×{b['ratio']} (CPU ×{b['ratio_cpu']}; "
            f"target ≤ {TARGET_RATIO}) {'ok' if ok else 'MISS'}; {b['statements']} statements")


def main(argv=None) -> int:
    import json

    from tools.bench.floor import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=f"sqlite:///{OUT / 'scale-1.0.db'}")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--month", help="YYYY-MM (default: last month)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled run")
    parser.add_argument("--save-html", help="also write the briefing's HTML here (for tools/bench_pdf.py --html)")
    args = parser.parse_args(argv)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.db, "RATELIMIT_ENABLED": False})
    b = briefing_figures(app, runs=args.runs, month=args.month,
                         profile_to=None if args.no_profile else OUT / "profile-briefing.txt")
    if args.save_html:
        from evaluation.reporting import briefing

        with app.app_context(), app.test_request_context():
            Path(args.save_html).write_text(briefing.briefing_html(b["month"]), encoding="utf-8")
    print(json.dumps(b, ensure_ascii=False))
    print(summary(b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
