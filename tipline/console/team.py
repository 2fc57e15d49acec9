"""Team and keys (grants, invitations, deactivation, rotation), the audit log, aggregate
statistics with small cells suppressed, and the metadata export."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from datetime import timedelta
from typing import Any

from flask import Response, abort, g, redirect, request, url_for
from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from tipline import access, audit, crypto, db, keyring, staff, worker
from tipline.console import bp
from tipline.console.auth import admin_required, login_required, render, settings, workflows
from tipline.models import (
    AuditEntry,
    Delivery,
    InboxGrant,
    InboxKey,
    Invitation,
    Staff,
    StaffSession,
    StepRecord,
    Tip,
    TipWorkflow,
)

SMALL_CELL = 5


def missing_grants(session: Session, member: Staff) -> list[InboxKey]:
    """Current inbox keys this member's role needs and does not hold yet."""
    if not member.active:
        return []
    held = set(session.scalars(select(InboxGrant.inbox_key_id).where(InboxGrant.staff_id == member.id)))
    needed: list[InboxKey] = []
    for inbox_key in access.inbox_keys_for(member, workflows()):
        try:
            key = keyring.current_key(session, inbox_key)
        except LookupError:
            continue
        if key.id not in held:
            needed.append(key)
    return needed


@bp.get("/team")
@login_required
def team() -> Any:
    return _team_page()


def _team_page(invite_link: str | None = None) -> Any:
    session = db.session()
    members = list(session.scalars(select(Staff).order_by(Staff.role, Staff.email)))
    if g.staff.role != "admin":
        members = [m for m in members if m.school == g.staff.school or m.id == g.staff.id]
    pending = []
    for member in members:
        for key in missing_grants(session, member):
            pending.append((member, key, g.keychain.private_for(session, key) is not None))
    return render("console/team.html", members=members, pending=pending, schools=settings().district.schools,
                  invite_link=invite_link)


@bp.post("/team/grant")
@login_required
def grant() -> Any:
    session = db.session()
    ids = [request.form.get(name, "") for name in ("staff_id", "inbox_key_id")]
    if not all(i.isascii() and i.isdigit() and len(i) <= 9 for i in ids):
        abort(400)
    member = session.get(Staff, int(ids[0]))
    key = session.get(InboxKey, int(ids[1]))
    if member is None or key is None or key not in missing_grants(session, member):
        abort(400)
    try:
        access.grant(session, g.keychain, member, key)
    except PermissionError:
        abort(403)
    audit.record(session, g.staff.email, "grant", member=member.email, inbox=key.inbox.key, version=key.version)
    session.commit()
    return redirect(url_for("console.team"))


@bp.post("/team/invite")
@admin_required
def invite() -> Any:
    session = db.session()
    email = request.form.get("email", "").strip().lower()
    role = request.form.get("role", "")
    school = request.form.get("school") or None
    if role not in staff.ROLES or "@" not in email or (school and school not in settings().district.schools):
        abort(400, description="Give an email, a role and (for school roles) a school.")
    token = secrets.token_urlsafe(32)
    session.add(Invitation(token_hash=hashlib.sha256(token.encode()).hexdigest(), email=email, role=role,
                           school=school, created_by=g.staff.id, expires_at=db.utcnow() + timedelta(days=7)))
    audit.record(session, g.staff.email, "invite", member=email, role=role, school=school)
    session.commit()
    # Shown in this answer only: in a redirect's address it would sit in the browser's history.
    return _team_page(url_for("console.invite_link", token=token, _external=True))


@bp.post("/team/<int:staff_id>/deactivate")
@admin_required
def deactivate(staff_id: int) -> Any:
    session = db.session()
    member = session.get(Staff, staff_id)
    if member is None or member.id == g.staff.id:
        abort(400)
    member.active = False
    held = list(session.scalars(select(InboxKey).join(InboxGrant, InboxGrant.inbox_key_id == InboxKey.id)
                                .where(InboxGrant.staff_id == member.id)))
    session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    session.execute(delete(InboxGrant).where(InboxGrant.staff_id == member.id))
    audit.record(session, g.staff.email, "staff_deactivated", member=member.email)
    rotated = rotate(session, {k.inbox.key for k in held if k.retired_at is None})
    session.commit()
    keyring.forget()
    return redirect(url_for("console.team", rotated=",".join(rotated)))


def rotate(session: Session, inbox_keys: set[str]) -> list[str]:
    """New key versions for new tips: sealed to everyone still holding the old one and
    escrowed to the admin inbox. Old versions stay for old tips."""
    done: list[str] = []
    admin_key = keyring.current_key(session, keyring.ADMIN)
    for name in sorted(inbox_keys):
        old = keyring.current_key(session, name)
        private, public = crypto.generate_keypair()
        new = InboxKey(inbox_id=old.inbox_id, version=old.version + 1, public_key=public)
        session.add(new)
        session.flush()
        holders = session.scalars(select(Staff).join(InboxGrant, InboxGrant.staff_id == Staff.id)
                                  .where(InboxGrant.inbox_key_id == old.id, Staff.active))
        for holder in holders:
            session.add(InboxGrant(inbox_key_id=new.id, staff_id=holder.id, granted_by=g.staff.id,
                                   sealed_private=crypto.seal_to(holder.public_key, private,
                                                                 keyring.grant_context(name, new.version))))
        if name == keyring.ADMIN:
            new.escrow = None
        else:
            new.escrow = crypto.seal_to(admin_key.public_key, private, keyring.escrow_context(name, new.version))
            new.escrow_key_id = admin_key.id
        old.retired_at = db.utcnow()
        audit.record(session, g.staff.email, "key_rotated", inbox=name, version=new.version)
        done.append(name)
    return done


