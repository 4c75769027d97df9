"""Sealed bids: submit, revise, withdraw, open; and reading a bid, which only its bidder may do
before the opening.

Every write locks the project row first (lock_row: FOR UPDATE on PostgreSQL; SQLite writers
already hold the database through BEGIN IMMEDIATE), and reads the server clock only after
holding it. So an opening, which takes the same lock, can never interleave with a bid, and a
bid is accepted exactly when the clock read under the lock is before the deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload

from core import audit, settings, uploads
from core.accounts.models import User
from core.db import db, insert_unless_exists, lock_row, utcnow
from core.errors import Forbidden, Invalid, Missing, Refused
from core.i18n import fmt_datetime
from core.money import parse_money
from core.notifications import notify
from marketplace.bids import sealing
from marketplace.bids.models import Bid, BidAttachment, BidOpening, BidRevision, BidStatus
from marketplace.projects.models import IllegalTransition, ProjectState, PurchaseProject
from marketplace.projects.operations import (
    fail_if_too_few_valid_bids,
    may_manage,
    project_link,
    server_time_text,
)
from marketplace.providers.models import Provider

ATTACHMENT_MAX_MB = settings.define("bids.attachment_max_mb", 10, _l("Largest bid attachment (MB)"), int, 1, 50)
MAX_ATTACHMENTS = 10


SEALED_MESSAGE = _l("Bids are sealed until the opening: only the bidder can read them.")


class DeadlinePassed(Refused):
    """Anything arriving for a bid after the deadline: 409, naming the server time."""

    code = "deadline_passed"

    def __init__(self, project: PurchaseProject, now: dt.datetime, action: str):
        super().__init__(
            _l("The bid deadline (%(deadline)s) has passed: nothing more is accepted. Server time: %(now)s.",
               deadline=fmt_datetime(project.bid_deadline, seconds=True), now=server_time_text(now)),
            audit_action=action, obj=project, server_time=now, deadline=project.bid_deadline)
        self.server_time = now


@dataclass
class NewFile:
    name: str
    data: bytes


@dataclass
class BidInput:
    price: object
    plan: str
    team: str = ""
    conflicts: str = ""
    files: list[NewFile] = field(default_factory=list)
    # SHA-256 of attachments of the current revision to carry over into the new one.
    keep: list[str] = field(default_factory=list)


def provider_of(user) -> Provider | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # The user is already loaded: no join to it again (nor a second load of its roles).
    return db.session.scalar(select(Provider).where(Provider.user_id == user.id).options(lazyload(Provider.user)))


def own_bid(project: PurchaseProject, provider: Provider | None) -> Bid | None:
    if provider is None:
        return None
    return db.session.scalar(select(Bid).where(Bid.project_id == project.id, Bid.provider_id == provider.id))


def revisions(bid: Bid) -> list[BidRevision]:
    return list(db.session.scalars(select(BidRevision).where(BidRevision.bid_id == bid.id)
                                   .order_by(BidRevision.number)))


def current_revision(bid: Bid) -> BidRevision:
    return db.session.scalar(select(BidRevision).where(BidRevision.bid_id == bid.id,
                                                       BidRevision.number == bid.revision_no))


def attachments(bid: Bid) -> list[BidAttachment]:
    return list(db.session.scalars(select(BidAttachment).where(BidAttachment.bid_id == bid.id)
                                   .order_by(BidAttachment.id)))


# --- the gate every bid write passes ----------------------------------------------------------

def gate(project: PurchaseProject, provider: Provider | None, action: str) -> tuple[PurchaseProject, dt.datetime]:
    """Lock the project, then read the clock; refuse unless it takes bids from this provider now."""
    # Once its criteria are locked a bid never writes the project row, so bids share its lock:
    # they no longer queue behind each other, while an opening or any change of the project
    # (FOR UPDATE) still waits for every bid in flight, and they for it. The first bid writes
    # criteria_locked_at, so it takes the row alone (that column is never cleared again).
    shared = project.criteria_locked_at is not None
    # The page's lines and criteria are not read again under the lock (they reload if used).
    project = lock_row(PurchaseProject, project.id, lazyload(PurchaseProject.lines),
                       lazyload(PurchaseProject.criteria), shared=shared)
    if project is None:
        raise Refused(_l("The project no longer exists."))
    now = utcnow()
    state = project.state_at(now)
    if state != ProjectState.PUBLISHED:
        if project.bid_deadline is not None and now >= project.bid_deadline and state != ProjectState.DRAFT:
            raise DeadlinePassed(project, now, action)
        raise Refused(_l("This project does not take bids (it is “%(state)s”).", state=state.label),
                      audit_action=action, obj=project)
    if provider is None:
        raise Forbidden(_l("Only registered and approved providers may bid. Register your organisation first."),
                        audit_action=action, obj=project)
    refusal = provider.bidding_refusal(now)
    if refusal is not None:
        raise Forbidden(refusal, audit_action=action, obj=project, provider=provider.id)
    return project, now


def _check_content(project: PurchaseProject, data: BidInput, action: str) -> tuple[Decimal, str, str, str]:
    price = parse_money(data.price, "price")
    if price > project.budget:
        # A business rule, so the refusal is audited — without the offered price, which stays sealed.
        raise Refused(_l("The price is above the project budget %(budget)s.", budget=project.budget), "price",
                      audit_action=action, obj=project)
    plan = (data.plan or "").strip()
    if not plan:
        raise Invalid(_l("Describe your service plan."), "plan")
    if len(plan) > 20_000:
        raise Invalid(_l("The service plan is limited to 20000 characters."), "plan")
    team = (data.team or "").strip()
    conflicts = (data.conflicts or "").strip()
    if len(team) > 5000:
        raise Invalid(_l("The team description is limited to 5000 characters."), "team")
    if len(conflicts) > 5000:
        raise Invalid(_l("The declared conflicts are limited to 5000 characters."), "conflicts")
    return price, plan, team, conflicts


def _check_files(files: list[NewFile]) -> list[tuple[NewFile, str, str]]:
    """Each attachment through the one upload check (type by content, images re-encoded), with the
    bid attachment size limit; the kept bytes are sealed, never stored in the clear."""
    mb = settings.get(ATTACHMENT_MAX_MB.key)
    out = []
    for f in files:
        c = uploads.check(f.data, f.name or "attachment", field="files", max_mb=mb)
        out.append((NewFile(c.name, c.data), c.content_type, c.sha256))
    return out


def _write_revision(bid: Bid, project: PurchaseProject, data: BidInput, actor: User, now: dt.datetime,
                    number: int) -> BidRevision:
    price, plan, team, conflicts = _check_content(project, data, "bid.submit" if number == 1 else "bid.revise")
    files = _check_files(data.files)
    kept = []
    if data.keep and number > 1:
        previous = unseal_revision(current_revision(bid))
        by_hash = {a["sha256"]: a for a in previous["attachments"]}
        for sha in data.keep:
            if sha not in by_hash:
                raise Missing(_l("An attachment to keep is not part of your current bid."), "files")
            kept.append(by_hash[sha])
    # A first revision has no stored attachments yet; nor is any looked up when none is added.
    existing = {a.sha256: a for a in attachments(bid)} if files and number > 1 else {}
    listed = {a["sha256"]: a for a in kept}
    for f, ctype, sha in files:
        if sha not in existing:
            name_sealed, kid = sealing.seal(f.name.encode(), sealing.attachment_context(bid.id, sha, "name"))
            data_sealed, _kid = sealing.seal(f.data, sealing.attachment_context(bid.id, sha, "data"))
            att = BidAttachment(bid_id=bid.id, revision_number=number, sha256=sha, size=len(f.data),
                                content_type=ctype, name_sealed=name_sealed, data_sealed=data_sealed, key_id=kid)
            db.session.add(att)
            existing[sha] = att
        listed[sha] = {"sha256": sha, "name": f.name, "size": len(f.data), "content_type": ctype}
    if len(listed) > MAX_ATTACHMENTS:
        raise Refused(_l("A bid has at most %(n)d attachments.", n=MAX_ATTACHMENTS), "files")
    content = {
        "project_id": project.id, "provider_id": bid.provider_id, "price": str(price), "plan": plan, "team": team,
        "conflicts": conflicts, "attachments": sorted(listed.values(), key=lambda a: a["sha256"]),
    }
    sealed, kid = sealing.seal(sealing.canonical(content), sealing.revision_context(bid.id, number))
    rev = BidRevision(bid_id=bid.id, number=number, submitted_at=now, submitted_by_id=actor.id, sealed=sealed,
                      key_id=kid, content_hash=sealing.content_hash(content))
    db.session.add(rev)
    bid.revision_no = number
    bid.submitted_at = now
    if project.criteria_locked_at is None:
        project.criteria_locked_at = now
    db.session.flush()
    return rev


# --- submit, revise, withdraw -----------------------------------------------------------------

def submit_bid(project: PurchaseProject, provider: Provider | None, data: BidInput, actor: User):
    """A first bid, or a new one after a withdrawal. Returns (bid, revision): the receipt is the
    revision's submitted_at and content_hash."""
    project, now = gate(project, provider, "bid.submit")
    bid = own_bid(project, provider)
    if bid is not None:
        bid = lock_row(Bid, bid.id)
        if bid.status == BidStatus.SUBMITTED:
            raise Refused(_l("You already have a bid on this project; revise it instead."),
                          audit_action="bid.submit", obj=bid)
        number = bid.revision_no + 1
        bid.status, bid.withdrawn_at = BidStatus.SUBMITTED, None
    else:
        # Bids share the project's lock, so the same provider's second submission at the same
        # moment (a double click) meets the unique pair here, not a lock: it stores nothing and
        # gets the refusal.
        bid = insert_unless_exists(Bid, ["project_id", "provider_id"], project_id=project.id,
                                   provider_id=provider.id, status=BidStatus.SUBMITTED, revision_no=1,
                                   first_submitted_at=now, submitted_at=now)
        if bid is None:
            raise Refused(_l("You already have a bid on this project; revise it instead."),
                          audit_action="bid.submit", obj=project)
        number = 1
    rev = _write_revision(bid, project, data, actor, now, number)
    audit.record("bid.submit", bid, actor=actor, project=project.id, revision=number, content_hash=rev.content_hash)
    return bid, rev


