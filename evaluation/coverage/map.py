"""The district map of the 15-minute circle as server-rendered SVG (no tiles, no script): the
same drawing on the coverage page and in the briefing PDF.

Longitude/latitude are projected equirectangularly about the district's mean latitude (true to
scale over a district). Communities are points whose area is proportional to their population,
green when covered, red when a gap; serving venues are dark squares with their walking reach as
a circle; venues without sessions are hollow squares; a picked planning site is a numbered star
mark; town/street borders are the convex hulls of their communities' centres (an outline, not
the legal boundary).
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


def draw(circle: Circle, picks: list[Pick] | None = None, *, width: int = 640, title: str = "") -> Markup:
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
            parts.append(f'<polygon points="{d}" fill="none" stroke="{MUTED}" stroke-dasharray="4 3" '
                         f'stroke-width="1"><title>{escape(name)}</title></polygon>')
        cx = sum(x for x, _y in points) / len(points)
        cy = min(y for _x, y in points) - 6
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="10" text-anchor="middle" '
                     f'fill="{MUTED}">{escape(name)}</text>')
    reach_px = circle.radius_m / m_per_px
    for v in shown_venues:
        x, y = xy(v.lat, v.lon)
        if v.serving:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{reach_px:.1f}" fill="{REACH}" fill-opacity="0.08" '
                         f'stroke="{REACH}" stroke-opacity="0.4" stroke-width="0.8"/>')
    for p in located:
        x, y = xy(p.lat, p.lon)
        r = 2 + 6 * math.sqrt(p.population / peak)
        colour = COVERED if p.covered else GAP
        state = _("covered") if p.covered else _("gap")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" fill-opacity="0.75">'
                     f'<title>{escape(p.name)}: {p.population} — {escape(state)}</title></circle>')
    for v in shown_venues:
        x, y = xy(v.lat, v.lon)
        fill = VENUE if v.serving else "none"
        parts.append(f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{fill}" stroke="{VENUE}" '
                     f'stroke-width="1"><title>{escape(v.name)}</title></rect>')
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


def _nice_metres(m: float) -> float:
    if m <= 0:
        return 100.0
    exp = 10 ** math.floor(math.log10(m))
    for f in (1, 2, 5, 10):
        if f * exp >= m:
            return float(f * exp)
    return float(10 * exp)
