"""The testers' pytest plugin, used the way a tester uses it: this suite has it loaded (pytest11)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest
from helpers import REPO, start_run_server, stop_run_server

from assistant.errors import AssistantError


def test_run_flow_files_through_the_flows_replica(flow, replica, case_factory, run_flow, evidence_dir):
    kuper = flow("kuper-support")
    outcome = run_flow(kuper, case_factory(kuper, order_id="99887766"))
    assert outcome.status == "confirmed"
    [ticket] = replica(kuper).received
    assert ticket.number == outcome.confirmation and outcome.confirmation.isdigit()
    assert outcome.evidence_dir.is_relative_to(evidence_dir) and (outcome.evidence_dir / "manifest.json").is_file()
    assert "99887766" in (outcome.evidence_dir / "report.html").read_text(encoding="utf-8")


def test_run_flow_files_to_the_demo_portal_given_as_base_url(demo_portal, run_flow, case_factory):
    outcome = run_flow("demo", case_factory("demo", subject="Charged twice"), base_url=demo_portal.url)
    assert outcome.confirmation.startswith("DEMO-")
    assert [t.number for t in demo_portal.received] == [outcome.confirmation]


def test_a_failing_run_names_its_step_and_flow_line(tmp_path, flow, replica, run_flow):
    text = (REPO / "flows" / "demo.yaml").read_text(encoding="utf-8")
    assert '"#order_number"' in text
    broken = tmp_path / "demo.yaml"
    broken.write_text(text.replace('"#order_number"', '"#order-number-gone"'), encoding="utf-8")
    shutil.copytree(REPO / "flows" / "samples", tmp_path / "samples")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"#order_number"' in l)
    with pytest.raises(AssistantError) as failed:
        run_flow(flow(broken), timeout=1)
    assert f"{broken}:{line}" in str(failed.value)
    assert replica(flow(broken)).received == []  # nothing was submitted


REMOTE_CONFTEST = """\
import os
import pytest
from assistant.testing.plugin import connect_options_for

@pytest.fixture(scope="session")
def connect_options():
    # PW_ENDPOINTS: a pool, comma-separated; the first here is dead and is skipped.
    return connect_options_for(os.environ["PW_ENDPOINTS"])
"""


def test_the_fixtures_run_in_a_browser_behind_a_playwright_run_server(tmp_path, browser_choice):
    server, port = start_run_server()
    try:
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        (theirs / "conftest.py").write_text(REMOTE_CONFTEST)
        (theirs / "test_remote.py").write_text(
            "def test_demo(run_flow, replica, browser):\n"
            "    outcome = run_flow('demo')\n"
            "    assert [t.number for t in replica('demo').received] == [outcome.confirmation]\n"
            "    assert browser.browser_type.name == 'chromium'\n"
        )
        with socket.socket() as probe:  # a port nothing listens on: the pool's dead endpoint
            probe.bind(("127.0.0.1", 0))
            dead = probe.getsockname()[1]
        env = {**os.environ, "PW_ENDPOINTS": f"ws://127.0.0.1:{dead}/,ws://127.0.0.1:{port}/"}
        if browser_choice.kind in ("system", "path"):  # which browser the run-server starts (--unsafe)
            env["ASSISTANT_REMOTE_BROWSER_PATH"] = browser_choice.target
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=theirs,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 passed" in done.stdout
    finally:
        stop_run_server(server)


@pytest.mark.parametrize("name", ["harder-login", "harder-captcha"])
def test_run_flow_logs_in_and_acts_for_the_person_as_the_flows_test_block_says(name, flow, replica, run_flow):
    hard = flow(REPO / "tests" / "flows" / f"{name}.yaml")
    outcome = run_flow(hard)
    assert outcome.status == "confirmed"
    assert [t.number for t in replica(hard).received] == [outcome.confirmation]
