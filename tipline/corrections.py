"""Staff corrections to a tip, and the key changes they bring. Knows no Flask.

A member who can open a tip can change its workflows or school (the data key is re-sealed to
the inboxes now entitled, and the keys of inboxes no longer entitled are deleted), send it to
police now, or ask to hold or cancel a police forward that has not gone yet. A hold or cancel
takes effect only when a second member confirms it (see docs/corrections.md for why).

Every change is audited with codes and ids only. Reasons are codes from the lists below, so
the clear-text columns (delivery reasons, the disclosure log, the audit log) never hold a
member's or a reporter's words; anything longer belongs in a sealed staff note.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import pluggy
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from tipline import audit, crypto, intake, keyring, outbox, reading
from tipline import plugins as hooks
from tipline.config import District
from tipline.models import Delivery, ForwardStop, Inbox, InboxKey, Staff, Tip, TipKey, TipWorkflow
from tipline.orm import to_minute
from tipline.types import PRIORITIES, TipDraft, Triage, Workflow

log = logging.getLogger(__name__)

POLICE_PURPOSES = frozenset({"police", "welfare"})
# Delivery states a person set: the worker never claims them (it takes only due ``pending``
# rows, or ``sending`` rows whose lease ran out).
HELD, CANCELLED = "held", "cancelled"
STOPPED = (HELD, CANCELLED)

CHANGE_REASONS: dict[str, str] = {
    "mis_triaged": "Triage put it in the wrong place",
    "new_information": "New information (interview, follow-up, another report)",
    "wrong_school": "The reporter chose the wrong school",
    "other": "Other (see the staff notes)",
}
POLICE_REASONS: dict[str, str] = {
    "weapon_plan": "A weapon or explosive with a time, place or target, or preparatory steps",
    "weapon_now": "A weapon at school now",
    "danger_now": "A person is in danger now",
    "sexual_images": "Sextortion, or sexual images of a minor shared",
    "team_judgement": "The threat team judged it a substantive threat",
    "police_asked": "Police asked for the report",
    "other": "Other (see the staff notes)",
}
STOP_REASONS: dict[str, str] = {
    "not_a_threat": "Not a threat: triage got it wrong (e.g. a bias report)",
    "routing_changed": "A correction removed what the forward was for",
    "police_already_know": "Police already have it (called by phone, or on scene)",
    "duplicate": "A duplicate of a tip already sent",
    "transient": "The threat team judged it transient and resolved",
    "other": "Other (see the staff notes)",
}
STOP_ACTIONS = ("hold", "cancel")


class CorrectionError(ValueError):
    """A correction that cannot be made; the message is shown to the member as it is."""


# --- who may hold the data key ------------------------------------------------------------------


def entitled_inboxes(workflows: Iterable[str], school: str | None, police_routed: bool) -> list[str]:
    """The inboxes a tip's data key must be sealed to, as at intake: the district admins, each
    workflow district-wide and at the school (the general inboxes when it has none), and police
    dispatch only while the tip is police-routed. The reporter's own key is kept apart."""
    wanted = [keyring.ADMIN]
    wfs = sorted(set(workflows))
    for wf in wfs or [keyring.GENERAL]:
        wanted.append(keyring.workflow_inbox(wf, None) if wfs else keyring.GENERAL)
        if school:
            wanted.append(keyring.workflow_inbox(wf, school))
    if police_routed:
        wanted.append(keyring.POLICE)
    return wanted


def police_routed(session: Session, tip_id: str) -> bool:
    """Whether a police forward of this tip has gone, or is going (not held or cancelled)."""
    return bool(session.scalar(select(exists().where(
        Delivery.tip_id == tip_id, Delivery.purpose.in_(POLICE_PURPOSES), Delivery.state.not_in(STOPPED)))))


