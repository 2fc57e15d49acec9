"""School time on the demo district's 2026-27 calendar: the summer, a break, an early dismissal
and an evening game decide whether a threat goes to the school's people or to the police."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tipline import plugins as hooks
from tipline import routing
from tipline.config import load_settings
from tipline.schedule import SchoolTime, Why, in_school_hours, school_time
from tipline.types import TipDraft, Triage

NY = ZoneInfo("America/New_York")
DISTRICT = load_settings(environ={}, overrides={"secret_key": "r" * 40, "instance_path": "/nonexistent"}).district
THREAT = Triage(("threat",), "high", False, ("threat.fight",))


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def route(school: str, moment: datetime) -> tuple[SchoolTime, list[tuple[str, str]]]:
    """Route a threat (no police evidence) the way intake does, through ``tipline.routing``.

    Out of school hours the school's SRO is told that it came outside school hours; in hours,
    that the administration and SRO are told at once (FAQ Q1/Q2). The words say which."""
    when = school_time(DISTRICT, school, moment)
    ctx = routing.context(DISTRICT, school, moment)
    actions = hooks.route(hooks.make_manager(["routing_rules"]), TipDraft("x", "threat", school, moment), THREAT, ctx)
    sro = [a.reason for a in actions if a.kind == "notify" and a.target == f"role:sro@{school}"]
    assert len(sro) == 1
    hours = ("hours", "out") if "outside school hours" in sro[0] else ("hours", "in")
    return when, [(a.kind, a.target) for a in actions] + [hours]


@pytest.mark.parametrize("year", [2026, 2027])
@pytest.mark.parametrize("school", sorted(DISTRICT.schools))
def test_14_july_at_noon_is_summer_and_goes_to_police(school: str, year: int) -> None:
    moment = at(year, 7, 14, 12)  # a Tuesday in 2026, a Wednesday in 2027: weekdays both
    assert moment.weekday() < 5
    assert not in_school_hours(DISTRICT, school, moment)
    when, actions = route(school, moment)
    assert when.why is Why.CLOSURE and when.name == f"Summer {year}"
    assert ("hours", "out") in actions and ("forward", "dispatch") not in actions  # no evidence, no police


@pytest.mark.parametrize(("moment", "name"), [
    (at(2026, 12, 29, 10), "Winter break"),
    (at(2027, 2, 16, 10), "February break"),
    (at(2027, 4, 14, 10), "April break"),
    (at(2026, 11, 26, 10), "Thanksgiving recess"),
    (at(2027, 1, 18, 10), "Martin Luther King Jr. Day"),
])
def test_a_day_in_a_break_is_out_of_hours(moment: datetime, name: str) -> None:
    when, actions = route("BMS", moment)
    assert not when.in_hours and when.why is Why.CLOSURE and when.name == name
    assert ("hours", "out") in actions
    # The school days around the winter break are in session.
    assert in_school_hours(DISTRICT, "BMS", at(2026, 12, 23, 10))
    assert in_school_hours(DISTRICT, "BMS", at(2027, 1, 4, 10))


def test_early_dismissal_afternoon_is_out_of_hours() -> None:
    # The day before Thanksgiving recess: the district dismisses at 12:00.
    morning, actions = route("SHS", at(2026, 11, 24, 11, 30))
    assert morning.in_hours and morning.why is Why.SCHOOL_DAY and morning.end is not None
    assert ("hours", "in") in actions
    assert ("notify", "role:school-admin@SHS") in actions and ("notify", "role:sro@SHS") in actions

    afternoon, actions = route("SHS", at(2026, 11, 24, 13, 0))  # SHS usually runs to 14:25
    assert not afternoon.in_hours
    assert afternoon.why is Why.EARLY_DISMISSAL and afternoon.name == "Day before Thanksgiving recess"
    assert ("hours", "out") in actions
    assert afternoon.describe() == "Out of school hours (early dismissal: Day before Thanksgiving recess at 12:00)"
    # After the usual end it is simply after school.
    assert school_time(DISTRICT, "SHS", at(2026, 11, 24, 15)).why is Why.AFTER_END


def test_a_schools_own_early_dismissal() -> None:
    # Elementary parent conferences end the day at 12:40; the high school runs a full day.
    conferences = at(2027, 3, 11, 13, 0)
    assert school_time(DISTRICT, "CES", conferences).why is Why.EARLY_DISMISSAL
    assert ("hours", "out") in route("CES", conferences)[1]
    assert in_school_hours(DISTRICT, "SHS", conferences)
    assert in_school_hours(DISTRICT, "CES", at(2027, 3, 11, 12, 39))


def test_evening_game_at_shs_is_school_time_with_its_staff() -> None:
    game = at(2026, 10, 16, 20, 15)  # a Friday, under the lights
    when, actions = route("SHS", game)
    assert in_school_hours(DISTRICT, "SHS", game)
    assert when.in_hours and when.why is Why.EVENT and when.name == "Varsity football, home game"
    assert when.staff == ("athletics.shs@westport.example.org", "sro.shs@westport-pd.example.org")
    assert ("hours", "in") in actions
    assert ("notify", "athletics.shs@westport.example.org") in actions
    assert when.describe() == "In school time (event: Varsity football, home game, 19:30-22:00)"
    # The same moment in UTC (Saturday 00:15) is still the Friday game in Westport.
    assert school_time(DISTRICT, "SHS", game.astimezone(UTC)) == when
    # Only Staples has the game; before it starts and once it ends, the evening is out of hours.
    assert not in_school_hours(DISTRICT, "BMS", game)
    assert school_time(DISTRICT, "SHS", at(2026, 10, 16, 19, 29)).why is Why.AFTER_END
    after = at(2026, 10, 16, 22, 0)
    assert not in_school_hours(DISTRICT, "SHS", after)
    assert ("hours", "out") in route("SHS", after)[1]


def test_an_event_counts_even_on_a_closed_day(tmp_path: Path) -> None:
    conf = tmp_path / "d.toml"
    conf.write_text("""
