"""report.html (and, rendered by the browser, report.pdf) and a contact sheet.

The report is drawn by the Jinja templates in evidence/templates/ (package data), with
autoescape: everything that came from a page or a person is escaped, so a page title
carrying <script> is shown as text. This module works out what the templates show (rows,
times, groups) as plain values; the markup is the templates'. Nothing from outside is
marked safe. The report also forbids scripts outright with a Content-Security-Policy, in
case a future change forgets to escape.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .inert import describe as inert_words
from .manifest import BodyPart, FileEntry, Manifest, SubmittedForm
from .times import CLOCK_TOLERANCE, Clocks, describe_difference, local_text, offset_text, utc_text, zone

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


def _labelled(value: dict[Any, Any]) -> list[tuple[str, object]]:
    """A dict's items as (label, value) rows: 'os_version' is labelled 'os version'."""
    return [(str(k).replace("_", " "), v) for k, v in value.items()]


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
    env.filters.update(url_pieces=_url_pieces, labelled=_labelled, joined=_joined, size=_size, utc=utc_text)
    env.tests.update(blank=_blank, link=_link, list=_is_list)
    return env


def prepare() -> None:
    """Import Jinja2 and compile the report's templates now (~70-110 ms), so that a run can have
    it done on a thread while the browser starts rather than after the request is filed."""
    templates = _templates()
    for name in ("report.html.j2", "form.html.j2"):
        templates.get_template(name)


# ------------------------------------------------------------------ what the report shows


def clocks_of(manifest: Manifest) -> Clocks:
    """The clocks the package's times are shown on (UTC alone for a package made before they were recorded)."""
    times = manifest.times
    if times is None:
        return Clocks()
    return Clocks(person_zone=times.person_zone, provider_zone=times.provider_zone, language=times.language)


def shot_groups(manifest: Manifest) -> list[tuple[str, list[FileEntry]]]:
    """Screenshots grouped by the action that took them, in order; one PDF page or more each."""
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
            groups.append((f"Step {action.index + 1}: {action.description}", shots))
    rest = [
        f
        for f in manifest.files
        if f.role in SHOT_ROLES and f.media_type == "image/png" and f.path not in seen and "stamped_of" not in f.meta
    ]
    if rest:
        groups.append(("Other screenshots", rest))
    return groups


def _timeline_zone(clocks: Clocks, at: datetime) -> tuple[str, tzinfo]:
    """The zone the timeline is written in: the person's, named with its offset."""
    local = at.astimezone(zone(clocks.person_zone))
    name = clocks.person_zone if not clocks.person_zone.startswith("Etc/") else ""
    return (f"{name} {offset_text(local)}".strip(), zone(clocks.person_zone))


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1000  # type: ignore[assignment]
    return str(n)


def _case_rows(case: dict[str, Any]) -> list[tuple[str, object, datetime | None]]:
    """(label, value, moment): the incident's time, when it reads as one, is shown on every clock."""
    rows: list[tuple[str, object, datetime | None]] = []
    for key, value in case.items():
        at = None
        if key == "incident_at" and value:
            try:
                at = datetime.fromisoformat(str(value))
            except ValueError:
                pass
        rows.append((key.replace("_", " "), value, at))
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


def _time(manifest: Manifest) -> _Time:
    times = manifest.times
    if times is None:
        return _Time(rows=[])
    rows: list[tuple[str, object]] = [
        ("provider's time zone", times.provider_zone or "—"),
        ("person's time zone", f"{times.person_zone} (from {times.person_zone_from})"),
        ("this machine's clock", times.clock),
    ]
    rows += _provider_clock(manifest)
    check = None
    if times.clock_offset_seconds is not None:
        delta = timedelta(seconds=times.clock_offset_seconds)
        check = _ClockCheck("warn" if abs(delta) > CLOCK_TOLERANCE else "ok", describe_difference(delta))
    return _Time(rows, times.authority_time, times.authority_signer, check)


