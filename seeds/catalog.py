"""Demo data of the catalog (registered with order 10): categories and about fifty items with their
standards and ceilings, the 2026 catalog published (its history dated back to late 2025), changes
made during 2026 that a 2027 draft shows, and residents' requests and supports spread over the
communities. Idempotent: what exists is kept."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select, update

from catalog.demand import operations as demand_ops
from catalog.demand.models import DemandRequest, DemandStatus, DemandSupport
from catalog.items import operations as ops
from catalog.items.models import Category, Item, ItemRevision, ItemStatus, ItemStatusDecision
from catalog.versions import operations as version_ops
from catalog.versions.models import CatalogVersion
from core.accounts import operations as accounts
from core.accounts.models import Role, User, UserRole
from core.areas.models import Area, AreaLevel, Venue
from core.db import db
from core.i18n import LOCAL_TZ
from seeds.catalog_data import CATEGORIES, CEILING_CHANGES, ITEMS, NEW_ITEMS_2027

OFFICER_LOGIN = "officer@huimin.demo"
HOME_RESIDENT = "13800138000"
# Left unrequested in the home resident's community, so a demo walk-through can make a fresh request.
FRESH_ITEM = "WY-001"
EXTRA_RESIDENTS_PER_COMMUNITY = 3
EXTRA_RESIDENT_COMMUNITIES = 100  # all of them


def _local(y, m, d, h=9) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


PREPARED_AT = _local(2025, 11, 20)
PUBLISHED_AT = _local(2025, 12, 1)
PUBLICITY_ENDS = _local(2025, 12, 8)


def _item_data(row, categories) -> dict:
    code, sub, name, name_en, unit, ceiling, groups, levels, content, duration, staffing, quality, _status = row
    return {"code": code, "category": categories[sub], "name": name, "name_en": name_en, "unit": unit,
            "price_ceiling": ceiling, "target_groups": groups, "levels": levels, "standard_content": content,
            "standard_duration": duration, "standard_staffing": staffing, "standard_quality": quality,
            "description": f"{name}：{content}"}


def _categories(officer) -> dict[str, Category]:
    existing = {c.code: c for c in db.session.scalars(select(Category))}
    for position, (code, name, name_en, subs) in enumerate(CATEGORIES, start=1):
        top = existing.get(code) or ops.save_category(None, code=code, name=name, name_en=name_en,
                                                      position=position * 10, actor=officer)
        existing[code] = top
        for sub_position, (sub_code, sub_name, sub_en) in enumerate(subs, start=1):
            if sub_code not in existing:
                existing[sub_code] = ops.save_category(None, code=sub_code, name=sub_name, name_en=sub_en,
                                                       parent=top, position=sub_position, actor=officer)
    return existing


def _backdate(model, ids, when: dt.datetime, column="created_at"):
    if ids:
        # Demo history only: an UPDATE statement, so the rows' immutability on the ORM is not in play.
        db.session.execute(update(model).where(model.id.in_(ids)).values({column: when})
                           .execution_options(synchronize_session=False))


def _new_ids(model, before: int) -> list[int]:
    return list(db.session.scalars(select(model.id).where(model.id > before)))


def _max_id(model) -> int:
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0)))


def _catalog(officer, echo) -> None:
    categories = _categories(officer)
    if db.session.scalar(select(CatalogVersion.id).where(CatalogVersion.year == 2026)):
        return
    rev0, dec0 = _max_id(ItemRevision), _max_id(ItemStatusDecision)
    items = {i.code: i for i in db.session.scalars(select(Item))}
    for row in ITEMS:
        if row[0] not in items:
            items[row[0]] = ops.create_item(_item_data(row, categories), officer, note="2026年目录编制")
        if items[row[0]].status == ItemStatus.DRAFT:
            ops.decide_item_status(items[row[0]], ItemStatus.ACTIVE,
                                   "经2025年11月目录编制会议审议，列入2026年指导性目录", officer)
    _backdate(ItemRevision, _new_ids(ItemRevision, rev0), PREPARED_AT)
    _backdate(ItemStatusDecision, _new_ids(ItemStatusDecision, dec0), PREPARED_AT, "decided_at")

    version = version_ops.create_version(year=2026, title="大兴区2026年公共文化服务指导性目录",
                                 notes="经公示无异议后自2026年起执行。", actor=officer)
    version_ops.publish_version(version, publicity_days=7, actor=officer)
    version.published_at, version.publicity_ends_at = PUBLISHED_AT, PUBLICITY_ENDS
    _backdate(CatalogVersion, [version.id], PREPARED_AT)

    # Changes during 2026, each dated when it was made.
    reasons = {
        "watch": ("2026年上半年居民满意度低于3.5分（评价42条），列入观察。", _local(2026, 7, 1)),
        "suspended": ("承接主体反映外拍安全风险，暂停采购待修订安全标准。", _local(2026, 5, 12)),
        "retired": ("已并入教育部门课后服务项目，退出目录。", _local(2026, 9, 1)),
    }
    for row in ITEMS:
        target = ItemStatus(row[-1])
        if target != ItemStatus.ACTIVE and items[row[0]].status == ItemStatus.ACTIVE:
            reason, when = reasons[target.value]
            rev_before, dec_before = _max_id(ItemRevision), _max_id(ItemStatusDecision)
            ops.decide_item_status(items[row[0]], target, reason, officer)
            _backdate(ItemRevision, _new_ids(ItemRevision, rev_before), when)
            _backdate(ItemStatusDecision, _new_ids(ItemStatusDecision, dec_before), when, "decided_at")
    for code, ceiling, note in CEILING_CHANGES:
        rev_before = _max_id(ItemRevision)
        data = {**items[code].snapshot(), "category": items[code].category, "price_ceiling": ceiling}
        ops.update_item(items[code], data, officer, note=note)
        _backdate(ItemRevision, _new_ids(ItemRevision, rev_before), _local(2026, 4, 8))
    for row in NEW_ITEMS_2027:
        if row[0] in items:
            continue
        rev_before, dec_before = _max_id(ItemRevision), _max_id(ItemStatusDecision)
        items[row[0]] = ops.create_item(_item_data(row, categories), officer, note="2027年目录新增建议")
        if row[-1] == "active":
            ops.decide_item_status(items[row[0]], ItemStatus.ACTIVE, "居民点单需求集中，经审议增列入目录。", officer)
        _backdate(ItemRevision, _new_ids(ItemRevision, rev_before), _local(2026, 10, 15))
        _backdate(ItemStatusDecision, _new_ids(ItemStatusDecision, dec_before), _local(2026, 10, 15), "decided_at")
    if not db.session.scalar(select(CatalogVersion.id).where(CatalogVersion.year == 2027)):
        version_ops.create_version(year=2027, title="大兴区2027年公共文化服务指导性目录（征求意见稿）",
                           notes="汇总2026年动态调整结果与居民点单需求。", actor=officer)
    db.session.flush()
    echo(f"catalog: {len(categories)} categories, {len(items)} items, 2026 version published, 2027 draft")


def _extra_residents(communities) -> None:
    """A few more residents in the first communities, so that requests gather supports."""
    password_hash = None
    for ci, community in enumerate(communities[:EXTRA_RESIDENT_COMMUNITIES]):
        for k in range(EXTRA_RESIDENTS_PER_COMMUNITY):
            login = f"1370{ci:03d}{k:04d}"
            if db.session.scalar(select(User.id).where(User.login == login)):
                continue
            # One hash for all of them (same demo password): hashing each would only slow the seed.
            password_hash = password_hash or accounts.hash_password(_demo_password())
            user = User(login=login, name=f"{community.name}居民{k + 1}", password_hash=password_hash,
                        community_id=community.id, role_rows=[UserRole(role=Role.RESIDENT)])
            db.session.add(user)
    db.session.flush()


def _demo_password() -> str:
    from seeds.district import DEMO_PASSWORD

    return DEMO_PASSWORD


POPULAR = ["DY-001", "SZ-003", "WY-006", "WY-002", "YD-002", "JZ-003", "JS-001", "TS-002", "FY-003", "WY-003",
           "YD-004", "JZ-004", "WY-005", "TS-004", "JS-003"]
DECLINE_REASONS = ["本年度该项目预算已用完，纳入明年计划统筹考虑。",
                   "场地条件不满足演出要求，建议改在镇综合文化中心举办。"]
PLAN_REASONS = ["已纳入下季度采购计划，预计两个月内安排。", "已与镇文化站对接，列入本月活动安排。"]
FULFIL_REASONS = ["已于上月完成服务，参与居民反响良好。", "服务已完成，共开展2场。"]


def _demand(officer, echo) -> None:
    if db.session.scalar(select(DemandRequest.id).limit(1)):
        return
    rng = random.Random(20261129)
    communities = list(db.session.scalars(select(Area).where(Area.level == AreaLevel.COMMUNITY).order_by(Area.code)))
    _extra_residents(communities)
    residents: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).join(UserRole).where(UserRole.role == Role.RESIDENT,
                                                                      User.community_id.is_not(None))
                                   .order_by(User.id)):
        residents.setdefault(user.community_id, []).append(user)
    venues = {v.area_id: v for v in db.session.scalars(select(Venue).where(Venue.active.is_(True))
                                                        .order_by(Venue.id))}
    items = {i.code: i for i in db.session.scalars(select(Item))}
    home = db.session.scalar(select(User).where(User.login == HOME_RESIDENT))
    now = dt.datetime.now(dt.UTC)
    weights = [len(POPULAR) - i for i in range(len(POPULAR))]
    made = 0
    for community in communities:
        people = residents.get(community.id, [])
        venue = venues.get(community.id)
        if not people or venue is None:
            continue
        wanted = rng.randint(2, 4) if len(people) > 1 else 1
        for code in dict.fromkeys(rng.choices(POPULAR, weights=weights, k=wanted)):
            item = items.get(code)
            if item is None or not item.open_for_requests:
                continue
            requester = rng.choice([p for p in people if p is not home] or people)
            req, _merged = demand_ops.request_item(requester, item, venue, rng.choice(
                ["希望周末下午安排", "社区老人很期待", "孩子们放暑假时最好", "", "上次活动很受欢迎，希望再办一次"]))
            created = now - dt.timedelta(days=rng.randint(20, 330), hours=rng.randint(0, 10))
            supporters = [p for p in people if p.id != requester.id and p is not home]
            for supporter in rng.sample(supporters, k=rng.randint(0, len(supporters))):
                demand_ops.support_request(supporter, req)
            support_ids = list(db.session.scalars(select(DemandSupport.id).where(DemandSupport.request_id == req.id)))
            _backdate(DemandRequest, [req.id], created)
            for k, sid in enumerate(support_ids):
                _backdate(DemandSupport, [sid], created + dt.timedelta(days=k * rng.randint(1, 6)))
            made += 1
            roll = rng.random()
            if roll < 0.12:
                demand_ops.decide_request(req, DemandStatus.DECLINED, rng.choice(DECLINE_REASONS), officer)
            elif roll < 0.30:
                demand_ops.decide_request(req, DemandStatus.PLANNED, rng.choice(PLAN_REASONS), officer)
            elif roll < 0.42:
                demand_ops.decide_request(req, DemandStatus.FULFILLED, rng.choice(FULFIL_REASONS), officer)
    if home is not None and home.community_id in venues:
        venue = venues[home.community_id]
        demand_ops.request_item(home, items["DY-002"], venue, "夏天晚上在村广场放露天电影")
        open_other = db.session.scalar(select(DemandRequest).where(
            DemandRequest.community_id == home.community_id, DemandRequest.requester_id != home.id,
            DemandRequest.item_id != items[FRESH_ITEM].id, DemandRequest.status == DemandStatus.OPEN).limit(1))
        if open_other is not None:
            demand_ops.support_request(home, open_other)
        made += 1
    db.session.flush()
    echo(f"demand: {made} requests with their supports over {len(residents)} communities")


def seed_catalog(echo) -> None:
    officer = db.session.scalar(select(User).where(User.login == OFFICER_LOGIN))
    if officer is None:
        echo("catalog: the district officer is missing; catalog demo data not loaded")
        return
    _catalog(officer, echo)
    _demand(officer, echo)
