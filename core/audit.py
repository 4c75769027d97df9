"""The append-only, hash-chained audit log.

Each event's hash covers a canonical JSON form of the event and the previous event's hash in
its chain, so altering, deleting or inserting a row anywhere breaks that chain from that point on.

The log is several chains (partitions), not one, so that audited writes across the cluster do
not queue on a single lock. A transaction's first event picks its chain from the event's object
(`AUDIT_CHAINS` chains, 16 by default); every later event of the same transaction joins that
chain, so one transaction holds one chain's lock at most (no lock-order deadlocks). On
PostgreSQL the chain's lock is a transaction-scoped advisory lock, held until commit or
rollback; on SQLite the database's own write lock already serialises every writer.

Ordering, as the README says: within one chain, events are totally ordered in commit order
(`chain_seq` 1, 2, 3 … with no gaps), and the events of one transaction are consecutive. Across
chains, `seq` (a database sequence on PostgreSQL) gives a global order of *insertion*, unique
and increasing but with possible gaps and no promise that a smaller `seq` committed first.
Chain 0 holds the single chain written before partitioning; it is closed and still verifies.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import logging
import zlib

from flask import current_app, g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import UTCDateTime, db, hold_write_lock, utcnow

GENESIS = "0" * 64
# Any constant works; base + chain number names the advisory lock that serialises appends to
# one chain on PostgreSQL.
_CHAIN_LOCK = 7_220_001
# The chain's lock, and the global insertion number on PostgreSQL from sequence audit_event_seq
# (a sequence never blocks another transaction), in one round trip.
_LOCK_AND_NUMBER = text("SELECT nextval('audit_event_seq') FROM (SELECT pg_advisory_xact_lock(:k)) AS held")
DEFAULT_CHAINS = 16


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    __table_args__ = (UniqueConstraint("chain", "chain_seq", name="uq_audit_events_chain_chain_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Global insertion order (see the module's docstring for what it does and does not promise).
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    # Which chain the event belongs to (0: the chain from before partitioning), and its place there.
    chain: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chain_seq: Mapped[int] = mapped_column(Integer)
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
        body = {
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
        if self.chain:
            # Events of the partitioned chains also seal where they stand; chain 0's events keep
            # the form they were hashed in.
            body["chain"] = self.chain
            body["chain_seq"] = self.chain_seq
        return body

    @property
    def ref(self) -> str:
        """How an operator names the event: its global number, and its place in its chain."""
        return f"{self.seq} (chain {self.chain} #{self.chain_seq})"

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


# The chain the current transaction appends to, once its first event chose it.
_TX_CHAIN = "huimin.audit_chain"


def chain_count() -> int:
    n = current_app.config.get("AUDIT_CHAINS", DEFAULT_CHAINS) if has_app_context() else DEFAULT_CHAINS
    return max(1, int(n))


def chain_for(object_type: str, object_id, action: str = "") -> int:
    """The chain (1..AUDIT_CHAINS) for a transaction whose first event is about this object: stable
    for an object, spread evenly over objects."""
    key = f"{object_type}:{object_id}" if (object_type or object_id not in (None, "")) else action
    return 1 + zlib.crc32(key.encode()) % chain_count()


def high_water() -> int:
    """How many audit events are committed (each chain's last place, summed; one indexed read per
    chain). It grows with every committed audited write, so it versions whatever is computed from
    audited data. Unlike max(seq) it cannot miss a slower transaction: a chain is ordered by commit."""
    places = [select(func.max(AuditEvent.chain_seq)).where(AuditEvent.chain == c).scalar_subquery()
              for c in range(chain_count() + 1)]
    return sum(int(v or 0) for v in db.session.execute(select(*places)).one())


@event.listens_for(Session, "after_transaction_end")
def _forget_chain(session, transaction):
    if transaction.parent is None:
        session.info.pop(_TX_CHAIN, None)


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
    postgres = session.get_bind().dialect.name == "postgresql"
    chain = session.info.get(_TX_CHAIN)
    if chain is None:
        chain = session.info[_TX_CHAIN] = chain_for(object_type or "", object_id, action)
    if postgres:
        # Re-entrant within the transaction; released at commit or rollback. The number is drawn
        # in the same round trip: it promises insertion order only, so it need not wait for the lock.
        seq = session.scalar(_LOCK_AND_NUMBER, {"k": _CHAIN_LOCK + chain})
    else:
        hold_write_lock()  # the heads read below must still be the heads when the event is written
        seq = (session.scalar(select(func.max(AuditEvent.seq))) or 0) + 1
    last = session.execute(select(AuditEvent.chain_seq, AuditEvent.hash).where(AuditEvent.chain == chain)
                           .order_by(AuditEvent.chain_seq.desc()).limit(1)).first()
    ev = AuditEvent(
        seq=seq,
        chain=chain,
        chain_seq=(last.chain_seq + 1) if last else 1,
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
    def __init__(self, seq: int | None, reason: str, chain: int | None = None, chain_seq: int | None = None):
        # A missing event has no global number left to name; its place in its chain names it.
        place = f"chain {chain} #{chain_seq}"
        where = place if seq is None else (f"event {seq}" if chain is None else f"event {seq} ({place})")
        super().__init__(f"{where}: {reason}")
        self.seq = seq
        self.chain = chain
        self.chain_seq = chain_seq
        self.reason = reason
        self.where = where


def verify(batch: int = 5000) -> int:
    """Check every chain, one pass over the table in (chain, place) order; return the number of
    events or raise ChainBroken at the first bad one (lowest chain first)."""
    chain = None
    prev = GENESIS
    expected = 1
    count = 0
    seen_seq: set[int] = set()
    stmt = (select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.chain_seq)
            .execution_options(yield_per=batch))
    result = db.session.scalars(stmt)
    try:
        for ev in result:
            if ev.chain != chain:
                chain, prev, expected = ev.chain, GENESIS, 1
            if ev.chain_seq != expected:
                raise ChainBroken(None, f"missing (the next stored event of the chain is {ev.ref})", chain, expected)
            if ev.prev_hash != prev:
                raise ChainBroken(ev.seq, "does not link to the previous event", ev.chain, ev.chain_seq)
            if ev.compute_hash() != ev.hash:
                raise ChainBroken(ev.seq, "content does not match its hash", ev.chain, ev.chain_seq)
            if ev.seq in seen_seq:
                raise ChainBroken(ev.seq, "its global number is used twice", ev.chain, ev.chain_seq)
            seen_seq.add(ev.seq)
            prev = ev.hash
            expected += 1
            count += 1
    finally:
        result.close()  # a server-side cursor on PostgreSQL
    return count


def head() -> dict:
    """The newest event, and every chain's head (place and hash), for anchoring outside the database:
    a later verify plus equal heads shows nothing was cut off any chain's end."""
    stmt = select(AuditEvent.seq, AuditEvent.hash, AuditEvent.at).order_by(AuditEvent.seq.desc()).limit(1)
    last = db.session.execute(stmt).first()
    newest = (select(AuditEvent.chain, func.max(AuditEvent.chain_seq).label("n"))
              .group_by(AuditEvent.chain).subquery())
    heads = db.session.execute(
        select(AuditEvent.chain, AuditEvent.chain_seq, AuditEvent.hash)
        .join(newest, (AuditEvent.chain == newest.c.chain) & (AuditEvent.chain_seq == newest.c.n))
        .order_by(AuditEvent.chain)).all()
    chains = {str(h.chain): {"chain_seq": h.chain_seq, "hash": h.hash} for h in heads}
    if last is None:
        return {"seq": 0, "hash": GENESIS, "at": None, "chains": {}}
    return {"seq": last.seq, "hash": last.hash, "at": jsonable(last.at), "chains": chains}
