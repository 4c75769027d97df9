"""The review's arithmetic on plain values: properties (hypothesis) and hand-checked cases."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.review import ranking
from evaluation.review.ranking import BidIn, CriterionIn

T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
CRITERIA = [CriterionIn(101, D(0), D(30), 0), CriterionIn(102, D(0), D(20), 1)]


def _compute(bids, scores, members, criteria=CRITERIA, trim=False, price_weight=D(30)):
    return ranking.compute(bids, criteria, scores, members, price_weight=price_weight, performance_weight=D(10),
                           prior=D(75), trim=trim, deviation_percent=D(30))


@st.composite
def reviews(draw):
    n_bids = draw(st.integers(2, 6))
    n_members = draw(st.sampled_from([3, 5, 7, 9]))
    prices = draw(st.lists(st.integers(5_000_00, 200_000_00), min_size=n_bids, max_size=n_bids))
    bids = [BidIn(i + 1, D(p) / 100, T0 + dt.timedelta(minutes=draw(st.integers(0, 10_000))),
                  valid=draw(st.booleans()) if i else True,
                  performance=draw(st.one_of(st.none(), st.integers(0, 10000).map(lambda x: D(x) / 100))))
            for i, p in enumerate(prices)]
    members = list(range(1, n_members + 1))
    scores = {}
    for m in members:
        for b in bids:
            for c in CRITERIA:
                scores[(m, b.bid_id, c.criterion_id)] = D(draw(st.integers(0, int(c.max_score) * 2))) / 2
    trim = n_members >= 7
    return bids, members, scores, trim, draw(st.randoms(use_true_random=False))


@settings(max_examples=150, deadline=None)
@given(reviews())
def test_ranking_does_not_depend_on_the_order_of_entry(case):
    bids, members, scores, trim, rnd = case
    first = _compute(bids, scores, members, trim=trim)
    shuffled_bids = list(bids)
    rnd.shuffle(shuffled_bids)
    items = list(scores.items())
    rnd.shuffle(items)
    shuffled_members = list(members)
    rnd.shuffle(shuffled_members)
    shuffled_criteria = list(CRITERIA)
    rnd.shuffle(shuffled_criteria)
    second = _compute(shuffled_bids, dict(items), shuffled_members, criteria=shuffled_criteria, trim=trim)
    as_map = lambda o: {b.bid_id: (b.rank, b.total, b.price_points, b.subjective_points) for b in o.bids}  # noqa: E731
    assert as_map(first) == as_map(second)
    assert [b.bid_id for b in first.bids] == [b.bid_id for b in second.bids]
    assert [(f.member_id, f.bid_id, f.criterion_id) for f in first.flags] == \
        [(f.member_id, f.bid_id, f.criterion_id) for f in second.flags]


@settings(max_examples=150, deadline=None)
@given(reviews(), st.integers(10, 30))
def test_the_lowest_valid_price_gets_the_full_price_weight(case, weight):
    bids, members, scores, trim, _rnd = case
    out = _compute(bids, scores, members, trim=trim, price_weight=D(weight))
    valid = [b for b in out.bids if b.valid]
    lowest = min(b.price for b in valid)
    assert out.lowest_valid_price == lowest
    for b in valid:
        if b.price == lowest:
            assert b.price_points == D(weight)
        else:
            assert b.price_points <= D(weight)
    # Ranks are 1..n over the valid bids, ordered by total, then price, then submission.
    assert sorted(b.rank for b in valid) == list(range(1, len(valid) + 1))
    ordered = sorted(valid, key=lambda b: b.rank)
    for a, b in itertools.pairwise(ordered):
        assert (a.total, -a.price) >= (b.total, -b.price)
        if a.total == b.total and a.price == b.price:
            assert a.submitted_at <= b.submitted_at
    assert all(b.rank is None and b.total is None for b in out.bids if not b.valid)


def test_price_points_round_half_up_to_the_cent():
    assert ranking.price_points(D("90000"), D("110000"), D(30)) == D("24.55")  # 24.5454…
    assert ranking.price_points(D("100"), D("800"), D(10)) == D("1.25")  # exactly 1.25
    assert ranking.price_points(D("1"), D("3"), D(30)) == D("10.00")
    assert ranking.price_points(D("2"), D("3"), D("10")) == D("6.67")  # 6.666…
    assert ranking.price_points(D("77777.77"), D("77777.77"), D(25)) == D("25.00")


def test_seven_experts_drop_the_highest_and_lowest():
    scores = {1: D(10), 2: D(20), 3: D(21), 4: D(22), 5: D(23), 6: D(24), 7: D(30)}
    mean, high, low, used, total = ranking.criterion_mean(scores, trim=True)
    assert (mean, high, low, used, total) == (D("22.00"), 7, 1, 5, D(110))
    # Equal extremes: the smaller member id is the one dropped, the mean is the same either way.
    tied = {1: D(5), 2: D(5), 3: D(6), 4: D(7), 5: D(9), 6: D(9), 7: D(8)}
    mean, high, low, used, total = ranking.criterion_mean(tied, trim=True)
    assert (high, low, used, total) == (5, 1, 5, D(35)) and mean == D("7.00")
    assert ranking.criterion_mean({1: D(1), 2: D(2)}, trim=False)[0] == D("1.50")


def test_ties_go_to_the_lower_price_then_the_earlier_submission():
    members = [1, 2, 3]
    crit = [CriterionIn(1, D(0), D(50))]
    # X and Y end on the same total: X has the higher price points, Y the higher scores.
    bids = [BidIn(1, D(100), T0), BidIn(2, D(125), T0), BidIn(3, D(125), T0 - dt.timedelta(hours=1))]
    scores = {}
    for m in members:
        scores[(m, 1, 1)] = D(40)
        scores[(m, 2, 1)] = D(46)  # 46 + 24.00 = 70 = 40 + 30.00
        scores[(m, 3, 1)] = D(46)
    out = ranking.compute(bids, crit, scores, members, price_weight=D(30), performance_weight=D(0), prior=D(75),
                          trim=False, deviation_percent=D(30))
    totals = {b.bid_id: b.total for b in out.bids}
    assert totals == {1: D("70.00"), 2: D("70.00"), 3: D("70.00")}
    # 1 is cheapest; 3 and 2 cost the same and 3 was submitted earlier.
    assert [b.bid_id for b in out.bids] == [1, 3, 2]


def test_an_invalid_bid_does_not_set_the_base_price():
    members = [1]
    crit = [CriterionIn(1, D(0), D(10))]
    bids = [BidIn(1, D(50), T0, valid=False), BidIn(2, D(100), T0), BidIn(3, D(200), T0)]
    scores = {(1, b.bid_id, 1): D(5) for b in bids}
    out = ranking.compute(bids, crit, scores, members, price_weight=D(20), performance_weight=D(10), prior=D(70),
                          trim=False, deviation_percent=D(30))
    got = {b.bid_id: b for b in out.bids}
    assert out.lowest_valid_price == D(100)
    assert got[2].price_points == D("20.00") and got[3].price_points == D("10.00")
    assert got[2].performance_points == D("7.00") and got[2].performance_from_prior
    assert got[1].rank is None and [b.bid_id for b in out.bids] == [2, 3, 1]


def test_flags_use_the_share_of_the_range():
    crit = CriterionIn(1, D(0), D(10))
    flags = ranking._flags(9, crit, {1: D(5), 2: D(5), 3: D(9)}, D(30))  # mean 6.333…, limit 3
    assert [(f.member_id, f.score) for f in flags] == []
    flags = ranking._flags(9, crit, {1: D(2), 2: D(2), 3: D(10), 4: D(2)}, D(30))  # mean 4, limit 3
    assert [(f.member_id, f.difference) for f in flags] == [(3, D(6))]
