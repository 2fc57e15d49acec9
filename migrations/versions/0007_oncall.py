"""on call: the rota, pages with hashed acknowledgement codes, and staff phone numbers

Revision ID: 0007_oncall
Revises: 0006_disclosure_log
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tipline.orm

revision = "0007_oncall"
down_revision = "0006_disclosure_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
    op.create_table(
        "rota_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(length=8), nullable=True),
        sa.Column("workflow", sa.String(length=40), nullable=False),
        sa.Column("days", sa.String(length=40), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=True),
        sa.Column("end", sa.String(length=5), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", tipline.orm.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_rota_entry_created_by_staff")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_rota_entry_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_entry")),
    )
    with op.batch_alter_table("rota_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rota_entry_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("school", sa.String(length=8), nullable=True),
        sa.Column("workflow", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("police_fallback", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", tipline.orm.UTCDateTime(), nullable=False),
        sa.Column("next_due_at", tipline.orm.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", tipline.orm.UTCDateTime(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["staff.id"], name=op.f("fk_page_acknowledged_by_staff")),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"], name=op.f("fk_page_delivery_id_delivery"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tip_id"], ["tip.id"], name=op.f("fk_page_tip_id_tip"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_index("ix_page_due", ["state", "next_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_tip_id"), ["tip_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_delivery_id"), ["delivery_id"], unique=False)
    op.create_table(
        "page_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("sent_at", tipline.orm.UTCDateTime(), nullable=False),
        sa.Column("used_at", tipline.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"], name=op.f("fk_page_notice_page_id_page"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_page_notice_staff_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_notice")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_page_notice_code_hash")),
    )
    with op.batch_alter_table("page_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_notice_page_id"), ["page_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_notice_page_id"))
    op.drop_table("page_notice")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_delivery_id"))
        batch_op.drop_index(batch_op.f("ix_page_tip_id"))
        batch_op.drop_index("ix_page_due")
    op.drop_table("page")
    with op.batch_alter_table("rota_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rota_entry_staff_id"))
    op.drop_table("rota_entry")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("phone")
