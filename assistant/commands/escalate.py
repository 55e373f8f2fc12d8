"""`assistant escalate CASE --to regulator|claim|review`: drafts, never sent."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.commands.common import Ctx, handles_errors, json_option, pass_ctx, print_json


@click.command("escalate")
@click.argument("case")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice(["regulator", "claim", "review"]),
    help="regulator: complaint to Rospotrebnadzor; claim: pre-trial claim; review: public review.",
)
@click.option("--lang", type=click.Choice(["ru", "en"]), help="Language (default: the case's).")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the drafts (default: in --home).")
@click.option("--no-pdf", is_flag=True, help="Text only; do not start the browser to print the PDF.")
@click.option("--browser-path", metavar="PATH", help="Chrome/Chromium for the PDF (or ASSISTANT_BROWSER).")
@json_option
@pass_ctx
@handles_errors
def escalate(
    obj: Ctx,
    /,
    case: str,
    target: str,
    lang: str | None,
    out: str | None,
    no_pdf: bool,
    browser_path: str | None,
    as_json: bool,
) -> None:
    """Draft, without sending, a complaint to the regulator, a pre-trial claim or a public review.

    The draft holds the case facts, the timeline of requests and the evidence
    list, as text and PDF. Read it, sign it, and file it yourself.
    """
    from assistant.casework.escalate import write
    from assistant.casework.followup import stored_case_and_flow
    from assistant.commands.cases import case_row
    from assistant.run.browser import html_to_pdf
    from assistant.store import Store

    with Store(obj.home) as store:
        row = case_row(store, case)
        filed, flow = stored_case_and_flow(store, row)
        folder = Path(out) if out else obj.home / "escalations" / f"case-{row['id']}"
        to_pdf = None if no_pdf else (lambda page: html_to_pdf(page, browser_path))
        paths = write(filed, target, folder, flow=flow, lang=lang, to_pdf=to_pdf)
        store.add_note(row["id"], f"drafted {target}: {paths.get('pdf') or paths['text']} (not sent)")
        if row["status"] != "closed":
            store.set_status(row["id"], "escalated", f"{target} drafted")
    if as_json:
        print_json({"case": row["id"], "to": target, **paths})
        return
    click.secho(f"drafted, not sent ({target}):", fg="green")
    for kind, path in paths.items():
        click.echo(f"  {kind:5} {path}")
