"""Receiving a tip: triage in memory, seal, and store tip, keys, files and outbox at once.

Knows no Flask: the reporter blueprint hands it plain values and gets back the receipt code.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import pluggy
from sqlalchemy.orm import Session

from tipline import crypto, keyring, outbox, receipts
from tipline import plugins as hooks
from tipline.config import District
from tipline.db import to_minute
from tipline.models import Attachment, Message, Tip, TipKey, TipWorkflow
from tipline.schedule import in_school_hours
from tipline.types import PRIORITIES, RouteContext, TipDraft, Triage
from tipline.uploads import CleanFile


@dataclass(frozen=True)
class Report:
    message: str
    category: str
    school: str | None
    contact: str
    files: tuple[CleanFile, ...] = ()


@dataclass(frozen=True)
class Received:
    tip_id: str
    receipt: str
    triage: Triage


def reporter_context(tip_id: str) -> str:
    return f"tip-key/{tip_id}/reporter"


def inbox_context(tip_id: str, inbox_key: str, version: int) -> str:
    return f"tip-key/{tip_id}/{inbox_key}/{version}"


def seal_attachment(data_key: bytes, tip_id: str, f: CleanFile, message_id: int | None = None) -> Attachment:
    label = uuid.uuid4().hex
    meta = json.dumps({"filename": f.filename, "content_type": f.content_type, "size": len(f.data)}).encode()
    return Attachment(tip_id=tip_id, message_id=message_id, label=label,
                      sealed_meta=crypto.seal_field(data_key, tip_id, f"attachment/{label}/meta", meta),
                      sealed_content=crypto.seal_field(data_key, tip_id, f"attachment/{label}/content", f.data))


def receive(session: Session, pm: pluggy.PluginManager, district: District, pepper: bytes,
            report: Report, now: datetime) -> Received:
    """Store one tip. The caller commits; nothing is written if anything here raises."""
    draft = TipDraft(text=report.message, category=report.category, school=report.school,
                     submitted_at=now, attachment_count=len(report.files))
    result = hooks.triage(pm, draft)
    school = district.schools.get(report.school) if report.school else None
    context = RouteContext(
        school=report.school, now=now, in_school_hours=in_school_hours(district, report.school, now),
        administrators=school.administrators if school else (),
        officers=school.officers if school else (),
        counselors=school.counselors if school else (),
    )
    actions = hooks.route(pm, draft, result, context)

    tip_id = uuid.uuid4().hex
    code = receipts.new_code()
    canonical = receipts.normalise(code)
    assert canonical is not None
    _, reporter_public = receipts.reporter_keypair(canonical)
    data_key = crypto.random_key()

    inboxes = [keyring.ADMIN]
    if result.workflows:
        for wf in result.workflows:
            inboxes.append(keyring.workflow_inbox(wf, None))
            if report.school:
                inboxes.append(keyring.workflow_inbox(wf, report.school))
    else:
        inboxes.append(keyring.GENERAL)
    if any(a.kind == "forward" for a in actions):
        inboxes.append(keyring.POLICE)

    minute = to_minute(now)
    payload = json.dumps({"message": report.message, "category": report.category,
                          "contact": report.contact}).encode()
    tip = Tip(
        id=tip_id, lookup_id=receipts.lookup_id(canonical, pepper), school=report.school, status="new",
        priority=result.priority, priority_rank=PRIORITIES.index(result.priority), police=result.police,
        signals=list(result.signals),
        routing={"in_school_hours": context.in_school_hours, "inboxes": inboxes,
                 "actions": [{"kind": a.kind, "target": a.target, "reason": a.reason} for a in actions]},
        received_at=minute, updated_at=minute,
        sealed_report=crypto.seal_field(data_key, tip_id, "report", payload),
    )
    tip.workflows = [TipWorkflow(workflow=wf) for wf in result.workflows]
    tip.keys = [TipKey(inbox_key_id=None,
                       sealed=crypto.seal_to(reporter_public, data_key, reporter_context(tip_id)))]
    for inbox in inboxes:
        key = keyring.current_key(session, inbox)
        tip.keys.append(TipKey(inbox_key_id=key.id,
                               sealed=crypto.seal_to(key.public_key, data_key,
                                                     inbox_context(tip_id, inbox, key.version))))
    for f in report.files:
        att = seal_attachment(data_key, tip_id, f)
        att.created_at = minute
        tip.attachments.append(att)
    session.add(tip)
    outbox.enqueue_for_tip(session, district, tip_id, report.school, result, actions, now)
    session.flush()
    return Received(tip_id, code, result)


def add_reporter_message(session: Session, tip: Tip, data_key: bytes, text: str,
                         files: tuple[CleanFile, ...], now: datetime) -> Message:
    minute = to_minute(now)
    msg = Message(tip_id=tip.id, direction="reporter", created_at=minute, sealed_body=b"")
    session.add(msg)
    session.flush()
    msg.sealed_body = crypto.seal_field(data_key, tip.id, f"message/{msg.id}", text.encode())
    for f in files:
        att = seal_attachment(data_key, tip.id, f, msg.id)
        att.created_at = minute
        session.add(att)
    tip.updated_at = minute
    return msg
