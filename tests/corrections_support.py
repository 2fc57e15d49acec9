"""A district whose police endpoints and mail go to real servers on loopback, with the real
workflow plugins, for the corrections and follow-up tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
from console_support import Member, create_member, login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from servers import HTTPServer, SMTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline import access, intake, keyring, receipts, staff, worker
from tipline import plugins as hooks
from tipline.app import create_app
from tipline.config import Settings, load_settings
from tipline.hookspecs import hookimpl
from tipline.models import Delivery, Disclosure, Inbox, InboxKey, Staff, Tip, TipKey
from tipline.types import RouteAction, RouteContext, TipDraft, Triage

SECRET = "shared-webhook-secret-for-tests"
# The Monday 2026-10-05, 22:00 in Westport (EDT): outside school hours.
OUT_OF_HOURS = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)
# Tuesday 2026-10-06, 10:00 in Westport: Staples High is in session.
IN_HOURS = datetime(2026, 10, 6, 14, 0, tzinfo=UTC)
# Triage (the real plugins) marks this bias report as deib and threat, without police evidence.
BIAS_AS_THREAT = ("a group of boys keep calling a muslim girl a terrorist and said they would beat her up if she "
                  "wears her hijab again")
THREAT = "he said he will shoot up the school tomorrow, he has his dad's gun"


@dataclass
class District:
    app: Flask
    settings: Settings
    pm: pluggy.PluginManager
    http: HTTPServer
    smtp: SMTPServer
    admin: Member
    members: dict[str, Member]

    def session(self) -> Session:
        s: Session = self.app.extensions["tipline.sessionmaker"]()
        return s

    def client(self, who: str) -> FlaskClient:
        client = self.app.test_client()
        member = self.admin if who == "admin" else self.members[who]
        assert login(client, member) == 302
        return client

    def receive(self, text: str, now: datetime, school: str | None = "SHS", category: str = "other") -> tuple[str, str]:
        """Store a tip as intake does at ``now``; returns (tip id, receipt code)."""
        with self.session() as session, session.begin():
            got = intake.receive(session, self.pm, self.settings.district,
                                 receipts.pepper_from_secret(self.settings.secret_key),
                                 intake.Report(message=text, category=category, school=school, contact=""), now)
        return got.tip_id, got.receipt

    def run_worker(self, now: datetime) -> int:
        return worker.run_once(self.settings, self.pm, now=now,
                               session_factory=self.app.extensions["tipline.sessionmaker"])

    def deliveries(self, tip_id: str, **where: Any) -> list[Delivery]:
        with self.session() as session:
            rows = list(session.scalars(select(Delivery).filter_by(tip_id=tip_id, **where).order_by(Delivery.id)))
            session.expunge_all()
            return rows

    def disclosures(self, tip_id: str) -> list[Disclosure]:
        with self.session() as session:
            rows = list(session.scalars(select(Disclosure).where(Disclosure.tip_id == tip_id)
                                        .order_by(Disclosure.id)))
            session.expunge_all()
            return rows

    def tip(self, tip_id: str) -> Tip:
        with self.session() as session:
            tip = session.get(Tip, tip_id)
            assert tip is not None
            _ = tip.workflow_keys
            session.expunge_all()
            return tip

    def sealed_inboxes(self, tip_id: str) -> set[str]:
        """The inboxes the tip's data key is sealed to now (the reporter's key aside)."""
        with self.session() as session:
            return set(session.scalars(select(Inbox.key).join(InboxKey, InboxKey.inbox_id == Inbox.id)
                                       .join(TipKey, TipKey.inbox_key_id == InboxKey.id)
                                       .where(TipKey.tip_id == tip_id)))

    def keychain(self, session: Session, who: str) -> access.Keychain:
        """A member's keys, opened offline from the database with their password, as sign-in does."""
        member = self.admin if who == "admin" else self.members[who]
        row = session.scalars(select(Staff).where(Staff.email == member.email)).one()
        return access.Keychain(row, staff.personal_private(row, member.password))

    def police_requests(self) -> list[Any]:
        return [r for r in self.http.requests if r.path == "/dispatch"]


MEMBERS = {
    "deib": ("deib.shs@westport.example.org", "deib", "SHS"),
    "threat": ("threat.shs@westport.example.org", "threat-team", "SHS"),
    "principal": ("principal.shs@westport.example.org", "school-admin", "SHS"),
    "deib_bms": ("deib.bms@westport.example.org", "deib", "BMS"),
}


@pytest.fixture(name="district")
def district_fixture(config: dict[str, Any], pm: pluggy.PluginManager, instance: Path, db_url: str,
             smtp_server: SMTPServer, http_server: HTTPServer) -> Iterator[District]:
    base = load_settings(environ={}, overrides=dict(config))
    district_cfg = dataclasses.replace(base.district, police={
        "dispatch": f"webhook:{http_server.url('/dispatch')}", "welfare": f"webhook:{http_server.url('/welfare')}"})
    settings = load_settings(environ={}, overrides={**config, "district": district_cfg, "webhook_secret": SECRET,
                                                    "smtp_url": smtp_server.url(**{"from": "tipline@example.org"})})
    app = create_app(plugin_manager=pm, settings=settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with app.extensions["tipline.sessionmaker"]() as session, session.begin():
        assert settings.dispatch_key_path is not None
        keyring.ensure_inboxes(session, settings.district, {k: w.title for k, w in hooks.workflows(pm).items()},
                               instance, settings.dispatch_key_path)
    admin = setup_admin(app.test_client(), instance)
    members: dict[str, Member] = {}
    with app.extensions["tipline.sessionmaker"]() as session:
        for name, (email, role, school) in MEMBERS.items():
            members[name] = create_member(app, session, email, role, school, granter=admin)
    yield District(app, settings, pm, http_server, smtp_server, admin, members)
    app.extensions["tipline.engine"].dispose()


class EveryThreatOutOfHours:
    """A district's own routing rule, as the built-in rule was before police needed evidence:
    every threat out of school hours goes to dispatch. It queues the forward a correction must stop."""

    @hookimpl
    def tipline_route(self, tip: TipDraft, triage: Triage, context: RouteContext) -> list[RouteAction]:
        if "threat" in triage.workflows and not context.in_school_hours:
            return [RouteAction("forward", "dispatch", "Threat received outside school hours.", "police")]
        return []
