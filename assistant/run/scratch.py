"""The run's own folder for temporary files: raw HAR, trace, fitted copies, browser profile.

Raw network data holds session cookies and typed passwords until it is
scrubbed, so it never goes to the shared /tmp: each run writes under
`<home>/tmp/run-<pid>-<random>/`, removes that folder on every exit, and
sweeps the folders of runs that died (SIGKILL, power loss) before it starts.
The browser driver is a child process that inherits TMPDIR when
sync_playwright() starts it, which is what moves Chromium's
`playwright_chromiumdev_profile-*` folders in here too; it also inherits
NODE_COMPILE_CACHE (`<home>/cache/node`, kept between runs).

Chromium puts a Unix socket under TMPDIR and dies if that path passes the
kernel's 107 bytes; a deep home then gets a short symlink in the system temp
folder (`assistant-run-<pid>-…`, pointing here, holding nothing itself).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUN = re.compile(r"^run-(\d+)-")
# What a run's browser may write to this machine's disk (its profile, the network log, what a
# page stores), the case's own files aside: past it the run is stopped (netguard.Guard.watch_disk).
# Downloads are refused outright; a run with none of this writes a few MB.
BROWSER_BYTES = 512 * 1024 * 1024
CASE_FILES = ("attachments", "fitted")  # the case's copies in a run folder: sized before they are written
LINK = re.compile(r"^assistant-run-(\d+)-")
# Chromium's socket is TMPDIR + "/org.chromium.Chromium.XXXXXX/SingletonSocket" (45 bytes), at most 107
# in all; keep a margin for longer names in other Chromium versions.
MAX_TMPDIR = 48


def browser_usage(workdir: Path) -> int:
    """Bytes in this process's run folders (a warm start has one of its own beside `workdir`),
    the case's own files aside."""
    total = 0
    stack = [f for f in workdir.parent.glob(f"run-{os.getpid()}-*") if f.is_dir()]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # removed meanwhile
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in CASE_FILES or Path(entry.path).parent.parent != workdir.parent:
                        stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, not ours to judge
        return True
    return True


def sweep(home: Path) -> list[Path]:
    """Remove the run folders of processes that are gone; returns what was removed."""
    root = home / "tmp"
    removed = []
    if root.is_dir():
        for folder in root.iterdir():
            found = RUN.match(folder.name)
            if found and int(found.group(1)) != os.getpid() and not _alive(int(found.group(1))):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    system = Path(tempfile.gettempdir())
    for link in system.glob("assistant-run-*"):
        found = LINK.match(link.name)
        if found and link.is_symlink() and not _alive(int(found.group(1))) and not link.exists():
            try:
                link.unlink()  # points into a swept run folder of ours
                removed.append(link)
            except OSError:
                pass
    return removed


def _short(folder: Path) -> Path | None:
    """A short name for `folder` when Chromium could not put its socket in it."""
    if len(str(folder)) <= MAX_TMPDIR:
        return None

    system = Path(tempfile.gettempdir())
    for _ in range(10):
        link = system / f"assistant-run-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            link.symlink_to(folder, target_is_directory=True)
            return link
        except FileExistsError:
            continue
    return None


@contextmanager
def run_folder(home: Path) -> Iterator[Path]:
    """A private folder for this run's temporary files, with TMPDIR pointed at it."""
    tempfile.gettempdir()  # fixes Python's own temp folder before TMPDIR changes (it is cached)
    sweep(home)
    root = home / "tmp"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
    link = _short(folder)
    changes = {"TMPDIR": str(link or folder)}
    if "NODE_COMPILE_CACHE" not in os.environ:
        # Playwright's driver is Node: its compiled code, kept between runs, starts it
        # a tenth of a second sooner. (Node checks each entry against the file it came from.)
        cache = home / "cache" / "node"
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        changes["NODE_COMPILE_CACHE"] = str(cache)
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield folder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)
        if link is not None:
            try:
                link.unlink()
            except OSError:
                pass
