"""Third-party assessment: drawing the month's plan, recording visits, flags and falsification.

Rules with numbers (settings): the sample share (10 %) and minimum per town (1); a discrepancy is
flagged when the counted attendance differs from the reported one by more than a share of the
reported (20 %), or the assessor's score from the venue officer's acceptance score by more than a
number of points (20).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit, settings, uploads
from core.accounts.models import Role, User
from core.areas.models import Venue
from core.db import db, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import notify
from core.uscc import is_valid as uscc_valid
from evaluation.assessment import draw
from evaluation.assessment.models import (
    CHECKLIST,
    AssessmentAgency,
    AssessmentPhoto,
    AssessmentPlan,
    AssessmentVisit,
    Assessor,
    VisitStatus,
)
from evaluation.performance import operations as performance
from marketplace.sessions.models import ServiceSession

SAMPLE_PERCENT = settings.define("assessment.sample_percent", 10,
                                 _l("Third-party assessment: share of a month's sessions sampled (%)"), int, 1, 100)
MIN_PER_TOWN = settings.define("assessment.min_per_town", 1,
                               _l("Third-party assessment: fewest sampled sessions per town/street"), int, 0, 100)
ATTENDANCE_SHARE = settings.define("assessment.attendance_share_percent", 20,
                                   _l("Discrepancy: counted attendance differs from the reported by more than (%)"),
                                   int, 0, 1000)
SCORE_POINTS = settings.define("assessment.score_points", 20,
                               _l("Discrepancy: assessor's score differs from the acceptance score by more than "
                                  "(points)"), int, 0, 100)
MAX_PHOTOS = 6
SETTINGS = (SAMPLE_PERCENT, MIN_PER_TOWN, ATTENDANCE_SHARE, SCORE_POINTS)
# YYYY-MM, spaces around allowed (ASCII digits: int() would read other scripts' digits too); the
# API document states this very pattern for the month in a path.
MONTH_PATTERN = r"^\s*[0-9]{4}-(0[1-9]|1[0-2])\s*$"
_MONTH = re.compile(MONTH_PATTERN)


def is_month(month: str) -> bool:
    return bool(_MONTH.match(month or ""))


def check_month(month: str, field: str = "month") -> str:
    if not _MONTH.match(month or ""):
        raise Invalid(_("Give the month as YYYY-MM, for example 2026-11."), field)
    return month.strip()


# --- agencies and assessors ----------------------------------------------------------------------

def create_agency(name: str, credit_code: str, engaged_from: dt.date, engaged_until: dt.date,
                  actor) -> AssessmentAgency:
    name, code = (name or "").strip(), (credit_code or "").strip().upper()
    if not name:
        raise Invalid(_("Give the agency's name."), "name")
    if not uscc_valid(code):
        raise Invalid(_("Not a valid unified social credit code."), "credit_code")
    if engaged_until < engaged_from:
        raise Invalid(_("The engagement ends before it begins."), "engaged_until")
    if db.session.scalar(select(AssessmentAgency.id).where(AssessmentAgency.credit_code == code)):
        raise Invalid(_("An agency with this credit code exists already."), "credit_code")
    agency = AssessmentAgency(name=name, credit_code=code, engaged_from=engaged_from, engaged_until=engaged_until)
    db.session.add(agency)
    db.session.flush()
    audit.record("assessment.agency", agency, actor=actor, name=name, credit_code=code,
                 engaged_from=engaged_from, engaged_until=engaged_until)
    return agency


def add_assessor(agency: AssessmentAgency, user: User, actor, employer_credit_code: str = "") -> Assessor:
    if not user.has_role(Role.ASSESSOR):
        raise Invalid(_("The user does not have the assessor role."), "user")
    assessor = Assessor(user_id=user.id, agency_id=agency.id, employer_credit_code=(employer_credit_code or "").upper())
    db.session.add(assessor)
    db.session.flush()
    audit.record("assessment.assessor", assessor, actor=actor, agency_id=agency.id, user_id=user.id)
    return assessor


def assessor_of(user) -> Assessor | None:
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(select(Assessor).where(Assessor.user_id == user.id))


# --- the plan ----------------------------------------------------------------------------------

def draw_plan(month: str, actor, *, seed: str | None = None, now: dt.datetime | None = None) -> AssessmentPlan:
    """Draw and store the month's sampling plan with its assessors."""
    now = now or utcnow()
    month = check_month(month)
    if db.session.scalar(select(AssessmentPlan.id).where(AssessmentPlan.month == month)) is not None:
        raise Refused(_("The plan of %(month)s has already been drawn.", month=month), audit_action="assessment.draw")
    seed = seed or secrets.token_hex(16)
    share, min_town = settings.get(SAMPLE_PERCENT.key), settings.get(MIN_PER_TOWN.key)
    candidates = draw.candidates_for(month, seed)
    if not candidates:
        raise Refused(_("No session is scheduled in %(month)s: there is nothing to sample.", month=month),
                      audit_action="assessment.draw")
    sample = draw.select_sample(candidates, share, min_town)
    assessors = draw.eligible_assessors(month, seed)
    by_session = {c["session_id"]: c for c in candidates}
    assignments = draw.assign(sample, by_session, assessors, month)
    plan = AssessmentPlan(month=month, seed=seed, share_percent=share, min_per_town=min_town, candidates=candidates,
                          sample=sample, assessors=[a.id for a in assessors], drawn_at=now, drawn_by_id=actor.id)
    db.session.add(plan)
    db.session.flush()
    for position, a in enumerate(assignments):
        db.session.add(AssessmentVisit(plan_id=plan.id, session_id=a["session_id"], position=position,
                                       assessor_id=a["assessor_id"], skipped=a["skipped"]))
    db.session.flush()
    audit.record("assessment.draw", plan, actor=actor, month=month, seed=seed, candidates=len(candidates),
                 sample=sample, share=share, min_per_town=min_town)
    users = {a.id: a.user_id for a in assessors}
    for a in assignments:
        if a["assessor_id"] is not None:
            notify(users[a["assessor_id"]], _l("A session to visit in %(month)s", month=month),
                   _l("Visit it unannounced and record what you find."), link="/assessment/mine")
    return plan


