"""Every step of the flow language, exercised once against the demo portal."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import json_out, run_cli, write_case

FLOW = """\
id: demo
name: Every step, once
homepage: "{{ base_url }}/"
allowed_hosts: [127.0.0.1]
channel: web_form
categories:
  technical: { label: Technical problem, deadline: { business_days: 3 } }
  payment: { label: Payments, deadline: { hours: 24 } }
steps:
  - goto: { url: "{{ base_url }}/", wait_until: domcontentloaded }
  - assert_visible: "#help-link"
  - click: { role: link, name: Help, exact: true }
  - wait_for: { url: "**/help" }
  - assert_text: { selector: h1, equals: "Help centre" }
  - extract: { var: hotline, selector: "body", regex: '8 800 [\\d-]+' }
  - click: { test_id: missing-on-purpose, timeout: 0.5, describe: "never clicked" }
"""

STEPS_AFTER_HELP = """\
  - goto: "{{ base_url }}/support/new"
  - select: { label: Topic, option: "Technical problem" }
  - fill: { placeholder: "{{ vars.hotline }}", value: "never" }
"""

GOOD_TAIL = """\
  - goto: "{{ base_url }}/support/new"
  - select: { label: Topic, option: "Payments and refunds" }
  - fill: { label: Subject, value: "{{ request.subject }}" }
  - fill: { selector: "#description", value: "{{ request.body }}" }
  - fill: { selector: "#order_number", value: "{{ case.order_id }}" }
  - fill: { selector: "#incident_date", value: "{{ case.incident_at | date }}" }
  - fill: { label: Time, exact: true, value: "{{ case.incident_at | strftime(\\"%H:%M\\") }}" }
  - fill: { selector: "#full_name", value: "{{ case.contacts.full_name }}" }
  - fill: { selector: "#phone", value: "{{ case.contacts.phone }}" }
  - fill: { selector: "#email", value: "{{ case.contacts.email }}" }
  - press: { selector: "#email", key: Tab }
  - check: { label: "I agree to the processing of my personal data" }
  - check: { selector: "#consent", checked: false }
  - check: "#consent"
  - upload: { selector: "#attachments", files: "{{ attachments }}" }
  - screenshot: { name: form-only, selector: "form#support-form" }
  - extract: { var: form_url, from: url }
  - submit: { role: button, name: "Send request" }
success: { url: "**/support/tickets/*/submitted" }
confirmation: { from: url, regex: '(DEMO-\\d+)' }
"""


def write_flow(tmp_path: Path, text: str) -> dict:
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "demo.yaml").write_text(text)
    return {"ASSISTANT_FLOWS": str(flows)}


def test_every_step_kind_works(portal, tmp_path):
    text = FLOW.replace('  - click: { test_id: missing-on-purpose, timeout: 0.5, describe: "never clicked" }\n', "")
    env = write_flow(tmp_path, text + GOOD_TAIL)
    out = tmp_path / "evidence"
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
            "--out",
            str(out),
            home=tmp_path / "home",
            env=env,
        )
    )
    ticket = portal.received[0]
    assert result["confirmation"] == ticket.number  # read from the redirect URL this time
    assert ticket.fields["consent"] == "yes" and ticket.fields["incident_time"] == "14:35"
    manifest = json.loads((out / "manifest.json").read_text())
    kinds = {a["kind"] for a in manifest["actions"]}
    assert kinds >= {
        "goto",
        "assert_visible",
        "click",
        "wait_for",
        "assert_text",
        "extract",
        "select",
        "fill",
        "press",
        "check",
        "upload",
        "screenshot",
        "submit",
        "success",
    }
    element_shot = next(f for f in manifest["files"] if f["path"].endswith("-form-only.png"))
    assert element_shot["size"] > 5000


def test_a_selector_that_never_appears_names_the_step_and_line(portal, tmp_path):
    env = write_flow(tmp_path, FLOW + GOOD_TAIL)
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env=env,
    )
    assert done.returncode == 1
    line = (
        FLOW.splitlines().index('  - click: { test_id: missing-on-purpose, timeout: 0.5, describe: "never clicked" }')
        + 1
    )
    assert f"demo.yaml:{line}: step 7 (never clicked) failed: timed out after 0.5 s" in done.stderr
    assert portal.received == []
    evidence = next((tmp_path / "home" / "evidence").iterdir())
    error = (evidence / "failure" / "error.txt").read_text()
    assert f"demo.yaml:{line}" in error
    assert (evidence / "failure" / "page.html").read_text().count("Help centre") >= 1


def test_extracted_values_feed_later_steps(portal, tmp_path):
    text = FLOW.replace('  - click: { test_id: missing-on-purpose, timeout: 0.5, describe: "never clicked" }\n', "")
    env = write_flow(tmp_path, text + STEPS_AFTER_HELP + GOOD_TAIL.split("\n", 1)[1])
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        "--timeout",
        "1",
        home=tmp_path / "home",
        env=env,
    )
    # The placeholder lookup uses the extracted hotline number, which is not a placeholder on the form.
    assert done.returncode == 1
    assert "step 9 (fill placeholder='8 800 555-01-23') failed: timed out after 1 s" in done.stderr
    assert portal.received == []
