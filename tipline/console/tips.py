"""The tip list (never decrypts) and a tip's page (decrypts, and says so in the audit log)."""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from flask import Response, abort, current_app, g, redirect, request, url_for
from sqlalchemy import Select, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from tipline import access, audit, corrections, crypto, db, oncall, reading
from tipline import plugins as hooks
from tipline.console import bp, signal_words
from tipline.console.auth import current_scope, login_required, render, settings, workflows
from tipline.models import Delivery, ForwardStop, Message, Staff, StepRecord, Tip, TipWorkflow
from tipline.types import PRIORITIES, RecordField, Workflow

PAGE = 50
COUNT_CAP = 250
STATUSES = {"new": "New", "in_review": "In review", "action_taken": "Action taken", "closed": "Closed"}
OUTCOMES = {"valid": "Valid", "false": "False report", "misuse": "Misuse", "duplicate": "Duplicate of another tip",
            "self-report": "Self-report"}


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def filtered(filters: dict[str, str], columns: Any = Tip) -> Select[Any]:
    workflow = filters.get("workflow") or None
    stmt = access.restrict(select(columns), current_scope(), workflow)
    if workflow:
        # Correlated, so the planner walks the list index in order and stops after a page.
        stmt = stmt.where(exists().where(TipWorkflow.tip_id == Tip.id, TipWorkflow.workflow == workflow))
    if filters.get("school"):
        stmt = stmt.where(Tip.school == filters["school"])
    if filters.get("status"):
        stmt = stmt.where(Tip.status == filters["status"])
    if filters.get("priority") in PRIORITIES:
        stmt = stmt.where(Tip.priority_rank == PRIORITIES.index(filters["priority"]))
    if filters.get("outcome"):
        stmt = stmt.where(Tip.outcome == filters["outcome"])
    start, end = _date(filters.get("from")), _date(filters.get("to"))
    zone = settings().district.timezone
    if start:
        stmt = stmt.where(Tip.received_at >= datetime.combine(start, time(), zone))
    if end:
        stmt = stmt.where(Tip.received_at < datetime.combine(end + timedelta(days=1), time(), zone))
    return stmt


@dataclass(frozen=True)
class SortKey:
    """One key of the list's order (every key descending) and how a page link carries it.

    ``dump`` reads the key from a listed tip for the next-page cursor; ``load`` checks a value
    from a cursor and returns it, or None when the link was tampered with.
    """

    column: Any
    dump: Callable[[Tip], object]
    load: Callable[[object], object | None]


def _load_rank(value: object) -> int | None:
    return value if type(value) is int and 0 <= value < len(PRIORITIES) else None


def _load_moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _load_id(value: object) -> str | None:
    ok = isinstance(value, str) and 0 < len(value) <= 32 and value.isascii() and value.isalnum()
    return value if ok and isinstance(value, str) else None


# The list's order, most pressing first; the page cursor carries one value per key. A key added
# here (e.g. "awaiting acknowledgement" in front of urgency) keeps keyset paging correct as long
# as it is descending and the last key (the id) stays unique.
LIST_ORDER: tuple[SortKey, ...] = (
    SortKey(Tip.priority_rank, lambda t: t.priority_rank, _load_rank),
    SortKey(Tip.received_at, lambda t: t.received_at.isoformat(), _load_moment),
    SortKey(Tip.id, lambda t: t.id, _load_id),
)


def _cursor(tip: Tip) -> str:
    raw = json.dumps([key.dump(tip) for key in LIST_ORDER]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _after(stmt: Select[Any], cursor: str) -> Select[Any]:
    """Continue after the cursor a previous page printed; anything else is a broken link (400)."""
    try:
        raw = json.loads(base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True))
        values = [key.load(v) for key, v in zip(LIST_ORDER, raw, strict=True)] if isinstance(raw, list) else [None]
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        values = [None]
    if any(v is None for v in values):
        abort(400, description="That page link is broken. Go back to the first page of the list.")
    return stmt.where(tuple_(*(key.column for key in LIST_ORDER)) < tuple(values))


