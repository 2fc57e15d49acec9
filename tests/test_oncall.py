"""On call: pages with escalation on a fixed clock, SMS through a signed gateway, pages
without tip content, the dispatch role, and the rota page in a real browser.

Real servers on loopback: aiosmtpd for email, an HTTP receiver standing in for the SMS
gateway and police dispatch (checking the HMAC signature), Chromium for the rota page.
Routing does not emit ``page`` actions here yet, so a small routing plugin stands in for it:
it pages the school's threat on-call team for a threat without police evidence.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from browser_support import launch, serve
from console_support import forget_used_codes
from corrections_support import BIAS_AS_THREAT, OUT_OF_HOURS, SECRET, THREAT, District, create_member
from corrections_support import district_fixture as district_fixture  # noqa: F401 - the fixture
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from plugins import webhook
from tipline import oncall
from tipline.hookspecs import hookimpl
from tipline.models import AuditEntry, Delivery, Disclosure, Page, PageNotice, RotaEntry, Staff
from tipline.types import RouteAction, RouteContext, TipDraft, Triage

MINUTES = 10
PHONE = "+12035550142"
TIP_WORDS = ("terrorist", "hijab", "muslim", "beat her up", "shoot", "gun")
CODE = re.compile(r"code (\d{4}-\d{4}-\d{4})")


class PageReview:
    """Stands in for routing's page actions (the routing room emits them after the merge)."""

    @hookimpl
    def tipline_route(self, tip: TipDraft, triage: Triage, context: RouteContext) -> list[RouteAction]:
        if "threat" in triage.workflows and not triage.police:
            return [RouteAction("page", f"oncall:{context.school or '*'}:threat", "Marked for review.", "review")]
        return []


@pytest.fixture
def oncall_district(district: District) -> District:
    """The district with the SMS gateway on the loopback receiver, a rota (threat team member,
    then the principal) and the threat member's phone."""
    settings = dataclasses.replace(district.settings, extra={**district.settings.extra,
                                                             "sms_gateway_url": district.http.url("/sms"),
                                                             "public_url": "https://tips.westport.example.org"})
    district.settings = settings
    district.app.extensions["tipline.settings"] = settings
    district.pm.register(PageReview())
    with district.session() as session, session.begin():
        ids = {name: session.scalars(select(Staff.id).where(Staff.email == m.email)).one()
               for name, m in district.members.items()}
        session.get(Staff, ids["threat"]).phone = PHONE  # type: ignore[union-attr]
        for position, name in enumerate(("threat", "principal"), start=1):
            session.add(RotaEntry(staff_id=ids[name], school="SHS", workflow="threat", days="", position=position,
                                  created_at=OUT_OF_HOURS))
    return district


def at(minutes: int) -> datetime:
    return OUT_OF_HOURS + timedelta(minutes=minutes)


def sms_requests(d: District) -> list[dict[str, Any]]:
    out = []
    for r in d.http.requests:
        if r.path == "/sms":
            assert webhook.verify(SECRET, r.body, r.header(webhook.SIGNATURE_HEADER) or ""), "signed"
            assert r.header("Idempotency-Key")
            out.append(json.loads(r.body))
    return out


def pages_to(d: District, email: str) -> list[str]:
    return ["\n".join(m.texts()) for m in d.smtp.to(email) if m.message["X-Tipline-Purpose"] == "page"]


def actions(d: District, tip_id: str) -> list[str]:
    with d.session() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.tip_id == tip_id)
                                    .order_by(AuditEntry.id)))


def police_forwards(d: District, tip_id: str) -> list[Delivery]:
    return [r for r in d.deliveries(tip_id) if r.purpose == "police"]


def test_acknowledged_in_time_stops_escalation(oncall_district: District) -> None:
    d = oncall_district
    tip_id, _ = d.receive(BIAS_AS_THREAT, at(0))
    d.run_worker(at(0))
    threat_email = d.members["threat"].email
    [text] = pages_to(d, threat_email)
    code = CODE.search(text)
    assert code, text
    [sms] = sms_requests(d)
    assert sms["to"] == PHONE and code.group(1) in sms["text"]

    client = d.client("threat")
    wrong = client.post("/console/ack", data={"code": "0000-0000-0000"})
    assert wrong.status_code == 400
    done = client.post("/console/ack", data={"code": code.group(1)})
    assert done.status_code == 200 and "Acknowledged" in done.get_data(as_text=True)
    again = client.post("/console/ack", data={"code": code.group(1)})
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)

    for minute in (11, 21, 31, 41):
        d.run_worker(at(minute))
    assert pages_to(d, d.members["principal"].email) == []
    assert pages_to(d, d.admin.email) == []
    assert police_forwards(d, tip_id) == []
    with d.session() as session:
        page = session.scalars(select(Page).where(Page.tip_id == tip_id)).one()
        assert page.state == oncall.ACKNOWLEDGED
        assert oncall.awaiting(session, [tip_id]) == set()
        # Only a keyed hash of the code is stored.
        hashes = list(session.scalars(select(PageNotice.code_hash)))
        assert all(code.group(1).replace("-", "") not in (h or "") for h in hashes)
    assert "page_sent" in actions(d, tip_id) and "page_acknowledged" in actions(d, tip_id)
    assert "page_escalated" not in actions(d, tip_id)


