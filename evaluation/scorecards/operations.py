"""Scorecards (绩效评估) of the towns/streets and villages/communities, per month, quarter or year.

Model "score-1" (published on /scorecards/model):

- Each indicator gives a value per area from what the database records for the period, and
  0–100 points from the value: a *share* (%) is its own points; a *relative* figure (per 1,000
  residents, per resident) earns 100 × value ÷ the best value among all areas of the same level in
  the district (the best gets 100); satisfaction (Bayesian mean, 1–5) earns (S − 1) ÷ 4 × 100;
  days to fulfilment earn 100 × (1 − days ÷ the zero-points days setting), at least 0; upheld
  complaints per 100 sessions earn 100 − penalty × rate, at least 0.
- The index (0–100) is Σ weight × points ÷ Σ weight over the indicators that *have data* for the
  area: an indicator without data (no sessions, no ratings, no requests…) is shown as "no data" and
  its weight is shared out among the others in proportion to theirs. Weights are settings.
- The rank is among all areas of the same level in the district (1 is best; equal indexes share a
  rank). An area without any indicator with data has no index and no rank.
- A town's figures are its own (its cultural station's sessions, its projects) plus its
  villages'/communities'; its population is the sum of its communities' (or its own when it has none).

Where a plan indicator has no source in the data model it is left out: the third-party assessment
mean comes from the assessment package, which registers itself with `add_indicator` (below).

Indicators are kept on the app (`app.extensions`), added by `add_indicator(app, …)` or `register`
from a package's `init_app`; the order of registration is the order on the page.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from catalog.demand.models import DemandRequest, DemandStatus
from catalog.items.models import Item, TargetGroup
from core import audit, cache, periods, settings
from core.areas.models import Area, AreaLevel, Venue, VenueKind
from core.db import db, utcnow
from core.errors import Invalid, Refused
from core.i18n import LOCAL_TZ
from evaluation.coverage import operations as coverage
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from evaluation.performance import operations as performance
from evaluation.reporting.figures import Period
from marketplace.awards.models import Award, AwardStatus
from marketplace.projects.models import ProjectLine, PurchaseProject
from marketplace.sessions.models import ServiceSession

MODEL_VERSION = "score-1"
EXTENSION = "huimin.scorecard_indicators"
TWO = Decimal("0.01")
HUNDRED = Decimal(100)
FACILITY_KINDS = (VenueKind.CULTURAL_ROOM, VenueKind.CULTURAL_CENTRE)
SPECIAL_GROUPS = (TargetGroup.ELDERLY, TargetGroup.MINORS, TargetGroup.DISABLED)
TREND_LENGTH = {"month": 12, "quarter": 8, "year": 5}


def _weight(key, default, label):
    return settings.define(f"scorecards.weight_{key}", default, label, int, 0, 100)


W_FACILITY = _weight("facility", 10, _l("Scorecards: weight of facility coverage"))
W_REACH = _weight("reach", 15, _l("Scorecards: weight of the 15-minute reach"))
W_SESSIONS = _weight("sessions", 10, _l("Scorecards: weight of sessions per 1,000 residents"))
W_ATTENDANCE = _weight("attendance", 10, _l("Scorecards: weight of attendance per 1,000 residents"))
W_FULFILMENT = _weight("fulfilment", 10, _l("Scorecards: weight of the demand fulfilment rate"))
W_DAYS = _weight("fulfilment_days", 5, _l("Scorecards: weight of the median days to fulfilment"))
W_SATISFACTION = _weight("satisfaction", 15, _l("Scorecards: weight of satisfaction"))
W_COMPLAINTS = _weight("complaints", 10, _l("Scorecards: weight of upheld complaints"))
W_GROUPS = _weight("special_groups", 10, _l("Scorecards: weight of sessions for special groups"))
W_SPENDING = _weight("spending", 5, _l("Scorecards: weight of spending per resident"))
# Registered by evaluation/__init__ with the assessment aggregate's means (add_indicator).
W_ASSESSMENT = _weight("assessment", 10, _l("Scorecards: weight of the third-party assessment mean"))
ZERO_DAYS = settings.define("scorecards.fulfilment_zero_days", 60,
                            _l("Scorecards: median days to fulfilment that earn zero points"), int, 1, 3650)
COMPLAINT_PENALTY = settings.define("scorecards.complaint_penalty", Decimal("10"),
                                    _l("Scorecards: points lost per upheld complaint per 100 sessions"),
                                    Decimal, 0, 100)
SETTINGS = (ZERO_DAYS, COMPLAINT_PENALTY)


# --- periods ---------------------------------------------------------------------------------

_PERIOD = re.compile(r"([0-9]{4})(?:-([0-9]{2})|-Q([1-4]))?")
# The query argument as the API document states it: what parse_period takes (year 2000 or later,
# ASCII digits, spaces around), or nothing at all for the default period.
PERIOD_PATTERN = r"^\s*([2-9][0-9]{3}(-(0[1-9]|1[0-2])|-[Qq][1-4])?)?\s*$"


def period_kind(label: str) -> str:
    return "quarter" if "Q" in label else ("month" if len(label) == 7 else "year")


def _months(year: int, first: int, count: int, label: str = "") -> Period:
    end_year, end_month = year + (first - 1 + count) // 12, (first - 1 + count) % 12 + 1
    return Period(periods.month_start(periods.month_key(year, first)),
                  periods.month_start(periods.month_key(end_year, end_month)), label)


def parse_period(text: str | None, now: dt.datetime | None = None) -> Period:
    """'2026-11' (a month), '2026-Q4' (a quarter) or '2026' (a year), local calendar; a period
    that has not begun is refused. Invalid (400: it comes from a query) names the field `period`."""
    m = _PERIOD.fullmatch((text or "").strip().upper())
    if not m or int(m.group(1)) < 2000 or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        raise Invalid(_l("Give the period as YYYY-MM, YYYY-Qn or YYYY, for example 2026-11, 2026-Q4 or 2026."),
                      "period", status=400, code="bad_request")
    year = int(m.group(1))
    if m.group(2):
        p, label = _months(year, int(m.group(2)), 1), f"{year:04d}-{int(m.group(2)):02d}"
    elif m.group(3):
        q = int(m.group(3))
        p, label = _months(year, 3 * q - 2, 3), f"{year:04d}-Q{q}"
    else:
        p, label = _months(year, 1, 12), f"{year:04d}"
    if p.start > (now or utcnow()):
        # Well formed, only not yet: a rule of time (409), the form itself was right.
        raise Refused(_l("The period %(p)s has not begun yet.", p=label), "period")
    return Period(p.start, p.end, label)


def previous_period(p: Period) -> Period:
    local = p.start.astimezone(LOCAL_TZ)
    kind = period_kind(p.label)
    if kind == "month":
        y, m = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        return _months(y, m, 1, f"{y:04d}-{m:02d}")
    if kind == "quarter":
        q = (local.month - 1) // 3 + 1
        y, q = (local.year - 1, 4) if q == 1 else (local.year, q - 1)
        return _months(y, 3 * q - 2, 3, f"{y:04d}-Q{q}")
    return _months(local.year - 1, 1, 12, f"{local.year - 1:04d}")


def current_label(kind: str, now: dt.datetime | None = None) -> str:
    local = (now or utcnow()).astimezone(LOCAL_TZ)
    if kind == "quarter":
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{local.year:04d}"
    return f"{local.year:04d}-{local.month:02d}"


# --- the frame: areas and populations -----------------------------------------------------------

@dataclass
class Frame:
    """The areas of the district at one level and how raw rows roll up into them."""

    period: Period
    level: AreaLevel
    now: dt.datetime
    areas: list[Area]
    community_town: dict[int, int]  # community id → town id
    community_population: dict[int, int]
    town_population: dict[int, int]  # a town's own population field

    def owner(self, area_id: int) -> int | None:
        """The area of the level a raw area id (a venue's, a project's) counts for."""
        if self.level == AreaLevel.COMMUNITY:
            return area_id if area_id in self.community_town else None
        if area_id in self.community_town:
            return self.community_town[area_id]
        return area_id if area_id in self.town_population else None

    def roll(self, rows) -> dict[int, list]:
        """Sum (area id, *numbers) rows into the level's areas, element by element."""
        out: dict[int, list] = {}
        for area_id, *values in rows:
            owner = self.owner(area_id)
            if owner is None:
                continue
            acc = out.setdefault(owner, [0] * len(values))
            for i, v in enumerate(values):
                acc[i] += v or 0
        return out

    def population(self, area_id: int) -> int:
        if self.level == AreaLevel.COMMUNITY:
            return self.community_population.get(area_id, 0)
        own = [p for c, p in self.community_population.items() if self.community_town[c] == area_id]
        return sum(own) if own else self.town_population.get(area_id, 0)

    @property
    def until(self) -> dt.datetime:
        return min(self.period.end, self.now)


