"""Scores exact at every event: random sequences of ratings, reports, decisions, missed sessions,
upheld complaints, assessment visits and the passing of time go through the app's own operations,
and after each one every provider it rescored has the score a full recompute at that moment gives
(to 0.01). Then the kept figures' rebase over long gaps, and `flask evaluation recompute --check`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import settings as app_settings
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Forbidden, Invalid, Refused
from evaluation.assessment import operations as assessment
from evaluation.assessment.models import AssessmentPlan, AssessmentVisit
from evaluation.feedback import operations as feedback
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.performance import operations as performance
from evaluation.performance.models import PerformanceFigures, PerformanceSnapshot
from marketplace.providers.models import Provider
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import ServiceSession, SessionState
from tests.support.assessment import valid_code
from tests.support.delivery import Delivery

TOLERANCE = Decimal("0.01")
PROVIDERS, RESIDENTS = 3, 5
# Planned times of each provider's sessions, in days from the start: some past, some ahead.
OFFSETS = (-10, -4, -1, 0.5, 3)

provider_ix = st.integers(0, PROVIDERS - 1)
session_ix = st.integers(0, len(OFFSETS) - 1)
resident_ix = st.integers(0, RESIDENTS - 1)
stars = st.integers(1, 5)
EVENTS = st.one_of(
    st.tuples(st.just("rate"), provider_ix, session_ix, resident_ix, st.tuples(stars, stars, stars),
              st.sampled_from([None, "10.0.0.7"])),
    st.tuples(st.just("report"), provider_ix, session_ix, st.integers(0, 6)),
    st.tuples(st.just("confirm"), provider_ix, session_ix, st.integers(0, 100)),
    st.tuples(st.just("dispute"), provider_ix, session_ix),
    st.tuples(st.just("review"), st.booleans()),
    st.tuples(st.just("overdue")),
    st.tuples(st.just("complaint"), provider_ix, session_ix, resident_ix),
    st.tuples(st.just("assess"), provider_ix, session_ix, st.integers(0, 100)),
    st.tuples(st.just("advance"), st.integers(1, 24 * 12)),
)


class World:
    """Three providers with eight sessions each, residents, an officer and an assessor."""

    def __init__(self, session, make_user, delivery, start):
        self.session, self.delivery = session, delivery
        self.officer = delivery.officer()
        self.providers = [delivery.provider() for _ in range(PROVIDERS)]
        self.sessions = []
        for p in self.providers:
            contract = delivery.contract(p, officer=self.officer, sessions=len(OFFSETS))
            line = contract.lines[0]
            # Planned directly (scheduling is not under test here): the events below go through the operations.
            planned = [ServiceSession(contract_id=contract.id, line_id=line.id, provider_id=p.id, item_id=line.item_id,
                                      venue_id=line.venue_id, scheduled_at=start + dt.timedelta(days=d),
                                      planned_audience=50, scheduled_by_id=p.user_id) for d in OFFSETS]
            session.add_all(planned)
            self.sessions.append(planned)
        session.flush()
        self.residents = [make_user("resident") for _ in range(RESIDENTS)]
        agency = assessment.create_agency("测评机构", valid_code(4242), (start - dt.timedelta(days=400)).date(),
                                          (start + dt.timedelta(days=400)).date(), self.officer)
        self.assessor = assessment.add_assessor(agency, make_user("assessor"), self.officer)
        self.plan = AssessmentPlan(month="2001-01", seed="s", share_percent=10, min_per_town=1,
                                   drawn_by_id=self.officer.id)
        session.add(self.plan)
        session.flush()

    def pick(self, p: int, k: int, kind: str, now):
        """The provider's k-th session (cyclically) among those the event may concern at this
        moment, so that most generated events happen; None when there is none."""
        def ok(s):
            age = now - s.scheduled_at
            if age < dt.timedelta(0):
                return False
            if kind == "rate":
                return s.state != SessionState.MISSED and age <= dt.timedelta(days=7)
            if kind == "report":
                return s.state == SessionState.SCHEDULED and now <= session_ops.missed_after(s)
            if kind in ("confirm", "dispute"):
                return s.state == SessionState.REPORTED and now <= session_ops.confirm_due(s)
            if kind == "complaint":
                return age <= dt.timedelta(days=30)
            return True
        eligible = [s for s in self.sessions[p] if ok(s)]
        return eligible[k % len(eligible)] if eligible else None

    def apply(self, event, now) -> int | None:
        """Run one event through the app's operations; the provider it concerns (None: several)."""
        kind, *args = event
        if kind in ("rate", "report", "confirm", "dispute", "complaint", "assess"):
            s = self.pick(args[0], args[1], kind, now)
            if s is None:
                raise Refused("no session for this event now")
        if kind == "rate":
            _p, _k, r, (c, o, v), address = args
            feedback.rate(s, self.residents[r], {"content": c, "organisation": o, "venue": v}, address=address,
                          now=now, attendance_code=s.attendance_code)
            return s.provider_id
        if kind == "report":
            self.delivery.report(s, attendance=args[2], at=now)
            return s.provider_id
        if kind == "confirm":
            session_ops.confirm_session(s, args[2], "", self.officer, now=now)
            return s.provider_id
        if kind == "dispute":
            session_ops.dispute_session(s, "与服务标准不符", self.officer, now=now)
            return s.provider_id
        if kind == "review":
            (genuine,) = args
            flagged = self.session.scalar(select(Rating).where(Rating.status == RatingStatus.FLAGGED)
                                          .order_by(Rating.id).limit(1))
            if flagged is None:
                return None
            feedback.review_flagged(flagged, genuine, "" if genuine else "刷票", self.officer, now=now)
            return flagged.provider_id
        if kind == "overdue":
            session_ops.record_overdue(now)
            return None
        if kind == "complaint":
            complaint = feedback.complain(s, self.residents[args[2]], "演出迟到一小时", now=now)
            feedback.decide_complaint(complaint, True, "属实", self.officer, now=now)
            return s.provider_id
        if kind == "assess":
            score = args[2]
            visit = self.session.scalar(select(AssessmentVisit).where(AssessmentVisit.session_id == s.id))
            if visit is None:
                visit = AssessmentVisit(plan_id=self.plan.id, session_id=s.id, position=s.id,
                                        assessor_id=self.assessor.id)
                self.session.add(visit)
                self.session.flush()
            assessment.record_visit(visit, self.assessor.user, checklist={}, counted=30, score=score,
                                    findings="", now=now)
            return s.provider_id
        raise AssertionError(kind)


