"""`evidence verify` and `evidence show` never crash: hostile zips and folders end in one line and exit 0, 1 or 2.

Every zip check runs before the first byte is written; a folder with a symlink (to a file, to
a folder, dangling) or a FIFO is refused by name. A hypothesis fuzzer feeds random and
hostile zips, and broken copies of a real one, through the command itself.
"""

from __future__ import annotations

import io
import os
import stat
import traceback
import warnings
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.cli import main
from evidence import Environment, EvidencePackage
from evidence.bundle import UnsafeArchive, safe_extract
from evidence.keys import Signer
from evidence.verify import verify


def invoke(*args: str, home: Path):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def assert_one_line_and_clean(result, *, codes=(0, 1, 2)) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"traceback:\n{trace}")
    assert result.exit_code in codes, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    for line in result.stderr.splitlines():
        # each problem is one printable line: no control characters from a hostile name
        assert all(ch.isprintable() for ch in line), repr(line)


def small_package(root: Path) -> Path:
    package = EvidencePackage(root)
    package.add_bytes("pages/001-form.html", b"<p>the complaint</p>", "text/html", role="page")
    package.add_bytes("attachments/receipt.txt", b"paid 100\n" * 50, "text/plain", role="attachment")
    package.finish(
        tool="test",
        case={"subject": "Card charged"},
        environment=Environment(os="Linux", os_version="6", kernel="k", architecture="x86_64", python="3.11"),
        actions=[],
        signer=Signer.load_or_create(root.parent / "key.pem"),
        report=False,
    )
    return package.bundle()


def zip_of(entries) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # duplicate names are what these zips are for
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def entry(name: str, mode: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    if mode is not None:
        info.create_system = 3
        info.external_attr = mode << 16
    return info


CLASHES = {
    "duplicate": [("manifest.json", b"{}"), ("manifest.json", b"{}")],
    "same-after-normalising": [("pages/a.html", b"1"), ("pages/./a.html", b"2")],
    "file-then-folder": [("foo", b"1"), ("foo/", b"")],
    "folder-then-file": [("foo/", b""), ("foo", b"1")],
    "file-under-a-file": [("foo", b"1"), ("foo/bar", b"2")],
    "file-then-its-parent": [("foo/bar", b"2"), ("foo", b"1")],
    "no-name": [(".", b"1")],
    "fifo": [(entry("pipe", stat.S_IFIFO | 0o644), b"")],
    "symlink-to-a-folder": [(entry("pages", stat.S_IFLNK | 0o777), b"/etc")],
    # One file on macOS and Windows: unzip there keeps whichever comes last.
    "same-but-for-case": [("report.pdf", b"%PDF real"), ("Report.pdf", b"%PDF forged")],
    "composed-and-decomposed": [("attachments/\u0439.png", b"1"), ("attachments/\u0438\u0306.png", b"2")],
    "invisible-character": [("manifest.json", b"{}"), ("manifest.json\u200b", b"{}")],
    "bidi-override": [("report\u202efdp.exe", b"MZ")],
}


@pytest.mark.parametrize("kind", sorted(CLASHES))
def test_name_clashes_are_refused_before_anything_is_written(kind, tmp_path):
    archive = tmp_path / "p.zip"
    archive.write_bytes(zip_of(CLASHES[kind]))
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchive):
        safe_extract(archive, target)
    assert not target.exists()
    result = invoke("evidence", "verify", str(archive), home=tmp_path / "home")
    assert_one_line_and_clean(result, codes=(1,))
    assert "refused to unpack" in result.stderr
    shown = invoke("evidence", "show", str(archive), home=tmp_path / "home")
    assert_one_line_and_clean(shown, codes=(2,))


def test_many_small_bombs_are_refused_by_the_whole_zips_ratio_before_writing(tmp_path):
    """The audit's zip: 1,100 entries of 1 MiB each, 1.1 MB compressed; it used to write 1.1 GB."""
    archive = tmp_path / "bombs.zip"
    block = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for number in range(1100):
            out.writestr(f"pages/{number:04}.html", block)
    assert archive.stat().st_size < 3 * 1024 * 1024
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        safe_extract(archive, target)
    assert not target.exists()
    result = invoke("evidence", "verify", str(archive), home=tmp_path / "home")
    assert_one_line_and_clean(result, codes=(1,))
    assert "zip bomb" in result.stderr


