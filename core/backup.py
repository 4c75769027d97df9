"""`flask backup create` and `flask backup restore`: the whole database to a file and back.

SQLite is copied with its online backup API (consistent while the app keeps running);
PostgreSQL with `pg_dump --format=custom` and `pg_restore` (from the postgresql-client
package). A restore replaces what the database holds, in one transaction on PostgreSQL,
then checks the audit chain and records the restore as an audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3

# Runs pg_dump/pg_restore with fixed arguments and no shell (bandit B404 is only a reminder).
import subprocess  # nosec B404
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from core import audit
from core.db import db, intends_to_write

backup_cli = AppGroup("backup", help="Back up the database to a file, and restore it.")

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_file(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise click.ClickException("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_args(url) -> tuple[list[str], dict]:
    """libpq connection for the client tools: the password travels in the environment, not argv."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return ["--dbname", libpq], env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise click.ClickException(f"{name} is not installed (Debian package postgresql-client)")
    return path


def _run(argv: list[str], env: dict) -> None:
    # argv is the tool's absolute path plus fixed options, the configured URL and a file path; no shell.
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise click.ClickException(f"{Path(argv[0]).name} failed: {done.stderr.strip()}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def create(target: Path | None = None) -> Path:
    """Write a backup of the configured database to `target` (a new file) and return its path."""
    url = _url()
    dialect = url.get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise click.ClickException(f"cannot back up a {dialect} database")
    if target is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        suffix = ".sqlite3" if dialect == "sqlite" else ".dump"
        target = Path(current_app.instance_path) / "backups" / f"huimin-{stamp}{suffix}"
    if target.exists():
        raise click.ClickException(f"{target} exists; a backup never overwrites a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        source = sqlite3.connect(_sqlite_file(url))
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    else:
        conn, env = _pg_args(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), *conn],
             env)
    target.chmod(0o600)  # it holds password hashes and sealed bids
    return target


def _check_sqlite_backup(path: Path) -> None:
    with path.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise click.ClickException(f"{path} is not a SQLite backup")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException(f"{path} is damaged (integrity check failed)")
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            raise click.ClickException(f"{path} is not a Huimin database")
    finally:
        conn.close()


def restore(path: Path) -> int:
    """Replace the configured database's contents by the backup at `path`; return the audit
    events it holds (after checking their chain)."""
    url = _url()
    dialect = url.get_backend_name()
    if not path.is_file():
        raise click.ClickException(f"{path} does not exist")
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    if dialect == "sqlite":
        _check_sqlite_backup(path)
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dest = sqlite3.connect(_sqlite_file(url))
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    elif dialect == "postgresql":
        with path.open("rb") as f:
            if f.read(len(PGDUMP_MAGIC)) != PGDUMP_MAGIC:
                raise click.ClickException(f"{path} is not a pg_dump custom-format backup")
        conn, env = _pg_args(url)
        # One transaction: a restore that fails leaves the database as it was.
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", *conn, str(path)], env)
    else:
        raise click.ClickException(f"cannot restore a {dialect} database")
    db.engine.dispose()
    try:
        count = audit.verify()
    except audit.ChainBroken as e:
        raise click.ClickException(f"restored, but the audit chain is BROKEN at {e.where}: {e.reason}") from None
    with intends_to_write():
        audit.record("backup.restore", object_type="backup", object_id=path.name[:60],
                     sha256=_sha256(path), events=count)
        db.session.commit()
    return count


def backup_dir() -> Path:
    return Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")


def nightly(now: dt.datetime) -> dict:
    """The periodic task `core.backup`: one backup a day (UTC date) into BACKUP_DIR, keeping the
    newest BACKUP_KEEP; a second run the same day finds today's file and does nothing."""
    url = _url()
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"):
        return {}
    folder = backup_dir()
    day = now.strftime("%Y%m%d")
    if folder.is_dir() and any(folder.glob(f"huimin-{day}-*")):
        return {}
    suffix = ".sqlite3" if url.get_backend_name() == "sqlite" else ".dump"
    try:
        target = create(folder / f"huimin-{now.strftime('%Y%m%d-%H%M%S')}{suffix}")
    except click.ClickException as e:
        raise RuntimeError(e.message) from None
    keep = max(1, int(current_app.config.get("BACKUP_KEEP") or 14))
    removed = []
    for old in sorted(folder.glob("huimin-*"), reverse=True)[keep:]:
        old.unlink()
        removed.append(old.name)
    audit.record("backup.create", object_type="backup", object_id=target.name[:60], actor=None,
                 sha256=_sha256(target), size=target.stat().st_size, removed=removed)
    return {"file": target.name, "removed": removed}


@backup_cli.command("create")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def create_command(path):
    """Back up the database to PATH (default: instance/backups/huimin-<UTC time>)."""
    target = create(path)
    click.echo(f"backup written to {target} ({target.stat().st_size} bytes, sha256 {_sha256(target)})")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the database's current contents are to be replaced.")
def restore_command(path, yes):
    """Replace the database's contents by the backup at PATH (stop the app servers first)."""
    if not yes:
        click.echo("Restoring replaces everything in the database with the backup. "
                   "Stop the app servers, then run again with --yes.", err=True)
        sys.exit(2)
    count = restore(path)
    click.echo(f"restored {path}; audit chain ok: {count} events. "
               "Run `flask db upgrade` if the backup predates the code.")
