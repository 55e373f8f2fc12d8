"""Byte-compile the project before a bench times it, as an installed package is.

`pip install` compiles every module when it installs a package. An editable
install (`make demo`) compiles each module the first time it is imported, and
not at all where PYTHONDONTWRITEBYTECODE is set (it is on some development
machines and CI images): there every run compiles again each module changed
since the last `compileall`, about 10-60 ms of CPU a module. Measured on
2026-12-06 with a few stale modules, `bench_submit.py` printed 1.50 for the
whole process instead of 1.28, timing the compiler rather than the tool.
"""

from __future__ import annotations

import compileall
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "evidence", "bench")


def compile_sources() -> None:
    """Write every module's bytecode that is missing or stale (quick when none is)."""
    for name in PACKAGES:
        if not compileall.compile_dir(REPO / name, quiet=1):
            raise SystemExit(f"bench: {REPO / name} does not compile; fix it before timing it")
