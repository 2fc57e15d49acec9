"""The outbox worker against a real database and real SMTP / HTTP servers on loopback.

Time is passed in (``now``) rather than waited for: a retry "an hour later" is a call with a
later ``now``. Most tests use a small stand-in triage plugin so they do not depend on the
workflow plugins' wording; the end-to-end test submits through the app with the real ones.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pluggy
import pytest
from click.testing import CliRunner
from flask import Flask
from PIL import Image
from servers import HTTPServer, Mail, SMTPServer, self_signed
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import plugins.routing_rules
import plugins.smtp
import plugins.webhook
from tipline import audit, intake, keyring, receipts, worker
from tipline import plugins as hooks
from tipline.app import create_app
from tipline.config import Settings, load_settings
from tipline.hookspecs import hookimpl
from tipline.models import AuditEntry, Delivery, Disclosure
from tipline.orm import make_engine
from tipline.types import TipDraft, Vote, Workflow
from tipline.uploads import CleanFile

SECRET = "shared-webhook-secret-for-tests"
ADMINS = ("tipline-admin@district.example.org", "it-oncall@district.example.org")
SENDER = "tipline@district.example.org"
# A Tuesday, 10:00 in Westport (EDT): Staples High is in session.
IN_HOURS = datetime(2026, 10, 6, 14, 0, tzinfo=UTC)
# The Monday before, 22:00 in Westport: outside school hours.
OUT_OF_HOURS = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)
SHS_STAFF = ("principal.shs@westport.example.org", "assistant-principals.shs@westport.example.org",
             "sro.shs@westport-pd.example.org")
SHS_COUNSELORS = ("counseling.shs@westport.example.org",)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


class StandInTriage:
    """Deterministic triage: 'gun' opens a threat marked for immediate police; 'hurt myself'
    opens wellbeing; anything else opens nothing."""

    @hookimpl
    def tipline_workflows(self) -> list[Workflow]:
        return [Workflow("threat", "Threat assessment"), Workflow("wellbeing", "Wellbeing")]

    @hookimpl
    def tipline_triage(self, tip: TipDraft) -> Vote | None:
        if "gun" in tip.text:
            return Vote(("threat",), "urgent", True, ("weapon", "immediate.dispatch", "police.weapon_at_school"))
        if "hurt myself" in tip.text:
            return Vote(("wellbeing",), "high", False, ("self_harm",))
        return None


@dataclass
class World:
    settings: Settings
    factory: sessionmaker[Session]
    pm: pluggy.PluginManager
    smtp: SMTPServer
    http: HTTPServer

    def submit(self, message: str, now: datetime, school: str | None = "SHS",
               files: tuple[CleanFile, ...] = ()) -> str:
        with self.factory() as session, session.begin():
            received = intake.receive(session, self.pm, self.settings.district,
                                      receipts.pepper_from_secret(self.settings.secret_key),
                                      intake.Report(message=message, category="threat", school=school,
                                                    contact="call me on 555-0100", files=files), now)
        return received.tip_id

    def run(self, now: datetime, **kw: Any) -> int:
        return worker.run_once(self.settings, self.pm, now=now, session_factory=self.factory, **kw)

    def deliveries(self, **where: Any) -> list[Delivery]:
        with self.factory() as session:
            stmt = select(Delivery).filter_by(**where).order_by(Delivery.id)
            rows = list(session.scalars(stmt))
            session.expunge_all()
            return rows

    def disclosures(self) -> list[Disclosure]:
        with self.factory() as session:
            rows = list(session.scalars(select(Disclosure).order_by(Disclosure.id)))
            session.expunge_all()
            return rows


def build_settings(config: dict[str, Any], smtp: SMTPServer, http: HTTPServer,
                   dispatch: str | None = None, **smtp_query: str) -> Settings:
    base = load_settings(environ={}, overrides=dict(config))
    district = dataclasses.replace(
        base.district,
        police={"dispatch": dispatch or f"webhook:{http.url('/dispatch')}",
                "welfare": f"webhook:{http.url('/welfare')}"},
        admin_alerts=ADMINS,
    )
    return load_settings(environ={}, overrides={**config, "district": district, "webhook_secret": SECRET,
                                                 "smtp_url": smtp.url(**{"from": SENDER}, **smtp_query)})


def stand_in_manager() -> pluggy.PluginManager:
    pm = hooks.make_manager(load_entry_points=False)
    for plugin in (plugins.routing_rules, plugins.smtp, plugins.webhook, StandInTriage()):
        pm.register(plugin)
    return pm


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def make_world(config: dict[str, Any], engine: Engine, smtp: SMTPServer, http: HTTPServer,
               dispatch: str | None = None, **smtp_query: str) -> World:
    settings = build_settings(config, smtp, http, dispatch, **smtp_query)
    pm = stand_in_manager()
    factory = sessionmaker(engine)
    with factory() as session, session.begin():
        assert settings.dispatch_key_path is not None
        keyring.ensure_inboxes(session, settings.district, {k: w.title for k, w in hooks.workflows(pm).items()},
                               settings.instance_path, settings.dispatch_key_path)
    return World(settings, factory, pm, smtp, http)


@pytest.fixture
def world(config: dict[str, Any], engine: Engine, smtp_server: SMTPServer, http_server: HTTPServer) -> World:
    return make_world(config, engine, smtp_server, http_server)


def decoded(mail: Mail) -> str:
    return "\n".join(mail.texts()) + "\n" + mail.raw.decode("utf-8", "replace")


def police_requests(http: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in http.requests if r.path == "/dispatch"]


# --- police forwards and staff notifications --------------------------------------------------


def test_police_forward_by_webhook_carries_the_tip_and_is_recorded_as_a_disclosure(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "MARKER-7f3a9c"
    photo = png_bytes()
    tip_id = world.submit(f"he said he will bring a gun to school tomorrow and shoot people {marker}",
                          IN_HOURS, files=(CleanFile("locker.png", "image/png", photo),))
    rows = world.deliveries()
    assert {(r.purpose, r.channel) for r in rows} == {("police", "webhook"), ("threat", "smtp")}

    # An urgent tip also pages whoever is on call (the run queues and sends those pages).
    assert world.run(IN_HOURS) == len(world.deliveries()) > len(rows)

    assert {r.state for r in world.deliveries()} == {"sent"}
    [request] = world.http.requests
    assert plugins.webhook.verify(SECRET, request.body, request.header("X-Tipline-Signature") or "")
    forward = json.loads(request.body)
    police_row = next(r for r in rows if r.purpose == "police")
    assert request.header("Idempotency-Key") == police_row.idempotency_key == forward["idempotency_key"]
    assert marker in forward["message"]
    assert forward["reference"] == tip_id
    assert forward["school"] == "SHS"
    assert forward["received_at"] == IN_HOURS.isoformat()
    assert forward["workflows"] == ["threat"]
    assert forward["signals"] == ["immediate.dispatch", "police.weapon_at_school", "weapon"]
    assert forward["priority"] == "urgent"
    [att] = forward["attachments"]
    assert att["content_type"] == "image/png"
    assert base64.b64decode(att["content_base64"]).startswith(b"\x89PNG")
    assert "555-0100" not in request.body.decode()  # the reporter's contact stays with the school

    page_ids = {r.id for r in world.deliveries(purpose="page")}
    assert page_ids, "an urgent tip pages whoever is on call"
    staff = [m for m in world.smtp.messages if "you are on call" not in decoded(m)]
    # The school's administrators and SRO from the district file (no console account holds those
    # roles here), and, as nobody holds the threat-team role at SHS, the district admins.
    assert sorted(a for m in staff for a in m.rcpt_tos) == sorted(SHS_STAFF + ADMINS)
    for mail in staff:
        body = decoded(mail)
        assert marker not in body and "gun" not in body
        assert tip_id in body and "Sign in to the Tipline console" in body
        assert mail.attachments() == []

    [disclosure] = world.disclosures()
    assert disclosure.tip_id == tip_id
    assert disclosure.delivery_id == police_row.id
    assert disclosure.recipient == f"webhook:{world.http.url('/dispatch')}"
    assert disclosure.why == police_row.reason and disclosure.why
    assert "message" in disclosure.what and "attachments (1)" in disclosure.what
    assert disclosure.disclosed_at == IN_HOURS

    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("tipline", "plugins"))]
    assert any(f"delivery {police_row.id} sent" in line for line in ours)
    assert not any(marker in line or "locker.png" in line for line in ours)


def test_police_forward_by_email_has_mime_attachments(config: dict[str, Any], engine: Engine,
                                                      http_server: HTTPServer, tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    smtp_server = SMTPServer(tls=tls).start()  # police forwards travel over TLS only
    try:
        check_police_forward_by_email(config, engine, smtp_server, http_server, str(tls.cert))
    finally:
        smtp_server.stop()


def check_police_forward_by_email(config: dict[str, Any], engine: Engine, smtp_server: SMTPServer,
                                  http_server: HTTPServer, cafile: str) -> None:
    world = make_world(config, engine, smtp_server, http_server, dispatch="smtp:dispatch@westport-pd.example.org",
                       cafile=cafile)
    marker = "MARKER-mime-41"
    photo = png_bytes()
    tip_id = world.submit(f"a gun in his backpack {marker}", OUT_OF_HOURS,
                          files=(CleanFile("backpack.png", "image/png", photo),))

    assert world.run(OUT_OF_HOURS) == 1

    [mail] = smtp_server.to("dispatch@westport-pd.example.org")
    assert mail.tls
    assert marker in "\n".join(mail.texts())
    assert tip_id in "\n".join(mail.texts())
    assert mail.attachments() == [("backpack.png", "image/png", photo)]
    police_row = world.deliveries(purpose="police")[0]
    assert mail.message["X-Tipline-Idempotency-Key"] == police_row.idempotency_key
    [disclosure] = world.disclosures()
    assert disclosure.recipient == "smtp:dispatch@westport-pd.example.org"
    assert http_server.requests == []


def test_staff_notification_carries_no_tip_content(world: World) -> None:
    marker = "MARKER-wellbeing-9"
    tip_id = world.submit(f"I want to hurt myself {marker}", IN_HOURS, files=(
        CleanFile("note.png", "image/png", png_bytes()),))
    rows = world.deliveries()
    assert rows and {r.purpose for r in rows} == {"wellbeing"}

    prepared = worker.prepare(world.factory, world.settings, rows[0].id)
    assert prepared.outgoing.attachments == ()
    assert prepared.disclosed is None
    assert set(prepared.outgoing.body) == {"reference", "school", "workflows", "priority", "purpose", "text"}
    assert marker not in json.dumps(prepared.outgoing.body)

    assert world.run(IN_HOURS) == len(rows)
    assert len(world.smtp.messages) == len(rows)
    for mail in world.smtp.messages:
        assert marker not in decoded(mail)
        assert tip_id in decoded(mail)
    assert world.disclosures() == []


# --- retries, backoff, alerts ------------------------------------------------------------------


def test_endpoint_down_is_retried_with_backoff_and_delivered_when_back(world: World) -> None:
    tip_id = world.submit("there is a gun in the parking lot", OUT_OF_HOURS)
    world.http.stop()
    # Out of hours the school is told too (by email, which works); the police webhook is down.
    told = len(world.deliveries(channel="smtp"))
    assert told

    # The school's notices and the on-call pages go out by email; the police webhook fails.
    assert world.run(OUT_OF_HOURS) == len(world.deliveries(state="sent")) >= told
    [row] = world.deliveries(purpose="police")
    assert (row.state, row.attempts) == ("pending", 1)
    first_delay = row.next_attempt_at - OUT_OF_HOURS
    assert timedelta(seconds=30) <= first_delay <= timedelta(seconds=90)
    assert row.last_error is not None and "URLError" in row.last_error
    assert world.disclosures() == []

    # Not due yet: nothing is tried.
    assert world.run(OUT_OF_HOURS + first_delay / 2) == 0
    assert world.deliveries(purpose="police")[0].attempts == 1

    second_try = row.next_attempt_at
    assert world.run(second_try) == 0
    [row] = world.deliveries(purpose="police")
    assert row.attempts == 2
    assert row.next_attempt_at - second_try >= timedelta(seconds=60)  # 120s +/- 50%

    world.http.start()  # same port
    assert world.run(row.next_attempt_at) == 1
    [row] = world.deliveries(purpose="police")
    assert row.state == "sent" and row.attempts == 2 and row.last_error is None
    assert [json.loads(r.body)["reference"] for r in world.http.requests] == [tip_id]
    assert len(world.disclosures()) == 1
    # Each attempt is in the audit log, by delivery id and tip, and the chain holds.
    with world.factory() as session:
        entries = session.execute(select(AuditEntry.action, AuditEntry.tip_id, AuditEntry.detail)
                                  .order_by(AuditEntry.id)).all()
        police = [a for a, _, d in entries if d.get("delivery") == row.id]
        assert police == ["delivery_failed", "delivery_failed", "delivery_sent"]
        others = [a for a, _, d in entries if d.get("delivery") != row.id and not a.startswith("page_")]
        assert others.count("delivery_sent") >= told and set(others) == {"delivery_sent"}
        assert {t for _, t, _ in entries} == {tip_id}
        assert audit.verify(session).ok


def test_repeated_failure_alerts_admins_once_without_tip_content(world: World) -> None:
    """A failing staff notification (here a webhook that answers 503) alerts the admins once
    after ``ALERT_AFTER`` attempts. (Police forwards escalate sooner: test_delivery_failures.)"""
    tip_id = world.submit("I want to hurt myself", OUT_OF_HOURS)
    world.run(OUT_OF_HOURS)  # the counselors' emails go out
    world.smtp.messages.clear()
    with world.factory() as session, session.begin():
        session.add(Delivery(tip_id=tip_id, channel="webhook", destination=world.http.url("/notify"),
                             purpose="notify", subject="s", body={}, idempotency_key="notify-webhook-1",
                             next_attempt_at=OUT_OF_HOURS, created_at=OUT_OF_HOURS))
    world.http.status = 503
    now = OUT_OF_HOURS
    for attempt in range(1, worker.ALERT_AFTER):
        world.run(now)
        [row] = world.deliveries(purpose="notify")
        assert row.attempts == attempt and not row.alerted
        assert world.deliveries(purpose="alert") == []
        assert row.last_error is not None and "503" in row.last_error
        now = row.next_attempt_at

    assert world.run(now) == len(ADMINS)  # the alerts go out in the same run
    [row] = world.deliveries(purpose="notify")
    assert row.attempts == worker.ALERT_AFTER and row.alerted and row.state == "pending"
    alerts = world.deliveries(purpose="alert")
    assert sorted(a.destination for a in alerts) == sorted(ADMINS)
    assert {a.state for a in alerts} == {"sent"}
    for address in ADMINS:
        [mail] = world.smtp.to(address)
        body = decoded(mail)
        assert "hurt" not in body
        assert str(row.id) in body and tip_id in body

    world.run(row.next_attempt_at)
    assert world.deliveries(purpose="notify")[0].attempts == worker.ALERT_AFTER + 1
    assert len(world.deliveries(purpose="alert")) == len(ADMINS)
    keys = {r.header("Idempotency-Key") for r in world.http.requests}
    assert len(world.http.requests) == worker.ALERT_AFTER + 1 and keys == {row.idempotency_key}
    assert world.disclosures() == []


def test_missing_dispatch_key_is_a_retried_failure_not_a_crash(world: World) -> None:
    world.submit("a gun at the bus stop", OUT_OF_HOURS)
    assert world.settings.dispatch_key_path is not None
    world.settings.dispatch_key_path.unlink()
    assert world.run(OUT_OF_HOURS) == len(world.deliveries(channel="smtp"))  # the school is told
    [row] = world.deliveries(purpose="police")
    assert row.state == "pending" and row.attempts == 1
    assert row.last_error is not None and "dispatch key" in row.last_error
    assert world.http.requests == []


def test_backoff_doubles_in_whole_minutes_with_jitter_and_is_capped() -> None:
    rng = random.Random(4)
    for attempts, base in ((1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)):
        for _ in range(20):
            delay = worker.backoff(attempts, rng)
            assert delay.total_seconds() % 60 == 0  # stored times are minutes
            assert base * 0.75 <= delay / timedelta(minutes=1) <= min(base * 1.25, 60)
    delays = {worker.backoff(6, rng) for _ in range(10)}
    assert len(delays) > 1  # jittered, so many workers do not retry in lock-step
    for attempts in range(1, 30):
        assert worker.backoff(attempts, rng, police=True) <= worker.POLICE_MAX_DELAY


# --- at least once ----------------------------------------------------------------------------


def test_worker_killed_before_marking_resends_after_the_lease(world: World, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    world.submit("bringing a gun tomorrow", OUT_OF_HOURS)
    lease = timedelta(minutes=2)

    def killed(*_args: Any, **_kw: Any) -> bool:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(worker, "mark_sent", killed)
    assert world.run(OUT_OF_HOURS, lease=lease) == 0
    [row] = world.deliveries(purpose="police")
    assert row.state == "sending" and row.locked_until == OUT_OF_HOURS + lease
    assert len(world.http.requests) == 1
    monkeypatch.undo()

    assert world.run(OUT_OF_HOURS + lease - timedelta(seconds=1), lease=lease) == 0  # still leased
    assert len(world.http.requests) == 1

    assert world.run(OUT_OF_HOURS + lease + timedelta(seconds=1), lease=lease) == len(world.deliveries())
    [row] = world.deliveries(purpose="police")
    assert row.state == "sent"
    first, second = world.http.requests
    assert first.header("Idempotency-Key") == second.header("Idempotency-Key") == row.idempotency_key
    assert json.loads(first.body)["idempotency_key"] == json.loads(second.body)["idempotency_key"]
    assert len(world.disclosures()) == 1


def test_sent_but_never_marked_email_is_resent_with_the_same_message_id(world: World) -> None:
    world.submit("I might hurt myself tonight", IN_HOURS)
    [first_id, *_] = [r.id for r in world.deliveries()]
    lease = timedelta(minutes=2)  # leases end on a whole minute, like every stored time
    claimed = worker.claim_due(world.factory, IN_HOURS, lease, limit=1)
    assert claimed == [first_id]
    prepared = worker.prepare(world.factory, world.settings, first_id)
    worker.send(world.pm, prepared.outgoing)  # ... and the process dies before mark_sent

    world.run(IN_HOURS + lease + timedelta(seconds=1))
    row = world.deliveries(id=first_id)[0]
    assert row.state == "sent"
    resent = world.smtp.to(row.destination)
    assert len(resent) == 2
    ids = {m.message["Message-ID"] for m in resent}
    keys = {m.message["X-Tipline-Idempotency-Key"] for m in resent}
    assert keys == {row.idempotency_key} and len(ids) == 1


# --- claiming -----------------------------------------------------------------------------------


def add_rows(factory: sessionmaker[Session], count: int, now: datetime, **kw: Any) -> list[int]:
    with factory() as session, session.begin():
        rows = [Delivery(channel="smtp", destination=f"staff{i}@district.example.org", purpose="notify",
                         subject="s", body={}, idempotency_key=f"claim-test-{i}-{now.timestamp()}",
                         next_attempt_at=now, created_at=now, **kw) for i in range(count)]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def test_claim_takes_only_due_rows_and_respects_leases(engine: Engine) -> None:
    factory = sessionmaker(engine)
    now = OUT_OF_HOURS
    due = add_rows(factory, 2, now)
    later = add_rows(factory, 1, now + timedelta(hours=1))
    lease = timedelta(minutes=1)

    assert worker.claim_due(factory, now, lease, limit=1) == due[:1]
    assert worker.claim_due(factory, now, lease, limit=10) == due[1:]
    assert worker.claim_due(factory, now + timedelta(seconds=59), lease, limit=10) == []
    # After the lease: the two abandoned rows come back; the future row is not due yet.
    assert worker.claim_due(factory, now + timedelta(seconds=61), lease, limit=10) == due
    assert worker.claim_due(factory, now + timedelta(hours=2), lease, limit=10) == due + later
    with factory() as session:
        states = set(session.scalars(select(Delivery.state)))
        assert states == {"sending"}


def test_two_workers_never_claim_the_same_row(db_url: str) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        factories = [sessionmaker(e) for e in engines]
        ids = add_rows(factories[0], 60, OUT_OF_HOURS)
        for factory in factories:  # connect before the race, so neither starts late
            with factory() as session:
                session.execute(text("SELECT 1"))
        rounds = 20
        barrier = threading.Barrier(2, timeout=30)
        claimed: list[list[int]] = [[], []]
        errors: list[BaseException] = []

        def run(n: int) -> None:
            try:
                for _ in range(rounds):  # both workers claim at the same moment, round after round
                    barrier.wait()
                    claimed[n].extend(worker.claim_due(factories[n], OUT_OF_HOURS, timedelta(minutes=5),
                                                       limit=2))
            except BaseException as exc:  # surfaced below
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert not set(claimed[0]) & set(claimed[1])
        assert sorted(claimed[0] + claimed[1]) == ids
        assert claimed[0] and claimed[1], "both workers took part"
        with factories[0]() as session:
            assert set(session.scalars(select(Delivery.state))) == {"sending"}
    finally:
        for e in engines:
            e.dispose()


def test_claim_skips_rows_another_worker_has_locked(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks and SKIP LOCKED are PostgreSQL's; SQLite serialises writers instead")
    factory = sessionmaker(engine)
    ids = add_rows(factory, 4, OUT_OF_HOURS)
    with engine.connect() as other:
        trans = other.begin()
        other.execute(text("SELECT id FROM delivery WHERE id IN (:a, :b) FOR UPDATE"),
                      {"a": ids[0], "b": ids[1]})
        result: list[int] = []
        t = threading.Thread(target=lambda: result.extend(
            worker.claim_due(factory, OUT_OF_HOURS, timedelta(minutes=1), limit=10)))
        t.start()
        t.join(20)
        assert not t.is_alive(), "claim waited on a locked row instead of skipping it"
        assert result == ids[2:]
        trans.rollback()
    assert worker.claim_due(factory, OUT_OF_HOURS, timedelta(minutes=1), limit=10) == ids[:2]


# --- the command ------------------------------------------------------------------------------


def test_worker_command_once(config: dict[str, Any], engine: Engine, smtp_server: SMTPServer,
                             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    district = tmp_path / "district.toml"
    district.write_text(
        '[police]\ndispatch = "smtp:dispatch@pd.example.org"\nwelfare = "smtp:welfare@pd.example.org"\n'
        '[admin]\nalerts = ["admin@district.example.org"]\n'
        '[[schools]]\ncode = "SHS"\nname = "Staples High School"\n'
    )
    env = {"TIPLINE_DATABASE_URL": config["database_url"], "TIPLINE_SECRET_KEY": config["secret_key"],
           "TIPLINE_INSTANCE": config["instance_path"], "TIPLINE_CONFIG": str(district),
           "TIPLINE_SMTP_URL": smtp_server.url(), "TIPLINE_PLUGINS": "smtp,webhook"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    [row_id] = add_rows(sessionmaker(engine), 1, datetime.now(UTC) - timedelta(seconds=5))

    result = CliRunner().invoke(worker.worker_command, ["--once"])

    assert result.exit_code == 0, result.output
    assert "1 delivered, 0 failed" in result.output
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ("staff0@district.example.org",)
    with sessionmaker(engine)() as session:
        assert session.scalar(select(Delivery.state).where(Delivery.id == row_id)) == "sent"
        assert session.scalar(select(func.count()).select_from(Disclosure)) == 0


# --- end to end through the reporter form --------------------------------------------------------


def test_submitted_threat_reaches_police_with_its_text_and_staff_without_it(
        config: dict[str, Any], pm: pluggy.PluginManager, instance: Path, smtp_server: SMTPServer,
        http_server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = build_settings(config, smtp_server, http_server)
    engine = make_engine(settings.database_url)
    with sessionmaker(engine)() as session, session.begin():
        assert settings.dispatch_key_path is not None
        keyring.ensure_inboxes(session, settings.district, {k: w.title for k, w in hooks.workflows(pm).items()},
                               instance, settings.dispatch_key_path)
    engine.dispose()
    app: Flask = create_app(plugin_manager=pm, settings=settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    monkeypatch.setattr("tipline.db.utcnow", lambda: IN_HOURS)
    marker = "ZEBRA-4471"
    try:
        response = app.test_client().post("/", data={
            "message": f"he said he will bring a gun to school tomorrow and shoot people. {marker}",
            "category": "threat", "school": "SHS", "contact": "",
            "attachment": [(io.BytesIO(png_bytes()), "screenshot.png")],
        }, content_type="multipart/form-data")
        assert response.status_code == 200

        assert worker.run_once(settings, pm, now=IN_HOURS) >= 2
    finally:
        app.extensions["tipline.engine"].dispose()

    forwards = police_requests(http_server)
    assert len(forwards) == 1, "the threat is forwarded to police dispatch"
    [forward] = forwards
    assert marker in forward["message"]
    assert "threat" in forward["workflows"]
    assert forward["school"] == "SHS"
    assert len(forward["attachments"]) == 1
    staff_mail = smtp_server.messages
    assert staff_mail, "the school's staff are told"
    assert {a for m in staff_mail for a in m.rcpt_tos} <= set(SHS_STAFF + SHS_COUNSELORS + ADMINS)
    for mail in staff_mail:
        body = decoded(mail)
        assert marker not in body and "shoot" not in body
        assert mail.attachments() == []
