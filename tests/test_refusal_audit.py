"""Refusals of business rules and admin actions reach the audit log, and every committed audit
event is one line on standard output with the request id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from core.audit import AuditEvent
from core.db import utcnow
from marketplace.projects.models import PurchaseProject
from tests.support import review as es
from tests.support.delivery import Delivery
from tests.support.market import Market


def _events_since(session, seq, prefix=""):
    return session.scalars(select(AuditEvent).where(AuditEvent.seq > seq, AuditEvent.action.startswith(prefix))
                           .order_by(AuditEvent.seq)).all()


def _switch(client, login, user):
    with client.session_transaction() as s:
        s.clear()
    login(user)


def _head(session) -> int:
    return session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0


def test_business_refusals_are_audited_with_their_actor(client, login, session, make_user, district, town,
                                                       community):
    market = Market(session, make_user, district, town)
    # A bid after the deadline.
    project = market.open_project(utcnow() + dt.timedelta(days=3))
    provider = market.provider()
    session.execute(update(PurchaseProject).where(PurchaseProject.id == project.id)
                    .values(bid_deadline=utcnow() - dt.timedelta(minutes=1)))
    session.commit()
    head = _head(session)
    login(provider.user)
    r = client.post(f"/projects/{project.id}/bid", data={"price": "900.00", "plan": "方案", "team": "团队"})
    assert r.status_code in (403, 409, 422)
    late = _events_since(session, head, "refused.")
    assert [e.actor_id for e in late] == [provider.user.id], [e.action for e in late]
    assert late[0].object_type == "purchase_projects" and late[0].object_id == str(project.id)

    # Scoring when not on the panel.
    r = es.reviewed_project(session, make_user, town, sign=False)
    outsider = es.expert(session, make_user, [r["category"]])
    session.commit()
    head = _head(session)
    _switch(client, login, outsider.user)
    resp = client.post(f"/review/projects/{r['project'].id}/bids/{r['bids'][0].id}", data={})
    assert resp.status_code == 403
    [scoring] = _events_since(session, head, "refused.")
    assert scoring.actor_id == outsider.user.id and scoring.object_id == str(r["project"].id)

    # A rating outside the window.
    d = Delivery(session, make_user, district, town, community)
    contract = d.contract(d.provider(), sessions=2)
    old = d.schedule(contract, utcnow() - dt.timedelta(days=60))
    resident = make_user("resident")
    session.commit()
    head = _head(session)
    _switch(client, login, resident)
    resp = client.post(f"/rate/{old.id}", data={"content": "5", "organisation": "5", "venue": "5"})
    assert resp.status_code in (409, 422)
    [rating] = _events_since(session, head, "refused.")
    assert rating.actor_id == resident.id and rating.object_type == "service_sessions"


def test_object_level_refusals_are_audited(client, login, session, make_user, district, town, community):
    """Another provider's session photo: refused, and the attempt is on record."""
    from marketplace.sessions import operations as session_ops
    from tests.support.files import png_bytes

    d = Delivery(session, make_user, district, town, community)
    s = d.schedule(d.contract(d.provider(), sessions=2), utcnow() - dt.timedelta(hours=4))
    d.report(s, attendance=10, at=utcnow() - dt.timedelta(hours=1),
             photos=[session_ops.NewPhoto("p.png", png_bytes())])
    rival = d.provider()
    session.commit()
    head = _head(session)
    login(rival.user)
    assert client.get(f"/delivery/sessions/{s.id}/photos/{s.photos[0].id}").status_code == 403
    [event] = _events_since(session, head, "refused.")
    assert event.action == "refused.access" and event.actor_id == rival.user.id
    assert event.summary["endpoint"] == "sessions.photo"


def test_admin_actions_are_audited(client, login, session, make_user):
    admin = make_user("admin")
    user = make_user("resident")
    session.commit()
    head = _head(session)
    login(admin)
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code in (302, 303)
    actions = [e.action for e in _events_since(session, head) if e.actor_id == admin.id]
    assert any(a != "user.login" for a in actions), actions


def test_each_committed_event_is_one_stdout_line_with_the_request_id(client, login, session, make_user, capsys):
    admin = make_user("admin")
    user = make_user("resident")
    session.commit()
    login(admin)
    head = _head(session)
    capsys.readouterr()
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"}, headers={"X-Request-Id": "req-audit-1"})
    events = _events_since(session, head)
    lines = [line for line in capsys.readouterr().out.splitlines() if ".audit:" in line]
    assert events and len(lines) == len(events)
    for event, line in zip(events, lines, strict=True):
        assert "[req-audit-1]" in line and f"#{event.seq} {event.action}" in line


def test_a_rolled_back_event_is_not_logged(session, capsys):
    from core import audit

    capsys.readouterr()
    audit.record("test.undone", object_type="t", object_id=1)
    session.rollback()
    audit.record("test.kept", object_type="t", object_id=2)
    session.commit()
    lines = [line for line in capsys.readouterr().out.splitlines() if ".audit:" in line]
    assert len(lines) == 1 and "test.kept t:2" in lines[0] and "[-]" in lines[0]
