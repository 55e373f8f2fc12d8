"""An evidence package's captured pages as a WACZ 1.2 file, for web-archive tools that know nothing of us.

WACZ (https://specs.webrecorder.net/wacz/1.2.0/) is a zip of WARC records, a CDXJ index
and a list of pages, a format ReplayWeb.page, pywb and archives' own tools read. The package
stays the evidence (signed, timestamped); the WACZ is a view of it in an open format:

  archive/data.warc.gz     a warcinfo record naming the package (its manifest's SHA-256 and
                           signer); each page's inert snapshot as the `response` for its URL,
                           with the status and headers the HAR recorded for it; the provider's
                           answers whose bodies the HAR keeps, and the form's POST as a
                           `request`; each screenshot as a `resource` (urn:evidence:PATH)
  indexes/index.cdx        CDXJ, one line per response and resource
  pages/pages.jsonl        one line per captured page: url, ts (its capture time), title
  datapackage.json         every file above with its SHA-256 and size
  datapackage-digest.json  the SHA-256 of datapackage.json

Deterministic: record ids are derived from the manifest's hash, every date is one the package
records, and the zip's entries have fixed times, so one package always gives the same bytes.
Digests are SHA-256 in hex, so a page's WARC-Payload-Digest is the hash manifest.json gives it.

A package that does not verify is refused: what the WACZ shows is only ever what was signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import quote_from_bytes, unquote_plus, unquote_to_bytes, urlencode, urlsplit

from selectolax.lexbor import LexborHTMLParser
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from .bundle import FIXED_TIME
from .manifest import FileEntry, Manifest, ProviderAnswer
from .package import MANIFEST, sha256_file
from .verify import unpacked, verify

WARC_NAME: Final = "data.warc.gz"
WARC_PATH: Final = f"archive/{WARC_NAME}"
INDEX_PATH: Final = "indexes/index.cdx"
PAGES_PATH: Final = "pages/pages.jsonl"
DATAPACKAGE: Final = "datapackage.json"
DIGEST: Final = "datapackage-digest.json"
HAR: Final = "logs/network.har"
# The version py-wacz and ReplayWeb.page read: WACZ 1.2.0 dropped the field, and readers of 1.1.1
# (py-wacz's `wacz validate` among them) refuse a file without it; 1.2.0 allows extra fields.
WACZ_VERSION: Final = "1.1.1"
# A non-GET request's body goes into its index key (request-body canonicalization); this long at most.
MAX_QUERY: Final = 4096
SCREENSHOT = re.compile(r"screenshots/[^/]+\.png")
# Headers that describe the bytes as they crossed the wire, not the body a record holds.
BODY_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-md5", "digest", "content-range"}
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SNAPSHOT_TYPE: Final = "text/html; charset=utf-8"  # an inert snapshot is UTF-8, whatever the page was


class ExportRefused(ValueError):
    """The package does not verify, or the WACZ would be written where it cannot go; one line."""


@dataclass(frozen=True)
class Exported:
    path: Path
    pages: int
    records: int
    sha256: str


def export(package: Path, target: Path) -> Exported:
    """Write target (a .wacz) from the package at `package` (a folder or its zip), after checking it.

    ExportRefused when the package does not verify (naming its first problem) or target is not a
    .wacz outside the package; UnsafeArchive and NotAPackage (evidence.verify) pass through."""
    if not target.name.lower().endswith(".wacz") or target.name.lower() == ".wacz":
        raise ExportRefused(f"{target}: a WACZ file's name ends in .wacz (the format asks for it)")
    with unpacked(package) as root:
        if package.is_dir() and _inside(target, root):
            raise ExportRefused(f"{target}: inside the package, where it would be a file the manifest does not list")
        result = verify(root)  # the unpacked folder itself: what is checked is what is exported
        if not result.ok or result.manifest is None:
            first = result.problems[0] if result.problems else "no manifest"
            raise ExportRefused(f"{package}: does not verify ({first}); only a sound package is exported")
        return write_wacz(root, result.manifest, target)


def _inside(target: Path, root: Path) -> bool:
    folder, where = root.resolve(), target.parent.resolve()
    return where == folder or folder in where.parents


# ------------------------------------------------------------------- records


@dataclass
class Record:
    kind: str  # response, request, resource
    uri: str
    date: datetime
    body: bytes | Path
    source: str  # the package file the body comes from
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = None  # a resource's media type
    method: str = "GET"
    request_line: str | None = None  # a request's "POST /path HTTP/1.1"
    query: str | None = None  # a non-GET request's body, canonicalized for the index key
    truncated: bool = False
    pair: Record | None = None  # a response's request, written right before it


def _records(root: Path, manifest: Manifest) -> tuple[list[list[Record]], list[dict[str, Any]]]:
    """Groups of records written together (a request and its response), and the pages."""
    entries = _har_entries(root)
    shots = {f.path: f for f in manifest.files if SCREENSHOT.fullmatch(f.path)}
    groups: list[list[Record]] = []
    pages: list[dict[str, Any]] = []
    snapshots: set[str] = set()  # URLs whose page is written from its snapshot
    for entry in sorted((f for f in manifest.files if _is_snapshot(f)), key=lambda f: f.path):
        when = entry.captured_at or manifest.created_at
        url = _without_fragment(str(entry.meta.get("url") or ""))
        path = root / entry.path
        seen = _page_answer(entries, url, when) if url.startswith(("http://", "https://")) else None
        if seen is None:
            # No HTTP answer was recorded for it (a browser's error page, a page the log missed): a
            # resource, which claims no status; only a web page is listed among the pages.
            uri = url or _urn(entry.path)
            groups.append([Record("resource", uri, when, path, entry.path, content_type=SNAPSHOT_TYPE)])
            if not url.startswith(("http://", "https://")):
                continue
        else:
            status, reason, headers = seen
            groups.append(
                [
                    Record(
                        "response",
                        url,
                        when,
                        path,
                        entry.path,
                        status=status,
                        reason=reason,
                        headers=[*headers, ("Content-Type", SNAPSHOT_TYPE)],
                    )
                ]
            )
        snapshots.add(url)
        stem = entry.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        page: dict[str, Any] = {"id": stem, "url": url, "ts": _iso(when)}
        title = _title(shots.get(f"screenshots/{stem}.png"), path)
        if title:
            page["title"] = title
        pages.append(page)
    answers = {(a.method, a.url, a.status): a for a in (manifest.submission.answers if manifest.submission else [])}
    for har in entries:
        group = _har_records(har, answers, snapshots, manifest.created_at)
        if group:
            groups.append(group)
    for name, shot in sorted(shots.items()):
        when = shot.captured_at or manifest.created_at
        groups.append([Record("resource", _urn(name), when, root / name, name, content_type="image/png")])
    groups.sort(key=lambda g: g[0].date)  # stable: pages, then the HAR's order, then screenshots
    return groups, pages


def _is_snapshot(entry: FileEntry) -> bool:
    return entry.path.startswith("pages/") and entry.path.endswith(".html") and entry.media_type == "text/html"


def _urn(path: str) -> str:
    return f"urn:evidence:{path}"


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _title(shot: FileEntry | None, page: Path) -> str | None:
    """The page's title as the screenshot of it recorded, else its <title>."""
    if shot is not None and isinstance(shot.meta.get("title"), str) and shot.meta["title"].strip():
        return str(shot.meta["title"]).strip()
    node = LexborHTMLParser(page.read_bytes()).css_first("title")
    text = node.text(deep=True).strip() if node is not None else ""
    return text or None


