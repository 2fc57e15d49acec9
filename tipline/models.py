"""The schema, as typed SQLAlchemy models. Alembic revisions are its source in production.

Nothing here holds a reporter's words in the clear: every ``sealed_*`` column is ciphertext
made by ``tipline.crypto``. Clear columns are metadata only: school, workflows, priority,
status, minute-precision times and signal names.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tipline.orm import Base, UTCDateTime, utcnow


class Inbox(Base):
    """A team that may read a kind of tip: school x workflow, a workflow district-wide,
    district admins, police dispatch, or the general inbox."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    school: Mapped[str | None] = mapped_column(String(8))
    workflow: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    keys: Mapped[list[InboxKey]] = relationship(back_populates="inbox", order_by="InboxKey.version")


class InboxKey(Base):
    """One generation of an inbox's key pair. New tips use the newest; rotation adds one.

    ``escrow`` is the private key sealed to the district-admin inbox (or, for the admin inbox
    before the first admin exists, to the one-time setup key), so admins can grant it.
    """

    __tablename__ = "inbox_key"
    __table_args__ = (UniqueConstraint("inbox_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id"))
    version: Mapped[int] = mapped_column(Integer)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    escrow: Mapped[bytes | None] = mapped_column(LargeBinary)
    escrow_key_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_key.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inbox: Mapped[Inbox] = relationship(back_populates="keys")


