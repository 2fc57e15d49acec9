"""Retention purge: exactly the expired, unheld closed tips go, with everything hanging off them.

Runs on SQLite by default and on PostgreSQL when TIPLINE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline import audit
from tipline.config import load_settings
from tipline.models import (
    Attachment,
    AuditEntry,
    Delivery,
    Disclosure,
    Message,
    StepRecord,
    Tip,
    TipKey,
    TipWorkflow,
)
from tipline.retention import PurgeReport, plan, purge, purge_command

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAYS = 365
SECRET = "purge-test-secret-" + "z" * 40
CHILDREN = (TipKey, Attachment, Message, TipWorkflow, StepRecord, Delivery)


@dataclass
class Made:
    id: str
    markers: list[bytes]


def make_tip(db: Session, *, status: str = "closed", closed_days_ago: float | None = None,
             legal_hold: bool = False, attachments: int = 0, messages: int = 0, now: datetime = NOW) -> Made:
    """A tip with a key, a workflow, a step record, an outbox row and a FERPA disclosure,
    plus the given numbers of messages and attachments (the first attachment on a message)."""
    tip_id = uuid.uuid4().hex
    received = now - timedelta(days=(closed_days_ago or 0) + 30)
    closed = now - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    marker = f"SEALED-{tip_id}-".encode()
    tip = Tip(id=tip_id, lookup_id=uuid.uuid4().hex + uuid.uuid4().hex, school="SHS", status=status,
              legal_hold=legal_hold, received_at=received, updated_at=closed or received, closed_at=closed,
              sealed_report=marker + b"report" + os.urandom(64))
    tip.keys.append(TipKey(inbox_key_id=None, sealed=os.urandom(80)))
    tip.workflows.append(TipWorkflow(workflow="threat"))
    db.add(tip)
    db.flush()
    markers = [marker]
    first_message: Message | None = None
    for n in range(messages):
        msg = Message(tip_id=tip_id, direction="reporter" if n % 2 == 0 else "staff",
                      sealed_body=marker + b"message" + os.urandom(32), created_at=received)
        db.add(msg)
        db.flush()
        first_message = first_message or msg
    for n in range(attachments):
        # large enough to spill onto SQLite overflow pages
        content = marker + f"attachment-{n}-".encode() + os.urandom(12_000)
        db.add(Attachment(tip_id=tip_id, message_id=first_message.id if (first_message and n == 0) else None,
                          label=f"file{n}", sealed_meta=os.urandom(40), sealed_content=content,
                          created_at=received))
        markers.append(content[:60])
    db.add(StepRecord(tip_id=tip_id, workflow="threat", step="evaluate", done=True,
                      choices={"classification": "transient"}, sealed_text=os.urandom(30), updated_at=received))
    delivery = Delivery(tip_id=tip_id, channel="webhook", destination="https://dispatch.example/x", purpose="police",
                        idempotency_key=uuid.uuid4().hex, state="sent", next_attempt_at=received,
                        created_at=received, sent_at=received)
    db.add(delivery)
    db.flush()
    db.add(Disclosure(tip_id=tip_id, delivery_id=delivery.id, recipient="police dispatch",
                      what="the tip", why="threat outside school hours", disclosed_at=received))
    db.flush()
    return Made(tip_id, markers)


def children_of(db: Session, tip_ids: list[str]) -> dict[str, int]:
    return {model.__name__: db.scalar(select(func.count()).select_from(model).where(model.tip_id.in_(tip_ids))) or 0
            for model in CHILDREN}


@pytest.fixture
def tips(db: Session) -> dict[str, Made]:
    made = {
        "expired_full": make_tip(db, closed_days_ago=400, attachments=2, messages=2),
        "expired_bare": make_tip(db, closed_days_ago=DAYS + 1, messages=1),
        "recent": make_tip(db, closed_days_ago=10, attachments=1, messages=1),
        "at_cutoff": make_tip(db, closed_days_ago=DAYS),
        "open_old": make_tip(db, status="in_review"),
        "reopened": make_tip(db, status="action_taken", closed_days_ago=900, attachments=1),
        "held": make_tip(db, closed_days_ago=800, legal_hold=True, attachments=1, messages=1),
    }
    db.commit()
    return made


EXPIRED = ("expired_full", "expired_bare")


def test_purge_deletes_exactly_the_expired_unheld_tips(db: Session, tips: dict[str, Made]) -> None:
    expired = sorted(tips[k].id for k in EXPIRED)
    kept = sorted(t.id for k, t in tips.items() if k not in EXPIRED)
    before_kept = children_of(db, kept)
    assert children_of(db, expired) == {"TipKey": 2, "Attachment": 2, "Message": 3, "TipWorkflow": 2,
                                        "StepRecord": 2, "Delivery": 2}

    report = purge(db, NOW, DAYS, actor="retention-test")
    db.commit()
    db.expire_all()

    assert report == PurgeReport(deleted=2, skipped_legal_hold=1, attachments_deleted=2, messages_deleted=3,
                                 cutoff=NOW - timedelta(days=DAYS), tip_ids=tuple(expired))
    assert sorted(db.scalars(select(Tip.id))) == kept
    assert children_of(db, expired) == dict.fromkeys(before_kept, 0)
    assert children_of(db, kept) == before_kept
    # FERPA disclosure records outlive the tip; they just lose the link to it
    disclosures = db.scalars(select(Disclosure)).all()
    assert len(disclosures) == len(tips)
    assert sorted(d.tip_id for d in disclosures if d.tip_id is not None) == kept
    assert sum(d.tip_id is None for d in disclosures) == 2


def test_purge_records_one_audit_entry_without_tip_text(db: Session, tips: dict[str, Made]) -> None:
    purge(db, NOW, DAYS, actor="retention-test")
    db.commit()
    entries = db.scalars(select(AuditEntry)).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.action, entry.tip_id) == ("retention-test", "purge", None)
    assert entry.detail["deleted"] == 2
    assert entry.detail["skipped_legal_hold"] == 1
    assert entry.detail["attachments_deleted"] == 2
    assert entry.detail["messages_deleted"] == 3
    assert entry.detail["retention_days"] == DAYS
    assert entry.detail["tip_ids"] == sorted(tips[k].id for k in EXPIRED)
    stored = repr(entry.detail)
    assert "SEALED" not in stored and "report" not in stored
    assert audit.verify(db).ok


def test_nothing_due_still_leaves_a_record(db: Session, tips: dict[str, Made]) -> None:
    first = purge(db, NOW, DAYS)
    db.commit()
    again = purge(db, NOW, DAYS)
    db.commit()
    assert first.deleted == 2
    assert (again.deleted, again.attachments_deleted, again.skipped_legal_hold) == (0, 0, 1)
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["purge", "purge"]
    assert db.scalar(select(func.count()).select_from(Tip)) == len(tips) - 2


def test_a_longer_retention_keeps_more(db: Session, tips: dict[str, Made]) -> None:
    report = purge(db, NOW, 500)
    db.commit()
    assert report.tip_ids == ()
    assert db.scalar(select(func.count()).select_from(Tip)) == len(tips)
    assert plan(db, NOW, 365).deleted == 2


def test_plan_changes_nothing(db: Session, tips: dict[str, Made]) -> None:
    report = plan(db, NOW, DAYS)
    db.commit()
    assert report.deleted == 2 and report.attachments_deleted == 2 and report.skipped_legal_hold == 1
    assert db.scalar(select(func.count()).select_from(Tip)) == len(tips)
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_bad_arguments_are_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="retention_days"):
        purge(db, NOW, 0)
    with pytest.raises(ValueError, match="aware"):
        purge(db, NOW.replace(tzinfo=None), DAYS)


def test_sqlite_connections_overwrite_deleted_content(app: Flask, db: Session, tips: dict[str, Made]) -> None:
    engine = app.extensions["tipline.engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA secure_delete is SQLite's; PostgreSQL relies on VACUUM (see tipline.retention)")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert db.connection().exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    db.rollback()

    path = Path(engine.url.database)

    def on_disk() -> bytes:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    gone = [m for k in EXPIRED for m in tips[k].markers]
    kept = [m for k, t in tips.items() if k not in EXPIRED for m in t.markers]
    image = on_disk()
    assert all(m in image for m in gone + kept)  # the check below can fail

    purge(db, NOW, DAYS)
    db.commit()
    image = on_disk()
    assert [m for m in gone if m in image] == []
    assert all(m in image for m in kept)


def test_purge_command(db: Session, db_url: str, instance: Path) -> None:
    days = load_settings(environ={"TIPLINE_SECRET_KEY": SECRET, "TIPLINE_INSTANCE": str(instance)}
                         ).district.retention_days
    now = datetime.now(UTC)
    old = make_tip(db, closed_days_ago=days + 20, attachments=1, messages=1, now=now)
    held = make_tip(db, closed_days_ago=days + 20, legal_hold=True, now=now)
    fresh = make_tip(db, closed_days_ago=1, now=now)
    db.commit()
    env = {"TIPLINE_DATABASE_URL": db_url, "TIPLINE_SECRET_KEY": SECRET, "TIPLINE_INSTANCE": str(instance),
           "TIPLINE_CONFIG": None}

    dry = CliRunner().invoke(purge_command, ["--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would delete 1 tip(s)" in dry.stdout
    assert "1 attachment(s)" in dry.stdout and "1 kept under legal hold" in dry.stdout
    assert old.id in dry.stdout
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Tip)) == 3
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0

    real = CliRunner().invoke(purge_command, [], env=env)
    assert real.exit_code == 0, real.output
    assert "deleted 1 tip(s)" in real.stdout and "1 attachment(s)" in real.stdout
    db.expire_all()
    assert sorted(db.scalars(select(Tip.id))) == sorted([held.id, fresh.id])
    assert db.scalars(select(AuditEntry.action)).all() == ["purge"]