def police_targets(session: Session, tip_id: str) -> dict[str, str]:
    """Endpoint name -> purpose of every police forward of this tip that went or is going."""
    rows = session.execute(select(Delivery.body, Delivery.purpose).where(
        Delivery.tip_id == tip_id, Delivery.purpose.in_(POLICE_PURPOSES), Delivery.state.not_in(STOPPED))
        .order_by(Delivery.id)).all()
    out: dict[str, str] = {}
    for body, purpose in rows:
        target = body.get("endpoint") if isinstance(body, dict) else None
        if isinstance(target, str):
            out.setdefault(target, purpose)
    return out


@dataclass(frozen=True)
class Resealed:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def reseal(session: Session, tip: Tip, data_key: bytes, actor: str) -> Resealed:
    """Seal the data key to every inbox now entitled and delete the keys of the others.

    Deleting a ``TipKey`` row is what revokes: an inbox private key opens nothing of this tip
    once its sealed copy of the data key is gone (a backup taken earlier still holds it).
    """
    session.flush()
    wanted = entitled_inboxes(tip.workflow_keys, tip.school, police_routed(session, tip.id))
    rows = session.execute(
        select(TipKey, Inbox.key).join(InboxKey, TipKey.inbox_key_id == InboxKey.id)
        .join(Inbox, InboxKey.inbox_id == Inbox.id).where(TipKey.tip_id == tip.id)).all()
    have: set[str] = set()
    removed: list[str] = []
    for tip_key, name in rows:
        if name in wanted:
            have.add(name)
        else:
            session.delete(tip_key)
            removed.append(name)
    missing = [name for name in wanted if name not in have]
    current = keyring.current_keys(session, missing)
    added: list[str] = []
    for name in missing:
        key = current.get(name)
        if key is None:
            # A workflow added since `tipline init`: district admins can still read the tip.
            log.warning("inbox %s has no key yet; run `tipline init`", name)
            continue
        sealed = crypto.seal_to(key.public_key, data_key, intake.inbox_context(tip.id, name, key.version))
        session.add(TipKey(tip_id=tip.id, inbox_key_id=key.id, sealed=sealed))
        added.append(name)
    if added or removed:
        tip.routing = {**(tip.routing or {}), "inboxes": sorted(have | set(added))}
        audit.record(session, actor, audit.TIP_KEYS_CHANGED, tip_id=tip.id, added=sorted(added),
                     removed=sorted(set(removed)))
    session.flush()
    return Resealed(tuple(sorted(added)), tuple(sorted(set(removed))))


# --- the labels ---------------------------------------------------------------------------------


def original_labels(result: Triage) -> dict[str, object]:
    """What triage first said, as names only: kept beside staff's final labels."""
    return {"workflows": list(result.workflows), "priority": result.priority, "police": result.police,
            "signals": list(result.signals)}


def current_triage(tip: Tip) -> Triage:
    return Triage(tuple(tip.workflow_keys), tip.priority, tip.police, tuple(tip.signals))


def set_priority(tip: Tip, priority: str) -> None:
    """Raise the priority (never lower it)."""
    rank = max(tip.priority_rank, PRIORITIES.index(priority))
    tip.priority, tip.priority_rank = PRIORITIES[rank], rank


def set_workflows(session: Session, tip: Tip, wanted: Iterable[str]) -> tuple[list[str], list[str]]:
    """Make the tip's workflow rows match ``wanted``; returns (added, removed)."""
    target = set(wanted)
    current = {w.workflow: w for w in tip.workflows}
    removed = sorted(set(current) - target)
    added = sorted(target - set(current))
    for key in removed:
        tip.workflows.remove(current[key])
    for key in added:
        tip.workflows.append(TipWorkflow(tip_id=tip.id, workflow=key))
    session.flush()
    return added, removed


