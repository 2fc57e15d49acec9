"""Staff sign-in, server-side key sessions, first-admin setup, invitations and recovery.

After sign-in the member's personal private key lives in a StaffSession row, wrapped under a
random key that only their cookie carries. Logout, 30 idle minutes or 12 hours in all end the
session; ended rows are swept at each sign-in and sign-out, so a copy of the database and disk
without a live cookie opens no tip.

Setup and invitation links carry their token once: the first visit moves it into a short-lived
cookie scoped to the console and redirects to a token-free address, so the token is not in
later requests, the forms' addresses or the browser's history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import segno
from flask import abort, current_app, g, redirect, render_template, request, url_for
from gunicorn.http.errors import NoMoreData, ParseException
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Response

from tipline import audit, crypto, db, keyring, staff
from tipline.access import Keychain, Scope, scope_for
from tipline.config import Settings
from tipline.console import bp, throttle
from tipline.models import Invitation, Staff, StaffSession

COOKIE = "tl_staff"
IDLE = timedelta(minutes=30)
# A working day: a session left open on a shared computer does not live on past it.
ABSOLUTE = timedelta(hours=12)
ENROL_COOKIE = "tl_enrol"
ENROL_MINUTES = 60
_SID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
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


def sweep_sessions(session: Session, now: datetime) -> None:
    """Delete every ended session row, whoever it belonged to."""
    session.execute(delete(StaffSession).where(or_(StaffSession.last_seen < now - IDLE,
                                                   StaffSession.created_at < now - ABSOLUTE)))


def _cookie_parts() -> tuple[str, str]:
    """The session id and key text from the cookie, or empty strings when it is malformed."""
    sid, _, key_text = request.cookies.get(COOKIE, "").partition(".")
    if not sid or len(sid) > 64 or not set(sid) <= _SID_CHARS:
        return "", ""
    return sid, key_text


def load_session() -> tuple[Staff, Keychain] | None:
    sid, key_text = _cookie_parts()
    if not sid or not key_text:
        return None
    session = db.session()
    row = session.get(StaffSession, sid)
    if row is None:
        return None
    now = db.utcnow()
    if now - row.last_seen > IDLE or now - row.created_at > ABSOLUTE:
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


NUL_PAGE = ("The form held a NUL character (often pasted from another program), which cannot be stored. "
            "Go back, remove it and send the form again.")


@bp.before_request
def _refuse_nul() -> Any:
    """A NUL byte in any text a console page receives is refused before it reaches a query."""
    values = [*(request.view_args or {}).values()]
    for multi in (request.args, request.form) if request.method == "POST" else (request.args,):
        for key, items in multi.lists():
            values.append(key)
            values.extend(items)
    if any("\x00" in str(v) for v in values):
        return render("console/message.html", 400, title="That form could not be read", text=NUL_PAGE)
    return None


@bp.errorhandler(ParseException)
@bp.errorhandler(NoMoreData)
@bp.errorhandler(ClientDisconnected)
def _broken_body(_exc: Exception) -> tuple[str, int]:
    """A malformed or cut-short chunked body (found while the form is read): nothing was kept."""
    return render("console/message.html", 400, title="That request could not be read",
                  text="The request arrived broken and nothing was saved. Please send the form again.")


def _audit_email(email: str) -> str:
    return email.strip().lower()[:254] or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method != "POST":
        notice = ("Your session ended after 30 idle minutes (or 12 hours in all). Please sign in again."
                  if request.args.get("expired") else "")
        return render("console/login.html", notice=notice)
    session = db.session()
    email = request.form.get("email", "")
    attempt = throttle.begin("login", email)
    if not throttle.allowed(attempt):
        audit.record(session, _audit_email(email), "login_failed", reason="throttled")
        session.commit()
        return render("console/login.html", 429, error=throttle.REFUSED, email=email)
    now = db.utcnow()
    try:
        member, personal = staff.authenticate(session, email, request.form.get("password", ""),
                                              request.form.get("code", ""), settings().secret_key, now)
    except staff.AccountError as exc:
        throttle.failed(attempt)
        audit.record(session, _audit_email(email), "login_failed")
        session.commit()
        return render("console/login.html", 401, error=str(exc), email=email)
    sweep_sessions(session, now)
    cookie = start_session(session, member, personal)
    audit.record(session, member.email, "login")
    session.commit()
    return throttle.succeeded(attempt, set_cookie(redirect(url_for("console.tip_list")), cookie))


@bp.post("/logout")
def logout() -> Any:
    sid = _cookie_parts()[0]
    session = db.session()
    row = session.get(StaffSession, sid) if sid else None
    if row is not None:
        member = session.get(Staff, row.staff_id)
        session.execute(delete(StaffSession).where(StaffSession.id == sid))
        audit.record(session, member.email if member else "unknown", "logout")
    sweep_sessions(session, db.utcnow())
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
    if request.method != "POST":
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


def _enrol_token(kind: str) -> str:
    """The token a setup or invitation link left in this browser's enrolment cookie."""
    found, _, token = request.cookies.get(ENROL_COOKIE, "").partition(":")
    return token if found == kind and token else ""


def _keep_token(kind: str, token: str, endpoint: str) -> Response:
    """First visit: the token moves into a console-only cookie and the address loses it."""
    response = redirect(url_for(endpoint))
    # Lax, not Strict: the link is usually opened from a mail program, another site.
    response.set_cookie(ENROL_COOKIE, f"{kind}:{token}", max_age=ENROL_MINUTES * 60, httponly=True,
                        samesite="Lax", path="/console", secure=settings().secure_cookies)
    return response


