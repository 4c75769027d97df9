"""Purchase projects: create, edit, publish, cancel, fail, re-issue; clarifications; and the
state transitions the review, award and contract steps call.

Operations take objects, validated data and the acting user; they change state, flush and
audit, and never commit. Every transition re-reads the project with lock_row first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from catalog.items.models import Item
from core import audit, settings
from core.accounts.models import Role, User
from core.areas.models import Area, Venue
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.i18n import fmt_datetime
from core.money import CENT, parse_money
from core.notifications import notify
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import (
    Clarification,
    Criterion,
    CriterionKind,
    IllegalTransition,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)

# --- settings: the rules with numbers -------------------------------------------------------

WINDOW_KEY = "projects.min_window_days.{}"
MIN_BIDS_KEY = "projects.min_valid_bids.{}"
# The minimum bid windows and valid-bid counts, one of each per purchase method.
SETTINGS = (
    settings.define(WINDOW_KEY.format("open_tender"), 20,
                    _l("Open tender: minimum days from publication to bid deadline"), int, 1, 120),
    settings.define(WINDOW_KEY.format("competitive_consultation"), 10,
                    _l("Competitive consultation: minimum days from publication to bid deadline"), int, 1, 120),
    settings.define(WINDOW_KEY.format("inquiry"), 3, _l("Inquiry: minimum days from publication to bid deadline"),
                    int, 1, 120),
    settings.define(WINDOW_KEY.format("single_source"), 5,
                    _l("Single source: minimum days from publication to bid deadline"), int, 1, 120),
    settings.define(MIN_BIDS_KEY.format("open_tender"), 3,
                    _l("Open tender: fewest valid bids for a project to proceed"), int, 1, 20),
    settings.define(MIN_BIDS_KEY.format("competitive_consultation"), 2,
                    _l("Competitive consultation: fewest valid bids for a project to proceed"), int, 1, 20),
    settings.define(MIN_BIDS_KEY.format("inquiry"), 3, _l("Inquiry: fewest valid bids for a project to proceed"),
                    int, 1, 20),
    settings.define(MIN_BIDS_KEY.format("single_source"), 1,
                    _l("Single source: fewest valid bids for a project to proceed"), int, 1, 20),
)

PRICE_WEIGHT_MIN, PRICE_WEIGHT_MAX = Decimal(10), Decimal(30)


def min_window(method: ProjectMethod) -> dt.timedelta:
    return dt.timedelta(days=settings.get(WINDOW_KEY.format(ProjectMethod(method).value)))


def min_valid_bids(method: ProjectMethod) -> int:
    return settings.get(MIN_BIDS_KEY.format(ProjectMethod(method).value))


def server_time_text(now: dt.datetime) -> str:
    """The server clock as people and programs read it: Beijing time, then UTC ISO 8601."""
    return f"{fmt_datetime(now, seconds=True)} (UTC {now.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')})"


# --- reading --------------------------------------------------------------------------------

def live_bid_count(project: PurchaseProject) -> int:
    """How many live bids a project has: the one figure about bids shown before the opening."""
    return db.session.scalar(select(func.count()).select_from(Bid).where(
        Bid.project_id == project.id, Bid.status == BidStatus.SUBMITTED)) or 0


def live_bid_counts(project_ids) -> dict[int, int]:
    ids = list(project_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Bid.project_id, func.count()).where(
        Bid.project_id.in_(ids), Bid.status == BidStatus.SUBMITTED).group_by(Bid.project_id))
    return dict(rows.all())


def next_deadline(now: dt.datetime) -> dt.datetime | None:
    """The nearest bid deadline still to come: when a published project next turns closed by the clock."""
    return db.session.scalar(select(func.min(PurchaseProject.bid_deadline)).where(
        PurchaseProject.state == ProjectState.PUBLISHED, PurchaseProject.bid_deadline > now))


def may_manage(user, project: PurchaseProject) -> bool:
    """An officer whose jurisdiction covers the project's area."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.has_role(Role.OFFICER)
            and user.covers_area(project.area))


