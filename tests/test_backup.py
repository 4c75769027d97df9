"""`flask backup create` / `flask backup restore`: a round trip keeps every row and the audit chain.

SQLite always; PostgreSQL too when the suite runs there (into a scratch database of its own,
created and dropped here).
"""

from __future__ import annotations

import os
import shutil

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, inspect, select, text
from sqlalchemy.engine import make_url

from app import create_app
from core import audit
from core.accounts.models import LoginAttempt, User
from core.db import db, intends_to_write
from seeds import demo as seed
from tests.conftest import FAST_HASH

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL.startswith("postgresql") else [])


def _pg_url(database: str):
    url = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg")
    return url.set(database=database)


@pytest.fixture(params=BACKENDS)
def scratch(request, tmp_path):
    """An app over a database of its own, migrated and loaded with the demo district (committed)."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'live.db'}"
        admin_engine = None
    else:
        name = make_url(TEST_DATABASE_URL).database + "_restore"
        uri = _pg_url(name).render_as_string(hide_password=False)
        admin_engine = create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test-secret",
                      "PASSWORD_HASH_COST": FAST_HASH, "RATELIMIT_ENABLED": False, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        with intends_to_write():
            seed.run_demo(lambda *_a: None)
            db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()
    if admin_engine is not None:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    db.session.remove()
    insp = inspect(db.engine)
    out = {}
    with db.engine.connect() as conn:
        for table in insp.get_table_names():
            pk = insp.get_pk_constraint(table)["constrained_columns"] or [
                c["name"] for c in insp.get_columns(table)]
            order = ", ".join(f'"{c}"' for c in pk)
            out[table] = [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}'))]
    return out


def _cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_backup_round_trip_keeps_every_row_and_the_audit_chain(scratch, tmp_path):
    before = _snapshot()
    assert len(before["users"]) >= 6 and len(before["audit_events"]) >= 6
    path = tmp_path / "huimin.backup"
    made = _cli(scratch, "backup", "create", str(path))
    assert made.exit_code == 0, made.output
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"

    # Life goes on after the backup: rows change, events are appended.
    with intends_to_write():
        victim = db.session.scalar(select(User).order_by(User.id.desc()))
        victim.name = "changed after the backup"
        db.session.add(LoginAttempt(login="x@example.org", address="192.0.2.1"))
        audit.record("user.update", victim, name="changed")
        db.session.commit()
    assert _snapshot() != before

    refused = _cli(scratch, "backup", "restore", str(path))
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert _snapshot() != before  # nothing restored without --yes

    restored = _cli(scratch, "backup", "restore", str(path), "--yes")
    assert restored.exit_code == 0, restored.output
    assert f"audit chain ok: {len(before['audit_events'])} events" in restored.output
    after = _snapshot()
    assert after.keys() == before.keys()
    for table in before:
        if table == "audit_events":
            continue
        assert after[table] == before[table], table
    # The chain is the backup's, plus one event that records the restore itself.
    assert after["audit_events"][:-1] == before["audit_events"]
    db.session.remove()
    last = db.session.scalar(select(audit.AuditEvent).order_by(audit.AuditEvent.seq.desc()))
    assert last.action == "backup.restore" and last.summary["events"] == len(before["audit_events"])
    verified = _cli(scratch, "audit", "verify")
    assert verified.exit_code == 0 and f"{len(before['audit_events']) + 1} events" in verified.output


def test_a_restored_tampered_backup_is_reported(scratch, tmp_path):
    with intends_to_write():
        db.session.execute(text("UPDATE audit_events SET action = 'forged' WHERE seq = 2"))
        db.session.commit()
    path = tmp_path / "tampered.backup"
    assert _cli(scratch, "backup", "create", str(path)).exit_code == 0
    result = _cli(scratch, "backup", "restore", str(path), "--yes")
    assert result.exit_code == 1
    assert "BROKEN at event 2" in result.output


def test_backup_never_overwrites_and_restore_refuses_a_foreign_file(scratch, tmp_path):
    existing = tmp_path / "existing"
    existing.write_bytes(b"keep me")
    result = _cli(scratch, "backup", "create", str(existing))
    assert result.exit_code == 1 and "never overwrites" in result.output
    assert existing.read_bytes() == b"keep me"
    before = _snapshot()
    result = _cli(scratch, "backup", "restore", str(existing), "--yes")
    assert result.exit_code == 1 and "not a" in result.output
    assert _snapshot() == before


def test_backup_defaults_to_the_instance_folder(scratch, tmp_path, monkeypatch):
    monkeypatch.setattr(scratch, "instance_path", str(tmp_path / "instance"))
    result = _cli(scratch, "backup", "create")
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "instance" / "backups").iterdir())
    assert len(files) == 1 and files[0].name.startswith("huimin-")


def test_pg_dump_is_installed():
    """`flask backup` on PostgreSQL needs the client tools (Debian's postgresql-client)."""
    assert shutil.which("pg_dump") and shutil.which("pg_restore")


def test_restore_removes_rows_added_after_the_backup(scratch, tmp_path):
    path = tmp_path / "b"
    assert _cli(scratch, "backup", "create", str(path)).exit_code == 0
    with intends_to_write():
        db.session.execute(delete(LoginAttempt))
        db.session.add(LoginAttempt(login="late@example.org", address="192.0.2.9"))
        db.session.commit()
    assert _cli(scratch, "backup", "restore", str(path), "--yes").exit_code == 0
    db.session.remove()
    assert db.session.scalar(select(LoginAttempt).where(LoginAttempt.login == "late@example.org")) is None
