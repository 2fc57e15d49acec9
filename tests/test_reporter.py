"""The reporter's path: form, receipt, follow-up, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import jpeg_with_gps, png, receipt_of, submit, token
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tipline import crypto, intake, keyring, reading, receipts
from tipline.models import Attachment, InboxKey, Message, Tip, TipKey


def count(db: Session, model: type) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_form_page(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<a class="call" href="tel:911">call 911</a>' in html and "Suicide &amp; Crisis Lifeline" in html
    assert 'href="tel:988"' in html and 'href="sms:988"' in html
    for name in ('name="category"', 'name="school"', 'name="message"', 'name="attachment"',
                 'name="contact"', 'name="website"', 'name="csrf_token"'):
        assert name in html
    for code in ("SHS", "BMS", "CMS", "CES", "GFS", "KHS", "LLS", "SES"):
        assert f'value="{code}"' in html
    assert "Not sure / outside school" in html
    assert "10 MB each" in html
    assert "<script" not in html


def open_with_inbox(db: Session, instance: Path, tip: Tip) -> bytes:
    """Open a tip's data key the way staff would: setup token -> admin inbox -> inbox escrow."""
    token_value = keyring.setup_token_path(instance).read_text().strip()
    admin_id, admin_private = keyring.admin_private_from_setup_token(db, token_value)
    for tip_key in tip.keys:
        if tip_key.inbox_key_id is None:
            continue
        key = db.get(InboxKey, tip_key.inbox_key_id)
        assert key is not None
        if key.inbox.key == keyring.ADMIN:
            continue  # prove a team inbox opens it, not only the admins'
        private = keyring.open_escrow(db, key, {admin_id: admin_private})
        return crypto.open_sealed(private, tip_key.sealed,
                                  intake.inbox_context(tip.id, key.inbox.key, key.version))
    raise AssertionError("tip has no team inbox key")


def test_submit_seals_and_opens(client: FlaskClient, db: Session, instance: Path) -> None:
    status, html = submit(client, message="The vending machine on floor 2 eats coins",
                          files=[(png(), "machine.png")], contact="a parent")
    assert status == 200
    code = receipt_of(html)
    assert "Write it down" in html and "What happens next" in html
    tip = db.scalars(select(Tip)).one()
    assert tip.school == "SHS"
    assert tip.received_at.second == 0 and tip.received_at.microsecond == 0
    data_key = open_with_inbox(db, instance, tip)
    opened = reading.report(tip, data_key)
    assert opened.message == "The vending machine on floor 2 eats coins"
    assert opened.contact == "a parent"
    [att] = tip.attachments
    assert reading.attachment_meta(att, data_key).filename == "machine.png"
    assert reading.attachment_content(att, data_key).startswith(b"\x89PNG")
    # The reporter's code opens it too, and nothing else does.
    canonical = receipts.normalise(code)
    assert canonical
    private, _ = receipts.reporter_keypair(canonical)
    reporter_key = next(k for k in tip.keys if k.inbox_key_id is None)
    assert crypto.open_sealed(private, reporter_key.sealed, intake.reporter_context(tip.id)) == data_key
    wrong, _ = receipts.reporter_keypair("0" * 16)
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(wrong, reporter_key.sealed, intake.reporter_context(tip.id))
    with pytest.raises(crypto.CryptoError):
        reading.report(tip, crypto.random_key())


def test_followup_shows_tip_and_accepts_reply(client: FlaskClient, db: Session) -> None:
    _, html = submit(client, message="Lights in the gym are broken")
    code = receipt_of(html)
    page = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": code.lower()})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Lights in the gym are broken" in text and "waiting for a staff member" in text
    reply = client.post("/followup", data={
        "csrf_token": token(client, "/followup"), "receipt": code, "action": "reply",
        "message": "It is the back row of lights", "attachment": [(pytest.importorskip("io").BytesIO(png()),
                                                                     "row.png")]},
        content_type="multipart/form-data")
    text = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "It is the back row of lights" in text and "row.png" in text
    assert count(db, Message) == 1 and count(db, Attachment) == 1


def test_wrong_codes_get_one_answer(client: FlaskClient) -> None:
    submit(client)
    answers = set()
    for attempt in ("AAAA-BBBB-CCCC-DDDD", "not a code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"):
        r = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": attempt})
        assert r.status_code == 404
        body = r.get_data(as_text=True)
        assert "find a tip with that code" in body
        answers.add(body.replace(token(client, "/followup"), ""))
    assert len({a.split('name="csrf_token"')[0] for a in answers}) == 1


def test_receipt_guessing_is_rate_limited(client: FlaskClient) -> None:
    statuses = [client.post("/followup", data={"csrf_token": token(client, "/followup"),
                                               "receipt": f"AAAA-BBBB-CCCC-{i:04d}"}).status_code
                for i in range(12)]
    assert statuses[:10] == [404] * 10
    assert statuses[-1] == 429


