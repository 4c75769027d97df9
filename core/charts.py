"""Charts rendered on the server as SVG: no script, no style attributes, every text escaped.

The markup works inline in HTML pages (under a strict CSP) and in WeasyPrint PDFs.

    bar_chart(["文艺演出", "讲座"], [12, 7], title="点单数", unit="次")
    line_chart(["1月", "2月", "3月"], {"满意度": [4.2, 4.5, None]}, title="…", unit="分")
"""

from __future__ import annotations

import hashlib
import math
import unicodedata

from markupsafe import Markup, escape

FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
PALETTE = ("#a61b29", "#1f6f8b", "#e0a100", "#3c8d2f", "#6d3fa0", "#c25e00", "#4a4a4a")
TEXT_COLOUR = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"


def _number(v) -> float:
    if v is None:
        return 0.0
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def format_number(v) -> str:
    """12 → "12", 4.5 → "4.5", 1234.567 → "1,234.57"."""
    if v is None:
        return ""
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    f = float(v)
    if f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}"
    return f"{f:,.2f}".rstrip("0").rstrip(".")


def text_width(text: str, size: float) -> float:
    """Approximate rendered width: wide (CJK) characters take a full em, others about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in ("W", "F") else size * 0.6 for ch in text)


def _truncate(text: str, size: float, max_width: float) -> str:
    if text_width(text, size) <= max_width:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", size) > max_width:
            break
        out += ch
    return out + "…"


def _markup(parts: list[str]) -> Markup:
    # Every text put into `parts` went through escape(); the rest is our own fixed markup.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


def _chart_id(kind: str, *parts) -> str:
    digest = hashlib.sha1(repr((kind, parts)).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"chart-{kind}-{digest}"


def _open_svg(chart_id: str, width: float, height: float, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{chart_id}" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{escape(FONT)}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(labels, values, title: str = "", unit: str = "", *, width: int = 640, bar_height: int = 22,
              colour: str = PALETTE[0], empty_text: str = "—", font_size: int = 12) -> Markup:
    """A horizontal bar chart, one bar per label, longest first as given. Negative values are drawn as zero."""
    labels = [str(lbl) for lbl in labels]
    values = list(values)
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    title, unit = str(title or ""), str(unit or "")
    chart_id = _chart_id("bar", title, tuple(labels), tuple(str(v) for v in values))
    top = 34 if title else 10
    gap = 8
    desc = "; ".join(f"{lbl}: {format_number(v)}{unit}" for lbl, v in zip(labels, values, strict=True)) or empty_text
    if not labels:
        height = top + 40
        parts = _open_svg(chart_id, width, height, title, desc)
        if title:
            parts.append(f'<text x="0" y="20" font-size="{font_size + 3}" font-weight="bold" '
                         f'fill="{TEXT_COLOUR}">{escape(title)}</text>')
        parts.append(f'<text x="{width / 2:.0f}" y="{top + 24}" font-size="{font_size}" text-anchor="middle" '
                     f'fill="{MUTED}">{escape(empty_text)}</text>')
        parts.append("</svg>")
        return _markup(parts)
    label_width = min(max(text_width(lbl, font_size) for lbl in labels) + 8, width * 0.4)
    value_space = max(text_width(format_number(v) + unit, font_size) for v in values) + 10
    plot_x = label_width + 4
    plot_width = max(width - plot_x - value_space, 40)
    peak = max((_number(v) for v in values), default=0.0)
    height = top + len(labels) * (bar_height + gap) + 4
    parts = _open_svg(chart_id, width, height, title, desc)
    if title:
        parts.append(f'<text x="0" y="20" font-size="{font_size + 3}" font-weight="bold" '
                     f'fill="{TEXT_COLOUR}">{escape(title)}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar_height + gap)
        v = max(_number(value), 0.0)
        bar = plot_width * v / peak if peak > 0 else 0.0
        middle = y + bar_height / 2 + font_size * 0.35
        shown = _truncate(label, font_size, label_width - 8)
        parts.append("<g>")
        parts.append(f"<title>{escape(label)}: {escape(format_number(value))}{escape(unit)}</title>")
        parts.append(f'<text x="{label_width:.1f}" y="{middle:.1f}" font-size="{font_size}" text-anchor="end" '
                     f'fill="{TEXT_COLOUR}">{escape(shown)}</text>')
        parts.append(f'<rect x="{plot_x:.1f}" y="{y}" width="{bar:.1f}" height="{bar_height}" fill="{escape(colour)}" '
                     f'rx="2"/>')
        parts.append(f'<text x="{plot_x + bar + 6:.1f}" y="{middle:.1f}" font-size="{font_size}" '
                     f'fill="{TEXT_COLOUR}">{escape(format_number(value))}{escape(unit)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return _markup(parts)


def _nice_step(span: float, ticks: int = 4) -> float:
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def line_chart(x_labels, series, title: str = "", unit: str = "", *, width: int = 640, height: int = 280,
               y_min: float | None = None, y_max: float | None = None, empty_text: str = "—",
               font_size: int = 12) -> Markup:
    """Lines over shared x labels. `series` maps a name to one value per label (None leaves a gap),
    or is a list of (name, values) pairs. The y axis starts at zero unless `y_min` is given."""
    x_labels = [str(x) for x in x_labels]
    pairs = list(series.items()) if isinstance(series, dict) else [(n, v) for n, v in series]
    pairs = [(str(name), list(vals)) for name, vals in pairs]
    for name, vals in pairs:
        if len(vals) != len(x_labels):
            raise ValueError(f"series {name!r} has {len(vals)} values for {len(x_labels)} labels")
    title, unit = str(title or ""), str(unit or "")
    chart_id = _chart_id("line", title, tuple(x_labels), tuple((n, tuple(map(str, v))) for n, v in pairs))
    present = [_number(v) for _n, vals in pairs for v in vals if v is not None]
    desc = "; ".join(f"{name}: " + ", ".join(f"{x} {format_number(v)}{unit}" for x, v in zip(x_labels, vals,
                                                                                          strict=True) if v is not None)
                     for name, vals in pairs) or empty_text
    parts = _open_svg(chart_id, width, height, title, desc)
    top = 34 if title else 10
    if title:
        parts.append(f'<text x="0" y="20" font-size="{font_size + 3}" font-weight="bold" '
                     f'fill="{TEXT_COLOUR}">{escape(title)}</text>')
    if not x_labels or not present:
        parts.append(f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" font-size="{font_size}" text-anchor="middle" '
                     f'fill="{MUTED}">{escape(empty_text)}</text></svg>')
        return _markup(parts)
    low = min(present) if y_min is None else float(y_min)
    low = min(low, 0.0) if y_min is None else low
    high = max(present) if y_max is None else float(y_max)
    step = _nice_step(high - low if high > low else abs(high) or 1.0)
    low = math.floor(low / step) * step
    high = max(math.ceil(high / step) * step, low + step)
    legend_rows = 1 if len(pairs) > 1 else 0
    bottom = height - 28 - legend_rows * 20
    tick_labels = [format_number(round(low + k * step, 6)) + unit for k in range(round((high - low) / step) + 1)]
    left = max(text_width(t, font_size) for t in tick_labels) + 10
    right = width - 12
    plot_w, plot_h = right - left, bottom - top

    def sx(i: int) -> float:
        return left + (plot_w * i / (len(x_labels) - 1) if len(x_labels) > 1 else plot_w / 2)

    def sy(v: float) -> float:
        return bottom - plot_h * (v - low) / (high - low)

    for k, tick in enumerate(tick_labels):
        y = sy(low + k * step)
        parts.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="{GRID}" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{left - 6:.1f}" y="{y + font_size * 0.35:.1f}" font-size="{font_size}" '
                     f'text-anchor="end" fill="{MUTED}">{escape(tick)}</text>')
    # Thin out the x labels so that they do not overlap.
    label_w = min(max(text_width(x, font_size) for x in x_labels), 90) + 8
    every = max(1, math.ceil(len(x_labels) / max(plot_w / label_w, 1)))
    for i, x in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            parts.append(f'<text x="{sx(i):.1f}" y="{bottom + font_size + 6:.1f}" font-size="{font_size}" '
                         f'text-anchor="middle" fill="{MUTED}">{escape(_truncate(x, font_size, 90))}</text>')
    for n, (name, vals) in enumerate(pairs):
        colour = PALETTE[n % len(PALETTE)]
        segment: list[str] = []
        segments = []
        for i, v in enumerate(vals):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{sx(i):.1f},{sy(_number(v)):.1f}")
        if segment:
            segments.append(segment)
        parts.append("<g>")
        parts.append(f"<title>{escape(name)}</title>")
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(vals):
            if v is not None:
                parts.append(f'<circle cx="{sx(i):.1f}" cy="{sy(_number(v)):.1f}" r="3" fill="{colour}">'
                             f"<title>{escape(name)} · {escape(x_labels[i])}: {escape(format_number(v))}"
                             f"{escape(unit)}</title></circle>")
        parts.append("</g>")
    if legend_rows:
        x = left
        y = height - 10
        for n, (name, _vals) in enumerate(pairs):
            colour = PALETTE[n % len(PALETTE)]
            parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="4" fill="{colour}"/>')
            parts.append(f'<text x="{x + 16:.1f}" y="{y:.1f}" font-size="{font_size}" fill="{TEXT_COLOUR}">'
                         f"{escape(name)}</text>")
            x += 16 + text_width(name, font_size) + 18
    parts.append("</svg>")
    return _markup(parts)
