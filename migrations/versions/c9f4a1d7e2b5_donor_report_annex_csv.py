"""donor report annex as a CSV kept with the report: generated_report.annex_*

Revision ID: c9f4a1d7e2b5
Revises: e5b7c9d1f3a2
Create Date: 2026-12-03 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c9f4a1d7e2b5'
down_revision = 'e5b7c9d1f3a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('generated_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('annex_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('annex_rows', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annex_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('annex_content', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('generated_report', schema=None) as batch_op:
        batch_op.drop_column('annex_content')
        batch_op.drop_column('annex_sha256')
        batch_op.drop_column('annex_rows')
        batch_op.drop_column('annex_name')
