"""Projects and bids JSON API under /api/v1: public projects and openings, and the provider's
own sealed bid (bearer token)."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.accounts.api import load_json
from core.accounts.models import Role
from core.db import db, utcnow
from core.errors import Forbidden
from core.openapi import api_doc
from core.permissions import PUBLIC, access, require
from core.views_util import Page
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid, BidStatus
from marketplace.bids.schemas import (
    BidInSchema,
    OpenedBidListSchema,
    OpeningSchema,
    OwnBidSchema,
    ReceiptSchema,
    WithdrawalSchema,
)
from marketplace.projects import operations as project_ops
from marketplace.projects.models import Clarification, ProjectState, PurchaseProject
from marketplace.projects.schemas import ProjectPageSchema, ProjectQuerySchema, ProjectSchema
from marketplace.projects.views import public_projects_stmt

bp = Blueprint("projects_api", __name__, url_prefix="/api/v1")


def _public_project(project_id: int) -> PurchaseProject:
    project = db.session.get(PurchaseProject, project_id)
    if project is None or project.state == ProjectState.DRAFT:
        abort(404)
    return project


@bp.route("/projects")
@api_doc(_l("Published purchase projects (not drafts), with filters"), query=ProjectQuerySchema,
         responses={200: ProjectPageSchema})
@access(PUBLIC)
def projects():
    args = ProjectQuerySchema().load(request.args.to_dict())
    stmt = public_projects_stmt()
    if args["q"]:
        stmt = stmt.where(PurchaseProject.title.contains(args["q"]))
    if args["state"]:
        stmt = stmt.where(PurchaseProject.state_is(ProjectState(args["state"])))
    if args["method"]:
        stmt = stmt.where(PurchaseProject.method == args["method"])
    if args["area"]:
        stmt = stmt.where(PurchaseProject.area_id == args["area"])
    page = Page(stmt, page=args["page"], per_page=args["per_page"])
    return ProjectPageSchema().dump({"items": page.items, "page": page.page, "pages": page.pages,
                                     "total": page.total})


@bp.route("/projects/<int:project_id>")
@api_doc(_l("One published project: lines, criteria and the answered clarification questions"),
         responses={200: ProjectSchema})
@access(PUBLIC)
def project(project_id):
    p = _public_project(project_id)
    answered = db.session.scalars(select(Clarification).where(
        Clarification.project_id == p.id, Clarification.answer.isnot(None)).order_by(Clarification.asked_at)).all()
    p.answered_clarifications = answered
    return ProjectSchema().dump(p)


@bp.route("/projects/<int:project_id>/opening")
@api_doc(_l("The opening record of a project: each bid's provider, price and content hash, from the opening on"),
         responses={200: OpeningSchema})
@access(PUBLIC)
def opening(project_id):
    p = _public_project(project_id)
    record = bid_ops.opening_of(p)
    if record is None:
        abort(404)
    return OpeningSchema().dump(record)


@bp.route("/projects/<int:project_id>/bids")
@api_doc(_l("The bids of a project, for its officers and admins; sealed (403) before the opening"),
         responses={200: OpenedBidListSchema})
@access(Role.OFFICER, Role.ADMIN)
def bids(project_id):
    """Officers and admins: the bids after the opening; before it, sealed (403) but for the count."""
    p = _public_project(project_id)
    require(current_user.has_role(Role.ADMIN) or project_ops.may_manage(current_user, p))
    if p.opened_at is None:
        raise Forbidden(bid_ops.SEALED_MESSAGE, audit_action="bid.read", obj=p,
                        live_bids=project_ops.live_bid_count(p))
    rows = db.session.scalars(select(Bid).where(Bid.project_id == p.id, Bid.status != BidStatus.WITHDRAWN)
                              .options(selectinload(Bid.provider)).order_by(Bid.submitted_at, Bid.id)).all()
    return OpenedBidListSchema().dump({"items": rows})


# --- the provider's own bid ---------------------------------------------------------------------

def _receipt(bid: Bid, rev) -> dict:
    return ReceiptSchema().dump({"bid_id": bid.id, "status": bid.status.value, "revision": rev.number,
                                 "submitted_at": rev.submitted_at, "content_hash": rev.content_hash,
                                 "server_time": utcnow()})


def _input(data: dict) -> bid_ops.BidInput:
    files = [bid_ops.NewFile(a["name"], base64.b64decode(a["content_base64"])) for a in data["attachments"]]
    return bid_ops.BidInput(price=data["price"], plan=data["plan"], team=data["team"], conflicts=data["conflicts"],
                            files=files, keep=data["keep_attachments"])


def _load_bid(project, provider, action) -> dict:
    try:
        return load_json(BidInSchema())
    except ValidationError:
        # A late or barred bidder hears that first, whatever else is wrong with the body.
        bid_ops.gate(project, provider, action)
        raise


@bp.route("/projects/<int:project_id>/bid", methods=["GET"])
@api_doc(_l("The caller's own bid on a project: its current content, attachments and revisions"),
         responses={200: OwnBidSchema}, tags=("bids",))
@access(Role.PROVIDER)
def own_bid(project_id):
    p = _public_project(project_id)
    bid = bid_ops.own_bid(p, bid_ops.provider_of(current_user))
    if bid is None:
        abort(404)
    content = bid_ops.bid_content(bid, current_user)
    ids = {a.sha256: a.id for a in bid_ops.attachments(bid)}
    return OwnBidSchema().dump({
        "bid_id": bid.id, "status": bid.status.value, "revision": content["number"],
        "submitted_at": content["submitted_at"], "content_hash": content["content_hash"], "server_time": utcnow(),
        "price": content["price"], "plan": content["plan"], "team": content["team"],
        "conflicts": content["conflicts"],
        "attachments": [a | {"id": ids.get(a["sha256"])} for a in content["attachments"]],
        "revisions": bid_ops.revisions(bid)})


_BID_ANSWERS = _l("A price above the budget or more than 10 attachments in all: 409. An attachment that is not a "
                  "PDF, JPEG or PNG by its content, or not readable as one: 415; over the size limit: 413. A "
                  "keep_attachments hash that is not an attachment of the current bid: 404.")


@bp.route("/projects/<int:project_id>/bid", methods=["POST"])
@api_doc(_l("Submit a sealed bid before the deadline; the receipt carries the content hash"),
         description=_BID_ANSWERS, body=BidInSchema, responses={201: ReceiptSchema}, errors=(409, 413, 415),
         tags=("bids",))
@access(Role.PROVIDER)
def submit_bid(project_id):
    p = _public_project(project_id)
    provider = bid_ops.provider_of(current_user)
    data = _load_bid(p, provider, "bid.submit")
    bid, rev = bid_ops.submit_bid(p, provider, _input(data), current_user)
    return _receipt(bid, rev), 201


@bp.route("/projects/<int:project_id>/bid", methods=["PUT"])
@api_doc(_l("Revise the caller's bid before the deadline (a new revision; keep_attachments names "
         "attachments to carry over)"), description=_BID_ANSWERS, body=BidInSchema, responses={200: ReceiptSchema},
         errors=(404, 409, 413, 415), tags=("bids",))
@access(Role.PROVIDER)
def revise_bid(project_id):
    p = _public_project(project_id)
    provider = bid_ops.provider_of(current_user)
    data = _load_bid(p, provider, "bid.revise")
    bid, rev = bid_ops.revise_bid(p, provider, _input(data), current_user)
    return _receipt(bid, rev)


@bp.route("/projects/<int:project_id>/bid", methods=["DELETE"])
@api_doc(_l("Withdraw the caller's bid before the deadline"), responses={200: WithdrawalSchema}, errors=(409,),
         tags=("bids",))
@access(Role.PROVIDER)
def withdraw_bid(project_id):
    p = _public_project(project_id)
    bid = bid_ops.withdraw_bid(p, bid_ops.provider_of(current_user), current_user)
    return WithdrawalSchema().dump({"bid_id": bid.id, "status": bid.status.value,
                                    "withdrawn_at": bid.withdrawn_at, "server_time": utcnow()})