def frame(period: Period, level: AreaLevel, now: dt.datetime | None = None) -> Frame:
    """All towns and communities in one statement."""
    rows = db.session.scalars(select(Area).where(Area.level.in_([AreaLevel.TOWN, AreaLevel.COMMUNITY]))
                              .order_by(Area.code)).all()
    towns = {a.id: a.population for a in rows if a.level == AreaLevel.TOWN}
    comm = [a for a in rows if a.level == AreaLevel.COMMUNITY]
    return Frame(period, level, now or utcnow(), [a for a in rows if a.level == level],
                 {a.id: a.parent_id for a in comm}, {a.id: a.population for a in comm}, towns)


# --- indicators ---------------------------------------------------------------------------------

SHARE, RELATIVE, STARS, DAYS, PENALTY, SCORE = "share", "relative", "stars", "days", "penalty", "score"
NORMALISATION = {
    SHARE: _l("the share itself (0–100 %)"),
    RELATIVE: _l("100 × value ÷ the best value among the areas of the same level"),
    STARS: _l("(S − 1) ÷ 4 × 100"),
    DAYS: _l("100 × (1 − days ÷ the zero-points days), at least 0"),
    PENALTY: _l("100 − penalty × upheld complaints per 100 sessions, at least 0"),
    SCORE: _l("the score itself (0–100)"),
}