def age(received: datetime, now: datetime) -> str:
    """How long a tip has waited, as a team says it: "5 min", "3 h", "2 d"."""
    minutes = max(0, int((now - received).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def new_from_reporter(tip: Tip) -> bool:
    """Whether the reporter added something staff have not seen. The follow-up work adds the
    column; until then no tip is marked."""
    return bool(getattr(tip, "new_from_reporter", False))


def link_text(tip: Tip, local: datetime, today: date, workflows_of: list[str]) -> str:
    """The tip's link, read aloud on its own: "Tip from SHS, 14:05 — threat, urgent"."""
    when = f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"
    where = tip.school or "the district"
    kinds = ", ".join(workflows_of) or "not yet sorted"
    return f"Tip from {where}, {when} — {kinds}, {tip.priority}"


def read_filters() -> dict[str, str]:
    """Only known values: anything else is dropped rather than queried or logged."""
    allowed: dict[str, Any] = {"workflow": workflows(), "school": settings().district.schools,
                               "status": STATUSES, "priority": PRIORITIES, "outcome": OUTCOMES}
    filters = {k: request.args.get(k, "") for k, values in allowed.items() if request.args.get(k, "") in values}
    for k in ("from", "to"):
        if _date(request.args.get(k)):
            filters[k] = request.args.get(k, "")
    return {k: v for k, v in filters.items() if v}


@bp.get("/")
@login_required
def tip_list() -> Any:
    scope = current_scope()
    if not scope.reads_tips:
        return redirect(url_for("console.stats"))
    filters = read_filters()
    session = db.session()
    base = filtered(filters)
    order = [key.column.desc() for key in LIST_ORDER]
    # Counted up to a cap, in list order, so a busy district's list costs the same as a quiet one's.
    capped = filtered(filters, Tip.id).order_by(*order).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped)) or 0
    page_stmt = base.order_by(*order)
    if request.args.get("after"):
        page_stmt = _after(page_stmt, request.args["after"])
    tips = list(session.scalars(page_stmt.limit(PAGE + 1)))
    more = len(tips) > PAGE
    tips = tips[:PAGE]
    wf_rows = session.execute(select(TipWorkflow.tip_id, TipWorkflow.workflow)
                              .where(TipWorkflow.tip_id.in_([t.id for t in tips]))).all()
    tip_workflows: dict[str, list[str]] = {}
    for tip_id, wf in wf_rows:
        tip_workflows.setdefault(tip_id, []).append(wf)
    for names in tip_workflows.values():
        names.sort()
    assignees: dict[int, str] = {member_id: email for member_id, email in session.execute(
        select(Staff.id, Staff.email).where(Staff.id.in_({t.assigned_to for t in tips if t.assigned_to is not None})))}
    zone = settings().district.timezone
    now = db.utcnow()
    today = now.astimezone(zone).date()
    rows = []
    for t in tips:
        local = t.received_at.astimezone(zone)
        rows.append(ListRow(
            tip=t, received=f"{local:%Y-%m-%d %H:%M}", age=age(t.received_at, now),
            workflows=tip_workflows.get(t.id, []), signals=signal_words.phrases(list(t.signals)),
            assignee=assignees.get(t.assigned_to, "unassigned") if t.assigned_to else "unassigned",
            new_from_reporter=new_from_reporter(t),
            link=link_text(t, local, today, tip_workflows.get(t.id, []))))
    audit.record(session, g.staff.email, "view_list", filters=filters, shown=len(tips))
    session.commit()
    return render("console/list.html", rows=rows, total=total, filters=filters,
                  next_cursor=_cursor(tips[-1]) if more else None, count_capped=total > COUNT_CAP,
                  workflows=workflows(), statuses=STATUSES, zone=zone.key,
                  outcomes=OUTCOMES, priorities=PRIORITIES, schools=settings().district.schools,
                  scope=scope)


@dataclass(frozen=True)
class ListRow:
    """One line of the tip list, ready to show."""

    tip: Tip
    received: str
    age: str
    workflows: list[str]
    signals: list[str]
    assignee: str
    new_from_reporter: bool
    link: str


