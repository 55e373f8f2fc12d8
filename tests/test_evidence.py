"""The evidence package of a real demo submission: sealed, verifiable by us and by plain tools."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from evidence_fixtures import copy_package, make_demo_package, readme_by_hand_block, run_by_hand
from helpers import run_cli
from PIL import Image
from tsa_server import TimestampServer

from evidence import Manifest
from evidence.bundle import make_zip
from evidence.report import shot_groups
from evidence.stamp import read_text_chunks, strip_text_chunks
from evidence.verify import verify


@pytest.fixture(scope="module")
def tsa():
    with TimestampServer() as server:
        yield server


@pytest.fixture(scope="module")
def demo(tmp_path_factory, tsa):
    """One real submission to the demo portal with a trusted timestamp; tests copy it before changing it."""
    tmp = tmp_path_factory.mktemp("demo")
    result = make_demo_package(tmp, tsa.url)
    result["ca"] = tsa.write_ca(tmp / "tsa-ca.pem")
    result["home"] = tmp / "home"
    return result


def package_dir(demo) -> Path:
    return Path(demo["evidence_dir"])


def manifest_of(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))


def placed(demo, target: Path) -> Path:
    """A copy of the demo package in target/package, with the authority's CA beside it as the README says."""
    target.mkdir(parents=True)
    (target / "TSA-CA.pem").write_bytes(Path(demo["ca"]).read_bytes())
    return copy_package(package_dir(demo), target / "package")


def test_demo_package_is_accepted_by_verify_and_by_the_readme_block(demo, tmp_path):
    folder = package_dir(demo)
    zip_path = Path(demo["evidence_zip"])
    for target in (folder, zip_path):
        done = run_cli("evidence", "verify", str(target), "--tsa-ca", str(demo["ca"]), home=demo["home"])
        assert done.returncode == 0, done.stdout + done.stderr
        assert (
            "OK" in done.stdout
            and "timestamp" in done.stdout
            and "authority checked: its certificate chains to the CA given" in done.stdout
        )
    block = readme_by_hand_block()
    assert "SHA256SUMS.sig" in block and "sha256sum -c" in block and "ts -verify" in block
    # The report a provider reads gives the same block, word for word.
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert f"<pre>{html.escape(block)}</pre>" in report
    good = placed(demo, tmp_path / "good")
    done = run_by_hand(good)
    assert done.returncode == 0, done.stdout + done.stderr
    fingerprint = manifest_of(good).signer.fingerprint
    assert done.stdout.splitlines()[-1] == f"package OK, signed by key {fingerprint}", done.stdout


def test_the_readme_block_fails_on_a_forged_package(demo, tmp_path):
    """The forgery the audit found: append to a page, rewrite its line in SHA256SUMS."""
    import hashlib

    def forge(name: str) -> Path:
        work = placed(demo, tmp_path / name)
        page = sorted((work / "pages").glob("*filled-form*.html"))[0]
        with open(page, "a", encoding="utf-8") as handle:
            handle.write("<p>I never asked for a refund.</p>\n")
        rel = page.relative_to(work).as_posix()
        digest = hashlib.sha256(page.read_bytes()).hexdigest()
        sums = work / "SHA256SUMS"
        lines = [f"{digest}  {rel}" if line.endswith(f"  {rel}") else line for line in sums.read_text().splitlines()]
        sums.write_text("\n".join(lines) + "\n")
        assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=work).returncode == 0
        return work

    forged = forge("rewritten")
    done = run_by_hand(forged)
    assert done.returncode != 0 and "package OK" not in done.stdout, done.stdout
    assert not verify(forged).ok
    # Without its signature the list proves nothing either: the block stops at once.
    unsigned = forge("unsigned")
    (unsigned / "SHA256SUMS.sig").unlink()
    done = run_by_hand(unsigned)
    assert done.returncode != 0 and "package OK" not in done.stdout
    problems = {p.file: p.what for p in verify(unsigned).problems}
    assert problems["SHA256SUMS.sig"].startswith("missing") and "pages/" in " ".join(problems)
    # A file slipped in is named by the block, though no hash changed.
    added = placed(demo, tmp_path / "added")
    (added / "pages" / "extra.html").write_text("<p>added later</p>")
    done = run_by_hand(added)
    assert done.returncode != 0 and "pages/extra.html" in done.stdout and "package OK" not in done.stdout
    # Nor under a name the block itself skips at the top, nor as a link.
    for name, add in (
        ("sums-below", lambda root: (root / "pages" / "SHA256SUMS").write_text("all fine\n")),
        ("link", lambda root: (root / "pages" / "refund-approved.html").symlink_to("/etc/hostname")),
        ("dangling-link", lambda root: (root / "note.txt").symlink_to("nowhere")),
    ):
        dressed = placed(demo, tmp_path / name)
        add(dressed)
        done = run_by_hand(dressed)
        assert done.returncode != 0 and "package OK" not in done.stdout, (name, done.stdout)
        assert not verify(dressed).ok


