"""No GET request writes to the database.

Every registered rule that answers GET is walked as the public and as each role, and as the
owners of the world's objects (the officer who runs the project, the provider who won it, an
expert of its panel), with the URL arguments the route × role builders make
(tests/support/access). A statement counter on the engine (`before_cursor_execute`) fails the
walk on any INSERT, UPDATE or DELETE. The world also holds an adjustment decision that is due:
applying it is the scheduler's work (`evaluation.apply_due`), never a page's.

The access log aside: the access log is a log line, not a table, but a *refused* object-level
access (403/404 through core.permissions.require) is recorded in the audit chain as
`refused.access` (core/refusals.py) — the record of who tried to read what they may not. That one
insert is allowed, and only on a refusal's answer; every other write fails the walk. Rate-limit
counters live in Redis or in memory.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from core.db import utcnow
from tests.support.access import BUILDERS, rules

ROLES = [None, "admin", "officer", "expert", "provider", "resident"]
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|TRUNCATE|ALTER|CREATE|DROP)\b", re.I)


class WriteCounter:
    """Statements that write, seen while `armed`."""

    def __init__(self):
        self.armed = False
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.armed and WRITE.match(statement):
            self.seen.append((" ".join(statement.split())[:160], _actions(parameters)))


def _actions(parameters) -> set[str]:
    """The string values among a statement's parameters (an audit event's action is one)."""
    rows = parameters if isinstance(parameters, list) else [parameters]
    out = set()
    for row in rows:
        values = row.values() if isinstance(row, dict) else (row or ())
        out |= {v for v in values if isinstance(v, str)}
    return out


def _refusal_record(statement: str, actions: set[str], status: int) -> bool:
    return status in (403, 404) and statement.upper().startswith("INSERT INTO AUDIT_EVENTS") \
        and any(a.startswith("refused.") for a in actions)


def _due_decision(session, provider_id):
    """A proposal whose days have passed: the old pages applied it while they rendered."""
    from evaluation.adjustment.models import AdjustmentDecision, DecisionAction, DecisionStatus

    d = AdjustmentDecision(rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                           provider_id=provider_id,
                           status=DecisionStatus.PROPOSED, figures={}, proposed_at=utcnow() - dt.timedelta(days=30),
                           due_at=utcnow() - dt.timedelta(days=1))
    session.add(d)
    session.flush()
    return d


def _owners(session, values) -> dict:
    """The users who own the builders' objects, by a label."""
    from evaluation.experts.models import Expert
    from marketplace.bids.models import Bid
    from marketplace.projects.models import PurchaseProject

    out = {}
    project = session.get(PurchaseProject, values["project_id"])
    if project is not None and project.created_by is not None:
        out["project officer"] = project.created_by
    bid = session.get(Bid, values["bid_id"]) if "bid_id" in values else None
    if bid is not None:
        out["winning provider"] = bid.provider.user
    expert = session.get(Expert, values["expert_id"]) if "expert_id" in values else None
    if expert is not None:
        out["panel expert"] = expert.user
    return out


def test_no_get_request_writes(app, client, make_user, session):
    from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus

    users = {r: make_user(r) for r in ROLES if r}
    ctx = {"users": users, "session": session, "make_user": make_user}
    values = {name: fn(ctx) for name, fn in BUILDERS.items()}
    due = _due_decision(session, values["provider_id"])
    session.flush()
    walkers = [(role or "anonymous", users.get(role)) for role in ROLES]
    walkers += list(_owners(session, values).items())
    session.commit()

    counter = WriteCounter()
    event.listen(Engine, "before_cursor_execute", counter)
    failures, cases = [], 0
    try:
        get_rules = [rule for rule, method in rules(app) if method == "GET"]
        assert len(get_rules) > 100
        for label, user in walkers:
            with client.session_transaction() as s:
                s.clear()
            if user is not None:
                r = client.post("/login", data={"login": user.login, "password": "Correct-Horse-42"})
                assert r.status_code == 302, (label, r.status_code)
            for rule in get_rules:
                url = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
                counter.seen.clear()
                counter.armed = True
                try:
                    # Buffered: a streamed body (exports, bulk downloads) is read while counting.
                    resp = client.get(url, buffered=True)
                finally:
                    counter.armed = False
                cases += 1
                if resp.status_code >= 500:
                    failures.append(f"GET {url} as {label}: server error {resp.status_code}")
                for statement, actions in counter.seen:
                    if not _refusal_record(statement, actions, resp.status_code):
                        named = sorted(a for a in actions if "." in a)[:3]
                        failures.append(f"GET {url} as {label} ({resp.status_code}): {statement} {named}")
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
    assert not failures, f"{len(failures)} writing GET requests:\n" + "\n".join(failures[:60])
    assert cases >= len(walkers) * 100
    # The due decision is still waiting for the scheduler.
    session.expire_all()
    assert session.scalar(select(AdjustmentDecision.status).where(AdjustmentDecision.id == due.id)) \
        == DecisionStatus.PROPOSED


def test_the_counter_sees_a_write(app, session, make_user):
    """The walk's counter is not blind: a flush of a new row is an INSERT it reports."""
    counter = WriteCounter()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        counter.armed = True
        make_user("resident")
        session.flush()
    finally:
        counter.armed = False
        event.remove(Engine, "before_cursor_execute", counter)
    assert any(s.upper().startswith("INSERT INTO USERS") for s, _a in counter.seen), counter.seen
    # The one allowance is narrow: an audit insert that is not a refusal record, or on a 200, fails.
    assert not _refusal_record("INSERT INTO audit_events (seq)", {"user.create"}, 403)
    assert not _refusal_record("INSERT INTO audit_events (seq)", {"refused.access"}, 200)
    assert _refusal_record("INSERT INTO audit_events (seq)", {"refused.access"}, 403)
