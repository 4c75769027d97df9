"""The performance model: each provider's score (0–100) and grade, and each item's satisfaction.

Model "perf-1" (published on /performance/model):

- Satisfaction (1–5): a rating's value is the mean of its three dimensions; each counted rating
  weighs w = exp(−ln 2 · age / half-life) (half-life 180 days: a rating half a year old counts
  half). Bayesian average with the district's mean m as prior, prior weight C = 20:
      S = (C·m + Σ w·value) / (C + Σ w)
  so a provider with few ratings starts at the district mean, never at zero. Points: (S − 1) / 4 × 100.
- Acceptance (0–100): the decayed mean of the officers' acceptance scores (a disputed session
  counts 0; a report accepted by default, without a score, is left out).
- Punctuality (0–100): the decayed share of due sessions (reported or missed) reported on time.
- Complaints: upheld complaints per 100 delivered sessions; points = max(0, 100 − penalty × rate).
- Third-party assessment (0–100): the decayed mean of the scores of recorded assessment visits
  (decayed by the session's planned time). A provider with no recorded visit has the component left
  out: its weight counts neither in the numerator nor in the sum of weights.
- A component without any data of the provider takes the district's figure (100 if the district
  has none either). Score = Σ weight × points / Σ weights, rounded to 0.01. Grades: A ≥ 90,
  B ≥ 75, C ≥ 60, D < 60.

Sessions decay by their planned time, ratings by the time they were given. Everything is
aggregated in SQL (a handful of GROUP BY queries for all providers at once); Python then combines
one row per provider. Every computation is kept as a PerformanceSnapshot.

Exact at every event: each provider's aggregates are kept in PerformanceFigures, rewritten by every
event that changes them (update_provider), and the district's figures are the SUM of those rows
at that moment. So the score written after a rating, decision, report or upheld complaint is the
score a full recompute at the same moment gives. The full recompute is also the nightly check of
that promise (check_and_recompute).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from catalog.items.models import Item
from core import audit, settings
from core.db import db, utcnow
from evaluation.assessment.models import AssessmentVisit, VisitStatus
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from evaluation.performance.models import PerformanceFigures, PerformanceRun, PerformanceSnapshot
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession, SessionState

MODEL_VERSION = "perf-1"

W_SATISFACTION = settings.define("performance.weight_satisfaction", 40,
                                 _l("Performance score: weight of resident satisfaction"), int, 0, 100)
W_ACCEPTANCE = settings.define("performance.weight_acceptance", 30,
                               _l("Performance score: weight of acceptance results"), int, 0, 100)
W_PUNCTUALITY = settings.define("performance.weight_punctuality", 15,
                                _l("Performance score: weight of on-time reporting"), int, 0, 100)
W_COMPLAINTS = settings.define("performance.weight_complaints", 15,
                               _l("Performance score: weight of upheld complaints"), int, 0, 100)
W_ASSESSMENT = settings.define("performance.weight_assessment", 10,
                               _l("Performance score: weight of third-party assessment"), int, 0, 100)
PRIOR_WEIGHT = settings.define("performance.prior_weight", 20,
                               _l("Satisfaction: weight of the district mean (in ratings)"), int, 0, 1000)
HALF_LIFE = settings.define("performance.half_life_days", 180,
                            _l("Satisfaction and delivery figures: half-life of the time decay (days)"), int, 1, 3650)
COMPLAINT_PENALTY = settings.define(
    "performance.complaint_penalty", Decimal("5"),
    _l("Points lost per upheld complaint per 100 delivered sessions"), Decimal, 0, 100)
DEFAULT_PRIOR = settings.define(
    "performance.default_prior_mean", Decimal("4.0"),
    _l("Satisfaction prior while the district has no ratings (1–5)"), Decimal, 1, 5)
SETTINGS = (W_SATISFACTION, W_ACCEPTANCE, W_PUNCTUALITY, W_COMPLAINTS, W_ASSESSMENT, PRIOR_WEIGHT, HALF_LIFE,
            COMPLAINT_PENALTY, DEFAULT_PRIOR)
ITEM_WINDOW_DAYS = 365

TRIGGER_LABELS = {
    "recompute": _l("full recomputation"),
    "rating": _l("a rating"),
    "report": _l("a session report"),
    "acceptance": _l("an acceptance decision"),
    "complaint": _l("an upheld complaint"),
    "assessment": _l("an assessment visit"),
    "overdue": _l("sessions recorded as missed or accepted by default"),
}
# The nightly check fails when an update at this moment would give a score further than this from
# the full recompute's.
CHECK_TOLERANCE = Decimal("0.01")
log = logging.getLogger(__name__)
GRADES = (("A", Decimal(90)), ("B", Decimal(75)), ("C", Decimal(60)), ("D", Decimal(0)))
LN2 = math.log(2)
SQLITE_UNIX_EPOCH_JD = 2440587.5
DUE_STATES = (SessionState.REPORTED, SessionState.CONFIRMED, SessionState.DISPUTED, SessionState.MISSED)
DELIVERED_STATES = (SessionState.REPORTED, SessionState.CONFIRMED, SessionState.DISPUTED)
CENT = Decimal("0.01")


def grade_for(score: Decimal) -> str:
    return next(g for g, floor in GRADES if score >= floor)


@dataclass(frozen=True)
class Parameters:
    weights: dict  # component → int
    prior_weight: int
    half_life_days: int
    complaint_penalty: Decimal
    default_prior: Decimal

    @classmethod
    def current(cls) -> Parameters:
        return cls(
            weights={"satisfaction": settings.get(W_SATISFACTION.key), "acceptance": settings.get(W_ACCEPTANCE.key),
                     "punctuality": settings.get(W_PUNCTUALITY.key), "complaints": settings.get(W_COMPLAINTS.key),
                     "assessment": settings.get(W_ASSESSMENT.key)},
            prior_weight=settings.get(PRIOR_WEIGHT.key), half_life_days=settings.get(HALF_LIFE.key),
            complaint_penalty=Decimal(settings.get(COMPLAINT_PENALTY.key)),
            default_prior=Decimal(settings.get(DEFAULT_PRIOR.key)))

    def as_dict(self) -> dict:
        return {"weights": self.weights, "prior_weight": self.prior_weight, "half_life_days": self.half_life_days,
                "complaint_penalty": str(self.complaint_penalty), "default_prior": str(self.default_prior)}


@dataclass
class Figures:
    """One provider's aggregates, as SQL returned them."""

    rating_count: int = 0
    rating_star_sum: float = 0.0  # undecayed Σ value: the district's mean is Σ over providers / Σ count
    rating_weight: float = 0.0
    rating_weighted_sum: float = 0.0
    acceptance_count: int = 0
    acceptance_weight: float = 0.0
    acceptance_weighted_sum: float = 0.0
    due_count: int = 0
    due_weight: float = 0.0
    on_time_count: int = 0
    on_time_weight: float = 0.0
    delivered_count: int = 0
    complaints_upheld: int = 0
    assessment_count: int = 0
    assessment_weight: float = 0.0
    assessment_weighted_sum: float = 0.0

    @property
    def has_history(self) -> bool:
        return self.rating_count > 0 or self.due_count > 0