@dataclass(frozen=True)
class Indicator:
    key: str
    label: object
    weight: settings.SettingDef
    measure: Callable[[Frame], dict[int, Decimal]]  # area id → value; absent: no data
    scale: str = SHARE
    unit: str = ""
    source: object = ""

    def points(self, value: Decimal, peers: list[Decimal]) -> Decimal:
        if self.scale == RELATIVE:
            best = max(peers, default=Decimal(0))
            p = HUNDRED * value / best if best > 0 else Decimal(0)
        elif self.scale == STARS:
            p = (value - 1) / 4 * HUNDRED
        elif self.scale == DAYS:
            p = HUNDRED * (1 - value / Decimal(settings.get(ZERO_DAYS.key)))
        elif self.scale == PENALTY:
            p = HUNDRED - Decimal(settings.get(COMPLAINT_PENALTY.key)) * value
        else:
            p = value
        return _q(min(HUNDRED, max(Decimal(0), p)))


def _q(v) -> Decimal:
    return Decimal(v).quantize(TWO, ROUND_HALF_UP)


def register(app: Flask, indicator: Indicator) -> None:
    """Give the app a scorecard indicator (and its weight setting)."""
    app.extensions.setdefault(EXTENSION, {})[indicator.key] = indicator
    settings.add(app, indicator.weight)


