"""`assistant evidence export --wacz`: a package's pages as a WACZ that web-archive tools accept.

The WACZ is checked by the tools of the format's own authors, installed only for the tests
(the `test` extra): py-wacz's `wacz validate`, warcio's reader and digest check, and their
reference CDXJ indexer (cdxj-indexer), whose index must be the one we write.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from evidence_fixtures import make_demo_package
from helpers import run_cli
from warcio.archiveiterator import ArchiveIterator

from evidence import Manifest
from evidence.manifest import utc
from evidence.wacz import body_query, searchable_url, write_wacz


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One real submission to the demo portal, its package exported from the folder and from the zip."""
    tmp = tmp_path_factory.mktemp("wacz")
    result = make_demo_package(tmp, None)
    folder, bundle = Path(result["evidence_dir"]), Path(result["evidence_zip"])
    home = tmp / "home"
    outputs = {}
    for name, source in (("folder", folder), ("zip", bundle)):
        out = tmp / f"{name}.wacz"
        done = run_cli("evidence", "export", str(source), "--wacz", str(out), home=home)
        assert done.returncode == 0, done.stderr
        outputs[name] = (out, done)
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    return {"folder": folder, "zip": bundle, "home": home, "manifest": manifest, "out": outputs}


def wacz_of(demo) -> Path:
    return demo["out"]["folder"][0]


def member(wacz: Path, name: str) -> bytes:
    with zipfile.ZipFile(wacz) as archive:
        return archive.read(name)


def records(wacz: Path) -> list:
    """Every WARC record, read back with warcio: (type, headers, HTTP headers, body)."""
    out = []
    for record in ArchiveIterator(io.BytesIO(member(wacz, "archive/data.warc.gz"))):
        out.append((record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read()))
    return out


def pages_of(manifest: Manifest) -> list:
    return [f for f in manifest.files if f.path.startswith("pages/") and f.path.endswith(".html")]


