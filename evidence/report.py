"""report.html (and, rendered by the browser, report.pdf) and a contact sheet.

The report is drawn by the Jinja templates in evidence/templates/ (package data), with
autoescape: everything that came from a page or a person is escaped, so a page title
carrying <script> is shown as text. This module works out what the templates show (rows,
times, groups) as plain values; the markup is the templates'. Nothing from outside is
marked safe. The report also forbids scripts outright with a Content-Security-Policy, in
case a future change forgets to escape.

The report is written in the language the case's person reads dates in (manifest.times.language;
English for a package made before it was recorded): every heading, label and note comes from
the vocabulary in evidence/words.py, the templates' through w("…"). Values (the person's text,
a page's title, URLs, hashes) are shown as they are, and the by-hand check's commands too.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .inert import describe as inert_words
from .manifest import Action, BodyPart, FileEntry, FormField, Manifest, SubmittedForm
from .times import CLOCK_TOLERANCE, Clocks, describe_difference, local_text, offset_text, utc_text, zone
from .words import (
    CLOCKS,
    OUTCOMES,
    STATUSES,
    STEPS,
    category_label,
    known,
    language_of,
    of,
    plural_ru,
    word,
)

if TYPE_CHECKING:
    import jinja2
    from PIL import Image

SHOT_ROLES = ("screenshot", "review", "confirmation", "failure", "capture")

# ------------------------------------------------------------------ the templates


def _escaped(value: object) -> Markup:
    """What each {{ value }} of the templates shows: the text escaped as html.escape does it
    (&#x27; for ', &quot; for ", as the report always wrote them), None as nothing. Only
    Markup (what a macro returns, from the templates' own text) passes unchanged; autoescape
    stays on behind this, for anything a template writes some other way."""
    if isinstance(value, Markup):
        return value
    return Markup(escape("" if value is None else str(value), quote=True))


def _url_pieces(value: object) -> list[tuple[str, str]]:
    """A URL cut after each '/', '?', '&' and '=', each piece with its class: 'seg' (kept on one
    line) or, for a piece too long for any line, 'long' (may break anywhere). None or "": none."""
    if value in (None, ""):
        return []
    pieces = re.split(r"(?<=[/?&=])", str(value))
    return [("seg" if len(piece) <= 40 else "long", piece) for piece in pieces if piece]


def _labelled(value: dict[Any, Any], language: str = "en") -> list[tuple[str, object]]:
    """A dict's items as (label, value) rows: 'os_version' is labelled 'os version' (in Russian
    «версия ОС»: a key the vocabulary knows is said in the language, any other as it is)."""
    return [(known(str(k).replace("_", " "), language), v) for k, v in value.items()]


def _joined(values: Iterable[object], separator: str) -> str:
    """Plain text (escaped when shown, like any value), unlike Jinja's join, which makes markup."""
    return separator.join(str(v) for v in values)


def _blank(value: object) -> bool:
    return value in (None, "", {}, [])


def _link(value: object) -> bool:
    """Shown as a URL (in breakable parts, as text): http, https and file: addresses."""
    return str(value).startswith(("http://", "https://", "file:"))


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


@cache
def _templates() -> jinja2.Environment:
    """The templates, loaded once a process (jinja2 is imported only when a report is drawn)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evidence", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    # The words and sizes in the report's language: `lang` of the context (macros are imported
    # with it), "en" where there is none.
    env.globals.update(w=jinja2.pass_context(lambda ctx, key, **values: _said(ctx.get("lang", "en"), key, values)))
    env.filters.update(
        url_pieces=_url_pieces,
        labelled=jinja2.pass_context(lambda ctx, value: _labelled(value, ctx.get("lang", "en"))),
        joined=_joined,
        size=jinja2.pass_context(lambda ctx, n: _size(n, ctx.get("lang", "en"))),
        bytes=jinja2.pass_context(lambda ctx, n: _bytes(n, ctx.get("lang", "en"))),
        utc=utc_text,
    )
    env.tests.update(blank=_blank, link=_link, list=_is_list)
    return env


def _said(language: str, key: str, values: Mapping[str, object]) -> Markup:
    """w("…") in the templates: a text of the vocabulary in the report's language. The text is
    the report's own (trusted as the templates' text is, so only &, < and > are escaped); each
    value is escaped as any {{ value }} is, but for Markup that a macro made."""
    text = Markup(escape(word(key, language), quote=False))
    return text.format(**{name: _escaped(value) for name, value in values.items()}) if values else text


def prepare(cache: Path | None = None) -> None:
    """Import Jinja2 and compile the report's templates now, so that a run can have it done on a
    thread while the browser starts rather than after the request is filed.

    With `cache`, a folder of the caller's own (the assistant's home), the compiled templates are
    kept there between processes: compiling them costs 60-80 ms of CPU a run, loading them 2 ms,
    on the two cores the browser is starting on. Jinja checks each entry against its template's
    source and its own version; an entry it cannot read is compiled afresh, and a cache that
    cannot be written only costs the time."""
    templates = _templates()
    if cache is not None and templates.bytecode_cache is None:
        try:
            cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            pass  # compiled in memory, as without a cache
        else:
            templates.bytecode_cache = _compiled_templates(cache)
    for name in ("report.html.j2", "form.html.j2"):
        templates.get_template(name)


def _compiled_templates(folder: Path) -> jinja2.BytecodeCache:
    import jinja2

    class Kept(jinja2.FileSystemBytecodeCache):
        """Jinja's file cache, forgiving: a damaged entry (Jinja catches only some of what
        unpickling it raises) is compiled again, and a full or read-only disk is not an error
        of the report's."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return Kept(str(folder))


