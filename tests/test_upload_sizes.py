"""Files the sizes phones make reach the tip line whole, however the body arrives, and never touch the disk."""

from __future__ import annotations

import http.client
import io
import os
import random
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import photos
import pytest
from browser_support import serve
from flask import Flask
from flask.testing import FlaskClient
from helpers import receipt_of, submit, token
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_reporter import open_with_inbox

from tipline import reading
from tipline.models import Attachment, Message, Tip

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def count(db: Session, model: type) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def stored_files(db: Session, instance: Path) -> dict[str, bytes]:
    db.expire_all()
    tip = db.scalars(select(Tip)).one()
    key = open_with_inbox(db, instance, tip)
    return {reading.attachment_meta(a, key).filename: reading.attachment_content(a, key) for a in tip.attachments}


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes, str]],
              boundary: str = "") -> tuple[bytes, str]:
    """The body a browser sends: text fields, then the file inputs."""
    boundary = boundary or "----WebKitFormBoundary" + uuid.uuid4().hex[:16]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields]
    for name, data, ctype in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="{name}"\r\n'
                     f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ----- Defect: phone photos were refused as "too large" -------------------------------------------------

def test_camera_photo_and_screenshot_are_accepted(client: FlaskClient, db: Session, instance: Path) -> None:
    jpeg, shot = photos.camera_jpeg(), photos.screenshot_png()
    assert 3_500_000 < len(jpeg) < 5_500_000 and 1_000_000 < len(shot) < 2_000_000
    status, html = submit(client, message="photo of the note and the chat",
                          files=[(jpeg, "IMG_2041.JPG"), (shot, "Screenshot.png")])
    assert status == 200, html
    files = stored_files(db, instance)
    assert sorted(files) == ["IMG_2041.jpg", "Screenshot.png"]
    with Image.open(io.BytesIO(files["IMG_2041.jpg"])) as img:
        assert img.size == (1920, 2560), "turned upright and stored at the photo size"
        assert not img.getexif()
    with Image.open(io.BytesIO(files["Screenshot.png"])) as img:
        assert img.size == photos.SCREEN_SIZE, "a screenshot keeps every pixel"


def test_two_small_images_are_accepted(client: FlaskClient, db: Session) -> None:
    status, html = submit(client, message="two pictures from the chat",
                          files=[(photos.small_photo(1), "a.jpg"), (photos.small_photo(2), "b.jpg")])
    assert status == 200, html
    assert count(db, Attachment) == 2


def test_five_files_at_the_limit_on_the_form_and_a_followup(app: Flask, client: FlaskClient,
                                                            db: Session) -> None:
    settings = app.extensions["tipline.settings"]
    big = photos.camera_jpeg_near_limit()
    assert 0.85 * settings.max_attachment_bytes < len(big) <= settings.max_attachment_bytes
    five = [(big, f"IMG_{n}.JPG") for n in range(settings.max_attachments)]
    status, html = submit(client, message="all the photos I have", files=five)
    assert status == 200, html
    code = receipt_of(html)
    data: dict[str, Any] = {"csrf_token": token(client, "/followup"), "receipt": code, "action": "reply",
                            "message": "five more from this morning",
                            "attachment": [(io.BytesIO(d), n) for d, n in five]}
    reply = client.post("/followup", data=data, content_type="multipart/form-data")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert "Your message was added" in reply.get_data(as_text=True)
    assert count(db, Attachment) == 10 and count(db, Message) >= 1


def test_text_fields_are_still_held_to_their_limit(client: FlaskClient, db: Session) -> None:
    body, ctype = multipart([("csrf_token", token(client)), ("message", "x" * (100 * 1024))], [])
    r = client.post("/", data=body, content_type=ctype)
    assert r.status_code == 413 and "too large for us to receive" in r.get_data(as_text=True)
    assert count(db, Tip) == 0


