"""Third-party assessment and public supervision in the demo (and scale) district: two agencies with
their assessors, last month's plan with every visit recorded (one discrepancy, confirmed as falsified:
the adjustment rule proposes a suspension), this month's plan waiting for visits; supervisors with an
open, an answered and an overdue (escalated, with a photo as evidence) item.
Idempotent: nothing is added once an agency exists."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from core import uscc
from core.accounts import operations as accounts
from core.accounts.models import Role, User
from core.areas.models import Venue
from core.db import db, utcnow
from core.errors import DomainError
from core.i18n import to_local
from evaluation.assessment import draw
from evaluation.assessment import operations as assessment
from evaluation.assessment.models import AssessmentAgency
from evaluation.supervision import operations as supervision
from marketplace.sessions.models import SessionState

DIVISION = "110115"
FALSIFIED = "现场人数明显少于报告人数，签到表有代签。"


def _photo(name: str) -> FileStorage:
    """A small picture, as a supervisor's phone would upload it."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (60, 120, 180)).save(buf, "PNG")
    buf.seek(0)
    return FileStorage(stream=buf, filename=name, content_type="image/png")


def _user(login, name, role, password):
    user = db.session.scalar(select(User).where(User.login == login))
    return user or accounts.create_user(login=login, name=name, password=password, roles=[role])


def seed_oversight(echo, officer_login: str, password: str, prefix: str = "", record_limit: int = 500) -> dict:
    officer = db.session.scalar(select(User).where(User.login == officer_login))
    if officer is None or db.session.scalar(select(AssessmentAgency.id).limit(1)) is not None:
        return {}
    now = utcnow().replace(microsecond=0)
    today = to_local(now).date()
    agencies = [assessment.create_agency(name, uscc.complete("9", "1", DIVISION, body), today - dt.timedelta(days=200),
                                         today + dt.timedelta(days=530), officer)
                for name, body in (("北京正衡公共服务评估中心", "MA01QH3P"), ("京南社会调查研究所", "MA01JN5Q"))]
    for i, agency in enumerate(agencies):
        for k in range(2):
            user = _user(f"{prefix}assessor{2 * i + k + 1}@huimin.demo", f"测评员 {agency.name[:4]}{k + 1}",
                         Role.ASSESSOR, password)
            assessment.add_assessor(agency, user, officer)
    month = draw.local_month_of(now)
    last = draw.previous_month(month)
    recorded = flagged = confirmed = 0
    for m, seed in ((last, f"demo-{last}"), (month, f"demo-{month}")):
        try:
            plan = assessment.draw_plan(m, officer, seed=seed, now=now)
        except DomainError:
            continue
        for v in plan.visits:
            s = v.session
            if recorded >= record_limit or v.assessor is None or s.attendance is None or \
                    s.state not in (SessionState.CONFIRMED, SessionState.REPORTED) or s.scheduled_at > now:
                continue
            discrepancy = flagged == 0
            counted = max(0, s.attendance // 2) if discrepancy else s.attendance - (s.id % 3)
            base = s.acceptance_score if s.acceptance_score is not None else 85
            score = max(0, base - 35) if discrepancy else min(100, max(0, base - (s.id % 7)))
            assessment.record_visit(v, v.assessor.user, checklist={"duration": True, "staffing": not discrepancy,
                                                                   "content": True, "target_group": True},
                                    counted=counted, score=score,
                                    findings=FALSIFIED if discrepancy else "活动按标准开展。",
                                    now=s.scheduled_at + dt.timedelta(hours=1))
            recorded += 1
            flagged += v.discrepancy
            if v.discrepancy and assessment.may_confirm(officer):
                assessment.confirm_falsification(v, officer, FALSIFIED, now=now)
                confirmed += 1
    supervisors = [(_user(f"{prefix}supervisor{i + 1}@huimin.demo", name, Role.SUPERVISOR, password), kind, org)
                   for i, (name, kind, org) in enumerate((("区人大代表 赵代表", "npc_deputy", "区人大常委会"),
                                                          ("京南日报记者 孙记者", "media", "京南日报")))]
    for user, kind, org in supervisors:
        supervision.make_supervisor(user, kind, org, officer)
    venues = db.session.scalars(select(Venue).where(Venue.active.is_(True)).order_by(Venue.id).limit(3)).all()
    items = 0
    if len(venues) >= 3:
        deputy, reporter = supervisors[0][0], supervisors[1][0]
        answered = supervision.raise_item(deputy, "venue", venues[0].id, "村文化室开放时间不足",
                                          "多位居民反映文化室周末不开门，希望延长开放时间。",
                                          now=now - dt.timedelta(days=12))
        town_officer = next(iter(supervision.responsible_officers(answered.area)), officer)
        supervision.answer_item(answered, town_officer, "已与村委会商定：自下月起周六、周日 9:00–17:00 开放，并公示。",
                                now=now - dt.timedelta(days=9))
        supervision.raise_item(reporter, "venue", venues[1].id, "文化站演出音响效果差",
                               "上周演出时音响断续，后排观众听不清。请检查设备。", evidence=[_photo("演出现场.png")],
                               now=now - dt.timedelta(days=30))
        supervision.escalate_overdue(now)
        open_item = supervision.raise_item(deputy, "venue", venues[2].id, "广场舞场地照明不足",
                                           "晚间活动时广场照明不足，存在安全隐患。", now=now - dt.timedelta(hours=3))
        resident = db.session.scalar(select(User).where(User.login == "13800138000"))
        if resident is not None:
            supervision.follow(open_item, resident)
        items = 3
    db.session.flush()
    out = {"agencies": len(agencies), "visits_recorded": recorded, "discrepancies": flagged,
           "falsifications_confirmed": confirmed, "supervision_items": items}
    echo("oversight: " + ", ".join(f"{k} {v}" for k, v in out.items()))
    return out