def _compare(session, now, since_id: int, target: int | None) -> set[int]:
    """Every provider rescored since `since_id` has the full recompute's score at `now`."""
    full = performance.full_results(now)
    rescored = set(session.scalars(select(PerformanceSnapshot.provider_id).where(PerformanceSnapshot.id > since_id)))
    if target is not None and target in full:
        assert target in rescored, "the event did not rescore its provider"
    for pid in rescored:
        stored = session.scalar(select(Provider.performance_score).where(Provider.id == pid))
        assert abs(stored - full[pid].score) <= TOLERANCE, (pid, stored, full[pid].score)
    return rescored


@given(st.booleans(), st.lists(EVENTS, min_size=1, max_size=12))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_after_every_event_the_rescored_providers_have_the_full_recompute_score(
        session, make_user, district, town, community, recompute_first, events):
    start = utcnow().replace(microsecond=0)
    nested = session.begin_nested()
    try:
        with time_machine.travel(start, tick=False) as clock:
            # Bursts of three ratings from one address are flagged: ratings of other providers stop counting.
            app_settings.change(feedback.BURST_COUNT.key, "3", None)
            delivery = Delivery(session, make_user, district, town, community)  # its own catalog rows
            world = World(session, make_user, delivery, start)
            if recompute_first:  # the kept rows complete: updates sum them instead of reading the tables
                performance.recompute_all(utcnow())
            rescored = set()
            for event_ in events:
                if event_[0] == "advance":
                    clock.shift(dt.timedelta(hours=event_[1]))
                    continue
                now = utcnow()
                since = session.scalar(select(func.coalesce(func.max(PerformanceSnapshot.id), 0)))
                step = session.begin_nested()
                try:
                    target = world.apply(event_, now)
                except (Refused, Invalid, Forbidden) as e:
                    event(f"refused: {event_[0]} {str(e)[:40]}")
                    step.rollback()  # not allowed at this moment: nothing changed
                    continue
                step.commit()
                event(f"applied: {event_[0]}")
                rescored |= _compare(session, now, since, target)
            # The nightly check: every kept row current, no update would differ from the recompute.
            _results, check = performance.check_and_recompute(utcnow())
            assert check.stale_rows == 0
            if recompute_first:
                assert check.largest_difference is not None and check.largest_difference <= TOLERANCE
    finally:
        nested.rollback()


def _rate_directly(session, s, resident, value, at):
    session.add(Rating(session_id=s.id, provider_id=s.provider_id, item_id=s.item_id, resident_id=resident.id,
                       content=value, organisation=value, venue=value, created_at=at, updated_at=at,
                       status=RatingStatus.COUNTED))
    session.flush()


