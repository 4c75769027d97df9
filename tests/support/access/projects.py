"""URL arguments of the purchase project and bid pages.

The project is published with a bid from a provider who is none of the role users, so every
bid page meets a stranger's bid (sealed) and every officer page an open project.
"""

import datetime as dt
from decimal import Decimal

from catalog.items.models import Category, Item, ItemStatus
from core.areas.models import Area, AreaLevel, Venue, VenueKind
from core.db import utcnow
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import BidAttachment
from marketplace.projects.models import (
    Clarification,
    Criterion,
    CriterionKind,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus
from tests.support.access.registry import OBJECT_GUARDED, builds

OBJECT_GUARDED.update({
    # a provider role user without an approved Provider row is refused with the reason
    "bids.edit", "bids.withdraw", "projects_api.submit_bid", "projects_api.revise_bid", "projects_api.withdraw_bid",
    "projects_api.own_bid",
    # sealed: a stranger's bid and its files before the opening
    "bids.attachment", "projects.bid_detail", "projects_api.bids",
})

_cache: dict[int, dict] = {}


def _world(ctx) -> dict:
    key = id(ctx)
    if key in _cache:
        return _cache[key]
    session = ctx["session"]
    district = Area(code="ACC-PD", name="项目区", level=AreaLevel.DISTRICT, population=1)
    venue = Venue(name="项目文化室", kind=VenueKind.CULTURAL_ROOM, area=district, capacity=10)
    cat = Category(code="ACC-PC", name="类")
    item = Item(code="ACC-PI", category=cat, name="演出", unit="场", price_ceiling=Decimal("1000.00"),
                levels=["district", "town", "community"], status=ItemStatus.ACTIVE)
    officer = ctx["make_user"]("officer")
    session.add_all([district, venue, cat, item])
    session.flush()
    project = PurchaseProject(
        title="访问测试项目", area=district, method=ProjectMethod.OPEN_TENDER, budget=Decimal("5000.00"),
        created_by=officer, state=ProjectState.PUBLISHED, published_at=utcnow(),
        bid_deadline=utcnow() + dt.timedelta(days=30),
        lines=[ProjectLine(item=item, venue=venue, quantity=5, unit_ceiling=item.price_ceiling)],
        criteria=[Criterion(kind=CriterionKind.PRICE, name="价格", weight=Decimal(20)),
                  Criterion(kind=CriterionKind.SUBJECTIVE, name="方案", weight=Decimal(60), min_score=Decimal(0),
                            max_score=Decimal(60), rubric="方案"),
                  Criterion(kind=CriterionKind.PERFORMANCE, name="履约", weight=Decimal(20))])
    session.add(project)
    stranger = ctx["make_user"]("provider")
    provider = Provider(user_id=stranger.id, name="别家艺术团", credit_code="52110115MJACCESS0X",
                        kind=ProviderKind.OTHER, legal_representative="甲", contact_name="乙", contact_phone="1",
                        status=ProviderStatus.APPROVED)
    session.add(provider)
    session.flush()
    pdf = b"%PDF-1.4 access test\n%%EOF\n"
    bid, _rev = bid_ops.submit_bid(project, provider, bid_ops.BidInput(
        price="4000.00", plan="方案", files=[bid_ops.NewFile("plan.pdf", pdf)]), stranger)
    clarification = Clarification(project_id=project.id, asked_by_id=stranger.id, question="问题？")
    session.add(clarification)
    session.flush()
    world = {"project": project, "bid": bid, "clarification": clarification,
             "attachment": session.query(BidAttachment).filter_by(bid_id=bid.id).one()}
    _cache.clear()
    _cache[key] = world
    return world


@builds("project_id")
def _project(ctx):
    return _world(ctx)["project"].id


@builds("bid_id")
def _bid(ctx):
    return _world(ctx)["bid"].id


@builds("clarification_id")
def _clarification(ctx):
    return _world(ctx)["clarification"].id


@builds("attachment_id")
def _attachment(ctx):
    return _world(ctx)["attachment"].id


