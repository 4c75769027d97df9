"""Evaluation JSON API: the full review breakdown, public once the award is published."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import db
from core.openapi import api_doc
from core.permissions import PUBLIC, access
from evaluation.review import draw
from evaluation.review import operations as review
from evaluation.review.models import Panel
from evaluation.review.schemas import EvaluationOut
from evaluation.review.views import result_published
from marketplace.awards import operations as award_ops
from marketplace.projects.models import CriterionKind, PurchaseProject

bp = Blueprint("evaluation_api", __name__, url_prefix="/api/v1")


def breakdown(project: PurchaseProject) -> dict | None:
    """Everything that decided the ranking, or None while the result is not public."""
    if not project.is_opened or not result_published(project):
        return None
    panel = db.session.scalar(select(Panel).where(Panel.project_id == project.id))
    result = review.current_result(project) if panel else None
    if result is None:
        return None
    names = {m.id: m.expert.name for m in panel.members}
    flagged = {(f.member_id, f.bid_id, f.criterion_id) for f in result.flags}
    criteria = {c.id: c for c in project.criteria_of(CriterionKind.SUBJECTIVE)}
    award = award_ops.live_award(project)
    bids = []
    for b in result.bids:
        lines = []
        for ln in b.lines:
            c = criteria.get(ln.criterion_id) or ln.criterion
            dropped = {ln.dropped_high_member_id, ln.dropped_low_member_id}
            lines.append({
                "criterion_id": ln.criterion_id, "name": c.name, "min_score": c.min_score, "max_score": c.max_score,
                "scores": [{"member_id": int(m), "expert": names.get(int(m), ""), "score": s,
                            "dropped": int(m) in dropped, "flagged": (int(m), b.bid_id, ln.criterion_id) in flagged}
                           for m, s in ln.scores.items()],
                "used_count": ln.used_count, "score_sum": ln.score_sum, "mean": ln.mean})
        bids.append({
            "bid_id": b.bid_id, "provider_id": b.provider_id, "provider_name": b.provider_name, "price": b.price,
            "submitted_at": b.submitted_at, "valid": b.valid, "invalid_reason": b.invalid_reason, "rank": b.rank,
            "price_points": b.price_points,
            "price_formula": {"lowest_valid_price": str(result.lowest_valid_price), "price": str(b.price),
                              "weight": str(result.price_weight)} if b.valid else {},
            "performance_snapshot": b.performance_snapshot, "performance_from_prior": b.performance_from_prior,
            "performance_points": b.performance_points, "subjective_points": b.subjective_points, "total": b.total,
            "criteria": lines})
    return {
        "project_id": project.id, "reference": project.reference, "title": project.title,
        "review_number": result.number, "computed_at": result.computed_at, "signed_off_at": result.signed_off_at,
        "lowest_valid_price": result.lowest_valid_price,
        "rules": {"price_weight": result.price_weight, "performance_weight": result.performance_weight,
                  "performance_prior": result.performance_prior, "panel_size": result.panel_size,
                  "trimmed": result.trimmed, "deviation_percent": result.deviation_percent,
                  "rounding": result.rounding},
        "panel": {"seed": panel.seed, "drawn_at": panel.drawn_at, "size": panel.size,
                  "candidates": panel.candidates, "method": draw.__doc__.split("\n\n")[1].strip(),
                  "rerun_matches": draw.rerun(panel)["matches"],
                  "members": [{"member_id": m.id, "draw_position": m.draw_position, "expert_id": m.expert_id,
                               "name": m.expert.name, "employer": m.expert.employer, "status": m.status.value,
                               "leader": m.is_leader, "replaces_member_id": m.replaces_id,
                               "submitted_at": m.submitted_at} for m in panel.members]},
        "bids": bids,
        "ranking": [b.bid_id for b in result.ranked],
        "flags": [{"member_id": f.member_id, "bid_id": f.bid_id, "criterion_id": f.criterion_id, "score": f.score,
                   "panel_mean": f.panel_mean, "difference": f.difference, "limit": f.limit} for f in result.flags],
        "award": {"bid_id": award.bid_id, "provider_name": award.provider.name, "amount": award.amount,
                  "top_ranked": award.top_ranked, "reason": award.reason, "published_at": award.published_at,
                  "publicity_ends_at": award.publicity_ends_at,
                  "challenge_deadline": award.challenge_deadline} if award else None,
    }


@bp.route("/projects/<int:project_id>/evaluation")
@api_doc(_l("The full review breakdown of a project (panel, scores, ranking, award), once the result is published"),
         responses={200: EvaluationOut}, tags=("evaluation",))
@access(PUBLIC)
def evaluation(project_id):
    project = db.session.get(PurchaseProject, project_id)
    data = breakdown(project) if project is not None else None
    if data is None:
        abort(404)
    return EvaluationOut().dump(data)

