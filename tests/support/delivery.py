"""Factories for delivery tests: a contract in force (written directly: the award and contract
steps belong to the review), its sessions, reports, decisions and ratings."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from catalog.items.models import Category, Item, ItemStatus
from core.areas.models import Venue, VenueKind
from core.db import utcnow
from marketplace.awards.models import Award
from marketplace.bids.models import Bid, BidStatus
from marketplace.contracts.models import Contract, ContractLine, ContractState
from marketplace.projects.models import (
    Criterion,
    CriterionKind,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus
from marketplace.sessions import operations as session_ops

_seq = itertools.count(1)
ALL_LEVELS = ["district", "town", "community"]


class Delivery:
    """Builds contracts in force for a provider, at venues of a given area."""

    def __init__(self, session, make_user, district, town, community):
        self.session, self.make_user = session, make_user
        self.district, self.town, self.community = district, town, community
        self._category = None

    def item(self, status=ItemStatus.ACTIVE) -> Item:
        if self._category is None:
            self._category = Category(code=f"DC{next(_seq)}", name="履约测试类")
            self.session.add(self._category)
        n = next(_seq)
        item = Item(code=f"DI-{n}", category=self._category, name=f"演出{n}", unit="场",
                    price_ceiling=Decimal("1000.00"), levels=ALL_LEVELS, status=status)
        self.session.add(item)
        self.session.flush()
        return item

    def venue(self, area=None) -> Venue:
        v = Venue(name=f"文化室{next(_seq)}", kind=VenueKind.CULTURAL_ROOM, area=area or self.community, capacity=80)
        self.session.add(v)
        self.session.flush()
        return v

    def officer(self, jurisdiction=None):
        return self.make_user("officer", jurisdiction=jurisdiction or self.district)

    def provider(self, status=ProviderStatus.APPROVED, **kw) -> Provider:
        user = self.make_user("provider")
        n = next(_seq)
        p = Provider(user_id=user.id, name=f"履约艺术团{n}", credit_code=f"52110115MK{n:07d}X"[:18],
                     kind=ProviderKind.SOCIAL_ORGANISATION, legal_representative="张三", contact_name="李四",
                     contact_phone="13800000000", status=status, **kw)
        self.session.add(p)
        self.session.flush()
        return p

    def contract(self, provider: Provider, officer=None, sessions=4, item=None, venue=None, lines=None,
                 start: dt.date | None = None, end: dt.date | None = None,
                 state=ContractState.ACTIVE) -> Contract:
        """A contract in force: project contracted, award published, both sides signed."""
        officer = officer or self.officer()
        now = utcnow()
        lines = lines or [(item or self.item(), venue or self.venue(), sessions)]
        total = sum(n for _i, _v, n in lines)
        amount = Decimal("800.00") * total
        project = PurchaseProject(
            title="履约测试项目", area=officer.jurisdiction, method=ProjectMethod.OPEN_TENDER, budget=amount,
            created_by=officer, state=ProjectState.CONTRACTED, published_at=now - dt.timedelta(days=60),
            bid_deadline=now - dt.timedelta(days=40), opened_at=now - dt.timedelta(days=39),
            awarded_at=now - dt.timedelta(days=30), contracted_at=now - dt.timedelta(days=20),
            lines=[ProjectLine(item=i, venue=v, quantity=n, unit_ceiling=i.price_ceiling, position=k)
                   for k, (i, v, n) in enumerate(lines)],
            criteria=[Criterion(kind=CriterionKind.PRICE, name="价格", weight=Decimal(20)),
                      Criterion(kind=CriterionKind.SUBJECTIVE, name="方案", weight=Decimal(60), min_score=Decimal(0),
                                max_score=Decimal(60), rubric="方案"),
                      Criterion(kind=CriterionKind.PERFORMANCE, name="履约", weight=Decimal(20))])
        self.session.add(project)
        self.session.flush()
        bid = Bid(project_id=project.id, provider_id=provider.id, status=BidStatus.SUBMITTED, revision_no=1,
                  price=amount)
        self.session.add(bid)
        self.session.flush()
        award = Award(project_id=project.id, bid_id=bid.id, provider_id=provider.id, amount=amount, top_ranked=True,
                      top_bid_id=bid.id, awarded_by_id=officer.id, published_at=now - dt.timedelta(days=30),
                      publicity_ends_at=now - dt.timedelta(days=29), challenge_deadline=now - dt.timedelta(days=21))
        self.session.add(award)
        self.session.flush()
        start = start or (now - dt.timedelta(days=800)).date()
        end = end or (now + dt.timedelta(days=365)).date()
        signed = now - dt.timedelta(days=20)
        contract = Contract(
            number=f"HT-TEST-{project.id}", project_id=project.id, award_id=award.id, provider_id=provider.id,
            buyer_area_id=officer.jurisdiction_id, buyer_name="测试区文化和旅游局", provider_name=provider.name,
            provider_credit_code=provider.credit_code, amount=amount, sessions_total=total, start_date=start,
            end_date=end, created_by_id=officer.id, state=state,
            buyer_signed_at=signed, buyer_signed_by_id=officer.id, provider_signed_at=signed,
            provider_signed_by_id=provider.user_id, activated_at=signed if state == ContractState.ACTIVE else None,
            lines=[ContractLine(item_id=i.id, venue_id=v.id, position=k, item_name=i.name, unit=i.unit, sessions=n,
                                unit_price=Decimal("800.00"), amount=Decimal("800.00") * n)
                   for k, (i, v, n) in enumerate(lines)])
        self.session.add(contract)
        self.session.flush()
        return contract

    def schedule(self, contract: Contract, when: dt.datetime, line=None, audience=50, actor=None):
        line = line or contract.lines[0]
        actor = actor or contract.provider.user
        return session_ops.schedule_session(contract, line, when, audience, actor, now=when - dt.timedelta(days=30))

    def report(self, s, attendance=40, at=None, photos=(), notes="顺利举办"):
        at = at or s.scheduled_at + dt.timedelta(hours=3)
        data = session_ops.ReportInput(actual_start=s.scheduled_at, actual_end=s.scheduled_at + dt.timedelta(hours=2),
                                       attendance=attendance, notes=notes, photos=list(photos))
        return session_ops.report_session(s, data, s.provider.user, now=at)

    def confirm(self, s, score, officer, at=None):
        at = at or s.reported_at + dt.timedelta(days=1)
        return session_ops.confirm_session(s, score, "", officer, now=at)

    def delivered(self, contract, when, officer, score=90, attendance=40, line=None):
        """Schedule, report on time and accept one session."""
        s = self.schedule(contract, when, line=line)
        self.report(s, attendance=attendance)
        self.confirm(s, score, officer)
        return s
