"""The audit log: append-only and hash-chained.

Every row's ``hash`` is SHA-256 over a canonical JSON array of the previous row's hash and
the row's own content (time, actor, action, tip id, detail). Changing, removing, inserting or
reordering a row breaks the chain at (or just after) that row, and ``verify`` names it.

- **One chain, never forked.** Two transactions that both read the same "last hash" would
  both link to it. So the read of the last row happens under a write lock held until the
  caller commits: ``pg_advisory_xact_lock`` on PostgreSQL; on SQLite a no-op ``UPDATE`` that
  makes the connection take SQLite's single write lock first (see ``_lock_chain``). The
  unique constraint on ``hash`` is a backstop only.
- **What it proves, and what it cannot.** A chain alone cannot show that rows were cut off
  the *end*: the shorter log is still a valid chain. ``verify`` reports the last entry's id
  and hash; keep that somewhere the database's owner cannot rewrite (a ticket, an email, a
  printout) and pass it back as ``anchor`` (``tipline audit verify --anchor HASH``) to prove
  that everything up to it is still there. Nor can it stop someone who rewrites the whole
  chain from the first changed row onwards: anchors catch that too.
- **No tip content.** ``detail`` holds ids, field names, status values and counts only; keys
  that name free text are refused and strings are kept short, so a mistake fails loudly
  instead of copying a student's words into a clear-text table.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tipline.models import AuditEntry
from tipline.orm import make_engine, to_minute, utcnow

GENESIS = "0" * 64
# pg_advisory_xact_lock key for "the audit chain": b"tiplAUDT" as a signed 64-bit integer.
AUDIT_LOCK_KEY = int.from_bytes(b"tiplAUDT", "big", signed=True)
VERIFY_BATCH = 1000
MAX_DETAIL_STRING = 200

# --- actions ------------------------------------------------------------------------------------

LOGIN = "login"                              # staff signed in
LOGIN_FAILED = "login_failed"                # wrong password / code (actor: the email tried)
LOGOUT = "logout"
VIEW_LIST = "view_list"                      # detail: filters used, count shown
VIEW_TIP = "view_tip"
DECRYPT = "decrypt"                          # a tip's data key was opened (detail: inbox key)
DOWNLOAD_ATTACHMENT = "download_attachment"  # detail: attachment id
EXPORT = "export"                            # detail: kind, count
STATUS_CHANGED = "status_changed"            # detail: old, new
OUTCOME_CHANGED = "outcome_changed"          # detail: old, new
ASSIGNED = "assigned"                        # detail: old, new staff ids
NOTE_ADDED = "note_added"                    # detail: message id
MESSAGE_SENT = "message_sent"                # detail: message id, direction
STEP_RECORDED = "step_recorded"              # detail: workflow, step, field names
DELIVERY_SENT = "delivery_sent"              # detail: delivery id, purpose, channel
DELIVERY_FAILED = "delivery_failed"          # detail: delivery id, attempts, error kind
DELIVERY_ESCALATED = "delivery_escalated"    # a police forward keeps failing: a person must act
DELIVERY_HANDLED = "delivery_handled"        # a person took a failing forward over (detail: reason)
GRANT = "grant"                              # detail: inbox, staff id
REVOKE = "revoke"                            # detail: inbox, staff id
KEY_ROTATED = "key_rotated"                  # detail: inbox, new version
STAFF_CREATED = "staff_created"              # detail: staff id, role, school
STAFF_DEACTIVATED = "staff_deactivated"      # detail: staff id
RECOVERY_USED = "recovery_used"              # a recovery key replaced a password
SETUP_COMPLETED = "setup_completed"          # the first admin was created
PURGE = "purge"                              # detail: counts, cutoff, deleted tip ids
LEGAL_HOLD = "legal_hold"                    # detail: hold (bool)
# Also used by the console:
VIEW_DENIED = "view_denied"                  # a member asked for a tip outside their scope
VIEW_STATS = "view_stats"                    # aggregate statistics were shown
INVITE = "invite"                            # an invitation link was made (detail: role, school)
# Corrections and follow-ups (tipline.corrections):
WORKFLOWS_CHANGED = "workflows_changed"      # detail: old, new workflow keys, reason code
SCHOOL_CHANGED = "school_changed"            # detail: old, new school codes, reason code
TIP_KEYS_CHANGED = "tip_keys_changed"        # the data key was re-sealed (detail: added, removed inboxes)
POLICE_SENT = "police_sent"                  # a member sent a tip to police (detail: delivery, endpoint, reason)
FORWARD_STOP_REQUESTED = "forward_stop_requested"  # detail: delivery, stop (hold/cancel), reason code, request id
FORWARD_STOP_CONFIRMED = "forward_stop_confirmed"  # a second member confirmed (detail: delivery, request id)
FORWARD_STOP_WITHDRAWN = "forward_stop_withdrawn"  # detail: delivery, request id
FORWARD_RELEASED = "forward_released"        # a held forward was queued again (detail: delivery)
FOLLOWUP_RECEIVED = "followup_received"      # detail: message id, files, workflows added, queued counts
# On call (tipline.oncall):
PAGE_SENT = "page_sent"                      # detail: page, kind, stage, staff ids paged
PAGE_ACKNOWLEDGED = "page_acknowledged"      # detail: page, notice
PAGE_ESCALATED = "page_escalated"            # detail: page, from/to stage, minutes
PAGE_FORWARDED = "page_forwarded"            # unacknowledged: sent to police (detail: page, delivery)
PAGE_ENDED = "page_ended"                    # detail: page, state (unanswered, closed)
ROTA_CHANGED = "rota_changed"                # detail: entry, change (added/removed), member, school, workflow
PHONE_CHANGED = "phone_changed"              # detail: member (never the number)

ACTIONS: frozenset[str] = frozenset({
    LOGIN, LOGIN_FAILED, LOGOUT, VIEW_LIST, VIEW_TIP, DECRYPT, DOWNLOAD_ATTACHMENT, EXPORT,
    STATUS_CHANGED, OUTCOME_CHANGED, ASSIGNED, NOTE_ADDED, MESSAGE_SENT, STEP_RECORDED,
    DELIVERY_SENT, DELIVERY_FAILED, DELIVERY_ESCALATED, DELIVERY_HANDLED, GRANT, REVOKE, KEY_ROTATED,
    STAFF_CREATED, STAFF_DEACTIVATED,
    RECOVERY_USED, SETUP_COMPLETED, PURGE, LEGAL_HOLD, VIEW_DENIED, VIEW_STATS, INVITE,
    WORKFLOWS_CHANGED, SCHOOL_CHANGED, TIP_KEYS_CHANGED, POLICE_SENT, FORWARD_STOP_REQUESTED,
    FORWARD_STOP_CONFIRMED, FORWARD_STOP_WITHDRAWN, FORWARD_RELEASED, FOLLOWUP_RECEIVED,
    PAGE_SENT, PAGE_ACKNOWLEDGED, PAGE_ESCALATED, PAGE_FORWARDED, PAGE_ENDED, ROTA_CHANGED, PHONE_CHANGED,
})

# The FERPA disclosure log (console/disclosures.py).
VIEW_DISCLOSURES = "view_disclosures"        # detail: count shown
EXPORT_DISCLOSURES = "export_disclosures"    # detail: rows
DISCLOSURE_RECORDED = "disclosure_recorded"  # a member recorded their own call (detail: disclosure id)
ACTIONS = ACTIONS | {VIEW_DISCLOSURES, EXPORT_DISCLOSURES, DISCLOSURE_RECORDED}

# Detail keys that would name someone's words. Store a message id, never the message.
FORBIDDEN_DETAIL_KEYS = frozenset({
    "text", "body", "message", "note", "report", "content", "plaintext", "answer", "answers",
    "words", "reply", "comment", "description",
})


class AuditError(ValueError):
    """An audit entry was asked for that the log must not hold."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""
    last_id: int | None = None
    last_hash: str | None = None


