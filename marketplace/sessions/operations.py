"""Service sessions (场次): schedule from a contract's lines, report, confirm or dispute, and the
clock's part (missed sessions, acceptance by default).

Operations take objects, validated data and the acting user; they lock the session (or the
contract) first, read the clock after holding it, change state, flush and audit. They never
commit. A refused action changes nothing (the request rolls back) and the refusal is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import lazyload

from core import audit, settings
from core.accounts.models import Role, User
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.i18n import fmt_datetime, to_local
from core.notifications import notify
from marketplace import signals
from marketplace.contracts.models import Contract, ContractLine, ContractState
from marketplace.projects import operations as project_ops
from marketplace.projects.models import ProjectState, PurchaseProject
from marketplace.providers.models import Provider
from marketplace.sessions import photos as session_photos
from marketplace.sessions.models import ServiceSession, SessionPhoto, SessionState

REPORT_DAYS = settings.define(
    "sessions.report_on_time_days", 3, _l("A session report counts as on time within this many days of the session"),
    int, 0, 60)
MISSED_DAYS = settings.define(
    "sessions.missed_after_days", 14,
    _l("A session not reported within this many days is recorded as missed"), int, 1, 120)
CONFIRM_DAYS = settings.define(
    "sessions.confirm_days", 7,
    _l("Days the venue's officer has to confirm or dispute a reported session (then it stands as reported)"),
    int, 1, 60)
SETTINGS = (REPORT_DAYS, MISSED_DAYS, CONFIRM_DAYS)
MAX_AUDIENCE = 100_000
MAX_NOTES = 5000


# --- who may do what -------------------------------------------------------------------------

def provider_of(user) -> Provider | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Provider).where(Provider.user_id == user.id))


def is_own(user, session: ServiceSession) -> bool:
    """The provider that delivers the session."""
    provider = provider_of(user)
    return provider is not None and provider.id == session.provider_id


def may_decide(user, session: ServiceSession) -> bool:
    """An officer whose jurisdiction covers the session's venue."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.has_role(Role.OFFICER)
            and user.covers_area(session.venue.area))


def may_view(user, session: ServiceSession) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.ADMIN) or is_own(user, session) or may_decide(user, session):
        return True
    return project_ops.may_manage(user, session.contract.project)


def may_manage_contract(user, contract: Contract) -> bool:
    provider = provider_of(user)
    if provider is not None and provider.id == contract.provider_id:
        return True
    return project_ops.may_manage(user, contract.project)


def session_link(session: ServiceSession) -> str:
    return f"/delivery/sessions/{session.id}"


def lock_alone(model, pk):
    """lock_row without eager joins: PostgreSQL refuses FOR UPDATE on the nullable side of the outer
    joins a model's joined relationships add (Contract, Provider)."""
    stmt = select(model).options(lazyload("*")).where(model.id == pk).with_for_update()
    return db.session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()


def _lock(session: ServiceSession) -> ServiceSession:
    locked = lock_row(ServiceSession, session.id)
    if locked is None:
        raise Refused(_l("The session no longer exists."))
    return locked


# --- scheduling ------------------------------------------------------------------------------

def scheduled_count(line: ContractLine) -> int:
    return db.session.scalar(select(func.count()).select_from(ServiceSession)
                             .where(ServiceSession.line_id == line.id)) or 0


def line_counts(contract: Contract) -> dict[int, int]:
    rows = db.session.execute(select(ServiceSession.line_id, func.count()).where(
        ServiceSession.contract_id == contract.id).group_by(ServiceSession.line_id))
    return dict(rows.all())


def _audience(raw, fieldname: str, required: bool = True) -> int:
    if raw is None or raw == "":
        if required:
            raise Invalid(_l("Give a whole number of people."), fieldname)
        return 0
    if isinstance(raw, bool):
        raise Invalid(_l("Give a whole number of people."), fieldname)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise Invalid(_l("Give a whole number of people."), fieldname) from None
    if value != raw and not isinstance(raw, str):
        raise Invalid(_l("Give a whole number of people."), fieldname)
    if not 0 <= value <= MAX_AUDIENCE:
        raise Invalid(_l("The number of people lies between 0 and %(n)d.", n=MAX_AUDIENCE), fieldname)
    return value


