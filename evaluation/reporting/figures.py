"""The district's figures: the one home of every number the monthly briefing (简报) and the
officer dashboard show, for a period and a jurisdiction (the district, or one town/street).

Everything is aggregated by the database in a fixed number of statements, whatever the number
of sessions or ratings; Python only walks the (small) lists of areas, states and awards.

What counts:
- a session is *delivered* when the provider reported it (reported, accepted or disputed —
  `performance.DELIVERED_STATES`), and belongs to the period of its planned time;
- satisfaction is the mean stars (content, organisation, venue) of the *counted* ratings given
  in the period, as in the performance score (flagged and rejected ratings never count);
- a community is *reached* when a session was delivered at one of its venues; the gaps in the
  15-minute service circle are the communities with none in the last 90 days;
- spending is the amount of the live (not void) awards published in the period, against the
  budgets of their projects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, literal, or_, select, true, union_all
from sqlalchemy.orm import selectinload

from catalog.demand.models import DemandRequest, DemandStatus, DemandSupport
from core import charts, periods
from core.areas.models import Area, AreaLevel, Venue
from core.db import db, utcnow
from core.i18n import LOCAL_TZ
from core.money import CENT
from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.performance import operations as performance
from marketplace.awards.models import Award, AwardStatus, Challenge, ChallengeStatus
from marketplace.projects.models import ProjectState, PurchaseProject
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession, SessionState

REACH_DAYS = 90  # a community with no delivered session in this many days is a gap
TREND_MONTHS = 12
AWARDS_SHOWN = 100  # the briefing lists at most this many awards; the total is always given
# Projects whose bids are opened but not yet awarded: the review is the officer's next step.
REVIEW_PENDING = (ProjectState.OPENED, ProjectState.UNDER_REVIEW)


# --- periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, from local (Asia/Shanghai) calendar boundaries."""

    start: dt.datetime
    end: dt.datetime
    label: str  # "2026-11"


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def month_period(year: int, month: int) -> Period:
    return Period(periods.month_start(periods.month_key(year, month)),
                  periods.month_start(periods.month_key(*_next(year, month))), periods.month_key(year, month))


def trend_periods(year: int, month: int, months: int = TREND_MONTHS) -> list[Period]:
    """The `months` calendar months ending with the given one, oldest first."""
    out = []
    for _month in range(months):
        out.append(month_period(year, month))
        year, month = _previous(year, month)
    return out[::-1]


# --- jurisdiction ------------------------------------------------------------------------------

def is_district(scope: Area | None) -> bool:
    return scope is None or scope.level == AreaLevel.DISTRICT


def in_scope(area_col, scope: Area | None):
    """SQL condition: the area column lies in the scope (a town covers itself and its communities)."""
    if is_district(scope):
        return true()
    if scope.level == AreaLevel.COMMUNITY:
        return area_col == scope.id
    return area_col.in_(select(Area.id).where(or_(Area.id == scope.id, Area.parent_id == scope.id)))


def _sessions_in(scope):
    """Condition on ServiceSession: its venue lies in the scope."""
    if is_district(scope):
        return true()
    return ServiceSession.venue_id.in_(select(Venue.id).where(in_scope(Venue.area_id, scope)))


def _communities_in(scope):
    if is_district(scope):
        return Area.level == AreaLevel.COMMUNITY
    if scope.level == AreaLevel.COMMUNITY:
        return Area.id == scope.id
    return and_(Area.level == AreaLevel.COMMUNITY, Area.parent_id == scope.id)


def _money(v) -> Decimal:
    return Decimal(str(v or 0)).quantize(CENT)


def _count(stmt):
    return select(func.count()).select_from(stmt.subquery()).scalar_subquery()


# --- the figures ----------------------------------------------------------------------------

@dataclass
class TownCoverage:
    town_id: int | None
    name: str
    communities: int = 0
    reached: int = 0  # in the period
    reached_recent: int = 0  # in the last REACH_DAYS days
    gaps: list[str] = field(default_factory=list)  # community names without a session in REACH_DAYS

    @property
    def share(self) -> float:
        return 100.0 * self.reached_recent / self.communities if self.communities else 0.0


@dataclass
class Coverage:
    towns: list[TownCoverage]
    communities: int = 0
    reached: int = 0
    reached_recent: int = 0
    recent_since: dt.datetime | None = None

    @property
    def gaps(self) -> int:
        return self.communities - self.reached_recent

    @property
    def share(self) -> float:
        return 100.0 * self.reached_recent / self.communities if self.communities else 0.0


@dataclass
class TrendPoint:
    label: str
    satisfaction: Decimal | None
    ratings: int


