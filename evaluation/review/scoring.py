"""What a panel member does: qualification checks (the leader), scores, submission."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.db import db, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import notify
from evaluation.review.draw import lock_panel, reviewing_bids
from evaluation.review.models import MemberStatus, Panel, PanelMember, QualificationCheck, Score
from marketplace.awards import operations as award_ops
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import Criterion, CriterionKind, ProjectState

MAX_REASON = 200


def _require_scoring(member: PanelMember, action: str):
    panel = member.panel
    if panel.project.current_state != ProjectState.UNDER_REVIEW:
        raise Refused(_("The project is not under review."), audit_action=action, obj=panel.project)
    if member.status == MemberStatus.RECUSED:
        raise Forbidden(_("You recused yourself from this panel."), audit_action=action, obj=panel.project)
    if member.status != MemberStatus.CONFIRMED:
        raise Refused(_("Confirm first that you have no conflict of interest."), audit_action=action,
                      obj=panel.project)


def parse_score(raw) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    return value


def qualification_complete(panel: Panel) -> bool:
    criteria = panel.project.criteria_of(CriterionKind.QUALIFICATION)
    if not criteria:
        return True
    done = {(q.bid_id, q.criterion_id) for q in db.session.scalars(
        select(QualificationCheck).where(QualificationCheck.panel_id == panel.id))}
    return all((b.id, c.id) in done for b in reviewing_bids(panel.project) for c in criteria)


def record_qualification(member: PanelMember, bid: Bid, criterion: Criterion, *, passed: bool, reason: str,
                         actor, now: dt.datetime | None = None) -> QualificationCheck:
    """The leader records the panel's pass/fail finding; a failure makes the bid invalid."""
    now = now or utcnow()
    panel = member.panel
    _require_scoring(member, "review.qualification")
    if not member.is_leader:
        raise Forbidden(_("The panel leader records the qualification checks."))
    if bid.project_id != panel.project_id or bid.status == BidStatus.WITHDRAWN:
        raise Invalid(_("The bid is not one of this project's."), "bid_id")
    if criterion.project_id != panel.project_id or criterion.kind != CriterionKind.QUALIFICATION:
        raise Invalid(_("Not a qualification check of this project."), "criterion_id")
    if any(m.submitted for m in panel.seated):
        raise Refused(_("Qualification checks are final once a member has submitted scores."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason for the finding."), "reason")
    check = db.session.scalar(select(QualificationCheck).where(
        QualificationCheck.panel_id == panel.id, QualificationCheck.bid_id == bid.id,
        QualificationCheck.criterion_id == criterion.id))
    if check is None:
        check = QualificationCheck(panel_id=panel.id, bid_id=bid.id, criterion_id=criterion.id)
        db.session.add(check)
    check.passed, check.reason, check.decided_by_id, check.decided_at = passed, reason, member.id, now
    db.session.flush()
    audit.record("review.qualification", panel, actor=actor, bid_id=bid.id, criterion_id=criterion.id,
                 passed=passed, reason=reason)
    failed = db.session.scalars(select(QualificationCheck).where(
        QualificationCheck.panel_id == panel.id, QualificationCheck.bid_id == bid.id,
        QualificationCheck.passed.is_(False))).all()
    if failed and bid.status != BidStatus.INVALID:
        award_ops.disqualify_bid(bid, "; ".join(f"{q.criterion.name}: {q.reason}" for q in failed), actor)
    elif not failed and bid.status == BidStatus.INVALID:
        award_ops.requalify_bid(bid, actor)
    return check


def save_scores(member: PanelMember, bid: Bid, entries: dict[int, tuple[object, str]], actor,
                now: dt.datetime | None = None) -> list[Score]:
    """Store the member's scores of one bid: {criterion id: (score, reason)} for subjective
    criteria. Every entry is checked before anything is written."""
    _require_scoring(member, "review.score")
    if member.submitted:
        raise Refused(_("You have submitted your scores; they are locked."), audit_action="review.score",
                      obj=member.panel.project)
    project = member.panel.project
    if bid.project_id != project.id:
        raise Invalid(_("The bid is not one of this project's."), "bid_id")
    if not bid.is_valid:
        raise Refused(_("This bid is invalid and is not scored."))
    criteria = {c.id: c for c in project.criteria_of(CriterionKind.SUBJECTIVE)}
    checked = []
    for cid, (raw, reason) in entries.items():
        c = criteria.get(cid)
        if c is None:
            raise Invalid(_("Not a scored criterion of this project."), f"score_{cid}")
        try:
            value = parse_score(raw)
        except ValueError:
            raise Invalid(_("“%(name)s”: enter a number.", name=c.name), f"score_{cid}",
                          audit_action="review.score", obj=project) from None
        if value != value.quantize(Decimal("0.01")):
            raise Invalid(_("“%(name)s”: at most two decimals.", name=c.name), f"score_{cid}",
                          audit_action="review.score", obj=project)
        if value < c.min_score or value > c.max_score:
            raise Invalid(_("“%(name)s”: the score must lie between %(lo)s and %(hi)s.", name=c.name,
                            lo=c.min_score, hi=c.max_score), f"score_{cid}",
                          audit_action="review.score", obj=project, criterion_id=cid, score=str(value))
        reason = (reason or "").strip()
        if "\n" in reason or "\r" in reason or len(reason) > MAX_REASON:
            raise Invalid(_("“%(name)s”: the reason is one line of at most %(n)d characters.", name=c.name,
                            n=MAX_REASON), f"reason_{cid}")
        if value in (c.min_score, c.max_score) and not reason:
            raise Invalid(_("“%(name)s”: a score at the end of the range (%(v)s) needs a one-line reason.",
                            name=c.name, v=value), f"reason_{cid}",
                          audit_action="review.score", obj=project, criterion_id=cid, score=str(value))
        checked.append((c, value, reason))
    existing = {s.criterion_id: s for s in db.session.scalars(
        select(Score).where(Score.member_id == member.id, Score.bid_id == bid.id))}
    out = []
    for c, value, reason in checked:
        s = existing.get(c.id)
        if s is None:
            s = Score(member_id=member.id, bid_id=bid.id, criterion_id=c.id)
            db.session.add(s)
        s.score, s.reason = value, reason
        s.updated_at = now or utcnow()
        out.append(s)
    db.session.flush()
    audit.record("review.score", member.panel, actor=actor, member_id=member.id, bid_id=bid.id,
                 scores={str(c.id): v for c, v, _r in checked})
    return out


def missing_scores(member: PanelMember) -> list[tuple[Bid, Criterion]]:
    project = member.panel.project
    have = {(s.bid_id, s.criterion_id) for s in db.session.scalars(select(Score).where(Score.member_id == member.id))}
    return [(b, c) for b in reviewing_bids(project) if b.is_valid
            for c in project.criteria_of(CriterionKind.SUBJECTIVE) if (b.id, c.id) not in have]


def submit(member: PanelMember, actor, now: dt.datetime | None = None):
    """Lock the member's scores. When the last member submits, the result is computed.
    Returns the new ReviewResult or None."""
    from evaluation.review import operations as review

    now = now or utcnow()
    panel = lock_panel(member.panel_id)  # the last two members submitting at once compute one result
    _require_scoring(member, "review.submit")
    if member.submitted:
        raise Refused(_("You have already submitted your scores."))
    if not qualification_complete(panel):
        raise Refused(_("The panel leader has not yet recorded every qualification check."),
                      audit_action="review.submit", obj=panel.project)
    missing = missing_scores(member)
    if missing:
        bid, c = missing[0]
        raise Refused(_("%(n)d scores are missing (first: %(provider)s, “%(criterion)s”).", n=len(missing),
                        provider=bid.provider.name, criterion=c.name), audit_action="review.submit",
                      obj=panel.project)
    member.submitted_at = now
    db.session.flush()
    audit.record("review.submit", panel, actor=actor, member_id=member.id)
    if panel.all_submitted:
        result = review.compute_result(panel, now=now)
        leader = panel.leader
        if leader is not None:
            notify(leader.expert.user_id, _("Every expert has submitted: %(title)s", title=panel.project.title),
                   _("Check the review report and sign it off."), link=f"/review/projects/{panel.project_id}/report")
        return result
    return None
