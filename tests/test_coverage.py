"""The 15-minute circle: geometry, coverage and the greedy planner on hand-drawn examples, the
coordinates' input (ranges, GCJ-02), and the page and API as each role."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from core import geo
from core.areas import operations as areas
from core.areas.models import Area, Venue
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Invalid
from evaluation.coverage import operations as coverage
from tests.support import scorecards as world_of
from tests.support.figures import local

glat, glon = geo.wgs84_to_gcj02(39.7267, 116.3414)  # 大兴 in GCJ-02
# 15 minutes at 4.5 km/h with a detour factor of 1.3: 1,125 m walked, 865.38 m straight.
RADIUS = 4500 / 60 * 15 / 1.3


@pytest.fixture
def world(session, make_user, make_area, district, town, community):
    return world_of.build(session, make_user, make_area, district, town, community)


@pytest.fixture
def recent(world, session):
    """The same district with its March sessions moved to the last weeks (the circle looks back
    90 days from now)."""
    now = utcnow()
    for s in world.sessions.values():
        shift = now - dt.timedelta(days=20) - local(2025, 3, 1)
        s.scheduled_at += shift
        for col in ("reported_at", "decided_at", "missed_at"):
            if getattr(s, col) is not None:
                setattr(s, col, getattr(s, col) + shift)
    session.flush()
    return world


# --- geometry ------------------------------------------------------------------------------------

def test_walk_radius_and_haversine():
    assert geo.walk_radius_m(15, 4.5, 1.3) == pytest.approx(865.3846, abs=1e-3)
    # One degree of latitude on the mean sphere: π × 6,371,008.8 / 180.
    assert geo.haversine_m(39.0, 116.0, 40.0, 116.0) == pytest.approx(111_195.08, abs=0.01)
    # 0.02° of longitude at 39.6° N: 111,195 × cos 39.6° × 0.02.
    assert geo.haversine_m(39.6, 116.4, 39.6, 116.42) == pytest.approx(
        111_195.08 * math.cos(math.radians(39.6)) * 0.02, rel=1e-6)


def test_gcj02_round_trip_and_known_offset():
    lat, lon = 39.7267, 116.3414  # 大兴, WGS-84
    glat, glon = geo.wgs84_to_gcj02(lat, lon)
    # The GCJ-02 offset near Beijing is a few hundred metres.
    assert 100 < geo.haversine_m(lat, lon, glat, glon) < 1000
    back = geo.gcj02_to_wgs84(glat, glon)
    assert geo.haversine_m(lat, lon, *back) < 0.01
    # Outside China the two systems agree.
    assert geo.gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)


def test_the_grid_finds_what_a_full_scan_finds():
    import random

    rng = random.Random(7)
    pts = [(i, 39.5 + rng.random() * 0.4, 116.2 + rng.random() * 0.5) for i in range(400)]
    index = geo.GridIndex(pts, RADIUS)
    for _ in range(50):
        lat, lon = 39.5 + rng.random() * 0.4, 116.2 + rng.random() * 0.5
        scan = sorted(i for i, plat, plon in pts if geo.haversine_m(lat, lon, plat, plon) <= RADIUS)
        assert sorted(k for k, _d in index.within(lat, lon, RADIUS)) == scan
        best = min(pts, key=lambda p: geo.haversine_m(lat, lon, p[1], p[2]))
        assert index.nearest(lat, lon)[0] == best[0]


def test_convex_hull():
    square = [(0, 0), (2, 0), (2, 2), (0, 2), (1, 1), (1, 0)]
    assert geo.convex_hull(square) == [(0, 0), (2, 0), (2, 2), (0, 2)]


# --- coverage and the planner, by hand ---------------------------------------------------------------

def test_the_circle_of_the_district_by_hand(world):
    circle = coverage.compute(None, until=local(2025, 4, 1))
    by_code = {p.code: p for p in circle.places}
    c1, c2, c3 = by_code[world.c1.code], by_code[world.c2.code], by_code[world.c3.code]
    assert c1.covered and c1.nearest_venue == "一号文化室" and c1.nearest_m == pytest.approx(555.97, abs=0.05)
    assert c2.covered and c2.nearest_m == pytest.approx(0, abs=0.01)
    # v4 (334 m) has no sessions; the nearest venue with sessions is v3, 1,714 m away.
    assert not c3.covered and c3.nearest_venue == "三号文化室" and c3.nearest_m == pytest.approx(1713.55, abs=0.05)
    assert (circle.population, circle.population_covered, circle.covered) == (10000, 5000, 2)
    towns = {t.name: t for t in circle.towns}
    assert towns["乙镇"].share == 0 and towns[world.town_a.name].share == 100
    # After 90 days without sessions, nothing is covered.
    assert coverage.compute(None, until=local(2025, 6, 20)).covered == 0
    # A longer walk: 25 minutes reach 1,442 m — still short of v3.
    assert not {p.code: p for p in coverage.compute(None, 25, local(2025, 4, 1)).places}[world.c3.code].covered


def test_the_planner_picks_greedily_on_a_hand_drawn_map():
    """Uncovered: P1 (1,000) and P2 (800) 667 m apart, P3 (1,500) far north, P4 (300) near P3.
    Candidates: venue V midway between P1 and P2 (reaches both: 1,800), the community centres.
    Greedy: V (+1,800; it beats P1's and P2's centres, which reach the same, as a venue),
    then P3's centre (+1,800 with P4? P4 lies 778 m from P3: yes, +1,800), then nothing."""
    P = coverage.Place
    places = [P(1, "P1", "一村", 10, "T", "镇", 1000, 40.0, 116.0),
              P(2, "P2", "二村", 10, "T", "镇", 800, 40.006, 116.0),
              P(3, "P3", "三村", 10, "T", "镇", 1500, 40.05, 116.0),
              P(4, "P4", "四村", 10, "T", "镇", 300, 40.057, 116.0),
              P(5, "P5", "五村", 10, "T", "镇", 900, 40.2, 116.0, covered=True)]
    venues = [coverage.Site(100, "V", 40.003, 116.0, False), coverage.Site(101, "W", 40.2, 116.0, True)]
    circle = coverage.Circle(15, RADIUS, local(2025, 1, 1), local(2025, 4, 1), places, venues)
    picks = coverage.plan(circle)
    assert [(p.site.name, p.site.kind, p.adds) for p in picks] == [("V", "venue", 1800), ("三村", "community", 1800)]
    assert picks[0].communities == ["一村", "二村"] and picks[1].communities == ["三村", "四村"]


