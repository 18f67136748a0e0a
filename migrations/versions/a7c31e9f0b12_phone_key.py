"""participant.phone_key: the duplicate rule's phone block, as an indexed column

Revision ID: a7c31e9f0b12
Revises: d4c125d8e3dd
Create Date: 2026-12-03 03:40:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c31e9f0b12'
down_revision = 'd4c125d8e3dd'
branch_labels = None
depends_on = None


def _phone_key(phone):
    # as tracker.text.phone_key, frozen here: a migration must not change with the code
    number = re.sub(r"\D", "", phone or "")[-9:]
    return number if len(number) >= 8 else ""


def upgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('phone_key', sa.String(length=16), nullable=False, server_default='')
        )
        batch_op.create_index(batch_op.f('ix_participant_phone_key'), ['phone_key'], unique=False)
    participant = sa.table(
        'participant', sa.column('id', sa.Integer), sa.column('phone', sa.String),
        sa.column('phone_key', sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(participant.c.id, participant.c.phone).where(participant.c.phone.is_not(None))
    ).all()
    updates = [{'pid': pid, 'key': _phone_key(phone)} for pid, phone in rows if _phone_key(phone)]
    if updates:
        bind.execute(
            participant.update()
            .where(participant.c.id == sa.bindparam('pid'))
            .values(phone_key=sa.bindparam('key')),
            updates,
        )


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_phone_key'))
        batch_op.drop_column('phone_key')
