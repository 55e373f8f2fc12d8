"""Browser discovery, and driving a browser that someone else started."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import json_out, run_cli, start_run_server, stop_run_server, write_case

from assistant.language import catalog
from assistant.run import browser as browsers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_explicit_path_wins(browser_choice):
    if browser_choice.kind != "system" and browser_choice.kind != "path":
        pytest.fail("these tests expect an executable browser (system or --browser-path)")
    choice = browsers.discover(env={"ASSISTANT_BROWSER": browser_choice.target})
    assert (choice.kind, choice.target, choice.source) == ("path", browser_choice.target, "ASSISTANT_BROWSER")


def test_missing_explicit_path_is_a_clear_error(portal, tmp_path):
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_BROWSER": "/nowhere/chrome"},
    )
    assert done.returncode == 4
    assert "ASSISTANT_BROWSER: /nowhere/chrome does not exist" in done.stderr
    assert portal.received == []


def test_nothing_found_lists_what_was_tried(tmp_path, monkeypatch):
    # A machine with no browser at all: empty PATH, no Playwright download, no known paths.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))
    monkeypatch.setattr(browsers, "SYSTEM_BROWSER_PATHS", ())
    with pytest.raises(browsers.BrowserNotFound) as caught:
        browsers.discover(env={})
    message = str(caught.value)
    assert "Playwright-managed Chromium: not installed" in message
    assert "Chrome/Chromium on PATH" in message and "assistant browser install" in message


def test_bad_endpoint_url_is_refused():
    with pytest.raises(browsers.BrowserNotFound, match="not a ws://"):
        browsers.discover(endpoint="http://127.0.0.1:1/")


def test_submit_through_a_playwright_run_server(portal, tmp_path, browser_choice):
    server, port = start_run_server()
    try:
        env = {}
        if browser_choice.kind in ("system", "path"):
            env["ASSISTANT_REMOTE_BROWSER_PATH"] = browser_choice.target
        result = json_out(
            run_cli(
                "submit",
                "demo",
                "--case",
                str(write_case(tmp_path)),
                "--base-url",
                portal.url,
                "--yes",
                "--json",
                "--browser-endpoint",
                f"ws://127.0.0.1:{port}/",
                home=tmp_path / "home",
                env=env,
            )
        )
        assert result["confirmation"] == portal.received[0].number
    finally:
        stop_run_server(server)


def test_submit_through_an_already_running_chrome(portal, tmp_path, browser_choice):
    if browser_choice.kind not in ("system", "path", "managed"):
        pytest.fail("needs a local browser executable")
    profile = tmp_path / "profile"
    chrome = subprocess.Popen(
        [
            browser_choice.target,
            "--headless",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            *browsers.launch_args(browser_choice.target, lookups=True),
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, endpoint = time.monotonic() + 30, None
        while time.monotonic() < deadline and endpoint is None:
            line = chrome.stderr.readline()
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                endpoint = f"http://127.0.0.1:{found.group(1)}"
        assert endpoint, "Chrome did not print its DevTools address"
        result = json_out(
            run_cli(
                "submit",
                "demo",
                "--case",
                str(write_case(tmp_path)),
                "--base-url",
                portal.url,
                "--yes",
                "--json",
                "--cdp",
                endpoint,
                home=tmp_path / "home",
            )
        )
        assert result["confirmation"] == portal.received[0].number
        manifest = (Path(result["evidence_dir"]) / "manifest.json").read_text()
        assert f"cdp: {endpoint}" in manifest
    finally:
        chrome.terminate()
        chrome.wait(timeout=10)
        if chrome.stderr is not None:
            chrome.stderr.close()


def test_help_does_not_import_playwright():
    code = (
        "import sys\n"
        "from assistant.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('playwright', 'pydantic', 'ruamel') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_submit_reaches_the_browser_start_before_loading_anything_heavy(tmp_path):
    """The browser starts while the case, the flow and the run's modules load on another thread:
    whatever the command imports before the start is time the person waits on top."""
    case = catalog.bundled() / "samples" / "demo-case.yaml"
    code = (
        "import sys\n"
        "from assistant.run.warmup import Warmup\n"
        "def at_start(self):\n"
        "    heavy = [m for m in ('playwright.sync_api', 'pydantic', 'ruamel', 'evidence', 'assistant.channels.email',\n"
        "             'assistant.language.case', 'PIL') if m in sys.modules]\n"
        "    print('HEAVY', heavy, flush=True)\n"
        "    raise SystemExit(0)\n"
        "Warmup.import_driver = at_start\n"
        "from assistant.cli import main\n"
        f"main(['--home', {str(tmp_path)!r}, 'submit', 'demo', '--case', {str(case)!r}, '--dry-run'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_a_launched_chromium_keeps_playwrights_disabled_features_and_opens_no_omnibox_popups(browser_choice):
    """Chromium keeps only the last --disable-features: ours must repeat Playwright's own list,
    and add the omnibox's WebUI popups, which cost a renderer per context."""
    if browser_choice.kind not in ("system", "path"):
        pytest.fail("needs a Chrome/Chromium launched with the assistant's arguments")
    from concurrent.futures import ThreadPoolExecutor

    def launched() -> tuple[list[str], list[str]]:
        # On a thread of its own: the sync API refuses a thread whose asyncio loop is running,
        # as pytest-playwright's is once any test in this process has used `page`.
        with browsers.open_browser() as (_, browser, _choice):
            context = browser.new_context()
            context.new_page().goto("data:text/html,<p>hello</p>")
            cdp = browser.new_browser_cdp_session()
            targets = [t["url"] for t in cdp.send("Target.getTargets")["targetInfos"]]
            [pid] = [p["id"] for p in cdp.send("SystemInfo.getProcessInfo")["processInfo"] if p["type"] == "browser"]
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            context.close()
        return targets, argv

    with ThreadPoolExecutor(1) as pool:
        targets, argv = pool.submit(launched).result(timeout=120)
    assert not [url for url in targets if "omnibox" in url], targets
    last = [a for a in argv if a.startswith("--disable-features=")][-1]
    disabled = set(last.split("=", 1)[1].split(","))
    assert {"WebUIOmniboxPopup", "WebUIOmniboxAimPopup"} <= disabled
    playwrights = set(browsers.playwright_disabled_features())
    assert len(playwrights) >= 5 and playwrights <= disabled, playwrights - disabled
    # The first is the driver's own: what was read of it (or the copy, if it could not be) is it.
    first = [a for a in argv if a.startswith("--disable-features=")][0]
    assert playwrights == set(first.split("=", 1)[1].split(","))