# ------------------------------------------------------------------ what the report shows


def clocks_of(manifest: Manifest) -> Clocks:
    """The clocks the package's times are shown on (UTC alone for a package made before they were recorded)."""
    times = manifest.times
    if times is None:
        return Clocks()
    return Clocks(person_zone=times.person_zone, provider_zone=times.provider_zone, language=times.language)


def language(manifest: Manifest) -> str:
    """The language the package is read in: the person's ('en' for a package made before it was recorded)."""
    return language_of(manifest.times.language if manifest.times is not None else None)


@dataclass(frozen=True)
class _SaidClocks:
    """The package's clocks as the report says a moment: Clocks.lines, with whose clock each
    line is on in the report's language (Clocks.text's words, for English the same)."""

    clocks: Clocks
    language: str = "en"

    def said(self, at: datetime) -> list[tuple[str, str | None]]:
        """(the time, whose clock it is on: None for UTC), one line each."""
        return [
            (text, None if label == "UTC" else of(CLOCKS, label, self.language))
            for label, text in self.clocks.lines(at)
        ]

    def text(self, at: datetime) -> str:
        """All on one line: 'provider 20 Nov 2026 14:35:12 (…) · person … · 2026-11-20 11:35:12 UTC'."""
        parts = []
        for label, value in self.clocks.lines(at):
            shown = label in ("UTC", "Provider & person")
            parts.append(value if shown else f"{of(CLOCKS, label, self.language)} {value}")
        return " · ".join(parts)


# ------------------------------------------------------------------ steps in words

# A locator as the runner writes it in an action's description: key='value' (Python's repr).
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_LOCATOR = re.compile(rf"(\w+)=({_QUOTED})(?: name=({_QUOTED}))?")
_SUCCESS = re.compile(rf"wait for (text|url|selector) ({_QUOTED}) \(")
_BY_ID = re.compile(r"#([\w-]+)")
_BY_NAME = re.compile(r"(?:[\w-]*)\[name=['\"]?([^'\"\]]+)['\"]?\]")


