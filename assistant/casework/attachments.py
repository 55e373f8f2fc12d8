"""The case's files, read once: what is checked is what is sent.

A case names files in a folder others may write to (a shared or synced folder, the person's
other programs). Read again at each use, a file swapped after the checks (a symlink to a
key, another picture) would be what the site receives while the package keeps the first.
So before anything else a run opens each attachment once, without following a link in its
last part, makes sure the file it opened is the one the case was checked with, and copies
it into the run's own folder, hashing as it goes. From then on the run reads only the copy:
the fitting, the evidence package, the upload, the email.

Also here: the verdict on a case's files against a flow's limits that can be given from
their sizes and first bytes alone, so that `assistant check` and `assistant submit` give the
same one without reading a large file whole.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from pathlib import Path

from assistant.errors import InputError
from assistant.language.case import MAX_ATTACHMENT_BYTES, Case, megabytes
from assistant.language.flow import Flow
from evidence.fit import CannotFit, Limits, precheck

CHUNK = 1 << 20


def limits_of(flow: Flow) -> Limits:
    """The flow's attachment rules, as evidence.fit takes them."""
    rules = flow.attachments
    extensions = list(rules.extensions) if rules.extensions is not None else None
    return Limits(list(rules.media_types), rules.max_bytes, rules.max_files, extensions, rules.latin_names)


def refusal_words(exc: CannotFit, flow: Flow) -> str:
    """A CannotFit as the person reads it: what the flow takes, beside why their file does not fit."""
    rules = flow.attachments
    named = f" named {', '.join(rules.extensions)}" if rules.extensions is not None else ""
    return (
        f"{exc} ({flow.id} takes {', '.join(rules.media_types)}{named}, "
        f"at most {rules.max_bytes} bytes each, {rules.max_files} files)"
    )


def refusal(case: Case, flow: Flow) -> str | None:
    """Why the flow can never take the case's files, judged without reading them (None: it may)."""
    try:
        precheck(list(case.attachments), limits_of(flow))
    except CannotFit as exc:
        return refusal_words(exc, flow)
    return None


def stage(case: Case, folder: Path) -> Case:
    """The case with its attachments copied into `folder` (the run's own, private): each file
    opened once, checked to be the file the case was loaded with, copied and hashed. Names stay
    as the person gave them; a name given twice gets -2, -3 before its ending."""
    if not case.attachments:
        return case
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    copies: list[Path] = []
    digests: dict[str, str] = {}
    taken: set[str] = set()
    for index, original in enumerate(case.attachments):
        where = f"{case.where('attachments', index)}: attachments[{index}]"
        target = folder / _unique(original.name, taken)
        digests[str(target)] = _copy(original, target, where)
        copies.append(target)
    return case.with_copies(copies, digests)


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        path = Path(name)
        candidate = f"{path.stem}-{number}{path.suffix}"
    taken.add(candidate.lower())
    return candidate


def _copy(original: Path, target: Path, where: str) -> str:
    changed = f"{where}: {original} changed after the case was checked"
    # No link followed in the last part; a FIFO swapped in does not hold the run (O_NONBLOCK).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        source = os.open(original, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{changed} (it is now a link); nothing was sent: check the case's folder") from None
        raise InputError(f"{where}: cannot read {original}: {exc.strerror}; nothing was sent") from None
    try:
        info = os.fstat(source)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{changed} (it is no longer a regular file); nothing was sent")
        opened = _path_of(source)
        if opened is not None and opened != original:
            raise InputError(f"{changed} (a folder on its way now leads to {opened}); nothing was sent")
        os.set_blocking(source, True)
        digest = hashlib.sha256()
        copied = 0
        with open(target, "xb") as out:
            while chunk := os.read(source, CHUNK):
                copied += len(chunk)
                if copied > MAX_ATTACHMENT_BYTES:
                    raise InputError(
                        f"{changed} (it grew past {megabytes(MAX_ATTACHMENT_BYTES)} while it was read); nothing was sent"
                    )
                digest.update(chunk)
                out.write(chunk)
        os.chmod(target, 0o600)
        # The file's own time, for what it says of its date (casework.compose.file_date).
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    finally:
        os.close(source)
    return digest.hexdigest()


def _path_of(fd: int) -> Path | None:
    """The path the open file has now, as the kernel knows it; None where it cannot tell."""
    if sys.platform.startswith("linux"):
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return None
    if sys.platform == "darwin":
        import fcntl

        try:
            raw = fcntl.fcntl(fd, 50, b"\0" * 1024)  # F_GETPATH
            return Path(raw.split(b"\0", 1)[0].decode())
        except OSError:
            return None
    return None
