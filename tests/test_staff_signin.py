"""Staff sign-in: alike answers for known and unknown emails, throttles that slow a guesser
without locking the owner out, a limited recovery form, session lifetimes and sweeping, and
setup and invitation tokens kept out of addresses."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from console_support import PASSWORD, Member, create_member, forget_used_codes, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tipline import keyring, staff
from tipline.console import throttle
from tipline.models import AuditEntry, Staff, StaffSession
from tipline.orm import utcnow

UNKNOWN = "nobody.here@westport.example.org"


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def admin(client: FlaskClient, instance: Path) -> Member:
    return setup_admin(client, instance)


def at(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def sign_in(client: FlaskClient, member: Member, address: str, password: str | None = None) -> Any:
    forget_used_codes(client.application, member.email)
    return client.post("/console/login", data={"email": member.email, "password": password or member.password,
                                               "code": member.code()}, **at(address))


def wrong(client: FlaskClient, email: str, address: str) -> Any:
    return client.post("/console/login", data={"email": email, "password": "not the password", "code": "123456"},
                       **at(address))


def page_of(response: Any) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


class CountingHasher:
    """Counts Argon2id verifications: the work a sign-in does, whatever the email."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.verified = 0

    def verify(self, *args: Any) -> Any:
        self.verified += 1
        return self.inner.verify(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_known_and_unknown_emails_get_the_same_answers_and_work(app: Flask, admin: Member,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingHasher(staff._hasher)
    monkeypatch.setattr(staff, "_hasher", counting)
    answers: dict[str, list[tuple[int, str]]] = {}
    work: dict[str, int] = {}
    for email in (admin.email, UNKNOWN):
        client = app.test_client()
        counting.verified = 0
        seen = []
        for _ in range(8):
            r = wrong(client, email, "10.1.1.1" if email == UNKNOWN else "10.1.1.2")
            seen.append((r.status_code, page_of(r).replace(email, "EMAIL")))
        answers[email] = seen
        work[email] = counting.verified
    assert answers[admin.email] == answers[UNKNOWN]
    assert work[admin.email] == work[UNKNOWN] > 0
    assert not any("locked" in page for _, page in answers[admin.email])


def test_a_guesser_cannot_lock_the_owner_out(app: Flask, admin: Member, db: Session) -> None:
    owner = app.test_client()
    assert sign_in(owner, admin, "192.0.2.10").status_code == 302  # the owner's usual browser
    owner.post("/console/logout")
    guesser = app.test_client()
    for i in range(4):  # several addresses, 4 failures each: 16 in all for this account
        for _ in range(4):
            assert wrong(guesser, admin.email, f"198.51.100.{i}").status_code in (401, 429)
    refused = wrong(guesser, admin.email, "198.51.100.0")
    assert refused.status_code == 429 and throttle.REFUSED in refused.get_data(as_text=True)
    # The guesser is refused even with the right password and code: nothing is checked.
    assert sign_in(app.test_client(), admin, "198.51.100.9").status_code == 429
    # The owner, from the browser they signed in with before, still gets in at once.
    assert sign_in(owner, admin, "203.0.113.7").status_code == 302
    assert owner.get("/console/").status_code == 200
    reasons = [e.detail.get("reason") for e in db.scalars(select(AuditEntry)
                                                           .where(AuditEntry.action == "login_failed"))]
    assert "throttled" in reasons and None in reasons


def test_failures_from_one_address_stop_that_address_only(app: Flask, admin: Member) -> None:
    guesser = app.test_client()
    for _ in range(5):
        assert wrong(guesser, admin.email, "198.51.100.20").status_code == 401
    assert sign_in(guesser, admin, "198.51.100.20").status_code == 429
    # Another address, never used by this member, is not held up by that address's failures.
    assert sign_in(app.test_client(), admin, "192.0.2.44").status_code == 302
    # A trusted browser's own failures count apart, and a success clears nothing it should not.
    trusted = app.test_client()
    assert sign_in(trusted, admin, "198.51.100.20").status_code == 429  # not trusted yet
    assert sign_in(trusted, admin, "192.0.2.45").status_code == 302
    assert sign_in(trusted, admin, "198.51.100.20").status_code == 302  # now trusted, from there too


def test_a_device_cookie_is_bound_to_its_account(app: Flask, admin: Member, db: Session) -> None:
    other = create_member(app, db, "counselor.shs@westport.example.org", "counselor", "SHS", admin)
    browser = app.test_client()
    assert sign_in(browser, other, "192.0.2.50").status_code == 302
    for i in range(3):
        for _ in range(4):
            wrong(app.test_client(), admin.email, f"198.51.100.{30 + i}")
    # Trusted for the counselor's account, not for the admin's.
    assert sign_in(browser, admin, "192.0.2.50").status_code == 429
    forged = app.test_client()
    forged.set_cookie(throttle.DEVICE_COOKIE, "1700000000.abc.0123456789abcdef0123456789abcdef", path="/console")
    assert sign_in(forged, admin, "192.0.2.51").status_code == 429


NEW_PASSWORD = "a brand new long password"


def recover_form(member: Member, recovery: str, code: str, password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"email": member.email, "recovery": recovery, "code": code, "password": password, "password2": password}


def test_recovery_answers_alike_whether_the_code_is_right(app: Flask, admin: Member, db: Session) -> None:
    member = create_member(app, db, "forgetful@westport.example.org", "counselor", "SHS", admin)
    client = app.test_client()
    forget_used_codes(app, member.email)
    here = at("10.2.0.1")
    right_code = client.post("/console/recover", data=recover_form(member, "WRONG-KEY", member.code()), **here)
    wrong_code = client.post("/console/recover", data=recover_form(member, "WRONG-KEY", "000000"), **here)
    unknown = client.post("/console/recover", data={**recover_form(member, "WRONG-KEY", "000000"), "email": UNKNOWN},
                          **here)
    assert right_code.status_code == wrong_code.status_code == unknown.status_code == 400
    assert page_of(right_code) == page_of(wrong_code) == page_of(unknown)
    # A short new password is refused the same way before any secret is looked at.
    short = [client.post("/console/recover", data=recover_form(member, key, code, "short"), **here)
             for key, code in ((member.recovery, member.code()), ("WRONG-KEY", "000000"))]
    assert page_of(short[0]) == page_of(short[1]) and short[0].status_code == 400
    db.expire_all()
    row = db.scalars(select(Staff).where(Staff.email == member.email)).one()
    assert row.totp_last_step == 0, "a wrong recovery key does not spend the code"


def test_recovery_is_limited(app: Flask, admin: Member, db: Session) -> None:
    member = create_member(app, db, "forgetful@westport.example.org", "counselor", "SHS", admin)
    client = app.test_client()
    for _ in range(5):
        assert client.post("/console/recover", data=recover_form(member, "WRONG-KEY", "000000"),
                           **at("10.3.0.1")).status_code == 400
    forget_used_codes(app, member.email)
    refused = client.post("/console/recover", data=recover_form(member, member.recovery, member.code()),
                          **at("10.3.0.1"))
    assert refused.status_code == 429 and throttle.REFUSED in refused.get_data(as_text=True)
    forget_used_codes(app, member.email)
    ok = app.test_client().post("/console/recover", data=recover_form(member, member.recovery, member.code()),
                                **at("10.3.0.2"))
    assert ok.status_code == 200 and "Password changed" in ok.get_data(as_text=True)
    actions = [(e.action, e.detail.get("via")) for e in db.scalars(select(AuditEntry))]
    assert ("login_failed", "recovery") in actions and ("recovery_used", None) in actions


def test_sessions_have_an_absolute_lifetime(app: Flask, admin: Member, db: Session) -> None:
    client = app.test_client()
    assert sign_in(client, admin, "192.0.2.60").status_code == 302
    db.execute(update(StaffSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1)))
    db.commit()
    r = client.get("/console/")  # active all along (last_seen is now), but started too long ago
    assert r.status_code == 302 and "expired=1" in r.headers["Location"]
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 0


def test_ended_sessions_are_swept(app: Flask, admin: Member, db: Session) -> None:
    other = create_member(app, db, "counselor.shs@westport.example.org", "counselor", "SHS", admin)
    for member, address in ((admin, "192.0.2.70"), (other, "192.0.2.71"), (other, "192.0.2.72")):
        assert sign_in(app.test_client(), member, address).status_code == 302
    ids = list(db.scalars(select(StaffSession.id).order_by(StaffSession.created_at)))
    db.execute(update(StaffSession).where(StaffSession.id == ids[0])
               .values(last_seen=utcnow() - timedelta(minutes=31)))
    db.execute(update(StaffSession).where(StaffSession.id == ids[1])
               .values(created_at=utcnow() - timedelta(hours=13)))
    db.commit()
    assert sign_in(app.test_client(), admin, "192.0.2.73").status_code == 302  # anyone signing in sweeps
    db.expire_all()
    left = set(db.scalars(select(StaffSession.id)))
    assert ids[0] not in left and ids[1] not in left and ids[2] in left and len(left) == 2


def test_setup_token_leaves_the_address_after_first_use(app: Flask, client: FlaskClient, instance: Path) -> None:
    token = keyring.setup_token_path(instance).read_text().strip()
    opened = client.get(f"/console/setup/{token}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/console/setup"
    page = client.get("/console/setup")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and token not in html
    assert all(token not in action for action in re.findall(r'<form[^>]*action="([^"]*)"', html))
    assert app.test_client().get("/console/setup").status_code == 404  # another browser has no token
    member = setup_admin(client, instance)
    assert member.email
    assert client.get("/console/setup").status_code == 404  # used: the cookie opens nothing any more


def test_invitation_token_leaves_the_address_after_first_use(app: Flask, client: FlaskClient,
                                                            admin: Member) -> None:
    assert sign_in(client, admin, "192.0.2.80").status_code == 302
    r = client.post("/console/team/invite", data={"email": "new.deib@westport.example.org", "role": "deib",
                                                  "school": "SHS"})
    assert r.status_code == 200 and "Location" not in r.headers  # the link is shown, not put in an address
    match = re.search(r'id="invite-link">https?://[^/]+/console/invite/([^<]+)<', r.get_data(as_text=True))
    assert match
    token = match.group(1)
    invitee = app.test_client()
    opened = invitee.get(f"/console/invite/{token}")
    assert opened.status_code == 302 and token not in opened.headers["Location"]
    page = invitee.get(opened.headers["Location"])
    assert page.status_code == 200 and token not in page.get_data(as_text=True)
    step1 = invitee.post("/console/invite", data={"step": "password", "password": PASSWORD, "password2": PASSWORD})
    assert step1.status_code == 200 and 'id="totp-uri"' in step1.get_data(as_text=True)
    assert app.test_client().get("/console/invite").status_code == 404
