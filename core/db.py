"""Database object, column types and the engine behaviour every module relies on."""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from contextlib import contextmanager
from decimal import Decimal

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    DateTime,
    Enum,
    MetaData,
    Numeric,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base, disable_autonaming=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend and always returns an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Fixed(TypeDecorator):
    """A fixed-point number; always Decimal in Python, on every backend."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2):
        super().__init__(precision=precision, scale=scale)
        self.quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        # SQLite has no decimal type; read the stored number as float and rebuild the Decimal
        # below (exact up to 15 significant digits), rather than let SQLAlchemy warn on every read.
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(self.impl.precision, self.impl.scale, asdecimal=False))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(self.quantum)
        return float(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(str(value)).quantize(self.quantum)


class Money(Fixed):
    """Yuan with two decimals."""

    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2):
        super().__init__(precision, scale)


# --- SQLite: WAL, foreign keys, busy timeout, and explicit transaction control -------------
#
# pysqlite's own transaction handling begins transactions lazily and only before DML, which
# breaks SAVEPOINTs and makes "BEGIN IMMEDIATE" impossible. We switch it off and emit BEGIN
# ourselves: IMMEDIATE when the unit of work is known to write (a POST request, a CLI command),
# so concurrent writers queue on the busy timeout instead of failing with "database is locked".

write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@contextmanager
def intends_to_write():
    """Transactions begun inside this block take SQLite's write lock up front."""
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching to WAL takes a lock, and must wait for it too.
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        _sqlite_math(dbapi_connection, cursor)
        cursor.close()


def _sqlite_math(dbapi_connection, cursor):
    """exp() and ln() for set-based decay in SQL: built into SQLite only when compiled with its math
    functions (3.35+, SQLITE_ENABLE_MATH_FUNCTIONS); registered from Python's math otherwise."""
    import math
    import sqlite3

    try:
        cursor.execute("SELECT exp(0), ln(1)")
    except sqlite3.OperationalError:
        dbapi_connection.create_function("exp", 1, lambda x: None if x is None else math.exp(x), deterministic=True)
        dbapi_connection.create_function("ln", 1, lambda x: None if x is None or x <= 0 else math.log(x),
                                         deterministic=True)


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name == "sqlite":
        immediate = write_intent.get()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info["sqlite_writing"] = immediate
        conn.info["sqlite_savepoints"] = 0


# A read transaction that turns to writing (a GET that records its audit event, say) cannot take
# SQLite's write lock once another connection has committed since it began: SQLite answers
# SQLITE_BUSY at once, without waiting, because its snapshot is stale. So before its first write,
# a transaction that has only read so far ends and begins again as an immediate one, which waits
# its turn on the busy timeout. What it read stays valid in the same sense as under PostgreSQL's
# READ COMMITTED, which the app is written for: each statement sees what was committed before it.
_WRITE_SQL = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_before_write(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "sqlite" and not conn.info.get("sqlite_writing", True) and _WRITE_SQL.match(statement):
        _sqlite_take_write_lock(conn)


def hold_write_lock() -> None:
    """From here on the current transaction holds SQLite's write lock (waiting for it if need be),
    so that what it reads next cannot change before it writes: call before a read-then-write that
    must not race (the audit chain's head, a row about to change). PostgreSQL locks rows instead."""
    if db.session.get_bind().dialect.name == "sqlite":
        _sqlite_take_write_lock(db.session.connection())


def _sqlite_take_write_lock(conn) -> None:
    if conn.info.get("sqlite_writing", True):
        return
    conn.info["sqlite_writing"] = True
    if conn.info.get("sqlite_savepoints"):
        return  # a savepoint is open inside the read transaction: it cannot be restarted under it
    raw = conn.connection.dbapi_connection
    if raw is None or not raw.in_transaction:
        return
    raw.execute("COMMIT")  # it has written nothing: this only lets go of the old snapshot
    raw.execute("BEGIN IMMEDIATE")


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint(conn, name):
    if conn.dialect.name == "sqlite":
        conn.info["sqlite_savepoints"] = conn.info.get("sqlite_savepoints", 0) + 1


@event.listens_for(Engine, "rollback_savepoint")
@event.listens_for(Engine, "release_savepoint")
def _sqlite_savepoint_end(conn, name, context):
    if conn.dialect.name == "sqlite":
        conn.info["sqlite_savepoints"] = max(0, conn.info.get("sqlite_savepoints", 0) - 1)


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def insert_unless_exists(model, keys: list[str], **values):
    """INSERT … ON CONFLICT (keys) DO NOTHING, one statement: the new row as an ORM object, or None
    when a row with those keys exists (or a concurrent transaction committed one meanwhile)."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if is_postgres() else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys).returning(model)
    return db.session.scalar(stmt)


def lock_row(model, pk, *options, shared: bool = False):
    """Load a row for a state change: FOR UPDATE on PostgreSQL.

    `shared` (FOR SHARE) is for writers that only need the row to stay as it is while they
    write elsewhere: they do not wait for each other, but every FOR UPDATE holder waits for them
    all, and they for it. `options` are loader options (e.g. not reloading collections).

    On SQLite the whole database is held by the immediate transaction a writing request begins
    with (or, in a reading one, taken here), so the plain read is just as safe there.
    """
    hold_write_lock()  # SQLite: a GET's read transaction that is about to write
    # OF the model's own table: PostgreSQL refuses to lock the nullable side of the outer joins
    # that joined eager loads (e.g. a user's optional jurisdiction) add to the query.
    stmt = select(model).where(model.id == pk).with_for_update(of=model, read=shared).options(*options)
    # unique(): joined eager loads of collections repeat the row.
    return db.session.execute(stmt.execution_options(populate_existing=True)).unique().scalar_one_or_none()


def enum_column(enum_cls, **kw):
    """An enum stored by value as a plain string with a CHECK, stable across backends."""
    return Enum(
        enum_cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        validate_strings=True,
        create_constraint=True,
        name=kw.pop("name", enum_cls.__name__.lower()),
        length=kw.pop("length", 32),
    )
