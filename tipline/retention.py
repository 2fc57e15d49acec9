"""Retention: closed tips are deleted once the district's retention period has passed.

A tip is due when its status is ``closed`` and it was closed more than
``district.retention_days`` ago, unless it is under legal hold. Deleting the tip row deletes
everything hanging off it through ``ON DELETE CASCADE``: its sealed data keys, attachments,
messages, workflows, step records and outbox rows. FERPA disclosure records stay (their
``tip_id`` becomes NULL): what left the district must stay on record. Audit entries stay too;
they hold ids and status values only.

The delete is issued as bulk SQL rather than loading each tip through the ORM, so attachment
blobs are never read into memory; objects for purged tips already loaded in the same session
are stale afterwards.

On SQLite every connection runs with ``PRAGMA secure_delete=ON`` (see ``tipline.orm``), so
deleted pages are overwritten with zeros. PostgreSQL keeps dead tuples until VACUUM reclaims
them and does not zero them even then; everything it kept is ciphertext whose keys are gone
with the ``tip_key`` rows, but schedule ``VACUUM`` after a large purge all the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from tipline import audit
from tipline.models import Attachment, Message, Tip
from tipline.orm import make_engine, utcnow

CLOSED = "closed"
BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    deleted: int
    skipped_legal_hold: int
    attachments_deleted: int
    messages_deleted: int = 0
    cutoff: datetime | None = None
    tip_ids: tuple[str, ...] = field(default=(), repr=False)


def cutoff_for(now: datetime, retention_days: int) -> datetime:
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    if now.tzinfo is None:
        raise ValueError("now must be an aware UTC datetime")
    return now - timedelta(days=retention_days)


def _expired(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Tip.status == CLOSED, Tip.closed_at.is_not(None), Tip.closed_at < cutoff)


def _count(session: Session, column: InstrumentedAttribute[str], ids: list[str]) -> int:
    total = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        total += session.scalar(select(func.count()).where(column.in_(chunk))) or 0
    return total


def plan(session: Session, now: datetime, retention_days: int, lock: bool = False) -> PurgeReport:
    """What a purge at ``now`` would delete, without deleting anything."""
    cutoff = cutoff_for(now, retention_days)
    stmt = select(Tip.id).where(_expired(cutoff), Tip.legal_hold.is_(False)).order_by(Tip.id)
    if lock:
        # PostgreSQL: a tip being put on hold or reopened right now waits for us (or we for it).
        stmt = stmt.with_for_update()
    ids = list(session.scalars(stmt).all())
    held = session.scalar(select(func.count()).select_from(Tip).where(_expired(cutoff), Tip.legal_hold.is_(True)))
    return PurgeReport(
        deleted=len(ids),
        skipped_legal_hold=held or 0,
        attachments_deleted=_count(session, Attachment.tip_id, ids),
        messages_deleted=_count(session, Message.tip_id, ids),
        cutoff=cutoff,
        tip_ids=tuple(ids),
    )


def purge(session: Session, now: datetime, retention_days: int, actor: str = "system") -> PurgeReport:
    """Delete every expired tip that is not under legal hold, in the caller's transaction.

    Records one ``purge`` audit entry (counts, cutoff and the deleted tip ids) whether or not
    anything was due, so the log shows the retention job ran. The caller commits.
    """
    report = plan(session, now, retention_days, lock=True)
    ids = list(report.tip_ids)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        # The conditions again, so a tip put on hold since the plan is never deleted.
        session.execute(
            delete(Tip).where(Tip.id.in_(chunk), _expired(report.cutoff or now), Tip.legal_hold.is_(False))
            .execution_options(synchronize_session=False)
        )
    audit.record(session, actor, audit.PURGE, deleted=report.deleted, skipped_legal_hold=report.skipped_legal_hold,
                 attachments_deleted=report.attachments_deleted, messages_deleted=report.messages_deleted,
                 retention_days=retention_days, cutoff=(report.cutoff or now).isoformat(timespec="seconds"),
                 tip_ids=ids)
    return report


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete closed tips older than district.retention_days (legal holds are kept)."""
    from tipline.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    days = settings.district.retention_days
    engine = make_engine(settings.database_url)
    try:
        with sessionmaker(engine)() as session, session.begin():
            now = utcnow()
            report = plan(session, now, days) if dry_run else purge(session, now, days)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"purge failed and changed nothing ({type(exc).__name__}); "
                                   "check TIPLINE_DATABASE_URL and run `tipline init`") from exc
    finally:
        engine.dispose()
    cutoff = report.cutoff.strftime("%Y-%m-%d %H:%M UTC") if report.cutoff else "-"
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{'Dry run: ' if dry_run else ''}{verb} {report.deleted} tip(s) closed before {cutoff} "
               f"(retention {days} days), with {report.attachments_deleted} attachment(s) and "
               f"{report.messages_deleted} message(s); {report.skipped_legal_hold} kept under legal hold.")
    if dry_run:
        for tip_id in report.tip_ids:
            click.echo(f"  {tip_id}")
