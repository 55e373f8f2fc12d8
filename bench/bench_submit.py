"""`assistant submit demo` against a hand-written Playwright script, side by side.

Both run as fresh processes against the same demo portal, alternating, so
machine noise hits both alike. Prints the median of each and their ratio
(target: at most 1.3). Also times `assistant --help` (target: under 0.3 s).

    .venv/bin/python bench/bench_submit.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.sites.demo.portal import DemoPortal

REPO = Path(__file__).resolve().parent.parent
CASE = REPO / "flows" / "samples" / "demo-case.yaml"


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "DEMO-" not in done.stdout:
        sys.exit(f"run failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    tool, hand = [], []
    with DemoPortal() as portal, tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            tool.append(
                timed(
                    [
                        sys.executable,
                        "-m",
                        "assistant",
                        "--home",
                        f"{tmp}/home",
                        "submit",
                        "demo",
                        "--case",
                        str(CASE),
                        "--base-url",
                        portal.url,
                        "--yes",
                        "--force",
                    ]
                )
            )
            hand.append(
                timed([sys.executable, str(REPO / "bench" / "handwritten_submit.py"), portal.url, f"{tmp}/hand{i}"])
            )
    t, h = statistics.median(tool), statistics.median(hand)
    print(f"submit demo, {rounds} rounds each, median wall time:")
    print(f"  assistant submit demo   {t:6.2f} s   (all: {', '.join(f'{x:.2f}' for x in tool)})")
    print(f"  hand-written Playwright {h:6.2f} s   (all: {', '.join(f'{x:.2f}' for x in hand)})")
    print(f"  ratio                   {t / h:6.2f}   (target <= 1.30)")

    helps = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant", "--help"], capture_output=True, check=True)
        helps.append(time.perf_counter() - start)
    bare = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append(time.perf_counter() - start)
    hm, bm = statistics.median(helps), statistics.median(bare)
    print(f"assistant --help median {hm:.3f} s (bare python start {bm:.3f} s; target < 0.300 s)")


if __name__ == "__main__":
    main()
