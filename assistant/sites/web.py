"""The one web stack every local site runs on: a WSGI app served by werkzeug on 127.0.0.1.

The demo portal, flow replicas and the test servers (timestamp authority, page
servers, the hostile-page site) are each a WSGI app handed to `LocalServer`,
which serves it from a background thread:

    with LocalServer(app) as server:   # a free port on 127.0.0.1
        server.url                      # "http://127.0.0.1:<port>"

Requests are not logged: these servers run inside the CLI and the tests,
whose output is for people and for JSON readers.

Sites that read forms from the browser under test use `FormRequest` (the
body-size and part-count limits, and malformed bodies as errors rather than
empty forms) and answer a body they will not read with `hang_up`; a site that
plays a broken server drops a connection unanswered with `reset_connection`.
"""

from __future__ import annotations

import io
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from typing import Any, Self

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

__all__ = [
    "MAX_BODY",
    "MAX_PARTS",
    "FormError",
    "FormRequest",
    "LocalServer",
    "hang_up",
    "reset_connection",
]

MAX_BODY = 30 * 1024 * 1024  # the largest request body a local site reads
MAX_PARTS = 1000  # multipart parts per request (werkzeug's own default: a long real form has a few hundred)
# What is read of a refused body before the connection closes, so that the
# browser, still sending, sees the answer rather than a reset connection.
REFUSED_BODY_READ = 4 * 1024 * 1024
_HANG_UP = "assistant.hang_up"
_RESET = "assistant.reset"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FormError(ValueError):
    """The request body is not a form the site can read; the message says why."""


class FormRequest(Request):
    """A werkzeug Request whose form is read with the limits every local site keeps.

    `read_form()` returns (fields, files) as werkzeug MultiDicts, or raises
    FormError for a malformed body or too many parts, and RequestEntityTooLarge
    for a body over MAX_BODY.
    """

    max_content_length = MAX_BODY
    # A text field may fill the whole body, as it always could here: the sites
    # check each field's length themselves and say which one is too long.
    max_form_memory_size = MAX_BODY
    max_form_parts = MAX_PARTS

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False  # a malformed body is answered with 400, not read as an empty form
        return parser

    def _get_file_stream(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        # Uploads are a person's documents: kept in memory (the body is capped),
        # never spooled to a temporary file in the shared /tmp.
        return io.BytesIO()

    def read_form(self) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        if self.content_length is not None and self.content_length > MAX_BODY:
            raise RequestEntityTooLarge()
        try:
            form, files = self.form, self.files
        except RequestEntityTooLarge as exc:
            if self.content_length is None:  # a chunked body that grew past MAX_BODY
                raise
            raise FormError(f"more than {MAX_PARTS} parts") from exc
        except ValueError as exc:
            raise FormError(str(exc)) from exc
        if None in form or None in files:
            raise FormError("a part has no name")
        return form, files


def hang_up(response: Response) -> WSGIApp:
    """A WSGI app that sends `response`, then closes without reading the rest of the body.

    For a body the site refuses unread (too large, no length, wrong place):
    werkzeug would otherwise read all of it, however large, before closing.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body, status, headers = response.get_wsgi_response(environ)
        write = start_response(status, headers)
        for chunk in body:
            write(chunk)
        write(b"")  # sends the status line and headers even when the body is empty
        environ[_HANG_UP]()
        return []

    return app


def reset_connection(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A WSGI app that answers nothing: the connection is closed with a TCP reset.

    What a crashed server or a broken proxy does mid-answer; the client sees
    ECONNRESET (Chromium: net::ERR_CONNECTION_RESET) and no status at all.
    """
    environ[_RESET]()
    # werkzeug takes this for a client that went away: nothing is written and nothing logged.
    raise ConnectionResetError("connection reset on purpose")


class _Handler(WSGIRequestHandler):
    # Set here so werkzeug does not change its shared handler class; every
    # response says "Connection: close" either way.
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that stops sending does not hold a thread for ever
    server: BaseWSGIServer

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return getattr(self.server, "software", "local-site")

    sys_version = ""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[_HANG_UP] = self._hang_up
        environ[_RESET] = self._reset
        return environ

    def _reset(self) -> None:
        self.close_connection = True  # no second request is read from this connection
        try:
            # Linger 0: close() sends RST instead of FIN, and drops whatever was unsent.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The socket closes only when its reader (a makefile) is closed too; werkzeug and
        # socketserver then find a closed connection, which they expect from a client gone.
        unread, self.rfile = self.rfile, io.BytesIO()
        unread.close()
        self.connection.close()

    def _hang_up(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            budget = REFUSED_BODY_READ
            while budget > 0:
                chunk = self.connection.recv(min(65536, budget))
                if not chunk:
                    break
                budget -= len(chunk)
        except OSError:
            pass
        # werkzeug drains what is left of the body after the app returns; give it nothing.
        unread, self.rfile = self.rfile, io.BytesIO()
        unread.close()

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


def _listen(host: str, port: int) -> socket.socket:
    # Bound here, not by werkzeug, which prints and exits the process when the port is taken;
    # this raises OSError for the caller to report.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def until_interrupted() -> None:
    """Block until Ctrl-C (SIGINT), for a server run in the foreground.

    A wait without a timeout is not woken when the signal lands on one of the servers'
    threads (Linux hands a process's signal to any of its threads): Python runs its handler
    only when the main thread next runs Python code, which then never happens. Short waits let it."""
    pause = threading.Event()
    while not pause.wait(0.2):
        pass


class LocalServer:
    """A WSGI app served in a background thread, on 127.0.0.1 and a free port unless told otherwise.

    `software` is the Server header; `ssl_context` (an ssl.SSLContext) serves HTTPS.
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        software: str = "local-site",
        ssl_context: Any = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.software = software
        self.ssl_context = ssl_context
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        sock = _listen(self.host, self.port)
        try:
            server = make_server(
                self.host,
                sock.getsockname()[1],
                self.app,
                threaded=True,
                request_handler=_Handler,
                ssl_context=self.ssl_context,
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # werkzeug serves on its own copy of the socket
        server.software = self.software  # type: ignore[attr-defined]
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.software}-{self.port}",
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
