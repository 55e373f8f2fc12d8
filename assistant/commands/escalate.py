"""`assistant escalate CASE --to regulator|claim|review`: drafts, never sent; `--sent` records that you sent one."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.commands.common import Ctx, handles_errors, json_option, pass_ctx, print_json
from assistant.translation import _


@click.command("escalate")
@click.argument("case")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice(["regulator", "claim", "review"]),
    help="regulator: complaint to Rospotrebnadzor (a consumer service) or the Bank of Russia (a bank or "
    "payment operator); claim: pre-trial claim; review: public review.",
)
@click.option("--lang", type=click.Choice(["ru", "en"]), help="Language (default: the case's).")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the drafts (default: in --home).")
@click.option("--no-pdf", is_flag=True, help="Text only; do not start the browser to print the PDF.")
@click.option("--browser-path", metavar="PATH", help="Chrome/Chromium for the PDF (or ASSISTANT_BROWSER).")
@click.option(
    "--force", is_flag=True, help="Draft before the provider's deadline (the draft then says it has not passed)."
)
@click.option("--sent", is_flag=True, help="Draft nothing: record that you sent it; the case becomes escalated.")
@click.option("--at", "sent_at", metavar="WHEN", help="With --sent: when (ISO date and time with zone; default: now).")
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
    force: bool,
    sent: bool,
    sent_at: str | None,
    as_json: bool,
) -> None:
    """Draft, without sending, a complaint to the regulator, a pre-trial claim or a public review.

    The draft holds the case facts, the timeline of requests, where the answer
    stands and the evidence list, as text and PDF. Read it, sign it, and file it
    yourself. Refused before the provider's deadline (unless --force); drafting
    only adds a note to the case. Once you have sent it,
    `assistant escalate CASE --to TARGET --sent [--at WHEN]` records that, and
    the case becomes escalated.
    """
    from assistant.casework.escalate import mark_sent, ready, write
    from assistant.casework.followup import stored_case_and_flow
    from assistant.commands.cases import case_row, sent_at_option
    from assistant.errors import InputError
    from assistant.run.browser import html_to_pdf
    from assistant.store import Store

    if sent_at is not None and not sent:
        raise InputError(_("--at goes with --sent (when you sent the escalation)"))
    with Store(obj.home) as store:
        row = case_row(store, case)
        if sent:
            moment = sent_at_option(sent_at)
            _filed, flow = stored_case_and_flow(store, row)
            note = mark_sent(store, row, target, moment, flow)
            if as_json:
                print_json({"case": row["id"], "to": target, "sent_at": moment.isoformat(), "status": "escalated"})
            else:
                click.echo(_("case {id}: escalated: {note}").format(id=row["id"], note=note))
            return
        where = ready(store, row, force=force)
        filed, flow = stored_case_and_flow(store, row)
        folder = Path(out) if out else obj.home / "escalations" / f"case-{row['id']}"
        to_pdf = None if no_pdf else (lambda page: html_to_pdf(page, browser_path))
        paths = write(filed, target, folder, flow=flow, lang=lang, where=where, to_pdf=to_pdf)
        store.add_note(row["id"], f"drafted {target}: {paths.get('pdf') or paths['text']} (not sent)")
    if as_json:
        print_json({"case": row["id"], "to": target, "state": where.state, **paths})
        return
    # Translators: {target} is regulator, claim or review, as given to --to.
    click.secho(_("drafted, not sent ({target}):").format(target=target), fg="green")
    for kind, path in paths.items():
        click.echo(f"  {kind:5} {path}")
    click.echo(
        _("once you have sent it: assistant escalate {id} --to {target} --sent [--at WHEN]").format(
            id=row["id"], target=target
        )
    )
