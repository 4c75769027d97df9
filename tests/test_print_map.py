"""The 15-minute circle's map in print: the same marks as on the page, one SVG path per kind of mark
instead of an element (and tooltip) per mark, so that WeasyPrint has a few dozen nodes to lay out."""

from __future__ import annotations

import datetime as dt
import re

from evaluation.coverage import map as coverage_map
from evaluation.coverage.operations import Circle, Place, Site

UNTIL = dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)


def _circle() -> Circle:
    places = [
        Place(1, "C1", "一号社区", 10, "T1", "甲镇", 4000, 39.80, 116.30, covered=True),
        Place(2, "C2", "二号社区", 10, "T1", "甲镇", 1000, 39.81, 116.31, covered=True),
        Place(3, "C3", "三号村", 20, "T2", "乙镇", 2500, 39.70, 116.45, covered=False),
        Place(4, "C4", "四号村", 20, "T2", "乙镇", 900, None, None),  # no coordinates: not drawn
    ]
    venues = [Site(1, "一号文化室", 39.801, 116.301, True), Site(2, "二号文化室", 39.809, 116.309, True),
              Site(3, "三号图书室", 39.72, 116.44, False)]
    return Circle(15, 865.0, UNTIL - dt.timedelta(days=90), UNTIL, places, venues)


def _path(svg: str, fill: str) -> str:
    paths = re.findall(rf'<path d="([^"]+)" fill="{re.escape(fill)}"', svg)
    assert len(paths) == 1, (fill, paths)
    return paths[0]


def test_print_draws_every_mark_of_the_page_as_one_path_per_kind(app):
    with app.test_request_context("/"):
        page = str(coverage_map.draw(_circle(), width=620))
        printed = str(coverage_map.draw(_circle(), width=620, tooltips=False))
    # The page: a circle and a tooltip per community and per walking reach, a square per venue.
    marks = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)" fill="(#[0-9a-f]+)" fill-opacity="0.75">',
                       page)
    assert len(marks) == 3 and "<title>三号村: 2500" in page
    # Print: no tooltip but the map's own title, and only the legend's three dots as circles.
    assert printed.count("<title>") == 1 and "三号村" not in printed.split("</title>", 1)[1].split("<text")[0]
    assert printed.count("<circle") == 3 and printed.count("<rect") == 0
    # Each community's circle starts at its leftmost point, with the page's centre and radius.
    for cx, cy, r, colour in marks:
        start = f"M{float(cx) - float(r):.1f},{float(cy):.1f}a{float(r):.1f},{float(r):.1f} "
        assert start in _path(printed, colour), (cx, cy, r)
    assert _path(printed, coverage_map.COVERED).count("z") == 2
    assert _path(printed, coverage_map.GAP).count("z") == 1
    # Two serving venues: two walking reaches and two filled squares; one hollow square.
    assert _path(printed, coverage_map.REACH).count("z") == 2
    assert _path(printed, coverage_map.VENUE).count("z") == 2
    assert _path(printed, "none").count("z") == 1
    # The town names and the legend are the same text on both.
    texts = re.findall(r">([^<>]+)</text>", page)
    assert texts == re.findall(r">([^<>]+)</text>", printed) and "甲镇" in texts


def test_the_briefing_prints_the_map_without_a_node_per_mark(figures_world, session):
    from sqlalchemy import select

    from core.areas.models import Area, AreaLevel, Venue
    from evaluation.reporting import briefing

    places = session.scalars(select(Area).where(Area.level == AreaLevel.COMMUNITY)).all()
    venues = session.scalars(select(Venue)).all()
    assert places and venues
    for i, thing in enumerate([*places, *venues]):
        thing.latitude, thing.longitude = 39.7 + 0.01 * i, 116.3 + 0.013 * i
    session.flush()
    html = briefing.briefing_html("2025-03")
    svg = re.search(r'<svg[^>]*coverage-map.*?</svg>', html, re.S).group(0)
    assert svg.count("<title>") == 1 and "<path" in svg
    # One subpath per located community, drawn as covered or gap.
    drawn = sum(_path(svg, colour).count("z") for colour in (coverage_map.COVERED, coverage_map.GAP)
                if f'fill="{colour}" fill-opacity="0.75"' in svg)
    assert drawn == len(places)