# ------------------------------------------------------------------- the HAR


def _har_entries(root: Path) -> list[dict[str, Any]]:
    path = root / HAR
    if not path.is_file():
        return []
    try:
        har = json.loads(path.read_bytes())
    except ValueError:
        return []  # it verified, so it is the log as recorded; a page's records then carry no headers
    log = har.get("log") if isinstance(har, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and _url(e) and isinstance(e.get("response"), dict)]


def _part(entry: dict[str, Any], name: str) -> dict[str, Any]:
    value = entry.get(name)
    return value if isinstance(value, dict) else {}


def _url(entry: dict[str, Any]) -> str:
    url = _part(entry, "request").get("url")
    return _without_fragment(url) if isinstance(url, str) else ""


def _method(entry: dict[str, Any]) -> str:
    method = _part(entry, "request").get("method")
    return method.upper() if isinstance(method, str) and method.isalpha() else "GET"


def _status(entry: dict[str, Any]) -> int:
    status = _part(entry, "response").get("status")
    return status if isinstance(status, int) and 100 <= status <= 999 else 0


def _started(entry: dict[str, Any], default: datetime) -> datetime:
    value = entry.get("startedDateTime")
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else default
    except ValueError:
        return default
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _headers(message: dict[str, Any]) -> list[tuple[str, str]]:
    """A HAR request's or response's headers, each on one line (HTTP/2's pseudo-headers left out)."""
    out: list[tuple[str, str]] = []
    for header in message.get("headers") or []:
        if not isinstance(header, dict):
            continue
        name, value = header.get("name"), header.get("value")
        if isinstance(name, str) and isinstance(value, str) and name and not name.startswith(":"):
            out.append((CONTROL.sub("", name).replace(":", ""), CONTROL.sub(" ", value)))
    return out


