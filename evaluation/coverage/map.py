"""The district map of the 15-minute circle as server-rendered SVG (no tiles, no script): the
same drawing on the coverage page and in the briefing PDF.

Longitude/latitude are projected equirectangularly about the district's mean latitude (true to
scale over a district). Communities are points whose area is proportional to their population,
green when covered, red when a gap; serving venues are dark squares with their walking reach as
a circle; venues without sessions are hollow squares; a picked planning site is a numbered star
mark; town/street borders are the convex hulls of their communities' centres (an outline, not
the legal boundary).

On a page every mark carries its name as a tooltip. In print (`tooltips=False`, the briefing PDF)
no one can hover, so the marks of one kind are drawn as one path each instead: the same picture
from a few dozen SVG nodes rather than thousands, which WeasyPrint lays out many times faster.
"""

from __future__ import annotations

import math

from flask_babel import gettext as _
from markupsafe import Markup, escape

from core import geo
from core.charts import FONT, MUTED, TEXT_COLOUR
from evaluation.coverage.operations import Circle, Pick

COVERED = "#2e7d32"
GAP = "#c62828"
VENUE = "#1a237e"
REACH = "#3949ab"
PLAN = "#ef6c00"


def draw(circle: Circle, picks: list[Pick] | None = None, *, width: int = 640, title: str = "",
         tooltips: bool = True) -> Markup:
    located = [p for p in circle.places if p.lat is not None]
    shown_venues = circle.venues
    pts = [(p.lat, p.lon) for p in located] + [(v.lat, v.lon) for v in shown_venues]
    title = title or _("The %(n)d-minute circle", n=circle.minutes)
    desc = _("%(covered)d of %(n)d villages/communities covered; %(gaps)d gaps shown in red.",
             covered=circle.covered, n=len(circle.places), gaps=len(circle.gaps))
    if not pts:
        return Markup(  # noqa: S704  # nosec B704  (escaped below)
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="60" '
            f'font-family="{escape(FONT)}"><title>{escape(title)}</title><text x="10" y="35" fill="{MUTED}" '
            f'font-size="12">{escape(_("No coordinates recorded yet"))}</text></svg>')
    ref = sum(p[0] for p in pts) / len(pts)
    kx = math.cos(math.radians(ref))
    min_lat, max_lat = min(p[0] for p in pts), max(p[0] for p in pts)
    min_lon, max_lon = min(p[1] for p in pts), max(p[1] for p in pts)
    margin = 24
    span_x = max((max_lon - min_lon) * kx, 1e-4)
    span_y = max(max_lat - min_lat, 1e-4)
    scale = (width - 2 * margin) / max(span_x, span_y)
    height = int(span_y * scale + 2 * margin + 40)
    top = 40
    m_per_px = geo.EARTH_RADIUS_M * math.pi / 180.0 / scale

    def xy(lat, lon):
        return margin + (lon - min_lon) * kx * scale, top + (max_lat - lat) * scale

    peak = max((p.population for p in located), default=1) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg coverage-map" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="{escape(FONT)}">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<text x="0" y="20" font-size="15" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>',
    ]
    # Town borders: hulls of their communities.
    towns: dict[int, list] = {}
    for p in located:
        towns.setdefault(p.town_id, [p.town_name, []])[1].append(xy(p.lat, p.lon))
    for name, points in towns.values():
        hull = geo.convex_hull(points)
        if len(hull) >= 3:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in hull)
            tip = f"<title>{escape(name)}</title>" if tooltips else ""
            parts.append(f'<polygon points="{d}" fill="none" stroke="{MUTED}" stroke-dasharray="4 3" '
                         f'stroke-width="1">{tip}</polygon>')
        cx = sum(x for x, _y in points) / len(points)
        cy = min(y for _x, y in points) - 6
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="10" text-anchor="middle" '
                     f'fill="{MUTED}">{escape(name)}</text>')
    reach_px = circle.radius_m / m_per_px
    marks = _marks if tooltips else _print_marks
    parts.extend(marks(located, shown_venues, reach_px, peak, xy))
    for i, pick in enumerate(picks or [], 1):
        x, y = xy(pick.site.lat, pick.site.lon)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{reach_px:.1f}" fill="none" stroke="{PLAN}" '
                     f'stroke-dasharray="3 2" stroke-width="1.2"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" font-weight="bold" text-anchor="middle" '
                     f'fill="{PLAN}">{i}<title>{escape(pick.site.name)}: +{pick.adds}</title></text>')
    # Legend and scale bar.
    ly = height - 12
    bar_m = _nice_metres(m_per_px * 100)
    bar_px = bar_m / m_per_px
    parts.append(f'<line x1="{margin}" y1="{ly}" x2="{margin + bar_px:.1f}" y2="{ly}" stroke="{TEXT_COLOUR}" '
                 f'stroke-width="2"/><text x="{margin + bar_px + 6:.1f}" y="{ly + 4}" font-size="10" '
                 f'fill="{TEXT_COLOUR}">{bar_m:,.0f} m</text>')
    legend = [(COVERED, _("covered")), (GAP, _("gap")), (VENUE, _("venue with sessions"))]
    lx = margin + bar_px + 80
    for colour, label in legend:
        parts.append(f'<circle cx="{lx:.1f}" cy="{ly}" r="4" fill="{colour}"/><text x="{lx + 8:.1f}" y="{ly + 4}" '
                     f'font-size="10" fill="{TEXT_COLOUR}">{escape(label)}</text>')
        lx += 20 + 11 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704  (every text above went through escape())


