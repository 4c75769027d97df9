"""Supervision items (督办事项): raised by supervisors, answered by the responsible officer within a set
number of working days (core/workdays), escalated to the district when overdue, followed by residents.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from core import audit, settings, uploads
from core.accounts.models import Role, User
from core.areas.models import Area, AreaLevel, Venue
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import notify
from core.workdays import working_deadline
from evaluation.supervision.models import (
    ItemStatus,
    SubjectType,
    SupervisionEvidence,
    SupervisionFollow,
    SupervisionItem,
    Supervisor,
    SupervisorKind,
)
from marketplace.projects.models import PurchaseProject
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession

ANSWER_DAYS = settings.define("supervision.answer_days", 5,
                              _l("Supervision items: working days the responsible officer has to answer"), int, 1, 60)
SETTINGS = (ANSWER_DAYS,)
MAX_EVIDENCE = 5


def district_area() -> Area:
    return db.session.scalar(select(Area).where(Area.level == AreaLevel.DISTRICT).order_by(Area.id).limit(1))


def district_of(area: Area) -> Area:
    while area.parent is not None:
        area = area.parent
    return area


def _town_or_district(area: Area | None) -> Area:
    if area is None or area.level == AreaLevel.DISTRICT:
        return district_area()
    if area.level == AreaLevel.TOWN:
        return area
    return area.parent


def subject_of(subject_type, subject_id) -> tuple[SubjectType, object, str, Area]:
    """The subject, its name and the jurisdiction that answers for it; Invalid naming the field."""
    try:
        kind = SubjectType(subject_type)
    except ValueError:
        raise Invalid(_("Choose what the item is about: a project, provider, session, venue or area."),
                      "subject_type") from None
    try:
        sid = int(subject_id)
    except (TypeError, ValueError):
        raise Invalid(_("Give the number of the subject."), "subject_id") from None
    model = {SubjectType.PROJECT: PurchaseProject, SubjectType.PROVIDER: Provider,
             SubjectType.SESSION: ServiceSession, SubjectType.VENUE: Venue, SubjectType.AREA: Area}[kind]
    obj = db.session.get(model, sid)
    if obj is None:
        raise Invalid(_("There is no such %(kind)s.", kind=kind.label), "subject_id")
    if kind == SubjectType.PROJECT:
        return kind, obj, obj.title, _town_or_district(obj.area)
    if kind == SubjectType.PROVIDER:
        return kind, obj, obj.name, district_area()
    if kind == SubjectType.SESSION:
        return kind, obj, f"{obj.reference} {obj.venue.name}", _town_or_district(obj.venue.area)
    if kind == SubjectType.VENUE:
        return kind, obj, obj.name, _town_or_district(obj.area)
    return kind, obj, obj.path_name(), _town_or_district(obj)


def supervisor_of(user) -> Supervisor | None:
    return db.session.scalar(select(Supervisor).where(Supervisor.user_id == user.id))


def make_supervisor(user: User, kind, organisation: str, actor) -> Supervisor:
    if not user.has_role(Role.SUPERVISOR):
        raise Invalid(_("The user does not have the supervisor role."), "user")
    try:
        kind = SupervisorKind(kind)
    except ValueError:
        raise Invalid(_("Choose the supervisor's kind."), "kind") from None
    s = Supervisor(user_id=user.id, kind=kind, organisation=(organisation or "").strip())
    db.session.add(s)
    db.session.flush()
    audit.record("supervision.supervisor", s, actor=actor, user_id=user.id, kind=kind)
    return s


def responsible_officers(area: Area) -> list[User]:
    users = db.session.scalars(select(User).where(User.jurisdiction_id == area.id, User.active.is_(True))).all()
    return [u for u in users if u.has_role(Role.OFFICER)]


def raise_item(actor, subject_type, subject_id, title: str, text: str, evidence=(),
               now: dt.datetime | None = None) -> SupervisionItem:
    now = now or utcnow()
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden(_("Only supervisors raise supervision items."), audit_action="supervision.raise")
    kind, _obj, name, area = subject_of(subject_type, subject_id)
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > 200:
        raise Invalid(_("Give a title of at most 200 characters."), "title")
    if not text or len(text) > 5000:
        raise Invalid(_("Say what the issue is (at most 5000 characters)."), "text")
    evidence = list(evidence)
    if len(evidence) > MAX_EVIDENCE:
        raise Invalid(_("At most %(n)d files of evidence.", n=MAX_EVIDENCE), "evidence")
    item = SupervisionItem(raised_by_id=actor.id, subject_type=kind, subject_id=int(subject_id),
                           subject_name=name[:300], area_id=area.id, title=title, text=text, raised_at=now,
                           due_at=working_deadline(now, settings.get(ANSWER_DAYS.key)))
    db.session.add(item)
    db.session.flush()
    for upload in evidence:
        stored = uploads.store(upload, uploaded_by=actor, field="evidence")
        item.evidence.append(SupervisionEvidence(file_id=stored.id))
    db.session.flush()
    audit.record("supervision.raise", item, actor=actor, subject_type=kind, subject_id=item.subject_id,
                 area_id=area.id, due_at=item.due_at)
    for officer in responsible_officers(area):
        notify(officer, _l("Supervision item to answer: %(title)s", title=title),
               _l("Answer it within the set working days."), link=f"/supervision/items/{item.id}")
    return item


def may_answer(item: SupervisionItem, user) -> bool:
    return user.is_authenticated and user.has_role(Role.OFFICER) and user.covers_area(item.area)


def answer_item(item: SupervisionItem, actor, answer: str, now: dt.datetime | None = None) -> SupervisionItem:
    now = now or utcnow()
    item = lock_row(SupervisionItem, item.id)
    if not may_answer(item, actor):
        raise Forbidden(_("This item is answered by an officer of %(area)s.", area=item.area.name),
                        audit_action="supervision.answer", obj=item)
    if item.status == ItemStatus.ANSWERED:
        raise Refused(_("This item has already been answered."), audit_action="supervision.answer", obj=item)
    answer = (answer or "").strip()
    if not answer or len(answer) > 5000:
        raise Invalid(_("Write the answer (at most 5000 characters)."), "answer")
    item.status, item.answer, item.answered_at, item.answered_by_id = ItemStatus.ANSWERED, answer, now, actor.id
    db.session.flush()
    audit.record("supervision.answer", item, actor=actor, late=now > item.due_at)
    followers = db.session.scalars(select(SupervisionFollow.user_id).where(SupervisionFollow.item_id == item.id)).all()
    for uid in sorted({item.raised_by_id, *followers}):
        notify(uid, _l("Supervision item answered: %(title)s", title=item.title), answer[:500],
               link=f"/portal/supervision/{item.id}")
    return item


def escalate_overdue(now: dt.datetime | None = None) -> list[SupervisionItem]:
    """Every open item past its deadline and not yet escalated goes to the district."""
    now = now or utcnow()
    items = db.session.scalars(select(SupervisionItem).where(
        SupervisionItem.status == ItemStatus.OPEN, SupervisionItem.due_at < now,
        SupervisionItem.escalated_at.is_(None)).order_by(SupervisionItem.id)).all()
    for item in items:
        district = district_of(item.area)
        item.escalated_at = now
        item.area_id = district.id
        audit.record("supervision.escalate", item, actor=None, due_at=item.due_at, district_id=district.id)
        for officer in responsible_officers(district):
            notify(officer, _l("Overdue supervision item escalated: %(title)s", title=item.title),
                   _l("It was not answered in time; the district answers for it now."),
                   link=f"/supervision/items/{item.id}")
    db.session.flush()
    return items


def escalate_task(now: dt.datetime) -> dict:
    """The periodic task `evaluation.escalate_supervision` (the scheduler, or `flask jobs run-due`)."""
    items = escalate_overdue(now)
    return {"escalated": len(items)} if items else {}


def follow(item: SupervisionItem, user) -> bool:
    """Follow an item (told when it is answered). False if already following."""
    if item.status == ItemStatus.ANSWERED:
        raise Refused(_("This item has already been answered."))
    if db.session.scalar(select(SupervisionFollow.id).where(SupervisionFollow.item_id == item.id,
                                                            SupervisionFollow.user_id == user.id)):
        return False
    db.session.add(SupervisionFollow(item_id=item.id, user_id=user.id))
    db.session.flush()
    audit.record("supervision.follow", item, actor=user)
    return True


def followers_count(item_ids) -> dict[int, int]:
    if not item_ids:
        return {}
    return dict(db.session.execute(select(SupervisionFollow.item_id, func.count()).where(
        SupervisionFollow.item_id.in_(list(item_ids))).group_by(SupervisionFollow.item_id)).all())


def overdue_items(scope: Area | None, now: dt.datetime | None = None, limit: int = 20) -> list[SupervisionItem]:
    """Open items past their deadline in a jurisdiction (all, for the district), oldest first."""
    now = now or utcnow()
    stmt = select(SupervisionItem).where(SupervisionItem.status == ItemStatus.OPEN, SupervisionItem.due_at < now)
    if scope is not None and scope.level != AreaLevel.DISTRICT:
        stmt = stmt.where(SupervisionItem.area_id == scope.id)
    return db.session.scalars(stmt.order_by(SupervisionItem.due_at).limit(limit)).all()


def month_summary(start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> dict:
    """For the briefing: items raised in [start, end), answered, answered late, and open past due."""
    now = now or utcnow()
    raised = db.session.execute(select(SupervisionItem.status, SupervisionItem.answered_at, SupervisionItem.due_at)
                                .where(SupervisionItem.raised_at >= start, SupervisionItem.raised_at < end)).all()
    answered = [r for r in raised if r[0] == ItemStatus.ANSWERED]
    return {"raised": len(raised), "answered": len(answered),
            "answered_late": sum(1 for r in answered if r[1] > r[2]),
            "overdue": overdue_items(None, min(now, end), limit=50)}


def kinds_of(user_ids) -> dict[int, SupervisorKind]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(Supervisor.user_id, Supervisor.kind).where(
        Supervisor.user_id.in_(list(set(user_ids))))).all())


def officer_counts(scope: Area, now: dt.datetime | None = None) -> tuple[int, int]:
    """(open items, of which overdue) that the jurisdiction answers (the district: every item)."""
    now = now or utcnow()
    stmt = select(func.count(), func.coalesce(func.sum(case((SupervisionItem.due_at < now, 1), else_=0)), 0)).where(
        SupervisionItem.status == ItemStatus.OPEN)
    if scope.level != AreaLevel.DISTRICT:
        stmt = stmt.where(SupervisionItem.area_id == scope.id)
    n, late = db.session.execute(stmt).one()
    return int(n or 0), int(late or 0)