def add_indicator(app: Flask, key: str, weight_setting: settings.SettingDef,
                  func: Callable[[dt.datetime, dt.datetime], dict[int, Decimal]], *, label=None,
                  scale: str = SCORE, unit: str = "", source="") -> None:
    """Add an indicator given per village/community: `func(start_utc, end_utc)` returns
    {community area id: value} for the period; a community absent from it has no data. A town's
    value is the population-weighted mean of its communities' values (those with data).

        scorecards.add_indicator(app, "assessment", W_ASSESSMENT, assessment_means_by_area,
                                 label=_l("Third-party assessment mean"))
    """
    def measure(fr: Frame) -> dict[int, Decimal]:
        values = func(fr.period.start, fr.period.end)
        if fr.level == AreaLevel.COMMUNITY:
            return {a: Decimal(v) for a, v in values.items() if a in fr.community_town and v is not None}
        sums: dict[int, list] = defaultdict(lambda: [Decimal(0), 0, Decimal(0), 0])
        for a, v in values.items():
            if v is None or a not in fr.community_town:
                continue
            s = sums[fr.community_town[a]]
            w = fr.community_population.get(a, 0)
            s[0] += Decimal(v) * w
            s[1] += w
            s[2] += Decimal(v)
            s[3] += 1
        return {t: (s[0] / s[1] if s[1] else s[2] / s[3]) for t, s in sums.items()}

    register(app, Indicator(key, label or key, weight_setting, measure, scale, unit, source))


def indicators() -> list[Indicator]:
    return list(current_app.extensions.get(EXTENSION, {}).values())


def _per(numerator: dict, fr: Frame, per: int) -> dict[int, Decimal]:
    out = {}
    for a, n in numerator.items():
        pop = fr.population(a)
        if pop > 0:
            out[a] = Decimal(n) * per / pop
    return out


def _delivered(fr: Frame):
    p = fr.period
    return and_(ServiceSession.state.in_(performance.DELIVERED_STATES), ServiceSession.scheduled_at >= p.start,
                ServiceSession.scheduled_at < p.end)


def _session_counts(fr: Frame) -> dict[int, list]:
    """Per area: delivered sessions and their attendance (one statement, cached on the frame)."""
    cached = getattr(fr, "_sessions", None)
    if cached is None:
        rows = db.session.execute(
            select(Venue.area_id, func.count(ServiceSession.id), func.coalesce(func.sum(ServiceSession.attendance), 0))
            .join(Venue, Venue.id == ServiceSession.venue_id).where(_delivered(fr)).group_by(Venue.area_id)).all()
        cached = fr.roll((a, int(n), int(att)) for a, n, att in rows)
        fr._sessions = cached
    return cached


def facility(fr: Frame) -> dict[int, Decimal]:
    """建有率: the share of villages/communities with an open comprehensive culture room (a
    community cultural room or comprehensive cultural centre in use, in the community)."""
    with_room = set(db.session.scalars(select(Venue.area_id).where(
        Venue.active.is_(True), Venue.kind.in_(FACILITY_KINDS)).distinct()))
    counts: dict[int, list] = defaultdict(lambda: [0, 0])
    for c, town in fr.community_town.items():
        owner = c if fr.level == AreaLevel.COMMUNITY else town
        counts[owner][0] += 1
        counts[owner][1] += c in with_room
    return {a: HUNDRED * Decimal(h) / n for a, (n, h) in counts.items() if n}


def reach(fr: Frame) -> dict[int, Decimal]:
    """The share of residents within the walk of a venue with sessions in the 90 days to the
    period's end (evaluation.coverage), population-weighted."""
    measured = coverage.community_reach(fr.until)
    sums: dict[int, list] = defaultdict(lambda: [0, 0])
    for c, (pop, covered) in measured.items():
        owner = c if fr.level == AreaLevel.COMMUNITY else fr.community_town.get(c)
        if owner is None:
            continue
        sums[owner][0] += pop
        sums[owner][1] += pop if covered else 0
    return {a: HUNDRED * Decimal(cov) / pop for a, (pop, cov) in sums.items() if pop > 0}


