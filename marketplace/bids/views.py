"""The provider's own bid: submit, revise, withdraw, receipts; and sealed attachment downloads."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from core.accounts.models import Role
from core.db import db, utcnow
from core.errors import DomainError
from core.forms import ConfirmForm
from core.i18n import fmt_datetime
from core.permissions import access
from core.refusals import refused
from core.views_util import Page
from marketplace.bids import operations as bid_ops
from marketplace.bids.forms import BidForm
from marketplace.bids.models import Bid, BidAttachment
from marketplace.projects import operations as project_ops
from marketplace.projects.models import PurchaseProject

bp = Blueprint("bids", __name__, url_prefix="/projects")


@bp.route("/my-bids")
@access(Role.PROVIDER)
def mine():
    provider = bid_ops.provider_of(current_user)
    stmt = select(Bid).where(Bid.provider_id == (provider.id if provider else -1)).options(
        selectinload(Bid.project)).order_by(Bid.submitted_at.desc())
    return render_template("marketplace/bids/my_bids.html", page=Page(stmt), provider=provider, now=utcnow())


def _bid_page(project, provider, bid, form, status=200):
    content = bid_ops.bid_content(bid, current_user) if bid is not None else None
    return render_template(
        "marketplace/bids/bid_form.html", project=project, provider=provider, bid=bid, form=form,
        content=content, history=bid_ops.revisions(bid) if bid else [], refusal=provider.bidding_refusal()
        if provider else _("Only registered and approved providers may bid. Register your organisation first."),
        open_now=project.accepts_bids(), withdraw_form=ConfirmForm()), status


def _input(form: BidForm) -> bid_ops.BidInput:
    files = [bid_ops.NewFile(f.filename or "", f.read()) for f in (form.files.data or []) if f and f.filename]
    return bid_ops.BidInput(price=form.price.data, plan=form.plan.data, team=form.team.data or "",
                            conflicts=form.conflicts.data or "", files=files, keep=list(form.keep.data or []))


@bp.route("/<int:project_id>/bid", methods=["GET", "POST"])
@access(Role.PROVIDER)
def edit(project_id):
    # Lines and criteria load only if the page is drawn: an accepted bid is answered by a redirect.
    project: PurchaseProject = project_ops.visible_project(
        project_id, current_user, lazyload(PurchaseProject.lines), lazyload(PurchaseProject.criteria)) or abort(404)
    provider = bid_ops.provider_of(current_user)
    bid = bid_ops.own_bid(project, provider)
    form = BidForm()
    content = bid_ops.bid_content(bid, current_user) if bid is not None else None
    form.keep.choices = [(a["sha256"], a["name"]) for a in content["attachments"]] if content else []
    if request.method == "GET" and content is not None:
        form.price.data, form.plan.data = content["price"], content["plan"]
        form.team.data, form.conflicts.data = content["team"], content["conflicts"]
        form.keep.data = [a["sha256"] for a in content["attachments"]]
    if request.method == "POST":
        if form.validate_on_submit():
            live = bid is not None and bid.is_live
            try:
                if live:
                    bid, rev = bid_ops.revise_bid(project, provider, _input(form), current_user)
                else:
                    bid, rev = bid_ops.submit_bid(project, provider, _input(form), current_user)
            except DomainError as e:
                # A closed project or a barred bidder gets the error page; bad input stays on the form.
                if e.status == 409 or e.status == 403:
                    raise
                return refused(e, form=form, render=lambda status: _bid_page(
                    project, provider, bid_ops.own_bid(project, provider), form, status))
            flash(_("Bid received at %(at)s. Receipt (SHA-256 of your bid): %(hash)s",
                    at=fmt_datetime(rev.submitted_at, seconds=True), hash=rev.content_hash), "success")
            return redirect(url_for("bids.edit", project_id=project.id))
        # A late or barred bidder hears that first, whatever else is wrong with the form.
        bid_ops.gate(project, provider, "bid.submit")
        return _bid_page(project, provider, bid, form, 422)
    return _bid_page(project, provider, bid, form)


@bp.route("/<int:project_id>/bid/withdraw", methods=["POST"])
@access(Role.PROVIDER)
def withdraw(project_id):
    project = project_ops.visible_project(project_id, current_user) or abort(404)
    provider = bid_ops.provider_of(current_user)
    bid_ops.withdraw_bid(project, provider, current_user)
    flash(_("Your bid was withdrawn. You may submit again until the deadline."), "success")
    return redirect(url_for("bids.edit", project_id=project.id))


@bp.route("/<int:project_id>/attachments/<int:attachment_id>")
@access(Role.PROVIDER, Role.OFFICER, Role.ADMIN, Role.SUPERVISOR)
def attachment(project_id, attachment_id):
    project = project_ops.visible_project(project_id, current_user) or abort(404)
    att = db.session.get(BidAttachment, attachment_id)
    if att is None:
        abort(404)
    bid = db.session.get(Bid, att.bid_id)
    if bid.project_id != project.id:
        abort(404)
    name, data = bid_ops.attachment_file(att, current_user)
    resp = Response(data, mimetype=att.content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
