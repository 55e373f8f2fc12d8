"""Zips: deterministic out, and nothing hostile in."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from helpers import run_cli

from evidence.bundle import UnsafeArchive, make_zip, safe_extract
from evidence.verify import verify


def snapshot(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def arena(tmp_path):
    """A parent folder we can watch: the target is inside it; nothing may appear beside it."""
    (tmp_path / "arena").mkdir()
    return tmp_path / "arena"


def hostile(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


CASES = {
    "dotdot": [("manifest.json", b"{}"), ("../escaped.txt", b"gotcha")],
    "nested-dotdot": [("screenshots/../../escaped.txt", b"gotcha")],
    "absolute": [("/tmp/escaped-absolute.txt", b"gotcha")],
    "symlink": [(symlink_entry("link", "/etc"), b"/etc"), ("link/passwd", b"gotcha")],
    "bomb": [("bomb.bin", b"\0" * (50 * 1024 * 1024))],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_hostile_zip_is_refused_and_nothing_is_written_outside(kind, arena, tmp_path):
    archive = hostile(tmp_path / f"{kind}.zip", CASES[kind])
    before = snapshot(arena)
    target = arena / "out"
    with pytest.raises(UnsafeArchive):
        safe_extract(archive, target)
    # Every check runs before the first write: not even the target folder holds anything.
    assert snapshot(arena) - before <= {"out"}
    assert not target.exists() or not any(target.iterdir())
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped-absolute.txt").exists()
    # The command refuses it too, with exit code 1 and the reason.
    done = run_cli("evidence", "verify", str(archive), home=tmp_path / "home")
    assert done.returncode == 1 and "refused to unpack" in done.stderr


def test_total_size_limit(tmp_path):
    archive = hostile(tmp_path / "big.zip", [(f"f{i}.bin", os.urandom(200_000)) for i in range(5)])
    with pytest.raises(UnsafeArchive, match="more than"):
        safe_extract(archive, tmp_path / "out", max_total=500_000)


def test_a_header_that_lies_about_size_is_caught_while_writing(tmp_path):
    archive = hostile(tmp_path / "liar.zip", [("a.txt", b"x" * 5000)])
    data = bytearray(archive.read_bytes())
    # Patch the uncompressed size in the central directory to claim 10 bytes.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises((UnsafeArchive, zipfile.BadZipFile)):
        safe_extract(archive, tmp_path / "out")


def test_zip_is_deterministic(tmp_path):
    folder = tmp_path / "pkg"
    (folder / "b").mkdir(parents=True)
    (folder / "b" / "two.txt").write_text("two")
    (folder / "a.txt").write_text("one")
    first = make_zip(folder, tmp_path / "1.zip").read_bytes()
    os.utime(folder / "a.txt", (0, 0))
    (folder / "a.txt").chmod(0o600)
    second = make_zip(folder, tmp_path / "2.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "1.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.txt", "b/two.txt"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
    extracted = safe_extract(tmp_path / "1.zip", tmp_path / "x")
    assert (extracted / "b" / "two.txt").read_text() == "two"


def test_folder_with_a_symlink_fails_verify(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "link").symlink_to("/etc/passwd")
    result = verify(tmp_path / "pkg")
    assert not result.ok and "symlink" in str(result.problems[0])