def _marks(located, venues, reach_px, peak, xy) -> list[str]:
    """The walking reach, the communities and the venues, each mark with its name as a tooltip."""
    out = []
    for v in venues:
        x, y = xy(v.lat, v.lon)
        if v.serving:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{reach_px:.1f}" fill="{REACH}" fill-opacity="0.08" '
                       f'stroke="{REACH}" stroke-opacity="0.4" stroke-width="0.8"/>')
    for p in located:
        x, y = xy(p.lat, p.lon)
        colour = COVERED if p.covered else GAP
        state = _("covered") if p.covered else _("gap")
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_radius(p.population, peak):.1f}" fill="{colour}" '
                   f'fill-opacity="0.75"><title>{escape(p.name)}: {p.population} — {escape(state)}</title></circle>')
    for v in venues:
        x, y = xy(v.lat, v.lon)
        fill = VENUE if v.serving else "none"
        out.append(f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{fill}" stroke="{VENUE}" '
                   f'stroke-width="1"><title>{escape(v.name)}</title></rect>')
    return out


def _radius(population: int, peak: int) -> float:
    return 2 + 6 * math.sqrt(population / peak)


def _circles(centres) -> str:
    """Path data of circles: two half arcs each."""
    return "".join(f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1 0 {2 * r:.1f},0a{r:.1f},{r:.1f} 0 1 0 {-2 * r:.1f},0z"
                   for x, y, r in centres)


def _print_marks(located, venues, reach_px, peak, xy) -> list[str]:
    """The walking reach, the communities and the venues as one path per kind of mark, in the order
    and colours of the tooltip drawing."""
    serving = [xy(v.lat, v.lon) for v in venues if v.serving]
    idle = [xy(v.lat, v.lon) for v in venues if not v.serving]
    out = []
    if serving:
        out.append(f'<path d="{_circles((x, y, reach_px) for x, y in serving)}" fill="{REACH}" fill-opacity="0.08" '
                   f'stroke="{REACH}" stroke-opacity="0.4" stroke-width="0.8"/>')
    for covered, colour in ((True, COVERED), (False, GAP)):
        marks = [(*xy(p.lat, p.lon), _radius(p.population, peak)) for p in located if p.covered == covered]
        if marks:
            out.append(f'<path d="{_circles(marks)}" fill="{colour}" fill-opacity="0.75"/>')
    for points, fill in ((serving, VENUE), (idle, "none")):
        if points:
            d = "".join(f"M{x - 3:.1f},{y - 3:.1f}h6v6h-6z" for x, y in points)
            out.append(f'<path d="{d}" fill="{fill}" stroke="{VENUE}" stroke-width="1"/>')
    return out


def _nice_metres(m: float) -> float:
    if m <= 0:
        return 100.0
    exp = 10 ** math.floor(math.log10(m))
    for f in (1, 2, 5, 10):
        if f * exp >= m:
            return float(f * exp)
    return float(10 * exp)
