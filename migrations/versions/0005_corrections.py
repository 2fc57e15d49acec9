"""corrections: triage's first labels, staff corrections, follow-up flag, forward stops

Revision ID: 0005_corrections
Revises: 0004_delivery_states
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tipline.orm

revision = "0005_corrections"
down_revision = "0004_delivery_states"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("triage_original", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("corrected_at", tipline.orm.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reporter_new_at", tipline.orm.UTCDateTime(), nullable=True))
    op.create_table(
        "forward_stop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", tipline.orm.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", tipline.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"], name=op.f("fk_forward_stop_decided_by_staff")),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"], name=op.f("fk_forward_stop_delivery_id_delivery"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by"], ["staff.id"], name=op.f("fk_forward_stop_requested_by_staff")),
        sa.ForeignKeyConstraint(["tip_id"], ["tip.id"], name=op.f("fk_forward_stop_tip_id_tip"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_stop")),
    )
    with op.batch_alter_table("forward_stop", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forward_stop_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_forward_stop_tip_id"), ["tip_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("forward_stop", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forward_stop_tip_id"))
        batch_op.drop_index(batch_op.f("ix_forward_stop_delivery_id"))
    op.drop_table("forward_stop")
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.drop_column("reporter_new_at")
        batch_op.drop_column("corrected_at")
        batch_op.drop_column("triage_original")
