"""area and venue coordinates: WGS-84 latitude and longitude of communities, towns and venues

Revision ID: 5c0e7a31b2d4
Revises: 5d1c7e9a2b40
Create Date: 2026-12-07 04:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c0e7a31b2d4'
down_revision = '5d1c7e9a2b40'
branch_labels = None
depends_on = None

TABLES = ('areas', 'venues')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('latitude', sa.Numeric(9, 6), nullable=True))
            batch_op.add_column(sa.Column('longitude', sa.Numeric(9, 6), nullable=True))
            batch_op.create_check_constraint(
                op.f('ck_%s_latitude_range' % table), 'latitude IS NULL OR (latitude >= -90 AND latitude <= 90)')
            batch_op.create_check_constraint(
                op.f('ck_%s_longitude_range' % table), 'longitude IS NULL OR (longitude >= -180 AND longitude <= 180)')
            batch_op.create_check_constraint(op.f('ck_%s_coordinates_paired' % table), '(latitude IS NULL) = (longitude IS NULL)')


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_%s_coordinates_paired' % table), type_='check')
            batch_op.drop_constraint(op.f('ck_%s_longitude_range' % table), type_='check')
            batch_op.drop_constraint(op.f('ck_%s_latitude_range' % table), type_='check')
            batch_op.drop_column('longitude')
            batch_op.drop_column('latitude')