def test_a_boundary_longer_than_the_rfc_allows_still_parses(client: FlaskClient, db: Session) -> None:
    """Some clients (Werkzeug's test client among them) use boundaries over 70 characters."""
    body, ctype = multipart([("csrf_token", token(client)), ("category", "other"), ("school", "SHS"),
                             ("message", "long boundary")], [("a.jpg", photos.small_photo(1), "image/jpeg")],
                            boundary="-" * 20 + "x" * 100)
    r = client.post("/", data=body, content_type=ctype)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert count(db, Attachment) == 1


def _chunks(data: bytes, rng: random.Random, sizes: tuple[int, int]) -> Iterator[bytes]:
    pos = 0
    while pos < len(data):
        n = rng.randint(*sizes)
        yield data[pos:pos + n]
        pos += n


def _post_raw(port: int, path: str, headers: dict[str, str], pieces: Iterable[bytes], chunked: bool) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("POST", path)
        for k, v in headers.items():
            conn.putheader(k, v)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for piece in pieces:
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.parametrize(("chunked", "sizes"), [
    (False, (1, 70_000)), (True, (1, 3_000)), (True, (60_000, 140_000)),
], ids=["content-length, uneven sends", "chunked, small chunks", "chunked, chunks over 64 KB"])
def test_any_chunking_is_accepted(app: Flask, db: Session, chunked: bool, sizes: tuple[int, int]) -> None:
    with serve(app) as base:
        port = int(base.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/")
        page = conn.getresponse()
        html = page.read().decode()
        cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
        conn.close()
        match = CSRF.search(html)
        assert match
        body, ctype = multipart(
            [("csrf_token", match.group(1)), ("category", "other"), ("school", "SHS"),
             ("message", "the photos, sent in pieces")],
            [("a.jpg", photos.small_photo(1), "image/jpeg"), ("b.jpg", photos.small_photo(2), "image/jpeg"),
             ("IMG_2041.JPG", photos.camera_jpeg(), "image/jpeg")])
        headers = {"Content-Type": ctype, "Cookie": cookie}
        if not chunked:
            headers["Content-Length"] = str(len(body))
        status, text = _post_raw(port, "/", headers, _chunks(body, random.Random(7), sizes), chunked)
    assert status == 200, text
    assert receipt_of(text)
    assert count(db, Attachment) == 3


# ----- Defect: uploads over 500 KB were spooled to disk before sealing --------------------------------

class WatchedInput(io.BytesIO):
    """The request body; every read notes the files this process has open under ``folder``."""

    def __init__(self, data: bytes, folder: Path, seen: set[str]) -> None:
        super().__init__(data)
        self.folder, self.seen = str(folder), seen

    def _look(self) -> None:
        for fd in os.listdir("/proc/self/fd"):
            with_target = f"/proc/self/fd/{fd}"
            try:
                target = os.readlink(with_target)
            except OSError:
                continue
            if target.startswith(self.folder):
                self.seen.add(target)

    def read(self, size: int | None = -1, /) -> bytes:
        self._look()
        return super().read(size)

    def readinto(self, buffer: Any, /) -> int:
        self._look()
        return super().readinto(buffer)


def test_uploads_never_touch_the_disk(app: Flask, client: FlaskClient, db: Session, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    seen: set[str] = set()
    inner: Callable[..., Any] = app.wsgi_app

    def watching(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "POST":
            environ["wsgi.input"] = WatchedInput(environ["wsgi.input"].read(), spool, seen)
        return inner(environ, start_response)

    body, ctype = multipart([("csrf_token", token(client)), ("category", "other"), ("school", "SHS"),
                             ("message", "the photo, kept off the disk")],
                            [("IMG_2041.JPG", photos.camera_jpeg(), "image/jpeg"),
                             ("Screenshot.png", photos.screenshot_png(), "image/png")])
    monkeypatch.setattr(app, "wsgi_app", watching)
    r = client.post("/", data=body, content_type=ctype)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert count(db, Attachment) == 2
    assert seen == set(), f"files were opened in the temporary folder while the upload was read: {seen}"
    assert list(spool.iterdir()) == []
