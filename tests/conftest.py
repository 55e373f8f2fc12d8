"""Shared fixtures: the real browser (found the way the CLI finds it) and the demo portal."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py

# No run in the tests asks the public timestamp authorities (this machine reaches no outside host,
# and a test must not depend on one): those that want trusted time start authorities on 127.0.0.1
# and name them with --tsa.
os.environ["ASSISTANT_TSA"] = "none"
# The tests read English unless they ask for Russian (--lang ru, or ASSISTANT_LANG removed and a
# Russian LANG): the machine's own locale must not change what they read.
os.environ["ASSISTANT_LANG"] = "en"

from assistant import translation
from assistant.run.browser import discover, launch_args


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """The interface's language is one setting per process: a test that ran the CLI in Russian
    in this process (CliRunner, --lang ru) leaves English behind it for the next test."""
    yield
    translation.use("en")


@pytest.fixture(scope="session")
def browser_choice():
    return discover()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_choice):
    # pytest-playwright launches the browser; point it at the one we discovered
    # so tests run where Playwright's own download is unavailable.
    if browser_choice.kind in ("managed", "endpoint", "cdp"):
        return browser_type_launch_args
    # Its own contexts (the `page` fixture) do not go through the host guard: it looks names up.
    return {
        **browser_type_launch_args,
        "executable_path": browser_choice.target,
        "args": launch_args(browser_choice.target, lookups=True),
    }


@pytest.fixture
def provider():
    """An attack site playing the provider, on 127.0.0.1 (tests/attack_site.py)."""
    from attack_site import AttackSite

    with AttackSite("127.0.0.1") as site:
        yield site


@pytest.fixture
def attacker():
    """An attack site on 127.0.0.2 that logs every request: a test asserts it heard nothing."""
    from attack_site import AttackSite

    with AttackSite("127.0.0.2") as site:
        yield site


@pytest.fixture
def portal():
    from assistant.sites.demo.portal import DemoPortal

    with DemoPortal() as running:
        yield running


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Write tests/golden/*/*.err again from what the commands print now (read the diff).",
    )
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help="Run the hostile-input fuzzers long (>= 2000 generated flow and case files instead of >= 300).",
    )
    parser.addoption(
        "--soak",
        type=int,
        default=None,
        metavar="N",
        help="Soak runs against the faulty demo portal (tests/test_soak.py; default 50, the README's figure: 1000).",
    )


# ------------------------------------------------------------------ nothing left running
# Every process the suite starts (a browser, a driver, a run-server, a CLI run) inherits this
# mark in its environment; when the session ends, any still running is a leak: it is named,
# killed, and the session fails. A pytest run inside a test inherits the mark and leaves the
# check to the session that set it.
SESSION_MARK = "ASSISTANT_TEST_SESSION"


def pytest_configure(config):
    import os
    import uuid

    if SESSION_MARK not in os.environ:
        os.environ[SESSION_MARK] = uuid.uuid4().hex
        config.stash[_marks_key] = os.environ[SESSION_MARK]


_marks_key = pytest.StashKey[str]()


# Python's own helpers that end with the process that started them (this one), not leaks.
OWN_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _marked(mark: str) -> dict[int, str]:
    """Processes other than this one whose environment carries the mark: pid → command line
    (this process's own multiprocessing helpers aside)."""
    import os

    found = {}
    needle = f"{SESSION_MARK}={mark}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
                if not any(helper in command for helper in OWN_HELPERS):
                    found[int(entry)] = command
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def pytest_sessionfinish(session, exitstatus):
    import os
    import signal
    import time

    mark = session.config.stash.get(_marks_key, None)
    if mark is None:
        return
    deadline = time.monotonic() + 10  # what was just stopped may take a moment to go
    left = _marked(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _marked(mark)
    if not left:
        return
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = "\n".join(f"  {pid}: {command}" for pid, command in left.items())
    if reporter is not None:
        reporter.write_line(f"the test session left {len(left)} process(es) running (killed now):\n{lines}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
