"""Dates and times as people write them in a case file: `01.12.2026 19:05`, `1 декабря 2026 г.
в 19:05`, `1 December 2026 19:05 МСК`, ISO 8601; a time without an offset taken in the person's
zone (the case's `timezone:`, else this computer's, by its IANA name)."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from assistant.language import yamlsource
from assistant.translation import N_, _

ENGLISH_MONTHS = "January February March April May June July August September October November December".split()
# Every way a month is named in a date: Russian in the genitive a date takes (1 декабря) and the
# nominative, English, and the short forms of both. Day first always, as in Russia: 01.12.2026 is
# 1 December.
MONTHS = {
    name.casefold(): number
    for row in (
        "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
        "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь",
        "янв фев мар апр май июн июл авг сен окт ноя дек",
        " ".join(ENGLISH_MONTHS),
        "jan feb mar apr may jun jul aug sep oct nov dec",
    )
    for number, name in enumerate(row.split(), 1)
} | {"сент": 9, "нояб": 11, "sept": 9}

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# 01.12.2026 19:05 · 1.12.2026, 19:05 · 1 декабря 2026 г. в 19:05 · 1 December 2026 19:05 МСК.
# Whatever follows the time is its zone, read by _written_zone.
WRITTEN = re.compile(
    r"(?P<day>\d{1,2})(?:\.(?P<month>\d{1,2})\.|\s+(?P<name>[^\W\d_]+)\.?\s+)(?P<year>\d{4})"
    r"(?:\s*(?:года|г)\.?)?"
    r"(?:\s*,?\s*(?:в|at)?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"(?:\s*(?P<zone>\S.*))?",
    re.IGNORECASE,
)
SLASHED = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}\b")
OFFSET = re.compile(r"(?:UTC|GMT)?(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?", re.IGNORECASE)
# What a message shows to write instead: dotted, named, ISO 8601.
# What _unread says the text is not: one message each, for the languages that decline "date".
MOMENT = N_("'{text}' is not a date and time this reads; write it like {dotted}, {named} or {iso}")
DAY = N_("'{text}' is not a date this reads; write it like {dotted}, {named} or {iso}")
MOMENT_EXAMPLES = ("01.12.2026 19:05", "1 декабря 2026 19:05", "2026-12-01T19:05:00+03:00")
DAY_EXAMPLES = ("01.12.2026", "1 декабря 2026", "2026-12-01")


# "February 2026 has 28 days", one message per month: a language may need the month's name in
# another case than a date gives it.
MONTH_HAS_DAYS = (
    N_("'{text}' is not a date: January {year} has {days} days"),
    N_("'{text}' is not a date: February {year} has {days} days"),
    N_("'{text}' is not a date: March {year} has {days} days"),
    N_("'{text}' is not a date: April {year} has {days} days"),
    N_("'{text}' is not a date: May {year} has {days} days"),
    N_("'{text}' is not a date: June {year} has {days} days"),
    N_("'{text}' is not a date: July {year} has {days} days"),
    N_("'{text}' is not a date: August {year} has {days} days"),
    N_("'{text}' is not a date: September {year} has {days} days"),
    N_("'{text}' is not a date: October {year} has {days} days"),
    N_("'{text}' is not a date: November {year} has {days} days"),
    N_("'{text}' is not a date: December {year} has {days} days"),
)


class TakenZone(ZoneInfo):
    """The zone a time written without an offset was taken in. The person did not write it, so
    the case can tell it from an offset they did (Case.assumed_zone)."""


def zone_named(name: str) -> TakenZone:
    """The IANA zone `name`; ValueError naming it, and the closest real name, when there is none."""
    try:
        return TakenZone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = yamlsource.closest(name, sorted(available_timezones()))
        if close:
            message = _("'{name}' is not an IANA time zone like Europe/Moscow; did you mean '{choice}'?")
        else:
            message = _("'{name}' is not an IANA time zone like Europe/Moscow")
        raise ValueError(message.format(name=name, choice=close)) from None


def machine_zone() -> TakenZone | None:
    """This computer's zone by its IANA name, where tzlocal looks for it on Unix: TZ, else the file
    /etc/localtime links to, else /etc/timezone. None when the zone in use has no name there (a
    POSIX rule in TZ, a copied /etc/localtime): a time is never taken in a zone no one can name."""
    if os.environ.get("TZ"):
        names = [os.environ["TZ"].removeprefix(":")]
    else:
        names = [os.path.realpath("/etc/localtime")]
        try:
            names.append(Path("/etc/timezone").read_text(encoding="utf-8", errors="replace").strip())
        except OSError:
            pass
    for name in names:
        key = name.rpartition("zoneinfo/")[2]
        if key and not key.startswith("/"):
            try:
                return TakenZone(key)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return None


def parse_moment(value: Any, zone: ZoneInfo | None) -> Any:
    """A date and time as people write it (WRITTEN, or ISO 8601) as an aware datetime, a time
    without an offset taken in `zone`. ISO 8601 with an offset, and whatever is not text, go on
    to pydantic as they are, so they read exactly as they always have; but a number, which
    pydantic would read as seconds since 1970 (20261120 as 23 August 1970), is refused."""
    _not_a_number(value, MOMENT_EXAMPLES)
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    if ISO_DATE.match(text):
        return _iso_moment(value, text, zone)
    match = _written(text, MOMENT, MOMENT_EXAMPLES)
    day = _day(match)
    if match["hour"] is None:
        raise ValueError(_no_time(text, day))
    moment = dt.datetime.combine(day, _clock(match))
    written = _written_zone(match["zone"], moment)
    return moment.replace(tzinfo=written) if written is not None else _taken_in(moment, zone, text)


def parse_day(value: Any) -> Any:
    """A date as people write it (WRITTEN) as a date; a time after it is checked and left out, the
    field being a day. ISO dates, and whatever is not text, go on to pydantic as they are; a
    number is refused, as in parse_moment."""
    _not_a_number(value, DAY_EXAMPLES)
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    if ISO_DATE.match(text):
        return value
    match = _written(text, DAY, DAY_EXAMPLES)
    day = _day(match)
    if match["hour"] is not None:
        _written_zone(match["zone"], dt.datetime.combine(day, _clock(match)))
    elif match["zone"] is not None:
        raise ValueError(_unread(text, DAY, DAY_EXAMPLES))
    return day


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


def _no_time(text: str, day: dt.date) -> str:
    # Midnight by default would be a wrong time stated as a fact, and the provider looks the
    # problem up in its logs by the time.
    return _("'{text}' has a date but no time; write when it happened, like {day:%d.%m.%Y} 19:05").format(
        text=_shown(text), day=day
    )


def _iso_moment(value: str, text: str, zone: ZoneInfo | None) -> Any:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return value  # pydantic says what is wrong with it, as it always has
    if ISO_DATE.fullmatch(text):
        raise ValueError(_no_time(text, moment.date()))
    return value if moment.tzinfo is not None else _taken_in(moment, zone, text)


def _not_a_number(value: Any, examples: tuple[str, str, str]) -> None:
    if isinstance(value, (int, float)):  # bool too: `yes` is no date either
        dotted, _named, iso = examples
        # str() of an int past 4,300 digits raises: such a number is not shown.
        shown = _shown(str(value)) if isinstance(value, float) or value.bit_length() < 200 else "…"
        raise ValueError(
            _("{value}: a number, not a date; write it like {dotted} or {iso}").format(
                value=shown, dotted=dotted, iso=iso
            )
        )


def _written(text: str, unread: str, examples: tuple[str, str, str]) -> re.Match[str]:
    match = WRITTEN.fullmatch(text) if len(text) <= 80 else None
    if match is not None:
        return match
    if SLASHED.match(text):
        dotted, _named, iso = examples
        raise ValueError(
            _(
                "'{text}': with slashes the day comes first in some countries and the month in others; "
                "write the day first with dots, like {dotted}, or ISO 8601: {iso}"
            ).format(text=_shown(text), dotted=dotted, iso=iso)
        )
    raise ValueError(_unread(text, unread, examples))


def _unread(text: str, message: str, examples: tuple[str, str, str]) -> str:
    dotted, named, iso = examples
    return _(message).format(text=_shown(text), dotted=dotted, named=named, iso=iso)


def _day(match: re.Match[str]) -> dt.date:
    year, day = int(match["year"]), int(match["day"])
    month = int(match["month"]) if match["month"] else _month_named(match["name"])
    if not 1 <= month <= 12:
        raise ValueError(
            _(
                "'{text}' is not a date: there is no month {month} (the day comes first: 01.12.2026 is 1 December)"
            ).format(text=_shown(match[0]), month=month)
        )
    if year < 1:
        raise ValueError(_("'{text}' is not a date: there is no year 0").format(text=_shown(match[0])))
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise ValueError(_(MONTH_HAS_DAYS[month - 1]).format(text=_shown(match[0]), year=year, days=days))
    return dt.date(year, month, day)


def _month_named(name: str) -> int:
    number = MONTHS.get(name.casefold())
    if number is None:
        close = yamlsource.closest(name.casefold(), list(MONTHS))
        if close:
            message = _("'{name}' is not the name of a month; did you mean '{choice}'?")
        else:
            message = _("'{name}' is not the name of a month")
        raise ValueError(message.format(name=name, choice=close))
    return number


def _clock(match: re.Match[str]) -> dt.time:
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(
            _("'{text}': {hour}:{minute} is not a time of day (00:00-23:59)").format(
                text=_shown(match[0]), hour=match["hour"], minute=match["minute"]
            )
        )
    return dt.time(hour, minute, second)


def _written_zone(text: str | None, moment: dt.datetime) -> dt.tzinfo | None:
    """The zone written after the time: +03:00, UTC+5, (UTC+05:00) as compose writes it, МСК."""
    if text is None:
        return None
    squeezed = re.sub(r"[\s()]", "", text).replace("−", "-")
    if squeezed.upper() in ("UTC", "GMT", "Z"):
        return dt.UTC
    if squeezed.casefold() in ("мск", "msk"):  # Moscow time, at its offset that day (+04:00 in 2011-2014)
        return dt.timezone(zone_named("Europe/Moscow").utcoffset(moment) or dt.timedelta(hours=3))
    found = OFFSET.fullmatch(squeezed)
    if found is None or int(found["hours"]) > 14 or int(found["minutes"] or 0) > 59:
        raise ValueError(
            _(
                "'{text}' after the time is not a time zone; write an offset like +03:00 or UTC+5, "
                "or nothing to take the time in your zone"
            ).format(text=_shown(text))
        )
    offset = dt.timedelta(hours=int(found["hours"]), minutes=int(found["minutes"] or 0))
    return dt.timezone(-offset if found["sign"] == "-" else offset)


def _taken_in(moment: dt.datetime, zone: ZoneInfo | None, text: str) -> dt.datetime:
    if zone is None:
        raise ValueError(
            _(
                "'{text}' has no time zone and this computer's zone has no name to take it in; add "
                "timezone: (yours, like Europe/Moscow) to the case, or write the offset: {moment:%Y-%m-%dT%H:%M}+03:00"
            ).format(text=_shown(text), moment=moment)
        )
    taken = moment.replace(tzinfo=zone)
    try:
        again = taken.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:  # year 1 or 9999: past the end of the calendar once in UTC
        raise ValueError(_("'{text}' is not a date a problem happened on").format(text=_shown(text))) from None
    if again != moment:
        raise ValueError(
            _("'{text}' never happened in {zone}: the clocks went forward over it that night; check the time").format(
                text=_shown(text), zone=zone.key
            )
        )
    return taken
