"""Delivering the outbox: police forwards, staff notifications and admin alerts.

Rows are written by ``tipline.outbox`` in the tip's own transaction; this worker sends them.

- **Claiming.** Due rows become ``sending`` with a lease (``locked_until``) in one short
  transaction: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE``, so several
  workers never wait on or take the same row; on SQLite a conditional ``UPDATE ... WHERE
  <still due> RETURNING id``, which SQLite's single writer makes atomic.
- **At least once.** The network call happens outside any transaction. A worker killed
  between sending and marking leaves the row ``sending``; once its lease expires another run
  claims and sends it again. The idempotency key is stable across retries, so receivers
  de-duplicate.
- **Retries.** A failure puts the row back to ``pending`` with exponential backoff in whole
  minutes and jitter: up to an hour for notifications, at most ``POLICE_MAX_DELAY`` for police
  and welfare forwards. After ``ALERT_AFTER`` failed attempts a notification alerts the admins
  once.
- **A failing police forward never goes quiet.** After ``POLICE_ALERT_AFTER`` of failure it
  becomes ``needs_person``: every admin (``admin.alerts`` and each active district-admin
  account) is alerted, again every ``POLICE_REALERT_EVERY`` until it is delivered or a person
  marks it handled in the console; every console page shows a banner; it keeps being retried.
- **Times.** Every stored time is a whole minute derived from the tip's own minute through the
  schedule (``attempt_minute``): an attempt is recorded at the minute it was due, so neither
  ``sent_at`` nor a retry's time, a disclosure or an audit entry tells the second a tip came.
- **Content.** Only police forwards (``police``, ``welfare``) carry the tip: the worker opens
  it with the police-dispatch private key file at send time, so the outbox never holds it in
  the clear. Everything else carries the reference, school, workflows and priority only.
  Each police forward, once delivered, is recorded as a FERPA disclosure in the transaction
  that marks it sent.
- **Logs** name delivery ids, states and error kinds, never tip text, filenames or bodies.
"""

from __future__ import annotations

import logging
import random
import re
import signal
import smtplib
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any
from urllib.error import HTTPError, URLError

import click
import pluggy
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tipline import audit, crypto, intake, keyring, oncall, outbox, reading
from tipline import plugins as hooks
from tipline.config import ConfigError, Settings, load_settings
from tipline.models import Delivery, Disclosure, Inbox, InboxKey, Staff, Tip, TipKey
from tipline.orm import make_engine, to_minute, utcnow
from tipline.types import OutgoingDelivery

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]

POLICE_PURPOSES = frozenset({"police", "welfare"})
ALERT_PURPOSE = "alert"
ALERT_AFTER = 5
DEFAULT_LEASE = timedelta(seconds=120)
MAX_DELAY = timedelta(hours=1)
# Dispatch may be back within minutes; a threat must not wait an hour for the next try.
POLICE_MAX_DELAY = timedelta(minutes=5)
POLICE_ALERT_AFTER = timedelta(minutes=3)
POLICE_REALERT_EVERY = timedelta(hours=1)
# An attempt run this soon after it was due is recorded at the minute it was due.
LATE_GRACE = timedelta(minutes=2)
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
NEEDS_PERSON = "needs_person"
HANDLED = "handled"
# The worker no longer touches these; a person or a delivery ended them.
FINAL_STATES = frozenset({SENT, HANDLED})
MINUTE = timedelta(minutes=1)
WEBHOOK_TIMEOUT = "10"
SIGN_IN = ("Sign in to the Tipline console to read it. This message contains no tip content; "
           "do not reply to it.")
FORWARDED_FIELDS = ("reference", "school", "received_at", "workflows", "priority", "signals", "category",
                    "message")


class DeliveryError(RuntimeError):
    """A delivery could not be prepared (missing key, missing tip); retried like a send failure."""


@dataclass(frozen=True)
class Prepared:
    """What one claimed row sends, plus what its FERPA disclosure records (police only):
    what was sent and on whose decision."""

    outgoing: OutgoingDelivery
    disclosed: str | None = None
    decided_by: str = ""


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0
    interrupted: int = 0


