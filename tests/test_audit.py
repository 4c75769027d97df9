"""The audit chain: every event links to the one before; tampering is found and named."""

import itertools

import pytest
from sqlalchemy import select, text

from core import audit
from core.audit import AuditEvent


def test_chain_verifies_and_detects_an_altered_row(app, session, make_user):
    make_user("admin")
    make_user("officer")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert len(events) >= 2
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert audit.verify() == len(events)

    target = events[1]
    session.execute(text("UPDATE audit_events SET summary = :s WHERE seq = :seq"),
                    {"s": '{"roles": ["admin"]}', "seq": target.seq})
    session.expire_all()
    with pytest.raises(audit.ChainBroken) as e:
        audit.verify()
    assert e.value.seq == target.seq
    assert "hash" in e.value.reason


def test_cli_verify_names_the_broken_event(app, session, make_user):
    make_user("resident")
    make_user("resident")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "audit chain ok" in ok.output
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()))
    session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": last.seq - 1})
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"event {last.seq - 1}" in broken.output


def test_orm_refuses_updates_and_deletes(session, make_user):
    make_user("resident")
    ev = session.scalar(select(AuditEvent))
    ev.action = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()


def test_head_export(app, session, make_user):
    make_user("resident")
    h = audit.head()
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()))
    assert h["seq"] == last.seq and h["hash"] == last.hash
    out = app.test_cli_runner().invoke(args=["audit", "head"])
    assert last.hash in out.output


def test_events_carry_actor_time_and_address(client, make_user, login, session):
    admin = make_user("admin")
    login(admin)
    ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login"))
    assert ev.actor_id == admin.id and ev.address == "127.0.0.1" and ev.at.tzinfo is not None
