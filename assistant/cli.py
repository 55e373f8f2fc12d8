"""The `assistant` command.

Only click is imported here. Each command lives in its own module under
`assistant/commands/` and is imported when it is run or listed, so
`assistant --help` never pays for Playwright.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import inspect
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import click

from assistant import translation
from assistant.commands.common import Ctx
from assistant.errors import ExitStatus
from assistant.translation import _


def exit_codes_help() -> str:
    """The `--help` epilog: every ExitStatus, its number and what it means."""
    lines = ["\b", _("Exit codes:")]
    for status in ExitStatus:
        first, *more = textwrap.wrap(_(status.description), width=72)
        lines.append(f"{status.value:>3}  {first}")
        lines += [" " * 5 + line for line in more]
    return "\n".join(lines)


# name -> "module:attribute", in the order `--help` lists them.
COMMANDS = {
    "demo": "submit:demo",
    "submit": "submit:submit",
    "capture": "evidence:capture",
    "evidence": "evidence:evidence",
    "compose": "compose:compose",
    "check": "compose:check",
    "cases": "cases:cases",
    "followup": "followup:followup",
    "escalate": "escalate:escalate",
    "script": "script:script",
    "flow": "flows:flow",
    "replay": "replay:replay",
    "login": "login:login",
    "schema": "schema:schema",
    "browser": "browser:browser",
}


def asked_language(args: Sequence[str]) -> str | None:
    """The value of the program's own --lang, if given (click checks it is a known one); a
    command's option of that name (`compose --lang`, the request's language) is not it."""
    for index, arg in enumerate(args):
        if arg == "--" or arg in COMMANDS:
            break
        if arg == "--lang" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def in_language(command: click.Command) -> click.Command:
    """command with its help texts in the interface's language (from the English it was written in)."""
    english = command.__dict__.setdefault(
        "_english", {name: getattr(command, name) for name in ("help", "short_help", "epilog")}
    )
    for name, text in english.items():
        setattr(command, name, translation.help_text(inspect.cleandoc(text)) if text else text)
    for param in command.params:
        if isinstance(param, click.Option):
            original = param.__dict__.setdefault("_english", param.help)
            param.help = translation.help_text(inspect.cleandoc(original)) if original else original
    command._help_option = None  # made again with click's words in this language
    if isinstance(command, click.Group) and not isinstance(command, LazyGroup):
        for sub in command.commands.values():
            in_language(sub)
    return command


class LazyGroup(click.Group):
    def main(self, args: Sequence[str] | None = None, *more: Any, **extra: Any) -> Any:
        # The language is chosen before click parses anything: its own errors and --help speak it too.
        argv = list(sys.argv[1:] if args is None else args)
        asked = asked_language(argv)
        translation.use(asked if asked in translation.LANGUAGES else translation.from_environment())
        in_language(self)
        self.epilog = exit_codes_help()
        return super().main(argv, *more, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, click.exceptions.Abort):
            # Ctrl-C anywhere (click turns it into Abort at its prompts): 130, as --help says, and
            # where to look. The journal already holds anything that reached the submit click.
            click.secho("\n" + _("interrupted; `assistant cases` shows what was recorded"), err=True, fg="yellow")
            ctx.exit(ExitStatus.INTERRUPTED)

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return in_language(getattr(importlib.import_module(f"assistant.commands.{module}"), attribute))


@click.group(cls=LazyGroup, epilog=exit_codes_help(), context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home", metavar="DIR", envvar="ASSISTANT_HOME", help="Where cases and evidence are kept (or ASSISTANT_HOME)."
)
@click.option(
    "--flows",
    metavar="DIR",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Look for flows in DIR first (repeatable); then ASSISTANT_FLOWS, HOME/flows, flow packs, the bundled ones.",
)
@click.option("--color/--no-color", default=None, help="Colour output (default: on a terminal).")
@click.option(
    "--lang",
    type=click.Choice(translation.LANGUAGES),
    help="The language the program speaks: en or ru (default: ASSISTANT_LANG, else the locale: LANGUAGE, "
    "LC_ALL, LC_MESSAGES, LANG). Requests and evidence follow the case's language.",
)
@click.version_option(package_name="support-assistant")
@click.pass_context
def main(ctx: click.Context, home: str | None, flows: tuple[str, ...], color: bool | None, lang: str | None) -> None:
    """File a support request that gets answered, with proof.

    Drives the provider's web form in a real browser, photographs every step
    into a verifiable evidence package, submits, and keeps the ticket number.

    \b
    Start here:
      assistant demo                         try it on the built-in demo portal
      assistant submit demo --case my.yaml   file your own request
      assistant cases                        what you have filed
    """
    ctx.obj = Ctx(home, flows)
    if color is not None:
        ctx.color = color
    # A run leaves a large heap (Playwright's objects, pydantic's schemas): the collection the
    # interpreter makes as it exits cost 0.2 s after everything was done and said. What the
    # run writes is closed by then; the memory goes back to the system with the process.
    atexit.register(gc.freeze)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="assistant")
