"""C2PA content credentials in the captures, signed with the package's own key (evidence/credentials.py):
readable by c2pa-python as any C2PA reader reads them, and checked by `evidence verify`, which
fails a capture changed after signing, stripped of them, or carrying another key's."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from evidence_fixtures import copy_package, make_demo_package, run_by_hand, sign_again
from helpers import run_cli
from PIL import Image
from tsa_server import TimestampServer

from evidence import Environment, EvidencePackage, credentials
from evidence.keys import Signer, fingerprint
from evidence.manifest import Manifest
from evidence.package import FIRST_SUMS, manifest_bytes, sha256_file
from evidence.verify import verify


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One real submission to the demo portal, timestamped as a run is; tests copy it before changing it."""
    tmp = tmp_path_factory.mktemp("c2pa")
    with TimestampServer() as server:
        result = make_demo_package(tmp, server.url)
        result["ca"] = server.write_ca(tmp / "tsa-ca.pem")
    result["home"] = tmp / "home"
    result["key"] = tmp / "home" / "keys" / "evidence-ed25519.pem"
    return result


def manifest_of(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))


def placed(demo, target: Path) -> Path:
    """A copy of the demo package, with the authority's CA beside it as docs/evidence.md says."""
    target.mkdir(parents=True)
    (target / "TSA-CA.pem").write_bytes(Path(demo["ca"]).read_bytes())
    return copy_package(Path(demo["evidence_dir"]), target / "package")


def problems_of(folder: Path, demo) -> dict[str, str]:
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(demo["ca"]), "--json", home=demo["home"])
    return {p["file"]: p["problem"] for p in json.loads(done.stdout)["problems"]}


def credentialed(folder: Path) -> list[str]:
    return [f.path for f in manifest_of(folder).files if f.content_credentials]


def resealed(folder: Path, key: Path) -> Path:
    """What the person can do with their own key after changing files: hash them again in the
    manifest, sign it and SHA256SUMS again (the manifest's own tokens no longer fit: dropped)."""
    manifest = manifest_of(folder)
    files = [
        f.model_copy(update={"sha256": sha256_file(folder / f.path), "size": (folder / f.path).stat().st_size})
        for f in manifest.files
    ]
    for token in folder.glob("manifest*.tsr"):
        token.unlink()
    update = {"files": files, "timestamp_authority": None, "timestamp_authorities": []}
    return sign_again(folder, Signer.load_or_create(key), manifest_bytes(manifest.model_copy(update=update)))


# PNG by hand: the credentials are a caBX chunk; a pixel changed must leave it where it is.
def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    found, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        found.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return found


def png_of(parts: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d)) for t, d in parts)
    return b"\x89PNG\r\n\x1a\n" + body


def one_pixel_changed(png: bytes) -> bytes:
    """The same PNG, its caBX chunk kept, with one byte of one pixel's colour changed."""
    parts = chunks(png)
    raw = bytearray(zlib.decompress(b"".join(d for t, d in parts if t == b"IDAT")))
    raw[1] ^= 0x40  # row 0 begins with its filter byte; this is the first pixel's red
    first = next(i for i, (t, _) in enumerate(parts) if t == b"IDAT")
    kept = [(t, d) for t, d in parts if t != b"IDAT"]
    return png_of([*kept[:first], (b"IDAT", zlib.compress(bytes(raw))), *kept[first:]])


def stripped(png: bytes) -> bytes:
    return png_of([(t, d) for t, d in chunks(png) if t != b"caBX"])


