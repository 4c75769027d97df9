"""session epoch: logout ends every copy of the session cookie

Revision ID: a202aa36759c
Revises: 7be14b6cd48a
Create Date: 2026-12-07 03:19:45.672161

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'a202aa36759c'
down_revision = '7be14b6cd48a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
