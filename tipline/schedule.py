"""School hours, holidays and time zones: is a school open at a given moment?"""

from __future__ import annotations

from datetime import datetime

from tipline.config import District, Hours


def in_school_hours(district: District, school_code: str | None, moment: datetime) -> bool:
    """True during the school's teaching hours on a school day in its own time zone.

    A tip for no particular school uses the district's hours and holidays.
    """
    school = district.schools.get(school_code) if school_code else None
    zone = school.timezone if school else district.timezone
    hours: Hours = school.hours if school else district.hours
    holidays = school.holidays if school else district.holidays
    local = moment.astimezone(zone)
    if local.date() in holidays or local.weekday() not in hours.days:
        return False
    return hours.start <= local.time() < hours.end