def _unquoted(text: str) -> str:
    """A value as Python's repr wrote it, read back."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text[1:-1]
    return str(value)


def _locators(action: Action) -> dict[str, str] | None:
    """What the runner wrote after the step's kind (`click selector='#help-link'`, `fill label='Email'`,
    `wait for text='…'`), by locator; None when the description is the flow author's own words
    (a step's `describe:`)."""
    kind, text = action.kind, action.description
    if text == kind:
        return {}
    head = "wait for " if kind == "wait_for" else f"{kind} "
    if not text.startswith(head):
        return None
    rest = text[len(head) :]
    if kind in ("goto", "screenshot", "extract") or rest == "?":
        return {}
    found = _LOCATOR.fullmatch(rest)
    if found is None:
        return None
    key, value, name = found.groups()
    out = {key: _unquoted(value)}
    if name is not None:
        out["name"] = _unquoted(name)
    return out


def _field_label(selector: str, fields: list[FormField]) -> str | None:
    """The label of the submitted form's field a selector names by id or name (`#subject`,
    `[name=email]`): the page's own word for it, never the selector."""
    found = _BY_ID.fullmatch(selector) or _BY_NAME.fullmatch(selector)
    if found is None:
        return None
    wanted = found.group(1)
    return next((f.label for f in fields if f.name == wanted and f.label), None)


def step_words(action: Action, language: str = "en", fields: list[FormField] | None = None) -> str:
    """What a step did, in words: "Filled in “Full name”", «Отправка формы».

    The report's step captions and timeline say what was done, from the action's kind, and
    name the thing it was done to by the page's own words where the description has them
    (a label, a placeholder, a button's text or accessible name, the submitted form's label
    of the field a selector names; the names of uploaded files; the text a success check
    waited for). A CSS selector, a URL pattern or a test id is never shown: the exact step,
    selector and all, stays in manifest.json (actions[].description, with its flow_line). A
    flow author's own name for a step (`describe:`) is shown beside the kind's words, as the
    flow wrote it; the submit step is named by its kind alone."""
    what = of(STEPS, action.kind, language) if action.kind in STEPS else word("Action", language)
    detail: str | None = None
    quoted = True
    if action.kind == "upload" and action.uploaded:
        detail, quoted = ", ".join(u.path.rsplit("/", 1)[-1] for u in action.uploaded), False
    elif action.kind == "success":
        found = _SUCCESS.match(action.description)
        detail = _unquoted(found.group(2)) if found and found.group(1) == "text" else None
    elif action.kind not in ("submit", "lookup", "capture", "draft", "send") and action.kind in STEPS:
        locators = _locators(action)
        if locators is None:
            detail, quoted = action.description, False
        else:
            detail = next((locators[k] for k in ("label", "placeholder", "name", "text") if locators.get(k)), None)
            if detail is None and "selector" in locators:
                detail = _field_label(locators["selector"], fields or [])
    if not detail:
        return what
    if quoted:
        return f"{what} {word('“{text}”', language, text=detail)}"
    return word("{what}: {detail}", language, what=what, detail=detail)


def _caption(action: Action, language: str, fields: list[FormField]) -> str:
    """'Step 3: filled in “Full name”', «Шаг 20: отправка формы»."""
    said = step_words(action, language, fields)
    return word("Step {number}: {caption}", language, number=action.index + 1, caption=said[:1].lower() + said[1:])


def shot_groups(manifest: Manifest) -> list[tuple[str, list[FileEntry]]]:
    """Screenshots grouped by the action that took them, in order, each group with its step's
    caption in the package's language (step_words); one PDF page or more each."""
    lang = language(manifest)
    fields = manifest.form.fields if manifest.form is not None else []
    by_path = {f.path: f for f in manifest.files}
    seen: set[str] = set()
    groups: list[tuple[str, list[FileEntry]]] = []
    for action in manifest.actions:
        shots = [
            by_path[p]
            for p in action.files
            if p in by_path and by_path[p].role in SHOT_ROLES and by_path[p].media_type == "image/png" and p not in seen
        ]
        if shots:
            seen.update(s.path for s in shots)
            groups.append((_caption(action, lang, fields), shots))
    rest = [
        f
        for f in manifest.files
        if f.role in SHOT_ROLES and f.media_type == "image/png" and f.path not in seen and "stamped_of" not in f.meta
    ]
    if rest:
        groups.append((word("Other screenshots", lang), rest))
    return groups


def _timeline_zone(clocks: Clocks, at: datetime) -> tuple[str, tzinfo]:
    """The zone the timeline is written in: the person's, named with its offset."""
    local = at.astimezone(zone(clocks.person_zone))
    name = clocks.person_zone if not clocks.person_zone.startswith("Etc/") else ""
    return (f"{name} {offset_text(local)}".strip(), zone(clocks.person_zone))


def _bytes(n: int, language: str = "en") -> str:
    """'123 bytes', «123 байта»: a count of bytes, exact."""
    if language == "ru":
        return f"{n} {plural_ru(n, 'байт', 'байта', 'байт')}"
    return f"{n} bytes"


def _size(n: int, language: str = "en") -> str:
    """'12.3 kB', «12,3 кБ»; under 1000, the bytes exactly."""
    if n < 1000:
        return _bytes(n, language)
    units = ("кБ", "МБ", "ГБ") if language == "ru" else ("kB", "MB", "GB")
    size, step = n / 1000, 0
    while size >= 1000 and step < len(units) - 1:
        size, step = size / 1000, step + 1
    unit, text = units[step], f"{size:.1f}"
    return f"{text.replace('.', ',') if language == 'ru' else text} {unit}"


def _case_rows(case: dict[str, Any], language: str = "en") -> list[tuple[str, object, datetime | None]]:
    """(label, value, moment): the incident's time, when it reads as one, is shown on every clock;
    the category by its label (the flow's, when the manifest records it as category_label), not its key."""
    rows: list[tuple[str, object, datetime | None]] = []
    for key, value in case.items():
        at = None
        if key == "incident_at" and value:
            try:
                at = datetime.fromisoformat(str(value))
            except ValueError:
                pass
        if key == "category_label":
            continue
        if key == "category" and isinstance(value, str) and value:
            label = case.get("category_label")
            value = category_label(value, label if isinstance(label, str) else None, language)
        rows.append((known(key.replace("_", " "), language), value, at))
    return rows


@dataclass(frozen=True)
class _ClockCheck:
    cls: str  # 'ok', or 'warn' past CLOCK_TOLERANCE
    text: str


@dataclass(frozen=True)
class _Time:
    rows: list[tuple[str, object]]
    authority_time: datetime | None = None
    signer: str | None = None
    clock_check: _ClockCheck | None = None


_ZONE_FROM = re.compile(r"the case's incident_at offset \((.*)\)")


def _time(manifest: Manifest, lang: str = "en") -> _Time:
    times = manifest.times
    if times is None:
        return _Time(rows=[])
    source = times.person_zone_from
    if found := _ZONE_FROM.fullmatch(source):
        source = word("the case's incident_at offset ({offset})", lang, offset=found.group(1))
    rows: list[tuple[str, object]] = [
        (word("provider's time zone", lang), times.provider_zone or "—"),
        (word("person's time zone", lang), word("{zone} (from {source})", lang, zone=times.person_zone, source=source)),
        (word("this machine's clock", lang), known(times.clock, lang) if times.clock else None),
    ]
    rows += _provider_clock(manifest, lang)
    check = None
    if times.clock_offset_seconds is not None:
        delta = timedelta(seconds=times.clock_offset_seconds)
        check = _ClockCheck("warn" if abs(delta) > CLOCK_TOLERANCE else "ok", _clock_words(delta, lang))
    return _Time(rows, times.authority_time, times.authority_signer, check)


def _clock_words(delta: timedelta, lang: str) -> str:
    """times.describe_difference, in the report's language."""
    if lang != "ru":
        return describe_difference(delta)
    seconds = delta.total_seconds()
    key = (
        "this machine's clock is {seconds} s behind the timestamp authority's"
        if seconds > 0
        else "this machine's clock is {seconds} s ahead of the timestamp authority's"
    )
    return word(key, lang, seconds=f"{abs(seconds):.1f}".replace(".", ","))


def _provider_clock(manifest: Manifest, lang: str = "en") -> list[tuple[str, object]]:
    """The provider's own clock, from the Date header of its last answer to the click, beside
    this machine's clock when that answer arrived. A Date is to the second, so a difference
    within two seconds is none."""
    answers = manifest.submission.answers if manifest.submission else []
    dated = [a for a in answers if a.provider_time is not None and a.received_at is not None]
    if not dated:
        return []
    last = dated[-1]
    assert last.provider_time is not None and last.received_at is not None
    drift = last.provider_time - last.received_at
    seconds = drift.total_seconds()
    if abs(seconds) <= 2:
        said = word("the same, to the second", lang)
    elif seconds > 0:
        said = word("this machine's clock was {seconds} s behind the provider's", lang, seconds=f"{abs(seconds):.0f}")
    else:
        said = word("this machine's clock was {seconds} s ahead of the provider's", lang, seconds=f"{abs(seconds):.0f}")
    return [
        (
            word("provider's clock", lang),
            word(
                "{date} (the Date header of its last answer to the form, HTTP {status}); this machine's clock read "
                "{received} as it arrived: {said}",
                lang,
                date=last.date,
                status=last.status,
                received=utc_text(last.received_at),
                said=said,
            ),
        )
    ]


@dataclass(frozen=True)
class _Step:
    number: int
    start: str  # on the timeline's clock
    took: str
    description: str
    url: str | None
    status: str
    failed: bool
    error: str | None
    shots: list[str]  # names of the screenshots taken after it


@dataclass(frozen=True)
class _Timeline:
    day: str
    zone: str
    utc: str
    steps: list[_Step]


def _timeline(manifest: Manifest, clocks: Clocks, by_path: dict[str, FileEntry], lang: str = "en") -> _Timeline | None:
    """Every action, said in words (step_words): the exact description stays in manifest.json."""
    if not manifest.actions:
        return None
    fields = manifest.form.fields if manifest.form is not None else []
    first = manifest.actions[0].started_at
    zone_name, tz = _timeline_zone(clocks, first)
    day = local_text(first.astimezone(tz), clocks.language).rsplit(" ", 1)[0]
    steps = [
        _Step(
            number=a.index + 1,
            start=a.started_at.astimezone(tz).strftime("%H:%M:%S"),
            took=_seconds(a.ended_at - a.started_at, lang),
            description=step_words(a, lang, fields),
            url=a.url_after,
            status=of(STATUSES, a.status, lang),
            failed=a.status == "failed",
            error=a.error,
            shots=[p.rsplit("/", 1)[-1] for p in a.files if p in by_path and by_path[p].role == "step"],
        )
        for a in manifest.actions
    ]
    return _Timeline(day=day, zone=zone_name, utc=utc_text(first), steps=steps)


def _seconds(took: timedelta, lang: str) -> str:
    """'1.5 s', «1,5 с»."""
    text = f"{took.total_seconds():.1f}"
    return f"{text.replace('.', ',')} с" if lang == "ru" else f"{text} s"


DATED_BY = {
    "exif": "file dated (photo's EXIF DateTimeOriginal)",
    "mtime": "file modified (its file-system time)",
}


@dataclass(frozen=True)
class _Attachment:
    file: FileEntry
    dated: str | None = None  # on every clock
    dated_by: str = "file dated"
    made_from: list[str] | None = None  # a file this tool made (fitted), from these


def _attachments(manifest: Manifest, clocks: _SaidClocks, lang: str = "en") -> list[_Attachment]:
    out = []
    for f in manifest.files:
        if f.role not in ("attachment", "attachment-fitted"):
            continue
        dated = f.meta.get("dated")
        if dated:
            at = datetime.fromisoformat(str(dated))
            by = DATED_BY.get(str(f.meta.get("dated_from")), "file dated")
            out.append(_Attachment(f, dated=clocks.text(at), dated_by=word(by, lang)))
        elif f.role == "attachment-fitted":
            out.append(_Attachment(f, made_from=list(f.meta.get("from", []))))
        else:
            out.append(_Attachment(f))
    return out


@dataclass(frozen=True)
class _Page:
    """A page snapshot kept beside a picture; inert: what evidence.inert did to it, if anything."""

    file: FileEntry
    inert: dict[str, Any]
    removed: str  # that, in words


@dataclass(frozen=True)
class _Shot:
    file: FileEntry  # the original PNG
    stamped: FileEntry | None
    image: str  # the picture shown: the stamped copy when there is one
    captured: str
    pages: list[_Page] = field(default_factory=list)


def _shots(
    manifest: Manifest, clocks: _SaidClocks, by_path: dict[str, FileEntry], lang: str = "en"
) -> list[tuple[str, list[_Shot]]]:
    groups = []
    for heading, entries in shot_groups(manifest):
        shots = []
        for shot in entries:
            stamped = by_path.get(shot.meta.get("stamped", ""))
            pages = []
            for path in (shot.meta.get("html"), shot.meta.get("mhtml")):
                if path in by_path:
                    made = by_path[path].meta.get("inert") or {}
                    removed = _removed(made.get("removed") or {}, lang) if made else ""
                    pages.append(_Page(by_path[path], made, removed))
            shots.append(
                _Shot(
                    file=shot,
                    stamped=stamped,
                    image=stamped.path if stamped else shot.path,
                    captured=clocks.text(shot.captured_at) if shot.captured_at else "?",
                    pages=pages,
                )
            )
        groups.append((heading, shots))
    return groups


def _removed(removed: dict[str, int], lang: str) -> str:
    """What evidence.inert took out of a page, in words: '2 scripts, 1 handler', «скрипты: 2, …»."""
    if lang != "ru":
        return inert_words(removed)
    if not removed:
        return word("nothing needed taking out", lang)
    return ", ".join(f"{known(what, lang)}: {n}" for what, n in sorted(removed.items()))


def _capture_rows(manifest: Manifest, lang: str = "en") -> list[tuple[str, object]]:
    """The machine and the browser, as rows: what the manifest holds, in words."""
    env = manifest.environment
    data = env.model_dump(exclude_none=True, exclude={"reported_device"})
    viewport = data.pop("viewport", None)
    if viewport:
        size = {"width": viewport.get("width"), "height": viewport.get("height")}
        data["viewport"] = word("{width} × {height} CSS pixels", lang, **size)
    if "utc_offset" in data:
        data["utc_offset"] = f"UTC{data['utc_offset']}"
    data["os"] = " ".join(str(x) for x in (data.pop("os", ""), data.pop("os_version", "")) if x)
    if args := data.get("launch_args"):
        # Sixty switches are a page no reader reads: the manifest keeps them, the report says where.
        data["launch_args"] = word(
            "{count} switches, listed in manifest.json (environment.launch_args)", lang, count=len(args)
        )
    if "headless" in data:
        data["headless"] = word("yes (no window)" if data["headless"] else "no (a visible window)", lang)
    checks = data.pop("tls", [])
    labels = {
        "locale": word("browser locale (the person's)", lang),
        "timezone": word("browser time zone (the person's)", lang),
        "utc_offset": word("this machine's UTC offset", lang),
    }
    for check in env.tls:  # one line per HTTPS origin
        verdict = word("validated" if check.validated else "NOT validated", lang)
        details = "; ".join(
            x
            for x in (
                check.how,
                check.protocol,
                word("subject {subject}", lang, subject=check.subject) if check.subject else "",
                word("issuer {issuer}", lang, issuer=check.issuer) if check.issuer else "",
                word("valid to {date}", lang, date=utc_text(check.valid_to, seconds=False)) if check.valid_to else "",
            )
            if x
        )
        key = f"certificate of {check.origin}"
        labels[key] = word("certificate of {origin}", lang, origin=check.origin)
        data[key] = f"{verdict} ({details})"
    if not checks:
        data["certificates"] = word("none recorded (no HTTPS page was loaded)", lang)
    return [(labels.get(k) or known(k.replace("_", " "), lang), v) for k, v in data.items()]


def _form(form: SubmittedForm | None) -> dict[str, Any]:
    """What form.html.j2 needs: the form, and each part of its request with whether it only
    repeats a text field above (the same words, with the CRLF line breaks browsers send)."""
    parts: list[tuple[BodyPart, bool]] = []
    if form is not None and form.request is not None:
        held = {f.name: f.value for f in form.fields if isinstance(f.value, str) and "\n" in f.value}
        for part in form.request.parts:
            repeats = (
                part.file is None
                and bool(part.value)
                and held.get(part.name) == (part.value or "").replace("\r\n", "\n")
            )
            parts.append((part, repeats))
    return {"form": form, "parts": parts}


def _filing_rows(manifest: Manifest, lang: str = "en") -> list[tuple[str, object]]:
    """The flow that filed the request, and what came of it (the submission's time aside)."""
    rows: list[tuple[str, object]] = []
    if flow := manifest.flow:
        rows += [
            (word("flow", lang), f"{flow.id} v{flow.version}"),
            (word("flow file", lang), f"{flow.file} (SHA-256 {flow.sha256})"),
        ]
    if sub := manifest.submission:
        outcome = of(OUTCOMES, sub.outcome, lang)
        none_given = word("none given on the provider's page", lang) if sub.outcome == "accepted" else None
        rows += [
            (word("outcome", lang), word("{outcome} (dry run)", lang, outcome=outcome) if sub.dry_run else outcome),
            (word("why", lang), sub.reason),
            (word("request number", lang), sub.confirmation or none_given),
        ]
    return rows


@cache
def by_hand_block() -> str:
    """The by-hand check (templates/by-hand.sh): the block docs/evidence.md gives, which a test
    keeps the same, so the report a provider reads and the docs never tell two ways."""
    from importlib.resources import files

    return (files("evidence") / "templates" / "by-hand.sh").read_text(encoding="utf-8")


def render_html(manifest: Manifest) -> str:
    """report.html, in the package's language (see language())."""
    by_path = {f.path: f for f in manifest.files}
    lang = language(manifest)
    clocks = clocks_of(manifest)
    said = _SaidClocks(clocks, lang)
    context: dict[str, Any] = {
        "lang": lang,
        "manifest": manifest,
        "clocks": said,
        "title": manifest.case.get("subject") or word("Evidence package", lang),
        "case_rows": _case_rows(manifest.case, lang),
        "filing_rows": _filing_rows(manifest, lang),
        "time": _time(manifest, lang),
        "authority": manifest.timestamp_authority,
        "timeline": _timeline(manifest, clocks, by_path, lang),
        "attachments": _attachments(manifest, said, lang),
        "shots": _shots(manifest, said, by_path, lang),
        "device_rows": _labelled(manifest.environment.reported_device or {}, lang),
        "capture_rows": _capture_rows(manifest, lang),
        "fingerprint": manifest.signer.fingerprint if manifest.signer else None,
        "by_hand": by_hand_block(),
        **_form(manifest.form),
    }
    return _templates().get_template("report.html.j2").render(context)


def submitted_form(manifest: Manifest) -> str:
    """The "Submitted form" section: each field as the page held it at the click, and the request it made."""
    return _templates().get_template("form.html.j2").render(lang=language(manifest), **_form(manifest.form))


def picture_for_sheet(
    root: Path, stamped: FileEntry, by_path: dict[str, FileEntry], clocks: Clocks | None
) -> Image.Image:
    """The contact sheet's picture of one stamped copy, made from its original PNG and what the
    manifest says of it: the same picture the stamping threads make during a run."""
    from .stamp import banner_fields, banner_labels, sheet_picture

    lang = clocks.language if clocks is not None else "en"
    original = by_path.get(str(stamped.meta.get("stamped_of")))
    if original is None or original.captured_at is None:
        return sheet_picture(root / stamped.path, banner_labels([("File", stamped.path)], lang))
    fields = banner_fields(
        original.captured_at,
        str(original.meta.get("url") or ""),
        str(stamped.meta.get("case_ref") or ""),
        original.meta.get("title"),
        clocks,
    )
    return sheet_picture(root / original.path, banner_labels(fields, lang))


def contact_sheet(
    root: Path,
    files: list[FileEntry],
    *,
    columns: int = 2,
    thumbnails: dict[str, Any] | None = None,
    clocks: Clocks | None = None,
) -> bytes | None:
    """One JPEG with every stamped screenshot, for forms that take only images: at most two
    pictures a row, 600 px each, so that each banner reads at 100 % (13 px text).

    thumbnails: pictures already made on the stamping threads (stamp.sheet_picture), by package path."""
    from PIL import Image, ImageDraw

    from .stamp import SHEET_WIDTH, font

    columns = max(1, min(columns, 2))
    stamped = [f for f in files if "stamped_of" in f.meta]
    if not stamped:
        return None
    by_path = {f.path: f for f in files}
    made = thumbnails or {}
    thumbs = []
    for f in stamped:
        thumb = made.get(f.path)
        if thumb is None:
            thumb = picture_for_sheet(root, f, by_path, clocks)
        thumbs.append((f.path.rsplit("/", 1)[-1], thumb))
    label_h, pad = 24, 12
    width = max(SHEET_WIDTH, max(t.width for _, t in thumbs))
    rows = [thumbs[i : i + columns] for i in range(0, len(thumbs), columns)]
    heights = [max(t.height for _, t in row) + label_h for row in rows]
    sheet = Image.new("RGB", (columns * (width + pad) + pad, sum(heights) + pad * (len(rows) + 1)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    fnt = font(14)
    y = pad
    for row, cell_h in zip(rows, heights, strict=True):
        for i, (name, thumb) in enumerate(row):
            x = pad + i * (width + pad)
            draw.text((x, y + 3), name, font=fnt, fill=(0, 0, 0))
            sheet.paste(thumb, (x, y + label_h))
            draw.rectangle(
                (x - 1, y + label_h - 1, x + thumb.width, y + label_h + thumb.height), outline=(150, 150, 150)
            )
        y += cell_h + pad
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()
