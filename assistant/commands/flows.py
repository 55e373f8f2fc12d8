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


@flow.command("test")
@click.argument("flows", nargs=-1)
@click.option("--keep", type=click.Path(file_okay=False), help="Keep each run's evidence under this folder.")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help="Time each step may take.")
@json_option
@handles_errors
def test(flows, keep, timeout, as_json) -> None:
    """Run flows against their replicas with their sample cases (all flows if none named).

    FLOW is a flow id (kuper-support) or a flow file. Each test starts the
    replica named in the flow's `test:` block on 127.0.0.1, submits the
    sample case through the real browser, and checks the confirmation number.
    """
    from pathlib import Path

    from ..flow import all_flow_files, find_flow, load_flow
    from ..flowtest import run
    from .common import info

    if flows:
        paths = [find_flow(name) for name in flows]
    else:
        paths = []
        for path in all_flow_files():
            loaded = load_flow(path)
            if loaded.test is None:
                info(f"{loaded.id}: no test: block ({loaded.channel}); not tested here")
                continue
            paths.append(path)
    results = []
    for path in paths:
        target = Path(keep) / Path(path).stem if keep else None
        result = run(path, log=info, keep=target, timeout=timeout)
        results.append(result)
        if not as_json:
            if result.ok:
                click.secho(f"ok    {result.flow:<22} {result.confirmation:<16} {result.seconds:5.1f} s", fg="green")
            else:
                click.secho(f"FAIL  {result.flow:<22} {result.message}", fg="red")
                click.echo(f"      evidence: {result.evidence_dir}")
    if as_json:
        print_json([r.public() for r in results])
    if any(not r.ok for r in results) or not results:
        if not results:
            click.secho("no flow with a test: block was found", fg="red", err=True)
        sys.exit(1)
