"""The assessment plan's public record, once its month is over."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.errors import DomainError
from core.openapi import api_doc
from core.permissions import PUBLIC, access
from core.refusals import refused
from evaluation.assessment import draw
from evaluation.assessment import operations as assessment
from evaluation.assessment.models import AssessmentPlan, AssessmentVisit, Assessor
from evaluation.assessment.schemas import PublicPlanOut
from marketplace.sessions.models import ServiceSession

bp = Blueprint("assessment_api", __name__, url_prefix="/api/v1")


def finished_plan(month: str) -> AssessmentPlan | None:
    """The plan of a month that is over, with its visits loaded; None otherwise."""
    plan = db.session.scalar(select(AssessmentPlan).where(AssessmentPlan.month == month).options(
        selectinload(AssessmentPlan.visits).selectinload(AssessmentVisit.session).selectinload(ServiceSession.item),
        selectinload(AssessmentPlan.visits).selectinload(AssessmentVisit.session).selectinload(ServiceSession.venue),
        selectinload(AssessmentPlan.visits).selectinload(AssessmentVisit.session).selectinload(ServiceSession.provider),
        selectinload(AssessmentPlan.visits).selectinload(AssessmentVisit.assessor).joinedload(Assessor.agency)))
    if plan is None or not assessment.month_over(plan):
        return None
    return plan


def public_record(plan: AssessmentPlan) -> dict:
    return {
        "month": plan.month, "seed": plan.seed, "share_percent": plan.share_percent,
        "min_per_town": plan.min_per_town, "candidates": [c["session_id"] for c in plan.candidates],
        "sample": list(plan.sample), "rerun_matches": draw.rerun(plan)["matches"],
        "visits": [{"position": v.position, "session_reference": v.session.reference, "item": v.session.item.name,
                    "venue": v.session.venue.name, "provider": v.session.provider.name, "status": v.status.value,
                    "agency": v.assessor.agency.name if v.assessor else None, "score": v.score,
                    "counted_attendance": v.counted_attendance, "reported_attendance": v.reported_attendance,
                    "discrepancy": v.discrepancy} for v in plan.visits],
    }


@bp.route("/assessment/plans/<month>")
@api_doc(_l("A month's third-party assessment plan and visits, public once the month is over"),
         responses={200: PublicPlanOut}, errors=(422,), tags=("evaluation",),
         path={"month": {"type": "string", "pattern": assessment.MONTH_PATTERN,
                         "description": _l("YYYY-MM, for example 2026-11")}})
@access(PUBLIC)
def plan(month):
    try:
        month = assessment.check_month(month)
    except DomainError as e:
        return refused(e)
    found = finished_plan(month)
    if found is None:
        abort(404)
    return PublicPlanOut().dump(public_record(found))
