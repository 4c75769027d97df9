"""performance figures: each provider's aggregates kept current, the district as their sum

Revision ID: b7e3d15a9c02
Revises: 6a1f3c9e2d75
Create Date: 2026-12-07 14:50:00

The table starts empty and existing runs are marked as not having kept figures: until the next
full recompute (`flask evaluation recompute`) an update reads the district's figures from the
tables, as exact as before, only slower. Downgrade drops both.
"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'b7e3d15a9c02'
down_revision = '6a1f3c9e2d75'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('performance_figures',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('as_of', core.db.UTCDateTime(), nullable=False),
    sa.Column('half_life_days', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('rating_star_sum', sa.Double(), nullable=False),
    sa.Column('rating_weight', sa.Double(), nullable=False),
    sa.Column('rating_weighted_sum', sa.Double(), nullable=False),
    sa.Column('acceptance_count', sa.Integer(), nullable=False),
    sa.Column('acceptance_weight', sa.Double(), nullable=False),
    sa.Column('acceptance_weighted_sum', sa.Double(), nullable=False),
    sa.Column('due_count', sa.Integer(), nullable=False),
    sa.Column('due_weight', sa.Double(), nullable=False),
    sa.Column('on_time_count', sa.Integer(), nullable=False),
    sa.Column('on_time_weight', sa.Double(), nullable=False),
    sa.Column('delivered_count', sa.Integer(), nullable=False),
    sa.Column('complaints_upheld', sa.Integer(), nullable=False),
    sa.Column('assessment_count', sa.Integer(), nullable=False),
    sa.Column('assessment_weight', sa.Double(), nullable=False),
    sa.Column('assessment_weighted_sum', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_performance_figures_provider_id_providers')),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_performance_figures'))
    )
    with op.batch_alter_table('performance_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures_kept', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('performance_runs', schema=None) as batch_op:
        batch_op.drop_column('figures_kept')
    op.drop_table('performance_figures')