def month_over(plan: AssessmentPlan, now: dt.datetime | None = None) -> bool:
    _start, end = draw.month_bounds(plan.month)
    return (now or utcnow()) >= end


# --- who may see what ---------------------------------------------------------------------------

def may_see_plan(user) -> bool:
    """The whole plan: officers and admins; assessors see their own visits only (see may_see_visit)."""
    return user.is_authenticated and user.has_role(Role.OFFICER, Role.ADMIN)


def may_see_visit(visit: AssessmentVisit, user) -> bool:
    """Officers, admins, supervisors and the assigned assessor; the session's provider only once the
    visit is recorded (the plan is hidden from providers until then)."""
    if not user.is_authenticated:
        return False
    if user.has_role(Role.OFFICER, Role.ADMIN):
        return True
    if user.has_role(Role.SUPERVISOR) and visit.status == VisitStatus.RECORDED:
        return True
    if user.has_role(Role.ASSESSOR) and visit.assessor is not None and visit.assessor.user_id == user.id:
        return True
    return (visit.status == VisitStatus.RECORDED and user.has_role(Role.PROVIDER)
            and visit.session.provider.user_id == user.id)


# --- recording a visit -----------------------------------------------------------------------------

def flags(reported: int | None, counted: int, acceptance: int | None, score: int) -> tuple[bool, bool]:
    """(attendance flag, score flag) at the current thresholds."""
    share = Decimal(settings.get(ATTENDANCE_SHARE.key)) / 100
    points = settings.get(SCORE_POINTS.key)
    if reported is None:
        attendance = False
    elif reported == 0:
        attendance = counted > 0
    else:
        attendance = Decimal(abs(reported - counted)) > share * reported
    score_flag = acceptance is not None and abs(acceptance - score) > points
    return bool(attendance), bool(score_flag)


def record_visit(visit: AssessmentVisit, actor, *, checklist: dict, counted: int | None, score: int | None,
                 findings: str, photos=(), now: dt.datetime | None = None) -> AssessmentVisit:
    """The assigned assessor records the visit: checklist, counted attendance, photos, score, findings."""
    now = now or utcnow()
    if visit.assessor is None or visit.assessor.user_id != actor.id:
        raise Forbidden(_("This visit is assigned to another assessor."), audit_action="assessment.record", obj=visit)
    if visit.status == VisitStatus.RECORDED:
        raise Refused(_("This visit has already been recorded."), audit_action="assessment.record", obj=visit)
    session = visit.session
    if now < session.scheduled_at:
        raise Refused(_("The session has not begun yet; record the visit when you are there."),
                      audit_action="assessment.record", obj=visit)
    if counted is None or not isinstance(counted, int) or counted < 0 or counted > 100000:
        raise Invalid(_("Give the attendance you counted (0 or more)."), "counted_attendance")
    if score is None or not isinstance(score, int) or not 0 <= score <= 100:
        raise Invalid(_("Give a score from 0 to 100."), "score")
    unknown = set(checklist) - set(CHECKLIST)
    if unknown:
        raise Invalid(_("Unknown checklist entry: %(name)s", name=sorted(unknown)[0]), "checklist")
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise Invalid(_("At most %(n)d photos.", n=MAX_PHOTOS), "photos")
    findings = (findings or "").strip()
    if len(findings) > 4000:
        raise Invalid(_("Keep the findings under 4000 characters."), "findings")
    for upload in photos:
        stored = uploads.store(upload, uploaded_by=actor, field="photos")
        if not stored.is_image:
            raise Invalid(_("Photos must be JPEG or PNG pictures."), "photos")
        visit.photos.append(AssessmentPhoto(file_id=stored.id))
    visit.checklist = {name: bool(checklist.get(name)) for name in CHECKLIST}
    visit.counted_attendance, visit.score, visit.findings = counted, score, findings
    visit.reported_attendance, visit.acceptance_score = session.attendance, session.acceptance_score
    visit.attendance_flag, visit.score_flag = flags(session.attendance, counted, session.acceptance_score, score)
    visit.status, visit.recorded_at = VisitStatus.RECORDED, now
    db.session.flush()
    audit.record("assessment.record", visit, actor=actor, session_id=session.id, counted=counted, score=score,
                 reported=session.attendance, acceptance=session.acceptance_score,
                 attendance_flag=visit.attendance_flag, score_flag=visit.score_flag)
    performance.update_provider(session.provider_id, "assessment", now)
    if visit.discrepancy:
        from evaluation.adjustment.operations import district_officers

        for officer in district_officers():
            notify(officer, _l("Assessment discrepancy: session %(ref)s", ref=session.reference),
                   _l("The assessor's figures differ from the reported ones beyond the set thresholds."),
                   link=f"/assessment/visits/{visit.id}")
    return visit


