"""One test per flow file that carries a `test:` block, collected automatically.

A new flow in flows/ (or a harder-form flow in tests/flows/) is tested by
pytest as soon as it names its replica, sample case and confirmation pattern:
no Python to write. Each test runs `assistant flow test FILE` for real: the
replica on 127.0.0.1, the real browser, the confirmation number checked
against the one the replica issued.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO, run_cli

from assistant.language.flow import load_flow


def flow_files() -> list[Path]:
    files = sorted((REPO / "flows").glob("*.yaml")) + sorted((REPO / "tests" / "flows").glob("*.yaml"))
    return [p for p in files if load_flow(p).test is not None]


@pytest.mark.parametrize("path", flow_files(), ids=lambda p: p.stem)
def test_flow_against_its_replica(path: Path, tmp_path):
    done = run_cli("flow", "test", str(path), "--json", "--keep", str(tmp_path / "runs"), home=tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    [result] = json.loads(done.stdout)
    flow = load_flow(path)
    assert result["ok"] and result["flow"] == flow.id
    manifest = json.loads((Path(result["evidence_dir"]) / "evidence" / "manifest.json").read_text())
    if flow.confirmation == "none":  # the provider's page gives no number: accepted without one
        assert result["confirmation"] is None
        assert manifest["submission"]["outcome"] == "accepted"
        return
    assert result["confirmation"]
    assert manifest["submission"]["outcome"] == "confirmed"
    assert manifest["submission"]["confirmation"] == result["confirmation"]


def test_every_bundled_web_flow_carries_a_test():
    missing = []
    for path in sorted((REPO / "flows").glob("*.yaml")):
        flow = load_flow(path)
        if flow.channel == "web_form" and flow.test is None and flow.id != "demo":
            missing.append(flow.id)
    assert missing == [], f"web flows without a test: block: {missing}"


def test_1cupis_form_gets_one_file_even_when_the_case_has_several(tmp_path):
    """The 1CUPIS form takes one image or PDF: several attachments arrive as one merged PDF."""
    import shutil

    from assistant.sites.replica import ReplicaServer, load_site

    samples = REPO / "flows" / "samples"
    for name in ("1cupis-withdrawal-screenshot.png", "kuper-receipt.pdf"):
        shutil.copy(samples / name, tmp_path / name)
    text = (samples / "1cupis-feedback-case.yaml").read_text()
    case = tmp_path / "case.yaml"
    case.write_text(
        text.replace(
            "  - 1cupis-withdrawal-screenshot.png\n", "  - 1cupis-withdrawal-screenshot.png\n  - kuper-receipt.pdf\n"
        )
    )
    with ReplicaServer(load_site(REPO / "flows" / "replicas" / "1cupis-feedback")) as site:
        done = run_cli(
            "submit",
            "1cupis-feedback",
            "--case",
            str(case),
            "--base-url",
            site.url,
            "--yes",
            "--json",
            home=tmp_path / "home",
        )
        assert done.returncode == 0, done.stderr
        [received] = site.received
    [sent] = received.files
    assert sent.data.startswith(b"%PDF-") and json.loads(done.stdout)["confirmation"] == received.number
