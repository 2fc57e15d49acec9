"""Receiving a tip: triage in memory, seal, and store tip, keys, files and outbox at once.

Knows no Flask: the reporter blueprint hands it plain values and gets back the receipt code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import pluggy
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tipline import audit, corrections, crypto, keyring, oncall, outbox, reading, receipts, routing
from tipline import plugins as hooks
from tipline.config import District
from tipline.models import Attachment, Message, Tip, TipKey, TipWorkflow
from tipline.orm import Base, to_minute
from tipline.types import PRIORITIES, RouteAction, TipDraft, Triage, staff_target
from tipline.uploads import CleanFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    message: str
    category: str
    school: str | None
    contact: str
    files: tuple[CleanFile, ...] = ()

    def digest(self) -> bytes:
        h = hashlib.sha256()
        for part in (self.message, self.category, self.school or "", self.contact):
            h.update(part.encode() + b"\x00")
        for f in self.files:
            h.update(hashlib.sha256(f.data).digest())
        return h.digest()


@dataclass(frozen=True)
class Received:
    tip_id: str
    receipt: str
    triage: Triage


def _core(model: type[Base]) -> Table:
    """The model's table: a Core INSERT skips the ORM's bulk-insert bookkeeping on the hot path."""
    return cast(Table, model.__table__)


def reporter_context(tip_id: str) -> str:
    return f"tip-key/{tip_id}/reporter"


def inbox_context(tip_id: str, inbox_key: str, version: int) -> str:
    return f"tip-key/{tip_id}/{inbox_key}/{version}"


def attachment_row(data_key: bytes, tip_id: str, f: CleanFile, message_id: int | None,
                   created_at: datetime) -> dict[str, object]:
    label = uuid.uuid4().hex
    meta = json.dumps({"filename": f.filename, "content_type": f.content_type, "size": len(f.data)}).encode()
    return {"tip_id": tip_id, "message_id": message_id, "label": label, "created_at": created_at,
            "sealed_meta": crypto.seal_field(data_key, tip_id, f"attachment/{label}/meta", meta),
            "sealed_content": crypto.seal_field(data_key, tip_id, f"attachment/{label}/content", f.data)}


# Kept under its old name for callers outside routing (corrections re-route with it).
route_context = routing.context


def receive(session: Session, pm: pluggy.PluginManager, district: District, pepper: bytes,
            report: Report, now: datetime, nonce: str | None = None) -> Received:
    """Store one tip. The caller commits; nothing is written if anything here raises.

    With the form's ``nonce``, the receipt code and a dedupe id are derived from it (see
    ``receipts.submission_ids``) so that the same submission is stored once.
    """
    draft = TipDraft(text=report.message, category=report.category, school=report.school,
                     submitted_at=now, attachment_count=len(report.files))
    result = hooks.triage(pm, draft)
    context, actions = routing.route(pm, district, draft, result, now)

    tip_id = uuid.uuid4().hex
    dedupe_id: str | None = None
    if nonce:
        dedupe_id, code = receipts.submission_ids(pepper, nonce, report.digest())
    else:
        code = receipts.new_code()
    canonical = receipts.normalise(code)
    assert canonical is not None
    _, reporter_public = receipts.reporter_keypair(canonical)
    data_key = crypto.random_key()

    police = any(a.kind == "forward" for a in actions) or oncall.may_forward(district, report.school, result,
                                                                             actions, now)
    # The same rule a correction re-seals by, so intake and corrections never disagree.
    inboxes = corrections.entitled_inboxes(result.workflows, report.school, police)

    minute = to_minute(now)
    payload = json.dumps({"message": report.message, "category": report.category,
                          "contact": report.contact}).encode()
    tip_row: dict[str, object] = dict(
        id=tip_id, lookup_id=receipts.lookup_id(canonical, pepper), dedupe_id=dedupe_id, school=report.school,
        status="new",
        priority=result.priority, priority_rank=PRIORITIES.index(result.priority), police=result.police,
        signals=list(result.signals), triage_original=corrections.original_labels(result),
        routing={"in_school_hours": context.in_school_hours, "inboxes": inboxes,
                 "actions": [{"kind": a.kind, "target": a.target, "reason": a.reason} for a in actions]},
        received_at=minute, updated_at=minute,
        sealed_report=crypto.seal_field(data_key, tip_id, "report", payload),
    )
    # Core INSERTs, one per table (multi-row for children): this is the submission's hot path,
    # and nothing here needs the ORM's identity map.
    recipients: list[tuple[int | None, bytes, str]] = [(None, reporter_public, reporter_context(tip_id))]
    current = keyring.current_keys(session, inboxes)
    for inbox in list(inboxes):
        key = current.get(inbox)
        if key is None:
            if inbox == keyring.ADMIN:
                raise LookupError("the admin inbox has no key; run `tipline init`")
            # A workflow added since `tipline init`: district admins can still read the tip.
            log.warning("inbox %s has no key yet; run `tipline init`", inbox)
            inboxes.remove(inbox)
            continue
        recipients.append((key.id, key.public_key, inbox_context(tip_id, inbox, key.version)))
    sealed = crypto.seal_to_many([(public, context) for _, public, context in recipients], data_key)
    key_rows = [{"tip_id": tip_id, "inbox_key_id": key_id, "sealed": blob}
                for (key_id, _, _), blob in zip(recipients, sealed, strict=True)]
    session.execute(insert(_core(Tip)), [tip_row])
    session.execute(insert(_core(TipKey)), key_rows)
    if result.workflows:
        session.execute(insert(_core(TipWorkflow)), [{"tip_id": tip_id, "workflow": wf} for wf in result.workflows])
    if report.files:
        session.execute(insert(_core(Attachment)),
                        [attachment_row(data_key, tip_id, f, None, minute) for f in report.files])
    if actions:
        outbox.enqueue_for_tip(session, district, tip_id, report.school, result, actions, now)
        oncall.enqueue_pages(session, district, tip_id, report.school, result, actions, now)
    return Received(tip_id, code, result)


def find_duplicate(session: Session, pepper: bytes, nonce: str, report: Report) -> str | None:
    """The receipt code of a tip already stored from this very submission, if any."""
    dedupe_id, code = receipts.submission_ids(pepper, nonce, report.digest())
    exists = session.scalar(select(Tip.id).where(Tip.dedupe_id == dedupe_id))
    return code if exists else None


def message_dedupe_id(pepper: bytes, tip_id: str, nonce: str, text: str) -> str:
    return receipts.submission_ids(pepper, nonce, hashlib.sha256((tip_id + "\x00" + text).encode()).digest())[0]


def add_reporter_message(session: Session, tip: Tip, data_key: bytes, text: str,
                         files: tuple[CleanFile, ...], now: datetime, dedupe_id: str | None = None) -> Message:
    minute = to_minute(now)
    msg = Message(tip_id=tip.id, direction="reporter", created_at=minute, sealed_body=b"", dedupe_id=dedupe_id)
    session.add(msg)
    session.flush()
    msg.sealed_body = reading.seal_message_body(data_key, msg, text)
    if files:
        session.execute(insert(_core(Attachment)),
                        [attachment_row(data_key, tip.id, f, msg.id, minute) for f in files])
    tip.updated_at = minute
    return msg


FOLLOWUP_FORWARD_REASON = "Follow-up from the reporter on a tip already forwarded to police."


@dataclass(frozen=True)
class FollowUp:
    """What a reporter's follow-up set off (ids and counts, never content)."""

    message_id: int
    triage: Triage
    workflows_added: tuple[str, ...]
    reopened: bool
    notices: int
    forwards: tuple[int, ...]