def test_unacknowledged_escalates_then_forwards_to_police_once(oncall_district: District) -> None:
    d = oncall_district
    tip_id, _ = d.receive(BIAS_AS_THREAT, at(0))
    assert police_forwards(d, tip_id) == [] and d.police_requests() == []
    d.run_worker(at(0))
    with d.session() as session:
        assert oncall.awaiting(session, [tip_id, "other"]) == {tip_id}
    assert len(pages_to(d, d.members["threat"].email)) == 1
    assert pages_to(d, d.members["principal"].email) == []

    d.run_worker(at(9))  # not yet due
    assert pages_to(d, d.members["principal"].email) == []
    d.run_worker(at(10))  # the next on the rota
    assert len(pages_to(d, d.members["principal"].email)) == 1
    assert pages_to(d, d.admin.email) == []
    d.run_worker(at(20))  # then the district admins
    assert len(pages_to(d, d.admin.email)) == 1
    assert police_forwards(d, tip_id) == []
    d.run_worker(at(30))  # a threat out of hours, unacknowledged: to police
    for minute in (31, 40, 50, 60):
        d.run_worker(at(minute))

    [forward] = police_forwards(d, tip_id)
    assert "not acknowledged in 10 minutes" in forward.reason
    assert forward.state == "sent"
    [request] = d.police_requests()
    assert webhook.verify(SECRET, request.body, request.header(webhook.SIGNATURE_HEADER) or "")
    assert "not acknowledged in 10 minutes" in json.loads(request.body)["reason"]
    [disclosure] = [x for x in d.disclosures(tip_id) if x.delivery_id == forward.id]
    assert "not acknowledged in 10 minutes" in disclosure.why
    with d.session() as session:
        page = session.scalars(select(Page).where(Page.tip_id == tip_id, Page.kind == oncall.ONCALL)).one()
        assert page.state == oncall.FORWARDED and page.delivery_id == forward.id
        assert oncall.awaiting(session, [tip_id]) == set()
    trail = actions(d, tip_id)
    assert trail.count("page_escalated") == 2 and trail.count("page_forwarded") == 1
    assert trail.count("page_sent") >= 3
    # No one was paged twice at a step.
    assert len(pages_to(d, d.members["threat"].email)) == 1


def test_a_page_carries_no_tip_text(oncall_district: District) -> None:
    d = oncall_district
    tip_id, _ = d.receive(BIAS_AS_THREAT, at(0))
    d.run_worker(at(0))
    [sms] = sms_requests(d)
    [mail] = [m for m in d.smtp.to(d.members["threat"].email) if m.message["X-Tipline-Purpose"] == "page"]
    texts = [sms["text"], sms["voice_text"], json.dumps(sms), "\n".join(mail.texts()), str(mail.message["Subject"])]
    for text in texts:
        for word in TIP_WORDS:
            assert word not in text.lower(), (word, text)
    assert f"https://tips.westport.example.org/console/tips/{tip_id}" in sms["text"]
    assert f"https://tips.westport.example.org/console/tips/{tip_id}" in texts[3]
    assert CODE.search(sms["text"]) and CODE.search(texts[3])
    assert "no tip content" in sms["text"]


