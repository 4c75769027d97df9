"""`make bench`: the monthly briefing PDF."""

from __future__ import annotations

import datetime as dt
import time

from tools.bench.common import load


def briefing_figures(app) -> dict:
    import io

    from pypdf import PdfReader

    from evaluation.reporting import briefing

    today = dt.date.today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    with app.app_context(), app.test_request_context():
        t0 = time.perf_counter()
        pdf = briefing.briefing_pdf(month)
        seconds = time.perf_counter() - t0
    return {"month": month, "seconds": round(seconds, 2),
            "pages": len(PdfReader(io.BytesIO(pdf)).pages), "load": load()}
