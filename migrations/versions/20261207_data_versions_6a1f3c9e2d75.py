"""data versions: a counter per watched table, raised by every transaction that changes it, so cached
page parts are keyed by the versions of the tables they read (core/versions.py)

Revision ID: 6a1f3c9e2d75
Revises: 592475dd217d
Create Date: 2026-12-07 14:55:00

A new table only: existing rows are untouched (every counter starts at 0).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a1f3c9e2d75'
down_revision = '592475dd217d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_versions',
        sa.Column('table_name', sa.String(length=63), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_data_versions')),
    )


def downgrade():
    op.drop_table('data_versions')
