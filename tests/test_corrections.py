"""Staff corrections: workflows and school (with the keys they bring or take away), sending to
police now, and holding or cancelling a queued forward with a second member's confirmation.

Real database, the real workflow plugins, a real HTTP receiver for police on loopback, the
delivery worker run as in production; one browser test drives the tip page in Chromium.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from browser_support import launch, serve
from corrections_support import BIAS_AS_THREAT, IN_HOURS, OUT_OF_HOURS, THREAT, District, district_fixture  # noqa: F401
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from tipline import corrections, crypto, intake, keyring, worker
from tipline.models import AuditEntry, Delivery, ForwardStop, Inbox, InboxKey, Tip, TipKey
from tipline.orm import utcnow


def audit_actions(d: District, tip_id: str) -> list[tuple[str, str]]:
    with d.session() as session:
        return [(a, actor) for a, actor in session.execute(
            select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.tip_id == tip_id).order_by(AuditEntry.id))]


def stops(d: District, tip_id: str) -> list[ForwardStop]:
    with d.session() as session:
        rows = list(session.scalars(select(ForwardStop).where(ForwardStop.tip_id == tip_id).order_by(ForwardStop.id)))
        session.expunge_all()
        return rows


def test_triage_first_labels_are_kept_beside_the_final_ones(district: District) -> None:
    tip_id, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    tip = district.tip(tip_id)
    assert tip.triage_original == {"workflows": ["deib", "threat"], "priority": "high", "police": False,
                                   "signals": list(tip.signals)}
    assert BIAS_AS_THREAT not in json.dumps(tip.triage_original)
    r = district.client("deib").post(f"/console/tips/{tip_id}/workflows",
                                     data={"workflow": ["deib"], "reason": "mis_triaged"})
    assert r.status_code == 302
    tip = district.tip(tip_id)
    assert tip.workflow_keys == ["deib"] and tip.corrected_at is not None
    assert tip.triage_original["workflows"] == ["deib", "threat"]  # the first labels stay
    assert ("workflows_changed", district.members["deib"].email) in audit_actions(district, tip_id)


# Triage reads this bias report as a threat with police evidence (a weapon with a time): routing
# forwards it out of hours. Without evidence nothing is forwarded, so there would be nothing to stop.
BIAS_AS_POLICE_THREAT = "they keep calling him racial slurs and said they will shoot him tomorrow because he is black"


def test_removing_threat_from_a_queued_bias_tip_stops_its_police_forward(district: District) -> None:
    tip_id, _ = district.receive(BIAS_AS_POLICE_THREAT, OUT_OF_HOURS)
    [forward] = district.deliveries(tip_id, purpose="police")
    assert forward.state == "pending" and "outside school hours" in forward.reason
    assert keyring.POLICE in district.sealed_inboxes(tip_id)

    deib = district.client("deib")
    assert deib.post(f"/console/tips/{tip_id}/workflows",
                     data={"workflow": ["deib"], "reason": "mis_triaged"}).status_code == 302
    # One member's correction asks; the forward stays queued until a second member confirms.
    [stop] = stops(district, tip_id)
    assert (stop.action, stop.reason, stop.state) == ("cancel", "routing_changed", "requested")
    assert district.deliveries(tip_id, purpose="police")[0].state == "pending"
    page = district.client("principal").get(f"/console/tips/{tip_id}").get_data(as_text=True)
    assert "Confirm cancel" in page and "Waiting for a second member" in page

    assert district.client("principal").post(f"/console/tips/{tip_id}/stops/{stop.id}/confirm").status_code == 302
    assert district.deliveries(tip_id, purpose="police")[0].state == "cancelled"
    assert stops(district, tip_id)[0].state == "confirmed"

    district.run_worker(OUT_OF_HOURS + timedelta(minutes=5))
    assert district.police_requests() == []
    assert district.deliveries(tip_id, purpose="police")[0].state == "cancelled"
    assert district.disclosures(tip_id) == []
    # No longer police-routed: the police inbox's key to this tip is gone too, and so is the threat team's.
    assert district.sealed_inboxes(tip_id) == {keyring.ADMIN, "wf:deib", "SHS:deib"}
    tip = district.tip(tip_id)
    assert not tip.police
    actions = [a for a, _ in audit_actions(district, tip_id)]
    for expected in ("workflows_changed", "forward_stop_requested", "forward_stop_confirmed", "tip_keys_changed"):
        assert expected in actions


def test_removing_a_workflow_revokes_that_inboxes_keys_offline(district: District) -> None:
    tip_id, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    with district.session() as session:
        tip = session.get(Tip, tip_id)
        assert tip is not None
        threat_chain = district.keychain(session, "threat")
        shs_threat = keyring.current_key(session, "SHS:threat")
        threat_private = threat_chain.private_for(session, shs_threat)
        assert threat_private is not None, "the threat team member holds the SHS threat inbox key"
        [sealed] = session.scalars(select(TipKey.sealed).where(TipKey.tip_id == tip_id,
                                                               TipKey.inbox_key_id == shs_threat.id)).all()
        data_key = crypto.open_sealed(threat_private, sealed, intake.inbox_context(tip_id, "SHS:threat", 1))
        assert threat_chain.data_key(session, tip) == data_key

    assert district.client("deib").post(f"/console/tips/{tip_id}/workflows",
                                        data={"workflow": ["deib"], "reason": "mis_triaged"}).status_code == 302

    with district.session() as session:
        tip = session.get(Tip, tip_id)
        assert tip is not None
        threat_keys = set(session.scalars(select(InboxKey.id).join(Inbox).where(
            Inbox.key.in_(["SHS:threat", "wf:threat"]))))
        remaining = session.execute(select(TipKey.sealed, TipKey.inbox_key_id).where(TipKey.tip_id == tip_id)).all()
        assert threat_keys.isdisjoint({k for _, k in remaining}), "the threat inboxes' sealed copies are deleted"
        # The threat inbox private key, loaded from the keyring as its member would, opens nothing left.
        threat_chain = district.keychain(session, "threat")
        private = threat_chain.private_for(session, keyring.current_key(session, "SHS:threat"))
        assert private is not None
        for blob, _ in remaining:
            for inbox in ("SHS:threat", "wf:threat", "SHS:deib", keyring.ADMIN):
                with pytest.raises(crypto.CryptoError):
                    crypto.open_sealed(private, blob, intake.inbox_context(tip_id, inbox, 1))
        assert threat_chain.data_key(session, tip) is None
        # A still-entitled inbox opens it, and it is the same data key.
        assert district.keychain(session, "deib").data_key(session, tip) == data_key
    assert district.client("threat").get(f"/console/tips/{tip_id}").status_code in (403, 404)


def test_adding_a_workflow_and_changing_the_school_reseal(district: District) -> None:
    tip_id, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    principal = district.client("principal")
    assert principal.post(f"/console/tips/{tip_id}/workflows", data={
        "workflow": ["deib", "threat", "wellbeing"], "reason": "new_information"}).status_code == 302
    assert {"SHS:wellbeing", "wf:wellbeing"} <= district.sealed_inboxes(tip_id)

    # The reporter chose the wrong school: the SHS teams lose the tip and the BMS teams gain it.
    r = principal.post(f"/console/tips/{tip_id}/school", data={"school": "BMS", "reason": "wrong_school"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/")  # out of the principal's reach
    inboxes = district.sealed_inboxes(tip_id)
    assert {"BMS:deib", "BMS:threat", "BMS:wellbeing"} <= inboxes
    assert not {i for i in inboxes if i.startswith("SHS:")}
    assert district.tip(tip_id).school == "BMS"
    assert district.client("deib_bms").get(f"/console/tips/{tip_id}").status_code == 200
    assert district.client("deib").get(f"/console/tips/{tip_id}").status_code in (403, 404)
    # Refused input changes nothing.
    admin = district.client("admin")
    assert admin.post(f"/console/tips/{tip_id}/school", data={"school": "XYZ", "reason": "wrong_school"}
                      ).status_code == 400
    assert admin.post(f"/console/tips/{tip_id}/workflows", data={"workflow": ["nope"], "reason": "other"}
                      ).status_code == 400
    assert admin.post(f"/console/tips/{tip_id}/workflows", data={"workflow": ["deib"], "reason": ""}
                      ).status_code == 400
    assert district.tip(tip_id).school == "BMS"


def test_send_to_police_now_records_why_and_who(district: District) -> None:
    tip_id, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    assert district.deliveries(tip_id, purpose="police") == []
    assert keyring.POLICE not in district.sealed_inboxes(tip_id)
    threat = district.client("threat")
    r = threat.post(f"/console/tips/{tip_id}/police", data={
        "endpoint": "dispatch", "reason": "team_judgement", "note": "spoke to the SRO; he agrees"})
    assert r.status_code == 302
    [forward] = district.deliveries(tip_id, purpose="police")
    email = district.members["threat"].email
    assert forward.state == "pending" and email in forward.reason
    assert forward.body["decided_by"] == email and "spoke to the SRO" not in json.dumps(forward.body)
    assert keyring.POLICE in district.sealed_inboxes(tip_id)
    tip = district.tip(tip_id)
    assert tip.police and tip.priority == "urgent"
    # A second press while it is queued queues nothing more.
    assert threat.post(f"/console/tips/{tip_id}/police", data={"endpoint": "dispatch", "reason": "team_judgement"}
                       ).status_code == 400
    assert len(district.deliveries(tip_id, purpose="police")) == 1

    district.run_worker(utcnow())
    [request] = district.police_requests()
    assert request.header("Idempotency-Key") == forward.idempotency_key
    assert BIAS_AS_THREAT in json.loads(request.body)["message"]
    [disclosure] = district.disclosures(tip_id)
    assert email in disclosure.why and corrections.POLICE_REASONS["team_judgement"] in disclosure.why
    assert ("police_sent", email) in audit_actions(district, tip_id)


def test_hold_needs_a_second_member_who_is_not_the_one_who_asked(district: District) -> None:
    tip_id, _ = district.receive(THREAT, OUT_OF_HOURS)
    [forward] = district.deliveries(tip_id, purpose="police")
    threat = district.client("threat")
    assert threat.post(f"/console/tips/{tip_id}/forwards/{forward.id}/stop",
                       data={"action": "hold", "reason": "police_already_know"}).status_code == 302
    [stop] = stops(district, tip_id)
    assert district.deliveries(tip_id, purpose="police")[0].state == "pending"
    # The member who asked cannot confirm their own hold.
    assert threat.post(f"/console/tips/{tip_id}/stops/{stop.id}/confirm").status_code == 400
    assert district.deliveries(tip_id, purpose="police")[0].state == "pending"
    assert stops(district, tip_id)[0].state == "requested"
    # Nor ask twice.
    assert threat.post(f"/console/tips/{tip_id}/forwards/{forward.id}/stop",
                       data={"action": "hold", "reason": "other"}).status_code == 400

    assert district.client("principal").post(f"/console/tips/{tip_id}/stops/{stop.id}/confirm").status_code == 302
    assert district.deliveries(tip_id, purpose="police")[0].state == "held"
    district.run_worker(OUT_OF_HOURS + timedelta(hours=1))
    assert district.police_requests() == []
    assert keyring.POLICE not in district.sealed_inboxes(tip_id)

    # Released by one member (the safe direction), it goes once, with a disclosure.
    assert threat.post(f"/console/tips/{tip_id}/forwards/{forward.id}/release").status_code == 302
    assert keyring.POLICE in district.sealed_inboxes(tip_id)
    district.run_worker(utcnow())
    district.run_worker(utcnow())
    [request] = district.police_requests()
    assert THREAT in json.loads(request.body)["message"]
    assert len(district.disclosures(tip_id)) == 1
    actions = [a for a, _ in audit_actions(district, tip_id)]
    assert actions.count("forward_stop_requested") == 1 and "forward_released" in actions


def test_a_sent_forward_cannot_be_held(district: District) -> None:
    tip_id, _ = district.receive(THREAT, OUT_OF_HOURS)
    [forward] = district.deliveries(tip_id, purpose="police")
    threat = district.client("threat")
    # Asked while queued, but the worker sends it before a second member confirms.
    assert threat.post(f"/console/tips/{tip_id}/forwards/{forward.id}/stop",
                       data={"action": "hold", "reason": "police_already_know"}).status_code == 302
    district.run_worker(OUT_OF_HOURS)
    assert len(district.police_requests()) == 1
    [stop] = stops(district, tip_id)
    r = district.client("principal").post(f"/console/tips/{tip_id}/stops/{stop.id}/confirm")
    assert r.status_code == 400 and "already gone" in r.get_data(as_text=True)
    assert stops(district, tip_id)[0].state == "overtaken"
    assert district.deliveries(tip_id, purpose="police")[0].state == "sent"
    # And a new request on the sent forward is refused.
    assert threat.post(f"/console/tips/{tip_id}/forwards/{forward.id}/stop",
                       data={"action": "cancel", "reason": "other"}).status_code == 400
    assert len(stops(district, tip_id)) == 1


def test_the_worker_never_claims_held_or_cancelled_rows(district: District) -> None:
    tip_id, _ = district.receive(THREAT, OUT_OF_HOURS)
    [forward] = district.deliveries(tip_id, purpose="police")
    factory = district.app.extensions["tipline.sessionmaker"]
    for state in ("held", "cancelled"):
        with factory() as session, session.begin():
            row = session.get(Delivery, forward.id)
            assert row is not None
            row.state, row.locked_until = state, None
        later = OUT_OF_HOURS + timedelta(days=30)
        assert forward.id not in worker.claim_due(factory, later, limit=100)


def test_accuracy_page_compares_triage_with_staff_decisions(district: District) -> None:
    corrected, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    kept, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    untouched, _ = district.receive(BIAS_AS_THREAT, IN_HOURS)
    deib = district.client("deib")
    assert deib.post(f"/console/tips/{corrected}/workflows",
                     data={"workflow": ["deib"], "reason": "mis_triaged"}).status_code == 302
    assert deib.post(f"/console/tips/{kept}/status", data={"status": "closed", "outcome": "valid"}).status_code == 302
    assert deib.get("/console/accuracy").status_code == 403  # admins only

    with district.session() as session:
        rows = session.execute(corrections.counted(select(Tip.id))).scalars().all()
    assert set(rows) == {corrected, kept}  # the untouched open tip does not count yet
    assert untouched not in rows

    page = district.client("admin").get("/console/accuracy?months=60")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    month = IN_HOURS.strftime("%Y-%m")
    assert f'id="accuracy-{month}"' in html and "2 decided tips, 1 of them corrected" in html
    threat_row = html.split('data-label="threat"')[1].split("</tr>")[0]
    # Triage said threat on both; staff kept it on one: precision 50%, recall 100%.
    assert "<td>1</td><td>1</td><td>0</td>" in threat_row and "50%" in threat_row and "100%" in threat_row
    assert "terrorist" not in html and "hijab" not in html


def test_measure_counts_per_month_and_label() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    rows = [
        (IN_HOURS, {"workflows": ["deib", "threat"], "police": True}, ["deib"], False, True),
        (IN_HOURS, {"workflows": ["deib"], "police": False}, ["deib", "wellbeing"], True, True),
        (IN_HOURS - timedelta(days=40), {"workflows": [], "police": False}, [], False, False),
        (IN_HOURS, None, ["deib"], False, False),  # received before first labels were kept
    ]
    [october, august] = corrections.measure(rows, zone, ["deib", "threat", "wellbeing"])
    assert (october.month, october.tips, october.corrected) == ("2026-10", 2, 2)
    assert (october.labels["deib"].precision, october.labels["deib"].recall) == (1.0, 1.0)
    assert october.labels["threat"].precision == 0.0 and october.labels["threat"].recall is None
    assert october.labels["wellbeing"].recall == 0.0
    assert (october.labels["police"].tp, october.labels["police"].fp, october.labels["police"].fn) == (0, 1, 1)
    assert august.month == "2026-08" and august.tips == 1


def test_hold_and_confirm_in_the_browser(district: District) -> None:
    tip_id, _ = district.receive(THREAT, OUT_OF_HOURS)
    [forward] = district.deliveries(tip_id, purpose="police")
    cookies = {}
    for who in ("threat", "principal"):
        client = district.client(who)
        cookie = client.get_cookie("tl_staff", path="/console")
        assert cookie is not None
        cookies[who] = cookie.value
    with serve(district.app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            pages = {}
            for who, value in cookies.items():
                context = browser.new_context()
                context.add_cookies([{"name": "tl_staff", "value": value, "url": base + "/console"}])
                pages[who] = context.new_page()
            page = pages["threat"]
            page.goto(f"{base}/console/tips/{tip_id}#forwards")
            row = page.locator(f"#forward-{forward.id}")
            row.locator("select[name=action]").select_option("hold")
            row.locator("select[name=reason]").select_option("police_already_know")
            row.get_by_role("button", name="Ask a second member").click()
            expect(page.locator(f"#forward-{forward.id} .stop-request")).to_contain_text("Waiting for a second member")
            expect(page.locator(f"#forward-{forward.id}")).not_to_contain_text("Confirm hold")

            other = pages["principal"]
            other.goto(f"{base}/console/tips/{tip_id}#forwards")
            other.locator(f"#forward-{forward.id}").get_by_role("button", name="Confirm hold").click()
            expect(other.locator(f"#forward-{forward.id} .state")).to_have_text("held")
            expect(other.locator(f"#forward-{forward.id}")).to_contain_text("Release: send it now")
        finally:
            browser.close()
    assert district.deliveries(tip_id, purpose="police")[0].state == "held"
