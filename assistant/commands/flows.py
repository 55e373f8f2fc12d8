"""`assistant flow …`: the maintainers' workbench (list, new, snapshot, validate, test, check, schema, serve)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from assistant.commands.common import Ctx, F, exit_with, handles_errors, json_option, pass_ctx, print_json, seconds
from assistant.errors import ExitStatus
from assistant.translation import _

if TYPE_CHECKING:
    from assistant.language.flow import Flow
    from assistant.workbench.authoring import Places
    from assistant.workbench.flowtest import FlowTestResult


@click.group("flow")
def flow() -> None:
    """Provider flows: list, scaffold, snapshot, validate, test, check live, export the schema.

    \b
    Adding a provider (CONTRIBUTING.md, "Adding a provider flow"):
      assistant flow snapshot URL NAME    start a replica + draft flow from a real form
      assistant flow new NAME             or scaffold both from a template
      assistant flow test NAME            run the flow against its replica
      assistant flow check NAME --live    walk the real site up to, not including, submit
    """


@flow.command("schema")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def schema(output: str | None) -> None:
    """Print the flow file JSON Schema (for editor completion; see docs/flows.md, "Provider flows")."""
    import json

    from assistant.language.flow import schema as make

    if output:
        from pathlib import Path

        Path(output).write_text(json.dumps(make(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(_("wrote {path}").format(path=output))
        return
    print_json(make())


@flow.command("validate")
@click.argument("files", nargs=-1)
@handles_errors
def validate(files: tuple[str, ...]) -> None:
    """Check flow files (or ids; all flows if none); print each problem as file:line:column: field: message.

    Also checks that a flow's test: block names a replica folder with a
    site.py and a sample case that loads.
    """
    from assistant.errors import InputError
    from assistant.language.flow import all_flow_files, find_flow, load_flow

    paths = [p if p.endswith((".yaml", ".yml")) else find_flow(p) for p in files] if files else all_flow_files()
    bad = 0
    for path in paths:
        try:
            loaded = load_flow(path)
            _validate_test_block(loaded)
        except InputError as exc:
            bad += 1
            from assistant.errors import printable

            click.secho(printable(str(exc)), fg="red", err=True)
            continue
        if loaded.channel == "web_form":
            click.echo(_("{path}: ok ({flow}, {n} steps)").format(path=path, flow=loaded.id, n=len(loaded.steps)))
        else:
            # Translators: {channel} is a flow's channel as its file names it (email, web_form).
            click.echo(
                _("{path}: ok ({flow}, {channel} channel)").format(path=path, flow=loaded.id, channel=loaded.channel)
            )
    if bad:
        exit_with(ExitStatus.BAD_INPUT)


@flow.command("list")
@click.option("--paths", is_flag=True, help="Also show where flows are looked for, in order, and which is found where.")
@json_option
@handles_errors
def list_flows(paths: bool, as_json: bool) -> None:
    """List the provider flows this assistant knows.

    \b
    Flows are looked for, first place first (docs/flows.md, "Where flows come from"):
      --flows DIR, ASSISTANT_FLOWS, HOME/flows, flow packs (installed
      distributions registering `support_assistant.flows`), the bundled flows.
    A flow id found in two places is taken from the first; the note says so.
    """
    from assistant.errors import InputError, printable
    from assistant.language import catalog
    from assistant.language.flow import load_flow

    search = catalog.search()
    rows: list[dict[str, Any]] = []
    bad = 0
    for found in search.files():
        try:
            loaded = load_flow(found.path)
        except InputError as exc:
            bad += 1
            click.secho(printable(str(exc)), fg="red", err=True)
            continue
        rows.append(
            {
                "id": loaded.id,
                "channel": loaded.channel,
                "categories": list(loaded.categories),
                "verified_live": loaded.verified_live.isoformat() if loaded.verified_live else None,
                "verified_confirmation": (
                    loaded.verified_confirmation.isoformat() if loaded.verified_confirmation else None
                ),
                "file": str(found.path),
                "from": found.place.origin,
                "hides": [str(h.path) for h in found.hides],
            }
        )
    # The notes as --json gives them (English), and as the person reads them.
    notes = list(search.notes)
    shown_notes = list(search.notes)
    for found in search.files():
        for hidden in found.hides:
            values = {
                "flow": found.id,
                "path": found.path,
                "origin": found.place.origin,
                "hidden": hidden.path,
                "hidden_origin": hidden.place.origin,
            }
            hides = "{flow}: {path} ({origin}) hides {hidden} ({hidden_origin})"
            notes.append(hides.format(**values))
            shown_notes.append(_("{flow}: {path} ({origin}) hides {hidden} ({hidden_origin})").format(**values))
    if as_json:
        if paths:
            print_json(
                {
                    "places": [
                        {"path": str(p.path), "from": p.origin, "exists": p.path.is_dir()} for p in search.places
                    ],
                    "flows": rows,
                    "notes": notes,
                }
            )
        else:
            print_json(rows)
    else:
        if paths:
            click.echo(click.style(_("Where flows are looked for (the first place holding an id wins):"), bold=True))
            for number, place in enumerate(search.places, 1):
                missing = "" if place.path.is_dir() else "  " + _("(not there)")
                click.echo(f"{number:>2}. {place.origin}: {place.path}{missing}")
            click.echo()
        # Table headers, upper case as the English ones.
        channel_title, categories_title, live_title = _("CHANNEL"), _("CATEGORIES"), _("VERIFIED LIVE")
        width = max((len(r["id"]) for r in rows), default=2) + 2
        cats = max((len(", ".join(r["categories"])) for r in rows), default=10) + 2
        channels = max(10, len(channel_title) + 2)
        lives = max(15, len(live_title) + 2)
        header = f"{'ID':<{width}}{channel_title:<{channels}}{categories_title:<{cats}}{live_title:<{lives}}"
        click.echo(click.style((header + (_("FILE") if paths else "")).rstrip(), bold=True))
        for row in rows:
            # Translators: in the VERIFIED LIVE column of `flow list`: the flow was never checked on the real site.
            live = row["verified_live"] or _("never")
            line = (
                f"{row['id']:<{width}}{row['channel']:<{channels}}{', '.join(row['categories']):<{cats}}{live:<{lives}}"
            )
            click.echo((line + (row["file"] if paths else "")).rstrip())
    for note in shown_notes:
        click.secho(_("note: {note}").format(note=printable(note)), err=True, fg="yellow")
    if bad:
        exit_with(ExitStatus.BAD_INPUT)


@flow.command("test")
@click.argument("flows", nargs=-1)
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    help="Keep each run's evidence under this folder (without it, only a failed run's, in the home's flowtests/).",
)
@click.option("--timeout", type=seconds(0.1), metavar="SECONDS", help="Time each step may take.")
@json_option
@pass_ctx
@handles_errors
def test(obj: Ctx, /, flows: tuple[str, ...], keep: str | None, timeout: float | None, as_json: bool) -> None:
    """Run flows against their replicas with their sample cases (all flows if none named).

    FLOW is a flow id (kuper-support) or a flow file. Each test starts the
    replica named in the flow's `test:` block on 127.0.0.1, submits the
    sample case through the real browser, and checks the confirmation number.
    """
    from pathlib import Path

    from assistant.commands.common import info
    from assistant.language.flow import all_flow_files, find_flow, load_flow
    from assistant.workbench.flowtest import run

    if flows:
        paths = [find_flow(name) for name in flows]
    else:
        paths = []
        for path in all_flow_files():
            loaded = load_flow(path)
            if loaded.test is None:
                info(
                    _("{flow}: no test: block ({channel}); not tested here").format(
                        flow=loaded.id, channel=loaded.channel
                    )
                )
                continue
            paths.append(path)
    results: list[FlowTestResult] = []
    for path in paths:
        target = Path(keep) / Path(path).stem if keep else None
        result = run(path, log=info, keep=target, timeout=timeout, failures=Path(obj.home) / "flowtests")
        results.append(result)
        if not as_json:
            if result.ok:
                number = result.confirmation or _("(no number)")  # confirmation: none: accepted without one
                # Translators: a line of `flow test`: status (keep it 6 characters wide), flow, number, duration.
                line = _("ok    {flow:<22} {number:<16} {seconds:5.1f} s")
                click.secho(line.format(flow=result.flow, number=number, seconds=result.seconds), fg="green")
            else:
                # Translators: a line of `flow test`: status (keep it 6 characters wide), flow, why it failed.
                line = _("FAIL  {flow:<22} {message}")
                click.secho(line.format(flow=result.flow, message=result.message), fg="red")
                if result.evidence_dir:
                    click.echo(_("      evidence: {path}").format(path=result.evidence_dir))
    if as_json:
        print_json([r.public() for r in results])
    if any(not r.ok for r in results) or not results:
        if not results:
            click.secho(_("no flow with a test: block was found"), fg="red", err=True)
        exit_with(ExitStatus.RUN_FAILED)


def _places(flows_dir: str | None, sites_dir: str | None) -> Places:
    from assistant.workbench.authoring import Places

    return Places.default(flows_dir, sites_dir)


PLACE_OPTIONS = [
    click.option("--flows-dir", type=click.Path(file_okay=False), help="Where the flow goes (default: ./flows)."),
    click.option(
        "--sites-dir", type=click.Path(file_okay=False), help="Where the replica goes (default: FLOWS_DIR/replicas)."
    ),
    click.option("--force", is_flag=True, help="Overwrite files that exist."),
]


def place_options(func: F) -> F:
    for option in reversed(PLACE_OPTIONS):
        func = option(func)
    return func


@flow.command("new")
@click.argument("name")
@place_options
@handles_errors
def new(name: str, flows_dir: str | None, sites_dir: str | None, force: bool) -> None:
    """Scaffold flow NAME with a replica and a sample case that pass `flow test` at once.

    Then make the replica look like the real form and the flow fit it (see
    CONTRIBUTING.md, "Adding a provider flow").
    """
    from assistant.workbench.authoring import new as scaffold

    places = _places(flows_dir, sites_dir)
    for path in scaffold(name, places, force=force):
        click.echo(_("wrote {path}").format(path=path))
    click.echo(_("next: assistant flow test {path}").format(path=places.flow(name)))


@flow.command("snapshot")
@click.argument("url", metavar="[URL]")
@click.argument("name", required=False)
@click.option("--form", "form_selector", metavar="SELECTOR", help="The form to capture (default: the biggest).")
@click.option(
    "--steps",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    metavar="N",
    help='A wizard of N forms: each but the last is filled with the sample case and its "Next" clicked.',
)
@click.option(
    "--confirmation",
    "evidence_dir",
    type=click.Path(file_okay=False, exists=True),
    metavar="EVIDENCE_DIR",
    help="Instead: take the real confirmation page from the evidence of one real submission.",
)
@click.option("--number", metavar="N", help="With --confirmation: the request number the page showed.")
@click.option(
    "--no-number", "no_number", is_flag=True, help="With --confirmation: the page thanked and showed no number."
)
@click.option(
    "--session",
    "session_flow",
    metavar="FLOW",
    help="Open the page logged in, with the session `assistant login FLOW` saved (a form behind a login).",
)
@click.option("--browser-path", metavar="PATH", help="Chrome/Chromium executable (or ASSISTANT_BROWSER).")
@click.option("--timeout", type=seconds(1), default=30, show_default=True, metavar="SECONDS")
@place_options
@pass_ctx
@handles_errors
def snapshot(
    obj: Ctx,
    /,
    url: str,
    name: str | None,
    form_selector: str | None,
    steps: int,
    evidence_dir: str | None,
    number: str | None,
    no_number: bool,
    session_flow: str | None,
    browser_path: str | None,
    timeout: float,
    flows_dir: str | None,
    sites_dir: str | None,
    force: bool,
) -> None:
    """Save the form at URL as the start of replica NAME, and draft flow NAME from its fields.

    Writes flows/replicas/NAME/ (form.html pointed at the replica, fields.json,
    the whole page as snapshot.html, a site.py that accepts the form) and, if
    flows/NAME.yaml does not exist, a draft flow and sample case that pass
    `assistant flow test NAME` against the replica.

    \b
    assistant flow snapshot NAME --confirmation EVIDENCE_DIR [--number N | --no-number]
    takes the provider's real confirmation page from the evidence folder of
    one real submission: saves it as the replica's done.html with the
    person's data replaced by the sample case's, drafts success: and
    confirmation: from where the number sits (`confirmation: none` for a page
    that gives none), and sets verified_confirmation.
    """
    from datetime import date
    from pathlib import Path

    from assistant.commands.common import info
    from assistant.errors import InputError

    places = _places(flows_dir, sites_dir)
    if evidence_dir is not None:
        from assistant.workbench.authoring import check_name
        from assistant.workbench.confirmation import capture

        if name is not None:
            raise InputError(
                _("--confirmation takes NAME only: assistant flow snapshot NAME --confirmation EVIDENCE_DIR")
            )
        name = url
        check_name(name)
        for path in capture(
            Path(evidence_dir),
            places.flow(name),
            places.site(name),
            number=number,
            today=date.today(),
            browser_path=browser_path,
            home=Path(obj.home),
            no_number=no_number,
            log=info,
        ):
            click.echo(_("wrote {path}").format(path=path))
        click.echo(_("next: assistant flow test {path}").format(path=places.flow(name)))
        return
    if name is None:
        raise InputError(_("give URL and NAME: assistant flow snapshot https://… acme-support"))
    if number is not None or no_number:
        raise InputError(_("--number and --no-number go with --confirmation"))
    from assistant.workbench.authoring import snapshot as take

    state = None
    if session_flow is not None:
        from assistant.language.flow import find_flow, load_flow
        from assistant.run import login as sessions

        state = sessions.load(Path(obj.home), load_flow(find_flow(session_flow)))["state"]

    for path in take(
        url,
        name,
        places,
        form_selector=form_selector,
        force=force,
        browser_path=browser_path,
        timeout=timeout,
        home=Path(obj.home),
        storage_state=state,
        steps=steps,
        log=info,
    ):
        click.echo(_("wrote {path}").format(path=path))
    click.echo(_("next: read the TODOs in {path}, then: assistant flow test {path}").format(path=places.flow(name)))


@flow.command("check")
@click.argument("name")
@click.option("--live", is_flag=True, help="Check the real site (needs internet); nothing is submitted.")
@click.option("--base-url", metavar="URL", help="Check against this site instead of the flow's replica.")
@click.option("--case", "case_file", type=click.Path(dir_okay=False), help="Case to fill in (default: the sample).")
@click.option("--headed", is_flag=True, help="Show the browser (needed when the flow pauses for a person).")
@click.option("--timeout", type=seconds(0.1), metavar="SECONDS", help="Time each step may take.")
@json_option
@pass_ctx
@handles_errors
def check(
    obj: Ctx,
    /,
    name: str,
    live: bool,
    base_url: str | None,
    case_file: str | None,
    headed: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Walk flow NAME up to, not including, its submit step, and find the submit button.

    Every selector before the submit click must work and the submit button
    must be on the page; nothing is sent. Without --live it runs on the
    flow's replica; with --live on the real site (for people with internet
    who verify a flow: if it passes, set `verified_live:` to today's date).
    """
    from assistant.commands.common import info
    from assistant.language.flow import find_flow
    from assistant.workbench.authoring import check as walk

    result = walk(
        find_flow(name),
        live=live,
        base_url=base_url,
        home=obj.home,
        case_file=case_file,
        headed=headed,
        timeout=timeout,
        log=info,
    )
    if as_json:
        print_json(result)
        return
    if live:
        done = _(
            "ok: {steps} steps worked on the live site and the submit button (line {line}) is there; "
            "nothing was submitted"
        )
    else:
        done = _(
            "ok: {steps} steps worked on {site} and the submit button (line {line}) is there; nothing was submitted"
        )
    click.secho(done.format(steps=result["checked_steps"], site=result["site"], line=result["submit_line"]), fg="green")
    click.echo(_("evidence: {path}").format(path=result["evidence_dir"]))


