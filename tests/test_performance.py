"""The performance model with numbers worked out by hand: the prior (district mean, weight 20),
the 180-day half-life decay, acceptance, punctuality, complaints, grades; snapshots; incremental
updates agreeing with the full recompute; item satisfaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from evaluation.feedback import operations as ratings
from evaluation.feedback.models import FlagReason, Rating, RatingStatus
from evaluation.performance import operations as performance
from evaluation.performance.models import PerformanceRun, PerformanceSnapshot
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import SessionState

D = Decimal


@pytest.fixture
def T():
    return utcnow().replace(microsecond=0) - dt.timedelta(hours=1)


def _rating(session, s, resident, stars, at, status=RatingStatus.COUNTED):
    r = Rating(session_id=s.id, provider_id=s.provider_id, item_id=s.item_id, resident_id=resident.id,
               content=stars, organisation=stars, venue=stars, created_at=at, updated_at=at, status=status,
               flag_reason=FlagReason.BURST if status == RatingStatus.FLAGGED else None)
    session.add(r)
    session.flush()
    return r


def test_grade_boundaries():
    assert [performance.grade_for(D(x)) for x in ("100", "90", "89.99", "75", "74.99", "60", "59.99", "0")] == \
        ["A", "A", "B", "B", "C", "C", "D", "D"]


def test_prior_is_the_district_mean_and_ratings_halve_every_180_days(delivery, session, make_user, T):
    a, b, idle = delivery.provider(), delivery.provider(), delivery.provider()
    sa = delivery.schedule(delivery.contract(a), T - dt.timedelta(days=200))
    sb = delivery.schedule(delivery.contract(b), T - dt.timedelta(days=1))
    r1, r2, r3 = make_user("resident"), make_user("resident"), make_user("resident")
    _rating(session, sa, r1, 5, T)                              # weight 1
    _rating(session, sa, r2, 2, T - dt.timedelta(days=180))     # weight 1/2
    _rating(session, sb, r3, 3, T)                              # weight 1
    _rating(session, sb, r1, 1, T, status=RatingStatus.FLAGGED)  # kept out
    results = performance.recompute_all(T)

    # District mean m = (5 + 2 + 3) / 3 = 3.333333
    # A: S = (20·m + 1·5 + ½·2) / (20 + 1.5) = 72.666667 / 21.5 = 3.379845
    #    satisfaction points (S − 1)/4·100 = 59.496124; other components 100 (no data anywhere)
    #    score = 0.40·59.496124 + 0.30·100 + 0.15·100 + 0.15·100 = 83.798450 → 83.80, B
    ra = results[a.id]
    assert ra.prior_mean == D("3.333333")
    assert ra.figures.rating_count == 2
    assert abs(D(repr(ra.figures.rating_weight)) - D("1.5")) < D("0.000001")
    assert ra.satisfaction == D("3.379845")
    assert ra.points["satisfaction"] == D("59.496124")
    assert (ra.score, ra.grade) == (D("83.80"), "B")
    # B: S = (20·m + 3) / 21 = 69.666667 / 21 = 3.317460 → 57.936508 → 23.174603 + 60 = 83.17
    rb = results[b.id]
    assert rb.figures.rating_count == 1  # the flagged rating does not count
    assert (rb.satisfaction, rb.score, rb.grade) == (D("3.317460"), D("83.17"), "B")
    # A provider without history has no score (the review then uses its published prior).
    assert idle.id not in results
    session.expire_all()
    assert (a.performance_score, a.grade, idle.performance_score) == (D("83.80"), "B", None)
    snap = performance.latest_snapshot(a.id)
    assert (snap.trigger, snap.model_version, snap.score, snap.rating_count) == ("recompute", "perf-1", D("83.80"), 2)
    assert snap.parameters["prior_weight"] == 20 and snap.parameters["half_life_days"] == 180


def test_a_single_rating_moves_a_new_provider_only_a_little_from_the_prior(delivery, session, make_user, T):
    old, new = delivery.provider(), delivery.provider()
    so = delivery.schedule(delivery.contract(old), T - dt.timedelta(days=2))
    sn = delivery.schedule(delivery.contract(new), T - dt.timedelta(days=2))
    for _ in range(4):
        _rating(session, so, make_user("resident"), 4, T)
    _rating(session, sn, make_user("resident"), 1, T)
    results = performance.recompute_all(T)
    # m = (4·4 + 1) / 5 = 3.4; new: S = (20·3.4 + 1) / 21 = 69 / 21 = 3.285714 (not 1)
    assert results[new.id].satisfaction == D("3.285714")
    assert results[new.id].points["satisfaction"] == D("57.142857")


def test_acceptance_punctuality_and_complaints_with_decay(delivery, session, make_user, T):
    officer = delivery.officer()
    p = delivery.provider()
    contract = delivery.contract(p, officer=officer, sessions=3)
    day = dt.timedelta(days=1)
    s1 = delivery.schedule(contract, T - 180 * day)  # weight 1/2
    s2 = delivery.schedule(contract, T - 360 * day)  # weight 1/4
    delivery.schedule(contract, T - 180 * day)  # s3, weight 1/2
    delivery.report(s1, at=s1.scheduled_at + dt.timedelta(hours=2))  # on time
    session_ops.confirm_session(s1, 80, "", officer, now=s1.reported_at + day)
    delivery.report(s2, at=s2.scheduled_at + 5 * day)  # late
    session_ops.dispute_session(s2, "人员不足", officer, now=s2.reported_at + day)
    assert session_ops.record_overdue(T) == (1, 0)  # s3 missed
    complaint = ratings.complain(s1, make_user("resident"), "声音太小", now=s1.scheduled_at + day)
    ratings.decide_complaint(complaint, True, "属实", officer, now=s1.scheduled_at + 2 * day)

    r = performance.recompute_all(T)[p.id]
    # acceptance = (½·80 + ¼·0) / (½ + ¼) = 53.333333 (the dispute counts 0)
    assert r.figures.acceptance_count == 2 and r.acceptance == D("53.333333")
    # punctuality = ½ on time / (½ + ¼ + ½) due = 40 %
    assert (r.figures.due_count, r.figures.on_time_count, r.punctuality) == (3, 1, D("40.000000"))
    # complaints: 1 upheld per 2 delivered sessions = 50 per 100 → 100 − 5·50 < 0 → 0 points
    assert (r.complaints_per_100, r.points["complaints"]) == (D("50.000000"), D("0.000000"))
    # satisfaction: no ratings in the district → default prior 4.0 → 75 points
    assert r.satisfaction == D("4.000000") and r.points["satisfaction"] == D("75.000000")
    # 0.40·75 + 0.30·53.333333 + 0.15·40 + 0.15·0 = 30 + 16 + 6 + 0 = 52.00 → D
    assert (r.score, r.grade) == (D("52.00"), "D")


def test_weights_are_settings_and_every_recompute_keeps_a_snapshot(delivery, session, make_user, T):
    from core import settings

    p = delivery.provider()
    s = delivery.schedule(delivery.contract(p), T - dt.timedelta(days=1))
    _rating(session, s, make_user("resident"), 5, T)
    first = performance.recompute_all(T)[p.id]
    assert first.score == D("100.00")  # satisfaction 5 everywhere, nothing else known
    settings.change(performance.W_SATISFACTION.key, "0", None)
    settings.change(performance.W_COMPLAINTS.key, "55", None)
    second = performance.recompute_all(T)[p.id]
    assert second.score == D("100.00")
    snaps = session.scalars(select(PerformanceSnapshot).where(PerformanceSnapshot.provider_id == p.id)
                            .order_by(PerformanceSnapshot.id)).all()
    assert len({sn.run_id for sn in snaps}) == 2
    assert snaps[-1].parameters["weights"]["satisfaction"] == 0 and snaps[0].parameters["weights"]["satisfaction"] == 40


def test_a_new_rating_updates_its_provider_as_the_full_recompute_would(delivery, session, make_user):
    p, other = delivery.provider(), delivery.provider()
    s = delivery.schedule(delivery.contract(p), utcnow() - dt.timedelta(days=1))
    so = delivery.schedule(delivery.contract(other), utcnow() - dt.timedelta(days=1))
    at = utcnow() - dt.timedelta(hours=2)
    _rating(session, so, make_user("resident"), 2, at)
    before = session.scalar(select(func.count()).select_from(PerformanceSnapshot))
    _rating_row, created = ratings.rate(s, make_user("resident"), {"content": 5, "organisation": 4, "venue": 3},
                                   now=at + dt.timedelta(minutes=1), attendance_code=s.attendance_code)
    assert created
    session.refresh(p)
    incremental = p.performance_score
    assert incremental is not None and p.grade is not None
    # Only this provider got a new snapshot.
    new = session.scalars(select(PerformanceSnapshot).order_by(PerformanceSnapshot.id)).all()[before:]
    assert {sn.provider_id for sn in new} == {p.id} and new[-1].trigger == "rating"
    full = performance.recompute_all(at + dt.timedelta(minutes=1))
    assert full[p.id].score == incremental
    # the item's satisfaction: mean of (5+4+3)/3 = 4.00 over one rating
    session.expire_all()
    assert (s.item.satisfaction, s.item.rating_count) == (D("4.00"), 1)


def test_between_full_recomputes_a_rating_moves_the_district_mean_without_scanning_the_district(
        delivery, session, make_user, monkeypatch):
    from core import settings

    p, other = delivery.provider(), delivery.provider()
    s = delivery.schedule(delivery.contract(p), utcnow() - dt.timedelta(days=1))
    so = delivery.schedule(delivery.contract(other), utcnow() - dt.timedelta(days=1))
    at = utcnow() - dt.timedelta(hours=2)
    _rating(session, so, make_user("resident"), 2, at)
    performance.recompute_all(at)
    run = session.scalars(select(PerformanceRun)).one()
    assert run.prior_mean == D("2.000000") and run.providers == 1 and run.figures_kept
    # The new rating moves the district's mean to 2.5: the update sums the kept rows, it reads no
    # district-wide table of ratings or sessions.
    monkeypatch.setattr(performance, "district_figures", lambda *a: pytest.fail("scanned the district"))
    ratings.rate(s, make_user("resident"), {"content": 3, "organisation": 3, "venue": 3},
                 now=at + dt.timedelta(minutes=1), attendance_code=s.attendance_code)
    snap = session.scalars(select(PerformanceSnapshot).where(PerformanceSnapshot.provider_id == p.id)
                           .order_by(PerformanceSnapshot.id.desc())).first()
    assert snap.trigger == "rating" and snap.prior_mean == D("2.500000")
    # (20 × 2.5 + 3) / 21: the district's mean now, with this provider's one rating
    assert snap.satisfaction == performance._q(D(53) / D(21))
    assert performance.recompute_all(at + dt.timedelta(minutes=1))[p.id].score == snap.score
    # The half-life changed since the kept rows were written: they no longer apply, the tables are read.
    monkeypatch.undo()
    settings.change(performance.HALF_LIFE.key, "90", None)
    scanned = []
    real = performance.district_figures
    monkeypatch.setattr(performance, "district_figures", lambda *a: scanned.append(1) or real(*a))
    r = performance.update_provider(p.id, "review", at + dt.timedelta(minutes=2))
    assert scanned and r.score == performance.recompute_all(at + dt.timedelta(minutes=2))[p.id].score


def test_snapshot_at_explains_the_score_a_past_review_used(delivery, session, make_user, T):
    p = delivery.provider()
    s = delivery.schedule(delivery.contract(p), T - dt.timedelta(days=30))
    _rating(session, s, make_user("resident"), 5, T - dt.timedelta(days=20))
    performance.recompute_all(T - dt.timedelta(days=10))
    _rating(session, s, make_user("resident"), 1, T - dt.timedelta(days=5))
    performance.recompute_all(T)
    opening = T - dt.timedelta(days=7)
    then = performance.snapshot_at(p.id, opening)
    now = performance.latest_snapshot(p.id)
    assert then.rating_count == 1 and now.rating_count == 2 and then.score > now.score


def test_item_satisfaction_covers_twelve_months(delivery, session, make_user, T):
    p = delivery.provider()
    s = delivery.schedule(delivery.contract(p), T - dt.timedelta(days=400))
    _rating(session, s, make_user("resident"), 1, T - dt.timedelta(days=400))
    _rating(session, s, make_user("resident"), 4, T - dt.timedelta(days=10))
    _rating(session, s, make_user("resident"), 5, T - dt.timedelta(days=10))
    performance.recompute_all(T)
    session.expire_all()
    assert (s.item.satisfaction, s.item.rating_count) == (D("4.50"), 2)


def test_missed_sessions_count_as_due_but_not_delivered(delivery, session, T):
    p = delivery.provider()
    s = delivery.schedule(delivery.contract(p), T - dt.timedelta(days=30))
    session_ops.record_overdue(T)
    session.refresh(s)
    assert s.state == SessionState.MISSED
    r = performance.recompute_all(T)[p.id]
    assert (r.figures.due_count, r.figures.delivered_count, r.punctuality) == (1, 0, D("0.000000"))


def test_sqlite_without_math_functions_gets_exp_and_ln_registered():
    import math
    import sqlite3

    from core.db import _sqlite_math

    class NoMath:
        def __init__(self):
            self.functions = {}

        def create_function(self, name, nargs, fn, deterministic=False):
            assert deterministic
            self.functions[name] = fn

    class Cursor:
        def execute(self, sql):
            raise sqlite3.OperationalError("no such function: exp")

    conn = NoMath()
    _sqlite_math(conn, Cursor())
    assert conn.functions["exp"](1.0) == math.e and conn.functions["ln"](math.e) == 1.0
    assert conn.functions["exp"](None) is None
    # This machine's SQLite has them built in: nothing is registered over them.
    real = sqlite3.connect(":memory:")
    assert real.execute("SELECT round(exp(1), 6), round(ln(2), 6)").fetchone() == (2.718282, 0.693147)
