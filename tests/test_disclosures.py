"""The FERPA disclosure log: each police forward is recorded with what went, to whom, when (to
the minute), why and on whose decision; admins read it in the district's time and export it
as CSV (both audited); a staff member records their own call to police."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pluggy
import pytest
from console_support import Member, create_member, login, setup_admin
from corrections_support import EveryThreatOutOfHours
from flask import Flask
from servers import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline import intake, keyring, receipts, worker
from tipline import plugins as hooks
from tipline.app import create_app
from tipline.config import load_settings
from tipline.models import AuditEntry, Delivery, Disclosure

# A Tuesday, 10:00:37 in Westport (EDT): Staples High is in session.
IN_HOURS = datetime(2026, 10, 6, 14, 0, 37, tzinfo=UTC)
# The Monday before, 22:00:37 in Westport: outside school hours.
OUT_OF_HOURS = datetime(2026, 10, 6, 2, 0, 37, tzinfo=UTC)
EVIDENCE = "he said he will bring his dads gun to school tomorrow and shoot kevin"
ANGRY = "a kid said he would beat up everyone who laughed at him, he was really angry"
WELLBEING_SHS = "my friend says she wants to hurt herself and has been cutting"


@pytest.fixture
def police_app(config: dict[str, Any], pm: pluggy.PluginManager, instance: Path,
               http_server: HTTPServer) -> Iterator[Flask]:
    """The app with police dispatch on a real HTTP server on loopback, and a district rule that
    sends every out-of-hours threat to dispatch (the built-in rule asks for police evidence)."""
    pm.register(EveryThreatOutOfHours())
    base = load_settings(environ={}, overrides=dict(config))
    district = dataclasses.replace(base.district, police={"dispatch": f"webhook:{http_server.url('/dispatch')}",
                                                          "welfare": f"webhook:{http_server.url('/welfare')}"})
    settings = load_settings(environ={}, overrides={**config, "district": district,
                                                    "webhook_secret": "disclosure-test-secret"})
    application = create_app(plugin_manager=pm, settings=settings)
    with application.extensions["tipline.sessionmaker"]() as session, session.begin():
        assert settings.dispatch_key_path is not None
        keyring.ensure_inboxes(session, district, {k: w.title for k, w in hooks.workflows(pm).items()},
                               instance, settings.dispatch_key_path)
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    yield application
    application.extensions["tipline.engine"].dispose()


def receive(app: Flask, message: str, now: datetime, school: str = "SHS") -> str:
    settings = app.extensions["tipline.settings"]
    with app.extensions["tipline.sessionmaker"]() as session, session.begin():
        return intake.receive(session, app.extensions["tipline.pm"], settings.district,
                              receipts.pepper_from_secret(settings.secret_key),
                              intake.Report(message=message, category="threat", school=school, contact=""),
                              now).tip_id


def deliver(app: Flask, now: datetime) -> int:
    return worker.run_once(app.extensions["tipline.settings"], app.extensions["tipline.pm"], now=now,
                           session_factory=app.extensions["tipline.sessionmaker"])


def disclosures(app: Flask) -> list[Disclosure]:
    with app.extensions["tipline.sessionmaker"]() as session:
        return list(session.scalars(select(Disclosure).order_by(Disclosure.id)))


def audited(app: Flask, action: str) -> list[dict[str, object]]:
    with app.extensions["tipline.sessionmaker"]() as session:
        return list(session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action)))


@pytest.fixture
def forwarded(police_app: Flask, http_server: HTTPServer) -> dict[str, str]:
    """Two police forwards delivered: one the triage evidence rule decided, one the hours rule."""
    tips = {"evidence": receive(police_app, EVIDENCE, IN_HOURS),
            "after_hours": receive(police_app, ANGRY, OUT_OF_HOURS)}
    assert deliver(police_app, IN_HOURS + timedelta(seconds=5)) >= 2
    assert len([r for r in http_server.requests if r.path == "/dispatch"]) == 2
    return tips


def test_each_forward_says_why_and_on_whose_decision_to_the_minute(police_app: Flask,
                                                                   forwarded: dict[str, str]) -> None:
    rows = {d.tip_id: d for d in disclosures(police_app)}
    assert set(rows) == set(forwarded.values())
    with police_app.extensions["tipline.sessionmaker"]() as session:
        reasons = {d.tip_id: d.reason for d in session.scalars(select(Delivery).where(Delivery.purpose == "police"))}

    evidence = rows[forwarded["evidence"]]
    assert evidence.decided_by.startswith("triage rule: ")
    assert "threat.weapon" in evidence.decided_by and "threat.time_or_place" in evidence.decided_by
    assert "immediate.dispatch" not in evidence.decided_by  # the marker is not evidence
    assert evidence.why == reasons[forwarded["evidence"]] and "police evidence" in evidence.why

    after_hours = rows[forwarded["after_hours"]]
    assert after_hours.decided_by == "routing: threat received outside school hours"
    assert after_hours.why == "Threat received outside school hours."
    for row in rows.values():
        assert row.recipient.startswith("webhook:http://127.0.0.1:") and row.delivery_id is not None
        assert "message" in row.what
        assert (row.disclosed_at.second, row.disclosed_at.microsecond) == (0, 0)
        assert row.disclosed_at == datetime(2026, 10, 6, 14, 0, tzinfo=UTC)


def test_a_forward_queued_by_a_person_names_them(police_app: Flask, http_server: HTTPServer) -> None:
    """Whoever queues a forward by hand says so in the delivery; the log keeps their name."""
    tip_id = receive(police_app, ANGRY, OUT_OF_HOURS)  # sealed to dispatch by the hours rule
    with police_app.extensions["tipline.sessionmaker"]() as session, session.begin():
        session.add(Delivery(tip_id=tip_id, channel="webhook", destination=http_server.url("/dispatch"),
                             purpose="police", reason="Principal judged the threat credible after interviews.",
                             body={"tip": tip_id, "endpoint": "dispatch",
                                   "decided_by": "principal.shs@westport.example.org"},
                             idempotency_key="by-hand-1", next_attempt_at=OUT_OF_HOURS, created_at=OUT_OF_HOURS))
    assert deliver(police_app, OUT_OF_HOURS) == 2
    decided = {d.decided_by: d.why for d in disclosures(police_app)}
    assert decided == {"routing: threat received outside school hours": "Threat received outside school hours.",
                       "principal.shs@westport.example.org": "Principal judged the threat credible after interviews."}


def test_admins_read_the_log_in_district_time_and_export_it(police_app: Flask, forwarded: dict[str, str],
                                                            instance: Path) -> None:
    client = police_app.test_client()
    admin = setup_admin(client, instance)
    assert login(client, admin) == 302
    assert 'href="/console/disclosures"' in client.get("/console/").get_data(as_text=True)
    page = client.get("/console/disclosures")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="disclosure"') == 2
    assert "2026-10-06 10:00 EDT" in html and "America/New_York" in html
    assert "triage rule: " in html and "routing: threat received outside school hours" in html
    assert "Threat received outside school hours." in html
    assert "shoot" not in html and "kevin" not in html  # what kind of information, never the words
    assert audited(police_app, "view_disclosures") == [{"shown": 2}]

    export = client.get("/console/disclosures.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert {r["tip"] for r in table} == set(forwarded.values())
    assert {r["disclosed_at"] for r in table} == {"2026-10-06T10:00-04:00"}
    assert {r["disclosed_at_utc"] for r in table} == {"2026-10-06T14:00+00:00"}
    assert all(r["why"] and r["decided_by"] and r["recipient"].startswith("webhook:") for r in table)
    assert audited(police_app, "export_disclosures") == [{"rows": 2}]


def test_only_admins_read_the_log(police_app: Flask, forwarded: dict[str, str], instance: Path) -> None:
    admin = setup_admin(police_app.test_client(), instance)
    with police_app.extensions["tipline.sessionmaker"]() as session:
        counselor = create_member(police_app, session, "c.shs@westport.example.org", "counselor", "SHS", admin)
    client = police_app.test_client()
    assert login(client, counselor) == 302
    assert client.get("/console/disclosures").status_code == 403
    assert client.get("/console/disclosures.csv").status_code == 403
    assert 'href="/console/disclosures"' not in client.get("/console/").get_data(as_text=True)
    assert audited(police_app, "view_disclosures") == [] and audited(police_app, "export_disclosures") == []


@pytest.fixture
def counselor(police_app: Flask, instance: Path) -> tuple[Member, Member]:
    admin = setup_admin(police_app.test_client(), instance)
    with police_app.extensions["tipline.sessionmaker"]() as session:
        member = create_member(police_app, session, "c.shs@westport.example.org", "counselor", "SHS", admin)
    return admin, member


def _rows(db: Session) -> list[Disclosure]:
    db.expire_all()
    return list(db.scalars(select(Disclosure)))


def test_staff_record_their_own_call_to_police(police_app: Flask, counselor: tuple[Member, Member]) -> None:
    admin, member = counselor
    tip_id = receive(police_app, WELLBEING_SHS, IN_HOURS)
    other_school = receive(police_app, WELLBEING_SHS, IN_HOURS, school="BMS")
    client = police_app.test_client()
    assert login(client, member) == 302
    form = client.get(f"/console/disclosures/record?tip={tip_id}").get_data(as_text=True)
    assert f'value="{tip_id}"' in form and "Write no names" in form
    good = {"tip": tip_id, "agency": "Westport Police dispatch (phone)", "shared": ["report", "place_time"],
            "why": "Student at risk tonight; asked for a welfare check.", "when": ""}
    db = police_app.extensions["tipline.sessionmaker"]()
    try:
        for change, problem in (({"tip": other_school}, "a tip you can open"),
                                ({"tip": "not-a-tip"}, "a tip you can open"),
                                ({"agency": ""}, "which agency"),
                                ({"shared": [], "other": ""}, "what you shared"),
                                ({"why": ""}, "why you told them"),
                                ({"when": "2099-01-01T10:00"}, "time of the call"),
                                ({"when": "yesterday"}, "time of the call")):
            bad = client.post("/console/disclosures/record", data={**good, **change})
            assert bad.status_code == 400 and problem in bad.get_data(as_text=True), change
        assert _rows(db) == []

        before = datetime.now(UTC)
        done = client.post("/console/disclosures/record", data=good)
        assert done.status_code == 200 and "disclosure log" in done.get_data(as_text=True)
        [row] = _rows(db)
        assert row.tip_id == tip_id and row.delivery_id is None
        assert row.recipient == "Westport Police dispatch (phone)"
        assert row.what == "the report's words, the school, place and time"
        assert row.why == good["why"] and row.decided_by == member.email
        assert row.disclosed_at.second == 0 and row.disclosed_at >= before.replace(second=0, microsecond=0)

        earlier = client.post("/console/disclosures/record", data={**good, "when": "2026-10-05T21:30",
                                                                   "agency": "=HYPERLINK(\"x\")"})
        assert earlier.status_code == 200
        stamped = [r for r in _rows(db) if r.id != row.id][0]
        assert stamped.disclosed_at == datetime(2026, 10, 6, 1, 30, tzinfo=UTC)  # 21:30 EDT
    finally:
        db.close()
    recorded = audited(police_app, "disclosure_recorded")
    assert len(recorded) == 2 and {"disclosure"} <= set(recorded[0])

    admin_client = police_app.test_client()
    assert login(admin_client, admin) == 302
    log = admin_client.get("/console/disclosures").get_data(as_text=True)
    assert "recorded by staff" in log and member.email in log and "2026-10-05 21:30 EDT" in log
    exported = admin_client.get("/console/disclosures.csv").get_data(as_text=True)
    # A spreadsheet must not run what a member typed as a formula.
    assert "'=HYPERLINK" in exported and json.dumps("=HYPERLINK") not in exported


def test_analysts_cannot_record(police_app: Flask, counselor: tuple[Member, Member]) -> None:
    admin, _ = counselor
    with police_app.extensions["tipline.sessionmaker"]() as session:
        analyst = create_member(police_app, session, "analyst@westport.example.org", "analyst", None, admin)
    client = police_app.test_client()
    assert login(client, analyst) == 302
    assert client.get("/console/disclosures/record").status_code == 403
