"""The ``tipline`` command: set up, triage from the command line, run the worker, manage staff."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tipline import keyring
from tipline.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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


def _setup_link(settings: Settings, base_url: str | None = None) -> str | None:
    from tipline import keyring

    token_file = keyring.setup_token_path(settings.instance_path)
    if not token_file.exists():
        return None
    base = base_url or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    return f"{base}/console/setup/{token_file.read_text().strip()}"


def _admin_key_state(session: Session) -> str:
    """``held``, ``setup`` (waiting under the setup token) or ``lost`` (no active holder)."""
    from tipline import keyring

    if keyring.admin_key_holders(session):
        return "held"
    return "setup" if keyring.setup_pending(session) else "lost"


def _warn_no_admin_key(state: str, link: str | None) -> None:
    """Loudly, on stderr: while no one holds the district-admin key no one can grant keys."""
    if state == "held":
        return
    lines = ["", "!" * 78, "!! NO ONE HOLDS THE DISTRICT-ADMIN KEY.",
             "!! Until someone does, no one can grant a team's key and tips may stay unreadable."]
    if state == "setup" and link:
        lines += ["!! Finish setup: open the one-time link below, or run",
                  "!!   tipline users create --email YOU --role admin --password-stdin",
                  "!! (the first admin made either way receives the key).", f"!!   {link}"]
    elif state == "setup":
        lines += ["!! The setup token file (instance/setup-token) is missing, so the key it guards",
                  "!! cannot be opened. Restore it from a backup of instance/."]
    else:
        lines += ["!! Every member who held it was deactivated. Team key holders can still open",
                  "!! their teams' tips."]
    lines += ["!" * 78, ""]
    click.echo("\n".join(lines), err=True)


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
    with _session(settings) as session:
        state = _admin_key_state(session)
    link = _setup_link(settings, base_url) if state == "setup" else None
    if link:
        click.echo("")
        click.echo("No district admin holds the keys yet. Open this one-time link to create the first admin account")
        click.echo("(or run `tipline users create --email YOU --role admin --password-stdin`):")
        click.echo(f"  {link}")
        click.echo("")
    _warn_no_admin_key(state, link)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """One transaction on its own engine, committed on success."""
    from sqlalchemy.orm import sessionmaker

    from tipline.orm import make_engine

    engine = make_engine(settings.database_url)
    try:
        with sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


@main.command()
def triage() -> None:
    """Triage JSON lines from stdin; one JSON line out per line in, in order.

    In: {"text": ..., "category": ..., "school"?: ..., "submitted_at"?: ISO time}.
    Out: {"workflows": [...], "priority": ..., "police": bool, "signals": [...], "review": bool},
    or {"line": N, "error": "..."} for a line that is not such an object (then the next line).
    Text longer than the form's limit (max message chars) is an error, as on the form.
    Needs no database and no server.
    """
    from tipline import plugins as hooks
    from tipline.types import TipDraft

    only = os.environ.get("TIPLINE_PLUGINS")
    pm = hooks.make_manager(tuple(p.strip() for p in only.split(",") if p.strip()) if only else None)
    limit = Settings.__dataclass_fields__["max_message_chars"].default
    assert isinstance(limit, int)
    out = sys.stdout
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        draft = _triage_draft(line, limit, TipDraft)
        if isinstance(draft, str):
            out.write(json.dumps({"line": number, "error": draft}) + "\n")
            continue
        out.write(json.dumps(hooks.triage(pm, draft).as_json()) + "\n")
    out.flush()


def _triage_draft(line: str, limit: int, tip_draft: Any) -> Any:
    """A TipDraft from one input line, or a message saying why the line is not one."""
    # A line is at most a form's text plus room for the other fields and JSON escapes; a
    # longer one is refused before it is parsed, so a 1 MB line costs nothing.
    if len(line) > 8 * limit + 4096:
        return f"line longer than {8 * limit + 4096:,} characters"
    try:
        raw = json.loads(line)
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError as exc:
        return f"not JSON ({exc})"
    if not isinstance(raw, dict):
        return 'expected a JSON object with "text"'
    text, category, school, when = raw.get("text"), raw.get("category"), raw.get("school"), raw.get("submitted_at")
    if not isinstance(text, str):
        return '"text" must be a string'
    if len(text) > limit:
        return f'"text" is longer than the form allows ({limit:,} characters)'
    if category is not None and not isinstance(category, str):
        return '"category" must be a string'
    if school is not None and not isinstance(school, str):
        return '"school" must be a string'
    if when is not None and not isinstance(when, str):
        return '"submitted_at" must be an ISO date and time'
    try:
        moment = datetime.fromisoformat(when) if when else datetime.now(UTC)
    except ValueError:
        return '"submitted_at" must be an ISO date and time'
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return tip_draft(text=text, category=category or "unsure", school=school, submitted_at=moment)



@main.command()
def route() -> None:
    """Route JSON lines from stdin by the district's rules; one JSON line out per line in.

    In: {"text": ..., "category": ..., "school"?: code, "submitted_at": ISO 8601 time with its
    offset}. Out: {"workflows": [...], "priority": ..., "police": bool, "review": bool,
    "actions": [{"kind": "forward"|"notify"|"page", "target": ..., "reason": ...}]}, or
    {"line": N, "error": "..."} for a line that is not such an object (then the next line).
    Staff are named by role (role:sro@SHS), as before any console account resolves them.
    Needs no database and no server: it reads the district file (TIPLINE_CONFIG, else the demo).
    """
    from tipline import plugins as hooks
    from tipline import routing

    only = os.environ.get("TIPLINE_PLUGINS")
    try:
        district = routing.load_district()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    pm = hooks.make_manager(tuple(p.strip() for p in only.split(",") if p.strip()) if only else None)
    limit = Settings.__dataclass_fields__["max_message_chars"].default
    assert isinstance(limit, int)
    out = sys.stdout
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        answer = routing.route_line(pm, district, line, limit)
        out.write(json.dumps({"line": number, **answer} if "error" in answer else answer) + "\n")
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

    The first admin, made while setup is not finished, receives the district-admin key exactly as
    the setup link would give it. Anyone else holds no key until a member who holds their team's
    key (or the district-admin key) grants it in the console.
    """
    from tipline import audit, crypto, keyring, staff

    if not password_stdin:
        raise click.UsageError("pass --password-stdin and the password on stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()
    token_file = keyring.setup_token_path(settings.instance_path)
    first_admin = False
    try:
        with _session(settings) as session:
            enrolment = staff.create(session, email=email, role=role, school=school.upper() if school else None,
                                     password=password, secret_key=settings.secret_key,
                                     schools=set(settings.district.schools))
            audit.record(session, "cli", "staff_created", role=role, school=school, member=enrolment.staff.email)
            if role == "admin" and keyring.setup_pending(session) and token_file.exists():
                keyring.hand_over_setup_keys(session, token_file.read_text().strip(), enrolment.staff)
                audit.record(session, "cli", "setup_completed", member=enrolment.staff.email)
                first_admin = True
            created = enrolment.staff.email
            state = _admin_key_state(session)
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    except LookupError as exc:  # no inbox keys: the database was never set up
        raise click.ClickException(str(exc)) from exc
    except crypto.CryptoError as exc:
        raise click.ClickException(f"{token_file} does not open this database's district-admin key; nothing was "
                                   "created. Is TIPLINE_INSTANCE the instance `tipline init` set up?") from exc
    if first_admin:
        # Committed: the escrow is gone from the database, so the token opens nothing now.
        token_file.unlink(missing_ok=True)
    click.echo(f"created {created} ({role}{', ' + school.upper() if school else ''})")
    click.echo(enrolment.totp_uri)
    click.echo(f"recovery key (shown once): {enrolment.recovery_code}")
    if first_admin:
        click.echo("This is the first district admin: the setup keys moved to this account, which now holds the "
                   "district-admin key and can grant every team's key. The setup link no longer works.")
    else:
        holder = "a member who holds the district-admin key" if role == "admin" else \
            "a member who holds the team's key (or a district admin)"
        click.echo(f"This account holds no keys yet: it opens no tip until {holder} grants them on the "
                   "console's Team & keys page.")
    _warn_no_admin_key(state, _setup_link(settings) if state == "setup" else None)


def _register_subcommands() -> None:
    # Subsystems own their commands.
    from tipline import worker

    main.add_command(worker.worker_command)
    from tipline import audit, retention

    main.add_command(audit.audit_command)
    main.add_command(retention.purge_command)


_register_subcommands()
