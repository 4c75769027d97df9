"""task engine: the Celery task id a report job is carried by; when an award's challenge window
was closed by the scheduler

Revision ID: 5c1e7a2b9d40
Revises: de9082b2a7a1
Create Date: 2026-12-07 04:50:00

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = '5c1e7a2b9d40'
down_revision = 'de9082b2a7a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_closed_at', core.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_column('window_closed_at')
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_column('task_id')
