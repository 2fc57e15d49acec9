"""Making staff and signing them in, for the console tests."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tipline import access, keyring, staff
from tipline.models import Staff

PASSWORD = "correct horse battery staple"


@dataclass
class Member:
    email: str
    password: str
    totp: pyotp.TOTP
    recovery: str = ""

    def code(self) -> str:
        """The next step's code: enrolment or an earlier sign-in may have used the current one."""
        return self.totp.at(time.time() + 30)


def setup_admin(client: FlaskClient, instance: Path, email: str = "admin@westport.example.org") -> Member:
    token = keyring.setup_token_path(instance).read_text().strip()
    opened = client.get(f"/console/setup/{token}")  # moves the token into a cookie
    assert opened.status_code == 302 and opened.headers["Location"] == "/console/setup"
    page = client.post("/console/setup", data={"step": "password", "email": email, "password": PASSWORD,
                                                        "password2": PASSWORD})
    html = page.get_data(as_text=True)
    uri = re.search(r'id="totp-uri">([^<]+)<', html)
    recovery = re.search(r'id="recovery-key">([^<]+)<', html)
    assert uri and recovery, html
    totp = pyotp.parse_uri(uri.group(1).replace("&amp;", "&"))
    assert isinstance(totp, pyotp.TOTP)
    done = client.post("/console/setup", data={"step": "confirm", "email": email, "code": totp.now()})
    assert "Setup complete" in done.get_data(as_text=True)
    return Member(email, PASSWORD, totp, recovery.group(1))


def forget_used_codes(app: Flask, email: str) -> None:
    """Each TOTP step is accepted once; tests sign in more often than every 30 seconds."""
    with app.extensions["tipline.sessionmaker"]() as session, session.begin():
        session.execute(update(Staff).where(Staff.email == email).values(totp_last_step=0))


def login(client: FlaskClient, member: Member) -> int:
    forget_used_codes(client.application, member.email)
    r = client.post("/console/login", data={"email": member.email, "password": member.password,
                                            "code": member.code()})
    return r.status_code


def create_member(app: Flask, db: Session, email: str, role: str, school: str | None,
                  granter: Member | None = None) -> Member:
    """Create a member as `tipline users create` does, then have `granter` grant their keys."""
    settings = app.extensions["tipline.settings"]
    enrolment = staff.create(db, email=email, role=role, school=school, password=PASSWORD,
                             secret_key=settings.secret_key, schools=set(settings.district.schools))
    db.commit()
    if granter is not None:
        granter_row = db.scalars(select(Staff).where(Staff.email == granter.email)).one()
        chain = access.Keychain(granter_row, staff.personal_private(granter_row, granter.password))
        for inbox in access.inbox_keys_for(enrolment.staff, app.extensions["tipline.workflows"]):
            access.grant(db, chain, enrolment.staff, keyring.current_key(db, inbox))
        db.commit()
    totp = pyotp.parse_uri(enrolment.totp_uri)
    assert isinstance(totp, pyotp.TOTP)
    return Member(enrolment.staff.email, PASSWORD, totp, enrolment.recovery_code)
