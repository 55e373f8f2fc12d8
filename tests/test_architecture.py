"""Rules about the code itself, checked by reading it: what a module may use of another, one list of exit codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import REPO, run_cli

from assistant.errors import ExitStatus

PACKAGES = ("assistant", "evidence")

# (module that uses it, private name): empty, and it should stay so.
PRIVATE_USES_ALLOWED: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _ours(dotted: str) -> bool:
    return dotted.split(".")[0] in PACKAGES


def _private(name: str) -> bool:
    # `_` alone is gettext's name for "translate this" (assistant.translation._), public by convention.
    return name.startswith("_") and name != "_" and not (name.startswith("__") and name.endswith("__"))


def _sources() -> dict[str, ast.Module]:
    files = sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))
    return {_module_name(path): ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for path in files}


def _private_definitions(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, methods, class attributes, self._x = …"""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                names.add(node.attr)
    return {name for name in names if _private(name)}


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Local name -> the module of ours it is bound to, by `import a.b as m` or `from a import b`."""
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _ours(node.module):
            for alias in node.names:
                if _is_module(f"{node.module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return modules


def private_uses(sources: dict[str, ast.Module]) -> list[tuple[str, int, str, str]]:
    """(module, line, what it uses, private name) for each private name a module takes from another of ours:
    `from other import _name`, `other._name`, and `obj._name` where only other modules define _name."""
    defined = {module: _private_definitions(tree) for module, tree in sources.items()}
    found = set()
    for here, tree in sources.items():
        modules = _imported_modules(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _ours(node.module):
                for alias in node.names:
                    dotted = f"{node.module}.{alias.name}"
                    if _private(alias.name) and node.module != here and not _is_module(dotted):
                        found.add((here, node.lineno, dotted, alias.name))
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            root: ast.expr = node.value
            chain = [node.attr]
            while isinstance(root, ast.Attribute):
                chain.insert(0, root.attr)
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                owner = ".".join([modules[root.id], *chain[:-1]])
                if _is_module(owner):
                    if owner != here:
                        found.add((here, node.lineno, f"{owner}.{node.attr}", node.attr))
                    continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            owners = sorted(m for m, names in defined.items() if node.attr in names)
            if owners and here not in owners:
                found.add((here, node.lineno, f"{ast.unparse(node)} (defined in {', '.join(owners)})", node.attr))
    return sorted(found)


def test_no_private_names_across_modules():
    """A name with a leading underscore is its module's own: another module that needs it gets a public one."""
    uses = private_uses(_sources())
    offending = [f"{m}:{line} uses {what}" for m, line, what, name in uses if (m, name) not in PRIVATE_USES_ALLOWED]
    assert not offending, "private names used from another module:\n" + "\n".join(offending)
    stale = PRIVATE_USES_ALLOWED - {(m, name) for m, _, _, name in uses}
    assert not stale, f"allowed but no longer used; drop from PRIVATE_USES_ALLOWED: {sorted(stale)}"


def _documented_exit_codes() -> list[tuple[int, str]]:
    text = (REPO / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    section = text.split("# Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| *(\d+) *\| *(.+?) *\|$", section, re.MULTILINE)
    return [(int(code), meaning.replace("`", "")) for code, meaning in rows]


def test_the_documented_exit_code_table_is_exit_status():
    assert _documented_exit_codes() == [(status.value, status.description.replace("`", "")) for status in ExitStatus]


def test_help_lists_every_exit_status(tmp_path):
    done = run_cli("--help", home=tmp_path)
    assert done.returncode == ExitStatus.OK
    epilog = " ".join(done.stdout.split("Exit codes:", 1)[1].split())
    for status in ExitStatus:
        assert f"{status.value} {status.description}" in epilog, status


def test_every_test_the_security_table_names_exists():
    """Each Security row names the tests that prove it (`file.py::name`, or `::name` for the
    file named last before it): a renamed or removed test must not leave a promise unproved."""
    text = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    table = text.split("# Security", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line.rsplit("|", 2)[-2]]
    assert len(rows) >= 10
    missing = []
    current = None
    for row in rows:
        proof = row.rsplit("|", 2)[-2]
        for file, name in re.findall(r"`(?:(test_\w+\.py))?(?:::(\w+))?", proof):
            if file:
                current = REPO / "tests" / file
                assert current.is_file(), f"{file} (named in the Security table) does not exist"
            if name:
                assert current is not None, f"::{name} names no file"
                source = current.read_text(encoding="utf-8")
                if not re.search(rf"^def {name}\(", source, re.M):
                    missing.append(f"{current.name}::{name}")
    assert missing == []


def test_the_readme_is_a_front_door_and_its_links_lead_somewhere():
    """README stays short (the manual is docs/); every page it or the manual names exists."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    linked = re.findall(r"\]\(([^)#]+)\)", text)
    assert linked and all((REPO / target).is_file() for target in linked), linked
    nav = re.findall(r":\s*(\S+\.md)\s*$", (REPO / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    assert sorted(nav) == sorted(p.name for p in (REPO / "docs").glob("*.md")), "a page is missing from mkdocs.yml"


def test_only_the_run_package_starts_playwright():
    """One way to open a browser: BrowserSession (evidence kept) or guarded_page (a login), both in
    assistant/run/; no command, workbench or testing module starts Playwright on its own."""
    starts = []
    for path in sorted((REPO / "assistant").rglob("*.py")):
        if "run" in path.relative_to(REPO / "assistant").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("sync_playwright"):
                starts.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert starts == []
