"""On call: pages to people on a rota, escalation until someone acknowledges, and pages to
the dispatch role when a tip goes to police.

- **Queued with the tip.** Routing's ``page`` actions (target ``oncall:<SCHOOL or *>:<workflow>``)
  become ``Page`` rows in the tip's transaction (``enqueue_pages``); the delivery worker sends
  them (``escalate_due``, every pass), so who is paged is decided at that moment, from the rota.
- **Escalation.** The first member on duty in rota order is paged, by email and, with a phone
  number, by SMS (``plugins/sms.py``). Unacknowledged after the district's ``ack_minutes``
  (default 10) the next member on duty is paged, then the district admins. A threat received
  out of school hours that nobody acknowledges then goes to police dispatch through the
  outbox, with the reason "not acknowledged in N minutes", once (its idempotency key names
  the page). A closed tip ends its page.
- **No tip content.** A page carries a link to the tip in the console and a one-time
  acknowledgement code. The code is derived from the secret key and the notice's id when the
  message is built, so it is never stored; the database keeps only a keyed hash to find it.
- **Dispatch.** Each police forward (from routing, a member, a follow-up or an unanswered page)
  pages every active member with the ``dispatch`` role, the same way; they read the tip in the
  console, where each view is audited and recorded as a FERPA disclosure.
- Everything is in the audit log: page sent, acknowledged, escalated, forwarded, ended.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tipline import audit, corrections, outbox
from tipline.config import DAY_NAMES, District, Settings
from tipline.models import Delivery, Disclosure, Page, PageNotice, RotaEntry, Staff, Tip
from tipline.orm import to_minute
from tipline.schedule import in_school_hours
from tipline.types import RouteAction, Triage

log = logging.getLogger(__name__)

ONCALL = "oncall"
DISPATCH = "dispatch"
PURPOSE = "page"
OPEN, ACKNOWLEDGED, FORWARDED, UNANSWERED, CLOSED = "open", "acknowledged", "forwarded", "unanswered", "closed"
ANY = "*"
CODE_DIGITS = 12
POLICE_PURPOSES = frozenset({"police", "welfare"})
# Forwards a person stopped: dispatch is not paged about them.
STOPPED = ("held", "cancelled")
# On upgrade, forwards older than this are not announced to the dispatch role.
DISPATCH_LOOKBACK = timedelta(days=1)
DISPATCH_WHAT = "tip viewed in the console"


class AckError(ValueError):
    """A sentence for the person who typed the code."""


# --- the rota ---------------------------------------------------------------------------------


def parse_target(target: str) -> tuple[str | None, str] | None:
    """``oncall:SHS:threat`` -> ("SHS", "threat"); ``oncall:*:threat`` -> (None, "threat")."""
    parts = target.split(":")
    if len(parts) != 3 or parts[0] != ONCALL or not parts[2]:
        return None
    return (None if parts[1] in ("", ANY) else parts[1]), parts[2]


def parse_days(raw: str) -> str:
    """``Mon, tue`` -> ``mon,tue`` (empty: every day); an unknown day raises ValueError."""
    days = [d.strip().lower()[:3] for d in raw.replace(" ", ",").split(",") if d.strip()]
    for day in days:
        if day not in DAY_NAMES:
            raise ValueError(f"{day!r} is not a weekday: use mon, tue, wed, thu, fri, sat, sun")
    return ",".join(d for d in DAY_NAMES if d in days)


def on_duty(entry: RotaEntry, local: datetime) -> bool:
    """Whether a rota entry covers a local time. Hours that run past midnight (17:00-08:00)
    count on the weekday the night began."""
    days = set(entry.days.split(",")) if entry.days else set(DAY_NAMES)
    if entry.start is None or entry.end is None:
        return DAY_NAMES[local.weekday()] in days
    start, end, clock = time.fromisoformat(entry.start), time.fromisoformat(entry.end), local.time()
    if start <= end:
        return DAY_NAMES[local.weekday()] in days and start <= clock < end
    if clock >= start:
        return DAY_NAMES[local.weekday()] in days
    return clock < end and DAY_NAMES[(local.weekday() - 1) % 7] in days


def rota_for(session: Session, district: District, school: str | None, workflow: str | None,
             now: datetime) -> list[Staff]:
    """Active members on duty now for a school and workflow, in escalation order (entries for
    the school before district-wide ones at the same position)."""
    zone = district.schools[school].timezone if school in district.schools else district.timezone
    local = now.astimezone(zone)
    stmt = select(RotaEntry, Staff).join(Staff, Staff.id == RotaEntry.staff_id).where(
        Staff.active, RotaEntry.workflow.in_([ANY, workflow or ANY]))
    stmt = stmt.where(RotaEntry.school.is_(None) | (RotaEntry.school == school)) if school else \
        stmt.where(RotaEntry.school.is_(None))
    rows = sorted(session.execute(stmt).all(), key=lambda r: (r[0].position, r[0].school is None, r[0].id))
    members: dict[int, Staff] = {}
    for entry, member in rows:
        if on_duty(entry, local):
            members.setdefault(member.id, member)
    return list(members.values())


# --- queuing, with the tip --------------------------------------------------------------------


def _police_fallback(district: District, school: str | None, triage: Triage, now: datetime) -> bool:
    return "threat" in triage.workflows and not in_school_hours(district, school, now)


def may_forward(district: District, school: str | None, triage: Triage, actions: Iterable[RouteAction],
                now: datetime) -> bool:
    """Whether a page may end in a police forward, so intake seals the tip to the police
    inbox now: the worker can only forward a tip the dispatch key opens."""
    return any(a.kind == "page" for a in actions) and _police_fallback(district, school, triage, now)


def enqueue_pages(session: Session, district: District, tip_id: str, school: str | None, triage: Triage,
                  actions: list[RouteAction], now: datetime) -> int:
    """One page per ``page`` action, due at once (the worker sends it). A target already paged
    and still open for this tip is not paged twice. Returns how many were queued."""
    minute = to_minute(now)
    already = set(session.scalars(select(Page.target).where(Page.tip_id == tip_id, Page.kind == ONCALL,
                                                            Page.state == OPEN)))
    count = 0
    for action in actions:
        if action.kind != "page" or action.target in already:
            continue
        parsed = parse_target(action.target)
        if parsed is None:
            raise ValueError(f"a page target must look like oncall:<SCHOOL or *>:<workflow>, not {action.target!r}")
        target_school, workflow = parsed
        session.add(Page(tip_id=tip_id, kind=ONCALL, target=action.target, school=target_school or school,
                         workflow=workflow, reason=action.reason,
                         police_fallback=_police_fallback(district, school, triage, now),
                         stage="new", state=OPEN, created_at=minute, next_due_at=minute))
        already.add(action.target)
        count += 1
    if count:
        session.flush()
    return count


# --- codes and messages -----------------------------------------------------------------------


def ack_code(secret_key: str, notice_id: int) -> str:
    """The notice's one-time code: derived, never stored. 12 digits, grouped for reading aloud."""
    digest = hmac.new(secret_key.encode(), f"tipline/oncall-ack/{notice_id}".encode(), hashlib.sha256).digest()
    digits = f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"
    return "-".join(digits[i:i + 4] for i in range(0, CODE_DIGITS, 4))