def _reason(entry: dict[str, Any], status: int) -> str:
    text = _part(entry, "response").get("statusText")
    if isinstance(text, str) and text.strip():
        return CONTROL.sub(" ", text.strip())
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _page_answer(
    entries: list[dict[str, Any]], url: str, when: datetime
) -> tuple[int, str, list[tuple[str, str]]] | None:
    """Status, reason and headers of the document the snapshot is of: the last GET of its URL before
    it was captured (the first after, if none was), without those that describe the wire's bytes."""
    same = [e for e in entries if _url(e) == url and _method(e) == "GET" and _status(e)]
    documents = [e for e in same if e.get("_resourceType") == "document"] or same
    before = [e for e in documents if _started(e, when) <= when]
    chosen = before[-1] if before else (documents[0] if documents else None)
    if chosen is None:
        return None
    status = _status(chosen)
    headers = [
        (k, v) for k, v in _headers(_part(chosen, "response")) if k.lower() not in BODY_HEADERS | {"content-type"}
    ]
    return status, _reason(chosen, status), headers


def _kept_body(entry: dict[str, Any]) -> bytes | None:
    content = _part(_part(entry, "response"), "content")
    text = content.get("text")
    if not isinstance(text, str):
        return None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
    return text.encode("utf-8")


def _har_records(
    entry: dict[str, Any], answers: dict[tuple[str, str, int], ProviderAnswer], snapshots: set[str], made: datetime
) -> list[Record]:
    """The request record of a request whose body the HAR keeps (the form's POST), and the response of
    an answer it keeps whole (a body, or a redirect of the provider's, which has none), unless it is
    a page already written from its snapshot (the inert copy is the one a replay may show)."""
    url, method, status = _url(entry), _method(entry), _status(entry)
    when = _started(entry, made)
    request = _part(entry, "request")
    post = request.get("postData")
    group: list[Record] = []
    query: str | None = None
    if isinstance(post, dict):
        text = post.get("text")
        body = text.encode("utf-8") if isinstance(text, str) else b""
        mime = str(post.get("mimeType") or "")
        query = body_query(mime, body, post.get("params"))
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [(k, v) for k, v in _headers(request) if k.lower() not in BODY_HEADERS]
        if not any(k.lower() == "host" for k, _ in headers) and parts.netloc:
            headers.insert(0, ("Host", parts.netloc.rsplit("@", 1)[-1]))
        group.append(
            Record(
                "request",
                url,
                when,
                body,
                HAR,
                headers=headers,
                method=method,
                request_line=f"{method} {CONTROL.sub('', target)} HTTP/1.1",
                query=query,
            )
        )
    kept = _kept_body(entry)
    answer = answers.get((method, url, status))
    whole = kept is not None or (answer is not None and 300 <= status < 400)
    if status and whole and not (method == "GET" and url in snapshots):
        headers = [(k, v) for k, v in _headers(_part(entry, "response")) if k.lower() not in BODY_HEADERS]
        declared = _part(entry, "response").get("bodySize")
        cut = answer is not None and answer.body_kept is not None and (answer.body_bytes or 0) > answer.body_kept
        response = Record(
            "response",
            url,
            when,
            kept or b"",
            HAR,
            status=status,
            reason=_reason(entry, status),
            headers=headers,
            method=method,
            query=query if method != "GET" else None,
            truncated=cut or (kept is None and isinstance(declared, int) and declared > 0),
            pair=group[0] if group else None,
        )
        group.append(response)
    return group


