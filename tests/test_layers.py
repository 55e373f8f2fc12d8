"""The import rule of docs/ARCHITECTURE.md, checked on the source: layers, and no cycles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
BASE = {"assistant", "assistant.errors", "assistant.paths"}


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


def violations(edges: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in sorted(edges.items()):
        mine = layer(source)
        for target in sorted(targets):
            theirs = layer(target)
            if theirs == "evidence" or target == source:
                continue
            if mine == "channels.*" and theirs == "channels.*":
                found.append(f"{source} imports {target}: a channel never imports another channel")
            elif theirs != mine and theirs not in allowed.get(mine, set()):
                found.append(f"{source} ({mine}) imports {target} ({theirs})")
    return found


def graph(*, at_run_time: bool = False) -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known, at_run_time=at_run_time) for name, path in known.items()}


def test_every_assistant_package_is_in_the_rule():
    allowed = rule()
    layers = {layer(m) for m in modules()}
    assert layers <= set(allowed), f"packages missing from {DOC.name}: {sorted(layers - set(allowed))}"
    for name, below in allowed.items():
        assert below <= set(allowed), f"{DOC.name}: {name} names unknown layers {sorted(below - set(allowed))}"


def test_imports_follow_the_documented_layers():
    assert violations(graph(), rule()) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("assistant.run.runner", "assistant.store"),  # the runner never journals
        ("assistant.channels.email", "assistant.pipeline"),  # the circle this rule was made to end
        ("assistant.channels.email", "assistant.channels.web_form"),
        ("assistant.language.flow", "assistant.run.browser"),
        ("assistant.store", "assistant.casework.compose"),
        ("assistant.sites.replica", "assistant.language.flow"),
    ],
)
def test_the_checker_catches_an_import_that_breaks_the_rule(source, target):
    edges = graph()
    assert violations(edges, rule()) == []
    edges[source] = edges[source] | {target}
    assert len(violations(edges, rule())) == 1


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


def test_the_evidence_library_never_imports_the_assistant():
    known = modules("evidence")
    assistant = {name for name in modules()}
    offenders = {
        name: sorted(t for t in imports(name, path, {**known, **modules()}) if t in assistant)
        for name, path in known.items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}
