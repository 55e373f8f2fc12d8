"""`assistant replay`: every flow's test, run by pytest, spread by pytest-xdist.

The command chooses the flows (all with a `test:` block, or those named; with
--live, all with a live site), keeps this machine's shard of them, writes
them into a list file and runs pytest on it in this process with the replay
plugin (assistant.testing.replay_plugin), which makes one test item of each.
So the engines are pytest's own: `-n N` from pytest-xdist for the workers,
`--junitxml` for the JUnit file, the exit code for the verdict.

Shards (`--shard I/N`): the chosen flows are sorted by id and shard I takes
the I-th, (I+N)-th, (I+2N)-th … of them. The split depends only on the set of
flows, so N machines given the same flows and I = 1…N replay each flow
exactly once, and their shards differ in size by one flow at most.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import InputError, NoBrowser, RunFailed
from assistant.testing.replay_plugin import LIST_NAME, TRACE_MODES, FlowRecord, record_of


@dataclass
class Entry:
    id: str
    file: str
    steps: int | None = (
        None  # how long its replay may take, roughly (its steps and its log-in's); None: it does not load
    )


@dataclass
class Options:
    flows: Sequence[str] = ()
    live: bool = False
    workers: int = 1
    shard: tuple[int, int] | None = None
    retries: int = 0
    trace: str = "off"
    output: Path | None = None
    junit: Path | None = None
    timeout: float | None = None
    browser_path: str | None = None
    # A pool of remote browsers: each worker takes one (round-robin), and the next that answers
    # when its own goes away.
    browser_endpoints: Sequence[str] = ()
    cdp: str | None = None
    home: Path | None = None


@dataclass
class Summary:
    records: list[FlowRecord] = field(default_factory=list)
    chosen: int = 0  # flows chosen before sharding
    seconds: float = 0.0
    pytest_exit: int = 0

    @property
    def ok(self) -> bool:
        return self.pytest_exit in (0, 5) and all(r.ok for r in self.records)

    def counts(self) -> tuple[int, int]:
        passed = sum(1 for r in self.records if r.ok)
        return passed, len(self.records) - passed


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' with 1 <= I <= N."""
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not found:
        raise InputError(f"--shard: {text!r} is not I/N, e.g. 1/4 (this machine's shard of 4)")
    index, count = int(found.group(1)), int(found.group(2))
    if count < 1 or not 1 <= index <= count:
        raise InputError(f"--shard: {text!r}: I must be between 1 and N (1/{max(count, 1)} … {count}/{count})")
    return index, count


def choose(names: Sequence[str], *, live: bool, note: Callable[[str], None] = lambda m: None) -> list[Entry]:
    """The flows to replay, sorted by id. Named flows must exist (InputError otherwise); a flow
    file that does not load is kept, so that it fails as a test, naming its problem."""
    from assistant.language.flow import all_flow_files, find_flow, load_flow
    from assistant.workbench.flowtest import announce_code

    if names:
        files = [find_flow(name) for name in names]
    else:
        files = list(all_flow_files())
    entries: dict[str, Entry] = {}
    for path in files:
        try:
            flow = load_flow(path)
        except InputError:
            entries.setdefault(Path(path).stem, Entry(Path(path).stem, str(path)))
            continue
        if not names:
            if flow.channel != "web_form":
                note(f"{flow.id}: channel {flow.channel}; replay walks web forms")
                continue
            if live and "base_url" in flow.homepage:
                note(f"{flow.id}: no live site (its homepage is {flow.homepage!r})")
                continue
            if not live and flow.test is None:
                note(f"{flow.id}: no test: block; not replayed")
                continue
        steps = len(flow.steps) + (len(flow.test.login_steps) if flow.test is not None else 0)
        if flow.id not in entries and not live:
            announce_code(flow, note)  # here, before the workers import it, where the person sees it
        entries.setdefault(flow.id, Entry(flow.id, str(path), steps))
    return sorted(entries.values(), key=lambda e: e.id)


def shard_of(entries: list[Entry], shard: tuple[int, int] | None) -> list[Entry]:
    """Round-robin over the flows sorted by id (see the module's docstring)."""
    if shard is None:
        return entries
    index, count = shard
    return [entry for position, entry in enumerate(entries) if position % count == index - 1]


def selection(options: Options, note: Callable[[str], None] = lambda m: None) -> tuple[list[Entry], list[Entry]]:
    """(every flow chosen, this shard's flows)."""
    entries = choose(options.flows, live=options.live, note=note)
    if not entries:
        what = "a live site" if options.live else "a test: block"
        raise InputError(f"no flow with {what} was found; name flows, or see `assistant flow list`")
    return entries, shard_of(entries, options.shard)


def pytest_args(listing: Path, options: Options) -> list[str]:
    """pytest's command line for a replay of the flows in `listing`."""
    folder = listing.parent
    args = [
        str(listing),
        # Nothing of the project or folder pytest is started in applies: its own ini file,
        # rootdir and no conftest.py. Output is the per-flow lines of the command.
        "-c",
        str(folder / "pytest.ini"),
        "--rootdir",
        str(folder),
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-p",
        "assistant.testing.replay_plugin",
        "--capture=sys",
        "-qq",
        "--no-header",
        "--no-summary",
        "-o",
        "console_output_style=classic",
        "--replay-trace",
        options.trace,
        "--replay-retries",
        str(options.retries),
    ]
    if options.workers > 1:
        args += ["-n", str(options.workers)]
    else:
        args += ["-p", "no:xdist"]
    if options.live:
        args.append("--replay-live")
    for flag, value in (
        ("--replay-home", options.home),
        ("--replay-output", options.output),
        ("--replay-timeout", options.timeout),
        ("--replay-browser-path", options.browser_path),
        ("--replay-cdp", options.cdp),
    ):
        if value is not None:
            args += [flag, str(value)]
    for endpoint in options.browser_endpoints:
        args += ["--replay-browser-endpoint", endpoint]
    if options.junit is not None:
        args += ["--junitxml", str(options.junit), "-o", "junit_suite_name=assistant-replay"]
    return args


