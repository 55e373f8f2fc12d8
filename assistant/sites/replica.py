"""Local replicas of provider sites, served on 127.0.0.1 for flow tests.

A replica is a folder (tests/sites/<flow>/) holding a `site.py` and its page
templates. `site.py` builds a `Site` and registers handlers:

    from assistant.sites.replica import Site

    site = Site(__file__)

    @site.get("/info/feedback")
    def form(request):
        return site.page("form.html", errors="")

    @site.post("/info/feedback")
    def send(request):
        number = site.record(request, prefix="FB-")
        return site.redirect(f"/info/feedback/sent?n={number}")

Templates are `string.Template` files (`$name`); values are HTML-escaped
unless wrapped in `Markup`. Form bodies are parsed with the demo portal's
byte-exact multipart parser, so uploads arrive exactly as the browser sent
them. Every accepted request is kept in `site.received` with the number the
replica issued, so a flow test can check that the number the flow read from
the page is the one the site gave out.
"""

from __future__ import annotations

import html
import importlib.util
import mimetypes
import re
import secrets
import string
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from assistant.sites.demo.portal import MultipartError, parse_header_params, parse_multipart

MAX_BODY = 30 * 1024 * 1024


class Markup(str):
    """Text that is already HTML; inserted into templates as is."""


def escape(value: Any) -> str:
    return value if isinstance(value, Markup) else html.escape(str(value), quote=True)


@dataclass
class Upload:
    name: str  # the form field
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    files: list[Upload]
    cookies: dict[str, str]
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route

    def value(self, name: str) -> str:
        return self.form.get(name, "").strip()


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)


@dataclass
class Received:
    number: str
    fields: dict[str, str]
    files: list[Upload]
    at: datetime


class Site:
    """Routes, templates and the requests a replica accepted."""

    def __init__(self, site_file: str | Path, *, title: str = "replica"):
        self.root = Path(site_file).resolve().parent
        self.title = title
        self.routes: list[tuple[str, re.Pattern, Callable[[Request], Response]]] = []
        self.received: list[Received] = []
        self.state: dict[str, Any] = {}  # free for a site's own bookkeeping (sessions, drafts)
        self._lock = threading.Lock()
        self._counter = 0

    # -- routing
    def route(self, method: str, pattern: str):
        def register(func):
            self.routes.append((method, re.compile(pattern), func))
            return func

        return register

    def get(self, pattern: str):
        return self.route("GET", pattern)

    def post(self, pattern: str):
        return self.route("POST", pattern)

    def handle(self, request: Request) -> Response:
        for method, pattern, func in self.routes:
            found = pattern.fullmatch(request.path)
            if found and method == request.method:
                request.params = found.groupdict()
                return func(request)
        static = self.root / "static" / request.path.removeprefix("/static/")
        if (
            request.path.startswith("/static/")
            and static.is_file()
            and self.root / "static" in static.resolve().parents
        ):
            kind = mimetypes.guess_type(static.name)[0] or "application/octet-stream"
            return Response(200, static.read_bytes(), kind)
        return self.page_text("Not found", "<h1>Page not found</h1>", status=404)

    # -- responses
    def page(self, template: str, *, status: int = 200, **values: Any) -> Response:
        text = string.Template((self.root / template).read_text(encoding="utf-8"))
        body = text.substitute({k: escape(v) for k, v in values.items()})
        return Response(status, body.encode("utf-8"))

    def page_text(self, title: str, body_html: str, *, status: int = 200) -> Response:
        doc = (
            f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body>{body_html}</body></html>"
        )
        return Response(status, doc.encode("utf-8"))

    @staticmethod
    def redirect(location: str, status: int = 303) -> Response:
        # Header values are Latin-1: a number like "ВК-000001" must be percent-encoded.
        return Response(status, b"", headers={"Location": quote(location, safe=":/?&=#%+;,@!$'()*[]~")})

    # -- bookkeeping
    def record(self, request: Request, *, prefix: str = "R-", digits: int = 6) -> str:
        """Accept a request: keep it and return the number the site gives it."""
        with self._lock:
            self._counter += 1
            number = f"{prefix}{self._counter:0{digits}d}"
            self.received.append(Received(number, dict(request.form), list(request.files), datetime.now(UTC)))
            return number

    def lookup(self, number: str) -> Received | None:
        with self._lock:
            return next((r for r in self.received if r.number == number), None)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(24)


