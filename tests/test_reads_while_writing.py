"""Reads never fail with "database is locked": residents register (real commits, several threads)
while an admin downloads the audited users export (a GET that writes its audit event) and reads
lists. On SQLite this needs WAL, a busy timeout on every connection, and a read transaction that
turns to writing taking the write lock afresh instead of failing on its stale snapshot; on
PostgreSQL it holds as it is."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from core.accounts.models import User
from core.db import db
from tests.support.accounts import PASSWORD

pytestmark = pytest.mark.concurrency

ROUNDS = int(__import__("os").environ.get("ROUNDS", "6"))


def test_exports_and_lists_answer_while_residents_register(app, session, make_user, community):
    admin = make_user("admin")
    session.commit()
    community_id, admin_login = community.id, admin.login
    failures: list = []
    go = threading.Event()

    def guarded(fn):
        def run(*args):
            try:
                fn(*args)
            except BaseException as e:  # surfaced below
                failures.append(("thread", repr(e)))
        return run

    @guarded
    def registrar(t):
        client = app.test_client()
        go.wait(30)
        for i in range(ROUNDS):
            client.post("/logout")
            r = client.post("/register", data={
                "name": f"居民{t}-{i}", "login": f"r{t}x{i}@example.cn", "community_id": community_id,
                "password": PASSWORD, "confirm": PASSWORD})
            if r.status_code != 302 or "/register" in r.headers.get("Location", ""):
                failures.append(("register", r.status_code, r.get_data(as_text=True)[:200]))

    @guarded
    def reader(paths):
        client = app.test_client()
        r = client.post("/login", data={"login": admin_login, "password": PASSWORD})
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        go.wait(30)
        for _ in range(ROUNDS):
            for path in paths:
                r = client.get(path)
                body = r.get_data()  # the whole stream
                if r.status_code >= 500 or r.status_code != 200:
                    failures.append((path, r.status_code, body[:200]))

    threads = [threading.Thread(target=registrar, args=(t,)) for t in range(3)]
    threads += [threading.Thread(target=reader, args=(["/admin/users?format=csv", "/admin/users"],)),
                threading.Thread(target=reader, args=(["/admin/users?format=xlsx", "/admin/audit"],))]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(120)
    assert not failures, failures[:5]

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.login.like("r%@example.cn"))) \
        == 3 * ROUNDS
    exports = db.session.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'export.users'"))
    assert exports == 2 * ROUNDS


def test_every_sqlite_connection_waits_instead_of_failing(app, session):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's connection settings")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