def _reroute_stops(session: Session, pm: pluggy.PluginManager, district: District, tip: Tip,
                   data_key: bytes, actor: Staff, now: datetime) -> list[ForwardStop]:
    """After a correction, ask (as the member who made it) to cancel queued forwards that the
    routing rules no longer call for. Forwards a member sent on purpose are left alone."""
    report = reading.report(tip, data_key)
    received = tip.received_at
    draft = TipDraft(text=report.message, category=report.category, school=tip.school, submitted_at=received)
    wanted = {a.target for a in hooks.route(pm, draft, current_triage(tip), intake.route_context(
        district, tip.school, received)) if a.kind == "forward"}
    stops: list[ForwardStop] = []
    for row in session.scalars(select(Delivery).where(Delivery.tip_id == tip.id, Delivery.state == "pending",
                                                      Delivery.purpose.in_(POLICE_PURPOSES))
                               .order_by(Delivery.id)):
        body = row.body if isinstance(row.body, dict) else {}
        if body.get("decided_by") or body.get("endpoint") in wanted or open_stop(session, row.id) is not None:
            continue
        stops.append(request_stop(session, tip, row, actor, "cancel", "routing_changed", now))
    return stops


@dataclass(frozen=True)
class Corrected:
    """What a correction did: for the page's notice and the tests."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    keys: Resealed = field(default_factory=Resealed)
    stops: tuple[int, ...] = ()


def change_workflows(session: Session, pm: pluggy.PluginManager, district: District, tip: Tip, data_key: bytes,
                     actor: Staff, wanted: Iterable[str], known: dict[str, Workflow], reason: str,
                     now: datetime) -> Corrected:
    target = set(wanted)
    if not target <= set(known):
        raise CorrectionError("Choose workflows from the list.")
    if reason not in CHANGE_REASONS:
        raise CorrectionError("Choose a reason for the change.")
    old = tip.workflow_keys
    added, removed = set_workflows(session, tip, target)
    if not added and not removed:
        return Corrected()
    minute = to_minute(now)
    tip.corrected_at = tip.updated_at = minute
    audit.record(session, actor.email, audit.WORKFLOWS_CHANGED, tip_id=tip.id, old=old, new=tip.workflow_keys,
                 reason=reason)
    stops = _reroute_stops(session, pm, district, tip, data_key, actor, now)
    keys = reseal(session, tip, data_key, actor.email)
    return Corrected(tuple(added), tuple(removed), keys, tuple(s.id for s in stops))


def change_school(session: Session, pm: pluggy.PluginManager, district: District, tip: Tip, data_key: bytes,
                  actor: Staff, school: str | None, reason: str, now: datetime) -> Corrected:
    if school is not None and school not in district.schools:
        raise CorrectionError("Choose a school from the list.")
    if reason not in CHANGE_REASONS:
        raise CorrectionError("Choose a reason for the change.")
    if school == tip.school:
        return Corrected()
    old = tip.school
    tip.school = school
    tip.corrected_at = tip.updated_at = to_minute(now)
    audit.record(session, actor.email, audit.SCHOOL_CHANGED, tip_id=tip.id, old=old, new=school, reason=reason)
    stops = _reroute_stops(session, pm, district, tip, data_key, actor, now)
    keys = reseal(session, tip, data_key, actor.email)
    return Corrected(keys=keys, stops=tuple(s.id for s in stops))


# --- police -------------------------------------------------------------------------------------


def send_to_police(session: Session, district: District, tip: Tip, data_key: bytes, actor: Staff,
                   endpoint: str, reason: str, now: datetime) -> Delivery:
    """Queue a forward of the whole tip to a police endpoint, on this member's decision.

    Goes through the outbox like intake's forwards: the worker sends it once, with a stable
    idempotency key, and records the FERPA disclosure, whose ``why`` names the reason and the
    member who decided.
    """
    if endpoint not in district.police:
        raise CorrectionError("Choose a police endpoint from the list.")
    if reason not in POLICE_REASONS:
        raise CorrectionError("Choose why the tip goes to police.")
    queued = session.scalar(select(Delivery.id).where(
        Delivery.tip_id == tip.id, Delivery.purpose.in_(POLICE_PURPOSES), Delivery.state.in_(("pending", "sending")),
        Delivery.body["endpoint"].as_string() == endpoint))
    if queued is not None:
        raise CorrectionError("A forward of this tip to that endpoint is already queued; it goes at the "
                              "worker's next run.")
    # The how-many-th staff forward of this tip: a stable key, so a double submit queues one.
    count = session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.tip_id == tip.id, Delivery.purpose.in_(POLICE_PURPOSES)))
    purpose = "welfare" if endpoint == "welfare" else "police"
    why = f"{POLICE_REASONS[reason]}. Sent by a staff decision ({actor.email})."
    row = outbox.enqueue_forward(session, district, tip.id, tip.school, endpoint, purpose, why, now,
                                 key_parts=("staff", str(count or 0)),
                                 extra={"decided_by": actor.email, "reason_code": reason})
    tip.police = True
    set_priority(tip, "urgent")
    tip.corrected_at = tip.updated_at = to_minute(now)
    audit.record(session, actor.email, audit.POLICE_SENT, tip_id=tip.id, delivery=row.id, endpoint=endpoint,
                 reason=reason)
    reseal(session, tip, data_key, actor.email)
    return row


def open_stop(session: Session, delivery_id: int) -> ForwardStop | None:
    return session.scalars(select(ForwardStop).where(ForwardStop.delivery_id == delivery_id,
                                                     ForwardStop.state == "requested")).first()


def _police_delivery(session: Session, tip: Tip, delivery_id: int) -> Delivery:
    row = session.get(Delivery, delivery_id)
    if row is None or row.tip_id != tip.id or row.purpose not in POLICE_PURPOSES:
        raise CorrectionError("There is no such police forward on this tip.")
    return row


def request_stop(session: Session, tip: Tip, row: Delivery, actor: Staff, action: str, reason: str,
                 now: datetime) -> ForwardStop:
    """Ask to hold or cancel a police forward. Nothing stops until a second member confirms."""
    if action not in STOP_ACTIONS:
        raise CorrectionError("Choose hold or cancel.")
    if reason not in STOP_REASONS:
        raise CorrectionError("Choose why the forward should stop.")
    allowed = ("pending",) if action == "hold" else ("pending", HELD)
    if row.state not in allowed:
        raise CorrectionError(_too_late(row.state))
    if open_stop(session, row.id) is not None:
        raise CorrectionError("A request to stop this forward is already waiting for a second member.")
    stop = ForwardStop(delivery_id=row.id, tip_id=tip.id, action=action, reason=reason, state="requested",
                       requested_by=actor.id, requested_at=to_minute(now))
    session.add(stop)
    session.flush()
    audit.record(session, actor.email, audit.FORWARD_STOP_REQUESTED, tip_id=tip.id, delivery=row.id,
                 stop=action, reason=reason, request=stop.id)
    return stop


def _too_late(state: str) -> str:
    if state in ("sent", "sending"):
        return "This forward has already gone to police (or is being sent now): it cannot be held."
    if state == CANCELLED:
        return "This forward was already cancelled."
    if state == HELD:
        return "This forward is already held."
    return "This forward cannot be stopped now."


def _stop(session: Session, tip: Tip, stop_id: int) -> ForwardStop:
    stop = session.get(ForwardStop, stop_id)
    if stop is None or stop.tip_id != tip.id:
        raise CorrectionError("There is no such request on this tip.")
    if stop.state != "requested":
        raise CorrectionError("That request was already decided.")
    return stop


def confirm_stop(session: Session, tip: Tip, data_key: bytes, actor: Staff, stop_id: int,
                 now: datetime) -> ForwardStop:
    """A second member confirms: the delivery becomes held or cancelled, if it has not gone.

    The state change is one conditional UPDATE, so a worker that claimed the row a moment
    earlier wins and the request is marked overtaken instead.
    """
    stop = _stop(session, tip, stop_id)
    if stop.requested_by == actor.id:
        raise CorrectionError("You asked for this yourself: a second member who can open the tip must confirm it.")
    allowed = ("pending",) if stop.action == "hold" else ("pending", HELD)
    new_state = HELD if stop.action == "hold" else CANCELLED
    result = session.execute(update(Delivery).where(Delivery.id == stop.delivery_id, Delivery.state.in_(allowed))
                             .values(state=new_state, locked_until=None)
                             .execution_options(synchronize_session=False))
    stop.decided_by, stop.decided_at = actor.id, to_minute(now)
    row = session.get(Delivery, stop.delivery_id)
    assert row is not None
    session.refresh(row)
    if getattr(result, "rowcount", 0) != 1:
        stop.state = "overtaken"
        session.flush()
        raise CorrectionError(_too_late(row.state))
    stop.state = "confirmed"
    audit.record(session, actor.email, audit.FORWARD_STOP_CONFIRMED, tip_id=tip.id, delivery=row.id,
                 stop=stop.action, request=stop.id, requested_by=stop.requested_by)
    tip.updated_at = tip.corrected_at = to_minute(now)
    if not police_routed(session, tip.id):
        # Staff stopped every forward: their final word is "not for police".
        tip.police = False
    reseal(session, tip, data_key, actor.email)
    return stop


def withdraw_stop(session: Session, tip: Tip, actor: Staff, stop_id: int, now: datetime) -> ForwardStop:
    stop = _stop(session, tip, stop_id)
    stop.state, stop.decided_by, stop.decided_at = "withdrawn", actor.id, to_minute(now)
    audit.record(session, actor.email, audit.FORWARD_STOP_WITHDRAWN, tip_id=tip.id, delivery=stop.delivery_id,
                 request=stop.id)
    return stop


def release(session: Session, tip: Tip, data_key: bytes, actor: Staff, delivery_id: int,
            now: datetime) -> Delivery:
    """Queue a held forward again. One member is enough: it sends the tip where the rules or a
    member first sent it, which is the safe direction."""
    row = _police_delivery(session, tip, delivery_id)
    if row.state != HELD:
        raise CorrectionError("Only a held forward can be released.")
    row.state, row.next_attempt_at = "pending", now
    tip.police = tip.police or row.purpose == "police"
    tip.updated_at = tip.corrected_at = to_minute(now)
    audit.record(session, actor.email, audit.FORWARD_RELEASED, tip_id=tip.id, delivery=row.id)
    reseal(session, tip, data_key, actor.email)
    return row


# --- measuring triage ---------------------------------------------------------------------------


@dataclass
class Score:
    """Counts of one label (a workflow, or police) over the tips that count."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1