def code_hash(secret_key: str, code: str) -> str:
    """Keyed, so the stored hash cannot be turned back into a code without the secret key."""
    digits = re.sub(r"\D", "", code)
    return hmac.new(secret_key.encode(), f"tipline/oncall-ack-hash/{digits}".encode(), hashlib.sha256).hexdigest()


def public_url(settings: Settings) -> str:
    # Until the configuration carries it: TIPLINE_PUBLIC_URL, e.g. https://tips.district.org
    return str(settings.extra.get("public_url") or os.environ.get("TIPLINE_PUBLIC_URL") or "").rstrip("/")


def sms_gateway(settings: Settings) -> str | None:
    # Until the configuration carries it: TIPLINE_SMS_GATEWAY_URL, the gateway's HTTPS endpoint.
    return str(settings.extra.get("sms_gateway_url") or os.environ.get("TIPLINE_SMS_GATEWAY_URL") or "") or None


def page_body(settings: Settings, row: Delivery) -> dict[str, object]:
    """What a page says: where to look and how to acknowledge. Never tip content."""
    notice = row.body.get("notice")
    if not isinstance(notice, int):
        raise RuntimeError("a page delivery names no notice")
    code = ack_code(settings.secret_key, notice)
    base = public_url(settings)
    link = f"{base}/console/tips/{row.tip_id}"
    ack = f"{base}/console/ack"
    police = row.body.get("kind") == DISPATCH
    text = (f"Tipline {settings.district.name}: "
            + ("a tip was forwarded to police. " if police else "you are on call: a tip needs a person now. ")
            + f"Read it in the console: {link} . Acknowledge at {ack} with code {code}. "
            "This message contains no tip content.")
    return {"reference": row.tip_id, "purpose": PURPOSE, "kind": row.body.get("kind"), "link": link,
            "ack_link": ack, "ack_code": code, "text": text}


# --- sending and escalating (the worker) ------------------------------------------------------


