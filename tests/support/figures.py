"""A small district whose March 2025 figures are worked out by hand (see tests/test_figures.py).

Town A (the `town` fixture) has communities c1 (the `community` fixture) and c2; town B has c3
and c4. Times are given in Shanghai local time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from catalog.demand.models import DemandRequest, DemandStatus, DemandSupport
from core.areas.models import Area
from core.i18n import LOCAL_TZ
from evaluation.adjustment.models import AdjustmentDecision, DecisionAction, DecisionStatus
from evaluation.feedback.models import FlagReason, Rating, RatingStatus
from marketplace.awards.models import Award, AwardStatus, Challenge
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import ProjectMethod, ProjectState, PurchaseProject
from marketplace.sessions.models import ServiceSession, SessionState
from tests.support.delivery import Delivery


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


@dataclass
class World:
    delivery: Delivery
    town_a: Area
    town_b: Area
    c1: Area
    c2: Area
    c3: Area
    c4: Area
    officer: object
    town_b_officer: object
    provider: object
    contract: object
    sessions: dict
    projects: dict


def build(session, make_user, make_area, district, town, community) -> World:
    d = Delivery(session, make_user, district, town, community)
    c2 = make_area("community", town, name="二号社区")
    town_b = make_area("town", district, name="乙镇")
    c3 = make_area("community", town_b, name="三号村")
    c4 = make_area("community", town_b, name="四号村")
    officer = d.officer()
    provider = d.provider()
    item = d.item()
    venues = {a: d.venue(a) for a in (community, c2, c3)}
    contract = d.contract(provider, officer, lines=[(item, venues[a], 10) for a in (community, c2, c3)])
    lines = {ln.venue_id: ln for ln in contract.lines}

    def sess(area, when, state, attendance=None, planned=50):
        v = venues[area]
        s = ServiceSession(contract_id=contract.id, line_id=lines[v.id].id, provider_id=provider.id,
                           item_id=item.id, venue_id=v.id, scheduled_at=when, planned_audience=planned,
                           state=state, scheduled_by_id=officer.id)
        if state in (SessionState.REPORTED, SessionState.CONFIRMED, SessionState.DISPUTED):
            s.reported_at, s.attendance, s.reported_late = when + dt.timedelta(hours=3), attendance, False
        if state in (SessionState.CONFIRMED, SessionState.DISPUTED):
            s.decided_at = when + dt.timedelta(days=1)
        if state == SessionState.CONFIRMED:
            s.acceptance_score = 90
        if state == SessionState.DISPUTED:
            s.dispute_reason = "人数不符"
        if state == SessionState.MISSED:
            s.missed_at = when + dt.timedelta(days=3)
        session.add(s)
        return s

    S = SessionState
    sessions = {
        "s1": sess(community, local(2025, 3, 10, 19), S.CONFIRMED, 40),
        "s2": sess(community, local(2025, 3, 12, 19), S.REPORTED, 30),
        "s3": sess(c3, local(2025, 3, 15, 19), S.MISSED),
        "s4": sess(c2, local(2025, 3, 20, 19), S.DISPUTED, 10),
        "s5": sess(c3, local(2025, 1, 20, 19), S.CONFIRMED, 25),  # within 90 days of 1 April
        "s6": sess(c2, local(2025, 4, 2, 19), S.CONFIRMED, 60),  # after the month
        # 1 March 01:00 in Shanghai is still 28 February in UTC: it belongs to March.
        "s7": sess(community, local(2025, 3, 1, 1), S.CONFIRMED, 5),
    }
    session.flush()

    residents = [make_user("resident") for _ in range(4)]

    def rate(s, stars, at, resident, status=RatingStatus.COUNTED):
        session.add(Rating(session_id=s.id, provider_id=provider.id, item_id=item.id, resident_id=resident.id,
                           content=stars[0], organisation=stars[1], venue=stars[2], created_at=at, updated_at=at,
                           status=status, flag_reason=FlagReason.BURST if status == RatingStatus.FLAGGED else None))

    rate(sessions["s1"], (5, 5, 5), local(2025, 3, 11, 9), residents[0])
    rate(sessions["s1"], (3, 3, 3), local(2025, 3, 11, 10), residents[1])
    rate(sessions["s4"], (1, 1, 1), local(2025, 3, 21, 9), residents[2], RatingStatus.FLAGGED)
    rate(sessions["s5"], (4, 4, 5), local(2025, 1, 21, 9), residents[3])

    def project(title, area, published, budget, state=ProjectState.AWARDED):
        p = PurchaseProject(title=title, area=area, method=ProjectMethod.OPEN_TENDER, budget=Decimal(budget),
                            created_by=officer, state=state, published_at=published,
                            bid_deadline=published + dt.timedelta(days=10), opened_at=published + dt.timedelta(days=10),
                            awarded_at=published + dt.timedelta(days=12) if state == ProjectState.AWARDED else None)
        session.add(p)
        session.flush()
        return p

    def award(p, amount, published, status=AwardStatus.PUBLISHED):
        bid = Bid(project_id=p.id, provider_id=provider.id, status=BidStatus.SUBMITTED, revision_no=1,
                  price=Decimal(amount))
        session.add(bid)
        session.flush()
        a = Award(project_id=p.id, bid_id=bid.id, provider_id=provider.id, amount=Decimal(amount), top_ranked=True,
                  top_bid_id=bid.id, awarded_by_id=officer.id, published_at=published,
                  publicity_ends_at=published + dt.timedelta(days=1),
                  challenge_deadline=published + dt.timedelta(days=9), status=status,
                  voided_at=published + dt.timedelta(days=2) if status == AwardStatus.VOID else None,
                  void_reason="质疑成立" if status == AwardStatus.VOID else "")
        session.add(a)
        session.flush()
        return a

    projects = {
        "p1": project("甲镇社区戏曲进基层", community, local(2025, 3, 5, 10), "1000.00"),
        "p2": project("乙镇广场舞培训", town_b, local(2025, 3, 10, 10), "2000.00"),
        "p3": project("乙镇读书会", town_b, local(2025, 3, 12, 10), "700.00", ProjectState.UNDER_REVIEW),
        "p4": project("甲镇二月展演", town, local(2025, 2, 3, 10), "500.00"),
    }
    award(projects["p1"], "900.00", local(2025, 3, 20, 10))
    a2 = award(projects["p2"], "1800.00", local(2025, 3, 25, 10))
    award(projects["p3"], "650.00", local(2025, 3, 26, 10), AwardStatus.VOID)
    award(projects["p4"], "450.00", local(2025, 2, 20, 10))

    rival = d.provider()
    rival_bid = Bid(project_id=projects["p2"].id, provider_id=rival.id, status=BidStatus.SUBMITTED, revision_no=1,
                    price=Decimal("1900.00"))
    session.add(rival_bid)
    session.flush()
    session.add(Challenge(award_id=a2.id, project_id=projects["p2"].id, bid_id=rival_bid.id, provider_id=rival.id,
                          lodged_by_id=rival.user_id, text="评分有误", lodged_at=local(2025, 3, 27, 10),
                          answer_due=local(2025, 4, 3, 10)))

    requester = residents[0]

    def demand(area, created, status=DemandStatus.OPEN, decided=None, supports=()):
        r = DemandRequest(item_id=item.id, community_id=area.id, venue_id=venues.get(area, venues[community]).id,
                          requester_id=requester.id, status=status, decided_at=decided, created_at=created,
                          decided_by_id=officer.id if decided else None, status_reason="已安排" if decided else "")
        session.add(r)
        session.flush()
        for i, at in enumerate(supports):
            session.add(DemandSupport(request_id=r.id, user_id=residents[i].id, created_at=at))
        return r

    demand(community, local(2025, 3, 3, 9), supports=[local(2025, 3, 3, 9), local(2025, 3, 8, 9)])
    demand(c3, local(2025, 3, 4, 9), DemandStatus.FULFILLED, local(2025, 3, 28, 9), supports=[local(2025, 3, 4, 9)])
    demand(community, local(2025, 2, 1, 9), DemandStatus.FULFILLED, local(2025, 3, 2, 9),
           supports=[local(2025, 2, 1, 9)])
    demand(c2, local(2025, 4, 5, 9), supports=[local(2025, 4, 5, 9)])

    for when, rule in ((local(2025, 3, 18, 9), "provider_grade_c_twice"), (local(2025, 1, 18, 9), "provider_grade_d")):
        session.add(AdjustmentDecision(rule=rule, rule_version="1", action=DecisionAction.WARN,
                                       provider_id=provider.id, figures={"score": "70", "previous_score": "72"},
                                       proposed_at=when, due_at=when + dt.timedelta(days=14),
                                       status=DecisionStatus.PROPOSED))
    session.flush()
    return World(d, town, town_b, community, c2, c3, c4, officer, d.officer(town_b), provider, contract, sessions,
                 projects)
