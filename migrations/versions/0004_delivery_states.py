"""delivery states: a failing police forward needs a person; stored times to the minute

Revision ID: 0004_delivery_states
Revises: 0003_staff_signin
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

import tipline.orm

revision = '0004_delivery_states'
down_revision = '0003_staff_signin'
branch_labels = None
depends_on = None

# Times that were stored to the microsecond: kept to the minute from now on, so none of them
# places a tip's arrival more precisely than the tip's own minute. (Audit entries are left as
# they are: their times are part of the hash chain, and re-hashing it would void every anchor.)
ROUNDED = {
    'delivery': ('created_at', 'next_attempt_at', 'sent_at', 'locked_until'),
    'disclosure': ('disclosed_at',),
}


def _round_existing() -> None:
    conn = op.get_bind()
    for name, columns in ROUNDED.items():
        table = sa.table(name, sa.column('id', sa.Integer()),
                         *(sa.column(c, tipline.orm.UTCDateTime()) for c in columns))
        rows = conn.execute(sa.select(table)).all()
        for row in rows:
            values: dict[str, datetime] = {}
            for column in columns:
                value = getattr(row, column)
                if value is not None and (value.second or value.microsecond):
                    values[column] = tipline.orm.to_minute(value)
            if values:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.String(length=10), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('failing_since', tipline.orm.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', tipline.orm.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('alerts_sent', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_alert_at', tipline.orm.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', tipline.orm.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('resolution_ref', sa.String(length=40), nullable=True))
    _round_existing()


def downgrade() -> None:
    op.execute("UPDATE delivery SET state = 'sent' WHERE state = 'handled'")
    op.execute("UPDATE delivery SET state = 'pending' WHERE state = 'needs_person'")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('resolution_ref')
        batch_op.drop_column('resolution')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('last_alert_at')
        batch_op.drop_column('alerts_sent')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('failing_since')
        batch_op.alter_column('state', existing_type=sa.String(length=20), type_=sa.String(length=10),
                              existing_nullable=False)
