"""The replica API: local copies of provider sites, served on 127.0.0.1 for flow tests.

A replica is a folder (``flows/replicas/<flow>/``) holding a ``site.py``, its page
templates and, if it needs them, a ``static/`` folder. ``site.py`` defines one
module-level ``site = Site(__file__)`` and registers a handler per page; a
handler takes a `Request` and returns a `Response` (usually one made by
``site.page``, ``site.page_text`` or ``site.redirect``)::

    from assistant.sites.replica import Markup, Site

    site = Site(__file__, title="Acme support")

    @site.get("/support")
    def form(request):
        return site.page("form.html", errors="")

    @site.post("/support")
    def send(request):
        if len(request.value("message")) < 20:
            return site.page("form.html", status=422, errors=Markup('<p role="alert">Too short</p>'))
        number = site.record(request, prefix="REQ-")
        return site.redirect(f"/support/done/{number}")

    @site.get(r"/support/done/(?P<number>[\\w-]+)")
    def done(request):
        if site.lookup(request.params["number"]) is None:
            return site.page_text("Not found", "<h1>No such request</h1>", status=404)
        return site.page("done.html", number=request.params["number"])

Routes
    ``@site.get(pattern)``, ``@site.post(pattern)`` (or ``@site.route("GET",
    pattern)``): `pattern` is a regular expression the whole path must match;
    its named groups arrive in ``request.params``. Routes are tried in the
    order they were registered. A path no route takes is served from
    ``static/`` if it starts with ``/static/`` and names a file there, and is
    a 404 page otherwise.

The request (`Request`)
    ``request.value("email")`` is a form field with surrounding spaces
    stripped ("" when absent); ``request.form`` is every field (name → first
    value; line breaks as ``\\n``); ``request.files`` the uploaded files
    (`Upload`: ``.name`` of the field, ``.filename``, ``.content_type``,
    ``.data`` exactly as sent); ``request.query`` the query string's non-empty
    values (``request.query.get("topic", "")``); ``request.cookies``;
    ``request.headers`` (lower-case names); ``request.params`` the route's
    named groups. ``request.form`` and ``request.files`` may be changed or
    replaced before ``site.record``, e.g. to add the logged-in account or to
    record a draft kept from an earlier page.

Responses
    ``site.page("form.html", status=200, name=value, …)`` fills the template's
    ``$name`` slots (``string.Template``; every slot needs a value, ``$$`` is a
    literal ``$``). Values are HTML-escaped unless wrapped in `Markup`:
    ``errors=Markup("<ul>…</ul>")``. ``site.page_text(title, body_html,
    status=200)`` is a whole page from a title and an HTML body (given as is).
    ``site.redirect("/done?n=ВК-1")`` is a 303 (``status=`` for others); the
    location is percent-encoded as HTTP needs. ``Response(status, body,
    content_type, headers, cookies)`` answers anything else, e.g. JSON:
    ``Response(201, json.dumps({"number": n}).encode(), "application/json")``;
    a cookie is a whole Set-Cookie value:
    ``response.cookies.append("sid=…; Path=/; HttpOnly")``.

Bookkeeping
    ``number = site.record(request, prefix="REQ-", digits=6)`` accepts the
    request: it keeps its fields and files in ``site.received`` with the next
    number (``REQ-000001``, ``REQ-000002``, …) and returns that number, so
    that a flow test can check that the number the flow read from the page is
    the one the site gave out. ``site.lookup(number)`` finds a recorded
    request (`Received`: ``.number``, ``.fields``, ``.files``, ``.at``) or
    None. ``site.state`` is a dict for the site's own memory (sessions,
    drafts, CAPTCHA answers); ``site.new_token()`` makes an unguessable value
    for it.

Limits
    A body over 30 MB is refused unread (413), a malformed form is 400, more
    than 100 parts is 400. A handler that raises shows a 500 page naming the
    exception, so a bug in a replica shows in the test's evidence instead of
    hanging the browser.

Running one
    ``assistant flow serve NAME`` opens a flow's replica for a browser;
    ``ReplicaServer(load_site(folder))`` is one inside a test (a context
    manager with ``.url`` and ``.received``); `open_replica` and `serve` are
    what the workbench commands use.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as WSGIResponse

from assistant.errors import InputError
from assistant.sites.web import MAX_BODY, FormError, FormRequest, LocalServer, hang_up, until_interrupted

__all__ = [
    "Markup",
    "escape",
    "Upload",
    "Request",
    "Response",
    "Received",
    "Site",
    "ReplicaServer",
    "load_site",
    "open_replica",
    "serve",
]


class Markup(str):
    """Text that is already HTML; ``site.page`` inserts it as is: ``errors=Markup("<p>…</p>")``."""


def escape(value: Any) -> str:
    """HTML-escape a value for a page, leaving `Markup` untouched: ``f"<td>{escape(name)}</td>"``."""
    return value if isinstance(value, Markup) else html.escape(str(value), quote=True)


@dataclass
class Upload:
    """A file the browser sent: the form field's `name`, the file's base name, its type and bytes."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    """What a handler gets: see the module docstring. ``request.value("email")`` reads a field."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    files: list[Upload]
    cookies: dict[str, str]
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route

    def value(self, name: str) -> str:
        """The form field `name`, stripped; "" when absent."""
        return self.form.get(name, "").strip()


