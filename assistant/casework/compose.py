"""The request text a provider reads, built from the case and a template.

The structure follows what the source documents ask of a request that gets
answered (docs/support-requests.md): a 5-7 word subject, a greeting, the situation
with dates and times, steps already taken, the desired outcome (the demands,
for a complaint), the evidence attached (names, capture times, hashes),
identifiers, the device, earlier request numbers, contacts.

Wording lives in text templates beside the flows (`flows/templates/`), one per
kind of text and language: `request.ru.txt`, `followup.en.txt`, … A flow can
override any of them with `templates/<flow-id>/<kind>.<lang>.txt` next to its
file. Templates use the same `{{ name }}` expressions as flows (no code runs);
a line whose expressions are all empty is dropped, and so is a paragraph left
with no lines, so optional sections disappear cleanly.

A request that goes with an evidence package names the key that signs it
(`{{ signing_key }}`, in the request and follow-up templates): the provider's
own copy of the request then says whose package is theirs, and `assistant
evidence verify` finds the same key in what the package records as sent. A
draft with no package (an escalation, a script, `assistant compose`) names none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import InputError
from assistant.language import templating
from assistant.language.case import Case
from assistant.translation import _
from evidence import keys

if TYPE_CHECKING:
    from assistant.language.flow import Flow

LANGS = ("ru", "en")
KINDS = ("request", "followup", "regulator", "claim", "review", "phone", "chat")

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

CHANNELS = {
    "ru": {"web_form": "форма на сайте", "email": "электронная почта", "phone": "телефон", "chat": "чат"},
    "en": {"web_form": "web form", "email": "email", "phone": "phone", "chat": "chat"},
}


@dataclass
class Request:
    subject: str
    body: str
    language: str = "en"
    kind: str = "request"
    evidence: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------ dates


def _offset(value: dt.datetime) -> str:
    delta = value.utcoffset() or dt.timedelta(0)
    sign = "+" if delta >= dt.timedelta(0) else "-"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_datetime(value: dt.datetime, lang: str, tz: dt.tzinfo | None = None, *, paren: bool = True) -> str:
    """ru: 20.11.2026 14:35 (UTC+03:00); en: 20 November 2026, 14:35 (UTC+03:00).

    Shown in `tz` (the person's offset, from the case's incident_at) so every
    date in one request reads on the same clock.
    """
    if tz is not None:
        value = value.astimezone(tz)
    zone = f"({_offset(value)})" if paren else _offset(value)
    if lang == "ru":
        return f"{value:%d.%m.%Y %H:%M} {zone}"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}, {value:%H:%M} {zone}"


def format_date(value: dt.date, lang: str) -> str:
    if lang == "ru":
        return f"{value:%d.%m.%Y}"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


# --------------------------------------------------------------- evidence


def file_date(path: Path, tz: dt.tzinfo) -> tuple[dt.datetime, str]:
    """What date a file carries, and where it comes from: a photo's EXIF DateTimeOriginal
    ("exif"), else the file's modification time ("mtime"), which may be when it was copied.
    Neither is when this tool captured anything: it did not capture the person's files."""
    try:
        from evidence.fit import sniff

        # A PDF has no EXIF; Pillow, asked to open one, would first load every image plugin it has.
        if sniff(path) != "application/pdf":
            from PIL import Image

            with Image.open(path) as image:
                raw = image.getexif().get_ifd(0x8769).get(0x9003)
            if raw:
                # EXIF has no zone: a phone writes its local time, taken to be the person's.
                taken = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=tz)
                return taken, "exif"
    except Exception:  # not an image, or no usable EXIF: fall back to the file's time
        pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz), "mtime"


DATED = {
    ("ru", "exif"): "файл датирован {when} (EXIF)",
    ("ru", "mtime"): "файл изменён {when} (время файла)",
    ("en", "exif"): "file dated {when} (EXIF)",
    ("en", "mtime"): "file last modified {when} (file system)",
}


