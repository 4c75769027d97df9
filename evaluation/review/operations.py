"""The computed review: stored with every intermediate number, signed off by the panel leader,
then the award (through marketplace's award operations)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload, selectinload

from core import audit, settings
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from evaluation.review import ranking, rules
from evaluation.review.draw import lock_panel, reviewing_bids
from evaluation.review.models import (
    Panel,
    PanelStatus,
    ReviewBidResult,
    ReviewFlag,
    ReviewLine,
    ReviewResult,
    Score,
)
from marketplace.awards import operations as award_ops
from marketplace.awards.models import Award
from marketplace.bids.models import Bid
from marketplace.projects.models import CriterionKind, ProjectState, PurchaseProject

# For a report whose panel (with its members) and project (with its criteria) are already loaded:
# the signer, a flag's member and criterion are then found in the session without a statement, and
# nothing is loaded that the report does not show (the bids themselves, the criteria again).
_REPORT_LOADING = (
    lazyload(ReviewResult.panel), lazyload(ReviewResult.signed_off_by),
    selectinload(ReviewResult.bids).options(lazyload(ReviewBidResult.bid), lazyload(ReviewBidResult.provider),
                                            selectinload(ReviewBidResult.lines).lazyload(ReviewLine.criterion)),
    selectinload(ReviewResult.flags).options(lazyload(ReviewFlag.member), lazyload(ReviewFlag.criterion)),
)


def current_result(project_or_panel, *, for_report: bool = False) -> ReviewResult | None:
    """The project's review that is not superseded. `for_report`: the panel and the project are
    already in the session (see _REPORT_LOADING)."""
    pid = project_or_panel.project_id if isinstance(project_or_panel, Panel) else project_or_panel.id
    query = select(ReviewResult).where(ReviewResult.project_id == pid, ReviewResult.superseded_at.is_(None))
    if for_report:
        query = query.options(*_REPORT_LOADING)
    else:
        # Not joined: SQLite would scan every panel member to outer-join the signer.
        query = query.options(selectinload(ReviewResult.signed_off_by))
    return db.session.scalar(query.order_by(ReviewResult.id.desc()))


def current_result_head(project: PurchaseProject):
    """(id, signed_off_at) of the project's review that is not superseded, or None: one short read."""
    return db.session.execute(
        select(ReviewResult.id, ReviewResult.signed_off_at)
        .where(ReviewResult.project_id == project.id, ReviewResult.superseded_at.is_(None))
        .order_by(ReviewResult.id.desc()).limit(1)).first()


def weights(project: PurchaseProject) -> tuple[Decimal, Decimal]:
    price = sum((c.weight for c in project.criteria_of(CriterionKind.PRICE)), Decimal(0))
    perf = sum((c.weight for c in project.criteria_of(CriterionKind.PERFORMANCE)), Decimal(0))
    return price, perf


def compute_result(panel: Panel, now: dt.datetime | None = None) -> ReviewResult:
    """Compute and store the review from the submitted scores."""
    now = now or utcnow()
    if not panel.all_submitted:
        raise Refused(_("Not every expert on the panel has submitted their scores."))
    if current_result(panel) is not None:
        raise Refused(_("The review has already been computed."))
    project = panel.project
    bids = reviewing_bids(project)
    for b in bids:
        if b.is_valid and b.price is None:
            raise Refused(_("The bid's price was not unsealed at the opening."))
    members = sorted(panel.seated, key=lambda m: m.draw_position)
    member_ids = [m.id for m in members]
    criteria = project.criteria_of(CriterionKind.SUBJECTIVE)
    scores = {(s.member_id, s.bid_id, s.criterion_id): s.score for s in db.session.scalars(
        select(Score).where(Score.member_id.in_(member_ids)))}
    price_weight, perf_weight = weights(project)
    prior = Decimal(settings.get(rules.PERFORMANCE_PRIOR.key))
    trim = bool(settings.get(rules.TRIM_EXTREMES.key)) and len(members) >= rules.TRIM_FROM
    deviation = Decimal(settings.get(rules.DEVIATION_PERCENT.key))
    outcome = ranking.compute(
        [ranking.BidIn(b.id, b.price if b.price is not None else Decimal("0.01"), b.submitted_at, b.is_valid,
                       b.performance_at_opening) for b in bids],
        [ranking.CriterionIn(c.id, c.min_score, c.max_score, c.position) for c in criteria],
        scores, member_ids, price_weight=price_weight, performance_weight=perf_weight, prior=prior, trim=trim,
        deviation_percent=deviation)
    number = db.session.scalar(select(func.count(ReviewResult.id)).where(ReviewResult.project_id == project.id)) + 1
    result = ReviewResult(panel_id=panel.id, project_id=project.id, number=number, computed_at=now,
                          lowest_valid_price=outcome.lowest_valid_price, price_weight=price_weight,
                          performance_weight=perf_weight, performance_prior=prior, panel_size=len(members),
                          trimmed=trim, deviation_percent=deviation, rounding=ranking.ROUNDING_RULE)
    by_id = {b.id: b for b in bids}
    for o in outcome.bids:
        bid = by_id[o.bid_id]
        row = ReviewBidResult(bid_id=o.bid_id, provider_id=bid.provider_id, provider_name=bid.provider.name,
                              price=o.price, submitted_at=o.submitted_at, valid=o.valid,
                              invalid_reason="" if o.valid else (bid.invalid_reason or "—"),
                              price_points=o.price_points, performance_snapshot=o.performance_snapshot,
                              performance_from_prior=o.performance_from_prior,
                              performance_points=o.performance_points, subjective_points=o.subjective_points,
                              total=o.total, rank=o.rank)
        for ln in o.lines:
            row.lines.append(ReviewLine(criterion_id=ln.criterion_id, position=ln.position,
                                        scores={str(m): str(s) for m, s in ln.scores.items()},
                                        dropped_high_member_id=ln.dropped_high, dropped_low_member_id=ln.dropped_low,
                                        used_count=ln.used_count, score_sum=ln.score_sum, mean=ln.mean))
        result.bids.append(row)
    for f in outcome.flags:
        result.flags.append(ReviewFlag(member_id=f.member_id, bid_id=f.bid_id, criterion_id=f.criterion_id,
                                       score=f.score, panel_mean=f.panel_mean, difference=f.difference,
                                       limit=f.limit))
    db.session.add(result)
    db.session.flush()
    audit.record("review.compute", result, actor=None, project_id=project.id, number=number,
                 lowest_valid_price=outcome.lowest_valid_price, trimmed=trim,
                 ranking=[{"bid_id": o.bid_id, "total": o.total, "rank": o.rank} for o in outcome.bids if o.valid],
                 flags=len(outcome.flags))
    return result


