"""The `assistant` command.

Only click is imported here. Each command lives in its own module under
`assistant/commands/` and is imported when it is run or listed, so
`assistant --help` never pays for Playwright.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import textwrap

import click

from assistant.commands.common import Ctx
from assistant.errors import ExitStatus


def exit_codes_help() -> str:
    """The `--help` epilog: every ExitStatus, its number and what it means."""
    lines = ["\b", "Exit codes:"]
    for status in ExitStatus:
        first, *more = textwrap.wrap(status.description, width=72)
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


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(f"assistant.commands.{module}"), attribute)


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
@click.version_option(package_name="support-assistant")
@click.pass_context
def main(ctx: click.Context, home: str | None, flows: tuple[str, ...], color: bool | None) -> None:
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
