"""The person's clock and language for a run.

The browser runs in them (so a date input on the provider's form shows
20.11.2026 to a Russian person, not 11/20/2026), and every time shown to
people is given on that clock beside the provider's. The case says the
person's offset in `incident_at`; --tz names the zone outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.run.browser import LOCALES
from evidence import Times
from evidence.times import Clocks, offset_text, zone

if TYPE_CHECKING:
    from assistant.language.case import Case

# A Russian person's offset names their zone: Russia keeps one zone per offset all year.
RUSSIAN_ZONES = {
    2: "Europe/Kaliningrad",
    3: "Europe/Moscow",
    4: "Europe/Samara",
    5: "Asia/Yekaterinburg",
    6: "Asia/Omsk",
    7: "Asia/Novosibirsk",
    8: "Asia/Irkutsk",
    9: "Asia/Yakutsk",
    10: "Asia/Vladivostok",
    11: "Asia/Magadan",
    12: "Asia/Kamchatka",
}


# Offsets that are not whole hours have no Etc/GMT zone; these are where people live on them.
PART_HOUR_ZONES = (
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Asia/Kabul",
    "Asia/Yangon",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Eucla",
    "America/St_Johns",
    "Pacific/Chatham",
    "Pacific/Marquesas",
)


@dataclass(frozen=True)
class PersonClock:
    zone: str  # IANA name
    source: str  # where it comes from, for the manifest
    locale: str  # BCP 47, e.g. ru-RU
    language: str  # the case's: dates are written in it

    def clocks(self, provider_zone: str | None) -> Clocks:
        return Clocks(person_zone=self.zone, provider_zone=provider_zone, language=self.language)

    def times(self, provider_zone: str | None) -> Times:
        return Times(
            person_zone=self.zone, person_zone_from=self.source, provider_zone=provider_zone, language=self.language
        )


def _zone_for_offset(at: datetime, preferred: list[str]) -> str | None:
    offset = at.utcoffset() or timedelta(0)
    for name in preferred:
        if at.astimezone(zone(name)).utcoffset() == offset:
            return name
    minutes = int(offset.total_seconds()) // 60
    if minutes % 60 == 0 and -12 * 60 <= minutes <= 14 * 60:
        hours = minutes // 60
        # POSIX sign: Etc/GMT-3 is three hours ahead of UTC.
        return "Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    for name in PART_HOUR_ZONES:
        if at.astimezone(zone(name)).utcoffset() == offset:
            return name
    from zoneinfo import available_timezones  # an offset no one keeps today: look through them all

    return next((n for n in sorted(available_timezones()) if at.astimezone(zone(n)).utcoffset() == offset), None)


def zone_for(at: datetime, language: str, provider_zone: str | None = None) -> str:
    """The zone of a moment's offset: the provider's when it matches, a Russian zone for a
    Russian person, else Etc/GMT±N or a zone people keep at that offset (Etc/UTC at worst)."""
    preferred = [provider_zone] if provider_zone else []
    hours = int((at.utcoffset() or timedelta(0)).total_seconds()) // 3600
    if language == "ru" and hours in RUSSIAN_ZONES:
        preferred.append(RUSSIAN_ZONES[hours])
    return _zone_for_offset(at, preferred) or "Etc/UTC"


def person_clock(
    case: Case, *, provider_zone: str | None = None, tz: str | None = None, locale: str | None = None
) -> PersonClock:
    """The person's zone (--tz, else the zone of the case's incident_at offset: the provider's
    when it matches, a Russian zone for a Russian case, else Etc/GMT±N) and locale (--locale,
    else the case's language)."""
    chosen_locale = locale or LOCALES.get(case.language, "en-US")
    if tz:
        zone(tz)  # the command checked it; a caller that did not gets the same message
        return PersonClock(tz, "--tz", chosen_locale, case.language)
    at = case.incident_at
    found = zone_for(at, case.language, provider_zone)
    return PersonClock(found, f"the case's incident_at offset ({offset_text(at)})", chosen_locale, case.language)
