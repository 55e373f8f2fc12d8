"""The pytest side of `assistant replay`: one test item per flow, a browser per worker.

`assistant replay` (assistant.testing.replay) writes the flows to replay into a
list file and runs pytest on it with this plugin (`-p
assistant.testing.replay_plugin`). The plugin turns every entry of that file
into a `FlowItem`, so pytest's own machinery does the rest: pytest-xdist
spreads the items over worker processes (`-n N`), `--junitxml` writes one test
case per flow, and the exit code says whether all passed.

Each process (the only one, or each xdist worker) starts its browser once, at
its first flow, and lends it to every flow it runs; a flow gets a new context
of its own (assistant.run.browser.Started). The browser is closed when the
session ends.

A flow's result travels from the worker to the controlling process in the
test report's `user_properties` (pairs of plain values, which xdist carries and
the JUnit file lists as properties); `record_of()` reads it back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import AssistantError

LIST_NAME = "flows"  # the list file's name: JUnit's classname for every flow
TRACE_MODES = ("off", "on", "retain-on-failure")
PROPERTY = "replay."  # the prefix of the result's fields among a report's user_properties


@dataclass
class FlowRecord:
    """One flow's replay, as reported (JSON, JUnit properties, the HTML report)."""

    flow: str
    file: str
    ok: bool
    seconds: float = 0.0
    mode: str = "replica"  # replica | live
    confirmation: str | None = None
    message: str = ""
    step: str | None = None  # the failing step: flow file:line
    screenshot: str | None = None  # files under --output
    page_html: str | None = None
    step_file: str | None = None
    trace: str | None = None
    worker: str = "main"
    browser: str | None = None  # which browser replayed it (assistant.run.browser.BrowserChoice)
    launch: int = 0  # which of its worker's browser launches: 1 for every flow, unless one was lost

    def public(self) -> dict[str, Any]:
        return asdict(self)


def record_of(report: pytest.TestReport) -> FlowRecord | None:
    """The FlowRecord a worker put in the report, if this report is a flow's."""
    fields: dict[str, Any] = {k[len(PROPERTY) :]: v for k, v in report.user_properties if str(k).startswith(PROPERTY)}
    if "flow" not in fields:
        return None
    return FlowRecord(**fields)


# ------------------------------------------------------------------ options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("assistant-replay", "assistant replay (one test per flow)")
    group.addoption("--replay-live", action="store_true", help="Walk the live sites up to, not including, submit.")
    group.addoption("--replay-home", metavar="DIR", help="The person's home (saved logins) for --replay-live.")
    group.addoption(
        "--replay-retries", type=int, default=0, metavar="N", help="Tries again a failed step before submit."
    )
    group.addoption("--replay-trace", choices=TRACE_MODES, default="off", help="Playwright trace per flow.")
    group.addoption("--replay-output", metavar="DIR", help="Per failure: screenshot, page HTML, step, trace.")
    group.addoption("--replay-timeout", type=float, metavar="SECONDS", help="Time each step may take.")
    group.addoption("--replay-browser-path", metavar="PATH", help="Chrome/Chromium executable.")
    group.addoption(
        "--replay-browser-endpoint",
        action="append",
        default=[],
        metavar="WS_URL",
        help="A `playwright run-server` to use; again for a pool (the workers take them in turn).",
    )
    group.addoption("--replay-cdp", metavar="URL", help="A running Chrome (remote debugging) to use.")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name == LIST_NAME and file_path.parent.name.startswith("replay-"):
        return FlowList.from_parent(parent, path=file_path)
    return None


class FlowList(pytest.File):
    """The list `assistant replay` wrote: [{"id": …, "file": …}, …] in the order to run."""

    def collect(self):
        for entry in json.loads(self.path.read_text(encoding="utf-8")):
            yield FlowItem.from_parent(self, name=entry["id"], flow_file=entry["file"])


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """No letter per flow: `assistant replay` prints a line per flow itself."""
    if report.when == "call" and any(str(k).startswith(PROPERTY) for k, _ in report.user_properties):
        return report.outcome, "", ""
    return None


# ------------------------------------------------------------------ the browser


_LENT = pytest.StashKey[tuple[ExitStack, Any, str | None]]()  # (its closer, the browser, its endpoint)
_LAUNCHES = pytest.StashKey[int]()
_GONE = pytest.StashKey[set[str]]()  # endpoints of the pool this process found gone
# How a flow's failure begins when no browser was left to run it: the command's exit is then 4.
NO_BROWSER_LEFT = "no browser left:"


