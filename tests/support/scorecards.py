"""A small district whose March 2025 scorecards and 15-minute circle are worked out by hand
(tests/test_scorecards.py, tests/test_coverage.py).

Town A (the `town` fixture) has c1 (the `community` fixture, 2,000 residents) and c2 (3,000);
town B has c3 (5,000). Venues (WGS-84):

    c1 centre 39.7000,116.3000   v1 cultural room in c1 at 39.7050,116.3000 (556 m: covers c1)
    c2 centre 39.7200,116.3000   v2 cultural square in c2 at its centre (covers c2; not a room)
    c3 centre 39.6000,116.4000   v3 cultural room in c3 at 39.6000,116.4200 (1,714 m: c3 is a gap)
                                 v4 library in c3 at 39.6030,116.4000, no sessions (334 m from c3)

March sessions (delivered unless said): c1 s1 (40 people, item for older people), s2 (30, plain
item, one upheld complaint); c2 s3 disputed (10, item for older people); c3 s4 (100, plain item),
s5 missed. Ratings in March: s1 5★ and 4★, s4 3★. Requests decided in March: c1 one fulfilled
after 10 days and one declined; c3 one fulfilled after 20 days. Awards published in March:
900 of a 1,000 budget for c1's project (v1), 1,500 of 2,000 for town B's (v3), and 1,500 of 1,800 for a
district-wide project whose lines are v1 3 × 400 = 1,200 and v3 1 × 600 = 600 (c1 two thirds, c3 one).
Third-party visits recorded in March (plan 2025-03): s1 scored 80 and s2 70 (c1: mean 75), s3 50 (c2),
s4 60 (c3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from catalog.demand.models import DemandRequest, DemandStatus
from catalog.items.models import Item, TargetGroup
from core.areas.models import Area, Venue, VenueKind
from evaluation.assessment.models import AssessmentAgency, AssessmentPlan, AssessmentVisit, Assessor, VisitStatus
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from marketplace.awards.models import Award, AwardStatus
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import ProjectLine, ProjectMethod, ProjectState, PurchaseProject
from marketplace.sessions.models import ServiceSession, SessionState
from tests.support.delivery import Delivery
from tests.support.figures import local


@dataclass
class World:
    town_a: Area
    town_b: Area
    c1: Area
    c2: Area
    c3: Area
    venues: dict
    sessions: dict
    town_b_officer: object
    town_a_officer: object


def place(area, lat, lon, population=None):
    area.latitude, area.longitude = Decimal(str(lat)), Decimal(str(lon))
    if population is not None:
        area.population = population


def build(session, make_user, make_area, district, town, community) -> World:
    d = Delivery(session, make_user, district, town, community)
    c2 = make_area("community", town, name="二号社区", code="SC-C2")
    town_b = make_area("town", district, name="乙镇", code="SC-TB")
    c3 = make_area("community", town_b, name="三号村", code="SC-C3")
    place(community, 39.7, 116.3, 2000)
    place(c2, 39.72, 116.3, 3000)
    place(c3, 39.6, 116.4, 5000)

    def venue(name, kind, area, lat, lon):
        v = Venue(name=name, kind=kind, area=area, capacity=80, latitude=Decimal(str(lat)),
                  longitude=Decimal(str(lon)))
        session.add(v)
        return v

    venues = {"v1": venue("一号文化室", VenueKind.CULTURAL_ROOM, community, 39.705, 116.3),
              "v2": venue("二号广场", VenueKind.SQUARE, c2, 39.72, 116.3),
              "v3": venue("三号文化室", VenueKind.CULTURAL_ROOM, c3, 39.6, 116.42),
              "v4": venue("三号图书室", VenueKind.LIBRARY, c3, 39.603, 116.4)}
    session.flush()
    officer = d.officer()
    provider = d.provider()
    plain = d.item()
    elderly = Item(code="SC-ELDER", category=plain.category, name="老年合唱", unit="场",
                   price_ceiling=Decimal("1000.00"),
                   levels=plain.levels, status=plain.status, target_groups=[TargetGroup.ELDERLY.value])
    session.add(elderly)
    session.flush()
    lines = [(elderly, venues["v1"], 10), (plain, venues["v1"], 10), (elderly, venues["v2"], 10),
             (plain, venues["v3"], 10)]
    contract = d.contract(provider, officer, lines=lines)
    line_of = {(ln.item_id, ln.venue_id): ln for ln in contract.lines}

    def sess(item, v, when, state, attendance=None):
        s = ServiceSession(contract_id=contract.id, line_id=line_of[(item.id, v.id)].id, provider_id=provider.id,
                           item_id=item.id, venue_id=v.id, scheduled_at=when, planned_audience=50, state=state,
                           scheduled_by_id=officer.id)
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
        "s1": sess(elderly, venues["v1"], local(2025, 3, 10, 19), S.CONFIRMED, 40),
        "s2": sess(plain, venues["v1"], local(2025, 3, 12, 19), S.REPORTED, 30),
        "s3": sess(elderly, venues["v2"], local(2025, 3, 14, 19), S.DISPUTED, 10),
        "s4": sess(plain, venues["v3"], local(2025, 3, 16, 19), S.CONFIRMED, 100),
        "s5": sess(plain, venues["v3"], local(2025, 3, 18, 19), S.MISSED),
    }
    session.flush()
    residents = [make_user("resident") for _ in range(3)]

    def rate(s, stars, resident):
        at = s.scheduled_at + dt.timedelta(hours=20)
        session.add(Rating(session_id=s.id, provider_id=provider.id, item_id=s.item_id, resident_id=resident.id,
                           content=stars, organisation=stars, venue=stars, created_at=at, updated_at=at,
                           status=RatingStatus.COUNTED))

    rate(sessions["s1"], 5, residents[0])
    rate(sessions["s1"], 4, residents[1])
    rate(sessions["s4"], 3, residents[2])
    session.add(Complaint(session_id=sessions["s2"].id, provider_id=provider.id, resident_id=residents[0].id,
                          text="迟到", created_at=local(2025, 3, 13, 9), status=ComplaintStatus.UPHELD,
                          reason="属实", decided_at=local(2025, 3, 14, 9), decided_by_id=officer.id))

    def demand(area, v, created, status, decided):
        session.add(DemandRequest(item_id=plain.id, community_id=area.id, venue_id=v.id, requester_id=residents[0].id,
                                  status=status, created_at=created, decided_at=decided, decided_by_id=officer.id,
                                  status_reason="已决定"))

    demand(community, venues["v1"], local(2025, 3, 1, 9), DemandStatus.FULFILLED, local(2025, 3, 11, 9))
    demand(community, venues["v1"], local(2025, 3, 2, 9), DemandStatus.DECLINED, local(2025, 3, 5, 9))
    demand(c3, venues["v3"], local(2025, 2, 20, 9), DemandStatus.FULFILLED, local(2025, 3, 12, 9))

    def bought(area, budget, amount, lines):
        published = local(2025, 3, 8, 10)
        p = PurchaseProject(title=f"{area.name}项目", area=area, method=ProjectMethod.OPEN_TENDER,
                            budget=Decimal(budget), created_by=officer, state=ProjectState.AWARDED,
                            published_at=local(2025, 2, 20, 10), bid_deadline=local(2025, 3, 1, 10),
                            opened_at=local(2025, 3, 1, 11), awarded_at=published)
        session.add(p)
        session.flush()
        for position, (v, quantity, ceiling) in enumerate(lines):
            session.add(ProjectLine(project_id=p.id, item_id=plain.id, venue_id=v.id, quantity=quantity,
                                    unit_ceiling=Decimal(ceiling), position=position))
        bid = Bid(project_id=p.id, provider_id=provider.id, status=BidStatus.SUBMITTED, revision_no=1,
                  price=Decimal(amount))
        session.add(bid)
        session.flush()
        session.add(Award(project_id=p.id, bid_id=bid.id, provider_id=provider.id, amount=Decimal(amount),
                          top_ranked=True, top_bid_id=bid.id, awarded_by_id=officer.id, published_at=published,
                          publicity_ends_at=published + dt.timedelta(days=1),
                          challenge_deadline=published + dt.timedelta(days=9), status=AwardStatus.PUBLISHED))

    bought(community, "1000.00", "900.00", [(venues["v1"], 1, "1000.00")])
    bought(town_b, "2000.00", "1500.00", [(venues["v3"], 2, "1000.00")])
    bought(district, "1800.00", "1500.00", [(venues["v1"], 3, "400.00"), (venues["v3"], 1, "600.00")])

    agency = AssessmentAgency(name="测评中心", credit_code="51110115MA00KC0098", engaged_from=dt.date(2025, 1, 1),
                              engaged_until=dt.date(2025, 12, 31))
    session.add(agency)
    session.flush()
    assessor = Assessor(user_id=make_user("assessor").id, agency_id=agency.id)
    session.add(assessor)
    session.flush()
    plan = AssessmentPlan(month="2025-03", seed="scorecards", share_percent=100, min_per_town=1, candidates=[],
                          sample=[], assessors=[assessor.id], drawn_at=local(2025, 3, 1, 9), drawn_by_id=officer.id)
    session.add(plan)
    session.flush()
    for position, (key, score) in enumerate((("s1", 80), ("s2", 70), ("s3", 50), ("s4", 60))):
        s = sessions[key]
        session.add(AssessmentVisit(plan_id=plan.id, session_id=s.id, position=position, assessor_id=assessor.id,
                                    status=VisitStatus.RECORDED, recorded_at=s.scheduled_at + dt.timedelta(hours=1),
                                    counted_attendance=s.attendance, score=score, reported_attendance=s.attendance,
                                    acceptance_score=s.acceptance_score, checklist={}, findings=""))
    session.flush()
    return World(town, town_b, community, c2, c3, venues, sessions, d.officer(town_b), d.officer(town))
