"""A police forward that keeps failing must never go quiet; police email only over TLS.

Real servers on loopback (an HTTP receiver that fails and then recovers, aiosmtpd with and
without STARTTLS) and a fixed clock: every run of the worker is given its ``now``.
"""

from __future__ import annotations

import json
import re
import smtplib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console_support import create_member, login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from servers import HTTPServer, SMTPServer, self_signed
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_worker import ADMINS, OUT_OF_HOURS, World, decoded, make_world

from plugins import smtp as smtp_plugin
from tipline import audit
from tipline.models import AuditEntry, Delivery
from tipline.orm import make_engine
from tipline.types import OutgoingDelivery

GUN = "he is bringing a gun to school tomorrow MARKER-police-77"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def world(config: dict[str, Any], engine: Engine, smtp_server: SMTPServer, http_server: HTTPServer) -> World:
    return make_world(config, engine, smtp_server, http_server)


def police_row(world: World) -> Delivery:
    [row] = world.deliveries(purpose="police")
    return row


def alert_batches(world: World) -> list[int]:
    """How many alert emails each failing-forward alert round queued, in order."""
    rounds: dict[int, int] = {}
    for row in world.deliveries(purpose="alert"):
        n = int(row.body.get("repeat") or 1)
        rounds[n] = rounds.get(n, 0) + 1
    return [rounds[k] for k in sorted(rounds)]


def fail_until(world: World, start: datetime, until: datetime) -> list[datetime]:
    """Run the worker each time the forward is due, up to ``until``; return the attempt times."""
    tried = []
    now = start
    while now <= until:
        world.run(now)
        tried.append(now)
        now = police_row(world).next_attempt_at
    return tried


# --- retries, alerts, the person's state -----------------------------------------------------


def test_failing_police_forward_retries_every_few_minutes_alerts_all_admins_hourly_then_recovers(
        world: World, csrf_off: Flask, client: FlaskClient, db: Session, instance: Path) -> None:
    admin = setup_admin(client, instance)  # an admin account: alerted too, besides admin.alerts
    tip_id = world.submit(GUN, OUT_OF_HOURS)
    world.http.status = 503

    tried = fail_until(world, OUT_OF_HOURS, OUT_OF_HOURS + timedelta(minutes=2, seconds=59))
    row = police_row(world)
    assert row.state == "pending" and world.deliveries(purpose="alert") == []  # not yet: first minutes

    tried += fail_until(world, row.next_attempt_at, OUT_OF_HOURS + timedelta(hours=2, minutes=10))
    gaps = [b - a for a, b in zip(tried, tried[1:], strict=False)]
    assert max(gaps) <= timedelta(minutes=5), "a police forward is retried at most a few minutes apart"

    row = police_row(world)
    assert row.state == "needs_person" and row.escalated_at is not None
    assert row.escalated_at - OUT_OF_HOURS <= timedelta(minutes=5)
    recipients = sorted({*ADMINS, admin.email})
    # One round after the first minutes, then one an hour: at ~0h03, ~1h03, ~2h03.
    assert alert_batches(world) == [len(recipients)] * 3
    alerts = world.deliveries(purpose="alert")
    assert {a.state for a in alerts} == {"sent"}
    for address in recipients:
        # The admin account also had the threat's notice (nobody holds the threat-team role at
        # SHS here, so the district admins are told): count the alerts.
        mails = [m for m in world.smtp.to(address)
                     if "needs a person" in decoded(m) and "you are on call" not in decoded(m)]
        assert len(mails) == 3
        for mail in mails:
            body = decoded(mail)
            assert "MARKER-police-77" not in body and "gun" not in body
            assert tip_id in body and "needs a person" in body
    assert len({a.idempotency_key for a in alerts}) == len(alerts)

    # Dispatch comes back: delivered at the next try, once, and then quiet.
    world.http.status = 200
    assert world.run(row.next_attempt_at) == 1
    row = police_row(world)
    assert row.state == "sent"
    keys = {r.header("Idempotency-Key") for r in world.http.requests}
    assert keys == {row.idempotency_key}
    assert [r.path for r in world.http.requests].count("/dispatch") == len(tried) + 1
    assert len(world.disclosures()) == 1
    world.run(row.next_attempt_at + timedelta(hours=3))
    assert alert_batches(world) == [len(recipients)] * 3
    with world.factory() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.tip_id == tip_id)))
        assert actions.count("delivery_escalated") == 1 and actions[-1] == "delivery_sent"
        assert audit.verify(session).ok
    assert login(client, admin) == 302