def sessions_per_1000(fr: Frame) -> dict[int, Decimal]:
    return _per({a: v[0] for a, v in _session_counts(fr).items()}, fr, 1000)


def attendance_per_1000(fr: Frame) -> dict[int, Decimal]:
    return _per({a: v[1] for a, v in _session_counts(fr).items() if v[0]}, fr, 1000)


def _demand_rows(fr: Frame):
    cached = getattr(fr, "_demand", None)
    if cached is None:
        p = fr.period
        cached = db.session.execute(select(DemandRequest.community_id, DemandRequest.status, DemandRequest.created_at,
                                           DemandRequest.decided_at).where(
            DemandRequest.status.in_([DemandStatus.FULFILLED, DemandStatus.DECLINED]),
            DemandRequest.decided_at >= p.start, DemandRequest.decided_at < p.end)).all()
        fr._demand = cached
    return cached


def fulfilment(fr: Frame) -> dict[int, Decimal]:
    """Of the requests (点单) decided in the period, the share fulfilled (not declined)."""
    counts = fr.roll((c, 1, int(s == DemandStatus.FULFILLED)) for c, s, _a, _b in _demand_rows(fr))
    return {a: HUNDRED * Decimal(f) / n for a, (n, f) in counts.items() if n}


def fulfilment_days(fr: Frame) -> dict[int, Decimal]:
    """The median days from request to fulfilment, of the requests fulfilled in the period."""
    days: dict[int, list] = defaultdict(list)
    for c, s, created, decided in _demand_rows(fr):
        owner = fr.owner(c)
        if owner is not None and s == DemandStatus.FULFILLED:
            days[owner].append(Decimal((decided - created).total_seconds()) / 86400)
    return {a: Decimal(statistics.median(d)) for a, d in days.items()}


def satisfaction(fr: Frame) -> dict[int, Decimal]:
    """The Bayesian mean of the counted ratings given in the period, as in the performance model:
    S = (C·m + Σ stars) ÷ (C + n), m the district's mean of the period (the model's default prior
    when the district has none), C the model's prior weight; without decay inside a period."""
    p = fr.period
    rows = db.session.execute(
        select(Venue.area_id, func.count(Rating.id), func.sum(performance._stars()))
        .join(ServiceSession, ServiceSession.id == Rating.session_id).join(Venue, Venue.id == ServiceSession.venue_id)
        .where(Rating.status == RatingStatus.COUNTED, Rating.created_at >= p.start, Rating.created_at < p.end)
        .group_by(Venue.area_id)).all()
    total_n = sum(int(n) for _a, n, _s in rows)
    total_s = sum(float(s or 0) for _a, _n, s in rows)
    params = performance.Parameters.current()
    m = Decimal(repr(total_s / total_n)) if total_n else params.default_prior
    c = Decimal(params.prior_weight)
    rolled = fr.roll((a, int(n), Decimal(repr(float(s or 0)))) for a, n, s in rows)
    return {a: (c * m + s) / (c + n) for a, (n, s) in rolled.items() if n}


def complaints(fr: Frame) -> dict[int, Decimal]:
    """Upheld complaints about the period's delivered sessions, per 100 of them."""
    rows = db.session.execute(
        select(Venue.area_id, func.count(Complaint.id))
        .join(ServiceSession, ServiceSession.id == Complaint.session_id)
        .join(Venue, Venue.id == ServiceSession.venue_id)
        .where(_delivered(fr), Complaint.status == ComplaintStatus.UPHELD).group_by(Venue.area_id)).all()
    upheld = fr.roll((a, int(n)) for a, n in rows)
    return {a: HUNDRED * Decimal(upheld.get(a, [0])[0]) / v[0] for a, v in _session_counts(fr).items() if v[0]}


