"""Harder forms beyond what a flow test shows: the login wall through the real
`assistant login` command, expired and missing sessions, the CAPTCHA refusing
headless runs at once, and a page that navigates off the allowed hosts.

(The iframe, shadow DOM, status-page, multi-step, appearing-fields and
URL-only-confirmation flows are proved by tests/test_flows.py: each has a
replica and a flow with a test: block.)
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from helpers import REPO, json_out, run_cli

from assistant.sites.replica import ReplicaServer, load_site

FLOWS = REPO / "tests" / "flows"
SITES = REPO / "tests" / "sites"
CASE = FLOWS / "samples" / "harder-case.yaml"


def case_for(tmp: Path, flow_id: str) -> Path:
    for name in ("harder-case.yaml", "harder-screenshot.png"):
        shutil.copy(FLOWS / "samples" / name, tmp / name)
    path = tmp / "harder-case.yaml"
    path.write_text(path.read_text().replace("provider: harder-iframe", f"provider: {flow_id}"))
    return path


@pytest.fixture
def login_site():
    with ReplicaServer(load_site(SITES / "harder-login")) as server:
        yield server


@pytest.fixture
def chrome_with_cdp(browser_choice, tmp_path):
    """A Chrome the 'person' can see, reachable over CDP (headless here: no screen on CI)."""
    if browser_choice.kind not in ("system", "path", "managed"):
        pytest.fail("needs a local browser executable to start with --remote-debugging-port")
    profile = Path(tempfile.mkdtemp(prefix="cdp-profile-"))
    args = [
        browser_choice.target,
        "--headless=new",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        *browser_choice.args,
        "about:blank",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (port_file.exists() and port_file.read_text().strip()):
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port_file.read_text().splitlines()[0]}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def test_login_saves_a_private_session_that_flows_use(login_site, chrome_with_cdp, playwright, tmp_path):
    home = tmp_path / "home"
    flow = str(FLOWS / "harder-login.yaml")
    env = {**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [
            os.sys.executable,
            "-m",
            "assistant",
            "login",
            flow,
            "--base-url",
            login_site.url,
            "--cdp",
            chrome_with_cdp,
            "--wait",
            "60",
            "--json",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Act as the person: find the window `assistant login` opened and log in there.
        browser = playwright.chromium.connect_over_cdp(chrome_with_cdp)
        page = None
        deadline = time.monotonic() + 30
        while page is None and time.monotonic() < deadline and proc.poll() is None:
            pages = [p for c in browser.contexts for p in c.pages if "/login" in p.url]
            page = pages[0] if pages else None
            try:  # a sleep that lets Playwright take in the new window's events
                browser.contexts[0].wait_for_event("page", timeout=200)
            except Exception:
                pass
        assert page is not None, (
            f"assistant login never opened the login page: {proc.stderr.read() if proc.poll() is not None else ''}"
        )
        page.fill("#email", "anna@example.com")
        page.fill("#password", "correct horse")
        page.click("#sign-in")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    saved = Path(json.loads(out)["file"])
    assert saved == home / "sessions" / "loginwall.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert any(c["name"] == "sid" for c in json.loads(saved.read_text())["state"]["cookies"])

    # The flow now runs behind the wall with the saved session.
    result = json_out(
        run_cli(
            "submit",
            flow,
            "--case",
            str(case_for(tmp_path, "harder-login")),
            "--base-url",
            login_site.url,
            "--yes",
            "--json",
            home=home,
        )
    )
    [received] = login_site.received
    assert result["confirmation"] == received.number and received.fields["account"] == "anna@example.com"


def test_missing_session_says_to_log_in_first(login_site, tmp_path):
    done = run_cli(
        "submit",
        str(FLOWS / "harder-login.yaml"),
        "--case",
        str(case_for(tmp_path, "harder-login")),
        "--base-url",
        login_site.url,
        "--yes",
        home=tmp_path / "home",
    )
    assert done.returncode == 2
    assert "no session is saved: run `assistant login harder-login` first" in done.stderr
    assert login_site.received == []


def test_expired_session_is_a_clear_error_and_nothing_is_sent(tmp_path):
    home = tmp_path / "home"
    flow = FLOWS / "harder-login.yaml"
    # A session saved against one server is unknown to a fresh one: as good as expired.
    with ReplicaServer(load_site(SITES / "harder-login")) as first:
        done = run_cli("flow", "test", str(flow), "--json", "--keep", str(tmp_path / "runs"), home=home)
        assert done.returncode == 0, done.stderr
    session = next((tmp_path / "runs").glob("*/home/sessions/loginwall.json"))
    (home / "sessions").mkdir(parents=True)
    shutil.copy(session, home / "sessions" / "loginwall.json")
    os.chmod(home / "sessions" / "loginwall.json", 0o600)
    with ReplicaServer(load_site(SITES / "harder-login")) as fresh:
        done = run_cli(
            "submit",
            str(flow),
            "--case",
            str(case_for(tmp_path, "harder-login")),
            "--base-url",
            fresh.url,
            "--yes",
            home=home,
        )
        assert done.returncode == 2
        assert "session" in done.stderr and "has expired" in done.stderr
        assert "Run `assistant login harder-login` again" in done.stderr
        assert fresh.received == [] and first.received == []


def test_captcha_in_headless_mode_stops_at_once_naming_the_line(tmp_path):
    flow = FLOWS / "harder-captcha.yaml"
    line = next(i for i, l in enumerate(flow.read_text().splitlines(), 1) if "- pause_for_human" in l)
    with ReplicaServer(load_site(SITES / "harder-captcha")) as site:
        done = run_cli(
            "submit",
            str(flow),
            "--case",
            str(case_for(tmp_path, "harder-captcha")),
            "--base-url",
            site.url,
            "--yes",
            home=tmp_path / "home",
            timeout=60,
        )
        assert done.returncode == 1
        assert f"{flow}:{line}:" in done.stderr and "needs a person (Type the code" in done.stderr
        assert "--headed" in done.stderr and "nothing was filled in or sent" in done.stderr
        assert site.received == []


def test_page_that_navigates_off_the_allowed_hosts_is_stopped(tmp_path):
    site_dir = tmp_path / "away"
    site_dir.mkdir()
    (site_dir / "site.py").write_text(
        "from assistant.sites.replica import Site\n"
        "site = Site(__file__)\n"
        "@site.get('/')\n"
        "def home(request):\n"
        "    port = request.headers['host'].split(':')[1]\n"
        "    return site.page_text('x', f'<a id=\"away\" href=\"http://localhost:{port}/elsewhere\">Support</a>')\n"
    )
    flow_text = (
        (REPO / "tests" / "flows" / "harder-status.yaml")
        .read_text()
        .replace('  - goto: "{{ base_url }}/support"\n', '  - goto: "{{ base_url }}/"\n  - click: "#away"\n')
        .replace("id: harder-status", "id: away")
    )
    flow = tmp_path / "away.yaml"
    flow.write_text(flow_text)
    with ReplicaServer(load_site(site_dir)) as site:
        done = run_cli(
            "submit",
            str(flow),
            "--case",
            str(case_for(tmp_path, "away")),
            "--base-url",
            site.url,
            "--yes",
            home=tmp_path / "home",
        )
    assert done.returncode == 1
    line = next(i for i, l in enumerate(flow_text.splitlines(), 1) if "#away" in l)
    # Blocked in the browser before the request left (tests/test_hosts.py has the attacks).
    hosts_line = next(i for i, l in enumerate(flow_text.splitlines(), 1) if l.startswith("allowed_hosts"))
    assert (
        f"{flow}:{line}: step 2 (click selector='#away'): blocked: the page tried to open "
        f"localhost:{site.url.rsplit(':', 1)[1]} (not in allowed_hosts of flow away, line {hosts_line}); "
        "nothing was submitted"
    ) in done.stderr
