"""The FERPA disclosure log: every time a tip left the district, to whom, when, why and on
whose decision. Admins read it and export it as CSV (both audited); any member who can open a
tip records their own call to police about it.

Rows outlive the tips they name (a purge keeps them), so they are clear text: the form asks
for what kind of information went, never the tip's words or names.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any

from flask import Response, abort, g, redirect, request, url_for
from sqlalchemy import Select, select, tuple_

from tipline import access, audit, db
from tipline.console import bp
from tipline.console.auth import admin_required, current_scope, login_required, render, settings
from tipline.models import Disclosure, Tip

PAGE = 100
SHARED = {
    "report": "the report's words",
    "files": "attached files",
    "contact": "the reporter's contact details",
    "names": "names of the students involved",
    "place_time": "the school, place and time",
    "notes": "staff notes and step records",
}
MAX_AGENCY = 200
MAX_TEXT = 500
# A cell a spreadsheet would run as a formula (CSV injection) gets a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def local_time(moment: datetime) -> str:
    """A stored time as the district reads it: its own zone, to the minute."""
    return moment.astimezone(settings().district.timezone).strftime("%Y-%m-%d %H:%M %Z")


def _cursor(row: Disclosure) -> str:
    raw = json.dumps([row.disclosed_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _before(stmt: Select[Any], cursor: str) -> Select[Any]:
    try:
        when, row_id = json.loads(base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True))
        moment = datetime.fromisoformat(when)
        valid = type(row_id) is int and moment.tzinfo is not None
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        valid = False
    if not valid:
        abort(400, description="That page link is broken. Go back to the newest entries of the disclosure log.")
    return stmt.where(tuple_(Disclosure.disclosed_at, Disclosure.id) < (moment, row_id))


def how(row: Disclosure) -> str:
    return f"sent by Tipline (delivery {row.delivery_id})" if row.delivery_id else "recorded by staff"


@bp.get("/disclosures")
@admin_required
def disclosure_log() -> Any:
    session = db.session()
    stmt = select(Disclosure).order_by(Disclosure.disclosed_at.desc(), Disclosure.id.desc())
    if request.args.get("before"):
        stmt = _before(stmt, request.args["before"])
    rows = list(session.scalars(stmt.limit(PAGE + 1)))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    audit.record(session, g.staff.email, audit.VIEW_DISCLOSURES, shown=len(rows))
    session.commit()
    return render("console/disclosures.html", rows=rows, local_time=local_time, how=how,
                  older=_cursor(rows[-1]) if more else None, recorded=request.args.get("recorded") == "1",
                  zone=settings().district.timezone.key)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@bp.get("/disclosures.csv")
@admin_required
def disclosure_export() -> Any:
    session = db.session()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["disclosed_at", "disclosed_at_utc", "tip", "recipient", "what", "why", "decided_by", "how"])
    count = 0
    for row in session.scalars(select(Disclosure).order_by(Disclosure.disclosed_at, Disclosure.id)):
        local = row.disclosed_at.astimezone(settings().district.timezone)
        writer.writerow([_cell(v) for v in (local.isoformat(timespec="minutes"),
                                            row.disclosed_at.isoformat(timespec="minutes"), row.tip_id or "",
                                            row.recipient, row.what, row.why, row.decided_by, how(row))])
        count += 1
    audit.record(session, g.staff.email, audit.EXPORT_DISCLOSURES, rows=count)
    session.commit()
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="tipline-disclosures.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_page(status: int = 200, error: str = "", **values: Any) -> tuple[str, int]:
    return render("console/disclosure_record.html", status, error=error, shared=SHARED, values=values,
                  zone=settings().district.timezone.key)


def _openable(tip_id: str) -> Tip | None:
    """The tip, if the signed-in member may see it and holds a key that opens it."""
    if not tip_id or len(tip_id) > 32 or not tip_id.isascii() or not tip_id.isalnum():
        return None
    session = db.session()
    tip = session.get(Tip, tip_id)
    if tip is None or not access.can_see(session, current_scope(), tip.id):
        return None
    return tip if g.keychain.data_key(session, tip) is not None else None


def _when(text: str, now: datetime) -> datetime | None:
    """The call's time as typed (the district's zone), or now when left empty."""
    if not text:
        return now
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if typed.tzinfo is not None:
        return None
    moment = typed.replace(tzinfo=settings().district.timezone)
    return moment if moment <= now + timedelta(minutes=1) else None


@bp.route("/disclosures/record", methods=["GET", "POST"])
@login_required
def record_disclosure() -> Any:
    """A staff member's own disclosure (a call to police about a tip) goes into the log."""
    if not current_scope().reads_tips:
        abort(403)
    if request.method == "GET":
        return _form_page(tip=request.args.get("tip", "")[:32])
    form = {k: request.form.get(k, "").strip() for k in ("tip", "agency", "other", "why", "when")}
    shared = [k for k in request.form.getlist("shared") if k in SHARED]
    tip = _openable(form["tip"])
    now = db.utcnow()
    when = _when(form["when"], now)
    problem = ""
    if tip is None:
        problem = "Give the reference of a tip you can open (it is in the tip page's address)."
    elif not form["agency"] or len(form["agency"]) > MAX_AGENCY:
        problem = "Say which agency you told (e.g. Westport Police, 911 dispatch)."
    elif not shared and not form["other"]:
        problem = "Say what you shared."
    elif not form["why"]:
        problem = "Say why you told them."
    elif len(form["other"]) > MAX_TEXT or len(form["why"]) > MAX_TEXT:
        problem = f"Keep each answer under {MAX_TEXT} characters."
    elif when is None:
        problem = "Give the time of the call as a date and time that has passed, or leave it empty for now."
    if problem or tip is None or when is None:
        return _form_page(400, problem, shared_keys=shared, **form)
    what = ", ".join([SHARED[k] for k in shared] + ([form["other"]] if form["other"] else []))
    session = db.session()
    row = Disclosure(tip_id=tip.id, delivery_id=None, recipient=form["agency"], what=what, why=form["why"],
                     decided_by=g.staff.email, disclosed_at=db.to_minute(when))
    session.add(row)
    session.flush()
    audit.record(session, g.staff.email, audit.DISCLOSURE_RECORDED, tip_id=tip.id, disclosure=row.id)
    session.commit()
    if g.staff.role == "admin":
        return redirect(url_for("console.disclosure_log", recorded=1))
    return render("console/message.html", title="Recorded in the disclosure log",
                  text="Your call is in the district's FERPA disclosure log.",
                  link=url_for("console.tip_page", tip_id=tip.id))