@dataclass
class AwardRow:
    award_id: int
    project_id: int
    project_title: str
    provider_name: str
    amount: Decimal
    budget: Decimal
    published_at: dt.datetime


@dataclass
class Figures:
    period: Period
    scope: Area | None
    projects_published: int = 0
    projects_awarded: int = 0
    awarded_amount: Decimal = Decimal(0)
    awarded_budget: Decimal = Decimal(0)
    year_awarded_amount: Decimal = Decimal(0)
    year_awarded_budget: Decimal = Decimal(0)
    sessions_planned: int = 0
    sessions_delivered: int = 0
    sessions_accepted: int = 0
    sessions_disputed: int = 0
    sessions_missed: int = 0
    sessions_awaiting: int = 0
    attendance: int = 0
    planned_audience: int = 0
    ratings: int = 0
    satisfaction: Decimal | None = None
    demand_requests: int = 0
    demand_supports: int = 0
    demand_fulfilled: int = 0
    demand_open: int = 0
    coverage: Coverage | None = None
    trend: list[TrendPoint] = field(default_factory=list)
    projects_by_state: list[tuple[ProjectState, int]] = field(default_factory=list)
    decisions: list[AdjustmentDecision] = field(default_factory=list)
    awards: list[AwardRow] = field(default_factory=list)
    awards_total: int = 0

    @property
    def savings(self) -> Decimal:
        return self.awarded_budget - self.awarded_amount

    @property
    def savings_rate(self) -> float | None:
        return float(100 * self.savings / self.awarded_budget) if self.awarded_budget else None

    @property
    def delivery_rate(self) -> float | None:
        due = self.sessions_delivered + self.sessions_missed
        return 100.0 * self.sessions_delivered / due if due else None

    @property
    def fulfilment_rate(self) -> float | None:
        return 100.0 * self.demand_fulfilled / self.demand_requests if self.demand_requests else None


def procurement(f: Figures, year_start: dt.datetime):
    """Projects published and awarded, awarded amounts against budgets: one statement."""
    p, scope = f.period, f.scope
    in_area = in_scope(PurchaseProject.area_id, scope)
    published = _count(select(PurchaseProject.id).where(
        in_area, PurchaseProject.published_at >= p.start, PurchaseProject.published_at < p.end))

    def awards(since):
        return (select(func.count(Award.id), func.coalesce(func.sum(Award.amount), 0),
                       func.coalesce(func.sum(PurchaseProject.budget), 0))
                .join(PurchaseProject, PurchaseProject.id == Award.project_id)
                .where(in_area, Award.status != AwardStatus.VOID, Award.published_at >= since,
                       Award.published_at < p.end))

    month = awards(p.start).subquery()
    year = awards(year_start).subquery()
    row = db.session.execute(select(published, *month.c, *year.c).select_from(month.join(year, true()))).one()
    f.projects_published = int(row[0] or 0)
    f.projects_awarded, f.awarded_amount, f.awarded_budget = int(row[1] or 0), _money(row[2]), _money(row[3])
    f.year_awarded_amount, f.year_awarded_budget = _money(row[5]), _money(row[6])


def projects_by_state(scope: Area | None) -> list[tuple[ProjectState, int]]:
    rows = dict(db.session.execute(select(PurchaseProject.state, func.count()).where(
        in_scope(PurchaseProject.area_id, scope)).group_by(PurchaseProject.state)).all())
    return [(s, rows[s]) for s in ProjectState if rows.get(s)]


def deliveries(f: Figures):
    """Sessions planned in the period by what became of them, attendance: one statement."""
    p = f.period
    state = ServiceSession.state

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    delivered = state.in_(performance.DELIVERED_STATES)
    row = db.session.execute(select(
        func.count(), n(delivered), n(state == SessionState.CONFIRMED), n(state == SessionState.DISPUTED),
        n(state == SessionState.MISSED), n(state == SessionState.REPORTED),
        func.coalesce(func.sum(case((delivered, ServiceSession.attendance), else_=0)), 0),
        func.coalesce(func.sum(ServiceSession.planned_audience), 0),
    ).where(_sessions_in(f.scope), ServiceSession.scheduled_at >= p.start, ServiceSession.scheduled_at < p.end)).one()
    (f.sessions_planned, f.sessions_delivered, f.sessions_accepted, f.sessions_disputed, f.sessions_missed,
     f.sessions_awaiting, f.attendance, f.planned_audience) = (int(v or 0) for v in row)