def test_a_person_marks_the_failing_forward_handled_and_the_worker_stops(
        world: World, csrf_off: Flask, client: FlaskClient, instance: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = setup_admin(client, instance)
    assert login(client, admin) == 302
    tip_id = world.submit(GUN, OUT_OF_HOURS)
    world.http.status = 503
    fail_until(world, OUT_OF_HOURS, OUT_OF_HOURS + timedelta(minutes=10))
    row = police_row(world)
    assert row.state == "needs_person"
    monkeypatch.setattr("tipline.db.utcnow", lambda: OUT_OF_HOURS + timedelta(minutes=11, seconds=17))

    # A free-text reason is refused: nothing a person types about a tip is stored in clear.
    bad = client.post(f"/console/deliveries/{row.id}/handled", data={"resolution": "told them about the gun"})
    assert bad.status_code == 400 and police_row(world).state == "needs_person"
    bad = client.post(f"/console/deliveries/{row.id}/handled",
                      data={"resolution": "phoned_dispatch", "reference": "he has a gun; call me!"})
    assert bad.status_code == 400 and police_row(world).state == "needs_person"

    done = client.post(f"/console/deliveries/{row.id}/handled",
                       data={"resolution": "phoned_dispatch", "reference": "CAD 2026-1142"})
    assert done.status_code == 302
    row = police_row(world)
    assert (row.state, row.resolution, row.resolution_ref, row.resolved_by) == (
        "handled", "phoned_dispatch", "CAD 2026-1142", admin.email)
    assert row.resolved_at == OUT_OF_HOURS + timedelta(minutes=11)
    with world.factory() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "delivery_handled"))
        assert entry.actor == admin.email and entry.tip_id == tip_id
        assert entry.detail["resolution"] == "phoned_dispatch" and entry.detail["delivery"] == row.id
    [disclosure] = world.disclosures()
    assert admin.email in disclosure.why and "CAD 2026-1142" in disclosure.why
    page = client.get("/console/deliveries").get_data(as_text=True)
    assert 'id="police-alarm"' not in page and "CAD 2026-1142" in page

    # The worker leaves it alone from now on: no more tries, no more alerts.
    before_requests, before_alerts = len(world.http.requests), len(world.deliveries(purpose="alert"))
    world.http.status = 200
    world.run(OUT_OF_HOURS + timedelta(hours=5))
    assert len(world.http.requests) == before_requests
    assert len(world.deliveries(purpose="alert")) == before_alerts
    again = client.post(f"/console/deliveries/{row.id}/handled", data={"resolution": "police_aware"})
    assert again.status_code == 400


# --- what staff see ------------------------------------------------------------------------------


