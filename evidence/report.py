"""report.html (and, rendered by the browser, report.pdf) and a contact sheet.

Everything that came from a page or a person is escaped: a page title
carrying <script> is shown as text. The report also forbids scripts outright
with a Content-Security-Policy, in case a future change forgets to escape.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .manifest import FileEntry, Manifest, SentFile

if TYPE_CHECKING:
    from PIL import Image

SHOT_ROLES = ("screenshot", "review", "confirmation", "failure", "capture")

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 11pt; color: #111; margin: 24px; }
h1 { font-size: 18pt; margin: 0 0 4px; } h2 { font-size: 14pt; margin: 22px 0 8px; border-bottom: 2px solid #c9a400; }
h3 { font-size: 12pt; margin: 12px 0 6px; }
h2, h3 { break-after: avoid; } tr { break-inside: avoid; } thead { display: table-header-group; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; }
td, th { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; font-size: 9.5pt; }
th { background: #f3f0e0; }
.k { width: 26%; color: #444; }
pre { white-space: pre-wrap; word-break: break-word; background: #fafafa; border: 1px solid #ddd; padding: 8px; font-size: 10pt; }
code, .hash { font-family: 'DejaVu Sans Mono', monospace; font-size: 8.5pt; word-break: break-all; }
.group { break-before: page; }
figure { margin: 0 0 14px; break-inside: avoid; }
figure img { max-width: 100%; max-height: 21cm; border: 1px solid #999; }
figcaption { font-size: 9pt; color: #333; }
.ok { color: #06610f; } .failed { color: #a00; font-weight: bold; }
.note { color: #555; font-size: 9.5pt; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _rows(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f"<tr><td class='k'>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in pairs if v not in (None, "", {}))


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


def render_html(manifest: Manifest) -> str:
    by_path = {f.path: f for f in manifest.files}
    case = manifest.case
    sub = manifest.submission
    title = case.get("subject") or "Evidence package"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)} — evidence</title><style>{CSS}</style></head><body>",
        f"<h1>Evidence: {_e(title)}</h1>",
        f"<p class='note'>Package made {_e(manifest.created_at.isoformat())} by {_e(manifest.tool)}. "
        "Every file's SHA-256 is in manifest.json and SHA256SUMS; see “How to verify” at the end.</p>",
        "<h2>Case</h2><table>",
        _rows([(k.replace("_", " "), v) for k, v in case.items()]),
    ]
    if manifest.flow:
        parts.append(_rows([("flow", f"{manifest.flow.id} v{manifest.flow.version} (sha256 {manifest.flow.sha256})")]))
    if sub:
        parts.append(
            _rows(
                [
                    ("outcome", sub.outcome + (" (dry run)" if sub.dry_run else "")),
                    ("request number", sub.confirmation),
                    ("submitted at (UTC)", sub.submitted_at.isoformat() if sub.submitted_at else None),
                    ("confirmation page", sub.confirmation_url),
                ]
            )
        )
    parts.append("</table>")
    if manifest.request:
        parts.append(
            f"<h2>Request as sent</h2><h3>{_e(manifest.request.get('subject'))}</h3>"
            f"<pre>{_e(manifest.request.get('body'))}</pre>"
        )
    parts.append(submitted_form(manifest))
    day = manifest.actions[0].started_at.strftime("%Y-%m-%d") if manifest.actions else ""
    parts.append(
        f"<h2>Timeline ({_e(day)}, UTC)</h2><table><thead><tr><th>#</th><th>start</th><th>end</th>"
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
        parts.append(
            f"<tr><td>{a.index + 1}</td><td>{_e(a.started_at.strftime('%H:%M:%S.%f')[:-3])}</td>"
            f"<td>{_e(a.ended_at.strftime('%H:%M:%S.%f')[:-3])}</td><td>{_e(a.description)}</td>"
            f"<td><code>{_e(a.url_after)}</code></td><td>{status}</td></tr>"
        )
    parts.append("</table>")
    if manifest.fitting:
        parts.append(
            "<h2>Attachments fitted to the provider's limits</h2><p class='note'>The originals are in the package unchanged.</p><table>"
        )
        for fit in manifest.fitting:
            parts.append(
                f"<tr><td class='k'>{_e(fit.result)} ({fit.size} bytes)</td><td>from {_e(', '.join(fit.sources))}: "
                f"{_e('; '.join(fit.actions))}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<h2>Screenshots</h2><p class='note'>Each picture is the stamped copy; the original PNG "
        "(same page, no banner, lossless) and its hash are named below it.</p>"
    )
    for heading, shots in shot_groups(manifest):
        parts.append(f"<section class='group'><h3>{_e(heading)}</h3>")
        for shot in shots:
            stamped = by_path.get(shot.meta.get("stamped", ""))
            image = stamped.path if stamped else shot.path
            parts.append(
                f"<figure><img src='{_e(image)}' alt='{_e(shot.path)}'><figcaption>"
                f"<b>{_e(shot.path)}</b> — captured {_e(shot.captured_at.isoformat() if shot.captured_at else '?')}<br>"
                f"URL: <code>{_e(shot.meta.get('url'))}</code><br>Page title: {_e(shot.meta.get('title'))}<br>"
                f"SHA-256 original: <span class='hash'>{_e(shot.sha256)}</span>"
                + (f"<br>SHA-256 stamped: <span class='hash'>{_e(stamped.sha256)}</span>" if stamped else "")
                + "</figcaption></figure>"
            )
        parts.append("</section>")
    env = manifest.environment.model_dump(exclude_none=True)
    parts.append("<section class='group'><h2>Capture environment</h2><table>")
    parts.append(_rows([(k.replace("_", " "), v) for k, v in env.items()]))
    parts.append("</table>")
    parts.append("<h2>Files</h2><table><tr><th>path</th><th>bytes</th><th>SHA-256</th></tr>")
    for f in manifest.files:
        parts.append(
            f"<tr><td><code>{_e(f.path)}</code></td><td>{f.size}</td><td class='hash'>{_e(f.sha256)}</td></tr>"
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
        + "<p>Or, with the tool: <code>assistant evidence verify PACKAGE</code>.</p></section>"
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
        f"({_e(form.read_at.strftime('%Y-%m-%d %H:%M:%S UTC'))}), on <code>{_e(form.page_url)}</code>. "
        "Passwords and secrets are masked.</p>",
        "<table><thead><tr><th>field</th><th>name</th><th>value</th></tr></thead>",
    ]
    for item in form.fields:
        if item.files:
            value = "<br>".join(file_cell(f) for f in item.files)
        elif item.checked is not None:
            value = f"{'checked' if item.checked else 'not checked'} ({_e(item.value)})"
        else:
            value = shown(item.value)
        out.append(
            f"<tr><td class='k'>{_e(item.label or item.name)}</td><td><code>{_e(item.name)}</code> "
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
        f"sent {_e(request.sent_at.strftime('%Y-%m-%d %H:%M:%S UTC') if request.sent_at else '?')}. "
        f"{_e(request.note)}</span></p>"
    )
    if request.parts:
        out.append("<table><thead><tr><th>part</th><th>value</th></tr></thead>")
        held = {f.name: f.value for f in form.fields if isinstance(f.value, str) and "\n" in f.value}
        for part in request.parts:
            value = file_cell(part.file) if part.file is not None else shown(part.value)
            if part.file is None and part.value and held.get(part.name) == part.value.replace("\r\n", "\n"):
                # A long text once is enough: the same words, with the line breaks browsers send.
                value = (
                    "<span class='note'>the text of the field above, line for line (sent with CRLF line breaks)</span>"
                )
            out.append(f"<tr><td class='k'><code>{_e(part.name)}</code></td><td>{value}</td></tr>")
        out.append("</table>")
    elif request.text:
        out.append(f"<pre>{_e(request.text)}</pre>")
    return "".join(out)


THUMB_WIDTH = 420


def thumbnail(stamped: bytes | Path, thumb_width: int = THUMB_WIDTH) -> Image.Image:
    """One stamped copy as the contact sheet shows it (a Pillow image); made on the stamping
    threads while a run goes on, or here when the sheet is made."""
    from PIL import Image

    with Image.open(io.BytesIO(stamped) if isinstance(stamped, bytes) else stamped) as img:
        ratio = thumb_width / img.width
        height = min(int(img.height * ratio), int(thumb_width * 1.6))
        # JPEG can decode straight to a fraction of its size: far cheaper than
        # decoding 1280 px and throwing most of it away.
        img.draft("RGB", (thumb_width, int(img.height * ratio)))
        rgb = img.convert("RGB")
        thumb = rgb.resize(
            (thumb_width, int(rgb.height * thumb_width / rgb.width)), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
    # very tall full-page shots: keep the top and the banner at the bottom
    if thumb.height > height:
        banner = thumb.crop((0, thumb.height - 60, thumb_width, thumb.height))
        top = thumb.crop((0, 0, thumb_width, height - 60))
        thumb = Image.new("RGB", (thumb_width, height))
        thumb.paste(top, (0, 0))
        thumb.paste(banner, (0, height - 60))
    return thumb


def contact_sheet(
    root: Path,
    files: list[FileEntry],
    *,
    columns: int = 3,
    thumb_width: int = THUMB_WIDTH,
    thumbnails: dict[str, Any] | None = None,
) -> bytes | None:
    """One JPEG with every stamped screenshot, for forms that take only images.

    thumbnails: pictures already made by thumbnail(), by package path."""
    from PIL import Image, ImageDraw

    from .stamp import font

    stamped = [f for f in files if "stamped_of" in f.meta]
    if not stamped:
        return None
    made = thumbnails if thumb_width == THUMB_WIDTH and thumbnails else {}
    thumbs = []
    for f in stamped:
        thumb = made.get(f.path)
        if thumb is None:
            thumb = thumbnail(root / f.path, thumb_width)
        thumbs.append((f.path.rsplit("/", 1)[-1], thumb))
    label_h, pad = 22, 10
    cell_h = max(t.height for _, t in thumbs) + label_h
    rows = (len(thumbs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (thumb_width + pad) + pad, rows * (cell_h + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    fnt = font(14)
    for i, (name, thumb) in enumerate(thumbs):
        x = pad + (i % columns) * (thumb_width + pad)
        y = pad + (i // columns) * (cell_h + pad)
        draw.text((x, y + 2), name, font=fnt, fill=(0, 0, 0))
        sheet.paste(thumb, (x, y + label_h))
        draw.rectangle((x - 1, y + label_h - 1, x + thumb.width, y + label_h + thumb.height), outline=(150, 150, 150))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=80, optimize=True)
    return buffer.getvalue()
