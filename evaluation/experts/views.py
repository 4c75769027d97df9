"""The expert database pages: admins manage experts and import them; an expert keeps their
declared conflicts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from catalog.items.models import Category
from core.accounts.models import Role
from core.db import db
from core.errors import DomainError
from core.forms import ConfirmForm, ImportForm
from core.i18n import local_now
from core.permissions import access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.spreadsheets.files import RowErrors
from core.views_util import Page
from evaluation.experts import operations as ops
from evaluation.experts.forms import ConflictForm, ExpertEditForm, ExpertForm
from evaluation.experts.models import Expert, ExpertConflict
from evaluation.review.draw import reviews_by_expert

bp = Blueprint("experts", __name__)


def _specialty_choices(form):
    cats = db.session.scalars(select(Category).order_by(Category.code)).all()
    form.specialty_ids.choices = [(c.id, f"{c.code} {c.name}") for c in cats]


EXPERTS = Table("experts", [
    Column(_l("Full name"), "name"),
    Column(_l("Professional title"), "title"),
    Column(_l("Employer"), "employer"),
    Column(_l("Employer's credit code"), "employer_credit_code"),
    Column(_l("Specialties"), lambda e: [c.name for c in e.specialties]),
    Column(_l("Panels this year"), lambda e, reviews: reviews[e.id], batch=True),
    Column(_l("Login"), "user.login"),
    Column(_l("Phone"), "phone"),
    Column(_l("E-mail"), "email"),
    Column(_l("In the pool"), "active"),
], batch=lambda _rows: reviews_by_expert(local_now().year), audited=True)


@bp.route("/admin/experts")
@access(Role.ADMIN)
def index():
    q = request.args.get("q", "").strip()
    stmt = select(Expert).order_by(Expert.id)
    if q:
        stmt = stmt.where(or_(Expert.name.contains(q), Expert.employer.contains(q),
                              Expert.employer_credit_code.contains(q.upper())))
    if wants_export():
        return EXPERTS.download(stmt)
    return render_template("evaluation/experts/index.html", page=Page(stmt), q=q, import_form=ImportForm(),
                           reviews=reviews_by_expert(local_now().year))


@bp.route("/admin/experts/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def new():
    form = ExpertForm()
    _specialty_choices(form)
    if form.validate_on_submit():
        try:
            expert = ops.create_expert(
                login=form.login.data, name=form.name.data, password=form.password.data, title=form.title.data,
                employer=form.employer.data, employer_credit_code=form.employer_credit_code.data,
                specialty_ids=form.specialty_ids.data, phone=form.phone.data, email=form.email.data,
                notes=form.notes.data, actor=current_user)
            expert.active = form.active.data
        except DomainError as e:
            return refused(e, form=form, template="evaluation/experts/form.html", expert=None)
        flash(_("Expert %(name)s added.", name=expert.name), "success")
        return redirect(url_for("experts.index"))
    return render_template("evaluation/experts/form.html", form=form, expert=None), (422 if form.errors else 200)


@bp.route("/admin/experts/<int:expert_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit(expert_id):
    expert = db.session.get(Expert, expert_id)
    if expert is None:
        abort(404)
    form = ExpertEditForm(obj=expert) if request.method == "GET" else ExpertEditForm()
    _specialty_choices(form)
    if request.method == "GET":
        form.specialty_ids.data = sorted(expert.specialty_ids)
    if form.validate_on_submit():
        try:
            ops.update_expert(expert, name=form.name.data, title=form.title.data, employer=form.employer.data,
                              employer_credit_code=form.employer_credit_code.data,
                              specialty_ids=form.specialty_ids.data, phone=form.phone.data, email=form.email.data,
                              notes=form.notes.data, active=form.active.data, actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="evaluation/experts/form.html", expert=expert)
        flash(_("Expert %(name)s saved.", name=expert.name), "success")
        return redirect(url_for("experts.index"))
    return render_template("evaluation/experts/form.html", form=form, expert=expert), (422 if form.errors else 200)


@bp.route("/admin/experts/import", methods=["POST"])
@access(Role.ADMIN)
def import_():
    form = ImportForm()
    if not form.validate_on_submit():
        for msg in form.file.errors:
            flash(msg, "danger")
        return redirect(url_for("experts.index"))
    f = form.file.data
    try:
        count = ops.import_experts(f.filename, f.read(), current_user)
    except RowErrors as errs:
        db.session.rollback()
        return render_template("core/spreadsheets/import_errors.html",
            errors=errs.errors, back=url_for("experts.index")), 422
    except DomainError as e:
        return refused(e, redirect_to=url_for("experts.index"), status=303)
    flash(_("%(n)d experts imported.", n=count), "success")
    return redirect(url_for("experts.index"))


# --- the expert's own page ------------------------------------------------------------------------

def _me() -> Expert:
    expert = db.session.scalar(select(Expert).where(Expert.user_id == current_user.id))
    if expert is None:
        abort(404)
    return expert


@bp.route("/review/me", methods=["GET", "POST"])
@access(Role.EXPERT)
def me():
    expert = db.session.scalar(select(Expert).where(Expert.user_id == current_user.id))
    form = ConflictForm()
    if expert is not None and form.validate_on_submit():
        try:
            ops.declare_conflict(expert, credit_code=form.credit_code.data, organisation=form.organisation.data,
                                 reason=form.reason.data, actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="evaluation/experts/me.html", expert=expert, confirm=ConfirmForm())
        flash(_("Conflict declared: you will not be drawn for this organisation's bids."), "success")
        return redirect(url_for("experts.me"))
    status = 422 if form.errors else 200
    return render_template("evaluation/experts/me.html", form=form, expert=expert, confirm=ConfirmForm()), status


@bp.route("/review/me/conflicts/<int:conflict_id>/withdraw", methods=["POST"])
@access(Role.EXPERT)
def withdraw_conflict(conflict_id):
    expert = _me()
    conflict = db.session.get(ExpertConflict, conflict_id)
    if conflict is None:
        abort(404)
    require(conflict.expert_id == expert.id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.withdraw_conflict(conflict, current_user)
    flash(_("Declaration withdrawn."), "success")
    return redirect(url_for("experts.me"))
