"""`assistant replay`: replay flows at scale, on pytest and pytest-xdist (assistant.testing)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.commands.common import Ctx, exit_with, handles_errors, json_option, pass_ctx, print_json, seconds
from assistant.errors import ExitStatus
from assistant.translation import _

if TYPE_CHECKING:
    from assistant.testing.replay_plugin import FlowRecord


@click.command("replay")
@click.argument("flows", nargs=-1)
@click.option("--live", is_flag=True, help="Walk the live sites up to, never including, the submit click.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, metavar="N", show_default=True, help="Browsers in parallel."
)
@click.option("--shard", metavar="I/N", help="Replay only shard I of N (flows sorted by id, every N-th from the I-th).")
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    metavar="N",
    default=0,
    show_default=True,
    help="Tries again a failed step before submit (never the submit).",
)
@click.option(
    "--trace",
    type=click.Choice(["on", "off", "retain-on-failure"]),
    default="off",
    show_default=True,
    help="Playwright trace per flow, kept in --output.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("replay-results"),
    show_default=True,
    help="Per failed flow: failure.png, page.html, step.txt (the step, its flow file:line) and trace.zip.",
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here (one test case per flow)."
)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report here.")
@click.option("--timeout", type=seconds(0.1), metavar="SECONDS", help="Time each step may take.")
@click.option("--browser-path", metavar="PATH", help="Chrome/Chromium executable (or ASSISTANT_BROWSER).")
@click.option(
    "--browser-endpoint",
    "browser_endpoints",
    multiple=True,
    metavar="WS_URL",
    help="A `playwright run-server` or a browser grid, ws://…; give it again (or a comma list) for a pool.",
)
@click.option("--cdp", metavar="URL", help="An already running Chrome, e.g. http://127.0.0.1:9222.")
@click.option("--list", "list_only", is_flag=True, help="Only list the flows this run (or shard) would replay.")
@json_option
@pass_ctx
@handles_errors
def replay(
    obj: Ctx,
    /,
    flows: tuple[str, ...],
    live: bool,
    workers: int,
    shard: str | None,
    retries: int,
    trace: str,
    output: Path,
    junit: Path | None,
    html_file: Path | None,
    timeout: float | None,
    browser_path: str | None,
    browser_endpoints: tuple[str, ...],
    cdp: str | None,
    list_only: bool,
    as_json: bool,
) -> None:
    """Replay flows headlessly against their replicas (all flows with a test: block if none named).

    \b
    Every flow is one pytest test; --workers N runs N browsers at once
    (pytest-xdist), each reused for its flows with a new context per flow.
    --live walks the live sites instead, up to but never including the submit
    click: nothing is sent. Exit code 0 only if every flow passed.

    \b
    Across machines: give each the same flows and --shard 1/N … N/N, and
    --junit FILE for the CI to merge; --browser-endpoint or --cdp to use a
    browser that runs elsewhere. A pool: --browser-endpoint again for each;
    the workers take them in turn, and one whose browser goes away takes the
    next that answers (exit 4 once none is left).
    """
    from assistant.commands.common import info
    from assistant.testing.replay import Options, parse_shard
    from assistant.testing.replay import replay as run

    options = Options(
        flows=flows,
        live=live,
        workers=workers,
        shard=parse_shard(shard) if shard else None,
        retries=retries,
        trace=trace,
        output=output.resolve(),
        junit=junit,
        timeout=timeout,
        browser_path=browser_path,
        browser_endpoints=browser_endpoints,
        cdp=cdp,
        home=obj.home if live else None,
    )

    def show(record: FlowRecord, done: int, total: int) -> None:
        if as_json:
            return
        count = f"[{done}/{total}]"
        if record.ok:
            number = record.confirmation or (_("nothing submitted") if record.mode == "live" else _("(no number)"))
            # Translators: a line of `replay`: status (keep it 6 characters wide), flow, number, duration, progress.
            line = _("ok    {flow:<24} {number:<18} {seconds:6.1f} s  {count}")
            click.secho(line.format(flow=record.flow, number=number, seconds=record.seconds, count=count), fg="green")
            return
        first = (record.message.splitlines() or [_("failed")])[0]
        # Translators: a line of `replay`: status (keep it 6 characters wide), flow, progress, why it failed.
        line = _("FAIL  {flow:<24} {count} {message}")
        click.secho(line.format(flow=record.flow, count=count, message=first), fg="red")
        if record.step_file:
            click.echo(_("      output: {path}").format(path=Path(record.step_file).parent))

    if list_only:
        from assistant.testing.replay import selection

        chosen, mine = selection(options, note=info)
        if as_json:
            print_json({"chosen": len(chosen), "shard": shard, "flows": [e.__dict__ for e in mine]})
        else:
            for entry in mine:
                click.echo(f"{entry.id:<24} {entry.file}")
        return
    summary = run(options, on_record=show, note=info)
    if html_file is not None:
        from assistant.testing.report import write_html

        write_html(html_file, summary, options)
    passed, failed = summary.counts()
    if as_json:
        print_json(
            {
                "passed": passed,
                "failed": failed,
                "seconds": summary.seconds,
                "workers": workers,
                "shard": shard,
                "live": live,
                "flows": [r.public() for r in summary.records],
            }
        )
    else:
        colour = "green" if summary.ok else "red"
        if options.shard:
            totals = _("{passed} passed, {failed} failed in {seconds:.1f} s (shard {shard}/{shards} of {chosen} flows)")
        else:
            totals = _("{passed} passed, {failed} failed in {seconds:.1f} s")
        shard_number, shards = options.shard or (0, 0)
        click.secho(
            totals.format(
                passed=passed,
                failed=failed,
                seconds=summary.seconds,
                shard=shard_number,
                shards=shards,
                chosen=summary.chosen,
            ),
            fg=colour,
            bold=True,
        )
        if junit:
            click.echo(f"junit: {junit}")
        if html_file:
            click.echo(_("report: {path}").format(path=html_file))
    if not summary.ok:
        from assistant.testing.replay_plugin import NO_BROWSER_LEFT

        browserless = [r for r in summary.records if not r.ok and r.message.startswith(NO_BROWSER_LEFT)]
        exit_with(ExitStatus.NO_BROWSER if browserless else ExitStatus.RUN_FAILED)
