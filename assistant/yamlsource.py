"""YAML files that remember where every value came from.

ruamel.yaml keeps the line and column of every key and item, which lets a
pydantic error at ("steps", 3, "fill", "selector") be reported as
`flow.yaml:14:7: steps[3].fill.selector: …`. PyYAML drops that information.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import InputError

Loc = tuple[Any, ...]


@dataclass
class Problem:
    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SourceError(InputError):
    """One or more problems in a source file; str() is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Source:
    path: str
    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    text: str = ""

    def position(self, loc: Loc) -> tuple[int, int]:
        while loc and loc not in self.positions:
            loc = loc[:-1]
        return self.positions.get(loc, (1, 1))

    def resolve(self, loc: Loc) -> tuple[Loc, tuple[Any, ...]]:
        """Split a pydantic loc into the part that exists in the file and the rest.

        pydantic adds discriminator tags and validator names to locs; those are
        not in the file, so they are skipped while walking.
        """
        found: Loc = ()
        rest: list[Any] = []
        for part in loc:
            candidate = found + (part,)
            if candidate in self.positions:
                found = candidate
                rest = []
            else:
                rest.append(part)
        return found, tuple(rest)


def format_field(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _plain(node: Any, loc: Loc, positions: dict[Loc, tuple[int, int]]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            line, col = node.lc.key(key)
            positions[loc + (key,)] = (line + 1, col + 1)
            out[key] = _plain(value, loc + (key,), positions)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            line, col = node.lc.item(i)
            positions[loc + (i,)] = (line + 1, col + 1)
            out_list.append(_plain(value, loc + (i,), positions))
        return out_list
    if isinstance(node, str):
        return str(node)  # drop ruamel's scalar string subclasses
    return node


def load(path: str | Path, *, text: str | None = None) -> Source:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    yaml = YAML(typ="rt")
    # YAML 1.2 would read `no` as a string but `2026-11-20` as a date; keep
    # timestamps as text so pydantic parses them with their time zone intact.
    yaml.constructor.yaml_constructors.pop("tag:yaml.org,2002:timestamp", None)
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise SourceError([Problem(str(path), line, col, "", f"YAML syntax: {message}")]) from None
    except YAMLError as exc:
        raise SourceError([Problem(str(path), 1, 1, "", f"YAML: {exc}")]) from None
    positions: dict[Loc, tuple[int, int]] = {}
    data = _plain(node, (), positions)
    return Source(str(path), data, positions, text)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names valid at loc, for did-you-mean hints on unknown keys."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return []
        if part in fields:
            current = _model_of(fields[part].annotation)
        else:
            current = _step_model(part) or current
    fields = getattr(current, "model_fields", None)
    return [f.alias or name for name, f in fields.items()] if fields else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


# Filled in by the flow module so that unknown keys inside a step can be matched
# against that step's own fields.
STEP_MODELS: dict[str, type[BaseModel]] = {}


def _step_model(name: Any) -> type[BaseModel] | None:
    return STEP_MODELS.get(name) if isinstance(name, str) else None


def validate(source: Source, model: type[BaseModel], *, context: dict | None = None):
    try:
        return model.model_validate(source.data, context=context)
    except ValidationError as exc:
        raise SourceError(problems_from(source, model, exc)) from None


def problems_from(source: Source, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    problems = []
    seen: set[tuple] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        found, rest = source.resolve(loc)
        kind = err["type"]
        message = err["msg"]
        shown: Loc = found
        if kind == "missing" and rest:
            shown = found + (rest[-1],)
            message = "required; add it"
        elif kind == "extra_forbidden":
            bad = found[-1] if found else (rest[-1] if rest else "?")
            allowed = _allowed_keys(model, found[:-1])
            message = f"unknown key '{bad}'{_suggest(str(bad), allowed)}"
            if allowed and not _suggest(str(bad), allowed):
                message += f" (allowed: {', '.join(sorted(allowed))})"
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            tag = str(ctx.get("tag", "?"))
            expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            message = f"unknown step '{tag}'{_suggest(tag, expected)}"
            value = _value_at(source.data, found)
            if isinstance(value, dict) and tag in value:
                shown = found + (tag,)
        elif kind == "union_tag_not_found":
            message = "expected a mapping with one step name, like `click: \"#send\"`"
        elif kind == "string_type" and isinstance(err.get("input"), dict):
            message = "expected text, but YAML read a 'key: value' here; put the whole text in quotes"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        line, col = source.position(shown if shown in source.positions else found)
        key = (line, col, message)
        if key in seen:
            continue
        seen.add(key)
        problems.append(Problem(source.path, line, col, format_field(shown), message))
    return problems


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
