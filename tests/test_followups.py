"""A reporter's follow-up is a tip too: triaged, the team told, a closed tip reopened, police
told again when the tip went to them, and flagged until a member opens the tip.

Through the reporter's real form, the real plugins, the delivery worker, a real HTTP receiver
for police and a real SMTP server on loopback.
"""

from __future__ import annotations

import json
import secrets

from corrections_support import BIAS_AS_THREAT, IN_HOURS, OUT_OF_HOURS, SECRET, THREAT, District, district_fixture  # noqa: F401
from sqlalchemy import select

import plugins.webhook
from tipline import keyring
from tipline.models import AuditEntry, Message
from tipline.orm import utcnow

LUNCH = "he just said it's today at lunch"


def follow_up(d: District, code: str, text: str, nonce: str | None = None) -> int:
    reporter = d.app.test_client()
    r = reporter.post("/followup", data={"receipt": code, "action": "reply", "message": text,
                                         "submission": nonce or secrets.token_urlsafe(24)})
    assert "Your message was added" in r.get_data(as_text=True)
    return r.status_code


def test_followup_on_a_closed_police_routed_threat_reopens_alerts_and_goes_to_police_once(
        district: District) -> None:
    tip_id, code = district.receive(THREAT, OUT_OF_HOURS, category="threat")
    district.run_worker(OUT_OF_HOURS)
    assert len(district.police_requests()) == 1
    threat = district.client("threat")
    assert threat.post(f"/console/tips/{tip_id}/status", data={"status": "closed", "outcome": "valid"}
                       ).status_code == 302
    assert district.tip(tip_id).status == "closed"
    mail_before = len(district.smtp.messages)

    nonce = secrets.token_urlsafe(24)
    assert follow_up(district, code, LUNCH, nonce) == 200
    assert follow_up(district, code, LUNCH, nonce) == 200  # a reload stores and sends nothing twice

    tip = district.tip(tip_id)
    assert tip.status == "in_review" and tip.closed_at is None and tip.reporter_new_at is not None
    with district.session() as session:
        [msg_id] = session.scalars(select(Message.id).where(Message.tip_id == tip_id,
                                                            Message.direction == "reporter")).all()
        reopened = session.execute(select(AuditEntry.actor, AuditEntry.detail).where(
            AuditEntry.tip_id == tip_id, AuditEntry.action == "status_changed")).all()
    assert ("reporter", {"old": "closed", "new": "in_review", "message_id": msg_id}) in [
        (a, d) for a, d in reopened]

    notices = district.deliveries(tip_id, purpose="followup")
    assert notices and all("urgent" in n.subject for n in notices)
    assert all(LUNCH not in json.dumps(n.body) + n.subject for n in notices)
    first, second = district.deliveries(tip_id, purpose="police")
    assert second.body["followup"] == msg_id and second.state == "pending"
    assert second.idempotency_key != first.idempotency_key

    now = utcnow()
    district.run_worker(now)
    district.run_worker(now)
    requests = district.police_requests()
    assert len(requests) == 2, "the follow-up reached police exactly once"
    request = requests[1]
    assert plugins.webhook.verify(SECRET, request.body, request.header("X-Tipline-Signature") or "")
    payload = json.loads(request.body)
    assert request.header("Idempotency-Key") == second.idempotency_key
    assert payload["reference"] == tip_id and payload["followup"]["text"] == LUNCH
    assert LUNCH in payload["text"] and THREAT in payload["message"]
    disclosures = district.disclosures(tip_id)
    assert len(disclosures) == 2
    assert disclosures[1].delivery_id == second.id and f"follow-up message {msg_id}" in disclosures[1].what
    assert disclosures[1].recipient == f"webhook:{district.http.url('/dispatch')}"

    team_mail = district.smtp.messages[mail_before:]
    assert team_mail, "the school's team was told"
    for mail in team_mail:
        text = "\n".join(mail.texts())
        assert LUNCH not in text and "The reporter added a message" in text

    # The tip page shows it as new from the reporter once, then the flag is cleared.
    page = threat.get(f"/console/tips/{tip_id}").get_data(as_text=True)
    assert 'id="new-from-reporter"' in page and "today at lunch" in page
    assert district.tip(tip_id).reporter_new_at is None
    assert 'id="new-from-reporter"' not in threat.get(f"/console/tips/{tip_id}").get_data(as_text=True)


def test_followup_is_triaged_and_merged_without_lowering(district: District) -> None:
    tip_id, code = district.receive(BIAS_AS_THREAT, IN_HOURS, category="bias")
    assert district.deliveries(tip_id, purpose="police") == []
    # Staff narrowed it to DEIB; the reporter then adds a weapon with a time and a target.
    assert district.client("deib").post(f"/console/tips/{tip_id}/workflows", data={
        "workflow": ["deib"], "reason": "mis_triaged"}).status_code == 302
    assert keyring.POLICE not in district.sealed_inboxes(tip_id)

    follow_up(district, code, "now one of them said he will bring a knife to school friday and stab her")

    tip = district.tip(tip_id)
    assert tip.workflow_keys == ["deib", "threat"]
    assert tip.priority == "urgent" and tip.police
    assert "threat.weapon" in tip.signals
    assert {"SHS:threat", "wf:threat", keyring.POLICE} <= district.sealed_inboxes(tip_id)
    [forward] = district.deliveries(tip_id, purpose="police")
    assert forward.body.get("followup") is not None
    assert district.client("threat").get(f"/console/tips/{tip_id}").status_code == 200

    district.run_worker(utcnow())
    [request] = district.police_requests()
    assert "stab her" in json.loads(request.body)["followup"]["text"]


def test_followup_on_a_tip_not_sent_to_police_tells_the_team_only(district: District) -> None:
    tip_id, code = district.receive(BIAS_AS_THREAT, IN_HOURS, category="bias")
    follow_up(district, code, "they did it again in the cafeteria today")
    assert district.deliveries(tip_id, purpose="police") == []
    assert district.deliveries(tip_id, purpose="followup")
    assert district.tip(tip_id).status == "new"
