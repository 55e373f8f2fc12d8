"""Evidence is read, never run: page snapshots made inert before they are kept.

Saved as it was, a page's HTML is a live page: opened in an ordinary browser its scripts
run and its references load from wherever they point (a hostile page's snapshot sent 24
requests to its author's host when opened). So every HTML snapshot, and the HTML inside
every MHTML snapshot, is parsed as a browser parses it (Lexbor, an HTML5 parser, through
selectolax; declarative shadow roots and templates included) and then:

- its scripts go: <script>, <noscript>, every on… handler attribute, <base>, a
  <meta http-equiv> refresh or set-cookie, SVG animations that would set a link;
- its references stay as data, not as links: each URL attribute (href, src, srcset,
  action, formaction, poster, ping, xlink:href, srcdoc, …) becomes data-inert-<name> with
  the same value, so the evidence still says where a link pointed and where the form
  posted, while nothing loads, navigates or sends. Kept: #fragments, data:image/… pictures
  and, in an MHTML archive, references to the archive's own parts (its Content-Location
  and cid: addresses), which is how the archive shows its pictures and styles;
- a Content-Security-Policy is its first element. For HTML it forbids everything that
  is not inline style or a data: picture or font (CSS url()s and @imports included). In
  an archive the pictures, styles and frames are checked by their original addresses, so
  its policy forbids scripts, plug-ins, connections and form posts only; Chromium loads
  nothing from the network for an archive, and the archive's references that lead outside
  it were taken out above.

In an MHTML archive every text part (HTML, CSS, SVG, JSON) is decoded before the run's
secrets are scrubbed from it, as quoted-printable breaks lines and escapes '=': a byte
search of the raw archive misses a password that a page echoed.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass, field
from email import quoprimime
from email.message import Message
from html import escape as html_escape
from typing import Any, Protocol
from urllib.parse import urljoin

CSP_HTML = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline' data:; font-src data:; "
    "form-action 'none'; base-uri 'none'"
)
CSP_ARCHIVE = (
    "script-src 'none'; object-src 'none'; connect-src 'none'; worker-src 'none'; form-action 'none'; base-uri 'none'"
)
PREFIX = "data-inert-"
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "srcset",
        "imagesrcset",
        "action",
        "formaction",
        "poster",
        "background",
        "data",
        "codebase",
        "classid",
        "archive",
        "cite",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "profile",
        "manifest",
        "icon",
        "ping",
        "srcdoc",
        "attributionsrc",
    }
)
NAVIGATIONS = frozenset({"href", "action", "formaction", "ping", "srcdoc"})  # no data: picture here
REMOVED = "script, noscript, base"
SVG_ANIMATIONS = frozenset({"animate", "set", "animatemotion", "animatetransform", "discard"})
TEXT_PARTS = ("text/", "application/json", "application/javascript", "image/svg+xml", "application/xml")


class Scrubber(Protocol):
    """What inert needs of the run's secrets (evidence.scrub.Secrets)."""

    def text(self, text: str) -> str: ...

    def bytes(self, data: bytes) -> bytes: ...

    def url(self, url: str | None) -> str | None: ...


@dataclass
class Inert:
    """A snapshot made inert, and what its manifest entry says of it."""

    data: bytes
    original_sha256: str
    original_size: int
    removed: dict[str, int] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {
            "inert": {
                "original_sha256": self.original_sha256,
                "original_size": self.original_size,
                "removed": dict(sorted(self.removed.items())),
                "policy": "scripts, handlers and outside references taken out; a Content-Security-Policy forbids the rest",
            }
        }


def html(captured: bytes) -> Inert:
    """An HTML snapshot (UTF-8, secrets already scrubbed) made inert."""
    counts: dict[str, int] = {}
    text = _clean_document(captured.decode("utf-8", "replace"), CSP_HTML, counts, keep=lambda url: False)
    return Inert(text.encode("utf-8"), hashlib.sha256(captured).hexdigest(), len(captured), counts)


def mhtml(captured: bytes, secrets: Scrubber | None = None) -> Inert:
    """An MHTML snapshot (as Chromium wrote it) with its text parts scrubbed and its HTML inert."""
    original = secrets.bytes(captured) if secrets is not None else captured
    counts: dict[str, int] = {}
    message = email.message_from_bytes(captured, policy=email.policy.compat32)
    parts = [p for p in message.walk() if not p.is_multipart()]
    archived = set()
    for part in parts:
        location = part.get("Content-Location")
        if location:
            archived.add(str(location).strip())
        cid = part.get("Content-ID")
        if cid:
            archived.add("cid:" + str(cid).strip().strip("<>"))
    for name in ("Snapshot-Content-Location", "Subject"):
        if message.get(name) is not None and secrets is not None:
            _replace_header(message, name, secrets.text(str(message[name])))
    for part in parts:
        kind = part.get_content_type()
        if not kind.startswith(TEXT_PARTS):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
            charset = "utf-8"
        if secrets is not None:
            text = secrets.text(text)
            location = part.get("Content-Location")
            if location is not None:
                _replace_header(part, "Content-Location", secrets.url(str(location)) or "")
        if kind == "text/html":
            base = str(part.get("Content-Location") or "")
            text = _clean_document(text, CSP_ARCHIVE, counts, keep=lambda url, b=base: _in_archive(url, b, archived))
        _set_text(part, text, charset)
    data = message.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))
    return Inert(data, hashlib.sha256(original).hexdigest(), len(original), counts)