def body_query(mime: str, body: bytes, params: object) -> str:
    """A request body as the query string the index key carries (Webrecorder's request-body
    canonicalization, as its reference indexer applies it)."""
    mime = mime.lower()
    if mime.startswith("application/x-www-form-urlencoded"):
        try:
            query = unquote_plus(body.decode("utf-8"))
        except UnicodeDecodeError:
            query = _binary(body)
    elif mime.startswith("multipart/") and isinstance(params, list):
        pairs = [(str(p.get("name", "")), str(p.get("value", ""))) for p in params if isinstance(p, dict)]
        query = urlencode(pairs)
    elif mime.startswith(("application/json", "text/plain")):
        try:
            query = _json_query(json.loads(body))
        except (ValueError, RecursionError):
            query = "" if mime.startswith("application/json") else _binary(body)
    else:
        query = _binary(body)
    return query[:MAX_QUERY]


def _binary(body: bytes) -> str:
    return "__wb_post_data=" + base64.b64encode(body).decode("ascii")


def _json_query(value: object) -> str:
    """Each leaf of a JSON body as name=value, a repeated name numbered (name.2_)."""
    counts: dict[str, int] = {}
    pairs: list[tuple[str, str]] = []

    def walk(item: object, name: str) -> None:
        if isinstance(item, dict):
            for key, sub in item.items():
                walk(sub, str(key))
        elif isinstance(item, list):
            for sub in item:
                walk(sub, name)
        elif name:
            if isinstance(item, float) and item.is_integer():
                item = int(item)  # as JavaScript writes a number: 44.0 is 44
            text = item if isinstance(item, str) else json.dumps(item)
            counts[name] = counts.get(name, 0) + 1
            pairs.append((name if counts[name] == 1 else f"{name}.{counts[name]}_", text))

    walk(value, "")
    return urlencode(pairs)


# --------------------------------------------------------------- index keys


DEFAULT_PORTS = {"http": 80, "https": 443}
WWW = re.compile(r"^www\d*\.")
# Printable ASCII but "%" and "#": what stays as it is in a key; the rest is %-escaped.
KEY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "%#")


def searchable_url(url: str) -> str:
    """The CDXJ spec's searchable URL (SURT) of an http(s) URL, as the reference indexer
    (cdxj-indexer) makes it: lower case, no scheme, the host reversed and comma separated
    ("www." and a default port dropped), ")" then the path (dot segments resolved, no trailing
    slash) and the query, its arguments sorted; %-escapes undone, then only spaces, controls,
    "%", "#" and non-ASCII escaped. Other URLs (urn:) are only escaped so and lower-cased."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return _minimal(url)
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")  # a browser's URL has it so already
    except UnicodeError:
        pass
    host = WWW.sub("", _minimal(host).strip("."))
    key = ",".join(reversed(host.split(".")))
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != DEFAULT_PORTS[scheme]:
        key += f":{port}"
    path = _dot_segments(_minimal(parts.path))
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = _minimal(parts.query)
    if query:
        query = "&".join(sorted(query.split("&"), key=lambda arg: tuple(arg.split("=", 1))))
    return key + ")" + path + (f"?{query}" if query else "")


def _minimal(text: str) -> str:
    """text with every %-escape undone (again until none is left), then escaped once, lower case."""
    raw = text.encode("utf-8")
    while (undone := unquote_to_bytes(raw)) != raw:
        raw = undone
    return quote_from_bytes(raw, safe=KEY_SAFE).lower()


def _dot_segments(path: str) -> str:
    """The path with "." and ".." resolved and empty segments dropped (a trailing "/" kept)."""
    if not path:
        return "/"
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
            else:
                kept.append(segment)  # above the root: kept, as the reference does
        elif segment != ".":
            kept.append(segment)
    return "/" + "".join(f"{s}/" for s in kept[:-1] if s) + (kept[-1] if kept else "")


def _index_key(record: Record) -> str:
    if record.method == "GET" or record.kind != "response":
        return searchable_url(record.uri)
    appended = ("&" if "?" in record.uri else "?") + f"__wb_method={record.method}"
    if record.query:
        appended += f"&{record.query}"
    return searchable_url(record.uri + appended)


# ------------------------------------------------------------------ writing


def _iso(when: datetime) -> str:
    when = when.astimezone(UTC)
    micros = f".{when.microsecond:06d}" if when.microsecond else ""
    return when.strftime("%Y-%m-%dT%H:%M:%S") + micros + "Z"


class _Counted:
    """Where the WARC goes: counts and hashes the bytes of each record as warcio writes them."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.size, self.digest = out, 0, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.digest.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()

    def next(self) -> tuple[int, str]:
        """(bytes, sha256) of the record just written, and start counting the next."""
        done = self.size, self.digest.hexdigest()
        self.size, self.digest = 0, hashlib.sha256()
        return done


