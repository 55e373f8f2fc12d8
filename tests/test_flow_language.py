"""The flow language: errors that point at the line, templates that cannot run code."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import DEMO_FLOW, json_out, run_cli, write_case

from assistant.language import templating
from assistant.language.flow import STEPS, load_flow

BAD_FLOW = """\
id: broken
name: Broken flow
homepage: "{{ base_url }}/"
allowed_hosts: [127.0.0.1]
channel: web_form
categories:
  payment: { label: Payments, deadline: { hours: 24 }, colour: red }
steps:
  - goto: "{{ base_url }}/"
  - clik: "#help-link"
  - fill: { selector: "#subject" }
  - submit: "#submit-request"
success: { text: "registered" }
confirmation: { selector: "#ticket-number" }
"""


def test_flow_errors_name_file_line_and_column(tmp_path):
    flow = tmp_path / "broken.yaml"
    flow.write_text(BAD_FLOW)
    done = run_cli("flow", "validate", str(flow), home=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert (
        f"{flow}:7:56: categories.payment.colour: unknown key 'colour' (allowed: deadline, form_value, label, order_id_required, source)"
        in lines
    )
    assert f"{flow}:10:5: steps[1].clik: unknown step 'clik'; did you mean 'click'?" in lines
    assert f"{flow}:11:5: steps[2].fill.value: required; add it" in lines


def test_unknown_key_in_a_step_suggests_the_right_one(tmp_path):
    flow = tmp_path / "typo.yaml"
    flow.write_text(BAD_FLOW.replace('fill: { selector: "#subject" }', 'fill: { selector: "#subject", valeu: "x" }'))
    done = run_cli("flow", "validate", str(flow), home=tmp_path)
    assert f"{flow}:11:35: steps[2].fill.valeu: unknown key 'valeu'; did you mean 'value'?" in done.stderr


def test_yaml_syntax_error_points_at_the_line(tmp_path):
    flow = tmp_path / "syntax.yaml"
    flow.write_text("id: x\nsteps:\n  - goto: [unclosed\n")
    done = run_cli("flow", "validate", str(flow), home=tmp_path)
    assert done.returncode == 2 and f"{flow}:4:1: YAML syntax:" in done.stderr


def test_submit_with_a_broken_flow_sends_nothing(portal, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "demo.yaml").write_text(BAD_FLOW.replace("id: broken", "id: demo"))
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode == 2 and "unknown step 'clik'" in done.stderr
    assert portal.received == []


def test_bundled_flows_validate_and_schema_lists_every_step(tmp_path):
    assert run_cli("flow", "validate", str(DEMO_FLOW), home=tmp_path).returncode == 0
    schema = json_out(run_cli("flow", "schema", home=tmp_path))
    text = json.dumps(schema)
    for step in STEPS:
        assert f'"{step}"' in text
    assert schema["additionalProperties"] is False


def test_case_variable_the_flow_needs_but_case_lacks_names_the_flow_line(portal, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    text = DEMO_FLOW.read_text().replace("{{ case.contacts.phone }}", "{{ case.contacts.fax }}")
    (flows / "demo.yaml").write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "case.contacts.fax" in l)
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode == 2
    assert f"{flows / 'demo.yaml'}:{line}:" in done.stderr and "'case.contacts.fax' is not known" in done.stderr
    assert portal.received == []


def test_goto_outside_allowed_hosts_is_refused_before_the_browser_starts(portal, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    text = DEMO_FLOW.read_text().replace('- goto: "{{ base_url }}/"', '- goto: "https://evil.example/"')
    (flows / "demo.yaml").write_text(text)
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode == 2 and "evil.example is not in allowed_hosts" in done.stderr
    assert portal.received == []


def test_pause_for_human_in_headless_mode_is_a_clear_error_not_a_hang(portal, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    text = DEMO_FLOW.read_text().replace("  - screenshot: home\n", '  - pause_for_human: "Solve the CAPTCHA"\n')
    (flows / "demo.yaml").write_text(text)
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        "--timeout",
        "5",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
        timeout=60,
    )
    assert done.returncode == 1
    assert "needs a person (Solve the CAPTCHA)" in done.stderr and "--headed" in done.stderr
    assert portal.received == []


def test_templates_render_paths_and_filters():
    when = datetime(2026, 11, 20, 14, 35, tzinfo=timezone(timedelta(hours=3)))
    context = {"case": {"incident_at": when, "order_id": None, "steps": ["a", "b"]}, "base_url": "http://x"}
    assert templating.render("{{ base_url }}/help", context) == "http://x/help"
    assert templating.render('{{ case.incident_at | strftime("%d.%m.%Y %H:%M") }}', context) == "20.11.2026 14:35"
    assert templating.render('{{ case.order_id | default("none") }}', context) == "none"
    assert templating.render("{{ case.steps }}", context) == ["a", "b"]
    assert templating.render("{{ case.steps | lines }}", context) == "a\nb"


@pytest.mark.parametrize("expression", ["{{ __import__('os') }}", "{{ case.x() }}", "{{ 1 + 1 }}", "{{ case | eval }}"])
def test_templates_cannot_execute_code(expression):
    with pytest.raises(templating.TemplateError):
        templating.render(expression, {"case": {}})


def test_flow_steps_know_their_lines():
    flow = load_flow(DEMO_FLOW)
    lines = DEMO_FLOW.read_text().splitlines()
    for step in flow.steps:
        assert lines[step.line - 1].lstrip().startswith(f"- {step.kind}:")
    assert Path(flow.path) == DEMO_FLOW
