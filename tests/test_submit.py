"""The spine: one command submits a case through the demo portal, exactly once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import DEMO_FLOW, SAMPLES, json_out, run_cli, submissions, write_case

from assistant.casework.compose import compose, signing_key
from assistant.errors import ExitStatus
from assistant.language.case import load_case
from assistant.sites.demo.portal import DemoPortal


def submit(portal, case: Path, home: Path, *extra: str, **kw):
    return run_cli("submit", "demo", "--case", str(case), "--base-url", portal.url, *extra, home=home, **kw)


def test_portal_receives_exactly_the_case(portal, tmp_path):
    case_path = write_case(tmp_path)
    result = json_out(submit(portal, case_path, tmp_path / "home", "--yes", "--json"))

    assert len(portal.received) == 1
    ticket = portal.received[0]
    case = load_case(case_path)
    request = compose(case, [p.name for p in case.attachments], signed_by=signing_key(tmp_path / "home"))
    assert ticket.fields == {
        "category": "payment",
        "subject": "Card charged but order not placed",
        "description": request.body,
        "order_number": "DM-2026-114512",
        "incident_date": "2026-11-20",
        "incident_time": "14:35",
        "full_name": "Анна Петрова",
        "phone": "+7 912 345-67-89",
        "email": "anna.petrova@example.com",
        "consent": "yes",
    }
    assert [(f.filename, f.data) for f in ticket.files] == [
        (name, (SAMPLES / name).read_bytes()) for name in ("demo-app-error.png", "demo-receipt.pdf")
    ]
    # The number we print and save is the portal's own.
    assert result["confirmation"] == ticket.number
    saved = json_out(run_cli("cases", "--json", home=tmp_path / "home"))
    assert [(c["status"], [(s["status"], s["confirmation"]) for s in c["submissions"]]) for c in saved] == [
        ("open", [("confirmed", ticket.number)])
    ]
    assert saved[0]["submissions"][0]["confirmation_url"].endswith(f"/support/tickets/{ticket.number}/submitted")


def test_evidence_folder_has_manifest_and_hashes(portal, tmp_path):
    out = tmp_path / "evidence"
    json_out(submit(portal, write_case(tmp_path), tmp_path / "home", "--yes", "--json", "--out", str(out)))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["flow"]["id"] == "demo"
    assert manifest["flow"]["sha256"] == hashlib.sha256(DEMO_FLOW.read_bytes()).hexdigest()
    assert manifest["submission"]["outcome"] == "confirmed"
    env = manifest["environment"]
    assert env["browser_version"] and env["user_agent"] and env["os"] and env["python"]
    assert env["reported_device"] == {"model": "iPhone 13", "os": "iOS", "os_version": "17.5", "app_version": "6.12.0"}
    # Every action has UTC start/end and URLs; the submit click is among them.
    kinds = [a["kind"] for a in manifest["actions"]]
    assert "submit" in kinds and kinds[-1] == "success"
    for action in manifest["actions"]:
        assert action["started_at"].endswith("Z") and action["started_at"] <= action["ended_at"]
        assert action["flow_line"] > 0
    # Each file's recorded hash matches its bytes; SHA256SUMS lists them all.
    sums = dict(reversed(line.split("  ", 1)) for line in (out / "SHA256SUMS").read_text().splitlines())
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] == sums[entry["path"]]
    screenshots = [f for f in manifest["files"] if f["role"] in ("screenshot", "step")]
    # Every action that changed the page has a picture of its result: its own, or (a run of field
    # actions) the one taken right after them of the whole filled form.
    for action in manifest["actions"]:
        if action["kind"] in ("goto", "click", "fill", "select", "check", "upload", "submit"):
            assert any(f.endswith(".png") for f in action["files"]), action
    filled = [a for a in manifest["actions"] if a["kind"] in ("fill", "select", "check", "upload")]
    (shown,) = {tuple(a["files"]) for a in filled}
    assert len(shown) == 1 and shown[0].endswith("-filled-form.png"), filled
    # A step followed (waits aside) by a screenshot step is shown by that screenshot.
    goto = manifest["actions"][0]
    assert goto["kind"] == "goto" and goto["files"] == [manifest["actions"][1]["files"][0]]
    assert all(f["captured_at"] and f["meta"]["url"].startswith(portal.url) for f in screenshots)
    checked = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_dry_run_submits_nothing(portal, tmp_path):
    home = tmp_path / "home"
    done = submit(portal, write_case(tmp_path), home, "--dry-run", "--json")
    result = json_out(done)
    assert result["status"] == "dry_run" and result["confirmation"] is None
    assert portal.received == []
    assert submissions(home) == []
    review = [s for s in result["screenshots"] if "review-before-submit" in s]
    assert review, result["screenshots"]
    assert (Path(result["evidence_dir"]) / review[0]).stat().st_size > 10_000


def test_same_case_is_not_submitted_twice(portal, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    first = json_out(submit(portal, case, home, "--yes", "--json"))
    again = submit(portal, case, home, "--yes")
    assert again.returncode == 3
    assert first["confirmation"] in again.stderr and "--force" in again.stderr
    assert len(portal.received) == 1
    forced = json_out(submit(portal, case, home, "--yes", "--force", "--json"))
    assert len(portal.received) == 2 and forced["confirmation"] != first["confirmation"]


def test_case_without_contacts_fails_before_anything_is_sent(portal, tmp_path):
    home = tmp_path / "home"
    done = submit(portal, write_case(tmp_path, contacts=None), home, "--yes")
    assert done.returncode == 2
    assert "case.yaml:" in done.stderr and "contacts" in done.stderr and "required" in done.stderr
    assert portal.received == [] and submissions(home) == []


def test_case_missing_one_contact_names_the_field(portal, tmp_path):
    case = write_case(tmp_path, contacts={"full_name": "Anna Petrova", "phone": "+7 912 345-67-89"})
    done = submit(portal, case, tmp_path / "home", "--yes")
    assert done.returncode == 2
    assert "contacts.email: required" in done.stderr
    assert portal.received == []


def test_without_terminal_or_yes_nothing_is_submitted(portal, tmp_path):
    done = submit(portal, write_case(tmp_path), tmp_path / "home")
    assert done.returncode == 2 and "--yes" in done.stderr
    assert portal.received == []


@pytest.fixture
def silent_portal():
    with DemoPortal(confirm=False) as running:
        yield running


def test_confirmation_that_never_comes_times_out_and_stays_pending(silent_portal, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    done = submit(silent_portal, case, home, "--yes", "--timeout", "2")
    # The form was posted and the portal stored it, but no number came: unknown, never "rejected".
    assert done.returncode == ExitStatus.UNKNOWN, done.stderr
    assert "sent, but not confirmed: the request left the browser (POST " in done.stderr
    assert "within 2 s" in done.stderr and "recorded as pending" in done.stderr
    assert f"\n  evidence: {home / 'evidence'}" in done.stderr and "{outdir}" not in done.stderr
    assert len(silent_portal.received) == 1
    rows = submissions(home)
    assert [r["status"] for r in rows] == ["pending"] and "within 2 s" in rows[0]["last_error"]
    # A pending request blocks a blind resubmission.
    again = submit(silent_portal, case, home, "--yes")
    assert again.returncode == 3 and "has no known outcome" in again.stderr
    assert f"assistant cases resolve {rows[0]['case_id']}" in again.stderr and "--force" in again.stderr
    assert len(silent_portal.received) == 1


def test_run_killed_after_the_click_leaves_a_pending_record(silent_portal, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    args = [
        sys.executable,
        "-m",
        "assistant",
        "submit",
        "demo",
        "--case",
        str(case),
        "--base-url",
        silent_portal.url,
        "--yes",
        "--timeout",
        "60",
    ]
    proc = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not silent_portal.received:
            time.sleep(0.05)
        assert silent_portal.received, "the portal never received the submission"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    rows = submissions(home)
    assert [r["status"] for r in rows] == ["pending"]
    assert rows[0]["confirmation"] is None and Path(rows[0]["evidence_dir"]).is_dir()


def test_a_page_that_does_not_load_in_time_is_said_so_and_nothing_is_sent(tmp_path):
    import socket
    import threading

    # A site that accepts the connection and never answers: the first goto cannot load, on any machine.
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=hold, daemon=True).start()
    try:
        done = run_cli(
            "submit",
            "demo",
            "--case",
            str(write_case(tmp_path)),
            "--base-url",
            f"http://127.0.0.1:{listener.getsockname()[1]}",
            "--yes",
            "--timeout",
            "1",
            home=tmp_path / "home",
        )
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()
    assert done.returncode == 1 and submissions(tmp_path / "home") == []
    last = done.stderr.strip().splitlines()[-1]
    assert "step 1 (goto" in last and "the page did not finish loading" in last and "selector" not in last
    # The pending navigation is stopped first, so the failure is photographed (not waited out).
    [evidence] = (tmp_path / "home" / "evidence").iterdir()
    assert list(evidence.glob("screenshots/*failure.png")) and (evidence / "failure" / "page.html").is_file()


def test_headed_without_a_screen_says_what_is_missing(portal, tmp_path):
    env = {k: "" for k in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        "--headed",
        home=tmp_path / "home",
        env=env,
    )
    assert done.returncode == 4 and portal.received == []
    assert "--headed) needs a screen" in done.stderr and "xvfb-run" in done.stderr


@pytest.mark.parametrize("fails", [False, True], ids=["shown", "showing-fails"])
def test_the_number_is_handed_over_before_the_confirmation_capture(portal, page, tmp_path, fails):
    from assistant.channels.web_form import template_context as build_context
    from assistant.language.flow import load_flow
    from assistant.language.urls import origin_of
    from assistant.run.runner import RunHooks, Runner, RunOptions
    from evidence import EvidencePackage

    case, flow = load_case(write_case(tmp_path)), load_flow(DEMO_FLOW)
    package = EvidencePackage(tmp_path / "pkg")
    seen, notes = [], []

    class Hooks(RunHooks):
        def number_read(self, number, url):
            seen.append((number, url, [f.path for f in package.files]))
            if fails:
                raise BrokenPipeError("stdout closed")

        def log(self, message):
            notes.append(message)

    options = RunOptions(
        extra_origins=(origin_of(portal.url),),
        hooks=Hooks(),
        uploads={path.name: path for path in case.attachments},  # what an upload step may hand over, by name
    )
    result = Runner(page, flow, build_context(case, flow, portal.url), package, options).run()

    ((number, url, files_then),) = seen
    assert number == result.confirmation == portal.received[0].number
    assert url == result.confirmation_url and url.endswith(f"/support/tickets/{number}/submitted")
    confirmation = result.actions[-1]
    assert confirmation.kind == "success" and confirmation.status == "ok" and confirmation.files
    assert not set(confirmation.files) & set(files_then)  # the capture came after the number
    assert ("note: could not hand over the number at once: stdout closed" in notes) is fails
