"""performance runs: the district figures of each full recompute

Revision ID: c6a048e9fdcf
Revises: ea86539a0d61
Create Date: 2026-12-05 04:46:56.069393

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'c6a048e9fdcf'
down_revision = 'ea86539a0d61'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('performance_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('computed_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('model_version', sa.String(length=20), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('prior_mean', core.db.Fixed(precision=8, scale=6), nullable=False),
    sa.Column('acceptance', core.db.Fixed(precision=10, scale=6), nullable=True),
    sa.Column('punctuality', core.db.Fixed(precision=10, scale=6), nullable=True),
    sa.Column('providers', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_runs')),
    sa.UniqueConstraint('run_id', name=op.f('uq_performance_runs_run_id'))
    )
    with op.batch_alter_table('performance_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_runs_computed_at'), ['computed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('performance_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_performance_runs_computed_at'))

    op.drop_table('performance_runs')
