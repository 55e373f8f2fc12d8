"""A tiny site for the hostile-page tests: the same pages on any loopback address.

One instance on 127.0.0.1 plays the provider, one on 127.0.0.2 the attacker.
Each logs every request it receives (method, path, body), so a test can
assert the attacker heard *nothing*. Pages are registered per test as plain
HTML strings (or a (status, headers, body) tuple for redirects, or a werkzeug Response).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from assistant.sites.web import LocalServer

Page = str | tuple[int, dict[str, str], str] | Callable[["Hit"], str | tuple]

FORM = """<!doctype html><title>Support</title>
<form id="support" method="post" action="/done">
  <input id="name" name="name"> <input id="pw" name="pw" type="password">
  <button id="send" type="submit">Send</button>
</form>"""

DONE = '<!doctype html><title>Thanks</title><p>Thank you, registered as <b id="ticket">T-123456</b></p>'


@dataclass
class Hit:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


class AttackSite:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.pages: dict[str, Page] = {"/form": FORM, "/done": DONE}
        self._log: list[Hit] = []
        self._lock = threading.Lock()
        self.server = LocalServer(self._app, host, software="attack-site")

    def _app(self, environ, start_response):
        request = Request(environ)
        # The path as the browser sent it, query included, as a test asserts on it.
        hit = Hit(request.method, environ["REQUEST_URI"], request.get_data(), dict(request.headers))
        with self._lock:
            self._log.append(hit)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return _websocket(environ, start_response, request)
        page = self.pages.get(environ["REQUEST_URI"].split("?")[0], None)
        if callable(page):
            page = page(hit)
        if isinstance(page, Response):  # a test's own answer (a stream, say)
            return page(environ, start_response)
        status, headers, text = (
            page if isinstance(page, tuple) else (200, {}, page) if page is not None else (404, {}, "not here")
        )
        response = Response(text, status, headers={"Content-Type": "text/html; charset=utf-8", **headers})
        return response(environ, start_response)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def log(self) -> list[Hit]:
        with self._lock:
            return list(self._log)

    def paths(self) -> list[str]:
        return [h.path for h in self.log]

    def start(self) -> AttackSite:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> AttackSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _websocket(environ, start_response, request: Request) -> list[bytes]:
    """Just the handshake, then silence until the browser hangs up."""
    key = request.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
    write = start_response(
        "101 Switching Protocols",
        [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)],
    )
    write(b"")
    sock = environ["werkzeug.socket"]
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass
    return []
