"""Review pages: officers draw panels and award; experts confirm, score and submit; the leader
checks qualifications and signs off; everyone reads the draw record and, once the result is
published, the review report."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from core import cache, workdays
from core.accounts.models import Role
from core.db import db, utcnow
from core.errors import DomainError
from core.forms import ConfirmForm
from core.i18n import local_now
from core.pdf import render_pdf_response
from core.permissions import PUBLIC, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from evaluation.experts.models import Expert
from evaluation.review import draw, scoring
from evaluation.review import operations as review
from evaluation.review.bid_content import plan_of
from evaluation.review.forms import AwardForm, FailForm, QualificationForm, RecuseForm
from evaluation.review.models import MemberStatus, Panel, PanelMember, QualificationCheck, Score
from marketplace.awards import operations as award_ops
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import CriterionKind, ProjectState, PurchaseProject

bp = Blueprint("review", __name__, url_prefix="/review")


REVIEW_STATES = (ProjectState.OPENED, ProjectState.UNDER_REVIEW, ProjectState.AWARDED, ProjectState.CONTRACTED,
                 ProjectState.IN_DELIVERY, ProjectState.COMPLETED, ProjectState.FAILED)
PUBLISHED_STATES = (ProjectState.CONTRACTED, ProjectState.IN_DELIVERY, ProjectState.COMPLETED)


# --- helpers ------------------------------------------------------------------------------------

def _project(project_id, *options) -> PurchaseProject:
    project = db.session.get(PurchaseProject, project_id, options=options)
    if project is None or not project.is_opened:
        abort(404)
    return project


def _panel(project) -> Panel | None:
    return db.session.scalar(select(Panel).where(Panel.project_id == project.id))


def officer_covers(project) -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.OFFICER) and \
        current_user.covers_area(project.area)


def result_published(project) -> bool:
    """The review is public once the award is published (and stays public after the contract)."""
    return project.state in PUBLISHED_STATES or award_ops.has_live_award(project)


def _insider(project, panel) -> bool:
    """Officers of the project's area, admins, the panel's seated members, and supervisors once the bids
    are opened."""
    if not current_user.is_authenticated:
        return False
    if current_user.has_role(Role.ADMIN) or officer_covers(project):
        return True
    if current_user.has_role(Role.SUPERVISOR) and project.opened_at is not None:
        return True
    return panel is not None and panel.member_for(current_user) is not None


def _member_or_403(project, action):
    panel, member = draw.member_of(project, current_user, action)
    return panel, member


def _csrf_ok():
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _back(project):
    return redirect(url_for("review.project", project_id=project.id))


# --- lists --------------------------------------------------------------------------------------

@bp.route("/mine")
@access(Role.EXPERT)
def my_panels():
    expert = db.session.scalar(select(Expert).where(Expert.user_id == current_user.id))
    members = []
    if expert is not None:
        members = db.session.scalars(
            select(PanelMember).where(PanelMember.expert_id == expert.id).join(Panel)
            .order_by(Panel.drawn_at.desc())).all()
    return render_template("evaluation/review/my_panels.html", expert=expert, members=members)


def _panels_of(projects) -> dict:
    return {p.project_id: p for p in db.session.scalars(
        select(Panel).where(Panel.project_id.in_([p.id for p in projects])))}


def _panel_progress(project, panels) -> str:
    panel = panels.get(project.id)
    if panel is None:
        return _("not drawn")
    return _("%(done)d of %(size)d submitted", done=sum(1 for m in panel.seated if m.submitted), size=panel.size)


REVIEW_PROJECTS = Table("review-projects", [
    Column(_l("Reference"), "reference"),
    Column(_l("Project"), "title"),
    Column(_l("State"), "current_state"),
    Column(_l("Opened"), "opened_at"),
    Column(_l("Panel"), _panel_progress, batch=True),
], batch=_panels_of)


@bp.route("/projects")
@access(Role.OFFICER, Role.ADMIN)
def projects():
    stmt = select(PurchaseProject).where(PurchaseProject.state.in_(REVIEW_STATES)) \
        .order_by(PurchaseProject.opened_at.desc(), PurchaseProject.id.desc())
    if not current_user.has_role(Role.ADMIN) and current_user.jurisdiction is not None \
            and current_user.jurisdiction.town_id is not None:
        stmt = stmt.where(PurchaseProject.area_id == current_user.jurisdiction_id)
    if wants_export():
        return REVIEW_PROJECTS.download(stmt)
    page = Page(stmt)
    panels = _panels_of(page.items)
    return render_template("evaluation/review/projects.html", page=page, panels=panels)


# --- the project's review workspace ----------------------------------------------------------------

@bp.route("/projects/<int:project_id>")
@access(Role.OFFICER, Role.EXPERT, Role.ADMIN, Role.SUPERVISOR)
def project(project_id):
    project = _project(project_id)
    require(_insider(project, _panel(project)))
    return _workspace(project)


def _workspace(project):
    panel = _panel(project)
    member = panel.member_for(current_user) if panel else None
    bids = draw.reviewing_bids(project)
    ctx = {"project": project, "panel": panel, "member": member, "bids": bids,
           "officer": officer_covers(project), "form": ConfirmForm(), "recuse_form": RecuseForm(),
           "result": review.current_result(project) if panel else None,
           "award": award_ops.live_award(project), "fail_form": FailForm()}
    if member is not None:
        mine = db.session.scalars(select(Score).where(Score.member_id == member.id)).all()
        ctx["my_scores"] = {(s.bid_id, s.criterion_id): s for s in mine}
        ctx["missing"] = scoring.missing_scores(member)
        # Another member's scores are shown only to a member who has submitted, and only
        # those of members who have submitted too.
        ctx["others"] = []
        if member.submitted:
            ctx["others"] = db.session.scalars(
                select(Score).where(Score.member_id.in_([m.id for m in panel.seated
                                                         if m.submitted and m.id != member.id]))).all()
    if panel is not None:
        ctx["checks"] = {(q.bid_id, q.criterion_id): q for q in db.session.scalars(
            select(QualificationCheck).where(QualificationCheck.panel_id == panel.id))}
        ctx["qual_form"] = QualificationForm()
        ctx["qual_done"] = scoring.qualification_complete(panel)
    return render_template("evaluation/review/project.html", **ctx)


@bp.route("/projects/<int:project_id>/draw", methods=["POST"])
@access(Role.OFFICER)
def draw_panel(project_id):
    project = _project(project_id)
    require(officer_covers(project))
    _csrf_ok()
    try:
        panel = draw.draw_panel(project, current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("Panel of %(n)d experts drawn.", n=panel.size), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/confirm", methods=["POST"])
@access(Role.EXPERT)
def confirm(project_id):
    project = _project(project_id)
    _unused, member = _member_or_403(project, "panel.confirm")
    _csrf_ok()
    try:
        draw.confirm_no_conflict(member, current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("Thank you. You may now review the bids."), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/recuse", methods=["POST"])
@access(Role.EXPERT)
def recuse(project_id):
    project = _project(project_id)
    _unused, member = _member_or_403(project, "panel.recuse")
    form = RecuseForm()
    if not form.validate_on_submit():
        flash(_("Say what the conflict is."), "danger")
        return _back(project), 422
    try:
        draw.recuse(member, form.reason.data, current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("You have recused yourself; a replacement was drawn."), "success")
    return redirect(url_for("review.my_panels"))


@bp.route("/projects/<int:project_id>/qualification", methods=["POST"])
@access(Role.EXPERT)
def qualification(project_id):
    project = _project(project_id)
    _unused, member = _member_or_403(project, "review.qualification")
    form = QualificationForm()
    if not form.validate_on_submit():
        flash(_("Choose pass or fail and give the reason."), "danger")
        return _back(project), 422
    bid = db.session.get(Bid, int(form.bid_id.data)) if form.bid_id.data.isdigit() else None
    criterion = next((c for c in project.criteria if str(c.id) == form.criterion_id.data), None)
    if bid is None or criterion is None:
        abort(404)
    try:
        scoring.record_qualification(member, bid, criterion, passed=form.passed.data == "1",
                                     reason=form.reason.data, actor=current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("Finding recorded."), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/bids/<int:bid_id>", methods=["GET", "POST"])
@access(Role.EXPERT)
def score_bid(project_id, bid_id):
    project = _project(project_id)
    panel, member = _member_or_403(project, "review.score")
    bid = db.session.get(Bid, bid_id)
    if bid is None or bid.project_id != project.id or bid.status == BidStatus.WITHDRAWN:
        abort(404)
    criteria = project.criteria_of(CriterionKind.SUBJECTIVE)
    form = ConfirmForm()
    existing = {s.criterion_id: s for s in db.session.scalars(
        select(Score).where(Score.member_id == member.id, Score.bid_id == bid.id))}
    values = {c.id: (str(existing[c.id].score) if c.id in existing else "",
                     existing[c.id].reason if c.id in existing else "") for c in criteria}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        entries = {c.id: (request.form.get(f"score_{c.id}", ""), request.form.get(f"reason_{c.id}", ""))
                   for c in criteria}
        values = entries
        try:
            scoring.save_scores(member, bid, entries, current_user)
        except DomainError as e:
            refused(e, form=form, field="")
            status = e.status
        else:
            flash(_("Scores saved for %(name)s.", name=bid.provider.name), "success")
            return _back(project)
    return render_template("evaluation/review/score.html", project=project, panel=panel, member=member, bid=bid,
                           criteria=criteria, values=values, form=form, plan=plan_of(bid)), status


@bp.route("/projects/<int:project_id>/submit", methods=["POST"])
@access(Role.EXPERT)
def submit(project_id):
    project = _project(project_id)
    _unused, member = _member_or_403(project, "review.submit")
    _csrf_ok()
    try:
        result = scoring.submit(member, current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("Your scores are submitted and locked."), "success")
    if result is not None:
        flash(_("Every expert has submitted; the review has been computed."), "info")
    return _back(project)


@bp.route("/projects/<int:project_id>/sign-off", methods=["POST"])
@access(Role.EXPERT)
def sign_off(project_id):
    project = _project(project_id)
    panel, member = _member_or_403(project, "review.sign_off")
    _csrf_ok()
    try:
        review.sign_off(panel, member, current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("The review report is signed off."), "success")
    return redirect(url_for("review.report", project_id=project.id))


@bp.route("/projects/<int:project_id>/award", methods=["GET", "POST"])
@access(Role.OFFICER)
def award(project_id):
    project = _project(project_id)
    require(officer_covers(project))
    panel = _panel(project)
    result = review.current_result(project) if panel else None
    if result is None or result.signed_off_at is None or project.current_state != ProjectState.UNDER_REVIEW:
        flash(_("The review report must be signed off before the award."), "danger")
        return _back(project), 409
    form = AwardForm()
    form.bid_id.choices = [(b.bid_id, f"{b.rank}. {b.provider_name}") for b in result.ranked]
    if request.method == "GET" and result.top is not None:
        form.bid_id.data = result.top.bid_id
    if form.validate_on_submit():
        bid = db.session.get(Bid, form.bid_id.data)
        try:
            award = review.award_project(project, bid, form.reason.data, current_user)
        except DomainError as e:
            return refused(e, form=form, template="evaluation/review/award.html", project=project, result=result)
        flash(_("Awarded to %(name)s; the result is published.", name=award.provider.name), "success")
        return redirect(url_for("awards.notice", project_id=project.id))
    # The challenge window the award would open: 7 working days lie within three weeks.
    now = utcnow()
    gaps = workdays.calendar_gaps(now, now + dt.timedelta(days=21))
    return render_template("evaluation/review/award.html", project=project, result=result, form=form,
                           calendar_gaps=gaps), (422 if form.errors else 200)


@bp.route("/projects/<int:project_id>/fail", methods=["POST"])
@access(Role.OFFICER)
def fail(project_id):
    project = _project(project_id)
    require(officer_covers(project))
    form = FailForm()
    if not form.validate_on_submit():
        flash(_("A failure needs a reason."), "danger")
        return _back(project), 422
    try:
        award_ops.fail_project(project, form.reason.data, current_user)
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _workspace(project))
    flash(_("The project is recorded as failed."), "success")
    return _back(project)


# --- public records ---------------------------------------------------------------------------------

def _record_panel(project) -> Panel | None:
    """The panel as the public records show it: the project is already loaded and found in the
    session; members with their experts' own columns, nothing the experts or users load eagerly."""
    return db.session.scalar(
        select(Panel).where(Panel.project_id == project.id)
        .options(lazyload(Panel.project), lazyload(Panel.drawn_by), lazyload(Panel.signed_off_by),
                 selectinload(Panel.members).joinedload(PanelMember.expert)
                 .options(lazyload(Expert.user), lazyload(Expert.specialties), lazyload(Expert.conflicts))))


