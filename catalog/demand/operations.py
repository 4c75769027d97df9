"""Residents' demand (点单): requests, supports, officers' decisions, and the figures the demand
dashboard and the item page show. Operations flush and audit; they never commit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from catalog.demand.models import ACTIVE_DEMAND, DEMAND_TRANSITIONS, DemandRequest, DemandStatus, DemandSupport
from catalog.items.models import Category, Item
from catalog.items.operations import lock_row
from core import audit
from core.accounts.models import Role, User
from core.areas.models import Area, AreaLevel, Venue
from core.charts import line_chart
from core.db import db, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import notify
from core.periods import last_months, local_month, month_start

NOTE_MAX = 500


def _resident(user) -> User:
    if user is None or not user.has_role(Role.RESIDENT):
        raise Forbidden(_("Only residents request services and support requests."))
    if user.community_id is None:
        raise Refused(_("Your account has no village or community yet; ask the administrator to set it."))
    return user


def _note(note) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(_("At most %(n)d characters.", n=NOTE_MAX), "note")
    return note


def _active_request(item_id: int, community_id: int) -> DemandRequest | None:
    stmt = select(DemandRequest).where(DemandRequest.item_id == item_id, DemandRequest.community_id == community_id,
                                       DemandRequest.status.in_(ACTIVE_DEMAND)).with_for_update(of=DemandRequest)
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def _add_support(request: DemandRequest, user: User, note: str) -> DemandSupport:
    """Insert a support; the database's one-per-resident rule is the final word under races."""
    support = DemandSupport(request=request, user_id=user.id, note=note, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(support)
            db.session.flush()
    except IntegrityError:
        raise Refused(_("You already support this request."), audit_action="demand.support",
                      obj=request) from None
    return support


def request_item(resident, item: Item, venue: Venue | None, note: str = "") -> tuple[DemandRequest, bool]:
    """A resident's request (点单) for an item at a venue of their community.

    While a request for the same item and community is open or planned, the new one becomes a
    support of it: returns (that request, True). Otherwise (the new request, False).
    """
    resident = _resident(resident)
    note = _note(note)
    if item is None or not item.public:
        raise Invalid(_("Choose an item of the catalog."), "item")
    if not item.open_for_requests:
        raise Refused(_("%(name)s is not open for requests (status: %(status)s).", name=item.name,
                        status=item.status.label), "item")
    if venue is None:
        raise Invalid(_("Choose the venue where the service should take place."), "venue_id")
    if venue.area_id != resident.community_id:
        raise Forbidden(_("%(venue)s is not in your community (%(community)s); you may request services only for "
                        "venues of your own community.", venue=venue.name, community=resident.community.name),
                      "venue_id", audit_action="demand.request", obj=item, venue=venue.id)
    if not venue.active:
        raise Refused(_("%(venue)s is not in use.", venue=venue.name), "venue_id")
    for _attempt in range(2):
        existing = _active_request(item.id, resident.community_id)
        if existing is not None:
            return _merge(existing, resident, note), True
        request = DemandRequest(item=item, community_id=resident.community_id, venue=venue, requester_id=resident.id,
                                note=note, status=DemandStatus.OPEN, created_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(request)
                db.session.flush()
        except IntegrityError:
            # Another resident's request for the same item and community was saved first: support it.
            continue
        db.session.add(DemandSupport(request=request, user_id=resident.id, note="", created_at=request.created_at))
        db.session.flush()
        audit.record("demand.request", request, actor=resident, item=item.code, community=request.community.code,
                     venue=venue.id)
        return request, False
    raise Refused(_("Please try again."))


def _merge(request: DemandRequest, resident: User, note: str) -> DemandRequest:
    if request.requester_id == resident.id:
        raise Refused(_("You have already requested %(name)s for your community; the request is %(status)s.",
                        name=request.item.name, status=request.status.label), audit_action="demand.request",
                      obj=request)
    if db.session.scalar(select(DemandSupport.id).where(DemandSupport.request_id == request.id,
                                                        DemandSupport.user_id == resident.id)):
        raise Refused(_("You already support this request."), audit_action="demand.support", obj=request)
    _add_support(request, resident, note)
    audit.record("demand.merge", request, actor=resident, item=request.item.code)
    return request


def support_request(resident, request: DemandRequest, note: str = "") -> DemandSupport:
    """A resident of the request's community supports it, once."""
    resident = _resident(resident)
    note = _note(note)
    request = lock_row(DemandRequest, request.id)
    if resident.community_id != request.community_id:
        raise Forbidden(_("Only residents of %(community)s support its requests.", community=request.community.name))
    if not request.status.is_active:
        raise Refused(_("This request is %(status)s and can no longer be supported.", status=request.status.label))
    if db.session.scalar(select(DemandSupport.id).where(DemandSupport.request_id == request.id,
                                                        DemandSupport.user_id == resident.id)):
        raise Refused(_("You already support this request."), audit_action="demand.support", obj=request)
    support = _add_support(request, resident, note)
    audit.record("demand.support", request, actor=resident)
    return support


def decide_request(request: DemandRequest, status, reason: str, officer) -> DemandRequest:
    """An officer whose jurisdiction covers the community marks a request planned, fulfilled or
    declined, with a reason; the requester and supporters are told."""
    if officer is None or not officer.has_role(Role.OFFICER):
        raise Forbidden(_("Only officers decide on requests."))
    request = lock_row(DemandRequest, request.id)
    if not officer.covers_area(request.community):
        raise Forbidden(_("%(community)s is outside your jurisdiction.", community=request.community.path_name()))
    try:
        status = DemandStatus(getattr(status, "value", status))
    except ValueError:
        raise Invalid(_("Unknown status '%(v)s'.", v=status), "status") from None
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason, which the residents will read."), "reason")
    if len(reason) > 2000:
        raise Invalid(_("At most %(n)d characters.", n=2000), "reason")
    if status not in DEMAND_TRANSITIONS[request.status]:
        raise Refused(_("A request that is %(a)s cannot become %(b)s.", a=request.status.label, b=status.label),
                      "status")
    before = request.status
    request.status, request.status_reason = status, reason
    request.decided_at, request.decided_by_id = utcnow(), officer.id
    db.session.flush()
    link = _detail_link(request)
    for user_id in db.session.scalars(select(DemandSupport.user_id).where(DemandSupport.request_id == request.id)):
        notify(user_id, _("Your request for %(name)s is now %(status)s", name=request.item.name, status=status.label),
               reason, link)
    audit.record("demand.decide", request, actor=officer, before=before, after=status, reason=reason)
    return request


def _detail_link(request: DemandRequest) -> str:
    try:
        return url_for("demand.detail", demand_id=request.id)
    except RuntimeError:  # outside a request (a command): the same path without the script root
        return f"/demand/{request.id}"


# --- figures -------------------------------------------------------------------------------------

def support_counts(request_ids) -> dict[int, int]:
    ids = list(request_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(DemandSupport.request_id, func.count()).where(DemandSupport.request_id.in_(ids))
                              .group_by(DemandSupport.request_id))
    return dict(rows.all())


def supported_by(user, request_ids) -> set[int]:
    ids = list(request_ids)
    if not ids or user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.scalars(select(DemandSupport.request_id).where(DemandSupport.user_id == user.id,
                                                                         DemandSupport.request_id.in_(ids))))


@dataclass
class ItemDemand:
    """Demand for one item: open or planned requests, the residents behind them, all supports ever."""

    active_requests: int = 0
    active_supports: int = 0
    communities: list[tuple[str, int]] = field(default_factory=list)  # (community path, supports), active ones
    fulfilled: int = 0
    total_supports: int = 0


def item_demand(item: Item) -> ItemDemand:
    rows = db.session.execute(
        select(DemandRequest.status, DemandRequest.community_id, func.count(DemandSupport.id))
        .join(DemandSupport, DemandSupport.request_id == DemandRequest.id)
        .where(DemandRequest.item_id == item.id)
        .group_by(DemandRequest.id, DemandRequest.status, DemandRequest.community_id)).all()
    figures = ItemDemand()
    active_by_community: dict[int, int] = defaultdict(int)
    for status, community_id, count in rows:
        figures.total_supports += count
        if status in ACTIVE_DEMAND:
            figures.active_requests += 1
            figures.active_supports += count
            active_by_community[community_id] += count
        elif status == DemandStatus.FULFILLED:
            figures.fulfilled += 1
    if active_by_community:
        areas = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(list(active_by_community))))}
        figures.communities = sorted(((areas[cid].path_name(), n) for cid, n in active_by_community.items()),
                                     key=lambda t: (-t[1], t[0]))
    return figures