def special_groups(fr: Frame) -> dict[int, Decimal]:
    """The share of delivered sessions whose catalog item is meant for older people, minors or
    people with disabilities."""
    rows = db.session.execute(
        select(Venue.area_id, ServiceSession.item_id, func.count(ServiceSession.id))
        .join(Venue, Venue.id == ServiceSession.venue_id).where(_delivered(fr))
        .group_by(Venue.area_id, ServiceSession.item_id)).all()
    groups = dict(db.session.execute(select(Item.id, Item.target_groups).where(
        Item.id.in_({i for _a, i, _n in rows}))).all()) if rows else {}
    wanted = {g.value for g in SPECIAL_GROUPS}
    counts = fr.roll((a, int(n), int(n) if wanted & set(groups.get(i) or []) else 0) for a, i, n in rows)
    return {a: HUNDRED * Decimal(s) / n for a, (n, s) in counts.items() if n}


def spending(fr: Frame) -> dict[int, Decimal]:
    """Yuan awarded per resident: live awards published in the period, attributed where the
    services are bought for (see _spend_rows); the budget per resident is shown beside it."""
    return _per({a: v[0] for a, v in _spend_rows(fr).items()}, fr, 1)


def _spend_rows(fr: Frame) -> dict[int, list]:
    """Per area: [awarded, budgeted] of the live awards published in the period.

    The one rule of where spending counts: an award's amount (and its project's budget) is shared
    among the areas of the venues on its project's lines, in proportion to each line's ceiling total
    (quantity × unit ceiling) — so a district-wide project counts for the towns and communities it
    is delivered in, at the award, before any session; the part bought for a venue of the district
    itself counts for no town. A project without lines counts for its own area."""
    cached = getattr(fr, "_spend", None)
    if cached is None:
        p = fr.period
        live = and_(Award.status != AwardStatus.VOID, Award.published_at >= p.start, Award.published_at < p.end)
        awards = db.session.execute(
            select(Award.id, PurchaseProject.area_id, Award.amount, PurchaseProject.budget)
            .join(PurchaseProject, PurchaseProject.id == Award.project_id).where(live)).all()
        lines = db.session.execute(
            select(Award.id, Venue.area_id, func.sum(ProjectLine.quantity * ProjectLine.unit_ceiling))
            .join(ProjectLine, ProjectLine.project_id == Award.project_id)
            .join(Venue, Venue.id == ProjectLine.venue_id).where(live).group_by(Award.id, Venue.area_id)).all()
        where: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for award_id, area_id, ceiling in lines:
            where[award_id].append((area_id, Decimal(str(ceiling or 0))))
        parts = []
        for award_id, own_area, amount, budget in awards:
            amount, budget = Decimal(str(amount or 0)), Decimal(str(budget or 0))
            shares = where.get(award_id) or [(own_area, Decimal(1))]
            total = sum(c for _a, c in shares)
            if total <= 0:
                shares, total = [(own_area, Decimal(1))], Decimal(1)
            parts.extend((a, amount * c / total, budget * c / total) for a, c in shares)
        cached = fr.roll(parts)
        fr._spend = cached
    return cached


