"""What a hostile page does with the run's evidence and this machine: a password it retypes
and echoes, snapshots that would run its scripts when opened, a download pushed at the disk.

The "provider" is an attack_site on 127.0.0.1, the attacker one on 127.0.0.2 that logs
every request; the real `assistant submit` runs against them.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from pathlib import Path

import pytest
from attack_site import DONE, FORM, AttackSite
from helpers import run_cli, write_case
from test_containment import leaks
from werkzeug.wrappers import Response

from evidence import inert

PASSWORD = "Ret7ped-Secret"
MAGENTA = "#ff00ff"

FLOW = """\
id: demo
name: Hostile page test
homepage: "{{ base_url }}/"
allowed_hosts: [127.0.0.1]
channel: web_form
categories:
  payment: { label: Payments, deadline: { hours: 24 } }
steps:
  - goto: "{{ base_url }}/form"
  - screenshot: before
  - fill: { selector: "#name", value: "Anna" }
  - fill: { selector: "#pw", value: "PASSWORD" }
  - screenshot: { name: typed, full_page: true }
  - submit: "#send"
success: { text: "registered" }
confirmation: { selector: "#ticket" }
""".replace("PASSWORD", PASSWORD)


def submit(tmp_path: Path, provider: AttackSite, *, timeout: float = 120):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "demo.yaml").write_text(FLOW, encoding="utf-8")
    return run_cli(
        "submit", "demo", "--case", str(write_case(tmp_path)), "--base-url", provider.url, "--yes",
        "--out", str(tmp_path / "evidence"), home=tmp_path / "home", env={"ASSISTANT_FLOWS": str(flows)},
        timeout=timeout,
    )  # fmt: skip


def magenta_pixels(path: Path) -> int:
    from PIL import Image, ImageChops

    with Image.open(path) as image:
        red, green, blue = image.convert("RGB").split()
    high = lambda band: band.point(lambda v: 255 if v > 215 else 0)  # noqa: E731
    low = green.point(lambda v: 255 if v < 45 else 0)
    return ImageChops.multiply(ImageChops.multiply(high(red), low), high(blue)).histogram()[255]


def mhtml_text(path: Path) -> str:
    """Every text part of an MHTML archive, decoded (quoted-printable hides a byte search)."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
    out = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            out.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    return "\n".join(out)


RETYPING = """
<style>.echo { background: #fff; color: MAGENTA; font: bold 18px monospace } #ph::placeholder { color: MAGENTA }</style>
<p id="control" class="echo">control: shown until the password is typed</p>
<p>You typed: <span class="echo" id="echo"></span></p>
<p class="echo" id="split"></p>
<input id="ph" size="30">
<p class="echo" id="closed"></p>
<p class="echo" id="generated"></p><style id="sheet"></style>
<p class="echo" id="backwards" style="direction: rtl; unicode-bidi: bidi-override; text-align: left"></p>
<p class="echo" id="spaced"></p>
<iframe id="frame" style="width:400px;height:40px;border:0"
  srcdoc="<body style='margin:0'><span id=e style='color:MAGENTA;font:bold 18px monospace'></span></body>"></iframe>
<script>
const pw = document.getElementById('pw');
pw.addEventListener('input', () => {
  pw.type = 'text';
  pw.style.color = 'MAGENTA';
  const v = pw.value;
  document.getElementById('control').remove();
  document.getElementById('echo').textContent = v;
  document.getElementById('split').innerHTML = '<b>' + v.slice(0, 4) + '</b><i>' + v.slice(4) + '</i>';
  document.getElementById('ph').placeholder = v;
  document.getElementById('frame').contentDocument.getElementById('e').textContent = v;
  document.getElementById('closed').attachShadow({mode: 'closed'}).textContent = v;
  document.getElementById('sheet').textContent = '#generated::before { content: "' + v + '" }';
  document.getElementById('backwards').textContent = [...v].reverse().join('');
  document.getElementById('spaced').textContent = [...v].join('\u200b');
});
</script>""".replace("MAGENTA", MAGENTA)


def test_a_password_the_page_retypes_and_echoes_is_in_no_file_and_in_no_picture(tmp_path, provider):
    provider.pages["/form"] = FORM + RETYPING
    # The provider's own answer repeats it too, in the confirmation page.
    provider.pages["/done"] = lambda hit: DONE + f'<p style="color:{MAGENTA};font:bold 18px monospace">{PASSWORD}</p>'
    done = submit(tmp_path, provider)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "evidence"
    assert [h.body for h in provider.log if h.method == "POST"][0].count(PASSWORD.encode()) == 1  # it was sent
    assert leaks([PASSWORD], out, out.with_suffix(".zip"), tmp_path / "home") == []
    mhtmls = list(out.glob("pages/*.mhtml"))
    assert mhtmls and not [p for p in mhtmls if PASSWORD in mhtml_text(p)]
    shots = sorted(out.glob("screenshots/*.png"))
    first, *later = shots
    assert magenta_pixels(first) > 50  # the control line: the count sees magenta text
    assert {p.name: magenta_pixels(p) for p in later} == {p.name: 0 for p in later}
    # The record and the report say the picture was blacked out there.
    manifest = json.loads((out / "manifest.json").read_text())
    typed = next(f for f in manifest["files"] if f["path"] == "screenshots/002-typed.png")
    assert typed["meta"]["secret_hidden"] >= 5
    assert "place(s) where the page showed a password or secret typed in this run" in (out / "report.html").read_text()