# --- timing -----------------------------------------------------------------------------------


def backoff(attempts: int, rng: random.Random | None = None, police: bool = False) -> timedelta:
    """Delay before the next try after ``attempts`` failures, in whole minutes (stored times
    are minutes): 1, 2, 4, ... doubling, jittered by a quarter from 4 minutes on, capped at an
    hour, or at ``POLICE_MAX_DELAY`` for police and welfare forwards."""
    cap = (POLICE_MAX_DELAY if police else MAX_DELAY) // MINUTE
    minutes: int = min(cap, 1 << min(max(attempts, 1) - 1, 20))
    if minutes >= 4:
        minutes = round(minutes * (rng or random).uniform(0.75, 1.25))
    return timedelta(minutes=max(1, min(cap, minutes)))


def ceil_minute(moment: datetime) -> datetime:
    floor = to_minute(moment)
    return floor if floor == moment else floor + MINUTE


def attempt_minute(scheduled: datetime, now: datetime) -> datetime:
    """The minute an attempt is stored at: the minute it was due, which the schedule derives
    from the tip's own minute, unless the worker ran late; then the minute it ran. So no stored
    time follows the clock's seconds just after a tip arrived."""
    due = to_minute(scheduled)
    return due if due <= now < due + LATE_GRACE else to_minute(now)


def _due(now: datetime) -> Any:
    # Only these two states are ever claimed: ``held`` and ``cancelled`` forwards (stopped by
    # two members, see tipline.corrections) and ``sent`` rows never are.
    return or_(
        and_(Delivery.state.in_((PENDING, NEEDS_PERSON)), Delivery.next_attempt_at <= now),
        and_(Delivery.state == SENDING, or_(Delivery.locked_until.is_(None), Delivery.locked_until <= now)),
    )


# --- claiming ---------------------------------------------------------------------------------


def claim_due(session_factory: SessionFactory, now: datetime, lease: timedelta = DEFAULT_LEASE,
              limit: int = 1, exclude: Collection[int] = ()) -> list[int]:
    """Claim up to ``limit`` due rows for this worker; return their ids (oldest due first).

    Due: ``pending`` (or ``needs_person``) whose time has come, or ``sending`` whose lease has
    expired (a worker died mid-delivery). Claimed rows become ``sending`` with
    ``locked_until`` at least ``now + lease``, rounded up to the minute. ``exclude``: rows this
    run already tried (a row a late worker reschedules into the past waits for the next run).
    """
    candidates = select(Delivery.id).where(_due(now))
    if exclude:
        candidates = candidates.where(Delivery.id.not_in(list(exclude)))
    candidates = candidates.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
    claim = update(Delivery).values(state=SENDING, locked_until=ceil_minute(now + lease)).execution_options(
        synchronize_session=False)
    with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            # Lock the candidates, skipping rows another worker holds, then mark them. (A LIMIT
            # subquery inside the UPDATE may be re-run per row and overshoot the limit.)
            ids = list(session.scalars(candidates.with_for_update(skip_locked=True)))
            if ids:
                session.execute(claim.where(Delivery.id.in_(ids)))
        else:
            # SQLite: one conditional UPDATE; the write lock makes it atomic among workers.
            ids = list(session.scalars(claim.where(Delivery.id.in_(candidates), _due(now)).returning(Delivery.id)))
    return sorted(ids)


# --- building what is sent --------------------------------------------------------------------


def plugin_settings(settings: Settings) -> dict[str, str]:
    """The only configuration delivery plugins see."""
    out = {"district": settings.district.name, "webhook_timeout": WEBHOOK_TIMEOUT}
    if settings.smtp_url:
        out["smtp_url"] = settings.smtp_url
    if settings.webhook_secret:
        out["webhook_secret"] = settings.webhook_secret
    if oncall.sms_gateway(settings):
        out["sms_gateway_url"] = str(oncall.sms_gateway(settings))
    return out


