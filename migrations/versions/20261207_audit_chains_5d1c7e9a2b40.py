"""audit chains: the audit log as several hash chains, so audited writes do not share one lock

Existing events become chain 0 (their place in it is their old sequence number, and their hashes
are unchanged, so they still verify); new events go to chains 1..AUDIT_CHAINS. On PostgreSQL the
global event number comes from a sequence, which never makes one transaction wait for another.

Revision ID: 5d1c7e9a2b40
Revises: 5c1e7a2b9d40
Create Date: 2026-12-07 04:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c7e9a2b40'
down_revision = '5c1e7a2b9d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
    op.execute("UPDATE audit_events SET chain = 0, chain_seq = seq")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_audit_events_chain_chain_seq', ['chain', 'chain_seq'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE SEQUENCE IF NOT EXISTS audit_event_seq")
        op.execute("SELECT setval('audit_event_seq', COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false)")


def downgrade():
    # Only a log that never left chain 0 can go back to one chain.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM audit_events WHERE chain <> 0")).scalar():
        raise RuntimeError("the audit log has partitioned chains; it cannot be folded back into one")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP SEQUENCE IF EXISTS audit_event_seq")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_events_chain_chain_seq', type_='unique')
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('chain')