# ------------------------------------------------------------------ the parts


def _in_archive(url: str, base: str, archived: set[str]) -> bool:
    value = url.strip()
    if value.lower().startswith("cid:"):
        return value in archived
    try:
        absolute = urljoin(base, value) if base else value
    except ValueError:
        return False
    return absolute in archived or absolute.split("#", 1)[0] in archived


def _replace_header(message: Message, name: str, value: str) -> None:
    del message[name]
    message[name] = value.replace("\r", " ").replace("\n", " ")


def _set_text(part: Message, text: str, charset: str) -> None:
    """The part's payload re-encoded, quoted-printable as Chromium writes it (still legible)."""

    data = text.encode(charset, "replace")
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76, eol="\r\n"))


# Parse, clean, write out, and again, until the text no longer changes. Lexbor writes the text of
# a <style>, <xmp>, <iframe> or <noembed> inside <svg> or <math> back out unescaped, where a browser
# escapes it: text that was harmless in the tree ("&lt;meta http-equiv=refresh…") would be markup
# when the file is read again. The next round reads the file as a browser would, and cleans that.
ROUNDS = 4


def _clean_document(text: str, policy: str, counts: dict[str, int], *, keep: Any) -> str:
    from selectolax.lexbor import LexborHTMLParser

    for _ in range(ROUNDS):
        tree = LexborHTMLParser(text)
        root = tree.root
        if root is not None:
            _clean(root, counts, keep)
        cleaned = tree.html or ""
        if cleaned == text:
            break
        text = cleaned
    else:  # it never settled: what the page wrote is kept as text, not as a page
        _count(counts, "page kept as text only")
        body = tree.body.text(separator="\n") if tree.body is not None else ""
        text = f"<!DOCTYPE html><html><head></head><body><pre>{html_escape(body)}</pre></body></html>"
        tree = LexborHTMLParser(text)
    head = tree.head
    if head is not None:
        guard = LexborHTMLParser(
            f'<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{policy}">'
        ).css("meta")
        first = head.child
        for meta in guard:
            if first is not None:
                first.insert_before(meta)
            else:
                head.insert_child(meta)
    return tree.html or ""


def _count(counts: dict[str, int], what: str) -> None:
    counts[what] = counts.get(what, 0) + 1


def _kept(name: str, value: str, keep: Any) -> bool:
    value = value.strip()
    if value.startswith("#"):
        return True
    lowered = value.lower()
    if lowered.startswith("data:image/") and name not in NAVIGATIONS:
        return True
    if lowered.startswith(("javascript:", "vbscript:", "data:")) or name == "srcdoc":
        return False
    return bool(keep(value))


def _doomed(node: Any) -> str | None:
    """Why an element goes whole (None: it stays, cleaned)."""
    tag = (node.tag or "").lower()
    if tag in ("script", "noscript", "base"):
        return tag
    attrs = node.attrs
    if tag == "meta":
        equiv = (attrs.get("http-equiv") or "").strip().lower()
        return f"meta {equiv}" if equiv in ("refresh", "set-cookie") else None
    if tag in SVG_ANIMATIONS and (attrs.get("attributeName") or "").lower().endswith(("href", "src")):
        return "svg animation"
    return None


def _clean(root: Any, counts: dict[str, int], keep: Any) -> None:
    nodes = list(root.css("*"))
    doomed: dict[int, str] = {}
    for node in nodes:
        why = _doomed(node)
        if why is not None:
            doomed[node.mem_id] = why
            _count(counts, why)
    for node in nodes:
        if node.mem_id in doomed:
            parent, inside = node.parent, False
            while parent is not None and not inside:
                inside = parent.mem_id in doomed
                parent = parent.parent
            if not inside:  # one inside another goes with it
                node.decompose()
            continue
    for node in root.css("*"):
        attrs = node.attrs
        for name in list(attrs.keys()):
            lower = name.lower()
            value = attrs[name] or ""
            if lower.startswith("on"):
                del attrs[name]
                _count(counts, "handler")
            elif (lower in URL_ATTRIBUTES or lower.endswith(":href")) and not _kept(lower, value, keep):
                del attrs[name]
                attrs[PREFIX + lower.replace(":", "-")] = value
                _count(counts, "reference")
        if (node.tag or "").lower() == "template":
            for fragment in node.template_fragments():
                _clean(fragment, counts, keep)


def describe(removed: dict[str, int]) -> str:
    """What was taken out, in words, for the report."""
    if not removed:
        return "nothing needed taking out"
    return ", ".join(f"{n} {what}{'' if n == 1 else 's'}" for what, n in sorted(removed.items()))
