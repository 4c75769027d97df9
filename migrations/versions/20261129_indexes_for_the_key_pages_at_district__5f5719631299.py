"""Indexes for the key pages at district scale: the public project list's order, a provider's
counted ratings by time and the session figures (covering the performance aggregates), and the
demand dashboard's supports by period.

Revision ID: 5f5719631299
Revises: 331f8460fedb
Create Date: 2026-11-29 08:30:29.332353

"""
from alembic import op

revision = '5f5719631299'
down_revision = '331f8460fedb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('demand_supports', schema=None) as batch_op:
        batch_op.create_index('ix_demand_supports_time_request', ['created_at', 'request_id'], unique=False)
    with op.batch_alter_table('purchase_projects', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_projects_published', ['published_at', 'id'], unique=False)
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_provider_status_time',
                              ['provider_id', 'status', 'created_at', 'content', 'organisation', 'venue'],
                              unique=False)
        batch_op.create_index('ix_ratings_status_time_item',
                              ['status', 'created_at', 'item_id', 'content', 'organisation', 'venue'], unique=False)
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_service_sessions_provider_figures',
                              ['provider_id', 'scheduled_at', 'state', 'decided_at', 'acceptance_score',
                               'reported_late'], unique=False)


def downgrade():
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_service_sessions_provider_figures')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_status_time_item')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_provider_status_time')
    with op.batch_alter_table('purchase_projects', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_projects_published')
    with op.batch_alter_table('demand_supports', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_supports_time_request')
