"""The pytest plugin for testers (registered under `pytest11`, so installing the package loads it).

Fixtures, built on pytest-playwright's, so that its options (--headed,
--browser-channel, --slowmo, --tracing, --video, --output, --screenshot) work
unchanged on the runs they make:

    demo_portal    the built-in demo portal, running on 127.0.0.1
    flow           flow(name_or_file) -> the loaded flow (searched like `assistant` does)
    replica        replica(flow) -> the flow's replica, running (one per flow per test)
    case_factory   case_factory(flow, **changes) -> a case file: the flow's sample case, changed
    evidence_dir   where run_flow keeps the evidence of this test's runs
    run_flow       run_flow(flow, case=None, ...) -> the pipeline's Outcome (status,
                   confirmation, evidence_dir): the case submitted through the flow to its
                   replica (or base_url), in pytest-playwright's browser, in a context of its own

A run is the real thing: the same pipeline as `assistant submit` (journal, host
guard, evidence package), in a home of the test's own.

For browsers elsewhere, `connect_options_for(pool, worker_id)` is what to return
from pytest-playwright's `connect_options` fixture: one endpoint of a pool per
xdist worker, round-robin, the ones that do not answer skipped.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assistant.language.flow import Flow
    from assistant.pipeline import Outcome


def connect_options_for(pool: str | list[str], worker_id: str = "master") -> dict[str, Any]:
    """pytest-playwright's connect_options for this worker: an endpoint of the pool (a list, or a
    comma list), the worker's own by its number (gw0 the first, gw1 the second, …), or the next
    that answers; with the launch options a `run-server --unsafe` takes (ASSISTANT_REMOTE_BROWSER_PATH).
    NoBrowser when none answers."""
    from assistant.errors import NoBrowser
    from assistant.run.browser import endpoint_pool, remote_launch_headers, unreachable

    endpoints = endpoint_pool([pool] if isinstance(pool, str) else pool)
    if not endpoints:
        raise NoBrowser("connect_options_for: no endpoint given")
    start = int(worker_id[2:]) % len(endpoints) if worker_id[2:].isdigit() else 0
    tried = []
    for endpoint in endpoints[start:] + endpoints[:start]:
        why = unreachable(endpoint)
        if why is None:
            return {"endpoint": endpoint, "headers": remote_launch_headers()}
        tried.append(f"{endpoint}: {why}")
    raise NoBrowser("none of the browser endpoints answers: " + "; ".join(tried))


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after every plugin pytest found at start-up, so that its fixture
    # overrides pytest-playwright's (a conftest.py still overrides it in turn).
    if not config.pluginmanager.has_plugin("support_assistant.browser"):
        config.pluginmanager.register(discovered_browser(), "support_assistant.browser")


def discovered_browser() -> object:
    """A plugin module holding one fixture, made here: the fixture must not be in this module too."""

    @pytest.fixture(scope="session")
    def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
        """pytest-playwright launches Playwright's own Chromium; where that is not installed, the
        Chrome or Chromium the assistant finds (`assistant browser install`) is used instead.
        --browser-channel, or an executable_path given in the launch args, is left as it is."""
        if "channel" in browser_type_launch_args or "executable_path" in browser_type_launch_args:
            return browser_type_launch_args
        from assistant.run.browser import BrowserNotFound, discover, launch_args

        try:
            choice = discover()
        except BrowserNotFound:
            return browser_type_launch_args  # pytest-playwright says what is missing
        if choice.kind not in ("path", "system"):
            return browser_type_launch_args
        # A tester's own pages do not go through the host guard's proxy: this browser looks host
        # names up itself (the runs it is lent to say so in their log).
        args = launch_args(choice.target, lookups=True)
        return {**browser_type_launch_args, "executable_path": choice.target, "args": args}

    plugin = ModuleType("support_assistant_browser")
    plugin.browser_type_launch_args = browser_type_launch_args  # type: ignore[attr-defined]
    return plugin


class LentBrowser:
    """pytest-playwright's browser, lent to a run: its contexts are made by pytest-playwright's
    `new_context`, so --tracing, --video and --output apply to them; pytest-playwright's context
    arguments (--device, --base-url) win over the run's own."""

    def __init__(self, browser: Any, new_context: Callable[..., Any], context_args: dict[str, Any]) -> None:
        self._browser = browser
        self._new_context = new_context
        self._context_args = context_args

    def new_context(self, **options: Any) -> Any:
        return self._new_context(**{k: v for k, v in options.items() if k not in self._context_args})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture
def demo_portal() -> Iterator[Any]:
    """The built-in demo portal on 127.0.0.1 (`.url`, `.received`), fresh for the test."""
    from assistant.sites.demo.portal import DemoPortal

    with DemoPortal() as running:
        yield running


@pytest.fixture
def flow() -> Callable[[str | Path], Flow]:
    """flow(name) -> the loaded flow: an id (searched like `assistant` does: --flows is not a
    pytest option, ASSISTANT_FLOWS, HOME/flows, flow packs, bundled) or a flow file."""
    from assistant.language.flow import find_flow, load_flow

    def load(name: str | Path) -> Flow:
        if isinstance(name, Path):
            return load_flow(name)
        return load_flow(find_flow(name))

    return load


def _as_flow(flow: Any, load: Callable[[str | Path], Flow]) -> Flow:
    from assistant.language.flow import Flow

    return flow if isinstance(flow, Flow) else load(flow)


