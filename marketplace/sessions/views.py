"""Delivery pages: the provider's and officer's session lists, a contract's schedule, one session
with its report, photos and the venue officer's decision."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from core.accounts.models import Role
from core.areas.models import Area, Venue
from core.db import db, utcnow
from core.errors import DomainError, Forbidden, Invalid
from core.i18n import parse_local_datetime
from core.permissions import access, require
from core.refusals import refused
from core.signals import markup_for
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from marketplace import signals
from marketplace.contracts.models import Contract, ContractState
from marketplace.projects import operations as project_ops
from marketplace.projects.models import PurchaseProject
from marketplace.sessions import operations as session_ops
from marketplace.sessions import photos as session_photos
from marketplace.sessions.forms import ConfirmForm, DisputeForm, ReportForm, ScheduleForm
from marketplace.sessions.models import ServiceSession, SessionState

bp = Blueprint("sessions", __name__, url_prefix="/delivery")


def _contract_or_404(contract_id: int) -> Contract:
    c = db.session.get(Contract, contract_id)
    if c is None:
        abort(404)
    return c


def _may_view_contract(contract: Contract) -> bool:
    return current_user.has_role(Role.ADMIN) or session_ops.may_manage_contract(current_user, contract)


def _overdue_lazily():
    """The clock's part, done when pages load (and by `flask evaluation apply-due`)."""
    try:
        with db.session.begin_nested():
            session_ops.record_overdue()
    except OperationalError:
        current_app.logger.warning("overdue sessions not recorded: the database is busy")


def _parse_time(raw: str, field: str):
    try:
        return parse_local_datetime(raw or "")
    except ValueError:
        raise Invalid(_l("Enter a date and time such as 2026-12-05 19:30."), field) from None

# --- lists -------------------------------------------------------------------------------------

SESSIONS = Table("sessions", [
    Column(_l("Scheduled"), "scheduled_at"),
    Column(_l("Item"), "item.name"),
    Column(_l("Venue"), "venue.name"),
    Column(_l("Provider"), "provider.name"),
    Column(_l("State"), "state"),
    Column(_l("Contract"), "contract.number"),
    Column(_l("Attendance"), "attendance"),
    Column(_l("Reported"), "reported_at"),
], options=[selectinload(ServiceSession.contract)])

@bp.route("/")
@access(Role.PROVIDER, Role.OFFICER)
def index():
    _overdue_lazily()
    provider = session_ops.provider_of(current_user)
    contracts = []
    if provider is not None:
        stmt = (select(ServiceSession).where(ServiceSession.provider_id == provider.id)
                .order_by(ServiceSession.scheduled_at.desc()))
        contracts = db.session.scalars(select(Contract).where(Contract.provider_id == provider.id)
                                       .order_by(Contract.id.desc())).all()
    elif current_user.has_role(Role.OFFICER) and current_user.jurisdiction is not None:
        stmt = (select(ServiceSession).join(Venue, Venue.id == ServiceSession.venue_id)
                .join(Area, Area.id == Venue.area_id)
                .order_by(ServiceSession.state != SessionState.REPORTED, ServiceSession.scheduled_at.desc()))
        stmt = _in_jurisdiction(stmt)
        contracts = db.session.scalars(select(Contract).join(PurchaseProject, PurchaseProject.id == Contract.project_id)
                                       .where(project_ops.projects_in_jurisdiction(current_user))
                                       .order_by(Contract.id.desc()).limit(50)).all()
    else:
        stmt = select(ServiceSession).where(ServiceSession.id.is_(None))
    state = request.args.get("state", "")
    if state in {s.value for s in SessionState}:
        stmt = stmt.where(ServiceSession.state == SessionState(state))
    stmt = stmt.options(selectinload(ServiceSession.venue), selectinload(ServiceSession.item),
                        selectinload(ServiceSession.provider))
    if wants_export():
        return SESSIONS.download(stmt)
    return render_template("marketplace/sessions/index.html", page=Page(stmt), contracts=contracts, state=state,
                           states=list(SessionState), provider=provider, now=utcnow())


def _in_jurisdiction(stmt):
    j = current_user.jurisdiction
    if j.level.value == "district":
        return stmt
    return stmt.where(or_(Area.id == j.id, Area.parent_id == j.id))


# --- a contract's schedule -----------------------------------------------------------------------

def _contract_page(contract: Contract, form: ScheduleForm | None = None, status: int = 200):
    form = form or ScheduleForm()
    counts = session_ops.line_counts(contract)
    form.line_id.choices = [(ln.id, f"{ln.item_name} · {ln.venue.name} ({counts.get(ln.id, 0)}/{ln.sessions})")
                            for ln in contract.lines]
    sessions = db.session.scalars(select(ServiceSession).where(ServiceSession.contract_id == contract.id)
                                  .options(selectinload(ServiceSession.venue))
                                  .order_by(ServiceSession.scheduled_at)).all()
    may_schedule = contract.state == ContractState.ACTIVE and session_ops.may_manage_contract(current_user, contract)
    return render_template("marketplace/sessions/contract.html", contract=contract, sessions=sessions, counts=counts,
                           form=form, may_schedule=may_schedule), status


@bp.route("/contracts/<int:contract_id>")
@access(Role.PROVIDER, Role.OFFICER, Role.ADMIN)
def contract(contract_id):
    c = _contract_or_404(contract_id)
    require(_may_view_contract(c))
    return _contract_page(c)


