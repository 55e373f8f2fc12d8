"""What a person reads for a bad flow or case file, kept as golden files (black's way).

Each `tests/golden/<kind>/NAME.yaml` is a bad file; `NAME.err` beside it is the exit code and
exactly what the command printed, with the file's path written `{file}`. A change to a message
shows as a diff of that file in review. `pytest tests/test_golden_errors.py --update-golden`
writes them again; read the diff before committing it. Adding a case is adding a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
# What each folder's files are given to.
COMMANDS = {
    "flow_errors": lambda path: ["flow", "validate", str(path)],
    "case_errors": lambda path: ["check", "--case", str(path)],
}
CASES = sorted(path for kind in COMMANDS for path in (GOLDEN / kind).glob("*.yaml"))


def said(path: Path, home: Path) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *COMMANDS[path.parent.name](path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    text = result.stderr.replace(str(path), "{file}").replace(str(home), "{home}")
    return f"exit {result.exit_code}\n{text}"


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_a_bad_file_is_told_in_these_words(path: Path, tmp_path: Path, request: pytest.FixtureRequest):
    got = said(path, tmp_path)
    golden = path.with_suffix(".err")
    if request.config.getoption("--update-golden"):
        golden.write_text(got, encoding="utf-8")
    assert golden.is_file(), f"{golden.name} is missing: run with --update-golden and read it"
    assert got == golden.read_text(encoding="utf-8")
    assert not got.startswith("exit 0\n"), f"{path.name} is meant to be refused"
    assert "Traceback" not in got


def test_every_golden_answer_has_its_file():
    stale = [
        err.name for kind in COMMANDS for err in (GOLDEN / kind).glob("*.err") if not err.with_suffix(".yaml").exists()
    ]
    assert stale == []