def _setup_stored(session: Session, token: str) -> str | None:
    """The setup token, if ``token`` is it and the district-admin key still waits under it.

    Not "no admin exists": an admin made on the command line by an older version held no key,
    and the link must still let the district reach its tips.
    """
    token_file = keyring.setup_token_path(settings().instance_path)
    stored = token_file.read_text().strip() if token_file.exists() else ""
    if not stored or not token or not secrets.compare_digest(stored, token) or not keyring.setup_pending(session):
        return None
    return stored


@bp.app_template_global()
def admin_key_state() -> str:
    """For the console banner: ``held`` when an active member holds the district-admin key,
    ``setup`` when it still waits under the setup token, ``lost`` when no one holds it (its
    holders were deactivated). Asked only on admins' pages (console/_no_admin_key.html)."""
    session = db.session()
    try:
        if keyring.admin_key_holders(session):
            return "held"
        return "setup" if keyring.setup_pending(session) else "lost"
    except LookupError:  # no admin inbox at all: `tipline init` never ran
        return "setup"


@bp.get("/setup/<token>")
def setup_link(token: str) -> Any:
    if _setup_stored(db.session(), token) is None:
        abort(404)
    return _keep_token("setup", token, "console.setup")


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    session = db.session()
    stored = _setup_stored(session, _enrol_token("setup"))
    if stored is None:
        abort(404)
    email = (request.form.get("email") or "").strip().lower()
    if request.method == "POST" and not email:
        return _enrol_page("Create the first district admin", None, "admin", None, 400, error="Give your email.")
    result = _enrol(session, email=email, role="admin", school=None, title="Create the first district admin")
    if not isinstance(result, Staff):
        return result
    keyring.hand_over_setup_keys(session, stored, result)
    audit.record(session, result.email, "setup_completed")
    session.commit()
    keyring.setup_token_path(settings().instance_path).unlink(missing_ok=True)
    page, status = render("console/message.html", title="Setup complete",
                          text="Your admin account is ready and holds the district keys. Sign in to continue.",
                          link=url_for("console.login"))
    response = current_app.make_response((page, status))
    response.delete_cookie(ENROL_COOKIE, path="/console")
    return response


def _invitation(session: Session, token: str) -> Invitation | None:
    if not token:
        return None
    invite = session.scalars(select(Invitation).where(Invitation.token_hash == _token_hash(token))).first()
    if invite is None or invite.used_at is not None or invite.expires_at < db.utcnow():
        return None
    return invite


def _invitation_gone() -> tuple[str, int]:
    return render("console/message.html", 404, title="Invitation not valid",
                  text="This invitation link has expired or was already used. Ask your district admin "
                       "for a new one.")


@bp.get("/invite/<token>")
def invite_link(token: str) -> Any:
    if _invitation(db.session(), token) is None:
        return _invitation_gone()
    return _keep_token("invite", token, "console.accept_invite")


@bp.route("/invite", methods=["GET", "POST"])
def accept_invite() -> Any:
    session = db.session()
    invite = _invitation(session, _enrol_token("invite"))
    if invite is None:
        return _invitation_gone()
    result = _enrol(session, email=invite.email, role=invite.role, school=invite.school,
                    title="Join the Tipline console")
    if not isinstance(result, Staff):
        return result
    invite.used_at = db.utcnow()
    audit.record(session, result.email, "staff_created", role=result.role, school=result.school, via="invite")
    session.commit()
    page, status = render("console/message.html", title="Account ready",
                          text="Your account is ready. A team member who holds your team's key must grant it "
                               "to you before you can open tips. Sign in to continue.",
                          link=url_for("console.login"))
    response = current_app.make_response((page, status))
    response.delete_cookie(ENROL_COOKIE, path="/console")
    return response


RECOVER_FAILED = "The email, recovery key or code is not right."


@bp.route("/recover", methods=["GET", "POST"])
def recover() -> Any:
    if request.method != "POST":
        return render("console/recover.html")
    session = db.session()
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    # The new password is checked first: its answer must not depend on the account or the codes.
    if password != request.form.get("password2", ""):
        return render("console/recover.html", 400, error="The two passwords differ.")
    try:
        staff.check_password_rules(password)
    except staff.AccountError as exc:
        return render("console/recover.html", 400, error=str(exc))
    attempt = throttle.begin("recover", email)
    if not throttle.allowed(attempt):
        audit.record(session, _audit_email(email), "login_failed", via="recovery", reason="throttled")
        session.commit()
        return render("console/recover.html", 429, error=throttle.REFUSED)
    member = session.scalars(select(Staff).where(Staff.email == email, Staff.active)).first()
    # One answer whichever part is wrong; the code is only spent once the recovery key opened.
    private = staff.open_recovery(member, request.form.get("recovery", ""))
    if member is None or private is None or not staff.check_totp(member, request.form.get("code", ""),
                                                                  settings().secret_key):
        throttle.failed(attempt)
        audit.record(session, _audit_email(email), "login_failed", via="recovery")
        session.commit()
        return render("console/recover.html", 400, error=RECOVER_FAILED)
    staff.set_password(member, private, password)
    session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    audit.record(session, member.email, "recovery_used")
    session.commit()
    page, status = render("console/message.html", title="Password changed",
                          text="Your new password is set and your keys are back. Sign in with it.",
                          link=url_for("console.login"))
    return throttle.succeeded(attempt, current_app.make_response((page, status)))