def test_manifest_records_environment_actions_and_every_file(demo):
    folder = package_dir(demo)
    manifest = manifest_of(folder)
    env = manifest.environment
    for name in (
        "os",
        "os_version",
        "kernel",
        "architecture",
        "python",
        "playwright",
        "browser_version",
        "user_agent",
        "viewport",
        "device_scale_factor",
        "locale",
        "timezone",
        "utc_offset",
    ):
        assert getattr(env, name), name
    assert env.reported_device["model"] == "iPhone 13" and env.emulated_device is None
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    assert socket.gethostname() not in text  # no host name unless asked for
    assert manifest.request and manifest.request["subject"] == "Card charged but order not placed"
    assert manifest.flow.id == "demo" and manifest.submission.outcome == "confirmed"
    assert manifest.signer and manifest.timestamp_authority
    for action in manifest.actions:
        assert action.started_at.tzinfo and action.started_at <= action.ended_at and action.url_after
    roles = {f.role for f in manifest.files}
    assert {"screenshot", "stamped", "page", "log", "report", "attachment", "confirmation"} <= roles
    paths = {f.path for f in manifest.files}
    assert {
        "report.html",
        "report.pdf",
        "report/contact-sheet.jpg",
        "logs/network.har",
        "logs/console.jsonl",
        "logs/page-errors.jsonl",
    } <= paths
    for entry in manifest.files:
        assert entry.media_type and entry.size == (folder / entry.path).stat().st_size
    # Every screenshot has its page: HTML, MHTML, final URL, server address.
    for shot in (f for f in manifest.files if f.role == "screenshot"):
        assert shot.captured_at is not None
        assert shot.meta["html"] in paths and shot.meta["mhtml"] in paths and shot.meta["stamped"] in paths
        assert shot.meta["final_url"].startswith("http://127.0.0.1:")
        assert shot.meta["server_ip"] == "127.0.0.1"
    mhtml = next(f for f in manifest.files if f.path.endswith(".mhtml"))
    assert b"Content-Type: multipart/related" in (folder / mhtml.path).read_bytes()[:2000]


def test_key_is_made_once_and_kept_private(demo):
    keys = list((demo["home"] / "keys").iterdir())
    assert len(keys) == 1 and (keys[0].stat().st_mode & 0o777) == 0o600
    assert (keys[0].parent.stat().st_mode & 0o777) == 0o700
    assert b"PRIVATE KEY" in keys[0].read_bytes()
    folder = package_dir(demo)
    assert b"PRIVATE" not in (folder / "signer.pub.pem").read_bytes()