def test_whole_class_can_submit_from_one_address(client: FlaskClient, db: Session) -> None:
    for i in range(40):
        status, _ = submit(client, message=f"Fight planned behind the gym, student {i}")
        assert status == 200
    assert count(db, Tip) == 40


def test_honeypot_keeps_text(client: FlaskClient, db: Session) -> None:
    status, html = submit(client, message="real words here", website="http://spam.example")
    assert status == 400 and "real words here" in html and "Leave this empty" in html
    assert count(db, Tip) == 0


@pytest.mark.parametrize("message, expected", [
    ("", "message box is empty"),
    ("   \n ", "message box is empty"),
    ("x" * 10_001, "the limit is 10,000"),
])
def test_bad_message(client: FlaskClient, db: Session, message: str, expected: str) -> None:
    status, html = submit(client, message=message)
    assert status == 400 and expected in html
    if message.strip():
        assert message in html  # kept so they can shorten it
    assert count(db, Tip) == 0


def test_wrong_file_type_keeps_text(client: FlaskClient, db: Session) -> None:
    status, html = submit(client, message="see attached", files=[(b"MZ\x90\x00binary", "run.exe")])
    assert status == 400
    assert "is not a type we accept" in html and "see attached" in html and "attach them again" in html
    assert count(db, Tip) == 0 and count(db, Attachment) == 0


def test_fake_image_refused(client: FlaskClient, db: Session) -> None:
    fake = b"\xff\xd8\xff\xe0" + b"this is not really a jpeg" * 20
    status, html = submit(client, message="photo of it", files=[(fake, "photo.jpg")])
    assert status == 400 and "could not be opened" in html and "photo of it" in html
    assert count(db, Tip) == 0


def test_file_over_per_file_limit_keeps_text(app: Flask, client: FlaskClient, db: Session) -> None:
    big = png() + b"\x00" * (10 * 1024 * 1024)
    status, html = submit(client, message="big photo", files=[(big, "big.png")])
    assert status == 400 and "larger than 10 MB" in html and "big photo" in html
    assert count(db, Tip) == 0


def test_body_over_limit_gets_clear_page(app: Flask, client: FlaskClient, db: Session) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    status, html = submit(client, message="huge", files=[(b"\x89PNG\r\n\x1a\n" + b"0" * limit, "x.png")])
    assert status == 413
    assert "too large for us to receive" in html and "nothing was stored" in html
    assert count(db, Tip) == 0


def test_broken_utf8_keeps_text(client: FlaskClient, db: Session) -> None:
    body = (f"csrf_token={token(client)}&category=other&school=SHS&message=caf%C3%A9+and+broken+%FF%FE+bytes"
            ).encode()
    r = client.post("/", data=body, content_type="application/x-www-form-urlencoded")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "could not be read" in html and "café and broken" in html
    assert count(db, Tip) == 0


