"""All configuration, loaded and validated in one place.

Environment variables hold deployment settings and secrets; a TOML file (``TIPLINE_CONFIG``,
the Westport demo when unset) holds the district: schools, hours, closures, early dismissals,
events, contacts, police endpoints and what reporters are told. ``docs/district-config.md``
documents every key. Every mistake is collected and reported together, each with what to
change; a key this module does not know is a mistake too, because a misspelt ``officers``
would otherwise leave a school with no officer to tell.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHOOL_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
ENDPOINT = re.compile(r"^(?P<channel>[a-z][a-z0-9_-]*):(?P<destination>\S+)$")
ENDPOINT_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://\S+$")
# Staff notifications and admin alerts always travel by email (tipline.outbox).
NOTIFY_CHANNEL = "smtp"
# Longer than any summer: a longer closure is more likely a mistyped year, and would quietly
# turn months of school days into "out of hours".
MAX_CLOSURE_DAYS = 120
REQUIRED_POLICE = ("dispatch", "welfare")
DEFAULT_TRUSTED_ADULT = ("You can also tell a trusted adult: a parent, a teacher, a coach, a counselor "
                         "or the school nurse.")

# Keys each table may hold. A key found elsewhere is reported with where it belongs.
TOP_KEYS = ("district", "hours", "closures", "holidays", "early_dismissals", "police", "admin",
            "record_options", "guidance", "oncall", "schools")
DISTRICT_KEYS = ("name", "timezone", "retention_days")
HOURS_KEYS = ("days", "start", "end")
ADMIN_KEYS = ("alerts",)
# Read by the on-call work (issue 10); listed here so its keys are checked like the rest.
ONCALL_KEYS = ("ack_minutes",)
CLOSURE_KEYS = ("from", "to", "date", "name")
DISMISSAL_KEYS = ("date", "end", "name")
EVENT_KEYS = ("name", "date", "start", "end", "staff")
SCHOOL_KEYS = ("code", "name", "timezone", "hours", "closures", "holidays", "early_dismissals", "events",
               "administrators", "officers", "counselors", "police", "guidance")
GUIDANCE_KEYS = ("police_non_emergency", "trusted_adult", "counselors", "providers", "read_out_of_hours",
                 "read_when")
CONTACT_KEYS = ("name", "phone", "email", "url", "note")
# Words people reach for, and the key they meant.
SYNONYMS = {
    "sro": "officers", "sros": "officers", "sso": "officers", "ssos": "officers", "officer": "officers",
    "resource_officers": "officers", "security_officers": "officers", "police_officers": "officers",
    "principal": "administrators", "principals": "administrators", "admins": "administrators",
    "administration": "administrators", "counsellors": "counselors", "counselor": "counselors",
    "holiday": "closures", "breaks": "closures", "vacations": "closures", "closed": "closures",
    "games": "events", "activities": "events", "early_release": "early_dismissals",
    "early_releases": "early_dismissals", "half_days": "early_dismissals", "tz": "timezone",
    "time_zone": "timezone", "begin": "start", "finish": "end", "until": "to", "since": "from",
    "non_emergency": "police_non_emergency", "providers_contacts": "providers",
}


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
class Closure:
    """Days with no school, both ends included: a holiday is a closure one day long."""

    first: date
    last: date
    name: str = ""

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class EarlyDismissal:
    day: date
    end: time
    name: str = ""


@dataclass(frozen=True)
class Event:
    """A school activity outside teaching hours (a game, a concert) that counts as school time:
    a threat during it goes to the school's people, and ``staff`` (those on duty) are told."""

    name: str
    day: date
    start: time
    end: time
    staff: tuple[str, ...]


@dataclass(frozen=True)
class Contact:
    """Someone a reporter can turn to: an office or a service, never a named person."""

    name: str
    phone: str = ""
    email: str = ""
    url: str = ""
    note: str = ""


@dataclass(frozen=True)
class Guidance:
    """What reporter pages tell people besides the crisis numbers (safety FAQ Q6, Q8, Q12)."""

    police_non_emergency: str = ""
    trusted_adult: str = DEFAULT_TRUSTED_ADULT
    counselors: tuple[Contact, ...] = ()
    providers: tuple[Contact, ...] = ()
    # Whether someone reads ordinary tips at night, at weekends and in breaks, and the sentence
    # that says when they are read.
    read_out_of_hours: bool = False
    read_when: str = ""


