"""The interface's message catalogs: extract, merge, compile (Babel), and what the tests check.

    python tests/messages.py            extract, merge into each .po, compile each .mo

Two domains, both under assistant/locale/:
- `assistant`: the program's own messages: `_()`, `N_()` and `ngettext()` calls, click's
  help texts (`help=`, `short_help=`, `epilog=` and the docstrings of commands), and the
  message templates of pydantic's validation errors (assistant/language/problems.py
  translates them by template);
- `click`: click's own words ("Usage:", "Options:", its errors), extracted from the click
  that is installed.

A translator edits `assistant/locale/ru/LC_MESSAGES/*.po`, then runs this file again; the
`.mo` files are committed beside them because the installed package reads them
(tests/test_messages.py fails when one is stale or a message has no translation).
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parent.parent
# Fixed, so that making the catalogs again from the same sources writes the same bytes.
CREATED = datetime(2026, 12, 6, tzinfo=UTC)
HEADER = {
    "project": "support-assistant",
    "msgid_bugs_address": "",
    "copyright_holder": "the support-assistant authors",
    "creation_date": CREATED,
    "revision_date": CREATED,
    "last_translator": "the support-assistant authors",
    "language_team": "Russian",
}
LOCALE = REPO / "assistant" / "locale"
LANGUAGES = ("ru",)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
# click's keyword arguments that are shown to the person in --help.
HELP_KEYWORDS = ("help", "short_help", "epilog")
DECORATORS = ("command", "group")


def click_texts(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each help text in a module: keyword arguments and commands' docstrings."""
    source = path.read_text(encoding="utf-8")
    if "import click" not in source:  # pytest's and argparse's help= are theirs, shown untranslated
        return
    tree = ast.parse(source, filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in HELP_KEYWORDS and isinstance(keyword.value, ast.Constant):
                    if isinstance(keyword.value.value, str) and keyword.value.value.strip():
                        yield keyword.value.lineno, inspect.cleandoc(keyword.value.value)
        elif isinstance(node, ast.FunctionDef) and any(_is_command(d) for d in node.decorator_list):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, doc


def _is_command(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in DECORATORS


def pydantic_templates() -> list[str]:
    from pydantic_core._pydantic_core import list_all_errors

    return sorted({error["message_template_python"] for error in list_all_errors()})


def template_for_assistant() -> Catalog:
    catalog = Catalog(domain="assistant", fuzzy=False, **HEADER)
    package = REPO / "assistant"
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(package), keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    ):
        if "locale" in Path(filename).parts:
            continue
        catalog.add(message, locations=[(f"assistant/{filename}", lineno)], auto_comments=comments)
    # The evidence library speaks English; the assistant shows some of its messages (a file that
    # cannot be made to fit a form), marked N_() where the library writes them.
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(REPO / "evidence"), keywords={"N_": None}, comment_tags=("Translators:",), strip_comment_tags=True
    ):
        catalog.add(message, locations=[(f"evidence/{filename}", lineno)], auto_comments=comments)
    for path in sorted(package.rglob("*.py")):
        for lineno, text in click_texts(path):
            catalog.add(text, locations=[(str(path.relative_to(REPO)), lineno)])
    for text in pydantic_templates():
        catalog.add(text, locations=[("pydantic_core", 0)], auto_comments=["pydantic's validation error"])
    return catalog


def template_for_click() -> Catalog:
    import click

    catalog = Catalog(domain="click", fuzzy=False, **HEADER)
    package = Path(click.__file__).parent
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(package), keywords={"_": None, "ngettext": (1, 2)}
    ):
        catalog.add(message, locations=[(f"click/{filename}", lineno)], auto_comments=comments)
    return catalog


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, omit_header=False, include_previous=False)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def templates() -> dict[str, Catalog]:
    return {"assistant": template_for_assistant(), "click": template_for_click()}


def po_path(language: str, domain: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


def main() -> None:
    for domain, template in templates().items():
        (LOCALE / f"{domain}.pot").write_bytes(po_bytes(template))
        for language in LANGUAGES:
            path = po_path(language, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = read(path, language) if path.exists() else Catalog(locale=language, domain=domain)
            for name, value in HEADER.items():
                setattr(catalog, name, value)
            catalog.fuzzy = False
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            path.write_bytes(po_bytes(catalog))
            path.with_suffix(".mo").write_bytes(mo_bytes(read(path, language)))
            missing = [m.id for m in catalog if m.id and not _translated(m)]
            print(f"{path.relative_to(REPO)}: {len(catalog)} messages, {len(missing)} untranslated", file=sys.stderr)


def _translated(message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


if __name__ == "__main__":
    main()
