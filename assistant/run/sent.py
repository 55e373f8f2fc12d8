"""What the submit click sent: the form's fields at the click and the request's body.

Playwright hands over no body for a multipart form that carries files (its
`post_data_buffer` is None, its HAR keeps no text), and Chromium keeps one
only until the provider answers: a form answered by a redirect (the usual
post/redirect/get) is gone before a question can reach the browser. So the
body is taken, in this order, from the request event itself (urlencoded and
JSON bodies come inline), from Chromium (`Network.getRequestPostData`, asked
as soon as the request is seen), or rebuilt from the form's entries read
right before the click, in the browser's own encoding with the boundary the
request carried. Files are never copied: each file part is named with the
size the page's File held and the SHA-256 of the attachment handed to the
upload field. Whichever way the body was had, its size (text plus files) is
checked against the Content-Length the browser sent, and the record says so.

Only requests after `arm()` (right before the submit click) are kept: a
login form's body never is. The record is built after the run and the HAR
mended when the package is sealed: nothing here stands between the click and
the request number.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

from evidence.manifest import BodyPart, FormField, SentFile, SentRequest, SubmittedForm
from evidence.scrub import Secrets, scrub_body, secret

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession

MASKED = "[masked]"
_NO_BODY = ("GET", "HEAD", "OPTIONS")


@dataclass
class Seen:
    """One request Chromium reported after the click was armed."""

    request_id: str
    method: str
    url: str
    kind: str  # Document, XHR, Fetch, …
    wall_time: float | None
    headers: dict[str, str] = field(default_factory=dict)
    has_body: bool = False
    body: bytes | None = None
    source: str | None = None  # where the body came from
    error: str | None = None
    asked: int = 0


@dataclass
class KnownFile:
    """A file the run may hand to an upload field: the name the browser sends, and its attachment."""

    name: str
    size: int
    sha256: str
    path: str
    media_type: str | None = None


class SentRecorder:
    """Listens on a page's CDP session (Network enabled) for the requests the click makes."""

    def __init__(self) -> None:
        self.armed = False
        self.seen: list[Seen] = []
        self._by_id: dict[str, Seen] = {}
        self._early: dict[str, dict[str, str]] = {}  # headers told before their request
        self.fields: list[dict[str, Any]] = []
        self.entries: list[list[Any]] = []
        self.read_at: datetime | None = None
        self.page_url: str | None = None
        self.read_error: str | None = None

    def listen(self, session: CDPSession) -> None:
        session.on("Network.requestWillBeSent", lambda event: self._request(session, event))
        session.on("Network.requestWillBeSentExtraInfo", lambda event: self._extra(session, event))
        session.on("Network.loadingFailed", lambda event: self._failed(event))

    def arm(
        self, fields: list[dict[str, Any]], entries: list[list[Any]], page_url: str | None, error: str | None = None
    ) -> None:
        self.fields, self.entries, self.page_url, self.read_error = fields, entries, page_url, error
        self.read_at = datetime.now(UTC)
        self.armed = True

    def _request(self, session: CDPSession, event: dict[str, Any]) -> None:
        if not self.armed:
            return
        request = event.get("request") or {}
        key = str(event.get("requestId", ""))
        seen = Seen(
            request_id=key,
            method=str(request.get("method", "")).upper(),
            url=str(request.get("url", "")),
            kind=str(event.get("type", "")),
            wall_time=event.get("wallTime"),
            headers={str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()},
            has_body=bool(request.get("hasPostData")),
        )
        inline = _inline_body(request)
        known = self._by_id.get(key)
        if known is not None and not event.get("redirectResponse"):
            # Told again of the same request (Chromium does, for a navigation through a proxy).
            known.headers.update(seen.headers)
            known.has_body = known.has_body or seen.has_body
            if known.body is None and inline is not None:
                known.body, known.source = inline, "the browser's request event"
            return
        if known is not None:  # a redirect: the same id, a new request
            seen.request_id = f"{key}#{len(self.seen)}"
        seen.headers.update(self._early.pop(key, {}))
        if inline is not None:
            seen.body, seen.source = inline, "the browser's request event"
        self.seen.append(seen)
        self._by_id[key] = seen
        self._fetch(session, key)

    def _extra(self, session: CDPSession, event: dict[str, Any]) -> None:
        # The headers as sent (Content-Length among them); they may come before the request itself.
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        key = str(event.get("requestId", ""))
        seen = self._by_id.get(key)
        if seen is None:
            if self.armed:
                self._early.setdefault(key, {}).update(headers)
            return
        seen.headers.update(headers)
        self._fetch(session, key)

    def _failed(self, event: dict[str, Any]) -> None:
        seen = self._by_id.get(str(event.get("requestId", "")))
        if seen is not None:
            seen.error = seen.error or event.get("errorText")

    def _fetch(self, session: CDPSession, key: str) -> None:
        """Ask Chromium for a body the event did not carry, while it still has it."""
        seen = self._by_id.get(key)
        if seen is None or not seen.has_body or seen.body is not None or seen.method in _NO_BODY or seen.asked >= 2:
            return
        seen.asked += 1
        try:
            answer = session.send("Network.getRequestPostData", {"requestId": key})
        except Exception as exc:  # not yet, or gone already (answered by a redirect)
            # "…Protocol error (Network.getRequestPostData): No post data available for the request"
            seen.error = seen.error or str(exc).splitlines()[0].rsplit("): ", 1)[-1]
            return
        data = answer.get("postData", "")
        seen.body = base64.b64decode(data) if answer.get("base64Encoded") else data.encode("utf-8")
        seen.source = "Chromium's record of the request"

    # ----------------------------------------------------------- the record

    def chosen(self, sent: list[str]) -> Seen | None:
        """The request that carried the form, among those the outcome watch counted as sent: the
        page's own navigation first (a form post), then one with a body (a fetch), then any."""
        wanted = {tuple(item.split(" ")[:2]) for item in sent if " " in item}
        candidates = [s for s in self.seen if (s.method, s.url) in wanted] or [
            s for s in self.seen if s.method not in _NO_BODY
        ]
        for good in (lambda s: s.kind == "Document" and s.has_body, lambda s: s.has_body, lambda s: True):
            found = [s for s in candidates if good(s)]
            if found:
                return found[0]
        return None

    def record(self, sent: list[str], files: list[KnownFile], secrets: Secrets) -> SubmittedForm | None:
        if not self.armed or self.read_at is None:
            return None
        fields = [self._field(raw, files, secrets) for raw in self.fields]
        masked_names = {f.name for f in fields if f.masked and f.name}
        seen = self.chosen(sent)
        if seen is not None and seen.body is None and seen.method not in _NO_BODY:
            self._rebuild(seen)
        request = _Builder(files, secrets, masked_names, fields).request(seen) if seen else None
        notes = []
        if self.read_error:
            notes.append(f"the form's fields could not be read before the click: {self.read_error}")
        if seen is None:
            notes.append("no request carrying the form was seen after the click")
        return SubmittedForm(
            read_at=self.read_at,
            page_url=secrets.url(self.page_url),
            fields=fields,
            request=request,
            note="; ".join(notes) or None,
        )

    def _rebuild(self, seen: Seen) -> None:
        """The body in the browser's encoding, from the entries read right before the click."""
        if not self.entries:
            return
        mime = seen.headers.get("content-type", "").lower()
        boundary = _boundary(seen.headers.get("content-type", ""))
        if "multipart/form-data" in mime and boundary:
            seen.body = encode_multipart(self.entries, boundary)
        elif "x-www-form-urlencoded" in mime:
            seen.body = encode_urlencoded(self.entries)
        else:
            return
        why = f": {seen.error}" if seen.error else ""
        seen.source = f"the form's entries read right before the click (Chromium had no body to give{why})"

    @staticmethod
    def _field(raw: dict[str, Any], files: list[KnownFile], secrets: Secrets) -> FormField:
        name = raw.get("name")
        value = raw.get("value")
        values = value if isinstance(value, list) else [value]
        masked = bool(raw.get("masked")) or secret(name or "") or any(v in secrets.values for v in values if v)
        if not masked and isinstance(value, str):
            value = secrets.text(value)
        return FormField(
            label=secrets.text(raw["label"]) if raw.get("label") else None,
            name=name,
            type=str(raw.get("type") or "text"),
            value=MASKED if masked else value,
            masked=masked,
            checked=raw.get("checked"),
            files=[sent_file(f["name"], int(f["size"]), f.get("type"), files) for f in raw.get("files") or []],
        )


