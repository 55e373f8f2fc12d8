"""Rules about the code itself, checked by reading it: what a module may use of another, one list of exit codes."""

from __future__ import annotations

import re

from helpers import REPO, run_cli

from assistant.errors import ExitStatus


def _readme_exit_codes() -> list[tuple[int, str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| *(\d+) *\| *(.+?) *\|$", section, re.MULTILINE)
    return [(int(code), meaning.replace("`", "")) for code, meaning in rows]


def test_readme_exit_code_table_is_exit_status():
    assert _readme_exit_codes() == [(status.value, status.description.replace("`", "")) for status in ExitStatus]


def test_help_lists_every_exit_status(tmp_path):
    done = run_cli("--help", home=tmp_path)
    assert done.returncode == ExitStatus.OK
    epilog = " ".join(done.stdout.split("Exit codes:", 1)[1].split())
    for status in ExitStatus:
        assert f"{status.value} {status.description}" in epilog, status
