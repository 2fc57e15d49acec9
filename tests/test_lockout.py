"""No lock-out on day one: the README's commands, run for real, give an admin who reads tips;
later admins are told they hold no key; while no one holds the district-admin key the
command line and the console say so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from console_support import PASSWORD, Member, create_member, login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from helpers import submit
from sqlalchemy import select

from tipline import keyring
from tipline.app import create_app
from tipline.config import load_settings
from tipline.models import AuditEntry, InboxGrant, Staff

TIP_TEXT = "Someone keeps writing mean things about Maya on her locker in the B hallway"
LOUD = "NO ONE HOLDS THE DISTRICT-ADMIN KEY"
TOTP_URI = re.compile(r"^otpauth://totp/\S+$", re.MULTILINE)


@dataclass
class Instance:
    """A fresh instance folder and the environment the README's commands run with."""

    root: Path
    env: dict[str, str]

    @property
    def path(self) -> Path:
        return self.root / "instance"

    def tipline(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        exe = Path(sys.executable).parent / "tipline"
        return subprocess.run([str(exe), *args], cwd=self.root, env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=180, check=False)

    def app(self) -> Flask:
        """The console as gunicorn would serve it from this instance (same settings, same files)."""
        overrides: dict[str, object] = {"limiter_prefix": f"tl-test-{uuid.uuid4().hex[:8]}"}
        if os.environ.get("TIPLINE_TEST_REDIS_URL"):
            overrides["redis_url"] = os.environ["TIPLINE_TEST_REDIS_URL"]
        application = create_app(settings=load_settings(environ=self.env, overrides=overrides))
        application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        return application


@pytest.fixture
def fresh(db_url: str, tmp_path: Path) -> Iterator[Instance]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(TIPLINE_INSTANCE=str(tmp_path / "instance"), TIPLINE_DATABASE_URL=db_url, PORT="5000")
    yield Instance(tmp_path, env)


def member_from_output(email: str, stdout: str) -> Member:
    uri = TOTP_URI.search(stdout)
    assert uri, stdout
    totp = pyotp.parse_uri(uri.group(0))
    assert isinstance(totp, pyotp.TOTP)
    return Member(email, PASSWORD, totp)


def tip_link(client: FlaskClient) -> str:
    html = client.get("/console/").get_data(as_text=True)
    found = re.search(r'href="(/console/tips/[0-9a-f]{32})"', html)
    assert found, html
    return found.group(1)


def test_the_readme_commands_in_order_give_an_admin_who_reads_tips(fresh: Instance) -> None:
    init = fresh.tipline("init")
    assert init.returncode == 0, init.stderr
    link = re.search(r"http://127\.0\.0\.1:5000(/console/setup/\S+)", init.stdout)
    assert link, init.stdout
    assert LOUD in init.stderr and "tipline users create" in init.stderr

    created = fresh.tipline("users", "create", "--email", "director@westport.example.org", "--role", "admin",
                            "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "first district admin" in created.stdout and "setup keys moved to this account" in created.stdout
    assert "recovery key (shown once):" in created.stdout
    assert LOUD not in created.stderr
    assert not keyring.setup_token_path(fresh.path).exists()

    app = fresh.app()
    try:
        assert submit(app.test_client(), message=TIP_TEXT, school="SHS")[0] == 200
        console = app.test_client()
        assert console.get(link.group(1)).status_code == 404  # setup is done: the link is spent
        director = member_from_output("director@westport.example.org", created.stdout)
        assert login(console, director) == 302
        page = console.get(tip_link(console))
        assert page.status_code == 200
        assert TIP_TEXT in page.get_data(as_text=True)
        assert 'id="no-admin-key"' not in console.get("/console/team").get_data(as_text=True)
        with app.extensions["tipline.sessionmaker"]() as session:
            actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "cli")))
        assert actions == ["staff_created", "setup_completed"]
    finally:
        app.extensions["tipline.engine"].dispose()

    # A second run of init finds the key held and says nothing alarming.
    again = fresh.tipline("init")
    assert again.returncode == 0 and LOUD not in again.stderr and "/console/setup/" not in again.stdout