def receive_followup(session: Session, pm: pluggy.PluginManager, district: District, tip: Tip, data_key: bytes,
                     text: str, files: tuple[CleanFile, ...], now: datetime,
                     dedupe_id: str | None = None) -> FollowUp:
    """A reporter's new message or files, handled like a tip. The caller commits.

    - triaged like a tip, in the light of the reporter's earlier words, and what it adds is
      merged into the tip without lowering anything: workflows added, priority and police
      raised, signals joined; the data key is re-sealed to any inbox a new workflow brings;
    - the tip's team is told (no content), and a closed tip is reopened;
    - forwarded to every police endpoint the tip already went (or is going) to, and, when the
      follow-up brings police evidence the tip lacked, to any the routing rules send it to; each
      with an idempotency key naming the message.
    """
    # Read in the light of what the reporter said before ("it's today at lunch" means little
    # alone): triage the tip's words without and with the follow-up, and merge only what the
    # follow-up adds, so an earlier staff correction is not undone by the same old words.
    report = reading.report(tip, data_key)
    earlier = [reading.message(m, data_key).text for m in tip.messages if m.direction == "reporter"]
    before_text = "\n\n".join([report.message, *earlier])
    msg = add_reporter_message(session, tip, data_key, text, files, now, dedupe_id)
    minute = to_minute(now)
    before = hooks.triage(pm, TipDraft(text=before_text, category=report.category, school=tip.school,
                                       submitted_at=tip.received_at))
    draft = TipDraft(text=f"{before_text}\n\n{text}", category=report.category, school=tip.school,
                     submitted_at=now, attachment_count=len(files))
    result = hooks.triage(pm, draft)
    new_evidence = result.police and not before.police
    # New police evidence is new information: its workflows come back even if staff took them off.
    gained = set(result.workflows) if new_evidence else set(result.workflows) - set(before.workflows)
    added, _ = corrections.set_workflows(session, tip, set(tip.workflow_keys) | gained)
    if PRIORITIES.index(result.priority) > PRIORITIES.index(before.priority):
        corrections.set_priority(tip, result.priority)
    tip.police = tip.police or new_evidence
    tip.signals = sorted(set(tip.signals) | (set(result.signals) - set(before.signals)))
    tip.reporter_new_at = minute
    reopened = tip.status == "closed"
    if reopened:
        tip.status, tip.closed_at = "in_review", None
        audit.record(session, "reporter", audit.STATUS_CHANGED, tip_id=tip.id, old="closed", new="in_review",
                     message_id=msg.id)

    context = routing.context(district, tip.school, now)
    own = hooks.route(pm, draft, result, context) if new_evidence else []
    merged = hooks.route(pm, draft, corrections.current_triage(tip), context)
    # New forwards only on police evidence the follow-up brought: an automatic guess alone
    # never reaches police, and members who stopped the tip's forwards are not overruled by
    # the words they already judged.
    forwards: dict[str, RouteAction] = {a.target: a for a in own if a.kind == "forward"}
    for target, purpose in corrections.police_targets(session, tip.id).items():
        forwards.setdefault(target, RouteAction("forward", target, FOLLOWUP_FORWARD_REASON, purpose))
    queued: list[int] = []
    for target, action in forwards.items():
        row = outbox.enqueue_forward(session, district, tip.id, tip.school, target,
                                     action.purpose or ("welfare" if target == "welfare" else "police"),
                                     action.reason, now, key_parts=("followup", str(msg.id)),
                                     extra={"followup": msg.id})
        queued.append(row.id)

    team = [a.target for a in [*own, *merged] if a.kind == "notify"]
    recorded = (tip.routing or {}).get("actions")
    team += [str(a["target"]) for a in (recorded if isinstance(recorded, list) else [])
             if isinstance(a, dict) and a.get("kind") == "notify" and a.get("target")]
    if not team:
        # The school is always told; with no school, the district's admins.
        team = [staff_target("school-admin" if tip.school else "admin", tip.school)]
    notices = outbox.enqueue_followup_notices(session, tip.id, tip.school, msg.id, tip.workflow_keys, tip.priority,
                                              team, now, district=district)
    corrections.reseal(session, tip, data_key, "reporter")
    audit.record(session, "reporter", audit.FOLLOWUP_RECEIVED, tip_id=tip.id, message_id=msg.id, files=len(files),
                 workflows_added=added, reopened=reopened, notices=notices, forwards=queued)
    return FollowUp(msg.id, result, tuple(added), reopened, notices, tuple(queued))