@dataclass
class District:
    prior_mean: Decimal
    acceptance: Decimal | None
    punctuality: Decimal | None


@dataclass
class Result:
    figures: Figures
    prior_mean: Decimal
    satisfaction: Decimal
    acceptance: Decimal
    acceptance_from_district: bool
    punctuality: Decimal
    punctuality_from_district: bool
    complaints_per_100: Decimal
    points: dict = field(default_factory=dict)
    score: Decimal = Decimal(0)
    grade: str = "D"


# --- SQL: decay weights and aggregates ----------------------------------------------------------

def _epoch_days(col):
    """Days since 1970-01-01 of a stored UTC time, on either backend."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(col) - SQLITE_UNIX_EPOCH_JD
    return func.extract("epoch", col) / 86400.0


def _now_days(now: dt.datetime) -> float:
    return now.timestamp() / 86400.0


# PostgreSQL's exp() raises "underflow" below about −745 where SQLite returns 0, and a short
# half-life gets there within a few years: there the weight is 0 on both (SQLite needs no CASE).
MIN_EXPONENT = -700.0


def _exp(x):
    if db.session.get_bind().dialect.name == "sqlite":
        return func.exp(x)
    return case((x < MIN_EXPONENT, 0.0), else_=func.exp(x))


def decay(col, now: dt.datetime, half_life: int):
    """exp(−ln 2 · age in days / half-life), computed by the database."""
    age = literal(_now_days(now)) - _epoch_days(col)
    return _exp(literal(-LN2 / half_life) * age)


def _stars(model=Rating):
    return (model.content + model.organisation + model.venue) / 3.0


def aggregate(now: dt.datetime, params: Parameters, provider_ids=None) -> dict[int, Figures]:
    """Per-provider figures in four grouped queries (all providers, or the ones given)."""
    out: dict[int, Figures] = {}

    def scoped(stmt, col):
        return stmt.where(col.in_(list(provider_ids))) if provider_ids is not None else stmt

    def fig(pid) -> Figures:
        return out.setdefault(pid, Figures())

    w = decay(Rating.created_at, now, params.half_life_days)
    stmt = scoped(select(Rating.provider_id, func.count(), func.sum(_stars()), func.sum(w), func.sum(w * _stars()))
                  .where(Rating.status == RatingStatus.COUNTED, Rating.created_at <= now)
                  .group_by(Rating.provider_id), Rating.provider_id)
    for pid, n, sx, sw, swx in db.session.execute(stmt):
        f = fig(pid)
        f.rating_count, f.rating_star_sum = n, float(sx or 0)
        f.rating_weight, f.rating_weighted_sum = float(sw or 0), float(swx or 0)

    ws = decay(ServiceSession.scheduled_at, now, params.half_life_days)
    decided = and_(ServiceSession.state.in_([SessionState.CONFIRMED, SessionState.DISPUTED]),
                   ServiceSession.decided_at <= now,
                   (ServiceSession.state == SessionState.DISPUTED) | ServiceSession.acceptance_score.isnot(None))
    acceptance_value = case((ServiceSession.state == SessionState.DISPUTED, 0),
                            else_=ServiceSession.acceptance_score)
    due = ServiceSession.state.in_(DUE_STATES)
    on_time = and_(ServiceSession.state.in_(DELIVERED_STATES), ServiceSession.reported_late.is_(False))
    delivered = ServiceSession.state.in_(DELIVERED_STATES)
    stmt = scoped(select(
        ServiceSession.provider_id,
        func.sum(case((decided, 1), else_=0)), func.sum(case((decided, ws), else_=0.0)),
        func.sum(case((decided, ws * acceptance_value), else_=0.0)),
        func.sum(case((due, 1), else_=0)), func.sum(case((due, ws), else_=0.0)),
        func.sum(case((on_time, 1), else_=0)), func.sum(case((on_time, ws), else_=0.0)),
        func.sum(case((delivered, 1), else_=0)),
    ).where(ServiceSession.scheduled_at <= now).group_by(ServiceSession.provider_id), ServiceSession.provider_id)
    for pid, nd, wd, wdx, ndue, wdue, nok, wok, ndel in db.session.execute(stmt):
        f = fig(pid)
        f.acceptance_count, f.acceptance_weight, f.acceptance_weighted_sum = int(nd or 0), float(wd or 0), \
            float(wdx or 0)
        f.due_count, f.due_weight, f.on_time_count, f.on_time_weight = int(ndue or 0), float(wdue or 0), \
            int(nok or 0), float(wok or 0)
        f.delivered_count = int(ndel or 0)

    stmt = scoped(select(Complaint.provider_id, func.count()).where(
        Complaint.status == ComplaintStatus.UPHELD, Complaint.decided_at <= now).group_by(Complaint.provider_id),
        Complaint.provider_id)
    for pid, n in db.session.execute(stmt):
        fig(pid).complaints_upheld = n

    stmt = scoped(select(ServiceSession.provider_id, func.count(), func.sum(ws), func.sum(ws * AssessmentVisit.score))
                  .join(ServiceSession, ServiceSession.id == AssessmentVisit.session_id)
                  .where(AssessmentVisit.status == VisitStatus.RECORDED, AssessmentVisit.recorded_at <= now)
                  .group_by(ServiceSession.provider_id), ServiceSession.provider_id)
    for pid, n, sw, swx in db.session.execute(stmt):
        f = fig(pid)
        f.assessment_count, f.assessment_weight, f.assessment_weighted_sum = int(n or 0), float(sw or 0), \
            float(swx or 0)
    return out


def district_figures(now: dt.datetime, params: Parameters) -> District:
    """The district's rating mean (the prior) and its acceptance and punctuality, read from the tables."""
    n, stars = db.session.execute(select(func.count(), func.sum(_stars())).where(
        Rating.status == RatingStatus.COUNTED, Rating.created_at <= now)).one()
    acc_w, acc_ws, due_w, ok_w = aggregate_totals(now, params)
    return _district(n or 0, float(stars or 0), acc_w, acc_ws, due_w, ok_w, params)


