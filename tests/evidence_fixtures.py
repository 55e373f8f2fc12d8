"""Shared by the evidence tests: one real demo package (with a trusted timestamp) and a page server."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import json_out, run_cli, write_case
from werkzeug.wrappers import Request, Response

from assistant.sites.web import LocalServer


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
    """Serves a dict of path -> HTML on 127.0.0.1, each page setting a session cookie."""

    def __init__(self, pages: dict[str, str]):
        @Request.application
        def app(request: Request) -> Response:
            body = pages.get(request.path)
            if body is None:
                return Response(status=404)
            response = Response(body, content_type="text/html; charset=utf-8")
            response.headers["Set-Cookie"] = "sessionid=SECRET-SESSION-VALUE; Path=/"
            return response

        self.server = LocalServer(app, software="test-pages")

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()
