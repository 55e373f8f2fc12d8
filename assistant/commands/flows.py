"""`assistant flow list|validate|schema`: the maintainers' workbench."""

from __future__ import annotations

import sys

import click

from .common import handles_errors, json_option, print_json


@click.group("flow")
def flow() -> None:
    """Provider flows: list, validate, export the schema."""


@flow.command("schema")
def schema() -> None:
    """Print the flow file JSON Schema (for editor completion)."""
    from ..flow import schema as make

    print_json(make())


@flow.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@handles_errors
def validate(files) -> None:
    """Check flow files; print every problem as file:line:column: field: message."""
    from ..errors import InputError
    from ..flow import load_flow

    bad = 0
    for path in files:
        try:
            loaded = load_flow(path)
        except InputError as exc:
            bad += 1
            click.secho(str(exc), fg="red", err=True)
            continue
        click.echo(f"{path}: ok ({loaded.id}, {len(loaded.steps)} steps)")
    if bad:
        sys.exit(2)


@flow.command("list")
@json_option
@handles_errors
def list_flows(as_json: bool) -> None:
    """List the provider flows this assistant knows."""
    from ..flow import all_flow_files, load_flow

    rows = []
    for path in all_flow_files():
        loaded = load_flow(path)
        rows.append({
            "id": loaded.id,
            "channel": loaded.channel,
            "categories": list(loaded.categories),
            "verified_live": loaded.verified_live.isoformat() if loaded.verified_live else None,
            "file": str(path),
        })
    if as_json:
        print_json(rows)
        return
    for row in rows:
        live = row["verified_live"] or "never checked live"
        click.echo(f"{row['id']:<18} {row['channel']:<9} {', '.join(row['categories']):<40} {live}")
