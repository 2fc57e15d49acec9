"""Staff sign-in, server-side key sessions, first-admin setup, invitations and recovery.

After sign-in the member's personal private key lives in a StaffSession row, wrapped under a
random key that only their cookie carries. Logout or 30 idle minutes delete the row, so a
copy of the database and disk without a live cookie opens no tip.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import segno
from flask import abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from tipline import audit, crypto, db, keyring, staff
from tipline.access import Keychain, Scope, scope_for
from tipline.config import Settings
from tipline.console import bp
from tipline.models import InboxGrant, Invitation, Staff, StaffSession

COOKIE = "tl_staff"
IDLE = timedelta(minutes=30)
F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    s: Settings = current_app.extensions["tipline.settings"]
    return s


def workflows() -> dict[str, Any]:
    w: dict[str, Any] = current_app.extensions["tipline.workflows"]
    return w


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def start_session(session: Session, member: Staff, personal: bytes) -> str:
    """Store the personal key wrapped under a fresh cookie key; return the cookie value."""
    sid = secrets.token_urlsafe(24)
    cookie_key = secrets.token_bytes(32)
    now = db.utcnow()
    session.add(StaffSession(id=sid, staff_id=member.id, created_at=now, last_seen=now,
                             wrapped_key=crypto.wrap(cookie_key, personal, f"session/{sid}")))
    return f"{sid}.{_b64(cookie_key)}"


def set_cookie(response: Response, value: str) -> Response:
    response.set_cookie(COOKIE, value, httponly=True, samesite="Strict", path="/console",
                        secure=settings().secure_cookies)
    return response


def load_session() -> tuple[Staff, Keychain] | None:
    raw = request.cookies.get(COOKIE, "")
    sid, _, key_text = raw.partition(".")
    if not sid or not key_text:
        return None
    session = db.session()
    row = session.get(StaffSession, sid)
    if row is None:
        return None
    now = db.utcnow()
    if now - row.last_seen > IDLE:
        session.delete(row)
        session.commit()
        return None
    member = session.get(Staff, row.staff_id)
    if member is None or not member.active:
        return None
    try:
        personal = crypto.unwrap(_unb64(key_text), row.wrapped_key, f"session/{sid}")
    except (crypto.CryptoError, binascii.Error, ValueError):
        return None
    if now - row.last_seen > timedelta(minutes=1):
        row.last_seen = now
        session.commit()
    return member, Keychain(member, personal)


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        loaded = load_session()
        if loaded is None:
            return redirect(url_for("console.login", expired=1 if request.cookies.get(COOKIE) else None))
        g.staff, g.keychain = loaded
        g.scope = scope_for(g.staff, workflows())
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.staff.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return cast(F, login_required(wrapper))


def current_scope() -> Scope:
    s: Scope = g.scope
    return s


def render(template: str, status: int = 200, **ctx: Any) -> tuple[str, int]:
    return render_template(template, me=g.get("staff"), district_name=settings().district.name,
                           roles=staff.ROLES, **ctx), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        notice = "Your session ended after 30 idle minutes. Please sign in again." if request.args.get(
            "expired") else ""
        return render("console/login.html", notice=notice)
    session = db.session()
    email = request.form.get("email", "")
    try:
        member, personal = staff.authenticate(session, email, request.form.get("password", ""),
                                              request.form.get("code", ""), settings().secret_key, db.utcnow())
    except staff.AccountError as exc:
        audit.record(session, email.strip().lower()[:254] or "unknown", "login_failed")
        session.commit()
        return render("console/login.html", 401, error=str(exc), email=email)
    cookie = start_session(session, member, personal)
    audit.record(session, member.email, "login")
    session.commit()
    return set_cookie(redirect(url_for("console.tip_list")), cookie)


@bp.post("/logout")
def logout() -> Any:
    sid = request.cookies.get(COOKIE, "").partition(".")[0]
    session = db.session()
    row = session.get(StaffSession, sid) if sid else None
    if row is not None:
        member = session.get(Staff, row.staff_id)
        session.execute(delete(StaffSession).where(StaffSession.id == sid))
        audit.record(session, member.email if member else "unknown", "logout")
        session.commit()
    response = redirect(url_for("console.login"))
    response.delete_cookie(COOKIE, path="/console")
    return response


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _enrol_page(title: str, email: str | None, role: str, school: str | None, status: int = 200,
                **ctx: Any) -> tuple[str, int]:
    return render("console/enrol.html", status, title=title, email=email, role=role, school=school, **ctx)


def _enrol(session: Session, *, email: str, role: str, school: str | None, title: str) -> tuple[str, int] | Staff:
    """Step 1 creates an inactive account and shows its TOTP QR code and recovery key;
    step 2 (a correct code) activates it. Returns the activated member, or a page."""
    step = request.form.get("step", "")
    if request.method == "GET":
        return _enrol_page(title, email, role, school)
    if step == "password":
        password = request.form.get("password", "")
        if password != request.form.get("password2", ""):
            return _enrol_page(title, email, role, school, 400, error="The two passwords differ.")
        existing = session.scalars(select(Staff).where(Staff.email == email)).first()
        if existing is not None and not existing.active and existing.totp_last_step == 0:
            session.delete(existing)  # an abandoned first step: start again
            session.flush()
        try:
            enrolment = staff.create(session, email=email, role=role, school=school, password=password,
                                     secret_key=settings().secret_key, schools=set(settings().district.schools),
                                     active=False)
        except staff.AccountError as exc:
            return _enrol_page(title, email, role, school, 400, error=str(exc))
        session.commit()
        return _enrol_page(title, email, role, school, confirm=True, qr=qr_svg(enrolment.totp_uri),
                           totp_uri=enrolment.totp_uri, recovery=enrolment.recovery_code)
    member = session.scalars(select(Staff).where(Staff.email == email)).first()
    if member is None or member.active:
        return _enrol_page(title, email, role, school, 400, error="Start again: set your password first.")
    if not staff.check_totp(member, request.form.get("code", ""), settings().secret_key):
        session.commit()
        return _enrol_page(title, email, role, school, 400, confirm=True, error="That code is not right. "
                           "Scan the QR code again and enter the 6 digits your app shows.",
                           qr=qr_svg(staff.totp_uri(member, settings().secret_key)))
    member.active = True
    return member


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> Any:
    session = db.session()
    token_file = keyring.setup_token_path(settings().instance_path)
    stored = token_file.read_text().strip() if token_file.exists() else ""
    admins = session.scalar(select(func.count()).select_from(Staff).where(Staff.role == "admin", Staff.active))
    if not stored or admins or not secrets.compare_digest(stored, token):
        abort(404)
    email = (request.form.get("email") or request.args.get("email") or "").strip().lower()
    if request.method == "POST" and not email:
        return _enrol_page("Create the first district admin", None, "admin", None, 400, error="Give your email.")
    result = _enrol(session, email=email, role="admin", school=None, title="Create the first district admin")
    if not isinstance(result, Staff):
        return result
    admin_key_id, admin_private = keyring.admin_private_from_setup_token(session, stored)
    key = keyring.current_key(session, keyring.ADMIN)
    session.add(InboxGrant(inbox_key_id=admin_key_id, staff_id=result.id,
                           sealed_private=crypto.seal_to(result.public_key, admin_private,
                                                         keyring.grant_context(keyring.ADMIN, key.version))))
    key.escrow = None
    audit.record(session, result.email, "setup_completed")
    session.commit()
    token_file.unlink(missing_ok=True)
    return render("console/message.html", title="Setup complete",
                  text="Your admin account is ready and holds the district keys. Sign in to continue.",
                  link=url_for("console.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Any:
    session = db.session()
    invite = session.scalars(select(Invitation).where(Invitation.token_hash == _token_hash(token))).first()
    if invite is None or invite.used_at is not None or invite.expires_at < db.utcnow():
        return render("console/message.html", 404, title="Invitation not valid",
                      text="This invitation link has expired or was already used. Ask your district admin "
                           "for a new one.")
    result = _enrol(session, email=invite.email, role=invite.role, school=invite.school,
                    title="Join the Tipline console")
    if not isinstance(result, Staff):
        return result
    invite.used_at = db.utcnow()
    audit.record(session, result.email, "staff_created", role=result.role, school=result.school, via="invite")
    session.commit()
    return render("console/message.html", title="Account ready",
                  text="Your account is ready. A team member who holds your team's key must grant it to you "
                       "before you can open tips. Sign in to continue.", link=url_for("console.login"))


@bp.route("/recover", methods=["GET", "POST"])
def recover() -> Any:
    if request.method == "GET":
        return render("console/recover.html")
    session = db.session()
    email = request.form.get("email", "").strip().lower()
    member = session.scalars(select(Staff).where(Staff.email == email, Staff.active)).first()
    error = "The email, recovery key or code is not right."
    if member is None or not staff.check_totp(member, request.form.get("code", ""), settings().secret_key):
        session.commit()
        return render("console/recover.html", 400, error=error)
    if request.form.get("password", "") != request.form.get("password2", ""):
        return render("console/recover.html", 400, error="The two passwords differ.")
    try:
        staff.recover(member, request.form.get("recovery", ""), request.form.get("password", ""))
    except staff.AccountError as exc:
        session.commit()
        return render("console/recover.html", 400, error=str(exc))
    session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    audit.record(session, member.email, "recovery_used")
    session.commit()
    return render("console/message.html", title="Password changed",
                  text="Your new password is set and your keys are back. Sign in with it.",
                  link=url_for("console.login"))
