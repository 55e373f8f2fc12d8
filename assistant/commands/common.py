"""What every command shares: the context object, error handling, browser options, output."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypedDict, TypeVar

import click

from assistant.errors import ExitStatus
from assistant.translation import N_, _

P = ParamSpec("P")
R = TypeVar("R")
# A command function, before or after click's decorators have made it a Command.
F = TypeVar("F", bound=Callable[..., Any])


class BrowserOptions(TypedDict):
    """What browser_options adds to a command's keyword arguments, named as pipeline.Settings names them."""

    headed: bool
    slowmo: float
    browser_path: str | None
    browser_endpoint: str | None
    cdp: str | None
    timeout: float | None


class EvidenceOptions(TypedDict):
    """What evidence_options adds to a command's keyword arguments, named as pipeline.Settings names them."""

    device: str | None
    masks: tuple[str, ...]
    tsa: tuple[str, ...]
    trace: bool
    trace_in_package: bool
    tz: str | None
    locale: str | None


class RunOptions(BrowserOptions, EvidenceOptions):
    """Both: the options of a command that captures pages in a browser."""


class Ctx:
    def __init__(self, home: str | None, flows: tuple[str, ...] = ()):
        from assistant.language import catalog
        from assistant.paths import home as home_of

        self._home = home
        self._checked: Path | None = None
        catalog.configure(flows, home_of(home) if home else None)

    @property
    def home(self) -> Path:
        """The home folder, made if it is missing; refused in one line (exit 2) if nothing
        can be kept there, before a command starts anything."""
        if self._checked is None:
            self._checked = usable_home(self._home)
        return self._checked


