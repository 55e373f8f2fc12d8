"""DemoMarket: a small, realistic support portal served from the standard library.

The tool's ``demo`` flow files a request here, so the whole pipeline (browser,
form filling, evidence capture, ticket number) can run on one machine with no
network.  It behaves like a real provider's web form:

* home ``/`` -> help centre ``/help`` -> form ``/support/new``;
* a multipart/form-data form with attachments, a CSRF token bound to a session
  cookie, and server-side validation (422 with per-field messages);
* on success a 303 redirect to a confirmation page showing the request number,
  and a status page for each request.

Public API::

    with DemoPortal(port=0, confirm=True, first_number=123) as portal:
        portal.url          # "http://127.0.0.1:<port>"
        portal.received     # list[Ticket] (a copy)

Text fields are stored as posted, except that line breaks are normalised to
``\\n`` (browsers send a textarea's line breaks as CRLF).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import re
import secrets
import socket
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from assistant.errors import ExitStatus

__all__ = [
    "DemoPortal",
    "Ticket",
    "ReceivedFile",
    "MultipartError",
    "Part",
    "parse_multipart",
    "parse_header_params",
    "serve_forever",
    "main",
]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

MAX_BODY = 30 * 1024 * 1024
MAX_FILES = 5
MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_PARTS = 100
SESSION_COOKIE = "demo_session"

CATEGORIES: dict[str, str] = {
    "payment": "Payments and refunds",
    "technical": "Technical problem",
    "delivery": "Order and delivery",
    "complaint": "Complaint about service",
    "other": "Other",
}
RESPONSE_TIMES: dict[str, str] = {
    "payment": "up to 24 hours",
    "technical": "1–3 business days",
    "delivery": "1–2 business days",
    "complaint": "3–5 business days",
    "other": "1–3 business days",
}
TEXT_FIELDS = (
    "category",
    "subject",
    "description",
    "order_number",
    "incident_date",
    "incident_time",
    "full_name",
    "phone",
    "email",
    "consent",
)
MAGIC = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"%PDF-", "PDF"),
)
TICKET_PATH = re.compile(r"^/support/tickets/(DEMO-\d{6})(/submitted)?/?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9 +\-()]+$")
ORDER_RE = re.compile(r"^[\w/-]{3,40}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# --------------------------------------------------------------------------
# data


@dataclass
class ReceivedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Ticket:
    number: str
    fields: dict[str, str]
    files: list[ReceivedFile]
    created_at: datetime


# --------------------------------------------------------------------------
# multipart/form-data


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass
class Part:
    name: str
    filename: str | None  # None for a plain field; "" when no file was chosen
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``main; a=1; b="x;y"`` into ("main", {"a": "1", "b": "x;y"}).

    Parameter names are lower-cased; quoted strings may contain ``;`` and
    backslash escapes.  ``name*=UTF-8''...`` (RFC 5987) values are decoded.
    """
    i, n = 0, len(value)
    j = value.find(";")
    main_value = (value if j < 0 else value[:j]).strip().lower()
    params: dict[str, str] = {}
    if j < 0:
        return main_value, params
    i = j + 1
    while i < n:
        while i < n and value[i] in " \t;":
            i += 1
        if i >= n:
            break
        eq = i
        while eq < n and value[eq] not in "=;":
            eq += 1
        key = value[i:eq].strip().lower()
        if eq >= n or value[eq] == ";":
            if key:
                params[key] = ""
            i = eq + 1
            continue
        i = eq + 1
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            i += 1
            buf = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(value[i])
                i += 1
            if i >= n:
                raise MultipartError("unterminated quoted string in header")
            i += 1  # closing quote
            val = "".join(buf)
        else:
            end = value.find(";", i)
            end = n if end < 0 else end
            val = value[i:end].strip()
            i = end
        if key.endswith("*"):
            key = key[:-1]
            charset, _, rest = val.partition("'")
            _lang, _, encoded = rest.partition("'")
            try:
                val = unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError) as exc:
                raise MultipartError(f"bad extended parameter {key}*") from exc
            params[key] = val  # the extended form wins
        elif key:
            params.setdefault(key, val)
    return main_value, params


