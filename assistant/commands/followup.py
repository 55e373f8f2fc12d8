"""`assistant followup CASE`: the repeat complaint on inaction, through the same channel."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import click

from assistant.commands.common import Ctx, handles_errors, pass_ctx
from assistant.commands.submit import FilingOptions, filing_options, filing_settings


@click.command("followup")
@click.argument("case")
@filing_options
@pass_ctx
@handles_errors
def followup(
    obj: Ctx, /, case: str, base_url: str | None, out: str | None, as_json: bool, **options: Unpack[FilingOptions]
) -> None:
    """File the repeat complaint marked "on inaction" (На бездействие) for CASE.

    It cites every earlier request number and date and goes through the same
    channel as the last request, with the same checks, options and journal as
    `submit`. Refused before the deadline has passed (unless --force).
    """
    from assistant.casework.followup import followup_case
    from assistant.commands.cases import case_row
    from assistant.commands.submit import run_submission
    from assistant.language.flow import find_flow, load_flow
    from assistant.store import Store

    with Store(obj.home) as store:
        row = case_row(store, case)
        repeat, latest = followup_case(store, row, force=options["force"])
    flow = load_flow(find_flow(latest.flow_id))
    settings = filing_settings(options)
    if flow.channel == "email" and not settings.get("to") and flow.email and not flow.email.address:
        # a generic email flow: the address is part of the matter ("email:ADDRESS|ORDER")
        settings["to"] = row["matter"].split("|", 1)[0].removeprefix("email:") or None
    run_submission(
        obj,
        repeat,
        flow,
        as_json=as_json,
        base_url=base_url,
        out=Path(out) if out else None,
        kind="followup",
        **settings,
    )
