"""`flask keys …`: the bid-sealing keys — their status, a new key, and the rotation that seals
every stored bid again under the current key.

Rotating: make a key (`flask keys new-bid-key`); on every server set `BID_KEY` to it and put the
previous key in `BID_KEYS_OLD`, and restart; then run `flask keys rotate-bid-key` once. It works in
batches, each committed with an audit event, and skips rows already under the current key, so an
interrupted run is simply run again. When it reports nothing left, remove `BID_KEYS_OLD`.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core import audit
from core.db import db, intends_to_write
from marketplace.bids import operations as bid_ops
from marketplace.bids import sealing

keys_cli = AppGroup("keys", help="Bid-sealing keys: status, a new key, rotation.")

ROTATION_EVENTS = ("bid_key.rotation.start", "bid_key.rotation.progress", "bid_key.rotation.end")


class RotationError(click.ClickException):
    """The rotation cannot go on (a key is missing); nothing of the failed batch was kept."""


def _interrupted_before(current: str) -> bool:
    """A rotation to this key was started and has not ended: this run resumes it."""
    last = db.session.scalar(select(audit.AuditEvent.action)
                             .where(audit.AuditEvent.object_type == "bid_key", audit.AuditEvent.object_id == current,
                                    audit.AuditEvent.action.in_(ROTATION_EVENTS))
                             .order_by(audit.AuditEvent.seq.desc()).limit(1))
    return last is not None and last != "bid_key.rotation.end"


def rotate_bid_key(batch_size: int = 200, progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Seal every stored bid value again under the current key, in committed batches; audited
    at the start, after each batch and at the end. Returns {table: rows resealed, "left": …}."""
    ring = sealing.keyring()
    with intends_to_write():
        unknown = bid_ops.unknown_key_ids()
        if unknown:
            db.session.rollback()
            raise RotationError(f"rows are sealed under key ids {', '.join(unknown)}, which no configured key "
                                "matches: put that key in BID_KEYS_OLD and run again")
        pending = bid_ops.pending_reseal()
        audit.record("bid_key.rotation.start", object_type="bid_key", object_id=ring.current_id,
                     key_id=ring.current_id, old_key_ids=ring.old_ids, pending=pending, batch_size=batch_size,
                     resumed=_interrupted_before(ring.current_id))
        db.session.commit()
    done = {model.__tablename__: 0 for model in bid_ops.SEALED_MODELS}
    for model in bid_ops.SEALED_MODELS:
        table = model.__tablename__
        while True:
            with intends_to_write():
                try:
                    count, last_id = bid_ops.reseal_batch(model, batch_size)
                except sealing.SealError as e:
                    db.session.rollback()
                    raise RotationError(f"{table}: {e}") from None
                if not count:
                    db.session.rollback()
                    break
                done[table] += count
                audit.record("bid_key.rotation.progress", object_type="bid_key", object_id=ring.current_id,
                             table=table, resealed=count, last_id=last_id, done=done[table], of=pending[table])
                db.session.commit()
            if progress is not None:
                progress(table, count, done[table])
    with intends_to_write():
        left = bid_ops.pending_reseal()
        audit.record("bid_key.rotation.end", object_type="bid_key", object_id=ring.current_id,
                     key_id=ring.current_id, resealed=done, left=left)
        db.session.commit()
    return {**done, "left": left}


@keys_cli.command("rotate-bid-key")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="Rows sealed again per committed batch.")
def rotate_command(batch_size):
    """Seal every stored bid again under BID_KEY (old keys from BID_KEYS_OLD); resumable."""
    ring = sealing.keyring()
    click.echo(f"rotating to key {ring.current_id}; old keys read: {', '.join(ring.old_ids) or 'none'}")
    result = rotate_bid_key(batch_size, lambda table, n, total: click.echo(f"  {table}: {total} resealed"))
    left = sum(result["left"].values())
    if left:
        click.echo(f"{left} rows were sealed under an old key meanwhile (a server without the new BID_KEY?); "
                   "run again once every server has it", err=True)
        raise SystemExit(1)
    click.echo("done: every sealed value is under the current key; BID_KEYS_OLD may now be removed")


@keys_cli.command("status")
def status_command():
    """The configured keys and how many sealed rows each key holds."""
    ring = sealing.keyring()
    click.echo(f"current key: {ring.current_id}")
    click.echo(f"old keys still read: {', '.join(ring.old_ids) or 'none'}")
    for table, counts in bid_ops.key_ids_in_use().items():
        for kid, n in sorted(counts.items()):
            what = ("current" if kid == ring.current_id else "old" if kid in ring.keys
                    else "legacy, no key id" if not kid else "UNKNOWN: not configured")
            click.echo(f"{table}: {n} under {kid or '-'} ({what})")


@keys_cli.command("new-bid-key")
def new_key_command():
    """Print a fresh key for BID_KEY (32 random bytes, base64)."""
    click.echo(sealing.new_key())
