"""`assistant cases` on large journals: time and peak memory as the journal grows.

Builds journals of 1,000, 10,000 and 100,000 cases (each with one confirmed
submission, two lines of history, a reply on every third and a note on every
fifth), written straight into the journal's tables in one transaction each
(the Store API journals one submission per fsynced transaction: right for a
person, hours for a bench), then times, as fresh processes:

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
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.store import Store

NOW = "2026-12-01T10:00:00+00:00"


def build(home: Path, size: int) -> None:
    with Store(home):  # the schema, at its current version
        pass
    db = sqlite3.connect(home / "assistant.db")
    case = json.dumps({"provider": "demo", "category": "payment", "subject": "Charged twice"})
    with db:
        db.executemany(
            "INSERT INTO cases(id, matter, provider, order_id, category, subject, language, status, created_at, "
            "updated_at, case_json) VALUES (?, ?, 'demo', ?, 'payment', 'Charged twice', 'en', ?, ?, ?, ?)",
            (
                (i, f"demo:{i}", f"DM-{i}", "open" if i % 10 == 0 else "closed", NOW, NOW, case)
                for i in range(1, size + 1)
            ),
        )
        db.executemany(
            "INSERT INTO submissions(case_key, provider, category, subject, order_id, channel, flow_id, "
            "flow_version, flow_sha256, status, confirmation, submitted_at, confirmed_at, case_json, case_id, "
            "kind, due_at) VALUES (?, 'demo', 'payment', 'Charged twice', ?, 'web_form', 'demo', '1', 'x', "
            "'confirmed', ?, ?, ?, ?, ?, 'request', ?)",
            (
                (f"k{i}", f"DM-{i}", f"DEMO-{i:06d}", NOW, NOW, case, i, f"2026-12-{1 + i % 28:02d}T20:59:00+03:00")
                for i in range(1, size + 1)
            ),
        )
        db.executemany(
            "INSERT INTO status_history(case_id, status, at, note) VALUES (?, 'open', ?, ?)",
            ((i, NOW, note) for i in range(1, size + 1) for note in ("opened", "request via web_form")),
        )
        db.executemany(
            "INSERT INTO replies(case_id, number, text, received_at, recorded_at) VALUES (?, NULL, 'We are looking', ?, ?)",
            ((i, NOW, NOW) for i in range(1, size + 1, 3)),
        )
        db.executemany(
            "INSERT INTO notes(case_id, at, text) VALUES (?, ?, 'called them')",
            ((i, NOW) for i in range(1, size + 1, 5)),
        )
    db.close()


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
