"""Writing deliveries into the outbox, in the same transaction as the tip they concern."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tipline.config import ENDPOINT, District
from tipline.models import Delivery
from tipline.orm import to_minute
from tipline.types import RouteAction, Triage


def idempotency_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def endpoint(district: District, name: str, school: str | None = None) -> tuple[str, str]:
    match = ENDPOINT.match(district.police_endpoint(name, school) or "")
    if match is None:
        raise LookupError(f"no police endpoint named {name!r} in the district configuration")
    return match["channel"], match["destination"]


def enqueue_for_tip(session: Session, district: District, tip_id: str, school: str | None,
                    triage: Triage, actions: list[RouteAction], now: datetime) -> int:
    """One delivery per notification address and per forward. Staff notifications say a tip
    arrived and where to look; they carry no tip content. Returns how many were queued.

    Stored times are the tip's minute, never ``now``'s second: the worker derives every later
    time (retries, sent, disclosure) from it."""
    now = to_minute(now)
    rows: list[dict[str, object]] = []
    for action in actions:
        if action.kind == "notify":
            rows.append(dict(
                tip_id=tip_id, channel="smtp", destination=action.target, purpose=action.purpose or "notify",
                reason=action.reason,
                subject=f"Tipline: new {triage.priority} tip for {school or 'the district'}",
                body={"tip": tip_id, "school": school, "workflows": list(triage.workflows),
                      "priority": triage.priority, "reason": action.reason},
                idempotency_key=idempotency_key(tip_id, "notify", action.target),
                next_attempt_at=now, created_at=now,
            ))
        elif action.kind == "forward":
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
