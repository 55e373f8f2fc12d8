"""The interface in Russian and English: every message translated, the catalogs compiled, the
language chosen the way gettext chooses it (tests/messages.py makes the catalogs)."""

from __future__ import annotations

import gettext
import os
import re
import string
import subprocess
import sys

import pytest
from messages import LANGUAGES, po_path, read, templates

from assistant import translation

CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")


@pytest.fixture(scope="module")
def catalogs():
    return {
        (language, domain): (template, read(po_path(language, domain), language))
        for domain, template in templates().items()
        for language in LANGUAGES
    }


def _ids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_every_message_in_the_code_has_a_translation(catalogs):
    """A message marked in the code (or a help text, or a pydantic template) and not translated fails here:
    run `python tests/messages.py`, translate what it reports in the .po, run it again."""
    for (language, domain), (template, catalog) in catalogs.items():
        missing = [
            message.id
            for message in template
            if message.id and (catalog.get(message.id) is None or not all(_strings(catalog.get(message.id))))
        ]
        assert missing == [], f"{language}/{domain}.po lacks {len(missing)} translations, e.g. {missing[:5]}"
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert fuzzy == [], f"{language}/{domain}.po has fuzzy (unchecked) translations: {fuzzy[:5]}"


def _fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:  # not a format string (a literal brace in a message shown as is)
        return {text}


def test_a_translation_keeps_every_placeholder(catalogs):
    """{file}, {n} … are filled by name: a translation that drops, adds or misspells one breaks the message."""
    wrong = []
    for (_language, domain), (_, catalog) in catalogs.items():
        for message in catalog:
            if not message.id:
                continue
            # click's own catalog uses %-style in a few old messages; compare those as they are.
            expected = set().union(*(_fields(i) for i in _ids(message)))
            forms = [_fields(t) for t in _strings(message) if t]
            # A plural's forms may each use one of the two English forms' fields ("Did you mean
            # {possibility}?" / "(Possible options: {possibilities})"), together all of them.
            if forms and (set().union(*forms) != expected or any(not f <= expected for f in forms)):
                wrong.append((domain, _ids(message)[0], _strings(message)))
    assert wrong == []


def test_the_compiled_catalogs_are_the_po_files(catalogs):
    """The .mo files are package data: a .po edited and not compiled would ship the old words.
    Compared message by message, as gettext reads them (the bytes carry Babel's version)."""
    for language, domain in catalogs:
        path = po_path(language, domain)
        with path.with_suffix(".mo").open("rb") as handle:
            compiled = {k: v for k, v in gettext.GNUTranslations(handle)._catalog.items() if k != ""}
        expected = {}
        for message in read(path, language):
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple):
                expected.update({(message.id[0], i): text for i, text in enumerate(message.string)})
            else:
                expected[message.id] = message.string
        assert compiled == expected, f"{path.with_suffix('.mo').name} is stale: run `python tests/messages.py`"


def test_russian_translations_are_russian(catalogs):
    english_left = [
        m.id
        for (language, _), (_, catalog) in catalogs.items()
        if language == "ru"
        for m in catalog
        if m.id and re.search(r"[A-Za-z]{4,}", _ids(m)[0]) and not any(CYRILLIC.search(s) for s in _strings(m))
    ]
    # Messages that are only a name, an option list or code stay as they are.
    english_left = [i for i in english_left if re.search(r"\b[a-z]{3,}\b \b[a-z]{3,}\b \b[a-z]{3,}\b", i)]
    assert english_left == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({}, "en"),
        ({"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
        ({"LC_ALL": "C", "LANGUAGE": "ru", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8", "LANGUAGE": "de:ru"}, "ru"),
        ({"LC_MESSAGES": "ru_UA.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
        ({"ASSISTANT_LANG": "en", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"ASSISTANT_LANG": "ru", "LANG": "C"}, "ru"),
    ],
)
def test_the_language_is_chosen_as_gettext_chooses_it(environ, expected):
    assert translation.from_environment(environ) == expected


def assistant(*args: str, **environ: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "ASSISTANT_LANG"))}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env={**env, "NO_COLOR": "1", "COLUMNS": "100", **environ},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_reads_in_russian_under_a_russian_locale_and_in_english_under_c():
    ru = assistant("--help", LANG="ru_RU.UTF-8")
    en = assistant("--help", LANG="C")
    assert ru.returncode == en.returncode == 0
    assert en.stdout.startswith("Usage: assistant [OPTIONS] COMMAND [ARGS]...")
    assert "File a support request that gets answered, with proof." in en.stdout
    assert "Exit codes:" in en.stdout and "Использование" not in en.stdout
    assert ru.stdout.startswith("Использование: assistant")
    for english in ("Usage:", "Options:", "Commands:", "Exit codes:", "Show this message and exit."):
        assert english not in ru.stdout, english
    # Every line that says something says it in Russian: command names and options stay as typed.
    prose = [line for line in ru.stdout.splitlines() if re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", line)]
    assert [line for line in prose if not CYRILLIC.search(line)] == []


def test_lang_overrides_the_locale_both_ways():
    assert "Использование:" in assistant("--lang", "ru", "--help", LANG="C").stdout
    assert assistant("--lang", "en", "--help", LANG="ru_RU.UTF-8").stdout.startswith("Usage:")
    bad = assistant("--lang", "fr", "cases", LANG="ru_RU.UTF-8")
    assert bad.returncode == 2 and "fr" in bad.stderr and CYRILLIC.search(bad.stderr)


def test_every_commands_help_is_russian():
    """Each command's and subcommand's --help, under a Russian locale: no English sentence left."""
    from click import Group

    from assistant.cli import COMMANDS, LazyGroup, main

    paths: list[list[str]] = []
    group = main
    assert isinstance(group, LazyGroup)
    for name in COMMANDS:
        command = group.get_command(None, name)  # type: ignore[arg-type]
        paths.append([name])
        if isinstance(command, Group):
            paths += [[name, sub] for sub in command.commands]
    untranslated = {}
    for path in paths:
        done = assistant(*path, "--help", LANG="ru_RU.UTF-8")
        assert done.returncode == 0, (path, done.stderr)
        left = [
            line.strip()
            for line in done.stdout.splitlines()
            if re.search(r"\b[a-z]{3,} [a-z]{2,} [a-z]{3,}\b", line)
            and not CYRILLIC.search(line)
            and not line.strip().startswith(("assistant ", "$ ", "#"))
        ]
        if left:
            untranslated[" ".join(path)] = left[:3]
    assert untranslated == {}


def test_the_evidence_librarys_own_warning_is_said_in_the_persons_language(tmp_path):
    """The seal's "no trusted timestamp" line comes from the evidence library (English, with its
    template): the person reads it in Russian, the English run reads the library's own words."""
    from helpers import run_cli

    nobody = "http://127.0.0.1:9/"  # the discard port: refused at once
    ru = run_cli("--lang", "ru", "demo", "--tsa", nobody, home=tmp_path / "ru")
    en = run_cli("--lang", "en", "demo", "--tsa", nobody, home=tmp_path / "en")
    assert ru.returncode == en.returncode == 0, ru.stderr + en.stderr
    assert "предупреждение: нет доверенной метки времени: ни одна служба не ответила (http://127.0.0.1:9/" in ru.stderr
    assert "no trusted timestamp" not in ru.stderr
    assert "warning: no trusted timestamp: no authority answered (http://127.0.0.1:9/" in en.stderr
