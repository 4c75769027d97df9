"""The table `flask seed demo` ends with: for each step of the loop the demo left ready, who signs in
(role, login, password), where to go and what to do there. Read from the database, so a second run
of the seed prints the same table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.accounts.models import User
from core.db import db, utcnow
from evaluation.review.models import Panel
from marketplace.awards.models import Award
from marketplace.contracts.models import Contract, ContractState
from marketplace.projects.models import ProjectState, PurchaseProject
from marketplace.sessions.models import ServiceSession, SessionState
from seeds.district import DEMO_PASSWORD
from seeds.projects import AWARDED_BY_REVIEW, PREFIX

OFFICER = "officer@huimin.demo"
RESIDENT = "13800138000"
CLOSED_TITLE = PREFIX + "少儿书法公益培训"
REVIEW_TITLE = PREFIX + "非遗传承体验课"
DELIVERY_TITLE = PREFIX + "送戏下乡演出"


@dataclass
class Step:
    key: str
    role: str
    login: str
    url: str
    todo: str
    obj: object = None
    password: str = DEMO_PASSWORD


def _project(title: str) -> PurchaseProject | None:
    return db.session.scalar(select(PurchaseProject).where(PurchaseProject.title == title))


def _login(user_id) -> str:
    return db.session.scalar(select(User.login).where(User.id == user_id)) or "?"


def _delivery_sessions() -> dict[str, ServiceSession]:
    """The walk-through's sessions on the contract in delivery (see seeds.delivery.step_sessions)."""
    project = _project(DELIVERY_TITLE)
    if project is None:
        return {}
    now = utcnow()
    rows = db.session.scalars(select(ServiceSession).join(Contract, Contract.id == ServiceSession.contract_id)
                              .where(Contract.project_id == project.id, ServiceSession.scheduled_at <= now,
                                     ServiceSession.scheduled_at > now - _days(3))
                              .order_by(ServiceSession.scheduled_at.desc())).all()
    found = {}
    for s in rows:
        key = {SessionState.SCHEDULED: "to_report", SessionState.REPORTED: "to_accept",
               SessionState.CONFIRMED: "to_rate"}.get(s.state)
        if key and key not in found:
            found[key] = s
    return found


def _resident_of(session: ServiceSession) -> str:
    """A demo resident who lives where the session is held: the home resident if they do."""
    from core.accounts.models import Role, UserRole
    from evaluation.feedback.operations import lives_where_held

    home = db.session.scalar(select(User).where(User.login == RESIDENT))
    if home is not None and lives_where_held(session, home):
        return home.login
    residents = db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                   .where(UserRole.role == Role.RESIDENT, User.community_id.is_not(None))
                                   .order_by(User.login)).all()
    return next((r.login for r in residents if lives_where_held(session, r)), RESIDENT)


def _days(n):
    import datetime as dt

    return dt.timedelta(days=n)


def steps() -> list[Step]:
    """The steps the demo left ready, in the order of the loop; a step whose object is missing
    (the seed could not make it) is left out."""
    out: list[Step] = []
    closed = _project(CLOSED_TITLE)
    if closed is not None and closed.current_state == ProjectState.CLOSED:
        out.append(Step("open_bids", "officer", OFFICER, f"/projects/{closed.id}",
                        "deadline passed: open the bids (开标)", closed))
    review = _project(REVIEW_TITLE)
    panel = review and db.session.scalar(select(Panel).where(Panel.project_id == review.id))
    if panel is not None:
        waiting = [m for m in panel.members if m.submitted_at is None]
        if waiting:
            demo = next((m for m in waiting if m.expert.user.login == "expert@huimin.demo"), waiting[0])
            out.append(Step("score", "expert", demo.expert.user.login, f"/review/projects/{review.id}",
                            "panel half-scored: score the bids, then submit", panel))
    awarded = _project(AWARDED_BY_REVIEW["awarded"])
    if awarded is not None and awarded.current_state == ProjectState.AWARDED:
        award = db.session.scalar(select(Award).where(Award.project_id == awarded.id, Award.voided_at.is_(None)))
        out.append(Step("contract", "officer", OFFICER, f"/projects/{awarded.id}/contract/new",
                        "challenge window over: write the contract", award))
    pending = _project(AWARDED_BY_REVIEW["contract_pending"])
    contract = pending and db.session.scalar(select(Contract).where(Contract.project_id == pending.id,
                                                                    Contract.state == ContractState.PENDING))
    if contract is not None:
        out.append(Step("sign_buyer", "officer", OFFICER, f"/contracts/{contract.id}",
                        "contract awaits signatures: sign for the buyer", contract))
        out.append(Step("sign_provider", "provider", _login(contract.provider.user_id), f"/contracts/{contract.id}",
                        "sign for the provider (the contract comes into force)", contract))
    sessions = _delivery_sessions()
    if "to_report" in sessions:
        s = sessions["to_report"]
        out.append(Step("report", "provider", _login(s.provider.user_id), f"/delivery/sessions/{s.id}",
                        "session held two hours ago: report it", s))
    if "to_accept" in sessions:
        s = sessions["to_accept"]
        out.append(Step("accept", "officer", OFFICER, f"/delivery/sessions/{s.id}",
                        "reported session: accept it with a score", s))
    if "to_rate" in sessions:
        s = sessions["to_rate"]
        todo = "session open for rating: give stars"
        code = getattr(s, "attendance_code", None)
        if code:
            todo += f" (attendance code 签到码 {code})"
        out.append(Step("rate", "resident", _resident_of(s), f"/rate/{s.id}", todo, s))
    if db.session.scalar(select(User.id).where(User.login == "assessor1@huimin.demo")) is not None:
        out.append(Step("assess", "assessor", "assessor1@huimin.demo", "/assessment/mine",
                        "third-party assessment: record a sampled visit (on a phone)"))
        out.append(Step("supervise", "supervisor", "supervisor1@huimin.demo", "/supervision/items/new",
                        "public supervision: raise an item; the officer answers it at /supervision/items"))
    out.append(Step("admin", "admin", "admin@huimin.demo", "/admin/users", "users, settings, the audit log"))
    return out


def print_table(echo) -> None:
    rows = steps()
    head = ("role", "login", "go to", "do")
    cells = [(r.role, r.login, r.url, r.todo) for r in rows]
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(3)]
    echo("")
    echo(f"Walk the loop (password for every login: {DEMO_PASSWORD}; paths under the address `make run` prints)")
    for c in [head, *cells]:
        echo("  " + "  ".join(c[i].ljust(widths[i]) for i in range(3)) + "  " + c[3])