def test_original_png_carries_text_chunks_and_the_browser_bytes(demo):
    from PIL import Image

    folder = package_dir(demo)
    manifest = manifest_of(folder)
    shot = next(f for f in manifest.files if f.role == "screenshot")
    data = (folder / shot.path).read_bytes()
    chunks = read_text_chunks(data)
    assert chunks["URL"] == shot.meta["url"] and chunks["Title"] == shot.meta["title"]
    assert chunks["Creation Time"].startswith(shot.captured_at.strftime("%Y-%m-%dT%H:%M:%S"))
    import hashlib

    assert hashlib.sha256(strip_text_chunks(data)).hexdigest() == shot.meta["capture_sha256"]
    original = Image.open(folder / shot.path).convert("RGB")
    stamped = Image.open(folder / shot.meta["stamped"]).convert("RGB")
    assert stamped.width == original.width and stamped.height > original.height + 40
    # The banner is added below, covering nothing: above it is the same picture (JPEG-close).
    from PIL import ImageChops, ImageStat

    diff = ImageChops.difference(stamped.crop((0, 0, original.width, original.height)), original)
    assert max(ImageStat.Stat(diff).mean) < 2


def test_har_has_no_secrets(demo):
    folder = package_dir(demo)
    har_text = (folder / "logs" / "network.har").read_text(encoding="utf-8")
    har = json.loads(har_text)
    entries = har["log"]["entries"]
    assert any(e["request"]["method"] == "POST" for e in entries)
    # The CSRF token the form carried, and the session cookie, are in the page snapshots but not in the HAR.
    form_html = next((folder / "pages").glob("*-filled-form.html")).read_text(encoding="utf-8")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_html).group(1)
    assert len(token) > 10 and token not in har_text
    cookies = [
        h["value"]
        for e in entries
        for h in e["request"]["headers"] + e["response"]["headers"]
        if h["name"].lower() in ("cookie", "set-cookie")
    ]
    assert cookies and set(cookies) == {"[scrubbed]"}
    assert "[scrubbed]" in har_text and "demo_session=" not in har_text.replace("demo_session=[scrubbed]", "")