@dataclass(frozen=True)
class School:
    code: str
    name: str
    hours: Hours
    timezone: ZoneInfo
    # The district's closures and early dismissals followed by the school's own; a school's
    # early dismissal on the same day replaces the district's.
    closures: tuple[Closure, ...] = ()
    administrators: tuple[str, ...] = ()
    officers: tuple[str, ...] = ()
    counselors: tuple[str, ...] = ()
    early_dismissals: tuple[EarlyDismissal, ...] = ()
    events: tuple[Event, ...] = ()
    # The school's own police endpoints, in place of the district's of the same name
    # (District.police_endpoint looks up both).
    police: Mapping[str, str] = field(default_factory=dict)
    guidance: Guidance = field(default_factory=Guidance)

    @property
    def holidays(self) -> frozenset[date]:
        """Single-day closures (the old ``holidays`` list)."""
        return frozenset(c.first for c in self.closures if c.first == c.last)


@dataclass(frozen=True)
class District:
    name: str
    timezone: ZoneInfo
    schools: dict[str, School]
    police: dict[str, str]
    admin_alerts: tuple[str, ...]
    retention_days: int
    closures: tuple[Closure, ...]
    hours: Hours
    # Options for workflow records, e.g. "deib.consequences.consequence" -> the district's list.
    record_options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # [oncall] ack_minutes: an unacknowledged page escalates after this many minutes.
    ack_minutes: int = 10
    early_dismissals: tuple[EarlyDismissal, ...] = ()
    guidance: Guidance = field(default_factory=Guidance)

    @property
    def holidays(self) -> frozenset[date]:
        return frozenset(c.first for c in self.closures if c.first == c.last)

    def police_endpoint(self, name: str, school: str | None = None) -> str | None:
        """The endpoint a forward named ``name`` goes to for a tip about ``school``."""
        found = self.schools.get(school) if school else None
        return (found.police.get(name) if found else None) or self.police.get(name)

    def staff_addresses(self) -> Iterator[tuple[str, str]]:
        """Every address notifications may go to, with where it is configured."""
        for address in self.admin_alerts:
            yield "admin.alerts", address
        for code, school in self.schools.items():
            for key in ("administrators", "officers", "counselors"):
                for address in getattr(school, key):
                    yield f"schools[{code}].{key}", address
            for i, event in enumerate(school.events):
                for address in event.staff:
                    yield f"schools[{code}].events[{i}].staff", address


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


# --- reading values -----------------------------------------------------------------------