@pytest.fixture
def replica(flow: Callable[[str | Path], Flow]) -> Iterator[Callable[[Any], Any]]:
    """replica(flow) -> the flow's replica (its test: block's), running on 127.0.0.1, with
    `.url` and `.received` (what it accepted, each with its `.number`); one per flow per test."""
    from assistant.errors import InputError
    from assistant.sites.replica import open_replica
    from assistant.workbench.flowtest import replica_spec

    running: dict[str, Any] = {}

    def start(which: Any) -> Any:
        loaded = _as_flow(which, flow)
        if loaded.test is None:
            raise InputError(f"{loaded.path}: no test: block naming a replica")
        if loaded.id not in running:
            server = open_replica(replica_spec(loaded))
            server.start()
            running[loaded.id] = server
        return running[loaded.id]

    yield start
    for server in running.values():
        server.stop()


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    """Where run_flow keeps each run's evidence package (a folder per run, and its zip)."""
    folder = tmp_path / "evidence"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def case_factory(tmp_path: Path, flow: Callable[[str | Path], Flow]) -> Callable[..., Path]:
    """case_factory(flow, **changes) -> a case file: the flow's sample case with its attachments,
    copied to a folder of its own, with top-level fields changed (a value of None removes one)."""
    from ruamel.yaml import YAML

    made: list[Path] = []

    def make(which: Any = "demo", **changes: Any) -> Path:
        loaded = _as_flow(which, flow)
        sample = loaded.sample_case()
        yaml = YAML()
        data = yaml.load(sample.read_text(encoding="utf-8"))
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        folder = tmp_path / "cases" / str(len(made) + 1)
        folder.mkdir(parents=True)
        for name in data.get("attachments") or []:
            source = sample.parent / str(name)
            if source.is_file():  # one named in changes may already be elsewhere
                shutil.copy(source, folder / source.name)
        buffer = StringIO()
        yaml.dump(data, buffer)
        path = folder / "case.yaml"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        made.append(path)
        return path

    return make


@pytest.fixture
def run_flow(
    tmp_path: Path,
    flow: Callable[[str | Path], Flow],
    replica: Callable[[Any], Any],
    evidence_dir: Path,
    playwright: Any,
    browser: Any,
    new_context: Callable[..., Any],
    browser_context_args: dict[str, Any],
    browser_type_launch_args: dict[str, Any],
    connect_options: dict[str, Any] | None,
) -> Callable[..., Outcome]:
    """run_flow(flow, case=None, *, base_url=None, **settings) -> the run's Outcome.

    Submits the case (a file, a loaded Case, or None for the flow's sample case) through the
    flow to its replica, or to base_url, in pytest-playwright's browser. `settings` are named as
    the commands' options are (dry_run, timeout, masks, device, trace, ...: assistant.pipeline
    Settings.of puts each in its group).
    A run that fails raises the assistant's error, whose message names the failing step and
    its flow file:line; the evidence stays in evidence_dir either way."""
    from assistant.errors import InputError
    from assistant.language.case import Case, load_case
    from assistant.pipeline import Settings, submit
    from assistant.run.browser import BrowserChoice, Started
    from assistant.workbench.flowtest import log_in_for_test, perform

    if connect_options:  # the host guard's proxy serves it only if it runs here (netguard.browser_is_local)
        endpoint = connect_options.get("endpoint") or connect_options.get("ws_endpoint")
        choice = BrowserChoice("endpoint", str(endpoint), "pytest-playwright connect_options")
    else:
        # With the arguments it was launched with: the host guard tells from them what the
        # browser's own flags hold (assistant.run.netguard.held_by_flags).
        args = [str(a) for a in browser_type_launch_args.get("args") or []]
        choice = BrowserChoice("path", browser.browser_type.executable_path, "pytest-playwright", args)
    lent = Started(playwright, LentBrowser(browser, new_context, browser_context_args), choice)
    runs = iter(range(1, 10_000))

    def run(which: Any, case: Any = None, *, base_url: str | None = None, **settings: Any) -> Outcome:
        loaded = _as_flow(which, flow)
        number = next(runs)
        scratch = tmp_path / f"run-{number}"
        home = settings.pop("home", None) or tmp_path / "home"
        if case is None:
            case = loaded.sample_case()
        parsed = case if isinstance(case, Case) else load_case(Path(case), {"provider": loaded.id})
        url = base_url or replica(loaded).url
        if loaded.requires_login and base_url is None:
            log_in_for_test(loaded, url, Path(home), scratch, {}, lent)
        holder: dict[str, Any] = {}

        def act_for_person(message: str) -> None:
            steps = loaded.test.human_steps if loaded.test is not None else []
            if not steps:
                raise InputError(f"{loaded.path}: the flow pauses for a person ({message}); add test.human_steps")
            perform(holder["page"], loaded, steps, url, scratch / "human")

        options: dict[str, Any] = {
            "yes": True,
            "force": True,
            "ask_human": act_for_person,
            "person_watches": bool(loaded.test and loaded.test.human_steps),
            "on_page": lambda page: holder.__setitem__("page", page),
            **settings,
        }
        return submit(
            parsed,
            loaded,
            Settings.of(
                home=Path(home),
                base_url=url,
                out=evidence_dir / f"{loaded.id}-{number}",
                lent=lent,
                **options,
            ),
        )

    return run