def _pool_order(config: pytest.Config) -> list[str | None]:
    """The endpoints to try, this worker's own first (round-robin over the pool by worker number),
    those found gone left out; [None] without a pool (the browser is found or started here)."""
    pool: list[str] = config.getoption("replay_browser_endpoint") or []
    if not pool:
        return [None]
    worker = getattr(config, "workerinput", {}).get("workerid", "gw0")
    start = int(worker[2:]) % len(pool) if worker[2:].isdigit() else 0
    gone = config.stash.setdefault(_GONE, set())
    return [e for e in pool[start:] + pool[:start] if e not in gone]


def launches(config: pytest.Config) -> int:
    """How many browsers this process has started so far."""
    return config.stash.get(_LAUNCHES, 0)


def _answers(held: tuple[ExitStack, Any, str | None]) -> bool:
    """Is the lent browser still there? A remote one of a pool is asked (a context opened and
    closed: a round trip), as its server may have gone since the last flow without a word yet."""
    browser = held[1].browser
    if not browser.is_connected():
        return False
    if held[2] is None:
        return True
    try:
        browser.new_context().close()
    except Exception:  # the server went away: this flow takes the next endpoint, not this failure
        return False
    return True


def lent_browser(config: pytest.Config) -> Any:
    """This process's browser (assistant.run.browser.Started), started at the first flow and
    again after one that was lost."""
    held = config.stash.get(_LENT, None)
    if held is not None and not _answers(held):
        # It crashed, or the remote end went away: the next flows get a new one, not this failure.
        # A pool's endpoint whose browser went away is not tried again by this process.
        del config.stash[_LENT]
        if held[2] is not None:
            config.stash.setdefault(_GONE, set()).add(held[2])
        try:
            held[0].close()
        except Exception:  # closing what is already gone; the new browser is what matters
            pass
        held = None
    if held is None:
        from assistant.errors import NoBrowser
        from assistant.run.browser import Started, open_browser

        order = _pool_order(config)
        failures = []
        for endpoint in order:
            stack = ExitStack()
            try:
                playwright, browser, choice = stack.enter_context(
                    open_browser(config.getoption("replay_browser_path"), endpoint, config.getoption("replay_cdp"))
                )
            except NoBrowser as exc:
                stack.close()
                if endpoint is None:
                    raise
                config.stash.setdefault(_GONE, set()).add(endpoint)
                failures.append(f"{endpoint}: {str(exc).splitlines()[0]}")
                continue
            except BaseException:
                stack.close()
                raise
            held = (stack, Started(playwright, browser, choice), endpoint)
            config.stash[_LENT] = held
            config.stash[_LAUNCHES] = launches(config) + 1
            break
        if held is None:
            said = "; ".join(failures) or "every endpoint of the pool went away earlier in this run"
            raise NoBrowser(f"{NO_BROWSER_LEFT} {said}")
    return held[1]


def pytest_sessionfinish(session: pytest.Session) -> None:
    held = session.config.stash.get(_LENT, None)
    if held is not None:
        del session.config.stash[_LENT]
        held[0].close()


# ------------------------------------------------------------------ one flow


class FlowFailed(Exception):
    """A flow's replay failed; the message is what the report shows."""