def _district(rating_count, star_sum, acc_w, acc_ws, due_w, ok_w, params: Parameters) -> District:
    """The district's figures from its totals: the plain mean of every counted rating (the prior),
    the decayed mean of acceptance scores and the decayed share of due sessions on time."""
    prior = _dec(star_sum / rating_count) if rating_count else params.default_prior
    acceptance = _dec(acc_ws / acc_w) if acc_w else None
    punctuality = _dec(100 * ok_w / due_w) if due_w else None
    return District(prior, acceptance, punctuality)


def district_from(figures: dict[int, Figures], params: Parameters) -> District:
    """The district's figures as sums of every provider's: the same numbers district_figures() reads
    from the tables, without scanning them again (a full recompute has aggregated every provider)."""
    fs = figures.values()
    return _district(sum(f.rating_count for f in fs), sum(f.rating_star_sum for f in fs),
                     sum(f.acceptance_weight for f in fs), sum(f.acceptance_weighted_sum for f in fs),
                     sum(f.due_weight for f in fs), sum(f.on_time_weight for f in fs), params)


def _kept_decay(now: dt.datetime, half_life: int):
    """The factor that brings a kept decayed sum from its row's `as_of` to `now`."""
    return _exp(literal(-LN2 / half_life) * (literal(_now_days(now)) - _epoch_days(PerformanceFigures.as_of)))


