"""The monthly briefing (简报): the district's figures of one month as a PDF.

    pdf = briefing_pdf("2026-11", progress=lambda fraction, label: ...)
    flask reports briefing --month 2026-11 --output 简报-2026-11.pdf

The figures come from evaluation.figures (their one home); this module only checks the month,
draws the charts and lays the document out. A month must be a past or the current one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import click
from flask import current_app, g, has_request_context
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from core.areas.models import AreaLevel
from core.db import utcnow
from core.i18n import LOCAL_TZ
from core.pdf import create_pdf, render_pdf_html
from evaluation.adjustment import operations as adjustment
from evaluation.assessment import operations as assessment
from evaluation.coverage import map as coverage_map
from evaluation.coverage import operations as circles
from evaluation.reporting import figures
from evaluation.scorecards import operations as scorecards

TEMPLATE = "evaluation/reporting/briefing_pdf.html"
GAP_NAMES_SHOWN = 40  # per town/street; the rest are counted ("… and 12 more")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class BadMonth(ValueError):
    """A month that is malformed or still to come."""


def parse_month(text: str, now=None) -> tuple[int, int]:
    """'2026-11' → (2026, 11); refuses malformed months and months after the current one
    (Asia/Shanghai calendar)."""
    m = _MONTH.fullmatch((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise BadMonth(_("Give the month as YYYY-MM, for example 2026-11."))
    year, month = int(m.group(1)), int(m.group(2))
    today = (now or utcnow()).astimezone(LOCAL_TZ)
    if (year, month) > (today.year, today.month):
        label = f"{year:04d}-{month:02d}"
        raise BadMonth(_("%(month)s has not begun yet; a briefing covers a past or the current month.", month=label))
    return year, month


def briefing_figures(month: str, now=None) -> figures.Figures:
    """The district's figures for the month, as the briefing shows them."""
    now = now or utcnow()
    year, mon = parse_month(month, now)
    return figures.compute(figures.month_period(year, mon), None, now=now)


@dataclass
class TownRow:
    coverage: figures.TownCoverage
    gap_names: str
    gaps_more: int


def _town_rows(cov: figures.Coverage) -> list[TownRow]:
    out = []
    for t in cov.towns:
        shown = t.gaps[:GAP_NAMES_SHOWN]
        out.append(TownRow(t, "、".join(shown), len(t.gaps) - len(shown)))
    return out


def _charts(f: figures.Figures) -> dict:
    return figures.charts_of(f, width=620, bar_height=16, coverage_bar_height=12, font_size=10)


def briefing_pdf(month: str, progress: Callable[[float, str], None] | None = None) -> bytes:
    """The month's briefing as PDF bytes. `progress(fraction, label)` is told of each stage."""
    def step(fraction: float, label: str):
        if progress is not None:
            progress(fraction, label)

    # The stages are named in the asker's language; the document itself is Chinese.
    labels = [_("Checking the month"), _("Computing the figures"), _("Drawing the charts"), _("Laying out the PDF"),
              _("Done")]
    step(0.0, labels[0])
    pdf = create_pdf(TEMPLATE, locale="zh_CN", **_contents(month, step, labels))
    step(1.0, labels[4])
    return pdf


def briefing_html(month: str) -> str:
    """The HTML that briefing_pdf(month) lays out (the bench times WeasyPrint alone on it)."""
    return render_pdf_html(TEMPLATE, locale="zh_CN", **_contents(month))


def _contents(month: str, step=None, labels=None) -> dict:
    """What the template shows: the figures of the month, its charts, scorecards, circle and oversight."""
    step = step or (lambda _fraction, _label: None)
    labels = labels or [""] * 4
    now = utcnow()
    year, mon = parse_month(month, now)
    # The scorecards' reach indicator measures the same circle as section 8: measured once.
    with _in_chinese(), circles.computed_once():
        step(0.1, labels[1])
        f = figures.compute(figures.month_period(year, mon), None, now=now)
        step(0.4, labels[2])
        chart_svgs = _charts(f)
        board = scorecards.compute(f.period, AreaLevel.TOWN, now)
        circle = circles.compute(None, until=min(f.period.end, now))
        oversight = oversight_of(f.period, now)
        step(0.5, labels[3])
        return {"f": f, "month": f.period.label, "charts": chart_svgs, "oversight": oversight,
                "towns": _town_rows(f.coverage), "reach_days": figures.REACH_DAYS, "explain": adjustment.explain,
                "generated_at": now, "board": board, "circle": circle,
                "circle_map": coverage_map.draw(circle, width=620, tooltips=False)}


def oversight_of(period, now) -> dict:
    """Third-party assessment and supervision items of the month, for the briefing's last section."""
    from evaluation.supervision import operations as supervision

    return {"assessment": assessment.month_summary(period.label),
            "supervision": supervision.month_summary(period.start, period.end, now)}


@contextmanager
def _in_chinese():
    """The briefing is a Chinese document whoever asks (a web request in English, a job, a command):
    its charts' words too, not only the template's (see core.pdf.create_pdf for the same dance)."""
    app = current_app._get_current_object()
    ctx = nullcontext() if has_request_context() else app.test_request_context("/")
    with ctx:
        g.setdefault("pdf_rendering", True)
        with force_locale("zh_CN"):
            yield


# --- command ---------------------------------------------------------------------------------

reports_cli = AppGroup("reports", help="Reports: the monthly briefing.")


@reports_cli.command("briefing")
@click.option("--month", required=True, help="The month, YYYY-MM (a past or the current month).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF (default: briefing-YYYY-MM.pdf).")
def briefing_command(month, output):
    """Write the monthly briefing (简报) of the district as a PDF."""
    import time

    try:
        year, mon = parse_month(month)
    except BadMonth as e:
        raise click.BadParameter(str(e), param_hint="--month") from None
    label = f"{year:04d}-{mon:02d}"
    started, cpu = time.perf_counter(), time.process_time()
    pdf = briefing_pdf(label)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    path = output or f"briefing-{label}.pdf"
    with open(path, "wb") as out:
        out.write(pdf)
    # CPU time too: on a busy machine the wall clock says more about the neighbours.
    click.echo(f"{path}: {len(pdf):,} bytes, {_page_count(pdf)} pages, rendered in {elapsed:.2f} s "
               f"({cpu:.2f} s CPU)")


def _page_count(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)
