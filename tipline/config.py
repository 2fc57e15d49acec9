"""All configuration, loaded and validated in one place.

Environment variables hold deployment settings and secrets; a TOML file (``TIPLINE_CONFIG``,
the Westport demo when unset) holds the district: schools, hours, holidays and contacts.
Every mistake is collected and reported together, each with what to change.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHOOL_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
ENDPOINT = re.compile(r"^(?P<channel>[a-z][a-z0-9_-]*):(?P<destination>\S+)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(Exception):
    """Raised with every problem found; str() lists them one a line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Tipline configuration is not valid:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Hours:
    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class School:
    code: str
    name: str
    hours: Hours
    timezone: ZoneInfo
    holidays: frozenset[date]
    administrators: tuple[str, ...] = ()
    officers: tuple[str, ...] = ()
    counselors: tuple[str, ...] = ()


@dataclass(frozen=True)
class District:
    name: str
    timezone: ZoneInfo
    schools: dict[str, School]
    police: dict[str, str]
    admin_alerts: tuple[str, ...]
    retention_days: int
    holidays: frozenset[date]
    hours: Hours
    # Options for workflow records, e.g. "deib.consequences.consequence" -> the district's list.
    record_options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # [oncall] ack_minutes: an unacknowledged page escalates after this many minutes.
    ack_minutes: int = 10


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    secret_key: str
    instance_path: Path
    district: District
    plugins: tuple[str, ...] | None = None
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 5
    max_message_chars: int = 10_000
    smtp_url: str | None = None
    webhook_secret: str | None = None
    dispatch_key_path: Path | None = None
    secure_cookies: bool = False
    rate_limits: bool = True
    # How many reverse proxies in front set X-Forwarded-For/-Proto; 0 ignores those headers.
    trusted_proxies: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def max_body_bytes(self) -> int:
        # Room for every allowed file plus the form itself; anything above this is refused
        # before it is read, so per-file limits (which keep the text) apply below it.
        return self.max_attachments * self.max_attachment_bytes + 1024 * 1024


def _hours(raw: Any, where: str, problems: list[str], default: Hours | None) -> Hours:
    if raw is None and default is not None:
        return default
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a table with start and end (\"07:30\")")
        return Hours(frozenset(range(5)), time(8), time(15))
    days_raw = raw.get("days", None)
    days: set[int] = set(default.days) if default and days_raw is None else set()
    for d in days_raw or []:
        if d not in DAY_NAMES:
            problems.append(f"{where}.days: {d!r} is not one of {', '.join(DAY_NAMES)}")
        else:
            days.add(DAY_NAMES.index(d))
    parsed: list[time] = []
    for key in ("start", "end"):
        value = raw.get(key, None)
        if value is None and default is not None:
            parsed.append(default.start if key == "start" else default.end)
            continue
        try:
            parsed.append(time.fromisoformat(str(value)))
        except ValueError:
            problems.append(f"{where}.{key}: {value!r} is not a time like \"07:30\"")
            parsed.append(time(8) if key == "start" else time(15))
    if parsed[0] >= parsed[1]:
        problems.append(f"{where}: start {parsed[0]} must be before end {parsed[1]}")
    return Hours(frozenset(days), parsed[0], parsed[1])


def _zone(name: Any, where: str, problems: list[str]) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: unknown time zone {name!r} (use an IANA name such as America/New_York)")
        return ZoneInfo("UTC")


def _dates(raw: Any, where: str, problems: list[str]) -> frozenset[date]:
    out: set[date] = set()
    for value in raw or []:
        try:
            out.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            problems.append(f"{where}: {value!r} is not a date like 2026-11-26")
    return frozenset(out)