@bp.route("/contracts/<int:contract_id>/sessions", methods=["POST"])
@access(Role.PROVIDER, Role.OFFICER)
def schedule(contract_id):
    c = _contract_or_404(contract_id)
    require(session_ops.may_manage_contract(current_user, c))
    form = ScheduleForm()
    form.line_id.choices = [(ln.id, ln.item_name) for ln in c.lines]
    if not form.validate_on_submit():
        return _contract_page(c, form, 422)
    line = next((ln for ln in c.lines if ln.id == form.line_id.data), None)
    try:
        when = _parse_time(form.scheduled_at.data, "scheduled_at")
        s = session_ops.schedule_session(c, line, when, form.planned_audience.data.strip(), current_user)
    except DomainError as e:
        return refused(e, form=form,
                       render=lambda status: _contract_page(_contract_or_404(contract_id), form, status))
    flash(_("Session scheduled."), "success")
    return redirect(url_for("sessions.contract", contract_id=c.id, _anchor=f"s{s.id}"))


# --- one session -----------------------------------------------------------------------------------

def _session_page(s: ServiceSession, report_form=None, confirm_form=None, dispute_form=None, status=200):
    now = utcnow()
    own = session_ops.is_own(current_user, s)
    decide = session_ops.may_decide(current_user, s)
    panels = markup_for(signals.session_page_panels, s, user=current_user._get_current_object())
    return render_template(
        "marketplace/sessions/detail.html", s=s, own=own, decide=decide, now=now, panels=panels,
        report_form=report_form or ReportForm(), confirm_form=confirm_form or ConfirmForm(),
        dispute_form=dispute_form or DisputeForm(), report_due=session_ops.report_due(s),
        missed_after=session_ops.missed_after(s), confirm_due=session_ops.confirm_due(s),
        may_report=own and s.state == SessionState.SCHEDULED and s.started(now) and now <= session_ops.missed_after(s),
        may_decide=decide and s.state == SessionState.REPORTED and now <= session_ops.confirm_due(s)), status


@bp.route("/sessions/<int:session_id>")
@access(Role.PROVIDER, Role.OFFICER, Role.ADMIN)
def detail(session_id):
    _overdue_lazily()
    s = db.get_or_404(ServiceSession, session_id)
    require(session_ops.may_view(current_user, s))
    return _session_page(s)


@bp.route("/sessions/<int:session_id>/report", methods=["POST"])
@access(Role.PROVIDER)
def report(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    if not session_ops.is_own(current_user, s):
        raise Forbidden(_l("Only the provider that delivers this session may report it."),
                        audit_action="session.report", obj=s)
    form = ReportForm()
    if not form.validate_on_submit():
        return _session_page(s, report_form=form, status=422)
    try:
        photos = [session_ops.NewPhoto(f.filename or "photo", f.read()) for f in (form.photos.data or [])
                  if f and getattr(f, "filename", "")]
        data = session_ops.ReportInput(actual_start=_parse_time(form.actual_start.data, "actual_start"),
                                       actual_end=_parse_time(form.actual_end.data, "actual_end"),
                                       attendance=form.attendance.data.strip(), notes=form.notes.data or "",
                                       photos=photos)
        session_ops.report_session(s, data, current_user)
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _session_page(s, report_form=form, status=status))
    flash(_("Session reported. The venue's officer has been asked to accept it."), "success")
    return redirect(url_for("sessions.detail", session_id=session_id))


def _require_venue_officer(s: ServiceSession, action: str):
    """Refuse (403, audited) an officer whose jurisdiction does not cover the session's venue."""
    if not session_ops.may_decide(current_user, s):
        raise Forbidden(_l("This session's venue lies outside your jurisdiction."), audit_action=action, obj=s)


@bp.route("/sessions/<int:session_id>/confirm", methods=["POST"])
@access(Role.OFFICER)
def confirm(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    _require_venue_officer(s, "session.confirm")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _session_page(s, confirm_form=form, status=422)
    try:
        session_ops.confirm_session(s, form.acceptance_score.data.strip(), form.note.data or "", current_user)
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _session_page(s, confirm_form=form, status=status))
    flash(_("Session accepted."), "success")
    return redirect(url_for("sessions.detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/dispute", methods=["POST"])
@access(Role.OFFICER)
def dispute(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    _require_venue_officer(s, "session.dispute")
    form = DisputeForm()
    if not form.validate_on_submit():
        return _session_page(s, dispute_form=form, status=422)
    try:
        session_ops.dispute_session(s, form.reason.data, current_user)
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _session_page(s, dispute_form=form, status=status))
    flash(_("Session disputed; the provider has been told why."), "success")
    return redirect(url_for("sessions.detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/attendance-code")
@access(Role.PROVIDER, Role.OFFICER)
def attendance_sheet(session_id):
    """A sheet to print and show at the event: the attendance code in large digits, and how to rate."""
    s = db.get_or_404(ServiceSession, session_id)
    require(session_ops.is_own(current_user, s) or session_ops.may_decide(current_user, s))
    resp = current_app.make_response(render_template("marketplace/sessions/attendance_sheet.html", s=s))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/sessions/<int:session_id>/photos/<int:photo_id>")
@access(Role.PROVIDER, Role.OFFICER, Role.ADMIN)
def photo(session_id, photo_id):
    s = db.get_or_404(ServiceSession, session_id)
    require(session_ops.may_view(current_user, s))
    p = session_ops.photo_of(s, photo_id)
    data = session_photos.read(p.sha256) if p is not None else None
    if data is None:
        abort(404)
    resp = Response(data, mimetype=p.content_type)
    resp.headers["Content-Disposition"] = f"inline; filename=photo-{p.id}.{p.content_type.split('/')[1]}"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
