"""phone codes and attendance codes: residents sign in with a one-time SMS code; each session has
an attendance code shown at the event, which a rating needs

Revision ID: 5c1e0a7d9b32
Revises: 5c0e7a31b2d4
Create Date: 2026-12-07 04:40:00

Existing sessions get a fresh random code each (the downgrade drops the codes).
"""
import secrets

import sqlalchemy as sa
from alembic import op

import core.db

revision = '5c1e0a7d9b32'
down_revision = '5c0e7a31b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'phone_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('expires_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('used_at', core.db.UTCDateTime(), nullable=True),
        sa.Column('address_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes')),
    )
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_codes_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_codes_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance_code', sa.String(length=6), nullable=True))
    conn = op.get_bind()
    sessions = sa.table('service_sessions', sa.column('id', sa.Integer), sa.column('attendance_code', sa.String))
    ids = [row[0] for row in conn.execute(sa.select(sessions.c.id))]
    for sid in ids:
        conn.execute(sessions.update().where(sessions.c.id == sid)
                     .values(attendance_code=f"{secrets.randbelow(10 ** 6):06d}"))
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.alter_column('attendance_code', existing_type=sa.String(length=6), nullable=False)


def downgrade():
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_codes_created_at'))
        batch_op.drop_index(batch_op.f('ix_phone_codes_phone'))
    op.drop_table('phone_codes')
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.drop_column('attendance_code')
