"""disclosure log: on whose decision each disclosure was made

Each FERPA disclosure row now names who decided it: a triage rule with its evidence signals,
a routing rule, or a staff member's email (a forward sent by hand, a call to police recorded
in the console). Rows written before this revision say "not recorded". An index serves the
console's log, newest first.

Revision ID: 0006_disclosure_log
Revises: 0005_corrections
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_disclosure_log"
down_revision = "0005_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_by", sa.String(length=300), nullable=False, server_default=""))
        batch_op.create_index("ix_disclosure_log", ["disclosed_at", "id"], unique=False)
    op.execute("UPDATE disclosure SET decided_by = 'not recorded (before the disclosure log)'")


def downgrade() -> None:
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_log")
        batch_op.drop_column("decided_by")
