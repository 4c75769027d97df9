"""Supervision pages: supervisors raise items; officers of the jurisdiction answer; everyone reads the
public tracker on the portal, and residents may follow an item."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core import uploads
from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.db import db, utcnow
from core.errors import DomainError
from core.permissions import PUBLIC, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from evaluation.supervision import operations as supervision
from evaluation.supervision.forms import AnswerForm, FollowForm, RaiseForm
from evaluation.supervision.models import ItemStatus, SupervisionEvidence, SupervisionFollow, SupervisionItem

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

ITEMS = Table("supervision_items", [
    Column(_l("Item"), "title"),
    Column(_l("Subject"), "subject_name"),
    Column(_l("Answered by"), "area.name"),
    Column(_l("Status"), "status"),
    Column(_l("Raised"), "raised_at"),
    Column(_l("Due"), "due_at"),
    Column(_l("Answered"), "answered_at"),
    Column(_l("Answer"), "answer"),
], audited=False)
portal_bp = Blueprint("supervision_portal", __name__, url_prefix="/portal/supervision")


def tracker_query(status: str | None, now: dt.datetime):
    stmt = select(SupervisionItem).order_by(SupervisionItem.raised_at.desc(), SupervisionItem.id.desc())
    if status == "open":
        stmt = stmt.where(SupervisionItem.status == ItemStatus.OPEN)
    elif status == "answered":
        stmt = stmt.where(SupervisionItem.status == ItemStatus.ANSWERED)
    elif status == "overdue":
        stmt = stmt.where(SupervisionItem.status == ItemStatus.OPEN, SupervisionItem.due_at < now)
    return stmt


def public_row(i: SupervisionItem, now: dt.datetime, kinds: dict, follows: dict) -> dict:
    kind = kinds.get(i.raised_by_id)
    return {"id": i.id, "title": i.title, "text": i.text, "subject_type": i.subject_type.value,
            "subject_name": i.subject_name, "area": i.area.name, "status": i.status.value,
            "overdue": i.overdue(now), "escalated": i.escalated_at is not None, "raised_at": i.raised_at,
            "due_at": i.due_at, "days_open": i.days_open(now), "supervisor_kind": kind.value if kind else None,
            "answer": i.answer or None, "answered_at": i.answered_at, "followers": follows.get(i.id, 0)}


def _item_or_404(item_id: int) -> SupervisionItem:
    item = db.session.get(SupervisionItem, item_id)
    if item is None:
        abort(404)
    return item


# --- supervisors and officers ----------------------------------------------------------------------

@bp.route("/items")
@access(Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
def items():
    now = utcnow()
    status = request.args.get("status") if request.args.get("status") in ("open", "answered", "overdue") else None
    stmt = tracker_query(status, now)
    scope = current_user.jurisdiction if current_user.has_role(Role.OFFICER) else None
    if scope is not None and scope.level != AreaLevel.DISTRICT and not current_user.has_role(Role.ADMIN):
        stmt = stmt.where(SupervisionItem.area_id == scope.id)
    if request.args.get("mine") and current_user.has_role(Role.SUPERVISOR):
        stmt = stmt.where(SupervisionItem.raised_by_id == current_user.id)
    if wants_export():
        return ITEMS.download(stmt)
    return render_template("evaluation/supervision/items.html", page=Page(stmt), now=now, status=status)


@bp.route("/items/new", methods=["GET", "POST"])
@access(Role.SUPERVISOR)
def new():
    form = RaiseForm()
    if request.method == "GET":
        form.subject_type.data = request.args.get("subject_type") or form.subject_type.data
        form.subject_id.data = request.args.get("subject_id", type=int)
    if request.method == "POST" and form.validate_on_submit():
        try:
            item = supervision.raise_item(current_user, form.subject_type.data, form.subject_id.data, form.title.data,
                                          form.text.data, [f for f in request.files.getlist("evidence")
                                                           if f and f.filename])
        except DomainError as e:
            answer = refused(e, form=form)
            if answer is not None:
                return answer
            return render_template("evaluation/supervision/new.html", form=form), e.status
        db.session.commit()
        flash(_("The item was raised; it is due on %(d)s.", d=item.due_at.date().isoformat()), "success")
        return redirect(url_for("supervision.item", supervision_id=item.id))
    return render_template("evaluation/supervision/new.html", form=form), 422 if form.errors else 200


def _item_page(item: SupervisionItem, form=None, status=200):
    now = utcnow()
    return render_template("evaluation/supervision/item.html", item=item, now=now, form=form or AnswerForm(),
                           may_answer=supervision.may_answer(item, current_user) and item.status == ItemStatus.OPEN,
                           kind=supervision.kinds_of([item.raised_by_id]).get(item.raised_by_id)), status


@bp.route("/items/<int:supervision_id>")
@access(Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
def item(supervision_id):
    return _item_page(_item_or_404(supervision_id))


@bp.route("/items/<int:supervision_id>/answer", methods=["POST"])
@access(Role.OFFICER)
def answer(supervision_id):
    item = _item_or_404(supervision_id)
    require(supervision.may_answer(item, current_user))
    form = AnswerForm()
    if not form.validate_on_submit():
        return _item_page(item, form, 422)
    try:
        supervision.answer_item(item, current_user, form.answer.data)
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _item_page(item, form, status))
    db.session.commit()
    flash(_("The answer was published."), "success")
    return redirect(url_for("supervision.item", supervision_id=item.id))


@bp.route("/evidence/<int:evidence_id>")
@access(Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
def evidence(evidence_id):
    ev = db.session.get(SupervisionEvidence, evidence_id)
    if ev is None:
        abort(404)
    return uploads.send(ev.file)


# --- the public tracker ----------------------------------------------------------------------------

@portal_bp.route("")
@access(PUBLIC)
def tracker():
    now = utcnow()
    status = request.args.get("status") if request.args.get("status") in ("open", "answered", "overdue") else None
    page = Page(tracker_query(status, now))
    kinds = supervision.kinds_of([i.raised_by_id for i in page.items])
    follows = supervision.followers_count([i.id for i in page.items])
    return render_template("evaluation/supervision/tracker.html", page=page, now=now, status=status,
                           rows=[public_row(i, now, kinds, follows) for i in page.items])


@portal_bp.route("/<int:supervision_id>")
@access(PUBLIC)
def public_item(supervision_id):
    item = _item_or_404(supervision_id)
    now = utcnow()
    following = current_user.is_authenticated and db.session.scalar(select(SupervisionFollow.id).where(
        SupervisionFollow.item_id == item.id, SupervisionFollow.user_id == current_user.id)) is not None
    row = public_row(item, now, supervision.kinds_of([item.raised_by_id]), supervision.followers_count([item.id]))
    return render_template("evaluation/supervision/public_item.html", item=item, row=row, following=following,
                           form=FollowForm())


@portal_bp.route("/<int:supervision_id>/follow", methods=["POST"])
@access(Role.RESIDENT, Role.SUPERVISOR)
def follow(supervision_id):
    item = _item_or_404(supervision_id)
    require(FollowForm().validate_on_submit())
    try:
        supervision.follow(item, current_user)
    except DomainError as e:
        return refused(e, redirect_to=url_for("supervision_portal.public_item", supervision_id=item.id))
    db.session.commit()
    flash(_("You will be told when the item is answered."), "success")
    return redirect(url_for("supervision_portal.public_item", supervision_id=item.id))