def test_report_pdf_shows_every_screenshot_group_in_order(demo):
    from pypdf import PdfReader

    folder = package_dir(demo)
    manifest = manifest_of(folder)
    groups = shot_groups(manifest)
    assert len(groups) >= 4  # home, help centre, filled form, confirmation
    reader = PdfReader(folder / "report.pdf")
    texts = [page.extract_text() or "" for page in reader.pages]
    # Groups follow one another without forced page breaks (no half-empty pages), in order.
    pages_of = [next(i for i, t in enumerate(texts) if heading.split(":")[0] + ":" in t) for heading, _ in groups]
    assert pages_of == sorted(pages_of)
    assert sum(len(page.images) for page in reader.pages) >= len(groups)
    assert any("DEMO-" in t for t in texts) and any("How to verify" in t for t in texts)
    # The pictures are plates, four to a page, each the stamped copy whole (a tall form scaled, not cut).
    stamped = [f for f in manifest.files if f.path.startswith("screenshots/stamped/")]
    plates = [page for page in reader.pages if page.images]
    assert len(plates) == -(-len(stamped) // 4)
    sizes = sorted(image.image.size for page in plates for image in page.images)
    assert sizes == sorted(Image.open(folder / f.path).size for f in stamped)
    # The sixty browser switches are in the manifest; the report says so in a line.
    assert any("switches, listed in manifest.json" in t for t in texts)
    # The report's own rendering never entered the network log of the filing.
    har = json.loads((folder / "logs" / "network.har").read_text(encoding="utf-8"))
    assert har["log"]["pages"] and not any(p["title"].endswith("— evidence") for p in har["log"]["pages"])
    assert not any(e["request"]["url"].startswith("file:") for e in har["log"]["entries"])


def test_any_changed_byte_in_any_file_fails_and_names_the_file(demo, tmp_path):
    folder = package_dir(demo)
    work = copy_package(folder, tmp_path / "pkg")
    files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    assert len(files) >= 25  # every kind of file a run leaves: shots, stamps, pages, logs, report, seal
    for rel in files:
        path = work / rel
        original = path.read_bytes()
        data = bytearray(original or b"\0")  # an empty log gets a byte instead
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        try:
            result = verify(work, tsa_ca=[demo["ca"].read_bytes()])
            assert not result.ok, rel
            assert rel in {p.file for p in result.problems}, (rel, [str(p) for p in result.problems])
        finally:
            path.write_bytes(original)
    assert verify(work).ok


def test_deleted_and_added_files_are_named(demo, tmp_path):
    work = copy_package(package_dir(demo), tmp_path / "pkg")
    (work / "screenshots" / "001-home.png").unlink()
    (work / "screenshots" / "extra.png").write_bytes(b"not evidence")
    done = run_cli("evidence", "verify", str(work), "--json", home=demo["home"])
    assert done.returncode == 1
    problems = {p["file"]: p["problem"] for p in json.loads(done.stdout)["problems"]}
    assert problems["screenshots/001-home.png"].startswith("missing")
    assert problems["screenshots/extra.png"].startswith("extra")
    plain = run_cli("evidence", "verify", str(work), home=demo["home"])
    assert (
        plain.returncode == 1 and "screenshots/001-home.png" in plain.stderr and "screenshots/extra.png" in plain.stderr
    )


def test_swapped_key_fails(demo, tmp_path):
    other = Ed25519PrivateKey.generate()
    other_pem = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # 1. someone else's key put in the package
    work = copy_package(package_dir(demo), tmp_path / "a")
    (work / "signer.pub.pem").write_bytes(other_pem)
    result = verify(work)
    assert not result.ok and "signer.pub.pem" in {p.file for p in result.problems}
    # 2. the manifest re-signed with another key, sums rewritten to match
    work = copy_package(package_dir(demo), tmp_path / "b")
    (work / "signer.pub.pem").write_bytes(other_pem)
    (work / "manifest.sig").write_bytes(other.sign((work / "manifest.json").read_bytes()))
    sums = subprocess.run("sha256sum $(cut -c67- SHA256SUMS)", shell=True, cwd=work, capture_output=True, text=True)
    (work / "SHA256SUMS").write_text(sums.stdout)
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=work).returncode == 0
    result = verify(work)
    assert not result.ok
    assert any(p.file == "signer.pub.pem" and "swapped" in p.what for p in result.problems)
    # 3. an expected key pinned on the command line
    done = run_cli("evidence", "verify", str(package_dir(demo)), "--key", "0" * 64, home=demo["home"])
    assert done.returncode == 1 and "signer.pub.pem" in done.stderr
    # 4. the person's own fingerprint, from `evidence key` on their machine: checked, and said so
    mine = run_cli("evidence", "key", home=demo["home"]).stdout.strip()
    done = run_cli("evidence", "verify", str(package_dir(demo)), "--key", mine, home=demo["home"])
    assert done.returncode == 0 and "key checked: it is the one you expected" in done.stdout, done.stdout
    plain = run_cli("evidence", "verify", str(package_dir(demo)), home=demo["home"])
    assert plain.returncode == 0 and "key NOT checked" in plain.stdout and "assistant evidence key" in plain.stdout


def test_timestamp_from_an_untrusted_authority_fails(demo, tmp_path):
    with TimestampServer() as stranger:
        ca = stranger.write_ca(tmp_path / "other-ca.pem")
    done = run_cli("evidence", "verify", str(package_dir(demo)), "--tsa-ca", str(ca), home=demo["home"])
    assert (
        done.returncode == 1
        and "manifest.tsr" in done.stderr
        and "does not chain to the trusted CA given" in done.stderr
    )


def test_two_bundles_of_the_same_inputs_are_byte_identical(demo, tmp_path):
    folder = package_dir(demo)
    first = make_zip(folder, tmp_path / "one.zip")
    copy = copy_package(folder, tmp_path / "copy")
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
        if path.is_file():
            path.chmod(0o600)
    second = make_zip(copy, tmp_path / "two.zip")
    assert first.read_bytes() == second.read_bytes() == Path(demo["evidence_zip"]).read_bytes()