def satisfaction_trend(scope: Area | None, periods: list[Period]) -> list[TrendPoint]:
    """Mean stars of the counted ratings given in each period: one statement of one range per
    period (local month boundaries on every database). A range each, rather than one scan bucketed
    by CASE, lets every month be read straight from the (status, created_at, stars) index: about
    four times less work over a year of ratings."""
    stars = Rating.content + Rating.organisation + Rating.venue  # whole numbers: the sums are exact

    def month(i: int, q: Period):
        stmt = select(literal(i), func.coalesce(func.sum(stars), 0), func.count()).where(
            Rating.status == RatingStatus.COUNTED, Rating.created_at >= q.start, Rating.created_at < q.end)
        if not is_district(scope):
            stmt = stmt.where(Rating.session_id.in_(select(ServiceSession.id).where(_sessions_in(scope))))
        return stmt

    found = {b: (total, n) for b, total, n in db.session.execute(union_all(*(month(i, q) for i, q in
                                                                          enumerate(periods))))}
    out = []
    for i, q in enumerate(periods):
        total, n = found.get(i, (0, 0))
        mean = (Decimal(int(total)) / (3 * int(n))).quantize(CENT) if n else None
        out.append(TrendPoint(q.label, mean, int(n)))
    return out


def demand(f: Figures):
    """Requests made and supports given in the period, requests fulfilled in it, open ones now."""
    p = f.period
    where = in_scope(DemandRequest.community_id, f.scope)
    made = _count(select(DemandRequest.id).where(where, DemandRequest.created_at >= p.start,
                                                 DemandRequest.created_at < p.end))
    supports = _count(select(DemandSupport.id).join(DemandRequest, DemandRequest.id == DemandSupport.request_id)
                      .where(where, DemandSupport.created_at >= p.start, DemandSupport.created_at < p.end))
    fulfilled = _count(select(DemandRequest.id).where(where, DemandRequest.status == DemandStatus.FULFILLED,
                                                      DemandRequest.decided_at >= p.start,
                                                      DemandRequest.decided_at < p.end))
    still_open = _count(select(DemandRequest.id).where(where, DemandRequest.status.in_(
        [DemandStatus.OPEN, DemandStatus.PLANNED]), DemandRequest.created_at < p.end))
    row = db.session.execute(select(made, supports, fulfilled, still_open)).one()
    f.demand_requests, f.demand_supports, f.demand_fulfilled, f.demand_open = (int(v or 0) for v in row)


def coverage(scope: Area | None, period: Period, now: dt.datetime) -> Coverage:
    """Communities reached in the period and in the last REACH_DAYS days (to the period's end, or
    now if sooner), per town/street, with the gap communities: one statement."""
    recent_end = min(period.end, now)
    recent_start = recent_end - dt.timedelta(days=REACH_DAYS)
    since = min(period.start, recent_start)
    t = ServiceSession.scheduled_at
    reach = (select(Venue.area_id.label("area_id"),
                    func.max(case((and_(t >= period.start, t < period.end), 1), else_=0)).label("in_period"),
                    func.max(case((and_(t >= recent_start, t < recent_end), 1), else_=0)).label("recent"))
             .join(Venue, Venue.id == ServiceSession.venue_id)
             .where(ServiceSession.state.in_(performance.DELIVERED_STATES), t >= since,
                    t < max(period.end, recent_end))
             .group_by(Venue.area_id)).subquery()
    town = db.aliased(Area)
    rows = db.session.execute(
        select(Area.name, town.id, town.name, reach.c.in_period, reach.c.recent)
        .join(town, town.id == Area.parent_id)
        .outerjoin(reach, reach.c.area_id == Area.id)
        .where(_communities_in(scope))
        .order_by(town.code, Area.code)).all()
    towns: dict[int, TownCoverage] = {}
    for name, town_id, town_name, in_period, recent in rows:
        tc = towns.setdefault(town_id, TownCoverage(town_id, town_name))
        tc.communities += 1
        tc.reached += bool(in_period)
        tc.reached_recent += bool(recent)
        if not recent:
            tc.gaps.append(name)
    listed = list(towns.values())
    return Coverage(listed, sum(t.communities for t in listed), sum(t.reached for t in listed),
                    sum(t.reached_recent for t in listed), recent_start)


def month_decisions(period: Period) -> list[AdjustmentDecision]:
    """Adjustment decisions proposed or decided in the period (they are the district's: the rules
    act on providers and catalog items, not on areas)."""
    return list(db.session.scalars(
        select(AdjustmentDecision)
        .where(or_(and_(AdjustmentDecision.proposed_at >= period.start, AdjustmentDecision.proposed_at < period.end),
                   and_(AdjustmentDecision.decided_at >= period.start, AdjustmentDecision.decided_at < period.end)))
        .options(selectinload(AdjustmentDecision.provider), selectinload(AdjustmentDecision.item))
        .order_by(AdjustmentDecision.proposed_at, AdjustmentDecision.id)))