def visible_project(project_id: int, user, *options) -> PurchaseProject | None:
    """The project if the user may see it: public once published, drafts only to its officers.
    `options`: further loader options for what the caller reads of it."""
    # Its area comes with it: every project page names it (one query whatever is already loaded).
    project = db.session.get(PurchaseProject, project_id, options=[joinedload(PurchaseProject.area), *options])
    if project is None or (project.state == ProjectState.DRAFT and not may_manage(user, project)):
        return None
    return project


def _require_manager(actor: User, project: PurchaseProject, action: str):
    if not may_manage(actor, project):
        raise Forbidden(_l("This project lies outside your jurisdiction."), audit_action=action, obj=project)


def _lock(project: PurchaseProject) -> PurchaseProject:
    locked = lock_row(PurchaseProject, project.id)
    if locked is None:
        raise Refused(_l("The project no longer exists."))
    return locked


# --- validation of a project's content -------------------------------------------------------

def _decimal(raw, field: str) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(_l("Enter a number."), field) from None
    if not value.is_finite():
        raise Invalid(_l("Enter a number."), field)
    return value


def _build_lines(rows, actor: User) -> list[ProjectLine]:
    if not rows:
        raise Invalid(_l("Add at least one catalog item with its venue and quantity."), "lines")
    seen, lines = set(), []
    for pos, row in enumerate(rows):
        item = db.session.get(Item, row.get("item_id") or 0)
        venue = db.session.get(Venue, row.get("venue_id") or 0)
        quantity = row.get("quantity")
        if item is None:
            raise Invalid(_l("Line %(n)d: choose a catalog item.", n=pos + 1), "lines")
        if not item.open_for_purchase:
            raise Invalid(_l("Line %(n)d: “%(item)s” is not an active catalog item (status: %(status)s).",
                             n=pos + 1, item=item.name, status=item.status.label), "lines")
        if venue is None or not venue.active:
            raise Invalid(_l("Line %(n)d: choose a venue in use.", n=pos + 1), "lines")
        if not actor.covers_area(venue.area):
            raise Invalid(_l("Line %(n)d: the venue “%(venue)s” lies outside your jurisdiction.",
                             n=pos + 1, venue=venue.name), "lines")
        if item.levels and not item.may_be_bought_at(venue.area.level):
            raise Invalid(_l("Line %(n)d: “%(item)s” may not be bought for a venue at the level “%(level)s”.",
                             n=pos + 1, item=item.name, level=venue.area.level.label), "lines")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1 or quantity > 100_000:
            raise Invalid(_l("Line %(n)d: the quantity must be a whole number from 1 to 100000.", n=pos + 1), "lines")
        if (item.id, venue.id) in seen:
            raise Invalid(_l("Line %(n)d: this item and venue are already listed.", n=pos + 1), "lines")
        seen.add((item.id, venue.id))
        lines.append(ProjectLine(item=item, venue=venue, quantity=quantity, unit_ceiling=item.price_ceiling,
                                 position=pos))
    return lines


