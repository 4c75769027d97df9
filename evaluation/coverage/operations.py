"""The 15-minute service circle (一刻钟文化服务圈), measured on coordinates and populations.

- A venue *serves* when it is in use, has coordinates and a session was delivered there in the
  REACH_DAYS (90) days before the moment asked about (the same window as the district's figures).
- A walk of m minutes reaches a straight-line distance of speed × m / detour factor (settings:
  4.5 km/h and 1.3, so 15 minutes ≈ 865 m); distances are great-circle (haversine).
- A village/community is *covered* when its centre (its coordinates) lies within that distance of a
  serving venue; its residents count as covered or not as a whole (population-weighted coverage).
  A community without coordinates cannot be measured: it is a gap, without a nearest distance.
- Every serving venue of the district counts, whatever town it lies in: people walk across borders.
- The planning view: candidate sites are venues that do not serve now (in use, with coordinates)
  and the centres of communities; the greedy choice takes, five times, the site that brings the
  most still-uncovered residents within reach.

Two statements load communities and venues; a grid index (core.geo.GridIndex, cells of the walk
distance) keeps the geometry linear in the number of communities and venues.

The page keeps what it computed under the versions of the tables it reads (`DATA_TABLES`,
core/versions.py): a commit that adds, changes or deletes an area, a venue or a session shows at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import geo, settings
from core.areas.models import Area, AreaLevel, Venue
from core.db import db, utcnow
from core.errors import Invalid
from evaluation.performance.operations import DELIVERED_STATES
from marketplace.sessions.models import ServiceSession

REACH_DAYS = 90
PLAN_SITES = 5

DETOUR = settings.define("coverage.detour_factor", Decimal("1.3"),
                         _l("15-minute circle: detour factor (walked distance ÷ straight line)"), Decimal, 1, 5)
SPEED = settings.define("coverage.walk_speed_kmh", Decimal("4.5"),
                        _l("15-minute circle: walking speed (km/h)"), Decimal, 1, 10)
MINUTES = settings.define("coverage.minutes", 15, _l("15-minute circle: minutes of walking"), int, 1, 120)
SETTINGS = (DETOUR, SPEED, MINUTES)


@dataclass
class Place:
    """A community with its measure."""

    id: int
    code: str
    name: str
    town_id: int
    town_code: str
    town_name: str
    population: int
    lat: float | None
    lon: float | None
    covered: bool = False
    nearest_m: float | None = None
    nearest_venue: str | None = None


@dataclass
class Site:
    id: int
    name: str
    lat: float
    lon: float
    serving: bool
    kind: str = "venue"  # "venue" or "community" (a community centre, for the planner)


@dataclass
class TownCircle:
    id: int
    code: str
    name: str
    communities: int = 0
    covered: int = 0
    population: int = 0
    population_covered: int = 0

    @property
    def share(self) -> float | None:
        return 100.0 * self.population_covered / self.population if self.population else None


@dataclass
class Pick:
    site: Site
    adds: int  # residents newly within reach
    communities: list[str]


@dataclass
class Circle:
    minutes: int
    radius_m: float
    since: dt.datetime
    until: dt.datetime
    places: list[Place]
    venues: list[Site]
    towns: list[TownCircle] = field(default_factory=list)

    @property
    def population(self) -> int:
        return sum(p.population for p in self.places)

    @property
    def population_covered(self) -> int:
        return sum(p.population for p in self.places if p.covered)

    @property
    def covered(self) -> int:
        return sum(1 for p in self.places if p.covered)

    @property
    def share(self) -> float | None:
        return 100.0 * self.population_covered / self.population if self.population else None

    @property
    def gaps(self) -> list[Place]:
        return [p for p in self.places if not p.covered]


def radius_m(minutes: int | None = None) -> float:
    return geo.walk_radius_m(minutes or settings.get(MINUTES.key), float(settings.get(SPEED.key)),
                             float(settings.get(DETOUR.key)))


def check_minutes(raw) -> int:
    """Minutes of walking from input: a whole number 1–120, else Invalid (400) naming `minutes`."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise Invalid(_l("Minutes must be a whole number from 1 to 120."), "minutes", status=400,
                      code="bad_request") from None
    if not 1 <= value <= 120:
        raise Invalid(_l("Minutes must be a whole number from 1 to 120."), "minutes", status=400, code="bad_request")
    return value


def _f(v) -> float | None:
    return None if v is None else float(v)