# --- input of coordinates ------------------------------------------------------------------------------

@pytest.mark.parametrize(("lat", "lon", "field"), [("91", "116", "latitude"), ("39", "181", "longitude"),
                                                   ("abc", "116", "latitude"), ("39.7", "", "longitude"),
                                                   ("nan", "116", "latitude")])
def test_coordinates_out_of_range_are_refused_naming_the_field(session, make_user, town, lat, lon, field):
    admin = make_user("admin")
    with pytest.raises(Invalid) as e:
        areas.save_area(None, code="GEO-1", name="坐标村", level="community", parent=town, population=10,
                        latitude=lat, longitude=lon, actor=admin)
    assert e.value.field == field


def test_gcj02_input_is_stored_as_wgs84(session, make_user, town):
    admin = make_user("admin")
    glat, glon = geo.wgs84_to_gcj02(39.7267, 116.3414)
    a = areas.save_area(None, code="GEO-2", name="高德村", level="community", parent=town, population=10,
                        latitude=f"{glat:.7f}", longitude=f"{glon:.7f}", coordinate_system="gcj02", actor=admin)
    assert a.latitude == Decimal("39.726700") and a.longitude == Decimal("116.341400")


def test_the_import_takes_coordinates_all_or_nothing(session, make_user, town):
    admin = make_user("admin")
    good = (f"code,name,level,parent,population,latitude,longitude\n"
            f"IMP-1,一村,community,{town.code},1200,39.70,116.30\n").encode()
    assert areas.import_areas("a.csv", good, admin) == 1
    a = session.query(Area).filter_by(code="IMP-1").one()
    assert (a.population, a.latitude, a.longitude) == (1200, Decimal("39.700000"), Decimal("116.300000"))
    bad = (f"code,name,level,parent,population,latitude,longitude\n"
           f"IMP-2,二村,community,{town.code},800,39.71,116.31\n"
           f"IMP-3,三村,community,{town.code},900,95,116.31\n").encode()
    from core.spreadsheets.files import RowErrors

    with pytest.raises(RowErrors) as e:
        areas.import_areas("a.csv", bad, admin)
    assert [line for line, _m in e.value.errors] == [3]
    assert session.query(Area).filter_by(code="IMP-2").first() is None
    # Old files without the coordinate columns still import.
    assert areas.import_areas("a.csv", f"code,name,level,parent,population\nIMP-4,四村,community,{town.code},5\n"
                              .encode(), admin) == 1
    venues = (f"name,kind,area code,address,capacity,纬度,经度,坐标系\n"
              f"文化室,cultural_room,IMP-1,,50,{glat},{glon},gcj02\n")
    assert areas.import_venues("v.csv", venues.encode(), admin) == 1
    v = session.query(Venue).filter_by(name="文化室").one()
    assert geo.haversine_m(float(v.latitude), float(v.longitude), 39.7267, 116.3414) < 0.2