@flow.command("serve")
@click.argument("name")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one).")
@handles_errors
def serve(name: str, port: int) -> None:
    """Run flow NAME's replica on 127.0.0.1 until Ctrl-C, to look at it in a browser."""
    from assistant.commands.common import info
    from assistant.errors import InputError
    from assistant.language.flow import find_flow, load_flow
    from assistant.sites.replica import serve as run
    from assistant.workbench.flowtest import announce_code, replica_spec

    loaded = load_flow(find_flow(name))
    if loaded.test is None:
        raise InputError(_("{path}: no test: block naming a replica").format(path=loaded.path))
    announce_code(loaded, info)
    ready = _("{flow} replica: {url}/  (Ctrl-C to stop)")
    run(replica_spec(loaded), port, on_ready=lambda s: click.echo(ready.format(flow=loaded.id, url=s.url)))


def _validate_test_block(loaded: Flow) -> None:
    from assistant.errors import InputError
    from assistant.language.case import load_case
    from assistant.workbench.flowtest import replica_spec

    if loaded.test is None:
        return
    line = "{}:{}".format(*loaded.position(("test",)))
    spec = replica_spec(loaded)
    if not isinstance(spec, str) and not (spec / "site.py").is_file():
        raise InputError(
            _("{where}: test.replica: {spec} has no site.py (see `assistant flow new`)").format(
                where=f"{loaded.path}:{line}", spec=spec
            )
        )
    parsed = load_case(loaded.sample_case(), {"provider": loaded.id})
    if parsed.category not in loaded.categories:
        raise InputError(
            _("{where}: category: '{category}' is not one of {flow}'s: {known}").format(
                where=parsed.where("category"),
                category=parsed.category,
                flow=loaded.id,
                known=", ".join(loaded.categories),
            )
        )