def _build_criteria(rows) -> list[Criterion]:
    criteria, names = [], set()
    for pos, row in enumerate(rows):
        n = pos + 1
        try:
            kind = CriterionKind(row.get("kind"))
        except ValueError:
            raise Invalid(_l("Criterion %(n)d: choose a kind.", n=n), "criteria") from None
        name = (row.get("name") or "").strip()
        if not name or len(name) > 120:
            raise Invalid(_l("Criterion %(n)d: give a name of at most 120 characters.", n=n), "criteria")
        if name in names:
            raise Invalid(_l("Criterion %(n)d: the name “%(name)s” is used twice.", n=n, name=name), "criteria")
        names.add(name)
        rubric = (row.get("rubric") or "").strip()
        weight = _decimal(row.get("weight"), "criteria") or Decimal(0)
        lo, hi = _decimal(row.get("min_score"), "criteria"), _decimal(row.get("max_score"), "criteria")
        if weight < 0 or weight > 100 or weight != weight.quantize(CENT):
            raise Invalid(_l("Criterion %(n)d: the weight lies between 0 and 100, with at most two decimals.", n=n),
                          "criteria")
        if kind == CriterionKind.QUALIFICATION:
            if weight != 0:
                raise Invalid(_l("Criterion %(n)d: a qualification check is pass/fail and weighs 0 points.", n=n),
                              "criteria")
            if not rubric:
                raise Invalid(_l("Criterion %(n)d: state the requirement a bid must meet.", n=n), "criteria")
            lo = hi = None
        elif kind == CriterionKind.PRICE:
            if not PRICE_WEIGHT_MIN <= weight <= PRICE_WEIGHT_MAX:
                raise Invalid(_l("The price criterion weighs between 10 and 30 points (given: %(w)s).", w=weight),
                              "criteria")
            lo = hi = None
        elif kind == CriterionKind.PERFORMANCE:
            if weight <= 0:
                raise Invalid(_l("Criterion %(n)d: the performance criterion needs a weight above zero.", n=n),
                              "criteria")
            lo = hi = None
        else:  # subjective
            if weight <= 0:
                raise Invalid(_l("Criterion %(n)d: a subjective criterion needs a weight above zero.", n=n),
                              "criteria")
            if not rubric:
                raise Invalid(_l("Criterion %(n)d: a subjective criterion needs a rubric for the experts.", n=n),
                              "criteria")
            lo = Decimal(0) if lo is None else lo
            hi = weight if hi is None else hi
            if not (0 <= lo < hi <= weight):
                raise Invalid(_l("Criterion %(n)d: the score range must satisfy 0 ≤ minimum < maximum ≤ weight.",
                                 n=n), "criteria")
        criteria.append(Criterion(kind=kind, name=name, rubric=rubric, weight=weight, min_score=lo, max_score=hi,
                                  position=pos))
    kinds = [c.kind for c in criteria]
    if kinds.count(CriterionKind.PRICE) != 1:
        raise Invalid(_l("Give exactly one price criterion."), "criteria")
    if kinds.count(CriterionKind.PERFORMANCE) != 1:
        raise Invalid(_l("Give exactly one performance criterion."), "criteria")
    if kinds.count(CriterionKind.SUBJECTIVE) < 1:
        raise Invalid(_l("Give at least one subjective criterion with a rubric."), "criteria")
    total = sum((c.weight for c in criteria), Decimal(0))
    if total != 100:
        raise Invalid(_l("The criteria weights must sum to 100 (they sum to %(total)s).", total=total), "criteria")
    return criteria


def _check_deadline(method: ProjectMethod, deadline: dt.datetime | None, now: dt.datetime, required: bool):
    if deadline is None:
        if required:
            raise Invalid(_l("Set a bid deadline."), "bid_deadline")
        return
    earliest = now + min_window(method)
    if deadline < earliest:
        raise Invalid(_l("For this method the bid deadline is at the earliest %(earliest)s (%(days)d days from now).",
                         earliest=fmt_datetime(earliest), days=min_window(method).days), "bid_deadline")


def _apply(project: PurchaseProject, data: dict, actor: User, now: dt.datetime):
    title = (data.get("title") or "").strip()
    if not title or len(title) > 200:
        raise Invalid(_l("Give a title of at most 200 characters."), "title")
    try:
        method = ProjectMethod(data.get("method"))
    except ValueError:
        raise Invalid(_l("Choose a purchase method."), "method") from None
    justification = (data.get("justification") or "").strip()
    if method == ProjectMethod.SINGLE_SOURCE and not justification:
        raise Invalid(_l("Single-source purchase needs a written justification."), "justification")
    lines = _build_lines(data.get("lines") or [], actor)
    budget = parse_money(data.get("budget"), "budget")
    ceiling = sum((ln.unit_ceiling * ln.quantity for ln in lines), Decimal("0.00"))
    if budget > ceiling:
        raise Invalid(_l("The budget %(budget)s is above the catalog ceiling for these lines (%(ceiling)s).",
                         budget=budget, ceiling=ceiling), "budget")
    criteria = _build_criteria(data.get("criteria") or [])
    deadline = data.get("bid_deadline")
    _check_deadline(method, deadline, now, required=project.state != ProjectState.DRAFT)

    project.title = title
    project.description = (data.get("description") or "").strip()
    project.method = method
    project.justification = justification
    project.budget = budget
    project.bid_deadline = deadline
    # Old rows go first: the unit of work inserts before it deletes, and (item, venue) is unique.
    project.lines.clear()
    project.criteria.clear()
    db.session.flush()
    project.lines.extend(lines)
    project.criteria.extend(criteria)