def supports_by_item(since: dt.datetime, until: dt.datetime, item_ids=None) -> dict[int, int]:
    """Supports given in [since, until) per item: the demand figure other modules (evaluation) read."""
    stmt = (select(DemandRequest.item_id, func.count(DemandSupport.id))
            .join(DemandSupport, DemandSupport.request_id == DemandRequest.id)
            .where(DemandSupport.created_at >= since, DemandSupport.created_at < until)
            .group_by(DemandRequest.item_id))
    if item_ids is not None:
        stmt = stmt.where(DemandRequest.item_id.in_(list(item_ids)))
    return dict(db.session.execute(stmt).all())


def communities_in(area: Area | None) -> list[int] | None:
    """Ids of the communities an area covers; None for the whole district."""
    if area is None or area.level == AreaLevel.DISTRICT:
        return None
    if area.level == AreaLevel.COMMUNITY:
        return [area.id]
    return list(db.session.scalars(select(Area.id).where(Area.parent_id == area.id)))


@dataclass
class DashboardRow:
    town: str
    community: str
    category: str
    item_code: str
    item_name: str
    supports: int
    requests: int
    satisfaction: Decimal | None = None
    ratings: int = 0


@dataclass
class Ranked:
    label: str
    supports: int
    requests: int
    top_item: str = ""
    top_supports: int = 0
    extra: str = ""
    # For items: resident satisfaction beside demand (written onto Item by evaluation).
    satisfaction: Decimal | None = None
    ratings: int = 0