def sign_off(panel: Panel, member, actor, now: dt.datetime | None = None) -> ReviewResult:
    """The panel leader signs the report: the review is final and the officer may award."""
    now = now or utcnow()
    panel = lock_panel(panel.id)
    if member is None or member.panel_id != panel.id or not member.is_leader:
        raise Forbidden(_("Only the panel leader signs off the review report."), audit_action="review.sign_off",
                        obj=panel.project)
    result = current_result(panel)
    if result is None:
        raise Refused(_("Not every expert on the panel has submitted their scores."),
                      audit_action="review.sign_off", obj=panel.project)
    if result.signed_off_at is not None:
        raise Refused(_("The report is already signed off."))
    result.signed_off_at, result.signed_off_by_id = now, member.id
    panel.status, panel.signed_off_at, panel.signed_off_by_id = PanelStatus.SIGNED_OFF, now, actor.id
    db.session.flush()
    audit.record("review.sign_off", result, actor=actor, project_id=panel.project_id, member_id=member.id)
    return result


def score_summary(result: ReviewResult) -> dict:
    return {"result_id": result.id, "number": result.number,
            "lowest_valid_price": result.lowest_valid_price,
            "ranking": [{"rank": b.rank, "bid_id": b.bid_id, "provider_name": b.provider_name, "price": b.price,
                         "subjective_points": b.subjective_points, "price_points": b.price_points,
                         "performance_points": b.performance_points, "total": b.total} for b in result.ranked]}


def award_project(project: PurchaseProject, bid: Bid, reason: str, actor, now: dt.datetime | None = None) -> Award:
    """Award after a signed-off review: the top-ranked bid, or another ranked one with a reason."""
    now = now or utcnow()
    project = lock_row(PurchaseProject, project.id)  # one award, however many officers click
    panel = db.session.scalar(select(Panel).where(Panel.project_id == project.id))
    if project.current_state != ProjectState.UNDER_REVIEW or panel is None:
        raise Refused(_("Only a project under review can be awarded."), audit_action="award.publish", obj=project)
    if not panel.all_submitted:
        raise Refused(_("Not every expert on the panel has submitted their scores."), audit_action="award.publish",
                      obj=project)
    result = current_result(panel)
    if result is None or result.signed_off_at is None:
        raise Refused(_("The panel leader has not signed off the review report."), audit_action="award.publish",
                      obj=project)
    top = result.top
    if top is None:
        raise Refused(_("No bid is valid: the project cannot be awarded."))
    row = next((b for b in result.ranked if b.bid_id == bid.id), None)
    if row is None:
        raise Invalid(_("Only a valid, ranked bid can be awarded."), "bid_id")
    return award_ops.publish_award(project, bid, top_bid=top.bid, reason=reason, score_summary=score_summary(result),
                                   actor=actor, now=now)


def reopen_after_challenge(award: Award, *, project: PurchaseProject, actor) -> None:
    """An upheld challenge sent the project back to review (marketplace.signals.award_voided).
    The signed result is kept but superseded, and the members may revise and submit again."""
    panel = db.session.scalar(select(Panel).where(Panel.project_id == project.id))
    if panel is None:
        return
    now = utcnow()
    result = current_result(panel)
    if result is not None:
        result.superseded_at = now
        result.superseded_reason = _("Award %(id)s voided by an upheld challenge.", id=award.id)
    for m in panel.members:
        m.submitted_at = None
    panel.status, panel.signed_off_at, panel.signed_off_by_id = PanelStatus.SCORING, None, None
    db.session.flush()
    audit.record("review.reopen", panel, actor=actor, project_id=project.id, award_id=award.id)