def create_project(data: dict, actor: User, now: dt.datetime | None = None) -> PurchaseProject:
    """A draft project in the officer's jurisdiction."""
    now = now or utcnow()
    if not actor.has_role(Role.OFFICER) or actor.jurisdiction is None:
        raise Forbidden(_l("Only an officer with a jurisdiction creates purchase projects."),
                        audit_action="project.create")
    project = PurchaseProject(area=actor.jurisdiction, created_by=actor, state=ProjectState.DRAFT,
                              title="", method=ProjectMethod.OPEN_TENDER, budget=Decimal("0.01"))
    _apply(project, data, actor, now)  # before joining the session: refused input leaves nothing behind
    db.session.add(project)
    db.session.flush()
    audit.record("project.create", project, actor=actor, title=project.title, method=project.method,
                 budget=project.budget, lines=len(project.lines), criteria=len(project.criteria))
    return project


def update_project(project: PurchaseProject, data: dict, actor: User, now: dt.datetime | None = None):
    """Change a draft, or a published project that has no bid yet (criteria lock at the first bid)."""
    project = _lock(project)
    now = now or utcnow()
    _require_manager(actor, project, "project.update")
    if project.criteria_locked:
        raise Refused(_l("The criteria are locked: the first bid arrived at %(at)s. Nothing was changed.",
                         at=fmt_datetime(project.criteria_locked_at)), "criteria",
                      audit_action="project.update", obj=project)
    state = project.state_at(now)
    if state not in (ProjectState.DRAFT, ProjectState.PUBLISHED):
        raise Refused(_l("A project that is “%(state)s” can no longer be edited.", state=state.label),
                      audit_action="project.update", obj=project)
    before = {"budget": project.budget, "deadline": project.bid_deadline,
              "weights": [(c.name, c.weight) for c in project.criteria]}
    _apply(project, data, actor, now)
    db.session.flush()
    audit.record("project.update", project, actor=actor, before=before,
                 after={"budget": project.budget, "deadline": project.bid_deadline,
                        "weights": [(c.name, c.weight) for c in project.criteria]})
    return project


# --- transitions ------------------------------------------------------------------------------

def _bidder_user_ids(project: PurchaseProject, live_only: bool = True) -> list[int]:
    from marketplace.providers.models import Provider

    stmt = select(Provider.user_id).join(Bid, Bid.provider_id == Provider.id).where(Bid.project_id == project.id)
    if live_only:
        stmt = stmt.where(Bid.status == BidStatus.SUBMITTED)
    return list(db.session.scalars(stmt))


def project_link(project: PurchaseProject) -> str:
    return f"/projects/{project.id}"


def _transition(project, actor, action: str, move, now=None, **summary) -> PurchaseProject:
    project = _lock(project)
    now = now or utcnow()
    before = project.state_at(now)
    try:
        move(project, now)
    except IllegalTransition as e:
        e.audit_action = action
        raise
    db.session.flush()
    audit.record(action, project, actor=actor, before=before, after=project.state, **summary)
    return project