def _school_name(settings: Settings, code: str | None) -> str:
    school = settings.district.schools.get(code) if code else None
    return f"{school.name} ({code})" if school else "not given / outside school"


def _notice(settings: Settings, row: Delivery, tip: Tip | None) -> dict[str, object]:
    """A staff notification or admin alert: never any tip content."""
    school = tip.school if tip else None
    workflows = tip.workflow_keys if tip else []
    priority = tip.priority if tip else None
    body: dict[str, object] = {
        "reference": row.tip_id, "school": school, "workflows": workflows, "priority": priority,
        "purpose": row.purpose,
    }
    if row.purpose == ALERT_PURPOSE:
        failed = row.body.get("failed_delivery")
        body.update(failed_delivery=failed, attempts=row.body.get("attempts"))
        if row.body.get("failed_purpose") in POLICE_PURPOSES:
            body.update(failing_minutes=row.body.get("failing_minutes"), repeat=row.body.get("repeat"))
            body["text"] = (
                f"URGENT: a Tipline {row.body.get('failed_purpose')} forward is not reaching the police.\n\n"
                f"Delivery {failed} (over {row.body.get('failed_channel')}) has failed "
                f"{row.body.get('attempts')} times in {row.body.get('failing_minutes')} minutes and still "
                f"cannot be delivered.\nTip reference: {row.tip_id or '-'}\n"
                f"School: {_school_name(settings, school)}\nPriority: {priority or '-'}\n\n"
                "It needs a person now: sign in to the Tipline console, read the tip, phone police "
                "dispatch, then mark the forward handled on the Deliveries page. The worker keeps "
                "retrying; you will be alerted again every hour until it is delivered or handled.\n"
                "This message contains no tip content.\n")
            return body
        body["text"] = (
            f"A Tipline delivery keeps failing: delivery {failed} ({row.body.get('failed_purpose')} over "
            f"{row.body.get('failed_channel')}) has failed {row.body.get('attempts')} times and is still being "
            f"retried.\nTip reference: {row.tip_id or '-'}\nCheck the delivery settings and the endpoint. "
            "Sign in to the Tipline console for details. This message contains no tip content.\n")
        return body
    body["text"] = (
        ("The reporter added a message or file to a tip. " if row.purpose == outbox.FOLLOWUP else "")
        + f"A {'' if row.purpose == outbox.FOLLOWUP else 'new '}tip needs attention in the Tipline console.\n\n"
        f"Reference: {row.tip_id or '-'}\n"
        f"School: {_school_name(settings, school)}\n"
        f"Workflows: {', '.join(workflows) or 'not yet sorted'}\n"
        f"Priority: {priority or '-'}\n\n{SIGN_IN}\n")
    return body


def _police_key(session: Session, settings: Settings, tip: Tip) -> bytes:
    if settings.dispatch_key_path is None or not settings.dispatch_key_path.exists():
        raise DeliveryError("the police-dispatch key file is missing (TIPLINE_DISPATCH_KEY_FILE)")
    private = keyring.read_private(settings.dispatch_key_path)
    rows = session.execute(
        select(TipKey.sealed, InboxKey.version).join(InboxKey, TipKey.inbox_key_id == InboxKey.id)
        .join(Inbox, InboxKey.inbox_id == Inbox.id)
        .where(TipKey.tip_id == tip.id, Inbox.key == keyring.POLICE)
        .order_by(InboxKey.version.desc())
    ).all()
    for sealed, version in rows:
        try:
            return crypto.open_sealed(private, sealed, intake.inbox_context(tip.id, keyring.POLICE, version))
        except crypto.CryptoError:
            continue
    raise DeliveryError("the tip is not sealed to the police-dispatch key this worker holds")


