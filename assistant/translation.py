"""The interface's language: what the program says to the person, in Russian or English.

GNU gettext, as every Unix program does it: messages are written in English in the code,
marked with `_()` (or `N_()` where the text is only declared and is translated where it is
shown), extracted with Babel into `assistant/locale/assistant.pot`, translated in
`assistant/locale/ru/LC_MESSAGES/assistant.po`, and compiled into the `.mo` shipped beside it
as package data (`python tests/messages.py` does all three; tests/test_messages.py fails on a
message with no translation or a stale `.mo`).

The language comes from `--lang`, else ASSISTANT_LANG, else the locale the way gettext reads
it (LANGUAGE, then LC_ALL, LC_MESSAGES, LANG; a C or POSIX locale means English). What is
written for others is not the interface: the request to the provider and the evidence follow
the case's language, and exit codes, `--json` keys and files stay as they are.

click's own words ("Usage:", "Options:", its errors) are translated from a second catalog,
`click.po`, by pointing click's modules at it: click looks its messages up with the standard
library's `gettext`, in a domain shared by every library in the process.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import os
import sys
from collections.abc import Mapping
from importlib import resources
from zoneinfo import ZoneInfo

LANGUAGES = ("en", "ru")
DEFAULT = "en"

_catalogs: dict[tuple[str, str], _gettext.NullTranslations] = {}
_current: _gettext.NullTranslations = _gettext.NullTranslations()
_language = DEFAULT


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, as gettext would choose it, limited to LANGUAGES."""
    env = os.environ if environ is None else environ
    chosen = env.get("ASSISTANT_LANG", "").strip()
    if chosen:
        return _known(chosen) or DEFAULT
    locale = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    if locale.split(".")[0] in ("", "C", "POSIX"):
        # gettext ignores LANGUAGE under the C locale: a script that sets LC_ALL=C gets English.
        return DEFAULT
    for wanted in [*env.get("LANGUAGE", "").split(":"), locale]:
        known = _known(wanted)
        if known:
            return known
    return DEFAULT


def _known(tag: str) -> str | None:
    code = tag.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def _catalog(domain: str, language: str) -> _gettext.NullTranslations:
    key = (domain, language)
    if key not in _catalogs:
        if language == DEFAULT:
            _catalogs[key] = _gettext.NullTranslations()
        else:
            path = resources.files("assistant") / "locale" / language / "LC_MESSAGES" / f"{domain}.mo"
            try:
                with path.open("rb") as handle:
                    _catalogs[key] = _gettext.GNUTranslations(handle)
            except FileNotFoundError:
                # gettext's own fallback: English, not a crash (tests/test_messages.py checks the package has it).
                _catalogs[key] = _gettext.NullTranslations()
    return _catalogs[key]


def use(language: str) -> None:
    """Speak `language` from now on (one of LANGUAGES), click's own messages included."""
    global _current, _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    _language = language
    _current = _catalog("assistant", language)
    _point_click_at(_catalog("click", language))


def current() -> str:
    return _language


def _(message: str) -> str:
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.ngettext(singular, plural, n)


def help_text(text: str) -> str:
    """A help text in this language: the program's catalog, else click's (its --help and --version)."""
    found = _current.gettext(text)
    return found if found != text else _catalog("click", _language).gettext(text)


_MONTHS_EN = "January February March April May June July August September October November December".split()


def moment(value: dt.datetime, zone: str | dt.tzinfo | None = None) -> str:
    """A time as this language writes it, on a named clock, never ambiguous:
    en: 23 November 2026, 05:09 (UTC+03:00); ru: 23.11.2026 05:09 (UTC+03:00), as the requests write it.
    A time with no zone is UTC (the journal keeps UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if zone is not None:
        value = value.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    offset = value.strftime("%z")
    shown = f"(UTC{offset[:3]}:{offset[3:]})" if offset else "(UTC)"
    if _language == "ru":
        return f"{value:%d.%m.%Y %H:%M} {shown}"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}, {value:%H:%M} {shown}"


def day(value: dt.date) -> str:
    """A date alone: en: 23 November 2026; ru: 23.11.2026."""
    if _language == "ru":
        return f"{value:%d.%m.%Y}"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def N_(message: str) -> str:
    """Marks `message` for the catalog where it is declared; `_()` translates it where it is shown."""
    return message


def _point_click_at(catalog: _gettext.NullTranslations) -> None:
    # Every click module binds `_` and `ngettext` from the standard gettext module by name.
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "click" or name.startswith("click.")):
            continue
        for attribute, replacement in (("_", catalog.gettext), ("ngettext", catalog.ngettext)):
            bound = getattr(module, attribute, None)
            if bound is getattr(_gettext, attribute.lstrip("_") or "gettext") or _is_catalogs(bound):
                setattr(module, attribute, replacement)


def _is_catalogs(function: object) -> bool:
    return isinstance(getattr(function, "__self__", None), _gettext.NullTranslations)


use(from_environment())