def _visible_record(project_id):
    # The records show the project's heading, not its lines (items and venues).
    project = _project(project_id, lazyload(PurchaseProject.lines))
    panel = _record_panel(project)
    if panel is None:
        abort(404)
    if not (result_published(project) or _insider(project, panel)):
        # Until the result is published the panel's names are kept from the public.
        abort(404)
    return project, panel


@bp.route("/projects/<int:project_id>/draw-record")
@access(PUBLIC)
def draw_record(project_id):
    project, panel = _visible_record(project_id)
    return render_template("evaluation/review/draw_record.html", project=project, panel=panel, check=draw.rerun(panel),
                           reasons=draw_reasons())


def draw_reasons():
    return {draw.EMPLOYER_IS_BIDDER: _("employer is a bidder"), draw.DECLARED_CONFLICT: _("declared conflict"),
            draw.REVIEWED_TOO_OFTEN: _("reviewed this bidder too often this year")}


def report_context(project, panel):
    result = review.current_result(project, for_report=True)
    if result is None:
        abort(404)
    members = sorted(panel.members, key=lambda m: m.draw_position)
    criteria = project.criteria_of(CriterionKind.SUBJECTIVE)
    flagged = {(f.member_id, f.bid_id, f.criterion_id) for f in result.flags}
    # Columns, not Score objects: nothing they would load eagerly is needed here.
    score_reasons = {(m, b, c): reason for m, b, c, reason in db.session.execute(
        select(Score.member_id, Score.bid_id, Score.criterion_id, Score.reason)
        .where(Score.member_id.in_([m.id for m in members])))}
    checks = db.session.scalars(select(QualificationCheck).where(QualificationCheck.panel_id == panel.id)
                                .order_by(QualificationCheck.bid_id, QualificationCheck.criterion_id)).all()
    seated = [m for m in members if m.status != MemberStatus.RECUSED]
    return {"project": project, "panel": panel, "result": result, "members": members, "seated": seated,
            "criteria": criteria, "flagged": flagged, "score_reasons": score_reasons, "checks": checks,
            # Stored when the panel was drawn or changed; the draw record re-runs it on demand.
            "check": draw.stored_check(panel),
            "names": {b.bid_id: b.provider_name for b in result.bids}, "reasons": draw_reasons(),
            "published": result_published(project),
            "qualification_criteria": project.criteria_of(CriterionKind.QUALIFICATION)}