def test_dispatch_role_sees_only_police_routed_tips_and_each_view_is_disclosed(oncall_district: District) -> None:
    d = oncall_district
    with d.session() as session:
        d.members["dispatch"] = create_member(d.app, session, "dispatch@westport-police.example.org", "dispatch",
                                              None, granter=d.admin)
    with d.session() as session, session.begin():
        session.scalars(select(Staff).where(Staff.role == "dispatch")).one().phone = "+12035550199"
    police_tip, _ = d.receive(THREAT, at(0))
    review_tip, _ = d.receive(BIAS_AS_THREAT, at(0))
    assert police_forwards(d, police_tip) and not police_forwards(d, review_tip)
    d.run_worker(at(0))
    # Paged about the forward, by email and SMS, with no content.
    dispatch_email = d.members["dispatch"].email
    [mail] = pages_to(d, dispatch_email)
    assert f"/console/tips/{police_tip}" in mail and "forwarded to police" in mail
    texts = [s["text"] for s in sms_requests(d) if s["to"] == "+12035550199"]
    assert len(texts) == 1 and f"/console/tips/{police_tip}" in texts[0]
    for word in TIP_WORDS:
        assert word not in mail.lower() and word not in texts[0].lower()

    client = d.client("dispatch")
    listing = client.get("/console/").get_data(as_text=True)
    assert police_tip in listing and review_tip not in listing
    assert client.get(f"/console/tips/{review_tip}").status_code == 403
    for _ in range(2):
        page = client.get(f"/console/tips/{police_tip}")
        assert page.status_code == 200 and "shoot up the school" in page.get_data(as_text=True)
    assert client.post(f"/console/tips/{police_tip}/status", data={"status": "closed"}).status_code == 403
    views = [x for x in d.disclosures(police_tip) if x.what == oncall.DISPATCH_WHAT]
    assert len(views) == 2
    assert all(dispatch_email in x.recipient and x.why and "Decided by" in x.why for x in views)
    assert d.disclosures(review_tip) == []
    with d.session() as session:
        viewed = list(session.scalars(select(AuditEntry.action).where(AuditEntry.tip_id == police_tip,
                                                                      AuditEntry.actor == dispatch_email)))
        denied = list(session.scalars(select(AuditEntry.action).where(AuditEntry.tip_id == review_tip,
                                                                      AuditEntry.actor == dispatch_email)))
    assert viewed.count("view_tip") == 2 and denied == ["view_denied"]


def test_dispatch_keeps_the_police_inbox_only(oncall_district: District) -> None:
    from tipline import access, keyring
    d = oncall_district
    with d.session() as session:
        member = create_member(d.app, session, "dispatch2@westport-police.example.org", "dispatch", None)
        row = session.scalars(select(Staff).where(Staff.email == member.email)).one()
        assert access.inbox_keys_for(row, d.app.extensions["tipline.workflows"]) == [keyring.POLICE]


def test_rota_page_in_the_browser(oncall_district: District) -> None:
    d = oncall_district
    forget_used_codes(d.app, d.admin.email)
    d.app.config["WTF_CSRF_ENABLED"] = True
    with serve(d.app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_context().new_page()
            page.goto(base + "/console/login")
            page.fill("input[name=email]", d.admin.email)
            page.fill("input[name=password]", d.admin.password)
            page.fill("input[name=code]", d.admin.code())
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.click("text=On call")
            expect(page.locator("h1")).to_have_text("On call")
            rota = page.locator("#rota tbody tr")
            expect(rota).to_have_count(2)
            form = page.locator("#rota-add")
            form.locator("select[name=staff_id]").select_option(label=d.members["deib"].email)
            form.locator("select[name=school]").select_option("SHS")
            form.locator("select[name=workflow]").select_option("deib")
            form.locator("input[name=days]").fill("sat, sun")
            form.locator("input[name=start]").fill("17:00")
            form.locator("input[name=end]").fill("08:00")
            form.locator("input[name=position]").fill("3")
            with page.expect_navigation():
                form.locator("button[type=submit]").click()
            expect(rota).to_have_count(3)
            added = page.locator("#rota tbody tr", has_text=d.members["deib"].email)
            expect(added).to_contain_text("sat,sun")
            expect(added).to_contain_text("17:00–08:00")
            # A bad phone number is refused with a message, a good one is kept.
            phone = page.locator("#phone-form")
            phone.locator("input[name=phone]").fill("call me")
            with page.expect_navigation():
                phone.locator("button[type=submit]").click()
            expect(page.locator("#oncall-error")).to_contain_text("international form")
            page.locator("#phone-form input[name=phone]").fill("+1 (203) 555-0100")
            with page.expect_navigation():
                page.locator("#phone-form button[type=submit]").click()
            expect(page.locator("body")).to_contain_text("+12035550100")
            with page.expect_navigation():
                added.locator("button").click()
            expect(rota).to_have_count(2)
        finally:
            browser.close()
    with d.session() as session:
        assert not session.scalars(select(RotaEntry).where(RotaEntry.workflow == "deib")).all()
        changes = list(session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "rota_changed")))
        assert [c["change"] for c in changes] == ["added", "removed"]
        assert session.scalars(select(Staff.phone).where(Staff.email == d.admin.email)).one() == "+12035550100"
        assert not session.scalars(select(Disclosure)).all()
