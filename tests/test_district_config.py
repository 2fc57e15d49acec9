"""The district file: every mistake named with its table, channels nothing can send refused,
closures, early dismissals, events, per-school police and reporter guidance read, the
`tipline check-config` command, and `tipline init` adding a later school's keys."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import date, time
from pathlib import Path

import pluggy
import pytest

from tipline import plugins as hooks
from tipline.app import create_app
from tipline.config import (
    DEFAULT_TRUSTED_ADULT,
    Closure,
    ConfigError,
    District,
    channel_problems,
    load_settings,
    parse_district,
)
from tipline.hookspecs import hookimpl

ROOT = Path(__file__).resolve().parent.parent
TIPLINE = Path(sys.executable).parent / "tipline"


def district_toml(top: str = "", tables: str = "", school: str = "", after: str = "") -> str:
    """A valid district file with pieces added: top-level keys, district tables, keys of the
    one school, and tables after it (its [[schools.events]], another [[schools]])."""
    return f"""
{top}
[district]
name = "Test District"
timezone = "America/New_York"
[hours]
start = "08:00"
end = "15:00"
[police]
dispatch = "webhook:http://127.0.0.1:9/d"
welfare = "smtp:welfare@pd.example.org"
{tables}
[[schools]]
code = "AHS"
name = "A High School"
administrators = ["principal@a.example.org"]
officers = ["sro@a.example.org"]
{school}
{after}
"""


def parse(text: str) -> tuple[District, list[str]]:
    problems: list[str] = []
    district = parse_district(tomllib.loads(text), problems)
    return district, problems


def test_the_base_file_is_clean() -> None:
    district, problems = parse(district_toml())
    assert problems == []
    assert district.schools["AHS"].officers == ("sro@a.example.org",)


# Each mistake and the exact line that names it.
MISTAKES = [
    pytest.param(district_toml(school='sro = ["sro@a.example.org"]'),
                 "schools[AHS]: unknown key 'sro' (did you mean 'officers'?)", id="sro-in-school"),
    pytest.param(district_toml(school='counsellors = ["c@a.example.org"]'),
                 "schools[AHS]: unknown key 'counsellors' (did you mean 'counselors'?)", id="counsellors"),
    pytest.param(district_toml().replace('end = "15:00"', 'end = "15:00"\nholidays = ["2026-11-26"]'),
                 "hours: unknown key 'holidays' ('holidays' belongs at the top of the file: a key written below a "
                 "[table] header belongs to that table, so move it above the first header)", id="holidays-in-hours"),
    pytest.param(district_toml(top='polcie = "x"'), "district file: unknown key 'polcie' (did you mean 'police'?)",
                 id="top-level-typo"),
    pytest.param(district_toml().replace('timezone = "America', 'time_zone = "America'),
                 "district: unknown key 'time_zone' (did you mean 'timezone'?)", id="district-table"),
    pytest.param(district_toml(tables='[admin]\nalert = ["a@a.example.org"]'),
                 "admin: unknown key 'alert' (did you mean 'alerts'?)", id="admin-table"),
    pytest.param(district_toml(school='hours = { start = "08:00", finish = "14:00" }'),
                 "schools[AHS].hours: unknown key 'finish' (did you mean 'end'?)", id="school-hours"),
    pytest.param(district_toml(school='officers = "sro@a.example.org"').replace(
        'officers = ["sro@a.example.org"]\n', "", 1),
        "schools[AHS].officers: expected a list in brackets, e.g. officers = [...], not the text "
        "'sro@a.example.org'", id="officers-not-a-list"),
    pytest.param(district_toml(school='counselors = ["not-an-address"]'),
                 "schools[AHS].counselors: 'not-an-address' is not an email address", id="bad-email"),
    pytest.param(district_toml(top='closures = [{ from = "2027-08-31", to = "2027-06-18" }]'),
                 "district file.closures[0]: to 2027-06-18 is before from 2027-08-31", id="closure-reversed"),
    pytest.param(district_toml(top='closures = [{ from = "2027-06-18", to = "2028-08-31", name = "Summer" }]'),
                 "district file.closures[0]: 2027-06-18 to 2028-08-31 is 441 days long; a closure over 120 days "
                 "is more likely a mistyped year", id="closure-too-long"),
    pytest.param(district_toml(top='closures = [{ from = "2027-06-18", name = "Summer" }]'),
                 "district file.closures[0]: a closure needs date = \"2026-11-26\", or from and to (from = "
                 "\"2027-06-18\", to = \"2027-08-31\")", id="closure-no-end"),
    pytest.param(district_toml(top='closures = [{ date = "2027-01-18", from = "2027-01-18", to = "2027-01-19" }]'),
                 "district file.closures[0]: give either date, or from and to, not both", id="closure-both"),
    pytest.param(district_toml(top='closures = [{ from = "2027-06-18", to = "2027-08-31", nmae = "Summer" }]'),
                 "district file.closures[0]: unknown key 'nmae' (did you mean 'name'?)", id="closure-key"),
    pytest.param(district_toml(top='closures = ["2026-02-30"]'),
                 "district file.closures: '2026-02-30' is not a date like 2026-11-26", id="closure-bad-date"),
    pytest.param(district_toml(top='holidays = [{ from = "2026-12-24", to = "2027-01-01" }]'),
                 "district file.holidays[0]: holidays are dates only; put ranges in closures = [...]",
                 id="holiday-range"),
    pytest.param(district_toml(top='early_dismissals = [{ date = "2027-03-11" }]'),
                 "district file.early_dismissals[0].end: required, a time like \"07:30\"", id="dismissal-no-end"),
    pytest.param(district_toml(top='early_dismissals = [{ date = "2027-03-11", end = "noon" }]'),
                 "district file.early_dismissals[0].end: 'noon' is not a time like \"07:30\"",
                 id="dismissal-bad-time"),
    pytest.param(district_toml(top='early_dismissals = [{ date = "2027-03-13", end = "12:00" }]'),
                 "schools[AHS]: early dismissal on 2027-03-13 (Saturday) is not on a school day",
                 id="dismissal-weekend"),
    pytest.param(district_toml(school='early_dismissals = [{ date = "2027-03-11", end = "15:30" }]'),
                 "schools[AHS]: early dismissal on 2027-03-11 at 15:30 must fall between the day's start 08:00 "
                 "and its usual end 15:00", id="dismissal-after-end"),
    pytest.param(district_toml(top='early_dismissals = [{ date = "2027-03-11", end = "12:00" }, '
                                   '{ date = "2027-03-11", end = "13:00" }]'),
                 "district file.early_dismissals[1]: 2027-03-11 has two early dismissals in the same table",
                 id="dismissal-twice"),
    pytest.param(district_toml(top='early_dismissals = [{ date = "2027-03-11", end = "12:00", why = "PD" }]'),
                 "district file.early_dismissals[0]: unknown key 'why'", id="dismissal-key"),
    pytest.param(district_toml(after='[[schools.events]]\nname = "Game"\ndate = "2026-10-16"\nstart = "19:30"\n'
                                     'end = "22:00"'),
                 "schools[AHS].events[0].staff: list who is on duty at the event (e.g. the athletic director and "
                 "the officer there): a threat during it goes to them", id="event-no-staff"),
    pytest.param(district_toml(after='[[schools.events]]\nname = "Game"\ndate = "2026-10-16"\nstart = "19:30"\n'
                                     'end = "22:00"\nstaff = []'),
                 "schools[AHS].events[0].staff: list who is on duty at the event (e.g. the athletic director and "
                 "the officer there): a threat during it goes to them", id="event-empty-staff"),
    pytest.param(district_toml(after='[[schools.events]]\nname = "Lock-in"\ndate = "2026-10-16"\n'
                                     'start = "21:00"\nend = "02:00"\nstaff = ["ad@a.example.org"]'),
                 "schools[AHS].events[0]: start 21:00 must be before end 02:00 on the same day (split an event "
                 "that runs past midnight in two)", id="event-past-midnight"),
    pytest.param(district_toml(after='[[schools.events]]\nname = "Game"\nstart = "19:30"\nend = "22:00"\n'
                                     'staff = ["ad@a.example.org"]'),
                 "schools[AHS].events[0].date: required, a date like 2026-10-16", id="event-no-date"),
    pytest.param(district_toml(after='[[schools.events]]\ndate = "2026-10-16"\nstart = "19:30"\nend = "22:00"\n'
                                     'staff = ["ad@a.example.org"]'),
                 "schools[AHS].events[0].name: required", id="event-no-name"),
    pytest.param(district_toml(after='[[schools.events]]\nname = "Game"\ndate = "2026-10-16"\nstart = "19:30"\n'
                                     'end = "22:00"\nstaff = ["ad@a.example.org"]\nsro = ["sro@a.example.org"]'),
                 "schools[AHS].events[0]: unknown key 'sro' (did you mean 'staff'?)", id="event-key"),
    pytest.param(district_toml(school='police = { dispach = "webhook:http://127.0.0.1:9/a" }'),
                 "schools[AHS].police: unknown key 'dispach' (did you mean 'dispatch'?) (a school replaces the "
                 "district's endpoints: dispatch, welfare)", id="school-police-typo"),
    pytest.param(district_toml(school='police = { dispatch = "somewhere" }'),
                 "schools[AHS].police.dispatch: 'somewhere' must look like \"webhook:https://...\" or "
                 "\"smtp:address\"", id="school-police-value"),
    pytest.param(district_toml().replace('dispatch = "webhook:http://127.0.0.1:9/d"\n', ""),
                 "police.dispatch: set an endpoint such as \"webhook:https://...\" or \"smtp:dispatch@...\"",
                 id="no-dispatch"),
    pytest.param(district_toml(tables='[guidance]\nread_out_of_hours = "no"'),
                 "guidance.read_out_of_hours: expected true or false, not the text 'no'", id="guidance-bool"),
    pytest.param(district_toml(tables='[guidance]\nnon_emergency = "(203) 341-6000"'),
                 "guidance: unknown key 'non_emergency' (did you mean 'police_non_emergency'?)", id="guidance-key"),
    pytest.param(district_toml(tables='[guidance]\nproviders = [{ name = "Clinic" }]'),
                 "guidance.providers[0]: give a phone, an email or a url, so a reporter can reach them",
                 id="contact-unreachable"),
    pytest.param(district_toml(tables='[guidance]\nproviders = [{ name = "Clinic", url = "clinic.example.org" }]'),
                 "guidance.providers[0].url: 'clinic.example.org' must start with https:// or http://",
                 id="contact-url"),
    pytest.param(district_toml(tables='[guidance]\ncounselors = [{ name = "Office", phone = 2035550100 }]'),
                 "guidance.counselors[0].phone: expected text in quotes, not 2035550100", id="contact-phone-number"),
    pytest.param(district_toml(school='guidance = { counselors = [{ name = "Office", mail = "c@a.example.org" }] }'),
                 "schools[AHS].guidance.counselors[0]: unknown key 'mail' (did you mean 'email'?)",
                 id="school-contact-key"),
    pytest.param(district_toml(tables='[oncall]\nack_minute = 5'),
                 "oncall: unknown key 'ack_minute' (did you mean 'ack_minutes'?)", id="oncall-key"),
    pytest.param(district_toml(tables='[hours2]\nstart = "08:00"'),
                 "district file: unknown key 'hours2' (did you mean 'hours'?)", id="unknown-table"),
    pytest.param(district_toml().replace('start = "08:00"', 'start = "08:00"\ndays = []'),
                 "hours.days: name at least one school day, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
                 id="no-days"),
]


@pytest.mark.parametrize(("text", "message"), MISTAKES)
def test_each_mistake_is_named(text: str, message: str) -> None:
    _, problems = parse(text)
    assert message in problems, problems


def test_schools_as_a_table_not_a_list() -> None:
    text = district_toml().replace("[[schools]]", "[schools]")
    _, problems = parse(text)
    assert "schools: expected [[schools]] tables, one per school" in problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = district_toml(top='closures = ["2026-02-30"]', school='sro = ["x@a.example.org"]',
                         after='[[schools.events]]\nname = "Game"\ndate = "2026-10-16"\nstart = "19:30"\nend = "22:00"')
    path = tmp_path / "district.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings({"TIPLINE_SECRET_KEY": "k" * 40, "TIPLINE_INSTANCE": str(tmp_path), "TIPLINE_CONFIG": str(path)})
    assert len(err.value.problems) == 3
    assert "unknown key 'sro'" in str(err.value) and "2026-02-30" in str(err.value) and "staff" in str(err.value)


# --- what the file now holds -----------------------------------------------------------------

FULL = district_toml(
    top='''holidays = ["2026-11-26"]
closures = ["2027-01-18", { from = "2027-06-18", to = "2027-08-31", name = "Summer" }]
early_dismissals = [{ date = "2026-11-25", end = "12:00", name = "Before Thanksgiving" }]''',
    tables='''[guidance]
police_non_emergency = "(203) 555-0100"
read_when = "On school days."
providers = [{ name = "Crisis line", phone = "988" }]
[admin]
alerts = ["admin@a.example.org"]''',
    school='''police = { dispatch = "smtp:dispatch@pd-a.example.org" }
closures = [{ date = "2027-03-12", name = "Teacher day" }]
early_dismissals = [{ date = "2026-11-25", end = "11:00", name = "High school before Thanksgiving" }]
guidance = { police_non_emergency = "(203) 555-0199", counselors = [
  { name = "Counseling", email = "c@a.example.org" }] }''',
    after='''[[schools.events]]
name = "Home game"
date = "2026-10-16"
start = "19:30"
end = "22:00"
staff = ["athletics@a.example.org", "sro@a.example.org"]
[[schools]]
code = "BES"
name = "B Elementary"
administrators = ["principal@b.example.org"]''')


def test_closures_dismissals_events_police_and_guidance_are_read() -> None:
    district, problems = parse(FULL)
    assert problems == []
    a, b = district.schools["AHS"], district.schools["BES"]
    # The old holidays list still reads, as single days, beside closures' dates and ranges.
    assert Closure(date(2026, 11, 26), date(2026, 11, 26)) in district.closures
    assert Closure(date(2027, 6, 18), date(2027, 8, 31), "Summer") in district.closures
    assert district.holidays == {date(2026, 11, 26), date(2027, 1, 18)}
    assert Closure(date(2027, 3, 12), date(2027, 3, 12), "Teacher day") in a.closures
    assert Closure(date(2027, 3, 12), date(2027, 3, 12), "Teacher day") not in b.closures
    # A school's early dismissal on a day replaces the district's for that school only.
    assert [(d.day, d.end) for d in a.early_dismissals] == [(date(2026, 11, 25), time(11, 0))]
    assert [(d.day, d.end) for d in b.early_dismissals] == [(date(2026, 11, 25), time(12, 0))]
    assert a.events[0].staff == ("athletics@a.example.org", "sro@a.example.org")
    assert b.events == ()
    # Police: the school's own dispatch, the district's welfare; the other school has the default.
    assert district.police_endpoint("dispatch", "AHS") == "smtp:dispatch@pd-a.example.org"
    assert district.police_endpoint("welfare", "AHS") == "smtp:welfare@pd.example.org"
    assert district.police_endpoint("dispatch", "BES") == "webhook:http://127.0.0.1:9/d"
    assert district.police_endpoint("dispatch", None) == "webhook:http://127.0.0.1:9/d"
    # Guidance: a school's keys replace the district's one by one.
    assert a.guidance.police_non_emergency == "(203) 555-0199"
    assert b.guidance.police_non_emergency == "(203) 555-0100"
    assert a.guidance.counselors[0].email == "c@a.example.org" and b.guidance.counselors == ()
    assert a.guidance.providers == b.guidance.providers == district.guidance.providers
    assert a.guidance.read_when == "On school days." and not a.guidance.read_out_of_hours
    assert a.guidance.trusted_adult == DEFAULT_TRUSTED_ADULT
    with pytest.raises(AttributeError):
        a.guidance.read_out_of_hours = True  # type: ignore[misc]


def test_per_school_police_endpoint_is_used_for_forwards() -> None:
    from tipline.outbox import endpoint

    district, _ = parse(FULL)
    assert endpoint(district, "dispatch", "AHS") == ("smtp", "dispatch@pd-a.example.org")
    assert endpoint(district, "dispatch", "BES") == ("webhook", "http://127.0.0.1:9/d")
    assert endpoint(district, "dispatch") == ("webhook", "http://127.0.0.1:9/d")


def test_demo_district_has_calendar_and_officer_pairings(tmp_path: Path) -> None:
    district = load_settings({"TIPLINE_SECRET_KEY": "k" * 40, "TIPLINE_INSTANCE": str(tmp_path)}).district
    names = {c.name for c in district.closures}
    assert {"Summer 2027", "Winter break", "February break", "April break"} <= names
    ranges = {c.name: (c.first, c.last) for c in district.closures}
    assert ranges["Winter break"] == (date(2026, 12, 24), date(2027, 1, 1))
    assert district.early_dismissals
    assert any(e.start >= time(19) for e in district.schools["SHS"].events)
    officers = {code: s.officers[0] for code, s in district.schools.items()}
    # The FAQ's pairings: one SSO shared by LLS & GFS, by CES & CMS, by SES & KHS; BMS's own; SHS's SRO.
    assert officers["LLS"] == officers["GFS"] and officers["CES"] == officers["CMS"]
    assert officers["SES"] == officers["KHS"]
    assert len({officers["LLS"], officers["CES"], officers["SES"], officers["BMS"], officers["SHS"]}) == 5
    assert officers["SHS"].startswith("sro.")
    assert district.guidance.police_non_emergency.endswith("(203) 341-6000")
    assert not district.guidance.read_out_of_hours and district.guidance.read_when


def test_every_key_is_documented_and_the_example_is_valid() -> None:
    import re

    from tipline import config

    doc = (ROOT / "docs" / "district-config.md").read_text()
    tables = (config.TOP_KEYS, config.DISTRICT_KEYS, config.HOURS_KEYS, config.ADMIN_KEYS, config.CLOSURE_KEYS,
              config.DISMISSAL_KEYS, config.EVENT_KEYS, config.SCHOOL_KEYS, config.GUIDANCE_KEYS,
              config.CONTACT_KEYS, config.REQUIRED_POLICE, config.ONCALL_KEYS)
    for key in {k for keys in tables for k in keys}:
        assert any(f"`{form}`" in doc for form in (key, f"[{key}]", f"[[{key}]]")), f"{key} is not documented"
    example = re.search(r"## Example\n\n```toml\n(.*?)```", doc, re.S)
    assert example is not None
    district, problems = parse(example.group(1))
    assert problems == [] and channel_problems(district, {"smtp", "webhook"}) == []


# --- channels nothing can send ------------------------------------------------------------------

def test_channels_come_from_the_delivery_plugins() -> None:
    assert hooks.delivery_channels(hooks.make_manager()) >= {"smtp", "webhook"}
    assert hooks.delivery_channels(hooks.make_manager(["threat", "routing_rules"])) == frozenset()


def test_unsendable_channels_are_named() -> None:
    district, problems = parse(district_toml(school='police = { welfare = "sms:+12035550100" }').replace(
        'dispatch = "webhook:http://127.0.0.1:9/d"', 'dispatch = "pager:+12035550111"'))
    assert problems == []
    found = channel_problems(district, {"smtp", "webhook"})
    assert found == [
        "police.dispatch: nothing can send 'pager' (pager:+12035550111); the loaded delivery plugins send: smtp, "
        "webhook. Use one of those, or install and enable a plugin that delivers 'pager'",
        "schools[AHS].police.welfare: nothing can send 'sms' (sms:+12035550100); the loaded delivery plugins "
        "send: smtp, webhook. Use one of those, or install and enable a plugin that delivers 'sms'",
    ]
    assert channel_problems(district, {"smtp", "webhook", "sms", "pager"}) == []
    # Staff notifications travel by email: a district with staff addresses needs smtp.
    without_smtp = channel_problems(district, {"webhook", "sms", "pager"})
    assert without_smtp[0].startswith("police.welfare: nothing can send 'smtp' (smtp:welfare@pd.example.org)")
    assert without_smtp[1:] == ["schools[AHS].administrators: staff notifications and admin alerts go by email, but no "
                            "loaded plugin sends 'smtp' (loaded: pager, sms, webhook); enable the smtp plugin"]


class SMSPlugin:
    @hookimpl
    def tipline_delivery_channels(self) -> list[str]:
        return ["sms"]


def _sms_settings(tmp_path: Path) -> object:
    district, problems = parse(district_toml().replace('"smtp:welfare@pd.example.org"', '"sms:+12035550100"'))
    assert problems == []
    return load_settings(environ={}, overrides={"secret_key": "s" * 40, "instance_path": str(tmp_path),
                                                "database_url": f"sqlite:///{tmp_path / 'x.db'}",
                                                "district": district})


def test_app_refuses_to_start_with_an_unsendable_channel(tmp_path: Path) -> None:
    from tipline.config import Settings

    settings = _sms_settings(tmp_path)
    assert isinstance(settings, Settings)
    with pytest.raises(ConfigError, match=r"police\.welfare: nothing can send 'sms'"):
        create_app(settings=settings)
    # The same file starts once a plugin says it sends sms.
    pm: pluggy.PluginManager = hooks.make_manager()
    pm.register(SMSPlugin(), name="sms-test")
    app = create_app(settings=settings, plugin_manager=pm)
    app.extensions["tipline.engine"].dispose()


# --- tipline check-config ------------------------------------------------------------------------

def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    return subprocess.run([str(TIPLINE), *args], capture_output=True, text=True, env={**base, **(env or {})},
                          cwd=ROOT, timeout=120)


def test_check_config_passes_the_demo_district() -> None:
    out = run_cli("check-config")
    assert out.returncode == 0, out.stderr
    assert "OK (Westport Public Schools: 8 school(s)" in out.stdout


def test_check_config_names_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(district_toml(school='sro = ["sro@a.example.org"]').replace(
        'end = "15:00"', 'end = "15:00"\nholidays = ["2026-11-26"]').replace(
        '"smtp:welfare@pd.example.org"', '"sms:+12035550100"'))
    out = run_cli("check-config", str(bad))
    assert out.returncode == 1
    assert f"{bad}: 3 problem(s)" in out.stderr
    assert "  - schools[AHS]: unknown key 'sro' (did you mean 'officers'?)" in out.stderr
    assert "  - hours: unknown key 'holidays'" in out.stderr
    assert "  - police.welfare: nothing can send 'sms'" in out.stderr
    good = tmp_path / "good.toml"
    good.write_text(FULL)
    assert run_cli("check-config", str(good)).returncode == 0
    # Without FILE it reads TIPLINE_CONFIG, and the plugins TIPLINE_PLUGINS loads.
    assert run_cli("check-config", env={"TIPLINE_CONFIG": str(bad)}).returncode == 1
    no_webhook = run_cli("check-config", env={"TIPLINE_CONFIG": str(good), "TIPLINE_PLUGINS": "routing_rules,smtp"})
    assert no_webhook.returncode == 1 and "police.dispatch: nothing can send 'webhook'" in no_webhook.stderr
    missing = run_cli("check-config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1 and "no file at" in missing.stderr


# --- a school added later gets its keys ------------------------------------------------------------

def test_init_adds_a_later_school_and_says_so(tmp_path: Path) -> None:
    conf = tmp_path / "district.toml"
    conf.write_text(district_toml())
    env = {"TIPLINE_INSTANCE": str(tmp_path / "instance"), "TIPLINE_CONFIG": str(conf), "HOME": str(tmp_path)}
    first = run_cli("init", env=env)
    assert first.returncode == 0, first.stderr
    assert "inbox key(s) created:" in first.stdout
    assert "  district-wide: admin, general, police" in first.stdout
    assert "  AHS (A High School): general, " in first.stdout

    again = run_cli("init", env=env)
    assert again.returncode == 0, again.stderr
    assert "every school and workflow already has its inbox keys" in again.stdout

    conf.write_text(district_toml(after='[[schools]]\ncode = "NMS"\nname = "New Middle School"'))
    later = run_cli("init", env=env)
    assert later.returncode == 0, later.stderr
    lines = [line.strip() for line in later.stdout.splitlines()
             if line.startswith("  ") and "/console/setup/" not in line]
    assert len(lines) == 1 and lines[0].startswith("NMS (New Middle School): general, "), later.stdout
    assert "threat" in lines[0] and "deib" in lines[0]
