"""Demo delivery: sessions for the contracted demo projects, reports and acceptance, ratings from
demo residents, one complaint, then a full recompute and the adjustment rules.

Uses the demo contracts when the review's demo data made them; for a contracted demo project
without one it writes a minimal award and signed contract (demo data only). Idempotent: nothing
is added once demo sessions exist.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from core.accounts.models import Role, User
from core.db import db, utcnow
from evaluation.adjustment import operations as adjustment
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from evaluation.performance import operations as performance
from marketplace.awards.models import Award
from marketplace.bids.models import Bid, BidStatus
from marketplace.contracts.models import Contract, ContractLine, ContractState
from marketplace.projects.models import ProjectState, PurchaseProject
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import ServiceSession, SessionState

PREFIX = "【示例】"
DELIVERY_STATES = (ProjectState.CONTRACTED, ProjectState.IN_DELIVERY, ProjectState.COMPLETED)
# The sessions a walk-through of delivery needs, on the contract in delivery: (key, hours before now
# the session was held). Made through the sessions' own operations on a back-dated clock.
STEP_SESSIONS = (("to_rate", 26), ("to_accept", 50), ("to_report", 2))
STEP_NOTES = {"to_rate": "活动顺利举办，签到表存档。", "to_accept": "按服务标准完成，现场照片已存档。"}
COMMENTS = ["节目精彩，老人孩子都喜欢。", "组织有序，准时开始。", "场地有点挤，希望换个大一点的地方。", "", "",
            "老师讲得很耐心。", "音响效果一般。", "", "希望多办几场！", ""]


def _contract_for(project: PurchaseProject, officer: User, k: int, now: dt.datetime) -> Contract | None:
    contract = db.session.scalar(select(Contract).where(Contract.project_id == project.id))
    if contract is not None:
        return contract
    bids = db.session.scalars(select(Bid).where(Bid.project_id == project.id, Bid.status == BidStatus.SUBMITTED)
                              .order_by(Bid.id)).all()
    if not bids:
        return None
    bid = bids[k % len(bids)]
    amount = bid.price or project.budget
    award = Award(project_id=project.id, bid_id=bid.id, provider_id=bid.provider_id, amount=amount, top_ranked=True,
                  top_bid_id=bid.id, awarded_by_id=officer.id, published_at=project.awarded_at or now,
                  publicity_ends_at=(project.awarded_at or now) + dt.timedelta(days=1),
                  challenge_deadline=(project.awarded_at or now) + dt.timedelta(days=9))
    db.session.add(award)
    db.session.flush()
    signed = project.contracted_at or now
    total_qty = sum(ln.quantity for ln in project.lines)
    lines, left = [], amount
    for pos, ln in enumerate(project.lines):
        share = (amount * ln.quantity / total_qty).quantize(Decimal("0.01")) if pos < len(project.lines) - 1 else left
        left -= share
        lines.append(ContractLine(project_line_id=ln.id, item_id=ln.item_id, venue_id=ln.venue_id, position=pos,
                                  item_name=ln.item.name, unit=ln.item.unit, sessions=ln.quantity,
                                  unit_price=(share / ln.quantity).quantize(Decimal("0.01")), amount=share))
    contract = Contract(
        number=f"HT-{signed.year}-{project.id:05d}", project_id=project.id, award_id=award.id,
        provider_id=bid.provider_id, buyer_area_id=project.area_id, buyer_name=f"{project.area.name}文化和旅游局",
        provider_name=bid.provider.name, provider_credit_code=bid.provider.credit_code, amount=amount,
        sessions_total=total_qty, start_date=(now - dt.timedelta(days=120)).date(),
        end_date=(now + dt.timedelta(days=240)).date(), created_by_id=officer.id, state=ContractState.ACTIVE,
        buyer_signed_at=signed, buyer_signed_by_id=officer.id, provider_signed_at=signed,
        provider_signed_by_id=bid.provider.user_id, activated_at=signed, lines=lines)
    db.session.add(contract)
    db.session.flush()
    return contract


def _sessions(contract: Contract, officer: User, now: dt.datetime, rng: random.Random, kind: str):
    """`kind`: "completed" (all delivered), "in_delivery" (some delivered, one yesterday, some ahead),
    "contracted" (all ahead)."""
    out = []
    total = sum(ln.sessions for ln in contract.lines)
    # In delivery, the last slots are left for the walk-through's sessions (step_sessions).
    keep = total - len(STEP_SESSIONS) if kind == "in_delivery" else total
    n = 0
    for ln in contract.lines:
        for _ in range(ln.sessions):
            if n >= keep:
                break
            if kind == "completed":
                when = now - dt.timedelta(days=90 - 8 * n, hours=rng.randint(0, 5))
            elif kind == "in_delivery":
                # Half delivered (a week apart, the latest a week ago), half still ahead.
                half = keep // 2
                when = now + dt.timedelta(days=7 * (n - half if n < half else n - half + 1))
                when = when.replace(hour=11, minute=0, second=0, microsecond=0)
            else:
                when = now + dt.timedelta(days=10 + 7 * n)
            s = ServiceSession(contract_id=contract.id, line_id=ln.id, provider_id=contract.provider_id,
                               item_id=ln.item_id, venue_id=ln.venue_id, scheduled_at=when,
                               planned_audience=rng.choice([40, 60, 80]), state=SessionState.SCHEDULED,
                               scheduled_by_id=contract.provider.user_id, created_at=when - dt.timedelta(days=20))
            if when < now - dt.timedelta(days=2):
                s.state, s.reported_at, s.reported_by_id = SessionState.CONFIRMED, when + dt.timedelta(
                    hours=rng.choice([3, 20, 100])), contract.provider.user_id
                s.actual_start, s.actual_end = when, when + dt.timedelta(hours=2)
                s.attendance = s.planned_audience - rng.randint(0, 15)
                s.reported_late = s.reported_at > when + dt.timedelta(days=3)
                s.notes = "按服务标准完成，签到表存档。"
                s.acceptance_score = rng.randint(72, 96)
                s.decided_at, s.decided_by_id = s.reported_at + dt.timedelta(days=1), officer.id
            elif when < now:
                s.state, s.reported_at, s.reported_by_id = SessionState.REPORTED, when + dt.timedelta(hours=4), \
                    contract.provider.user_id
                s.actual_start, s.actual_end = when, when + dt.timedelta(hours=2)
                s.attendance, s.reported_late, s.notes = s.planned_audience, False, "活动顺利举办。"
            db.session.add(s)
            out.append(s)
            n += 1
    db.session.flush()
    return out


def _ratings(sessions, residents, now, rng: random.Random, bias: int):
    for s in sessions:
        if s.state not in (SessionState.CONFIRMED,) or not residents:
            continue
        raters = rng.sample(residents, min(len(residents), rng.randint(3, 8)))
        for r in raters:
            base = max(1, min(5, bias + rng.choice([-1, 0, 0, 1])))
            at = s.scheduled_at + dt.timedelta(hours=rng.randint(2, 100))
            db.session.add(Rating(session_id=s.id, provider_id=s.provider_id, item_id=s.item_id, resident_id=r.id,
                                  content=base, organisation=max(1, min(5, base + rng.choice([-1, 0, 0]))),
                                  venue=max(1, min(5, base + rng.choice([-1, 0, 1]))),
                                  comment=rng.choice(COMMENTS), status=RatingStatus.COUNTED, created_at=at,
                                  updated_at=at))
    db.session.flush()


def step_sessions(contract: Contract, officer: User, now: dt.datetime) -> dict[str, ServiceSession]:
    """Schedule the walk-through's sessions in the contract's free slots, as the provider did ten
    days before each; the provider reports two of them three hours after they began and the officer
    accepts the one held yesterday. Left: one accepted whose rating window is open (to rate), one
    reported (to accept), one held two hours ago (to report)."""
    provider_user = contract.provider.user
    counts = session_ops.line_counts(contract)
    free = [ln for ln in contract.lines for _ in range(ln.sessions - counts.get(ln.id, 0))]
    made = {}
    for (key, hours), line in zip(STEP_SESSIONS, free, strict=False):
        held = (now - dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
        s = session_ops.schedule_session(contract, line, held, 60, provider_user, now=held - dt.timedelta(days=10))
        if key != "to_report":
            reported = held + dt.timedelta(hours=3)
            session_ops.report_session(s, session_ops.ReportInput(
                actual_start=held, actual_end=held + dt.timedelta(hours=2), attendance=52,
                notes=STEP_NOTES[key]), provider_user, now=reported)
            if key == "to_rate":
                session_ops.confirm_session(s, 90, "符合服务标准。", officer, now=reported + dt.timedelta(hours=2))
        made[key] = s
    return made


def seed_delivery(echo):
    officer = db.session.scalar(select(User).where(User.login == "officer@huimin.demo"))
    if officer is None:
        return
    projects = db.session.scalars(select(PurchaseProject).where(PurchaseProject.title.startswith(PREFIX),
                                                                PurchaseProject.state.in_(DELIVERY_STATES))
                                  .order_by(PurchaseProject.id)).all()
    if not projects:
        return
    contract_ids = [c.id for c in db.session.scalars(select(Contract).where(
        Contract.project_id.in_([p.id for p in projects])))]
    if contract_ids and db.session.scalar(select(ServiceSession.id).where(
            ServiceSession.contract_id.in_(contract_ids)).limit(1)) is not None:
        return
    rng = random.Random(20261206)  # nosec B311  (demo data, the same every time)
    now = utcnow().replace(microsecond=0)
    residents = [u for u in db.session.scalars(select(User).where(User.login.startswith("1390000")).order_by(User.id))
                 if u.has_role(Role.RESIDENT)]
    made = 0
    for k, project in enumerate(projects):
        contract = _contract_for(project, officer, k, now)
        if contract is None or contract.state not in (ContractState.ACTIVE, ContractState.COMPLETED):
            continue
        kind = project.state.value
        sessions = _sessions(contract, officer, now, rng, kind)
        made += len(sessions)
        _ratings(sessions, residents, now, rng, bias=[5, 4, 3][k % 3])
        if kind == "in_delivery":
            step_sessions(contract, officer, now)
        if kind == "completed" and contract.state == ContractState.ACTIVE:
            contract.complete(now)
    delivered = db.session.scalars(select(ServiceSession).where(ServiceSession.state == SessionState.CONFIRMED)
                                   .order_by(ServiceSession.id).limit(1)).first()
    if delivered is not None and residents:
        db.session.add(Complaint(session_id=delivered.id, provider_id=delivered.provider_id,
                                 resident_id=residents[-1].id, text="活动推迟半小时开始，没有提前通知。",
                                 created_at=delivered.scheduled_at + dt.timedelta(hours=5),
                                 status=ComplaintStatus.PENDING))
    db.session.flush()
    results = performance.recompute_all(now)
    proposals = adjustment.evaluate(now)
    echo(f"delivery: {made} sessions, ratings from {len(residents)} demo residents, {len(results)} providers scored,"
         f" {len(proposals)} adjustment proposals")
