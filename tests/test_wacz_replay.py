"""`assistant evidence export --wacz`, opened by ReplayWeb.page itself: its loader accepts the file
and its replay shows the captured pages.

py-wacz's validator (tests/test_wacz.py) checks the format; only a player shows that what the
format allows is what a reader needs: the index it looks pages up in, the offsets it reads the
WARC at through range requests, the records it serves as the pages. ReplayWeb.page's built
ui.js and sw.js (the version `make replayweb` pins) are served on 127.0.0.1 with the WACZ, and
Chromium opens its embed. The demo portal is gone by then: what the replay shows comes from the
WACZ or from nowhere.
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from evidence_fixtures import make_demo_package
from helpers import REPO, run_cli
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page

from evidence import Manifest

REPLAYWEB = REPO / ".venv" / "replayweb"
# What ReplayWeb.page shows instead of a page: its loader's and its service worker's own words
# (ui.js's and sw.js's), or the class of the box its loader puts an error in.
NOT_REPLAYED = (
    "Archived Page Not Found",
    "Sorry, this page was not found in this archive",
    "could not be loaded due to the following error",
    "Sorry, Service Workers",
    "must be loaded from an HTTPS URL",
)
LOADER_ERROR = ".error.has-text-danger"
TIMEOUT = 60  # seconds: a cold service worker, the WACZ's index read through range requests


def pinned_version() -> str:
    found = re.search(r"^REPLAYWEB_VERSION := (\S+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert found, "the Makefile pins REPLAYWEB_VERSION"
    return found.group(1)


@pytest.fixture(scope="module")
def player() -> dict[str, bytes]:
    """ui.js and sw.js of the pinned version, looked for before anything is built. Missing is a
    failure, not a skip: CI installs them (`make test` depends on `make replayweb`), and a skip
    would hide a replay that was never tried."""
    version = pinned_version()
    if os.environ.get("CI"):
        where = "CI runs `make test`, which installs them (`make replayweb`) before the tests"
    else:
        where = "run make replayweb"
    if not all((REPLAYWEB / name).is_file() for name in ("ui.js", "sw.js", "package.json")):
        pytest.fail(f"ReplayWeb.page {version} is not in {REPLAYWEB}: {where}", pytrace=False)
    found = json.loads((REPLAYWEB / "package.json").read_text(encoding="utf-8")).get("version")
    if found != version:
        pytest.fail(f"{REPLAYWEB} holds ReplayWeb.page {found}, the Makefile pins {version}: {where}", pytrace=False)
    return {name: (REPLAYWEB / name).read_bytes() for name in ("ui.js", "sw.js")}


class Site:
    """Files from memory on 127.0.0.1, with the single byte ranges ReplayWeb.page asks a WACZ in
    (`bytes=A-B`, `bytes=A-`, `bytes=-N`): without them it reads the whole file instead of using
    the index and the offsets the export wrote."""

    def __init__(self, files: dict[str, tuple[bytes, str]]) -> None:
        self.files = files
        self.log: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.answer(body=True)

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def answer(self, body: bool) -> None:
                path = self.path.split("?", 1)[0].split("#", 1)[0]
                found = site.files.get(path)
                if found is None:
                    site.log.append(f"{self.command} {self.path} 404")
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                data, content_type = found
                status, start, end = HTTPStatus.OK, 0, len(data)
                wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
                if wanted and (wanted.group(1) or wanted.group(2)):
                    first, last = wanted.groups()
                    if first:
                        start, end = int(first), min(len(data), int(last) + 1 if last else len(data))
                    else:
                        start = max(0, len(data) - int(last))
                    if start >= len(data) or start >= end:
                        site.log.append(f"{self.command} {self.path} 416")
                        self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = HTTPStatus.PARTIAL_CONTENT
                site.log.append(f"{self.command} {self.path} {status.value} {self.headers.get('Range', '')}".strip())
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(end - start))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Cache-Control", "no-store")
                if status == HTTPStatus.PARTIAL_CONTENT:
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                self.end_headers()
                if body:
                    self.wfile.write(data[start:end])

            def log_message(self, format: str, *args: object) -> None:  # the log above says it shorter
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One real submission to the demo portal (stopped since), its package exported as a WACZ."""
    tmp = tmp_path_factory.mktemp("wacz-replay")
    result = make_demo_package(tmp, None)
    folder = Path(result["evidence_dir"])
    out = tmp / "evidence.wacz"
    done = run_cli("evidence", "export", str(folder), "--wacz", str(out), home=tmp / "home")
    assert done.returncode == 0, done.stderr
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    return out, manifest


@pytest.fixture(scope="module")
def site(player, exported) -> Iterator[Site]:
    wacz, _ = exported
    files = {
        # Same origin as the page that embeds it, under the path it is told is its base: a service
        # worker controls only its own origin and the scope it is registered from.
        "/replay/sw.js": (player["sw.js"], "application/javascript"),
        "/replay/ui.js": (player["ui.js"], "application/javascript"),
        "/evidence.wacz": (wacz.read_bytes(), "application/wacz"),
        "/blank.html": (b"<!doctype html><title>blank</title>", "text/html; charset=utf-8"),
    }
    with Site(files) as running:
        yield running