@dataclass
class Dashboard:
    rows: list[DashboardRow]
    items: list[Ranked]
    areas: list[Ranked]
    categories: list[Ranked]
    area_level: AreaLevel
    total_supports: int = 0
    total_requests: int = 0


def dashboard(scope: Area | None, since: dt.datetime, until: dt.datetime, category: Category | None = None,
              top: int = 10, with_rows: bool = True) -> Dashboard:
    """Supports given and requests made in [since, until) in the scope's communities, by
    (community, item), ranked by item, by area (towns; communities inside one town) and by top category.
    The rows per (community, item) are for the download; the page shows only the rankings (with_rows=False)."""
    community_ids = communities_in(scope)
    support_stmt = (select(DemandRequest.community_id, DemandRequest.item_id, func.count(DemandSupport.id))
                    .join(DemandSupport, DemandSupport.request_id == DemandRequest.id)
                    .where(DemandSupport.created_at >= since, DemandSupport.created_at < until)
                    .group_by(DemandRequest.community_id, DemandRequest.item_id))
    request_stmt = (select(DemandRequest.community_id, DemandRequest.item_id, func.count(DemandRequest.id))
                    .where(DemandRequest.created_at >= since, DemandRequest.created_at < until)
                    .group_by(DemandRequest.community_id, DemandRequest.item_id))
    if community_ids is not None:
        support_stmt = support_stmt.where(DemandRequest.community_id.in_(community_ids))
        request_stmt = request_stmt.where(DemandRequest.community_id.in_(community_ids))
    if category is not None:
        in_category = select(Item.id).join(Item.category).where(
            (Category.id == category.id) | (Category.parent_id == category.id))
        support_stmt = support_stmt.where(DemandRequest.item_id.in_(in_category))
        request_stmt = request_stmt.where(DemandRequest.item_id.in_(in_category))
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for cid, iid, n in db.session.execute(support_stmt):
        counts[(cid, iid)][0] = n
    for cid, iid, n in db.session.execute(request_stmt):
        counts[(cid, iid)][1] = n
    # The names behind the rows come in one query each, as plain tuples: the loop below runs once
    # per (community, item) pair (tens of thousands in a district), where ORM attributes cost too much.
    items: dict[int, tuple] = {}
    areas: dict[int, tuple[str, str]] = {}
    if counts:
        parent = aliased(Category)
        items = {iid: rest for iid, *rest in db.session.execute(
            select(Item.id, Item.name, Item.code, func.coalesce(parent.name, Category.name), Item.satisfaction,
                   Item.rating_count)
            .join(Category, Category.id == Item.category_id)
            .outerjoin(parent, parent.id == Category.parent_id)
            .where(Item.id.in_({k[1] for k in counts})))}
        town = aliased(Area)
        areas = {cid: (town_name or "", name) for cid, name, town_name in db.session.execute(
            select(Area.id, Area.name, town.name).outerjoin(town, town.id == Area.parent_id)
            .where(Area.id.in_({k[0] for k in counts})))}
    by_town = scope is None or scope.level == AreaLevel.DISTRICT
    rows = []
    per_item: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    # label -> [supports, requests, {item id: supports}]
    per_area: dict[str, list] = defaultdict(lambda: [0, 0, defaultdict(int)])
    per_category: dict[str, list] = defaultdict(lambda: [0, 0, defaultdict(int)])
    for (cid, iid), (supports, requests) in counts.items():
        item_name, item_code, category_name, satisfaction, ratings = items[iid]
        town_name, community_name = areas[cid]
        if with_rows:
            rows.append(DashboardRow(town_name, community_name, category_name, item_code, item_name, supports,
                                     requests, satisfaction, ratings))
        entry = per_item[iid]
        entry[0] += supports
        entry[1] += requests
        for entry in (per_area[town_name if by_town else community_name], per_category[category_name]):
            entry[0] += supports
            entry[1] += requests
            entry[2][iid] += supports
    rows.sort(key=lambda r: (-r.supports, -r.requests, r.town, r.community, r.item_code))

    def ranked(bucket):
        out = []
        for label, (supports, requests, by_item) in bucket.items():
            top_id, top_n = max(by_item.items(), key=lambda kv: (kv[1], items[kv[0]][1]))
            out.append(Ranked(label, supports, requests, items[top_id][0], top_n))
        return sorted(out, key=lambda r: (-r.supports, -r.requests, r.label))

    ranked_items = sorted((Ranked(items[iid][0], s, r, extra=items[iid][1], satisfaction=items[iid][3],
                                  ratings=items[iid][4]) for iid, (s, r) in per_item.items()),
                          key=lambda r: (-r.supports, -r.requests, r.extra))[:top]
    return Dashboard(rows=rows, items=ranked_items, areas=ranked(per_area), categories=ranked(per_category),
                     area_level=AreaLevel.TOWN if by_town else AreaLevel.COMMUNITY,
                     total_supports=sum(v[0] for v in counts.values()),
                     total_requests=sum(v[1] for v in counts.values()))


