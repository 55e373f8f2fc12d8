"""Deadlines in business days on the Russian production calendar.

Expected dates are written out from the official production calendar
(Government decrees on moving days off for 2025 and 2026, as published in the
consultant.ru / garant.ru production calendars):
- 2025: 1-8 January off; 5 January (Sunday) moved to Wednesday 31 December 2025;
  Saturday 1 November 2025 a working day, Monday 3 November off; 4 November off.
- 2026: 1-11 January off (3 January moved to Friday 9 January, 4 January to
  Thursday 31 December 2026).
"""

from __future__ import annotations

import datetime as dt

from assistant.casework.deadlines import add_business_days, due_at, is_business_day

MSK = dt.timezone(dt.timedelta(hours=3))


def test_three_business_days_from_friday_evening():
    filed = dt.datetime(2026, 11, 20, 19, 30, tzinfo=MSK)  # Friday 20 November 2026, 19:30 Moscow
    due = due_at(filed, business_days=3)
    # Mon 23, Tue 24, Wed 25 November 2026.
    assert due.isoformat() == "2026-11-25T23:59:59+03:00"


def test_friday_evening_over_a_working_saturday_and_unity_day():
    filed = dt.datetime(2025, 10, 31, 20, 0, tzinfo=MSK)  # Friday 31 October 2025
    # Sat 1 Nov 2025 is a working day by decree; Mon 3 and Tue 4 Nov are off; then Wed 5, Thu 6.
    assert due_at(filed, business_days=3).date() == dt.date(2025, 11, 6)
    assert is_business_day(dt.date(2025, 11, 1)) and not is_business_day(dt.date(2025, 11, 3))


def test_deadline_across_the_russian_new_year_holidays():
    filed = dt.datetime(2025, 12, 26, 18, 45, tzinfo=MSK)  # Friday 26 December 2025
    # Mon 29, Tue 30 December count; 31 December 2025 and 1-11 January 2026 are off.
    assert due_at(filed, business_days=3).date() == dt.date(2026, 1, 12)
    assert due_at(filed, business_days=2).date() == dt.date(2025, 12, 30)
    assert add_business_days(dt.date(2025, 12, 30), 1) == dt.date(2026, 1, 12)
    off = [dt.date(2025, 12, 31)] + [dt.date(2026, 1, d) for d in range(1, 12)]
    assert not any(is_business_day(d) for d in off)
    # 31 December 2026 is off too (moved from Sunday 4 January 2026).
    assert add_business_days(dt.date(2026, 12, 30), 1) == dt.date(2027, 1, 11)


def test_the_provider_time_zone_decides_the_day():
    # Thursday 22:30 UTC is already Friday 01:30 in Moscow: the count starts on Monday.
    filed = dt.datetime(2026, 11, 19, 22, 30, tzinfo=dt.UTC)
    assert due_at(filed, business_days=3, timezone="Europe/Moscow").date() == dt.date(2026, 11, 25)
    assert due_at(filed, business_days=3, timezone="UTC").date() == dt.date(2026, 11, 24)


def test_hour_deadlines_are_elapsed_time_in_the_provider_zone():
    filed = dt.datetime(2026, 11, 20, 14, 35, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    due = due_at(filed, hours=24)
    assert due.isoformat() == "2026-11-21T12:35:00+03:00"
