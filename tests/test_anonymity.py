"""No plaintext, address, user agent or referrer reaches the database, the logs or instance/."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import png, receipt_of, submit, token
from sqlalchemy import text
from sqlalchemy.orm import Session

from tipline.orm import Base

MARKER = "Purple-Walrus-Secret-7741 lives under the bleachers"
AGENT = "Mozilla/5.0 (Tipline-Test-Agent-QX93)"
ADDRESS = "203.0.113.177"
REFERRER = "https://referrer.example/secret-page-KL55"
NEEDLES = [MARKER, "Purple-Walrus", "QX93", ADDRESS, "secret-page-KL55"]


def needles_in(blob: bytes) -> list[str]:
    found = []
    for needle in NEEDLES:
        raw = needle.encode()
        if raw in blob or raw.hex().encode() in blob.lower():
            found.append(needle)
    return found


def dump_database(db: Session) -> bytes:
    """Every value of every row of every table, as bytes."""
    parts: list[bytes] = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(table.select()):
            for value in row:
                parts.append(value if isinstance(value, bytes) else str(value).encode())
    if db.bind is not None and db.bind.dialect.name == "postgresql":
        # The server's own text form of each row catches anything the ORM would hide.
        for table in Base.metadata.sorted_tables:
            query = text(f'SELECT CAST(t AS text) FROM "{table.name}" t')  # noqa: S608 (our own table names)
            for (row_text,) in db.execute(query):
                parts.append(str(row_text).encode())
    return b"\n".join(parts)


def test_nothing_identifying_is_stored_or_logged(app: Flask, client: FlaskClient, db: Session,
                                                  instance: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"User-Agent": AGENT, "X-Forwarded-For": ADDRESS, "X-Real-IP": ADDRESS, "Referer": REFERRER,
               "Forwarded": f"for={ADDRESS}"}
    environ = {"REMOTE_ADDR": ADDRESS}
    status, html = submit(client, message=MARKER, files=[(png(), "Purple-Walrus.png")], headers=headers,
                          environ=environ, contact="")
    assert status == 200
    code = receipt_of(html)
    reply = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": code,
                                           "action": "reply", "message": MARKER + " again"},
                        headers=headers, environ_base=environ)
    assert reply.status_code == 200 and MARKER in reply.get_data(as_text=True)
    # A wrong guess must not be logged with an address either.
    client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": "AAAA"},
                headers=headers, environ_base=environ)

    db.expire_all()
    dumped = dump_database(db)
    assert len(dumped) > 1000, "the dump really read the tables"
    assert needles_in(dumped) == []
    logged = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert "tip received" in logged.decode(), "the app does log, just not the secrets"
    assert needles_in(logged) == []
    app.extensions["tipline.engine"].dispose()  # flush SQLite's WAL into the file
    for path in instance.rglob("*"):
        if path.is_file():
            assert needles_in(path.read_bytes()) == [], path
    if app.extensions["tipline.settings"].database_url.startswith("sqlite"):
        db_file = Path(app.extensions["tipline.settings"].database_url.removeprefix("sqlite:///"))
        for path in db_file.parent.glob(db_file.name + "*"):
            assert needles_in(path.read_bytes()) == [], path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_served_access_log_has_no_address_or_agent(tmp_path: Path) -> None:
    """Run the real server the README tells people to run and read its log."""
    root = Path(__file__).resolve().parent.parent
    bindir = Path(sys.executable).parent
    env = {**os.environ, "TIPLINE_INSTANCE": str(tmp_path / "instance"), "PORT": str(_free_port()),
           "WEB_CONCURRENCY": "1"}
    env.pop("TIPLINE_DATABASE_URL", None)
    subprocess.run([str(bindir / "tipline"), "init"], cwd=root, env=env, check=True, capture_output=True)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([str(bindir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=root,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{env['PORT']}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/help", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise AssertionError(log_path.read_text()) from None
                    time.sleep(0.05)  # polling readiness, not waiting for a fixed time
            req = urllib.request.Request(base + "/?from=Purple-Walrus", headers={
                "User-Agent": AGENT, "X-Forwarded-For": ADDRESS, "Referer": REFERRER})
            assert urllib.request.urlopen(req, timeout=5).status == 200
            assert urllib.request.urlopen(base + "/console/login", timeout=5).status == 200
        finally:
            server.terminate()
            server.wait(timeout=20)
    logged = log_path.read_bytes()
    assert b'"GET /console/login" 200' in logged, "the access log is written"
    assert b'"GET /"' not in logged, "reporter requests are not logged at all (tests/test_ops.py)"
    assert needles_in(logged) == []
    assert b"127.0.0.1 -" not in logged


def test_unexpected_errors_are_logged_without_their_message(app: Flask, client: FlaskClient,
                                                            caplog: pytest.LogCaptureFixture,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tipline import reading

    _, html = submit(client, message=MARKER)
    code = receipt_of(html)

    def explode(*_a: object, **_k: object) -> None:
        raise ValueError(f"could not handle {MARKER}")

    monkeypatch.setattr(reading, "report", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as in production, not as a test client
    caplog.set_level(logging.DEBUG)
    r = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": code})
    assert r.status_code == 500 and "Something went wrong" in r.get_data(as_text=True)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "ValueError" in logged and "reporter.py" in logged
    assert needles_in(logged.encode()) == []
