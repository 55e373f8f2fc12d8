"""`assistant cases`: what has been submitted."""

from __future__ import annotations

import click

from .common import Ctx, handles_errors, json_option, pass_ctx, print_json


@click.group("cases", invoke_without_command=True)
@json_option
@click.pass_context
def cases(ctx: click.Context, as_json: bool) -> None:
    """Requests you have submitted (default: list them)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cases, as_json=as_json)


@cases.command("list")
@json_option
@pass_ctx
@handles_errors
def list_cases(obj: Ctx, as_json: bool) -> None:
    """List submissions, oldest first."""
    from ..store import Store

    store = Store(obj.home)
    try:
        rows = store.all()
    finally:
        store.close()
    if as_json:
        print_json([r.public() for r in rows])
        return
    if not rows:
        click.echo("no submissions yet (try `assistant demo`)")
        return
    for r in rows:
        colour = "green" if r.status == "confirmed" else "yellow"
        number = r.confirmation or "(no number yet)"
        click.echo(
            f"{r.id:>4}  {click.style(f'{r.status:<9}', fg=colour)} {number:<16} {r.provider:<14} "
            f"{r.submitted_at[:16]}  {r.subject or ''}"
        )