def describe_evidence(
    paths: Iterable[Path | str], case: Case, fitted: dict[str, FittedFile] | None = None
) -> list[dict[str, Any]]:
    """Name, date (see file_date) and hash of each file; `fitted` says which are copies fitted to the form."""
    tz = case.incident_at.tzinfo or dt.UTC  # always set: incident_at is an aware datetime
    known = {p.name: p for p in case.attachments}
    out: list[dict[str, Any]] = []
    for item in paths:
        path = Path(item) if not isinstance(item, str) else known.get(item)
        if path is None or not path.is_file():
            out.append({"name": str(item), "dated_at": None, "dated_from": None, "sha256": None, "size": None})
            continue
        data = path.read_bytes()
        dated_at, dated_from = file_date(path, tz)
        out.append(
            {
                "name": path.name,
                "dated_at": dated_at,
                "dated_from": dated_from,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "fitted": (fitted or {}).get(path.name),
            }
        )
    return out


@dataclass(frozen=True)
class FittedFile:
    """A file sent in place of the person's own: where it came from and whether only its name changed."""

    sources: tuple[str, ...]
    renamed_only: bool


def fitted_files(fitted: Iterable[Any]) -> dict[str, FittedFile]:
    """By file name, the copies fitted to a form (evidence.fit's `Fitted`: path, sources, actions)."""
    return {
        item.path.name: FittedFile(
            tuple(p.name for p in item.sources), all(a.startswith("renamed ") for a in item.actions)
        )
        for item in fitted
        if item.actions
    }


def fitting_note(fitting: FittedFile, lang: str) -> str:
    """The request text says when a file is not the one the person gave, so nobody is misled by its name."""
    names = ", ".join(fitting.sources)
    if lang == "ru":
        if fitting.renamed_only:
            return f"переименован из {names} по правилам сервиса"
        return f"из {names}, приведён к ограничениям сервиса"
    if fitting.renamed_only:
        return f"renamed from {names} to fit the provider's rules"
    return f"from {names}, fitted to the provider's limits"


# ------------------------------------------------------------ signing key

# Where a home folder keeps the person's key; assistant.pipeline.signer signs every package with
# it (a test holds the two to the same key).
KEY_FILE = Path("keys", "evidence-ed25519.pem")


def signing_key(home: Path) -> str:
    """The fingerprint of the key this home's packages are signed with, made now if there is none
    yet (as sealing would make it): the request names it, before anything is sent."""
    path = home / KEY_FILE
    try:
        return keys.Signer.load_or_create(path).fingerprint
    except (OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(
            _(
                "{path}: the evidence signing key cannot be used ({reason}); nothing was sent. Move the file "
                "away to have a new key made (packages signed before then stay signed by the old one)"
            ).format(path=path, reason=reason)
        ) from None


# --------------------------------------------------------------- subject


def suggest_subject(description: str, words: int = 7) -> str:
    """The first sentence, cut to `words` words: a start the person can edit."""
    first = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0]
    tokens = first.rstrip(".!?").split()
    return " ".join(tokens[:words])


def subject_words(subject: str) -> int:
    return len([t for t in re.split(r"\s+", subject.strip()) if re.search(r"\w", t)])


# -------------------------------------------------------------- templates


# A request's wording is a few paragraphs; a template file past this is not one.
TEMPLATE_BYTES = 64 * 1024


def template_dirs(flow: Flow | None = None) -> list[Path]:
    """Where templates are looked up: beside the flow's own file (`templates/<flow-id>/`, then
    `templates/`), then the assistant's own. Never another folder of flows: a pack of someone
    else's flows must not change what the request of a flow it does not hold says."""
    return [directory for directory, _own in _template_places(flow)]


def _template_places(flow: Flow | None) -> list[tuple[Path, Path | None]]:
    """(folder, the flow's own `templates` folder it is in, None for the assistant's own)."""
    from assistant.language.catalog import bundled

    places: list[tuple[Path, Path | None]] = []
    if flow is not None and flow.source is not None:
        own = Path(flow.path).resolve().parent / "templates"
        places += [(own / flow.id, own), (own, own)]
    ours = bundled() / "templates"
    if flow is not None:
        places.append((ours / flow.id, None))
    places.append((ours, None))
    first: dict[Path, Path | None] = {}
    for directory, inside in places:
        first.setdefault(directory, inside)
    return list(first.items())