def figures_kept() -> bool:
    """Whether the kept rows cover every provider: a full recompute has rebuilt them since they exist."""
    return bool(db.session.scalar(select(PerformanceRun.figures_kept).order_by(
        PerformanceRun.computed_at.desc(), PerformanceRun.id.desc()).limit(1)))


def district_kept(now: dt.datetime, params: Parameters) -> District | None:
    """The district's figures at `now` as one SUM over the kept rows; None when some row was kept
    with another half-life (the setting changed since: read the tables until the next recompute)."""
    k = PerformanceFigures
    f = _kept_decay(now, params.half_life_days)
    other, n, stars, acc_w, acc_ws, due_w, ok_w = db.session.execute(select(
        func.count().filter(k.half_life_days != params.half_life_days), func.sum(k.rating_count),
        func.sum(k.rating_star_sum), func.sum(k.acceptance_weight * f), func.sum(k.acceptance_weighted_sum * f),
        func.sum(k.due_weight * f), func.sum(k.on_time_weight * f))).one()
    if other:
        return None
    return _district(n or 0, float(stars or 0), float(acc_w or 0), float(acc_ws or 0), float(due_w or 0),
                     float(ok_w or 0), params)


def district_for_update(now: dt.datetime, params: Parameters) -> District:
    """The district's figures at this moment: the sum of the kept rows once a full recompute has
    made them complete; read from the tables before that."""
    district = district_kept(now, params) if figures_kept() else None
    return district if district is not None else district_figures(now, params)