# --- hashing ------------------------------------------------------------------------------------


def _at_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, tip_id: str | None,
               detail: dict[str, object]) -> str:
    """SHA-256 hex over the canonical JSON of one entry and the hash before it."""
    canonical = json.dumps([prev_hash, _at_text(at), actor, action, tip_id, detail],
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_value(value: object, where: str) -> None:
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if len(value) > MAX_DETAIL_STRING:
            raise AuditError(f"audit detail {where}: strings are ids, names or statuses "
                             f"(at most {MAX_DETAIL_STRING} characters), never tip text")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_key(key, f"{where}.{key}")
            _check_value(item, f"{where}.{key}")
        return
    raise AuditError(f"audit detail {where}: {type(value).__name__} cannot be stored")


def _check_key(key: object, where: str) -> None:
    if not isinstance(key, str):
        raise AuditError(f"audit detail {where}: keys must be strings")
    if key.lower() in FORBIDDEN_DETAIL_KEYS:
        raise AuditError(f"audit detail {where}: {key!r} would hold someone's words; store an id instead")


def _normalise(detail: dict[str, object]) -> dict[str, object]:
    for key, value in detail.items():
        _check_key(key, key)
        _check_value(value, key)
    # Exactly what the JSON column gives back (tuples become lists), so verify hashes the same.
    out: dict[str, object] = json.loads(json.dumps(detail, allow_nan=False))
    return out


# --- appending ----------------------------------------------------------------------------------


def _lock_chain(session: Session) -> None:
    """Make this transaction the only one appending until it commits or rolls back.

    PostgreSQL: a transaction-scoped advisory lock; under READ COMMITTED the next statement
    then sees every entry committed before the lock was granted.

    SQLite: there is one writer at a time, but Python's sqlite3 opens a transaction only at
    the first INSERT/UPDATE/DELETE, so a plain SELECT of the last hash would run *outside*
    the write lock and two writers could read the same one. The caller owns the transaction,
    so ``BEGIN IMMEDIATE`` is not ours to issue; instead a no-op UPDATE (it matches no rows but
    still takes SQLite's write lock, waiting on the busy timeout) runs first. From then until
    commit no one else can write, and in WAL mode a connection holding the write lock always
    reads the newest data, so the last hash we read is the last one there is.
    """
    bind = session.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_entry SET id = id WHERE 1 = 0"))


def record(session: Session, actor: str, action: str, tip_id: str | None = None, *,
           at: datetime | None = None, **detail: object) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits) and return it.

    ``detail`` is ids, field names, old/new status values and counts, never tip text.
    Times are whole minutes, like every stored time: an entry written seconds after a tip
    arrived (a delivery) must not place the arrival more precisely than the tip's minute.
    ``at`` lets the delivery worker stamp the minute its attempt was due, derived from the tip's.
    """
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}; add it to tipline.audit.ACTIONS")
    if not actor or len(actor) > 254:
        raise AuditError("audit actor must be 1-254 characters")
    clean = _normalise(detail)
    _lock_chain(session)
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    at = to_minute(at or utcnow())
    entry = AuditEntry(at=at, actor=actor, action=action, tip_id=tip_id, detail=clean, prev_hash=prev_hash,
                       hash=entry_hash(prev_hash, at, actor, action, tip_id, clean))
    session.add(entry)
    session.flush()
    return entry


# --- verifying ----------------------------------------------------------------------------------


def _rows(session: Session, batch_size: int) -> Iterable[Any]:
    """Every entry in id order, ``batch_size`` rows per query (keyset pages, nothing kept)."""
    cols = (AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.tip_id,
            AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
    after: int | None = None
    while True:
        stmt = select(*cols).order_by(AuditEntry.id).limit(batch_size)
        if after is not None:
            stmt = stmt.where(AuditEntry.id > after)
        page = session.execute(stmt).all()
        yield from page
        if len(page) < batch_size:
            return
        after = page[-1].id


def verify(session: Session, anchor: str | None = None, batch_size: int = VERIFY_BATCH) -> VerifyResult:
    """Walk the whole chain in id order and report the first entry that breaks it.

    An entry is bad when its hash does not match its own content (it was edited), or when it
    does not link to the entry before it (an entry between them was removed, this one was
    inserted, or rows were reordered). Gaps in ids are fine as long as the links hold.
    ``anchor``: a hash from an earlier verify; the log is broken if it is no longer in it
    (rows were cut off the end, or the chain was rewritten).
    """
    checked = 0
    prev_hash = GENESIS
    prev_id: int | None = None
    anchor_seen = anchor is None
    for row in _rows(session, batch_size):
        detail = row.detail if isinstance(row.detail, dict) else {}
        expected = entry_hash(row.prev_hash, row.at, row.actor, row.action, row.tip_id, detail)
        if row.hash != expected or not isinstance(row.detail, dict):
            return VerifyResult(False, checked, row.id, "its hash does not match its contents (the entry was edited)",
                                prev_id, prev_hash if prev_id is not None else None)
        if row.prev_hash != prev_hash:
            where = f"entry {prev_id}" if prev_id is not None else "the start of the log"
            return VerifyResult(False, checked, row.id,
                                f"it does not follow {where} (an entry was removed or inserted before it, "
                                "or entries were reordered)",
                                prev_id, prev_hash if prev_id is not None else None)
        if row.hash == anchor:
            anchor_seen = True
        checked += 1
        prev_hash, prev_id = row.hash, row.id
    last_hash = prev_hash if prev_id is not None else None
    if not anchor_seen:
        return VerifyResult(False, checked, None,
                            f"the anchored entry {anchor} is missing (entries were cut off the end or the log "
                            "was rewritten)", prev_id, last_hash)
    return VerifyResult(True, checked, None, "", prev_id, last_hash)


# --- command ------------------------------------------------------------------------------------


@click.group("audit")
def audit_command() -> None:
    """Check the audit log."""


@audit_command.command("verify")
@click.option("--anchor", default=None, metavar="HASH",
              help="A last-entry hash printed by an earlier verify; fail if it is gone.")
def verify_command(anchor: str | None) -> None:
    """Check every entry's hash and link; exit 1 at the first broken one."""
    from tipline.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    engine = make_engine(settings.database_url)
    try:
        with sessionmaker(engine)() as session:
            result = verify(session, anchor=anchor)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read the audit log ({type(exc).__name__}); "
                                   "check TIPLINE_DATABASE_URL and run `tipline init`") from exc
    finally:
        engine.dispose()
    if not result.ok:
        where = f" at entry {result.first_bad_id}" if result.first_bad_id is not None else ""
        click.echo(f"audit log BROKEN{where}: {result.problem}", err=True)
        sys.exit(1)
    click.echo(f"audit log OK: {result.checked} entries")
    if result.last_id is not None:
        click.echo(f"last entry {result.last_id}: {result.last_hash}")
