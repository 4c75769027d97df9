"""Demo purchase projects in every state, with sealed bids from approved providers.

Uses the active catalog items and approved providers that exist; on a database without them
(this module merged before the catalog and provider demo data) it makes a few minimal ones.
Idempotent: nothing is added once the demo projects exist.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from catalog.items.models import Category, Item, ItemStatus
from core.accounts import operations as accounts
from core.accounts.models import Role, User
from core.areas.models import AreaLevel, Venue
from core.db import db, utcnow
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid, BidStatus
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

PREFIX = "【示例】"
# The projects that walk the loop, in order: (key, title). "awarded" and "contract_pending" are
# awarded by seeds.review through the review's own award operation, on a back-dated clock.
STAGED = [
    ("opened", "老年合唱辅导服务"), ("under_review", "非遗传承体验课"), ("awarded", "广场舞培训与展演"),
    ("contracted", "公共阅读推广活动"), ("in_delivery", "送戏下乡演出"), ("completed", "2025年冬季文化惠民演出"),
    ("contract_pending", "青少年戏曲进校园"),
]
AWARDED_BY_REVIEW = {"awarded": PREFIX + "广场舞培训与展演", "contract_pending": PREFIX + "青少年戏曲进校园"}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_with_check(first17: str) -> str:
    """Complete 17 characters into a GB 32100-2015 code by appending its check character."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


def _items() -> list[Item]:
    items = list(db.session.scalars(select(Item).where(Item.status == ItemStatus.ACTIVE).order_by(Item.code).limit(6)))
    if items:
        return items
    category = db.session.scalar(select(Category).where(Category.code == "DEMO"))
    if category is None:
        category = Category(code="DEMO", name="示例服务", name_en="Demo services")
        db.session.add(category)
    levels = [lv.value for lv in AreaLevel]
    for code, name, unit, ceiling in (("DEMO-001", "文艺演出进社区", "场", "8000.00"),
                                      ("DEMO-002", "少儿书法培训", "期", "12000.00"),
                                      ("DEMO-003", "老年合唱辅导", "课时", "600.00")):
        db.session.add(Item(code=code, category=category, name=name, unit=unit, price_ceiling=Decimal(ceiling),
                            levels=levels, target_groups=["general"], status=ItemStatus.ACTIVE))
    db.session.flush()
    return list(db.session.scalars(select(Item).where(Item.status == ItemStatus.ACTIVE).order_by(Item.code)))


def _providers() -> list[Provider]:
    """Approved providers to bid with: at least three, so the demo projects can proceed."""
    found = list(db.session.scalars(select(Provider).where(Provider.status == ProviderStatus.APPROVED)
                                    .order_by(Provider.id).limit(4)))
    if len(found) >= 3:
        return found
    from seeds.district import DEMO_PASSWORD

    names = ["京南艺术团", "兴华文化传播中心", "大兴区青少年书画协会"]
    for n, name in enumerate(names[: 3 - len(found)], start=1):
        login = f"demo-provider-{n}@huimin.demo"
        user = db.session.scalar(select(User).where(User.login == login))
        if user is not None and db.session.scalar(select(Provider.id).where(Provider.user_id == user.id)):
            continue
        if user is None:
            user = accounts.create_user(login=login, name=f"{name} 联系人", password=DEMO_PASSWORD,
                                        roles=[Role.PROVIDER])
        db.session.add(Provider(
            user_id=user.id, name=name, credit_code=uscc_with_check(f"52110115MJ00{n:04d}X"),
            kind=ProviderKind.SOCIAL_ORGANISATION, legal_representative=f"负责人{n}", contact_name=f"联系人{n}",
            contact_phone=f"1380013{n:04d}", status=ProviderStatus.APPROVED, reviewed_at=utcnow()))
    db.session.flush()
    return list(db.session.scalars(select(Provider).where(Provider.status == ProviderStatus.APPROVED)
                                   .order_by(Provider.id)))


def _criteria() -> list[Criterion]:
    return [
        Criterion(kind=CriterionKind.PRICE, name="价格", weight=Decimal(20), position=0),
        Criterion(kind=CriterionKind.SUBJECTIVE, name="服务方案", weight=Decimal(35), min_score=Decimal(0),
                  max_score=Decimal(35), rubric="方案完整、内容贴合服务标准、进度安排具体的得高分。", position=1),
        Criterion(kind=CriterionKind.SUBJECTIVE, name="团队与经验", weight=Decimal(25), min_score=Decimal(0),
                  max_score=Decimal(25), rubric="团队资质齐全、近三年有同类服务业绩的得高分。", position=2),
        Criterion(kind=CriterionKind.PERFORMANCE, name="履约表现", weight=Decimal(20), position=3),
        Criterion(kind=CriterionKind.QUALIFICATION, name="合法登记", rubric="持有有效登记证书，近三年无重大违法记录。",
                  position=4),
    ]


def _venue_for(item: Item, venues: list[Venue], k: int) -> Venue:
    fitting = [v for v in venues if not item.levels or item.may_be_bought_at(v.area.level)] or venues
    # Community venues first, where the item may be bought there: most services are delivered
    # in the communities (the 15-minute service circle the briefing's coverage counts).
    fitting.sort(key=lambda v: (v.area.level != AreaLevel.COMMUNITY, v.id))
    return fitting[k % len(fitting)]


