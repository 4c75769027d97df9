"""Builders for review tests: an opened project with bids, experts, a full review.

Bids are made as the opening leaves them: the price unsealed into `Bid.price` and the
provider's performance score copied into `Bid.performance_at_opening` (None: no history).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from catalog.items.models import Category, Item, ItemStatus
from core import uscc
from core.areas.models import Venue, VenueKind
from core.db import utcnow
from evaluation.experts.models import Expert
from marketplace.bids.models import Bid
from marketplace.projects.models import (
    Criterion,
    CriterionKind,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus

_n = itertools.count(1)
D = Decimal


def code(n: int | None = None) -> str:
    """A well-formed credit code (with its GB 32100 check character)."""
    n = next(_n) if n is None else n
    return uscc.complete("9", "1", "110000", f"MA{n:06d}")


def category(session, name="文艺演出", parent=None) -> Category:
    n = next(_n)
    c = Category(code=f"C{n:03d}", name=f"{name}{n}", parent=parent)
    session.add(c)
    session.flush()
    return c


def provider(session, make_user, name=None, credit_code=None, performance=None) -> Provider:
    user = make_user("provider")
    p = Provider(user_id=user.id, name=name or f"承接主体{next(_n)}", credit_code=credit_code or code(),
                 kind=ProviderKind.SOCIAL_ORGANISATION, legal_representative="法人", contact_name="联系人",
                 contact_phone="13800000000", status=ProviderStatus.APPROVED, performance_score=performance)
    session.add(p)
    session.flush()
    return p


SPEC = [  # (kind, name, weight, min, max)
    (CriterionKind.PRICE, "价格", D(30), None, None),
    (CriterionKind.PERFORMANCE, "履约评价", D(10), None, None),
    (CriterionKind.SUBJECTIVE, "服务方案", D(30), D(0), D(30)),
    (CriterionKind.SUBJECTIVE, "团队与经验", D(30), D(0), D(30)),
    (CriterionKind.QUALIFICATION, "资格证明", D(0), None, None),
]


def project(session, officer, area, cat, *, budget=D("150000.00"), spec=SPEC, state=ProjectState.OPENED,
            opened_at=None, quantities=(6, 4)) -> PurchaseProject:
    opened_at = opened_at or utcnow() - dt.timedelta(hours=1)
    item = Item(code=f"I{next(_n):04d}", category=cat, name="戏曲进社区", unit="场", price_ceiling=D("20000.00"),
                status=ItemStatus.ACTIVE, levels=["town", "community"])
    venues = [Venue(name=f"文化室{next(_n)}", kind=VenueKind.CULTURAL_ROOM, area=area, capacity=80)
              for _q in quantities]
    session.add_all([item, *venues])
    p = PurchaseProject(title="2026年戏曲进社区服务", area_id=area.id, method=ProjectMethod.OPEN_TENDER, budget=budget,
                        created_by_id=officer.id, state=state, published_at=opened_at - dt.timedelta(days=20),
                        bid_deadline=opened_at - dt.timedelta(hours=2), closed_at=opened_at - dt.timedelta(hours=2),
                        opened_at=opened_at, criteria_locked_at=opened_at - dt.timedelta(days=5))
    for i, (venue, q) in enumerate(zip(venues, quantities, strict=True)):
        p.lines.append(ProjectLine(item=item, venue=venue, quantity=q, unit_ceiling=D("20000.00"), position=i))
    for i, (kind, name, weight, lo, hi) in enumerate(spec):
        p.criteria.append(Criterion(kind=kind, name=name, weight=weight, min_score=lo, max_score=hi, position=i,
                                    rubric=f"{name}评分标准"))
    if state != ProjectState.OPENED:
        p.review_started_at = opened_at
    if state in (ProjectState.AWARDED, ProjectState.CONTRACTED, ProjectState.IN_DELIVERY, ProjectState.COMPLETED):
        p.awarded_at = opened_at + dt.timedelta(days=3)
    if state in (ProjectState.CONTRACTED, ProjectState.IN_DELIVERY, ProjectState.COMPLETED):
        p.contracted_at = opened_at + dt.timedelta(days=15)
    session.add(p)
    session.flush()
    return p


def bid(session, proj, prov, price, submitted_at=None, performance="same") -> Bid:
    """A bid as the opening leaves it (price unsealed, performance copied from the provider)."""
    perf = prov.performance_score if performance == "same" else performance
    b = Bid(project_id=proj.id, provider_id=prov.id, price=D(price), performance_at_opening=perf,
            submitted_at=submitted_at or proj.opened_at - dt.timedelta(days=1),
            first_submitted_at=submitted_at or proj.opened_at - dt.timedelta(days=1))
    session.add(b)
    session.flush()
    return b


def expert(session, make_user, cats, *, employer_code=None, name=None, active=True) -> Expert:
    user = make_user("expert")
    e = Expert(user_id=user.id, name=name or f"专家{next(_n)}", title="教授", employer="某大学",
               employer_credit_code=employer_code or uscc.complete("1", "2", "110000", f"MB{next(_n):06d}"),
               specialties=list(cats), active=active)
    session.add(e)
    session.flush()
    return e


def criteria(proj):
    """(price, performance, subjective list, qualification list) of a project."""
    return (proj.price_criterion, proj.criteria_of(CriterionKind.PERFORMANCE)[0],
            proj.criteria_of(CriterionKind.SUBJECTIVE), proj.criteria_of(CriterionKind.QUALIFICATION))


def reviewed_project(session, make_user, area, *, scores=None, n_experts=5, sign=True, officer=None):
    """An opened project with three bids, reviewed by a panel that submitted (and signed off).

    `scores` maps a bid index to the score every expert gives it on every subjective criterion
    (default: the first bid best). Returns a dict of the pieces.
    """
    from evaluation.review import draw, scoring
    from evaluation.review import operations as review

    officer = officer or make_user("officer")
    cat = category(session)
    proj = project(session, officer, area, cat)
    provs = [provider(session, make_user, name) for name in ("甲艺术团", "乙文化中心", "丙剧社")]
    bids = [bid(session, proj, p, price) for p, price in zip(provs, ("90000.00", "100000.00", "110000.00"),
                                                              strict=True)]
    for _ in range(n_experts):
        expert(session, make_user, [cat])
    panel = draw.draw_panel(proj, officer, seed=f"reviewed-{proj.id}")
    scores = scores or {0: 25, 1: 20, 2: 15}
    _price, _perf, subjective, qualification = criteria(proj)
    for m in panel.members:
        draw.confirm_no_conflict(m, m.expert.user)
    for b in bids:
        for q in qualification:
            scoring.record_qualification(panel.leader, b, q, passed=True, reason="齐全", actor=panel.leader.expert.user)
    result = None
    for m in sorted(panel.members, key=lambda m: m.draw_position):
        for i, b in enumerate(bids):
            scoring.save_scores(m, b, {c.id: (scores[i], "") for c in subjective}, m.expert.user)
        result = scoring.submit(m, m.expert.user)
    if sign:
        review.sign_off(panel, panel.leader, panel.leader.expert.user)
    return {"officer": officer, "category": cat, "project": proj, "providers": provs, "bids": bids, "panel": panel,
            "result": result}
