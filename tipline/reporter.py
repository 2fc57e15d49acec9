"""The reporter's pages: the form, the receipt, and coming back with the code.

Everything works without JavaScript. Nothing here reads or keeps the client's address,
user agent or referrer; the rate limiter sees only a daily-rotating HMAC of the address.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request, url_for
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError
from gunicorn.http.errors import NoMoreData, ParseException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from tipline import crypto, db, i18n, intake, kept_files, reading, receipts
from tipline import plugins as hooks
from tipline.config import Settings
from tipline.models import Message, Tip, TipKey
from tipline.security import cookies_secure, limit_view
from tipline.uploads import ACCEPT, CleanFile, clean_all, gate_for, safe_filename

log = logging.getLogger(__name__)
bp = Blueprint("reporter", __name__)

CATEGORIES = (
    ("threat", "A threat of violence, or a weapon"),
    ("bullying", "Bullying or cyberbullying"),
    ("bias", "Bias, hate or discrimination"),
    ("crisis", "Someone may hurt themselves, or is in crisis"),
    ("other", "Something else"),
    ("unsure", "I'm not sure"),
)
CATEGORY_KEYS = {k for k, _ in CATEGORIES}
OUTSIDE = "outside"
STATUS_WORDS = {
    "new": "Received. It is waiting for a staff member to read it.",
    "in_review": "A staff member is looking into it.",
    "action_taken": "Staff have taken action on it.",
    "closed": "Closed. Thank you for speaking up.",
}
MAX_CONTACT = 200
DUMMY_CODE = "0" * receipts.LENGTH
# Where "Leave this site" goes: a page nobody looks twice at on a shared phone. Only a link:
# nothing is fetched from it until the reporter presses it.
QUICK_EXIT = "https://www.weather.gov/"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
KEEP_INDEX = re.compile(r"^[0-9]{1,2}$")


def current_lang() -> str:
    if "lang" not in g:
        g.lang = i18n.pick(request)
    lang: str = g.lang
    return lang


def _t(text: str, **params: object) -> str:
    return i18n.translate(current_lang(), text, **params)


def settings() -> Settings:
    s: Settings = current_app.extensions["tipline.settings"]
    return s


class Errors(list[str]):
    """What to tell the reporter, each sentence tied to the field it is about when there is one,
    so the page can link it from the summary and describe the field with it."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.fields: dict[int, str] = {}

    def add(self, text: str, field_id: str | None = None) -> None:
        if field_id:
            self.fields[len(self)] = field_id
        self.append(text)

    def field(self, index: int) -> str | None:
        return self.fields.get(index)

    def about(self, field_id: str) -> list[str]:
        return [self[i] for i, f in sorted(self.fields.items()) if f == field_id]


def _add(errors: list[str], text: str, field_id: str) -> None:
    if isinstance(errors, Errors):
        errors.add(text, field_id)
    else:
        errors.append(text)


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=Errors)
    notice: str = ""
    # Cleaned files to hand back sealed in the form (see tipline.kept_files).
    files: tuple[CleanFile, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.errors, Errors):
            self.errors = Errors(self.errors)


def _page_context() -> dict[str, Any]:
    s = settings()
    return {
        "district_name": s.district.name,
        "schools": [(c, sc.name) for c, sc in s.district.schools.items()],
        "categories": CATEGORIES,
        "max_chars": s.max_message_chars,
        "max_files": s.max_attachments,
        "max_mb": s.max_attachment_bytes // (1024 * 1024),
        "accept": ACCEPT,
        "quick_exit": QUICK_EXIT,
    }


def _switch_language() -> bool:
    """A language button on a page with a form: show the same page, with what was typed, in that
    language. The button posts the form, so nothing typed or opened is lost."""
    chosen = request.form.get("switch_lang", "")
    if chosen not in i18n.LANGS:
        return False
    g.lang = chosen
    g.lang_switched = chosen
    return True