def _delimiter_ok(body: bytes, pos: int) -> bool:
    """After ``--boundary`` at pos: either ``--`` (close) or LWSP* CRLF."""
    if body.startswith(b"--", pos):
        return True
    while pos < len(body) and body[pos] in b" \t":
        pos += 1
    return body.startswith(b"\r\n", pos)


def parse_multipart(body: bytes, boundary: bytes | str) -> list[Part]:
    """Parse a multipart/form-data body byte-exactly (RFC 7578 / RFC 2046).

    Part contents are returned untouched: CR, LF and boundary-like byte runs
    inside a part survive as long as they are not a real delimiter (CRLF,
    ``--boundary``, then ``--`` or optional whitespace and CRLF).
    """
    if isinstance(boundary, str):
        try:
            boundary = boundary.encode("ascii")
        except UnicodeEncodeError as exc:
            raise MultipartError("boundary is not ASCII") from exc
    if not 1 <= len(boundary) <= 200:
        raise MultipartError("bad boundary length")
    dash = b"--" + boundary
    delim = b"\r\n" + dash

    # opening delimiter: at the very start, or after a preamble ending in CRLF
    if body.startswith(dash) and _delimiter_ok(body, len(dash)):
        pos = len(dash)
    else:
        search = 0
        while True:
            k = body.find(delim, search)
            if k < 0:
                raise MultipartError("no opening boundary")
            if _delimiter_ok(body, k + len(delim)):
                pos = k + len(delim)
                break
            search = k + 1

    parts: list[Part] = []
    while True:
        if body.startswith(b"--", pos):  # close delimiter; the epilogue is ignored
            return parts
        while pos < len(body) and body[pos] in b" \t":
            pos += 1
        if not body.startswith(b"\r\n", pos):
            raise MultipartError("malformed boundary line")
        pos += 2
        if len(parts) >= MAX_PARTS:
            raise MultipartError("too many parts")

        if body.startswith(b"\r\n", pos):
            header_blob, content_start = b"", pos + 2
        else:
            hend = body.find(b"\r\n\r\n", pos)
            if hend < 0:
                raise MultipartError("part headers not terminated")
            header_blob, content_start = body[pos:hend], hend + 4
        if len(header_blob) > 16 * 1024:
            raise MultipartError("part headers too large")

        search = content_start
        while True:
            nxt = body.find(delim, search)
            if nxt < 0:
                raise MultipartError("missing closing boundary")
            if _delimiter_ok(body, nxt + len(delim)):
                break
            search = nxt + 1
        data = body[content_start:nxt]
        pos = nxt + len(delim)

        headers: dict[str, str] = {}
        for raw in header_blob.split(b"\r\n") if header_blob else []:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MultipartError("part header is not UTF-8") from exc
            hname, sep, hvalue = line.partition(":")
            if not sep or not hname.strip():
                raise MultipartError(f"malformed part header: {line[:60]!r}")
            headers[hname.strip().lower()] = hvalue.strip()

        disposition = headers.get("content-disposition")
        if disposition is None:
            raise MultipartError("part without Content-Disposition")
        kind, params = parse_header_params(disposition)
        if kind != "form-data" or "name" not in params:
            raise MultipartError("part is not form-data with a name")
        ctype = headers.get("content-type")
        parts.append(
            Part(
                name=params["name"],
                filename=params.get("filename"),
                content_type=ctype,
                headers=headers,
                data=data,
            )
        )


# --------------------------------------------------------------------------
# rendering


_template_cache: dict[str, string.Template] = {}


def _template(name: str) -> string.Template:
    tpl = _template_cache.get(name)
    if tpl is None:
        tpl = string.Template((TEMPLATES / name).read_text(encoding="utf-8"))
        _template_cache[name] = tpl
    return tpl


