"""The review's arithmetic, on plain values, so it can be checked by hand and by property tests.

Rules (DESIGN.md, Ministry of Finance Order No. 87 art. 55):
- price points = lowest valid price ÷ bid price × price weight;
- performance points = performance score at opening (0–100; the published prior for a
  provider without history) × performance weight ÷ 100;
- per subjective criterion, the mean of the experts' scores — without the single highest and
  single lowest score when `trim` is on (a panel of 7 or more);
- total = Σ subjective means + price points + performance points;
- ranking by total (higher first), then lower price, then earlier submission (then bid id,
  so the order is always total).

Rounding: every mean and points figure is rounded to 0.01 half up (ROUND_HALF_UP) before it
is added; the total is the exact sum of the rounded figures. Division uses Decimal with 28
significant digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ROUNDING_RULE = "0.01, ROUND_HALF_UP"


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def price_points(lowest: Decimal, price: Decimal, weight: Decimal) -> Decimal:
    """(lowest valid price / bid price) × price weight, rounded; the lowest price gets the full weight."""
    if price <= 0 or lowest <= 0:
        raise ValueError("prices must be positive")
    if price == lowest:
        return r2(Decimal(weight))
    return r2(Decimal(lowest) * Decimal(weight) / Decimal(price))


def performance_points(score: Decimal, weight: Decimal) -> Decimal:
    return r2(Decimal(score) * Decimal(weight) / HUNDRED)


@dataclass(frozen=True)
class BidIn:
    bid_id: int
    price: Decimal
    submitted_at: dt.datetime
    valid: bool = True
    performance: Decimal | None = None  # the snapshot at opening; None → the prior


@dataclass(frozen=True)
class CriterionIn:
    criterion_id: int
    min_score: Decimal
    max_score: Decimal
    position: int = 0


@dataclass
class LineOut:
    criterion_id: int
    position: int
    scores: dict[int, Decimal]  # member id → score
    dropped_high: int | None
    dropped_low: int | None
    used_count: int
    score_sum: Decimal
    mean: Decimal


@dataclass
class FlagOut:
    member_id: int
    bid_id: int
    criterion_id: int
    score: Decimal
    panel_mean: Decimal
    difference: Decimal
    limit: Decimal


@dataclass
class BidOut:
    bid_id: int
    price: Decimal
    submitted_at: dt.datetime
    valid: bool
    price_points: Decimal | None = None
    performance_snapshot: Decimal | None = None
    performance_from_prior: bool = False
    performance_points: Decimal | None = None
    subjective_points: Decimal | None = None
    total: Decimal | None = None
    rank: int | None = None
    lines: list[LineOut] = field(default_factory=list)


@dataclass
class Outcome:
    lowest_valid_price: Decimal | None
    bids: list[BidOut]  # ranked valid bids first (rank order), then invalid ones by bid id
    flags: list[FlagOut]


def criterion_mean(scores: dict[int, Decimal], trim: bool) -> tuple[Decimal, int | None, int | None, int, Decimal]:
    """(rounded mean, member dropped as highest, as lowest, count used, sum used).

    Trimming drops one highest and one lowest score; among equal scores the member with the
    smaller id is dropped, so the choice is reproducible (the mean does not depend on it).
    """
    if not scores:
        raise ValueError("no scores")
    items = sorted(scores.items(), key=lambda kv: (kv[1], kv[0]))
    high = low = None
    if trim and len(items) >= 3:
        low = items[0][0]
        # The highest score; among ties, the smallest member id.
        top = max(kv[1] for kv in items)
        high = min(m for m, s in items if s == top and m != low)
        items = [kv for kv in items if kv[0] not in (low, high)]
    total = sum((s for _m, s in items), Decimal(0))
    return r2(total / len(items)), high, low, len(items), total


def compute(bids: list[BidIn], criteria: list[CriterionIn], scores: dict[tuple[int, int, int], Decimal],
            member_ids: list[int], *, price_weight: Decimal, performance_weight: Decimal, prior: Decimal,
            trim: bool, deviation_percent: Decimal) -> Outcome:
    """The full review outcome. `scores` maps (member id, bid id, criterion id) to a score and
    must hold one for every member × valid bid × criterion."""
    valid = [b for b in bids if b.valid]
    lowest = min((b.price for b in valid), default=None)
    criteria = sorted(criteria, key=lambda c: (c.position, c.criterion_id))
    outs: list[BidOut] = []
    flags: list[FlagOut] = []
    for b in sorted(bids, key=lambda b: b.bid_id):
        out = BidOut(bid_id=b.bid_id, price=b.price, submitted_at=b.submitted_at, valid=b.valid)
        outs.append(out)
        if not b.valid:
            continue
        out.price_points = price_points(lowest, b.price, price_weight) if price_weight else Decimal("0.00")
        out.performance_from_prior = b.performance is None
        out.performance_snapshot = prior if b.performance is None else b.performance
        out.performance_points = performance_points(out.performance_snapshot, performance_weight)
        subjective = Decimal("0.00")
        for c in criteria:
            per_member = {m: scores[(m, b.bid_id, c.criterion_id)] for m in member_ids}
            mean, high, low, used, total = criterion_mean(per_member, trim)
            out.lines.append(LineOut(c.criterion_id, c.position, per_member, high, low, used, total, mean))
            subjective += mean
            flags.extend(_flags(b.bid_id, c, per_member, deviation_percent))
        out.subjective_points = subjective
        out.total = subjective + out.price_points + out.performance_points
    ranked = sorted((o for o in outs if o.valid), key=rank_key)
    for i, o in enumerate(ranked, start=1):
        o.rank = i
    invalid = [o for o in outs if not o.valid]
    flags.sort(key=lambda f: (f.bid_id, f.criterion_id, f.member_id))
    return Outcome(lowest, ranked + invalid, flags)


def rank_key(o: BidOut):
    """Higher total first; ties: lower price, earlier submission, then bid id."""
    return (-o.total, o.price, o.submitted_at, o.bid_id)


def _flags(bid_id: int, c: CriterionIn, per_member: dict[int, Decimal], deviation_percent: Decimal):
    """Scores further from the panel's (untrimmed) mean than `deviation_percent` of the range."""
    mean = sum(per_member.values(), Decimal(0)) / len(per_member)
    limit = (Decimal(c.max_score) - Decimal(c.min_score)) * Decimal(deviation_percent) / HUNDRED
    out = []
    for member, score in sorted(per_member.items()):
        diff = abs(score - mean)
        if diff > limit:
            out.append(FlagOut(member, bid_id, c.criterion_id, score, mean, diff, limit))
    return out