def test_every_console_page_shows_a_banner_while_a_police_forward_is_failing(
        world: World, csrf_off: Flask, client: FlaskClient, db: Session, instance: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = csrf_off
    admin = setup_admin(client, instance)
    counselor = create_member(app, db, "counselor.shs@westport.example.org", "counselor", "SHS", granter=admin)
    world.submit(GUN, OUT_OF_HOURS)
    assert login(client, admin) == 302
    monkeypatch.setattr("tipline.db.utcnow", lambda: OUT_OF_HOURS + timedelta(minutes=1))
    assert 'id="police-alarm"' not in client.get("/console/").get_data(as_text=True)

    world.http.status = 503
    world.run(OUT_OF_HOURS)
    for path in ("/console/", "/console/team", "/console/stats", "/console/deliveries", "/console/audit"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="police-alarm"' in page, path
    assert "/console/deliveries" in client.get("/console/stats").get_data(as_text=True)

    other = app.test_client()
    monkeypatch.undo()  # signing in checks a real time-based code
    assert login(other, counselor) == 302
    monkeypatch.setattr("tipline.db.utcnow", lambda: OUT_OF_HOURS + timedelta(minutes=1))
    page = other.get("/console/").get_data(as_text=True)
    assert 'id="police-alarm"' in page and "phone police dispatch" in page
    assert 'id="police-alarm"' not in app.test_client().get("/console/login").get_data(as_text=True)

    world.http.status = 200
    world.run(police_row(world).next_attempt_at)
    assert 'id="police-alarm"' not in client.get("/console/").get_data(as_text=True)


def test_banner_also_shows_a_forward_nobody_has_tried_for_minutes(
        world: World, csrf_off: Flask, client: FlaskClient, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker is down: no attempt, no alert email; the console still says so."""
    admin = setup_admin(client, instance)
    world.submit(GUN, OUT_OF_HOURS)
    assert login(client, admin) == 302
    monkeypatch.setattr("tipline.db.utcnow", lambda: OUT_OF_HOURS + timedelta(minutes=1))
    assert 'id="police-alarm"' not in client.get("/console/").get_data(as_text=True)
    monkeypatch.setattr("tipline.db.utcnow", lambda: OUT_OF_HOURS + timedelta(minutes=4))
    assert 'id="police-alarm"' in client.get("/console/").get_data(as_text=True)


def test_deliveries_page_lists_police_forwards_and_failures_first_in_pages(
        world: World, csrf_off: Flask, client: FlaskClient, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = setup_admin(client, instance)
    earlier, later = OUT_OF_HOURS - timedelta(days=2), OUT_OF_HOURS + timedelta(days=1)
    with world.factory() as session, session.begin():  # a pile of old notifications, waiting
        session.add_all(Delivery(channel="smtp", destination=f"staff{i}@westport.example.org", purpose="notify",
                                 subject="s", body={}, idempotency_key=f"pile-{i}", next_attempt_at=later,
                                 created_at=earlier + timedelta(minutes=i % 50)) for i in range(240))
        session.add(Delivery(channel="smtp", destination="broken@westport.example.org", purpose="notify",
                             subject="s", body={}, idempotency_key="failing-notice", attempts=3,
                             last_error="SMTPRecipientsRefused", next_attempt_at=later,
                             created_at=OUT_OF_HOURS))
    world.submit(GUN, OUT_OF_HOURS + timedelta(minutes=5))
    world.http.status = 503
    world.run(OUT_OF_HOURS + timedelta(minutes=5))  # the forward fails; nothing else is due
    police = police_row(world)
    failing = world.deliveries(idempotency_key="failing-notice")[0]
    assert login(client, admin) == 302
    monkeypatch.setattr("tipline.db.utcnow", lambda: OUT_OF_HOURS + timedelta(minutes=6))

    first = client.get("/console/deliveries").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'id="delivery-(\d+)"', first)]
    assert order[:2] == [police.id, failing.id]
    assert len(order) == 50
    assert "Page 1 of 5" in first and 'rel="next"' in first
    seen = set(order)
    for page in range(2, 6):
        html = client.get(f"/console/deliveries?page={page}").get_data(as_text=True)
        ids = [int(i) for i in re.findall(r'id="delivery-(\d+)"', html)]
        assert police.id not in ids and not seen & set(ids)
        seen |= set(ids)
    assert len(seen) == 242
    for page_arg in ("999", str(2**70), "-3", "x"):
        assert client.get(f"/console/deliveries?page={page_arg}").status_code == 200


# --- SMTP: police forwards only over TLS -----------------------------------------------------------


def forward(url: str, purpose: str = "police") -> OutgoingDelivery:
    return OutgoingDelivery(id=3, channel="smtp", destination="dispatch@westport-pd.example.org", purpose=purpose,
                            subject="Tipline dispatch", body={"text": "the tip MARKER-smtp-31"},
                            idempotency_key="k-smtp-3", settings={"smtp_url": url})


@pytest.mark.parametrize("purpose", ["police", "welfare"])
def test_smtp_police_forward_is_refused_in_clear_even_without_credentials(
        smtp_server: SMTPServer, purpose: str) -> None:
    with pytest.raises(smtp_plugin.SMTPTLSRequired):
        smtp_plugin.send(forward(smtp_server.url(), purpose))
    assert smtp_server.messages == []
    # A notification (no tip content) to a loopback relay still goes as before.
    smtp_plugin.send(forward(smtp_server.url(), "notify"))
    assert len(smtp_server.messages) == 1 and not smtp_server.messages[0].tls


def test_smtp_police_forward_with_credentials_on_loopback_is_refused_in_clear() -> None:
    server = SMTPServer(users={"relay": "secret-pass"}).start()
    try:
        with pytest.raises(smtp_plugin.SMTPTLSRequired):
            smtp_plugin.send(forward(server.url()))
        assert server.messages == []
    finally:
        server.stop()


@pytest.mark.parametrize("users", [None, {"relay": "secret-pass"}])
def test_smtp_police_forward_uses_starttls_when_offered_even_if_not_asked(
        tmp_path: Path, users: dict[str, str] | None) -> None:
    tls = self_signed(tmp_path)  # a throwaway certificate made with cryptography
    server = SMTPServer(users=users, tls=tls).start()
    try:
        smtp_plugin.send(forward(server.url(cafile=str(tls.cert))))  # no starttls=1 in the URL
        [mail] = server.messages
        assert mail.tls is True
        assert "MARKER-smtp-31" in "\n".join(mail.texts())
        assert mail.login == (None if users is None else "relay")
        # The certificate is still checked: without its CA the forward fails, unsent.
        with pytest.raises((OSError, smtplib.SMTPException)):
            smtp_plugin.send(forward(server.url()))
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_worker_keeps_retrying_a_police_email_forward_refused_in_clear(
        config: dict[str, Any], engine: Engine, smtp_server: SMTPServer, http_server: HTTPServer) -> None:
    world = make_world(config, engine, smtp_server, http_server, dispatch="smtp:dispatch@westport-pd.example.org")
    world.submit(GUN, OUT_OF_HOURS)
    # Only the school's notices and the on-call pages go out (they need no TLS to the local
    # relay); the forward does not.
    assert world.run(OUT_OF_HOURS) == len(world.deliveries(purpose="threat")) + len(world.deliveries(purpose="page"))
    row = police_row(world)
    assert row.state == "pending" and row.attempts == 1
    assert row.last_error is not None and "STARTTLS" in row.last_error
    assert smtp_server.to("dispatch@westport-pd.example.org") == []
    assert "MARKER-police-77" not in json.dumps([m.raw.decode(errors="replace") for m in smtp_server.messages])
