"""Factories for purchase project and bid tests: catalog items, venues, providers, projects."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from catalog.items.models import Category, Item, ItemStatus
from core.areas.models import AreaLevel, Venue, VenueKind
from core.db import utcnow
from marketplace.bids import operations as bid_ops
from marketplace.projects import operations as project_ops
from marketplace.projects.models import (
    Criterion,
    CriterionKind,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus

_seq = itertools.count(1)
ALL_LEVELS = [lv.value for lv in AreaLevel]


def criteria_rows(price="20", plan="35", team="25", performance="20"):
    return [
        {"kind": "price", "name": "价格", "weight": price},
        {"kind": "subjective", "name": "服务方案", "weight": plan, "rubric": "方案完整具体"},
        {"kind": "subjective", "name": "团队", "weight": team, "rubric": "团队资质"},
        {"kind": "performance", "name": "履约", "weight": performance},
        {"kind": "qualification", "name": "合法登记", "weight": "0", "rubric": "持有登记证书"},
    ]


def credit_code(n: int) -> str:
    return f"52110115MJ{n:07d}X"[:18]


class Market:
    def __init__(self, session, make_user, district, town):
        self.session, self.make_user, self.district, self.town = session, make_user, district, town
        self._category = None

    # catalog and places
    def item(self, ceiling="1000.00", status=ItemStatus.ACTIVE, levels=None) -> Item:
        if self._category is None:
            self._category = Category(code=f"TC{next(_seq)}", name="测试类")
            self.session.add(self._category)
        n = next(_seq)
        item = Item(code=f"TI-{n}", category=self._category, name=f"服务{n}", unit="场",
                    price_ceiling=Decimal(ceiling), levels=ALL_LEVELS if levels is None else levels, status=status)
        self.session.add(item)
        self.session.flush()
        return item

    def venue(self, area=None) -> Venue:
        v = Venue(name=f"文化室{next(_seq)}", kind=VenueKind.CULTURAL_ROOM, area=area or self.town, capacity=50)
        self.session.add(v)
        self.session.flush()
        return v

    # people
    def officer(self, jurisdiction=None):
        return self.make_user("officer", jurisdiction=jurisdiction or self.district)

    def provider(self, status=ProviderStatus.APPROVED, user=None, **kw) -> Provider:
        user = user or self.make_user("provider")
        n = next(_seq)
        p = Provider(user_id=user.id, name=f"测试艺术团{n}", credit_code=credit_code(n),
                     kind=ProviderKind.SOCIAL_ORGANISATION, legal_representative="张三", contact_name="李四",
                     contact_phone="13800000000", status=status, **kw)
        self.session.add(p)
        self.session.commit()
        return p

    # projects
    def data(self, officer=None, quantity=10, ceiling="1000.00", budget=None, method="open_tender", deadline=None,
             **over) -> dict:
        item, venue = self.item(ceiling), self.venue()
        days = project_ops.min_window(ProjectMethod(method)).days + 1
        d = {
            "title": "社区文艺演出", "description": "全年演出", "method": method, "justification": "",
            "budget": budget or str(Decimal(ceiling) * quantity), "bid_deadline": deadline or utcnow()
            + dt.timedelta(days=days),
            "lines": [{"item_id": item.id, "venue_id": venue.id, "quantity": quantity}],
            "criteria": criteria_rows(),
        }
        d.update(over)
        return d

    def draft(self, officer=None, **kw) -> PurchaseProject:
        officer = officer or self.officer()
        project = project_ops.create_project(self.data(officer, **kw), officer)
        # Committed (a savepoint in tests): a later refused request rolls back only its own work.
        self.session.commit()
        return project

    def published(self, officer=None, **kw) -> PurchaseProject:
        officer = officer or self.officer()
        project = project_ops.publish(self.draft(officer, **kw), officer)
        self.session.commit()
        return project

    def open_project(self, deadline: dt.datetime, officer=None, budget="10000.00", method=ProjectMethod.OPEN_TENDER,
                     published_at=None) -> PurchaseProject:
        """A published project with any deadline, written directly (the window rule skipped)."""
        officer = officer or self.officer()
        item, venue = self.item("1000.00"), self.venue()
        p = PurchaseProject(
            title="直接建立的项目", area=officer.jurisdiction, method=method, budget=Decimal(budget),
            created_by=officer, state=ProjectState.PUBLISHED, bid_deadline=deadline,
            published_at=published_at or (deadline - dt.timedelta(days=30)),
            lines=[ProjectLine(item=item, venue=venue, quantity=10, unit_ceiling=item.price_ceiling)],
            criteria=[Criterion(kind=CriterionKind.PRICE, name="价格", weight=Decimal(20)),
                      Criterion(kind=CriterionKind.SUBJECTIVE, name="方案", weight=Decimal(60), min_score=Decimal(0),
                                max_score=Decimal(60), rubric="方案"),
                      Criterion(kind=CriterionKind.PERFORMANCE, name="履约", weight=Decimal(20))])
        self.session.add(p)
        self.session.commit()
        return p

    def bid(self, project, provider, price="9000.00", plan="我们的服务方案", files=(), **kw):
        data = bid_ops.BidInput(price=price, plan=plan, team=kw.pop("team", "团队五人"),
                                conflicts=kw.pop("conflicts", ""), files=list(files), **kw)
        result = bid_ops.submit_bid(project, provider, data, provider.user)
        self.session.commit()
        return result
