"""The panel draw, its record, confirmations and recusals.

How anyone re-runs a draw from its record: for every eligible expert id in the pool compute
SHA-256 of the text "<seed>:<expert id>" (UTF-8) and write it in hex; sort the experts by
that hex string; the first N form the panel; each recusal is replaced by the next expert in
that order who has not yet been drawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import extract, func, select

from catalog.items.models import Category
from core import audit, settings
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.i18n import to_local
from core.notifications import notify
from evaluation.experts.models import Expert
from evaluation.review import rules
from evaluation.review.models import MemberStatus, Panel, PanelMember, Score
from marketplace.awards import operations as award_ops
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import ProjectState, PurchaseProject

# Reasons an expert was skipped, as stored in the pool (shown translated on the record page).
EMPLOYER_IS_BIDDER = "employer_is_bidder"
DECLARED_CONFLICT = "declared_conflict"
REVIEWED_TOO_OFTEN = "reviewed_too_often"


def draw_key(seed: str, expert_id: int) -> str:
    return hashlib.sha256(f"{seed}:{expert_id}".encode()).hexdigest()


def order_candidates(seed: str, expert_ids) -> list[int]:
    """The eligible experts in draw order for `seed`."""
    return sorted(expert_ids, key=lambda i: (draw_key(seed, i), i))


def project_categories(project: PurchaseProject) -> set[int]:
    """The project's item categories and their parents: an expert in either may review."""
    ids = set(project.category_ids)
    parents = db.session.scalars(select(Category.parent_id).where(Category.id.in_(ids))).all()
    return ids | {p for p in parents if p is not None}


def reviewing_bids(project: PurchaseProject) -> list[Bid]:
    """Every bid that takes part in the review (not withdrawn), in bid id order."""
    return list(db.session.scalars(select(Bid).where(Bid.project_id == project.id,
                                                     Bid.status != BidStatus.WITHDRAWN).order_by(Bid.id)))


def _reviews_this_year(year: int, provider_ids: set[int]) -> dict[tuple[int, int], int]:
    """(expert id, provider id) → how many panels drawn in `year` the expert sat on where the
    provider bid."""
    if not provider_ids:
        return {}
    rows = db.session.execute(
        select(PanelMember.expert_id, Bid.provider_id, func.count(func.distinct(Panel.id)))
        .join(Panel, Panel.id == PanelMember.panel_id)
        .join(Bid, Bid.project_id == Panel.project_id)
        .where(PanelMember.status != MemberStatus.RECUSED, Bid.status != BidStatus.WITHDRAWN,
               Bid.provider_id.in_(provider_ids), extract("year", Panel.drawn_at) == year)
        .group_by(PanelMember.expert_id, Bid.provider_id))
    return {(e, p): n for e, p, n in rows}


def build_pool(project: PurchaseProject, seed: str, year: int, repeat_limit: int) -> tuple[list[dict], list[int]]:
    """Every active expert with a matching specialty, each eligible or with the reason it is
    skipped, and the eligible ones in draw order."""
    bids = reviewing_bids(project)
    codes = {b.provider.credit_code: b.provider for b in bids}
    categories = project_categories(project)
    experts = [e for e in db.session.scalars(select(Expert).where(Expert.active.is_(True)).order_by(Expert.id))
               if e.specialty_ids & categories]
    counts = _reviews_this_year(year, {b.provider_id for b in bids}) if repeat_limit else {}
    pool = []
    for e in experts:
        entry = {"expert_id": e.id, "name": e.name, "employer": e.employer, "key": draw_key(seed, e.id),
                 "eligible": True, "reason": "", "detail": ""}
        declared = [c for c in e.conflicts if c.credit_code in codes]
        too_often = [codes_p for codes_p in codes.values() if counts.get((e.id, codes_p.id), 0) >= repeat_limit] \
            if repeat_limit else []
        if e.employer_credit_code in codes:
            entry.update(eligible=False, reason=EMPLOYER_IS_BIDDER, detail=codes[e.employer_credit_code].name)
        elif declared:
            entry.update(eligible=False, reason=DECLARED_CONFLICT, detail=codes[declared[0].credit_code].name)
        elif too_often:
            entry.update(eligible=False, reason=REVIEWED_TOO_OFTEN, detail=too_often[0].name)
        pool.append(entry)
    pool.sort(key=lambda p: (p["key"], p["expert_id"]))
    candidates = order_candidates(seed, [p["expert_id"] for p in pool if p["eligible"]])
    return pool, candidates


