"""participant.other_name: the name in the other script (Arabic or Latin); search
columns derived again (a name's words in Arabic and Latin letters find each other)

Revision ID: c4a8e2f0d9b1
Revises: d8b2f3e4a5c6
Create Date: 2026-12-03 17:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4a8e2f0d9b1'
down_revision = 'd8b2f3e4a5c6'
branch_labels = None
depends_on = None

CHUNK = 2000


def _derive_again(bind, search_fields):
    participant = sa.table(
        'participant',
        *(sa.column(name, sa.String) for name in (
            'given_name', 'family_name', 'code', 'phone', 'email', 'other_name',
            'search_text', 'name_key', 'phone_key',
        )),
        sa.column('id', sa.Integer),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                participant.c.id, participant.c.given_name, participant.c.family_name,
                participant.c.code, participant.c.phone, participant.c.email,
                participant.c.other_name,
            ).where(participant.c.id > last).order_by(participant.c.id).limit(CHUNK)
        ).all()
        if not rows:
            return
        updates = [
            {'pid': row.id, **search_fields(
                row.given_name, row.family_name, row.code, row.phone, row.email, row.other_name
            )}
            for row in rows
        ]
        bind.execute(
            participant.update()
            .where(participant.c.id == sa.bindparam('pid'))
            .values(
                search_text=sa.bindparam('search_text'),
                name_key=sa.bindparam('name_key'),
                phone_key=sa.bindparam('phone_key'),
            ),
            updates,
        )
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other_name', sa.String(length=240), nullable=True))
    # the derived columns are the code's (tracker.text.search_fields, as the ORM writes
    # them): the phonetic tokens of search_text and the key of names with an article
    # are new; a later change of that function comes with its own migration
    from tracker.text import search_fields

    _derive_again(op.get_bind(), search_fields)


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('other_name')
