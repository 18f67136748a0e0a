"""audit log: hash chain, append-only triggers, signed checkpoints

Revision ID: c7a1e2d3f4b5
Revises: ca7a1e9e0b01
Create Date: 2027-01-12 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tracker.audit_chain import GENESIS, create_triggers, drop_triggers, line_hash


# revision identifiers, used by Alembic.
revision = 'c7a1e2d3f4b5'
down_revision = 'ca7a1e9e0b01'
branch_labels = None
depends_on = None

# the audit table as it is at this revision (the model may grow later)
audit_event = sa.table(
    'audit_event',
    sa.column('id', sa.Integer),
    sa.column('occurred_at', sa.DateTime(timezone=True)),
    sa.column('actor_id', sa.Integer),
    sa.column('actor_label', sa.String),
    sa.column('action', sa.String),
    sa.column('entity', sa.String),
    sa.column('entity_id', sa.Integer),
    sa.column('changes', sa.JSON),
    sa.column('remote_addr', sa.String),
    sa.column('chain_seq', sa.Integer),
    sa.column('row_hash', sa.String),
)


def _backfill(bind) -> None:
    """Chain the lines already there, in id order, a batch at a time."""
    seq, previous, last_id = 0, GENESIS, 0
    columns = [c for c in audit_event.c if c.name != 'row_hash']
    set_chain = (
        sa.update(audit_event)
        .where(audit_event.c.id == sa.bindparam('line_id'))
        .values(chain_seq=sa.bindparam('seq'), row_hash=sa.bindparam('digest'))
    )
    while True:
        rows = bind.execute(
            sa.select(*columns)
            .where(audit_event.c.id > last_id)
            .order_by(audit_event.c.id)
            .limit(2000)
        ).all()
        if not rows:
            return
        changes = []
        for row in rows:
            seq += 1
            previous = line_hash(previous, {**row._asdict(), 'chain_seq': seq})
            changes.append({'line_id': row.id, 'seq': seq, 'digest': previous})
        bind.execute(set_chain, changes)
        last_id = rows[-1].id


def upgrade():
    op.create_table(
        'audit_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('through_seq', sa.Integer(), nullable=False),
        sa.Column('through_id', sa.Integer(), nullable=False),
        sa.Column('through_hash', sa.String(length=64), nullable=False),
        sa.Column('lines_deleted', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
        sa.UniqueConstraint('through_seq', name=op.f('uq_audit_checkpoint_through_seq')),
    )
    op.add_column('audit_event', sa.Column('chain_seq', sa.Integer(), nullable=True))
    op.add_column('audit_event', sa.Column('row_hash', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    _backfill(bind)
    op.create_index('uq_audit_event_chain_seq', 'audit_event', ['chain_seq'], unique=True)
    op.create_index(
        'ix_audit_event_unsealed',
        'audit_event',
        ['id'],
        sqlite_where=sa.text('row_hash IS NULL'),
        postgresql_where=sa.text('row_hash IS NULL'),
    )
    create_triggers(bind)


def downgrade():
    bind = op.get_bind()
    drop_triggers(bind)
    op.drop_index('ix_audit_event_unsealed', table_name='audit_event')
    op.drop_index('uq_audit_event_chain_seq', table_name='audit_event')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_checkpoint')
