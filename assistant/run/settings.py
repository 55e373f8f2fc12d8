"""A run's settings, grouped by what they are about: which browser, and what the evidence keeps.

Frozen: a run reads them and never changes them. Every command that opens a browser builds
them from its options (assistant.commands.common) before anything starts, so this module
imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.run.browser import Started
    from assistant.run.warmup import Warmup


@dataclass(frozen=True)
class BrowserSettings:
    """Which browser a run uses and how it is shown (--browser-path, --browser-endpoint, --cdp,
    --headed, --slowmo)."""

    path: str | None = None
    endpoint: str | None = None
    cdp: str | None = None
    headed: bool = False
    slowmo: float = 0
    # A browser already started and lent to this run (a replay worker's, a tester's): the run opens
    # a context of its own in it and leaves it running.
    lent: Started | None = None
    # A browser the command started while the flow and case loaded, for the run to take.
    warm: Warmup | None = None


@dataclass(frozen=True)
class EvidenceSettings:
    """What the evidence keeps, and on whose clock (--device, --mask, --tsa, --trace,
    --trace-in-package, --tz, --locale)."""

    device: str | None = None  # a Playwright device descriptor name, e.g. "iPhone 13"
    masks: tuple[str, ...] = ()  # CSS selectors blacked out in every screenshot
    tsa: tuple[str, ...] = ()  # RFC 3161 timestamp authorities (the commands default to PUBLIC_AUTHORITIES)
    trace: bool = False
    trace_in_package: bool = False  # the trace (typed passwords, cookies) inside the shareable package
    tz: str | None = None  # the person's IANA time zone (default: from the case's incident_at)
    locale: str | None = None  # the browser's locale (default: from the case's language)
    # report.pdf, printed by the browser: about a fifth of a replayed flow's CPU. A replay, which
    # keeps no package, goes without; report.html has the same content.
    report_pdf: bool = True


# Independent RFC 3161 authorities that answer anyone for free, in three countries: a package is
# stamped by each that answers, so one authority's word (or its outage) is never all there is.
PUBLIC_AUTHORITIES = (
    "https://freetsa.org/tsr",
    "http://timestamp.digicert.com",
    "http://timestamp.sectigo.com",
)
NO_AUTHORITY = "none"


def chosen_authorities(given: tuple[str, ...], env: str | None) -> tuple[str, ...]:
    """The authorities a run asks: those given (--tsa, repeatable), else ASSISTANT_TSA (a list
    separated by commas or spaces), else PUBLIC_AUTHORITIES; "none" (or an empty ASSISTANT_TSA)
    asks none: the package is then sealed offline and says its times rest on the signer's word.
    ValueError names a value that is not an http(s) address."""
    from urllib.parse import urlsplit

    words = list(given) if given else (env.replace(",", " ").split() if env is not None else None)
    if words is None:
        return PUBLIC_AUTHORITIES
    if not words or words == [NO_AUTHORITY]:
        return ()
    for word in words:
        parts = urlsplit(word)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            from assistant.translation import _

            raise ValueError(
                _("'{word}' is not an authority's address like https://freetsa.org/tsr (or '{none}' for none)").format(
                    word=word, none=NO_AUTHORITY
                )
            )
    return tuple(dict.fromkeys(words))