def test_kept_figures_rebase_across_gaps_where_a_fixed_reference_would_overflow(delivery, session, make_user):
    """Half-life one day (the shortest setting): 1,000 days move a sum by e^693, near the double's
    limit e^709, and 3,000 days by e^2079, far beyond it. Each row is kept as of its own update,
    so the factor to the present is at most 1; scores stay exact and nothing overflows."""
    app_settings.change(performance.HALF_LIFE.key, "1", None)
    a, b = delivery.provider(), delivery.provider()
    t0 = utcnow().replace(microsecond=0) - dt.timedelta(days=3000)
    sa = delivery.schedule(delivery.contract(a, start=(t0 - dt.timedelta(days=2)).date()), t0)
    sb = delivery.schedule(delivery.contract(b, start=(t0 - dt.timedelta(days=2)).date()), t0)
    delivery.report(sa, at=t0 + dt.timedelta(hours=3))
    delivery.report(sb, at=t0 + dt.timedelta(days=5))  # late
    _rate_directly(session, sa, make_user("resident"), 2, t0 + dt.timedelta(hours=4))
    performance.recompute_all(t0 + dt.timedelta(hours=5))
    for days in (1000, 1003, 3000):
        at = t0 + dt.timedelta(days=days)
        _rate_directly(session, sb, make_user("resident"), 5, at)
        got = performance.update_provider(b.id, "rating", at)
        assert got.score == performance.full_results(at)[b.id].score
        kept = performance.district_kept(at, performance.Parameters.current())
        read = performance.district_figures(at, performance.Parameters.current())
        # SQLite's julianday() resolves ~40 µs: the decay factors agree to about 1e-10
        for name in ("prior_mean", "acceptance", "punctuality"):
            k, r = getattr(kept, name), getattr(read, name)
            assert (k is None) == (r is None) and (r is None or k == pytest.approx(r, rel=Decimal("1e-9"))), name
    # a's row was last kept 3,000 days ago; its weights have decayed to nothing, its counts stand.
    row = session.get(PerformanceFigures, a.id)
    assert row.as_of == t0 + dt.timedelta(hours=5) and row.rating_count == 1 and row.due_count == 1


def test_recompute_check_reports_the_largest_difference_and_fails_above_a_cent(app, delivery, session, make_user):
    p, other = delivery.provider(), delivery.provider()
    at = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    s = delivery.schedule(delivery.contract(p), at - dt.timedelta(days=2))
    so = delivery.schedule(delivery.contract(other), at - dt.timedelta(days=2))
    for k in range(3):
        _rate_directly(session, so, make_user("resident"), 5, at - dt.timedelta(days=1, minutes=k))
    _rate_directly(session, s, make_user("resident"), 5, at - dt.timedelta(days=1))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["evaluation", "recompute", "--check", "--no-rules"])
    assert first.exit_code == 0, first.output
    assert "nothing compared" in first.output  # no kept rows before the first recompute
    # Through the operations the kept rows follow: the check finds nothing.
    feedback.rate(s, make_user("resident"), {"content": 1, "organisation": 1, "venue": 1},
                  attendance_code=s.attendance_code)
    clean = runner.invoke(args=["evaluation", "recompute", "--check", "--no-rules"])
    assert clean.exit_code == 0, clean.output
    assert "largest difference 0.00 " in clean.output and "out of date: 0" in clean.output
    # Ratings written behind the model's back (no update): the district mean the kept rows give is
    # stale and p's score an update would give differs by more than a cent.
    for _ in range(12):
        _rate_directly(session, so, make_user("resident"), 1, utcnow() - dt.timedelta(minutes=5))
    failed = runner.invoke(args=["evaluation", "recompute", "--check", "--no-rules"])
    assert failed.exit_code == 1, failed.output
    assert "out of date: 1" in failed.output
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "performance.recompute")
                            .order_by(AuditEvent.id.desc())).first()
    assert event.summary["check"]["passed"] is False
    assert Decimal(event.summary["check"]["largest_difference"]) > TOLERANCE


@pytest.mark.parametrize("trigger", sorted(performance.TRIGGER_LABELS))
def test_every_trigger_has_a_label(trigger):
    assert str(performance.TRIGGER_LABELS[trigger])


def test_a_burst_that_flags_other_providers_ratings_rescores_them_too(delivery, session, make_user):
    app_settings.change(feedback.BURST_COUNT.key, "3", None)
    p, q = delivery.provider(), delivery.provider()
    at = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    sp = delivery.schedule(delivery.contract(p), at - dt.timedelta(days=1))
    sq = delivery.schedule(delivery.contract(q), at - dt.timedelta(days=1))
    delivery.report(sq, at=at - dt.timedelta(hours=12))  # q keeps a history when its ratings stop counting
    performance.recompute_all(at)
    five = {"content": 5, "organisation": 5, "venue": 5}
    for k in range(2):
        feedback.rate(sq, make_user("resident"), five, address="10.0.0.9", now=at + dt.timedelta(minutes=k),
                      attendance_code=sq.attendance_code)
    session.refresh(q)
    assert q.performance_score == performance.full_results(at + dt.timedelta(minutes=1))[q.id].score
    # The third rating from the address, of p's session, makes a burst: q's two ratings stop counting.
    feedback.rate(sp, make_user("resident"), {"content": 2, "organisation": 2, "venue": 2}, address="10.0.0.9",
                  now=at + dt.timedelta(minutes=2), attendance_code=sp.attendance_code)
    assert session.scalar(select(func.count()).select_from(Rating).where(
        Rating.provider_id == q.id, Rating.status == RatingStatus.FLAGGED)) == 2
    full = performance.full_results(at + dt.timedelta(minutes=2))
    session.refresh(q)
    assert q.performance_score == full[q.id].score
    assert session.get(PerformanceFigures, q.id).rating_count == 0
    _results, check = performance.check_and_recompute(at + dt.timedelta(minutes=3))
    assert check.stale_rows == 0 and check.largest_difference <= TOLERANCE
