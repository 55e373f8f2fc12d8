"""Shared fixtures: the real browser (found the way the CLI finds it) and the demo portal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py

from assistant.run.browser import discover, launch_args


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