def render_form(state: FormState, status: int = 200) -> tuple[str, int]:
    # A fresh one-time nonce unless this form is being shown again with the reporter's words.
    nonce = state.values.setdefault("submission", secrets.token_urlsafe(24))
    s = settings()
    room = kept_files.budget(s.max_attachments, s.max_attachment_bytes)
    kept: list[tuple[int, str, list[str]]] = []
    dropped: list[str] = []
    for f in state.files:
        if len(f.data) <= room:
            room -= len(f.data)
            kept.append((len(kept), f.filename, kept_files.seal(s.secret_key, nonce, f)))
        else:
            dropped.append(f.filename)
    if dropped:
        _add(state.errors, _t("These files were too large to keep while the form is shown again. Please attach "
                              "them again: {names}.", names=", ".join(dropped)), "attachment")
    return render_template("reporter/form.html", state=state, kept=kept, **_page_context()), status


def _text(name: str, errors: list[str], label: str) -> str:
    value = request.form.get(name, "")
    if "\ufffd" in value:
        _add(errors, _t("Some characters in {label} could not be read (they show as �). Please check that "
                        "part and send again.", label=_t(label)), name)
    # Control characters other than line breaks and tabs only hide text from staff.
    return "".join(ch for ch in value if ch in "\n\t" or ch.isprintable() or ch == "\ufffd").replace("\r", "")


def read_files(errors: list[str], already: int = 0) -> tuple[CleanFile, ...]:
    """Check and clean the files of this request; ``already`` files are kept from before."""
    s = settings()
    uploads = [f for f in request.files.getlist("attachment") if f and f.filename]
    if len(uploads) + already > s.max_attachments:
        _add(errors, _t("You can attach up to {n} files at once.", n=s.max_attachments), "attachment")
        return ()
    result = clean_all([(u.filename or "file", u.read(s.max_attachment_bytes + 1)) for u in uploads],
                       s.max_attachment_bytes, gate_for(s.instance_path / "locks"))
    for exc in result.rejected:
        _add(errors, _t(exc.template, **exc.params), "attachment")
    return tuple(result.files)


def _kept_files(errors: list[str]) -> tuple[CleanFile, ...]:
    """The files this form carried back sealed, those the reporter left ticked."""
    s = settings()
    nonce = _nonce()
    chosen = list(dict.fromkeys(i for i in request.form.getlist("keep") if KEEP_INDEX.match(i)))
    files: list[CleanFile] = []
    lost = 0
    for index in chosen[: s.max_attachments]:
        opened = kept_files.open_kept(s.secret_key, nonce, request.form.getlist(f"kept-{index}")) if nonce else None
        if opened is None:
            lost += 1
        else:
            files.append(opened)
    if lost:
        _add(errors, _t("A file you attached before could not be kept (the page was open too long). Please "
                        "attach it again."), "attachment")
    return tuple(files)


NONCE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _nonce() -> str | None:
    value = request.form.get("submission", "")
    return value if NONCE.match(value) else None


def _message_errors(message: str, errors: list[str]) -> None:
    if not message.strip():
        _add(errors, _t("Please tell us what happened: the message box is empty."), "message")
    elif len(message) > settings().max_message_chars:
        _add(errors, _t("Your message is {length} characters; the limit is {limit}. Please shorten it, or send "
                        "the rest as a follow-up with your receipt code.", length=f"{len(message):,}",
                        limit=f"{settings().max_message_chars:,}"), "message")


@bp.get("/")
def form() -> tuple[str, int]:
    return render_form(FormState())