def _load(tip_id: str) -> tuple[Session, Tip, bytes]:
    """The tip, if this member may see it (query) and can open it (keys); else 403."""
    session = db.session()
    tip = session.get(Tip, tip_id)
    if tip is None:
        abort(404)
    if not access.can_see(session, current_scope(), tip_id):
        audit.record(session, g.staff.email, "view_denied", tip_id=tip_id)
        session.commit()
        abort(403)
    if current_scope().police_only and request.method != "GET":
        abort(403, description="The dispatch role reads police-routed tips; it does not change them.")
    data_key = g.keychain.data_key(session, tip)
    if data_key is None:
        abort(403, description="You don't hold the key for this tip yet. Ask a team member to grant it.")
    return session, tip, data_key


def _options(wf: Workflow, step_key: str, rec: RecordField) -> tuple[str, ...]:
    configured = settings().district.record_options.get(f"{wf.key}.{step_key}.{rec.key}")
    return tuple(configured) if configured else rec.options


def _reminders(tip: Tip, defs: list[Workflow]) -> list[str]:
    signals = set(tip.signals)
    return list(dict.fromkeys(r.text for wf in defs for r in wf.reminders if not r.signal or r.signal in signals))


@bp.get("/tips/<tip_id>")
@login_required
def tip_page(tip_id: str) -> Any:
    session, tip, key = _load(tip_id)
    scope = current_scope()
    defs = [workflows()[w] for w in tip.workflow_keys
            if w in workflows() and (scope.everything or w in scope.workflows)]
    records = {(r.workflow, r.step): r for r in session.scalars(select(StepRecord).where(StepRecord.tip_id == tip.id))}
    texts: dict[tuple[str, str], dict[str, str]] = {}
    for k, r in records.items():
        if r.sealed_text:
            texts[k] = json.loads(crypto.open_field(key, tip.id, f"step/{k[0]}/{k[1]}", r.sealed_text))
    messages = [reading.message(m, key) for m in tip.messages]
    authors = {s.id: s.email for s in session.scalars(select(Staff).where(
        Staff.id.in_([m.staff_id for m in messages if m.staff_id])))}
    candidates = list(session.scalars(select(Staff).where(Staff.active, or_(Staff.school == tip.school,
                                                                            Staff.school.is_(None)))
                                      .where(Staff.role != "analyst").order_by(Staff.email)))
    colleagues = access.who_can_open(session, tip, candidates, workflows())
    deliveries = list(session.scalars(select(Delivery).where(Delivery.tip_id == tip.id).order_by(Delivery.id)))
    stops = list(session.scalars(select(ForwardStop).where(ForwardStop.tip_id == tip.id).order_by(ForwardStop.id)))
    deciders = {s.id: s.email for s in session.scalars(select(Staff).where(Staff.id.in_(
        {x.requested_by for x in stops} | {x.decided_by for x in stops if x.decided_by})))}
    new_from_reporter = tip.reporter_new_at
    # Opening the page is what "seen" means for the list's "new from reporter" flag.
    tip.reporter_new_at = None
    audit.record(session, g.staff.email, "view_tip", tip_id=tip.id)
    audit.record(session, g.staff.email, "decrypt", tip_id=tip.id, fields=["report", "messages", "steps"])
    if scope.police_only:
        oncall.record_dispatch_view(session, g.staff, tip, db.utcnow())
    session.commit()
    return render("console/tip.html", tip=tip, report=reading.report(tip, key), messages=messages,
                  authors=authors, files=[reading.attachment_meta(a, key) for a in tip.attachments],
                  defs=defs, records=records, texts=texts, options=_options, statuses=STATUSES,
                  outcomes=OUTCOMES, deliveries=deliveries, colleagues=colleagues,
                  reminders=_reminders(tip, defs), school=settings().district.schools.get(tip.school or ""),
                  stops=stops, deciders=deciders, new_from_reporter=new_from_reporter,
                  all_workflows=workflows(), schools=settings().district.schools,
                  endpoints=sorted(settings().district.police), police_purposes=corrections.POLICE_PURPOSES,
                  change_reasons=corrections.CHANGE_REASONS, police_reasons=corrections.POLICE_REASONS,
                  stop_reasons=corrections.STOP_REASONS, original=tip.triage_original or {})


