"""What was typed and sent: snapshots with the form's values, the manifest's `form` record,
the HAR's form POST, whole textareas in the filled-form capture, the capture environment."""

from __future__ import annotations

import hashlib
import html
import json
import quopri
import re
from pathlib import Path

import pytest
from evidence_fixtures import PageServer, make_demo_package

from assistant.run import formstate
from assistant.run.sent import KnownFile, SentRecorder
from evidence import Manifest
from evidence.scrub import Secrets
from evidence.verify import verify


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sent")
    result = make_demo_package(tmp, None)
    root = tmp / "package"
    manifest = Manifest.model_validate_json((root / "manifest.json").read_text(encoding="utf-8"))
    return root, manifest, result["portal_received"]


def _page(root: Path, manifest: Manifest, name: str, ext: str) -> str:
    path = next(f.path for f in manifest.files if f.path.startswith("pages/") and f.path.endswith(f"{name}.{ext}"))
    raw = (root / path).read_bytes()
    return (quopri.decodestring(raw) if ext == "mhtml" else raw).decode("utf-8", "replace")


def test_filled_form_snapshots_hold_the_typed_values(demo):
    root, manifest, _ = demo
    subject, body = manifest.request["subject"], manifest.request["body"]
    page = _page(root, manifest, "filled-form", "html")
    subject_input = re.search(r'<input[^>]*id="subject"[^>]*>', page).group(0)
    assert f'value="{html.escape(subject)}"' in subject_input
    textarea = re.search(r'<textarea[^>]*id="description"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert html.unescape(textarea) == body
    assert re.search(r'<input[^>]*id="consent"[^>]*checked', page)
    files = json.loads(html.unescape(re.search(r'data-files="([^"]*)"', page).group(1)))
    attachments = {f.path.rsplit("/", 1)[-1]: f.sha256 for f in manifest.files if f.role == "attachment"}
    assert {f["name"]: f["sha256"] for f in files} == attachments
    mhtml = _page(root, manifest, "filled-form", "mhtml")
    assert subject in mhtml and body.splitlines()[2] in mhtml


def test_form_record_and_har_hold_what_the_provider_received(demo):
    root, manifest, received = demo
    form = manifest.form
    assert form is not None and form.request is not None
    fields = {f.name: f for f in form.fields}
    assert fields["subject"].value == manifest.request["subject"] and fields["subject"].label == "Subject"
    assert fields["description"].value == manifest.request["body"]
    assert fields["csrf_token"].masked and fields["csrf_token"].value == "[masked]"
    request = form.request
    assert request.method == "POST" and request.url.endswith("/support/new")
    assert request.content_length == request.body_size  # text plus files, byte for byte in size
    parts = {p.name: p for p in request.parts if p.file is None}
    assert parts["subject"].value == manifest.request["subject"]
    assert parts["description"].value == manifest.request["body"].replace("\n", "\r\n")
    # The files: the attachment's hash = the record's hash = the hash of what the server received.
    attachments = {f.path: f.sha256 for f in manifest.files if f.role == "attachment"}
    sent = {p.file.name: p.file for p in request.parts if p.file is not None}
    ticket = received[-1]
    got = {f.filename: hashlib.sha256(f.data).hexdigest() for f in ticket.files}
    assert set(sent) == set(got) and len(sent) == 2
    for name, file in sent.items():
        assert file.sha256 == attachments[file.path] == got[name]
    assert ticket.fields["subject"] == manifest.request["subject"]
    # The HAR's entry for the POST carries the body, files by name, size and hash.
    har = json.loads((root / "logs/network.har").read_text(encoding="utf-8"))
    post = next(e["request"] for e in har["log"]["entries"] if e["request"]["method"] == "POST")
    assert post["bodySize"] == request.content_length
    text = post["postData"]["text"]
    assert manifest.request["subject"] in text and manifest.request["body"].replace("\n", "\r\n") in text
    for file in sent.values():
        assert f"[file {file.name}: {file.size} bytes, sha256 {file.sha256}" in text
    hashed = {p["fileName"]: p["_sha256"] for p in post["postData"]["params"] if "fileName" in p}
    assert hashed == {name: f.sha256 for name, f in sent.items()}
    token = re.search(r'name="csrf_token" value="([^"]+)"', _page(root, manifest, "filled-form", "html")).group(1)
    assert len(token) > 20 and token not in text  # the token stays out, as elsewhere in the HAR


def test_package_verifies_reports_the_form_and_names_no_absolute_flow_path(demo):
    root, manifest, _ = demo
    assert verify(root).ok
    assert manifest.flow is not None and not Path(manifest.flow.file).is_absolute()
    report = (root / "report.html").read_text(encoding="utf-8")
    assert "Submitted form" in report and html.escape(manifest.request["subject"]) in report


def test_capture_environment_says_how_the_browser_ran(demo):
    _, manifest, _ = demo
    env = manifest.environment
    assert env.headless is True
    assert env.launch_args and any(a.startswith("--headless") for a in env.launch_args)
    assert env.certificate_errors and env.certificate_errors.startswith("refused")
    assert env.proxy and "host guard" in env.proxy
    assert env.outward_address and env.outward_address.startswith("127.0.0.1, loopback")
    assert not any(str(Path.home()) in a for a in env.launch_args if str(Path.home()) != "/")


def test_filled_form_capture_shows_the_whole_description(demo):
    """The textarea is stretched to its whole text for the capture (the snapshot taken with the
    picture says how tall), and the picture holds it."""
    from PIL import Image

    root, manifest, _ = demo
    page = _page(root, manifest, "filled-form", "html")
    style = re.search(r'<textarea[^>]*id="description"[^>]*style="([^"]*)"', page).group(1)
    height = int(re.search(r"height: (\d+)px !important", style).group(1))
    lines = manifest.request["body"].count("\n") + 1
    assert lines > 20 and height >= 16 * lines  # every line of the text, not the box's 8 rows
    shot = next(f for f in manifest.files if f.path.endswith("filled-form.png"))
    assert Image.open(root / shot.path).size[1] > height + 600  # the rest of the form is there too


NARROW = """<!doctype html><meta charset="utf-8"><title>narrow</title>
<form><textarea id="t" name="t" rows="8">kept</textarea>
<textarea id="bb" rows="3" style="box-sizing: border-box; width: 10em; padding: 9px; border-width: 7px"></textarea></form>"""

# What a capture must show of a textarea: from its first line, nothing of it scrolled out of sight.
WHOLE = """(el) => ({top: el.scrollTop, hidden: el.scrollHeight - el.clientHeight})"""


def test_a_filled_textarea_is_pictured_from_its_first_line_whole(page):
    """Filling leaves a long text scrolled to its end (the caret's line); the capture's stretch
    shows it from "Здравствуйте!" to its last line, whatever the box's sizing (one sized by
    `cols` narrows when its scrollbar goes, and wraps into more lines), and undoes it."""
    text = (
        "Здравствуйте!\n\n" + "18 ноября 2026 года в 21:10 (МСК) я вывел 15 000,00 ₽ на карту. " * 12 + "\nС уважением"
    )
    with PageServer({"/": NARROW}) as site:
        page.goto(site.url + "/")
        for selector in ("#t", "#bb"):
            page.fill(selector, text)
            box = page.locator(selector)
            assert box.evaluate(WHOLE)["top"] > 0  # as a person's run leaves it
            scrolled = box.evaluate("(el) => el.scrollTop")
            page.evaluate(formstate.reflect([], [], expand=True))
            assert box.evaluate(WHOLE) == {"top": 0, "hidden": 0}
            page.evaluate(formstate.UNDO)
            assert box.evaluate("(el) => el.scrollTop") == scrolled


FORM = """<!doctype html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; style-src 'self'; script-src 'unsafe-inline'">
<title>form</title></head><body>
<form id="f" method="post" enctype="multipart/form-data" action="/post">
 <label for="a">Name</label><input id="a" name="a" value="server">
 <input id="b" name="b">
 <label>Story <textarea id="t" name="t" rows="2">kept</textarea></label>
 <select id="s" name="s"><option value="1" selected>one</option><option value="2">two</option></select>
 <select id="m" name="m" multiple><option value="x">x</option><option value="y" selected>y</option></select>
 <input type="checkbox" id="c" name="c" value="on1" checked><input type="checkbox" id="c2" name="c2">
 <input type="radio" name="r" value="r1" checked><input type="radio" name="r" value="r2">
 <input type="password" id="p" name="p"><input id="k" name="code"><input id="api" name="api_key">
 <input type="file" id="file" name="file" multiple>
 <button id="go" name="go" value="send">Send</button>
</form></body></html>"""

ENTRIES = """() => [...new FormData(document.querySelector('#f'), document.querySelector('#go'))]
  .map(([k, v]) => [k, typeof v === 'string' ? v : [v.name, v.size]])"""


def test_reflecting_values_changes_nothing_the_form_sends_and_is_undone(page, tmp_path):
    upload = tmp_path / "note.txt"
    upload.write_bytes(b"hello file")
    digest = hashlib.sha256(b"hello file").hexdigest()
    with PageServer({"/": FORM}) as site:
        page.goto(site.url + "/")
        page.fill("#a", "typed over")
        page.fill("#b", "new")
        page.fill("#t", "line 1\n" * 30 + "last")
        page.select_option("#s", "2")
        page.select_option("#m", ["x"])
        page.uncheck("#c")
        page.check("#c2")
        page.check("input[value=r2]")
        page.fill("#p", "hunter22")
        page.fill("#k", "SECRET-CODE-1")
        page.fill("#api", "abcd1234")
        page.set_input_files("#file", str(upload))
        before_entries = page.evaluate(ENTRIES)
        before_html = page.evaluate("() => document.documentElement.outerHTML")
        height = page.evaluate("() => document.querySelector('#t').offsetHeight")
        files = [{"name": "note.txt", "size": 10, "sha256": digest}]
        page.evaluate(formstate.reflect(files, ["SECRET-CODE-1"], expand=True))
        page.evaluate(formstate.reflect(files, ["SECRET-CODE-1"], expand=True))  # a capture tried again
        shown = page.content()
        assert page.evaluate(ENTRIES) == before_entries
        assert page.evaluate("() => document.querySelector('#t').offsetHeight") > 3 * height  # despite the CSP
        assert 'value="typed over"' in shown and 'value="new"' in shown and ">line 1\nline 1" in shown
        assert re.search(r'<option value="2" selected="">', shown) and not re.search(r'value="1" selected', shown)
        assert re.search(r'<option value="x" selected="">', shown) and re.search(r'id="c2"[^>]*checked', shown)
        assert not re.search(r'id="c"[^>]*checked', shown) and re.search(r'value="r2" checked', shown)
        assert "hunter22" not in shown and "SECRET-CODE-1" not in shown and "abcd1234" not in shown
        assert digest in html.unescape(shown)
        page.evaluate(formstate.UNDO)
        assert page.evaluate(ENTRIES) == before_entries
        assert page.evaluate("() => document.documentElement.outerHTML") == before_html
        # The record of the form at the click: labels, values, masks, files with their hashes.
        answer = page.locator("#go").evaluate(formstate.READ_FORM)
        assert [[k, v if isinstance(v, str) else [v["name"], v["size"]]] for k, v in answer["entries"]] == [
            [k, v.replace("\n", "\r\n") if isinstance(v, str) else v] for k, v in before_entries
        ]
        recorder = SentRecorder()
        recorder.arm(answer["fields"], answer["entries"], page.url)
        known = [KnownFile("note.txt", 10, digest, "attachments/note.txt", "text/plain")]
        record = recorder.record([], known, Secrets(["SECRET-CODE-1"]))
    fields = {f.name: f for f in record.fields}
    assert fields["a"].label == "Name" and fields["a"].value == "typed over"
    assert fields["t"].label == "Story" and fields["t"].value.endswith("last")
    assert fields["p"].masked and fields["code"].masked and fields["api_key"].masked
    assert fields["m"].value == ["x"] and fields["c"].checked is False and fields["c2"].checked is True
    assert fields["file"].files[0].sha256 == digest and fields["file"].files[0].path == "attachments/note.txt"
    assert record.request is None and "no request" in (record.note or "")


POSTING = """<!doctype html><meta charset="utf-8"><title>post</title>
<form id="f" method="post" action="/post" enctype="{enctype}">
 <label for="n">Name</label><input id="n" name="n">
 <label for="t">Text</label><textarea id="t" name="t"></textarea>
 <input type="password" id="p" name="p">
 {file}<button id="go">Send</button>
</form>"""


def _posting_server(delay: float):
    import time

    from werkzeug.wrappers import Request, Response

    from assistant.sites.web import LocalServer

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/post":
            request.get_data()
            time.sleep(delay)  # the provider takes its time: the body can still be asked for
            return Response("<title>thanks</title><p id=done>Thanks</p>", content_type="text/html")
        enctype = request.args.get("enctype", "application/x-www-form-urlencoded")
        file = '<input type="file" id="file" name="file">' if "multipart" in enctype else ""
        return Response(POSTING.format(enctype=enctype, file=file), content_type="text/html")

    return LocalServer(app)


@pytest.mark.parametrize(
    ("enctype", "source"),
    [("application/x-www-form-urlencoded", "the browser's request event"), ("multipart/form-data", "Chromium")],
)
def test_the_body_comes_from_the_browser_when_it_has_it(tmp_path, browser, enctype, source):
    from assistant.run.capture import Capturer, CaptureSettings
    from evidence import EvidencePackage

    upload = tmp_path / "scan.pdf"
    upload.write_bytes(b"%PDF-1.4 not much")
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()
    with _posting_server(0.5) as server:
        package = EvidencePackage(tmp_path / "pkg")
        capturer = Capturer(package, case_ref="post", settings=CaptureSettings(), workdir=tmp_path / "run")
        capturer.known_files([KnownFile("scan.pdf", upload.stat().st_size, digest, "attachments/scan.pdf")])
        capturer.secrets.add("hunter22!")
        context = browser.new_context(**capturer.context_kwargs())
        capturer.start(context)
        page = capturer.new_page(context)
        page.goto(f"{server.url}/?enctype={enctype}")
        page.fill("#n", "Анна & Co")
        page.fill("#t", "first line\nsecond line")
        page.fill("#p", "hunter22!")
        if "multipart" in enctype:
            page.set_input_files("#file", str(upload))
        capturer.before_click(page, page.locator("#go"))
        page.click("#go")
        page.wait_for_selector("#done")
        form = capturer.submitted_form([f"POST {server.url}/post"])
        capturer.close(context)
    assert form is not None and form.request is not None
    request = form.request
    assert source in (request.note or "") and "equals the Content-Length" in (request.note or "")
    parts = {p.name: p for p in request.parts}
    assert parts["n"].value == "Анна & Co" and parts["t"].value == "first line\r\nsecond line"
    assert parts["p"].masked and parts["p"].value == "[masked]"
    if "multipart" in enctype:
        assert parts["file"].file is not None and parts["file"].file.sha256 == digest
    har = json.loads((tmp_path / "pkg/logs/network.har").read_text(encoding="utf-8"))
    post = next(e["request"] for e in har["log"]["entries"] if e["request"]["method"] == "POST")
    assert post["bodySize"] == request.content_length and "hunter22!" not in json.dumps(har)
    assert any(p["name"] == "n" and p["value"] == "Анна & Co" for p in post["postData"]["params"])


def test_certificates_are_judged_per_origin_and_the_flag_is_named(tmp_path, browser):
    """A self-signed certificate let through only because the context ignores certificate errors
    is recorded as not validated, naming the flag."""
    from helpers import tls_page

    from assistant.run import environment
    from assistant.run.capture import Capturer, CaptureSettings
    from evidence import EvidencePackage

    with tls_page(tmp_path) as (server, _cert):
        capturer = Capturer(
            EvidencePackage(tmp_path / "pkg"), case_ref="tls", settings=CaptureSettings(), workdir=tmp_path / "run"
        )
        browser_context = browser.new_context(ignore_https_errors=True, **capturer.context_kwargs())
        capturer.start(browser_context)
        page = capturer.new_page(browser_context)
        page.goto(f"https://localhost:{server.port}/")
        origin = f"https://localhost:{server.port}"
        env = environment.capture(browser, page, browser_source="test", reported_device=None, headless=True)
        environment.complete(
            env,
            browser,
            passed_args=[],
            remote=False,
            ignore_https_errors=True,
            tls=capturer.tls,
            proxy=None,
            local_addresses=None,
        )
        capturer.close(browser_context)
    assert env.certificate_errors == "ignored for this run's pages (ignore_https_errors)"
    check = next(t for t in env.tls if t.origin == origin)
    assert check.validated is False and check.security_state != "secure" and "ignored" in check.how
    assert check.subject == "localhost" and check.valid_to is not None
    assert env.outward_address.startswith("not known")


def test_a_failure_snapshot_holds_what_was_typed(tmp_path, portal):
    from helpers import DEMO_FLOW, run_cli, write_case

    flows = tmp_path / "flows"
    flows.mkdir()
    text = DEMO_FLOW.read_text(encoding="utf-8").replace('submit: "#submit-request"', 'submit: "#no-such-button"')
    assert "#no-such-button" in text
    (flows / "demo.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "pkg"
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        "--timeout",
        "2",
        "--out",
        str(out),
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode != 0 and not portal.received
    manifest = Manifest.model_validate_json((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.form is None  # nothing was clicked, so nothing is said to be sent
    page = (out / "failure/page.html").read_text(encoding="utf-8")
    assert f'value="{html.escape(manifest.request["subject"])}"' in page
    assert html.escape(manifest.request["body"].splitlines()[2], quote=False) in page