def revise_bid(project: PurchaseProject, provider: Provider | None, data: BidInput, actor: User):
    project, now = gate(project, provider, "bid.revise")
    bid = own_bid(project, provider)
    if bid is None or bid.status != BidStatus.SUBMITTED:
        raise Refused(_l("You have no live bid on this project to revise."), audit_action="bid.revise", obj=project)
    bid = lock_row(Bid, bid.id)
    rev = _write_revision(bid, project, data, actor, now, bid.revision_no + 1)
    audit.record("bid.revise", bid, actor=actor, project=project.id, revision=rev.number,
                 content_hash=rev.content_hash)
    return bid, rev


def withdraw_bid(project: PurchaseProject, provider: Provider | None, actor: User) -> Bid:
    project, now = gate(project, provider, "bid.withdraw")
    bid = own_bid(project, provider)
    if bid is None or bid.status != BidStatus.SUBMITTED:
        raise Refused(_l("You have no live bid on this project to withdraw."), audit_action="bid.withdraw",
                      obj=project)
    bid = lock_row(Bid, bid.id)
    bid.status, bid.withdrawn_at = BidStatus.WITHDRAWN, now
    db.session.flush()
    audit.record("bid.withdraw", bid, actor=actor, project=project.id, revision=bid.revision_no)
    return bid