def test_the_admin_form_refuses_a_bad_latitude_and_changes_nothing(client, login, make_user, session, community):
    login(make_user("admin"))
    resp = client.post(f"/admin/areas/{community.id}", data={
        "code": community.code, "name": "改名", "level": "community", "parent_id": community.parent_id,
        "population": 10, "latitude": "120", "longitude": "116.3", "coordinate_system": "wgs84"})
    assert resp.status_code == 422
    assert "90" in resp.get_data(as_text=True)
    session.refresh(community)
    assert community.name != "改名" and community.latitude is None
    assert session.query(AuditEvent).filter(AuditEvent.action == "area.update").count() == 0
    resp = client.post(f"/admin/areas/{community.id}", data={
        "code": community.code, "name": "改名", "level": "community", "parent_id": community.parent_id,
        "population": 10, "latitude": "39.7", "longitude": "116.3", "coordinate_system": "wgs84"})
    assert resp.status_code == 302
    session.refresh(community)
    assert community.latitude == Decimal("39.700000")


# --- the page and the API ---------------------------------------------------------------------------

def test_the_api_answers_the_circle(recent, client, token_for):
    world = recent
    token = token_for(world.town_a_officer)
    resp = client.get("/api/v1/coverage?minutes=15", headers=token)
    assert resp.status_code == 200
    body = resp.get_json()
    # A town's officer sees their own town.
    assert body == {"minutes": 15, "radius_m": 865, "communities": 2, "covered": 2, "population": 5000,
                    "population_covered": 5000, "gaps": []}


def test_the_api_lists_gaps_with_the_nearest_venue(recent, client, token_for, make_user):
    world = recent
    token = token_for(make_user("admin"))
    resp = client.get("/api/v1/coverage", headers=token)
    town_b = client.get(f"/api/v1/coverage?area={world.town_b.code}", headers=token)
    body = resp.get_json()
    assert (body["communities"], body["covered"], body["population"], body["population_covered"]) == (3, 2, 10000,
                                                                                                       5000)
    assert body["gaps"] == [{"code": world.c3.code, "name": "三号村", "population": 5000, "nearest_venue_m": 1714}]
    assert town_b.get_json()["communities"] == 1


@pytest.mark.parametrize(("query", "field"), [("minutes=abc", "minutes"), ("minutes=0", "minutes"),
                                              ("minutes=500", "minutes"), ("area=NOPE", "area")])
def test_the_api_refuses_bad_input_naming_the_field(world, client, token_for, make_user, query, field):
    token = token_for(make_user("admin"))
    resp = client.get(f"/api/v1/coverage?{query}", headers=token)
    assert resp.status_code == (404 if field == "area" else 400)  # an unknown area: not found
    assert field in resp.get_json()["error"]["fields"]


def test_a_town_officer_may_not_ask_for_another_town(world, client, token_for):
    token = token_for(world.town_a_officer)
    resp = client.get(f"/api/v1/coverage?area={world.town_b.code}", headers=token)
    assert resp.status_code == 403


@pytest.mark.parametrize("role", ["resident", "provider", "expert"])
def test_others_do_not_see_the_coverage(world, client, login, make_user, role):
    login(make_user(role))
    assert client.get("/coverage/").status_code == 403


def test_the_page_draws_the_map_table_and_plan(recent, client, login, make_user):
    login(make_user("officer"))
    resp = client.get("/coverage/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<svg" in html and "coverage-map" in html
    assert html.count('fill="#c62828"') >= 1  # c3, a gap, in red
    assert "三号图书室" in html  # the planner's first site: v4 (334 m from c3) brings its 5,000 residents
    assert "5,000" in html


def test_the_page_as_a_town_officer_shows_their_town(recent, client, login):
    world = recent
    login(world.town_b_officer)
    html = client.get("/coverage/").get_data(as_text=True)
    assert "三号村" in html and "二号社区" not in html


def test_unknown_area_on_the_page_is_a_404(world, client, login, make_user):
    login(make_user("officer"))
    assert client.get("/coverage/?area=NOPE").status_code == 404


def test_the_page_is_kept_until_a_change_is_committed(recent, client, login, make_user, session, monkeypatch):
    """A second view reads what the first computed; a committed change of a venue or a session is
    shown at once (the data's version moved), not when the figures' time runs out."""
    login(make_user("officer"))
    computed = []
    real = coverage.compute
    monkeypatch.setattr(coverage, "compute", lambda *a, **kw: computed.append(a) or real(*a, **kw))
    first = client.get("/coverage/").get_data(as_text=True)
    again = client.get("/coverage/").get_data(as_text=True)
    red = 'fill="#c62828"'
    assert len(computed) == 1 and "三号图书室" in first and again.count(red) == first.count(red)
    recent.venues["v4"].name = "四号图书室"
    session.commit()
    renamed = client.get("/coverage/").get_data(as_text=True)
    assert len(computed) == 2 and "四号图书室" in renamed and "三号图书室" not in renamed
    # c3's gap closes when a session is delivered at v4 (its own community centre).
    s4 = recent.sessions["s4"]
    s4.venue_id = recent.venues["v4"].id
    session.commit()
    html = client.get("/coverage/").get_data(as_text=True)
    assert len(computed) == 3 and html.count(red) < first.count(red)