def may_confirm(user) -> bool:
    """Officers of the district confirm falsifications."""
    return (user.is_authenticated and user.has_role(Role.OFFICER) and user.jurisdiction is not None
            and user.jurisdiction.parent_id is None)


def confirm_falsification(visit: AssessmentVisit, actor, note: str, now: dt.datetime | None = None):
    """A district officer confirms that a flagged report was falsified: the adjustment rule fires."""
    from evaluation.adjustment import operations as adjustment

    now = now or utcnow()
    if not may_confirm(actor):
        raise Forbidden(_("Only an officer of the district confirms a falsification."),
                        audit_action="assessment.falsification", obj=visit)
    if visit.status != VisitStatus.RECORDED or not visit.discrepancy:
        raise Refused(_("Only a recorded visit with a discrepancy can be confirmed as falsified."),
                      audit_action="assessment.falsification", obj=visit)
    if visit.falsification_confirmed_at is not None:
        raise Refused(_("This falsification has already been confirmed."), audit_action="assessment.falsification",
                      obj=visit)
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Say what was falsified."), "note")
    visit.falsification_confirmed_at, visit.falsification_confirmed_by_id = now, actor.id
    db.session.flush()
    audit.record("assessment.falsification", visit, actor=actor, note=note)
    s = visit.session
    return adjustment.propose_for_falsification(s.provider, now, {
        "visit_id": visit.id, "session": s.reference, "reported_attendance": visit.reported_attendance,
        "counted_attendance": visit.counted_attendance, "acceptance_score": visit.acceptance_score,
        "assessment_score": visit.score, "note": note})


# --- figures others read ----------------------------------------------------------------------------

def assessment_means_by_area(start_utc: dt.datetime, end_utc: dt.datetime) -> dict[int, Decimal]:
    """Area id of the session's venue's community → mean score (0–100, two decimals) of the visits
    recorded in [start, end)."""
    rows = db.session.execute(
        select(Venue.area_id, func.sum(AssessmentVisit.score), func.count())
        .join(ServiceSession, ServiceSession.id == AssessmentVisit.session_id)
        .join(Venue, Venue.id == ServiceSession.venue_id)
        .where(AssessmentVisit.status == VisitStatus.RECORDED, AssessmentVisit.recorded_at >= start_utc,
               AssessmentVisit.recorded_at < end_utc)
        .group_by(Venue.area_id))
    return {area: (Decimal(total) / n).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for area, total, n in rows}


def month_summary(month: str) -> dict:
    """For the briefing: visits planned and recorded, the mean score and discrepancies of a month."""
    planned = db.session.scalar(select(func.count()).select_from(AssessmentVisit)
                                .join(AssessmentPlan, AssessmentPlan.id == AssessmentVisit.plan_id)
                                .where(AssessmentPlan.month == month))
    start, end = draw.month_bounds(month)
    rec = db.session.execute(select(func.avg(AssessmentVisit.score), func.count()).where(
        AssessmentVisit.status == VisitStatus.RECORDED, AssessmentVisit.recorded_at >= start,
        AssessmentVisit.recorded_at < end)).one()
    flagged = db.session.scalar(select(func.count()).where(
        AssessmentVisit.status == VisitStatus.RECORDED, AssessmentVisit.recorded_at >= start,
        AssessmentVisit.recorded_at < end, AssessmentVisit.attendance_flag | AssessmentVisit.score_flag))
    mean = Decimal(repr(float(rec[0]))).quantize(Decimal("0.1")) if rec[0] is not None else None
    return {"planned": int(planned or 0), "recorded": int(rec[1] or 0), "mean": mean, "flagged": int(flagged or 0)}