# --- reading a sealed bid ---------------------------------------------------------------------

def unseal_revision(rev: BidRevision) -> dict:
    import json

    return json.loads(sealing.unseal(rev.sealed, sealing.revision_context(rev.bid_id, rev.number), rev.key_id))


def may_read(user, bid: Bid) -> bool:
    """The bidder always; after the opening, officers of the project's jurisdiction, admins and supervisors."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if bid.provider.user_id == user.id:
        return True
    if bid.project.opened_at is None:
        return False
    from core.accounts.models import Role

    return user.has_role(Role.ADMIN, Role.SUPERVISOR) or may_manage(user, bid.project)


def bid_content(bid: Bid, reader, number: int | None = None) -> dict:
    """A revision's content (the current one by default), for someone allowed to read it."""
    if not may_read(reader, bid):
        raise Forbidden(SEALED_MESSAGE,
                        audit_action="bid.read", obj=bid)
    rev = current_revision(bid) if number is None else db.session.scalar(
        select(BidRevision).where(BidRevision.bid_id == bid.id, BidRevision.number == number))
    if rev is None:
        raise Refused(_l("No such revision."))
    return unseal_revision(rev) | {"number": rev.number, "submitted_at": rev.submitted_at,
                                   "content_hash": rev.content_hash}


def opened_content(bid: Bid, number: int | None = None) -> dict:
    """A bid's content for the review (experts, reports): only once the project is opened."""
    if bid.project.opened_at is None:
        raise Forbidden(SEALED_MESSAGE,
                        audit_action="bid.read", obj=bid)
    rev = current_revision(bid) if number is None else db.session.scalar(
        select(BidRevision).where(BidRevision.bid_id == bid.id, BidRevision.number == number))
    return unseal_revision(rev) | {"number": rev.number, "submitted_at": rev.submitted_at,
                                   "content_hash": rev.content_hash}