def month_awards(scope: Area | None, period: Period, limit: int = AWARDS_SHOWN) -> tuple[list[AwardRow], int]:
    """The live awards published in the period (at most `limit`) and how many there are."""
    where = and_(in_scope(PurchaseProject.area_id, scope), Award.status != AwardStatus.VOID,
                 Award.published_at >= period.start, Award.published_at < period.end)
    total = func.count().over()
    rows = db.session.execute(
        select(Award.id, PurchaseProject.id, PurchaseProject.title, Provider.name, Award.amount,
               PurchaseProject.budget, Award.published_at, total)
        .join(PurchaseProject, PurchaseProject.id == Award.project_id)
        .join(Provider, Provider.id == Award.provider_id)
        .where(where).order_by(Award.published_at, Award.id).limit(limit)).all()
    return [AwardRow(*r[:7]) for r in rows], (rows[0][7] if rows else 0)


def compute(period: Period, scope: Area | None = None, now: dt.datetime | None = None,
            trend_months: int = TREND_MONTHS, with_lists: bool = True) -> Figures:
    """Every figure of the period in the scope (None: the whole district)."""
    now = now or utcnow()
    f = Figures(period=period, scope=scope)
    local = period.start.astimezone(LOCAL_TZ)
    procurement(f, periods.month_start(periods.month_key(local.year, 1)))
    deliveries(f)
    f.trend = satisfaction_trend(scope, trend_periods(local.year, local.month, trend_months))
    f.ratings, f.satisfaction = f.trend[-1].ratings, f.trend[-1].satisfaction
    demand(f)
    f.coverage = coverage(scope, period, now)
    f.projects_by_state = projects_by_state(scope)
    if with_lists:
        f.decisions = month_decisions(period)
        f.awards, f.awards_total = month_awards(scope, period)
    return f


# --- the officer's pending work ---------------------------------------------------------------

@dataclass
class Pending:
    reviews: int = 0  # projects opened and not yet awarded
    awaiting_acceptance: int = 0  # sessions reported, not yet accepted or disputed
    open_challenges: int = 0
    proposed_decisions: int = 0  # the district's officers only
    flagged_ratings: int = 0


def pending(scope: Area | None) -> Pending:
    """What waits for an officer of the scope: one statement of counts."""
    in_area = in_scope(PurchaseProject.area_id, scope)
    reviews = _count(select(PurchaseProject.id).where(in_area, PurchaseProject.state.in_(REVIEW_PENDING)))
    awaiting = _count(select(ServiceSession.id).where(_sessions_in(scope),
                                                     ServiceSession.state == SessionState.REPORTED))
    challenges = _count(select(Challenge.id).join(PurchaseProject, PurchaseProject.id == Challenge.project_id)
                        .where(in_area, Challenge.status == ChallengeStatus.PENDING))
    # Adjustment decisions are the district's to confirm (adjustment.may_decide): a town sees none.
    decisions = _count(select(AdjustmentDecision.id).where(AdjustmentDecision.status == DecisionStatus.PROPOSED,
                                                           true() if is_district(scope) else false()))
    flagged = select(Rating.id).where(Rating.status == RatingStatus.FLAGGED)
    if not is_district(scope):
        flagged = flagged.where(Rating.session_id.in_(select(ServiceSession.id).where(_sessions_in(scope))))
    row = db.session.execute(select(reviews, awaiting, challenges, decisions, _count(flagged))).one()
    return Pending(*(int(v or 0) for v in row))


# --- charts (server-rendered SVG; the dashboard and the briefing draw the same three) -------------

def charts_of(f: Figures, *, width: int, bar_height: int, coverage_bar_height: int, font_size: int) -> dict:
    """Projects by state, the satisfaction trend and coverage per town/street, sized by the caller."""
    return {
        "states": charts.bar_chart([str(s.label) for s, _n in f.projects_by_state],
                                   [n for _s, n in f.projects_by_state], title=_("Projects by state"),
                                   width=width, bar_height=bar_height, empty_text=_("No projects")),
        "trend": charts.line_chart([p.label[2:] for p in f.trend],
                                   {_("Satisfaction"): [p.satisfaction for p in f.trend]},
                                   title=_("Satisfaction by month (counted ratings, 1–5)"), y_min=1, y_max=5,
                                   width=width, height=240, empty_text=_("No ratings in these months")),
        "coverage": charts.bar_chart([t.name for t in f.coverage.towns],
                                     [round(t.share, 1) for t in f.coverage.towns],
                                     title=_("Communities reached in the last %(n)d days, per town/street",
                                             n=REACH_DAYS),
                                     unit="%", width=width, bar_height=coverage_bar_height, font_size=font_size,
                                     empty_text=_("No communities")),
    }
