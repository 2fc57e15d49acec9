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
- **Retries.** A failure puts the row back to ``pending`` with exponential backoff and
  jitter. After ``ALERT_AFTER`` failed attempts one alert per ``admin.alerts`` address is
  queued (no tip content), and the row keeps being retried: a police forward is never
  dropped.
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
import signal
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any
from urllib.error import HTTPError, URLError

import click
import pluggy
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tipline import audit, crypto, intake, keyring, outbox, reading
from tipline import plugins as hooks
from tipline.config import ConfigError, Settings, load_settings
from tipline.models import Delivery, Disclosure, Inbox, InboxKey, Tip, TipKey
from tipline.orm import make_engine, to_minute, utcnow
from tipline.types import OutgoingDelivery

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]

POLICE_PURPOSES = frozenset({"police", "welfare"})
ALERT_PURPOSE = "alert"
ALERT_AFTER = 5
DEFAULT_LEASE = timedelta(seconds=120)
BASE_DELAY = 30
MAX_DELAY = 3600
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


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay before the next try after ``attempts`` failures: doubling, capped, jittered."""
    base = min(MAX_DELAY, BASE_DELAY * 2 ** min(attempts, 20))
    return timedelta(seconds=base * (rng or random).uniform(0.5, 1.5))


def _due(now: datetime) -> Any:
    return or_(
        and_(Delivery.state == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.state == "sending", or_(Delivery.locked_until.is_(None), Delivery.locked_until <= now)),
    )


# --- claiming ---------------------------------------------------------------------------------


def claim_due(session_factory: SessionFactory, now: datetime, lease: timedelta = DEFAULT_LEASE,
              limit: int = 1) -> list[int]:
    """Claim up to ``limit`` due rows for this worker; return their ids (oldest due first).

    Due: ``pending`` whose time has come, or ``sending`` whose lease has expired (a worker died
    mid-delivery). Claimed rows become ``sending`` with ``locked_until = now + lease``.
    """
    candidates = select(Delivery.id).where(_due(now)).order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
    claim = update(Delivery).values(state="sending", locked_until=now + lease).execution_options(
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
        body["text"] = (
            f"A Tipline delivery keeps failing: delivery {failed} ({row.body.get('failed_purpose')} over "
            f"{row.body.get('failed_channel')}) has failed {row.body.get('attempts')} times and is still being "
            f"retried.\nTip reference: {row.tip_id or '-'}\nCheck the delivery settings and the endpoint. "
            "Sign in to the Tipline console for details. This message contains no tip content.\n")
        return body
    body["text"] = (
        f"A new tip needs attention in the Tipline console.\n\n"
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
    files: list[tuple[str, str, bytes]] = []
    for att in tip.attachments:
        if att.message_id is not None:
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
    expired: the receiver de-duplicates, and the disclosure is recorded once)."""
    out = prepared.outgoing
    with session_factory() as session, session.begin():
        result = session.execute(
            update(Delivery).where(Delivery.id == out.id, Delivery.state != "sent")
            .values(state="sent", sent_at=now, locked_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        tip_id, reason = session.execute(
            select(Delivery.tip_id, Delivery.reason).where(Delivery.id == out.id)).one()
        audit.record(session, "worker", audit.DELIVERY_SENT, tip_id=tip_id, delivery=out.id, purpose=out.purpose,
                     channel=out.channel)
        if out.purpose in POLICE_PURPOSES:
            session.add(Disclosure(
                tip_id=tip_id, delivery_id=out.id, recipient=f"{out.channel}:{out.destination}",
                what=prepared.disclosed or "", why=reason or f"{out.purpose} forward",
                decided_by=prepared.decided_by or "routing", disclosed_at=to_minute(now),
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


def mark_failed(session_factory: SessionFactory, settings: Settings, delivery_id: int, error: str,
                now: datetime, rng: random.Random | None = None) -> Delivery | None:
    """Count a failed attempt, schedule the next with backoff, and after ``ALERT_AFTER``
    failures queue one alert per admin address (once per delivery)."""
    with session_factory() as session, session.begin():
        row = session.get(Delivery, delivery_id, with_for_update=True)
        if row is None or row.state == "sent":
            return row
        row.attempts += 1
        row.state = "pending"
        row.locked_until = None
        row.last_error = error[:500]
        row.next_attempt_at = now + backoff(row.attempts, rng)
        audit.record(session, "worker", audit.DELIVERY_FAILED, tip_id=row.tip_id, delivery=row.id,
                     attempts=row.attempts, purpose=row.purpose)
        if row.attempts >= ALERT_AFTER and not row.alerted and row.purpose != ALERT_PURPOSE:
            row.alerted = True
            for address in settings.district.admin_alerts:
                session.add(Delivery(
                    tip_id=row.tip_id, channel="smtp", destination=address, purpose=ALERT_PURPOSE,
                    reason=f"Delivery {row.id} failed {row.attempts} times.",
                    subject=f"Tipline: a {row.purpose} delivery is failing",
                    body={"failed_delivery": row.id, "failed_purpose": row.purpose,
                          "failed_channel": row.channel, "attempts": row.attempts},
                    idempotency_key=outbox.idempotency_key("alert", str(row.id), address),
                    next_attempt_at=now, created_at=now,
                ))
            log.warning("delivery %s failed %s times; alert queued for %d admin address(es)",
                        row.id, row.attempts, len(settings.district.admin_alerts))
        session.flush()
        session.expunge(row)
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


def process_due(session_factory: SessionFactory, pm: pluggy.PluginManager, settings: Settings,
                now: datetime | None = None, lease: timedelta = DEFAULT_LEASE,
                rng: random.Random | None = None, stop: threading.Event | None = None) -> RunResult:
    """Deliver everything due, one claimed row at a time (so a lease covers one send)."""
    result = RunResult()
    seen: set[int] = set()
    while stop is None or not stop.is_set():
        moment = now or utcnow()
        ids = [i for i in claim_due(session_factory, moment, lease, limit=1) if i not in seen]
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
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
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