def attachment_file(att: BidAttachment, reader) -> tuple[str, bytes]:
    """(name, bytes) of an attachment for someone allowed to read its bid."""
    bid = db.session.get(Bid, att.bid_id)
    if not may_read(reader, bid):
        raise Forbidden(SEALED_MESSAGE,
                        audit_action="bid.read", obj=bid)
    name = sealing.unseal(att.name_sealed, sealing.attachment_context(att.bid_id, att.sha256, "name"), att.key_id)
    data = sealing.unseal(att.data_sealed, sealing.attachment_context(att.bid_id, att.sha256, "data"), att.key_id)
    return name.decode(), data


# --- the opening (开标) ------------------------------------------------------------------------

def opening_of(project: PurchaseProject) -> BidOpening | None:
    return db.session.scalar(select(BidOpening).where(BidOpening.project_id == project.id))


def open_bids(project: PurchaseProject, actor: User, now: dt.datetime | None = None) -> BidOpening:
    """Unseal the live bids of a closed project: the record (bidder, price, submission time)
    becomes public, each bid gets its price and the provider's performance score of this moment,
    bidders are told, and a project with too few bids fails. `now` is the server clock unless a
    back-dated history (the demo) gives the moment; the deadline rule applies to it all the same."""
    project = lock_row(PurchaseProject, project.id)
    now = now or utcnow()
    if not may_manage(actor, project):
        raise Forbidden(_l("This project lies outside your jurisdiction."), audit_action="project.open", obj=project)
    state = project.state_at(now)
    if state == ProjectState.PUBLISHED:
        raise Refused(_l("Bids can be opened only after the deadline (%(deadline)s). Server time: %(now)s.",
                         deadline=fmt_datetime(project.bid_deadline, seconds=True), now=server_time_text(now)),
                      audit_action="project.open", obj=project, server_time=now)
    if state != ProjectState.CLOSED:
        e = IllegalTransition(project, state, ProjectState.OPENED)
        e.audit_action = "project.open"
        raise e
    bids = list(db.session.scalars(select(Bid).where(Bid.project_id == project.id, Bid.status == BidStatus.SUBMITTED)
                                   .order_by(Bid.submitted_at, Bid.id)))
    entries = []
    for bid in bids:
        rev = current_revision(bid)
        content = unseal_revision(rev)
        bid.price = Decimal(content["price"])
        bid.performance_at_opening = bid.provider.performance_score
        entries.append({"bid_id": bid.id, "provider_id": bid.provider_id, "provider_name": bid.provider.name,
                        "price": content["price"], "submitted_at": audit.jsonable(bid.submitted_at),
                        "revision": rev.number, "content_hash": rev.content_hash})
    opening = BidOpening(project_id=project.id, opened_at=now, opened_by_id=actor.id, bid_count=len(bids),
                         entries=entries)
    db.session.add(opening)
    project.mark_opened(now)
    db.session.flush()
    audit.record("project.open", project, actor=actor, bid_count=len(bids),
                 prices={e["provider_id"]: e["price"] for e in entries})
    for bid in bids:
        notify(bid.provider.user_id, _l("Bids opened: %(title)s", title=project.title),
               _l("The bids on %(ref)s were opened at %(at)s; the opening record is public.",
                  ref=project.reference, at=fmt_datetime(now)), project_link(project) + "/opening")
    fail_if_too_few_valid_bids(project, actor, now)
    return opening