@dataclass
class Month:
    month: str
    tips: int = 0
    corrected: int = 0
    labels: dict[str, Score] = field(default_factory=dict)


def counted(stmt: Any) -> Any:
    """The tips whose labels are staff's decision: closed, or corrected by a member, and
    received with triage's first labels kept."""
    return stmt.where(Tip.triage_original.is_not(None)).where(
        (Tip.status == "closed") | Tip.corrected_at.is_not(None))


def measure(rows: Iterable[tuple[datetime, dict[str, object] | None, list[str], bool, bool]],
            zone: tzinfo, labels: Iterable[str]) -> list[Month]:
    """Triage against staff's final labels, per month of receipt (district time).

    ``rows``: (received_at, triage_original, final workflows, final police, corrected).
    """
    keys = [*labels, "police"]
    months: dict[str, Month] = {}
    for received_at, original, final_wfs, final_police, corrected in rows:
        if not isinstance(original, dict):
            continue
        name = received_at.astimezone(zone).strftime("%Y-%m")
        month = months.setdefault(name, Month(name, labels={k: Score() for k in keys}))
        month.tips += 1
        month.corrected += int(corrected)
        predicted = original.get("workflows")
        predicted_wfs = set(predicted) if isinstance(predicted, list) else set()
        for key in keys[:-1]:
            month.labels[key].add(key in predicted_wfs, key in final_wfs)
        month.labels["police"].add(bool(original.get("police")), final_police)
    return [months[k] for k in sorted(months, reverse=True)]