def monthly_demand(item_id: int, now: dt.datetime, months: int = 12) -> list[tuple[str, int, int]]:
    """(YYYY-MM, supports, new requests) for an item's last `months` local months, oldest first.
    Supports include the requester's own, as on the dashboard."""
    keys = last_months(now, months)
    since = month_start(keys[0])
    support_month = local_month(DemandSupport.created_at)
    supports = dict(db.session.execute(
        select(support_month, func.count(DemandSupport.id))
        .join(DemandRequest, DemandRequest.id == DemandSupport.request_id)
        .where(DemandRequest.item_id == item_id, DemandSupport.created_at >= since, DemandSupport.created_at <= now)
        .group_by(support_month)).all())
    request_month = local_month(DemandRequest.created_at)
    new_requests = dict(db.session.execute(
        select(request_month, func.count(DemandRequest.id))
        .where(DemandRequest.item_id == item_id, DemandRequest.created_at >= since, DemandRequest.created_at <= now)
        .group_by(request_month)).all())
    return [(k, supports.get(k, 0), new_requests.get(k, 0)) for k in keys]


def demand_trend(item_id: int, now: dt.datetime):
    """The item's monthly demand and its line chart, as the item pages show them."""
    months = monthly_demand(item_id, now)
    chart = line_chart([k for k, _s, _r in months],
                       [(_("Supports"), [s for _k, s, _r in months]),
                        (_("New requests"), [r for _k, _s, r in months])],
                       title=_("Demand by month"), empty_text=_("No demand in this period."))
    return months, chart
