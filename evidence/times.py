"""Times as people read them: the provider's clock, the person's clock, and UTC.

The manifest keeps every time in UTC. Whatever is shown to people (the
screenshot banner, the report, the contact sheet) names the moment on the
provider's clock and on the person's clock (one line when they agree), with
the UTC value beside them, so that nobody has to convert, and nobody mistakes
the clock of the machine that happened to run the capture for either.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A clock further than this from a timestamp authority's is worth a warning: the capture
# times in the package are that far from the world's.
CLOCK_TOLERANCE = timedelta(minutes=2)


@lru_cache(maxsize=32)
def zone(name: str) -> tzinfo:
    """An IANA zone by name; ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not an IANA time zone like Europe/Moscow") from None


def offset_text(at: datetime) -> str:
    """'UTC+03:00' for the offset `at` carries."""
    delta = at.utcoffset() or timedelta(0)
    sign = "+" if delta >= timedelta(0) else "-"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_text(at: datetime, language: str = "en", *, seconds: bool = True) -> str:
    """The date and time as written in the language: ru 20.11.2026 14:35:12, en 20 Nov 2026 14:35:12."""
    clock = f"{at:%H:%M:%S}" if seconds else f"{at:%H:%M}"
    if language == "ru":
        return f"{at:%d.%m.%Y} {clock}"
    return f"{at.day} {MONTHS_EN[at.month - 1]} {at.year} {clock}"


def utc_text(at: datetime, *, seconds: bool = True) -> str:
    """ISO date and time in UTC without microseconds: '2026-11-20 11:35:12 UTC'."""
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M:%S} UTC" if seconds else f"{at:%Y-%m-%d %H:%M} UTC"


def _zone_label(name: str, at: datetime) -> str:
    """'MSK, Europe/Moscow, UTC+03:00': the abbreviation only where the zone has a real one."""
    abbreviation = at.tzname() or ""
    parts = [abbreviation] if abbreviation[:1].isalpha() and abbreviation != "UTC" else []
    if not name.startswith("Etc/"):
        parts.append(name)
    parts.append(offset_text(at))
    return ", ".join(parts)


@dataclass(frozen=True)
class Clocks:
    """Whose clocks a time is shown on: the provider's zone (None when there is no provider,
    e.g. a capture of pages) and the person's, and the language of the dates."""

    person_zone: str = "UTC"
    provider_zone: str | None = None
    language: str = "en"

    def lines(self, at: datetime, *, seconds: bool = True) -> list[tuple[str, str]]:
        """(label, text) pairs: provider, person (one line when both clocks agree), UTC."""
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        person = at.astimezone(zone(self.person_zone))
        out: list[tuple[str, str]] = []
        if self.provider_zone is not None:
            provider = at.astimezone(zone(self.provider_zone))
            if provider.utcoffset() == person.utcoffset():
                label = _zone_label(self.provider_zone, provider)
                out.append(("Provider & person", f"{local_text(provider, self.language, seconds=seconds)} ({label})"))
            else:
                out.append(
                    (
                        "Provider",
                        f"{local_text(provider, self.language, seconds=seconds)} "
                        f"({_zone_label(self.provider_zone, provider)})",
                    )
                )
                out.append(
                    (
                        "Person",
                        f"{local_text(person, self.language, seconds=seconds)} "
                        f"({_zone_label(self.person_zone, person)})",
                    )
                )
        elif self.person_zone not in ("UTC", "Etc/UTC"):
            out.append(
                (
                    "Person",
                    f"{local_text(person, self.language, seconds=seconds)} ({_zone_label(self.person_zone, person)})",
                )
            )
        out.append(("UTC", utc_text(at, seconds=seconds)))
        return out

    def text(self, at: datetime, *, seconds: bool = True) -> str:
        """All of lines() on one line: '20.11.2026 14:35:12 (MSK, Europe/Moscow, UTC+03:00) · 2026-11-20 11:35:12 UTC'."""
        parts = []
        for label, value in self.lines(at, seconds=seconds):
            parts.append(value if label in ("UTC", "Provider & person") else f"{label.lower()} {value}")
        return " · ".join(parts)


# ------------------------------------------------------------------ the machine's clock

_TIME_ERROR = 5  # adjtimex(2): the kernel says the clock is not synchronised


@lru_cache(maxsize=1)
def clock_source() -> str:
    """Where this machine's time comes from, as far as the system says (asked once per process)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            timex = ctypes.create_string_buffer(512)  # struct timex, modes = 0: read only
            state = libc.adjtimex(timex)
        except (OSError, AttributeError):
            state = -1
        if state == _TIME_ERROR:
            return "system clock; the kernel reports it is not synchronised (no NTP)"
        if state >= 0:
            return "system clock, synchronised (the kernel reports NTP discipline)"
    return "system clock (whether it is synchronised is not known)"


def clock_difference(authority: datetime, local: datetime) -> timedelta:
    """The authority's time minus this machine's at the same moment."""
    return authority - local


def describe_difference(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    direction = "behind" if seconds > 0 else "ahead of"
    return f"this machine's clock is {abs(seconds):.1f} s {direction} the timestamp authority's"