def publish(project: PurchaseProject, actor: User, now: dt.datetime | None = None) -> PurchaseProject:
    project = _lock(project)
    now = now or utcnow()
    _require_manager(actor, project, "project.publish")
    if project.state != ProjectState.DRAFT:
        e = IllegalTransition(project, project.state_at(now), ProjectState.PUBLISHED)
        e.audit_action = "project.publish"
        raise e
    _check_deadline(project.method, project.bid_deadline, now, required=True)
    for line in project.lines:
        if not line.item.open_for_purchase:
            raise Invalid(_l("“%(item)s” is no longer an active catalog item; edit the project first.",
                             item=line.item.name), "lines", audit_action="project.publish", obj=project)
    return _transition(project, actor, "project.publish", lambda p, t: p.publish(t), now,
                       deadline=project.bid_deadline)


def cancel(project: PurchaseProject, reason: str, actor: User, now: dt.datetime | None = None) -> PurchaseProject:
    project = _lock(project)
    _require_manager(actor, project, "project.cancel")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give the reason for the cancellation."), "reason")
    project = _transition(project, actor, "project.cancel", lambda p, t: p.cancel(reason, t), now, reason=reason)
    for uid in _bidder_user_ids(project):
        notify(uid, _l("Project cancelled: %(title)s", title=project.title),
               _l("The purchase project %(ref)s was cancelled. Reason: %(reason)s", ref=project.reference,
                  reason=reason), project_link(project))
    return project


def fail(project: PurchaseProject, reason: str, actor: User | None, now: dt.datetime | None = None):
    """Too few valid bids: the project fails (it may be re-issued as a copy)."""
    project = _transition(project, actor, "project.fail", lambda p, t: p.fail(reason, t), now, reason=reason)
    for uid in _bidder_user_ids(project, live_only=False):
        notify(uid, _l("Project failed: %(title)s", title=project.title),
               _l("The purchase project %(ref)s failed: %(reason)s", ref=project.reference, reason=reason),
               project_link(project))
    return project


def fail_if_too_few_valid_bids(project: PurchaseProject, actor: User | None, now=None) -> bool:
    """After the opening, or after qualification checks in review: fail the project when fewer
    valid bids remain than its method needs. Returns whether it failed."""
    valid = live_bid_count(project)
    needed = min_valid_bids(project.method)
    if valid >= needed:
        return False
    fail(project, str(_l("%(valid)d valid bid(s); the method needs at least %(needed)d.", valid=valid,
                         needed=needed)), actor, now)
    return True


def start_review(project: PurchaseProject, actor: User | None, now=None, **summary) -> PurchaseProject:
    return _transition(project, actor, "project.start_review", lambda p, t: p.start_review(t), now, **summary)


def award(project: PurchaseProject, actor: User | None, now=None, **summary) -> PurchaseProject:
    """The state change of an award; choosing and publishing the winner is the review's part."""
    return _transition(project, actor, "project.award", lambda p, t: p.award(t), now, **summary)


def return_to_review(project: PurchaseProject, reason: str, actor: User | None, now=None) -> PurchaseProject:
    return _transition(project, actor, "project.return_to_review", lambda p, t: p.return_to_review(t), now,
                       reason=reason)


def contract(project: PurchaseProject, actor: User | None, now=None, **summary) -> PurchaseProject:
    return _transition(project, actor, "project.contract", lambda p, t: p.contract(t), now, **summary)


def start_delivery(project: PurchaseProject, actor: User | None, now=None) -> PurchaseProject:
    return _transition(project, actor, "project.start_delivery", lambda p, t: p.start_delivery(t), now)


def complete(project: PurchaseProject, actor: User | None, now=None) -> PurchaseProject:
    return _transition(project, actor, "project.complete", lambda p, t: p.complete(t), now)


def close_if_due(project: PurchaseProject, now=None) -> bool:
    """Store "closed" for a project the clock has closed (optional: state_at already says so)."""
    now = now or utcnow()
    if project.state == ProjectState.PUBLISHED and project.state_at(now) == ProjectState.CLOSED:
        _transition(project, None, "project.close", lambda p, t: p.close(t), now)
        return True
    return False


