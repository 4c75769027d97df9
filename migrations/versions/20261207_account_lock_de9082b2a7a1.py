"""account lock: an account-wide lock after very many failed sign-ins

Revision ID: de9082b2a7a1
Revises: a202aa36759c
Create Date: 2026-12-07 03:22:35.531302

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'de9082b2a7a1'
down_revision = 'a202aa36759c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', core.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
