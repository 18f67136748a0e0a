"""projects: reporting calendar, closing, targets per period and baselines

Revision ID: b2c3d4e5f6a7
Revises: f1a2b3c4d5e6
Create Date: 2026-12-03 13:55:25.113013

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2c3d4e5f6a7'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    # the projects there are report by quarter, 30 days after each; every target there is
    # the whole project's
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('calendar', sa.String(length=16), nullable=False, server_default='quarters')
        )
        batch_op.add_column(
            sa.Column('report_due_days', sa.SmallInteger(), nullable=False, server_default='30')
        )
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_project_calendar'), "calendar IN ('quarters', 'semesters', 'years')"
        )
        batch_op.create_check_constraint(
            op.f('ck_project_report_due_days'), 'report_due_days BETWEEN 0 AND 365'
        )

    with op.batch_alter_table('project_target', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('period', sa.String(length=8), nullable=False, server_default='all')
        )
        batch_op.add_column(sa.Column('baseline', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_project_target_project_indicator'), type_='unique')
        batch_op.create_unique_constraint(
            'uq_project_target_project_indicator', ['project_id', 'indicator', 'period']
        )
        batch_op.create_check_constraint(
            op.f('ck_project_target_baseline_not_negative'), 'baseline IS NULL OR baseline >= 0'
        )


def downgrade():
    op.execute("DELETE FROM project_target WHERE period <> 'all'")
    with op.batch_alter_table('project_target', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_project_target_baseline_not_negative'), type_='check'
        )
        batch_op.drop_constraint('uq_project_target_project_indicator', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_project_target_project_indicator'), ['project_id', 'indicator'])
        batch_op.drop_column('baseline')
        batch_op.drop_column('period')

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_project_report_due_days'), type_='check')
        batch_op.drop_constraint(op.f('ck_project_calendar'), type_='check')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('report_due_days')
        batch_op.drop_column('calendar')