class Collector:
    """In the controlling process: each flow's record as its report arrives (from xdist too)."""

    def __init__(self, on_record: Callable[[FlowRecord, int, int], None], total: int):
        self.on_record = on_record  # (the record, how many have come in, how many will)
        self.total = total
        self.records: list[FlowRecord] = []
        self.stdout = sys.stdout  # the command's, while pytest's own output goes elsewhere
        self.collection_failed = False  # pytest then ends "interrupted", though nobody pressed Ctrl-C

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_failed = True

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = record_of(report) if report.when == "call" else None
        if record is None:
            # No result came back from the replay itself: the item broke in set-up, or its
            # worker died (xdist then reports the flow failed, outside any phase).
            if not report.failed or report.when == "teardown":
                return
            name = report.nodeid.rpartition("::")[2]
            text = str(report.longrepr).strip().splitlines()
            record = FlowRecord(name, str(report.location[0]), False, message=text[-1] if text else "failed")
            record.seconds = round(report.duration, 3)
        self.records.append(record)
        with contextlib.redirect_stdout(self.stdout):
            self.on_record(record, len(self.records), self.total)


def check_options(options: Options, note: Callable[[str], None] = lambda m: None) -> Options:
    """The options, checked; a pool of endpoints without those nothing answers at (each said).
    NoBrowser (exit 4) when no browser can be had at all."""
    if options.trace not in TRACE_MODES:
        raise InputError(f"--trace: {options.trace!r} is not one of {', '.join(TRACE_MODES)}")
    if options.workers < 1:
        raise InputError("--workers: give 1 or more")
    if options.retries < 0:
        raise InputError("--retries: give 0 or more")
    if options.workers > 1 and not _has_xdist():
        raise InputError(
            "--workers needs pytest-xdist, which is not installed: `pip install pytest-xdist`, or run with --workers 1"
        )
    from assistant.run.browser import BrowserNotFound, discover, endpoint_pool, unreachable

    try:  # a wrong browser option is the command's error, not every flow's failure
        pool = endpoint_pool(options.browser_endpoints)
        discover(options.browser_path, pool[0] if pool else None, options.cdp)
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    if not pool:
        return options
    alive = []
    for endpoint in pool:
        why = unreachable(endpoint)
        if why is None:
            alive.append(endpoint)
        else:
            note(f"note: --browser-endpoint {endpoint}: nothing answers there ({why}); left out")
    if not alive:
        raise NoBrowser(f"--browser-endpoint: none of the {len(pool)} browser endpoint(s) answers; start them first")
    return replace(options, browser_endpoints=tuple(alive))


@contextlib.contextmanager
def _without_pytest_addopts():
    """A CI's PYTEST_ADDOPTS is meant for its own test suite (a --junitxml, -x, a coverage
    plugin), not for the replay's pytest run, nor for the workers that inherit the environment."""

    held = os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        yield
    finally:
        if held is not None:
            os.environ["PYTEST_ADDOPTS"] = held


def _has_xdist() -> bool:

    return importlib.util.find_spec("xdist") is not None


def replay(
    options: Options,
    *,
    on_record: Callable[[FlowRecord, int, int], None] = lambda record, done, total: None,
    note: Callable[[str], None] = lambda m: None,
    pytest_output: Any = None,
) -> Summary:
    """Replay the chosen flows with pytest; `on_record(record, done, total)` sees each flow's
    result as it comes in.

    pytest's own output goes to `pytest_output` (a file); by default it is kept back and shown
    on stderr only if pytest itself broke down, as the line per flow says all the rest."""
    options = check_options(options, note)
    entries, mine = selection(options, note=note)
    summary = Summary(chosen=len(entries))
    started = time.monotonic()
    if options.output is not None:
        options.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="replay-") as folder:
        listing = Path(folder) / LIST_NAME
        # Those that do not load first (they fail at once), then the longest first: workers that
        # take the next flow as they come free then end close together, where id order could
        # leave one worker alone on the long ones at the end.
        ordered = sorted(mine, key=lambda e: (e.steps is not None, -(e.steps or 0), e.id))
        listing.write_text(json.dumps([e.__dict__ for e in ordered], ensure_ascii=False), encoding="utf-8")
        (Path(folder) / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        collector = Collector(on_record, len(mine))
        kept = io.StringIO()
        with contextlib.redirect_stdout(pytest_output or kept), _without_pytest_addopts():
            # No more workers than flows: each would start a Python and a browser for nothing.
            used = replace(options, workers=max(1, min(options.workers, len(mine))))
            summary.pytest_exit = int(pytest.main(pytest_args(listing, used), plugins=[collector]))
    summary.records = sorted(collector.records, key=lambda r: r.flow)
    summary.seconds = round(time.monotonic() - started, 3)
    if summary.pytest_exit == pytest.ExitCode.INTERRUPTED and not collector.collection_failed:
        raise KeyboardInterrupt
    if summary.pytest_exit not in (0, 1, 5):
        sys.stderr.write(kept.getvalue())

        raise RunFailed(f"pytest stopped the replay (its exit code {summary.pytest_exit}); its message is above")
    return summary
