"""Shared by the evidence tests: one real demo package (with a trusted timestamp) and a page server."""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from helpers import json_out, run_cli, write_case


def make_demo_package(tmp: Path, tsa_url: str | None, *extra: str) -> dict:
    from assistant.sites.demo.portal import DemoPortal

    tmp.mkdir(parents=True, exist_ok=True)
    with DemoPortal() as portal:
        args = [
            "submit",
            "demo",
            "--case",
            str(write_case(tmp)),
            "--base-url",
            portal.url,
            "--yes",
            "--json",
            "--out",
            str(tmp / "package"),
        ]
        if tsa_url:
            args += ["--tsa", tsa_url]
        result = json_out(run_cli(*args, *extra, home=tmp / "home"))
        result["portal_received"] = list(portal.received)
    return result


def copy_package(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


class PageServer:
    """Serves a dict of path -> HTML on 127.0.0.1."""

    def __init__(self, pages: dict[str, str]):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Set-Cookie", "sessionid=SECRET-SESSION-VALUE; Path=/")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
