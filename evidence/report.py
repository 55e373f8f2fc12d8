"""report.html (and, rendered by the browser, report.pdf) and a contact sheet.

Everything that came from a page or a person is escaped: a page title
carrying <script> is shown as text. The report also forbids scripts outright
with a Content-Security-Policy, in case a future change forgets to escape.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .inert import describe as inert_words
from .manifest import FileEntry, Manifest, SentFile
from .times import CLOCK_TOLERANCE, Clocks, describe_difference, local_text, offset_text, utc_text, zone

if TYPE_CHECKING:
    from PIL import Image

SHOT_ROLES = ("screenshot", "review", "confirmation", "failure", "capture")

CSS = """
@page { size: A4; }
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 11pt; color: #111; margin: 0 8px; }
h1 { font-size: 18pt; margin: 0 0 4px; } h2 { font-size: 14pt; margin: 20px 0 8px; border-bottom: 2px solid #c9a400; }
h3 { font-size: 12pt; margin: 12px 0 6px; }
h2, h3 { break-after: avoid; } tr { break-inside: avoid; } thead { display: table-header-group; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; table-layout: auto; }
td, th { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; font-size: 9.5pt;
         overflow-wrap: break-word; }
th { background: #f3f0e0; }
.k { width: 26%; color: #444; }
pre { white-space: pre-wrap; overflow-wrap: break-word; background: #fafafa; border: 1px solid #ddd; padding: 8px;
      font-size: 10pt; }
code, .url { font-family: 'DejaVu Sans Mono', monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
.url .seg { white-space: nowrap; } .url .long { overflow-wrap: anywhere; }
.hash { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt; word-break: break-all; }
figure { margin: 0 0 12px; break-inside: avoid; }
figure img { display: block; max-width: 100%; max-height: 15cm; border: 1px solid #999; }
.nowrap { white-space: nowrap; }
figcaption { font-size: 9pt; color: #333; }
.ok { color: #06610f; } .failed { color: #a00; font-weight: bold; } .warn { color: #a05a00; font-weight: bold; }
.note { color: #555; font-size: 9.5pt; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _url(value: object) -> str:
    """A URL that breaks after '/', '?', '&' or '=' when it must, never inside a part of it
    (not even at the '-' of DEMO-000123); only a part too long for any line may break anywhere."""
    if value in (None, ""):
        return ""
    pieces = re.split(r"(?<=[/?&=])", str(value))
    out = []
    for piece in pieces:
        if not piece:
            continue
        cls = "seg" if len(piece) <= 40 else "long"
        out.append(f"<span class='{cls}'>{_e(piece)}</span>")
    return "<span class='url'>" + "<wbr>".join(out) + "</span>"


def _cell(value: object) -> str:
    """A value as a table cell shows it: a dict as a small table of its own, a list one per line."""
    if isinstance(value, dict):
        return "<table>" + _rows((str(k).replace("_", " "), v) for k, v in value.items()) + "</table>"
    if isinstance(value, (list, tuple)):
        return "<br>".join(_cell(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(("http://", "https://", "file:")):
        return _url(text)
    return _e(text)


def _rows(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(
        f"<tr><td class='k'>{_e(k)}</td><td>{_cell(v)}</td></tr>" for k, v in pairs if v not in (None, "", {}, [])
    )


def clocks_of(manifest: Manifest) -> Clocks:
    """The clocks the package's times are shown on (UTC alone for a package made before they were recorded)."""
    times = manifest.times
    if times is None:
        return Clocks()
    return Clocks(person_zone=times.person_zone, provider_zone=times.provider_zone, language=times.language)


def _when(clocks: Clocks, at: datetime | None) -> str:
    """A moment on every clock, one per line."""
    if at is None:
        return ""
    return "<br>".join(
        f"{_e(value)}" + (f" <span class='note'>({_e(label.lower())})</span>" if label not in ("UTC",) else "")
        for label, value in clocks.lines(at)
    )


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


def _trusted_time(manifest: Manifest, clocks: Clocks) -> list[str]:
    times = manifest.times
    parts = ["<h2>Time</h2><table>"]
    rows: list[tuple[str, object]] = []
    if times is not None:
        rows.append(("provider's time zone", times.provider_zone or "—"))
        rows.append(("person's time zone", f"{times.person_zone} (from {times.person_zone_from})"))
        rows.append(("this machine's clock", times.clock))
    parts.append(_rows(rows))
    if times is not None and times.authority_time is not None:
        parts.append(
            f"<tr><td class='k'>trusted timestamp (RFC 3161)</td><td>{_when(clocks, times.authority_time)}<br>"
            f"signed by <b>{_e(times.authority_signer)}</b>"
            + (
                f" (<span class='url'>{_e(manifest.timestamp_authority)}</span>)"
                if manifest.timestamp_authority
                else ""
            )
            + "<br><span class='note'>over the list of captured files, report/captured.sums; the sealed manifest has "
            "a timestamp of its own, manifest.tsr</span></td></tr>"
        )
        if times.clock_offset_seconds is not None:
            delta = timedelta(seconds=times.clock_offset_seconds)
            cls = "warn" if abs(delta) > CLOCK_TOLERANCE else "ok"
            parts.append(
                f"<tr><td class='k'>clock check</td><td class='{cls}'>{_e(describe_difference(delta))}"
                + (" (more than 2 minutes: the capture times above are off by as much)" if cls == "warn" else "")
                + "</td></tr>"
            )
    elif manifest.timestamp_authority:
        parts.append(
            "<tr><td class='k'>trusted timestamp (RFC 3161)</td><td>the sealed manifest is timestamped "
            f"(manifest.tsr, asked of <span class='url'>{_e(manifest.timestamp_authority)}</span>); "
            "`assistant evidence verify` shows its time and signer</td></tr>"
        )
    else:
        parts.append(
            "<tr><td class='k'>trusted timestamp</td><td>none: the times are this machine's clock, "
            "signed but not certified by a timestamp authority</td></tr>"
        )
    parts.append("</table>")
    return parts


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1000  # type: ignore[assignment]
    return str(n)


def _attachments(manifest: Manifest, clocks: Clocks) -> list[str]:
    files = [f for f in manifest.files if f.role in ("attachment", "attachment-fitted")]
    if not files:
        return []
    parts = [
        "<h2>Attachments</h2><table><thead><tr><th>file</th><th>size</th><th>dated</th><th>SHA-256</th></tr></thead>"
    ]
    for f in files:
        dated = f.meta.get("dated")
        source = f.meta.get("dated_from")
        if dated:
            at = datetime.fromisoformat(str(dated))
            when = _e(clocks.text(at))
            label = {
                "exif": "file dated (photo's EXIF DateTimeOriginal)",
                "mtime": "file modified (its file-system time)",
            }
            when = f"<span class='note'>{_e(label.get(str(source), 'file dated'))}</span><br>{when}"
        elif f.role == "attachment-fitted":
            when = "<span class='note'>made by this tool from " + _e(", ".join(f.meta.get("from", []))) + "</span>"
        else:
            when = "<span class='note'>not known</span>"
        parts.append(
            f"<tr><td>{_url(f.path)}</td><td class='nowrap'>{_size(f.size)}</td><td>{when}</td>"
            f"<td class='hash'>{_e(f.sha256)}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _environment(manifest: Manifest) -> list[str]:
    env = manifest.environment
    reported = env.reported_device
    parts = [
        "<h2>The person's device</h2><p class='note'>As the person reported it in the case; this tool did not see it.</p>"
    ]
    parts.append("<table>" + _rows((k.replace("_", " "), v) for k, v in (reported or {}).items()) + "</table>")
    if not reported:
        parts.append("<p class='note'>The case names no device.</p>")
    parts.append(
        "<h2>The capture environment</h2><p class='note'>This machine and the browser that filled the form and "
        "took the screenshots.</p><table>"
    )
    data = env.model_dump(exclude_none=True, exclude={"reported_device"})
    viewport = data.pop("viewport", None)
    if viewport:
        data["viewport"] = f"{viewport.get('width')} × {viewport.get('height')} CSS pixels"
    if "utc_offset" in data:
        data["utc_offset"] = f"UTC{data['utc_offset']}"
    data["os"] = " ".join(str(x) for x in (data.pop("os", ""), data.pop("os_version", "")) if x)
    if data.get("launch_args"):
        # A switch like --disable-features=A,B,C is one long word: it may break after "," and "=".
        data["launch_args"] = " ".join(a.replace(",", ",\u200b").replace("=", "=\u200b") for a in data["launch_args"])
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
    parts.append(_rows((labels.get(k, k.replace("_", " ")), v) for k, v in data.items()))
    parts.append("</table>")
    return parts


def _snapshots(shot: FileEntry, by_path: dict[str, FileEntry]) -> str:
    """The page behind a picture, as kept: made inert (evidence.inert), with what it was."""
    kept = [by_path[p] for p in (shot.meta.get("html"), shot.meta.get("mhtml")) if p in by_path]
    if not kept:
        return ""
    lines = []
    for entry in kept:
        made = entry.meta.get("inert") or {}
        if made:
            lines.append(
                f"<br>Page snapshot {_e(entry.path)}: made inert (scripts, handlers and outside references "
                f"taken out: {_e(inert_words(made.get('removed') or {}))}); the page as captured had SHA-256 "
                f"<span class='hash'>{_e(made.get('original_sha256'))}</span>"
            )
        else:
            lines.append(f"<br>Page snapshot {_e(entry.path)}")
    return "".join(lines)


def render_html(manifest: Manifest) -> str:
    by_path = {f.path: f for f in manifest.files}
    case = manifest.case
    sub = manifest.submission
    clocks = clocks_of(manifest)
    title = case.get("subject") or "Evidence package"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)} — evidence</title><style>{CSS}</style></head><body>",
        f"<h1>Evidence: {_e(title)}</h1>",
        f"<p class='note'>Package made {_e(clocks.text(manifest.created_at))} by {_e(manifest.tool)}. "
        "Every file's SHA-256 is in manifest.json and SHA256SUMS; see “How to verify” at the end.</p>",
        "<h2>Case</h2><table>",
    ]
    for key, value in case.items():
        if key == "incident_at" and value:
            try:
                at = datetime.fromisoformat(str(value))
            except ValueError:
                parts.append(_rows([("incident at", value)]))
                continue
            parts.append(f"<tr><td class='k'>incident at</td><td>{_when(clocks, at)}</td></tr>")
            continue
        parts.append(_rows([(key.replace("_", " "), value)]))
    if manifest.flow:
        parts.append(
            _rows(
                [
                    ("flow", f"{manifest.flow.id} v{manifest.flow.version}"),
                    ("flow file", f"{manifest.flow.file} (SHA-256 {manifest.flow.sha256})"),
                ]
            )
        )
    if sub:
        parts.append(
            _rows(
                [
                    ("outcome", sub.outcome + (" (dry run)" if sub.dry_run else "")),
                    ("why", sub.reason),
                    ("request number", sub.confirmation),
                ]
            )
        )
        if sub.submitted_at:
            parts.append(f"<tr><td class='k'>submitted at</td><td>{_when(clocks, sub.submitted_at)}</td></tr>")
        parts.append(_rows([("confirmation page", sub.confirmation_url)]))
    parts.append("</table>")
    parts.extend(_trusted_time(manifest, clocks))
    if manifest.request:
        parts.append(
            f"<h2>Request as sent</h2><h3>{_e(manifest.request.get('subject'))}</h3>"
            f"<pre>{_e(manifest.request.get('body'))}</pre>"
        )
    parts.append(submitted_form(manifest))
    if manifest.actions:
        first = manifest.actions[0].started_at
        zone_name, tz = _timeline_zone(clocks, first)
        day = local_text(first.astimezone(tz), clocks.language).rsplit(" ", 1)[0]
        parts.append(
            f"<h2>Timeline</h2><p class='note'>{_e(day)}, times in {_e(zone_name)} "
            f"(the person's clock); UTC is {_e(utc_text(first))} at the first step.</p>"
            "<table><thead><tr><th>#</th><th>start</th><th>took</th>"
            "<th>action</th><th>page after</th><th>result</th></tr></thead>"
        )
    # Screenshots taken after each action are listed here by name (their hashes are in
    # the file list); the pictures below are the captures: named, review, confirmation.
    for a in manifest.actions:
        status = f"<span class='{'failed' if a.status == 'failed' else 'ok'}'>{_e(a.status)}</span>"
        if a.error:
            status += f"<br>{_e(a.error)}"
        steps = [p for p in a.files if p in by_path and by_path[p].role == "step"]
        if steps:
            status += (
                "<br><span class='note'>screenshot: " + ", ".join(_e(p.rsplit("/", 1)[-1]) for p in steps) + "</span>"
            )
        took = (a.ended_at - a.started_at).total_seconds()
        parts.append(
            f"<tr><td>{a.index + 1}</td><td>{_e(a.started_at.astimezone(tz).strftime('%H:%M:%S'))}</td>"
            f"<td>{took:.1f} s</td><td>{_e(a.description)}</td>"
            f"<td>{_url(a.url_after)}</td><td>{status}</td></tr>"
        )
    if manifest.actions:
        parts.append("</table>")
    parts.extend(_attachments(manifest, clocks))
    if manifest.fitting:
        parts.append(
            "<h2>Attachments fitted to the provider's limits</h2><p class='note'>The originals are in the package unchanged.</p><table>"
        )
        for fit in manifest.fitting:
            parts.append(
                f"<tr><td class='k'>{_e(fit.result)} ({_size(fit.size)})</td><td>from {_e(', '.join(fit.sources))}: "
                f"{_e('; '.join(fit.actions))}</td></tr>"
            )
        parts.append("</table>")
    groups = shot_groups(manifest)
    if groups:
        parts.append(
            "<h2>Screenshots</h2><p class='note'>Each picture is the stamped copy; the original PNG "
            "(same page, no banner, lossless) and its hash are named below it.</p>"
        )
    for heading, shots in groups:
        parts.append(f"<section><h3>{_e(heading)}</h3>")
        for shot in shots:
            stamped = by_path.get(shot.meta.get("stamped", ""))
            image = stamped.path if stamped else shot.path
            parts.append(
                f"<figure><img src='{_e(image)}' alt='{_e(shot.path)}'><figcaption>"
                f"<b>{_e(shot.path)}</b> — captured {_e(clocks.text(shot.captured_at) if shot.captured_at else '?')}<br>"
                f"URL: {_url(shot.meta.get('url'))}<br>Page title: {_e(shot.meta.get('title'))}<br>"
                f"SHA-256 original: <span class='hash'>{_e(shot.sha256)}</span>"
                + (f"<br>SHA-256 stamped: <span class='hash'>{_e(stamped.sha256)}</span>" if stamped else "")
                + (
                    f"<br><span class='warn'>Only part of the page: {_e(shot.meta['cut'])}</span>"
                    if shot.meta.get("cut")
                    else ""
                )
                + (
                    f"<br><span class='warn'>Blacked out: {_e(shot.meta['secret_hidden'])} place(s) where the page "
                    "showed a password or secret typed in this run</span>"
                    if shot.meta.get("secret_hidden")
                    else ""
                )
                + _snapshots(shot, by_path)
                + "</figcaption></figure>"
            )
        parts.append("</section>")
    parts.extend(_environment(manifest))
    parts.append("<h2>Files</h2><table><thead><tr><th>path</th><th>size</th><th>SHA-256</th></tr></thead>")
    for f in manifest.files:
        parts.append(
            f"<tr><td>{_url(f.path)}</td><td class='nowrap'>{_size(f.size)}</td><td class='hash'>{_e(f.sha256)}</td></tr>"
        )
    parts.append("</table>")
    fingerprint = manifest.signer.fingerprint if manifest.signer else None
    parts.append(
        "<h2>How to verify</h2><p>Unzip the package and, in its folder, run:</p><pre>"
        "openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \\\n"
        "    -in SHA256SUMS -sigfile SHA256SUMS.sig     # the list of hashes was signed by this key\n"
        "sha256sum -c --strict SHA256SUMS              # every file is as listed\n"
        "openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \\\n"
        "    -in manifest.json -sigfile manifest.sig    # the manifest was signed by this key\n"
        + (
            "openssl ts -verify -in manifest.tsr -data manifest.json \\\n"
            "    -CAfile TSA-CA.pem                       # the manifest existed at the authority's time\n"
            if manifest.timestamp_authority
            else ""
        )
        + "</pre>"
        + (
            f"<p>Signing key fingerprint (SHA-256 of the raw Ed25519 key): <span class='hash'>{_e(fingerprint)}</span></p>"
            if fingerprint
            else ""
        )
        + (
            f"<p>Timestamp authority: <code>{_e(manifest.timestamp_authority)}</code>; TSA-CA.pem is that "
            "authority's published CA certificate.</p>"
            if manifest.timestamp_authority
            else ""
        )
        + (
            "<p>report/captured.tsr is the authority's timestamp on report/captured.sums (the files captured "
            "before this report was written): <code>openssl ts -verify -in report/captured.tsr -data "
            "report/captured.sums -CAfile TSA-CA.pem</code>.</p>"
            if CAPTURED_TOKEN in by_path
            else ""
        )
        + "<p>Or, with the tool: <code>assistant evidence verify PACKAGE</code>.</p>"
    )
    parts.append("</body></html>\n")
    return "".join(parts)


def submitted_form(manifest: Manifest) -> str:
    """The "Submitted form" section: each field as the page held it at the click, and the request it made."""
    form = manifest.form
    if form is None:
        return ""

    def shown(value: object) -> str:
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        return f"<pre>{_e(value)}</pre>" if isinstance(value, str) and "\n" in value else _e(value)

    def file_cell(f: SentFile) -> str:
        return f"{_e(f.name)} ({f.size} bytes)<br><span class='hash'>SHA-256 {_e(f.sha256 or 'unknown')}</span>" + (
            f"<br><span class='note'>= {_e(f.path)}</span>" if f.path else ""
        )

    out = [
        "<h2>Submitted form</h2>",
        f"<p class='note'>The fields as the page held them right before the submit click "
        f"({_e(utc_text(form.read_at))}), on <code>{_e(form.page_url)}</code>. "
        "Passwords and secrets are masked.</p>",
        # Fixed columns: a long hash or a long line of the text wraps instead of widening the page.
        "<table style='table-layout:fixed'><col style='width:24%'><col style='width:18%'><col>"
        "<thead><tr><th>field</th><th>name</th><th>value</th></tr></thead>",
    ]
    for item in form.fields:
        if item.files:
            value = "<br>".join(file_cell(f) for f in item.files)
        elif item.checked is not None:
            value = f"{'checked' if item.checked else 'not checked'} ({_e(item.value)})"
        else:
            value = shown(item.value)
        out.append(
            f"<tr><td>{_e(item.label or item.name)}</td><td><code>{_e(item.name)}</code> "
            f"<span class='note'>{_e(item.type)}</span></td><td>{value}</td></tr>"
        )
    out.append("</table>")
    request = form.request
    if request is None:
        out.append(f"<p class='note'>{_e(form.note or 'No request was seen after the click.')}</p>")
        return "".join(out)
    out.append(
        f"<h3>The request the click made</h3><p><b>{_e(request.method)}</b> <code>{_e(request.url)}</code><br>"
        f"<span class='note'>{_e(request.content_type)}; Content-Length {_e(request.content_length)}; "
        f"sent {_e(utc_text(request.sent_at) if request.sent_at else '?')}. "
        f"{_e(request.note)}</span></p>"
    )
    if request.parts:
        out.append(
            "<table style='table-layout:fixed'><col style='width:24%'><col>"
            "<thead><tr><th>part</th><th>value</th></tr></thead>"
        )
        held = {f.name: f.value for f in form.fields if isinstance(f.value, str) and "\n" in f.value}
        for part in request.parts:
            value = file_cell(part.file) if part.file is not None else shown(part.value)
            if part.file is None and part.value and held.get(part.name) == part.value.replace("\r\n", "\n"):
                # A long text once is enough: the same words, with the line breaks browsers send.
                value = (
                    "<span class='note'>the text of the field above, line for line (sent with CRLF line breaks)</span>"
                )
            out.append(f"<tr><td><code>{_e(part.name)}</code></td><td>{value}</td></tr>")
        out.append("</table>")
    elif request.text:
        out.append(f"<pre>{_e(request.text)}</pre>")
    return "".join(out)


# Where finish() keeps the timestamp over the files captured before the report (see package.py).
CAPTURED_SUMS = "report/captured.sums"
CAPTURED_TOKEN = "report/captured.tsr"


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