def aggregate_totals(now: dt.datetime, params: Parameters) -> tuple[float, float, float, float]:
    """(Σw, Σw·acceptance) over decided sessions, (Σw, Σw·on time) over due sessions, district-wide."""
    ws = decay(ServiceSession.scheduled_at, now, params.half_life_days)
    decided = and_(ServiceSession.state.in_([SessionState.CONFIRMED, SessionState.DISPUTED]),
                   ServiceSession.decided_at <= now,
                   (ServiceSession.state == SessionState.DISPUTED) | ServiceSession.acceptance_score.isnot(None))
    acceptance_value = case((ServiceSession.state == SessionState.DISPUTED, 0),
                            else_=ServiceSession.acceptance_score)
    due = ServiceSession.state.in_(DUE_STATES)
    on_time = and_(ServiceSession.state.in_(DELIVERED_STATES), ServiceSession.reported_late.is_(False))
    row = db.session.execute(select(
        func.sum(case((decided, ws), else_=0.0)), func.sum(case((decided, ws * acceptance_value), else_=0.0)),
        func.sum(case((due, ws), else_=0.0)), func.sum(case((on_time, ws), else_=0.0)),
    ).where(ServiceSession.scheduled_at <= now)).one()
    return tuple(float(v or 0) for v in row)


# --- the model itself (pure arithmetic, tested by hand) -------------------------------------------

def _dec(value) -> Decimal:
    return Decimal(repr(float(value))) if not isinstance(value, Decimal) else value


def _q(value: Decimal, places: str = "0.000001") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def compute(f: Figures, params: Parameters, district: District) -> Result:
    C = Decimal(params.prior_weight)
    m = district.prior_mean
    satisfaction = (C * m + _dec(f.rating_weighted_sum)) / (C + _dec(f.rating_weight)) \
        if (C + _dec(f.rating_weight)) > 0 else m
    if f.acceptance_weight > 0:
        acceptance, acc_district = _dec(f.acceptance_weighted_sum) / _dec(f.acceptance_weight), False
    else:
        acceptance, acc_district = (district.acceptance if district.acceptance is not None else Decimal(100)), True
    if f.due_weight > 0:
        punctuality, punct_district = Decimal(100) * _dec(f.on_time_weight) / _dec(f.due_weight), False
    else:
        punctuality, punct_district = (district.punctuality if district.punctuality is not None
                                       else Decimal(100)), True
    per100 = Decimal(100) * f.complaints_upheld / f.delivered_count if f.delivered_count else Decimal(0)
    points = {
        "satisfaction": (satisfaction - 1) / 4 * 100,
        "acceptance": acceptance,
        "punctuality": punctuality,
        "complaints": max(Decimal(0), Decimal(100) - params.complaint_penalty * per100),
    }
    if f.assessment_weight > 0:
        points["assessment"] = _dec(f.assessment_weighted_sum) / _dec(f.assessment_weight)
    points = {k: min(Decimal(100), max(Decimal(0), _q(v))) for k, v in points.items()}
    # A component left out (no assessment visit) counts in neither the sum nor the weights.
    total_weight = sum(params.weights.get(k, 0) for k in points)
    raw = sum(Decimal(params.weights[k]) * points[k] for k in points) / total_weight if total_weight else Decimal(0)
    score = raw.quantize(CENT, rounding=ROUND_HALF_UP)
    return Result(f, _q(m), _q(satisfaction), _q(acceptance), acc_district, _q(punctuality), punct_district,
                  _q(per100), points, score, grade_for(score))


# --- writing scores ---------------------------------------------------------------------------

def _snapshot_row(pid: int, r: Result, params: Parameters, run_id: str, trigger: str, now: dt.datetime) -> dict:
    f = r.figures
    return {
        "provider_id": pid, "run_id": run_id, "trigger": trigger, "computed_at": now, "model_version": MODEL_VERSION,
        "parameters": params.as_dict(), "rating_count": f.rating_count,
        "rating_weight": _q(_dec(f.rating_weight)), "rating_weighted_sum": _q(_dec(f.rating_weighted_sum)),
        "prior_mean": r.prior_mean, "satisfaction": r.satisfaction, "acceptance_count": f.acceptance_count,
        "acceptance": r.acceptance, "acceptance_from_district": r.acceptance_from_district,
        "due_count": f.due_count, "on_time_count": f.on_time_count, "punctuality": r.punctuality,
        "punctuality_from_district": r.punctuality_from_district, "delivered_count": f.delivered_count,
        "complaints_upheld": f.complaints_upheld, "complaints_per_100": r.complaints_per_100,
        "satisfaction_points": r.points["satisfaction"], "acceptance_points": r.points["acceptance"],
        "punctuality_points": r.points["punctuality"], "complaint_points": r.points["complaints"],
        "score": r.score, "grade": r.grade, "assessment_count": f.assessment_count,
        "assessment": r.points.get("assessment"), "assessment_points": r.points.get("assessment"),
    }


