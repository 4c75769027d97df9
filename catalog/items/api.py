"""The catalog and demand JSON API (/api/v1): items with the catalog page's filters and search,
one item by code, and residents' requests and supports (bearer token)."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from catalog.demand import operations as demand_ops
from catalog.demand.models import DemandRequest, DemandSupport
from catalog.demand.schemas import (
    DemandCreatedSchema,
    DemandCreateSchema,
    DemandPageQuerySchema,
    DemandPageSchema,
    DemandSchema,
    SupportCreateSchema,
)
from catalog.items.models import Item, ItemStatus
from catalog.items.operations import latest_decisions
from catalog.items.schemas import ItemDetailSchema, ItemPageSchema, ItemQuerySchema
from catalog.items.search import Filters, item_query
from core.accounts.api import load_json
from core.accounts.models import Role
from core.areas.models import Venue
from core.db import db
from core.errors import Missing
from core.openapi import api_doc
from core.permissions import PUBLIC, access
from core.views_util import Page

bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1")


def _with_url(item: Item) -> Item:
    item.url = url_for("catalog.item", item_code=item.code, _external=True)
    return item


@bp.route("/catalog/items")
@api_doc(_l("Catalog items, with the catalog page's filters and search"), query=ItemQuerySchema,
         responses={200: ItemPageSchema})
@access(PUBLIC)
def items():
    args = ItemQuerySchema().load(request.args.to_dict())
    f = Filters(q=args["q"].strip(), category_id=args["category"], target_group=args["target_group"],
                level=args["level"], status=args["status"])
    page = Page(item_query(f), page=args["page"], per_page=args["per_page"])
    return ItemPageSchema().dump({"items": [_with_url(i) for i in page.items], "page": page.page,
                                  "per_page": page.per_page, "total": page.total, "pages": page.pages})


@bp.route("/catalog/items/<item_code>")
@api_doc(_l("One catalog item by code: standard, status decision, satisfaction and demand"),
         responses={200: ItemDetailSchema})
@access(PUBLIC)
def item(item_code):
    item = db.session.scalar(select(Item).where(Item.code == item_code))
    if item is None or item.status == ItemStatus.DRAFT:
        abort(404)
    item = _with_url(item)
    item.status_decision = latest_decisions([item.id]).get(item.id)
    item.demand = demand_ops.item_demand(item)
    return ItemDetailSchema().dump(item)


def _with_counts(req: DemandRequest) -> DemandRequest:
    req.supports = demand_ops.support_counts([req.id]).get(req.id, 0)
    req.mine = req.requester_id == current_user.id
    return req


@bp.route("/demand", methods=["POST"])
@api_doc(_l("Request a catalog item for a venue of the caller's community (merged into an active request "
         "for the same item and venue, as a support)"), body=DemandCreateSchema,
         description=_l("An unknown item code or venue id: 404 naming the field; a venue outside the caller's "
                     "community: 403; an item not open for requests or a venue not in use: 409."),
         responses={200: DemandCreatedSchema, 201: DemandCreatedSchema}, errors=(404, 409), tags=("demand",))
@access(Role.RESIDENT)
def create_demand():
    data = load_json(DemandCreateSchema())
    item = db.session.scalar(select(Item).where(Item.code == data["item"]))
    if item is None or item.status == ItemStatus.DRAFT:
        raise Missing(_("No catalog item has the code %(code)s.", code=data["item"]), "item")
    venue = db.session.get(Venue, data["venue_id"])
    if venue is None:
        raise Missing(_("No venue has the id %(id)d.", id=data["venue_id"]), "venue_id")
    req, merged = demand_ops.request_item(current_user, item, venue, data["note"])
    req = _with_counts(req)
    req.merged = merged
    return DemandCreatedSchema().dump(req), (200 if merged else 201)


@bp.route("/demand/<int:demand_id>/support", methods=["POST"])
@api_doc(_l("Support another resident's active request (an empty body is allowed)"), body=SupportCreateSchema,
         body_required=False, responses={201: DemandSchema}, errors=(409,))
@access(Role.RESIDENT)
def support_demand(demand_id):
    req = db.session.get(DemandRequest, demand_id)
    if req is None:
        abort(404)
    data = load_json(SupportCreateSchema()) if request.get_data() else {"note": ""}
    demand_ops.support_request(current_user, req, data["note"])
    return DemandSchema().dump(_with_counts(req)), 201


@bp.route("/demand/mine")
@api_doc(_l("The requests the caller made or supports, newest first, 50 a page"), query=DemandPageQuerySchema,
         responses={200: DemandPageSchema})
@access(Role.RESIDENT)
def my_demand():
    args = DemandPageQuerySchema().load(request.args.to_dict())
    ids = select(DemandSupport.request_id).where(DemandSupport.user_id == current_user.id)
    page = Page(select(DemandRequest).where(DemandRequest.id.in_(ids)).order_by(DemandRequest.id.desc()),
                page=args["page"], per_page=50)
    counts = demand_ops.support_counts(r.id for r in page.items)
    for r in page.items:
        r.supports, r.mine = counts.get(r.id, 0), r.requester_id == current_user.id
    return DemandPageSchema().dump({"requests": page.items, "page": page.page, "pages": page.pages,
                                    "total": page.total})
