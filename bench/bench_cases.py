"""`assistant cases` on large journals: time and peak memory as the journal grows.

Builds journals of 1,000, 10,000 and 100,000 cases through the Store API
(each with one confirmed submission, its history, a reply on every third, a
note on every fifth, nine in ten closed; the bench's connection does not wait
for the disk, see build()), then times, as fresh processes:

  * `assistant cases`                the list's first page (open cases first)
  * `assistant cases due`            what is overdue or due soon
  * `assistant cases show NUMBER`    one case, found by a request number
  * `assistant cases --all`          every case
  * `assistant cases --json --all`   every case with its history, replies and notes

and prints each one's wall time, peak memory (max RSS of the process), and
the growth factor from one size to the next (10x the cases should cost about
10x the time: linear, not quadratic; a page, a due list and one case should
not grow at all). Targets: `cases`, `cases due`, `cases show` under 0.5 s at
100,000 cases; `cases --json --all` under 10 s in under 200 MB.

    .venv/bin/python bench/bench_cases.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compiled import compile_sources

from assistant.store import Store

NOW = "2026-12-01T10:00:00+00:00"


def build(home: Path, size: int) -> None:
    """A journal of `size` cases, filled through the Store API as the commands fill it: each case
    journalled (begin), confirmed, a reply on every third, nine in ten closed. The one thing
    changed is the bench's own connection not waiting for the disk (synchronous=OFF): a person's
    journal waits for it at every step, which would make 100,000 cases take hours here."""

    flow = {"id": "demo", "version": "1", "sha256": "x", "channel": "web_form"}
    with Store(home) as store:
        store.db.execute("PRAGMA synchronous=OFF")
        for i in range(1, size + 1):
            case = {"provider": "demo", "category": "payment", "subject": "Charged twice", "order_id": f"DM-{i}"}
            case["language"] = "en"
            submission = store.begin(
                case_key=f"k{i}",
                case=case,
                flow=flow,
                evidence_dir="/tmp/evidence",
                due_at=f"2026-12-{1 + i % 28:02d}T20:59:00+03:00",
            )
            store.confirm(submission, f"DEMO-{i:06d}", None)
            case_id = i  # one case per matter, in order
            if i % 3 == 0:
                store.add_reply(case_id, number=None, text="We are looking into it", received_at=NOW)
            if i % 5 == 0:
                store.add_note(case_id, "called them")
            if i % 10:
                store.set_status(case_id, "closed", "solved")


def timed(args: list[str], home: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of the CLI (os.wait4: that process's own usage)."""
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "assistant", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"assistant {' '.join(args)} failed (exit {child.returncode})")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    compile_sources()
    commands = {
        "cases": ["cases"],
        "cases due": ["cases", "due"],
        "cases show": ["cases", "show", "DEMO-000777"],
        "cases --all": ["cases", "--all"],
        "cases --json --all": ["cases", "--json", "--all"],
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            home = Path(folder) / str(size)
            built = time.perf_counter()
            build(home, size)
            print(f"{size:>7} cases built in {time.perf_counter() - built:.1f} s", flush=True)
            for name, args in commands.items():
                results[name].append(timed(args, home))
    print(f"\n{'':<16}" + "".join(f"{size:>18,}" for size in sizes) + "   growth from size to size")
    for name, runs in results.items():
        cells = "".join(f"{wall:>9.2f} s {peak:>5.0f} MB" for wall, peak in runs)
        growth = ", ".join(f"{b[0] / a[0]:.1f}x" for a, b in zip(runs, runs[1:], strict=False))
        print(f"{name:<16}{cells}   {growth}")


if __name__ == "__main__":
    main()