def validate(wacz: Path) -> subprocess.CompletedProcess:
    """`wacz validate -f WACZ`, py-wacz's own check (its entry point, so its exit code counts)."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())", "validate", "-f", str(wacz)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_command_says_in_one_line_what_it_wrote(demo):
    out, done = demo["out"]["folder"]
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and str(out) in lines[0]
    assert "4 pages" in lines[0] and "WARC records" in lines[0]


def test_py_wacz_validates_the_export_and_refuses_a_broken_one(demo, tmp_path):
    done = validate(wacz_of(demo))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation succeeded" in done.stdout
    # The validator is not a formality: a WACZ whose pages list no longer matches its hash fails it.
    broken = tmp_path / "broken.wacz"
    with zipfile.ZipFile(wacz_of(demo)) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data + b"\n" if info.filename == "pages/pages.jsonl" else data)
    assert validate(broken).returncode != 0


def test_each_captured_page_is_the_response_for_its_url_with_the_snapshot_as_body(demo):
    manifest, folder = demo["manifest"], demo["folder"]
    responses = {
        h.get_header("WARC-Target-URI"): (h, http, body)
        for t, h, http, body in records(wacz_of(demo))
        if t == "response" and http.get_statuscode() == "200"
    }
    har = json.loads((folder / "logs/network.har").read_text(encoding="utf-8"))["log"]["entries"]
    pages = pages_of(manifest)
    assert len(pages) == 4
    for page in pages:
        headers, http, body = responses[page.meta["url"]]
        assert body == (folder / page.path).read_bytes()
        assert headers.get_header("WARC-Date") == utc(page.captured_at)
        # The payload digest is the hash the signed manifest gives the snapshot.
        assert headers.get_header("WARC-Payload-Digest") == f"sha256:{page.sha256}"
        assert headers.get_header("WARC-Evidence-Source") == page.path
        # Status and headers are the ones the browser saw for that document.
        seen = next(e["response"] for e in har if e["request"]["url"] == page.meta["url"])
        assert http.get_statuscode() == str(seen["status"])
        assert http.get_header("Content-Type") == "text/html; charset=utf-8"
        assert http.get_header("Date") == next(h["value"] for h in seen["headers"] if h["name"] == "Date")
        assert http.get_header("Content-Length") == str(len(body))


def test_the_confirmation_page_holds_the_request_number(demo):
    submission = demo["manifest"].submission
    assert submission.confirmation
    bodies = [
        body
        for t, h, http, body in records(wacz_of(demo))
        if h.get_header("WARC-Target-URI") == submission.confirmation_url
    ]
    assert bodies and all(submission.confirmation.encode() in body for body in bodies)


def test_the_form_post_is_a_request_and_the_providers_redirect_its_response(demo):
    manifest = demo["manifest"]
    all_records = records(wacz_of(demo))
    kinds = [t for t, *_ in all_records]
    assert kinds[0] == "warcinfo" and kinds.count("request") == 1
    at = kinds.index("request")
    (_, req_headers, req_http, req_body), (kind, resp_headers, resp_http, resp_body) = all_records[at : at + 2]
    assert req_http.protocol == "POST" and manifest.form.request.url == req_headers.get_header("WARC-Target-URI")
    assert manifest.request["subject"].encode() in req_body
    assert req_http.get_header("Content-Length") == str(len(req_body))
    assert kind == "response" and resp_headers.get_header("WARC-Concurrent-To") == req_headers.get_header(
        "WARC-Record-ID"
    )
    assert resp_http.get_statuscode() == "303" and resp_http.get_header("Location").endswith("/submitted")
    assert resp_body == b""
    # The package's secrets stay scrubbed: the session cookie and the form's token are not there.
    assert req_http.get_header("Cookie") == "[scrubbed]"
    assert b"[scrubbed]" in req_body


def test_screenshots_are_resources_of_their_own_urn(demo):
    manifest, folder = demo["manifest"], demo["folder"]
    resources = {
        h.get_header("WARC-Target-URI"): (h, body) for t, h, _, body in records(wacz_of(demo)) if t == "resource"
    }
    shots = [f for f in manifest.files if f.path.startswith("screenshots/") and f.path.count("/") == 1]
    assert len(shots) == 4
    for shot in shots:
        headers, body = resources[f"urn:evidence:{shot.path}"]
        assert headers.get_header("Content-Type") == "image/png" and body == (folder / shot.path).read_bytes()
        assert headers.get_header("WARC-Date") == utc(shot.captured_at)


def test_the_warcinfo_names_the_package_and_warcio_checks_every_digest(demo, tmp_path):
    kind, _, _, body = records(wacz_of(demo))[0]
    digest = hashlib.sha256((demo["folder"] / "manifest.json").read_bytes()).hexdigest()
    assert kind == "warcinfo" and f"evidence-manifest-sha256: {digest}".encode() in body
    assert demo["manifest"].signer.fingerprint.encode() in body
    warc = tmp_path / "data.warc.gz"
    warc.write_bytes(member(wacz_of(demo), "archive/data.warc.gz"))
    done = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(warc)], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.count("digest pass") == len(records(wacz_of(demo))), done.stdout


def test_pages_jsonl_lists_the_captured_pages(demo):
    lines = [json.loads(line) for line in member(wacz_of(demo), "pages/pages.jsonl").decode("utf-8").splitlines()]
    assert lines[0]["format"] == "json-pages-1.0" and lines[0]["id"]
    pages = pages_of(demo["manifest"])
    assert [(p["url"], p["ts"]) for p in lines[1:]] == [(f.meta["url"], utc(f.captured_at)) for f in pages]
    titles = {p["url"]: p["title"] for p in lines[1:]}
    assert (
        titles[demo["manifest"].submission.confirmation_url]
        == f"Request {demo['manifest'].submission.confirmation} registered"
    )
    package = json.loads(member(wacz_of(demo), "datapackage.json"))
    assert package["home"]["url"] == demo["manifest"].submission.confirmation_url


def test_the_index_is_the_one_the_reference_indexer_makes(demo):
    """Our CDXJ, line for line, against cdxj-indexer's over the same WARC (with POST keys)."""
    from cdxj_indexer.main import CDXJIndexer

    class Kept(io.StringIO):
        def close(self):  # the indexer closes what it wrote to
            pass

    warc = member(wacz_of(demo), "archive/data.warc.gz")
    theirs = Kept()
    CDXJIndexer(
        theirs, [io.BytesIO(warc)], post_append=True, sort=True, digest_records=True, filename="data.warc.gz"
    ).process_all()

    def parsed(text: str) -> list:
        return sorted(
            (key, ts, json.loads(block)) for key, ts, block in (line.split(" ", 2) for line in text.splitlines())
        )

    ours = member(wacz_of(demo), "indexes/index.cdx").decode("utf-8")
    assert parsed(ours) == parsed(theirs.getvalue())
    assert ours.splitlines() == sorted(ours.splitlines())  # sorted as bytes, as the spec asks
    assert len(ours.splitlines()) == 4 + 1 + 4  # pages, the provider's redirect, screenshots


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/support/tickets/DEMO-000123/submitted",
        "https://www.Example.com/Path/?b=2&a=1#frag",
        "https://example.com:443",
        "http://user:pw@www2.example.co.uk:8080/a b?x&y=&a=1",
        "https://example.com/%2541%20x?q=%2B1&r=a%26b",
        "https://EXAMPLE.com./a/../b/./c//d/",
        "https://xn--e1afmkfd.xn--p1ai/путь?q=тест",
        "https://例子.测试/路径",
        "https://ex.com/a?b=1&a=2&a=1&ab=0&a-b=3",
        "https://example.com/?__wb_method=POST&subject=Card+charged&phone=%2B7",
        "urn:evidence:screenshots/001-home.png",
        "about:blank",
    ],
)
def test_searchable_urls_are_the_reference_ones(url):
    import surt  # the reference SURT (AGPL): a test's yardstick only, never imported by the tool

    assert searchable_url(url) == surt.surt(url)