HOSTILE_SNAPSHOT = """
<style>@import url("ATTACKER/import.css"); .bg { background: url("ATTACKER/bg.png") }</style>
<link rel="dns-prefetch" href="ATTACKER">
<div class="bg" style="background-image: url('ATTACKER/inline.png')">styled</div>
<img src="ATTACKER/img.png" srcset="ATTACKER/img2.png 2x" onerror="OPENED && fetch('ATTACKER/onerror')">
<a id="away" href="ATTACKER/link" ping="ATTACKER/ping">help</a>
<svg width="10" height="10"><image href="ATTACKER/svg.png"/><script>OPENED && fetch('ATTACKER/svg-script')</script></svg>
<iframe srcdoc="<script>top.OPENED && fetch('ATTACKER/srcdoc')</script>"></iframe>
<noscript><p title="</noscript><img src='ATTACKER/mxss'>"></p></noscript>
<svg width="0" height="0"><style>&lt;meta http-equiv=refresh content="0;url=ATTACKER/svg-style-refresh"&gt;</style></svg>
<math><style>&lt;b&gt;&lt;a href="ATTACKER/math-style-click" style="position:fixed;inset:0"&gt;x&lt;/a&gt;</style></math>
<script>
  if (OPENED) { fetch('ATTACKER/opened'); new Image().src = 'ATTACKER/opened-img'; }
</script>"""
# The page's scripts send only when the page is opened from a file, as its snapshot would be:
# during the run they would be a blocked request, which stops the run (tests/test_hosts.py).
OPENED = "<script>var OPENED = location.protocol !== 'http:';</script>"


def test_snapshots_are_inert_when_opened_and_the_manifest_keeps_the_originals_hashes(
    tmp_path, provider, attacker, page
):
    provider.pages["/form"] = OPENED + FORM + HOSTILE_SNAPSHOT.replace("ATTACKER", attacker.url)
    done = submit(tmp_path, provider)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "evidence"
    during_run = list(attacker.log)
    opened = sorted([*out.glob("pages/*.html"), *out.glob("pages/*.mhtml")])
    assert opened
    for path in opened:
        page.goto(path.as_uri())
        page.wait_for_timeout(300)
        page.mouse.click(5, 5)  # a link a parser trick would lay over the page goes nowhere
        page.wait_for_timeout(200)
        if path.suffix == ".html":
            assert "<script" not in path.read_text().lower()
    time.sleep(0.5)
    assert attacker.log == during_run, [h.path for h in attacker.log[len(during_run) :]]
    manifest = json.loads((out / "manifest.json").read_text())
    snapshots = [f for f in manifest["files"] if f["path"].startswith("pages/") and f["path"] != "pages/certificates"]
    assert snapshots and all(len(f["meta"]["inert"]["original_sha256"]) == 64 for f in snapshots)
    typed = next(f for f in snapshots if f["path"].endswith("typed.html"))
    assert typed["meta"]["inert"]["removed"]["script"] >= 3 and typed["meta"]["inert"]["removed"]["handler"] >= 1
    report = (out / "report.html").read_text()
    assert "made inert" in report


@pytest.mark.parametrize("kind", ["html", "mhtml"])
def test_inert_snapshots_of_a_hostile_page_fetch_nothing_when_opened(tmp_path, attacker, page, kind):
    """The same neutralising on a page that also refreshes itself away and re-sets its base:
    opened from a file, the snapshot makes no request at all."""
    hostile = (
        '<!doctype html><html><head><meta http-equiv="refresh" content="0;url=ATTACKER/refresh">'
        '<base href="ATTACKER/"><title>t</title></head><body onload="fetch(\'ATTACKER/onload\')">'
        + OPENED.replace("location.protocol !== 'http:'", "true")
        + HOSTILE_SNAPSHOT
        + '<img src="relative.png"><form action="ATTACKER/post"><button id="b" formaction="ATTACKER/f">x</button></form>'
        + "</body></html>"
    ).replace("ATTACKER", attacker.url)
    if kind == "html":
        made = inert.html(hostile.encode())
    else:
        # As Chromium writes an archive of it (outside requests refused while it is made).
        context = page.context
        context.route("**/*", lambda route: route.abort())
        page.set_content(hostile.replace('http-equiv="refresh"', 'data-x="1"'))
        session = context.new_cdp_session(page)
        archive = session.send("Page.captureSnapshot", {"format": "mhtml"})["data"]
        session.detach()
        context.unroute("**/*")
        refresh = '<meta http-equiv="refresh" content="0;url=ATTACKER/refresh">'.replace("ATTACKER", attacker.url)
        made = inert.mhtml(archive.replace("<head>", "<head>" + refresh, 1).encode())
    target = tmp_path / f"snapshot.{kind}"
    target.write_bytes(made.data)
    page.goto(target.as_uri())
    page.wait_for_timeout(800)
    page.locator("#b").dispatch_event("click")  # a form post is refused too
    page.mouse.click(5, 5)  # and a link a parser trick would lay over the page goes nowhere
    page.wait_for_timeout(300)
    assert attacker.log == [], [h.path for h in attacker.log]
    if kind == "html":
        assert made.removed["script"] >= 3 and made.removed["handler"] >= 2
    else:  # Chromium's archive keeps no script or handler itself; the refresh put into it goes
        assert made.removed["meta refresh"] >= 1 and "script" not in made.removed