BUILT_IN = (
    Indicator("facility", _l("Facility coverage"), W_FACILITY, facility, SHARE, "%",
              _l("villages/communities with a community cultural room or cultural centre in use")),
    Indicator("reach", _l("15-minute reach"), W_REACH, reach, SHARE, "%",
              _l("residents within a 15-minute walk of a venue with sessions in the last 90 days")),
    Indicator("sessions", _l("Sessions per 1,000 residents"), W_SESSIONS, sessions_per_1000, RELATIVE, "",
              _l("delivered sessions in the period")),
    Indicator("attendance", _l("Attendance per 1,000 residents"), W_ATTENDANCE, attendance_per_1000, RELATIVE, "",
              _l("reported attendance of the delivered sessions")),
    Indicator("fulfilment", _l("Demand fulfilment rate"), W_FULFILMENT, fulfilment, SHARE, "%",
              _l("requests decided in the period that were fulfilled")),
    Indicator("fulfilment_days", _l("Median days to fulfilment"), W_DAYS, fulfilment_days, DAYS, "",
              _l("requests fulfilled in the period, from request to fulfilment")),
    Indicator("satisfaction", _l("Satisfaction (Bayesian mean, 1–5)"), W_SATISFACTION, satisfaction, STARS, "",
              _l("counted resident ratings given in the period")),
    Indicator("complaints", _l("Upheld complaints per 100 sessions"), W_COMPLAINTS, complaints, PENALTY, "",
              _l("upheld complaints about the period's delivered sessions")),
    Indicator("special_groups", _l("Sessions for special groups"), W_GROUPS, special_groups, SHARE, "%",
              _l("delivered sessions of items for older people, minors or people with disabilities")),
    Indicator("spending", _l("Spending per resident (yuan)"), W_SPENDING, spending, RELATIVE, "",
              _l("awards published in the period, shared among the areas of the venues they buy for")),
)


def init_app(app: Flask) -> None:
    for indicator in BUILT_IN:
        register(app, indicator)
    settings.add(app, *SETTINGS)


# --- the cards -------------------------------------------------------------------------------------

@dataclass
class Mark:
    key: str
    label: object
    value: Decimal | None
    points: Decimal | None
    weight: int  # the published weight
    share: Decimal  # the weight it carries in this card's index (after redistribution), in %
    unit: str = ""

    @property
    def has_data(self) -> bool:
        return self.value is not None


@dataclass
class Card:
    area: Area | AreaRef
    population: int
    marks: list[Mark]
    index: Decimal | None = None
    rank: int | None = None
    budget_per_resident: Decimal | None = None

    def mark(self, key: str) -> Mark | None:
        return next((m for m in self.marks if m.key == key), None)


@dataclass
class Board:
    period: Period
    level: AreaLevel
    weights: dict[str, int]
    cards: list[Card] = field(default_factory=list)

    def card(self, area_id: int) -> Card | None:
        return next((c for c in self.cards if c.area.id == area_id), None)


def compute(period: Period, level: AreaLevel, now: dt.datetime | None = None) -> Board:
    """The cards of every area of the level in the district, ranked."""
    fr = frame(period, level, now)
    inds = indicators()
    weights = {i.key: int(settings.get(i.weight.key)) for i in inds}
    values = {i.key: i.measure(fr) for i in inds}
    peers = {k: list(v.values()) for k, v in values.items()}
    spend = _spend_rows(fr) if "spending" in values else {}
    board = Board(period, level, weights)
    for area in fr.areas:
        raw = []
        for i in inds:
            v = values[i.key].get(area.id)
            raw.append((i, v, i.points(v, peers[i.key]) if v is not None else None))
        total_w = sum(weights[i.key] for i, v, _p in raw if v is not None)
        marks, index = [], None
        if total_w > 0:
            index = _q(sum(weights[i.key] * p for i, v, p in raw if v is not None) / total_w)
        for i, v, p in raw:
            share = _q(HUNDRED * weights[i.key] / total_w) if v is not None and total_w else Decimal(0)
            marks.append(Mark(i.key, i.label, _q(v) if v is not None else None, p, weights[i.key], share, i.unit))
        pop = fr.population(area.id)
        budget = _q(spend[area.id][1] / pop) if area.id in spend and pop else None
        board.cards.append(Card(area, pop, marks, index, None, budget))
    ranked = sorted((c for c in board.cards if c.index is not None), key=lambda c: (-c.index, c.area.code))
    rank, last = 0, None
    for n, c in enumerate(ranked, 1):
        if c.index != last:
            rank, last = n, c.index
        c.rank = rank
    board.cards.sort(key=lambda c: (c.rank is None, c.rank or 0, c.area.code))
    return board


# --- the cards as the pages read them: reused while nothing they depend on has changed ----------------

