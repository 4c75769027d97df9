"""panel draw check: the re-run of each panel's draw is stored, not repeated on every report view

Revision ID: e4b190229dd7
Revises: b7e3d15a9c02
Create Date: 2026-12-07 14:50:00

Existing panels are checked once here, by the rule README "Checking a panel draw" states (and
evaluation/review/draw.py rerun applies): the eligible experts sorted by SHA-256 of
"<seed>:<expert id>" must give the stored candidate order, every stored key must be that hash, and
every member must sit at their position in that order. Downgrade drops the two columns (the
report then re-runs the draw on every view, as before).
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'e4b190229dd7'
down_revision = 'b7e3d15a9c02'
branch_labels = None
depends_on = None


def _key(seed, expert_id):
    return hashlib.sha256(f"{seed}:{expert_id}".encode()).hexdigest()


def _matches(seed, pool, candidates, positions):
    order = sorted((p["expert_id"] for p in pool if p["eligible"]), key=lambda i: (_key(seed, i), i))
    keys_ok = all(p["key"] == _key(seed, p["expert_id"]) for p in pool)
    members_ok = all(order[pos] == expert_id for pos, expert_id in positions if pos < len(order))
    return order == list(candidates) and keys_ok and members_ok


def upgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('check_matched', sa.Boolean(), nullable=True))

    conn = op.get_bind()
    members = {}
    for panel_id, pos, expert_id in conn.execute(sa.text(
            "SELECT panel_id, draw_position, expert_id FROM panel_members")):
        members.setdefault(panel_id, []).append((pos, expert_id))
    now = core.db.utcnow()
    panels = sa.table('panels', sa.column('id', sa.Integer), sa.column('checked_at', core.db.UTCDateTime()),
                      sa.column('check_matched', sa.Boolean))
    updates = []
    for panel_id, seed, pool, candidates in conn.execute(sa.text("SELECT id, seed, pool, candidates FROM panels")):
        pool = json.loads(pool) if isinstance(pool, str) else pool
        candidates = json.loads(candidates) if isinstance(candidates, str) else candidates
        updates.append({"pid": panel_id, "at": now,
                        "ok": _matches(seed, pool or [], candidates or [], members.get(panel_id, []))})
    if updates:
        conn.execute(panels.update().where(panels.c.id == sa.bindparam("pid"))
                     .values(checked_at=sa.bindparam("at"), check_matched=sa.bindparam("ok")), updates)


def downgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.drop_column('check_matched')
        batch_op.drop_column('checked_at')
