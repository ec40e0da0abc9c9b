"""The review SLA's calendar: business days in the moderators' time zone and holiday country."""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings


@lru_cache(maxsize=8)
def _holiday_calendar(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


def is_business_day(day: date, *, country: str) -> bool:
    return day.weekday() < 5 and day not in _holiday_calendar(country)


def next_business_day_same_time(
    moment: datetime, *, time_zone: str | None = None, country: str | None = None
) -> datetime:
    """The same local wall-clock time on the next business day after `moment`.

    Friday 17:00 -> Monday 17:00; a public holiday on that Monday -> Tuesday 17:00. Saturday
    10:00 -> Monday 10:00. Times are taken in `time_zone` (default MODERATION_TIME_ZONE), holidays
    from `country` (default MODERATION_HOLIDAY_COUNTRY); the result is an aware datetime in UTC.
    """
    zone = ZoneInfo(time_zone or settings.MODERATION_TIME_ZONE)
    country = country or settings.MODERATION_HOLIDAY_COUNTRY
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1)
    while not is_business_day(day, country=country):
        day += timedelta(days=1)
    due_local = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)
    return due_local.astimezone(ZoneInfo("UTC"))