def find_template(kind: str, lang: str, flow: Flow | None = None) -> Path:
    name = f"{kind}.{lang}.txt"
    for directory, own in _template_places(flow):
        path = directory / name
        # From `templates/` down, each part is the folder's own: a link would read any file here.
        chain = [] if own is None else [own, *([directory] if directory != own else []), path]
        links = [p for p in chain if p.is_symlink()]
        if links:
            raise InputError(
                _(
                    "{file}: a link; a flow's templates are read only from files of its own folder, "
                    "so copy the text there instead"
                ).format(file=links[0])
            )
        if path.is_file():
            return path
    raise InputError(
        _("no template {name} in {folders}").format(name=name, folders=", ".join(str(d) for d in template_dirs(flow)))
    )


def read_template(path: Path) -> str:
    """The template's text; refused past TEMPLATE_BYTES or when it is not UTF-8, naming the file."""
    with path.open("rb") as handle:
        data = handle.read(TEMPLATE_BYTES + 1)
    if len(data) > TEMPLATE_BYTES:
        raise InputError(
            _("{file}: larger than {size} KB; a request template is a few paragraphs").format(
                file=path, size=TEMPLATE_BYTES // 1024
            )
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            _("{file}: not UTF-8 text (byte {at}); save it as UTF-8").format(file=path, at=exc.start)
        ) from None


def render_template(text: str, context: dict[str, Any], where: str = "template") -> str:
    """Render; drop lines whose expressions are all empty, then paragraphs left empty."""
    paragraphs = re.split(r"\n[ \t]*\n", text.strip("\n"))
    out = []
    for paragraph in paragraphs:
        lines = []
        seen_expression = seen_value = False
        for line in paragraph.split("\n"):
            expressions = [expression.text for expression in templating.expressions(line)]
            values = []
            for expression in expressions:
                try:
                    value = templating.evaluate(expression, context)
                except templating.TemplateError as exc:
                    raise InputError(f"{where}: {{{{ {expression} }}}}: {exc}") from None
                values.append("" if value is None else str(value))
            seen_expression = seen_expression or bool(expressions)
            seen_value = seen_value or any(v.strip() for v in values)
            if expressions and not any(v.strip() for v in values):
                continue
            rendered = iter(values)
            lines.append(templating.substitute(line, lambda _text: next(rendered)).rstrip())  # noqa: B023 (used at once)
        if lines and (seen_value or not seen_expression):
            out.append("\n".join(lines))
    text = "\n\n".join(out) + "\n"
    # "#. " at the start of a line numbers the lines kept, so a dropped one leaves no gap.
    counter = iter(range(1, 1000))
    return re.sub(r"(?m)^#\. ", lambda _m: f"{next(counter)}. ", text)