def _write(results: dict[int, Result], params: Parameters, run_id: str, trigger: str, now: dt.datetime):
    if not results:
        return
    rows = [_snapshot_row(pid, r, params, run_id, trigger, now) for pid, r in sorted(results.items())]
    db.session.execute(insert(PerformanceSnapshot), rows)
    db.session.execute(update(Provider), [{"id": pid, "performance_score": r.score, "grade": r.grade}
                                          for pid, r in sorted(results.items())])


def _kept_row(pid: int, f: Figures, params: Parameters, now: dt.datetime) -> dict:
    # vars(), not dataclasses.asdict(): the latter deep-copies, a third of a recompute's Python time
    return {"provider_id": pid, "as_of": now, "half_life_days": params.half_life_days, **vars(f)}


def keep_figures(provider_id: int, f: Figures, params: Parameters, now: dt.datetime):
    """Write one provider's kept row (insert or replace)."""
    row = _kept_row(provider_id, f, params, now)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(PerformanceFigures).values(row)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["provider_id"], set_={k: v for k, v in row.items() if k != "provider_id"}))


@dataclass
class Check:
    """The nightly check: how far an update made at this moment would be from the full recompute."""

    largest_difference: Decimal | None  # None: no complete kept rows yet, nothing to compare
    provider_id: int | None
    stale_rows: int  # kept rows whose counts or sums differ from the tables
    largest_drift: Decimal  # stored scores vs now: they age with time and the district's mean
    providers: int

    @property
    def passed(self) -> bool:
        return self.largest_difference is None or self.largest_difference <= CHECK_TOLERANCE

    def as_dict(self) -> dict:
        return {"largest_difference": None if self.largest_difference is None else str(self.largest_difference),
                "provider_id": self.provider_id, "stale_rows": self.stale_rows,
                "largest_drift": str(self.largest_drift), "providers": self.providers, "passed": self.passed}


def _py_decay(now: dt.datetime, as_of: dt.datetime, half_life: int) -> float:
    x = -LN2 * (_now_days(now) - as_of.timestamp() / 86400) / half_life
    return 0.0 if x < MIN_EXPONENT else math.exp(x)


def _stale(kept: PerformanceFigures, f: Figures, factor: float) -> bool:
    """Whether a kept row, brought to now by `factor`, differs from the provider's figures."""
    for name in (fl.name for fl in dataclasses.fields(Figures)):
        a, b = getattr(kept, name), getattr(f, name)
        if isinstance(b, int):
            same = a == b
        else:  # the undecayed star sum is not brought forward
            same = math.isclose(a if name == "rating_star_sum" else a * factor, b, rel_tol=1e-9, abs_tol=1e-9)
        if not same:
            return True
    return False


def _check(now: dt.datetime, params: Parameters, figures: dict[int, Figures], district: District,
           results: dict[int, Result]) -> Check:
    stored = dict(db.session.execute(select(Provider.id, Provider.performance_score)
                                     .where(Provider.performance_score.isnot(None))).all())
    drift = max((abs(stored[pid] - r.score) for pid, r in results.items() if pid in stored), default=Decimal(0))
    kept_district = district_kept(now, params) if figures_kept() else None
    if kept_district is None:
        return Check(None, None, 0, drift, len(results))
    kept = {row.provider_id: row for row in db.session.scalars(select(PerformanceFigures))}
    stale = sum(1 for pid in figures.keys() | kept.keys()
                if pid not in kept or _stale(kept[pid], figures.get(pid, Figures()),
                                             _py_decay(now, kept[pid].as_of, params.half_life_days)))
    largest, worst = Decimal("0.00"), None
    if kept_district != district:
        for pid, r in results.items():
            diff = abs(compute(figures[pid], params, kept_district).score - r.score)
            if diff > largest:
                largest, worst = diff, pid
    return Check(largest, worst, stale, drift, len(results))


