"""Truthful outcomes: a refused request is `rejected` in the provider's own words, and a fixed resend goes through.

Each refusal kind runs against a real form (tests/sites/refusals, and the demo portal's
422) in a real browser: the server re-rendering the form with HTTP 200, the browser
blocking a field before anything is sent, the site's script showing the error an
XHR answered, and a refusal only the flow's own `rejected:` check recognises.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from helpers import REPO, run_cli, submissions, write_case
from ruamel.yaml import YAML

from assistant.errors import ExitStatus
from assistant.sites.replica import ReplicaServer, load_site

FLOWS = REPO / "tests" / "flows"


@pytest.fixture(scope="module")
def refusals():
    with ReplicaServer(load_site(REPO / "tests" / "sites" / "refusals")) as server:
        yield server


def refusal_case(tmp: Path, flow: str, name: str = "case.yaml", **changes) -> Path:
    yaml = YAML()
    data = yaml.load((FLOWS / "samples" / "refusals-case.yaml").read_text(encoding="utf-8"))
    data["provider"] = flow
    for key, value in changes.items():
        if key == "phone":
            data["contacts"]["phone"] = value
        else:
            data[key] = value
    buffer = StringIO()
    yaml.dump(data, buffer)
    path = tmp / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def file_it(flow: str, case: Path, home: Path, site, *extra: str, flows: Path = FLOWS):
    return run_cli(
        "submit",
        flow,
        "--case",
        str(case),
        "--base-url",
        site.url,
        "--yes",
        *extra,
        home=home,
        env={"ASSISTANT_FLOWS": str(flows)},
    )


def manifest_of(home: Path) -> dict:
    (folder,) = [p for p in (home / "evidence").iterdir() if (p / "manifest.json").is_file()][-1:]
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def error_line(done) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def assert_rejected_then_fixed(flow, site, tmp_path, bad: dict, good: dict, words: str):
    home = tmp_path / "home"
    before = len(site.received)
    done = file_it(flow, refusal_case(tmp_path, flow, "bad.yaml", **bad), home, site, "--json")
    assert done.returncode == ExitStatus.REJECTED, done.stderr
    line = error_line(done)
    told = json.loads(done.stdout)  # --json: the outcome on stdout, as on success
    assert told["status"] == "rejected" and words in told["reason"] and told["confirmation"] is None
    assert words in line, line
    assert line.endswith('" Nothing was filed; fix the case and submit again.'), line
    assert len(site.received) == before  # the site kept nothing
    (row,) = submissions(home)
    assert row["status"] == "rejected" and words in row["last_error"] and row["due_at"] is None
    manifest = manifest_of(home)
    assert manifest["submission"]["outcome"] == "rejected" and words in manifest["submission"]["reason"]
    # The corrected case goes through without --force: a rejection is not a request on the matter.
    again = file_it(flow, refusal_case(tmp_path, flow, "good.yaml", **good), home, site)
    assert again.returncode == ExitStatus.OK, again.stderr
    assert len(site.received) == before + 1
    number = site.received[-1].number
    assert number in again.stdout
    assert [r["status"] for r in submissions(home)] == ["rejected", "confirmed"]
    return line


def test_server_rerenders_the_form_with_http_200(refusals, tmp_path):
    line = assert_rejected_then_fixed(
        "refusals-server",
        refusals,
        tmp_path,
        bad={"order_id": "HX 2026/0042"},
        good={"order_id": "HX-2026-0042"},
        words='Order number: "Enter a valid order number, like HX-2026-0042."',
    )
    assert line.startswith("error: rejected by the provider: ")


def test_browser_blocks_an_invalid_field_before_sending(refusals, tmp_path):
    line = assert_rejected_then_fixed(
        "refusals-browser",
        refusals,
        tmp_path,
        bad={"phone": "+7 912 345-67-89"},
        good={"phone": "+79123456789"},
        words='Phone: "',
    )
    # The browser's own words, and that nothing left it.
    assert line.startswith("error: not sent: the form refused it in the browser: Phone: ")
    assert "format. (+7 and 10 digits, no spaces)" in line


def test_script_shows_the_error_an_xhr_answered(refusals, tmp_path):
    line = assert_rejected_then_fixed(
        "refusals-script",
        refusals,
        tmp_path,
        bad={"order_id": "HX-0000"},
        good={"order_id": "HX-2026-0042"},
        words='"The order number was not found. Check it and try again."',
    )
    assert line.startswith("error: rejected by the provider: ")


def test_declared_rejected_check_decides_without_waiting_for_success(refusals, tmp_path):
    # The flow's success timeout is 600 s, longer than run_cli waits: finishing at all proves it.
    assert_rejected_then_fixed(
        "refusals-quiet",
        refusals,
        tmp_path,
        bad={"order_id": "HX-1"},
        good={"order_id": "HX-2026-0042"},
        words='"We have no order with that number."',
    )


def test_without_a_rejected_check_an_unrecognised_refusal_is_unknown_not_rejected(refusals, tmp_path):
    """A notice that reads like no error is not taken for a refusal: the run says it does not know."""
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (FLOWS / "refusals-quiet.yaml").read_text(encoding="utf-8")
    (flows / "refusals-quiet.yaml").write_text(
        text.replace('rejected:\n  selector: ".notice"\n', "").replace("timeout: 600", "timeout: 3"), encoding="utf-8"
    )
    home = tmp_path / "home"
    case = refusal_case(tmp_path, "refusals-quiet", order_id="HX-1")
    done = file_it("refusals-quiet", case, home, refusals, flows=flows)
    assert done.returncode == ExitStatus.UNKNOWN, done.stderr
    line = error_line(done)
    assert "sent, but not confirmed: the request left the browser (POST " in line
    assert [r["status"] for r in submissions(home)] == ["pending"]
    again = file_it("refusals-quiet", case, home, refusals, flows=flows)
    assert again.returncode == ExitStatus.REFUSED, again.stderr  # never resent blindly


def test_demo_portal_422_is_rejected_in_its_words_and_the_fix_goes_through(portal, tmp_path):
    home = tmp_path / "home"
    bad = write_case(tmp_path, order_id="DM#2026 114512")
    done = run_cli("submit", "demo", "--case", str(bad), "--base-url", portal.url, "--yes", home=home)
    assert done.returncode == ExitStatus.REJECTED, done.stderr
    line = error_line(done)
    assert line.startswith('error: rejected by the provider: Order number: "The order number must be 3 to 40')
    assert portal.received == []
    assert [r["status"] for r in submissions(home)] == ["rejected"]
    good = write_case(tmp_path, order_id=None)
    again = run_cli("submit", "demo", "--case", str(good), "--base-url", portal.url, "--yes", home=home)
    assert again.returncode == ExitStatus.OK, again.stderr
    assert [t.number for t in portal.received] == ["DEMO-000123"]


def test_a_click_the_browser_will_not_make_is_not_filed_and_does_not_block_a_resend(refusals, tmp_path):
    """A cookie wall over the button: the click never happens, nothing leaves the browser, nothing is pending."""
    home = tmp_path / "home"
    case = refusal_case(tmp_path, "refusals-covered")
    before = len(refusals.received)
    done = file_it("refusals-covered", case, home, refusals)
    assert done.returncode == ExitStatus.RUN_FAILED, done.stderr
    line = error_line(done)
    assert "step 5 (submit selector='#send') failed" in line
    assert line.endswith("Nothing left the browser, so nothing was filed"), line
    assert len(refusals.received) == before
    (row,) = submissions(home)
    assert row["status"] == "not_filed" and row["due_at"] is None
    assert manifest_of(home)["submission"]["outcome"] == "not_submitted"
    again = file_it("refusals-covered", case, home, refusals)
    assert again.returncode == ExitStatus.RUN_FAILED, again.stderr  # tried again, not refused as a duplicate
    assert [r["status"] for r in submissions(home)] == ["not_filed", "not_filed"]
