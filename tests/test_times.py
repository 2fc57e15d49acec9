"""Nothing stored may place a tip's arrival more precisely than its minute.

Two tips arrive in the same minute, 50 seconds apart; the worker handles each a couple of
seconds after it arrives (fails, retries, delivers). Every time stored about them (deliveries,
the disclosure, the audit entries) must be a whole minute and the same for both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import HTTPServer, SMTPServer
from sqlalchemy import Engine, create_engine, select, text
from test_worker import OUT_OF_HOURS, World, make_world

from tipline import migrate
from tipline.models import AuditEntry, Delivery, Disclosure
from tipline.orm import UTCDateTime, make_engine, to_minute

GUN = "he is bringing a gun to school tomorrow"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def world(config: dict[str, Any], engine: Engine, smtp_server: SMTPServer, http_server: HTTPServer) -> World:
    return make_world(config, engine, smtp_server, http_server)


def stored_times(world: World, tip_id: str) -> dict[str, list[datetime | None]]:
    with world.factory() as session:
        deliveries = list(session.scalars(select(Delivery).where(Delivery.tip_id == tip_id).order_by(Delivery.id)))
        disclosures = list(session.scalars(select(Disclosure).where(Disclosure.tip_id == tip_id)))
        audit = list(session.scalars(select(AuditEntry.at).where(AuditEntry.tip_id == tip_id)
                                     .order_by(AuditEntry.id)))
        times: dict[str, list[datetime | None]] = {"audit": list(audit)}
        for column in ("created_at", "next_attempt_at", "sent_at", "locked_until", "failing_since"):
            times[column] = [getattr(d, column) for d in deliveries]
        times["disclosed_at"] = [d.disclosed_at for d in disclosures]
        return times


def test_two_tips_in_one_minute_leave_identical_whole_minute_times(world: World) -> None:
    first_at = OUT_OF_HOURS + timedelta(seconds=5, microseconds=123456)
    second_at = OUT_OF_HOURS + timedelta(seconds=55, microseconds=654321)
    world.http.status = 503
    first = world.submit(GUN, first_at)
    world.run(first_at + timedelta(seconds=2))
    second = world.submit(GUN, second_at)
    world.run(second_at + timedelta(seconds=2))  # 57s: the first one is not due again yet

    # The next tries, a few seconds after each became due, then delivery.
    retry = max(r.next_attempt_at for r in world.deliveries())
    world.run(retry + timedelta(seconds=3))
    world.http.status = 200
    world.run(max(r.next_attempt_at for r in world.deliveries()) + timedelta(seconds=4, microseconds=9))
    assert {r.state for r in world.deliveries()} == {"sent"}

    a, b = stored_times(world, first), stored_times(world, second)
    assert a["audit"] and a["disclosed_at"] and a["sent_at"]
    for name, values in a.items():
        for value in values:
            assert value is None or value == to_minute(value), f"{name} {value} is not a whole minute"
    assert a == b, "the stored times tell the two tips' seconds apart"


def test_migration_rounds_existing_delivery_and_disclosure_times(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0002")
    exact = datetime(2026, 10, 6, 2, 0, 37, 123456, tzinfo=UTC)
    sqlite = create_engine(url)
    try:
        with sqlite.begin() as conn:
            conn.execute(text(
                "INSERT INTO delivery (channel, destination, purpose, reason, subject, body, idempotency_key, state, "
                "attempts, next_attempt_at, created_at, sent_at, alerted) VALUES ('webhook', 'http://x', 'police', "
                "'r', 's', '{}', 'k1', 'sent', 1, :t, :t, :t, 0)"), {"t": exact.replace(tzinfo=None)})
            # Raw SQL: the table as it was at that revision, without columns added since.
            conn.execute(text("INSERT INTO disclosure (recipient, what, why, delivery_id, disclosed_at) "
                              "VALUES ('webhook:http://x', 'w', 'y', 1, :t)"), {"t": exact.replace(tzinfo=None)})
        migrate.upgrade(url)
        with sqlite.connect() as conn:
            row = conn.execute(select(Delivery.__table__.c.created_at, Delivery.__table__.c.next_attempt_at,
                                      Delivery.__table__.c.sent_at, Delivery.__table__.c.state,
                                      Delivery.__table__.c.alerts_sent)).one()
            disclosed = conn.execute(select(Disclosure.__table__.c.disclosed_at)).scalar_one()
        minute = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)
        assert tuple(row) == (minute, minute, minute, "sent", 0)
        assert disclosed == minute
        assert isinstance(Delivery.__table__.c.created_at.type, UTCDateTime)
    finally:
        sqlite.dispose()