@bp.get("/tips/<tip_id>/files/<int:att_id>")
@login_required
def attachment(tip_id: str, att_id: int) -> Any:
    session, tip, key = _load(tip_id)
    att = next((a for a in tip.attachments if a.id == att_id), None)
    if att is None:
        abort(404)
    meta = reading.attachment_meta(att, key)
    content = reading.attachment_content(att, key)
    audit.record(session, g.staff.email, "download_attachment", tip_id=tip.id, attachment=att.id)
    if current_scope().police_only:
        oncall.record_dispatch_view(session, g.staff, tip, db.utcnow(), what=f"attachment {att.id} downloaded "
                                    "from the console")
    session.commit()
    response = Response(content, mimetype=meta.content_type)
    response.headers["Content-Disposition"] = content_disposition(meta.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients and the real name as UTF-8 ``filename*``
    (RFC 5987), so a header never needs a character outside Latin-1."""
    name = "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\/;') or "attachment"
    stem, _, ext = name.rpartition(".") if "." in name[1:] else (name, "", "")

    def ascii_only(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return "".join(ch for ch in plain if ch.isalnum() or ch in "_- ").strip()

    fallback = (ascii_only(stem) or "attachment") + ("." + ascii_only(ext) if ascii_only(ext) else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _back(tip_id: str, anchor: str = "") -> Any:
    return redirect(url_for("console.tip_page", tip_id=tip_id) + (f"#{anchor}" if anchor else ""))


@bp.post("/tips/<tip_id>/status")
@login_required
def change_status(tip_id: str) -> Any:
    session, tip, _ = _load(tip_id)
    now = db.to_minute(db.utcnow())
    new_status = request.form.get("status", tip.status)
    outcome = request.form.get("outcome") or None
    if new_status not in STATUSES or (outcome is not None and outcome not in OUTCOMES):
        abort(400)
    duplicate_of = request.form.get("duplicate_of", "").strip() or None
    if outcome == "duplicate" and not _can_open_other(session, tip, duplicate_of):
        abort(400, description="Give the id of another tip you can open, which this one duplicates.")
    old = tip.status
    if new_status != old:
        tip.status = new_status
        tip.closed_at = now if new_status == "closed" else None
        audit.record(session, g.staff.email, "status_changed", tip_id=tip.id, old=old, new=new_status)
    if outcome != tip.outcome:
        audit.record(session, g.staff.email, "outcome_changed", tip_id=tip.id, old=tip.outcome, new=outcome)
        tip.outcome = outcome
    tip.duplicate_of = duplicate_of if outcome == "duplicate" else None
    tip.updated_at = now
    session.commit()
    if new_status != old:
        hooks.status_changed(current_app.extensions["tipline.pm"], tip.id, old, new_status, g.staff.email)
    return _back(tip.id)


def _can_open_other(session: Session, tip: Tip, other_id: str | None) -> bool:
    """Whether the signed-in member can open ``other_id``, a tip other than ``tip``."""
    if not other_id or other_id == tip.id or len(other_id) > 32:
        return False
    other = session.get(Tip, other_id)
    return (other is not None and access.can_see(session, current_scope(), other.id)
            and g.keychain.data_key(session, other) is not None)


@bp.post("/tips/<tip_id>/assign")
@login_required
def assign(tip_id: str) -> Any:
    session, tip, _ = _load(tip_id)
    raw = request.form.get("staff_id", "")
    assignee = None
    if raw:
        assignee = session.get(Staff, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if assignee is None or not access.can_open(session, assignee, tip, workflows()):
            abort(400, description="Choose a colleague who can open this tip.")
    tip.assigned_to = assignee.id if assignee is not None else None
    audit.record(session, g.staff.email, "assigned", tip_id=tip.id, staff_id=tip.assigned_to)
    session.commit()
    return _back(tip.id)


@bp.post("/tips/<tip_id>/hold")
@login_required
def legal_hold(tip_id: str) -> Any:
    if g.staff.role != "admin":
        abort(403)
    session, tip, _ = _load(tip_id)
    tip.legal_hold = request.form.get("hold") == "1"
    audit.record(session, g.staff.email, "legal_hold", tip_id=tip.id, hold=tip.legal_hold)
    session.commit()
    return _back(tip.id)


def _add_message(direction: str, action: str) -> Any:
    tip_id = str(request.view_args["tip_id"]) if request.view_args else ""
    session, tip, key = _load(tip_id)
    text = request.form.get("text", "").strip()
    if not text or len(text) > settings().max_message_chars:
        abort(400, description="Write a message (up to 10,000 characters).")
    now = db.to_minute(db.utcnow())
    msg = Message(tip_id=tip.id, direction=direction, staff_id=g.staff.id, created_at=now, sealed_body=b"")
    session.add(msg)
    session.flush()
    msg.sealed_body = reading.seal_message_body(key, msg, text)
    tip.updated_at = now
    if direction == "staff" and tip.status == "new":
        tip.status = "in_review"
    audit.record(session, g.staff.email, action, tip_id=tip.id, message_id=msg.id, direction=direction)
    session.commit()
    return _back(tip.id, "messages")


@bp.post("/tips/<tip_id>/reply")
@login_required
def reply(tip_id: str) -> Any:
    return _add_message("staff", "message_sent")


@bp.post("/tips/<tip_id>/note")
@login_required
def note(tip_id: str) -> Any:
    return _add_message("note", "note_added")


@bp.post("/tips/<tip_id>/steps/<workflow>/<step>")
@login_required
def record_step(tip_id: str, workflow: str, step: str) -> Any:
    session, tip, key = _load(tip_id)
    scope = current_scope()
    wf = workflows().get(workflow)
    if wf is None or workflow not in tip.workflow_keys or not (scope.everything or workflow in scope.workflows):
        abort(404)
    definition = next((s for s in wf.steps if s.key == step), None)
    if definition is None:
        abort(404)
    choices: dict[str, object] = {}
    texts: dict[str, str] = {}
    for rec in definition.records:
        name = f"r_{rec.key}"
        allowed = _options(wf, step, rec)
        if rec.kind == "multi":
            choices[rec.key] = [v for v in request.form.getlist(name) if v in allowed]
        elif rec.kind == "choice":
            value = request.form.get(name, "")
            choices[rec.key] = value if value in allowed else ""
        elif rec.kind == "bool":
            choices[rec.key] = request.form.get(name) == "1"
        elif rec.kind == "date":
            choices[rec.key] = request.form.get(name, "") if _date(request.form.get(name)) else ""
        else:
            texts[rec.key] = request.form.get(name, "")[:settings().max_message_chars]
    row = session.scalars(select(StepRecord).where(StepRecord.tip_id == tip.id, StepRecord.workflow == workflow,
                                                   StepRecord.step == step)).first()
    if row is None:
        row = StepRecord(tip_id=tip.id, workflow=workflow, step=step)
        session.add(row)
    row.done = request.form.get("done") == "1"
    row.choices = choices
    row.sealed_text = crypto.seal_field(key, tip.id, f"step/{workflow}/{step}", json.dumps(texts).encode())
    row.staff_id = g.staff.id
    row.updated_at = db.to_minute(db.utcnow())
    if tip.status == "new":
        tip.status = "in_review"
    audit.record(session, g.staff.email, "step_recorded", tip_id=tip.id, workflow=workflow, step=step,
                 done=row.done, fields=sorted(choices) + sorted(texts))
    session.commit()
    return _back(tip.id, f"step-{workflow}-{step}")


# --- corrections (tipline.corrections does the work; these pages only read the form) ----------


def _after_correction(session: Session, tip: Tip, anchor: str = "corrections") -> Any:
    """Commit, then go back to the tip, or to the list when the change took it out of reach."""
    session.commit()
    if not access.can_see(session, current_scope(), tip.id) or g.keychain.data_key(session, tip) is None:
        return redirect(url_for("console.tip_list"))
    return _back(tip.id, anchor)


def _correct(action: Any) -> Any:
    """Run one correction; a refused one is a 400 with the reason, and changes nothing."""
    tip_id = str(request.view_args["tip_id"]) if request.view_args else ""
    session, tip, key = _load(tip_id)
    try:
        anchor = action(session, tip, key, db.utcnow())
    except corrections.CorrectionError as exc:
        session.rollback()
        abort(400, description=str(exc))
    return _after_correction(session, tip, anchor)


def _pm() -> Any:
    return current_app.extensions["tipline.pm"]


@bp.post("/tips/<tip_id>/workflows")
@login_required
def change_workflows(tip_id: str) -> Any:
    wanted = request.form.getlist("workflow")
    reason = request.form.get("reason", "")

    def act(session: Session, tip: Tip, key: bytes, now: Any) -> str:
        corrections.change_workflows(session, _pm(), settings().district, tip, key, g.staff, wanted, workflows(),
                                     reason, now)
        return "corrections"
    return _correct(act)


@bp.post("/tips/<tip_id>/school")
@login_required
def change_school(tip_id: str) -> Any:
    school = request.form.get("school", "") or None
    reason = request.form.get("reason", "")

    def act(session: Session, tip: Tip, key: bytes, now: Any) -> str:
        corrections.change_school(session, _pm(), settings().district, tip, key, g.staff, school, reason, now)
        return "corrections"
    return _correct(act)


def _send_to_police(session: Session, tip: Tip, key: bytes, now: Any) -> str:
    note_text = request.form.get("note", "").strip()
    if len(note_text) > settings().max_message_chars:
        raise corrections.CorrectionError("The note is too long (up to 10,000 characters).")
    row = corrections.send_to_police(session, settings().district, tip, key, g.staff,
                                     request.form.get("endpoint", ""), request.form.get("reason", ""), now)
    if note_text:
        # The member's own words stay sealed with the tip; the forward's reason is a code.
        msg = Message(tip_id=tip.id, direction="note", staff_id=g.staff.id, created_at=db.to_minute(now),
                      sealed_body=b"")
        session.add(msg)
        session.flush()
        msg.sealed_body = reading.seal_message_body(key, msg, note_text)
        audit.record(session, g.staff.email, "note_added", tip_id=tip.id, message_id=msg.id, delivery=row.id)
    return "forwards"


@bp.post("/tips/<tip_id>/police")
@login_required
def send_to_police(tip_id: str) -> Any:
    return _correct(_send_to_police)


@bp.post("/tips/<tip_id>/forwards/<int:delivery_id>/stop")
@login_required
def request_stop(tip_id: str, delivery_id: int) -> Any:
    def act(session: Session, tip: Tip, key: bytes, now: Any) -> str:
        row = session.get(Delivery, delivery_id)
        if row is None or row.tip_id != tip.id or row.purpose not in corrections.POLICE_PURPOSES:
            raise corrections.CorrectionError("There is no such police forward on this tip.")
        corrections.request_stop(session, tip, row, g.staff, request.form.get("action", ""),
                                 request.form.get("reason", ""), now)
        return "forwards"
    return _correct(act)


@bp.post("/tips/<tip_id>/stops/<int:stop_id>/confirm")
@login_required
def confirm_stop(tip_id: str, stop_id: int) -> Any:
    def act(session: Session, tip: Tip, key: bytes, now: Any) -> str:
        try:
            corrections.confirm_stop(session, tip, key, g.staff, stop_id, now)
        except corrections.CorrectionError:
            # An overtaken request is still recorded as such; anything else changes nothing.
            session.commit()
            raise
        return "forwards"
    return _correct(act)


@bp.post("/tips/<tip_id>/stops/<int:stop_id>/withdraw")
@login_required
def withdraw_stop(tip_id: str, stop_id: int) -> Any:
    def act(session: Session, tip: Tip, key: bytes, now: Any) -> str:
        corrections.withdraw_stop(session, tip, g.staff, stop_id, now)
        return "forwards"
    return _correct(act)


@bp.post("/tips/<tip_id>/forwards/<int:delivery_id>/release")
@login_required
def release_forward(tip_id: str, delivery_id: int) -> Any:
    def act(session: Session, tip: Tip, key: bytes, now: Any) -> str:
        corrections.release(session, tip, key, g.staff, delivery_id, now)
        return "forwards"
    return _correct(act)
