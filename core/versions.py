"""Data versions: a counter per watched table, raised by the same transaction that changes the table.

A page part computed from some tables (a rendered list, say) is cached under those tables'
versions: `remember(key, tables, compute)`. Any committed change to one of them raises its counter,
so the next reader looks under a new key and computes afresh, in every worker (the counters are in
the database, the values in core.cache). Readers pay one indexed statement for the versions.

Changes are noticed through the ORM: objects flushed, and ORM-enabled INSERT/UPDATE/DELETE
statements (bulk updates by primary key included). A change written as raw SQL text is not
noticed: such a writer calls `touch(table)`.

Only watched tables count (a package watches the tables its cached parts read, in its init_app),
so a busy table nobody caches (the audit log) takes no extra write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import current_app, has_app_context
from markupsafe import Markup
from sqlalchemy import BigInteger, String, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import cache
from core.db import db, utcnow

T = TypeVar("T")
WATCHED = "huimin.versions.watched"
_PENDING = "huimin.versions.pending"
# A versioned value stays valid until its tables change; the time bound only lets unused entries go.
KEEP_SECONDS = 3600


class DataVersion(db.Model):
    """How many committed transactions have changed a watched table."""

    __tablename__ = "data_versions"

    table_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def watch(app, *tables: str) -> None:
    """Count changes to these tables (by table name) from now on."""
    app.extensions.setdefault(WATCHED, set()).update(tables)


def _watched() -> set[str]:
    return current_app.extensions.get(WATCHED, set()) if has_app_context() else set()


def touch(session: Session, *tables: str) -> None:
    """Note that these tables change in the session's transaction (for writes the ORM does not see)."""
    watched = _watched()
    session.info.setdefault(_PENDING, set()).update(t for t in tables if t in watched)


@event.listens_for(Session, "after_flush")
def _note_flushed(session, flush_context):
    watched = _watched()
    if not watched:
        return
    changed = set()
    for obj in (*session.new, *session.deleted, *session.dirty):
        for table in inspect(obj).mapper.tables:
            if table.name in watched and table.name not in changed:
                if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                    continue
                changed.add(table.name)
    if changed:
        session.info.setdefault(_PENDING, set()).update(changed)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state):
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            touch(state.session, table.name)


@event.listens_for(Session, "before_commit")
def _raise_versions(session):
    session.flush()  # what the commit would flush: its tables are noted, and the counters are locked last
    names = sorted(session.info.pop(_PENDING, ()))
    if not names:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # One statement whatever the number of tables; rows in name order, so two transactions raising
    # the same counters take their locks in the same order.
    stmt = insert(DataVersion).values([{"table_name": name, "version": 1} for name in names])
    session.execute(stmt.on_conflict_do_update(index_elements=[DataVersion.table_name],
                                               set_={"version": DataVersion.version + 1}))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, previous_transaction):
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def current(tables: Iterable[str]) -> tuple[int, ...]:
    """The tables' versions, in the order given (0 for a table never changed since it was watched)."""
    tables = list(tables)
    found = dict(db.session.execute(select(DataVersion.table_name, DataVersion.version)
                                    .where(DataVersion.table_name.in_(tables))).all())
    return tuple(found.get(t, 0) for t in tables)


def page_key(name: str) -> str:
    """A key for a page part that depends on the request's query arguments and the reader's language."""
    from flask import request
    from flask_babel import get_locale

    args = "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    return f"{name}:{get_locale()}:{request.path}?{args}"


def remember(key: str, tables: Iterable[str], compute: Callable[[], tuple[T, dt.datetime | None]]) -> T:
    """The value computed from `tables`, reused until one of them changes or the moment the value
    gave with it has come (a deadline it depends on); `compute()` returns (value, until or None)."""
    tables = list(tables)
    stamp = ".".join(map(str, current(tables)))
    if db.session.info.get(_PENDING, set()) & set(tables):
        return compute()[0]  # this transaction has changed them: what others committed is not what it sees
    full = f"v:{hashlib.sha256(key.encode()).hexdigest()[:24]}:{stamp}"
    found, _ = cache.remember(full, KEEP_SECONDS, compute,
                              valid=lambda found: found[1] is None or utcnow() < found[1])
    return found[0]


def rendered(template: str, **context) -> Markup:
    """A template rendered to HTML that is kept and put into a page as it is."""
    from flask import render_template

    # Jinja escaped every value it put in: the output is HTML, not text to escape again.
    return Markup(render_template(template, **context))  # noqa: S704  # nosec B704