def render(name: str, **values: object) -> str:
    """Fill a template; values are inserted as given (escape them first)."""
    return _template(name).substitute({k: str(v) for k, v in values.items()})


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, nav: str = "") -> bytes:
    return render(
        "base.html",
        title=e(title),
        body=body,
        nav_home=' aria-current="page"' if nav == "home" else "",
        nav_help=' aria-current="page"' if nav == "help" else "",
    ).encode("utf-8")


def _breadcrumbs(*items: tuple[str, str | None]) -> str:
    out = []
    for label, href in items:
        out.append(f'<a href="{e(href)}">{e(label)}</a>' if href else f'<span aria-current="page">{e(label)}</span>')
    return '<nav class="breadcrumbs" aria-label="Breadcrumb">' + ' <span class="sep">›</span> '.join(out) + "</nav>"


def _fmt_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def _render_form(values: dict[str, str], errors: dict[str, str], csrf: str) -> bytes:
    def v(name: str) -> str:
        return e(values.get(name, ""))

    def err(name: str) -> str:
        msg = errors.get(name)
        if not msg:
            return ""
        return f'<p class="field-error" id="error-{name}">{e(msg)}</p>'

    def invalid(name: str) -> str:
        if name in errors:
            return f' aria-invalid="true" aria-describedby="error-{name}"'
        return ""

    selected = values.get("category", "")
    options = ['<option value="">Choose a topic…</option>']
    for key, label in CATEGORIES.items():
        sel = " selected" if key == selected else ""
        options.append(f'<option value="{key}"{sel}>{e(label)}</option>')

    summary = ""
    if errors:
        items = "".join(f'<li><a href="#{e(name)}">{e(msg)}</a></li>' for name, msg in errors.items())
        summary = (
            '<div id="form-errors" class="error-summary" role="alert" tabindex="-1">'
            "<h2>Please correct the errors below</h2>"
            f"<ul>{items}</ul></div>"
        )

    fields = {}
    for name in TEXT_FIELDS:
        fields[f"{name}_value"] = v(name)
        fields[f"{name}_error"] = err(name)
        fields[f"{name}_invalid"] = invalid(name)
    fields["attachments_error"] = err("attachments")
    fields["attachments_invalid"] = invalid("attachments")
    body = render(
        "form.html",
        breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", "/help"), ("Contact support", None)),
        summary=summary,
        category_options="\n".join(options),
        consent_checked=" checked" if values.get("consent") == "yes" else "",
        csrf_token=e(csrf),
        max_date=e((datetime.now(UTC).date() + timedelta(days=1)).isoformat()),
        **fields,
    )
    title = "Contact support" if not errors else "Error: Contact support"
    return page(title, body, nav="help")


# --------------------------------------------------------------------------
# validation