def draw_panel(project: PurchaseProject, actor, *, seed: str | None = None, now: dt.datetime | None = None) -> Panel:
    """Draw the review panel of an opened project and start the review."""
    now = now or utcnow()
    project = lock_row(PurchaseProject, project.id)  # two officers drawing at once make one panel
    if project.current_state != ProjectState.OPENED:
        raise Refused(_("A panel is drawn for a project whose bids have been opened (this one is “%(state)s”).",
                        state=project.current_state.label))
    if db.session.scalar(select(Panel.id).where(Panel.project_id == project.id)) is not None:
        raise Refused(_("This project's panel has already been drawn."))
    if not reviewing_bids(project):
        raise Refused(_("There are no bids to review."))
    panel = make_panel(project, actor, seed=seed or secrets.token_hex(16), now=now)
    award_ops.start_review(project, actor, now)
    for m in panel.members:
        notify(m.expert.user_id, _("You were drawn to review: %(title)s", title=project.title),
               _("Open the project to confirm you have no conflict of interest, or recuse yourself."),
               link=f"/review/projects/{project.id}")
    return panel


def make_panel(project: PurchaseProject, actor, *, seed: str, now: dt.datetime) -> Panel:
    """Draw and store the panel (no state checks: draw_panel makes them)."""
    repeat_limit = settings.get(rules.REPEAT_LIMIT.key)
    year = to_local(now).year
    pool, candidates = build_pool(project, seed, year, repeat_limit)
    size = rules.panel_size_for(project.budget)
    if len(candidates) < size:
        raise Refused(_("Only %(n)d eligible experts for a panel of %(size)d: add experts with this specialty "
                        "to the expert database.", n=len(candidates), size=size),
                      audit_action="panel.draw", obj=project, eligible=len(candidates), size=size)
    panel = Panel(project_id=project.id, size=size, seed=seed, category_ids=sorted(project_categories(project)),
                  bidder_credit_codes=sorted({b.provider.credit_code for b in reviewing_bids(project)}),
                  budget=project.budget, repeat_limit=repeat_limit, pool=pool, candidates=candidates,
                  drawn_at=now, drawn_by_id=actor.id)
    for position, expert_id in enumerate(candidates[:size]):
        panel.members.append(PanelMember(expert_id=expert_id, draw_position=position, is_leader=position == 0,
                                         added_at=now))
    db.session.add(panel)
    db.session.flush()
    check(panel, now)
    audit.record("panel.draw", panel, actor=actor, project_id=project.id, seed=seed, size=size,
                 candidates=candidates, members=candidates[:size])
    return panel


def rerun(panel: Panel) -> dict:
    """Re-run the draw from its record: the candidate order, and whether it matches the stored
    one and the members' positions."""
    eligible = [p["expert_id"] for p in panel.pool if p["eligible"]]
    order = order_candidates(panel.seed, eligible)
    keys_ok = all(p["key"] == draw_key(panel.seed, p["expert_id"]) for p in panel.pool)
    members_ok = all(order[m.draw_position] == m.expert_id for m in panel.members
                     if m.draw_position < len(order))
    initial = order[:panel.size]
    return {"order": order, "initial": initial, "matches": order == list(panel.candidates) and keys_ok and members_ok}


def check(panel: Panel, now: dt.datetime | None = None) -> None:
    """Re-run the draw from its record and store the outcome (the report shows it without re-running)."""
    panel.check_matched = rerun(panel)["matches"]
    panel.checked_at = now or utcnow()
    db.session.flush()