def sent_file(name: str, size: int, media: str | None, files: list[KnownFile]) -> SentFile:
    known = next((k for k in files if k.name == name and k.size == size), None)
    return SentFile(
        name=name,
        size=size,
        media_type=media or (known.media_type if known else None),
        sha256=known.sha256 if known else None,
        path=known.path if known else None,
    )


@dataclass
class _Builder:
    files: list[KnownFile]
    secrets: Secrets
    masked: set[str]
    fields: list[FormField]

    def part(self, name: str, value: str) -> BodyPart:
        hide = name in self.masked or secret(name) or value in self.secrets.values
        return BodyPart(name=name, value=MASKED if hide else self.secrets.text(value), masked=hide)

    def request(self, seen: Seen) -> SentRequest:
        content_type = seen.headers.get("content-type")
        length = seen.headers.get("content-length")
        record = SentRequest(
            method=seen.method,
            url=self.secrets.url(seen.url) or seen.url,
            content_type=content_type,
            content_length=int(length) if length and length.isdigit() else None,
            sent_at=datetime.fromtimestamp(seen.wall_time, UTC) if seen.wall_time else None,
        )
        if seen.method in _NO_BODY:
            record.parts = [self.part(k, v) for k, v in parse_qsl(urlsplit(seen.url).query, keep_blank_values=True)]
            return record
        if seen.body is None:
            record.note = f"the browser did not give the request's body ({seen.error or 'it had none'})"
            return record
        mime = (content_type or "").lower()
        boundary = _boundary(content_type or "")
        parts = split_multipart(seen.body, boundary) if "multipart/form-data" in mime and boundary else None
        if parts is not None and boundary is not None:
            held = [f for field_ in self.fields for f in field_.files]
            size = len(f"--{boundary}--\r\n")
            for headers, head, content in parts:
                name, filename = _disposition(headers.get("content-disposition", ""))
                if filename is None:
                    record.parts.append(self.part(name, content.decode("utf-8", "replace")))
                    file_size = len(content)
                elif not filename and not content:  # an upload field with no file chosen
                    record.parts.append(BodyPart(name=name, value=""))
                    file_size = 0
                else:
                    page_file = next((f for f in held if f.name == filename), None)
                    file_size = len(content) if content else (page_file.size if page_file else 0)
                    media = headers.get("content-type")
                    record.parts.append(BodyPart(name=name, file=sent_file(filename, file_size, media, self.files)))
                size += len(f"--{boundary}\r\n".encode()) + len(head) + 4 + file_size + 2
            record.body_size = size
        else:
            record.body_size = len(seen.body)
            text = seen.body.decode("utf-8", "replace")
            if "x-www-form-urlencoded" in mime:
                record.parts = [self.part(k, v) for k, v in parse_qsl(text, keep_blank_values=True)]
            else:  # JSON keys named like secrets are scrubbed as in the HAR
                record.text = self.secrets.text(scrub_body(text, mime))
        agrees = ""
        if record.content_length is not None:
            agrees = (
                "; its size (text and files) equals the Content-Length the browser sent"
                if record.body_size == record.content_length
                else f"; its size ({record.body_size} bytes) differs from the Content-Length the browser sent"
            )
        record.note = f"body from {seen.source}{agrees}"
        return record