def close_due(now: dt.datetime) -> dict:
    """The periodic task `marketplace.close_bidding`: store "closed" (audited) for each published
    project whose bid deadline has passed. Rows another run holds are skipped; run twice, the
    second finds nothing."""
    ids = list(db.session.scalars(select(PurchaseProject.id).where(
        PurchaseProject.state == ProjectState.PUBLISHED, PurchaseProject.bid_deadline <= now)
        .order_by(PurchaseProject.id).limit(500).with_for_update(skip_locked=True)))
    closed = [pid for pid in ids if close_if_due(db.session.get(PurchaseProject, pid), now)]
    return {"projects": closed} if closed else {}


def reissue(project: PurchaseProject, actor: User, now: dt.datetime | None = None) -> PurchaseProject:
    """A failed project starts again as a draft copy (same lines, criteria and budget, no deadline)."""
    project = _lock(project)
    now = now or utcnow()
    _require_manager(actor, project, "project.reissue")
    if project.state != ProjectState.FAILED:
        raise Refused(_l("Only a failed project can be re-issued."), audit_action="project.reissue", obj=project)
    lines = _build_lines([{"item_id": ln.item_id, "venue_id": ln.venue_id, "quantity": ln.quantity}
                          for ln in project.lines], actor)
    ceiling = sum((ln.unit_ceiling * ln.quantity for ln in lines), Decimal("0.00"))
    copy = PurchaseProject(
        title=project.title, description=project.description, area=project.area, method=project.method,
        justification=project.justification, budget=min(project.budget, ceiling), state=ProjectState.DRAFT,
        created_by=actor, reissued_from=project, lines=lines,
        criteria=[Criterion(kind=c.kind, name=c.name, rubric=c.rubric, weight=c.weight, min_score=c.min_score,
                            max_score=c.max_score, position=c.position) for c in project.criteria])
    db.session.add(copy)
    db.session.flush()
    audit.record("project.reissue", copy, actor=actor, original=project.id)
    return copy


# --- clarifications ---------------------------------------------------------------------------

def ask(project: PurchaseProject, question: str, actor: User, now: dt.datetime | None = None) -> Clarification:
    now = now or utcnow()
    question = (question or "").strip()
    if not question or len(question) > 2000:
        raise Invalid(_l("Write a question of at most 2000 characters."), "question")
    if not project.accepts_bids(now):
        raise Refused(_l("Questions are taken only while the project is open for bids (server time %(now)s).",
                         now=server_time_text(now)), audit_action="clarification.ask", obj=project)
    c = Clarification(project_id=project.id, asked_by_id=actor.id, question=question, asked_at=now)
    db.session.add(c)
    db.session.flush()
    audit.record("clarification.ask", c, actor=actor, project=project.id)
    return c


def answer(clarification: Clarification, text: str, actor: User, now: dt.datetime | None = None) -> Clarification:
    clarification = lock_row(Clarification, clarification.id)
    project = clarification.project
    _require_manager(actor, project, "clarification.answer")
    text = (text or "").strip()
    if not text or len(text) > 4000:
        raise Invalid(_l("Write an answer of at most 4000 characters."), "answer")
    if clarification.answered:
        raise Refused(_l("This question has already been answered."), audit_action="clarification.answer",
                      obj=clarification)
    clarification.answer = text
    clarification.answered_at = now or utcnow()
    clarification.answered_by_id = actor.id
    db.session.flush()
    audit.record("clarification.answer", clarification, actor=actor, project=project.id)
    notify(clarification.asked_by_id, _l("Your question was answered: %(title)s", title=project.title),
           text[:500], project_link(project) + "#clarifications")
    return clarification


def projects_in_jurisdiction(user: User):
    """SQL condition: projects whose area the officer's jurisdiction covers."""
    from sqlalchemy import false

    if user.jurisdiction is None:
        return false()
    if user.jurisdiction.level.value == "district":
        return PurchaseProject.id.isnot(None)
    town_areas = select(Area.id).where((Area.id == user.jurisdiction_id) | (Area.parent_id == user.jurisdiction_id))
    return PurchaseProject.area_id.in_(town_areas)
