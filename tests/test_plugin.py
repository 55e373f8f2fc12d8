"""The testers' pytest plugin, used the way a tester uses it: this suite has it loaded (pytest11)."""

from __future__ import annotations

import shutil

import pytest
from helpers import REPO

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
