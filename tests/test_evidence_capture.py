"""`assistant capture` and the capture options: device, mask, trace, logs, hostile titles, TLS, fitting."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from evidence_fixtures import PageServer
from helpers import DEMO_FLOW, json_out, run_cli, write_case
from PIL import Image

from evidence import Manifest
from evidence.verify import verify

HOSTILE_TITLE = "<script>alert('x')</script> Оплата"
PAGES = {
    "/": f"""<!doctype html><html><head><meta name="viewport" content="width=device-width"><title>{HOSTILE_TITLE.replace("<", "&lt;")}</title></head>
<body style="margin:0;background:#fff">
<h1>Заказ DM-1</h1>
<div id="card" style="position:absolute;left:50px;top:200px;width:300px;height:60px;background:#ff0000">4111 1111 1111 1111</div>
<script>console.log("page says hello"); setTimeout(() => {{ throw new Error("boom on purpose") }}, 0);</script>
</body></html>""",
    "/second": "<!doctype html><title>Second</title><p>second page</p>",
    # Windows that open windows: 12 a page, without a click.
    "/cascade": "<!doctype html><title>Cascade</title><p>opening</p>"
    "<script>for (let i = 0; i < 12; i++) window.open('/cascade?' + Math.random())</script>",
    # A form whose page hangs for good once typed into: a script that never returns.
    "/hang": "<!doctype html><title>Hang</title><form><input id='email' name='email'><button>Send</button>"
    "</form><script>email.addEventListener('input', () => { while (true) {} })</script>",
    # A page that makes itself far bigger than anyone could read: 120,000 px tall and 9,000 wide.
    "/huge": "<!doctype html><title>Huge</title><body style='margin:0'>"
    "<div id='card' style='width:9000px;height:120000px;background:linear-gradient(#fc0,#06c)'>top</div>",
}


@pytest.fixture(scope="module")
def site():
    with PageServer(PAGES) as server:
        yield server


def capture(tmp_path: Path, site, *extra: str, urls=("/", "/second")) -> tuple[Path, Manifest]:
    out = tmp_path / "cap"
    result = json_out(
        run_cli(
            "capture",
            *[site.url + u for u in urls],
            "--case",
            str(write_case(tmp_path)),
            "--out",
            str(out),
            "--json",
            *extra,
            home=tmp_path / "home",
        )
    )
    assert Path(result["evidence_zip"]).exists()
    return out, Manifest.model_validate_json((out / "manifest.json").read_text(encoding="utf-8"))


def test_capture_builds_a_verifiable_package_with_logs_and_masks(tmp_path, site):
    out, manifest = capture(tmp_path, site, "--mask", "#card", "--trace-in-package")
    assert verify(out).ok and verify(str(out) + ".zip").ok
    assert manifest.flow is None and manifest.submission is None
    shots = [f for f in manifest.files if f.role == "capture"]
    assert [s.meta["url"] for s in shots] == [site.url + "/", site.url + "/second"]
    assert shots[0].meta["title"] == HOSTILE_TITLE
    # The card number is blacked out in the original and in the stamped copy.
    for path in (shots[0].path, shots[0].meta["stamped"]):
        image = Image.open(out / path).convert("RGB")
        assert max(image.getpixel((200, 230))) < 16, path  # black (JPEG-close in the stamped copy)
    console = [json.loads(line) for line in (out / "logs" / "console.jsonl").read_text().splitlines()]
    assert any(row["text"] == "page says hello" for row in console)
    errors = [json.loads(line) for line in (out / "logs" / "page-errors.jsonl").read_text().splitlines()]
    assert any("boom on purpose" in row["message"] for row in errors)
    assert zipfile.is_zipfile(out / "logs" / "trace.zip")
    har = (out / "logs" / "network.har").read_text()
    assert "SECRET-SESSION-VALUE" not in har and "[scrubbed]" in har


def test_hostile_title_is_shown_as_text_in_the_report(tmp_path, site, page):
    out, _ = capture(tmp_path, site, urls=("/",))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Оплата" in html
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((out / "report.html").as_uri())
    assert page.get_by_text("<script>alert('x')</script> Оплата").first.is_visible()
    assert dialogs == []


def test_device_emulation(tmp_path, site):
    out, manifest = capture(tmp_path, site, "--device", "iPhone 13", urls=("/",))
    env = manifest.environment
    assert env.emulated_device == "iPhone 13" and "iPhone" in env.user_agent
    assert env.viewport == {"width": 390, "height": 664} and env.device_scale_factor == 3
    assert env.reported_device["model"] == "iPhone 13"
    shot = next(f for f in manifest.files if f.role == "capture")
    assert Image.open(out / shot.path).width == 390 * 3


def test_unknown_device_is_bad_input(tmp_path, site):
    done = run_cli(
        "capture", site.url, "--case", str(write_case(tmp_path)), "--device", "iPhone 99", home=tmp_path / "home"
    )
    assert done.returncode == 2 and "--device" in done.stderr and "iPhone 13" in done.stderr


def test_capture_refuses_non_http_urls(tmp_path):
    done = run_cli("capture", "file:///etc/passwd", "--case", str(write_case(tmp_path)), home=tmp_path / "home")
    assert done.returncode == 2 and "not an http(s) URL" in done.stderr


def test_tls_certificate_and_server_address_are_kept(tmp_path, browser):
    from cryptography import x509
    from helpers import tls_page

    from assistant.run.capture import Capturer, CaptureSettings
    from evidence import EvidencePackage

    with tls_page(tmp_path) as (server, cert):
        package = EvidencePackage(tmp_path / "pkg")
        capturer = Capturer(package, case_ref="tls test", settings=CaptureSettings(), workdir=tmp_path / "run")
        browser_context = browser.new_context(ignore_https_errors=True, **capturer.context_kwargs())
        capturer.start(browser_context)
        page = capturer.new_page(browser_context)  # as `assistant capture` and `submit` open their page
        page.goto(f"https://localhost:{server.port}/")
        path = capturer.shoot(page, "001-tls", full_page=False, role="capture")
        capturer.close(browser_context)
    meta = package.entry(path).meta
    assert meta["server_ip"] == "127.0.0.1" and meta["tls"]["protocol"].startswith("TLS")
    saved = x509.load_pem_x509_certificates((tmp_path / "pkg" / meta["tls_certificate"]).read_bytes())
    assert saved[0] == cert


def test_attachments_are_fitted_to_a_strict_form(tmp_path, portal):
    """A flow that takes one JPEG of at most 1 MB: the two PNG screenshots are merged and converted."""
    import os

    flows = tmp_path / "flows"
    flows.mkdir()
    text = DEMO_FLOW.read_text().replace(
        "  media_types: [image/png, image/jpeg, application/pdf]\n  max_bytes: 5242880\n  max_files: 5\n",
        "  media_types: [image/jpeg]\n  max_bytes: 1000000\n  max_files: 1\n",
    )
    assert "max_bytes: 1000000" in text
    (flows / "demo.yaml").write_text(text)
    case = write_case(tmp_path)
    shots = []
    for i in range(2):
        path = tmp_path / f"screen{i}.png"
        Image.frombytes("RGB", (1000, 700), os.urandom(1000 * 700 * 3)).save(path)
        shots.append(path.name)
    case.write_text(
        case.read_text(encoding="utf-8").replace("demo-app-error.png", shots[0]).replace("demo-receipt.pdf", shots[1]),
        encoding="utf-8",
    )
    out = tmp_path / "pkg"
    result = json_out(
        run_cli(
            "submit",
            "demo",
            "--case",
            str(case),
            "--base-url",
            portal.url,
            "--yes",
            "--json",
            "--out",
            str(out),
            home=tmp_path / "home",
            env={"ASSISTANT_FLOWS": str(flows)},
        )
    )
    assert result["confirmation"] == portal.received[0].number
    files = portal.received[0].files
    assert len(files) == 1 and files[0].data[:3] == b"\xff\xd8\xff" and len(files[0].data) <= 1_000_000
    manifest = Manifest.model_validate_json((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest.fitting) == 1 and manifest.fitting[0].sources == [f"attachments/{n}" for n in shots]
    assert (out / manifest.fitting[0].result).read_bytes() == files[0].data
    for name in shots:  # the originals stay in the package, unchanged
        assert (out / "attachments" / name).read_bytes() == (tmp_path / name).read_bytes()
    assert "fitted" in (out / "report.html").read_text(encoding="utf-8")
    assert verify(out).ok


def test_what_cannot_be_fitted_is_refused_before_anything_is_sent(tmp_path, portal):
    flows = tmp_path / "flows"
    flows.mkdir()
    text = DEMO_FLOW.read_text().replace(
        "  media_types: [image/png, image/jpeg, application/pdf]\n", "  media_types: [image/jpeg]\n"
    )
    (flows / "demo.yaml").write_text(text)
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode == 2 and "demo-receipt.pdf" in done.stderr and "image/jpeg" in done.stderr
    assert portal.received == []


def test_a_mask_the_browser_cannot_read_is_bad_input_before_any_page_and_leaves_nothing(tmp_path):
    home = tmp_path / "home"
    result = run_cli("demo", "--mask", "###", home=home)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "--mask '###': not a selector the browser can read" in lines[0]
    assert "step 1/" not in result.stderr  # refused before the flow's first step
    assert list((home / "evidence").glob("*")) == []  # no folder holding only copies of the case's files
    assert "no cases yet" in run_cli("cases", "list", home=home).stdout


def test_a_browser_that_will_not_start_leaves_no_evidence_folder(tmp_path, site):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    for args in (
        ("capture", f"{site.url}/", "--case", str(case)),
        ("submit", "demo", "--case", str(case), "--base-url", "http://127.0.0.1:9", "--yes"),
    ):
        result = run_cli(*args, "--browser-path", "/bin/true", home=home)
        assert result.returncode == 4 and "could not start" in result.stderr, (args, result.stderr)
        assert list((home / "evidence").glob("*")) == [], args


@pytest.mark.parametrize("extra", [(), ("--mask", "#card")], ids=["chromium-capture", "playwright-capture"])
def test_a_huge_page_is_captured_up_to_the_limits_and_the_manifest_says_so(tmp_path, site, extra):
    from assistant.run.pictures import MAX_CAPTURE_HEIGHT, MAX_CAPTURE_WIDTH

    out, manifest = capture(tmp_path, site, *extra, urls=("/huge",))
    shot = next(f for f in manifest.files if f.path == "screenshots/001-capture.png")
    with Image.open(out / shot.path) as image:
        assert image.size == (MAX_CAPTURE_WIDTH, MAX_CAPTURE_HEIGHT)
    assert shot.meta["cut"].startswith("the page is 9000×120000 CSS px; this capture keeps its top-left 3840×20000")
    assert "Only part of the page: the page is 9000×120000 CSS px" in (out / "report.html").read_text(encoding="utf-8")
    assert shot.meta["stamped"] in {f.path for f in manifest.files}  # small enough to stamp
    assert verify(out).ok


def test_a_page_that_opens_windows_without_a_click_opens_none(tmp_path, site):
    """The assistant's browser keeps Chromium's pop-up blocker on, as a person's does (Playwright
    turns it off): a cascade of windows never opened kept a capture from ever ending."""
    out, manifest = capture(tmp_path, site, urls=("/cascade",))
    assert [a.status for a in manifest.actions] == ["ok"]
    har = json.loads((out / "logs/network.har").read_text(encoding="utf-8"))
    opened = [e for e in har["log"]["entries"] if "/cascade?" in e["request"]["url"]]
    assert opened == []


def test_past_a_few_windows_each_new_one_is_closed_at_once(tmp_path, browser, site):
    """A browser with the blocker off (pytest-playwright's, a --cdp one): the capturer closes each
    window past MAX_PAGES, so the cascade stops and the run can end."""
    from assistant.run.capture import MAX_PAGES, Capturer, CaptureSettings
    from evidence import EvidencePackage

    notes: list[str] = []
    package = EvidencePackage(tmp_path / "pkg")
    capturer = Capturer(package, case_ref="pop", settings=CaptureSettings(), workdir=tmp_path / "run", log=notes.append)
    context = browser.new_context(**capturer.context_kwargs())
    capturer.start(context)
    page = capturer.new_page(context)
    page.goto(f"{site.url}/cascade")
    page.wait_for_timeout(1500)  # the cascade runs on its own: give it time to grow
    assert len(context.pages) <= MAX_PAGES
    assert any(f"more than {MAX_PAGES} windows" in n for n in notes), notes
    capturer.shoot(page, "after", full_page=True, role="capture")
    capturer.close(context)


HANGING_FLOW = """format: 1
id: hang
name: "A page that hangs when typed into"
homepage: "{{ base_url }}/hang"
allowed_hosts: [127.0.0.1]
channel: web_form
verified_live: null
notes: A hostile page for the tests.
categories:
  general: { label: General question, deadline: { business_days: 3 } }
attachments: { max_files: 3 }
steps:
  - goto: "{{ base_url }}/hang"
  - fill: { selector: "#email", value: "{{ case.contacts.email }}", timeout: 3 }
  - submit: "form button"
success:
  text: "thanks"
confirmation:
  selector: "#n"
"""


def test_a_page_whose_script_never_returns_ends_the_run_in_seconds_and_says_so(tmp_path, site):
    """Chromium answers no capture of a page whose script holds its thread, and a CDP call has no
    timeout: the failure capture used to wait for ever. Now the run ends, naming the cause."""
    flow = tmp_path / "hang.yaml"
    flow.write_text(HANGING_FLOW, encoding="utf-8")
    case = write_case(tmp_path, provider="hang", category="general")
    home = tmp_path / "home"
    result = run_cli("submit", str(flow), "--case", str(case), "--base-url", site.url, "--yes", home=home, timeout=90)
    assert result.returncode == 1, result.stderr
    assert "step 2 (fill selector='#email') failed: the page stopped answering" in result.stderr
    [folder] = (home / "evidence").iterdir()
    assert "the page stopped answering" in (folder / "failure/error.txt").read_text(encoding="utf-8")
    assert verify(folder).ok  # sealed all the same
