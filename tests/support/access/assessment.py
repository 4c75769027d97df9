"""URL arguments of the assessment and supervision pages.

A plan of last month is drawn over a stranger provider's sessions; one visit is recorded (with a
photo) and one is left planned; a supervisor raised an item with evidence."""

import datetime as dt

from evaluation.assessment import operations as assessment
from evaluation.assessment.models import VisitStatus
from evaluation.supervision import operations as supervision
from tests.support.access.registry import OBJECT_GUARDED, builds
from tests.support.assessment import World, last_month
from tests.support.files import png_bytes

OBJECT_GUARDED.update({
    # assessors not assigned, providers before a visit is recorded or of another session, supervisors
    # before it is recorded
    "assessment.visit", "assessment.photo",
    # officers outside the district, or outside the item's jurisdiction
    "assessment.falsification", "supervision.answer",
    # the plans page: only officers draw
    "assessment.plans",
    # following an answered item, or with no CSRF-valid form
    "supervision_portal.follow",
})

_cache: dict[int, dict] = {}


def _world(ctx) -> dict:
    key = id(ctx)
    if key in _cache:
        return _cache[key]
    w = World(ctx["session"], ctx["make_user"], tag="ACC-AS")
    month = last_month()
    w.sessions_in(month, per_venue=(2, 1))
    agency = w.agency(seq=901)
    w.assessor(agency)
    plan = assessment.draw_plan(month, w.officer, seed="access-walk")
    visit = plan.visits[0]
    s = visit.session
    assessment.record_visit(visit, visit.assessor.user, checklist={"duration": True}, counted=30, score=70,
                            findings="", photos=[png_bytes()], now=s.scheduled_at + dt.timedelta(hours=1))
    planned = next(v for v in plan.visits if v.status == VisitStatus.PLANNED)
    sup = w.supervisor()
    item = supervision.raise_item(sup, "venue", s.venue_id, "场馆关闭", "周末不开放", evidence=[png_bytes()])
    world = {"plan": plan, "month": month, "visit": planned, "photo": visit.photos[0], "item": item,
             "evidence": item.evidence[0]}
    _cache[key] = world
    return world


@builds("plan_id")
def plan_id(ctx):
    return _world(ctx)["plan"].id


@builds("month")
def month(ctx):
    return _world(ctx)["month"]


@builds("visit_id")
def visit_id(ctx):
    return _world(ctx)["visit"].id


@builds("assessment_photo_id")
def assessment_photo_id(ctx):
    return _world(ctx)["photo"].id


@builds("supervision_id")
def supervision_id(ctx):
    return _world(ctx)["item"].id


@builds("evidence_id")
def evidence_id(ctx):
    return _world(ctx)["evidence"].id