@dataclass
class Response:
    """What a handler returns: ``Response(422, b'{"error": "…"}', "application/json")``.

    `cookies` are whole Set-Cookie values; `headers` are added as given.
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)


@dataclass
class Received:
    """A request the site accepted with ``site.record``, under the number it was given."""

    number: str
    fields: dict[str, str]
    files: list[Upload]
    at: datetime


class Site:
    """Routes, templates and the requests a replica accepted.

    ``site = Site(__file__)`` in site.py: templates and ``static/`` are looked
    up beside that file. `title` names the replica.
    """

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
        """Register the decorated handler for `method` on paths fully matching the regex `pattern`."""

        def register(func):
            self.routes.append((method, re.compile(pattern), func))
            return func

        return register

    def get(self, pattern: str):
        """``@site.get("/support")``: the handler for GET requests to that path."""
        return self.route("GET", pattern)

    def post(self, pattern: str):
        """``@site.post("/support")``: the handler for POST requests to that path."""
        return self.route("POST", pattern)

    def handle(self, request: Request) -> Response:
        """The response to `request`: its route's handler, a static file, or a 404 page."""
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
        """The template (beside site.py) with its ``$name`` slots filled, escaped unless `Markup`."""
        text = string.Template((self.root / template).read_text(encoding="utf-8"))
        body = text.substitute({k: escape(v) for k, v in values.items()})
        return Response(status, body.encode("utf-8"))

    def page_text(self, title: str, body_html: str, *, status: int = 200) -> Response:
        """A whole page from a title (escaped) and an HTML body (as is)."""
        doc = (
            f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body>{body_html}</body></html>"
        )
        return Response(status, doc.encode("utf-8"))

    @staticmethod
    def redirect(location: str, status: int = 303) -> Response:
        """A redirect (303 unless told) to `location`, which may hold any characters."""
        # Header values are Latin-1: a number like "ВК-000001" must be percent-encoded.
        return Response(status, b"", headers={"Location": quote(location, safe=":/?&=#%+;,@!$'()*[]~")})

    # -- bookkeeping
    def record(self, request: Request, *, prefix: str = "R-", digits: int = 6) -> str:
        """Accept a request: keep it and return the number the site gives it (`prefix` + counter)."""
        with self._lock:
            self._counter += 1
            number = f"{prefix}{self._counter:0{digits}d}"
            self.received.append(Received(number, dict(request.form), list(request.files), datetime.now(UTC)))
            return number

    def lookup(self, number: str) -> Received | None:
        """The recorded request with this number, or None."""
        with self._lock:
            return next((r for r in self.received if r.number == number), None)

    @staticmethod
    def new_token() -> str:
        """An unguessable URL-safe token (session ids, draft keys, CAPTCHA keys)."""
        return secrets.token_urlsafe(24)

    # -- serving
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The site as a WSGI app (what `ReplicaServer` serves)."""
        return _answer(self, FormRequest(environ))(environ, start_response)


def _answer(site: Site, http: FormRequest):
    if http.method not in ("GET", "POST"):
        return _to_wsgi(site.page_text("Not implemented", "<h1>Method not supported</h1>", status=501))
    if http.content_length is not None and http.content_length > MAX_BODY:
        return hang_up(_to_wsgi(Response(413, b"too large")))
    try:
        form, files = _read_body(http)
    except FormError as exc:
        return _to_wsgi(site.page_text("Bad request", f"<p>{escape(exc)}</p>", status=400))
    except RequestEntityTooLarge:
        return hang_up(_to_wsgi(Response(413, b"too large")))
    except HTTPException as exc:  # the client went away in the middle of its body
        return exc
    query: dict[str, str] = {}
    for key, value in http.args.items(multi=True):
        if value:  # as the standard library's parse_qs: blank values are left out
            query.setdefault(key, value)
    request = Request(
        http.method,
        http.path,
        query,
        form,
        files,
        http.cookies.to_dict(),
        {k.lower(): v for k, v in http.headers.items()},
    )
    try:
        return _to_wsgi(site.handle(request))
    except Exception as exc:  # a bug in a replica must show, not hang the browser
        return _to_wsgi(site.page_text("Replica error", f"<pre>{escape(repr(exc))}</pre>", status=500))


def _read_body(http: FormRequest) -> tuple[dict[str, str], list[Upload]]:
    chunked = "chunked" in http.headers.get("Transfer-Encoding", "").lower()
    if not http.content_length and not chunked:
        return {}, []
    fields, uploads = http.read_form()
    form: dict[str, str] = {}
    for name, value in fields.items():
        form[name] = value.replace("\r\n", "\n") if http.mimetype == "multipart/form-data" else value
    files: list[Upload] = []
    for name, upload in uploads.items(multi=True):
        data = upload.read()
        if upload.filename or data:
            basename = re.split(r"[\\/]", upload.filename or "")[-1]
            files.append(Upload(name, basename, upload.content_type or "", data))
    return form, files


def _to_wsgi(response: Response) -> WSGIResponse:
    out = WSGIResponse(response.body, response.status, content_type=response.content_type)
    out.headers["Cache-Control"] = "no-store"
    for key, value in response.headers.items():
        f"{key}: {value}".encode("latin-1")  # a header HTTP cannot carry is the replica's bug: a 500 page
        out.headers.add(key, value)
    for cookie in response.cookies:
        out.headers.add("Set-Cookie", cookie)
    return out


class ReplicaServer(LocalServer):
    """A Site served in a background thread on 127.0.0.1 (a free port by default).

    ``with ReplicaServer(load_site(folder)) as server:`` → ``server.url``,
    ``server.received`` (the site's recorded requests).
    """

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        super().__init__(site.wsgi, host, port, software="Replica/1.0")

    @property
    def received(self) -> list[Received]:
        return list(self.site.received)


def load_site(directory: str | Path) -> Site:
    """Import `<directory>/site.py` afresh and return its `site`."""
    directory = Path(directory).resolve()
    path = directory / "site.py"
    if not path.is_file():
        raise InputError(f"{directory}: no site.py here; a replica folder holds site.py and its templates")
    name = f"_replica_{re.sub(r'[^A-Za-z0-9_]', '_', directory.name)}_{secrets.token_hex(4)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"{path}: Python cannot load this file as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    site = getattr(module, "site", None)
    if not isinstance(site, Site):
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
        raise InputError(f"{spec!r} is not a replica: name a folder holding site.py, or builtin:demo")
    return ReplicaServer(load_site(spec), port=port)


def serve(spec: str | Path, port: int = 0, on_ready: Callable[[Any], None] | None = None) -> None:
    """Run a replica (as `open_replica` finds it) in the foreground until Ctrl-C."""
    server = open_replica(spec, port)
    server.start()
    try:
        (on_ready or (lambda s: print(f"replica at {s.url}/ (Ctrl-C to stop)", flush=True)))(server)
        until_interrupted()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
