"""School time: is a school in session at a given moment, and why (or why not)?

Routing asks this to choose between the school's people and the police (safety FAQ Q1, Q2),
so every answer says what decided it: a school day's hours, a closure (a holiday, a break,
the summer), an early dismissal, or a school event outside hours (FAQ Q15: games and
activities), which counts as school time and names the staff on duty there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from tipline.config import Closure, District, EarlyDismissal, Event, Hours


class Why(StrEnum):
    SCHOOL_DAY = "school day"
    EVENT = "event"
    CLOSURE = "closure"
    NOT_A_SCHOOL_DAY = "not a school day"
    BEFORE_START = "before school"
    AFTER_END = "after school"
    EARLY_DISMISSAL = "early dismissal"


@dataclass(frozen=True)
class SchoolTime:
    """The answer for one school at one moment.

    ``name`` is the closure's, early dismissal's or event's name when one decided;
    ``staff`` are the event's staff to tell (empty otherwise); ``start``/``end`` are the
    session's bounds that day in the school's own time (``end`` is the early dismissal time
    on such a day), ``None`` on a day with no school.
    """

    in_hours: bool
    why: Why
    name: str = ""
    staff: tuple[str, ...] = ()
    start: time | None = None
    end: time | None = None

    def describe(self) -> str:
        """A short sentence for a routing reason or a console line."""
        state = "In school time" if self.in_hours else "Out of school hours"
        detail = str(self.why)
        if self.name:
            detail += f": {self.name}"
        if self.why in (Why.EVENT, Why.SCHOOL_DAY) and self.start and self.end:
            detail += f", {self.start:%H:%M}-{self.end:%H:%M}"
        elif self.why is Why.EARLY_DISMISSAL and self.end:
            detail += f" at {self.end:%H:%M}"
        return f"{state} ({detail})"


def school_time(district: District, school_code: str | None, moment: datetime) -> SchoolTime:
    """Whether the school (or, with no known school, the district) is in session at ``moment``.

    In order: an event running at that moment counts as school time, even on a weekend or in
    a break (a tournament during the holidays); then a closure or a day that is not a school
    day is out of hours; then the day's hours apply, ending at an early dismissal's time on
    such a day. Times are the school's own time zone.
    """
    school = district.schools.get(school_code) if school_code else None
    zone = school.timezone if school else district.timezone
    hours: Hours = school.hours if school else district.hours
    closures: tuple[Closure, ...] = school.closures if school else district.closures
    dismissals: tuple[EarlyDismissal, ...] = school.early_dismissals if school else district.early_dismissals
    events: tuple[Event, ...] = school.events if school else ()
    local = moment.astimezone(zone)
    day, now = local.date(), local.time()
    for event in events:
        if event.day == day and event.start <= now < event.end:
            return SchoolTime(True, Why.EVENT, event.name, event.staff, event.start, event.end)
    for closure in closures:
        if closure.covers(day):
            return SchoolTime(False, Why.CLOSURE, closure.name)
    if local.weekday() not in hours.days:
        return SchoolTime(False, Why.NOT_A_SCHOOL_DAY)
    dismissal = next((d for d in dismissals if d.day == day), None)
    end = dismissal.end if dismissal else hours.end
    if now < hours.start:
        return SchoolTime(False, Why.BEFORE_START, start=hours.start, end=end)
    if now < end:
        return SchoolTime(True, Why.SCHOOL_DAY, dismissal.name if dismissal else "", start=hours.start, end=end)
    if dismissal is not None and now < hours.end:
        return SchoolTime(False, Why.EARLY_DISMISSAL, dismissal.name, start=hours.start, end=end)
    return SchoolTime(False, Why.AFTER_END, start=hours.start, end=end)


def in_school_hours(district: District, school_code: str | None, moment: datetime) -> bool:
    """True during school time: the school's hours on a school day in its own time zone, up to
    an early dismissal, and during its events. A tip for no particular school uses the
    district's hours, closures and early dismissals."""
    return school_time(district, school_code, moment).in_hours