def _send(session: Session, settings: Settings, page: Page, recipients: list[tuple[Staff | None, str]],
          stage: str, at: datetime) -> int:
    """A notice per person, each with its own code, by email and (with a phone and a gateway) SMS."""
    gateway = sms_gateway(settings)
    sent = 0
    for member, email in recipients:
        notice = PageNotice(page_id=page.id, staff_id=member.id if member else None, email=email, stage=stage,
                            sent_at=at)
        session.add(notice)
        session.flush()
        notice.code_hash = code_hash(settings.secret_key, ack_code(settings.secret_key, notice.id))
        channels = [("smtp", email)]
        if member is not None and member.phone and gateway:
            channels.append(("sms", member.phone))
        subject = ("Tipline: a tip was forwarded to police" if page.kind == DISPATCH
                   else "Tipline: you are on call, a tip needs acknowledgement")
        for channel, destination in channels:
            session.add(Delivery(
                tip_id=page.tip_id, channel=channel, destination=destination, purpose=PURPOSE,
                reason=page.reason, subject=subject,
                body={"page": page.id, "notice": notice.id, "kind": page.kind},
                idempotency_key=outbox.idempotency_key(page.tip_id, PURPOSE, str(notice.id), channel),
                next_attempt_at=at, created_at=at))
            sent += 1
    return sent


def _admins(session: Session, settings: Settings) -> list[tuple[Staff | None, str]]:
    accounts = list(session.scalars(select(Staff).where(Staff.role == "admin", Staff.active).order_by(Staff.id)))
    out: list[tuple[Staff | None, str]] = [(m, m.email) for m in accounts]
    known = {m.email.lower() for m in accounts}
    out += [(None, a) for a in settings.district.admin_alerts if a.lower() not in known]
    return out


def _end(session: Session, page: Page, state: str, at: datetime, **detail: object) -> None:
    page.state, page.next_due_at = state, None
    audit.record(session, "worker", audit.PAGE_ENDED, tip_id=page.tip_id, at=at, page=page.id, state=state,
                 **detail)


def not_acknowledged_reason(minutes: int) -> str:
    return (f"Threat received outside school hours, marked for review: not acknowledged in {minutes} minutes "
            "by the on-call rota or the district admins.")


def _advance(session: Session, settings: Settings, page: Page, at: datetime) -> None:
    tip = session.get(Tip, page.tip_id)
    minutes = settings.district.ack_minutes
    if tip is None or tip.status == "closed":
        _end(session, page, CLOSED, at)
        return
    if page.stage in ("new", "rota"):
        paged = set(session.scalars(select(PageNotice.staff_id).where(PageNotice.page_id == page.id)))
        following = next((m for m in rota_for(session, settings.district, page.school, page.workflow, at)
                          if m.id not in paged), None)
        recipients: list[tuple[Staff | None, str]] = [(following, following.email)] if following else \
            _admins(session, settings)
        stage = "rota" if following else "admins"
        if page.stage != "new":
            audit.record(session, "worker", audit.PAGE_ESCALATED, tip_id=page.tip_id, at=at, page=page.id,
                         old=page.stage, new=stage, minutes=minutes)
        _send(session, settings, page, recipients, stage, at)
        audit.record(session, "worker", audit.PAGE_SENT, tip_id=page.tip_id, at=at, page=page.id, kind=page.kind,
                     stage=stage, staff=[m.id for m, _ in recipients if m is not None],
                     addresses=len(recipients))
        page.stage, page.next_due_at = stage, at + timedelta(minutes=minutes)
        return
    if page.police_fallback and "threat" in tip.workflow_keys:
        if corrections.police_routed(session, tip.id):
            _end(session, page, UNANSWERED, at, police="already routed")
            return
        reason = not_acknowledged_reason(minutes)
        row = outbox.enqueue_forward(session, settings.district, tip.id, tip.school, "dispatch", "police", reason,
                                     at, key_parts=(ONCALL, str(page.id)))
        page.stage, page.state, page.next_due_at, page.delivery_id = "police", FORWARDED, None, row.id
        audit.record(session, "worker", audit.PAGE_FORWARDED, tip_id=tip.id, at=at, page=page.id, delivery=row.id,
                     endpoint="dispatch", minutes=minutes)
        log.warning("page %s not acknowledged in %d minutes: tip forwarded to police (delivery %s)",
                    page.id, minutes, row.id)
        return
    _end(session, page, UNANSWERED, at, minutes=minutes)
    log.warning("page %s was not acknowledged by the rota or the district admins", page.id)