def test_too_many_entries_are_refused_before_writing(tmp_path):
    archive = tmp_path / "many.zip"
    archive.write_bytes(zip_of([(f"f{n}", b"") for n in range(50)]))
    with pytest.raises(UnsafeArchive, match="50 entries"):
        safe_extract(archive, tmp_path / "out", max_files=40)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["file", "folder", "dangling", "loop", "fifo"])
def test_a_folder_with_a_symlink_or_a_fifo_is_refused_by_name(kind, tmp_path):
    small_package(tmp_path / "pkg")
    folder = tmp_path / "pkg"
    odd = folder / "pages" / "odd"
    if kind == "file":
        odd.symlink_to("/etc/passwd")
    elif kind == "folder":
        odd.symlink_to("/etc")
    elif kind == "dangling":
        odd.symlink_to(tmp_path / "nowhere")
    elif kind == "loop":
        odd.symlink_to(odd)
    else:
        os.mkfifo(odd)
    result = verify(folder)
    assert not result.ok and [p.file for p in result.problems] == ["pkg"]
    assert "pages/odd" in str(result.problems[0])
    done = invoke("evidence", "verify", str(folder), home=tmp_path / "home")
    assert_one_line_and_clean(done, codes=(1,))
    assert "pages/odd" in done.stderr
    shown = invoke("evidence", "show", str(folder), home=tmp_path / "home")
    assert_one_line_and_clean(shown, codes=(2,))
    assert "pages/odd" in shown.stderr


def test_a_folder_named_like_a_seal_file_is_a_problem_not_a_crash(tmp_path):
    small_package(tmp_path / "pkg")
    folder = tmp_path / "pkg"
    (folder / "signer.pub.pem").unlink()
    (folder / "signer.pub.pem").mkdir()
    (folder / "manifest.tsr").mkdir()
    done = invoke("evidence", "verify", str(folder), home=tmp_path / "home")
    assert_one_line_and_clean(done, codes=(1,))


# ------------------------------------------------------------------ the fuzzer

HOSTILE_NAMES = [
    "manifest.json",
    "SHA256SUMS",
    "SHA256SUMS.sig",
    "manifest.sig",
    "signer.pub.pem",
    "manifest.tsr",
    "pages/",
    "pages",
    "pages/001-form.html",
    "pages/./001-form.html",
    "pages//001-form.html",
    "../escape",
    "/abs",
    "C:evil",
    "a\\b",
    "\x1b[31mred",
    "line\nbreak",
    "x" * 300,
    "é/ü.png",
    ".",
    "./",
]
MODES = [None, stat.S_IFREG | 0o644, stat.S_IFDIR | 0o755, stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o644, 0o644]


@st.composite
def hostile_zips(draw, good: bytes) -> bytes:
    how = draw(st.sampled_from(["entries", "mutated", "truncated", "random"]))
    if how == "random":
        return draw(st.binary(max_size=2000))
    if how == "truncated":
        return good[: draw(st.integers(0, len(good)))]
    if how == "mutated":
        data = bytearray(good)
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        return bytes(data)
    base = draw(st.booleans())
    entries = []
    if base:  # a real package's entries, then hostile ones beside them
        with zipfile.ZipFile(io.BytesIO(good)) as archive:
            entries = [(entry(i.filename), archive.read(i)) for i in archive.infolist()]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(min_size=1, max_size=40)))
        mode = draw(st.sampled_from(MODES))
        data = draw(
            st.one_of(
                st.binary(max_size=200),
                st.sampled_from([b"{}", b"[" * 5000, b'{"format": 1}', b"\xff\xfe", b"0" * 64 + b"  manifest.json\n"]),
            )
        )
        try:
            entries.append((entry(name, mode), data))
        except ValueError:  # a name zipfile itself will not write
            continue
    try:
        return zip_of(entries)
    except (ValueError, zipfile.LargeZipFile):
        return b"PK\x05\x06" + b"\0" * 18


def test_fuzzed_zips_end_in_one_line_and_exit_0_1_or_2(tmp_path):
    good = small_package(tmp_path / "good" / "pkg").read_bytes()
    home = tmp_path / "home"
    seen = {"runs": 0, "codes": set()}

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_zips(good), st.sampled_from(["verify", "show"]))
    def check(data, command):
        seen["runs"] += 1
        path = tmp_path / f"fuzz-{seen['runs']}.zip"
        path.write_bytes(data)
        result = invoke("evidence", command, str(path), home=home)
        assert_one_line_and_clean(result)
        seen["codes"].add(result.exit_code)
        path.unlink()

    check()
    print(f"fuzzed zips: {seen}")
    assert seen["runs"] >= 150 and {1, 2} <= seen["codes"], seen