# ---------------------------------------------------------------- context


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def context_for(
    case: Case,
    lang: str,
    evidence: list[dict[str, Any]],
    flow: Flow | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, str]:
    tz = case.incident_at.tzinfo
    ru = lang == "ru"
    device = ""
    if case.device:
        d = case.device
        parts = [
            d.model,
            " ".join(p for p in (d.os, d.os_version) if p),
            (("приложение " if ru else "app ") + d.app_version) if d.app_version else None,
            d.browser,
        ]
        device = ", ".join(p for p in parts if p)
    evidence_lines = []
    for item in evidence:
        if item["sha256"] is None:
            evidence_lines.append(item["name"])
            continue
        when = format_datetime(item["dated_at"], lang, tz, paren=False)
        note = f"{fitting_note(item['fitted'], lang)}; " if item.get("fitted") else ""
        dated = DATED[("ru" if ru else "en", item["dated_from"])].format(when=when)
        evidence_lines.append(f"{item['name']} ({note}{dated}; SHA-256 {item['sha256']})")

    def reference(prev, dated: str) -> str:
        if prev.number:
            text = ("№ " if ru else "No. ") + prev.number
        else:  # accepted by a page that gave no number: the date and channel say which request
            text = "обращение (номер не присвоен)" if ru else "my request (no number was given)"
        if prev.date:
            text += (" от " if ru else dated) + format_date(prev.date, lang)
        if prev.channel:
            text += f" ({CHANNELS[lang].get(prev.channel, prev.channel)})"
        return text

    previous = [reference(prev, " of ") for prev in case.previous_requests]
    today = dt.datetime.now(tz).date()
    timeline = []
    for prev in case.previous_requests:
        text = reference(prev, " filed on ")
        if prev.due and prev.due < today:
            text += ("; срок ответа истёк " if ru else "; the answer was due by ") + format_date(prev.due, lang)
        elif prev.due:
            text += ("; срок ответа — до " if ru else "; the answer is due by ") + format_date(prev.due, lang)
        timeline.append(text)
    dues = [p.due for p in case.previous_requests if p.due and p.due < today]
    category = ""
    if flow is not None and case.category in flow.categories:
        category = flow.categories[case.category].label
    context = {
        "subject": case.subject or suggest_subject(case.description),
        "description": case.description.strip(),
        "when": format_datetime(case.incident_at, lang),
        "order_id": case.order_id or "",
        "account": case.account or "",
        "device": device,
        "steps": _bullets(case.steps_taken),
        "outcome": (case.desired_outcome or "").strip(),
        # A complaint states demands; any other request states a wish.
        "wish": "" if case.category == "complaint" else (case.desired_outcome or "").strip(),
        "demands": (case.desired_outcome or "").strip() if case.category == "complaint" else "",
        "evidence": _bullets(evidence_lines),
        "previous": _bullets(previous),
        "full_name": case.contacts.full_name,
        "phone": case.contacts.phone,
        "email": case.contacts.email,
        "provider": (flow.provider or flow.name) if flow is not None else case.provider,
        "category": category,
        "timeline": _bullets(timeline),
        "earlier_intro": (
            ("Я уже обращался(ась) по этому вопросу:" if ru else "I have already contacted you about this:")
            if timeline
            else ""
        ),
        "overdue_since": format_date(max(dues), lang) if dues else "",
        "numbers": ", ".join(p.number for p in case.previous_requests if p.number),
        "today": format_date(today, lang),
        "summary": (case.subject or suggest_subject(case.description)).rstrip(".") + ".",
        "signing_key": "",  # compose(signed_by=…): only a request that goes with a signed package
    }
    for key, value in (extra or {}).items():
        context[key] = "" if value is None else str(value)
    return context


def compose(
    case: Case,
    attachments: Iterable[Path | str] | None = None,
    *,
    flow: Flow | None = None,
    lang: str | None = None,
    kind: str = "request",
    subject: str | None = None,
    extra: dict[str, Any] | None = None,
    fitted: dict[str, FittedFile] | None = None,
    signed_by: str | None = None,
) -> Request:
    """Write the request (or a follow-up, escalation or script) from the case.

    `attachments` are the files that go with it (paths, or names of the case's
    attachments); by default the case's own. `fitted` (by file name) marks the
    copies fitted to the form's rules, which the text then names as such.
    `signed_by` is the fingerprint of the key that will sign the request's
    evidence package (`signing_key`), for the templates' `{{ signing_key }}`.
    """
    lang = lang or case.language
    kind = case.kind if kind == "request" else kind
    if lang not in LANGS:
        raise InputError(_("--lang: '{lang}' is not one of {known}").format(lang=lang, known=", ".join(LANGS)))
    evidence = describe_evidence(case.attachments if attachments is None else list(attachments), case, fitted)
    context = context_for(case, lang, evidence, flow, extra)
    if subject is not None:
        context["subject"] = subject
    if signed_by is not None:
        context["signing_key"] = keys.named(signed_by)
    path = find_template(kind, lang, flow)
    body = render_template(read_template(path), context, str(path))
    return Request(subject=context["subject"], body=body.rstrip("\n"), language=lang, kind=kind, evidence=evidence)
