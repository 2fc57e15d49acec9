"""staff sign-in: no per-account lockout columns

Failed sign-ins are now slowed by counters in the rate limiter's store, keyed by an HMAC of
the email typed, so unknown and known accounts behave alike and nobody can lock a member out.

Revision ID: 0003_staff_signin
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tipline.orm

revision = "0003_staff_signin"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", tipline.orm.UTCDateTime(), nullable=True))