def _normalise(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _sniff(data: bytes) -> str | None:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _basename(filename: str) -> str:
    return re.split(r"[\\/]", filename)[-1]


def validate(
    values: dict[str, str], uploads: list[Part], today: date | None = None
) -> tuple[dict[str, str], list[ReceivedFile]]:
    """Return (errors by field name, accepted files)."""
    errors: dict[str, str] = {}
    today = today or datetime.now(UTC).date()

    def get(name: str) -> str:
        return values.get(name, "").strip()

    if get("category") not in CATEGORIES:
        errors["category"] = "Choose a topic for your request."

    subject = get("subject")
    if not subject:
        errors["subject"] = "Enter a subject: a short statement of the problem."
    elif not 3 <= len(subject) <= 120:
        errors["subject"] = f"The subject must be 3 to 120 characters long (it is {len(subject)})."

    description = get("description")
    if not description:
        errors["description"] = "Describe the problem: what happened, when, and what you already tried."
    elif len(description) < 20:
        errors["description"] = f"The description must be at least 20 characters long (it is {len(description)})."
    elif len(description) > 5000:
        errors["description"] = f"The description must be at most 5000 characters long (it is {len(description)})."

    order = get("order_number")
    if order and not ORDER_RE.match(order):
        errors["order_number"] = "The order number must be 3 to 40 characters: letters, digits, “-”, “_” or “/”."

    idate = get("incident_date")
    if not idate:
        errors["incident_date"] = "Enter the date of the incident."
    else:
        try:
            if not DATE_RE.match(idate):
                raise ValueError
            parsed = date.fromisoformat(idate)
        except ValueError:
            errors["incident_date"] = "Enter the date as YYYY-MM-DD, for example 2024-05-17."
        else:
            if parsed > today + timedelta(days=1):
                errors["incident_date"] = "The date of the incident cannot be in the future."

    itime = get("incident_time")
    if not itime:
        errors["incident_time"] = "Enter the time of the incident."
    elif not TIME_RE.match(itime):
        errors["incident_time"] = "Enter the time as HH:MM (24-hour clock), for example 14:30."

    if not get("full_name"):
        errors["full_name"] = "Enter your full name."
    elif len(get("full_name")) > 200:
        errors["full_name"] = "The name must be at most 200 characters long."

    phone = get("phone")
    if not phone:
        errors["phone"] = "Enter the phone number linked to your account."
    elif not PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 10:
        errors["phone"] = (
            "Enter a phone number with at least 10 digits; only digits, spaces, +, -, ( and ) are allowed."
        )

    email = get("email")
    if not email:
        errors["email"] = "Enter your email address."
    elif len(email) > 254 or not EMAIL_RE.match(email):
        errors["email"] = "Enter a valid email address, like name@example.com."

    files: list[ReceivedFile] = []
    problems: list[str] = []
    chosen = [p for p in uploads if (p.filename or p.data)]
    if len(chosen) > MAX_FILES:
        problems.append(f"You can attach at most {MAX_FILES} files (you chose {len(chosen)}).")
    else:
        for part in chosen:
            fname = _basename(part.filename or "") or "unnamed file"
            if not part.data:
                problems.append(f"“{fname}” is empty.")
            elif len(part.data) > MAX_FILE_SIZE:
                problems.append(f"“{fname}” is {_fmt_size(len(part.data))}; each file must be at most 5 MB.")
            elif _sniff(part.data) is None:
                problems.append(f"“{fname}” is not a PNG, JPEG or PDF file.")
            else:
                files.append(
                    ReceivedFile(
                        filename=fname,
                        content_type=part.content_type or "application/octet-stream",
                        data=part.data,
                    )
                )
    if problems:
        errors["attachments"] = " ".join(problems)
        files = []

    if values.get("consent") != "yes":
        errors["consent"] = "You must agree to the processing of your personal data."

    return errors, files


# --------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    portal: DemoPortal

    def handle_error(self, request, client_address):
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "DemoMarketSupport/1.0"
    sys_version = ""
    timeout = 60

    # quiet
    def log_message(self, format: str, *args: object) -> None:
        pass

    # -- responses -----------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        cookies: list[str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "same-origin")
        if content_type.startswith("text/html"):
            self.send_header("Cache-Control", "no-store")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            )
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        for c in cookies or []:
            self.send_header("Set-Cookie", c)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _message(self, status: int, title: str, text_html: str, extra: str = "") -> None:
        body = render("message.html", title=e(title), text=text_html, extra=extra)
        self._send(status, page(title, body))

    def _not_found(self) -> None:
        self._message(
            404,
            "Page not found",
            "<p>We could not find the page you were looking for. "
            "It may have been moved, or the address may be mistyped.</p>",
            '<p><a class="button" href="/">Go to the home page</a> '
            '<a class="button secondary" href="/help">Visit the help centre</a></p>',
        )

    # -- session / CSRF --------------------------------------------------------

    def _cookie(self, name: str) -> str | None:
        raw = self.headers.get("Cookie", "")
        for item in raw.split(";"):
            k, sep, v = item.strip().partition("=")
            if sep and k == name:
                return v.strip().strip('"')
        return None

    def _session(self) -> tuple[str, list[str]]:
        sid = self._cookie(SESSION_COOKIE)
        if sid and re.fullmatch(r"[A-Za-z0-9_-]{20,100}", sid):
            return sid, []
        sid = secrets.token_urlsafe(32)
        cookie = f"{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"
        return sid, [cookie]

    # -- dispatch --------------------------------------------------------------

    def do_GET(self) -> None:
        try:
            self._get()
        except (TimeoutError, ConnectionError):
            pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        try:
            self._post()
        except (TimeoutError, ConnectionError):
            pass

    def _get(self) -> None:
        path = urlsplit(self.path).path
        portal = self.server.portal
        if path == "/":
            self._send(200, page("DemoMarket — groceries delivered", render("home.html"), nav="home"))
        elif path in ("/help", "/help/"):
            body = render(
                "help.html",
                breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", None)),
                times_rows="\n".join(
                    f"<tr><td>{e(CATEGORIES[k])}</td><td>{e(RESPONSE_TIMES[k])}</td></tr>"
                    for k in ("payment", "technical", "delivery", "complaint")
                ),
            )
            self._send(200, page("Help centre — DemoMarket", body, nav="help"))
        elif path == "/support/new":
            sid, cookies = self._session()
            self._send(200, _render_form({}, {}, portal._csrf_for(sid)), cookies=cookies)
        elif path == "/static/portal.css":
            data = (STATIC / "portal.css").read_bytes()
            self._send(200, data, content_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})
        elif m := TICKET_PATH.match(path):
            ticket = portal._lookup(m.group(1))
            if ticket is None:
                self._not_found()
            elif m.group(2):
                self._send(200, _render_submitted(ticket))
            else:
                self._send(200, _render_status(ticket))
        else:
            self._not_found()

    def _post(self) -> None:
        path = urlsplit(self.path).path
        if path != "/support/new":
            self.close_connection = True
            self._not_found()
            self._drain_and_close()
            return
        portal = self.server.portal

        length_raw = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length_raw is None:
            self.close_connection = True
            self._message(411, "Length required", "<p>The request must state its length.</p>")
            return
        try:
            length = int(length_raw)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._message(400, "Bad request", "<p>The request length is invalid.</p>")
            return
        if length > MAX_BODY:
            self.close_connection = True
            self._message(
                413,
                "Request too large",
                "<p>The request is larger than 30 MB. Attach at most 5 files of up to 5 MB each.</p>",
                '<p><a class="button" href="/support/new">Back to the form</a></p>',
            )
            self._drain_and_close()
            return

        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            return  # client went away

        ctype = ""
        params: dict[str, str] = {}
        try:
            ctype, params = parse_header_params(self.headers.get("Content-Type", ""))
            if ctype != "multipart/form-data" or not params.get("boundary"):
                raise MultipartError("not multipart/form-data")
            parts = parse_multipart(body, params["boundary"])
            values: dict[str, str] = {}
            uploads: list[Part] = []
            for part in parts:
                if part.filename is not None:
                    if part.name == "attachments":
                        uploads.append(part)
                    continue
                try:
                    text = part.data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise MultipartError(f"field {part.name!r} is not UTF-8") from exc
                values.setdefault(part.name, _normalise(text))
        except MultipartError as exc:
            self._message(
                400,
                "Bad request",
                "<p>We could not read the submitted form. Please reload the form and try again.</p>",
                f'<p class="muted">{e(exc)}</p><p><a class="button" href="/support/new">Reload the form</a></p>',
            )
            return

        token = values.pop("csrf_token", "")
        sid = self._cookie(SESSION_COOKIE)
        if not sid or not hmac.compare_digest(token.encode(), portal._csrf_for(sid).encode()):
            self._message(
                403,
                "Your session has expired",
                "<p>Your session has expired or the form is out of date, so the request was "
                "<strong>not sent</strong>. Please reload the form and fill it in again.</p>",
                '<p><a class="button" href="/support/new">Reload the form</a></p>',
            )
            return

        errors, files = validate(values, uploads)
        if errors:
            self._send(422, _render_form(values, errors, portal._csrf_for(sid)))
            return

        ticket = portal._store(values, files)
        if portal.confirm:
            self._send(
                303,
                b"",
                headers={"Location": f"/support/tickets/{ticket.number}/submitted"},
            )
        else:
            self._send(200, page("Processing your request", render("processing.html")))

    def _drain_and_close(self) -> None:
        """Read a little of an unwanted body so the client sees our answer, then close."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            budget = 4 * 1024 * 1024
            while budget > 0:
                chunk = self.connection.recv(min(65536, budget))
                if not chunk:
                    break
                budget -= len(chunk)
        except OSError:
            pass


def _render_submitted(ticket: Ticket) -> bytes:
    cat = ticket.fields.get("category", "other")
    body = render(
        "submitted.html",
        number=e(ticket.number),
        category=e(CATEGORIES.get(cat, "Other")),
        response_time=e(RESPONSE_TIMES.get(cat, RESPONSE_TIMES["other"])),
        subject=e(ticket.fields.get("subject", "")),
        email=e(ticket.fields.get("email", "")),
        created=e(_iso(ticket.created_at)),
        files=e(len(ticket.files)),
    )
    return page(f"Request {ticket.number} registered", body, nav="help")


def _render_status(ticket: Ticket) -> bytes:
    cat = ticket.fields.get("category", "other")
    if ticket.files:
        files = (
            '<ul class="files">'
            + "".join(
                f'<li>{e(f.filename)} <span class="muted">({_fmt_size(len(f.data))})</span></li>' for f in ticket.files
            )
            + "</ul>"
        )
    else:
        files = '<span class="muted">None</span>'
    body = render(
        "status.html",
        breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", "/help"), (ticket.number, None)),
        number=e(ticket.number),
        category=e(CATEGORIES.get(cat, "Other")),
        response_time=e(RESPONSE_TIMES.get(cat, RESPONSE_TIMES["other"])),
        subject=e(ticket.fields.get("subject", "")),
        created=e(_iso(ticket.created_at)),
        files=files,
    )
    return page(f"Request {ticket.number}", body, nav="help")


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------
# the portal


class DemoPortal:
    """The DemoMarket support portal, served in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        confirm: bool = True,
        first_number: int = 123,
    ) -> None:
        self.host = host
        self.port = port
        self.confirm = confirm
        self._next = first_number
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []
        self._by_number: dict[str, Ticket] = {}
        self._secret = secrets.token_bytes(32)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> DemoPortal:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.portal = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"demo-portal-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # state
    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def received(self) -> list[Ticket]:
        with self._lock:
            return list(self._tickets)

    # internals used by the handler
    def _csrf_for(self, session_id: str) -> str:
        return hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()

    def _store(self, fields: dict[str, str], files: list[ReceivedFile]) -> Ticket:
        with self._lock:
            number = f"DEMO-{self._next:06d}"
            self._next += 1
            ticket = Ticket(
                number=number,
                fields=dict(fields),
                files=list(files),
                created_at=datetime.now(UTC),
            )
            self._tickets.append(ticket)
            self._by_number[number] = ticket
            return ticket

    def _lookup(self, number: str) -> Ticket | None:
        with self._lock:
            return self._by_number.get(number)


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    confirm: bool = True,
    first_number: int = 123,
    on_ready: Callable[[DemoPortal], None] | None = None,
) -> list[Ticket]:
    """Run the portal in the foreground until Ctrl-C; return the tickets received."""
    portal = DemoPortal(host=host, port=port, confirm=confirm, first_number=first_number)
    portal.start()
    try:
        if on_ready is not None:
            on_ready(portal)
        else:
            print(f"DemoMarket support portal at {portal.url}/ (Ctrl-C to stop)", flush=True)
        stop = threading.Event()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return portal.received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the DemoMarket demo support portal.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-confirm", action="store_true", help="accept requests but never show a request number")
    parser.add_argument("--first-number", type=int, default=123)
    args = parser.parse_args(argv)
    tickets = serve_forever(args.host, args.port, confirm=not args.no_confirm, first_number=args.first_number)
    print(f"Stopped; {len(tickets)} request(s) received.")
    return ExitStatus.OK


if __name__ == "__main__":
    raise SystemExit(main())
