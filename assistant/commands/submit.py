"""`assistant submit PROVIDER` and `assistant demo`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import click

from assistant.commands.common import (
    BrowserOptions,
    Ctx,
    F,
    RunOptions,
    browser_options,
    evidence_options,
    handles_errors,
    info,
    interactive,
    json_option,
    pairs,
    pass_ctx,
    print_json,
    word,
)
from assistant.commands.email_options import EmailOptions, EmailSettings, email_options, email_settings
from assistant.translation import N_, _

if TYPE_CHECKING:
    from assistant.channels.base import SmtpSettings
    from assistant.language.case import Case
    from assistant.language.flow import Flow
    from assistant.pipeline import Outcome
    from assistant.run.warmup import Warmup


class FilingOptions(RunOptions, EmailOptions):
    """What filing_options adds to a command's keyword arguments, but for --base-url, --out and --json."""

    dry_run: bool
    yes: bool
    force: bool


class FilingSettings(RunOptions, EmailSettings):
    """The same, as pipeline.Settings takes them."""

    dry_run: bool
    yes: bool
    force: bool


class DemoOptions(RunOptions):
    """What demo takes besides its own options: the browser's, the evidence's and --dry-run."""

    dry_run: bool


class RunSettings(RunOptions, total=False):
    """What run_submission hands on to pipeline.Settings: a filing command's options and what it adds."""

    dry_run: bool
    yes: bool
    force: bool
    base_url: str | None
    out: Path | None
    warm: Warmup | None
    kind: str
    to: str | None
    eml_only: bool
    smtp: SmtpSettings


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    return pairs(values, "--set", _("{value!r}: expected FIELD=VALUE, e.g. contacts.email=me@example.com"))


def ask(field: str, description: str) -> str:
    return click.prompt(f"{field}" + (f" ({description})" if description else ""), err=True)


def confirm(summary: dict[str, Any]) -> bool:
    click.secho("\n" + _("About to submit:"), err=True, bold=True)
    labels = {key: word(key) for key in summary}
    width = max([12, *(len(label) + 1 for label in labels.values())])
    for key, value in summary.items():
        if isinstance(value, list):
            # Translators: the value of a line of the summary before submitting, e.g. attachments: none.
            value = ", ".join(value) or _("none")
        click.echo(f"  {labels[key]:{width}} {value}", err=True)
    try:
        return click.confirm(_("Submit this request now? It cannot be undone"), default=False, err=True)
    except click.exceptions.Abort:  # Ctrl-C at the prompt: interrupted (exit 130), nothing sent
        raise KeyboardInterrupt from None


def pause(message: str) -> None:
    click.secho(f"\n{message}", err=True, fg="yellow", bold=True)
    try:
        click.prompt(_("Press Enter here when you are done in the browser"), default="", show_default=False, err=True)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None


def locale_hint(case_file: str | Path | None, sets: dict[str, str], settings: Mapping[str, object]) -> str:
    """The person's locale before the case is loaded, for the browser that starts meanwhile:
    --locale, else the case's `language:` as written. A wrong guess costs only the warm start
    (Warmup.claim starts the browser again in the right language)."""
    import re

    from assistant.run.browser import LOCALES

    if settings.get("locale"):
        return str(settings["locale"])
    language = sets.get("language")
    if language is None and case_file:
        try:
            text = Path(case_file).read_text(encoding="utf-8", errors="replace")[:65536]
        except OSError:
            text = ""
        found = re.search(r"(?m)^language:[ \t]*[\"']?([a-z]{2})\b", text)
        language = found.group(1) if found else None
    return LOCALES.get(language or "en", "en-US")


