"""The package as one file: a deterministic zip, and an unzip that never writes outside its target.

Deterministic: entries sorted by path, every timestamp 1980-01-01 00:00, mode
0644, one compression level, no extra fields, so the same folder always gives
the same bytes and the zip's own SHA-256 can be quoted in a letter.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MAX_TOTAL = 4 * 1024**3  # 4 GiB unpacked
MAX_RATIO = 200  # deflate rarely beats ~100:1 on real evidence; bombs are 1000:1 and more
MAX_FILES = 100_000
STORED = (".png", ".jpg", ".jpeg", ".pdf", ".zip", ".gz", ".webp")


class UnsafeArchive(ValueError):
    """The zip tries to write outside its target, or would unpack to far more than it holds."""


def files_of(folder: Path) -> list[str]:
    """Every regular file under folder as a '/'-path, sorted. Symlinks are refused, not followed."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in names:
            path = Path(root) / name
            if path.is_symlink():
                raise UnsafeArchive(f"{path.relative_to(folder)}: symlinks have no place in an evidence package")
            out.append(path.relative_to(folder).as_posix())
    return sorted(out)


def make_zip(folder: str | Path, target: str | Path) -> Path:
    folder, target = Path(folder), Path(target)
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(tmp, "w") as archive:
        for rel in files_of(folder):
            info = zipfile.ZipInfo(rel, date_time=FIXED_TIME)
            # PNG, JPEG, PDF and zips are compressed already: deflating them again costs
            # time and saves nothing, so they are stored. Still deterministic: by name.
            info.compress_type = zipfile.ZIP_STORED if rel.lower().endswith(STORED) else zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode below means what it says
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            with open(folder / rel, "rb") as src, archive.open(info, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    os.replace(tmp, target)
    return target


def _check_name(name: str) -> PurePosixPath:
    if "\\" in name or "\0" in name:
        raise UnsafeArchive(f"{name!r}: backslashes and NUL are not allowed in entry names")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"{name!r}: absolute path")
    if ".." in path.parts:
        raise UnsafeArchive(f"{name!r}: '..' would write outside the target folder")
    return path


def safe_extract(
    archive_path: str | Path,
    target: str | Path,
    *,
    max_total: int = MAX_TOTAL,
    max_ratio: float = MAX_RATIO,
    max_files: int = MAX_FILES,
) -> Path:
    """Unzip into target (which must be empty or absent). Every check happens before the
    first byte is written, and sizes are counted again while writing, since a zip's
    headers can lie."""
    target = Path(target)
    with zipfile.ZipFile(archive_path) as archive:
        infos = archive.infolist()
        if len(infos) > max_files:
            raise UnsafeArchive(f"{len(infos)} entries (at most {max_files})")
        total = 0
        for info in infos:
            _check_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(f"{info.filename!r}: symlink")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: no Unix type recorded
                raise UnsafeArchive(f"{info.filename!r}: not a regular file")
            total += info.file_size
            if total > max_total:
                raise UnsafeArchive(f"unpacks to more than {max_total} bytes")
            if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
                raise UnsafeArchive(
                    f"{info.filename!r}: {info.compress_size} bytes unpack to {info.file_size} (zip bomb?)"
                )
        target.mkdir(parents=True, exist_ok=True)
        if any(target.iterdir()):
            raise UnsafeArchive(f"{target}: not empty")
        root = target.resolve()
        written = 0
        for info in infos:
            dest = (root / info.filename).resolve()
            if dest != root and root not in dest.parents:
                raise UnsafeArchive(f"{info.filename!r}: resolves outside the target folder")
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            with archive.open(info) as src, open(dest, "xb") as dst:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    written += len(chunk)
                    if size > info.file_size or written > max_total:
                        raise UnsafeArchive(f"{info.filename!r}: unpacks to more than its header says")
                    dst.write(chunk)
    return target
