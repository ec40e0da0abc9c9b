from datetime import datetime
from zoneinfo import ZoneInfo

from approvals.business_days import is_business_day, next_business_day_same_time

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def due(moment, *, time_zone="America/New_York", country="US"):
    return next_business_day_same_time(moment, time_zone=time_zone, country=country).astimezone(ZoneInfo(time_zone))


def test_friday_afternoon_is_due_monday_same_time():
    assert due(datetime(2025, 3, 7, 17, 0, tzinfo=NEW_YORK)) == datetime(2025, 3, 10, 17, 0, tzinfo=NEW_YORK)


def test_weekday_is_due_next_day_same_time():
    assert due(datetime(2025, 3, 4, 9, 30, tzinfo=NEW_YORK)) == datetime(2025, 3, 5, 9, 30, tzinfo=NEW_YORK)


def test_saturday_submission_is_due_monday():
    assert due(datetime(2025, 3, 8, 10, 0, tzinfo=NEW_YORK)) == datetime(2025, 3, 10, 10, 0, tzinfo=NEW_YORK)


def test_holiday_monday_moves_it_to_tuesday():
    # Memorial Day, Monday 26 May 2025.
    assert due(datetime(2025, 5, 23, 17, 0, tzinfo=NEW_YORK)) == datetime(2025, 5, 27, 17, 0, tzinfo=NEW_YORK)


def test_holiday_of_another_country_does_not_move_it():
    # 3 October (German Unity Day) is a German holiday, not a US one.
    assert due(datetime(2025, 10, 2, 12, 0, tzinfo=NEW_YORK)) == datetime(2025, 10, 3, 12, 0, tzinfo=NEW_YORK)
    assert due(datetime(2025, 10, 2, 12, 0, tzinfo=BERLIN), time_zone="Europe/Berlin", country="DE") == datetime(
        2025, 10, 6, 12, 0, tzinfo=BERLIN
    )


def test_business_day_is_counted_in_the_moderators_time_zone():
    # Friday 23:30 in New York is already Saturday 04:30 UTC; the due time follows New York's Friday.
    submitted = datetime(2025, 3, 8, 4, 30, tzinfo=ZoneInfo("UTC"))
    assert due(submitted) == datetime(2025, 3, 10, 23, 30, tzinfo=NEW_YORK)
    # Read in UTC's calendar it is a Saturday submission, due Monday 04:30 UTC.
    assert due(submitted, time_zone="UTC") == datetime(2025, 3, 10, 4, 30, tzinfo=ZoneInfo("UTC"))


def test_due_time_keeps_wall_clock_across_daylight_saving_change():
    # US clocks go forward on Sunday 9 March 2025: Friday 17:00 EST -> Monday 17:00 EDT.
    result = next_business_day_same_time(
        datetime(2025, 3, 7, 17, 0, tzinfo=NEW_YORK), time_zone="America/New_York", country="US"
    )
    assert result.tzinfo == ZoneInfo("UTC")
    assert result == datetime(2025, 3, 10, 21, 0, tzinfo=ZoneInfo("UTC"))


def test_uses_the_configured_time_zone_and_country_by_default(settings):
    settings.MODERATION_TIME_ZONE = "Europe/Berlin"
    settings.MODERATION_HOLIDAY_COUNTRY = "DE"
    result = next_business_day_same_time(datetime(2025, 10, 2, 12, 0, tzinfo=BERLIN))
    assert result.astimezone(BERLIN) == datetime(2025, 10, 6, 12, 0, tzinfo=BERLIN)


def test_weekends_and_holidays_are_not_business_days():
    assert is_business_day(datetime(2025, 7, 3).date(), country="US")
    assert not is_business_day(datetime(2025, 7, 4).date(), country="US")  # Independence Day
    assert not is_business_day(datetime(2025, 7, 5).date(), country="US")  # Saturday
