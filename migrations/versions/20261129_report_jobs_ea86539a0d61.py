"""report jobs: reports produced in the background (provider report, monthly briefing)

Revision ID: ea86539a0d61
Revises: 5f5719631299
Create Date: 2026-11-29 08:21:11.566699

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'ea86539a0d61'
down_revision = '5f5719631299'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('params_key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False, server_default=sa.text("''")),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='jobstate', native_enum=False, create_constraint=True, length=32), nullable=False, server_default=sa.text("'queued'")),
    sa.Column('progress', sa.Float(), nullable=False, server_default=sa.text('0')),
    sa.Column('stage', sa.String(length=200), nullable=False, server_default=sa.text("''")),
    sa.Column('error', sa.Text(), nullable=False, server_default=sa.text("''")),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default=sa.text('1')),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False, server_default=sa.text("''")),
    sa.Column('mimetype', sa.String(length=120), nullable=False, server_default=sa.text("''")),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_report_jobs_file_id_stored_files')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_jobs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_jobs'))
    )
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_jobs_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_jobs_params_key'), ['params_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_jobs_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_jobs_state'), ['state'], unique=False)



def downgrade():
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_report_jobs_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_report_jobs_params_key'))
        batch_op.drop_index(batch_op.f('ix_report_jobs_kind'))
        batch_op.drop_index(batch_op.f('ix_report_jobs_created_at'))

    op.drop_table('report_jobs')
