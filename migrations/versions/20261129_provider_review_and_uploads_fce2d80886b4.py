"""provider review and uploads: stored files, provider documents and history, queue order

Existing providers get submitted_at = created_at, so they keep their place in the review queue.

Revision ID: fce2d80886b4
Revises: 59fe0ec17101
Create Date: 2026-11-29 05:21:47.145487

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'fce2d80886b4'
down_revision = '59fe0ec17101'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_stored_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files'))
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_files_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('provider_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('registration', 'qualification', 'other', name='documentkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_provider_documents_file_id_stored_files')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_documents_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_documents')),
    sa.UniqueConstraint('file_id', name=op.f('uq_provider_documents_file_id'))
    )
    with op.batch_alter_table('provider_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_documents_provider_id'), ['provider_id'], unique=False)

    op.create_table('provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('register', 'add_document', 'update', 'resubmit', 'approve', 'reject', 'request_documents', 'suspend', 'blacklist', 'lift', name='provideraction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('from_status', sa.Enum('pending', 'needs_documents', 'approved', 'rejected', 'suspended', 'blacklisted', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('pending', 'needs_documents', 'approved', 'rejected', 'suspended', 'blacklisted', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('suspended_until', core.db.UTCDateTime(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_provider_events_actor_id_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_events_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events'))
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_events_provider_id'), ['provider_id'], unique=False)

    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('approved_at', core.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_providers_submitted_at'), ['submitted_at'], unique=False)
    op.execute("UPDATE providers SET submitted_at = created_at")
    op.execute("UPDATE providers SET approved_at = reviewed_at WHERE status IN ('approved', 'suspended')")



def downgrade():
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_submitted_at'))
        batch_op.drop_column('approved_at')
        batch_op.drop_column('submitted_at')

    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_events_provider_id'))

    op.drop_table('provider_events')
    with op.batch_alter_table('provider_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_documents_provider_id'))

    op.drop_table('provider_documents')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_stored_files_sha256'))

    op.drop_table('stored_files')
