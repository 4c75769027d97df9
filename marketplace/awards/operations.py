"""Review, award and challenge transitions of a purchase project (the states live here; the
review that decides them lives in evaluation, which calls these operations).

Every function takes objects and the acting user, changes state, flushes and audits; none
commits. The review reacts without marketplace importing it: `signals.award_voided` is sent
when an upheld challenge sends a project back to review.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, settings
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import notify
from core.workdays import working_deadline
from marketplace import signals
from marketplace.awards.models import (
    Award,
    AwardStatus,
    Challenge,
    ChallengeAttachment,
    ChallengeOutcome,
    ChallengeStatus,
)
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import PurchaseProject

PUBLICITY_DAYS = settings.define("award.publicity_days", 1, _l("Award publicity period (working days)"), int, 1, 30)
CHALLENGE_DAYS = settings.define("award.challenge_days", 7,
                                 _l("Challenge window after the award is published (working days)"), int, 1, 30)
ANSWER_DAYS = settings.define("award.answer_days", 7, _l("Time to answer a challenge (working days)"), int, 1, 30)
SETTINGS = (PUBLICITY_DAYS, CHALLENGE_DAYS, ANSWER_DAYS)
MAX_CHALLENGE_TEXT = 5000


# --- review -----------------------------------------------------------------------------------

def start_review(project: PurchaseProject, actor, now: dt.datetime | None = None) -> None:
    """The panel is drawn: the opened project is under review."""
    project.start_review(now)
    db.session.flush()
    audit.record("project.review_start", project, actor=actor)


def disqualify_bid(bid: Bid, reason: str, actor) -> None:
    """A bid failed a qualification check: it is invalid and takes no further part."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say why the bid fails."), "reason")
    if bid.status == BidStatus.WITHDRAWN:
        raise Refused(_("A withdrawn bid is not reviewed."))
    bid.status = BidStatus.INVALID
    bid.invalid_reason = reason
    db.session.flush()
    audit.record("bid.invalidate", bid, actor=actor, reason=reason)


def requalify_bid(bid: Bid, actor) -> None:
    """A failed qualification check was corrected before anyone submitted scores."""
    if bid.status != BidStatus.INVALID:
        return
    bid.status = BidStatus.SUBMITTED
    bid.invalid_reason = ""
    db.session.flush()
    audit.record("bid.revalidate", bid, actor=actor)


def fail_project(project: PurchaseProject, reason: str, actor) -> None:
    """Too few valid bids after review: the project fails (it can be re-issued)."""
    project.fail(reason)
    db.session.flush()
    audit.record("project.fail", project, actor=actor, reason=reason)


# --- award ------------------------------------------------------------------------------------

def live_award(project: PurchaseProject) -> Award | None:
    return db.session.scalar(select(Award).where(Award.project_id == project.id,
                                                 Award.status == AwardStatus.PUBLISHED))


def has_live_award(project: PurchaseProject) -> bool:
    """Whether the project's award is published: one indexed read, no award (and nothing it
    loads eagerly) built."""
    return db.session.scalar(select(Award.id).where(Award.project_id == project.id,
                                                    Award.status == AwardStatus.PUBLISHED).limit(1)) is not None