def _page_dispatch(session: Session, settings: Settings, at: datetime) -> int:
    """A dispatch page for every police forward not announced yet (and not stopped by staff)."""
    announced = exists().where(Page.delivery_id == Delivery.id, Page.kind == DISPATCH)
    forwards = list(session.scalars(select(Delivery).where(
        Delivery.purpose.in_(POLICE_PURPOSES), Delivery.state.not_in(STOPPED), Delivery.tip_id.is_not(None),
        Delivery.created_at >= at - DISPATCH_LOOKBACK, ~announced).order_by(Delivery.id)))
    if not forwards:
        return 0
    members = list(session.scalars(select(Staff).where(Staff.role == DISPATCH, Staff.active).order_by(Staff.id)))
    for row in forwards:
        assert row.tip_id is not None
        tip = session.get(Tip, row.tip_id)
        page = Page(tip_id=row.tip_id, kind=DISPATCH, target=f"{DISPATCH}:{row.destination}"[:60],
                    school=tip.school if tip else None, reason=row.reason, stage=DISPATCH,
                    state=OPEN if members else UNANSWERED, created_at=at, delivery_id=row.id)
        session.add(page)
        session.flush()
        # Without dispatch members the row only marks the forward as seen: nobody was paged.
        if members:
            _send(session, settings, page, [(m, m.email) for m in members], DISPATCH, at)
            audit.record(session, "worker", audit.PAGE_SENT, tip_id=row.tip_id, at=at, page=page.id,
                         kind=DISPATCH, stage=DISPATCH, delivery=row.id, staff=[m.id for m in members],
                         addresses=len(members))
    return len(forwards)


def escalate_due(session: Session, settings: Settings, now: datetime) -> int:
    """One worker pass (the caller commits): page dispatch about new police forwards, send new
    pages, and move each page unacknowledged past its time one step along. Returns the steps."""
    at = to_minute(now)
    steps = _page_dispatch(session, settings, at)
    due = select(Page).where(Page.kind == ONCALL, Page.state == OPEN, Page.next_due_at <= now) \
        .order_by(Page.next_due_at, Page.id).with_for_update(skip_locked=True)
    for page in list(session.scalars(due)):
        _advance(session, settings, page, at)
        steps += 1
    return steps


# --- acknowledging, and what the console asks -------------------------------------------------


def acknowledge(session: Session, secret_key: str, code: str, member: Staff, now: datetime) -> Page:
    """A member typed a page's code: escalation stops. The caller commits."""
    digits = re.sub(r"[\s-]", "", code)
    if not (digits.isascii() and digits.isdigit() and len(digits) == CODE_DIGITS):
        raise AckError(f"The code has {CODE_DIGITS} digits, as in the page you received.")
    notice = session.scalars(select(PageNotice).where(PageNotice.code_hash == code_hash(secret_key, digits))).first()
    if notice is None:
        raise AckError("That code does not match any page. Check the digits in the message.")
    if notice.used_at is not None:
        raise AckError("That code was already used.")
    page = session.get(Page, notice.page_id, with_for_update=True)
    assert page is not None
    at = to_minute(now)
    notice.used_at = at
    before = page.state
    if page.state == OPEN:
        page.state, page.next_due_at, page.acknowledged_by, page.acknowledged_at = ACKNOWLEDGED, None, member.id, at
    audit.record(session, member.email, audit.PAGE_ACKNOWLEDGED, tip_id=page.tip_id, page=page.id,
                 notice=notice.id, kind=page.kind, state=before)
    return page


def awaiting(session: Session, tip_ids: Iterable[str]) -> set[str]:
    """The tips among ``tip_ids`` with an on-call page nobody has acknowledged yet."""
    ids = list(tip_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Page.tip_id).where(Page.tip_id.in_(ids), Page.kind == ONCALL,
                                                         Page.state == OPEN).distinct()))


@dataclass(frozen=True)
class Paged:
    """An open page this member received, for the acknowledgement page."""

    page: int
    tip_id: str
    kind: str
    since: datetime


def open_pages_for(session: Session, member: Staff) -> list[Paged]:
    rows = session.execute(select(Page.id, Page.tip_id, Page.kind, PageNotice.sent_at)
                           .join(PageNotice, PageNotice.page_id == Page.id)
                           .where(PageNotice.staff_id == member.id, Page.state == OPEN)
                           .order_by(PageNotice.sent_at.desc())).all()
    return [Paged(*r) for r in rows]


def record_dispatch_view(session: Session, member: Staff, tip: Tip, now: datetime,
                         what: str = DISPATCH_WHAT) -> Disclosure:
    """A dispatch member read a police-routed tip in the console: a FERPA disclosure to them,
    on the decision that sent the tip to police. The caller commits."""
    reason = session.scalar(select(Delivery.reason).where(
        Delivery.tip_id == tip.id, Delivery.purpose.in_(POLICE_PURPOSES), Delivery.state.not_in(STOPPED))
        .order_by(Delivery.id.desc()).limit(1)) or "Police-routed tip."
    row = Disclosure(tip_id=tip.id, recipient=f"{member.email} (police dispatch, console)", what=what,
                     why=f"Read by police dispatch in the console. Forwarded because: {reason} "
                     "Decided by: the decision recorded with that forward.", disclosed_at=to_minute(now))
    session.add(row)
    return row
