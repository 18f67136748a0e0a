"""courses, partners and activities: archived_at (archived ones leave the pick lists)

Revision ID: ca7a1e9e0b01
Revises: c4d5e6f7a8b9
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ca7a1e9e0b01'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None

TABLES = ('partner', 'training_course', 'activity')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('archived_at')
