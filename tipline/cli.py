"""The ``tipline`` command: set up, triage from the command line, run the worker, manage staff."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from tipline import keyring
from tipline.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """Tipline: an anonymous, encrypted tip line for a school district."""


def ensure_secret(instance: Path, name: str = "secret_key", env: str = "TIPLINE_SECRET_KEY") -> None:
    if os.environ.get(env):
        return
    path = instance / name
    if not path.exists():
        import secrets

        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")


def setup_instance(settings: Settings) -> list[keyring.InboxSpec]:
    """Migrate the database and create any missing inbox keys. Safe to run again."""
    from sqlalchemy.orm import sessionmaker

    from tipline import migrate
    from tipline import plugins as hooks
    from tipline.orm import make_engine

    migrate.upgrade(settings.database_url)
    pm = hooks.make_manager(settings.plugins)
    titles = {k: w.title for k, w in hooks.workflows(pm).items()}
    engine = make_engine(settings.database_url)
    try:
        with sessionmaker(engine)() as session, session.begin():
            assert settings.dispatch_key_path is not None
            return keyring.ensure_inboxes(session, settings.district, titles, settings.instance_path,
                                          settings.dispatch_key_path)
    finally:
        engine.dispose()


@main.command()
@click.option("--base-url", default=None, help="Where the console is served, for the setup link.")
def init(base_url: str | None) -> None:
    """Create instance/, the secret key, the database schema and the inbox keys."""
    instance = Path(os.environ.get("TIPLINE_INSTANCE") or Path.cwd() / "instance")
    instance.mkdir(parents=True, exist_ok=True)
    os.chmod(instance, 0o700)
    ensure_secret(instance)
    # The key police dispatch verifies webhook signatures with: share it with them.
    ensure_secret(instance, "webhook_secret", "TIPLINE_WEBHOOK_SECRET")
    settings = _settings()
    created = setup_instance(settings)
    click.echo(f"Database ready; {len(created)} inbox key(s) created:" if created
               else "Database ready; every school and workflow already has its inbox keys.")
    for line in keyring.describe_added(created, settings.district):
        click.echo(f"  {line}")
    token_file = keyring.setup_token_path(settings.instance_path)
    if token_file.exists():
        port = os.environ.get("PORT", "5000")
        base = base_url or f"http://127.0.0.1:{port}"
        click.echo("")
        click.echo("No district admin yet. Open this one-time link to create the first admin account:")
        click.echo(f"  {base}/console/setup/{token_file.read_text().strip()}")
        click.echo("")


@main.command()
def triage() -> None:
    """Triage JSON lines from stdin; one JSON line out per line in, in order.

    In: {"text": ..., "category": ..., "school"?: ..., "submitted_at"?: ISO time}.
    Out: {"workflows": [...], "priority": ..., "police": bool, "signals": [...]}.
    Needs no database and no server.
    """
    from tipline import plugins as hooks
    from tipline.types import TipDraft

    only = os.environ.get("TIPLINE_PLUGINS")
    pm = hooks.make_manager(tuple(p.strip() for p in only.split(",") if p.strip()) if only else None)
    out = sys.stdout
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            when = raw.get("submitted_at")
            moment = datetime.fromisoformat(when) if when else datetime.now(UTC)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            draft = TipDraft(text=str(raw["text"]), category=str(raw.get("category") or "unsure"),
                             school=raw.get("school"), submitted_at=moment)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise click.ClickException(f"line {number}: expected a JSON object with \"text\" ({exc})") from exc
        out.write(json.dumps(hooks.triage(pm, draft).as_json()) + "\n")
    out.flush()



@main.command("check-config")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def check_config(file: Path | None) -> None:
    """Check a district file (FILE, else TIPLINE_CONFIG, else the demo) and name every problem.

    Also checks that the delivery plugins TIPLINE_PLUGINS loads can send every endpoint.
    Exits 1 when there is a problem, 0 when there is none.
    """
    from tipline import config
    from tipline import plugins as hooks

    path = str(file) if file else os.environ.get("TIPLINE_CONFIG") or None
    problems: list[str] = []
    district = config.read_district(path, problems)
    only = os.environ.get("TIPLINE_PLUGINS")
    try:
        pm = hooks.make_manager(tuple(p.strip() for p in only.split(",") if p.strip()) if only else None)
        problems += config.channel_problems(district, hooks.delivery_channels(pm))
    except hooks.PluginError as exc:
        problems.append(str(exc))
    label = path or "the demo district"
    if problems:
        click.echo(f"{label}: {len(problems)} problem(s)", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    events = sum(len(s.events) for s in district.schools.values())
    click.echo(f"{label}: OK ({district.name}: {len(district.schools)} school(s), {len(district.closures)} "
               f"closure(s), {len(district.early_dismissals)} district early dismissal(s), {events} event(s))")


@main.group()
def users() -> None:
    """Manage staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, help="admin, school-admin, threat-team, deib, counselor, sro or analyst")
@click.option("--school", default=None, help="School code for school-based roles, e.g. SHS")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_create(email: str, role: str, school: str | None, password_stdin: bool) -> None:
    """Create a staff member and print their TOTP provisioning URI and recovery key.

    A member who holds the team's inbox key then grants it to them in the console.
    """
    from sqlalchemy.orm import sessionmaker

    from tipline import audit, staff
    from tipline.orm import make_engine

    if not password_stdin:
        raise click.UsageError("pass --password-stdin and the password on stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with sessionmaker(engine)() as session, session.begin():
            enrolment = staff.create(session, email=email, role=role, school=school.upper() if school else None,
                                     password=password, secret_key=settings.secret_key,
                                     schools=set(settings.district.schools))
            audit.record(session, "cli", "staff_created", role=role, school=school, member=enrolment.staff.email)
            created = enrolment.staff.email
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(f"created {created} ({role}{', ' + school.upper() if school else ''})")
    click.echo(enrolment.totp_uri)
    click.echo(f"recovery key (shown once): {enrolment.recovery_code}")


def _register_subcommands() -> None:
    # Subsystems own their commands.
    from tipline import worker

    main.add_command(worker.worker_command)
    from tipline import audit, retention

    main.add_command(audit.audit_command)
    main.add_command(retention.purge_command)


_register_subcommands()