@dataclass(frozen=True)
class AreaRef:
    """What a card shows of its area, without the ORM (a cached card outlives its session)."""

    id: int
    code: str
    name: str
    level: AreaLevel
    parent_id: int | None

    @property
    def town_id(self) -> int | None:
        return self.id if self.level == AreaLevel.TOWN else self.parent_id


def _plain(b: Board) -> tuple:
    """The board as plain data, free of the reader's language (labels are put back on reading)."""
    return (b.period, b.level, b.weights, [
        ((c.area.id, c.area.code, c.area.name, c.area.level, c.area.parent_id), c.population, c.index, c.rank,
         c.budget_per_resident, [(m.key, m.value, m.points, m.weight, m.share, m.unit) for m in c.marks])
        for c in b.cards])


def _card(plain, labels: dict) -> Card:
    area, population, index, rank, budget, marks = plain
    return Card(AreaRef(*area), population, [Mark(k, labels.get(k, k), v, p, w, s, u) for k, v, p, w, s, u in marks],
                index, rank, budget)


def _unplain(data: tuple) -> Board:
    period, level, weights, cards = data
    labels = {i.key: i.label for i in indicators()}
    return Board(period, level, dict(weights), [_card(c, labels) for c in cards])


def _remembered(period: Period, level: AreaLevel, now: dt.datetime | None, version: int | None) -> tuple:
    version = audit.high_water() if version is None else version
    key = ":".join(("scorecards", MODEL_VERSION, level.value, period.label, str(version),
                    ",".join(i.key for i in indicators())))
    return cache.remember(key, cache.seconds(), lambda: _plain(compute(period, level, now)))[0]


def board(period: Period, level: AreaLevel, now: dt.datetime | None = None, version: int | None = None) -> Board:
    """compute()'s cards for the pages and the API, reused until an audited write commits (the key
    holds the audit log's high-water mark, so an edit to the inputs shows at once) and for at most
    the published cache time (dashboards.cache_seconds: a period not yet over moves with the clock,
    the reach's 90 days). Every input the cards read is written through audited operations.
    `version`: the high-water mark already read in this request (audit.high_water())."""
    return _unplain(_remembered(period, level, now, version))


def peers(period: Period, level: AreaLevel, now: dt.datetime | None = None, version: int | None = None) -> int:
    """How many areas of the level the cards rank."""
    return len(_remembered(period, level, now, version)[3])


def trend(period: Period, level: AreaLevel, area_id: int, now: dt.datetime | None = None,
          length: int | None = None, version: int | None = None) -> list[tuple[str, Card | None]]:
    """The area's card in the `length` periods of the same kind ending with this one, oldest first."""
    length = length or TREND_LENGTH[period_kind(period.label)]
    version = audit.high_water() if version is None else version
    labels = {i.key: i.label for i in indicators()}
    out, p = [], period
    for _n in range(length):
        # Only this area's card is rebuilt from the cached board (a town has hundreds of communities).
        found = next((c for c in _remembered(p, level, now, version)[3] if c[0][0] == area_id), None)
        out.append((p.label, _card(found, labels) if found else None))
        p = previous_period(p)
    return out[::-1]


@dataclass
class Move:
    key: str
    label: object
    before: Decimal | None
    after: Decimal | None
    effect: Decimal  # index points this indicator added (or took away) between the periods


def what_moved(before: Card | None, after: Card) -> list[Move]:
    """Each indicator's contribution (its share of the weight × points) now against the previous
    period, largest change first."""
    if before is None:
        return []
    out = []
    for m in after.marks:
        b = before.mark(m.key)

        def contribution(mark):
            return (mark.share * mark.points / HUNDRED) if mark and mark.points is not None else Decimal(0)

        effect = _q(contribution(m) - contribution(b))
        if effect or (b and b.value != m.value):
            out.append(Move(m.key, m.label, b.value if b else None, m.value, effect))
    return sorted(out, key=lambda mv: -abs(mv.effect))