def _chunks(body: bytes | Path) -> Iterator[bytes]:
    if isinstance(body, bytes):
        yield body
        return
    with open(body, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def _http(record: Record, length: int) -> Any:
    if record.kind == "resource":
        return None
    headers = [(k, v) for k, v in record.headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(length)))
    if record.kind == "request":
        return StatusAndHeaders(record.request_line, headers, is_http_request=True)
    return StatusAndHeaders(f"{record.status} {record.reason}".strip(), headers, protocol="HTTP/1.1")


@dataclass(frozen=True)
class _Written:
    record: Record
    offset: int
    length: int
    digest: str  # sha256 of the record's bytes in the WARC
    payload: str


def _write_warc(out: IO[bytes], groups: list[list[Record]], manifest: Manifest, digest: str) -> list[_Written]:
    counted = _Counted(out)
    writer = WARCWriter(counted, gzip=True, warc_version="1.1")
    namespace = uuid.UUID(digest[:32])  # the manifest's hash: ids differ from package to package
    serial = 0

    def record_id() -> str:
        nonlocal serial
        serial += 1
        return f"<urn:uuid:{uuid.uuid5(namespace, str(serial))}>"

    info = {
        "software": _software(),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "the pages of an evidence package; the package itself, signed, is the evidence",
        "evidence-manifest-sha256": digest,
        "evidence-signer": f"Ed25519 SHA-256 {manifest.signer.fingerprint}" if manifest.signer else "",
    }
    fields = "".join(f"{k}: {CONTROL.sub(' ', v)}\r\n" for k, v in info.items() if v).encode("utf-8")
    writer.write_record(
        writer.create_warc_record(
            "",
            "warcinfo",
            payload=BytesIO(fields),
            length=len(fields),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": record_id(),
                "WARC-Date": _iso(manifest.created_at),
                "WARC-Filename": WARC_NAME,
                "WARC-Block-Digest": "sha256:" + hashlib.sha256(fields).hexdigest(),
            },
        )
    )
    position = counted.next()[0]
    written: list[_Written] = []
    ids: dict[int, str] = {}
    for group in groups:
        for record in group:
            rid = ids[id(record)] = record_id()
            payload, size = hashlib.sha256(), 0
            for chunk in _chunks(record.body):
                payload.update(chunk)
                size += len(chunk)
            http_headers = _http(record, size)
            block = hashlib.sha256()
            if http_headers is not None:
                http_headers.compute_headers_buffer()
                block.update(http_headers.headers_buff)
            for chunk in _chunks(record.body):
                block.update(chunk)
            headers = {
                "WARC-Record-ID": rid,
                "WARC-Date": _iso(record.date),
                "WARC-Target-URI": CONTROL.sub("", record.uri),
                "WARC-Payload-Digest": "sha256:" + payload.hexdigest(),
                "WARC-Block-Digest": "sha256:" + block.hexdigest(),
                "WARC-Evidence-Source": record.source,
            }
            if record.pair is not None and id(record.pair) in ids:
                headers["WARC-Concurrent-To"] = ids[id(record.pair)]
            if record.truncated:
                headers["WARC-Truncated"] = "length"
            with open(record.body, "rb") if isinstance(record.body, Path) else BytesIO(record.body) as stream:
                writer.write_record(
                    writer.create_warc_record(
                        record.uri,
                        record.kind,
                        payload=stream,
                        length=size,
                        warc_content_type=record.content_type or "",
                        warc_headers_dict=headers,
                        http_headers=http_headers,
                    )
                )
            length, sha = counted.next()
            written.append(_Written(record, position, length, "sha256:" + sha, "sha256:" + payload.hexdigest()))
            position += length
    return written