@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    session = db.session()
    raw_before = request.args.get("before", "")
    if raw_before and not (raw_before.isascii() and raw_before.isdigit() and len(raw_before) <= 18):
        abort(400, description="That page link is broken. Go back to the newest entries of the audit log.")
    before = int(raw_before) if raw_before else None
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(100)
    if before:
        stmt = stmt.where(AuditEntry.id < before)
    entries = list(session.scalars(stmt))
    # Walking the whole chain grows with the log, so it runs when asked for, not on every view.
    result = audit.verify(session) if request.args.get("verify") else None
    return render("console/audit.html", entries=entries, result=result,
                  older=entries[-1].id if len(entries) == 100 else None)


def _suppress(count: int) -> str:
    return f"<{SMALL_CELL}" if 0 < count < SMALL_CELL else str(count)


@bp.get("/stats")
@login_required
def stats() -> Any:
    """Counts by school and workflow, and DEIB bias types: no tip, no text, small cells hidden."""
    session = db.session()
    rows = session.execute(select(Tip.school, TipWorkflow.workflow, func.count())
                           .join(TipWorkflow, TipWorkflow.tip_id == Tip.id)
                           .group_by(Tip.school, TipWorkflow.workflow)).all()
    table: dict[str, dict[str, str]] = {}
    for school, wf, n in rows:
        table.setdefault(school or "—", {})[wf] = _suppress(int(n))
    bias: dict[str, int] = {}
    for choices in session.scalars(select(StepRecord.choices)):
        values = choices.get("bias_types") if isinstance(choices, dict) else None
        for value in values if isinstance(values, list) else []:
            bias[str(value)] = bias.get(str(value), 0) + 1
    audit.record(session, g.staff.email, "view_stats")
    session.commit()
    return render("console/stats.html", table=table, workflows=sorted(workflows()),
                  bias={k: _suppress(v) for k, v in sorted(bias.items())}, small=SMALL_CELL)


@bp.get("/export.csv")
@admin_required
def export() -> Any:
    session = db.session()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tip", "school", "received_at", "priority", "status", "outcome", "workflows", "signals"])
    wf_map: dict[str, list[str]] = {}
    for tip_id, wf in session.execute(select(TipWorkflow.tip_id, TipWorkflow.workflow)):
        wf_map.setdefault(tip_id, []).append(wf)
    count = 0
    for tip in session.scalars(select(Tip).order_by(Tip.received_at)):
        writer.writerow([tip.id, tip.school or "", tip.received_at.isoformat(), tip.priority, tip.status,
                         tip.outcome or "", " ".join(sorted(wf_map.get(tip.id, []))), " ".join(tip.signals)])
        count += 1
    audit.record(session, g.staff.email, "export", rows=count, columns="metadata")
    session.commit()
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="tipline-metadata.csv"'
    return response


DELIVERIES_PAGE = 50


@bp.get("/deliveries")
@admin_required
def deliveries() -> Any:
    """Outbox rows not delivered yet: police and welfare forwards first (those that need a
    person, then failing, then waiting), then other failures, then the rest, oldest first
    within each, in pages. A police endpoint that is down cannot hide behind notifications."""
    session = db.session()
    police = Delivery.purpose.in_(worker.POLICE_PURPOSES)
    rank = case((and_(police, Delivery.state == worker.NEEDS_PERSON), 0), (and_(police, Delivery.attempts > 0), 1),
                (police, 2), (Delivery.attempts > 0, 3), else_=4)
    waiting = Delivery.state.not_in(worker.FINAL_STATES)
    total = session.scalar(select(func.count()).select_from(Delivery).where(waiting)) or 0
    pages = max(1, -(-total // DELIVERIES_PAGE))
    page = min(pages, max(1, request.args.get("page", 1, type=int) or 1))
    rows = list(session.scalars(select(Delivery).where(waiting).order_by(rank, Delivery.created_at, Delivery.id)
                                .offset((page - 1) * DELIVERIES_PAGE).limit(DELIVERIES_PAGE)))
    sent = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == worker.SENT)) or 0
    handled = list(session.scalars(select(Delivery).where(Delivery.state == worker.HANDLED)
                                   .order_by(Delivery.resolved_at.desc(), Delivery.id.desc()).limit(20)))
    return render("console/deliveries.html", rows=rows, sent=sent, handled=handled, total=total, page=page,
                  pages=pages, now=db.utcnow(), police=worker.POLICE_PURPOSES,
                  resolutions=worker.RESOLUTIONS)


@bp.post("/deliveries/<int:delivery_id>/handled")
@admin_required
def delivery_handled(delivery_id: int) -> Any:
    """A person took a failing police or welfare forward over (phoned dispatch, ...)."""
    session = db.session()
    try:
        worker.mark_handled(session, delivery_id, g.staff.email, request.form.get("resolution", ""),
                            request.form.get("reference", ""), db.utcnow())
    except worker.HandlingError as exc:
        session.rollback()
        return render("console/deliveries.html", 400, rows=[], sent=0, handled=[], total=0, page=1, pages=1,
                      now=db.utcnow(), police=worker.POLICE_PURPOSES, resolutions=worker.RESOLUTIONS,
                      error=str(exc), back=True)
    session.commit()
    return redirect(url_for("console.deliveries"))