def usable_home(explicit: str | None) -> Path:
    import os
    import tempfile

    from assistant.errors import InputError
    from assistant.paths import home

    path = home(explicit)
    if path.exists() and not path.is_dir():
        raise InputError(
            _(
                "home folder {path}: not a folder; give a folder you can write to with --home DIR or ASSISTANT_HOME"
            ).format(path=path)
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        # Permissions alone do not tell (root passes them; /proc, a read-only disk): try.
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(
            _(
                "home folder {path}: nothing can be kept there ({reason}); "
                "give a folder you can write to with --home DIR or ASSISTANT_HOME"
            ).format(path=path, reason=exc.strerror or exc)
        ) from None
    return path


pass_ctx = click.make_pass_decorator(Ctx, ensure=True)


class Bounded(click.FloatRange):
    """A number within bounds, and a number at all: FloatRange lets nan and inf through."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number: float = super().convert(value, param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(_("{value!r} is not a finite number").format(value=value), param, ctx)
        return number


def seconds(low: float, high: float = 600) -> Bounded:
    return Bounded(min=low, max=high)


def pairs(values: tuple[str, ...], option: str, expected: str) -> dict[str, str]:
    """NAME=VALUE options (--set, --field) as a mapping; `expected` says the form in the error."""
    out: dict[str, str] = {}
    for raw in values:
        if "=" not in raw:
            raise click.BadParameter(expected.format(value=raw), param_hint=option)
        key, value = raw.split("=", 1)
        out[key.strip()] = value
    return out


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def info(message: str) -> None:
    """Progress, on stderr, so stdout stays clean for --json and scripts. A message the evidence
    library wrote (Said) is said from its template, in the interface's language."""
    from evidence.said import Said

    if isinstance(message, Said):
        message = _(message.template).format(**message.values)
    click.secho(message, err=True, dim=True)


def exit_with(status: ExitStatus) -> NoReturn:
    """End the command with status, for a result already shown (no error message to add)."""
    sys.exit(status)


def fail(exc: Exception) -> NoReturn:
    from assistant.errors import AssistantError, printable

    code = exc.exit_code if isinstance(exc, AssistantError) else ExitStatus.RUN_FAILED
    text = printable(str(exc)).strip("\n")
    lines = text.split("\n") if text.strip() else [type(exc).__name__]
    # A message that already starts "error:" (a library's, passed on) gets the prefix once.
    first = re.sub(r"^(?:error:\s*)+", "", lines[0], flags=re.IGNORECASE) or lines[0]
    click.secho(_("error: {message}").format(message=first), err=True, fg="red", bold=True)
    for line in lines[1:]:  # details under the one-line message, not more errors
        click.secho(f"  {line}", err=True, fg="red")
    exit_with(code)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the assistant's own errors into a red one-line message and their exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from assistant.errors import AssistantError

        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            fail(exc)
        except KeyboardInterrupt:
            # The journal already holds anything that reached the submit click.
            click.secho("\n" + _("interrupted; `assistant cases` shows what was recorded"), err=True, fg="yellow")
            exit_with(ExitStatus.INTERRUPTED)

    return wrapper


# The fixed words the program shows for what its records and packages hold: labels of a case's
# fields, statuses, states, outcomes and kinds of requests (the words themselves stay as they
# are in --json, the journal and files).
WORDS = {
    # a case's fields, and the lines of the summary before the submit click
    "provider": N_("provider"),
    "category": N_("category"),
    "subject": N_("subject"),
    # Translators: a label for the case's order number (the case file's field order_id).
    "order_id": N_("order_id"),
    # Translators: a label for when the problem happened (the case file's field incident_at).
    "incident_at": N_("incident_at"),
    "contact": N_("contact"),
    "attachments": N_("attachments"),
    "evidence": N_("evidence"),
    # Translators: a label before the email address a request goes to.
    "to": N_("to"),
    # Translators: a label before how a request is sent: an SMTP server, or an .eml file.
    "via": N_("via"),
    # a case's status
    # Translators: a case's status, as in `assistant cases`: not closed.
    "open": N_("open"),
    "answered": N_("answered"),
    "escalated": N_("escalated"),
    "closed": N_("closed"),
    # where a case stands
    "no submission": N_("no submission"),
    "waiting": N_("waiting"),
    "overdue": N_("overdue"),
    "due soon": N_("due soon"),
    # Translators: a request's outcome is not known yet: sent, but no confirmation came.
    "pending": N_("pending"),
    "drafted": N_("drafted"),
    "rejected": N_("rejected"),
    "not filed": N_("not filed"),
    # what became of a request
    "accepted": N_("accepted"),
    "confirmed": N_("confirmed"),
    "unknown": N_("unknown"),
    "not_filed": N_("not_filed"),
    "not_submitted": N_("not_submitted"),
    # kinds of request
    "request": N_("request"),
    "followup": N_("followup"),
}


def word(value: str) -> str:
    """One of WORDS in the interface's language; any other value as it is."""
    return _(WORDS[value]) if value in WORDS else value


def padded(value: str, width: int, among: tuple[str, ...]) -> str:
    """word(value), padded as a column of such words is: to `width`, or wider for longer translations."""
    return f"{word(value):<{max(width, *(len(word(w)) for w in among))}}"


def on_clocks(at: datetime, provider_zone: str | None, person_zone: str | None = None) -> str:
    """A moment as the person reads it (assistant.translation.moment): on the provider's clock,
    and on the person's too when theirs shows another time."""
    from assistant.translation import moment

    first = moment(at, provider_zone or person_zone)
    theirs = moment(at, person_zone) if person_zone else first
    return first if theirs == first else f"{first} · {theirs}"


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")(func)


def browser_options(func: F) -> F:
    options = [
        click.option("--headed", is_flag=True, help="Show the browser window (headless by default)."),
        click.option(
            "--slowmo",
            type=Bounded(min=0, max=10_000),
            default=0,
            metavar="MS",
            help="Slow each browser action by MS milliseconds.",
        ),
        click.option("--browser-path", metavar="PATH", help="Chrome/Chromium executable (or ASSISTANT_BROWSER)."),
        click.option(
            "--browser-endpoint", metavar="WS_URL", help="A running `playwright run-server`, e.g. ws://127.0.0.1:3000/."
        ),
        click.option("--cdp", metavar="URL", help="An already running Chrome, e.g. http://127.0.0.1:9222."),
        click.option(
            "--timeout", type=seconds(0.1), metavar="SECONDS", help="Time each step may take (overrides the flow)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _time_zone(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from evidence.times import zone

    try:
        zone(value)
    except ValueError:
        raise click.BadParameter(
            _("'{zone}' is not an IANA time zone like Europe/Moscow; see `timedatectl list-timezones`").format(
                zone=value
            )
        ) from None
    return value


def _locale(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import re

    if value is not None and not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", value):
        raise click.BadParameter(_("{value!r} is not a locale like ru-RU or en-GB").format(value=value))
    return value


def chosen_tsa(ctx: click.Context, param: click.Parameter, given: tuple[str, ...]) -> tuple[str, ...]:
    """--tsa's callback: the authorities a command asks (assistant.run.settings.chosen_authorities)."""
    import os

    from assistant.run.settings import chosen_authorities

    try:
        return chosen_authorities(given, os.environ.get("ASSISTANT_TSA"))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tsa" if given else "ASSISTANT_TSA") from None


def evidence_options(func: F) -> F:
    """How the evidence is captured: as which device, what to hide, trusted time, a trace, whose clock."""
    options = [
        click.option(
            "--device",
            metavar="NAME",
            help="Capture as this device sees the site: a Playwright device, e.g. 'iPhone 13', 'Pixel 7'.",
        ),
        click.option(
            "--mask",
            "masks",
            multiple=True,
            metavar="SELECTOR",
            help="Black out matching elements in every screenshot (card numbers, passwords). Repeatable.",
        ),
        click.option(
            "--tsa",
            metavar="URL",
            multiple=True,
            callback=chosen_tsa,
            help="RFC 3161 timestamp authority; repeat for more; 'none' to seal offline (default: ASSISTANT_TSA, "
            "else FreeTSA, DigiCert and Sectigo: each that answers stamps the package).",
        ),
        click.option(
            "--trace",
            is_flag=True,
            help="Also keep a Playwright trace, in HOME/traces/ (it holds typed passwords and cookies).",
        ),
        click.option(
            "--trace-in-package",
            is_flag=True,
            help="Put the trace inside the evidence package instead (then the package holds secrets).",
        ),
        click.option(
            "--tz",
            metavar="ZONE",
            callback=_time_zone,
            help="Your time zone, e.g. Asia/Yekaterinburg: the browser runs in it and times are shown in it "
            "(default: from the case's incident_at offset).",
        ),
        click.option(
            "--locale",
            metavar="LOCALE",
            callback=_locale,
            help="The browser's language and date format, e.g. ru-RU (default: from the case's language).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
