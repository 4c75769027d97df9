"""Assessment pages: agencies, the month's plan (officers), an assessor's visits and the visit form
(built for a phone), the falsification confirmation, and the public record once a month is over.

The plan is hidden from providers: a provider reaches a visit only once it is recorded and only
for its own session; no other page of this blueprint admits the provider role."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import uploads
from core.accounts.models import Role
from core.db import db
from core.errors import DomainError
from core.permissions import PUBLIC, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from evaluation.assessment import draw
from evaluation.assessment import operations as assessment
from evaluation.assessment.api import finished_plan, public_record
from evaluation.assessment.forms import AgencyForm, DrawForm, FalsificationForm, VisitForm
from evaluation.assessment.models import (
    CHECKLIST,
    AssessmentAgency,
    AssessmentPhoto,
    AssessmentPlan,
    AssessmentVisit,
    VisitStatus,
)
from marketplace.sessions.models import ServiceSession

bp = Blueprint("assessment", __name__)

VISIT_OPTIONS = (selectinload(AssessmentVisit.session).selectinload(ServiceSession.item),
                 selectinload(AssessmentVisit.session).selectinload(ServiceSession.venue),
                 selectinload(AssessmentVisit.session).selectinload(ServiceSession.provider),
                 selectinload(AssessmentVisit.assessor))


def _visit_or_404(visit_id: int) -> AssessmentVisit:
    v = db.session.get(AssessmentVisit, visit_id)
    if v is None:
        abort(404)
    return v


PLANS = Table("assessment_plans", [
    Column(_l("Month"), "month"),
    Column(_l("Candidates"), lambda p: len(p.candidates)),
    Column(_l("Sampled"), lambda p: len(p.sample)),
    Column(_l("Drawn"), "drawn_at"),
    Column(_l("Seed"), "seed"),
], audited=False)


@bp.route("/assessment/plans", methods=["GET", "POST"])
@access(Role.OFFICER, Role.ADMIN)
def plans():
    form = DrawForm()
    if request.method == "POST":
        require(current_user.has_role(Role.OFFICER))
        if form.validate_on_submit():
            try:
                plan = assessment.draw_plan(form.month.data, current_user)
            except DomainError as e:
                answer = refused(e, form=form, field="month")
                if answer is not None:
                    return answer
            else:
                db.session.commit()
                return redirect(url_for("assessment.plan", plan_id=plan.id))
    stmt = select(AssessmentPlan).order_by(AssessmentPlan.month.desc())
    if request.method == "GET" and wants_export():
        return PLANS.download(stmt)
    page = Page(stmt)
    agencies = db.session.scalars(select(AssessmentAgency).order_by(AssessmentAgency.name)).all()
    return render_template("evaluation/assessment/plans.html", page=page, form=form, agencies=agencies,
                           agency_form=AgencyForm()), 422 if form.errors else 200


@bp.route("/assessment/agencies", methods=["POST"])
@access(Role.OFFICER)
def add_agency():
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            assessment.create_agency(form.name.data, form.credit_code.data, form.engaged_from.data,
                                     form.engaged_until.data, current_user)
        except DomainError as e:
            return refused(e, redirect_to=url_for("assessment.plans"))
        db.session.commit()
        flash(_("The agency was added."), "success")
        return redirect(url_for("assessment.plans"))
    for errors in form.errors.values():
        flash(str(errors[0]), "danger")
    return redirect(url_for("assessment.plans"))


@bp.route("/assessment/plans/<int:plan_id>")
@access(Role.OFFICER, Role.ADMIN)
def plan(plan_id):
    p = db.session.get(AssessmentPlan, plan_id)
    if p is None:
        abort(404)
    visits = db.session.scalars(select(AssessmentVisit).where(AssessmentVisit.plan_id == p.id)
                                .order_by(AssessmentVisit.position).options(*VISIT_OPTIONS)).all()
    return render_template("evaluation/assessment/plan.html", plan=p, visits=visits, rerun=draw.rerun(p))


@bp.route("/assessment/mine")
@access(Role.ASSESSOR)
def mine():
    me = assessment.assessor_of(current_user)
    stmt = select(AssessmentVisit).where(AssessmentVisit.assessor_id == (me.id if me else -1)) \
        .order_by(AssessmentVisit.status, AssessmentVisit.id.desc()).options(*VISIT_OPTIONS)
    return render_template("evaluation/assessment/mine.html", page=Page(stmt), assessor=me)


def _visit_page(v: AssessmentVisit, form=None, falsification_form=None, status=200):
    mine = v.assessor is not None and v.assessor.user_id == current_user.id
    return render_template("evaluation/assessment/visit.html", v=v, s=v.session, item=v.session.item,
                           form=form or VisitForm(), mine=mine, checklist=CHECKLIST,
                           falsification_form=falsification_form or FalsificationForm(),
                           may_confirm=assessment.may_confirm(current_user) and v.discrepancy
                           and v.falsification_confirmed_at is None), status


@bp.route("/assessment/visits/<int:visit_id>", methods=["GET", "POST"])
@access(Role.OFFICER, Role.ADMIN, Role.ASSESSOR, Role.SUPERVISOR, Role.PROVIDER)
def visit(visit_id):
    v = _visit_or_404(visit_id)
    require(assessment.may_see_visit(v, current_user))
    form = VisitForm()
    if request.method == "POST":
        require(current_user.has_role(Role.ASSESSOR))
        if not form.validate_on_submit():
            return _visit_page(v, form, status=422)
        try:
            assessment.record_visit(v, current_user, checklist={k: form[k].data for k in CHECKLIST},
                                    counted=form.counted_attendance.data, score=form.score.data,
                                    findings=form.findings.data or "",
                                    photos=[f for f in request.files.getlist("photos") if f and f.filename])
        except DomainError as e:
            return refused(e, form=form, render=lambda status: _visit_page(v, form, status=status))
        db.session.commit()
        flash(_("The visit was recorded."), "success")
        return redirect(url_for("assessment.visit", visit_id=v.id))
    return _visit_page(v)


@bp.route("/assessment/visits/<int:visit_id>/falsification", methods=["POST"])
@access(Role.OFFICER)
def falsification(visit_id):
    v = _visit_or_404(visit_id)
    require(assessment.may_confirm(current_user))
    form = FalsificationForm()
    if not form.validate_on_submit():
        return _visit_page(v, falsification_form=form, status=422)
    try:
        assessment.confirm_falsification(v, current_user, form.note.data)
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _visit_page(v, falsification_form=form, status=status))
    db.session.commit()
    flash(_("The falsification was confirmed; a suspension is proposed."), "success")
    return redirect(url_for("assessment.visit", visit_id=v.id))


@bp.route("/assessment/photos/<int:assessment_photo_id>")
@access(Role.OFFICER, Role.ADMIN, Role.ASSESSOR, Role.SUPERVISOR, Role.PROVIDER)
def photo(assessment_photo_id):
    ph = db.session.get(AssessmentPhoto, assessment_photo_id)
    if ph is None:
        abort(404)
    require(assessment.may_see_visit(db.session.get(AssessmentVisit, ph.visit_id), current_user))
    return uploads.send(ph.file)


@bp.route("/portal/assessment")
@access(PUBLIC)
def public_plans():
    months = [p for p in db.session.scalars(select(AssessmentPlan).order_by(AssessmentPlan.month.desc()).limit(36))
              if assessment.month_over(p)]
    return render_template("evaluation/assessment/public_plans.html", plans=months)


@bp.route("/portal/assessment/<month>")
@access(PUBLIC)
def public_plan(month):
    if not assessment.is_month(month):
        abort(404)
    p = finished_plan(month.strip())
    if p is None:
        abort(404)
    return render_template("evaluation/assessment/public_plan.html", plan=p, record=public_record(p),
                           recorded=VisitStatus.RECORDED.value)

