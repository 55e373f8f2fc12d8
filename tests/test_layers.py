"""The import rule of docs/ARCHITECTURE.md, checked on the source: layers, and no cycles."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
BASE = {"assistant", "assistant.errors", "assistant.paths", "assistant.translation"}


def rule() -> dict[str, set[str]]:
    block = re.search(r"```layers\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block, f"{DOC}: no ```layers block"
    allowed = {}
    for line in block.group(1).splitlines():
        name, _, below = line.partition(":")
        allowed[name.strip()] = set(below.split())
    return allowed


def modules(package: str = "assistant") -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def type_only(tree: ast.AST) -> set[ast.AST]:
    """Imports under `if TYPE_CHECKING:`: they shape the layers, but never run."""
    nodes: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                nodes.update(ast.walk(child))
    return nodes


def imports(name: str, path: Path, known: dict[str, Path], *, at_run_time: bool = False) -> set[str]:
    """Every module `name` imports, at the top or inside a function, resolved to a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = type_only(tree) if at_run_time else set()
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from assistant.run import browser` imports a module
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return {m for m in found if m in known or m.split(".")[0] in ("assistant", "evidence")}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module == "assistant.__main__":
        return "cli"
    parts = module.split(".")
    if parts[0] == "evidence":
        return "evidence"
    if parts[1] == "channels":
        if len(parts) == 2:
            return "channels"
        return "channels.base" if parts[2] == "base" else "channels.*"
    return parts[1]


def graph(*, at_run_time: bool = False) -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known, at_run_time=at_run_time) for name, path in known.items()}


def layer_modules(known: dict[str, Path]) -> dict[str, list[str]]:
    """Each layer's modules as import-linter module expressions."""
    found: dict[str, set[str]] = {}
    for name in known:
        mine = layer(name)
        parts = name.split(".")
        if mine in ("base", "cli", "channels", "channels.base", "channels.*", "store", "pipeline", "lookup"):
            expression = name  # single modules (a channel is its own module)
        else:  # a package and everything in it
            expression = ".".join(parts[:2]) + (".**" if len(parts) > 2 else "")
        found.setdefault(mine, set()).add(expression)
    return {k: sorted(v) for k, v in found.items()}


def contracts() -> str:
    """The `.importlinter` file this rule makes: one forbidden contract per layer (direct imports,
    as the rule says), the channels independent of each other, the evidence library alone."""
    allowed = rule()
    members = layer_modules(modules())
    out = [
        "# Made from docs/ARCHITECTURE.md's ```layers block by `python tests/test_layers.py`;",
        "# tests/test_layers.py fails when the two disagree. `lint-imports` (make lint) checks the code.",
        "[importlinter]",
        "root_packages =",
        "    assistant",
        "    evidence",
        "",
    ]
    for name in allowed:
        mine = members.get(name, [])
        forbidden = [m for other in allowed if other not in allowed[name] | {name} for m in members.get(other, [])]
        if not mine or not forbidden:
            continue
        out += [
            f"[importlinter:contract:{name.replace('*', 'each')}]",
            f"name = {name} imports only: {' '.join(sorted(allowed[name])) or 'nothing of the assistant'}",
            "type = forbidden",
            "as_packages = false",
            "allow_indirect_imports = true",
            "source_modules =",
            *(f"    {m}" for m in mine),
            "forbidden_modules =",
            *(f"    {m}" for m in forbidden),
            "",
        ]
    out += [
        "[importlinter:contract:channels-apart]",
        "name = a channel never imports another channel",
        "type = independence",
        "modules =",
        *(f"    {m}" for m in members["channels.*"]),
        "",
        "[importlinter:contract:evidence-alone]",
        "name = the evidence library never imports the assistant",
        "type = forbidden",
        "source_modules =",
        "    evidence",
        "forbidden_modules =",
        "    assistant",
        "",
    ]
    return "\n".join(out)


CONFIG = ROOT / ".importlinter"


def test_every_assistant_package_is_in_the_rule():
    allowed = rule()
    layers = {layer(m) for m in modules()}
    assert layers <= set(allowed), f"packages missing from {DOC.name}: {sorted(layers - set(allowed))}"
    for name, below in allowed.items():
        assert below <= set(allowed), f"{DOC.name}: {name} names unknown layers {sorted(below - set(allowed))}"


def test_the_import_linter_contracts_are_the_documented_rule():
    assert CONFIG.read_text(encoding="utf-8") == contracts(), (
        f"{CONFIG.name} differs from {DOC.name}'s rule: run `python tests/test_layers.py` to write it again"
    )


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(root / CONFIG.name), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two packages' sources alone, for imports that break the rule to be added to."""
    root = tmp_path_factory.mktemp("src")
    for package in ("assistant", "evidence"):
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CONFIG, root / CONFIG.name)
    return root


def test_the_code_keeps_the_contracts(source_copy: Path):
    done = lint_imports(source_copy)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("source", "target", "contract"),
    [
        ("assistant.run.runner", "assistant.store", "run imports only"),  # the runner never journals
        ("assistant.channels.email", "assistant.pipeline", "channels.* imports only"),  # the circle this rule ended
        ("assistant.channels.email", "assistant.channels.web_form", "a channel never imports another channel"),
        ("assistant.language.flow", "assistant.run.browser", "language imports only"),
        ("assistant.store", "assistant.casework.compose", "store imports only"),
        ("assistant.sites.replica", "assistant.language.flow", "sites imports only"),
        ("evidence.verify", "assistant.paths", "the evidence library never imports the assistant"),
    ],
)
def test_the_checker_catches_an_import_that_breaks_the_rule(source_copy: Path, source, target, contract):
    path = source_copy / (source.replace(".", "/") + ".py")
    original = path.read_text(encoding="utf-8")
    try:
        # Inside a function, where a lazy import hides from a reader: the rule still sees it.
        path.write_text(original + f"\n\ndef _sneak():\n    import {target}  # noqa\n", encoding="utf-8")
        done = lint_imports(source_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if "BROKEN" in line]
    assert len(broken) == 1 and contract in broken[0], done.stdout


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_assistant_modules():
    # A package's __init__ importing its own modules is not a cycle of design; leave them out.
    # Type-only imports never run, so they cannot make a cycle (the layer rule still sees them).
    edges = {
        source: {t for t in targets if t.startswith("assistant") and not source.startswith(t + ".")}
        for source, targets in graph(at_run_time=True).items()
    }
    assert cycles(edges) == []
    edges["assistant.store"] = edges["assistant.store"] | {"assistant.casework.tracking"}
    assert cycles(edges) == [["assistant.casework.tracking", "assistant.store"]]


if __name__ == "__main__":  # write .importlinter from the documented rule
    CONFIG.write_text(contracts(), encoding="utf-8")
    print(f"wrote {CONFIG}")