def _suggest(key: str, allowed: Collection[str]) -> str:
    meant = SYNONYMS.get(key.lower())
    if meant in ("officers", "administrators", "counselors") and "staff" in allowed:
        meant = "staff"  # an event's people are its staff
    if meant in allowed:
        return f" (did you mean {meant!r}?)"
    close = difflib.get_close_matches(key.lower(), list(allowed), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return ""


def _table(raw: Any, where: str, allowed: Collection[str], problems: list[str],
           top_level: bool = False) -> Mapping[str, Any]:
    """``raw`` as a table, with each key it may not hold reported."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a table of keys ({', '.join(allowed)}), not {_kind(raw)}")
        return {}
    for key in raw:
        if key in allowed:
            continue
        meant = key if key in TOP_KEYS else SYNONYMS.get(key)
        if not top_level and meant in TOP_KEYS and SYNONYMS.get(key) not in allowed:
            # The classic slip: `holidays = [...]` written under [hours] lands in [hours].
            hint = (f" ({meant!r} belongs at the top of the file: a key written below a [table] header "
                    "belongs to that table, so move it above the first header)")
        else:
            hint = _suggest(key, allowed)
        problems.append(f"{where}: unknown key {key!r}{hint}")
    return raw


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _text(raw: Mapping[str, Any], key: str, where: str, problems: list[str], default: str = "",
          required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            problems.append(f"{where}.{key}: required")
        return default
    if not isinstance(value, str):
        problems.append(f"{where}.{key}: expected text in quotes, not {_kind(value)}")
        return default
    return value.strip()


def _list(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}.{key}: expected a list in brackets, e.g. {key} = [...], not {_kind(value)}")
        return []
    return value


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date like 2026-11-26")
        return None


def _time(value: Any, where: str, problems: list[str]) -> time | None:
    if isinstance(value, time):
        return value
    if value is None:
        problems.append(f"{where}: required, a time like \"07:30\"")
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a time like \"07:30\"")
        return None


def _hours(raw: Any, where: str, problems: list[str], default: Hours | None) -> Hours:
    if raw is None and default is not None:
        return default
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a table with start and end (\"07:30\")")
        return Hours(frozenset(range(5)), time(8), time(15))
    _table(raw, where, HOURS_KEYS, problems)
    days_raw = _list(raw, "days", where, problems) if "days" in raw else None
    days: set[int] = set(default.days) if default and days_raw is None else set()
    for d in days_raw or []:
        if d not in DAY_NAMES:
            problems.append(f"{where}.days: {d!r} is not one of {', '.join(DAY_NAMES)}")
        else:
            days.add(DAY_NAMES.index(d))
    if days_raw is not None and not days_raw:
        problems.append(f"{where}.days: name at least one school day, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", "
                        "\"fri\"]")
    parsed: list[time] = []
    for key in ("start", "end"):
        value = raw.get(key, None)
        if value is None and default is not None:
            parsed.append(default.start if key == "start" else default.end)
            continue
        got = _time(value, f"{where}.{key}", problems)
        parsed.append(got or (time(8) if key == "start" else time(15)))
    if parsed[0] >= parsed[1]:
        problems.append(f"{where}: start {parsed[0]:%H:%M} must be before end {parsed[1]:%H:%M}")
    return Hours(frozenset(days), parsed[0], parsed[1])


def _zone(name: Any, where: str, problems: list[str]) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: unknown time zone {name!r} (use an IANA name such as America/New_York)")
        return ZoneInfo("UTC")


def _closures(raw: Mapping[str, Any], where: str, problems: list[str]) -> list[Closure]:
    """``closures`` (dates and ranges) and the older ``holidays`` (dates) of one table."""
    out: list[Closure] = []
    for key in ("closures", "holidays"):
        for i, value in enumerate(_list(raw, key, where, problems)):
            at = f"{where}.{key}[{i}]"
            if not isinstance(value, Mapping):
                day = _date(value, f"{where}.{key}", problems)
                if day is not None:
                    out.append(Closure(day, day))
                continue
            if key == "holidays":
                problems.append(f"{at}: holidays are dates only; put ranges in closures = [...]")
                continue
            _table(value, at, CLOSURE_KEYS, problems)
            name = _text(value, "name", at, problems)
            if "date" in value:
                if "from" in value or "to" in value:
                    problems.append(f"{at}: give either date, or from and to, not both")
                day = _date(value["date"], f"{at}.date", problems)
                if day is not None:
                    out.append(Closure(day, day, name))
                continue
            if "from" not in value or "to" not in value:
                problems.append(f"{at}: a closure needs date = \"2026-11-26\", or from and to "
                                "(from = \"2027-06-18\", to = \"2027-08-31\")")
                continue
            first = _date(value["from"], f"{at}.from", problems)
            last = _date(value["to"], f"{at}.to", problems)
            if first is None or last is None:
                continue
            if last < first:
                problems.append(f"{at}: to {last} is before from {first}")
            elif (last - first).days + 1 > MAX_CLOSURE_DAYS:
                problems.append(f"{at}: {first} to {last} is {(last - first).days + 1} days long; a closure "
                                f"over {MAX_CLOSURE_DAYS} days is more likely a mistyped year")
            else:
                out.append(Closure(first, last, name))
    return out


def _dismissals(raw: Mapping[str, Any], where: str, problems: list[str]) -> list[EarlyDismissal]:
    out: list[EarlyDismissal] = []
    seen: set[date] = set()
    for i, value in enumerate(_list(raw, "early_dismissals", where, problems)):
        at = f"{where}.early_dismissals[{i}]"
        if not isinstance(value, Mapping):
            problems.append(f"{at}: expected {{ date = \"2027-03-11\", end = \"12:30\", name = \"...\" }}")
            continue
        _table(value, at, DISMISSAL_KEYS, problems)
        day = _date(value.get("date"), f"{at}.date", problems)
        end = _time(value.get("end"), f"{at}.end", problems)
        name = _text(value, "name", at, problems)
        if day is None or end is None:
            continue
        if day in seen:
            problems.append(f"{at}: {day} has two early dismissals in the same table")
        seen.add(day)
        out.append(EarlyDismissal(day, end, name))
    return out


def _check_dismissals(dismissals: Collection[EarlyDismissal], hours: Hours, where: str,
                      problems: list[str]) -> None:
    for d in dismissals:
        if d.day.weekday() not in hours.days:
            problems.append(f"{where}: early dismissal on {d.day} ({d.day:%A}) is not on a school day")
        elif not hours.start < d.end < hours.end:
            problems.append(f"{where}: early dismissal on {d.day} at {d.end:%H:%M} must fall between the "
                            f"day's start {hours.start:%H:%M} and its usual end {hours.end:%H:%M}")


def _emails(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    values: list[str] = []
    for v in _list(raw, key, where, problems):
        if not isinstance(v, str) or not EMAIL.match(v):
            problems.append(f"{where}.{key}: {v!r} is not an email address")
        else:
            values.append(v)
    return tuple(values)


def _events(raw: Mapping[str, Any], where: str, problems: list[str]) -> list[Event]:
    out: list[Event] = []
    for i, value in enumerate(_list(raw, "events", where, problems)):
        at = f"{where}.events[{i}]"
        if not isinstance(value, Mapping):
            problems.append(f"{at}: expected a table with name, date, start, end and staff")
            continue
        _table(value, at, EVENT_KEYS, problems)
        name = _text(value, "name", at, problems, required=True)
        day = _date(value.get("date"), f"{at}.date", problems) if "date" in value else None
        if "date" not in value:
            problems.append(f"{at}.date: required, a date like 2026-10-16")
        start = _time(value.get("start"), f"{at}.start", problems)
        end = _time(value.get("end"), f"{at}.end", problems)
        before = len(problems)
        staff = _emails(value, "staff", at, problems)
        if not staff and len(problems) == before:
            # During an event a threat goes to the school's people rather than straight to
            # police: someone on duty there must be told.
            problems.append(f"{at}.staff: list who is on duty at the event (e.g. the athletic director and "
                            "the officer there): a threat during it goes to them")
        if start is not None and end is not None and start >= end:
            problems.append(f"{at}: start {start:%H:%M} must be before end {end:%H:%M} on the same day "
                            "(split an event that runs past midnight in two)")
        if name and day is not None and start is not None and end is not None and start < end and staff:
            out.append(Event(name, day, start, end, staff))
    return out


def _police(raw: Any, where: str, problems: list[str], allowed: Collection[str] | None) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a table of endpoints, e.g. dispatch = \"webhook:https://...\"")
        return {}
    out: dict[str, str] = {}
    for key, value in raw.items():
        if allowed is not None and key not in allowed:
            # A school may only replace endpoints the district defines: routing names those.
            problems.append(f"{where}: unknown key {key!r}{_suggest(key, allowed)} (a school replaces the "
                            f"district's endpoints: {', '.join(allowed)})")
            continue
        if not ENDPOINT_NAME.match(str(key)):
            problems.append(f"{where}: {key!r} is not an endpoint name (lowercase letters, digits, - and _)")
            continue
        if not isinstance(value, str) or not ENDPOINT.match(value):
            problems.append(f"{where}.{key}: {value!r} must look like \"webhook:https://...\" or "
                            "\"smtp:address\"")
            continue
        out[str(key)] = value
    return out


def _contacts(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[Contact, ...]:
    out: list[Contact] = []
    for i, value in enumerate(_list(raw, key, where, problems)):
        at = f"{where}.{key}[{i}]"
        if not isinstance(value, Mapping):
            problems.append(f"{at}: expected {{ name = \"...\", phone = \"...\", email = \"...\", url = \"...\" }}")
            continue
        _table(value, at, CONTACT_KEYS, problems)
        contact = Contact(name=_text(value, "name", at, problems, required=True),
                          phone=_text(value, "phone", at, problems), email=_text(value, "email", at, problems),
                          url=_text(value, "url", at, problems), note=_text(value, "note", at, problems))
        if not (contact.phone or contact.email or contact.url):
            problems.append(f"{at}: give a phone, an email or a url, so a reporter can reach them")
        if contact.email and not EMAIL.match(contact.email):
            problems.append(f"{at}.email: {contact.email!r} is not an email address")
        if contact.url and not URL.match(contact.url):
            problems.append(f"{at}.url: {contact.url!r} must start with https:// or http://")
        out.append(contact)
    return tuple(out)


def _guidance(raw: Any, where: str, problems: list[str], base: Guidance) -> Guidance:
    if raw is None:
        return base
    table = _table(raw, where, GUIDANCE_KEYS, problems)
    read_out = table.get("read_out_of_hours", base.read_out_of_hours)
    if not isinstance(read_out, bool):
        problems.append(f"{where}.read_out_of_hours: expected true or false, not {_kind(read_out)}")
        read_out = base.read_out_of_hours
    return Guidance(
        police_non_emergency=_text(table, "police_non_emergency", where, problems, base.police_non_emergency),
        trusted_adult=_text(table, "trusted_adult", where, problems, base.trusted_adult),
        counselors=_contacts(table, "counselors", where, problems) if "counselors" in table else base.counselors,
        providers=_contacts(table, "providers", where, problems) if "providers" in table else base.providers,
        read_out_of_hours=read_out,
        read_when=_text(table, "read_when", where, problems, base.read_when),
    )


def _school(raw: Any, index: int, district_parts: dict[str, Any], problems: list[str]) -> School | None:
    if not isinstance(raw, Mapping):
        problems.append(f"schools[{index}]: expected a [[schools]] table")
        return None
    code_raw = raw.get("code", "")
    code = code_raw if isinstance(code_raw, str) else ""
    if not SCHOOL_CODE.match(code):
        problems.append(f"schools[{index}].code: {code_raw!r} must be 2-8 capital letters or digits, e.g. SHS")
        where = f"schools[{index}]"
    else:
        where = f"schools[{code}]"
    _table(raw, where, SCHOOL_KEYS, problems)
    name = _text(raw, "name", where, problems)
    if not name:
        problems.append(f"{where}.name: every school needs a name")
    hours = _hours(raw.get("hours"), f"{where}.hours", problems, district_parts["hours"])
    own_dismissals = _dismissals(raw, where, problems)
    own_days = {d.day for d in own_dismissals}
    dismissals = [d for d in district_parts["early_dismissals"] if d.day not in own_days] + own_dismissals
    _check_dismissals(dismissals, hours, where, problems)
    police = _police(raw.get("police"), f"{where}.police", problems, list(district_parts["police"]))
    return School(
        code=code,
        name=name,
        hours=hours,
        timezone=_zone(raw["timezone"], f"{where}.timezone", problems) if "timezone" in raw
        else district_parts["timezone"],
        closures=tuple(district_parts["closures"]) + tuple(_closures(raw, where, problems)),
        administrators=_emails(raw, "administrators", where, problems),
        officers=_emails(raw, "officers", where, problems),
        counselors=_emails(raw, "counselors", where, problems),
        early_dismissals=tuple(sorted(dismissals, key=lambda d: d.day)),
        events=tuple(sorted(_events(raw, where, problems), key=lambda e: (e.day, e.start))),
        police=police,
        guidance=_guidance(raw.get("guidance"), f"{where}.guidance", problems, district_parts["guidance"]),
    )


def parse_district(data: Mapping[str, Any], problems: list[str]) -> District:
    _table(data, "district file", TOP_KEYS, problems, top_level=True)
    meta = _table(data.get("district", {}), "district", DISTRICT_KEYS, problems)
    zone = _zone(meta.get("timezone", "America/New_York"), "district.timezone", problems)
    base_hours = _hours(data.get("hours", {"start": "08:00", "end": "15:00"}), "hours", problems, None)
    if not base_hours.days:
        base_hours = Hours(frozenset(range(5)), base_hours.start, base_hours.end)
    closures = _closures(data, "district file", problems)
    dismissals = _dismissals(data, "district file", problems)
    police = _police(data.get("police", {}), "police", problems, None)
    for key in REQUIRED_POLICE:
        if key not in police and not any(p.startswith(f"police.{key}:") for p in problems):
            problems.append(f"police.{key}: set an endpoint such as \"webhook:https://...\" or \"smtp:dispatch@...\"")
    guidance = _guidance(data.get("guidance", {}), "guidance", problems, Guidance())
    parts: dict[str, Any] = {"hours": base_hours, "timezone": zone, "closures": closures,
                             "early_dismissals": dismissals, "police": police, "guidance": guidance}
    schools: dict[str, School] = {}
    schools_raw = data.get("schools", [])
    if not isinstance(schools_raw, list):
        problems.append("schools: expected [[schools]] tables, one per school")
        schools_raw = []
    for i, raw in enumerate(schools_raw):
        school = _school(raw, i, parts, problems)
        if school is None:
            continue
        if school.code in schools:
            problems.append(f"schools[{i}].code: {school.code} appears twice")
        schools[school.code] = school
    if not schools:
        problems.append("schools: configure at least one [[schools]] entry")
    retention = meta.get("retention_days", 365)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        problems.append(f"district.retention_days: {retention!r} must be a whole number of days, at least 1")
        retention = 365
    admin = _table(data.get("admin", {}), "admin", ADMIN_KEYS, problems)
    _table(data.get("oncall", {}), "oncall", ONCALL_KEYS, problems)
    return District(
        name=_text(meta, "name", "district", problems, "School district"),
        timezone=zone,
        schools=schools,
        police=police,
        admin_alerts=_emails(admin, "alerts", "admin", problems),
        retention_days=retention,
        closures=tuple(closures),
        hours=base_hours,
        record_options=_record_options(data.get("record_options", {}), problems),
        ack_minutes=_ack_minutes(data.get("oncall", {}).get("ack_minutes", 10), problems),
        early_dismissals=tuple(sorted(dismissals, key=lambda d: d.day)),
        guidance=guidance,
    )


def _ack_minutes(raw: Any, problems: list[str]) -> int:
    if type(raw) is not int or not 1 <= raw <= 240:
        problems.append(f"oncall.ack_minutes: {raw!r} must be a whole number of minutes from 1 to 240")
        return 10
    return raw


def _record_options(raw: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(raw, Mapping):
        problems.append("record_options: expected a table of \"workflow.step.record\" = [\"option\", ...]")
        return out
    for key, values in raw.items():
        if key.count(".") != 2 or not isinstance(values, list) or not values:
            problems.append(f"record_options.{key}: use \"workflow.step.record\" = [\"option\", ...]")
            continue
        out[key] = tuple(str(v) for v in values)
    return out


def channel_problems(district: District, channels: Collection[str]) -> list[str]:
    """Each configured destination that no loaded delivery plugin can send.

    ``channels`` are those the plugin manager delivers (``tipline.plugins.delivery_channels``);
    the app factory and ``tipline check-config`` both ask, since this module knows no plugins.
    """
    problems: list[str] = []
    loaded = ", ".join(sorted(channels)) or "none"

    def check(where: str, value: str) -> None:
        match = ENDPOINT.match(value)
        if match and match["channel"] not in channels:
            problems.append(f"{where}: nothing can send {match['channel']!r} ({value}); the loaded delivery "
                            f"plugins send: {loaded}. Use one of those, or install and enable a plugin "
                            f"that delivers {match['channel']!r}")

    for name, value in district.police.items():
        check(f"police.{name}", value)
    for code, school in district.schools.items():
        for name, value in school.police.items():
            check(f"schools[{code}].police.{name}", value)
    if NOTIFY_CHANNEL not in channels:
        first = next(district.staff_addresses(), None)
        if first is not None:
            problems.append(f"{first[0]}: staff notifications and admin alerts go by email, but no loaded "
                            f"plugin sends {NOTIFY_CHANNEL!r} (loaded: {loaded}); enable the smtp plugin")
    return problems


def read_district(path: str | None, problems: list[str]) -> District:
    """Parse the district file at ``path`` (the demo district when ``None``), adding to ``problems``."""
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files("tipline").joinpath("data/demo-district.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        problems.append(f"TIPLINE_CONFIG: no file at {path}")
        data = {}
    except IsADirectoryError:
        problems.append(f"TIPLINE_CONFIG: {path} is a folder, not a file")
        data = {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"TIPLINE_CONFIG: {path} is not valid TOML ({exc})")
        data = {}
    return parse_district(data, problems)


_read_district = read_district


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
