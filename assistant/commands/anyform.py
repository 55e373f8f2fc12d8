"""`assistant submit --url URL`: file to a form nobody has written a flow for.

The page is read and mapped (assistant.workbench.learning), the person sees the mapping,
answers what the case does not hold, and the flow made of it runs through the one filing
pipeline (journal, never twice, evidence, the usual review and confirmation). A filing the
provider accepted, or a dry run with --save-flow, leaves the flow in the person's flows
folder, with a replica of the page: the next filing is `assistant submit NAME`.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from assistant.commands.common import Ctx, info, interactive, pairs
from assistant.errors import InputError, OutcomeUnknown
from assistant.translation import _

if TYPE_CHECKING:
    from collections.abc import Callable

    from assistant.language.case import Case
    from assistant.language.flow import Flow
    from assistant.pipeline import Outcome
    from assistant.workbench import fieldmap
    from assistant.workbench.learning import Reading

SHOWN = 60


def parse_fields(values: tuple[str, ...]) -> dict[str, str]:
    return pairs(
        values, "--field", _("{value!r}: expected NAME=VALUE, e.g. 'Город=Москва' (the field's label or name)")
    )


def choose_form(forms: list[dict[str, Any]]) -> int:
    from assistant.workbench.learning import describe_form

    click.secho(_("The page has several forms that could be the feedback form:"), err=True, bold=True)
    for number, form in enumerate(forms, 1):
        click.echo(f"  {number}. {describe_form(form)}  ({form['selector']})", err=True)
    try:
        picked: int = click.prompt(_("Which one is it?"), type=click.IntRange(1, len(forms)), default=1, err=True)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    return picked - 1


def ask_field(item: fieldmap.Field, mapping: fieldmap.Mapping) -> str | None:
    """A field the case does not fill, asked on the terminal with its label and choices."""
    label = mapping.label.strip(" *:") or mapping.key
    options = [o for o in item.options if o.get("value")]
    click.echo("", err=True)
    if options:
        for number, option in enumerate(options, 1):
            click.echo(f"  {number}. {option['text'] or option['value']}", err=True)
    required = item.required
    if item.type == "checkbox":
        prompt = _("Tick «{label}»?").format(label=label)
        try:
            return "yes" if click.confirm(prompt, default=False, err=True) else ""
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
    if required:
        prompt = _("The form asks «{label}» (required)").format(label=label)
    else:
        prompt = _("The form asks «{label}» (optional: Enter leaves it empty)").format(label=label)
    if options:
        prompt += " " + _("[number or text]")
    known = {o["value"].lower() for o in options} | {o["text"].lower() for o in options}
    while True:
        try:
            answer: str = click.prompt(prompt, default="" if not required else None, show_default=False, err=True)
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        answer = answer.strip()
        chosen = answer.isdigit() and 1 <= int(answer) <= len(options)
        if not answer or not options or chosen or answer.lower() in known:
            return answer or None
        click.secho(_("not one of the choices: give its number or its text"), err=True, fg="yellow")


def _typed(row_step: dict[str, Any], context: dict[str, Any]) -> str:
    """What a step puts in its field, as the person reads it."""
    from assistant.language import templating

    ((kind, args),) = row_step.items()
    if "category.form_value" in str(args):  # the topic: the option as the page names it
        return str(context["category"]["label"])
    if kind == "check":
        return _("ticked")
    if kind == "upload":
        return ", ".join(context["attachments"]) or _("none")
    return str(templating.render(args["value"], context))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def show_table(reading: Reading, case: Case, flow: Flow, *, shown: bool = True) -> None:
    """The mapping as the person reads it before anything is sent (not with --json); a value
    its field cannot take whole is refused, shown or not: the page would cut it, or refuse it."""
    from assistant.channels.web_form import template_context

    plan = reading.plan
    context = template_context(case, flow, flow.homepage or "")
    values = [_typed(row.step, context) if row.step is not None else "—" for row in plan.rows]
    too_long = [
        _("«{label}» takes at most {most} characters; its value has {length}").format(
            label=row.label, most=row.maxlength, length=len(value)
        )
        for row, value in zip(plan.rows, values, strict=True)
        if row.maxlength and row.step is not None and "fill" in row.step and len(value) > row.maxlength
    ]
    if shown:
        click.secho("\n" + _("The form at {url}, as it will be filled:").format(url=reading.url), err=True, bold=True)
        width = min(32, max([12, *(len(r.label) + 1 for r in plan.rows)]))
        for row, value in zip(plan.rows, values, strict=True):
            label = row.label if len(row.label) <= width else row.label[: width - 1] + "…"
            click.echo(f"  {label:{width}} {_short(value)}", err=True)
            click.secho(f"  {'':{width}} ← {row.source}", err=True, dim=True)
        left = [
            m.label.strip(" *:") or m.key
            for page in reading.pages
            for item, m in zip(page.controls, page.mappings, strict=True)
            if item.visible and item.type != "hidden" and m.key not in {r.key for r in plan.rows}
        ]
        if left:
            click.secho(_("  left as the page has them: {fields}").format(fields="; ".join(left)), err=True, dim=True)
    if too_long:
        raise InputError(
            _("{problems}; shorten it in the case (or give the field with --field); nothing was filed").format(
                problems="; ".join(too_long)
            )
        )


def submit_url(
    obj: Ctx,
    *,
    url: str,
    case_file: str | None,
    sets: dict[str, str],
    fields: dict[str, str],
    allow_hosts: tuple[str, ...],
    form_selector: str | None,
    save_flow: str | None,
    as_json: bool,
    out: Path | None,
    settings: dict[str, Any],
    ask: Callable[[str, str], str],
    run_submission: Callable[..., Outcome],
) -> None:
    """`ask` asks for a missing case field; `run_submission` files and tells (both submit's own)."""
    from assistant.language import catalog
    from assistant.language.case import load_case
    from assistant.language.flow import load_flow
    from assistant.workbench import authoring, learning

    name = save_flow or learning.default_name(url)
    authoring.check_name(name)
    case = load_case(
        case_file,
        sets,
        defaults={"provider": name},
        ask=ask if interactive() else None,
        home=obj.home,
    )
    if case.provider != name and save_flow is None and _free_name(case.provider, obj.home):
        name = case.provider  # the person named the provider: the flow is kept under that name
    elif case.provider != name:
        info(
            _("note: the case's provider {provider!r} is filed here as {name!r}, the flow --url learns").format(
                provider=case.provider, name=name
            )
        )
    case = case.model_copy(update={"provider": name})
    reading = learning.learn(
        url,
        case,
        fields,
        ask=ask_field if interactive() else None,
        browser=settings,
        timeout=settings.get("timeout") or 30,
        home=obj.home,
        allow_hosts=allow_hosts,
        form_selector=form_selector,
        choose=choose_form if interactive() else None,
        log=info,
    )
    if reading.other_hosts:
        info(
            _(
                "note: the page also asked for {hosts}, which were not allowed (only {host} is); if the form "
                "needs them, pass --allow-host for each"
            ).format(hosts=", ".join(reading.other_hosts), host=reading.host)
        )
    if case.attachments and not any(r.get("type") == "file" for r in reading.records):
        info(
            _(
                "note: the form takes no files: {files} will not be sent with it; keep them for the "
                "provider's answer (their email may ask for them)"
            ).format(files=", ".join(p.name for p in case.attachments))
        )
        case = case.model_copy(update={"attachments": []})
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="url-", dir=_scratch(obj.home)) as scratch:
        folder = Path(scratch) / "flows"
        learning.save(name, reading, case, folder, today=today, live=False)
        flow = load_flow(folder / f"{name}.yaml")
        show_table(reading, case, flow, shown=not as_json)
        try:
            result = run_submission(obj, case, flow, as_json=as_json, base_url=None, out=out, warm=None, **settings)
        except OutcomeUnknown:
            # The provider may have it: `cases resolve` and a follow-up need the flow it went by.
            _keep(name, reading, case, catalog.user_folder(obj.home), today, live=False)
            raise
        if result.status in ("confirmed", "accepted") or (result.status == "dry_run" and save_flow is not None):
            _keep(name, reading, case, catalog.user_folder(obj.home), today, live=True)


def _free_name(provider: str, home: Path) -> bool:
    """A provider name a learned flow may take: a flow name no flow has yet."""
    from assistant.language import catalog
    from assistant.workbench import authoring

    if not authoring.NAME.match(provider):
        return False
    return provider not in {found.id for found in catalog.search(home=home).files()}


def _scratch(home: Path) -> Path:
    folder = home / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(name: str, reading: Reading, case: Case, folder: Path, today: date, live: bool) -> None:
    from assistant.workbench import learning

    if (folder / f"{name}.yaml").exists():
        info(
            _("note: {path} exists and was kept as it is; the next filing uses it: assistant submit {name}").format(
                path=folder / f"{name}.yaml", name=name
            )
        )
        return
    written = learning.save(name, reading, case, folder, today=today, live=live)
    info(
        _("the flow is saved as {path}; the next filing is: assistant submit {name} --case FILE").format(
            path=written[0], name=name
        )
    )
