"""What a person reads for a bad flow or case file, kept as golden files (black's way).

Each `tests/golden/<kind>/NAME.yaml` is a bad file; `NAME.err` beside it is the exit code and
exactly what the command printed, with the file's path written `{file}`, and `NAME.ru.err` the
same in Russian (`--lang ru`). A change to a message shows as a diff of those files in review.
`pytest tests/test_golden_errors.py --update-golden` writes them all again; read the diff
before committing it. Adding a case is adding a file.
"""

from __future__ import annotations

import re
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
IDS = [f"{p.parent.name}/{p.stem}" for p in CASES]
# The golden file of each language, beside the bad file: English is the one without a tag.
SUFFIXES = {"en": ".err", "ru": ".ru.err"}


def said(path: Path, home: Path, language: str = "en") -> str:
    # English as the tests' environment gives it (ASSISTANT_LANG=en), Russian asked for with --lang.
    lang = ["--lang", language] if language != "en" else []
    result = CliRunner().invoke(main, [*lang, "--home", str(home), *COMMANDS[path.parent.name](path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    text = result.stderr.replace(str(path), "{file}").replace(str(home), "{home}")
    return f"exit {result.exit_code}\n{text}"


def golden_of(path: Path, language: str) -> Path:
    return path.with_name(path.stem + SUFFIXES[language])


def source_of(golden: Path) -> Path:
    """The bad file a golden answer belongs to (NAME.yaml for NAME.err and NAME.ru.err)."""
    for suffix in sorted(SUFFIXES.values(), key=len, reverse=True):
        if golden.name.endswith(suffix):
            return golden.with_name(golden.name[: -len(suffix)] + ".yaml")
    return golden.with_suffix(".yaml")


def told(path: Path, language: str, home: Path, request: pytest.FixtureRequest) -> str:
    got = said(path, home, language)
    golden = golden_of(path, language)
    if request.config.getoption("--update-golden"):
        golden.write_text(got, encoding="utf-8")
    assert golden.is_file(), f"{golden.name} is missing: run with --update-golden and read it"
    assert got == golden.read_text(encoding="utf-8")
    assert not got.startswith("exit 0\n"), f"{path.name} is meant to be refused"
    assert "Traceback" not in got
    return got


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_a_bad_file_is_told_in_these_words(path: Path, tmp_path: Path, request: pytest.FixtureRequest):
    told(path, "en", tmp_path, request)


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_a_bad_file_is_told_in_these_words_in_russian(path: Path, tmp_path: Path, request: pytest.FixtureRequest):
    english = said(path, tmp_path, "en").splitlines()
    russian = told(path, "ru", tmp_path, request).splitlines()
    # The same answer, said in another language: the exit code and the number of lines do not change.
    assert russian[0] == english[0]
    assert len(russian) == len(english)


def test_every_golden_answer_has_its_file():
    stale = [
        err.name
        for kind in COMMANDS
        for suffix in SUFFIXES.values()
        for err in (GOLDEN / kind).glob(f"*{suffix}")
        if not source_of(err).exists()
    ]
    assert stale == []


# ------------------------------------------------------- the Russian is Russian

CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")
# What stays as written in a Russian message: values quoted from the file ('Аноним', "provider"),
# `commands`, {file} and {home}, option names (--set), and the field path that starts a message
# (steps[1].fill.value:), which are the file's own keys.
KEPT = re.compile(
    r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`|\{file\}|\{home\}|--[a-z][a-z-]*"
    r"|(?<![\w.])(?!(?:error|warning|note):)[a-z_][a-z0-9_]*(?:\[\d+\]|\.[a-z_][a-z0-9_]*)*:(?=\s)"
)
# English words an untranslated message would hold and a Russian one never does (key names such
# as allowed_hosts or notes are one word with their underscore and do not match).
ENGLISH = re.compile(
    r"\b(?:unknown|allowed|write|not|the|is|are|should|must|input|field|required|add|give|and|or"
    r"|error|warning|cannot|does|file|value)\b",
    re.IGNORECASE,
)
RUSSIAN = sorted(path for kind in COMMANDS for path in (GOLDEN / kind).glob("*.yaml"))


def english_left(text: str) -> list[str]:
    """The lines of a Russian answer that still say something in English."""
    found = []
    for line in text.splitlines()[1:]:  # after "exit N"
        prose = KEPT.sub(" ", line)
        # Host names, paths, file names, times and numbers are the file's values, not words.
        prose = re.sub(r"\S*(?:[/@\\]|\w[.:]\w)\S*|\d+", " ", prose)
        if ENGLISH.search(prose) or (prose.strip(" :;,.()-—") and not CYRILLIC.search(prose)):
            found.append(line)
    return found


@pytest.mark.parametrize("path", RUSSIAN, ids=[f"{p.parent.name}/{p.stem}" for p in RUSSIAN])
def test_the_russian_golden_answer_is_russian(path: Path):
    golden = golden_of(path, "ru")
    assert golden.is_file(), f"{golden.name} is missing: run with --update-golden and read it"
    assert english_left(golden.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "line",
    [
        "{file}:11:1: run_script: unknown key 'run_script' (allowed: id, name, notes)",
        "error: {file}:8:1: order_id: Input should be a valid string",
        "{file}: warning: attachments: no evidence attached; attach screenshots of the error",
        "{file}:25:3: confirmation.regex: это не регулярное выражение: write it again",
    ],
)
def test_the_check_for_russian_catches_an_untranslated_message(line: str):
    assert english_left(f"exit 2\n{line}\n") == [line]