SEAL_FILES = ["manifest.json", "manifest.sig", "signer.pub.pem", "manifest.tsr", "SHA256SUMS", "SHA256SUMS.sig"]


@st.composite
def broken_files(draw, originals: dict[str, bytes]) -> tuple[str, bytes]:
    name = draw(st.sampled_from(SEAL_FILES))
    original = originals.get(name, b"")
    how = draw(st.sampled_from(["flip", "cut", "random", "known"]))
    if how == "random" or not original:
        return name, draw(st.binary(max_size=3000))
    if how == "cut":
        return name, original[: draw(st.integers(0, len(original)))]
    if how == "known":
        return name, draw(
            st.sampled_from(
                [
                    b"[" * 100_000,
                    b'{"format": 1, "files": "' + b"x" * 5000 + b'"}',
                    b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n",
                    b"-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n",
                    b"\x30\x80" * 2000,
                    b"\x00" * 64,
                ]
            )
        )
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return name, bytes(data)


def test_fuzzed_seal_files_in_a_folder_end_in_one_line(tmp_path):
    """A real, timestamped package whose manifest, signatures, key, token or sums are broken."""
    import shutil

    from tsa_server import TimestampServer

    with TimestampServer() as server:
        package = EvidencePackage(tmp_path / "good")
        package.add_bytes("pages/001-form.html", b"<p>the complaint</p>", "text/html", role="page")
        package.finish(
            tool="test",
            case={"subject": "Card charged"},
            environment=Environment(os="Linux", os_version="6", kernel="k", architecture="x86_64", python="3.11"),
            actions=[],
            signer=Signer.load_or_create(tmp_path / "key.pem"),
            tsa_urls=[server.url],
            report=False,
        )
        ca = server.write_ca(tmp_path / "ca.pem")
    originals = {name: (package.root / name).read_bytes() for name in SEAL_FILES}
    home = tmp_path / "home"
    seen = {"runs": 0, "codes": set()}

    @settings(max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(broken_files(originals), st.sampled_from(["verify", "verify-ca", "show"]))
    def check(broken, command):
        seen["runs"] += 1
        folder = tmp_path / f"f{seen['runs']}"
        shutil.copytree(package.root, folder)
        name, data = broken
        (folder / name).write_bytes(data)
        args = ["evidence", "verify" if command.startswith("verify") else "show", str(folder)]
        if command == "verify-ca":
            args += ["--tsa-ca", str(ca)]
        result = invoke(*args, home=home)
        assert_one_line_and_clean(result)
        if command.startswith("verify") and data != originals[name]:
            assert result.exit_code == 1, (name, result.output)  # any change to the seal is caught
        seen["codes"].add(result.exit_code)
        shutil.rmtree(folder)

    check()
    assert seen["runs"] >= 120 and 1 in seen["codes"], seen


@pytest.mark.parametrize("dressing", ["comment", "prefix"])
def test_a_zip_dressed_up_with_a_comment_or_a_file_in_front_is_refused(tmp_path, dressing):
    """`unzip` prints a zip comment ("Checked and certified by the provider's legal department")
    as if it were part of the package, and 237 bytes of a PDF put before a zip make `file` call
    it a PDF: neither is covered by a signature, and this tool writes neither."""
    bundle = small_package(tmp_path / "package")
    data = bundle.read_bytes()
    forged = tmp_path / "forged.zip"
    if dressing == "comment":
        with zipfile.ZipFile(bundle, "a") as archive:
            archive.comment = b"Checked and certified by the provider's legal department; refund approved."
        forged.write_bytes(bundle.read_bytes())
    else:
        forged.write_bytes(b"%PDF-1.4\n" + b"%" * 228 + b"\n" + data)
    assert (
        invoke(
            "evidence", "verify", str(bundle if dressing == "prefix" else tmp_path / "package"), home=tmp_path
        ).exit_code
        == 0
    )
    result = invoke("evidence", "verify", str(forged), home=tmp_path)
    assert_one_line_and_clean(result, codes=(1,))
    said = "comment" if dressing == "comment" else "something was put in front of the zip"
    assert said in result.output, result.output


def test_a_manifest_naming_a_token_outside_the_package_never_has_it_read(tmp_path):
    """manifest.json is read before its signature is known good: a token path in it that leaves
    the package is refused by name, not read (it told which files exist on the verifier's machine)."""
    import json

    small_package(tmp_path / "pkg")
    folder = tmp_path / "pkg"
    secret = tmp_path / "secret.tsr"
    secret.write_bytes(b"the verifier's own file")
    manifest = json.loads((folder / "manifest.json").read_text())
    form = next(f for f in manifest["files"] if f["path"] == "pages/001-form.html")
    (folder / "report").mkdir(exist_ok=True)
    for sums in ("report/captured.sums", "report/first-capture.sums"):
        (folder / sums).write_text(f"{form['sha256']}  pages/001-form.html\n")
    at = "2026-11-20T11:35:00Z"
    manifest["times"] = {
        "person_zone": "UTC",
        "person_zone_from": "test",
        "stamps": [{"authority": "http://tsa.test/", "token": str(secret), "time": at}],
        "first_stamps": [{"authority": "http://tsa.test/", "token": "../secret.tsr", "time": at}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    done = invoke("evidence", "verify", str(folder), home=tmp_path / "home")
    assert_one_line_and_clean(done, codes=(1,))
    assert f"{secret}: not a file of this package" in done.output
    assert "../secret.tsr: not a file of this package" in done.output
    assert "RFC 3161" not in done.output  # never parsed as a token


@pytest.mark.parametrize("name", ["SHA256SUMS", "manifest.sig", "signer.pub.pem", "manifest.tsr", "manifest.json"])
def test_a_seal_file_far_larger_than_any_this_tool_makes_is_refused_unread(tmp_path, name):
    """A sparse file of 100 GB costs the forger no disk: read whole, it ended in MemoryError."""
    small_package(tmp_path / "pkg")
    folder = tmp_path / "pkg"
    with open(folder / name, "wb") as handle:
        handle.truncate(100 * 1024**3)
    for command in ("verify", "show"):
        done = invoke("evidence", command, str(folder), home=tmp_path / "home")
        assert_one_line_and_clean(done, codes=(1, 2) if command == "verify" else (0, 1, 2))
    done = invoke("evidence", "verify", str(folder), home=tmp_path / "home")
    if name == "manifest.tsr":  # no authority named: a stray token, said without reading it
        assert "a token no authority named in manifest.json gave" in done.output
    else:
        assert "more than" in done.output and "bytes" in done.output


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_a_package_folders_deep_past_the_limit_is_refused_in_one_line_and_leaves_nothing(tmp_path, form, monkeypatch):
    """Python's os.walk and rmtree recurse: 1,000 folders ran them out of stack (a traceback, and
    the unpacked zip left in the temp folder), and the zip's checks took minutes on 8,000 such
    names. The zip's names go 1,000 deep; the folder, 40 (a tree that deep on disk, left by a
    killed run, would stop every later pytest's own clean-up)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    if form == "zip":
        good = small_package(tmp_path / "pkg").read_bytes()
        with zipfile.ZipFile(io.BytesIO(good)) as archive:
            entries = [(archive.getinfo(n), archive.read(n)) for n in archive.namelist()]
        deep = "/".join(["d"] * 1000)
        target = tmp_path / "deep.zip"
        target.write_bytes(zip_of([*entries, *((f"{deep}/{i}/x", b"1") for i in range(50))]))
    else:
        small_package(tmp_path / "pkg")
        target = tmp_path / "pkg"
        (target / "/".join(["d"] * 40)).mkdir(parents=True)
    for command in ("verify", "show"):
        done = invoke("evidence", command, str(target), home=tmp_path / "home")
        assert_one_line_and_clean(done, codes=(1, 2))
        assert "deep (a package's are at most 15)" in done.output
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_manifest_dated_at_the_ends_of_the_calendar_is_refused_in_one_line(tmp_path, when):
    """Year 1 or 9999 cannot be moved to another clock: show and verify ended in OverflowError."""
    import json

    small_package(tmp_path / "pkg")
    folder = tmp_path / "pkg"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["created_at"] = when
    manifest["case"]["incident_at"] = when
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for command, codes in (("verify", (1,)), ("show", (2,))):
        done = invoke("evidence", command, str(folder), home=tmp_path / "home")
        assert_one_line_and_clean(done, codes=codes)
        assert f"created_at: the year {int(when[:4])} is not one a package was made in" in done.output