# ReplayWeb.page registers its service worker under the script URL and scope given here.
WORKER = "/replay/sw.js?serveIndex=1"
# Resolves once that worker is active (a worker the browser refuses rejects it).
ACTIVATE = """async ([script, scope]) => {
    const registration = await navigator.serviceWorker.register(script, {scope});
    const worker = registration.installing || registration.waiting || registration.active;
    while (worker.state !== "activated") {
        if (worker.state === "redundant") throw new Error(`the browser refused ${script}`);
        await new Promise((changed) => worker.addEventListener("statechange", changed, {once: true}));
    }
}"""


def embed(site: Site, url: str, ts: str) -> str:
    """The page that embeds ReplayWeb.page on one captured URL (its embedding guide's markup)."""
    path = f"/embed-{len(site.files)}.html"
    markup = (
        '<!doctype html><html><head><meta charset="utf-8"><script src="/replay/ui.js"></script></head>'
        '<body style="margin:0;height:100vh">'
        f'<replay-web-page source="/evidence.wacz" url="{html.escape(url)}" ts="{ts}" replayBase="/replay/"'
        ' embed="replayonly"></replay-web-page></body></html>'
    )
    site.files[path] = (markup.encode("utf-8"), "text/html; charset=utf-8")
    return site.url + path


def open_replay(page: Page, site: Site, url: str, ts: str) -> Frame:
    """The frame ReplayWeb.page replays url in (…mp_/URL), once its document has loaded; fails at
    once with ReplayWeb.page's own message if it shows one instead."""
    # The embed loads its frame as soon as its worker is registered, not once it is active: on a
    # busy machine the frame is then the server's 404, which the worker claims when it starts, so
    # the embed never reloads it. Made active first, as a reader's second visit finds it.
    page.goto(f"{site.url}/blank.html")
    page.evaluate(ACTIVATE, [WORKER, "/replay/"])
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"[:300]))
    page.goto(embed(site, url, ts))
    deadline = time.monotonic() + TIMEOUT
    while True:
        said = complaints(page)
        if said:
            pytest.fail(f"ReplayWeb.page says: {said}")
        for frame in page.frames:
            try:
                if f"mp_/{url}" in frame.url and frame.evaluate("document.readyState") == "complete":
                    return frame
            except PlaywrightError:  # detached or navigating meanwhile: looked at again next time
                continue
        if time.monotonic() > deadline:
            frames = "\n  ".join(f"{f.url} {text_of(f)[:300]!r}" for f in page.frames)
            served = "\n  ".join(line for line in site.log if "/evidence.wacz " not in line)
            said = "\n  ".join(console)
            pytest.fail(
                f"no replay of {url} after {TIMEOUT} s; frames:\n  {frames}\n"
                f"served (the WACZ's ranges left out):\n  {served}\nconsole:\n  {said}"
            )
        page.wait_for_timeout(250)


def complaints(page: Page) -> list[str]:
    """What ReplayWeb.page shows instead of a page, in any of its frames (open shadow roots too)."""
    said = []
    for frame in page.frames:
        try:
            for shown in [frame.get_by_text(words) for words in NOT_REPLAYED] + [frame.locator(LOADER_ERROR)]:
                if shown.count() and shown.first.inner_text().strip():
                    said.append(shown.first.inner_text().strip())
        except PlaywrightError:  # detached or navigating meanwhile
            continue
    return said


def text_of(frame: Frame) -> str:
    try:
        return frame.locator("body").inner_text(timeout=1000)
    except PlaywrightError as error:
        return str(error).splitlines()[0]


def page_ts(manifest: Manifest, suffix: str) -> tuple[str, str]:
    """(URL, 14-digit timestamp) of the captured page whose snapshot's name ends in suffix."""
    entry = next(f for f in manifest.files if f.path.startswith("pages/") and f.path.endswith(f"{suffix}.html"))
    assert entry.captured_at is not None
    return str(entry.meta["url"]), entry.captured_at.strftime("%Y%m%d%H%M%S")


def test_replaywebpage_replays_the_confirmation_page_from_the_wacz(site, exported, page):
    _, manifest = exported
    submission = manifest.submission
    assert submission is not None and submission.confirmation and submission.confirmation_url
    url, ts = page_ts(manifest, "confirmation")
    assert url == submission.confirmation_url
    frame = open_replay(page, site, url, ts)
    assert frame.locator("#ticket-number").inner_text(timeout=TIMEOUT * 1000) == submission.confirmation
    assert frame.title() == f"Request {submission.confirmation} registered"
    assert not complaints(page)
    # ReplayWeb.page read the WACZ as a reader of a large one would: by ranges, not whole.
    assert any(line.startswith("GET /evidence.wacz 206") for line in site.log), site.log


def test_replaywebpage_replays_the_filled_form_with_what_was_typed(site, exported, page):
    _, manifest = exported
    url, ts = page_ts(manifest, "filled-form")
    frame = open_replay(page, site, url, ts)
    # The GET's snapshot, not the form's POST at the same URL (whose index key names its method).
    assert frame.locator("#subject").input_value(timeout=TIMEOUT * 1000) == manifest.request["subject"]
    assert not complaints(page)