def load_while_browser_starts(
    obj: Ctx,
    load_flow: Callable[[], Flow],
    load_case: Callable[[], Case],
    settings: BrowserOptions,
    locale: str | None = None,
    *,
    eml_only: bool = False,
) -> tuple[Flow, Case, Warmup | None]:
    """(flow, case, warm): loaded on a worker thread while this one starts the browser.

    The person waits for the number from the moment they press Enter; Playwright's
    driver and the browser take about half a second to start, in which this process
    would otherwise only wait (see assistant.run.warmup). The case is loaded on this
    thread when it may have to ask for missing fields on the terminal.
    """
    from concurrent.futures import ThreadPoolExecutor

    from assistant.run.browser import BrowserNotFound, discover
    from assistant.run.warmup import Warmup

    if eml_only:
        return load_flow(), load_case(), None
    try:
        choice = discover(settings.get("browser_path"), settings.get("browser_endpoint"), settings.get("cdp"))
    except BrowserNotFound:  # said where it is said in every run: after the case and flow checks
        return load_flow(), load_case(), None
    warm = Warmup(
        obj.home, choice, headless=not settings.get("headed"), slowmo=settings.get("slowmo") or 0, locale=locale
    )
    try:
        warm.import_driver()
        with ThreadPoolExecutor(1, thread_name_prefix="load") as worker:
            flow_loaded = worker.submit(load_flow)
            case_loaded = None if interactive() else worker.submit(load_case)
            worker.submit(_import_run, obj.home / "cache" / "templates")
            warm.start_driver()
            flow = flow_loaded.result()
            if flow.channel == "web_form":
                warm.launch()
            else:  # no browser in this run: the driver goes before anything else happens
                warm.close()
            case = case_loaded.result() if case_loaded is not None else load_case()
    except BaseException:
        warm.close()
        raise
    return flow, case, warm if flow.channel == "web_form" else None


def _import_run(templates: Path) -> None:
    # The signing key's code and the report's templates too: sealing comes after the number,
    # where the person would wait for them.
    import assistant.channels.web_form
    import assistant.pipeline  # noqa: F401
    import evidence.keys
    import evidence.tsa  # noqa: F401  # the first capture's tokens are asked during the run
    from evidence import report

    report.prepare(templates)


ACCEPTED_NO_NUMBER = N_("accepted by the provider (its page gives no request number)")


def run_submission(obj: Ctx, case: Case, flow: Flow, *, as_json: bool, **settings: Unpack[RunSettings]) -> Outcome:
    """File the case through the flow and tell the person; returns what the pipeline returned."""
    import gc

    from assistant.pipeline import Settings
    from assistant.pipeline import submit as do_submit

    # What is loaded by now (the flow, the case, the modules, pydantic's schemas) stays for the
    # whole process: the collector need not walk it again and again while the browser runs.
    gc.freeze()
    shown: list[str] = []

    def show_number(number: str | None, url: str | None) -> None:
        # The person's answer, the moment the provider gives it; sealing the evidence follows.
        if number is None:
            click.secho(_(ACCEPTED_NO_NUMBER), fg="green")
        else:
            click.secho(_("submitted; keep this number:"), fg="green")
            click.secho(number, bold=True)
        shown.append(number or "")
        info(_("sealing the evidence package…"))

    from assistant.errors import AssistantError

    try:
        outcome = do_submit(
            case,
            flow,
            Settings.of(
                home=obj.home,
                interactive=interactive(),
                confirm=confirm,
                ask_human=pause,
                log=info,
                on_confirmation=None if as_json else show_number,
                **settings,
            ),
        )
    except AssistantError as exc:
        if as_json and exc.outcome is not None:  # a script learns the outcome from stdout, as on success
            print_json({**exc.outcome.public(), "error": str(exc).splitlines()[0]})  # type: ignore[attr-defined]
        raise
    if as_json:
        print_json(outcome.public())
        return outcome
    click.echo(_("evidence: {folder}").format(folder=outcome.evidence_dir))
    if outcome.evidence_zip:
        click.echo(_("evidence zip: {zip}  (check: assistant evidence verify {zip})").format(zip=outcome.evidence_zip))
    if outcome.status == "dry_run" and (outcome.evidence_dir / "message.eml").is_file():
        click.secho(
            _("dry run: nothing sent; the message is {file}").format(file=outcome.evidence_dir / "message.eml"),
            fg="yellow",
        )
        return outcome
    if outcome.status == "dry_run":
        click.secho(_("dry run: the form was filled but not submitted; see the review screenshot."), fg="yellow")
        return outcome
    if outcome.status == "eml_written":
        click.secho(
            _(
                "written, not sent: open {file} in your mail program and send it. "
                "Its Message-ID is the reference until the provider gives a number:"
            ).format(file=outcome.evidence_dir / "message.eml"),
            fg="yellow",
        )
        click.secho(outcome.confirmation or "", bold=True)
        return outcome
    if outcome.status == "accepted":
        if "" not in shown:
            click.secho(_(ACCEPTED_NO_NUMBER), fg="green")
        click.echo(
            _(
                "The provider's page gives no request number; the confirmation page is in the evidence. "
                "When their email brings a number: assistant cases number {case} NUMBER"
            ).format(case=outcome.case_id or "CASE")
        )
        return outcome
    if outcome.confirmation not in shown:
        click.secho(_("submitted; keep this number:"), fg="green")
        click.secho(outcome.confirmation or "", bold=True)
    return outcome


