"""A small server-side SVG bar chart (no script, no style attributes, every text escaped), for
the item page's satisfaction over time. core/charts.py replaces it once merged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from markupsafe import Markup, escape
from sqlalchemy import func, select

from core.db import db
from core.i18n import to_local
from evaluation.feedback_models import Rating, RatingStatus

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T = 640, 220, 34, 34, 14
BAR = "#a61b29"
GRID = "#dee2e6"
TEXT = "#212529"


def _month_key(col):
    if db.session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", col)
    return func.to_char(col, "YYYY-MM")


def monthly_satisfaction(item_id: int, now: dt.datetime, months: int = 12) -> list[tuple[str, Decimal | None, int]]:
    """(YYYY-MM, mean stars, number of counted ratings) for the last `months` months, oldest first."""
    local = to_local(now)
    keys = []
    y, m = local.year, local.month
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    keys.reverse()
    start = dt.datetime(int(keys[0][:4]), int(keys[0][5:]), 1, tzinfo=local.tzinfo).astimezone(dt.UTC)
    month = _month_key(Rating.created_at)
    rows = db.session.execute(
        select(month, func.avg((Rating.content + Rating.organisation + Rating.venue) / 3.0), func.count())
        .where(Rating.item_id == item_id, Rating.status == RatingStatus.COUNTED, Rating.created_at >= start,
               Rating.created_at <= now).group_by(month)).all()
    found = {k: (Decimal(repr(float(avg))).quantize(Decimal("0.01")), n) for k, avg, n in rows}
    return [(k, *found.get(k, (None, 0))) for k in keys]


def bar_chart(points: list[tuple[str, Decimal | None, int]], title: str, maximum: float = 5.0) -> Markup:
    """Bars of values 0..maximum with their count underneath; empty months show no bar."""
    inner_w, inner_h = WIDTH - PAD_L - 8, HEIGHT - PAD_B - PAD_T
    step = inner_w / max(1, len(points))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for v in range(int(maximum) + 1):
        y = PAD_T + inner_h - inner_h * v / maximum
        parts.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="{TEXT}">{v}</text>')
    for i, (label, value, count) in enumerate(points):
        x = PAD_L + i * step
        if value is not None:
            h = inner_h * float(value) / maximum
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{PAD_T + inner_h - h:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="{BAR}"><title>{escape(label)}: {escape(str(value))} '
                         f'({count})</title></rect>'
                         f'<text x="{x + step / 2:.1f}" y="{PAD_T + inner_h - h - 3:.1f}" font-size="10" '
                         f'text-anchor="middle" fill="{TEXT}">{escape(str(value))}</text>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD_B + 14}" font-size="10" text-anchor="middle" '
                     f'fill="{TEXT}">{escape(label[5:])}</text>'
                     f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD_B + 27}" font-size="9" text-anchor="middle" '
                     f'fill="#6c757d">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704  (every text above is escaped)
