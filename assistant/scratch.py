"""The run's own folder for temporary files: raw HAR, trace, fitted copies, browser profile.

Raw network data holds session cookies and typed passwords until it is
scrubbed, so it never goes to the shared /tmp: each run writes under
`<home>/tmp/run-<pid>-<random>/`, removes that folder on every exit, and
sweeps the folders of runs that died (SIGKILL, power loss) before it starts.
The browser driver is a child process that inherits TMPDIR when
sync_playwright() starts it, which is what moves Chromium's
`playwright_chromiumdev_profile-*` folders in here too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

RUN = re.compile(r"^run-(\d+)-")


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
    if not root.is_dir():
        return removed
    for folder in root.iterdir():
        found = RUN.match(folder.name)
        if found and int(found.group(1)) != os.getpid() and not _alive(int(found.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def run_folder(home: Path) -> Iterator[Path]:
    """A private folder for this run's temporary files, with TMPDIR pointed at it."""
    sweep(home)
    root = home / "tmp"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        shutil.rmtree(folder, ignore_errors=True)
