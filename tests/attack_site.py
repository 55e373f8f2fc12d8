"""A tiny site for the hostile-page tests: the same pages on any loopback address.

One instance on 127.0.0.1 plays the provider, one on 127.0.0.2 the attacker.
Each logs every request it receives (method, path, body), so a test can
assert the attacker heard *nothing*. Pages are registered per test as plain
HTML strings (or a (status, headers, body) tuple for redirects).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hit = Hit(self.command, self.path, body, dict(self.headers))
                with site._lock:
                    site._log.append(hit)
                if self.headers.get("Upgrade", "").lower() == "websocket":
                    return self._websocket()
                page = site.pages.get(self.path.split("?")[0], None)
                if callable(page):
                    page = page(hit)
                status, headers, text = (
                    page if isinstance(page, tuple) else (200, {}, page) if page is not None else (404, {}, "not here")
                )
                data = text.encode("utf-8")
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _websocket(self):
                # Just the handshake, then silence until the browser hangs up.
                import base64
                import hashlib

                key = self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
                accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept)
                self.end_headers()
                self.wfile.flush()
                while self.rfile.read(1):
                    pass
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_OPTIONS = do_PATCH = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def log(self) -> list[Hit]:
        with self._lock:
            return list(self._log)

    def paths(self) -> list[str]:
        return [h.path for h in self.log]

    def start(self) -> AttackSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> AttackSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
