"""The workbench's small promises: an unquoted YAML date is a date, no temporary folder outlives
`flow snapshot`/`flow test`/`flow check`, and an error is prefixed once."""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from pathlib import Path

from form_sites import form_url, real_site
from helpers import REPO, json_out, run_cli

from assistant.language.flow import load_flow


def places(tmp: Path) -> list[str]:
    return ["--flows-dir", str(tmp / "flows"), "--sites-dir", str(tmp / "sites")]


def test_verified_dates_may_be_unquoted_yaml_dates(tmp_path):
    assert run_cli("flow", "new", "acme", *places(tmp_path), home=tmp_path / "home").returncode == 0
    flow = tmp_path / "flows" / "acme.yaml"
    text = flow.read_text().replace(
        "verified_live: null", "verified_live: 2026-11-22\nverified_confirmation: 2026-11-21"
    )
    flow.write_text(text)
    done = run_cli("flow", "validate", str(flow), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    loaded = load_flow(flow)
    assert loaded.verified_live == datetime.date(2026, 11, 22)
    assert loaded.verified_confirmation == datetime.date(2026, 11, 21)
    flow.write_text(text.replace("2026-11-22", "2026-13-45"))
    done = run_cli("flow", "validate", str(flow), home=tmp_path / "home")
    assert done.returncode == 2 and "verified_live" in done.stderr


def test_no_temporary_folder_outlives_snapshot_test_or_check(tmp_path):
    # A temp folder of its own, short as /tmp is (Chromium's socket path must stay under 108 bytes).
    temp = Path(tempfile.mkdtemp(prefix="tidy-", dir="/tmp"))
    env = {"TMPDIR": str(temp)}
    try:
        walk_through(temp, env, tmp_path)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def walk_through(temp: Path, env: dict, tmp_path: Path) -> None:
    home = tmp_path / "h"
    with real_site("django-helpdesk") as server:
        done = run_cli(
            "flow", "snapshot", form_url(server, "django-helpdesk"), "hd", *places(tmp_path), home=home, env=env
        )
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(temp)) == []
    flow = str(tmp_path / "flows" / "hd.yaml")
    [result] = json_out(run_cli("flow", "test", flow, "--json", home=home, env=env))
    assert result["ok"], result
    assert sorted(os.listdir(temp)) == []
    checked = json_out(run_cli("flow", "check", flow, "--json", home=home, env=env))
    assert sorted(os.listdir(temp)) == []
    assert Path(checked["evidence_dir"]).is_relative_to(home / "checks")  # kept where the command says
    # A failing test keeps its evidence in the home, not in a temporary folder.
    broken = Path(flow).read_text().replace("#id_title", "#id_no_such_field")
    Path(flow).write_text(broken)
    done = run_cli("flow", "test", flow, "--json", "--timeout", "1", home=home, env=env)
    assert done.returncode == 1
    assert sorted(os.listdir(temp)) == []
    assert list((home / "flowtests").iterdir())


def test_an_error_is_prefixed_once(tmp_path):
    done = run_cli("flow", "snapshot", "http://127.0.0.1:1/x", "acme", *places(tmp_path), home=tmp_path / "home")
    errors = [line for line in done.stderr.splitlines() if line.lower().startswith("error")]
    assert done.returncode != 0 and errors and not any(e.lower().startswith("error: error") for e in errors), errors
    assert REPO.is_dir()
