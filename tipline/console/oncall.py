"""On call in the console: the rota (admins, and school admins for their school), phone
numbers for pages, and acknowledging a page with its code."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import g, redirect, request, url_for
from sqlalchemy import select

from tipline import audit, db, oncall, staff
from tipline.console import bp
from tipline.console.auth import login_required, render, settings, workflows
from tipline.models import RotaEntry, Staff

ROTA_EDITORS = frozenset({"admin", "school-admin"})


def _members() -> list[Staff]:
    """Members this person may put on the rota or give a phone number: all (admins), or their
    school's and the district-wide roles' (school admins)."""
    stmt = select(Staff).where(Staff.active, Staff.role != "analyst").order_by(Staff.email)
    if g.staff.role != "admin":
        stmt = stmt.where((Staff.school == g.staff.school) | (Staff.id == g.staff.id))
    return list(db.session().scalars(stmt))


def _page(status: int = 200, error: str | None = None, done: str | None = None) -> Any:
    session = db.session()
    stmt = select(RotaEntry, Staff).join(Staff, Staff.id == RotaEntry.staff_id)
    if g.staff.role != "admin":
        stmt = stmt.where((RotaEntry.school == g.staff.school) | RotaEntry.school.is_(None))
    entries = session.execute(stmt.order_by(RotaEntry.school, RotaEntry.workflow, RotaEntry.position,
                                            RotaEntry.id)).all()
    editor = g.staff.role in ROTA_EDITORS
    return render("console/oncall.html", status, entries=entries, editor=editor,
                  members=_members() if editor else [], schools=settings().district.schools,
                  workflows=sorted(workflows()), error=error, done=done, ack_minutes=settings().district.ack_minutes,
                  sms=oncall.sms_gateway(settings()) is not None)


@bp.get("/oncall")
@login_required
def oncall_page() -> Any:
    return _page()


def _clock(raw: str) -> str:
    return time.fromisoformat(raw).strftime("%H:%M")


@bp.post("/oncall/rota")
@login_required
def rota_add() -> Any:
    if g.staff.role not in ROTA_EDITORS:
        return _page(403, "Only admins and school administrators keep the rota.")
    form = request.form
    session = db.session()
    member_id = form.get("staff_id", "")
    member = next((m for m in _members() if str(m.id) == member_id), None)
    school = form.get("school") or None
    if g.staff.role != "admin":
        school = g.staff.school
    workflow = form.get("workflow", "")
    try:
        if member is None:
            raise ValueError("Choose a member.")
        if school is not None and school not in settings().district.schools:
            raise ValueError("Choose a school from the list, or district-wide.")
        if workflow != oncall.ANY and workflow not in workflows():
            raise ValueError("Choose a workflow from the list.")
        days = oncall.parse_days(form.get("days", ""))
        start = end = None
        if not form.get("always"):
            try:
                start, end = _clock(form.get("start", "")), _clock(form.get("end", ""))
            except ValueError:
                raise ValueError("Give the hours as 17:00 and 08:00, or tick \"always\".") from None
            if start == end:
                raise ValueError("The hours start and end at the same time: tick \"always\" instead.")
        raw_position = form.get("position", "1")
        if not (raw_position.isascii() and raw_position.isdigit() and 1 <= int(raw_position) <= 99):
            raise ValueError("The order of escalation is a number from 1 (paged first) to 99.")
    except ValueError as exc:
        return _page(400, str(exc))
    entry = RotaEntry(staff_id=member.id, school=school, workflow=workflow, days=days, start=start, end=end,
                      position=int(raw_position), created_by=g.staff.id, created_at=db.to_minute(db.utcnow()))
    session.add(entry)
    session.flush()
    audit.record(session, g.staff.email, audit.ROTA_CHANGED, entry=entry.id, change="added", member=member.email,
                 school=school, workflow=workflow, days=days, start=start, end=end, position=entry.position)
    session.commit()
    return redirect(url_for("console.oncall_page"))


@bp.post("/oncall/rota/<int:entry_id>/remove")
@login_required
def rota_remove(entry_id: int) -> Any:
    session = db.session()
    entry = session.get(RotaEntry, entry_id)
    if entry is None:
        return _page(404, "That rota entry no longer exists.")
    if g.staff.role != "admin" and (g.staff.role not in ROTA_EDITORS or entry.school != g.staff.school):
        return _page(403, "You can remove rota entries of your own school only.")
    member = session.get(Staff, entry.staff_id)
    audit.record(session, g.staff.email, audit.ROTA_CHANGED, entry=entry.id, change="removed",
                 member=member.email if member else None, school=entry.school, workflow=entry.workflow)
    session.delete(entry)
    session.commit()
    return redirect(url_for("console.oncall_page"))


@bp.post("/oncall/phone")
@login_required
def phone() -> Any:
    """A member's own number, or (admins and school admins) a member's of their school."""
    session = db.session()
    raw_id = request.form.get("staff_id", str(g.staff.id))
    member = session.get(Staff, g.staff.id) if raw_id == str(g.staff.id) else \
        next((m for m in (_members() if g.staff.role in ROTA_EDITORS else []) if str(m.id) == raw_id), None)
    if member is None:
        return _page(400, "Choose a member of your school.")
    try:
        member.phone = staff.normalise_phone(request.form.get("phone", "")[:40])
    except staff.AccountError as exc:
        return _page(400, str(exc))
    audit.record(session, g.staff.email, audit.PHONE_CHANGED, member=member.email, cleared=member.phone is None)
    session.commit()
    return redirect(url_for("console.oncall_page"))


@bp.route("/ack", methods=["GET", "POST"])
@login_required
def ack() -> Any:
    """Acknowledge a page with the code it carried: escalation stops."""
    session = db.session()
    error = done = None
    status = 200
    if request.method == "POST":
        try:
            page = oncall.acknowledge(session, settings().secret_key, request.form.get("code", "")[:40], g.staff,
                                      db.utcnow())
        except oncall.AckError as exc:
            session.rollback()
            error, status = str(exc), 400
        else:
            session.commit()
            done = page.tip_id
    return render("console/ack.html", status, error=error, done=done,
                  pages=oncall.open_pages_for(session, g.staff))