def test_expired_csrf_keeps_text(app: Flask, client: FlaskClient, db: Session) -> None:
    csrf = token(client)
    app.config["WTF_CSRF_TIME_LIMIT"] = -1  # every token is now older than the limit
    r = client.post("/", data={"csrf_token": csrf, "message": "please keep my words", "category": "bias",
                               "school": "BMS"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "open for a long time" in html and "please keep my words" in html
    assert 'value="BMS" selected' in html and 'value="bias" checked' in html
    assert count(db, Tip) == 0


def test_missing_csrf_refused(client: FlaskClient, db: Session) -> None:
    r = client.post("/", data={"message": "no token", "category": "other", "school": "SHS"})
    assert r.status_code == 400 and "no token" in r.get_data(as_text=True)
    assert count(db, Tip) == 0


def test_database_failure_stores_nothing(client: FlaskClient, db: Session,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: object, **_k: object) -> None:
        raise OperationalError("INSERT", {}, Exception("disk full"))

    # Fails after the tip row itself was flushed: the rollback must take it away again.
    monkeypatch.setattr(intake, "insert", broken)
    status, html = submit(client, message="do not lose me")
    assert status == 503 and "nothing was stored" in html and "do not lose me" in html
    assert count(db, Tip) == 0 and count(db, TipKey) == 0


def test_unknown_school_refused(client: FlaskClient, db: Session) -> None:
    status, html = submit(client, message="words", school="XYZ")
    assert status == 400 and "choose a school" in html and count(db, Tip) == 0


def test_gps_stripped_from_photos(client: FlaskClient, db: Session, instance: Path) -> None:
    from PIL import Image

    original = jpeg_with_gps()
    with Image.open(__import__("io").BytesIO(original)) as img:
        assert img.getexif().get_ifd(0x8825), "the test photo really carries GPS"
    status, _ = submit(client, message="photo of the note", files=[(original, "IMG_0001.JPG")])
    assert status == 200
    tip = db.scalars(select(Tip)).one()
    data_key = open_with_inbox(db, instance, tip)
    stored = reading.attachment_content(tip.attachments[0], data_key)
    with Image.open(__import__("io").BytesIO(stored)) as img:
        assert img.format == "JPEG"
        assert len(img.getexif()) == 0
        assert "exif" not in img.info
    assert b"SecretPhone" not in stored and b"PhoneMaker" not in stored


def test_reload_or_double_tap_stores_once(client: FlaskClient, db: Session) -> None:
    html = client.get("/").get_data(as_text=True)
    import re

    nonce = re.search(r'name="submission" value="([^"]+)"', html)
    assert nonce
    data = {"csrf_token": token(client), "submission": nonce.group(1), "message": "Fight planned at 3pm behind gym",
            "category": "threat", "school": "SHS"}
    first = client.post("/", data=data)
    again = client.post("/", data=data)  # a reload of the receipt page re-posts the form
    assert first.status_code == again.status_code == 200
    assert receipt_of(first.get_data(as_text=True)) == receipt_of(again.get_data(as_text=True))
    assert count(db, Tip) == 1
    # Different words from the same (stale) form are a new tip, never dropped.
    other = client.post("/", data={**data, "message": "And the gym door is propped open"})
    assert receipt_of(other.get_data(as_text=True)) != receipt_of(first.get_data(as_text=True))
    assert count(db, Tip) == 2


def test_followup_reply_reload_stores_once(client: FlaskClient, db: Session) -> None:
    _, html = submit(client)
    code = receipt_of(html)
    data = {"csrf_token": token(client, "/followup"), "receipt": code, "action": "reply",
            "message": "one more detail", "submission": "n" * 32}
    assert client.post("/followup", data=data).status_code == 200
    assert client.post("/followup", data=data).status_code == 200
    assert count(db, Message) == 1


def test_followup_errors_do_not_say_tip_unsent(client: FlaskClient) -> None:
    _, html = submit(client)
    page = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": receipt_of(html),
                                          "action": "reply", "message": "  "})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "message box is empty" in text
    assert "Your tip has not been sent yet" not in text and "Your message has not been sent yet" in text


def test_huge_picture_dimensions_refused(client: FlaskClient, db: Session) -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")  # small file, huge canvas
    assert len(out.getvalue()) < 2 * 1024 * 1024
    status, html = submit(client, message="big canvas", files=[(out.getvalue(), "canvas.png")])
    assert status == 400 and "too large a picture" in html and "big canvas" in html
    assert count(db, Tip) == 0


def test_large_urlencoded_body_refused(client: FlaskClient, db: Session) -> None:
    body = f"csrf_token={token(client)}&message=" + "a" * (200 * 1024)
    r = client.post("/", data=body.encode(), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and "too large" in r.get_data(as_text=True)
    assert count(db, Tip) == 0


def test_spanish_pages(client: FlaskClient, db: Session) -> None:
    page = client.get("/?lang=es")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="es">' in html
    assert "Cuéntenos qué está pasando" in html and "En una emergencia" in html and "llame al 911" in html
    assert "tl_lang=es" in page.headers.get("Set-Cookie", "")
    # The choice sticks (cookie) and carries through a submission and its errors.
    status, html = submit(client, message="", lang="es")
    assert status == 400 and "el cuadro del mensaje está vacío" in html
    status, html = submit(client, message="un niño dijo que va a traer un cuchillo", files=[(b"MZ", "x.exe")],
                          lang="es")
    assert status == 400 and "no es un tipo de archivo que aceptemos" in html
    status, html = submit(client, message="un niño dijo que va a traer un cuchillo mañana", lang="es")
    assert status == 200 and "Gracias. Recibimos su aviso." in html
    code = receipt_of(html)
    opened = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": code})
    assert "Su aviso" in opened.get_data(as_text=True) and "Estado:" in opened.get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Tell us what" in english and '<html lang="en">' in english
    assert count(db, Tip) == 1


def test_every_spanish_string_is_used() -> None:
    """A catalogue entry whose English no longer appears anywhere is a stale translation."""
    from pathlib import Path

    from tipline import i18n

    root = Path(__file__).resolve().parent.parent
    sources = "".join(p.read_text() for p in [*root.glob("templates/**/*.html"), *root.glob("tipline/*.py")]
                      if p.name != "i18n.py")
    flat = " ".join(sources.split()).replace('" "', "").replace("\" \"", "")
    missing = [k for k in i18n.ES if k not in flat and k.split("{")[0][:40] not in flat]
    assert missing == []


def test_no_file_notice_when_no_file_was_chosen(client: FlaskClient) -> None:
    # A browser sends an empty file part when nothing was chosen.
    status, html = submit(client, message="", files=[(b"", "")])
    assert status == 400 and "message box is empty" in html
    assert "attach them again" not in html
