"""`assistant schema flow|case|manifest`."""

from __future__ import annotations

import click

from assistant.commands.common import print_json


@click.command("schema")
@click.argument("kind", type=click.Choice(["flow", "case", "manifest"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a file format: flow, case or manifest."""
    if kind == "flow":
        from assistant.language.flow import schema as make
    elif kind == "case":
        from assistant.language.case import schema as make
    else:
        from evidence.manifest import schema as make
    print_json(make())