class Tip(Base):
    __tablename__ = "tip"
    __table_args__ = (
        Index("ix_tip_list", "priority_rank", "received_at", "id"),
        Index("ix_tip_school_list", "school", "priority_rank", "received_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lookup_id: Mapped[str] = mapped_column(String(64), unique=True)
    # A keyed hash of the form's one-time nonce: a reload or double tap stores nothing twice.
    dedupe_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    school: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    priority_rank: Mapped[int] = mapped_column(Integer, default=1)
    police: Mapped[bool] = mapped_column(Boolean, default=False)
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    routing: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str | None] = mapped_column(String(20))
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sealed_report: Mapped[bytes] = mapped_column(LargeBinary)
    # Triage's first labels (workflows, priority, police, signals: names only, never text),
    # kept beside the final ones so a district can measure triage on its own reports.
    triage_original: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # When staff last corrected the labels (workflows, school, police); such tips count as decided.
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the reporter adds a message or file; cleared when a member opens the tip.
    reporter_new_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    workflows: Mapped[list[TipWorkflow]] = relationship(cascade="all, delete-orphan")
    keys: Mapped[list[TipKey]] = relationship(cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(cascade="all, delete-orphan",
                                                         order_by="Attachment.id")
    messages: Mapped[list[Message]] = relationship(cascade="all, delete-orphan", order_by="Message.id")

    @property
    def workflow_keys(self) -> list[str]:
        return sorted(w.workflow for w in self.workflows)


class TipWorkflow(Base):
    __tablename__ = "tip_workflow"
    __table_args__ = (Index("ix_tip_workflow_workflow", "workflow", "tip_id"),)

    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(40), primary_key=True)


class TipKey(Base):
    """The tip's data key sealed to one inbox key, or to the reporter's key."""

    __tablename__ = "tip_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    inbox_key_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_key.id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    # Part of the associated data the sealed fields are bound to.
    label: Mapped[str] = mapped_column(String(40))
    sealed_meta: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Message(Base):
    """Words added after the first report: reporter additions, staff replies, staff notes.

    direction: ``reporter``, ``staff`` (shown to the reporter) or ``note`` (staff only).
    """

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    dedupe_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StepRecord(Base):
    """A workflow step's records for one tip. Choices stay clear for equity data;
    free text is sealed with the tip's data key."""

    __tablename__ = "step_record"
    __table_args__ = (UniqueConstraint("tip_id", "workflow", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    workflow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(60))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    choices: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    sealed_text: Mapped[bytes | None] = mapped_column(LargeBinary)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The outbox: written in the tip's transaction, delivered by ``tipline worker``.

    ``state``: ``pending`` → ``sending`` → ``sent``. A police or welfare forward that keeps
    failing becomes ``needs_person`` (still retried, admins re-alerted every hour) until it is
    delivered or a person marks it ``handled`` (e.g. phoned to dispatch), with a reason. A
    queued police forward that two members stopped is ``held`` or ``cancelled``: never claimed.
    Every time here is a whole minute derived from the tip's minute, never the clock's second.
    """

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str | None] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    destination: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Police and welfare forwards: when failing began, when a person was called for, the alerts.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A person took it over: who, when, one of the fixed reasons, and an optional dispatch reference.
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(40))
    resolution_ref: Mapped[str | None] = mapped_column(String(40))


class ForwardStop(Base):
    """A request to hold or cancel a queued police forward, and its second member's decision.

    state: ``requested`` (nothing stops yet), ``confirmed`` (the delivery was held or
    cancelled), ``withdrawn``, or ``overtaken`` (the forward left before anyone confirmed).
    ``reason`` is a code from ``tipline.corrections.STOP_REASONS``: never free text.
    """

    __tablename__ = "forward_stop"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"), index=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="requested")
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Disclosure(Base):
    """A FERPA disclosure record: what left the district, to whom, when, why and on whose
    decision. Written by the worker for each police forward it delivered, or by a staff
    member recording their own call to police (``delivery_id`` empty). Kept after the tip is
    purged. Clear text: the console asks staff not to put names or the tip's words in it."""

    __tablename__ = "disclosure"
    __table_args__ = (Index("ix_disclosure_log", "disclosed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str | None] = mapped_column(ForeignKey("tip.id", ondelete="SET NULL"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(500))
    what: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    # "triage rule: <signals>", "routing: <rule>" or the email of the staff member who decided.
    decided_by: Mapped[str] = mapped_column(String(300), default="")
    disclosed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    school: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # E.164 (+15551234567), for on-call pages by SMS or voice; never shown to reporters.
    phone: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_by_password: Mapped[bytes] = mapped_column(LargeBinary)
    private_by_recovery: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxGrant(Base):
    """An inbox private key sealed to one staff member's personal key."""

    __tablename__ = "inbox_grant"
    __table_args__ = (UniqueConstraint("inbox_key_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_key_id: Mapped[int] = mapped_column(ForeignKey("inbox_key.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    sealed_private: Mapped[bytes] = mapped_column(LargeBinary)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    school: Mapped[str | None] = mapped_column(String(8))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A logged-in staff member's personal key, wrapped under a key only their cookie holds."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only and hash-chained: each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    tip_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RotaEntry(Base):
    """Who is on call when: a member, a school (None: district-wide), a workflow (``*``: any),
    weekdays (``mon,tue``; empty: every day) and local hours (None: always). ``position``
    orders escalation: the lowest on duty is paged first."""

    __tablename__ = "rota_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    school: Mapped[str | None] = mapped_column(String(8))
    workflow: Mapped[str] = mapped_column(String(40))
    days: Mapped[str] = mapped_column(String(40), default="")
    start: Mapped[str | None] = mapped_column(String(5))
    end: Mapped[str | None] = mapped_column(String(5))
    position: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Page(Base):
    """One call for a person about a tip: ``oncall`` (escalates until acknowledged) or
    ``dispatch`` (a police forward, for the dispatch role). No tip content, ever.

    stage: ``new`` → ``rota`` → ``admins`` → ``police``; state: ``open``, ``acknowledged``,
    ``forwarded`` (sent to police unacknowledged), ``unanswered`` or ``closed`` (tip closed).
    """

    __tablename__ = "page"
    __table_args__ = (Index("ix_page_due", "state", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(60))
    school: Mapped[str | None] = mapped_column(String(8))
    workflow: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    # A threat received out of school hours: unacknowledged at the end, it goes to police.
    police_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(12), default="new")
    state: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # dispatch: the police forward it announces; oncall: the forward it queued, if any.
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id", ondelete="SET NULL"), index=True)


class PageNotice(Base):
    """One person paged: the acknowledgement code is kept only as its hash."""

    __tablename__ = "page_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    stage: Mapped[str] = mapped_column(String(12))
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