class FlowItem(pytest.Item):
    def __init__(self, *, flow_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow_file = flow_file

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return self.flow_file, None, f"flow {self.name}"

    def runtest(self) -> None:
        config = self.config
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        record = replay_flow(
            self.name,
            self.flow_file,
            lambda: lent_browser(config),
            live=config.getoption("replay_live"),
            home=config.getoption("replay_home"),
            retries=config.getoption("replay_retries"),
            trace=config.getoption("replay_trace"),
            output=config.getoption("replay_output"),
            timeout=config.getoption("replay_timeout"),
        )
        record.worker, record.launch = worker, launches(config)
        self.user_properties.extend((PROPERTY + k, v) for k, v in record.public().items() if v is not None)
        if not record.ok:
            raise FlowFailed(failure_text(record))

    def repr_failure(self, excinfo, style=None) -> Any:
        if isinstance(excinfo.value, FlowFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)


def failure_text(record: FlowRecord) -> str:
    lines = [record.message]
    for label, path in (
        ("screenshot", record.screenshot),
        ("page", record.page_html),
        ("trace", record.trace),
    ):
        if path:
            lines.append(f"{label}: {path}")
    return "\n".join(lines)


def replay_flow(
    flow_id: str,
    flow_file: str,
    browser: Any,
    *,
    live: bool = False,
    home: str | None = None,
    retries: int = 0,
    trace: str = "off",
    output: str | None = None,
    timeout: float | None = None,
) -> FlowRecord:
    """Replay one flow in a browser lent by `browser()`; what failed goes to output/<flow id>/.

    Never raises for what the flow, its replica or the site did: that is the record's message."""
    from assistant.language.flow import load_flow

    started = time.monotonic()
    record = FlowRecord(flow_id, flow_file, False, mode="live" if live else "replica")
    scratch = Path(tempfile.mkdtemp(prefix=f"replay-{flow_id}-"))
    tracing = trace != "off"
    evidence: Path | None = None
    trace_home = scratch / "home"
    try:
        lent = browser()
        record.browser = lent.choice.describe()
        if live:
            from assistant.workbench.authoring import check

            # Saved logins are the person's, so is the home; the trace is fetched from its traces/.
            trace_home = Path(home) if home else trace_home
            evidence = scratch / f"evidence-{load_flow(flow_file).id}"
            check(
                flow_file,
                live=True,
                base_url=None,
                home=trace_home,
                case_file=None,
                timeout=timeout,
                lent=lent,
                trace=tracing,
                retries=retries,
                evidence=evidence,
            )
            record.ok = True
            record.message = "walked up to the submit step; nothing was submitted"
        else:
            from assistant.workbench.flowtest import run

            # What a failure leaves is kept below (screenshot, page, step, trace), not the package:
            # its report.pdf would be printed for nothing.
            result = run(
                flow_file, keep=scratch, timeout=timeout, lent=lent, trace=tracing, retries=retries, report_pdf=False
            )
            evidence = scratch / "evidence"
            record.ok, record.confirmation, record.message = result.ok, result.confirmation, result.message
    except AssistantError as exc:
        record.message = str(exc).strip() or type(exc).__name__
    except Exception as exc:  # a browser gone, a replica that crashed: this flow failed, the others go on
        record.message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    record.seconds = round(time.monotonic() - started, 3)
    try:
        _keep(record, evidence, trace_home, output, trace)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return record


def _keep(record: FlowRecord, evidence: Path | None, trace_home: Path, output: str | None, trace: str) -> None:
    """What a person needs to see why a flow failed, under output/<flow id>/; the trace when asked."""
    trace_file = _trace_of(evidence, trace_home)
    if evidence is not None and (evidence / "failure" / "error.txt").is_file():
        where = (evidence / "failure" / "error.txt").read_text(encoding="utf-8").splitlines()
        record.step = where[0] if where else None
    if output is None:
        if trace_file is not None:
            trace_file.unlink(missing_ok=True)
        return
    target = Path(output) / record.flow
    keep_trace = trace_file is not None and (trace == "on" or (trace == "retain-on-failure" and not record.ok))
    if record.ok and not keep_trace:
        if trace_file is not None:
            trace_file.unlink(missing_ok=True)
        return
    target.mkdir(parents=True, exist_ok=True)
    if not record.ok:
        (target / "step.txt").write_text(
            f"{record.flow}: {record.file}\nfailing step: {record.step or 'none (failed before a step ran)'}\n\n"
            f"{record.message}\n",
            encoding="utf-8",
        )
        record.step_file = str(target / "step.txt")
        if evidence is not None:
            shots = sorted((evidence / "screenshots").glob("*-failure.png"))
            if shots:
                record.screenshot = str(shutil.copy(shots[-1], target / "failure.png"))
            page = evidence / "failure" / "page.html"
            if page.is_file():
                record.page_html = str(shutil.copy(page, target / "page.html"))
    if trace_file is not None:
        if keep_trace:
            record.trace = str(shutil.move(str(trace_file), str(target / "trace.zip")))
        else:
            trace_file.unlink(missing_ok=True)


def _trace_of(evidence: Path | None, home: Path) -> Path | None:
    """The trace the capturer kept for this run: <home>/traces/<evidence folder name>.zip."""
    if evidence is None:
        return None
    found = home / "traces" / f"{evidence.name}.zip"
    return found if found.is_file() else None