def _forward(session: Session, settings: Settings, row: Delivery, tip: Tip | None
             ) -> tuple[dict[str, object], tuple[tuple[str, str, bytes], ...], str]:
    """A police forward: the whole tip, opened here with the dispatch key."""
    if tip is None:
        raise DeliveryError("the tip of a police forward no longer exists")
    data_key = _police_key(session, settings, tip)
    opened = reading.report(tip, data_key)
    # A reporter's follow-up forward carries that message and its files; the first forward
    # carries the report's own files.
    followup_id = row.body.get("followup")
    followup = next((m for m in tip.messages if m.id == followup_id and m.direction == "reporter"), None)
    if followup_id is not None and followup is None:
        raise DeliveryError("the follow-up of a police forward no longer exists")
    files: list[tuple[str, str, bytes]] = []
    for att in tip.attachments:
        if att.message_id != (followup.id if followup else None):
            continue
        meta = reading.attachment_meta(att, data_key)
        files.append((meta.filename, meta.content_type, reading.attachment_content(att, data_key)))
    school = settings.district.schools.get(tip.school) if tip.school else None
    zone = school.timezone if school else settings.district.timezone
    local = tip.received_at.astimezone(zone)
    body: dict[str, object] = {
        "reference": tip.id,
        "purpose": row.purpose,
        "reason": row.reason,
        "district": settings.district.name,
        "school": tip.school,
        "school_name": school.name if school else None,
        "received_at": tip.received_at.isoformat(),
        "received_at_local": local.isoformat(),
        "workflows": tip.workflow_keys,
        "priority": tip.priority,
        "signals": list(tip.signals),
        "category": opened.category,
        "message": opened.message,
    }
    body["text"] = (
        f"Tipline {'welfare check request' if row.purpose == 'welfare' else 'police forward'} from "
        f"{settings.district.name}.\n\n"
        f"Why: {row.reason}\n"
        f"Reference: {tip.id}\n"
        f"School: {_school_name(settings, tip.school)}\n"
        f"Received: {local:%Y-%m-%d %H:%M %Z} ({tip.received_at.isoformat()})\n"
        f"Workflows: {', '.join(tip.workflow_keys) or '-'}\n"
        f"Priority: {tip.priority}\n"
        f"Signals: {', '.join(tip.signals) or '-'}\n"
        f"Category chosen by the reporter: {opened.category}\n"
        f"Attachments: {len(files)}\n\n"
        f"Message from the anonymous reporter:\n\n{opened.message}\n"
    )
    what = ", ".join(FORWARDED_FIELDS) + f", attachments ({len(files)})"
    if followup is not None:
        added = reading.message(followup, data_key)
        added_local = added.created_at.astimezone(zone)
        body["followup"] = {"message_id": added.id, "created_at": added.created_at.isoformat(),
                            "created_at_local": added_local.isoformat(), "text": added.text}
        body["text"] = (
            f"NEW FOLLOW-UP from the anonymous reporter on a tip already forwarded (reference {tip.id}), "
            f"received {added_local:%Y-%m-%d %H:%M %Z}:\n\n{added.text}\n\n"
            f"Files with this follow-up: {len(files)}\n\n--- The original tip, for reference ---\n\n"
            + str(body["text"]))
        what = f"follow-up message {added.id}, " + what
    return body, tuple(files), what


def decided_by(row: Delivery, tip: Tip | None) -> str:
    """On whose decision a police forward went, for the disclosure log.

    Whoever queued the row may say so in ``body["decided_by"]`` (a staff member's email for a
    forward sent by hand, a routing rule's name). Otherwise the rules decided: the triage rule
    that marked the tip for police, with its evidence signals, or the routing rule in the
    delivery's reason (e.g. a threat out of school hours).
    """
    stated = row.body.get("decided_by") if isinstance(row.body, dict) else None
    if isinstance(stated, str) and stated.strip():
        return stated.strip()[:300]
    if tip is not None and tip.police:
        evidence = [s for s in tip.signals if not s.startswith("immediate.")] or list(tip.signals)
        return f"triage rule: {', '.join(evidence) or 'marked for police'}"[:300]
    rule = (row.reason or f"{row.purpose} forward").strip().rstrip(".")
    return f"routing: {rule[:1].lower()}{rule[1:]}"[:300]