def _index(written: list[_Written]) -> bytes:
    """CDXJ: a line per response and resource, sorted as bytes (LC_ALL=C sort)."""
    lines = []
    for done in written:
        record = done.record
        if record.kind == "request":
            continue
        mime = record.content_type or next((v for k, v in record.headers if k.lower() == "content-type"), "")
        block: dict[str, Any] = {
            "url": record.uri,
            "mime": re.split(r"[;\s]", mime, maxsplit=1)[0].strip(),
            "digest": done.payload,
            "length": str(done.length),
            "offset": str(done.offset),
            "recordDigest": done.digest,
            "filename": WARC_NAME,
        }
        if record.status is not None:  # a resource has none
            block["status"] = str(record.status)
        if record.kind == "response" and record.method != "GET":
            block["method"] = record.method
            if record.query is not None:
                block["requestBody"] = record.query
        stamp = record.date.astimezone(UTC).strftime("%Y%m%d%H%M%S")
        lines.append(f"{_index_key(record)} {stamp} {json.dumps(block)}\n".encode())
    return b"".join(sorted(lines))


def _pages(pages: list[dict[str, Any]]) -> bytes:
    head = {"format": "json-pages-1.0", "id": "pages", "title": "Captured pages"}
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in [head, *pages]).encode("utf-8")


def _home(pages: list[dict[str, Any]], manifest: Manifest) -> dict[str, Any] | None:
    """The page a reader opens first: the provider's confirmation when there is one."""
    wanted = manifest.submission.confirmation_url if manifest.submission else None
    chosen = next((p for p in pages if p["url"] == wanted), pages[-1] if pages else None)
    return {"url": chosen["url"], "ts": chosen["ts"]} if chosen else None


def write_wacz(root: Path, manifest: Manifest, target: Path) -> Exported:
    """The WACZ of a package's folder (already verified: `export` checks it first)."""
    digest = sha256_file(root / MANIFEST)
    groups, pages = _records(root, manifest)
    with tempfile.TemporaryFile() as warc:
        written = _write_warc(warc, groups, manifest, digest)
        warc_size = warc.tell()
        warc.seek(0)
        warc_hash = hashlib.sha256()
        while chunk := warc.read(1 << 20):
            warc_hash.update(chunk)
        index, page_list = _index(written), _pages(pages)
        resources = [
            {"name": WARC_NAME, "path": WARC_PATH, "hash": f"sha256:{warc_hash.hexdigest()}", "bytes": warc_size},
            _resource(INDEX_PATH, index),
            _resource(PAGES_PATH, page_list),
        ]
        subject = manifest.case.get("subject")
        package: dict[str, Any] = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": str(subject) if subject else "Evidence package",
            "description": (
                "The pages captured in an evidence package, exported for web-archive tools. The package "
                f"(its manifest.json has SHA-256 {digest}) is the evidence: check it with "
                "`assistant evidence verify` or by hand (docs/evidence.md)."
            ),
            "created": _iso(manifest.created_at.replace(microsecond=0)),
            "software": _software(),
            "resources": resources,
        }
        home = _home(pages, manifest)
        if home:
            package["home"] = home
            package["mainPageURL"], package["mainPageDate"] = home["url"], home["ts"]
        package_bytes = (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        digest_bytes = (
            json.dumps({"path": DATAPACKAGE, "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}, indent=2)
            + "\n"
        ).encode("utf-8")
        tmp = target.with_name(target.name + ".part")
        try:
            with zipfile.ZipFile(tmp, "w") as archive:
                warc.seek(0)
                with archive.open(_entry(WARC_PATH, zipfile.ZIP_STORED, warc_size), "w") as out:
                    shutil.copyfileobj(warc, out, 1 << 20)
                for name, data in (
                    (INDEX_PATH, index),
                    (PAGES_PATH, page_list),
                    (DATAPACKAGE, package_bytes),
                    (DIGEST, digest_bytes),
                ):
                    archive.writestr(_entry(name, zipfile.ZIP_DEFLATED, len(data)), data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return Exported(target, len(pages), len(written) + 1, sha256_file(target))


def _resource(path: str, data: bytes) -> dict[str, Any]:
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }


def _entry(name: str, compression: int, size: int) -> zipfile.ZipInfo:
    """A zip entry with nothing of this machine or this moment in it (as evidence.bundle.make_zip)."""
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = compression  # the WARC is gzip already: stored, so readers can seek in it
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.file_size = size  # lets zipfile choose ZIP64 up front for a WARC over 4 GiB
    return info


def _software() -> str:
    try:
        version = metadata.version("support-assistant")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"support-assistant {version} (assistant evidence export)"
