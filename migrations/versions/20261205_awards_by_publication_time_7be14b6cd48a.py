"""awards by publication time

Revision ID: 7be14b6cd48a
Revises: c6a048e9fdcf
Create Date: 2026-12-05 04:49:27.875972

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = '7be14b6cd48a'
down_revision = 'c6a048e9fdcf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_published_at'), ['published_at'], unique=False)



def downgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_published_at'))

