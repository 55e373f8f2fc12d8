"""When the provider must have answered: hours, or business days on its country's calendar.

Business days come from the `holidays` library's country calendars, which
follow each year's official transfers (in Russia the government decree that
moves days off, e.g. 3 January 2026 to 9 January 2026, and the Saturdays it
makes working days); a hand-written list would be wrong by next year. The
counting is the library's too (`is_working_day`, `get_nth_working_day`).

Convention: a request counts from the provider's next business day after the
day it was filed (in the provider's time zone), and the deadline is the end of
the Nth business day. A request filed on Friday evening is therefore due at
the end of Wednesday with 3 business days. Hour deadlines are plain elapsed
time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays


@lru_cache(maxsize=16)
def _calendar(country: str, year: int) -> holidays.HolidayBase:
    import holidays

    try:
        return holidays.country_holidays(country, years=range(year - 1, year + 3))
    except NotImplementedError:
        raise ValueError(f"no business-day calendar for country '{country}'") from None


def is_business_day(day: dt.date, country: str = "RU") -> bool:
    """A working day on the country's calendar (a Saturday made one by decree counts)."""
    return _calendar(country, day.year).is_working_day(day)


def add_business_days(start: dt.date, days: int, country: str = "RU") -> dt.date:
    """The date of the `days`-th business day after `start` (start itself does not count)."""
    return _calendar(country, start.year).get_nth_working_day(start, days) if days > 0 else start


def due_at(
    filed_at: dt.datetime,
    *,
    hours: float | None = None,
    business_days: int | None = None,
    country: str = "RU",
    timezone: str = "Europe/Moscow",
) -> dt.datetime:
    """When the answer is due, as an aware datetime in the provider's time zone."""
    if filed_at.tzinfo is None:
        raise ValueError("filed_at needs a time zone")
    zone = ZoneInfo(timezone)
    local = filed_at.astimezone(zone)
    if hours is not None:
        return (filed_at + dt.timedelta(hours=hours)).astimezone(zone)
    if business_days is None:
        raise ValueError("give hours or business_days")
    last = add_business_days(local.date(), business_days, country)
    return dt.datetime.combine(last, dt.time(23, 59, 59), tzinfo=zone)


def due_for(filed_at: dt.datetime, deadline, country: str, timezone: str) -> dt.datetime:
    """due_at for a flow category's Deadline model."""
    return due_at(
        filed_at, hours=deadline.hours, business_days=deadline.business_days, country=country, timezone=timezone
    )