@bp.post("/")
def submit() -> tuple[str, int]:
    switching = _switch_language()
    errors = Errors()
    # A language switch only shows the form again: what was typed is not judged yet.
    text_errors: list[str] = [] if switching else errors
    message = _text("message", text_errors, "your message")
    contact = _text("contact", text_errors, "your contact details")[:MAX_CONTACT]
    category = request.form.get("category", "unsure")
    category = category if category in CATEGORY_KEYS else "unsure"
    school = request.form.get("school", OUTSIDE)
    if school != OUTSIDE and school not in settings().district.schools:
        _add(text_errors, _t("Please choose a school from the list, or “Not sure / outside school”."), "school")
        school = OUTSIDE
    nonce = _nonce()
    state = FormState(values={"message": message, "contact": contact, "category": category, "school": school,
                              "submission": nonce or secrets.token_urlsafe(24)}, errors=errors)
    if request.form.get("website") and not switching:
        errors.append(_t("Please leave the last box (“Leave this empty”) blank, then send again."))
    if not switching:
        _message_errors(message, errors)
    kept = _kept_files(errors)
    added = read_files(errors, len(kept))
    files = kept + added
    if switching or errors:
        _name_files_not_kept(errors, added)
        # The files already checked go back to the browser sealed, so an error costs nothing.
        state.files = files
        return render_form(state, 200 if switching else 400)
    session = db.session()
    pepper = receipts.pepper_from_secret(settings().secret_key)
    report = intake.Report(message=message, category=category, school=None if school == OUTSIDE else school,
                           contact=contact.strip(), files=files)
    try:
        received = intake.receive(session, current_app.extensions["tipline.pm"], settings().district, pepper,
                                  report, db.utcnow(), nonce=nonce)
        session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure must keep the reporter's words on screen
        _rollback(session)
        # A reload or a second tap: the dedupe id's unique constraint refused the second copy,
        # and the reporter sees the same code again. Any other failure means the database is
        # unwell, and asking it again would only keep the reporter waiting for the same error.
        already = _duplicate(session, pepper, nonce, report) if nonce and isinstance(exc, IntegrityError) else None
        if already:
            return render_receipt(already, nonce, report.digest().hex())
        return _tip_not_stored(exc, state)
    log.info("tip received id=%s priority=%s", received.tip_id, received.triage.priority)
    hooks.tip_received(current_app.extensions["tipline.pm"], received.tip_id, received.triage,
                       db.to_minute(db.utcnow()))
    return render_receipt(received.receipt, nonce, report.digest().hex())


def _name_files_not_kept(errors: Errors, cleaned: tuple[CleanFile, ...]) -> None:
    """Say which of the files just sent could not be kept (refused, or not checked)."""
    stems = {_stem(f.filename) for f in cleaned}
    lost = [n for n in _files_to_reattach() if _stem(safe_filename(n, "file")) not in stems]
    if lost:
        _add(errors, _t("These files were not kept: {names}. Please attach them again, or other files.",
                        names=", ".join(lost)), "attachment")


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def render_receipt(code: str, nonce: str | None, digest: str) -> tuple[str, int]:
    """The receipt. With the form's nonce and the digest of what was sent, the page can show the
    same code again (in another language, or as a file to keep) without it being stored anywhere:
    both are posted back and the code is derived again (see receipts.submission_ids)."""
    return render_template("reporter/receipt.html", code=code, submission=nonce or "",
                           digest=digest if nonce else "", **_page_context()), 200


def _receipt_from_form() -> str | None:
    """The code of a tip stored from the submission this receipt page was made for, if any."""
    nonce, digest = _nonce(), request.form.get("digest", "")
    if nonce is None or not DIGEST.match(digest):
        return None
    dedupe, code = receipts.submission_ids(receipts.pepper_from_secret(settings().secret_key), nonce,
                                           bytes.fromhex(digest))
    return code if db.session().scalar(select(Tip.id).where(Tip.dedupe_id == dedupe)) else None


def _receipt_gone() -> tuple[str, int]:
    return render_template("error.html", title="This receipt cannot be shown again",
                           text="If you kept your code, use it on “Check a tip”. If someone is in danger right "
                                "now, call 911.", **_page_context()), 404


@bp.post("/receipt")
def receipt_again() -> tuple[str, int]:
    """The receipt page once more, in the language chosen on it: the code is not lost by switching."""
    _switch_language()
    code = _receipt_from_form()
    if code is None:
        return _receipt_gone()
    return render_receipt(code, _nonce(), request.form.get("digest", ""))


