"""Console input that used to end in a 500 gets a clear 4xx; assignment and "duplicate of"
accept only what the member may use."""

from __future__ import annotations

import base64
import json
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from browser_support import serve
from console_support import Member, create_member, login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from helpers import png, submit
from servers import served_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.models import Message, Staff, StepRecord, Tip

THREAT_SHS = "a boy in 10th grade said he will bring a knife to school friday and stab kevin"
BULLY = "girls keep making fake accounts to message my daughter that everyone hates her"
NAME = "学校のスクリーンショット 😢.png"


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def admin(client: FlaskClient, instance: Path) -> Member:
    return setup_admin(client, instance)


def only_tip(db: Session) -> Tip:
    db.expire_all()
    return db.scalars(select(Tip)).one()


def test_file_with_a_non_latin1_name_downloads(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    status, _ = submit(app.test_client(), message=BULLY, files=[(png(), NAME)])
    assert status == 200
    tip = only_tip(db)
    assert login(client, admin) == 302
    cookie = client.get_cookie("tl_staff", path="/console")
    assert cookie is not None
    with serve(app) as base:  # a real server: it must write the header as Latin-1 bytes
        request = urllib.request.Request(f"{base}/console/tips/{tip.id}/files/{tip.attachments[0].id}",
                                         headers={"Cookie": f"tl_staff={cookie.value}"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200
            body = response.read()
            disposition = response.headers["Content-Disposition"]
    assert body.startswith(b"\x89PNG")
    disposition.encode("latin-1")
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition)
    assert extended and unquote(extended.group(1)) == NAME  # RFC 5987 filename*, preferred by browsers
    assert 'filename="' in disposition and disposition.split('filename="')[1].split('"')[0].endswith(".png")


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize("after", [
    "not-a-cursor", "%%%", "w6k=", cursor([1, 2]), cursor({"a": 1}), cursor([1, "yesterday", "x"]),
    cursor([10**30, "2026-01-01T00:00:00+00:00", "abc"]), cursor([1, "2026-01-01T00:00:00", "abc"]),
    cursor([1, "2026-01-01T00:00:00+00:00", 5]), cursor([True, "2026-01-01T00:00:00+00:00", "abc"]),
])
def test_malformed_after_is_a_clear_400(client: FlaskClient, admin: Member, after: str) -> None:
    login(client, admin)
    r = client.get("/console/", query_string={"after": after})
    assert r.status_code == 400 and "page link is broken" in r.get_data(as_text=True)


@pytest.mark.parametrize("before", ["abc", "-1", "1.5", "99999999999999999999999999", "٣"])
def test_malformed_before_is_a_clear_400(client: FlaskClient, admin: Member, before: str) -> None:
    login(client, admin)
    r = client.get("/console/audit", query_string={"before": before})
    assert r.status_code == 400 and "page link is broken" in r.get_data(as_text=True)
    assert client.get("/console/audit", query_string={"before": "5"}).status_code == 200


def test_a_good_cursor_still_pages(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    from tipline.console.tips import _cursor

    submit(app.test_client(), message=BULLY)
    login(client, admin)
    r = client.get("/console/", query_string={"after": _cursor(only_tip(db))})
    assert r.status_code == 200


def test_nul_in_any_console_text_field_is_a_clear_400(app: Flask, client: FlaskClient, admin: Member,
                                                      db: Session) -> None:
    submit(app.test_client(), message=THREAT_SHS, category="threat")
    tip = only_tip(db)
    nul_login = app.test_client().post("/console/login", data={"email": "admin\x00@westport.example.org",
                                                               "password": "x", "code": "1"})
    assert nul_login.status_code == 400 and "NUL" in nul_login.get_data(as_text=True)
    recover = app.test_client().post("/console/recover", data={"email": "a@b", "recovery": "\x00", "code": "1",
                                                               "password": "long enough password",
                                                               "password2": "long enough password"})
    assert recover.status_code == 400 and "NUL" in recover.get_data(as_text=True)
    login(client, admin)
    wf = app.extensions["tipline.workflows"]["threat"]
    step = next(s for s in wf.steps if any(r.kind == "text" for r in s.records))
    text_field = next(r for r in step.records if r.kind == "text")
    attempts = [
        ("post", f"/console/tips/{tip.id}/note", {"text": "check\x00 this"}),
        ("post", f"/console/tips/{tip.id}/reply", {"text": "which\x00 period?"}),
        ("post", f"/console/tips/{tip.id}/steps/threat/{step.key}", {f"r_{text_field.key}": "said\x00 it"}),
        ("post", f"/console/tips/{tip.id}/status", {"status": "closed", "outcome": "duplicate",
                                                    "duplicate_of": "ab\x00cd"}),
        ("post", f"/console/tips/{tip.id}/assign", {"staff_id": "1\x00"}),
        ("get", "/console/", {"school": "SHS\x00"}),
        ("get", "/console/", {"from": "2026-01-01\x00"}),
        ("get", f"/console/tips/{tip.id}\x00", {}),
        ("post", "/console/team/invite", {"email": "x\x00@westport.example.org", "role": "deib", "school": "SHS"}),
    ]
    for method, path, data in attempts:
        r = client.post(path, data=data) if method == "post" else client.get(path, query_string=data)
        assert r.status_code == 400, (path, data, r.status_code)
        assert "NUL" in r.get_data(as_text=True), path
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Message)) == 0
    assert db.scalar(select(func.count()).select_from(StepRecord)) == 0
    assert only_tip(db).status == "new"


def _raw_post(port: int, path: str, body: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n".encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_malformed_chunked_bodies_get_a_400_from_the_served_app(tmp_path: Path) -> None:
    """The server the README runs: gunicorn finds the broken chunk while the form is read."""
    with served_app(tmp_path) as (port, log_path):
        for path in ("/console/login", "/console/recover"):
            for body in (b"zz\r\nemail=a\r\n0\r\n\r\n", b"5\r\nemail=abcdef\r\n0\r\n\r\n",
                         b"40\r\nemail=a", b"3;x=\"\r\nabc\r\n0\r\n\r\n"):
                answer = _raw_post(port, path, body)
                status_line = answer.split(b"\r\n", 1)[0]
                assert status_line.startswith(b"HTTP/1.1 400"), (path, body, answer[:300])
                assert b"could not be read" in answer, answer[:300]
    assert b"ERROR in app" not in log_path.read_bytes()


def test_assignment_only_to_members_who_can_open_the_tip(app: Flask, client: FlaskClient, admin: Member,
                                                        db: Session) -> None:
    submit(app.test_client(), message=THREAT_SHS, school="SHS", category="threat")
    tip = only_tip(db)
    assert "threat" in tip.workflow_keys
    create_member(app, db, "threat.bms@westport.example.org", "threat-team", "BMS", admin)
    create_member(app, db, "deib.shs@westport.example.org", "deib", "SHS", admin)
    create_member(app, db, "threat.nokey@westport.example.org", "threat-team", "SHS")  # no grant yet
    create_member(app, db, "threat.shs@westport.example.org", "threat-team", "SHS", admin)
    create_member(app, db, "analyst@westport.example.org", "analyst", None, admin)
    ids = {m.email: m.id for m in db.scalars(select(Staff))}
    login(client, admin)
    page = client.get(f"/console/tips/{tip.id}").get_data(as_text=True)
    assert "threat.shs@westport.example.org" in page
    for refused in ("threat.bms@westport.example.org", "deib.shs@westport.example.org",
                    "threat.nokey@westport.example.org", "analyst@westport.example.org"):
        assert refused not in page
        r = client.post(f"/console/tips/{tip.id}/assign", data={"staff_id": str(ids[refused])})
        assert r.status_code == 400 and "can open this tip" in r.get_data(as_text=True), refused
    for bad in ("999999", "abc", "99999999999999999999999"):
        assert client.post(f"/console/tips/{tip.id}/assign", data={"staff_id": bad}).status_code == 400
    db.expire_all()
    assert only_tip(db).assigned_to is None
    ok = client.post(f"/console/tips/{tip.id}/assign", data={"staff_id": str(ids["threat.shs@westport.example.org"])})
    assert ok.status_code == 302
    assert only_tip(db).assigned_to == ids["threat.shs@westport.example.org"]
    assert client.post(f"/console/tips/{tip.id}/assign", data={"staff_id": str(ids[admin.email])}).status_code == 302
    assert client.post(f"/console/tips/{tip.id}/assign", data={"staff_id": ""}).status_code == 302  # unassign
    assert only_tip(db).assigned_to is None


def test_duplicate_of_only_a_tip_the_member_can_open(app: Flask, client: FlaskClient, admin: Member,
                                                     db: Session) -> None:
    reporter = app.test_client()
    app.extensions["tipline.limiter"].enabled = False
    submit(reporter, message=BULLY, school="SHS")
    submit(reporter, message=BULLY + " again", school="SHS")
    submit(reporter, message=THREAT_SHS, school="SHS", category="threat")
    submit(reporter, message=BULLY, school="BMS")
    db.expire_all()
    tips = list(db.scalars(select(Tip)))
    bullying_shs = sorted(t.id for t in tips if t.school == "SHS" and "threat" not in t.workflow_keys
                          and "cyberbullying" in t.workflow_keys)
    assert len(bullying_shs) == 2
    threat = next(t.id for t in tips if "threat" in t.workflow_keys)
    other_school = next(t.id for t in tips if t.school == "BMS")
    counselor = create_member(app, db, "counselor.shs@westport.example.org", "counselor", "SHS", admin)
    c = app.test_client()
    assert login(c, counselor) == 302
    target, original = bullying_shs
    assert c.get(f"/console/tips/{target}").status_code == 200
    assert c.get(f"/console/tips/{threat}").status_code == 403
    for refused in (threat, other_school, target, "0" * 32, "x" * 200):
        r = c.post(f"/console/tips/{target}/status", data={"status": "closed", "outcome": "duplicate",
                                                           "duplicate_of": refused})
        assert r.status_code == 400 and "tip you can open" in r.get_data(as_text=True), refused
    db.expire_all()
    assert db.get(Tip, target).outcome is None  # type: ignore[union-attr]
    ok = c.post(f"/console/tips/{target}/status", data={"status": "closed", "outcome": "duplicate",
                                                        "duplicate_of": original})
    assert ok.status_code == 302
    db.expire_all()
    assert db.get(Tip, target).duplicate_of == original  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["/console/login", "/console/recover"])
def test_a_head_request_is_not_a_sign_in_attempt(client: FlaskClient, db: Session, path: str) -> None:
    """Link checkers and monitors send HEAD: it must neither fail a sign-in nor fill the audit log."""
    from tipline.models import AuditEntry

    before = db.scalar(select(func.count()).select_from(AuditEntry))
    for _ in range(3):
        assert client.head(path).status_code == 200
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == before