def test_a_pushed_download_is_refused_and_never_reaches_the_disk(tmp_path, provider):
    def stream():
        chunk = b"\0" * (1 << 16)
        for _ in range(400 * 16):  # 400 MB
            yield chunk

    provider.pages["/big"] = lambda hit: Response(
        stream(),
        headers={"Content-Type": "application/octet-stream", "Content-Disposition": "attachment; filename=big.bin"},
        direct_passthrough=True,
    )
    provider.pages["/form"] = FORM + "<script>setTimeout(() => { location = '/big'; }, 50);</script>"
    home = tmp_path / "home"
    peak = [0]
    stop = threading.Event()

    def size_of(path: Path) -> int:
        try:
            return path.stat().st_size if path.is_file() and not path.is_symlink() else 0
        except OSError:  # removed between the listing and the look
            return 0

    def watch() -> None:
        while not stop.wait(0.1):
            try:
                peak[0] = max(peak[0], sum(size_of(p) for p in home.rglob("*")))
            except OSError:  # a folder removed while it was listed: the next look counts
                continue

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        flows = tmp_path / "flows"
        flows.mkdir()
        (flows / "demo.yaml").write_text(FLOW, encoding="utf-8")
        done = run_cli(
            "submit", "demo", "--case", str(write_case(tmp_path)), "--base-url", provider.url, "--yes",
            home=home, env={"ASSISTANT_FLOWS": str(flows)},
        )  # fmt: skip
    finally:
        stop.set()
        watcher.join()
    assert done.returncode == 0, done.stderr
    assert "started a download ('big.bin'); a run takes no downloads, nothing was saved" in done.stderr
    assert peak[0] < 40 * 1024 * 1024, peak[0]


def test_the_disk_watch_stops_a_run_that_writes_past_its_limit(tmp_path):
    from assistant.language.urls import Policy
    from assistant.run import scratch
    from assistant.run.netguard import Guard

    with scratch.run_folder(tmp_path) as workdir:
        (workdir / "attachments").mkdir()
        (workdir / "attachments" / "big.pdf").write_bytes(b"\0" * 4096)  # the case's own: not counted
        (workdir / "profile").mkdir()
        (workdir / "profile" / "store").write_bytes(b"\0" * 2048)
        assert scratch.browser_usage(workdir) == 2048
        guard = Guard(Policy("demo", 4, []))
        with guard:
            guard.watch_disk(lambda: scratch.browser_usage(workdir), 1024, every=0.05)
            deadline = time.monotonic() + 10
            while guard.violation is None and time.monotonic() < deadline:
                time.sleep(0.05)
        assert guard.message() == (
            "stopped: the browser wrote more than 1024 bytes to this machine's disk during the run "
            "(what the page stored); nothing more was written"
        )


def test_a_page_that_floods_its_console_and_its_title_is_kept_to_bounds(tmp_path, provider):
    provider.pages["/form"] = FORM + (
        "<script>for (let i = 0; i < 12000; i++) console.log('spam ' + i);"
        " console.log('x'.repeat(2000000)); document.title = 'T'.repeat(1000000);</script>"
    )
    done = submit(tmp_path, provider)
    assert done.returncode == 0, done.stderr
    assert "the page wrote more than 10000 console messages; the rest are not kept" in done.stderr
    out = tmp_path / "evidence"
    rows = (out / "logs" / "console.jsonl").read_text().splitlines()
    assert len(rows) == 10_000
    manifest = json.loads((out / "manifest.json").read_text())
    titles = [f["meta"]["title"] for f in manifest["files"] if f["role"] == "screenshot" and f["meta"].get("title")]
    assert titles and all(len(t) < 10_100 and t.endswith("more characters not kept]") for t in titles)
    assert (out / "manifest.json").stat().st_size < 2_000_000
