"""Routing, the core's part: where and when a tip arrived, and who the rules say must be told.

The rules themselves are a plugin (``plugins/routing_rules.py``, through ``tipline_route``);
this module builds the ``RouteContext`` they read from the district file and the time, calls
the hook, and reads the JSON lines ``tipline route`` takes. It knows no Flask and no database:
turning ``role:`` targets into console accounts happens when the outbox row is written
(``tipline.outbox``), and pages are queued by the on-call module.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import pluggy

from tipline import plugins as hooks
from tipline.config import ConfigError, District, parse_district
from tipline.schedule import school_time
from tipline.types import RouteAction, RouteContext, TipDraft, Triage

DEFAULT_CATEGORY = "unsure"


def context(district: District, school_code: str | None, now: datetime) -> RouteContext:
    """Where and when: the school's hours in its own zone, and the district file's addresses
    (kept only as the fallback when no console account holds a role)."""
    school = district.schools.get(school_code) if school_code else None
    when = school_time(district, school_code, now)
    return RouteContext(
        school=school_code, now=now, in_school_hours=when.in_hours,
        administrators=school.administrators if school else (),
        officers=school.officers if school else (),
        counselors=school.counselors if school else (),
        event_staff=when.staff,
    )


def route(pm: pluggy.PluginManager, district: District, draft: TipDraft, triage: Triage,
          now: datetime | None = None) -> tuple[RouteContext, list[RouteAction]]:
    """The routing context and the actions every ``tipline_route`` plugin asks for."""
    ctx = context(district, draft.school, now or draft.submitted_at)
    return ctx, hooks.route(pm, draft, triage, ctx)


def load_district(path: str | None = None) -> District:
    """The district file alone (``TIPLINE_CONFIG``, else the Westport demo): no secret, no database."""
    path = path if path is not None else os.environ.get("TIPLINE_CONFIG")
    problems: list[str] = []
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files("tipline").joinpath("data/demo-district.toml").read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"TIPLINE_CONFIG: cannot read {path} ({exc.strerror})"]) from exc
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"TIPLINE_CONFIG: {path} is not valid TOML ({exc})"]) from exc
    district = parse_district(data, problems)
    if problems:
        raise ConfigError(problems)
    return district


@dataclass(frozen=True)
class LineError:
    message: str


def parse_line(line: str, district: District, limit: int) -> TipDraft | LineError:
    """A TipDraft from one ``tipline route`` input line, or why the line is not one.

    ``submitted_at`` is required and must carry its offset: routing turns on the school's
    local time, and a naive time would be read in the wrong zone without a word.
    """
    # At most a form's text plus room for the other fields and JSON escapes; a longer line is
    # refused before it is parsed, so a 1 MB line costs nothing.
    if len(line) > 8 * limit + 4096:
        return LineError(f"line longer than {8 * limit + 4096:,} characters")
    try:
        raw = json.loads(line)
    except RecursionError:
        return LineError("JSON nested too deeply")
    except ValueError as exc:
        return LineError(f"not JSON ({exc})")
    if not isinstance(raw, dict):
        return LineError('expected a JSON object with "text" and "submitted_at"')
    text, category, school, when = raw.get("text"), raw.get("category"), raw.get("school"), raw.get("submitted_at")
    if not isinstance(text, str):
        return LineError('"text" must be a string')
    if len(text) > limit:
        return LineError(f'"text" is longer than the form allows ({limit:,} characters)')
    if category is not None and not isinstance(category, str):
        return LineError('"category" must be a string')
    if school is not None and (not isinstance(school, str) or school.upper() not in district.schools):
        return LineError(f'"school" must be one of the district\'s codes ({", ".join(sorted(district.schools))})')
    if not isinstance(when, str):
        return LineError('"submitted_at" is required: an ISO 8601 time with its offset, e.g. 2026-11-23T16:29-05:00')
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return LineError('"submitted_at" must be an ISO 8601 time with its offset, e.g. 2026-11-23T16:29-05:00')
    if moment.tzinfo is None or moment.utcoffset() is None:
        return LineError('"submitted_at" has no offset: add one (e.g. -05:00 or Z); a naive time is not guessed')
    return TipDraft(text=text, category=category or DEFAULT_CATEGORY, school=school.upper() if school else None,
                    submitted_at=moment)


def route_line(pm: pluggy.PluginManager, district: District, line: str, limit: int) -> dict[str, object]:
    """One ``tipline route`` output object for one input line (an ``error`` object for a bad line)."""
    draft = parse_line(line, district, limit)
    if isinstance(draft, LineError):
        return {"error": draft.message}
    result = hooks.triage(pm, draft)
    _, actions = route(pm, district, draft, result)
    return {
        "workflows": list(result.workflows), "priority": result.priority, "police": result.police,
        "review": result.review,
        "actions": [{"kind": a.kind, "target": a.target, "reason": a.reason} for a in actions],
    }