def _emails(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    values = tuple(str(v) for v in (raw or []))
    for v in values:
        if not EMAIL.match(v):
            problems.append(f"{where}: {v!r} is not an email address")
    return values


def parse_district(data: Mapping[str, Any], problems: list[str]) -> District:
    meta = data.get("district", {})
    zone = _zone(meta.get("timezone", "America/New_York"), "district.timezone", problems)
    base_hours = _hours(data.get("hours", {"start": "08:00", "end": "15:00"}), "hours", problems, None)
    if not base_hours.days:
        base_hours = Hours(frozenset(range(5)), base_hours.start, base_hours.end)
    holidays = _dates(data.get("holidays"), "holidays", problems)
    schools: dict[str, School] = {}
    for i, raw in enumerate(data.get("schools", [])):
        where = f"schools[{i}]"
        code = str(raw.get("code", ""))
        if not SCHOOL_CODE.match(code):
            problems.append(f"{where}.code: {code!r} must be 2-8 capital letters or digits, e.g. SHS")
        if code in schools:
            problems.append(f"{where}.code: {code} appears twice")
        name = str(raw.get("name", "")).strip()
        if not name:
            problems.append(f"{where}.name: every school needs a name")
        schools[code] = School(
            code=code,
            name=name,
            hours=_hours(raw.get("hours"), f"{where}.hours", problems, base_hours),
            timezone=_zone(raw["timezone"], f"{where}.timezone", problems) if "timezone" in raw else zone,
            holidays=holidays | _dates(raw.get("holidays"), f"{where}.holidays", problems),
            administrators=_emails(raw.get("administrators"), f"{where}.administrators", problems),
            officers=_emails(raw.get("officers"), f"{where}.officers", problems),
            counselors=_emails(raw.get("counselors"), f"{where}.counselors", problems),
        )
    if not schools:
        problems.append("schools: configure at least one [[schools]] entry")
    police = {str(k): str(v) for k, v in data.get("police", {}).items()}
    for key in ("dispatch", "welfare"):
        if key not in police:
            problems.append(f"police.{key}: set an endpoint such as \"webhook:https://...\" or \"smtp:dispatch@...\"")
    for key, value in police.items():
        if not ENDPOINT.match(value):
            problems.append(f"police.{key}: {value!r} must look like \"webhook:https://...\" or \"smtp:address\"")
    retention = meta.get("retention_days", 365)
    if not isinstance(retention, int) or retention < 1:
        problems.append(f"district.retention_days: {retention!r} must be a whole number of days, at least 1")
        retention = 365
    return District(
        name=str(meta.get("name", "School district")),
        timezone=zone,
        schools=schools,
        police=police,
        admin_alerts=_emails(data.get("admin", {}).get("alerts"), "admin.alerts", problems),
        retention_days=retention,
        holidays=holidays,
        hours=base_hours,
        record_options=_record_options(data.get("record_options", {}), problems),
        ack_minutes=_ack_minutes(data.get("oncall", {}).get("ack_minutes", 10), problems),
    )


def _ack_minutes(raw: Any, problems: list[str]) -> int:
    if type(raw) is not int or not 1 <= raw <= 240:
        problems.append(f"oncall.ack_minutes: {raw!r} must be a whole number of minutes from 1 to 240")
        return 10
    return raw


def _record_options(raw: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, values in raw.items():
        if key.count(".") != 2 or not isinstance(values, list) or not values:
            problems.append(f"record_options.{key}: use \"workflow.step.record\" = [\"option\", ...]")
            continue
        out[key] = tuple(str(v) for v in values)
    return out


def _read_district(path: str | None, problems: list[str]) -> District:
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files("tipline").joinpath("data/demo-district.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        problems.append(f"TIPLINE_CONFIG: no file at {path}")
        data = {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"TIPLINE_CONFIG: {path} is not valid TOML ({exc})")
        data = {}
    return parse_district(data, problems)


def _read_optional(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def load_settings(environ: Mapping[str, str] | None = None, instance_path: Path | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build Settings from the environment (and test overrides), or raise ConfigError."""
    env = dict(os.environ if environ is None else environ)
    over = dict(overrides or {})
    problems: list[str] = []
    instance = Path(over.pop("instance_path", None) or env.get("TIPLINE_INSTANCE") or instance_path
                    or Path.cwd() / "instance")
    db_url = over.pop("database_url", None) or env.get("TIPLINE_DATABASE_URL") or f"sqlite:///{instance / 'tipline.db'}"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", db_url):
        problems.append("TIPLINE_DATABASE_URL: use sqlite:///path or postgresql+psycopg://user@host/db")
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    redis_url = over.pop("redis_url", None) or env.get("TIPLINE_REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("TIPLINE_REDIS_URL: use redis://host:6379/0")
    secret = over.pop("secret_key", None) or env.get("TIPLINE_SECRET_KEY") or ""
    if not secret:
        secret_file = instance / "secret_key"
        if secret_file.exists():
            secret = secret_file.read_text().strip()
        else:
            problems.append("TIPLINE_SECRET_KEY: not set and instance/secret_key is missing (run `tipline init`)")
    elif len(secret) < 32:
        problems.append("TIPLINE_SECRET_KEY: use at least 32 random characters "
                        "(python -c 'import secrets;print(secrets.token_urlsafe(48))')")
    district = over.pop("district", None) or _read_district(env.get("TIPLINE_CONFIG"), problems)
    plugins_env = env.get("TIPLINE_PLUGINS")
    plugins = over.pop("plugins", None)
    if plugins is None and plugins_env:
        plugins = tuple(p.strip() for p in plugins_env.split(",") if p.strip())
    dispatch_key = env.get("TIPLINE_DISPATCH_KEY_FILE")
    proxies_raw = str(over.pop("trusted_proxies", None) or env.get("TIPLINE_TRUSTED_PROXIES") or "0").strip()
    if not proxies_raw.isdigit() or int(proxies_raw) > 5:
        problems.append(f"TIPLINE_TRUSTED_PROXIES: {proxies_raw!r} must be the number of reverse proxies in front "
                        "of Tipline that add X-Forwarded-For (0 when clients connect directly, usually 1)")
        proxies_raw = "0"
    settings = Settings(
        database_url=db_url,
        redis_url=redis_url,
        secret_key=secret,
        instance_path=instance,
        district=district,
        plugins=plugins,
        smtp_url=over.pop("smtp_url", None) or env.get("TIPLINE_SMTP_URL") or None,
        webhook_secret=over.pop("webhook_secret", None) or env.get("TIPLINE_WEBHOOK_SECRET")
        or _read_optional(instance / "webhook_secret"),
        # Outside instance/ on purpose: only the delivery worker's host should hold it.
        dispatch_key_path=Path(dispatch_key) if dispatch_key else instance.parent / "worker-keys" / "dispatch.key",
        secure_cookies=bool(over.pop("secure_cookies", env.get("TIPLINE_SECURE_COOKIES", "0") == "1")),
        # Only for benchmarks on loopback: one address sends everything there.
        rate_limits=over.pop("rate_limits", env.get("TIPLINE_RATE_LIMITS", "on") != "off"),
        trusted_proxies=int(proxies_raw),
        **{k: over.pop(k) for k in list(over) if k in {"max_attachment_bytes", "max_attachments",
                                                         "max_message_chars"}},
        extra=over,
    )
    if problems:
        raise ConfigError(problems)
    return settings