class _Handler(BaseHTTPRequestHandler):
    server_version = "Replica/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._write(Response(413, b"too large"))
            self.close_connection = True
            return
        self._serve("POST", self.rfile.read(length))

    def _serve(self, method: str, body: bytes) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        try:
            form, files = _parse_body(self.headers.get("Content-Type", ""), body)
        except MultipartError as exc:
            self._write(site.page_text("Bad request", f"<p>{escape(exc)}</p>", status=400))
            return
        cookies = {}
        for item in self.headers.get("Cookie", "").split(";"):
            key, sep, value = item.strip().partition("=")
            if sep:
                cookies[key] = value
        request = Request(
            method,
            unquote(parts.path),
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            form,
            files,
            cookies,
            {k.lower(): v for k, v in self.headers.items()},
        )
        try:
            response = site.handle(request)
            for key, value in response.headers.items():
                f"{key}: {value}".encode("latin-1")
        except Exception as exc:  # a bug in a replica must show, not hang the browser
            response = site.page_text("Replica error", f"<pre>{escape(repr(exc))}</pre>", status=500)
        self._write(response)

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in response.headers.items():
                self.send_header(key, value)
            for cookie in response.cookies:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(response.body)
        except (ConnectionError, OSError):
            pass


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], list[Upload]]:
    if not body:
        return {}, []
    kind, params = parse_header_params(content_type)
    form: dict[str, str] = {}
    files: list[Upload] = []
    if kind == "multipart/form-data":
        for part in parse_multipart(body, params.get("boundary", "")):
            if part.filename is not None:
                if part.filename or part.data:
                    name = re.split(r"[\\/]", part.filename)[-1]
                    files.append(Upload(part.name, name, part.content_type or "", part.data))
                continue
            text = part.data.decode("utf-8", errors="replace").replace("\r\n", "\n")
            form.setdefault(part.name, text)
    elif kind == "application/x-www-form-urlencoded":
        for key, values in parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).items():
            form[key] = values[0]
    return form, files


class ReplicaServer:
    """A Site served in a background thread on 127.0.0.1 (a free port by default)."""

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def received(self) -> list[Received]:
        return list(self.site.received)

    def start(self) -> ReplicaServer:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.site = self.site  # type: ignore[attr-defined]
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load_site(directory: str | Path) -> Site:
    """Import `<directory>/site.py` afresh and return its `site`."""
    directory = Path(directory).resolve()
    path = directory / "site.py"
    if not path.is_file():
        from assistant.errors import InputError

        raise InputError(f"{directory}: no site.py here; a replica folder holds site.py and its templates")
    name = f"_replica_{re.sub(r'[^A-Za-z0-9_]', '_', directory.name)}_{secrets.token_hex(4)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        from assistant.errors import InputError

        raise InputError(f"{path}: Python cannot load this file as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    site = getattr(module, "site", None)
    if not isinstance(site, Site):
        from assistant.errors import InputError

        raise InputError(f"{path}: defines no `site = Site(__file__)`")
    return site


def open_replica(spec: str | Path, port: int = 0):
    """A replica folder (with site.py, whose code runs here), or 'builtin:demo' for the demo portal.

    Only `flow test`, `flow serve`, `flow check` and replays call this: a
    replica is test code, never loaded by submit, check or validate.
    Returns an object with start(), stop(), url and received (items with .number)."""
    if str(spec) == "builtin:demo":
        from assistant.sites.demo.portal import DemoPortal

        return DemoPortal(port=port) if port else DemoPortal()
    if isinstance(spec, str) and ":" in spec:
        from assistant.errors import InputError

        raise InputError(f"{spec!r} is not a replica: name a folder holding site.py, or builtin:demo")
    return ReplicaServer(load_site(spec), port=port)


def serve(spec: str | Path, port: int = 0, on_ready: Callable[[Any], None] | None = None) -> None:
    server = open_replica(spec, port)
    server.start()
    try:
        (on_ready or (lambda s: print(f"replica at {s.url}/ (Ctrl-C to stop)", flush=True)))(server)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
