"""`assistant compose` and `assistant check`: write the request, and lint it before sending."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from assistant.commands.common import Ctx, exit_with, handles_errors, json_option, print_json
from assistant.errors import ExitStatus, printable
from assistant.translation import _

if TYPE_CHECKING:
    from assistant.language.case import Case
    from assistant.language.flow import Flow


def _load(case_file: str, flow_id: str | None) -> tuple[Case, Flow]:
    from assistant.errors import InputError
    from assistant.language.case import load_case
    from assistant.language.flow import find_flow, load_flow

    case = load_case(case_file)
    try:
        path = find_flow(flow_id or case.provider)
    except InputError as exc:
        if flow_id:
            raise
        raise InputError(f"{case.where('provider')}: provider: {exc}") from None
    flow = load_flow(path)
    if case.category not in flow.categories:
        raise InputError(
            _("{where}: category: '{category}' is not a category of {flow} (known: {known})").format(
                where=case.where("category"), category=case.category, flow=flow.id, known=", ".join(flow.categories)
            )
        )
    return case, flow


@click.command("compose")
@click.option("--case", "case_file", required=True, type=click.Path(dir_okay=False), help="Case file (YAML).")
@click.option("--lang", type=click.Choice(["ru", "en"]), help="Language of the request (default: the case's).")
@click.option("--flow", "flow_id", metavar="ID", help="Provider flow whose templates to use (default: the case's).")
@json_option
@handles_errors
def compose(case_file: str, lang: str | None, flow_id: str | None, as_json: bool) -> None:
    """Write the request from the case: subject, then the text the provider reads."""
    from assistant.casework.compose import compose as make

    case, flow = _load(case_file, flow_id)
    request = make(case, flow=flow, lang=lang)
    if as_json:
        print_json(
            {
                "subject": request.subject,
                "body": request.body,
                "language": request.language,
                "kind": request.kind,
                "evidence": request.evidence,
            }
        )
        return
    click.secho(printable(request.subject), bold=True)
    click.echo()
    click.echo(printable(request.body))


@click.command("check")
@click.option("--case", "case_file", required=True, type=click.Path(dir_okay=False), help="Case file (YAML).")
@click.option("--flow", "flow_id", metavar="ID", help="Provider flow to check against (default: the case's).")
@json_option
@click.pass_context
@handles_errors
def check(ctx: click.Context, case_file: str, flow_id: str | None, as_json: bool) -> None:
    """Lint the request against what gets requests ignored. Exit 2 on errors.

    Errors: anonymous, no order number where the provider needs one, a date in
    the future, profanity or insults, a repeat of an open request with nothing
    new. Warnings: a subject outside 5-7 words, no evidence, no device on a
    technical problem, no desired outcome.
    """
    from assistant.casework.check import errors, lint
    from assistant.casework.matter import matter_of
    from assistant.store import Store

    case, flow = _load(case_file, flow_id)
    with Store(ctx.ensure_object(Ctx).home) as store:
        findings = lint(case, flow, store.open_on_matter(matter_of(case, flow)))
    bad = errors(findings)
    if as_json:
        print_json({"ok": not bad, "findings": [f.public() for f in findings]})
    else:
        for finding in findings:
            colour = "red" if finding.level == "error" else "yellow"
            click.secho(printable(f"{case_file}: {finding}"), fg=colour, err=bool(bad))
        if not findings:
            click.secho(_("{file}: ok, nothing to fix").format(file=case_file), fg="green")
        elif not bad:
            click.secho(_("{file}: no errors ({n} warning(s))").format(file=case_file, n=len(findings)), fg="green")
    if bad:
        exit_with(ExitStatus.BAD_INPUT)