def test_later_admins_are_told_they_hold_no_keys(fresh: Instance) -> None:
    assert fresh.tipline("init").returncode == 0
    first = fresh.tipline("users", "create", "--email", "director@westport.example.org", "--role", "admin",
                          "--password-stdin", stdin=PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    later = fresh.tipline("users", "create", "--email", "deputy@westport.example.org", "--role", "admin",
                          "--password-stdin", stdin=PASSWORD + "\n")
    assert later.returncode == 0, later.stderr
    assert "holds no keys yet" in later.stdout and "district-admin key grants them" in later.stdout
    assert "first district admin" not in later.stdout
    assert LOUD not in later.stderr  # the first admin holds it

    app = fresh.app()
    try:
        assert submit(app.test_client(), message=TIP_TEXT, school="SHS")[0] == 200
        console = app.test_client()
        assert login(console, member_from_output("deputy@westport.example.org", later.stdout)) == 302
        page = console.get(tip_link(console))
        assert page.status_code == 403 and "grant" in page.get_data(as_text=True)
        with app.extensions["tipline.sessionmaker"]() as session:
            holders = list(session.scalars(select(Staff.email).join(InboxGrant, InboxGrant.staff_id == Staff.id)))
        assert holders == ["director@westport.example.org"]
    finally:
        app.extensions["tipline.engine"].dispose()


def test_a_first_account_that_is_not_an_admin_leaves_setup_open_and_says_so(fresh: Instance) -> None:
    assert fresh.tipline("init").returncode == 0
    sro = fresh.tipline("users", "create", "--email", "sro@westport.example.org", "--role", "sro",
                        "--school", "SHS", "--password-stdin", stdin=PASSWORD + "\n")
    assert sro.returncode == 0, sro.stderr
    assert "holds no keys yet" in sro.stdout and "team's key" in sro.stdout
    assert LOUD in sro.stderr and "/console/setup/" in sro.stderr
    assert keyring.setup_token_path(fresh.path).exists()


def test_a_missing_setup_token_is_reported_not_silently_skipped(fresh: Instance) -> None:
    assert fresh.tipline("init").returncode == 0
    keyring.setup_token_path(fresh.path).unlink()
    made = fresh.tipline("users", "create", "--email", "director@westport.example.org", "--role", "admin",
                         "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert "holds no keys yet" in made.stdout
    assert LOUD in made.stderr and "setup token file" in made.stderr


def test_an_instance_locked_out_by_an_earlier_version_recovers(app: Flask, client: FlaskClient, instance: Path,
                                                               db_url: str) -> None:
    """An admin made on the command line before this fix held no key and closed the setup link.
    The console now says so loudly, and the setup link hands over the key."""
    from tipline import staff

    app.config["WTF_CSRF_ENABLED"] = False

    settings = app.extensions["tipline.settings"]
    with app.extensions["tipline.sessionmaker"]() as session:
        made = staff.create(session, email="old@westport.example.org", role="admin", school=None,
                            password=PASSWORD, secret_key=settings.secret_key, schools=set(settings.district.schools))
        session.commit()
        uri = made.totp_uri
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    old = Member("old@westport.example.org", PASSWORD, totp)
    assert login(client, old) == 302
    for path in ("/console/", "/console/team", "/console/audit"):
        banner = client.get(path).get_data(as_text=True)
        assert 'id="no-admin-key"' in banner and "Setup is not finished" in banner, path

    new = setup_admin(app.test_client(), instance, "director@westport.example.org")
    assert 'id="no-admin-key"' not in client.get("/console/").get_data(as_text=True)
    with app.extensions["tipline.sessionmaker"]() as session:
        assert keyring.admin_key_holders(session) == 1
        assert not keyring.setup_pending(session)
    director = app.test_client()
    assert login(director, new) == 302
    assert 'id="no-admin-key"' not in director.get("/console/").get_data(as_text=True)


def test_the_console_says_so_when_every_holder_is_gone(app: Flask, client: FlaskClient, instance: Path,
                                                       db_url: str) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    director = setup_admin(client, instance)
    with app.extensions["tipline.sessionmaker"]() as session:
        deputy = create_member(app, session, "deputy@westport.example.org", "admin", None)  # no grant
        counselor = create_member(app, session, "c.shs@westport.example.org", "counselor", "SHS", director)
        director_id = session.scalars(select(Staff.id).where(Staff.email == director.email)).one()
    c = app.test_client()
    assert login(c, counselor) == 302
    assert 'id="no-admin-key"' not in c.get("/console/").get_data(as_text=True)  # admins only
    d = app.test_client()
    assert login(d, deputy) == 302
    assert 'id="no-admin-key"' not in d.get("/console/").get_data(as_text=True)
    assert d.post(f"/console/team/{director_id}/deactivate").status_code == 302
    page = d.get("/console/team").get_data(as_text=True)
    assert 'id="no-admin-key"' in page and "Every member who held it was deactivated" in page
    assert 'id="no-admin-key"' not in c.get("/console/").get_data(as_text=True)
