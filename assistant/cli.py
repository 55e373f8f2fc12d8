"""The `assistant` command.

Only click is imported at module level: `assistant --help` must not pay for
Playwright or pydantic. Each command imports what it needs when it runs.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

EXIT_CODES = """\b
Exit codes:
  0  done
  1  the run failed in the browser (a step, a timeout, the provider's page)
  2  bad input: a flow file, a case file, an option
  3  refused: already submitted or pending (see --force)
  4  no browser could be found or started
  5  you declined at the confirmation prompt"""


class Ctx:
    def __init__(self, home: str | None, color: bool | None):
        self._home = home
        self.color = color

    @property
    def home(self) -> Path:
        from .paths import home

        return home(self._home)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def info(message: str) -> None:
    click.secho(message, err=True, dim=True)


def fail(exc: Exception) -> None:
    from .errors import AssistantError

    code = exc.exit_code if isinstance(exc, AssistantError) else 1
    lines = str(exc).splitlines() or [type(exc).__name__]
    click.secho(f"error: {lines[0]}", err=True, fg="red", bold=True)
    for line in lines[1:]:
        click.secho(f"error: {line}", err=True, fg="red")
    sys.exit(code)


def handles_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .errors import AssistantError

        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            fail(exc)

    return wrapper


def browser_options(func):
    options = [
        click.option("--headed", is_flag=True, help="Show the browser window (headless by default)."),
        click.option("--slowmo", type=click.FloatRange(min=0), default=0, metavar="MS", help="Slow each browser action by MS milliseconds."),
        click.option("--browser-path", metavar="PATH", help="Chrome/Chromium executable (or ASSISTANT_BROWSER)."),
        click.option("--browser-endpoint", metavar="WS_URL", help="A running `playwright run-server`, e.g. ws://127.0.0.1:3000/."),
        click.option("--cdp", metavar="URL", help="An already running Chrome, e.g. http://127.0.0.1:9222."),
        click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help="Time each step may take (overrides the flow)."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", metavar="DIR", envvar="ASSISTANT_HOME", help="Where cases and evidence are kept (or ASSISTANT_HOME).")
@click.option("--color/--no-color", default=None, help="Colour output (default: on a terminal).")
@click.version_option(package_name="support-assistant")
@click.pass_context
def main(ctx: click.Context, home: str | None, color: bool | None) -> None:
    """File a support request that gets answered, with proof.

    Drives the provider's web form in a real browser, photographs every step
    into a verifiable evidence package, submits, and keeps the ticket number.

    \b
    Start here:
      assistant demo                         try it on the built-in demo portal
      assistant submit demo --case my.yaml   file your own request
      assistant cases                        what you have filed
    """
    ctx.obj = Ctx(home, color)
    if color is not None:
        ctx.color = color


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in values:
        if "=" not in raw:
            raise click.BadParameter(f"{raw!r}: expected FIELD=VALUE, e.g. contacts.email=me@example.com", param_hint="--set")
        key, value = raw.split("=", 1)
        out[key.strip()] = value
    return out


def _ask(field: str, description: str) -> str:
    return click.prompt(f"{field}" + (f" ({description})" if description else ""), err=True)


def _confirm(summary: dict) -> bool:
    click.secho("\nAbout to submit:", err=True, bold=True)
    for key, value in summary.items():
        if isinstance(value, list):
            value = ", ".join(value) or "none"
        click.echo(f"  {key:12} {value}", err=True)
    return click.confirm("Submit this request now? It cannot be undone", default=False, err=True)


def _pause(message: str) -> None:
    click.secho(f"\n{message}", err=True, fg="yellow", bold=True)
    click.prompt("Press Enter here when you are done in the browser", default="", show_default=False, err=True)


def _run_submission(obj: Ctx, case, flow, *, as_json: bool, **settings) -> None:
    from .submit import Settings, submit

    interactive = _interactive()
    outcome = submit(
        case,
        flow,
        Settings(
            home=obj.home,
            interactive=interactive,
            confirm=_confirm,
            ask_human=_pause,
            log=info,
            **settings,
        ),
    )
    if as_json:
        click.echo(json.dumps(outcome.public(), ensure_ascii=False, indent=2))
        return
    click.echo(f"evidence: {outcome.evidence_dir}")
    if outcome.status == "dry_run":
        click.secho("dry run: the form was filled but not submitted; review the screenshots above.", fg="yellow")
        return
    click.secho("submitted; keep this number:", fg="green")
    click.secho(outcome.confirmation or "", bold=True)


@main.command()
@click.argument("provider")
@click.option("--case", "case_file", type=click.Path(dir_okay=False), help="Case file (YAML).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Set or override a case field, e.g. --set contacts.email=me@example.com.")
@click.option("--dry-run", is_flag=True, help="Do everything except the submit click; leave a screenshot of the filled form.")
@click.option("--yes", "-y", is_flag=True, help="Submit without asking (needed without a terminal).")
@click.option("--force", is_flag=True, help="Submit even if this case was already submitted or is pending.")
@click.option("--base-url", metavar="URL", help="Run the flow against this site (a local replica).")
@click.option("--out", type=click.Path(file_okay=False), help="Evidence folder (default: in --home).")
@browser_options
@click.pass_obj
@handles_errors
def submit(obj: Ctx, provider, case_file, sets, dry_run, yes, force, base_url, out, headed, slowmo,
           browser_path, browser_endpoint, cdp, timeout, as_json):
    """Submit a support request to PROVIDER (a flow id, e.g. demo) and save the ticket number."""
    from .case import load_case
    from .flow import find_flow, load_flow

    flow = load_flow(find_flow(provider))
    case = load_case(
        case_file, _parse_sets(sets), defaults={"provider": provider}, ask=_ask if _interactive() else None
    )
    _run_submission(
        obj, case, flow, as_json=as_json, base_url=base_url, dry_run=dry_run, yes=yes, force=force,
        headed=headed, slowmo=slowmo, timeout=timeout, out=Path(out) if out else None,
        browser_path=browser_path, browser_endpoint=browser_endpoint, cdp=cdp,
    )


@main.command()
@click.option("--serve", is_flag=True, help="Only run the demo portal until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port for the portal (default: a free one).")
@click.option("--dry-run", is_flag=True, help="Fill the form but do not submit.")
@browser_options
@click.pass_obj
@handles_errors
def demo(obj: Ctx, serve, port, dry_run, headed, slowmo, browser_path, browser_endpoint, cdp, timeout, as_json):
    """Start the built-in demo support portal and submit a sample case to it."""
    from .case import load_case
    from .demo.portal import DemoPortal
    from .flow import find_flow, load_flow
    from .paths import sample_case

    with DemoPortal(port=port) as portal:
        if serve:
            click.echo(f"demo portal: {portal.url}/  (Ctrl-C to stop)")
            try:
                import threading

                threading.Event().wait()
            except KeyboardInterrupt:
                return
        info(f"demo portal running at {portal.url}/")
        flow = load_flow(find_flow("demo"))
        case = load_case(sample_case("demo"))
        # Every demo run talks to a fresh portal, so the same sample case is
        # a new request each time: --force is implied.
        _run_submission(
            obj, case, flow, as_json=as_json, base_url=portal.url, dry_run=dry_run, yes=True, force=True,
            headed=headed, slowmo=slowmo, timeout=timeout, out=None,
            browser_path=browser_path, browser_endpoint=browser_endpoint, cdp=cdp,
        )


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def cases(ctx: click.Context, as_json: bool) -> None:
    """Requests you have submitted (default: list them)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(cases_list, as_json=as_json)


@cases.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_obj
@handles_errors
def cases_list(obj: Ctx, as_json: bool) -> None:
    """List submissions, oldest first."""
    from .store import Store

    store = Store(obj.home)
    try:
        rows = store.all()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([r.public() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no submissions yet (try `assistant demo`)")
        return
    for r in rows:
        colour = "green" if r.status == "confirmed" else "yellow"
        number = r.confirmation or "(no number yet)"
        click.echo(
            f"{r.id:>4}  {click.style(r.status, fg=colour):<18} {number:<16} {r.provider:<14} "
            f"{r.submitted_at[:16]}  {r.subject or ''}"
        )


@main.group()
def flow() -> None:
    """Provider flows: list, validate, export the schema."""


@flow.command("schema")
def flow_schema() -> None:
    """Print the flow file JSON Schema (for editor completion)."""
    from .flow import schema

    click.echo(json.dumps(schema(), indent=2))


@flow.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@handles_errors
def flow_validate(files) -> None:
    """Check flow files; print every problem as file:line:column: field: message."""
    from .errors import InputError
    from .flow import load_flow

    bad = 0
    for path in files:
        try:
            loaded = load_flow(path)
        except InputError as exc:
            bad += 1
            click.secho(str(exc), fg="red", err=True)
            continue
        click.echo(f"{path}: ok ({loaded.id}, {len(loaded.steps)} steps)")
    if bad:
        sys.exit(2)


@flow.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
def flow_list(as_json: bool) -> None:
    """List the provider flows this assistant knows."""
    from .flow import flows_dirs, load_flow

    seen, rows = set(), []
    for directory in flows_dirs():
        for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
            if path.stem in seen:
                continue
            seen.add(path.stem)
            loaded = load_flow(path)
            rows.append({
                "id": loaded.id, "channel": loaded.channel, "categories": list(loaded.categories),
                "verified_live": loaded.verified_live.isoformat() if loaded.verified_live else None,
                "file": str(path),
            })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        live = row["verified_live"] or "never checked live"
        click.echo(f"{row['id']:<18} {row['channel']:<9} {', '.join(row['categories']):<40} {live}")


@main.command("schema")
@click.argument("kind", type=click.Choice(["flow", "case", "manifest"]))
def schema_cmd(kind: str) -> None:
    """Print the JSON Schema of a file format: flow, case or manifest."""
    if kind == "flow":
        from .flow import schema
    elif kind == "case":
        from .case import schema
    else:
        from evidence.manifest import schema
    click.echo(json.dumps(schema(), indent=2, ensure_ascii=False))


@main.group("browser")
def browser_group() -> None:
    """Find or install the browser the assistant drives."""


@browser_group.command("find")
@click.option("--browser-path", metavar="PATH")
@click.option("--browser-endpoint", metavar="WS_URL")
@click.option("--cdp", metavar="URL")
@handles_errors
def browser_find(browser_path, browser_endpoint, cdp) -> None:
    """Show which browser would be used, and why."""
    from .browser import BrowserNotFound, discover
    from .errors import NoBrowser

    try:
        choice = discover(browser_path, browser_endpoint, cdp)
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    click.echo(choice.describe())


@browser_group.command("install")
@handles_errors
def browser_install() -> None:
    """Make sure a browser is available (Playwright's download, else the system package)."""
    from .browser import BrowserNotFound, install
    from .errors import NoBrowser

    try:
        install(echo=lambda m: click.echo(m, err=True))
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None


def run() -> None:  # pragma: no cover - console entry for `python -m assistant`
    main(prog_name="assistant")


if __name__ == "__main__":  # pragma: no cover
    run()