closures = [{ from = "2026-12-24", to = "2027-01-01", name = "Winter break" }]
[police]
dispatch = "webhook:http://127.0.0.1:9/d"
welfare = "webhook:http://127.0.0.1:9/w"
[[schools]]
code = "AHS"
name = "A High School"
[[schools.events]]
name = "Holiday basketball tournament"
date = "2026-12-28"
start = "10:00"
end = "16:00"
staff = ["athletics@a.example.org"]
""")
    district = load_settings({"TIPLINE_SECRET_KEY": "k" * 40, "TIPLINE_CONFIG": str(conf),
                              "TIPLINE_INSTANCE": str(tmp_path)}).district
    assert school_time(district, "AHS", at(2026, 12, 28, 11)).why is Why.EVENT
    assert school_time(district, "AHS", at(2026, 12, 28, 17)).why is Why.CLOSURE
    assert school_time(district, "AHS", at(2026, 12, 26, 11)).why is Why.CLOSURE


def test_no_school_uses_the_district_calendar() -> None:
    assert school_time(DISTRICT, None, at(2027, 7, 14, 12)).why is Why.CLOSURE
    assert school_time(DISTRICT, None, at(2026, 11, 24, 13)).why is Why.EARLY_DISMISSAL
    assert in_school_hours(DISTRICT, None, at(2026, 11, 23, 10))
    assert school_time(DISTRICT, None, at(2026, 11, 21, 10)).why is Why.NOT_A_SCHOOL_DAY
    assert school_time(DISTRICT, "NOPE", at(2026, 11, 23, 6)).why is Why.BEFORE_START
    # Events belong to schools: the district-wide answer ignores Staples' game.
    assert not in_school_hours(DISTRICT, None, at(2026, 10, 16, 20))
