"""participant merges: merged_into_id and the merge log

Revision ID: b3e8d2c4f6a1
Revises: a7c31e9f0b12
Create Date: 2026-12-03 03:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3e8d2c4f6a1'
down_revision = 'a7c31e9f0b12'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('participant_merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survivor_id', sa.Integer(), nullable=False),
    sa.Column('merged_ids', sa.JSON(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_label', sa.String(length=254), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('undone_by_label', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_participant_merge_created_by_id_user')),
    sa.ForeignKeyConstraint(['survivor_id'], ['participant.id'], name=op.f('fk_participant_merge_survivor_id_participant')),
    sa.ForeignKeyConstraint(['undone_by_id'], ['user.id'], name=op.f('fk_participant_merge_undone_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_merge'))
    )
    with op.batch_alter_table('participant_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_merge_survivor_id'), ['survivor_id'], unique=False)

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_participant_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_participant_merged_into_id_participant'), 'participant', ['merged_into_id'], ['id'])


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_participant_merged_into_id_participant'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_participant_merged_into_id'))
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('participant_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_merge_survivor_id'))

    op.drop_table('participant_merge')