@bp.post("/receipt/file")
def receipt_file() -> Response | tuple[str, int]:
    """The code as a small text file, made from the code on the page; never kept on the server."""
    code = _receipt_from_form()
    if code is None:
        return _receipt_gone()
    lines = [
        f"{settings().district.name} · {_t('Safe tip line')}",
        "",
        f"{_t('Your receipt code:')} {code}",
        "",
        f"{_t('Check a tip')}: {url_for('reporter.followup_form', _external=True)}",
        _t("Don't share it: anyone with the code can read your tip."),
        "",
    ]
    response = Response("\r\n".join(lines), mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="receipt-code.txt"'
    return response


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:
        session.invalidate()  # the connection is gone; the pool must not hand it out again


def _duplicate(session: Session, pepper: bytes, nonce: str, report: intake.Report) -> str | None:
    try:
        return intake.find_duplicate(session, pepper, nonce, report)
    except SQLAlchemyError:
        _rollback(session)
        return None


def _files_to_reattach() -> list[str]:
    """The names of the files sent with this request, so the reporter knows what to attach again."""
    try:
        uploads = request.files.getlist("attachment")
    except Exception:  # noqa: BLE001 - a body we could not read holds no names to show
        return []
    names = [(f.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:80] for f in uploads if f and f.filename]
    return names[:10]


def _not_stored_errors(first: str) -> list[str]:
    errors = [first]
    names = _files_to_reattach()
    if names:
        errors.append(_t("Your files were not kept either. Please attach them again: {names}.",
                         names=", ".join(names)))
    return errors


def _tip_not_stored(exc: BaseException, state: FormState | None = None) -> tuple[str, int]:
    """The designed 503: the words kept, the files to attach again named, nothing stored."""
    # The exception's type only: its message could quote what was submitted.
    log.error("storing a tip failed (%s); nothing was kept", type(exc).__name__)
    if state is None:
        state = FormState(values={k: request.form.get(k, "") for k in ("message", "contact", "category", "school")})
        state.values["submission"] = _nonce() or secrets.token_urlsafe(24)
    state.errors.extend(_not_stored_errors(_t(
        "We could not save your tip just now, and nothing was stored. Your words are still below: please try "
        "again in a minute. In an emergency call 911.")))
    return render_form(state, 503)


def _followup_not_stored(exc: BaseException) -> tuple[str, int]:
    """The same for coming back with a code: the code and any reply kept for one more press."""
    replying = request.form.get("action") == "reply"
    log.error("%s failed (%s); nothing was kept", "storing a follow-up" if replying else "opening a tip",
              type(exc).__name__)
    first = (_t("We could not save your message just now, and nothing was stored. Please try again in a minute.")
             if replying else
             _t("We could not open your tip just now. Nothing was stored or changed. Please try again in a "
                "minute. In an emergency call 911."))
    values = {"receipt": request.form.get("receipt", "")[:40]}
    if replying:
        values["message"] = request.form.get("message", "")
    state = FormState(values=values, errors=_not_stored_errors(first))
    return render_followup(None, state=state, status=503, submission=_nonce())


@bp.errorhandler(SQLAlchemyError)
def _database_unavailable(exc: SQLAlchemyError) -> tuple[str, int]:
    """Any other database failure on a reporter page still gets the designed 503."""
    _rollback(db.session())
    if request.endpoint == "reporter.followup":
        return _followup_not_stored(exc)
    return _tip_not_stored(exc)


@dataclass
class Opened:
    tip: Tip
    data_key: bytes


def _open_by_code(raw: str) -> Opened | None:
    """Find and open a tip from a receipt code. Every wrong code costs the same work."""
    code = receipts.normalise(raw)
    lookup = receipts.lookup_id(code or DUMMY_CODE, receipts.pepper_from_secret(settings().secret_key))
    private, _ = receipts.reporter_keypair(code or DUMMY_CODE)
    session = db.session()
    tip = session.scalars(select(Tip).where(Tip.lookup_id == lookup)).first()
    if tip is None or code is None:
        return None
    sealed = session.scalars(select(TipKey.sealed).where(TipKey.tip_id == tip.id,
                                                         TipKey.inbox_key_id.is_(None))).first()
    if sealed is None:
        return None
    try:
        return Opened(tip, crypto.open_sealed(private, sealed, intake.reporter_context(tip.id)))
    except crypto.CryptoError:
        return None


def render_followup(opened: Opened | None, code: str = "", state: FormState | None = None,
                    status: int = 200, not_found: bool = False, submission: str | None = None) -> tuple[str, int]:
    ctx: dict[str, Any] = {"state": state or FormState(), "not_found": not_found,
                           "submission": submission or secrets.token_urlsafe(24), **_page_context()}
    if opened is not None:
        tip, key = opened.tip, opened.data_key
        ctx.update(
            code=receipts.format_code(receipts.normalise(code) or ""),
            report=reading.report(tip, key),
            status_words=STATUS_WORDS.get(tip.status, STATUS_WORDS["in_review"]),
            received_at=tip.received_at,
            files=[reading.attachment_meta(a, key) for a in tip.attachments],
            messages=[reading.message(m, key) for m in tip.messages if m.direction in ("reporter", "staff")],
        )
    return render_template("reporter/followup.html", opened=opened is not None, **ctx), status


def _followup_in_language(opened: Opened, raw: str) -> tuple[str, int]:
    """The opened tip in the chosen language, the reply being written kept in its box."""
    state = FormState(values={"message": _text("message", [], "your message")})
    names = _files_to_reattach()
    if names:
        _add(state.errors, _t("Files are not kept when you change the language. Please attach them again: "
                              "{names}.", names=", ".join(names)), "attachment")
    return render_followup(opened, raw, state, submission=_nonce())


def _failed_lookup(response: Any) -> bool:
    return bool(response.status_code == 404)


@bp.get("/followup")
def followup_form() -> tuple[str, int]:
    return render_followup(None)


@bp.post("/followup")
def followup() -> tuple[str, int]:
    switching = _switch_language()
    raw = request.form.get("receipt", "")
    if switching and request.form.get("action") != "reply":
        # The code box in another language, with what was typed in it; nothing is looked up.
        return render_followup(None, state=FormState(values={"receipt": raw[:40]}))
    try:
        opened = _open_by_code(raw)
    except SQLAlchemyError as exc:
        _rollback(db.session())
        return _followup_not_stored(exc)
    if opened is None:
        return render_followup(None, state=FormState(), status=404, not_found=True)
    if request.form.get("action") != "reply":
        return render_followup(opened, raw)
    if switching:
        return _followup_in_language(opened, raw)
    errors: list[str] = Errors()
    text = _text("message", errors, "your message")
    _message_errors(text, errors)
    files = read_files(errors)
    state = FormState(values={"message": text}, errors=errors)
    if errors:
        return render_followup(opened, raw, state, 400)
    session = db.session()
    nonce = _nonce()
    dedupe = (intake.message_dedupe_id(receipts.pepper_from_secret(settings().secret_key), opened.tip.id, nonce,
                                       text) if nonce else None)
    if dedupe and session.scalar(select(Message.id).where(Message.dedupe_id == dedupe)):
        return render_followup(opened, raw, FormState(notice=_t("Thank you. Your message was added to your tip.")))
    pm = current_app.extensions["tipline.pm"]
    try:
        # A follow-up is a tip too: triaged, the team told, a closed tip reopened, police told
        # when the tip went to them; all in this one transaction with the message.
        added = intake.receive_followup(session, pm, settings().district, opened.tip, opened.data_key, text, files,
                                        db.utcnow(), dedupe)
        session.commit()
    except Exception as exc:  # noqa: BLE001 - as above
        _rollback(session)
        # Not the tip's page: drawing it would ask the failing database for its messages.
        return _followup_not_stored(exc)
    log.info("follow-up received tip=%s message=%s notices=%d forwards=%d", opened.tip.id, added.message_id,
             added.notices, len(added.forwards))
    if added.reopened:
        hooks.status_changed(pm, opened.tip.id, "closed", "in_review", "reporter")
    session.refresh(opened.tip)
    return render_followup(opened, raw, FormState(notice=_t("Thank you. Your message was added to your tip.")))


@bp.get("/help")
def help_page() -> tuple[str, int]:
    return render_template("reporter/help.html", **_page_context()), 200


def _too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    s = settings()
    state = FormState(errors=[_t(
        "What you sent was too large for us to receive, so nothing was stored. Files can be up to {mb} MB each, "
        "{files} at most. Please write your message again and attach smaller files (a screenshot is usually "
        "small).", mb=s.max_attachment_bytes // (1024 * 1024), files=s.max_attachments)])
    if request.path.startswith("/followup"):
        return render_followup(None, state=state, status=413)
    return render_form(state, 413)


def _csrf_failed(_exc: CSRFError) -> tuple[str, int]:
    _switch_language()
    notice = _t("This page was open for a long time (or cookies are blocked), so for your safety we need you "
                "to send it again. Your words are kept below; attach any files again, then press Send.")
    if request.path.startswith("/followup"):
        return render_followup(None, state=FormState(errors=[_t("This page had expired. Please enter your "
                                                                "receipt code again.")]), status=400)
    state = FormState(values={k: request.form.get(k, "") for k in ("message", "contact", "category", "school")},
                      errors=[notice])
    state.values["submission"] = _nonce() or secrets.token_urlsafe(24)
    return render_form(state, 400)


BROKEN_BODY = (ParseException, NoMoreData, ClientDisconnected)


def _broken_body(_exc: Exception) -> tuple[str, int]:
    """A malformed or cut-short body, found while the form is read: the words never arrived."""
    text = _t("What you sent arrived broken, so nothing was stored. Please write your message again and press "
              "Send. In an emergency call 911.")
    if request.path.startswith("/followup"):
        return render_followup(None, state=FormState(errors=[text]), status=400)
    return render_form(FormState(errors=[text]), 400)


def init_app(app: Flask, limiter: Limiter) -> None:
    app.register_blueprint(bp)
    # App-wide, so the form's CSRF check (which reads the body first) lands here too; the
    # console's own handler answers for its pages.
    for kind in BROKEN_BODY:
        app.register_error_handler(kind, _broken_body)

    @app.context_processor
    def _language() -> dict[str, Any]:
        lang = current_lang()  # once per page: templates call _() dozens of times

        def translate(text: str, **params: object) -> str:
            return i18n.translate(lang, text, **params)

        return {"_": translate, "lang": lang, "languages": tuple(i18n.NAMES.items())}

    @app.after_request
    def _remember_language(response: Response) -> Response:
        # Only the language, so a family that chose Spanish keeps it on every page.
        chosen = request.args.get("lang") or g.get("lang_switched")
        if chosen in i18n.LANGS:
            # A session cookie: a shared phone keeps no sign of the tip line once the browser closes.
            response.set_cookie("tl_lang", chosen, httponly=True, samesite="Lax", secure=cookies_secure())
        return response
    # Generous per address: a whole class behind one school address may report one incident.
    limit_view(app, "reporter.submit", limiter.limit("120/minute;1000/hour"))
    # Only failed look-ups count, so a class checking real codes is never locked out.
    limit_view(app, "reporter.followup", limiter.limit("10/minute;60/hour;200/day", deduct_when=_failed_lookup))
    for endpoint in ("reporter.receipt_again", "reporter.receipt_file"):
        limit_view(app, endpoint, limiter.limit("10/minute;60/hour;200/day", deduct_when=_failed_lookup))
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(CSRFError, _csrf_failed)

    @app.errorhandler(429)
    def _limited(_exc: Exception) -> tuple[str, int]:
        return render_template("reporter/limited.html", **_page_context()), 429

    @app.errorhandler(404)
    def _not_found(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Page not found",
                               text="There is no page here. You can send a tip from the home page.",
                               **_page_context()), 404

    @app.errorhandler(500)
    def _error(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Something went wrong",
                               text="Something went wrong on our side. If you were sending a tip, please "
                                    "try again. In an emergency call 911.", **_page_context()), 500
