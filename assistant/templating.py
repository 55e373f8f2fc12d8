"""`{{ case.order_id }}` templates, rendered without executing anything.

A flow comes from a file someone else wrote; Jinja would let it run
expressions. Here an expression is only a dotted path into the context and a
chain of named filters from a fixed table, e.g.
`{{ case.incident_at | strftime("%d.%m.%Y") }}` or `{{ case.order_id | default("") }}`.
A template that is exactly one expression keeps the value's type (a list of
files stays a list).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable

EXPR = re.compile(r"\{\{\s*(.*?)\s*\}\}")
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$")
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
    raise TemplateError(f"filter '{name}' needs a date or time, got {value!r}")


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
}


def parse(expression: str) -> tuple[str, list[tuple[str, str | None]]]:
    parts = [p.strip() for p in _split_pipes(expression)]
    path, filters = parts[0], []
    if not PATH.match(path):
        raise TemplateError(f"'{path}' is not a name like case.order_id")
    for raw in parts[1:]:
        m = FILTER.match(raw)
        if not m or (m.group(1) not in FILTERS and m.group(1) != "default"):
            known = ", ".join(sorted([*FILTERS, "default"]))
            raise TemplateError(f"unknown filter '{raw}' (known: {known})")
        arg = m.group(2)
        filters.append((m.group(1), arg.encode().decode("unicode_escape") if arg else arg))
    return path, filters


def _split_pipes(expression: str) -> list[str]:
    out, buf, quoted = [], "", False
    for ch in expression:
        if ch == '"' and not buf.endswith("\\"):
            quoted = not quoted
        if ch == "|" and not quoted:
            out.append(buf)
            buf = ""
        else:
            buf += ch
    out.append(buf)
    return out


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, (list, tuple)) and index < len(value) else _MISSING
        elif isinstance(value, dict):
            value = value.get(part, _MISSING)
        else:
            value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


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
        value = FILTERS[name](value, arg)
    if value is _MISSING:
        raise TemplateError(f"'{path}' is not known here; known names: {_known(context, path)}")
    if value is None:
        raise TemplateError(f"'{path}' is empty in the case; fill it in or write `{{{{ {path} | default(\"\") }}}}`")
    return value


def _known(context: dict[str, Any], path: str) -> str:
    head = path.split(".")[0].split("[")[0]
    if head in context and isinstance(context[head], dict):
        return ", ".join(f"{head}.{k}" for k in sorted(context[head]))
    return ", ".join(sorted(context))


def render(template: Any, context: dict[str, Any]) -> Any:
    """Render a string (or each string in a list); non-strings pass through."""
    if isinstance(template, list):
        out: list[Any] = []
        for item in template:
            value = render(item, context)
            out.extend(value if isinstance(value, list) else [value])
        return out
    if not isinstance(template, str) or "{{" not in template:
        return template
    whole = EXPR.fullmatch(template.strip())
    if whole:
        return evaluate(whole.group(1), context)
    return EXPR.sub(lambda m: _text(evaluate(m.group(1), context)), template)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def names_in(template: Any) -> list[str]:
    """Every path a template refers to (for checking a flow before running it)."""
    if isinstance(template, list):
        return [n for item in template for n in names_in(item)]
    if not isinstance(template, str):
        return []
    return [parse(m.group(1))[0] for m in EXPR.finditer(template)]


def check_syntax(template: Any) -> None:
    names_in(template)