def _provider_clock(manifest: Manifest) -> list[tuple[str, object]]:
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
    said = (
        "the same, to the second"
        if abs(seconds) <= 2
        else f"this machine's clock was {abs(seconds):.0f} s {'behind' if seconds > 0 else 'ahead of'} the provider's"
    )
    return [
        (
            "provider's clock",
            f"{last.date} (the Date its server gave the answer {last.status} to {last.method} {last.url}); "
            f"this machine's clock read {utc_text(last.received_at)} as it arrived: {said}",
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


def _timeline(manifest: Manifest, clocks: Clocks, by_path: dict[str, FileEntry]) -> _Timeline | None:
    if not manifest.actions:
        return None
    first = manifest.actions[0].started_at
    zone_name, tz = _timeline_zone(clocks, first)
    day = local_text(first.astimezone(tz), clocks.language).rsplit(" ", 1)[0]
    steps = [
        _Step(
            number=a.index + 1,
            start=a.started_at.astimezone(tz).strftime("%H:%M:%S"),
            took=f"{(a.ended_at - a.started_at).total_seconds():.1f} s",
            description=a.description,
            url=a.url_after,
            status=a.status,
            failed=a.status == "failed",
            error=a.error,
            shots=[p.rsplit("/", 1)[-1] for p in a.files if p in by_path and by_path[p].role == "step"],
        )
        for a in manifest.actions
    ]
    return _Timeline(day=day, zone=zone_name, utc=utc_text(first), steps=steps)


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


def _attachments(manifest: Manifest, clocks: Clocks) -> list[_Attachment]:
    out = []
    for f in manifest.files:
        if f.role not in ("attachment", "attachment-fitted"):
            continue
        dated = f.meta.get("dated")
        if dated:
            at = datetime.fromisoformat(str(dated))
            by = DATED_BY.get(str(f.meta.get("dated_from")), "file dated")
            out.append(_Attachment(f, dated=clocks.text(at), dated_by=by))
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


def _shots(manifest: Manifest, clocks: Clocks, by_path: dict[str, FileEntry]) -> list[tuple[str, list[_Shot]]]:
    groups = []
    for heading, entries in shot_groups(manifest):
        shots = []
        for shot in entries:
            stamped = by_path.get(shot.meta.get("stamped", ""))
            pages = []
            for path in (shot.meta.get("html"), shot.meta.get("mhtml")):
                if path in by_path:
                    made = by_path[path].meta.get("inert") or {}
                    removed = inert_words(made.get("removed") or {}) if made else ""
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


def _capture_rows(manifest: Manifest) -> list[tuple[str, object]]:
    """The machine and the browser, as rows: what the manifest holds, in words."""
    env = manifest.environment
    data = env.model_dump(exclude_none=True, exclude={"reported_device"})
    viewport = data.pop("viewport", None)
    if viewport:
        data["viewport"] = f"{viewport.get('width')} × {viewport.get('height')} CSS pixels"
    if "utc_offset" in data:
        data["utc_offset"] = f"UTC{data['utc_offset']}"
    data["os"] = " ".join(str(x) for x in (data.pop("os", ""), data.pop("os_version", "")) if x)
    if args := data.get("launch_args"):
        # Sixty switches are a page no reader reads: the manifest keeps them, the report says where.
        data["launch_args"] = f"{len(args)} switches, listed in manifest.json (environment.launch_args)"
    if "headless" in data:
        data["headless"] = "yes (no window)" if data["headless"] else "no (a visible window)"
    checks = data.pop("tls", [])
    for check in env.tls:  # one line per HTTPS origin
        verdict = "validated" if check.validated else "NOT validated"
        details = "; ".join(
            x
            for x in (
                check.how,
                check.protocol,
                f"subject {check.subject}" if check.subject else "",
                f"issuer {check.issuer}" if check.issuer else "",
                f"valid to {utc_text(check.valid_to, seconds=False)}" if check.valid_to else "",
            )
            if x
        )
        data[f"certificate of {check.origin}"] = f"{verdict} ({details})"
    if not checks:
        data["certificates"] = "none recorded (no HTTPS page was loaded)"
    labels = {
        "locale": "browser locale (the person's)",
        "timezone": "browser time zone (the person's)",
        "utc_offset": "this machine's UTC offset",
    }
    return [(labels.get(k, k.replace("_", " ")), v) for k, v in data.items()]


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


def _filing_rows(manifest: Manifest) -> list[tuple[str, object]]:
    """The flow that filed the request, and what came of it (the submission's time aside)."""
    rows: list[tuple[str, object]] = []
    if flow := manifest.flow:
        rows += [("flow", f"{flow.id} v{flow.version}"), ("flow file", f"{flow.file} (SHA-256 {flow.sha256})")]
    if sub := manifest.submission:
        rows += [
            ("outcome", sub.outcome + (" (dry run)" if sub.dry_run else "")),
            ("why", sub.reason),
            (
                "request number",
                sub.confirmation or ("none given on the provider's page" if sub.outcome == "accepted" else None),
            ),
        ]
    return rows


@cache
def by_hand_block() -> str:
    """The by-hand check (templates/by-hand.sh): the block docs/evidence.md gives, which a test
    keeps the same, so the report a provider reads and the docs never tell two ways."""
    from importlib.resources import files

    return (files("evidence") / "templates" / "by-hand.sh").read_text(encoding="utf-8")


def render_html(manifest: Manifest) -> str:
    by_path = {f.path: f for f in manifest.files}
    clocks = clocks_of(manifest)
    context: dict[str, Any] = {
        "manifest": manifest,
        "clocks": clocks,
        "title": manifest.case.get("subject") or "Evidence package",
        "case_rows": _case_rows(manifest.case),
        "filing_rows": _filing_rows(manifest),
        "time": _time(manifest),
        "authority": manifest.timestamp_authority,
        "timeline": _timeline(manifest, clocks, by_path),
        "attachments": _attachments(manifest, clocks),
        "shots": _shots(manifest, clocks, by_path),
        "device_rows": _labelled(manifest.environment.reported_device or {}),
        "capture_rows": _capture_rows(manifest),
        "fingerprint": manifest.signer.fingerprint if manifest.signer else None,
        "by_hand": by_hand_block(),
        **_form(manifest.form),
    }
    return _templates().get_template("report.html.j2").render(context)


def submitted_form(manifest: Manifest) -> str:
    """The "Submitted form" section: each field as the page held it at the click, and the request it made."""
    return _templates().get_template("form.html.j2").render(**_form(manifest.form))


def picture_for_sheet(
    root: Path, stamped: FileEntry, by_path: dict[str, FileEntry], clocks: Clocks | None
) -> Image.Image:
    """The contact sheet's picture of one stamped copy, made from its original PNG and what the
    manifest says of it: the same picture the stamping threads make during a run."""
    from .stamp import banner_fields, sheet_picture

    original = by_path.get(str(stamped.meta.get("stamped_of")))
    if original is None or original.captured_at is None:
        return sheet_picture(root / stamped.path, [("File", stamped.path)])
    fields = banner_fields(
        original.captured_at,
        str(original.meta.get("url") or ""),
        str(stamped.meta.get("case_ref") or ""),
        original.meta.get("title"),
        clocks,
    )
    return sheet_picture(root / original.path, fields)


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