def _full(now: dt.datetime, params: Parameters) -> tuple[dict[int, Figures], District, dict[int, Result]]:
    figures = aggregate(now, params)
    district = district_from(figures, params)
    return figures, district, {pid: compute(f, params, district) for pid, f in figures.items() if f.has_history}


def full_results(now: dt.datetime) -> dict[int, Result]:
    """What a full recompute at `now` gives for every provider, writing nothing."""
    return _full(now, Parameters.current())[2]


def _recompute(now: dt.datetime, actor, check: bool) -> tuple[dict[int, Result], Check | None]:
    params = Parameters.current()
    figures, district, results = _full(now, params)
    report = _check(now, params, figures, district, results) if check else None
    run_id = "run-" + uuid.uuid4().hex[:12]
    _write(results, params, run_id, "recompute", now)
    # Every kept row rebuilt at this moment: from now on the district is their sum.
    db.session.execute(delete(PerformanceFigures))
    if figures:
        db.session.execute(insert(PerformanceFigures.__table__), [_kept_row(pid, f, params, now)
                                                                  for pid, f in sorted(figures.items())])
    items = update_items(now)
    db.session.add(PerformanceRun(run_id=run_id, computed_at=now, model_version=MODEL_VERSION,
                                  parameters=params.as_dict(), prior_mean=_q(district.prior_mean),
                                  acceptance=_q(district.acceptance) if district.acceptance is not None else None,
                                  punctuality=_q(district.punctuality) if district.punctuality is not None else None,
                                  providers=len(results), items=items, figures_kept=True))
    db.session.expire_all()
    audit.record("performance.recompute", actor=actor, object_type="performance_snapshots", object_id=run_id,
                 providers=len(results), items=items, model=MODEL_VERSION, prior_mean=district.prior_mean,
                 **({"check": report.as_dict()} if report is not None else {}))
    return results, report


def recompute_all(now: dt.datetime | None = None, actor=None) -> dict[int, Result]:
    """Every provider with history, and every item's satisfaction: one snapshot per provider."""
    return _recompute(now or utcnow(), actor, check=False)[0]


def check_and_recompute(now: dt.datetime | None = None, actor=None) -> tuple[dict[int, Result], Check]:
    """The full recompute, first measuring how far the kept figures are from it: the largest
    difference between the score an update at this moment gives and the recompute's, over every
    provider (the check passes at 0.01 or less), and how far stored scores have drifted since their
    last event. The figures go into the recompute's audit event and the log."""
    results, report = _recompute(now or utcnow(), actor, check=True)
    (log.info if report.passed else log.error)("performance check: %s", report.as_dict())
    return results, report


def update_provider(provider_id: int, trigger: str, now: dt.datetime | None = None,
                    item_ids=None) -> Result | None:
    """One provider's score after an event that changed its figures, exact at this moment."""
    return update_providers([provider_id], trigger, now, item_ids).get(provider_id)


def update_providers(provider_ids, trigger: str, now: dt.datetime | None = None, item_ids=None) -> dict[int, Result]:
    """The scores of the providers one event changed, exact at this moment: their own figures read
    again and their kept rows rewritten, all before the district's figures are summed from the
    kept rows (so each score sees the others' changes)."""
    now = now or utcnow()
    params = Parameters.current()
    ids = sorted(set(provider_ids))
    # PostgreSQL: concurrent events of one provider queue here, so the second reads the first's rows.
    db.session.execute(select(PerformanceFigures.provider_id).where(PerformanceFigures.provider_id.in_(ids))
                       .order_by(PerformanceFigures.provider_id).with_for_update())
    found = aggregate(now, params, ids)
    figures = {pid: found.get(pid) or Figures() for pid in ids}
    for pid in ids:
        keep_figures(pid, figures[pid], params, now)
    if item_ids:
        update_items(now, item_ids)
    scored = {pid: f for pid, f in figures.items() if f.has_history}
    if not scored:
        return {}
    district = district_for_update(now, params)
    results = {pid: compute(f, params, district) for pid, f in scored.items()}
    _write(results, params, f"{trigger}-{uuid.uuid4().hex[:12]}", trigger, now)
    # Providers already loaded read their new score on next access; none is loaded for this.
    for pid in results:
        provider = db.session.identity_map.get(db.session.identity_key(Provider, pid))
        if provider is not None:
            db.session.expire(provider, ["performance_score", "grade"])
    return results