def _inline_body(request: dict[str, Any]) -> bytes | None:
    entries = request.get("postDataEntries") or []
    if entries and all("bytes" in e for e in entries):
        return b"".join(base64.b64decode(e["bytes"]) for e in entries)
    if request.get("postData"):
        return str(request["postData"]).encode("utf-8")
    return None


def _boundary(content_type: str) -> str | None:
    found = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    return found.group(1) if found else None


def _escape_name(name: str) -> str:
    # As browsers write names and file names in multipart/form-data (HTML's encoding algorithm).
    return name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _disposition(value: str) -> tuple[str, str | None]:
    name = re.search(r'(?:^|;)\s*name="([^"]*)"', value, re.I)
    filename = re.search(r'(?:^|;)\s*filename="([^"]*)"', value, re.I)

    def unescape(s: str) -> str:
        return s.replace("%22", '"').replace("%0A", "\n").replace("%0D", "\r")

    return (unescape(name.group(1)) if name else "", unescape(filename.group(1)) if filename else None)


def encode_multipart(entries: list[list[Any]], boundary: str) -> bytes:
    """multipart/form-data as Chromium writes it, with each file's bytes left out."""
    out = []
    for name, value in entries:
        head = f'Content-Disposition: form-data; name="{_escape_name(name)}"'
        if isinstance(value, dict):
            head += f'; filename="{_escape_name(value.get("name", ""))}"\r\nContent-Type: {value.get("type")}'
            value = ""
        out.append(f"--{boundary}\r\n{head}\r\n\r\n{value}\r\n".encode())
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def encode_urlencoded(entries: list[list[Any]]) -> bytes:
    """application/x-www-form-urlencoded as browsers write it (a file is sent as its name)."""

    def enc(text: str) -> str:
        return quote_plus(text, safe="*").replace("~", "%7E")

    pairs = [(n, v.get("name", "") if isinstance(v, dict) else v) for n, v in entries]
    return "&".join(f"{enc(n)}={enc(v)}" for n, v in pairs).encode("ascii")