def stored_check(panel: Panel) -> dict:
    """The stored outcome of the last check, or the draw re-run now for a panel never checked."""
    if panel.checked_at is None:
        return rerun(panel) | {"at": None}
    return {"matches": bool(panel.check_matched), "at": panel.checked_at}


def lock_panel(panel_id: int) -> Panel:
    """The panel, row-locked, with its members read afresh: state changes of a panel
    (submissions, recusals, sign-off) happen one at a time."""
    panel = lock_row(Panel, panel_id)
    for m in panel.members:
        db.session.refresh(m)
    return panel


def member_of(project: PurchaseProject, user, action: str | None = None) -> tuple[Panel, PanelMember]:
    """The panel and the user's seat on it, or Forbidden."""
    panel = db.session.scalar(select(Panel).where(Panel.project_id == project.id))
    member = panel.member_for(user) if panel else None
    if member is None:
        raise Forbidden(_("You are not on this project's review panel."), audit_action=action, obj=project)
    return panel, member


def confirm_no_conflict(member: PanelMember, actor, now: dt.datetime | None = None) -> None:
    if member.status != MemberStatus.DRAWN:
        raise Refused(_("You have already answered the conflict question."))
    member.status = MemberStatus.CONFIRMED
    member.confirmed_at = now or utcnow()
    db.session.flush()
    audit.record("panel.confirm", member.panel, actor=actor, member_id=member.id, expert_id=member.expert_id)


def recuse(member: PanelMember, reason: str, actor, now: dt.datetime | None = None) -> PanelMember | None:
    """The member withdraws for a conflict; the next undrawn candidate replaces them. Returns the
    replacement, or None when the candidate list is used up (recorded; the officer then
    decides)."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say what the conflict is."), "reason")
    if member.status == MemberStatus.RECUSED:
        raise Refused(_("You have already recused yourself."))
    if member.submitted:
        raise Refused(_("You have submitted your scores; you can no longer recuse yourself."))
    panel = lock_panel(member.panel_id)
    if panel.project.current_state != ProjectState.UNDER_REVIEW:
        raise Refused(_("The review is over."))
    was_leader = member.is_leader
    member.status = MemberStatus.RECUSED
    member.recused_at = now
    member.recusal_reason = reason
    member.is_leader = False
    for score in db.session.scalars(select(Score).where(Score.member_id == member.id)):
        db.session.delete(score)
    used = {m.draw_position for m in panel.members}
    nxt = max(used) + 1
    replacement = None
    if nxt < len(panel.candidates):
        replacement = PanelMember(expert_id=panel.candidates[nxt], draw_position=nxt, replaces=member, added_at=now)
        panel.members.append(replacement)
    db.session.flush()
    if was_leader:
        seated = sorted(panel.seated, key=lambda m: m.draw_position)
        if seated:
            seated[0].is_leader = True
    db.session.flush()
    check(panel, now)  # the replacement must be the next in the draw order
    audit.record("panel.recuse", panel, actor=actor, member_id=member.id, expert_id=member.expert_id, reason=reason,
                 replacement_expert_id=replacement.expert_id if replacement else None,
                 replacement_position=nxt if replacement else None)
    if replacement is not None:
        notify(replacement.expert.user_id, _("You were drawn to review: %(title)s", title=panel.project.title),
               _("Open the project to confirm you have no conflict of interest, or recuse yourself."),
               link=f"/review/projects/{panel.project_id}")
    else:
        notify(panel.project.created_by_id,
               _("Review panel short of an expert: %(title)s", title=panel.project.title),
               _("An expert recused and no candidate is left in the draw."),
               link=f"/review/projects/{panel.project_id}")
    return replacement


def reviews_by_expert(year: int) -> dict[int, int]:
    """Panels sat on per expert in a year (for the expert list)."""
    rows = db.session.execute(
        select(PanelMember.expert_id, func.count(PanelMember.id))
        .join(Panel, Panel.id == PanelMember.panel_id)
        .where(PanelMember.status != MemberStatus.RECUSED, extract("year", Panel.drawn_at) == year)
        .group_by(PanelMember.expert_id))
    return defaultdict(int, dict(rows.all()))