def test_playwright_managed_chromium_is_found_where_playwright_installs_it(tmp_path, monkeypatch):
    import json

    import playwright

    listing = json.loads((Path(playwright.__file__).parent / "driver" / "package" / "browsers.json").read_text())
    revision = next(b["revision"] for b in listing["browsers"] if b["name"] == "chromium")
    folder = tmp_path / f"chromium-{revision}"
    folder.mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    assert browsers._managed_chromium() is None  # a half-finished download does not count
    (folder / "INSTALLATION_COMPLETE").touch()
    choice = browsers.discover(env={})
    assert (choice.kind, choice.target) == ("managed", str(folder))


WARM = """
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from assistant.run import browser as browsers
from assistant.run.warmup import Warmup

home, choice = Path(sys.argv[1]), browsers.discover(sys.argv[2])
warm = Warmup(home, choice, headless=True)
warm.start_driver()
warm.launch()
playwright, browser = warm.claim(choice, headless=True, slowmo=0)
page = browser.new_page()
page.set_content("<p>warm</p>")
print(page.text_content("p"))
browser.close()
playwright.stop()
warm.close()

other = Warmup(home, choice, headless=True)
other.start_driver()
other.launch()
print(other.claim(choice, headless=False, slowmo=0))
with sync_playwright() as started_again:  # the thread is free for the run's own start
    print(browsers.connect(started_again, choice).version.split(".")[0].isdigit())
other.close()
print(sorted(p.name for p in (home / "tmp").iterdir()))
"""


def test_a_warm_start_is_handed_over_or_stopped(tmp_path, browser_choice, request):
    """The browser started while the flow and case load is the run's; one started for other
    settings is stopped, so that the run can start its own on the same thread; its files
    stay in the home's private folder and are gone at the end."""
    # Short, as /tmp is: Chromium's socket path under it must stay within 107 bytes.
    shared_tmp = Path(tempfile.mkdtemp(prefix="warm-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(shared_tmp, ignore_errors=True))
    done = subprocess.run(
        [sys.executable, "-c", WARM, str(tmp_path / "home"), browser_choice.target],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TMPDIR": str(shared_tmp)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["warm", "None", "True", "[]"]
    assert list(shared_tmp.iterdir()) == []