def _project(title, officer, items, venues, method, published_at, deadline, k) -> PurchaseProject:
    lines = []
    for j, item in enumerate(items[k % len(items):][:2] or items[:1]):
        lines.append(ProjectLine(item=item, venue=_venue_for(item, venues, k + j), quantity=4 + j * 2,
                                 unit_ceiling=item.price_ceiling, position=j))
    ceiling = sum((ln.unit_ceiling * ln.quantity for ln in lines), Decimal("0.00"))
    project = PurchaseProject(
        title=PREFIX + title, description="示例项目：用于演示采购流程。", area=officer.jurisdiction, method=method,
        justification="该剧目版权由唯一团体持有。" if method == ProjectMethod.SINGLE_SOURCE else "",
        budget=(ceiling * Decimal("0.9")).quantize(Decimal("0.01")), created_by=officer, lines=lines,
        criteria=_criteria(), state=ProjectState.DRAFT, created_at=published_at or utcnow())
    db.session.add(project)
    db.session.flush()
    if published_at is not None:
        project.bid_deadline = deadline
        project.publish(published_at)
    return project


def _bid(project: PurchaseProject, provider: Provider, share: str, at: dt.datetime) -> Bid:
    """A sealed bid written as of `at` (demo data only: no deadline gate)."""
    price = (project.budget * Decimal(share)).quantize(Decimal("0.01"))
    bid = Bid(project_id=project.id, provider_id=provider.id, status=BidStatus.SUBMITTED, revision_no=1,
              first_submitted_at=at, submitted_at=at)
    db.session.add(bid)
    db.session.flush()
    data = bid_ops.BidInput(price=price, plan=f"{provider.name}服务方案：按服务标准组织实施，每场配备专业人员。",
                            team="项目负责人1名，专业演职人员8名。", conflicts="")
    bid_ops._write_revision(bid, project, data, provider.user, at, 1)
    return bid


def seed_projects(echo):
    if db.session.scalar(select(PurchaseProject.id).where(PurchaseProject.title.startswith(PREFIX)).limit(1)):
        return
    officer = db.session.scalar(select(User).where(User.login == "officer@huimin.demo"))
    if officer is None or officer.jurisdiction is None:
        return
    items, providers = _items(), _providers()
    venues = [v for v in db.session.scalars(select(Venue).where(Venue.active.is_(True)).order_by(Venue.id))
              if officer.covers_area(v.area)]
    if not items or not venues or not providers:
        return
    now = utcnow()
    day = dt.timedelta(days=1)
    shares = ["0.92", "0.85", "0.88", "0.95"]

    def project(title, k, method=ProjectMethod.COMPETITIVE_CONSULTATION, published=None, deadline=None):
        return _project(title, officer, items, venues, method, published, deadline, k)

    def bids(p, at, n=None):
        for i, prov in enumerate(providers[: n or len(providers)]):
            _bid(p, prov, shares[i % len(shares)], at + dt.timedelta(hours=i))

    project("社区文化活动（草稿）", 0)
    open_p = project("2026年社区文艺演出服务", 1, ProjectMethod.OPEN_TENDER, now - day, now + 25 * day)
    bids(open_p, now - dt.timedelta(hours=6), 2)
    closed = project("少儿书法公益培训", 2, published=now - 15 * day, deadline=now - day)
    bids(closed, now - 5 * day)
    staged = {}
    for k, (key, title) in enumerate(STAGED, start=3):
        p = project(title, k, published=now - (40 + k) * day, deadline=now - (20 + k) * day)
        bids(p, now - (25 + k) * day)
        staged[key] = p
    failed = project("社区摄影培训", 9, ProjectMethod.OPEN_TENDER, now - 40 * day, now - 10 * day)
    bids(failed, now - 12 * day, 1)
    cancelled = project("街道读书会（已取消）", 10, published=now - 3 * day, deadline=now + 12 * day)
    single = project("经典剧目专场演出", 11, ProjectMethod.SINGLE_SOURCE, now - 2 * day, now + 6 * day)
    bids(single, now - day, 1)
    db.session.flush()

    # Each staged project walks the loop on a back-dated clock: opened an hour after its deadline,
    # reviewed from the next day, awarded two days after it, contracted once the challenge window
    # (7 working days) is long over. The projects the demo awards through the review itself
    # (AWARDED_BY_REVIEW) stop under review here; seeds.review scores, signs off and awards them.
    for p in [*staged.values(), failed]:
        bid_ops.open_bids(p, officer, now=p.bid_deadline + dt.timedelta(hours=1))
    order = ["under_review", "awarded", "contracted", "in_delivery", "completed"]
    steps = [project_ops.start_review, project_ops.award, project_ops.contract, project_ops.start_delivery,
             project_ops.complete]
    offsets = [day, 2 * day, 16 * day, 17 * day, 18 * day]
    for key, p in staged.items():
        if key == "opened":
            continue
        last = "under_review" if key in ("awarded", "contract_pending") else key
        for step, offset in zip(steps[: order.index(last) + 1], offsets, strict=False):
            step(p, officer, now=min(p.bid_deadline + offset, now))
    project_ops.cancel(cancelled, "预算调整，本期暂停采购。", officer)
    db.session.flush()
    count = len(db.session.scalars(select(PurchaseProject.id).where(PurchaseProject.title.startswith(PREFIX))).all())
    echo(f"projects: {count} demo purchase projects in every state, bids from {len(providers)} providers")
