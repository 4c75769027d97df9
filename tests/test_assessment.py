"""Third-party assessment: the sampling draw re-run from its seed, conflicts skipped, the plan sealed
from providers, discrepancy flags at the thresholds, the assessment component of the performance score
and a confirmed falsification proposing a suspension — numbers worked by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import settings
from core.audit import AuditEvent
from core.db import utcnow
from evaluation.adjustment.models import AdjustmentDecision, DecisionAction
from evaluation.assessment import draw
from evaluation.assessment import operations as assessment
from evaluation.assessment.models import AssessmentPlan, AssessmentVisit, VisitStatus
from evaluation.performance import operations as performance
from tests.support.assessment import World, last_month, valid_code
from tests.support.files import png_bytes


@pytest.fixture
def world(session, make_user, district):
    return World(session, make_user, district=district)


def _key(seed, sid):
    return hashlib.sha256(f"{seed}:{sid}".encode()).hexdigest()


def _record(visit, counted=40, score=90, **kw):
    return assessment.record_visit(visit, visit.assessor.user, checklist={"duration": True, "staffing": True},
                                   counted=counted, score=score, findings=kw.pop("findings", "按标准开展"),
                                   now=visit.session.scheduled_at + dt.timedelta(hours=1), **kw)


# --- the draw -------------------------------------------------------------------------------------

def test_the_sample_takes_one_per_town_and_re_runs_from_its_seed(world):
    month = last_month()
    _p, sessions = world.sessions_in(month, per_venue=(3, 2))
    world.assessor(world.agency())
    plan = assessment.draw_plan(month, world.officer, seed="seed-42")
    # Five candidates in two towns at 10 %: n = max(ceil(0.5), 2 towns × 1) = 2, the first of each town by key.
    town_of = {s.id: (0 if i < 3 else 1) for i, s in enumerate(sessions)}
    by_key = sorted(town_of, key=lambda sid: (_key("seed-42", sid), sid))
    expected = [sid for sid in by_key if sid in {next(s for s in by_key if town_of[s] == t) for t in (0, 1)}]
    assert [c["session_id"] for c in plan.candidates] == by_key
    assert plan.sample == expected
    assert [v.session_id for v in plan.visits] == expected
    assert draw.rerun(plan)["matches"]
    # Anyone re-running with the recorded candidates gets the same sample; a tampered record does not match.
    plan.candidates = list(reversed(plan.candidates))
    assert not draw.rerun(plan)["matches"]


def test_strata_get_their_share_beyond_the_town_minimum(world):
    month = last_month()
    _p, sessions = world.sessions_in(month, per_venue=(3, 2))
    settings.change(assessment.SAMPLE_PERCENT.key, "50", world.officer)
    plan = assessment.draw_plan(month, world.officer, seed="strata")
    # n = max(ceil(2.5), 2) = 3: one per town, then the 3-session stratum gets ceil(1.5) = 2.
    town0 = {s.id for s in sessions[:3]}
    assert len(plan.sample) == 3
    assert len([s for s in plan.sample if s in town0]) == 2
    assert draw.rerun(plan)["matches"]


def test_a_month_is_drawn_once_and_a_bad_month_is_refused(world):
    month = last_month()
    world.sessions_in(month, per_venue=(1, 1))
    assessment.draw_plan(month, world.officer, seed="once")
    with pytest.raises(assessment.Refused):
        assessment.draw_plan(month, world.officer)
    with pytest.raises(assessment.Invalid) as e:
        assessment.draw_plan("2026-13", world.officer)
    assert e.value.field == "month"


def test_conflicted_assessors_are_skipped_with_the_reason(world, session):
    month = last_month()
    provider, _s = world.sessions_in(month, per_venue=(1, 1))
    provider.credit_code = valid_code(500)
    session.flush()
    same_agency = world.assessor(world.agency(seq=1, code=provider.credit_code))
    other = world.agency(seq=2)
    employed = world.assessor(other, employer_credit_code=provider.credit_code)
    free = world.assessor(other)
    plan = assessment.draw_plan(month, world.officer, seed="conflicts")
    # Two visits: the free assessor takes both; by the second (the others have fewer visits) both
    # conflicted assessors have been passed over, each with its reason.
    assert [v.assessor_id for v in plan.visits] == [free.id, free.id]
    reasons = {(s["assessor_id"], s["reason"]) for v in plan.visits for s in v.skipped}
    assert reasons == {(same_agency.id, draw.AGENCY_IS_PROVIDER), (employed.id, draw.SAME_EMPLOYER)}


def test_an_assessor_who_visited_the_provider_last_month_is_skipped(world):
    month = last_month()
    previous = draw.previous_month(month)
    provider, _s = world.sessions_in(previous, per_venue=(1, 0))
    agency = world.agency()
    first = world.assessor(agency)
    plan = assessment.draw_plan(previous, world.officer, seed="before")
    _record(plan.visits[0])
    world.sessions_in(month, per_venue=(1, 0), provider=provider)
    world.sessions_in(month, per_venue=(0, 1))  # another provider, in the other town
    plan = assessment.draw_plan(month, world.officer, seed="after")
    visits = {v.session.provider_id: v for v in plan.visits}
    # The only assessor visited this provider last month: the visit stays unassigned, on record.
    assert visits[provider.id].assessor_id is None
    assert visits[provider.id].skipped == [{"assessor_id": first.id, "reason": draw.VISITED_LAST_MONTH}]
    assert [v.assessor_id for p, v in visits.items() if p != provider.id] == [first.id]


# --- flags -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("counted", "score", "attendance_flag", "score_flag"), [
    (32, 70, False, False),  # 40 reported, 8 fewer = 20 %: not more than 20 %; 90 − 70 = 20 points: not more
    (31, 70, True, False),   # 9 fewer = 22.5 %
    (49, 69, True, True),    # 9 more = 22.5 %; 21 points
    (48, 110 - 20, False, False),
])
def test_discrepancies_are_flagged_beyond_the_thresholds(world, counted, score, attendance_flag, score_flag):
    month = last_month()
    world.sessions_in(month, per_venue=(1, 0), attendance=40, score=90)
    world.assessor(world.agency())
    plan = assessment.draw_plan(month, world.officer, seed="flags")
    v = _record(plan.visits[0], counted=counted, score=score)
    assert (v.attendance_flag, v.score_flag) == (attendance_flag, score_flag)
    assert (v.reported_attendance, v.acceptance_score) == (40, 90)


def test_bad_visit_input_names_the_field_and_changes_nothing(world, session):
    month = last_month()
    world.sessions_in(month, per_venue=(1, 0))
    world.assessor(world.agency())
    v = assessment.draw_plan(month, world.officer, seed="bad").visits[0]
    for kw, field in (({"score": 101}, "score"), ({"counted": -1}, "counted_attendance"),
                      ({"photos": [b"not a picture"]}, "photos")):
        args = {"counted": 40, "score": 80} | kw
        with pytest.raises(assessment.Invalid) as e:
            assessment.record_visit(v, v.assessor.user, checklist={}, findings="", now=utcnow(), **args)
        assert e.value.field == field
    assert v.status == VisitStatus.PLANNED
    other = world.make_user("assessor")
    with pytest.raises(assessment.Forbidden):
        assessment.record_visit(v, other, checklist={}, counted=1, score=1, findings="", now=utcnow())


# --- pages: the phone form and the plan sealed from providers -----------------------------------------

def test_the_plan_is_hidden_from_providers_until_the_visit_is_recorded(world, client, login, session):
    month = last_month()
    provider, _s = world.sessions_in(month, per_venue=(1, 1))
    assessor = world.assessor(world.agency())
    plan = assessment.draw_plan(month, world.officer, seed="sealed")
    v = plan.visits[0]
    login(provider.user)
    for url in ("/assessment/plans", f"/assessment/plans/{plan.id}", f"/assessment/visits/{v.id}", "/assessment/mine"):
        assert client.get(url).status_code == 403, url
    # The session's own page says nothing of the plan.
    assert "assessment" not in client.get(f"/sessions/{v.session_id}").get_data(as_text=True).lower()
    client.post("/logout")
    login(assessor.user)
    page = client.get(f"/assessment/visits/{v.id}")
    assert page.status_code == 200 and 'data-testid="visit-form"' in page.get_data(as_text=True)
    resp = client.post(f"/assessment/visits/{v.id}", data={"counted_attendance": "150", "score": "101",
                                                           "duration": "y"})
    assert resp.status_code == 422
    session.refresh(v)
    assert v.status == VisitStatus.PLANNED
    resp = client.post(f"/assessment/visits/{v.id}", data={
        "counted_attendance": "38", "score": "85", "duration": "y", "content": "y", "findings": "秩序良好",
        "photos": [(__import__("io").BytesIO(png_bytes()), "现场.png")]}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    session.refresh(v)
    assert v.status == VisitStatus.RECORDED and v.checklist["content"] and not v.checklist["staffing"]
    assert len(v.photos) == 1
    client.post("/logout")
    login(provider.user)
    assert client.get(f"/assessment/visits/{v.id}").status_code == 200
    unrecorded = plan.visits[1]
    assert client.get(f"/assessment/visits/{unrecorded.id}").status_code == 403
    # The public record waits for the month's end; last month is over.
    assert client.get(f"/api/v1/assessment/plans/{month}").status_code == 200
    assert client.get(f"/api/v1/assessment/plans/{draw.local_month_of(utcnow())}").status_code == 404
    assert client.get("/api/v1/assessment/plans/2026-1").status_code in (400, 422)


def test_drawing_from_the_page_and_the_public_record(world, client, login):
    month = last_month()
    world.sessions_in(month, per_venue=(2, 1))
    login(world.officer)
    resp = client.post("/assessment/plans", data={"month": "bad"})
    assert resp.status_code == 422
    resp = client.post("/assessment/plans", data={"month": month})
    assert resp.status_code == 302
    plan = world.session.scalar(select(AssessmentPlan).where(AssessmentPlan.month == month))
    data = client.get(f"/api/v1/assessment/plans/{month}").get_json()
    assert data["seed"] == plan.seed and data["sample"] == plan.sample and data["rerun_matches"] is True
    assert client.get(f"/portal/assessment/{month}").status_code == 200
    assert world.session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "assessment.draw")) == 1


# --- figures: means by area, the performance component, falsification ---------------------------------

def test_assessment_means_by_area(world):
    month = last_month()
    world.sessions_in(month, per_venue=(2, 1))
    world.assessor(world.agency())
    settings.change(assessment.SAMPLE_PERCENT.key, "100", world.officer)
    plan = assessment.draw_plan(month, world.officer, seed="means")
    scores = iter([70, 81, 60])
    by_area: dict[int, list[int]] = {}
    for v in plan.visits:
        s = next(scores)
        _record(v, score=s)
        by_area.setdefault(v.session.venue.area_id, []).append(s)
    start, end = draw.month_bounds(month)
    means = assessment.assessment_means_by_area(start, end + dt.timedelta(days=1))
    assert means == {a: (Decimal(sum(v)) / len(v)).quantize(Decimal("0.01")) for a, v in by_area.items()}
    assert assessment.assessment_means_by_area(end + dt.timedelta(days=2), end + dt.timedelta(days=3)) == {}


def test_the_assessment_component_enters_the_score_with_its_weight():
    params = performance.Parameters(weights={"satisfaction": 40, "acceptance": 30, "punctuality": 15,
                                             "complaints": 15, "assessment": 10}, prior_weight=20,
                                    half_life_days=180, complaint_penalty=Decimal(5), default_prior=Decimal(4))
    district = performance.District(Decimal(4), None, None)
    base = {"acceptance_count": 1, "acceptance_weight": 1.0, "acceptance_weighted_sum": 80.0, "due_count": 1,
            "due_weight": 1.0, "on_time_count": 1, "on_time_weight": 1.0, "delivered_count": 1}
    # Satisfaction at the prior 4.0 → 75 points; acceptance 80; on time 100; complaints 100.
    without = performance.compute(performance.Figures(**base), params, district)
    assert without.score == Decimal("84.00")  # (40×75 + 30×80 + 15×100 + 15×100) ÷ 100: the weight is left out
    with_visits = performance.compute(performance.Figures(**base, assessment_count=2, assessment_weight=2.0,
                                                          assessment_weighted_sum=120.0), params, district)
    assert with_visits.points["assessment"] == Decimal(60)
    assert with_visits.score == Decimal("81.82")  # (3000 + 2400 + 1500 + 1500 + 10×60) ÷ 110 = 81.818…


def test_a_recorded_visit_reaches_the_providers_snapshot(world):
    month = last_month()
    provider, _s = world.sessions_in(month, per_venue=(1, 0))
    world.assessor(world.agency())
    v = assessment.draw_plan(month, world.officer, seed="snap").visits[0]
    _record(v, score=64)
    performance.recompute_all()
    snap = performance.latest_snapshot(provider.id)
    assert snap.assessment_count == 1 and snap.assessment_points == Decimal(64)
    assert snap.parameters["weights"]["assessment"] == 10


def test_a_confirmed_falsification_proposes_a_suspension_with_the_figures(world, make_user):
    month = last_month()
    provider, _s = world.sessions_in(month, per_venue=(1, 0), attendance=60, score=95)
    world.assessor(world.agency())
    v = assessment.draw_plan(month, world.officer, seed="false").visits[0]
    _record(v, counted=12, score=40)
    assert v.attendance_flag and v.score_flag
    with pytest.raises(assessment.Forbidden):
        assessment.confirm_falsification(v, world.town_officer, "虚报人数")
    with pytest.raises(assessment.Invalid):
        assessment.confirm_falsification(v, world.officer, " ")
    d = assessment.confirm_falsification(v, world.officer, "虚报人数")
    assert isinstance(d, AdjustmentDecision)
    assert (d.rule, d.action, d.provider_id) == ("provider_falsified_report", DecisionAction.SUSPEND, provider.id)
    assert d.figures["reported_attendance"] == 60 and d.figures["counted_attendance"] == 12
    assert d.figures["acceptance_score"] == 95 and d.figures["assessment_score"] == 40 and d.figures["months"] == 6
    with pytest.raises(assessment.Refused):
        assessment.confirm_falsification(v, world.officer, "再次")


def test_a_visit_without_discrepancy_cannot_be_confirmed_falsified(world):
    month = last_month()
    world.sessions_in(month, per_venue=(1, 0))
    world.assessor(world.agency())
    v = assessment.draw_plan(month, world.officer, seed="fine").visits[0]
    _record(v)
    with pytest.raises(assessment.Refused):
        assessment.confirm_falsification(v, world.officer, "x")
    assert world.session.scalar(select(func.count()).select_from(AssessmentVisit)
                                .where(AssessmentVisit.falsification_confirmed_at.isnot(None))) == 0


def test_agency_credit_code_is_checked(world):
    with pytest.raises(assessment.Invalid) as e:
        assessment.create_agency("某机构", "91110115MA0000000Q", dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                                 world.officer)
    assert e.value.field == "credit_code"
    with pytest.raises(assessment.Invalid) as e:
        assessment.create_agency("某机构", valid_code(77), dt.date(2026, 2, 1), dt.date(2026, 1, 1), world.officer)
    assert e.value.field == "engaged_until"


def test_the_demo_oversight_data(world, session):
    from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
    from evaluation.supervision.models import ItemStatus, SupervisionItem
    from seeds.oversight import seed_oversight
    from tests.conftest import PASSWORD

    world.sessions_in(last_month(), per_venue=(3, 3))
    world.d.venue(world.communities[0])
    out = seed_oversight(lambda _m: None, world.officer.login, PASSWORD)
    assert out["agencies"] == 2 and out["visits_recorded"] >= 2 and out["discrepancies"] == 1
    # The discrepancy is confirmed as falsified by the district officer: a suspension is proposed.
    assert out["falsifications_confirmed"] == 1
    visit = session.scalars(select(AssessmentVisit).where(
        AssessmentVisit.falsification_confirmed_at.is_not(None))).one()
    decision = session.scalars(select(AdjustmentDecision).where(
        AdjustmentDecision.rule == "provider_falsified_report")).one()
    assert decision.provider_id == visit.session.provider_id and decision.status == DecisionStatus.PROPOSED
    items = session.scalars(select(SupervisionItem).order_by(SupervisionItem.raised_at)).all()
    assert [(i.status, i.escalated_at is not None) for i in items] == [
        (ItemStatus.OPEN, True), (ItemStatus.ANSWERED, False), (ItemStatus.OPEN, False)]
    assert [len(i.evidence) for i in items] == [1, 0, 0] and items[0].evidence[0].file.is_image
    assert seed_oversight(lambda _m: None, world.officer.login, PASSWORD) == {}


def test_the_scoring_method_page_publishes_the_assessment_weight_and_rule(client):
    page = client.get("/performance/model").get_data(as_text=True)
    assert 'data-testid="weight-assessment"' in page
    row = page.split('data-testid="weight-assessment"')[1].split("</tr>")[0]
    assert "<td>10</td>" in row
    assert "第三方测评发现承接主体场次报告造假" in page