def split_multipart(body: bytes, boundary: str | None) -> list[tuple[dict[str, str], bytes, bytes]] | None:
    """(headers, raw head, content) of each part; None if the body is not multipart with this boundary."""
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        return None
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            return None
        content = content[:-2] if content.endswith(b"\r\n") else content
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        parts.append((headers, head, content))
    return parts


def har_post_data(seen: Seen, record: SentRequest) -> dict[str, Any]:
    """A HAR 1.2 postData for the request: its body as sent, each file part's bytes replaced by
    the file's name, size and SHA-256, passwords and secrets masked."""
    params: list[dict[str, Any]] = []
    for item in record.parts:
        if item.file is not None:
            params.append(
                {
                    "name": item.name,
                    "fileName": item.file.name,
                    "contentType": item.file.media_type or "",
                    "value": _described(item.file),
                    "_size": item.file.size,
                    "_sha256": item.file.sha256,
                }
            )
        else:
            params.append({"name": item.name, "value": item.value or ""})
    mime = (record.content_type or "").lower()
    boundary = _boundary(record.content_type or "")
    raw = split_multipart(seen.body or b"", boundary) if "multipart/form-data" in mime else None
    if raw is not None and boundary is not None and len(raw) == len(record.parts):
        chunks = []
        for (_, head, _content), item in zip(raw, record.parts, strict=True):
            value = _described(item.file) if item.file is not None else (item.value or "")
            chunks.append(f"--{boundary}\r\n".encode() + head + b"\r\n\r\n" + value.encode("utf-8") + b"\r\n")
        text = (b"".join(chunks) + f"--{boundary}--\r\n".encode()).decode("utf-8", "replace")
    elif "x-www-form-urlencoded" in mime:
        text = encode_urlencoded([[p["name"], p["value"]] for p in params]).decode("ascii")
    else:
        text = record.text or ""
    return {
        "mimeType": record.content_type or "",
        "params": params,
        "text": text,
        "comment": f"written by support-assistant: {record.note or 'body as sent'}; each file part's bytes "
        "are replaced by the file's name, size and SHA-256; passwords and secrets are masked",
    }


def _described(file: SentFile) -> str:
    where = f"attachment {file.path}" if file.path else "no attachment of this run"
    return f"[file {file.name}: {file.size} bytes, sha256 {file.sha256 or 'unknown'}; {where}]"


def mend_har(har: dict[str, Any], seen: Seen, record: SentRequest) -> bool:
    """Give the HAR's entry for the form's request its body (Playwright's HAR leaves it out)."""
    if record.method in _NO_BODY or seen.body is None:
        return False
    for entry in har.get("log", {}).get("entries", []):
        request = entry.get("request", {})
        if request.get("method") == seen.method and request.get("url") == seen.url:
            request["postData"] = har_post_data(seen, record)
            size = record.content_length if record.content_length is not None else record.body_size
            if size is not None:
                request["bodySize"] = size
            return True
    return False