def prepare(session_factory: SessionFactory, settings: Settings, delivery_id: int) -> Prepared:
    """Build what a claimed row sends. Reads only; police content exists in memory only."""
    with session_factory() as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            raise DeliveryError(f"delivery {delivery_id} no longer exists")
        tip = session.get(Tip, row.tip_id) if row.tip_id else None
        attachments: tuple[tuple[str, str, bytes], ...] = ()
        disclosed: str | None = None
        decision = ""
        if row.purpose in POLICE_PURPOSES:
            body, attachments, disclosed = _forward(session, settings, row, tip)
            decision = decided_by(row, tip)
        elif row.purpose == oncall.PURPOSE:
            body = oncall.page_body(settings, row)
        else:
            body = _notice(settings, row, tip)
        outgoing = OutgoingDelivery(
            id=row.id, channel=row.channel, destination=row.destination, purpose=row.purpose,
            subject=row.subject, body=body, idempotency_key=row.idempotency_key,
            attachments=attachments, settings=plugin_settings(settings),
        )
        return Prepared(outgoing, disclosed, decision)


def send(pm: pluggy.PluginManager, outgoing: OutgoingDelivery) -> None:
    """The network step: hand the delivery to the plugin for its channel."""
    hooks.deliver(pm, outgoing)


# --- recording the outcome --------------------------------------------------------------------


