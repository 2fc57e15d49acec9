"""The staff console: sign-in, scope by school and workflow (queries and keys), messages,
workflow steps, grants, rotation, recovery, and what a stolen copy can read."""

from __future__ import annotations

import contextlib
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from console_support import PASSWORD, Member, create_member, forget_used_codes, login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from helpers import receipt_of, submit, token
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tipline import access, audit, crypto, intake, keyring, staff
from tipline.models import AuditEntry, InboxKey, Staff, StaffSession, StepRecord, Tip, TipKey
from tipline.orm import utcnow

THREAT_SHS = "a boy in 10th grade said he will bring a knife to school friday and stab kevin"
BULLY_SHS = "girls keep making fake accounts to message my daughter that everyone hates her"


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def admin(client: FlaskClient, instance: Path) -> Member:
    return setup_admin(client, instance)


def tip_id(db: Session, needle_workflow: str) -> str:
    db.expire_all()
    for tip in db.scalars(select(Tip)):
        if needle_workflow in tip.workflow_keys:
            return tip.id
    raise AssertionError(f"no {needle_workflow} tip")


def actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_setup_link_is_one_time(app: Flask, client: FlaskClient, instance: Path, db: Session) -> None:
    token_value = keyring.setup_token_path(instance).read_text().strip()
    assert client.get(f"/console/setup/{token_value}x").status_code == 404
    setup_admin(client, instance)
    assert not keyring.setup_token_path(instance).exists()
    assert client.get(f"/console/setup/{token_value}").status_code == 404
    assert keyring.current_key(db, keyring.ADMIN).escrow is None
    assert "setup_completed" in actions(db)


def test_login_needs_password_and_fresh_totp(client: FlaskClient, admin: Member, db: Session) -> None:
    r = client.post("/console/login", data={"email": admin.email, "password": PASSWORD, "code": "000000"})
    assert r.status_code == 401 and "not right" in r.get_data(as_text=True)
    r = client.post("/console/login", data={"email": admin.email, "password": "wrong password!!",
                                            "code": admin.code()})
    assert r.status_code == 401
    code = admin.code()
    forget_used_codes(client.application, admin.email)
    assert client.post("/console/login", data={"email": admin.email, "password": PASSWORD,
                                               "code": code}).status_code == 302
    client.post("/console/logout")
    # The same code again is refused even with the right password.
    assert client.post("/console/login", data={"email": admin.email, "password": PASSWORD,
                                               "code": code}).status_code == 401
    assert actions(db).count("login_failed") == 3


def test_idle_expiry_and_logout_delete_the_key_session(client: FlaskClient, admin: Member, db: Session) -> None:
    assert login(client, admin) == 302
    assert client.get("/console/").status_code == 200
    db.execute(update(StaffSession).values(last_seen=utcnow() - timedelta(minutes=31)))
    db.commit()
    r = client.get("/console/")
    assert r.status_code == 302 and "expired=1" in r.headers["Location"]
    assert "30 idle minutes" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 0
    assert login(client, admin) == 302
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 1
    client.post("/console/logout")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 0
    assert client.get("/console/").status_code == 302


def test_staff_read_tip_reply_and_reporter_answers(app: Flask, client: FlaskClient, admin: Member,
                                                   db: Session) -> None:
    reporter = app.test_client()
    _, html = submit(reporter, message=THREAT_SHS, school="SHS", category="threat")
    code = receipt_of(html)
    tid = tip_id(db, "threat")
    assert login(client, admin) == 302
    listing = client.get("/console/").get_data(as_text=True)
    assert tid in listing and "stab" not in listing  # the list never decrypts
    page = client.get(f"/console/tips/{tid}").get_data(as_text=True)
    assert THREAT_SHS in page and "Threat assessment (CSTAG)" in page
    client.post(f"/console/tips/{tid}/reply", data={"text": "Which period did he say this in?"})
    client.post(f"/console/tips/{tid}/note", data={"text": "private: check with the SRO"})
    seen = reporter.post("/followup", data={"receipt": code}).get_data(as_text=True)
    assert "Which period did he say this in?" in seen
    assert "check with the SRO" not in seen  # notes stay with staff
    reporter.post("/followup", data={"receipt": code, "action": "reply", "message": "third period, in math"})
    page = client.get(f"/console/tips/{tid}").get_data(as_text=True)
    assert "third period, in math" in page and "private: check with the SRO" in page
    done = actions(db)
    for expected in ("login", "view_list", "view_tip", "decrypt", "message_sent", "note_added"):
        assert expected in done
    assert audit.verify(db).ok


