"""The audit chain: every event links to the one before; tampering is found and named."""

import itertools
import threading
import time

import pytest
from sqlalchemy import func, select, text

from core import audit
from core.audit import AuditEvent
from core.db import db, intends_to_write, utcnow


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
    assert last.chain_seq >= 2  # a user's creation writes two events, in one chain
    gone = session.scalar(select(AuditEvent).where(AuditEvent.chain == last.chain,
                                                   AuditEvent.chain_seq == last.chain_seq - 1))
    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": gone.id})
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"chain {gone.chain} #{gone.chain_seq}: missing" in broken.output


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
    assert h["chains"][str(last.chain)] == {"chain_seq": last.chain_seq, "hash": last.hash}
    out = app.test_cli_runner().invoke(args=["audit", "head"])
    assert last.hash in out.output


def test_events_carry_actor_time_and_address(client, make_user, login, session):
    admin = make_user("admin")
    login(admin)
    ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login"))
    assert ev.actor_id == admin.id and ev.address == "127.0.0.1" and ev.at.tzinfo is not None


def test_a_transaction_keeps_to_one_chain_and_objects_spread_over_chains(app, session):
    first = audit.record("probe.first", object_type="probe", object_id=1)
    second = audit.record("probe.second", object_type="other", object_id=99)
    assert second.chain == first.chain == audit.chain_for("probe", 1)
    assert second.chain_seq == first.chain_seq + 1 and second.prev_hash == first.hash
    chains = {audit.chain_for("bids", i) for i in range(200)}
    assert len(chains) == app.config["AUDIT_CHAINS"]
    assert min(chains) == 1  # chain 0 is the closed one from before partitioning


def test_events_from_before_partitioning_still_verify(app, session, make_user):
    """Chain 0 holds events hashed in the old form (no chain fields); new events link in their own
    chains, and the whole verifies."""
    import hashlib
    import json

    prev = audit.GENESIS
    base = (session.scalar(select(func.max(AuditEvent.seq))) or 0) + 1000
    for n in (1, 2):
        ev = AuditEvent(seq=base + n, chain=0, chain_seq=n, at=utcnow(), actor_label="system", action="legacy.x",
                        object_type="", object_id="", summary={"n": n}, address="", request_id="", prev_hash=prev)
        old_form = {"seq": ev.seq, "at": ev.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor_id": None,
                    "actor": "system", "action": "legacy.x", "object_type": "", "object_id": "",
                    "summary": {"n": n}, "address": "", "request_id": "", "prev": prev}
        ev.hash = hashlib.sha256(json.dumps(old_form, sort_keys=True, ensure_ascii=False,
                                            separators=(",", ":")).encode()).hexdigest()
        assert ev.compute_hash() == ev.hash
        session.add(ev)
        session.flush()
        prev = ev.hash
    make_user("resident")
    total = session.scalar(select(func.count()).select_from(AuditEvent))
    assert audit.verify() == total
    # moving a new event into chain 0 (or any other) changes what its hash covers
    moved = session.scalar(select(AuditEvent).where(AuditEvent.chain != 0).limit(1))
    session.execute(text("UPDATE audit_events SET chain = 0, chain_seq = 3 WHERE id = :i"), {"i": moved.id})
    session.expire_all()
    with pytest.raises(audit.ChainBroken) as e:
        audit.verify()
    assert e.value.seq == moved.seq and e.value.chain == 0


def _two_objects_in_different_chains():
    a = audit.chain_for("probe", 1)
    other = next(i for i in range(2, 500) if audit.chain_for("probe", i) != a)
    return 1, other


@pytest.mark.concurrency
def test_writes_in_different_chains_do_not_wait_for_each_other(app, session):
    """PostgreSQL: one transaction holds its chain open while a second, in another chain, appends
    and commits; a third, in the first one's chain, waits for it. Then the whole chain verifies,
    and an altered event is named."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the chain locks are PostgreSQL's; SQLite serialises every writer anyway")
    a, b = _two_objects_in_different_chains()
    holding, release = threading.Event(), threading.Event()
    done: dict[str, float] = {}

    def writer(name, obj, hold=False):
        with app.app_context():
            audit.record(f"probe.{name}", object_type="probe", object_id=obj)
            if hold:
                holding.set()
                assert release.wait(20)
            db.session.commit()
            done[name] = time.monotonic()
            db.session.remove()

    t1 = threading.Thread(target=writer, args=("held", a, True))
    t1.start()
    assert holding.wait(10)
    t2 = threading.Thread(target=writer, args=("other", b))
    t3 = threading.Thread(target=writer, args=("same", a))
    started = time.monotonic()
    t2.start()
    t3.start()
    t2.join(10)
    assert "other" in done, "a write in another chain waited for the open transaction"
    assert done["other"] - started < 5
    time.sleep(0.5)
    assert "same" not in done, "a write in the same chain did not wait for the chain's lock"
    release.set()
    t1.join(10)
    t3.join(10)
    assert done["same"] > done["held"]

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        by_action = {e.action: e for e in events}
        held, other, same = by_action["probe.held"], by_action["probe.other"], by_action["probe.same"]
        assert held.chain == same.chain != other.chain
        assert same.chain_seq == held.chain_seq + 1 and same.prev_hash == held.hash
        assert audit.verify() == len(events)


@pytest.mark.concurrency
def test_many_threads_writing_at_once_leave_every_chain_whole(app, session):
    threads_n, per_thread = 6, 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)

    def writer(t):
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_thread):
                    with intends_to_write():
                        audit.record("probe.many", object_type="probe", object_id=t * 1000 + i)
                        audit.record("probe.many.second", object_type="probe", object_id=t * 1000 + i)
                        db.session.commit()
                db.session.remove()
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("probe.many"))
                                    .order_by(AuditEvent.chain, AuditEvent.chain_seq)).all()
        assert len(events) == threads_n * per_thread * 2
        assert len({e.seq for e in events}) == len(events)
        assert len({e.chain for e in events}) > 1
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert audit.verify() == total
        # each transaction's two events sit next to each other in one chain
        firsts = [e for e in events if e.action == "probe.many"]
        for f in firsts:
            nxt = db.session.scalar(select(AuditEvent).where(AuditEvent.chain == f.chain,
                                                             AuditEvent.chain_seq == f.chain_seq + 1))
            assert nxt.action == "probe.many.second" and nxt.object_id == f.object_id

        target = events[len(events) // 2]
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET actor_label = 'someone else' WHERE id = :i"), {"i": target.id})
        db.session.rollback()  # a new snapshot
        db.session.expire_all()
        with pytest.raises(audit.ChainBroken) as e:
            audit.verify()
        assert (e.value.seq, e.value.chain, e.value.chain_seq) == (target.seq, target.chain, target.chain_seq)
        out = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert out.exit_code == 1 and f"event {target.seq} (chain {target.chain} #{target.chain_seq})" in out.output