def mark_sent(session_factory: SessionFactory, prepared: Prepared, now: datetime) -> bool:
    """Mark a row sent and, for a police forward, record the FERPA disclosure, in one
    transaction. Returns False when the row was already marked (sent twice after a lease
    expired: the receiver de-duplicates, and the disclosure is recorded once). A row a person
    marked handled meanwhile is marked sent too: it did reach the police."""
    out = prepared.outgoing
    with session_factory() as session, session.begin():
        scheduled = session.scalar(select(Delivery.next_attempt_at).where(Delivery.id == out.id))
        if scheduled is None:
            return False
        at = attempt_minute(scheduled, now)
        result = session.execute(
            update(Delivery).where(Delivery.id == out.id, Delivery.state != SENT)
            .values(state=SENT, sent_at=at, locked_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        tip_id, reason = session.execute(
            select(Delivery.tip_id, Delivery.reason).where(Delivery.id == out.id)).one()
        audit.record(session, "worker", audit.DELIVERY_SENT, tip_id=tip_id, at=at, delivery=out.id,
                     purpose=out.purpose, channel=out.channel)
        if out.purpose in POLICE_PURPOSES:
            session.add(Disclosure(
                tip_id=tip_id, delivery_id=out.id, recipient=f"{out.channel}:{out.destination}",
                what=prepared.disclosed or "", why=reason or f"{out.purpose} forward",
                decided_by=prepared.decided_by or "routing", disclosed_at=at,
            ))
        return True


def describe(exc: BaseException) -> str:
    """A short error description safe to store and log: kinds and codes, never payloads."""
    name = type(exc).__name__
    if isinstance(exc, HTTPError):
        return f"{name}: HTTP {exc.code}"
    if isinstance(exc, URLError):
        reason = exc.reason
        if isinstance(reason, OSError):
            return f"{name}: {type(reason).__name__} {reason.strerror or ''}".strip()
        return f"{name}: {type(reason).__name__}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name}: SMTP {exc.smtp_code}"
    if isinstance(exc, OSError):
        return f"{name}: {exc.strerror or ''}".strip().rstrip(":")
    if isinstance(exc, RuntimeError):
        # Our own errors (and the delivery plugins') carry fixed sentences, never content.
        return f"{name}: {str(exc)[:300]}"
    return name


def alert_addresses(session: Session, settings: Settings) -> list[str]:
    """Every admin a failing police forward is told to: the district's alert addresses and
    each active district-admin account."""
    accounts = session.scalars(select(Staff.email).where(Staff.role == "admin", Staff.active))
    return sorted({a.lower() for a in (*settings.district.admin_alerts, *accounts)})


def _queue_alerts(session: Session, addresses: list[str], row: Delivery, at: datetime, key: tuple[str, ...],
                  subject: str, **extra: object) -> None:
    for address in addresses:
        session.add(Delivery(
            tip_id=row.tip_id, channel="smtp", destination=address, purpose=ALERT_PURPOSE,
            reason=f"Delivery {row.id} failed {row.attempts} times.", subject=subject,
            body={"failed_delivery": row.id, "failed_purpose": row.purpose, "failed_channel": row.channel,
                  "attempts": row.attempts, **extra},
            idempotency_key=outbox.idempotency_key(*key, address),
            next_attempt_at=at, created_at=at,
        ))


def _police_failing(session: Session, settings: Settings, row: Delivery, at: datetime) -> None:
    """A forward failing for ``POLICE_ALERT_AFTER`` needs a person: alert every admin, then
    again every ``POLICE_REALERT_EVERY`` while it is neither delivered nor handled."""
    assert row.failing_since is not None
    failing = at - row.failing_since
    if failing < POLICE_ALERT_AFTER:
        return
    if row.escalated_at is None:
        row.escalated_at = at
        audit.record(session, "worker", audit.DELIVERY_ESCALATED, tip_id=row.tip_id, at=at, delivery=row.id,
                     attempts=row.attempts, purpose=row.purpose)
    elif row.last_alert_at is not None and at - row.last_alert_at < POLICE_REALERT_EVERY:
        return
    row.alerted = True
    row.alerts_sent += 1
    row.last_alert_at = at
    addresses = alert_addresses(session, settings)
    minutes = int(failing // MINUTE)
    _queue_alerts(session, addresses, row, at, ("alert", str(row.id), str(row.alerts_sent)),
                  f"URGENT Tipline: a {row.purpose} forward has failed for {minutes} minutes",
                  failing_minutes=minutes, repeat=row.alerts_sent)
    log.error("%s forward %s has failed for %d minutes (%d attempts); it needs a person; alert %d queued "
              "for %d admin address(es)", row.purpose, row.id, minutes, row.attempts, row.alerts_sent,
              len(addresses))


def mark_failed(session_factory: SessionFactory, settings: Settings, delivery_id: int, error: str,
                now: datetime, rng: random.Random | None = None) -> Delivery | None:
    """Count a failed attempt and schedule the next with backoff. A notification alerts the
    admins once after ``ALERT_AFTER`` failures; a police or welfare forward escalates (see
    ``_police_failing``)."""
    with session_factory() as session, session.begin():
        row = session.get(Delivery, delivery_id, with_for_update=True)
        if row is None or row.state in FINAL_STATES:
            return row
        at = attempt_minute(row.next_attempt_at, now)
        police = row.purpose in POLICE_PURPOSES
        row.attempts += 1
        row.locked_until = None
        row.last_error = error[:500]
        if row.failing_since is None:
            row.failing_since = at
        row.next_attempt_at = at + backoff(row.attempts, rng, police=police)
        audit.record(session, "worker", audit.DELIVERY_FAILED, tip_id=row.tip_id, at=at, delivery=row.id,
                     attempts=row.attempts, purpose=row.purpose)
        if police:
            _police_failing(session, settings, row, at)
        elif row.attempts >= ALERT_AFTER and not row.alerted and row.purpose != ALERT_PURPOSE:
            row.alerted = True
            _queue_alerts(session, list(settings.district.admin_alerts), row, at, ("alert", str(row.id)),
                          f"Tipline: a {row.purpose} delivery is failing")
            log.warning("delivery %s failed %s times; alert queued for %d admin address(es)",
                        row.id, row.attempts, len(settings.district.admin_alerts))
        row.state = NEEDS_PERSON if row.escalated_at is not None else PENDING
        session.flush()
        session.expunge(row)
        return row


# --- a person takes a failing forward over -----------------------------------------------------

# Why a person ended a forward the worker could not deliver. Fixed choices, so nothing a
# person types about a tip is stored in the clear.
RESOLUTIONS: dict[str, str] = {
    "phoned_dispatch": "Phoned police dispatch and gave them the tip",
    "other_means": "Gave it to police another way (in person, the department's portal)",
    "police_aware": "Police already had it or were already there",
    "not_for_police": "The threat team decided it is not for police (recorded on the tip)",
}
DISCLOSING_RESOLUTIONS = frozenset({"phoned_dispatch", "other_means"})
REFERENCE = re.compile(r"^[A-Za-z0-9#/ .-]{0,40}$")


class HandlingError(ValueError):
    """The forward cannot be marked handled; the message says why, for the person."""


@dataclass(frozen=True)
class Alarm:
    """Police or welfare forwards that have not reached the police in time: the console banner."""

    count: int
    needs_person: int
    since: datetime


def police_alarm(session: Session, now: datetime) -> Alarm | None:
    """Forwards failing, or waiting longer than ``POLICE_ALERT_AFTER`` (the worker may be down)."""
    open_forward = and_(Delivery.purpose.in_(POLICE_PURPOSES), Delivery.state.not_in(FINAL_STATES))
    late = or_(Delivery.attempts > 0, Delivery.created_at <= now - POLICE_ALERT_AFTER)
    count, needs_person, since = session.execute(
        select(func.count(), func.count(case((Delivery.state == NEEDS_PERSON, 1))), func.min(Delivery.created_at))
        .where(open_forward, late)).one()
    if not count:
        return None
    return Alarm(int(count), int(needs_person), since)  # min() keeps the column's type: an aware time


def mark_handled(session: Session, delivery_id: int, actor: str, resolution: str, reference: str,
                 now: datetime) -> Delivery:
    """A person took a police or welfare forward over (in the caller's transaction): the worker
    stops retrying it, the audit log says who and why, and a forward the person passed on
    themselves is recorded as a FERPA disclosure on their decision."""
    if resolution not in RESOLUTIONS:
        raise HandlingError("Choose what was done with the forward.")
    reference = reference.strip()
    if not REFERENCE.match(reference):
        raise HandlingError("The dispatch reference may hold letters, digits, spaces and # / . - "
                            "(at most 40): an incident number, never details of the tip.")
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None or row.purpose not in POLICE_PURPOSES:
        raise HandlingError("There is no police or welfare forward with that number.")
    if row.state in FINAL_STATES:
        raise HandlingError(f"That forward is already {row.state}.")
    at = to_minute(now)
    row.state = HANDLED
    row.locked_until = None
    row.resolved_by = actor
    row.resolved_at = at
    row.resolution = resolution
    row.resolution_ref = reference or None
    audit.record(session, actor, audit.DELIVERY_HANDLED, tip_id=row.tip_id, delivery=row.id, purpose=row.purpose,
                 resolution=resolution, reference=reference or None, attempts=row.attempts)
    if resolution in DISCLOSING_RESOLUTIONS:
        session.add(Disclosure(
            tip_id=row.tip_id, delivery_id=row.id, recipient=f"{row.purpose} by a person, for {row.channel}:"
            f"{row.destination}"[:500], what=f"what {actor} passed on: {RESOLUTIONS[resolution].lower()}",
            why=f"{row.reason or row.purpose} Decided by {actor}."
            + (f" Dispatch reference {reference}." if reference else ""),
            decided_by=actor, disclosed_at=at,
        ))
    log.warning("%s forward %s marked handled (%s) by a person", row.purpose, row.id, resolution)
    return row


# --- one delivery, one run --------------------------------------------------------------------


def deliver_one(session_factory: SessionFactory, pm: pluggy.PluginManager, settings: Settings,
                delivery_id: int, now: datetime, rng: random.Random | None = None) -> bool:
    """Send one claimed row and record the outcome. Returns True when it was delivered.

    A failure to prepare or send is recorded and retried. A failure to *record* success
    propagates: the row stays ``sending`` and is sent again after its lease.
    """
    try:
        prepared = prepare(session_factory, settings, delivery_id)
        send(pm, prepared.outgoing)
    except Exception as exc:
        error = describe(exc)
        row = mark_failed(session_factory, settings, delivery_id, error, now, rng)
        if row is not None:
            log.warning("delivery %s attempt %s failed (%s); next attempt at %s", delivery_id, row.attempts,
                        error, row.next_attempt_at.isoformat())
        return False
    mark_sent(session_factory, prepared, now)
    log.info("delivery %s sent (%s over %s)", delivery_id, prepared.outgoing.purpose, prepared.outgoing.channel)
    return True


def escalate(session_factory: SessionFactory, settings: Settings, now: datetime) -> None:
    """On-call pages: send new ones and escalate the unacknowledged (see tipline.oncall)."""
    try:
        with session_factory() as session, session.begin():
            oncall.escalate_due(session, settings, now)
    except Exception as exc:  # deliveries still go out; the next pass tries again
        log.error("on-call escalation failed (%s); trying again next pass", describe(exc))


def process_due(session_factory: SessionFactory, pm: pluggy.PluginManager, settings: Settings,
                now: datetime | None = None, lease: timedelta = DEFAULT_LEASE,
                rng: random.Random | None = None, stop: threading.Event | None = None) -> RunResult:
    """Deliver everything due, one claimed row at a time (so a lease covers one send)."""
    result = RunResult()
    seen: set[int] = set()
    escalate(session_factory, settings, now or utcnow())
    while stop is None or not stop.is_set():
        moment = now or utcnow()
        ids = claim_due(session_factory, moment, lease, limit=1, exclude=seen)
        if not ids:
            break
        for delivery_id in ids:
            seen.add(delivery_id)
            try:
                if deliver_one(session_factory, pm, settings, delivery_id, moment, rng):
                    result.sent += 1
                else:
                    result.failed += 1
            except Exception as exc:
                result.interrupted += 1
                log.error("delivery %s: the outcome could not be recorded (%s); it stays 'sending' and is "
                          "retried after its lease", delivery_id, describe(exc))
    return result


def run_once(settings: Settings, pm: pluggy.PluginManager, now: datetime | None = None,
             lease: timedelta = DEFAULT_LEASE, rng: random.Random | None = None,
             session_factory: SessionFactory | None = None) -> int:
    """Deliver what is due at ``now`` (the clock when None). Returns how many were delivered."""
    if session_factory is not None:
        return process_due(session_factory, pm, settings, now, lease, rng).sent
    engine = make_engine(settings.database_url)
    try:
        return process_due(sessionmaker(engine), pm, settings, now, lease, rng).sent
    finally:
        engine.dispose()


# --- the command ------------------------------------------------------------------------------


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between looks at the outbox when it is empty.")
def worker_command(once: bool, interval: float) -> None:
    """Deliver outbox rows: police forwards, staff notifications, alerts."""
    if not logging.getLogger().handlers:
        # Minutes only: a line naming a delivery seconds after a tip arrived must not date it.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s",
                            datefmt="%Y-%m-%d %H:%M %Z")
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    pm = hooks.make_manager(settings.plugins)
    engine = make_engine(settings.database_url)
    factory = sessionmaker(engine)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the current delivery, then stopping", signum)
        stop.set()

    try:
        if once:
            result = process_due(factory, pm, settings)
            click.echo(f"{result.sent} delivered, {result.failed} failed, {result.interrupted} interrupted.")
            return
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        log.info("worker started")
        while not stop.is_set():
            try:
                process_due(factory, pm, settings, stop=stop)
            except Exception as exc:  # the database may be briefly away: keep the worker alive
                log.error("outbox run failed (%s); trying again", describe(exc))
            stop.wait(interval)
        log.info("worker stopped")
    finally:
        engine.dispose()
