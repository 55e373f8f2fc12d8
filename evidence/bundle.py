"""The package as one file: a deterministic zip, and an unzip that never writes outside its target.

Deterministic: entries sorted by path, every timestamp 1980-01-01 00:00, mode
0644, one compression level, no extra fields, so the same folder always gives
the same bytes and the zip's own SHA-256 can be quoted in a letter.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MAX_TOTAL = 4 * 1024**3  # 4 GiB unpacked
MAX_RATIO = 200  # deflate rarely beats ~100:1 on real evidence; bombs are 1000:1 and more
# The whole zip: a package is mostly PNG and JPEG, stored as they are, so it unpacks to
# about its own size; many small bombs that each pass MAX_RATIO do not.
MAX_TOTAL_RATIO = 50
RATIO_FLOOR = 16 * 1024**2  # below this much unpacked, no ratio is worth refusing
MAX_FILES = 100_000
# A package's deepest file is screenshots/stamped/NAME or attachments/fitted/NAME; a path past
# this makes the checks below quadratic and the walks through the folder run out of stack.
MAX_DEPTH = 16
STORED = (".png", ".jpg", ".jpeg", ".pdf", ".zip", ".gz", ".webp")


class UnsafeArchive(ValueError):
    """The zip tries to write outside its target, or would unpack to far more than it holds."""


def _refuse_odd(path: Path, rel: str) -> None:
    """Only regular files and folders belong in a package: a symlink (to a file, to a folder,
    dangling) would make the check read what is not in it, and a FIFO would hang it."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        raise UnsafeArchive(f"{rel}: symlinks have no place in an evidence package")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UnsafeArchive(f"{rel}: not a regular file (a FIFO, socket or device) in an evidence package")


def files_of(folder: Path) -> list[str]:
    """Every regular file under folder as a '/'-path, sorted. A symlink or another special file
    anywhere inside is refused, not followed or skipped."""
    out: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        depth = len(Path(root).relative_to(folder).parts)
        if dirs and depth + 1 >= MAX_DEPTH:  # before os.walk goes down them: it recurses
            deep = (Path(root) / dirs[0]).relative_to(folder).as_posix()
            raise UnsafeArchive(f"{deep[:80]}…: folders {depth + 1} deep (a package's are at most {MAX_DEPTH - 1})")
        for name in [*dirs, *names]:
            path = Path(root) / name
            _refuse_odd(path, path.relative_to(folder).as_posix())
        out.extend((Path(root) / name).relative_to(folder).as_posix() for name in names)
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


# Characters no name of an honest package has: controls, and the invisible ones (zero-width,
# bidi overrides, soft hyphen) that make "manifest.json" and a forged look-alike read the same.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _check_name(name: str) -> PurePosixPath:
    if "\\" in name or "\0" in name:
        raise UnsafeArchive(f"{name!r}: backslashes and NUL are not allowed in entry names")
    if INVISIBLE.search(name):
        raise UnsafeArchive(f"{name!r}: control or invisible characters in an entry name")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"{name!r}: absolute path")
    if ".." in path.parts:
        raise UnsafeArchive(f"{name!r}: '..' would write outside the target folder")
    if not path.parts or path.parts == (".",):
        raise UnsafeArchive(f"{name!r}: an entry with no name")
    if len(path.parts) > MAX_DEPTH:
        raise UnsafeArchive(
            f"{name[:80]!r}…: folders {len(path.parts) - 1} deep (a package's are at most {MAX_DEPTH - 1})"
        )
    return path


def _check_entries(infos: list[zipfile.ZipInfo], max_total: int, max_ratio: float, max_files: int) -> None:
    """Everything that can be known from the zip's directory, before anything is written."""
    if len(infos) > max_files:
        raise UnsafeArchive(f"{len(infos)} entries (at most {max_files})")
    total = packed = 0
    files: dict[PurePosixPath, str] = {}
    folders: dict[PurePosixPath, str] = {}
    looks: dict[PurePosixPath, str] = {}
    for info in infos:
        path = _check_name(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeArchive(f"{info.filename!r}: symlink")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: no Unix type recorded
            raise UnsafeArchive(f"{info.filename!r}: not a regular file")
        # Two entries for one path (a duplicate, or 'a/./b' beside 'a/b'), or a path that is
        # a file in one entry and a folder in another ('foo' and 'foo/', 'foo' and 'foo/bar'):
        # no honest zip has them, and unpacking one would overwrite or fail on the other.
        for parent in path.parents:
            if parent != PurePosixPath("."):
                if parent in files:
                    raise UnsafeArchive(f"{info.filename!r}: {files[parent]!r} is a file, not a folder")
                folders.setdefault(parent, info.filename)
        if info.is_dir():
            if path in files:
                raise UnsafeArchive(f"{info.filename!r}: {files[path]!r} is a file of the same name")
            folders.setdefault(path, info.filename)
            continue
        if path in files:
            raise UnsafeArchive(f"{info.filename!r}: the zip holds {files[path]!r} twice")
        # Names one file system keeps apart and another makes one file (case on macOS and
        # Windows, composed and decomposed letters on macOS): whichever is unpacked last wins.
        alike = PurePosixPath(unicodedata.normalize("NFC", str(path)).casefold())
        if alike in looks:
            raise UnsafeArchive(f"{info.filename!r}: a look-alike of {looks[alike]!r} (same name but for case or form)")
        looks[alike] = info.filename
        if path in folders:
            raise UnsafeArchive(f"{info.filename!r}: {folders[path]!r} makes it a folder too")
        files[path] = info.filename
        total += info.file_size
        packed += info.compress_size
        if total > max_total:
            raise UnsafeArchive(f"unpacks to more than {max_total} bytes")
        if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise UnsafeArchive(f"{info.filename!r}: {info.compress_size} bytes unpack to {info.file_size} (zip bomb?)")
    if total > RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(packed, 1):
        raise UnsafeArchive(f"{packed} bytes unpack to {total} in {len(files)} files (zip bomb?)")


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
    headers can lie. Whatever is wrong with the zip ends in UnsafeArchive, one line."""
    try:
        return _extract(Path(archive_path), Path(target), max_total, max_ratio, max_files)
    except UnsafeArchive:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # a broken directory, a bad CRC, an encrypted entry, a method zipfile cannot read
        raise UnsafeArchive(
            f"not a readable zip ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    except OSError as exc:
        raise UnsafeArchive(f"cannot unpack it: {exc.strerror or exc}") from None


def _extract(archive_path: Path, target: Path, max_total: int, max_ratio: float, max_files: int) -> Path:
    with open(archive_path, "rb") as handle:
        start = handle.read(4)
    if start != b"PK\x03\x04":
        # A zip is read from its end: bytes stitched in front (a PDF's first page, say) leave it
        # readable while `file` and a viewer call it something else. This tool writes none.
        raise UnsafeArchive("it does not begin with the package's first entry: something was put in front of the zip")
    with zipfile.ZipFile(archive_path) as archive:
        if archive.comment:
            # `unzip` prints a zip's comment as if it were part of the package; no signature covers it.
            shown = archive.comment[:60].decode("utf-8", "replace").encode("ascii", "replace").decode()
            raise UnsafeArchive(
                f"the zip carries a comment ({shown!r}) that no signature covers; this tool writes none"
            )
        infos = archive.infolist()
        _check_entries(infos, max_total, max_ratio, max_files)
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
