"""Writing deliveries into the outbox, in the same transaction as the tip they concern."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from tipline.config import ENDPOINT, District
from tipline.models import Delivery, Staff
from tipline.orm import to_minute
from tipline.types import RouteAction, Triage, parse_staff_target, staff_target

log = logging.getLogger(__name__)

FOLLOWUP = "followup"
# Routing's page actions are queued by the on-call module, with acknowledgement and escalation.
PAGE = "page"
# The district file's staff lists, read only when no console account holds a role.
FILE_FALLBACK = {"school-admin": "administrators", "sro": "officers", "counselor": "counselors"}


def _accounts(session: Session, role: str, school: str | None) -> list[str]:
    """Active console accounts with ``role`` at ``school``, plus the role's district-wide members."""
    where = or_(Staff.school.is_(None), Staff.school == school) if school else Staff.school.is_(None)
    return list(session.scalars(select(Staff.email).where(Staff.active.is_(True), Staff.role == role, where)
                                .order_by(Staff.email)))


def _file_addresses(district: District | None, role: str, school: str | None) -> tuple[str, ...]:
    if district is None:
        return ()
    if role == "admin":
        return district.admin_alerts
    cfg = district.schools.get(school) if school else None
    field = FILE_FALLBACK.get(role)
    return tuple(getattr(cfg, field)) if cfg is not None and field else ()


def resolve(session: Session, district: District | None, target: str, reason: str) -> list[tuple[str, str]]:
    """The (email, reason) pairs a notify target reaches.

    A ``role:`` target goes to the console accounts holding that role at that school (and the
    role's district-wide members); with none, to the district file's addresses for the role,
    so nothing goes untold; with none there either, to the district admins, saying so. A plain
    address (a third-party plugin's) is used as it is.
    """
    spec = parse_staff_target(target)
    if spec is None:
        return [(target, reason)]
    role, school = spec
    accounts = _accounts(session, role, school)
    if accounts:
        return [(email, reason) for email in accounts]
    where = f"at {school}" if school else "district-wide"
    listed = _file_addresses(district, role, school)
    if listed:
        return [(email, f"{reason} (No console account holds the {role} role {where}: sent to the district "
                 "file's address for it.)") for email in listed]
    if role == "admin":
        log.warning("no district admin to tell: no admin account and no admin.alerts address")
        return []
    return resolve(session, district, staff_target("admin", None),
                   f"Nobody holds the {role} role {where}: the district admins are told instead. {reason}")


def _recipients(session: Session, district: District | None,
                targets: list[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """Each email once, with the first (reason, purpose) that reached it, from (target, reason, purpose)."""
    out: dict[str, tuple[str, str]] = {}
    for target, reason, purpose in targets:
        for email, why in resolve(session, district, target, reason):
            out.setdefault(email, (why, purpose))
    return out


def idempotency_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def endpoint(district: District, name: str, school: str | None = None) -> tuple[str, str]:
    match = ENDPOINT.match(district.police_endpoint(name, school) or "")
    if match is None:
        raise LookupError(f"no police endpoint named {name!r} in the district configuration")
    return match["channel"], match["destination"]


def enqueue_for_tip(session: Session, district: District, tip_id: str, school: str | None,
                    triage: Triage, actions: list[RouteAction], now: datetime) -> int:
    """One delivery per staff email a notify action reaches and per forward. Staff notifications
    say a tip arrived and where to look; they carry no tip content. ``page`` actions are left to
    the on-call module. Returns how many were queued.

    Stored times are the tip's minute, never ``now``'s second: the worker derives every later
    time (retries, sent, disclosure) from it."""
    now = to_minute(now)
    rows: list[dict[str, object]] = []
    notices = [(a.target, a.reason, a.purpose or "notify") for a in actions if a.kind == "notify"]
    for email, (reason, purpose) in _recipients(session, district, notices).items():
        rows.append(dict(
            tip_id=tip_id, channel="smtp", destination=email, purpose=purpose,
            reason=reason,
            subject=f"Tipline: new {triage.priority} tip for {school or 'the district'}",
            body={"tip": tip_id, "school": school, "workflows": list(triage.workflows),
                  "priority": triage.priority, "reason": reason},
            idempotency_key=idempotency_key(tip_id, "notify", email),
            next_attempt_at=now, created_at=now,
        ))
    for action in actions:
        if action.kind in ("notify", PAGE):
            continue
        if action.kind == "forward":
            channel, destination = endpoint(district, action.target, school)
            rows.append(dict(
                tip_id=tip_id, channel=channel, destination=destination, purpose=action.purpose or "police",
                reason=action.reason, subject=f"Tipline {action.target}: tip for {school or 'the district'}",
                body={"tip": tip_id, "endpoint": action.target},
                idempotency_key=idempotency_key(tip_id, "forward", action.target),
                next_attempt_at=now, created_at=now,
            ))
        else:
            raise ValueError(f"unknown route action kind {action.kind!r}")
    if rows:
        session.execute(insert(Delivery), rows)
    return len(rows)


def enqueue_forward(session: Session, district: District, tip_id: str, school: str | None, target: str,
                    purpose: str, reason: str, now: datetime, key_parts: tuple[str, ...] = (),
                    extra: dict[str, object] | None = None) -> Delivery:
    """One more police forward of a tip (a member's decision, or a reporter's follow-up).

    ``key_parts`` make its idempotency key differ from the intake forward's and stay stable
    across retries of the same decision or follow-up.
    """
    channel, destination = endpoint(district, target, school)
    row = Delivery(
        tip_id=tip_id, channel=channel, destination=destination, purpose=purpose, reason=reason,
        subject=f"Tipline {target}: tip for {school or 'the district'}",
        body={"tip": tip_id, "endpoint": target, **(extra or {})},
        idempotency_key=idempotency_key(tip_id, "forward", target, *key_parts),
        next_attempt_at=now, created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def enqueue_followup_notices(session: Session, tip_id: str, school: str | None, message_id: int,
                             workflows: list[str], priority: str, targets: list[str], now: datetime,
                             district: District | None = None) -> int:
    """Tell the tip's team the reporter added something: no content, the priority in the subject.
    ``targets`` are addresses or ``role:`` targets, resolved as for a new tip."""
    reason = "The reporter added a message or file to a tip."
    recipients = _recipients(session, district, [(t, reason, FOLLOWUP) for t in dict.fromkeys(targets)])
    rows = [dict(
        tip_id=tip_id, channel="smtp", destination=target, purpose=FOLLOWUP,
        reason=why,
        subject=f"Tipline: reporter follow-up on a {priority} tip for {school or 'the district'}",
        body={"tip": tip_id, "school": school, "workflows": workflows, "priority": priority,
              "followup": message_id},
        idempotency_key=idempotency_key(tip_id, FOLLOWUP, str(message_id), target),
        next_attempt_at=now, created_at=now,
    ) for target, (why, _) in recipients.items()]
    if rows:
        session.execute(insert(Delivery), rows)
    return len(rows)
