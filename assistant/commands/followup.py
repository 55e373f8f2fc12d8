"""`assistant followup CASE`: the repeat complaint on inaction, through the same channel."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.commands.common import Ctx, browser_options, handles_errors, json_option, pass_ctx
from assistant.commands.email_options import email_options, take_email_options


@click.command("followup")
@click.argument("case")
@click.option("--dry-run", is_flag=True, help="Do everything except the submit click.")
@click.option("--yes", "-y", is_flag=True, help="Submit without asking (needed without a terminal).")
@click.option("--force", is_flag=True, help="Send even before the deadline, or past check errors.")
@click.option("--base-url", metavar="URL", help="Run the flow against this site (a local replica).")
@click.option("--out", type=click.Path(file_okay=False), help="Evidence folder (default: in --home).")
@browser_options
@email_options
@json_option
@pass_ctx
@handles_errors
def followup(obj: Ctx, case, base_url, out, as_json, **settings):
    """File the repeat complaint marked "on inaction" (На бездействие) for CASE.

    It cites every earlier request number and date and goes through the same
    channel as the last request, with the same checks and the same journal.
    Refused before the deadline has passed (unless --force).
    """
    from assistant.casework.followup import followup_case
    from assistant.commands.submit import run_submission
    from assistant.language.flow import find_flow, load_flow
    from assistant.store import Store

    store = Store(obj.home)
    try:
        from assistant.commands.cases import case_row as _case

        row = _case(store, case)
        repeat, latest = followup_case(store, row, force=settings["force"])
    finally:
        store.close()
    flow = load_flow(find_flow(latest.flow_id))
    settings = take_email_options(settings)
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