def mark_invalid(bid: Bid, reason: str, actor: User | None) -> Bid:
    """A bid that failed a qualification check (called by the review after the opening)."""
    bid = lock_row(Bid, bid.id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give the reason the bid is invalid."), "reason")
    if bid.project.opened_at is None:
        raise Refused(_l("Bids are judged only after the opening."), audit_action="bid.invalidate", obj=bid)
    if bid.status != BidStatus.SUBMITTED:
        raise Refused(_l("Only a live bid can be found invalid."), audit_action="bid.invalidate", obj=bid)
    bid.status, bid.invalid_reason = BidStatus.INVALID, reason
    db.session.flush()
    audit.record("bid.invalidate", bid, actor=actor, reason=reason)
    notify(bid.provider.user_id, _l("Your bid was found invalid"), reason, project_link(bid.project))
    return bid


# --- the bid key's rotation ------------------------------------------------------------------
# Every value sealed with the bid key lives in one of these tables; each row records its key id.

SEALED_MODELS = (BidRevision, BidAttachment)


def _not_current(model, current: str):
    return or_(model.key_id.is_(None), model.key_id != current)


def key_ids_in_use() -> dict[str, dict[str, int]]:
    """{table: {key id: number of rows sealed under it}} ('' for legacy values without an id)."""
    out = {}
    for model in SEALED_MODELS:
        rows = db.session.execute(select(model.key_id, func.count()).group_by(model.key_id)).all()
        out[model.__tablename__] = {kid or "": n for kid, n in rows}
    return out


def unknown_key_ids() -> list[str]:
    """Key ids found on sealed rows that no configured key (BID_KEY, BID_KEYS_OLD) matches."""
    known = sealing.keyring().keys
    return sorted({kid for counts in key_ids_in_use().values() for kid in counts if kid and kid not in known})


def pending_reseal() -> dict[str, int]:
    """Rows per table not yet sealed under the current key."""
    current = sealing.current_key_id()
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)
                                                   .where(_not_current(model, current)))
            for model in SEALED_MODELS}


def reseal_batch(model, size: int) -> tuple[int, int | None]:
    """Seal the next `size` rows of `model` that are not under the current key again under it
    (rows already under it are skipped, so an interrupted rotation resumes where it stopped).
    Nothing is ever written in the clear. Returns (rows resealed, last row id)."""
    current = sealing.current_key_id()
    # Rows another rotation holds are left to it (PostgreSQL); SQLite holds the whole database.
    rows = db.session.scalars(select(model).where(_not_current(model, current)).order_by(model.id).limit(size)
                              .with_for_update(skip_locked=True)).all()
    for row in rows:
        if model is BidRevision:
            row.sealed, row.key_id = sealing.reseal(row.sealed, sealing.revision_context(row.bid_id, row.number),
                                                    row.key_id)
        else:
            row.name_sealed, _kid = sealing.reseal(
                row.name_sealed, sealing.attachment_context(row.bid_id, row.sha256, "name"), row.key_id)
            row.data_sealed, row.key_id = sealing.reseal(
                row.data_sealed, sealing.attachment_context(row.bid_id, row.sha256, "data"), row.key_id)
    db.session.flush()
    return len(rows), (rows[-1].id if rows else None)