def publish_award(project: PurchaseProject, bid: Bid, *, top_bid: Bid, reason: str, score_summary: dict,
                  actor, now: dt.datetime | None = None) -> Award:
    """Award the project to `bid` and publish the result. Awarding any bid but the top-ranked
    one needs a written reason, which is published with the notice."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if bid.project_id != project.id or top_bid.project_id != project.id:
        raise Invalid(_("The bid is not one of this project's."), "bid_id")
    if not bid.is_valid:
        raise Refused(_("An invalid bid cannot be awarded."), "bid_id")
    if bid.id != top_bid.id and not reason:
        raise Invalid(_("Awarding a bid that is not ranked first needs a written reason."), "reason",
                      audit_action="award.publish", obj=project)
    if bid.price is None:
        raise Refused(_("The bid's price was not unsealed at the opening."))
    if live_award(project) is not None:
        raise Refused(_("This project already has a published award."))
    project.award(now)
    award = Award(project_id=project.id, bid_id=bid.id, provider_id=bid.provider_id, amount=bid.price,
                  top_ranked=bid.id == top_bid.id, top_bid_id=top_bid.id, reason=reason,
                  score_summary=audit.jsonable(score_summary), awarded_by_id=actor.id, published_at=now,
                  publicity_ends_at=working_deadline(now, settings.get(PUBLICITY_DAYS.key)),
                  challenge_deadline=working_deadline(now, settings.get(CHALLENGE_DAYS.key)))
    db.session.add(award)
    db.session.flush()
    audit.record("award.publish", award, actor=actor, project_id=project.id, bid_id=bid.id,
                 provider=bid.provider.name, amount=bid.price, top_ranked=award.top_ranked, reason=reason,
                 challenge_deadline=award.challenge_deadline)
    bidders = db.session.scalars(select(Bid).where(Bid.project_id == project.id,
                                                   Bid.status != BidStatus.WITHDRAWN)).all()
    for b in bidders:
        notify(b.provider.user_id, _("Result published: %(title)s", title=project.title),
               _("The project was awarded to %(name)s.", name=bid.provider.name),
               link=f"/projects/{project.id}/award")
    return award


def contract_refusal(award: Award | None, now: dt.datetime | None = None):
    """None when a contract may be made from the award now; otherwise why not."""
    now = now or utcnow()
    if award is None or not award.live:
        return _("The project has no published award.")
    if award.window_open(now):
        return _("The challenge window is open until %(until)s; no contract before it closes.",
                 until=_fmt(award.challenge_deadline))
    if award.pending_challenges:
        return _("A challenge is waiting for an answer; no contract until it is answered.")
    return None


def _fmt(when):
    from core.i18n import fmt_datetime

    return fmt_datetime(when)


# --- challenges -------------------------------------------------------------------------------

def lodge_challenge(project: PurchaseProject, bid: Bid | None, text: str, attachments, actor,
                    now: dt.datetime | None = None) -> Challenge:
    """A bidder objects to the published result. `attachments` are (filename, bytes) pairs,
    already checked and stored by marketplace.challenge_files."""
    now = now or utcnow()
    text = (text or "").strip()
    lock_row(PurchaseProject, project.id)  # a challenge and an upheld answer do not cross
    award = live_award(project)
    if bid is None or bid.project_id != project.id or bid.status == BidStatus.WITHDRAWN:
        raise Forbidden(_("Only the project's bidders may lodge a challenge."))
    if not bid.owned_by(actor):
        raise Forbidden(_("Only the project's bidders may lodge a challenge."))
    if award is None:
        raise Refused(_("There is no published award to challenge."), audit_action="challenge.lodge", obj=project)
    if now > award.challenge_deadline:
        raise Refused(_("The challenge window closed at %(until)s.", until=_fmt(award.challenge_deadline)),
                      audit_action="challenge.lodge", obj=project)
    if not text:
        raise Invalid(_("Write what you object to and why."), "text")
    if len(text) > MAX_CHALLENGE_TEXT:
        raise Invalid(_("At most %(n)d characters.", n=MAX_CHALLENGE_TEXT), "text")
    challenge = Challenge(award_id=award.id, project_id=project.id, bid_id=bid.id, provider_id=bid.provider_id,
                          lodged_by_id=actor.id, text=text, lodged_at=now,
                          answer_due=working_deadline(now, settings.get(ANSWER_DAYS.key)))
    for stored in attachments:
        challenge.attachments.append(ChallengeAttachment(**stored))
    db.session.add(challenge)
    db.session.flush()
    audit.record("challenge.lodge", challenge, actor=actor, project_id=project.id, award_id=award.id,
                 attachments=[a["sha256"] for a in attachments])
    notify(project.created_by_id, _("Challenge lodged: %(title)s", title=project.title),
           _("%(name)s challenged the result; answer by %(due)s.", name=bid.provider.name,
             due=_fmt(challenge.answer_due)), link=f"/challenges/{challenge.id}")
    return challenge


def answer_challenge(challenge: Challenge, *, upheld: bool, answer: str, outcome: ChallengeOutcome | None,
                     actor, now: dt.datetime | None = None) -> Challenge:
    """The officer answers. Upheld: the award is void and the project goes back to review or is
    cancelled, as `outcome` says."""
    now = now or utcnow()
    answer = (answer or "").strip()
    lock_row(PurchaseProject, challenge.project_id)  # same order as lodge_challenge: project first
    challenge = lock_row(Challenge, challenge.id)
    if challenge.status != ChallengeStatus.PENDING:
        raise Refused(_("This challenge has already been answered."))
    if not answer:
        raise Invalid(_("Write the answer."), "answer")
    if upheld and outcome is None:
        raise Invalid(_("Say what follows from upholding the challenge."), "outcome")
    challenge.status = ChallengeStatus.UPHELD if upheld else ChallengeStatus.DISMISSED
    challenge.outcome = outcome if upheld else None
    challenge.answer = answer
    challenge.answered_at = now
    challenge.answered_by_id = actor.id
    db.session.flush()
    audit.record("challenge.answer", challenge, actor=actor, upheld=upheld,
                 outcome=outcome.value if upheld else None, late=now > challenge.answer_due)
    award = challenge.award
    if upheld and award.live:
        void_award(award, _("Challenge upheld: %(answer)s", answer=answer), actor, now=now)
        project = award.project
        if outcome == ChallengeOutcome.REVIEW_AGAIN:
            project.return_to_review(now)
            db.session.flush()
            audit.record("project.review_again", project, actor=actor, challenge_id=challenge.id)
            signals.award_voided.send(award, project=project, actor=actor)
        else:
            project.cancel(_("Challenge upheld: %(answer)s", answer=answer), now)
            db.session.flush()
            audit.record("project.cancel", project, actor=actor, challenge_id=challenge.id)
    provider_user = challenge.provider.user_id
    notify(provider_user, _("Your challenge was answered"), answer[:500], link=f"/challenges/{challenge.id}")
    return challenge


def void_award(award: Award, reason: str, actor, now=None) -> None:
    if not award.live:
        raise Refused(_("The award is already void."))
    award.status = AwardStatus.VOID
    award.voided_at = now or utcnow()
    award.void_reason = reason
    db.session.flush()
    audit.record("award.void", award, actor=actor, reason=reason)


def close_challenge_windows(now: dt.datetime) -> dict:
    """The periodic task `marketplace.close_challenge_windows`: each live award whose publicity
    period and challenge window have passed gets its close recorded once (audited) and its
    officer told whether the contract may now be signed. Rows another run holds are skipped."""
    ids = list(db.session.scalars(select(Award.id).where(
        Award.status == AwardStatus.PUBLISHED, Award.window_closed_at.is_(None), Award.challenge_deadline < now)
        .order_by(Award.id).limit(500).with_for_update(skip_locked=True)))
    closed = []
    for award_id in ids:
        award = lock_row(Award, award_id)
        if award is None or award.window_closed_at is not None or award.window_open(now):
            continue
        award.window_closed_at = now
        db.session.flush()
        pending = len(award.pending_challenges)
        audit.record("award.window_close", award, actor=None, project_id=award.project_id,
                     challenge_deadline=award.challenge_deadline, pending_challenges=pending)
        body = (_l("%(n)d challenge(s) still wait for an answer.", n=pending) if pending
                else _l("No challenge is pending: the contract may be signed."))
        notify(award.awarded_by_id, _l("Challenge window closed: %(title)s", title=award.project.title), body,
               link=f"/projects/{award.project_id}/award")
        closed.append(award_id)
    return {"awards": closed} if closed else {}
