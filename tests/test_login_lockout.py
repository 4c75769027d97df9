"""Lock-out without denial of service: failures slow the address that fails, not the account
holder; only very many failures from any addresses lock the account, which tells the holder,
is audited, and an administrator can lift."""

import datetime as dt

import time_machine
from sqlalchemy import select

from core.accounts import operations as accounts
from core.audit import AuditEvent
from core.notifications import Notification
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text

WRONG = "Wrong-Password-1"


def _post(client, user, password, address):
    return client.post("/login", data={"login": user.login, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_a_stranger_cannot_lock_out_an_officer(app, client, make_user):
    officer = make_user("officer")
    for _ in range(accounts.MAX_FAILURES_PER_PAIR):
        assert _post(client, officer, WRONG, "203.0.113.7").status_code == 401
    # The stranger's address is slowed down for this login, even with the right password…
    assert _post(client, officer, PASSWORD, "203.0.113.7").status_code == 429
    # …but the officer, elsewhere, signs in.
    assert _post(app.test_client(), officer, PASSWORD, "198.51.100.20").status_code == 302


def test_the_account_locks_after_very_many_failures_and_tells_the_holder(app, client, make_user, session):
    officer = make_user("officer")
    # Failures spread over many addresses, as a botnet would: no pair and no address is throttled.
    for i in range(accounts.ACCOUNT_LOCK_FAILURES):
        assert _post(client, officer, WRONG, f"203.0.113.{i // 4}").status_code == 401
    session.expire_all()
    assert officer.is_locked
    refused = _post(app.test_client(), officer, PASSWORD, "198.51.100.20")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    assert "账户已被锁定" in html_text(refused)
    notes = session.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert len(notes) == 1 and "锁定" in notes[0].subject
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.lock")).all()
    assert len(events) == 1 and events[0].object_id == str(officer.id)
    # The lock ends by itself after its time.
    later = dt.datetime.now(dt.UTC) + accounts.ACCOUNT_LOCK_DURATION + dt.timedelta(minutes=1)
    with time_machine.travel(later):
        assert _post(app.test_client(), officer, PASSWORD, "198.51.100.21").status_code == 302


def test_an_administrator_lifts_the_lock(app, client, make_user, login, session):
    admin = make_user("admin")
    officer = make_user("officer")
    for i in range(accounts.ACCOUNT_LOCK_FAILURES):
        _post(app.test_client(), officer, WRONG, f"203.0.113.{i // 4}")
    session.expire_all()
    assert officer.is_locked
    login(admin)
    page = client.get(f"/admin/users/{officer.id}")
    assert f"/admin/users/{officer.id}/unlock" in page.get_data(as_text=True)
    assert client.post(f"/admin/users/{officer.id}/unlock").status_code == 302
    session.expire_all()
    assert not officer.is_locked
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.unlock"))
    assert event.object_id == str(officer.id) and event.actor_id == admin.id
    assert _post(app.test_client(), officer, PASSWORD, "198.51.100.20").status_code == 302


def test_only_an_administrator_lifts_a_lock(client, make_user, login):
    officer = make_user("officer")
    login(make_user("officer"))
    assert client.post(f"/admin/users/{officer.id}/unlock").status_code in (403, 404)