# The rendered body of a review report is kept under a key naming everything it shows that can still
# change once the review is computed (a new review is a new result id); the rest is frozen by then.
REPORT_KEEP_SECONDS = 3600


def _report_key(project, panel, head) -> str:
    seats = [(m.id, m.status.value, m.submitted_at, m.recusal_reason, m.is_leader, m.expert.updated_at)
             for m in panel.members]
    shown = repr((project.updated_at, head.signed_off_at, panel.checked_at, panel.check_matched, seats))
    return (f"review-report:{head.id}:{get_locale()}:"
            f"{hashlib.sha256(shown.encode()).hexdigest()[:32]}")


@bp.route("/projects/<int:project_id>/report")
@access(PUBLIC)
def report(project_id):
    project, panel = _visible_record(project_id)
    head = review.current_result_head(project)
    if head is None:
        abort(404)
    body, _at = cache.remember(
        _report_key(project, panel, head), REPORT_KEEP_SECONDS,
        lambda: render_template("evaluation/review/_report_body.html", **report_context(project, panel)))
    return render_template("evaluation/review/report.html", project=project, signed_off=head.signed_off_at,
                           published=result_published(project), form=ConfirmForm(),
                           member=panel.member_for(current_user) if current_user.is_authenticated else None,
                           # Rendered by the app's own autoescaped template (above or earlier).
                           body=Markup(body))  # noqa: S704  # nosec B704


@bp.route("/projects/<int:project_id>/report.pdf")
@access(PUBLIC)
def report_pdf(project_id):
    project, panel = _visible_record(project_id)
    ctx = report_context(project, panel)
    return render_pdf_response("evaluation/review/report_pdf.html",
                               _("Review report %(ref)s", ref=project.reference) + f" {local_now():%Y%m%d}.pdf",
                               **ctx)


def award_notice_links(project: PurchaseProject, award):
    """The award notice's links to the review report and the panel draw record
    (marketplace.signals.award_notice_links)."""
    html = render_template("evaluation/review/_notice_links.html", project=project)
    return Markup(html)  # noqa: S704  # nosec B704  (an autoescaped template's output)
