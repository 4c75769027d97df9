"""Property tests (hypothesis) of the review arithmetic and the performance model.

Examples are derandomized (the profile in tests/conftest.py) and bounded, so a run is fast and
the same every time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select

from core.db import UTCDateTime, utcnow
from evaluation.performance import operations as performance
from evaluation.performance.operations import District, Figures, Parameters
from evaluation.review import ranking
from evaluation.review.ranking import BidIn, CriterionIn

T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
CENT = D("0.01")

# --- the review ----------------------------------------------------------------------------------

prices = st.integers(1_000_00, 500_000_00).map(lambda c: D(c) / 100)
weights = st.integers(10, 30).map(D)


@given(lowest=prices, extra=st.integers(0, 1_000_000_00).map(lambda c: D(c) / 100), weight=weights)
@settings(max_examples=200)
def test_price_points_follow_the_formula_within_the_weight(lowest, extra, weight):
    price = lowest + extra
    points = ranking.price_points(lowest, price, weight)
    assert points == (lowest / price * weight).quantize(CENT, rounding="ROUND_HALF_UP")
    assert D(0) <= points <= weight
    assert points.as_tuple().exponent == -2
    if price == lowest:
        assert points == weight
    # A higher price never earns more points.
    assert ranking.price_points(lowest, price + 1, weight) <= points


@st.composite
def reviews(draw):
    n_bids = draw(st.integers(1, 5))
    n_members = draw(st.sampled_from([3, 5, 7]))
    n_criteria = draw(st.integers(1, 3))
    criteria = [CriterionIn(100 + k, D(0), D(draw(st.sampled_from([10, 20, 30]))), k) for k in range(n_criteria)]
    # Few distinct prices and times, so that ties happen.
    bids = [BidIn(i + 1, D(draw(st.sampled_from([80_000, 90_000, 100_000, 120_000]))),
                  T0 + dt.timedelta(minutes=draw(st.integers(0, 3))), valid=True,
                  performance=draw(st.one_of(st.none(), st.integers(0, 100).map(D))))
            for i in range(n_bids)]
    members = list(range(1, n_members + 1))
    scores = {(m, b.bid_id, c.criterion_id): D(draw(st.integers(0, int(c.max_score) * 2))) / 2
              for m in members for b in bids for c in criteria}
    return bids, criteria, members, scores, draw(st.sampled_from([20, 30])), n_members >= 7


@given(reviews())
@settings(max_examples=150)
def test_totals_are_the_sum_of_rounded_means_price_and_performance(case):
    bids, criteria, members, scores, price_weight, trim = case
    out = ranking.compute(bids, criteria, scores, members, price_weight=D(price_weight), performance_weight=D(10),
                          prior=D(75), trim=trim, deviation_percent=D(30))
    lowest = min(b.price for b in bids)
    for b in out.bids:
        line_sum = D(0)
        for line in b.lines:
            values = sorted(line.scores.values())
            used = values[1:-1] if trim else values
            assert line.mean == (sum(used, D(0)) / len(used)).quantize(CENT, rounding="ROUND_HALF_UP")
            assert min(values) <= line.mean <= max(values)
            line_sum += line.mean
        assert b.subjective_points == line_sum
        assert b.price_points == ranking.price_points(lowest, b.price, D(price_weight))
        assert b.performance_points == ranking.performance_points(b.performance_snapshot, D(10))
        assert b.total == b.subjective_points + b.price_points + b.performance_points
        for figure in (b.price_points, b.performance_points, b.total):
            assert figure.as_tuple().exponent == -2
        assert b.total <= sum((c.max_score for c in criteria), D(0)) + D(price_weight) + D(10)


@given(reviews())
@settings(max_examples=150)
def test_ranking_is_by_total_then_lower_price_then_earlier_submission(case):
    bids, criteria, members, scores, price_weight, trim = case
    out = ranking.compute(bids, criteria, scores, members, price_weight=D(price_weight), performance_weight=D(10),
                          prior=D(75), trim=trim, deviation_percent=D(30))
    ranked = out.bids
    assert [b.rank for b in ranked] == list(range(1, len(ranked) + 1))
    for a, b in itertools.pairwise(ranked):
        assert a.total >= b.total
        if a.total == b.total:
            assert a.price <= b.price
            if a.price == b.price:
                assert a.submitted_at <= b.submitted_at


# --- the performance model --------------------------------------------------------------------------

PARAMS = Parameters(weights={"satisfaction": 40, "acceptance": 30, "punctuality": 15, "complaints": 15},
                    prior_weight=20, half_life_days=180, complaint_penalty=D(5), default_prior=D("4.0"))


def _weight(age_days: float) -> float:
    return math.exp(-math.log(2) * age_days / 180)


def _figures(ratings, acceptance=(), complaints=0) -> Figures:
    """Figures as the SQL aggregates would give them: (stars, age in days) per rating."""
    f = Figures()
    f.rating_count = len(ratings)
    f.rating_weight = sum(_weight(a) for _s, a in ratings)
    f.rating_weighted_sum = sum(_weight(a) * s for s, a in ratings)
    f.acceptance_count = len(acceptance)
    f.acceptance_weight = sum(_weight(a) for _s, a in acceptance)
    f.acceptance_weighted_sum = sum(_weight(a) * s for s, a in acceptance)
    f.due_count = f.delivered_count = f.on_time_count = len(acceptance)
    f.due_weight = f.on_time_weight = f.acceptance_weight
    f.complaints_upheld = complaints
    return f


ratings_st = st.lists(st.tuples(st.integers(1, 5), st.integers(0, 900)), max_size=40)
prior_st = st.integers(100, 500).map(lambda c: D(c) / 100)


@given(ratings_st, prior_st)
@settings(max_examples=200)
def test_satisfaction_lies_between_the_prior_and_the_sample_mean(ratings, prior):
    r = performance.compute(_figures(ratings), PARAMS, District(prior, None, None))
    if not ratings:
        assert r.satisfaction == prior.quantize(D("0.000001"))
        return
    f = _figures(ratings)
    sample = D(repr(f.rating_weighted_sum / f.rating_weight))
    low, high = min(prior, sample), max(prior, sample)
    assert low - D("0.000001") <= r.satisfaction <= high + D("0.000001")
    # With C = 20 the prior still holds at least 20 / (20 + n) of the weight.
    share = D(20) / (D(20) + D(repr(f.rating_weight)))
    expected = prior * share + sample * (1 - share)
    assert abs(r.satisfaction - expected) < D("0.00001")


@given(ratings_st, prior_st, st.integers(0, 900))
@settings(max_examples=200)
def test_a_five_star_rating_never_lowers_and_a_one_star_never_raises(ratings, prior, age):
    district = District(prior, None, None)
    base = performance.compute(_figures(ratings), PARAMS, district)
    better = performance.compute(_figures([*ratings, (5, age)]), PARAMS, district)
    worse = performance.compute(_figures([*ratings, (1, age)]), PARAMS, district)
    assert worse.satisfaction <= base.satisfaction <= better.satisfaction
    assert worse.score <= base.score <= better.score


@given(ratings_st, prior_st, st.lists(st.tuples(st.integers(0, 100), st.integers(0, 900)), max_size=20),
       st.integers(0, 30))
@settings(max_examples=200)
def test_score_is_within_0_and_100_and_its_grade_follows_the_thresholds(ratings, prior, acceptance, complaints):
    r = performance.compute(_figures(ratings, acceptance, complaints), PARAMS, District(prior, None, None))
    assert D(0) <= r.score <= D(100) and r.score.as_tuple().exponent == -2
    assert all(D(0) <= p <= D(100) for p in r.points.values())
    expected = "A" if r.score >= 90 else "B" if r.score >= 75 else "C" if r.score >= 60 else "D"
    assert r.grade == expected == performance.grade_for(r.score)


@given(st.integers(0, 2000))
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_database_decay_halves_a_weight_every_180_days(session, age_days):
    """The decay the SQL aggregates use: exp(−ln 2 · age / 180), so 0.5 at 180 days, 0.25 at 360."""
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    then = now - dt.timedelta(days=age_days)
    w = session.scalar(select(performance.decay(literal(then, UTCDateTime()), now, 180)))
    assert w == pytest.approx(0.5 ** (age_days / 180), rel=1e-6)
    half = session.scalar(select(performance.decay(literal(now - dt.timedelta(days=180), UTCDateTime()), now, 180)))
    assert half == pytest.approx(0.5, rel=1e-9)


@pytest.fixture
def provider_session(session, make_user, district, town, community):
    """A provider with a delivered session, and another provider with a rating (the district mean)."""
    from tests.support.delivery import Delivery

    d = Delivery(session, make_user, district, town, community)
    p, other = d.provider(), d.provider()
    s = d.schedule(d.contract(p), utcnow() - dt.timedelta(days=1))
    so = d.schedule(d.contract(other), utcnow() - dt.timedelta(days=1))
    residents = [make_user("resident") for _ in range(8)]
    return session, p, s, so, residents


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 700)), min_size=1, max_size=6),
       st.integers(1, 5), st.integers(1, 5))
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_incremental_update_equals_the_full_recompute(provider_session, history, stars, other_stars):
    """Old ratings written directly, a new one through `ratings.rate` (the incremental update):
    the provider's score equals what a full recompute gives for the same data at the same time."""
    from evaluation.feedback import operations as rating_ops
    from evaluation.feedback.models import Rating, RatingStatus

    session, p, s, so, residents = provider_session
    now = utcnow().replace(microsecond=0)
    nested = session.begin_nested()
    try:
        def row(sess, resident, value, at):
            session.add(Rating(session_id=sess.id, provider_id=sess.provider_id, item_id=sess.item_id,
                               resident_id=resident.id, content=value, organisation=value, venue=value, created_at=at,
                               updated_at=at, status=RatingStatus.COUNTED))

        row(so, residents[0], other_stars, now - dt.timedelta(days=3))
        for k, (value, age) in enumerate(history):
            row(s, residents[k + 1], value, now - dt.timedelta(days=age, hours=1))
        session.flush()
        rating_ops.rate(s, residents[7], {"content": stars, "organisation": stars, "venue": stars}, now=now,
                        attendance_code=s.attendance_code)
        session.refresh(p)
        incremental = p.performance_score
        full = performance.recompute_all(now)
        assert full[p.id].score == incremental
    finally:
        nested.rollback()
