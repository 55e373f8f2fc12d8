"""`{{ case.order_id }}` templates, rendered without executing anything.

A flow comes from a file someone else wrote; Jinja would let it run
expressions. Here an expression is only a dotted path into the context and a
chain of named filters from a fixed table, e.g.
`{{ case.incident_at | strftime("%d.%m.%Y") }}` or `{{ case.order_id | default("") }}`.
A template that is exactly one expression keeps the value's type (a list of
files stays a list).

A path walks only mapping keys and list indices, never Python attributes, and
a name may not start with `_`: the context holds plain data (text, numbers,
dates, lists, mappings) and nothing else is ever reachable or returned.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from assistant.translation import _


@dataclass(frozen=True)
class Expression:
    """One `{{ … }}` of a template: where it is, and its text between the braces, stripped."""

    start: int
    end: int
    text: str


def expressions(template: str) -> list[Expression]:
    """Each `{{ … }}` of template, in order, as the pattern \\{\\{\\s*((?:(?!\\}\\}).)*?)\\s*\\}\\}
    reads it: from a "{{" to the first "}}" after it, the text between on one line once its
    blanks at both ends are set aside (so "{{ a }} | {{ b }}" is two, never one).

    Found by scanning, in time linear in the text. The pattern backtracks: a flow value of "{{"
    and 3,000 spaces, with no "}}", took 17 s to check, one of 99,000 spaces forever."""
    found: list[Expression] = []
    at = 0
    blank_before: dict[int, int] = {}  # a newline's index -> the last non-blank character before it
    while (start := template.find("{{", at)) >= 0:
        end = template.find("}}", start + 2)
        if end < 0:
            break
        last = end - 1  # the last non-blank character before the "}}"
        while last >= 0 and template[last].isspace():
            last -= 1
        newline = template.rfind("\n", 0, max(last, 0))
        if newline not in blank_before:
            before = newline - 1
            while before >= 0 and template[before].isspace():
                before -= 1
            blank_before[newline] = before
        # The text from this "{{" holds a line break between two non-blank characters: so does the
        # text of every "{{" before that first character; the first "{{" after it is the match.
        if newline >= 0 and blank_before[newline] >= start + 2:
            start = template.find("{{", blank_before[newline] - 1)
            if start < 0:
                break
            if start + 2 > end:  # past this "}}": it has a closing of its own
                at = start
                continue
        found.append(Expression(start, end + 2, template[start + 2 : end].strip()))
        at = end + 2
    return found


def substitute(template: str, value: Callable[[str], str]) -> str:
    """template with each expression replaced by value(its text)."""
    parts: list[str] = []
    last = 0
    for expression in expressions(template):
        parts += [template[last : expression.start], value(expression.text)]
        last = expression.end
    parts.append(template[last:])
    return "".join(parts)


PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*|\[\d{1,6}\])*$")
PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\[\d+\]")
PLAIN = (str, int, float, bool, type(None), date, datetime)
FILTER = re.compile(r'^([a-z_]+)\s*(?:\(\s*"((?:[^"\\]|\\.)*)"\s*\))?$')

_MISSING = object()


class TemplateError(ValueError):
    pass


def _as_datetime(value: Any, name: str) -> datetime | date:
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise TemplateError(_("filter '{name}' needs a date or time, got {value!r}").format(name=name, value=value))


def _join(value: Any, sep: str | None) -> str:
    if not isinstance(value, (list, tuple)):
        return str(value)
    return (sep if sep is not None else ", ").join(str(v) for v in value)


FILTERS: dict[str, Callable[[Any, str | None], Any]] = {
    "date": lambda v, a: _as_datetime(v, "date").strftime(a or "%Y-%m-%d"),
    "time": lambda v, a: _as_datetime(v, "time").strftime(a or "%H:%M"),
    "datetime": lambda v, a: _as_datetime(v, "datetime").strftime(a or "%Y-%m-%d %H:%M %z"),
    "strftime": lambda v, a: _as_datetime(v, "strftime").strftime(a or "%Y-%m-%d"),
    "iso": lambda v, a: _as_datetime(v, "iso").isoformat(),
    "join": _join,
    "lines": lambda v, a: _join(v, "\n"),
    "upper": lambda v, a: str(v).upper(),
    "lower": lambda v, a: str(v).lower(),
    "trim": lambda v, a: str(v).strip(),
    "string": lambda v, a: "" if v is None else str(v),
    # An order number or a phone for a field that takes digits only (<input type=number>).
    "digits": lambda v, a: re.sub(r"\D", "", "" if v is None else str(v)),
    # A phone for a box whose mask writes the country code itself ("+7 (___) ___-__-__"): a Russian
    # number's ten digits after +7 or 8; any other number's digits.
    "national": lambda v, a: _national(re.sub(r"\D", "", "" if v is None else str(v))),
}


def _national(digits: str) -> str:
    return digits[1:] if len(digits) == 11 and digits[0] in "78" else digits


def parse(expression: str) -> tuple[str, list[tuple[str, str | None]]]:
    parts = [p.strip() for p in _split_pipes(expression)]
    path, filters = parts[0], []
    if re.search(r"(^|[.\[])_", path):
        raise TemplateError(_("'{path}': names starting with '_' are not allowed").format(path=path))
    if not PATH.match(path):
        raise TemplateError(_("'{path}' is not a name like case.order_id").format(path=path))
    for raw in parts[1:]:
        m = FILTER.match(raw)
        if not m or (m.group(1) not in FILTERS and m.group(1) != "default"):
            known = ", ".join(sorted([*FILTERS, "default"]))
            raise TemplateError(_("unknown filter '{filter}' (known: {known})").format(filter=raw, known=known))
        arg = m.group(2)
        # Only \" and \\ are escapes; every other character is the argument's own text.
        filters.append((m.group(1), re.sub(r'\\(["\\])', r"\1", arg) if arg else arg))
    return path, filters


def _split_pipes(expression: str) -> list[str]:
    out, buf, quoted, escaped = [], "", False, False
    for ch in expression:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            out.append(buf)
            buf = ""
        else:
            buf += ch
    out.append(buf)
    return out


def lookup(context: dict[str, Any], path: str) -> Any:
    """Walk mapping keys and list indices only; anything else is not known."""
    value: Any = context
    for part in PART.findall(path):
        if part.startswith("_"):
            return _MISSING
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, (list, tuple)) and index < len(value) else _MISSING
        elif isinstance(value, dict):
            value = value.get(part, _MISSING)
        else:
            value = _MISSING
        if value is _MISSING:
            return _MISSING
    _check_plain(value, path)
    return value


def _check_plain(value: Any, path: str, depth: int = 0) -> None:
    if isinstance(value, PLAIN):
        return
    if isinstance(value, (list, tuple)) and depth < 16:
        for item in value:
            _check_plain(item, path, depth + 1)
        return
    if isinstance(value, dict) and depth < 16:
        for key, item in value.items():
            if not isinstance(key, str):
                raise TemplateError(_("'{path}' is not plain data").format(path=path))
            _check_plain(item, path, depth + 1)
        return
    raise TemplateError(_("'{path}' is not plain data (text, numbers, dates, lists)").format(path=path))


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    path, filters = parse(expression)
    value = lookup(context, path)
    for name, arg in filters:
        if name == "default":
            if value is _MISSING or value is None or value == "" or value == []:
                value = arg if arg is not None else ""
            continue
        if value is _MISSING or value is None:
            break
        try:
            value = FILTERS[name](value, arg)
        except TemplateError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:  # strftime on odd formats or dates
            raise TemplateError(
                _("filter '{name}' cannot format {path}: {reason}").format(name=name, path=path, reason=exc)
            ) from None
    if value is _MISSING:
        raise TemplateError(
            _("'{path}' is not known here; known names: {known}").format(path=path, known=_known(context, path))
        )
    if value is None:
        raise TemplateError(
            _("'{path}' is empty in the case; fill it in or write `{{{{ {path} | default(\"\") }}}}`").format(path=path)
        )
    return value


def _known(context: dict[str, Any], path: str) -> str:
    head = path.split(".")[0].split("[")[0]
    if head in context and isinstance(context[head], dict):
        return ", ".join(f"{head}.{k}" for k in sorted(context[head]))
    return ", ".join(sorted(context))


def render(template: Any, context: dict[str, Any]) -> Any:
    """Render a string (or each string in a list or tuple, into a list); non-strings pass through."""
    if isinstance(template, (list, tuple)):
        out: list[Any] = []
        for item in template:
            value = render(item, context)
            out.extend(value if isinstance(value, (list, tuple)) else [value])
        return out
    if not isinstance(template, str) or "{{" not in template:
        return template
    stripped = template.strip()
    found = expressions(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped):
        return evaluate(found[0].text, context)
    return substitute(template, lambda text: _text(evaluate(text, context)))


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def names_in(template: Any) -> list[str]:
    """Every path a template refers to (for checking a flow before running it)."""
    if isinstance(template, (list, tuple)):
        return [n for item in template for n in names_in(item)]
    if not isinstance(template, str):
        return []
    return [parse(expression.text)[0] for expression in expressions(template)]


def check_syntax(template: Any) -> None:
    names_in(template)


# ------------------------------------------------- names known before a run
#
# A shape says which paths exist: a dict of names to shapes, a ListOf(shape)
# for a list (reached by [N] or used whole), or LEAF for a single value.

LEAF = "value"


class ListOf:
    def __init__(self, item: Any):
        self.item = item


def shape_of(annotation: Any) -> Any:
    """The shape of a pydantic model (or a field's annotation): its fields, nested models too."""

    fields = getattr(annotation, "model_fields", None)
    if isinstance(annotation, type) and fields is not None:
        return {name: shape_of(info.annotation) for name, info in fields.items()}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (list, tuple) and args:
        return ListOf(shape_of(args[0]))
    inner = [a for a in args if a is not type(None)]
    if origin is not None and inner and origin not in (typing.Literal, dict):
        shapes = [shape_of(a) for a in inner]
        return next((x for x in shapes if x is not LEAF), LEAF)
    return LEAF


def check_name(path: str, shape: dict[str, Any]) -> str | None:
    """Why `path` names nothing in `shape`, or None if it is known."""
    current: Any = shape
    walked = ""
    for part in PART.findall(path):
        if part.startswith("["):
            if not isinstance(current, ListOf):
                return _("'{walked}' is not a list, so '{path}' names nothing").format(walked=walked, path=path)
            current, walked = current.item, walked + part
            continue
        if not isinstance(current, dict):
            if isinstance(current, ListOf):
                return _("'{walked}' is a list; write {walked}[0].{part} for an item's field").format(
                    walked=walked, part=part
                )
            return _("'{walked}' is a single value and has no '{part}'").format(walked=walked, part=part)
        if part not in current:
            prefix = f"{walked}." if walked else ""
            choices = [f"{prefix}{name}" for name in current]
            close = _close(prefix + part, choices)
            if close:
                return _("'{path}' is not known; did you mean '{choice}'?").format(path=path, choice=close)
            if choices:
                return _("'{path}' is not known (known: {known})").format(path=path, known=", ".join(choices))
            return _("'{path}' is not known (known: none here)").format(path=path)
        current, walked = current[part], (f"{walked}.{part}" if walked else part)
    return None


def _close(word: str, choices: list[str]) -> str | None:

    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None
