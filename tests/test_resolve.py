"""`assistant cases resolve`: settling a submission whose outcome is unknown.

Each pending submission here is made the way it happens: a real submit
through a real browser to a portal that takes the request and never shows a
number (DemoPortal(confirm=False)), or that loses the request on the way.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pexpect
import pytest
from helpers import DEMO_FLOW, run_cli, submissions, write_case

from assistant.errors import ExitStatus
from assistant.sites.demo.app import PortalApp
from assistant.sites.demo.forms import Ticket
from assistant.sites.demo.portal import DemoPortal
from assistant.sites.web import LocalServer


def submit(url: str, case: Path, home: Path, *extra: str, env: dict | None = None):
    return run_cli("submit", "demo", "--case", str(case), "--base-url", url, "--yes", *extra, home=home, env=env)


def pending_submission(url: str, case: Path, home: Path, env: dict | None = None) -> dict:
    """A real submit whose confirmation never comes: the journal says pending."""
    done = submit(url, case, home, "--timeout", "2", env=env)
    assert done.returncode == ExitStatus.UNKNOWN and "assistant cases resolve" in done.stderr, done.stderr
    rows = submissions(home)
    assert [r["status"] for r in rows] == ["pending"], done.stderr
    return rows[0]


def history(home: Path, case: str = "1") -> list[str]:
    done = run_cli("cases", "show", case, "--json", home=home)
    assert done.returncode == 0, done.stderr
    return [h["note"] or "" for h in json.loads(done.stdout)["history"]]


@pytest.fixture
def silent_portal():
    with DemoPortal(confirm=False) as running:
        yield running


def flows_without_lookup(tmp_path: Path) -> dict:
    """The demo flow as a provider without a "my requests" page would have it."""
    folder = tmp_path / "flows"
    folder.mkdir()
    text = DEMO_FLOW.read_text(encoding="utf-8")
    (folder / "demo.yaml").write_text(text[: text.index("\nlookup:")] + "\n", encoding="utf-8")
    return {"ASSISTANT_FLOWS": str(folder)}


def test_lookup_reads_the_portals_number_and_then_a_resend_is_refused(silent_portal, tmp_path):
    home, case = tmp_path / "home", write_case(tmp_path)
    pending_submission(silent_portal.url, case, home)
    assert len(silent_portal.received) == 1
    filed = silent_portal.received[0].number

    blocked = submit(silent_portal.url, case, home)
    assert blocked.returncode == 3 and "`assistant cases resolve 1`" in blocked.stderr

    done = run_cli("cases", "resolve", "1", "--base-url", silent_portal.url, "--json", home=home)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    record = out["submission"]
    assert (record["status"], record["outcome"], out["resolved_by"]) == ("confirmed", "accepted", "lookup")
    assert record["confirmation"] == filed
    assert record["confirmation_url"].startswith(f"{silent_portal.url}/support/requests?email=")
    assert [f["number"] for f in out["lookup"]["found"]] == [filed]
    lookup_dir = Path(out["lookup"]["evidence_dir"])
    manifest = json.loads((lookup_dir / "manifest.json").read_text())
    shots = [f["path"] for f in manifest["files"] if f["role"] == "lookup"]
    assert shots and all((lookup_dir / p).is_file() for p in shots)
    assert run_cli("evidence", "verify", str(lookup_dir), home=home).returncode == 0

    row = submissions(home)[0]
    assert (row["status"], row["confirmation"]) == ("confirmed", filed)
    assert row["confirmation_url"] == record["confirmation_url"] and row["settled_at"]
    assert any("resolved by lookup" in note and filed in note for note in history(home))

    again = submit(silent_portal.url, case, home)
    assert again.returncode == 3 and f"already submitted: {filed}" in again.stderr
    assert len(silent_portal.received) == 1

    nothing = run_cli("cases", "resolve", "1", "--base-url", silent_portal.url, home=home)
    assert nothing.returncode == 0 and "nothing to resolve" in nothing.stdout


class LosesFirstPost:
    """The demo portal behind a link that loses the first request sent to it: the POST leaves
    the browser, nothing is stored, and no answer comes while the run waits."""

    def __init__(self, app: PortalApp):
        self.app = app
        self.lost = 0
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and self.lost == 0:
            self.lost += 1
            self.release.wait(4)
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"upstream connection lost"]
        return self.app(environ, start_response)


def test_not_filed_after_a_lookup_that_finds_nothing_lets_the_resend_through(tmp_path):
    app = LosesFirstPost(PortalApp())
    home, case = tmp_path / "home", write_case(tmp_path)
    with LocalServer(app) as site:
        try:
            pending_submission(site.url, case, home)
        finally:
            app.release.set()
        assert app.lost == 1 and app.app.received == []

        unsure = run_cli("cases", "resolve", "1", "--base-url", site.url, home=home)
        assert unsure.returncode == 2
        [first] = [line for line in unsure.stderr.splitlines() if line.startswith("error:")]
        assert "none with 'DM-2026-114512'" in first and "--number N" in first and "--not-filed" in first
        assert submissions(home)[0]["status"] == "pending"

        done = run_cli("cases", "resolve", "1", "--not-filed", "--note", "not on their list", home=home)
        assert done.returncode == 0, done.stderr
        assert "not filed" in done.stdout and "no --force needed" in done.stdout
        row = submissions(home)[0]
        assert row["status"] == "not_filed" and row["due_at"] is None and row["settled_at"]
        assert any("not filed: not on their list" in note for note in history(home))

        resend = submit(site.url, case, home)
        assert resend.returncode == 0, resend.stderr
        assert [t.number for t in app.app.received] == [submissions(home)[1]["confirmation"]]
        assert [r["status"] for r in submissions(home)] == ["not_filed", "confirmed"]


def test_number_from_the_person_without_a_terminal_and_the_flags_it_needs(silent_portal, tmp_path):
    home, case, env = tmp_path / "home", write_case(tmp_path), flows_without_lookup(tmp_path)
    pending_submission(silent_portal.url, case, home, env=env)

    asked = run_cli("cases", "resolve", "1", home=home, env=env)
    assert asked.returncode == 2 and len(asked.stderr.strip().splitlines()) == 1
    assert "The flow demo has no lookup: block" in asked.stderr and "pass --number N" in asked.stderr

    both = run_cli("cases", "resolve", "1", "--number", "DEMO-1", "--not-filed", home=home, env=env)
    assert both.returncode == 2 and "give one of" in both.stderr and len(both.stderr.strip().splitlines()) == 1
    blank = run_cli("cases", "resolve", "1", "--number", " ", home=home, env=env)
    assert blank.returncode == 2 and "--number" in blank.stderr
    unknown = run_cli("cases", "resolve", "9", "--not-filed", home=home, env=env)
    assert unknown.returncode == 2 and "no case '9'" in unknown.stderr
    wrong = run_cli("cases", "resolve", "1", "--submission", "7", "--not-filed", home=home, env=env)
    assert wrong.returncode == 2 and "--submission: 7 is not a submission of case 1" in wrong.stderr
    assert submissions(home)[0]["status"] == "pending"

    filed = silent_portal.received[0].number
    done = run_cli("cases", "resolve", "1", "--number", filed, "--note", "from their email", home=home, env=env)
    assert done.returncode == 0, done.stderr
    assert f"the provider has it as {filed}" in done.stdout
    row = submissions(home)[0]
    assert (row["status"], row["confirmation"], row["confirmation_url"]) == ("confirmed", filed, None)
    assert any(f"resolved by you: filed, number {filed}: from their email" in n for n in history(home))
    refused = submit(silent_portal.url, case, home, env=env)
    assert refused.returncode == 3 and f"already submitted: {filed}" in refused.stderr


def test_accepted_with_no_number_blocks_a_resend_and_takes_the_number_later(silent_portal, tmp_path):
    home, case, env = tmp_path / "home", write_case(tmp_path), flows_without_lookup(tmp_path)
    pending_submission(silent_portal.url, case, home, env=env)
    done = run_cli("cases", "resolve", "1", "--accepted", "--note", "their email: received", home=home, env=env)
    assert done.returncode == 0, done.stderr
    assert "the provider has it, with no number yet" in done.stdout and "cases number 1 NUMBER" in done.stdout
    row = submissions(home)[0]
    assert (row["status"], row["confirmation"]) == ("confirmed", None)
    assert any("accepted with no number: their email: received" in n for n in history(home))
    refused = submit(silent_portal.url, case, home, env=env)
    assert refused.returncode == 3 and "accepted, the provider gave no number" in refused.stderr
    assert len(silent_portal.received) == 1
    filed = silent_portal.received[0].number
    assert run_cli("cases", "number", "1", filed, home=home).returncode == 0
    assert submissions(home)[0]["confirmation"] == filed


def test_two_matching_requests_on_the_list_are_not_guessed(silent_portal, tmp_path):
    home, case = tmp_path / "home", write_case(tmp_path)
    pending_submission(silent_portal.url, case, home)
    ours = silent_portal.received[0]
    # The person had also written about the same order on the site by hand.
    by_hand = silent_portal.app.store({**ours.fields, "subject": "Payment taken, no order"}, [])
    assert isinstance(by_hand, Ticket)

    done = run_cli("cases", "resolve", "1", "--base-url", silent_portal.url, home=home)
    assert done.returncode == 2
    assert ours.number in done.stderr and by_hand.number in done.stderr and "--number N" in done.stderr
    assert submissions(home)[0]["status"] == "pending"

    chosen = run_cli("cases", "resolve", "1", "--number", ours.number, home=home)
    assert chosen.returncode == 0 and submissions(home)[0]["confirmation"] == ours.number


def test_on_a_terminal_the_person_is_asked(silent_portal, tmp_path):
    home, case, env = tmp_path / "home", write_case(tmp_path), flows_without_lookup(tmp_path)
    pending_submission(silent_portal.url, case, home, env=env)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "assistant", "cases", "resolve", "1"],
        env={**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", **env},
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    child.expect("may have reached DemoMarket")
    child.expect(r"Your answer \(n, a, x, p\):")
    child.sendline("n")
    child.expect("Its number:")
    child.sendline("  DEMO-000777 ")
    child.expect("the provider has it as DEMO-000777")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert submissions(home)[0]["confirmation"] == "DEMO-000777"


def test_ctrl_c_at_the_question_is_130_and_leaves_it_pending(silent_portal, tmp_path):
    """Ctrl-C at any prompt, not only submit's: exit 130 and where to look, in the person's language."""
    home, case, env = tmp_path / "home", write_case(tmp_path), flows_without_lookup(tmp_path)
    pending_submission(silent_portal.url, case, home, env=env)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "assistant", "--lang", "ru", "cases", "resolve", "1"],
        env={**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", **env},
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    child.expect(r"\(n, a, x, p\):")
    child.sendintr()
    child.expect(pexpect.EOF)
    said = child.before
    child.close()
    assert child.exitstatus == ExitStatus.INTERRUPTED, said
    assert "Aborted!" not in said and "Traceback" not in said
    assert "прервано" in said and "`assistant cases`" in said, said
    assert [r["status"] for r in submissions(home)] == ["pending"]


def test_a_lookup_that_would_submit_is_refused_naming_the_line(tmp_path):
    text = DEMO_FLOW.read_text(encoding="utf-8")
    bad = text.replace('    - click: "#track-find"', '    - submit: "#track-find"')
    flow = tmp_path / "demo.yaml"
    flow.write_text(bad, encoding="utf-8")
    line = bad.splitlines().index('    - submit: "#track-find"') + 1
    done = run_cli("flow", "validate", str(flow), home=tmp_path)
    assert done.returncode == 2
    assert f"{flow}:{line}:7: lookup.steps[4].submit: a lookup only reads the provider's record" in done.stderr

    schema = json.loads(run_cli("schema", "flow", home=tmp_path).stdout)
    assert schema["properties"]["lookup"]["anyOf"][0] == {"$ref": "#/$defs/Lookup"}
    assert set(schema["$defs"]["Lookup"]["required"]) == {"steps", "item", "match", "number"}
