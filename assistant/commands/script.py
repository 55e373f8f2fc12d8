"""`assistant script CASE --channel phone|chat`: what to say or paste."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.commands.common import Ctx, handles_errors, json_option, pass_ctx, print_json


@click.command("script")
@click.argument("case")
@click.option("--channel", required=True, type=click.Choice(["phone", "chat"]))
@click.option("--lang", type=click.Choice(["ru", "en"]), help="Language (default: the case's).")
@json_option
@pass_ctx
@handles_errors
def script(obj: Ctx, /, case: str, channel: str, lang: str | None, as_json: bool) -> None:
    """Print a phone script (in order: who you are, the request number, the facts, what you
    want) or a short chat message for CASE: a case number from `assistant cases`, or a case file."""
    from assistant.casework.compose import compose
    from assistant.language.case import load_case

    flow = None
    if Path(case).suffix in (".yaml", ".yml") or Path(case).is_file():
        filed = load_case(case)
    else:
        from assistant.casework.followup import stored_case_and_flow
        from assistant.commands.cases import case_row
        from assistant.store import Store

        with Store(obj.home) as store:
            row = case_row(store, case)
            filed, flow = stored_case_and_flow(store, row)
    text = compose(filed, flow=flow, lang=lang, kind=channel).body
    if as_json:
        print_json({"channel": channel, "text": text})
        return
    click.echo(text)