def item_figures(now: dt.datetime, item_ids=None) -> dict[int, tuple[Decimal, int]]:
    """(mean of counted ratings, their number) per item over the last 12 months."""
    since = now - dt.timedelta(days=ITEM_WINDOW_DAYS)
    # Integer sums of the three dimensions: the mean is exact before it is rounded.
    stmt = (select(Rating.item_id, func.sum(Rating.content + Rating.organisation + Rating.venue), func.count())
            .where(Rating.status == RatingStatus.COUNTED, Rating.created_at > since, Rating.created_at <= now)
            .group_by(Rating.item_id))
    if item_ids is not None:
        stmt = stmt.where(Rating.item_id.in_(list(item_ids)))
    return {iid: ((Decimal(total) / (3 * n)).quantize(CENT, rounding=ROUND_HALF_UP), n)
            for iid, total, n in db.session.execute(stmt)}


def update_items(now: dt.datetime, item_ids=None) -> int:
    """Write Item.satisfaction and Item.rating_count (12 months of counted ratings)."""
    figures = item_figures(now, item_ids)
    stale = select(Item.id).where(Item.rating_count > 0) if item_ids is None else \
        select(Item.id).where(Item.id.in_(list(item_ids)))
    rows = [{"id": iid, "satisfaction": sat, "rating_count": n} for iid, (sat, n) in sorted(figures.items())]
    rows += [{"id": iid, "satisfaction": None, "rating_count": 0}
             for iid in db.session.scalars(stale) if iid not in figures]
    if rows:
        db.session.execute(update(Item), rows)
    return len(rows)


# --- reading ------------------------------------------------------------------------------------

def latest_snapshot(provider_id: int) -> PerformanceSnapshot | None:
    return db.session.scalar(select(PerformanceSnapshot).where(PerformanceSnapshot.provider_id == provider_id)
                             .order_by(PerformanceSnapshot.computed_at.desc(), PerformanceSnapshot.id.desc())
                             .limit(1))


def snapshot_at(provider_id: int, moment: dt.datetime) -> PerformanceSnapshot | None:
    """The snapshot in force at a moment (e.g. a project's opening): explains a past review."""
    return db.session.scalar(select(PerformanceSnapshot).where(
        PerformanceSnapshot.provider_id == provider_id, PerformanceSnapshot.computed_at <= moment)
        .order_by(PerformanceSnapshot.computed_at.desc(), PerformanceSnapshot.id.desc()).limit(1))


def what_would_move(snap: PerformanceSnapshot) -> list:
    """Plain-language levers, from the snapshot's own figures."""
    params = snap.parameters or {}
    weights = params.get("weights", {})
    total = sum(weights.values()) or 1
    out = []
    prior_weight = Decimal(params.get("prior_weight", 20))
    # One more 5-star rating of weight 1.
    w, s = snap.rating_weight, snap.rating_weighted_sum
    new_sat = (prior_weight * snap.prior_mean + s + 5) / (prior_weight + w + 1)
    gain = (new_sat - snap.satisfaction) / 4 * 100 * Decimal(weights.get("satisfaction", 0)) / total
    out.append(_l("Each new five-star rating adds about %(pts)s points; ratings lose half their weight every "
                  "%(days)s days.", pts=str(gain.quantize(CENT)), days=params.get("half_life_days", 180)))
    if snap.acceptance_points < 100:
        out.append(_l("Acceptance counts %(w)s of 100: sessions accepted with higher scores lift it; a disputed "
                      "session counts 0.", w=weights.get("acceptance", 0)))
    if snap.punctuality_points < 100:
        out.append(_l("Report every session within the set days after it takes place: %(late)d of %(due)d due "
                      "sessions were not reported on time.", late=snap.due_count - snap.on_time_count,
                      due=snap.due_count))
    if snap.complaints_upheld:
        out.append(_l("%(n)d upheld complaint(s) cost %(pts)s points of the complaints component.",
                      n=snap.complaints_upheld, pts=str((100 - snap.complaint_points).quantize(CENT))))
    return out
