"""The append-only, hash-chained audit log.

Each event's hash covers a canonical JSON form of the event and the previous event's hash,
so altering, deleting or inserting a row anywhere breaks the chain from that point on.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import logging

from flask import current_app, g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Integer, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import UTCDateTime, db, utcnow

GENESIS = "0" * 64
# Any constant works; it names the advisory lock that serialises appends on PostgreSQL.
_CHAIN_LOCK = 7_220_001


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60), default="", index=True)
    object_id: Mapped[str] = mapped_column(String(60), default="")
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def canonical(self) -> dict:
        return {
            "seq": self.seq,
            "at": self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": self.actor_id,
            "actor": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "summary": self.summary,
            "address": self.address,
            "request_id": self.request_id,
            "prev": self.prev_hash,
        }

    def compute_hash(self) -> str:
        body = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("the audit log is append-only")


def jsonable(value):
    """Turn model values into JSON the chain can hash identically after a round trip."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def record(action: str, obj=None, *, actor=None, object_type=None, object_id=None, **summary) -> AuditEvent:
    """Append one event to the chain inside the current transaction.

    `obj` may be a model instance (its table and id are recorded); keyword arguments form the
    short before/after summary.
    """
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        db.session.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", "")
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    ev = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "login", "") or ("system" if actor is None else str(actor)),
        action=action,
        object_type=object_type or "",
        object_id=str(object_id if object_id is not None else ""),
        summary=jsonable(summary),
        address=(request.remote_addr or "") if has_request_context() else "",
        request_id=g.get("request_id", "") if has_request_context() else "",
        prev_hash=last.hash if last else GENESIS,
    )
    ev.hash = ev.compute_hash()
    session.add(ev)
    session.flush()
    session.info.setdefault(_PENDING_LINES, []).append(
        (ev.seq, ev.action, ev.object_type, ev.object_id, ev.actor_label))
    return ev


# Each event is also logged, one line on standard output (with the request id), once its
# transaction commits: an event that was rolled back never happened.
_PENDING_LINES = "huimin.audit_lines"


@event.listens_for(Session, "after_commit")
def _log_committed(session):
    lines = session.info.pop(_PENDING_LINES, None)
    if not lines or not has_app_context():
        return
    log = logging.getLogger(current_app.logger.name + ".audit")
    for seq, action, object_type, object_id, actor in lines:
        log.info("audit #%s %s %s:%s by %s", seq, action, object_type or "-", object_id or "-", actor)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    if not previous_transaction.nested:
        session.info.pop(_PENDING_LINES, None)


class ChainBroken(Exception):
    def __init__(self, seq: int, reason: str):
        super().__init__(f"event {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def verify(batch: int = 5000) -> int:
    """Check the whole chain; return the number of events or raise ChainBroken at the first bad one."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    result = db.session.scalars(stmt)
    try:
        for ev in result:
            if ev.seq != expected_seq:
                raise ChainBroken(expected_seq, f"missing (next stored event is {ev.seq})")
            if ev.prev_hash != prev:
                raise ChainBroken(ev.seq, "does not link to the previous event")
            if ev.compute_hash() != ev.hash:
                raise ChainBroken(ev.seq, "content does not match its hash")
            prev = ev.hash
            expected_seq += 1
            count += 1
    finally:
        result.close()  # a server-side cursor on PostgreSQL
    return count


def head() -> dict:
    """The newest event's sequence number and hash, for anchoring outside the database."""
    stmt = select(AuditEvent.seq, AuditEvent.hash, AuditEvent.at).order_by(AuditEvent.seq.desc()).limit(1)
    last = db.session.execute(stmt).first()
    if last is None:
        return {"seq": 0, "hash": GENESIS, "at": None}
    return {"seq": last.seq, "hash": last.hash, "at": jsonable(last.at)}
