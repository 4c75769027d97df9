"""The public catalog (no login): browse, filter, search, item pages, history, versions and their comparison."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from catalog import signals
from catalog.demand.models import ACTIVE_DEMAND, DemandRequest
from catalog.demand.operations import demand_trend, item_demand, support_counts, supported_by
from catalog.items.models import COMPARED_FIELDS, TARGET_GROUP_LABELS, Category, Item, ItemRevision, ItemStatus
from catalog.items.operations import latest_decisions
from catalog.items.search import STATUS_FILTERS, Filters, category_tree, item_query
from catalog.versions.models import CatalogVersion, CatalogVersionEntry
from catalog.versions.operations import (
    compare_versions,
    next_in_force_change,
    previous_published,
    version_entries,
    version_in_force,
)
from core import versions as data_versions
from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.db import db, utcnow
from core.permissions import PUBLIC, access
from core.views_util import Page

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
# What the public catalog page shows is read from these tables only (its cached content's versions).
CATALOG_TABLES = ("items", "categories", "item_status_decisions", "catalog_versions")


def is_officer() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.OFFICER)


def get_item(code: str, *, allow_draft: bool | None = None) -> Item:
    item = db.session.scalar(select(Item).where(Item.code == code))
    if allow_draft is None:
        allow_draft = is_officer()
    if item is None or (item.status == ItemStatus.DRAFT and not allow_draft):
        abort(404)
    return item


def get_version(version_id: int) -> CatalogVersion:
    version = db.session.get(CatalogVersion, version_id)
    if version is None or (not version.is_published and not is_officer()):
        abort(404)
    return version


@bp.route("/")
@access(PUBLIC)
def index():
    # The page's content is the same for every reader of one language: rendered once per version of
    # the catalog's tables (and again when a catalog version's publicity ends: the one in force changes).
    body = data_versions.remember(data_versions.page_key("catalog:index"), CATALOG_TABLES, _index_body)
    return render_template("catalog/items/index.html", body=body)


def _index_body():
    f = Filters.from_args(request.args)
    page = Page(item_query(f))
    # Asked for every item on the page, not only those on watch or retired: one query on every
    # page, so the page's statements do not depend on which items it lists. Shown for the others.
    newest = latest_decisions(i.id for i in page.items)
    decisions = {i.id: newest[i.id] for i in page.items if i.status != ItemStatus.ACTIVE and i.id in newest}
    category = db.session.get(Category, f.category_id) if f.category_id else None
    now = utcnow()
    body = data_versions.rendered(
        "catalog/items/_index_body.html", page=page, f=f, tree=category_tree(), category=category,
        decisions=decisions, target_groups=TARGET_GROUP_LABELS, levels=list(AreaLevel), statuses=STATUS_FILTERS,
        in_force=version_in_force(now))
    return body, next_in_force_change(now)


@bp.route("/items/<item_code>")
@access(PUBLIC)
def item(item_code):
    item = get_item(item_code)
    decision = latest_decisions([item.id]).get(item.id)
    demand = item_demand(item)
    mine = None
    if current_user.is_authenticated and current_user.has_role(Role.RESIDENT) and current_user.community_id:
        mine = db.session.scalar(select(DemandRequest).where(DemandRequest.item_id == item.id,
                                                             DemandRequest.community_id == current_user.community_id,
                                                             DemandRequest.status.in_(ACTIVE_DEMAND)))
    mine_counts = support_counts([mine.id]) if mine else {}
    mine_supported = supported_by(current_user, [mine.id]) if mine else set()
    versions = db.session.execute(
        select(CatalogVersion, ItemRevision.number)
        .join(CatalogVersionEntry, CatalogVersionEntry.version_id == CatalogVersion.id)
        .join(ItemRevision, ItemRevision.id == CatalogVersionEntry.revision_id)
        .where(CatalogVersionEntry.item_id == item.id).order_by(CatalogVersion.year.desc())).all()
    in_force = version_in_force()
    sections = signals.item_sections(item)
    demand_months, demand_chart = demand_trend(item.id, utcnow())
    from catalog.demand.forms import SupportForm

    return render_template("catalog/items/item.html", item=item, decision=decision, demand=demand, mine=mine,
                           mine_supports=mine_counts.get(mine.id, 0) if mine else 0,
                           mine_supported=bool(mine_supported), versions=versions, in_force=in_force,
                           now=utcnow(), sections=sections, support_form=SupportForm(),
                           demand_months=demand_months, demand_chart=demand_chart)


@bp.route("/items/<item_code>/history")
@access(PUBLIC)
def history(item_code):
    item = get_item(item_code)
    page = Page(select(ItemRevision).where(ItemRevision.item_id == item.id).order_by(ItemRevision.number.desc()),
                per_page=30)
    numbers = [r.number - 1 for r in page.items if r.number > 1]
    previous = {r.number: r for r in db.session.scalars(
        select(ItemRevision).where(ItemRevision.item_id == item.id, ItemRevision.number.in_(numbers)))}
    diffs = {}
    for rev in page.items:
        before = previous.get(rev.number - 1)
        if before is not None:
            diffs[rev.number] = [(f, before.data.get(f), rev.data.get(f)) for f in COMPARED_FIELDS
                                 if before.data.get(f) != rev.data.get(f)]
    return render_template("catalog/items/history.html", item=item, page=page, diffs=diffs, show_people=is_officer())


@bp.route("/items/<item_code>/revisions/<int:revision_number>")
@access(PUBLIC)
def revision(item_code, revision_number):
    item = get_item(item_code)
    rev = db.session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                       ItemRevision.number == revision_number))
    if rev is None:
        abort(404)
    return render_template("catalog/items/revision.html", item=item, rev=rev, fields=COMPARED_FIELDS,
                           show_people=is_officer())


@bp.route("/versions")
@access(PUBLIC)
def versions():
    stmt = select(CatalogVersion).order_by(CatalogVersion.year.desc())
    if not is_officer():
        stmt = stmt.where(CatalogVersion.published_at.is_not(None))
    page = Page(stmt)
    counts = dict(db.session.execute(select(CatalogVersionEntry.version_id, func.count())
                                     .group_by(CatalogVersionEntry.version_id)).all())
    in_force = version_in_force()
    return render_template("catalog/versions/versions.html", page=page, counts=counts, now=utcnow(),
                           in_force_year=in_force.year if in_force else None)


@bp.route("/versions/<int:version_id>")
@access(PUBLIC)
def version(version_id):
    version = get_version(version_id)
    if version.is_published:
        stmt = (select(ItemRevision).join(CatalogVersionEntry, CatalogVersionEntry.revision_id == ItemRevision.id)
                .join(Item, Item.id == ItemRevision.item_id)
                .where(CatalogVersionEntry.version_id == version.id).order_by(Item.code))
        page = Page(stmt, per_page=50)
        rows = [(r.item_id, r.number, r.data) for r in page.items]
    else:
        page = Page(item_query(Filters(status="in_catalog"), public=True).order_by(None).order_by(Item.code),
                    per_page=50)
        rows = [(i.id, i.revision, i.snapshot()) for i in page.items]
    in_force = version_in_force()
    return render_template("catalog/versions/version.html", version=version, page=page, rows=rows, now=utcnow(),
                           in_force_year=in_force.year if in_force else None, previous=previous_published(version))


@bp.route("/versions/compare")
@access(PUBLIC)
def compare():
    stmt = select(CatalogVersion).order_by(CatalogVersion.year.desc())
    if not is_officer():
        stmt = stmt.where(CatalogVersion.published_at.is_not(None))
    choices = list(db.session.scalars(stmt))
    by_id = {v.id: v for v in choices}
    new = by_id.get(request.args.get("b", type=int)) or (choices[0] if choices else None)
    old = by_id.get(request.args.get("a", type=int)) or (previous_published(new) if new else None)
    result = compare_versions(old, new) if old and new and old.id != new.id else None
    return render_template("catalog/versions/compare.html", choices=choices, old=old, new=new, result=result,
                           entries_new=len(version_entries(new)) if new and result is None else None)