def load(scope: Area | None, until: dt.datetime) -> tuple[list[Place], list[Site]]:
    """The communities of the scope and every venue of the district with coordinates: two statements."""
    town = db.aliased(Area)
    stmt = (select(Area.id, Area.code, Area.name, town.id, town.code, town.name, Area.population, Area.latitude,
                   Area.longitude)
            .join(town, town.id == Area.parent_id)
            .where(Area.level == AreaLevel.COMMUNITY).order_by(town.code, Area.code))
    if scope is not None and scope.level == AreaLevel.TOWN:
        stmt = stmt.where(Area.parent_id == scope.id)
    elif scope is not None and scope.level == AreaLevel.COMMUNITY:
        stmt = stmt.where(Area.id == scope.id)
    places = [Place(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6] or 0), _f(r[7]), _f(r[8]))
              for r in db.session.execute(stmt)]
    since = until - dt.timedelta(days=REACH_DAYS)
    served = (select(ServiceSession.venue_id.label("venue_id"), func.count().label("n"))
              .where(ServiceSession.state.in_(DELIVERED_STATES), ServiceSession.scheduled_at >= since,
                     ServiceSession.scheduled_at < until)
              .group_by(ServiceSession.venue_id)).subquery()
    rows = db.session.execute(
        select(Venue.id, Venue.name, Venue.latitude, Venue.longitude, served.c.n)
        .outerjoin(served, served.c.venue_id == Venue.id)
        .where(Venue.active.is_(True), Venue.latitude.is_not(None))
        .order_by(Venue.id))
    venues = [Site(r[0], r[1], float(r[2]), float(r[3]), bool(r[4])) for r in rows]
    return places, venues


def measure(places: list[Place], venues: list[Site], radius: float) -> None:
    """Mark each located community covered or not, with its nearest serving venue."""
    serving = [v for v in venues if v.serving]
    by_id = {v.id: v for v in serving}
    ref = _ref_lat(places, serving)
    index = geo.GridIndex(((v.id, v.lat, v.lon) for v in serving), radius, ref)
    for p in places:
        if p.lat is None:
            continue
        hit = index.nearest(p.lat, p.lon)
        if hit is not None:
            p.nearest_venue, p.nearest_m = by_id[hit[0]].name, hit[1]
            p.covered = hit[1] <= radius


def _ref_lat(places, sites) -> float:
    lats = [p.lat for p in places if p.lat is not None] + [s.lat for s in sites]
    return sum(lats) / len(lats) if lats else 0.0


def by_town(places: list[Place]) -> list[TownCircle]:
    towns: dict[int, TownCircle] = {}
    for p in places:
        t = towns.setdefault(p.town_id, TownCircle(p.town_id, p.town_code, p.town_name))
        t.communities += 1
        t.population += p.population
        if p.covered:
            t.covered += 1
            t.population_covered += p.population
    return list(towns.values())


def compute(scope: Area | None = None, minutes: int | None = None, until: dt.datetime | None = None) -> Circle:
    """The circle of the scope (None: the district) as of `until` (default now)."""
    until = until or utcnow()
    minutes = minutes or settings.get(MINUTES.key)
    kept = g.get(_ONCE) if has_app_context() else None
    key = (scope.id if scope is not None else None, minutes, until)
    if kept is not None and key in kept:
        return kept[key]
    radius = radius_m(minutes)
    places, venues = load(scope, until)
    measure(places, venues, radius)
    circle = Circle(minutes, radius, until - dt.timedelta(days=REACH_DAYS), until, places, venues, by_town(places))
    if kept is not None:
        kept[key] = circle
    return circle


_ONCE = "coverage_circles_once"


@contextmanager
def computed_once() -> Iterator[None]:
    """Inside the block compute() measures each circle once: a document that draws the circle and
    also shows the scorecards (whose reach indicator asks for the same circle) loads it once."""
    outermost = _ONCE not in g
    if outermost:
        g.setdefault(_ONCE, {})
    try:
        yield
    finally:
        if outermost:
            g.pop(_ONCE, None)


def plan(circle: Circle, sites: int = PLAN_SITES) -> list[Pick]:
    """Greedy: the candidate sites that bring the most uncovered residents within reach, one at a
    time (each pick counts only residents no earlier pick reached). Ties go to the venue before a
    community centre, then to the lower id."""
    uncovered = [p for p in circle.gaps if p.lat is not None and p.population > 0]
    if not uncovered:
        return []
    candidates = [v for v in circle.venues if not v.serving]
    candidates += [Site(p.id, p.name, p.lat, p.lon, False, "community") for p in circle.places if p.lat is not None]
    index = geo.GridIndex(((p.id, p.lat, p.lon) for p in uncovered), circle.radius_m, _ref_lat(uncovered, candidates))
    by_id = {p.id: p for p in uncovered}
    reach = [(c, {pid for pid, _d in index.within(c.lat, c.lon, circle.radius_m)}) for c in candidates]
    reach = [(c, ids) for c, ids in reach if ids]
    picks, taken = [], set()
    for _round in range(sites):
        best = None
        for c, ids in reach:
            gain = sum(by_id[i].population for i in ids - taken)
            key = (gain, c.kind == "venue", -c.id)
            if gain > 0 and (best is None or key > best[0]):
                best = (key, c, ids - taken)
        if best is None:
            break
        _key, c, new = best
        taken |= new
        names = [by_id[i].name for i in sorted(new, key=lambda i: (-by_id[i].population, by_id[i].code))]
        picks.append(Pick(c, sum(by_id[i].population for i in new), names))
    return picks


def community_reach(until: dt.datetime, minutes: int | None = None) -> dict[int, tuple[int, bool]]:
    """{community id: (population, covered)} for the whole district: the scorecards' 15-minute reach."""
    circle = compute(None, minutes, until)
    return {p.id: (p.population, p.covered) for p in circle.places}


# --- what the circle reads -----------------------------------------------------------------------

# The page keeps what it computed under these tables' versions (core/versions.py).
DATA_TABLES = ("areas", "venues", "service_sessions")
