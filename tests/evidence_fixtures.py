"""Shared by the evidence tests: one real demo package (with a trusted timestamp) and a page server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from helpers import REPO, json_out, run_cli, write_case
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


BY_HAND_MARKER = "<!-- by-hand check:"


def readme_by_hand_block() -> str:
    """docs/evidence.md's "check a package by hand" block: the fenced block right after its marker."""
    text = (REPO / "docs" / "evidence.md").read_text(encoding="utf-8")
    assert text.count(BY_HAND_MARKER) == 1, "docs/evidence.md marks exactly one by-hand block"
    after = text.split(BY_HAND_MARKER, 1)[1].split("-->", 1)[1]
    found = re.match(r"\s*```bash\n(.*?)```", after, re.S)
    assert found, "the by-hand marker is followed by a ```bash block"
    return found.group(1)


def run_by_hand(folder: Path) -> subprocess.CompletedProcess:
    """The by-hand block, exactly as written, run by bash in the package folder."""
    return subprocess.run(["bash", "-c", readme_by_hand_block()], cwd=folder, capture_output=True, text=True)


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


def sign_again(folder: Path, signer, manifest_text: bytes) -> Path:
    """What anyone holding a package and a key can do after changing it: write manifest.json,
    sign it, and list and sign every file again in SHA256SUMS. Every hash and signature then
    holds; what still tells the change is what the key cannot make (tokens, the provider's copy)."""
    from evidence.package import sha256_file

    (folder / "manifest.json").write_bytes(manifest_text)
    (folder / "manifest.sig").write_bytes(signer.sign(manifest_text))
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    body = "".join(
        f"{sha256_file(folder / n)}  {n}\n" for n in names if n not in ("SHA256SUMS", "SHA256SUMS.sig")
    ).encode()
    (folder / "SHA256SUMS.sig").write_bytes(signer.sign(body))
    (folder / "SHA256SUMS").write_bytes(body)
    return folder
