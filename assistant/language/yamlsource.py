"""YAML files that remember where every value came from.

ruamel.yaml keeps the line and column of every key and item, which lets a
pydantic error at ("steps", 3, "fill", "selector") be reported as
`flow.yaml:14:7: steps[3].fill.selector: …`. PyYAML drops that information.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import stat
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from assistant.errors import InputError, printable
from assistant.translation import N_, _

Loc = tuple[Any, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class Problem:
    file: str
    line: int
    column: int
    field: str
    message: str
    kind: str = ""  # pydantic's error type, when pydantic found it ("missing", "timezone_aware", …)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return printable(text).replace("\n", "\\n")  # one line, whatever the file held


class At(ValueError):
    """A model validator's error about one place inside the model, e.g. ("steps", 3, "fill", "value").

    pydantic reports a model validator's error at the model itself; this
    carries the place so the problem names the line the value is on.
    """

    def __init__(self, loc: Loc, message: str):
        super().__init__(message)
        self.loc = tuple(loc)


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


# Hostile files are refused before ruamel builds anything from them: a 1 KB
# file of nested aliases expands to gigabytes, deep nesting overflows the
# composer's recursion, and tags other than the core ones construct objects.
MAX_BYTES = 1_048_576
MAX_DEPTH = 32
# A flow at the step and category caps (500, 200) has about 7,000 values; composing
# is pure Python, so the cap also keeps a refused file under a second.
MAX_NODES = 10_000
MAX_SCALAR = 100_000  # characters in one value, like the models' text cap
_CORE = "tag:yaml.org,2002:"
PLAIN_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null", "seq", "map")}


# Python's reasons for bytes that are not UTF-8, said in the interface's language.
UTF8_REASONS = {
    "invalid start byte": N_("invalid start byte"),
    "invalid continuation byte": N_("invalid continuation byte"),
    "unexpected end of data": N_("unexpected end of data"),
}
DUPLICATE_KEY = re.compile(
    r"found duplicate key (?P<key>.*) with value (?P<value>.*) \(original value: (?P<original>.*)\)"
)


def _problem(path: Path, line: int, col: int, message: str) -> SourceError:
    return SourceError([Problem(str(path), line, col, "", message)])


def openable(name: str) -> bool:
    """False for a name the file system answers with an exception rather than "no such file"."""
    if "\x00" in name or len(name.encode("utf-8", "replace")) > 4096:
        return False
    return all(len(part.encode("utf-8", "replace")) <= 255 for part in Path(name).parts)


def _read(path: Path) -> str:
    try:
        # Opened without blocking and checked before reading: a FIFO or a device
        # named as a flow or case would otherwise hang or stream forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InputError(
                    _("{path}: not a regular file (a pipe, device or socket); give a YAML file").format(path=path)
                )
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(_("{path}: file not found").format(path=path)) from None
    except IsADirectoryError:
        raise InputError(_("{path}: is a folder, not a YAML file").format(path=path)) from None
    except OSError as exc:
        raise InputError(_("{path}: cannot read: {reason}").format(path=path, reason=exc.strerror)) from None
    except ValueError:  # a NUL in the name
        raise InputError(_("{path!r}: not a file name this system can open").format(path=str(path))) from None
    if len(raw) > MAX_BYTES:
        try:
            size = path.stat().st_size
        except OSError:
            size = len(raw)
        message = _("the file is {size} bytes; a flow/case file is at most 1 MB").format(size=max(size, len(raw)))
        raise _problem(path, 1, 1, message)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[start : exc.start].decode("utf-8", errors="replace")) + 1
        message = _("not UTF-8 text (byte 0x{byte:02x}: {reason}); save the file as UTF-8").format(
            byte=raw[exc.start], reason=_(UTF8_REASONS.get(exc.reason, exc.reason))
        )
        raise _problem(path, line, col, message) from None


def _events(yaml: YAML, text: str) -> Iterator[Any]:
    """The event stream, from libyaml when ruamel.yaml.clib is there (about 20x faster on a
    1 MB file); a file libyaml cannot parse is walked again by ruamel's own parser, whose
    errors are the ones reported."""
    try:
        from ruamel.yaml.cyaml import CParser
    except ImportError:
        yield from yaml.parse(text)
        return
    parser = CParser(text)
    emitted = 0
    try:
        while True:
            event = parser.get_event()
            if event is None:
                return
            emitted += 1
            yield event
            if type(event).__name__ == "StreamEndEvent":
                return
    except YAMLError:
        pass
    finally:
        parser.dispose()
    # libyaml stopped on something ruamel may read differently: walk it all again.
    yield from yaml.parse(text)


def _screen(path: Path, yaml: YAML, text: str) -> None:
    """Walk the event stream and refuse what must never be composed."""
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        MappingStartEvent,
        NodeEvent,
        ScalarEvent,
        StreamStartEvent,
    )

    # One entry per open collection: [is_mapping, items seen], to tell keys from values.
    stack: list[list[Any]] = []
    nodes = 0
    for event in _events(yaml, text):
        if isinstance(event, StreamStartEvent):  # the fallback walk starts over
            stack, nodes = [], 0
            continue
        if isinstance(event, CollectionEndEvent):
            if stack:
                stack.pop()
            continue
        if not isinstance(event, NodeEvent):
            continue
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        is_key = bool(stack) and stack[-1][0] and stack[-1][1] % 2 == 0
        if stack:
            stack[-1][1] += 1
        if isinstance(event, AliasEvent):
            message = _("alias '*{anchor}': aliases are not allowed here; write the value out").format(
                anchor=event.anchor
            )
            raise _problem(path, line, col, message)
        tag = event.tag if isinstance(event, (ScalarEvent, CollectionStartEvent)) else None
        if tag is not None:
            tag = tag if isinstance(tag, str) else str(getattr(tag, "value", tag))
            if tag not in PLAIN_TAGS:
                shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
                message = _("tag '{tag}' is not allowed; write plain values (text, numbers, lists, mappings)").format(
                    tag=shown
                )
                raise _problem(path, line, col, message)
        if isinstance(event, ScalarEvent):
            if is_key and event.value == "<<" and not event.style:
                raise _problem(path, line, col, _("merge key '<<' is not allowed; write the keys out"))
            if len(event.value) > MAX_SCALAR:
                message = _("a value of {length} characters; at most {limit}").format(
                    length=len(event.value), limit=MAX_SCALAR
                )
                raise _problem(path, line, col, message)
        nodes += 1
        if nodes > MAX_NODES:
            message = _("more than {limit} values; a flow/case file is not that big").format(limit=MAX_NODES)
            raise _problem(path, line, col, message)
        if isinstance(event, CollectionStartEvent):
            stack.append([isinstance(event, MappingStartEvent), 0])
            if len(stack) > MAX_DEPTH:
                raise _problem(path, line, col, _("nested more than {limit} levels deep").format(limit=MAX_DEPTH))


def _key(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return str(key)
    raise TypeError(type(key).__name__)


def _plain(node: Any, loc: Loc, positions: dict[Loc, tuple[int, int]], path: str = "<yaml>") -> Any:
    """Plain dicts, lists and scalars, recording each key's and item's position."""
    if isinstance(node, CommentedMap):
        out = {}
        here = positions.get(loc, (1, 1))
        for key, value in node.items():
            try:
                line, col = node.lc.key(key)
                where = (line + 1, col + 1)
            except Exception:  # ruamel keeps no position for some complex keys
                where = here
            try:
                name = _key(key)
            except TypeError:
                raise SourceError(
                    [Problem(path, *where, format_field(loc), _("a key must be a name, not a list or mapping"))]
                ) from None
            positions[loc + (name,)] = where
            out[name] = _plain(value, loc + (name,), positions, path)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            try:
                line, col = node.lc.item(i)
                positions[loc + (i,)] = (line + 1, col + 1)
            except Exception:
                positions[loc + (i,)] = positions.get(loc, (1, 1))
            out_list.append(_plain(value, loc + (i,), positions, path))
        return out_list
    if isinstance(node, str):
        if "\x00" in node:  # only a "\0" escape makes one; no flow or case needs it, paths break on it
            line, col = positions.get(loc, (1, 1))
            message = _("a NUL character (\\0) is not allowed")
            raise SourceError([Problem(path, line, col, format_field(loc), message)])
        return str(node)  # drop ruamel's scalar string subclasses
    if isinstance(node, (bool, ScalarBoolean)) or node is None:
        return None if node is None else bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    # YAML 1.2 would read `no` as a string but `2026-11-20` as a date; keep
    # timestamps as text so pydantic parses them with their time zone intact.
    yaml.constructor.yaml_constructors.pop("tag:yaml.org,2002:timestamp", None)
    return yaml


def load(path: str | Path, *, text: str | None = None) -> Source:
    path = Path(path)
    if text is None:
        text = _read(path)
    elif len(text) > MAX_BYTES or len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        size = len(text.encode("utf-8", errors="replace"))
        raise _problem(path, 1, 1, _("the text is {size} bytes; a flow/case file is at most 1 MB").format(size=size))
    try:
        _screen(path, _yaml(), text)
        node = _yaml().load(text)  # a fresh reader: the screening one has walked the text already
        positions: dict[Loc, tuple[int, int]] = {}
        data = _plain(node, (), positions, str(path))
    except SourceError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(exc.problem or exc.context or _("invalid YAML")).split())
        duplicate = DUPLICATE_KEY.fullmatch(message)
        if duplicate:  # the one ruamel message said in the interface's language; the others are ruamel's
            message = _("found duplicate key {key} with value {value} (original value: {original})").format(
                **duplicate.groupdict()
            )
        raise _problem(path, line, col, _("YAML syntax: {message}").format(message=message)) from None
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        shown = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        message = _("YAML: character {character} is not allowed in YAML text").format(character=shown)
        raise _problem(path, line, col, message) from None
    except YAMLError as exc:
        raise _problem(path, 1, 1, _("YAML: {message}").format(message=" ".join(str(exc).split()))) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # ruamel's constructors: an integer too long to convert, a value of no known kind
        reason = (
            _("a number has more than 4300 digits")
            if "integer string conversion" in str(exc)
            else (" ".join(str(exc).split())[:200] or type(exc).__name__)
        )
        raise _problem(path, 1, 1, _("YAML: cannot read a value: {reason}").format(reason=reason)) from None
    return Source(str(path), data, positions, text)


def closest(word: str, choices: list[str]) -> str | None:
    """The choice close enough to word to be what was meant (a typo), if one is."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names valid at loc, for did-you-mean hints on unknown keys.

    Inside a union (a flow's steps) the member is the one that has the key
    walked next: ("steps", 3, "fill") leads to the fill step's arguments."""
    current = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        owner = next((m for m in current if part in m.model_fields), None)
        if owner is not None:
            current = models_of(owner.model_fields[part].annotation)
    if not current:
        return []
    return [f.alias or name for name, f in current[0].model_fields.items()]


def models_of(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation names: itself, or those inside Annotated, unions, lists and dicts."""

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [m for m in models_of(arg) if m not in found]
    return found


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The first model an annotation names, if any."""
    found = models_of(annotation)
    return found[0] if found else None


def validate(source: Source, model: type[ModelT], *, context: dict[str, Any] | None = None) -> ModelT:
    try:
        return model.model_validate(source.data, context=context)
    except ValidationError as exc:
        raise SourceError(problems_from(source, model, exc)) from None


def problems_from(source: Source, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    problems = []
    seen: set[tuple[int, int, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, At):
            loc += cause.loc
        found, rest = source.resolve(loc)
        kind = err["type"]
        message = said(err)
        shown: Loc = found
        if kind == "missing" and rest:
            shown = found + (rest[-1],)
            message = _("required; add it")
        elif kind == "extra_forbidden":
            bad = str(found[-1] if found else (rest[-1] if rest else "?"))
            allowed = _allowed_keys(model, found[:-1])
            close = closest(bad, allowed)
            if close:
                message = _("unknown key '{key}'; did you mean '{choice}'?").format(key=bad, choice=close)
            elif allowed:
                message = _("unknown key '{key}' (allowed: {allowed})").format(
                    key=bad, allowed=", ".join(sorted(allowed))
                )
            else:
                message = _("unknown key '{key}'").format(key=bad)
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            tag = str(ctx.get("tag", "?"))
            expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            close = closest(tag, expected)
            if close:
                message = _("unknown step '{step}'; did you mean '{choice}'?").format(step=tag, choice=close)
            else:
                message = _("unknown step '{step}'").format(step=tag)
            value = _value_at(source.data, found)
            if isinstance(value, dict) and tag in value:
                shown = found + (tag,)
        elif kind == "union_tag_not_found":
            message = _('expected a mapping with one step name, like `click: "#send"`')
        elif kind == "string_type" and isinstance(err.get("input"), dict):
            message = _("expected text, but YAML read a 'key: value' here; put the whole text in quotes")
        line, col = source.position(shown if shown in source.positions else found)
        key = (line, col, message)
        if key in seen:
            continue
        seen.add(key)
        problems.append(Problem(source.path, line, col, format_field(shown), message, kind))
    return problems


@functools.cache
def _templates() -> dict[str, str]:
    """pydantic's message template for each error type, e.g. less_than_equal: "Input should be less
    than or equal to {le}" (tests/messages.py puts each into the catalog)."""
    from pydantic_core._pydantic_core import list_all_errors

    return {error["type"]: error["message_template_python"] for error in list_all_errors()}


# pydantic's names for the kind of value, in its too_short/too_long messages. The models keep
# lists as tuples; the file has a list.
FIELD_TYPES = {
    "List": N_("List"),
    "Tuple": N_("List"),
    "Set": N_("List"),
    "Frozenset": N_("List"),
    "Dictionary": N_("Mapping"),
    "Data": N_("Value"),
    "Value": N_("Value"),
}


# Why pydantic could not read a date or time (the ctx "error" of its *_parsing errors).
PARSING_REASONS = frozenset(
    (
        N_("input is too short"),
        N_("unexpected extra characters at the end of the input"),
        N_("invalid datetime separator, expected `T`, `t`, `_` or space"),
        N_("invalid date separator, expected `-`"),
        N_("invalid time separator, expected `:`"),
        N_("invalid character in year"),
        N_("invalid character in month"),
        N_("invalid character in day"),
        N_("invalid character in hour"),
        N_("invalid character in minute"),
        N_("invalid character in second"),
        N_("invalid timezone sign"),
        N_("month value is outside expected range of 1-12"),
        N_("day value is outside expected range"),
        N_("hour value is outside expected range of 0-23"),
        N_("minute value is outside expected range of 0-59"),
        N_("second value is outside expected range of 0-59"),
        N_("second fraction value is more than 6 digits long"),
        N_("timezone offset must be less than 24 hours"),
    )
)


def said(err: Any) -> str:
    """One pydantic error as the person reads it, in the interface's language.

    The message is pydantic's template for the error's type, translated and filled with its
    ctx; pydantic's own English (`msg`) when the type is not known or the template does not fill.
    A validator's ValueError says its own message (it is translated where it is raised)."""
    kind = err["type"]
    english = str(err["msg"])
    ctx = dict(err.get("ctx") or {})
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "tuple_type":
        kind = "list_type"
    template = _templates().get(kind)
    if template is None:
        return english
    translated = _(template)
    if translated == template:  # English: pydantic's words, as they have always read
        if kind in ("too_long", "too_short") and english.startswith("Tuple "):
            return "List " + english[len("Tuple ") :]
        return english if err["type"] != "tuple_type" else template
    for name, value in ctx.items():
        if isinstance(value, float) and value.is_integer():
            ctx[name] = int(value)  # as pydantic writes them: "less than or equal to 600", not 600.0
    if "field_type" in ctx:
        ctx["field_type"] = _(FIELD_TYPES.get(str(ctx["field_type"]), str(ctx["field_type"])))
    # English's "s" (pydantic adds it while rendering): another language says the count in its own
    # words around the number.
    ctx["expected_plural"] = ""
    if str(ctx.get("error")) in PARSING_REASONS:
        ctx["error"] = _(str(ctx["error"]))
    if kind in ("literal_error", "enum") and " or " in str(ctx.get("expected", "")):
        choices, last = str(ctx["expected"]).rsplit(" or ", 1)
        ctx["expected"] = _("{choices} or {last}").format(choices=choices, last=last)
    try:
        return translated.format(**ctx)
    except (KeyError, IndexError, ValueError, AttributeError):
        return english


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