def schedule_session(contract: Contract, line: ContractLine, when: dt.datetime | None, planned_audience,
                     actor: User, now: dt.datetime | None = None) -> ServiceSession:
    """Plan one session of a contract line at its venue (the provider or the buyer's officer)."""
    contract = lock_alone(Contract, contract.id)
    if contract is None:
        raise Refused(_l("The contract no longer exists."))
    now = now or utcnow()
    if not may_manage_contract(actor, contract):
        raise Forbidden(_l("Only the contracted provider or the buyer's officer schedules its sessions."),
                        audit_action="session.schedule", obj=contract)
    if contract.state != ContractState.ACTIVE:
        raise Refused(_l("Sessions are scheduled only under a contract in force (this one is “%(state)s”).",
                         state=contract.state.label), audit_action="session.schedule", obj=contract)
    if line is None or line.contract_id != contract.id:
        raise Invalid(_l("Choose one of the contract's lines."), "line_id")
    if when is None or when.tzinfo is None:
        raise Invalid(_l("Give the date and time of the session."), "scheduled_at")
    day = to_local(when).date()
    if not contract.start_date <= day <= contract.end_date:
        raise Invalid(_l("The session must fall within the contract's term (%(start)s to %(end)s).",
                         start=contract.start_date.isoformat(), end=contract.end_date.isoformat()), "scheduled_at")
    audience = _audience(planned_audience, "planned_audience")
    if scheduled_count(line) >= line.sessions:
        raise Refused(_l("All %(n)d sessions of “%(item)s” at %(venue)s are already scheduled.", n=line.sessions,
                         item=line.item_name, venue=line.venue.name), "line_id",
                      audit_action="session.schedule", obj=contract)
    session = ServiceSession(contract_id=contract.id, line_id=line.id, provider_id=contract.provider_id,
                             item_id=line.item_id, venue_id=line.venue_id, scheduled_at=when,
                             planned_audience=audience, state=SessionState.SCHEDULED, created_at=now,
                             scheduled_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    audit.record("session.schedule", session, actor=actor, contract=contract.id, line=line.id,
                 scheduled_at=when, planned_audience=audience)
    return session


# --- the provider's report -------------------------------------------------------------------

@dataclass
class NewPhoto:
    name: str
    data: bytes


@dataclass
class ReportInput:
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None
    attendance: object
    notes: str = ""
    photos: list[NewPhoto] = field(default_factory=list)


def report_due(session: ServiceSession) -> dt.datetime:
    """Reported by then, a session counts as on time."""
    return session.scheduled_at + dt.timedelta(days=settings.get(REPORT_DAYS.key))


def missed_after(session: ServiceSession) -> dt.datetime:
    return session.scheduled_at + dt.timedelta(days=settings.get(MISSED_DAYS.key))


def confirm_due(session: ServiceSession) -> dt.datetime | None:
    if session.reported_at is None:
        return None
    return session.reported_at + dt.timedelta(days=settings.get(CONFIRM_DAYS.key))


def report_session(session: ServiceSession, data: ReportInput, actor: User,
                   now: dt.datetime | None = None) -> ServiceSession:
    session = _lock(session)
    now = now or utcnow()
    if not is_own(actor, session):
        raise Forbidden(_l("Only the provider that delivers this session may report it."),
                        audit_action="session.report", obj=session)
    if session.contract.state != ContractState.ACTIVE:
        raise Refused(_l("The contract is not in force (it is “%(state)s”).", state=session.contract.state.label),
                      audit_action="session.report", obj=session)
    if session.state == SessionState.SCHEDULED and now > missed_after(session):
        raise Refused(_l("This session was due to be reported by %(at)s and is recorded as missed.",
                         at=fmt_datetime(missed_after(session))), audit_action="session.report", obj=session)
    if session.state != SessionState.SCHEDULED:
        raise Refused(_l("This session is “%(state)s”; only a scheduled session is reported.",
                         state=session.state.label), audit_action="session.report", obj=session)
    if now < session.scheduled_at:
        raise Refused(_l("A session is reported after it has taken place (it is planned for %(at)s).",
                         at=fmt_datetime(session.scheduled_at)), "actual_start",
                      audit_action="session.report", obj=session)
    start, end = data.actual_start, data.actual_end
    if start is None or start.tzinfo is None:
        raise Invalid(_l("Give the time the session actually began."), "actual_start")
    if end is None or end.tzinfo is None:
        raise Invalid(_l("Give the time the session ended."), "actual_end")
    if end <= start:
        raise Invalid(_l("The end must come after the beginning."), "actual_end")
    if end - start > dt.timedelta(hours=24):
        raise Invalid(_l("A session lasts at most 24 hours."), "actual_end")
    if start > now:
        raise Invalid(_l("The session cannot have begun in the future."), "actual_start")
    if abs(start - session.scheduled_at) > dt.timedelta(days=2):
        raise Invalid(_l("The actual time lies too far from the planned time (%(at)s); schedule another session "
                         "instead.", at=fmt_datetime(session.scheduled_at)), "actual_start")
    attendance = _audience(data.attendance, "attendance")
    notes = (data.notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise Invalid(_l("Notes are limited to %(n)d characters.", n=MAX_NOTES), "notes")
    if len(data.photos) > session_photos.MAX_PHOTOS:
        raise Invalid(_l("At most %(n)d photos per session.", n=session_photos.MAX_PHOTOS), "photos")
    checked = [session_photos.check_photo(p.name, p.data) for p in data.photos]

    late = now > report_due(session)
    session.state = SessionState.REPORTED
    session.reported_at, session.reported_by_id = now, actor.id
    session.actual_start, session.actual_end = start, end
    session.attendance, session.notes, session.reported_late = attendance, notes, late
    for pos, photo in enumerate(checked):
        session_photos.store(photo)
        db.session.add(SessionPhoto(session_id=session.id, position=pos, sha256=photo.sha256,
                                    content_type=photo.content_type, size=len(photo.data), width=photo.width,
                                    height=photo.height, created_at=now))
    db.session.flush()
    audit.record("session.report", session, actor=actor, attendance=attendance, late=late, photos=len(checked),
                 actual_start=start)
    project = session.contract.project
    if project.state == ProjectState.CONTRACTED:
        project_ops.start_delivery(project, actor, now)
    _notify_officers(session)
    signals.session_reported.send(session)
    return session


def _notify_officers(session: ServiceSession):
    """Tell the officers who may accept it that a session waits for them."""
    from core.accounts.models import User as U

    ids, node = [], session.venue.area
    while node is not None:  # the venue's area and every area above it
        ids.append(node.id)
        node = node.parent
    officers = db.session.scalars(select(U).where(U.jurisdiction_id.in_(ids))).all()
    for officer in officers:
        if officer.has_role(Role.OFFICER):
            notify(officer, _l("A session waits for acceptance: %(venue)s", venue=session.venue.name),
                   _l("Reported %(at)s; accept or dispute it within %(days)d days.",
                      at=fmt_datetime(session.reported_at), days=settings.get(CONFIRM_DAYS.key)),
                   session_link(session))


# --- the officer's decision ------------------------------------------------------------------

def _decision_gate(session: ServiceSession, actor: User, action: str, now: dt.datetime) -> ServiceSession:
    session = _lock(session)
    if not may_decide(actor, session):
        raise Forbidden(_l("This session's venue lies outside your jurisdiction."), audit_action=action,
                        obj=session)
    if session.state != SessionState.REPORTED:
        raise Refused(_l("Only a reported session waiting for acceptance can be decided (this one is “%(state)s”).",
                         state=session.state.label), audit_action=action, obj=session)
    due = confirm_due(session)
    if now > due:
        raise Refused(_l("The days for a decision ended at %(at)s; the report stands as accepted.",
                         at=fmt_datetime(due)), audit_action=action, obj=session)
    return session


def _parse_score(raw) -> int:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise Invalid(_l("Give an acceptance score from 0 to 100."), "acceptance_score")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise Invalid(_l("Give an acceptance score from 0 to 100."), "acceptance_score") from None
    if (not isinstance(raw, str) and value != raw) or not 0 <= value <= 100:
        raise Invalid(_l("Give an acceptance score from 0 to 100."), "acceptance_score")
    return value


def confirm_session(session: ServiceSession, score, note: str, actor: User,
                    now: dt.datetime | None = None) -> ServiceSession:
    """Accept the report with a score (0–100) against the item's service standard."""
    now = now or utcnow()
    session = _decision_gate(session, actor, "session.confirm", now)
    value = _parse_score(score)
    note = (note or "").strip()
    if len(note) > 2000:
        raise Invalid(_l("At most %(n)d characters.", n=2000), "note")
    session.state, session.acceptance_score, session.decision_note = SessionState.CONFIRMED, value, note
    session.decided_at, session.decided_by_id = now, actor.id
    db.session.flush()
    audit.record("session.confirm", session, actor=actor, acceptance_score=value)
    notify(session.provider.user_id, _l("Session accepted with %(score)d/100", score=value), note,
           session_link(session))
    _after_decision(session, actor, now)
    return session


def dispute_session(session: ServiceSession, reason: str, actor: User,
                    now: dt.datetime | None = None) -> ServiceSession:
    now = now or utcnow()
    session = _decision_gate(session, actor, "session.dispute", now)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give the reason for the dispute."), "reason")
    if len(reason) > 2000:
        raise Invalid(_l("At most %(n)d characters.", n=2000), "reason")
    session.state, session.dispute_reason = SessionState.DISPUTED, reason
    session.decided_at, session.decided_by_id = now, actor.id
    db.session.flush()
    audit.record("session.dispute", session, actor=actor, reason=reason)
    notify(session.provider.user_id, _l("Session report disputed"), reason, session_link(session))
    _after_decision(session, actor, now)
    return session


def _after_decision(session: ServiceSession, actor, now):
    complete_if_delivered(session.contract, actor, now)
    signals.session_decided.send(session)


# --- the clock's part ------------------------------------------------------------------------

def record_overdue(now: dt.datetime | None = None) -> tuple[int, int]:
    """Sessions not reported in time become missed; reports the officer let pass stand as accepted.
    Returns (missed, accepted by default). Set-based; one audit event per kind."""
    now = now or utcnow()
    missed_cut = now - dt.timedelta(days=settings.get(MISSED_DAYS.key))
    confirm_cut = now - dt.timedelta(days=settings.get(CONFIRM_DAYS.key))
    missed_ids = list(db.session.scalars(select(ServiceSession.id).where(
        ServiceSession.state == SessionState.SCHEDULED, ServiceSession.scheduled_at < missed_cut)
        .with_for_update()))
    default_ids = list(db.session.scalars(select(ServiceSession.id).where(
        ServiceSession.state == SessionState.REPORTED, ServiceSession.reported_at < confirm_cut).with_for_update()))
    if missed_ids:
        db.session.execute(update(ServiceSession).where(ServiceSession.id.in_(missed_ids),
                                                        ServiceSession.state == SessionState.SCHEDULED)
                           .values(state=SessionState.MISSED, missed_at=now))
        audit.record("session.missed", object_type="service_sessions", object_id=",".join(map(str, missed_ids))[:60],
                     sessions=missed_ids)
    if default_ids:
        db.session.execute(update(ServiceSession).where(ServiceSession.id.in_(default_ids),
                                                        ServiceSession.state == SessionState.REPORTED)
                           .values(state=SessionState.CONFIRMED, accepted_by_default=True, decided_at=now))
        audit.record("session.accepted_by_default", object_type="service_sessions",
                     object_id=",".join(map(str, default_ids))[:60], sessions=default_ids)
    if missed_ids or default_ids:
        db.session.expire_all()
        contract_ids = set(db.session.scalars(select(ServiceSession.contract_id).where(
            ServiceSession.id.in_(missed_ids + default_ids))))
        for contract in db.session.scalars(select(Contract).where(Contract.id.in_(contract_ids))):
            if missed_ids:
                for s in db.session.scalars(select(ServiceSession).where(
                        ServiceSession.contract_id == contract.id, ServiceSession.id.in_(missed_ids))):
                    notify(contract.provider.user_id, _l("Session recorded as missed"),
                           _l("The session planned for %(at)s at %(venue)s was not reported in time.",
                              at=fmt_datetime(s.scheduled_at), venue=s.venue.name), session_link(s))
            complete_if_delivered(contract, None, now)
        signals.sessions_overdue.send(frozenset(db.session.scalars(select(ServiceSession.provider_id).where(
            ServiceSession.id.in_(missed_ids + default_ids)))), now=now)
    return len(missed_ids), len(default_ids)


def record_overdue_task(now: dt.datetime) -> dict:
    """The periodic task `marketplace.record_overdue`: missed sessions and reports accepted by
    default (each a conditional UPDATE on the state: run twice, the second changes nothing)."""
    missed, by_default = record_overdue(now)
    return {"missed": missed, "accepted_by_default": by_default} if missed or by_default else {}


def complete_if_delivered(contract: Contract, actor, now: dt.datetime | None = None) -> bool:
    """When every contracted session is scheduled and final (accepted, disputed or missed), the
    contract and its project are completed through their own transitions."""
    now = now or utcnow()
    contract = lock_alone(Contract, contract.id)
    if contract.state != ContractState.ACTIVE:
        return False
    rows = db.session.execute(select(ServiceSession.state, func.count()).where(
        ServiceSession.contract_id == contract.id).group_by(ServiceSession.state)).all()
    total = sum(n for _s, n in rows)
    if total < contract.sessions_total or any(not SessionState(s).final for s, _n in rows):
        return False
    contract.complete(now)
    db.session.flush()
    audit.record("contract.complete", contract, actor=actor, sessions=total, by="sessions")
    project = lock_row(PurchaseProject, contract.project_id)
    if project.state == ProjectState.CONTRACTED:
        project_ops.start_delivery(project, actor, now)
    if project.state == ProjectState.IN_DELIVERY:
        project_ops.complete(project, actor, now)
    return True


# --- reading ---------------------------------------------------------------------------------

def photo_of(session: ServiceSession, photo_id: int) -> SessionPhoto | None:
    return db.session.scalar(select(SessionPhoto).where(SessionPhoto.id == photo_id,
                                                        SessionPhoto.session_id == session.id))