def test_the_captures_carry_credentials_signed_by_the_packages_key(demo, tmp_path):
    folder = placed(demo, tmp_path / "good")
    manifest = manifest_of(folder)
    first = (folder / FIRST_SUMS).read_text().rstrip("\n").partition("  ")[2]
    captures = [f for f in manifest.files if credentials.carries(f)]
    assert len(captures) > 3
    for entry in captures:
        # The first capture's tokens are on its bytes as taken: it is left as it was.
        assert entry.content_credentials == (None if entry.path == first else "signer.cert.pem"), entry.path
    cert = x509.load_pem_x509_certificate((folder / "signer.cert.pem").read_bytes())
    key = cert.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert fingerprint(key) == fingerprint((folder / "signer.pub.pem").read_bytes())

    shot = next(f for f in captures if f.content_credentials)
    # As anyone reads them: whole, signed with Ed25519, by a signer nobody vouched for.
    reader = c2pa.Reader("image/png", io.BytesIO((folder / shot.path).read_bytes()))
    assert reader.get_validation_state() == "Valid"
    failed = [f["code"] for f in reader.get_validation_results()["activeManifest"].get("failure", [])]
    assert failed == ["signingCredential.untrusted"]
    active = reader.get_active_manifest()
    assert active["claim_generator_info"][0]["name"] == "support-assistant"
    assert active["signature_info"]["alg"] == "Ed25519"
    assert active["signature_info"]["cert_serial_number"] == str(cert.serial_number)
    by_label = {a["label"]: a["data"] for a in active["assertions"]}
    (created,) = by_label["c2pa.actions.v2"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == "http://cv.iptc.org/newscodes/digitalsourcetype/screenCapture"
    said = by_label["org.support-assistant.capture"]
    assert said["url"] == shot.meta["url"] and said["url"].startswith("http")
    assert shot.captured_at is not None
    assert datetime.fromisoformat(said["captured_at"]) == shot.captured_at.astimezone(UTC)
    # The pixels are the capture's: the credentials are a chunk beside them.
    assert (
        Image.open(folder / shot.path).tobytes()
        == Image.open(io.BytesIO(stripped((folder / shot.path).read_bytes()))).tobytes()
    )

    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(demo["ca"]), "--json", home=demo["home"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["content_credentials"] == len(credentialed(folder))
    by_hand = run_by_hand(folder)
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr


def test_a_pixel_changed_after_signing_fails_even_signed_again_by_the_persons_key(demo, tmp_path):
    folder = placed(demo, tmp_path / "pixel")
    shot = credentialed(folder)[-1]
    (folder / shot).write_bytes(one_pixel_changed((folder / shot).read_bytes()))
    problems = problems_of(resealed(folder, demo["key"]), demo)
    assert "changed after its content credentials were signed" in problems[shot], problems
    assert "assertion.dataHash.mismatch" in problems[shot]
    assert "\n" not in problems[shot]
    assert set(problems) <= {shot, "report/captured.sums"}, problems  # the latter: the capture's hash was timestamped


def test_credentials_stripped_fail_because_the_manifest_says_they_are_there(demo, tmp_path):
    folder = placed(demo, tmp_path / "stripped")
    shot = credentialed(folder)[0]
    (folder / shot).write_bytes(stripped((folder / shot).read_bytes()))
    problems = problems_of(resealed(folder, demo["key"]), demo)
    assert "no content credentials, though manifest.json says they were embedded" in problems[shot], problems


def test_credentials_from_another_key_fail(demo, tmp_path):
    folder = placed(demo, tmp_path / "other")
    shot = credentialed(folder)[0]
    entry = next(f for f in manifest_of(folder).files if f.path == shot)
    other = Signer.load_or_create(tmp_path / "other.pem")
    theirs = credentials.certificate(other, datetime.now(UTC))
    (folder / shot).write_bytes(
        credentials.embed(stripped((folder / shot).read_bytes()), entry, other, theirs, version=None)
    )
    problems = problems_of(resealed(folder, demo["key"]), demo)
    assert "signed by another key, not the package's (signer.cert.pem)" in problems[shot], problems
    # Their certificate put in place of the person's is not one of the package's key.
    (folder / "signer.cert.pem").write_bytes(theirs)
    problems = problems_of(resealed(folder, demo["key"]), demo)
    assert "not the package's" in problems["signer.cert.pem"], problems


def seal(root: Path, key: Path, files: dict[str, tuple[bytes, str, str]], warnings: list[str]) -> Path:
    package = EvidencePackage(root)
    for path, (data, media_type, role) in files.items():
        package.add_bytes(path, data, media_type, role=role, captured_at=datetime.now(UTC), meta={"url": None})
    package.finish(
        tool="support-assistant 9.9",
        case={"subject": "Card charged"},
        environment=Environment(os="Linux", os_version="6", kernel="k", architecture="x86_64", python="3.11"),
        actions=[],
        signer=Signer.load_or_create(key),
        report=False,
        warn=warnings.append,
    )
    return root


def picture(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, kind)
    return out.getvalue()


def test_png_and_jpeg_captures_get_credentials_and_other_files_none(tmp_path):
    warnings: list[str] = []
    files = {
        "screenshots/001-form.png": (picture("PNG"), "image/png", "screenshot"),
        "screenshots/002-page.jpg": (picture("JPEG"), "image/jpeg", "capture"),
        "screenshots/stamped/001-form.jpg": (picture("JPEG"), "image/jpeg", "stamped"),
        "attachments/receipt.png": (picture("PNG"), "image/png", "attachment"),
    }
    root = seal(tmp_path / "package", tmp_path / "key.pem", files, warnings)
    assert warnings == []
    assert credentialed(root) == ["screenshots/001-form.png", "screenshots/002-page.jpg"]
    assert (root / "attachments/receipt.png").read_bytes() == files["attachments/receipt.png"][0]
    result = verify(root)
    assert result.ok and result.credentials == 2, result.problems


def test_a_package_sealed_without_c2pa_says_none_were_embedded_and_verifies(tmp_path, monkeypatch):
    """Older packages, and those sealed where c2pa-python cannot be loaded, name no credentials."""
    monkeypatch.setattr(credentials, "available", lambda: False)
    warnings: list[str] = []
    png = picture("PNG")
    root = seal(
        tmp_path / "package", tmp_path / "key.pem", {"screenshots/001.png": (png, "image/png", "step")}, warnings
    )
    assert any("no content credentials" in w and "c2pa-python" in w for w in warnings), warnings
    assert credentialed(root) == [] and not (root / "signer.cert.pem").exists()
    assert (root / "screenshots/001.png").read_bytes() == png
    monkeypatch.undo()
    result = verify(root)
    assert result.ok and result.credentials == 0, result.problems


def test_without_c2pa_verify_says_the_credentials_were_not_checked(demo, tmp_path, monkeypatch):
    folder = placed(demo, tmp_path / "unchecked")
    monkeypatch.setattr(credentials, "available", lambda: False)
    result = verify(folder, tsa_ca=[Path(demo["ca"]).read_bytes()])
    assert result.ok, result.problems
    assert any("were not checked: c2pa-python cannot be loaded" in note for note in result.notes), result.notes
    shutil.rmtree(folder)