def test_show_summarises(demo):
    done = run_cli("evidence", "show", demo["evidence_zip"], "--json", home=demo["home"])
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["submission"]["confirmation"] == demo["confirmation"]
    assert len(summary["screenshots"]) >= 4 and summary["signer_fingerprint"]  # home, help centre, filled form, number
    text = run_cli("evidence", "show", str(package_dir(demo)), home=demo["home"])
    assert text.returncode == 0 and demo["confirmation"] in text.stdout


def test_missing_package_is_bad_input(tmp_path):
    done = run_cli("evidence", "verify", str(tmp_path / "nope"), home=tmp_path)
    assert done.returncode == 2 and "no such package" in done.stderr


def test_unreachable_tsa_keeps_a_signed_package_and_says_so(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    from helpers import write_case

    from assistant.sites.demo.portal import DemoPortal

    with DemoPortal() as portal:
        done = run_cli(
            "submit",
            "demo",
            "--case",
            str(write_case(tmp_path)),
            "--base-url",
            portal.url,
            "--yes",
            "--out",
            str(tmp_path / "pkg"),
            "--tsa",
            f"http://127.0.0.1:{port}/tsr",
            home=tmp_path / "home",
        )
    assert done.returncode == 0, done.stderr
    assert "no trusted timestamp" in done.stderr
    assert any(line.startswith("DEMO-") for line in done.stdout.splitlines())
    assert verify(tmp_path / "pkg").ok


def test_assistant_demo_shows_the_number_before_sealing_and_leaves_a_verifiable_package(tmp_path):
    # stderr into stdout: each line lands where it was written, so the order is the order of events.
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "demo"],
        env={**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout
    lines = done.stdout.strip().splitlines()
    numbers = [i for i, line in enumerate(lines) if re.fullmatch(r"DEMO-\d{6}", line)]
    assert len(numbers) == 1, lines  # said once, not again at the end
    at = numbers[0]
    sealing = lines.index("sealing the evidence package…")
    assert lines[at - 1] == "submitted; keep this number:" and at < sealing
    assert sealing < next(i for i, line in enumerate(lines) if line.startswith("evidence: "))
    bundle = next(line.split()[2] for line in lines if line.startswith("evidence zip:"))
    folder = next(line.split(": ", 1)[1] for line in lines if line.startswith("evidence: "))
    for target in (bundle, folder):
        checked = run_cli("evidence", "verify", target, home=tmp_path / "home")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder).returncode == 0


def test_manifest_schema_is_published(tmp_path):
    done = run_cli("schema", "manifest", home=tmp_path)
    schema = json.loads(done.stdout)
    assert {"files", "actions", "environment", "signer", "fitting", "timestamp_authority"} <= set(schema["properties"])


def test_the_providers_answer_is_kept_whole_with_its_clock(demo):
    """The answer to the click (the 303 and the confirmation page) is the provider's own word: its
    status, its Date header (the provider's clock) beside this machine's time of receipt, and the
    confirmation page's body in the HAR. The report's own page never enters the HAR."""
    from datetime import timedelta

    folder = package_dir(demo)
    manifest = manifest_of(folder)
    assert manifest.submission is not None
    answers = manifest.submission.answers
    assert [(a.method, a.status) for a in answers] == [("POST", 303), ("GET", 200)]
    for answer in answers:
        assert answer.date and answer.provider_time and answer.received_at
        assert abs(answer.provider_time - answer.received_at) < timedelta(seconds=3)  # one machine, one clock
    number = manifest.submission.confirmation
    har = json.loads((folder / "logs" / "network.har").read_text(encoding="utf-8"))
    kept = [e for e in har["log"]["entries"] if "text" in e["response"].get("content", {})]
    assert [(e["request"]["method"], e["response"]["status"]) for e in kept] == [("GET", 200)]
    content = kept[0]["response"]["content"]
    assert number and number in content["text"] and content["size"] == answers[1].body_kept
    assert "the provider's answer to the form" in content["comment"]
    report = html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    assert "provider's clock" in report and answers[-1].date in report