def filing_settings(options: FilingOptions) -> FilingSettings:
    """A filing command's options as run_submission takes them."""
    return {
        "headed": options["headed"],
        "slowmo": options["slowmo"],
        "browser_path": options["browser_path"],
        "browser_endpoint": options["browser_endpoint"],
        "cdp": options["cdp"],
        "timeout": options["timeout"],
        "device": options["device"],
        "masks": options["masks"],
        "tsa": options["tsa"],
        "trace": options["trace"],
        "trace_in_package": options["trace_in_package"],
        "tz": options["tz"],
        "locale": options["locale"],
        "dry_run": options["dry_run"],
        "yes": options["yes"],
        "force": options["force"],
        **email_settings(options),
    }


def filing_options(func: F) -> F:
    """The options of every command that files a request (submit, followup): one list, so they cannot drift."""
    options = [
        click.option(
            "--dry-run", is_flag=True, help="Do everything except the submit click; screenshot the filled form."
        ),
        click.option("--yes", "-y", is_flag=True, help="Submit without asking (needed without a terminal)."),
        click.option(
            "--force",
            is_flag=True,
            help="Submit even if this case was already submitted or is pending, or past check errors.",
        ),
        click.option("--base-url", metavar="URL", help="Run the flow against this site (a local replica)."),
        click.option("--out", type=click.Path(file_okay=False), help="Evidence folder (default: in --home)."),
        browser_options,
        evidence_options,
        email_options,
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("submit")
@click.argument("provider", required=False)
@click.option("--case", "case_file", type=click.Path(dir_okay=False), help="Case file (YAML).")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Set or override a case field, e.g. --set contacts.email=me@example.com.",
)
@click.option(
    "--url",
    metavar="URL",
    help="File to the feedback form at this address, with no flow written for it: its fields are mapped to "
    "the case and shown before anything is sent.",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --url: the value of a form field the case does not hold, by its label or name, "
    "e.g. --field 'Город=Москва'.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="HOST",
    help="With --url: another host the form needs (only the URL's own is allowed otherwise).",
)
@click.option(
    "--form", "form_selector", metavar="SELECTOR", help="With --url: the form to fill, when the page has several."
)
@click.option(
    "--save-flow",
    metavar="NAME",
    help="With --url: save the flow under this name (default: from the address), also after a dry run.",
)
@filing_options
@pass_ctx
@handles_errors
def submit(
    obj: Ctx,
    /,
    provider: str | None,
    case_file: str | None,
    sets: tuple[str, ...],
    url: str | None,
    fields: tuple[str, ...],
    allow_hosts: tuple[str, ...],
    form_selector: str | None,
    save_flow: str | None,
    base_url: str | None,
    out: str | None,
    as_json: bool,
    **options: Unpack[FilingOptions],
) -> None:
    """Submit a support request to PROVIDER (a flow id, e.g. demo) and save the ticket number.

    Or --url URL: file to a provider's feedback form that has no flow; the form's fields are
    mapped to the case, what the case does not hold is asked for (or given with --field), and
    a filing the provider accepts saves the flow for the next time.

    Missing case fields are asked for on a terminal. Without a terminal, pass
    --yes to submit or --dry-run to rehearse.
    """
    if url is not None or provider is None:
        from assistant.errors import InputError

        if url is None:
            raise click.UsageError(_("give PROVIDER (a flow id, e.g. demo) or --url URL"))
        if provider is not None:
            raise click.UsageError(_("give PROVIDER or --url, not both"))
        if base_url is not None:
            raise click.UsageError(_("--base-url is for a flow; --url already says where the form is"))
        if options["eml_only"] or options.get("to"):
            raise InputError(_("--url files to a web form: the email options do not apply"))
        from assistant.commands.anyform import parse_fields, submit_url

        submit_url(
            obj,
            url=url,
            case_file=case_file,
            sets=parse_sets(sets),
            fields=parse_fields(fields),
            allow_hosts=allow_hosts,
            form_selector=form_selector,
            save_flow=save_flow,
            as_json=as_json,
            out=Path(out) if out else None,
            settings=dict(filing_settings(options)),
            ask=ask,
            run_submission=run_submission,
        )
        return
    if fields or allow_hosts or form_selector or save_flow:
        raise click.UsageError(_("--field, --allow-host, --form and --save-flow go with --url"))

    def flow() -> Flow:
        from assistant.language.flow import find_flow, load_flow

        return load_flow(find_flow(provider))

    def case() -> Case:
        from assistant.language.case import load_case

        return load_case(
            case_file,
            parse_sets(sets),
            defaults={"provider": provider},
            ask=ask if interactive() else None,
            home=obj.home,
        )

    settings = filing_settings(options)
    hint = locale_hint(case_file, parse_sets(sets), settings)
    loaded_flow, loaded_case, warm = load_while_browser_starts(
        obj, flow, case, settings, hint, eml_only=settings["eml_only"]
    )
    try:
        run_submission(
            obj,
            loaded_case,
            loaded_flow,
            as_json=as_json,
            base_url=base_url,
            out=Path(out) if out else None,
            warm=warm,
            **settings,
        )
    finally:
        if warm is not None:
            warm.close()