def test_cstag_step_records(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    submit(app.test_client(), message=THREAT_SHS, school="SHS", category="threat")
    tid = tip_id(db, "threat")
    login(client, admin)
    wf = app.extensions["tipline.workflows"]["threat"]
    step = next(s for s in wf.steps if any(r.kind == "choice" for r in s.records))
    choice = next(r for r in step.records if r.kind == "choice")
    form = {f"r_{choice.key}": choice.options[0], "done": "1"}
    texts = [r for r in step.records if r.kind == "text"]
    if texts:
        form[f"r_{texts[0].key}"] = "interviewed two witnesses"
    r = client.post(f"/console/tips/{tid}/steps/threat/{step.key}", data=form)
    assert r.status_code == 302
    row = db.scalars(select(StepRecord)).one()
    assert row.done and row.choices[choice.key] == choice.options[0]
    if texts:
        assert b"interviewed" not in (row.sealed_text or b"")
        assert "interviewed two witnesses" in client.get(f"/console/tips/{tid}").get_data(as_text=True)
    bad = client.post(f"/console/tips/{tid}/steps/threat/{step.key}", data={f"r_{choice.key}": "made up"})
    assert bad.status_code == 302
    db.expire_all()
    assert db.scalars(select(StepRecord)).one().choices[choice.key] == ""
    assert "step_recorded" in actions(db)


def test_status_outcome_and_duplicate(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    reporter = app.test_client()
    submit(reporter, message=BULLY_SHS, school="SHS")
    submit(reporter, message=BULLY_SHS + " again", school="SHS")
    first, second = sorted(t.id for t in db.scalars(select(Tip)))
    login(client, admin)
    assert client.post(f"/console/tips/{second}/status", data={"status": "closed", "outcome": "duplicate",
                                                               "duplicate_of": "nope"}).status_code == 400
    r = client.post(f"/console/tips/{second}/status", data={"status": "closed", "outcome": "duplicate",
                                                            "duplicate_of": first})
    assert r.status_code == 302
    db.expire_all()
    tip = db.get(Tip, second)
    assert tip is not None and tip.status == "closed" and tip.outcome == "duplicate" and tip.closed_at
    assert tip.duplicate_of == first
    assert {"status_changed", "outcome_changed"} <= set(actions(db))


def test_scope_by_school_and_workflow(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    reporter = app.test_client()
    submit(reporter, message=THREAT_SHS, school="SHS", category="threat")
    threat = tip_id(db, "threat")
    other_school = create_member(app, db, "threat.bms@westport.example.org", "threat-team", "BMS", admin)
    other_workflow = create_member(app, db, "deib.shs@westport.example.org", "deib", "SHS", admin)
    right = create_member(app, db, "threat.shs@westport.example.org", "threat-team", "SHS", admin)
    analyst = create_member(app, db, "analyst@westport.example.org", "analyst", None, admin)
    for member, expected in ((other_school, 403), (other_workflow, 403), (analyst, 403), (right, 200)):
        c = app.test_client()
        assert login(c, member) == 302
        assert c.get(f"/console/tips/{threat}").status_code == expected, member.email
        listing = c.get("/console/", follow_redirects=True).get_data(as_text=True)
        assert (threat in listing) == (expected == 200)
    assert "view_denied" in actions(db)
    # The keys say the same as the queries: their own keys cannot open the tip, even offline.
    tip = db.get(Tip, threat)
    assert tip is not None
    for member in (other_school, other_workflow):
        row = db.scalars(select(Staff).where(Staff.email == member.email)).one()
        chain = access.Keychain(row, staff.personal_private(row, member.password))
        assert chain.data_key(db, tip) is None
        privates = chain.inbox_privates(db)
        assert privates, "they do hold keys, just not this tip's"
        for tip_key in tip.keys:
            for private in privates.values():
                with pytest.raises(crypto.CryptoError):
                    crypto.open_sealed(private, tip_key.sealed, "any")
    row = db.scalars(select(Staff).where(Staff.email == right.email)).one()
    assert access.Keychain(row, staff.personal_private(row, right.password)).data_key(db, tip) is not None


def test_copy_of_database_and_instance_opens_nothing(app: Flask, client: FlaskClient, admin: Member,
                                                      db: Session, instance: Path, tmp_path: Path) -> None:
    reporter = app.test_client()
    submit(reporter, message=THREAT_SHS, school="SHS", category="threat")
    submit(reporter, message=BULLY_SHS, school="SHS")
    login(client, admin)  # a live session exists while the copy is taken
    stolen = tmp_path / "stolen"
    shutil.copytree(instance, stolen / "instance")
    candidates: list[bytes] = []
    for path in (stolen / "instance").rglob("*"):
        if path.is_file():
            raw = path.read_bytes().strip()
            candidates.append(raw)
            with contextlib.suppress(ValueError):
                candidates.append(bytes.fromhex(raw.decode()))
    for (wrapped,) in db.execute(select(StaffSession.wrapped_key)):
        candidates.append(wrapped)
    for secret in candidates:
        for tip_key in db.scalars(select(TipKey)):
            for context_key in db.scalars(select(InboxKey)):
                ctx = intake.inbox_context(tip_key.tip_id, context_key.inbox.key, context_key.version)
                with pytest.raises((crypto.CryptoError, ValueError)):
                    crypto.open_sealed(secret[:32].ljust(32, b"\0"), tip_key.sealed, ctx)


def test_grant_flow_for_a_new_member(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    submit(app.test_client(), message=BULLY_SHS, school="SHS")
    counselor = create_member(app, db, "counselor.shs@westport.example.org", "counselor", "SHS")
    c = app.test_client()
    login(c, counselor)
    tid = tip_id(db, "cyberbullying")
    assert c.get(f"/console/tips/{tid}").status_code == 403  # in scope, but no key yet
    login(client, admin)
    team = client.get("/console/team").get_data(as_text=True)
    assert "counselor.shs@westport.example.org" in team and "Grant" in team
    pending = re.findall(r'name="staff_id" value="(\d+)"><input type="hidden" name="inbox_key_id" value="(\d+)"',
                         team)
    assert pending
    for staff_id, key_id in pending:
        assert client.post("/console/team/grant", data={"staff_id": staff_id, "inbox_key_id": key_id}
                           ).status_code == 302
    assert c.get(f"/console/tips/{tid}").status_code == 200
    assert "grant" in actions(db)


def test_deactivation_rotates_keys(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    leaver = create_member(app, db, "leaver.shs@westport.example.org", "counselor", "SHS", admin)
    stayer = create_member(app, db, "stayer.shs@westport.example.org", "counselor", "SHS", admin)
    old_version = keyring.current_key(db, "SHS:cyberbullying").version
    login(client, admin)
    leaver_id = db.scalars(select(Staff.id).where(Staff.email == leaver.email)).one()
    assert client.post(f"/console/team/{leaver_id}/deactivate").status_code == 302
    db.expire_all()
    assert keyring.current_key(db, "SHS:cyberbullying").version == old_version + 1
    c = app.test_client()
    assert login(c, leaver) == 401
    submit(app.test_client(), message=BULLY_SHS, school="SHS")
    tid = tip_id(db, "cyberbullying")
    # New tips are sealed to the new version at once, not to the key the leaver held.
    new_key = keyring.current_key(db, "SHS:cyberbullying")
    assert new_key.id in set(db.scalars(select(TipKey.inbox_key_id).where(TipKey.tip_id == tid)))
    s = app.test_client()
    login(s, stayer)
    assert s.get(f"/console/tips/{tid}").status_code == 200
    assert {"staff_deactivated", "key_rotated"} <= set(actions(db))


def test_recovery_key_restores_access(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    submit(app.test_client(), message=BULLY_SHS, school="SHS")
    tid = tip_id(db, "cyberbullying")
    member = create_member(app, db, "forgetful@westport.example.org", "counselor", "SHS", admin)
    new_password = "a brand new long password"
    bad = client.post("/console/recover", data={"email": member.email, "recovery": "WRONG-KEY", "code": member.code(),
                                                "password": new_password, "password2": new_password})
    assert bad.status_code == 400
    forget_used_codes(app, member.email)
    ok = client.post("/console/recover", data={"email": member.email, "recovery": member.recovery,
                                               "code": member.code(), "password": new_password,
                                               "password2": new_password})
    assert ok.status_code == 200
    member.password = new_password
    c = app.test_client()
    assert login(c, member) == 302
    assert c.get(f"/console/tips/{tid}").status_code == 200
    assert "recovery_used" in actions(db)


def test_invitation(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    login(client, admin)
    r = client.post("/console/team/invite", data={"email": "new.deib@westport.example.org", "role": "deib",
                                                  "school": "SHS"})
    match = re.search(r'id="invite-link">https?://[^/]+(/console/invite/[^<]+)<', r.get_data(as_text=True))
    assert r.status_code == 200 and match
    link = match.group(1)
    invitee = app.test_client()
    opened = invitee.get(link)
    assert opened.status_code == 302 and opened.headers["Location"] == "/console/invite"
    path = "/console/invite"
    page = invitee.post(path, data={"step": "password", "password": PASSWORD, "password2": PASSWORD})
    uri = re.search(r'id="totp-uri">([^<]+)<', page.get_data(as_text=True))
    assert uri
    import pyotp

    totp = pyotp.parse_uri(uri.group(1).replace("&amp;", "&"))
    done = invitee.post(path, data={"step": "confirm", "code": totp.now()})
    assert "Account ready" in done.get_data(as_text=True)
    assert invitee.get(path).status_code == 404  # used
    assert app.test_client().get(link).status_code == 404
    member = db.scalars(select(Staff).where(Staff.email == "new.deib@westport.example.org")).one()
    assert member.active and member.role == "deib" and member.school == "SHS"


def test_analyst_sees_suppressed_aggregates_only(app: Flask, client: FlaskClient, admin: Member,
                                                 db: Session) -> None:
    reporter = app.test_client()
    for _ in range(6):
        submit(reporter, message=BULLY_SHS, school="SHS")
    submit(reporter, message=BULLY_SHS, school="BMS")
    analyst = create_member(app, db, "analyst@westport.example.org", "analyst", None, admin)
    login(client, analyst)
    r = client.get("/console/", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Tips by school and workflow" in html
    assert BULLY_SHS not in html
    row_shs = re.search(r"<tr><td>SHS</td>(.*?)</tr>", html)
    row_bms = re.search(r"<tr><td>BMS</td>(.*?)</tr>", html)
    assert row_shs and ">6<" in row_shs.group(1)
    assert row_bms and "&lt;5" in row_bms.group(1)
    assert client.get("/console/export.csv").status_code == 403
    assert client.get("/console/audit").status_code == 403


def test_cli_users_create(app: Flask, db: Session) -> None:
    from click.testing import CliRunner

    from tipline.cli import main

    settings = app.extensions["tipline.settings"]
    env = {"TIPLINE_DATABASE_URL": settings.database_url, "TIPLINE_SECRET_KEY": settings.secret_key,
           "TIPLINE_INSTANCE": str(settings.instance_path)}
    result = CliRunner().invoke(main, ["users", "create", "--email", "sro@westport.example.org", "--role", "sro",
                                       "--school", "SHS", "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert result.exit_code == 0, result.output
    assert "otpauth://totp/" in result.output and "recovery key" in result.output
    bad = CliRunner().invoke(main, ["users", "create", "--email", "x@westport.example.org", "--role", "janitor",
                                    "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert bad.exit_code != 0 and "Unknown role" in bad.output
    short = CliRunner().invoke(main, ["users", "create", "--email", "y@westport.example.org", "--role", "deib",
                                      "--password-stdin"], input="short\n", env=env)
    assert short.exit_code != 0 and "at least 12" in short.output
    assert db.scalars(select(Staff).where(Staff.email == "sro@westport.example.org")).one().role == "sro"


def test_expired_console_form(app: Flask, client: FlaskClient, admin: Member) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post("/console/login", data={"email": admin.email, "password": PASSWORD, "code": admin.code(),
                                            "csrf_token": "stale"})
    assert r.status_code == 400 and "expired" in r.get_data(as_text=True)


def test_token_helper_used(client: FlaskClient) -> None:
    assert token(client)  # the reporter form still carries its CSRF token with the console mounted


def test_audit_page_verifies_on_request_and_shows_tampering(client: FlaskClient, admin: Member,
                                                            db: Session) -> None:
    login(client, admin)
    client.get("/console/")
    page = client.get("/console/audit").get_data(as_text=True)
    assert "Verify the whole chain" in page and "view_list" in page
    assert "Chain verified" in client.get("/console/audit?verify=1").get_data(as_text=True)
    victim = db.scalars(select(AuditEntry).where(AuditEntry.action == "login")).first()
    assert victim is not None
    db.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(actor="someone.else@example.org"))
    db.commit()
    broken = client.get("/console/audit?verify=1").get_data(as_text=True)
    assert f"BROKEN at entry {victim.id}" in broken


def test_abuse_tip_reminds_of_the_mandated_report(app: Flask, client: FlaskClient, admin: Member,
                                                  db: Session) -> None:
    reporter = app.test_client()
    submit(reporter, message="my friend has bruises and says her stepdad hits her when he drinks", school="BMS")
    submit(reporter, message=BULLY_SHS, school="SHS")
    login(client, admin)
    abuse = tip_id(db, "wellbeing")
    page = client.get(f"/console/tips/{abuse}").get_data(as_text=True)
    assert page.count("Mandated report:") == 1 and "child protective services" in page
    other = client.get(f"/console/tips/{tip_id(db, 'cyberbullying')}").get_data(as_text=True)
    assert "Mandated report:" not in other


def test_keyset_pages_cover_every_tip_once(app: Flask, client: FlaskClient, admin: Member, db: Session) -> None:
    from tipline.console.tips import COUNT_CAP, PAGE

    app.extensions["tipline.limiter"].enabled = False  # one test address sends them all
    reporter = app.test_client()
    total = COUNT_CAP + 5
    for i in range(total):
        text = THREAT_SHS if i % 10 == 0 else f"the hallway lights on floor {i} keep flickering"
        submit(reporter, message=text, school="SHS")
    login(client, admin)
    seen: list[str] = []
    url = "/console/"
    first = client.get(url).get_data(as_text=True)
    assert f'id="tip-count">{COUNT_CAP:,}+<' in first
    while url:
        html = client.get(url).get_data(as_text=True)
        ids = re.findall(r'href="/console/tips/([0-9a-f]{32})"', html)
        assert len(ids) <= PAGE
        seen.extend(ids)
        nxt = re.search(r'id="next-page" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    assert len(seen) == len(set(seen)) == total
    urgent_first = [db.get(Tip, t).priority_rank for t in seen[:3]]  # type: ignore[union-attr]
    assert urgent_first == sorted(urgent_first, reverse=True) and urgent_first[0] >= 2
    filtered = client.get("/console/?workflow=threat&school=SHS").get_data(as_text=True)
    assert 'id="tip-count">26<' in filtered


def test_admin_sees_undelivered_police_forwards(app: Flask, client: FlaskClient, admin: Member,
                                                db: Session) -> None:
    submit(app.test_client(), message=THREAT_SHS, school="SHS", category="threat")
    login(client, admin)
    page = client.get("/console/deliveries").get_data(as_text=True)
    assert "police" in page and "http://127.0.0.1:8089/dispatch" in page and "pending" in page
    assert "stab" not in page  # the outbox list shows no tip content
    counselor = create_member(app, db, "c.shs@westport.example.org", "counselor", "SHS", admin)
    c = app.test_client()
    login(c, counselor)
    assert c.get("/console/deliveries").status_code == 403