def test_request_bodies_are_keyed_as_the_canonicalization_spec_says():
    """The spec's JSON example; forms and other bodies as the reference indexer keys them."""
    event = b"""{"type": "event", "id": 44.0, "float": 35.7, "values": [true, false, null],
        "source": {"type": "component", "id": "a+b&c= d", "values": [3, 4]}}"""
    assert body_query("application/json", event, None) == (
        "type=event&id=44&float=35.7&values=true&values.2_=false&values.3_=null"
        "&type.2_=component&id.2_=a%2Bb%26c%3D+d&values.4_=3&values.5_=4"
    )
    assert body_query("application/x-www-form-urlencoded", b"say=Hi&to=Mom", None) == "say=Hi&to=Mom"
    assert body_query("application/octet-stream", b"hello", None) == "__wb_post_data=aGVsbG8="
    params = [{"name": "subject", "value": "Card charged"}, {"name": "phone", "value": "+7 912"}]
    assert body_query("multipart/form-data; boundary=x", b"", params) == "subject=Card+charged&phone=%2B7+912"


def test_the_same_package_gives_the_same_bytes(demo, tmp_path):
    folder_out, zip_out = demo["out"]["folder"][0], demo["out"]["zip"][0]
    assert folder_out.read_bytes() == zip_out.read_bytes()
    again = tmp_path / "again.wacz"
    done = run_cli("evidence", "export", str(demo["folder"]), "--wacz", str(again), home=demo["home"])
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == folder_out.read_bytes()
    with zipfile.ZipFile(again) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    assert set(infos) == {
        "archive/data.warc.gz",
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "datapackage.json",
        "datapackage-digest.json",
    }
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos.values())
    # The WARC is stored, not deflated again, so a reader can seek to a record (the spec's rule).
    assert infos["archive/data.warc.gz"].compress_type == zipfile.ZIP_STORED
    gzip.decompress(member(again, "archive/data.warc.gz"))  # whole gzip members, end to end


def test_the_datapackage_lists_every_file_with_its_hash(demo):
    wacz = wacz_of(demo)
    raw = member(wacz, "datapackage.json")
    package = json.loads(raw)
    assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
    assert package["created"] == utc(demo["manifest"].created_at.replace(microsecond=0))
    for resource in package["resources"]:
        data = member(wacz, resource["path"])
        assert resource["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}" and resource["bytes"] == len(data)
    digest = json.loads(member(wacz, "datapackage-digest.json"))
    assert digest == {"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(raw).hexdigest()}"}


def test_a_page_with_no_recorded_answer_claims_no_http_status(demo, tmp_path):
    """Without the network log there is no status or header to give: the snapshots are resources."""
    copy = Path(shutil.copytree(demo["folder"], tmp_path / "no-har"))
    (copy / "logs/network.har").unlink()
    done = write_wacz(copy, demo["manifest"], tmp_path / "no-har.wacz")
    written = records(done.path)
    kinds = {h.get_header("WARC-Target-URI"): (t, h) for t, h, *_ in written}
    for page in pages_of(demo["manifest"]):
        kind, headers = kinds[page.meta["url"]]
        assert kind == "resource" and headers.get_header("Content-Type") == "text/html; charset=utf-8"
    assert [t for t, *_ in written].count("resource") == 4 + 4 and done.pages == 4


def test_a_tampered_package_is_refused_in_one_line(demo, tmp_path):
    copy = Path(shutil.copytree(demo["folder"], tmp_path / "tampered"))
    page = copy / pages_of(demo["manifest"])[0].path
    data = bytearray(page.read_bytes())
    data[len(data) // 2] ^= 0x01
    page.write_bytes(bytes(data))
    out = tmp_path / "tampered.wacz"
    done = run_cli("evidence", "export", str(copy), "--wacz", str(out), home=demo["home"])
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""
    assert "does not verify" in done.stderr and page.relative_to(copy).as_posix() in done.stderr
    assert not out.exists() and not out.with_name(out.name + ".part").exists()


def test_a_hostile_zip_is_refused(demo, tmp_path):
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("manifest.json", b"{}")
        archive.writestr("../escaped.txt", b"gotcha")
    done = run_cli("evidence", "export", str(hostile), "--wacz", str(tmp_path / "h.wacz"), home=demo["home"])
    assert done.returncode == 2 and "refused" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_no_wacz_option_is_a_usage_error(demo):
    done = run_cli("evidence", "export", str(demo["folder"]), home=demo["home"])
    assert done.returncode == 2 and "--wacz" in done.stderr


def test_the_export_is_not_written_inside_the_package(demo):
    out = demo["folder"] / "pages.wacz"
    done = run_cli("evidence", "export", str(demo["folder"]), "--wacz", str(out), home=demo["home"])
    assert done.returncode == 2 and "inside the package" in done.stderr and not out.exists()