@click.command("demo")
@click.option("--serve", is_flag=True, help="Only run the demo portal until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port for the portal (default: a free one).")
@click.option(
    "--faults",
    metavar="SPEC",
    help="Make the portal misbehave at random, e.g. 'latency=0.3,error500=0.1,reset=0.1,hang=0.1,reject=0.1,seed=7' "
    "(rates 0..1; latency in seconds).",
)
@click.option("--dry-run", is_flag=True, help="Fill the form but do not submit.")
@browser_options
@evidence_options
@json_option
@pass_ctx
@handles_errors
def demo(
    obj: Ctx, /, serve: bool, port: int, faults: str | None, as_json: bool, **settings: Unpack[DemoOptions]
) -> None:
    """Start the built-in demo support portal and submit a sample case to it."""
    from assistant.errors import InputError
    from assistant.language import catalog
    from assistant.language.case import load_case
    from assistant.language.flow import load_flow
    from assistant.sites.demo.faults import Faults, Hit
    from assistant.sites.demo.portal import DemoPortal

    def show(hit: Hit) -> None:
        what = {"none": _("answered"), "error500": "HTTP 500", "reject": _("form refused")}.get(hit.kind, hit.kind)
        if hit.number:
            line = _("portal: post of the form: {what}, stored {number} (after {delay:.2f} s)")
        else:
            line = _("portal: post of the form: {what}, nothing stored (after {delay:.2f} s)")
        info(line.format(what=what, number=hit.number, delay=hit.delay))

    try:
        chosen = Faults.parse(faults) if faults is not None else None
    except ValueError as exc:
        raise InputError(_("--faults: {problem}").format(problem=exc)) from None
    if chosen is not None:
        chosen.on_hit = show
    with DemoPortal(port=port, faults=chosen) as portal:
        if serve:
            click.echo(_("demo portal: {url}/  (Ctrl-C to stop)").format(url=portal.url))
            if chosen is not None:
                click.echo(_("faults: {faults}").format(faults=chosen.describe()))
            from assistant.sites.web import until_interrupted

            try:
                until_interrupted()
            except KeyboardInterrupt:
                return
        info(
            _(
                "demo portal running at {url}/ (a fresh portal each run, so the sample case is "
                "sent again even if you ran the demo before: --force is implied)"
            ).format(url=portal.url)
        )
        # The built-in demo, whatever flow called demo a flows folder holds.
        bundled = catalog.bundled()
        flow, case, warm = load_while_browser_starts(
            obj,
            lambda: load_flow(bundled / "demo.yaml"),
            lambda: load_case(bundled / "samples" / "demo-case.yaml"),
            settings,
            locale_hint(bundled / "samples" / "demo-case.yaml", {}, settings),
        )
        # Every demo run talks to a fresh portal, so the same sample case is a
        # new request each time: --force and --yes are implied.
        try:
            run_submission(
                obj, case, flow, as_json=as_json, base_url=portal.url, yes=True, force=True, warm=warm, **settings
            )
        finally:
            if warm is not None:
                warm.close()
