"""`assistant submit demo` against hand-written Playwright scripts, side by side.

Four programs file the same sample case with the same browser on the same
demo portal, each as a fresh process, in rotating order round after round so
machine noise hits all alike:

  * the tool, with its whole evidence package, sealed with no timestamp
    authority (--tsa none), as the scripts are;
  * the same, sealed with two timestamp authorities on 127.0.0.1 (the tests'
    own, tests/tsa_server.py): what trusted time adds, after the number;
  * bench/minimal_submit.py: only the page actions and the flow's four
    captures, the least a person would script (the baseline of the targets);
  * bench/handwritten_submit.py: the same plus a screenshot after every action
    (the baseline of earlier measurements, kept for comparison).

For each it measures the whole process (wall and CPU time, the browser and
Playwright's driver included) and the time from start until the request number
appears on its stdout, and prints the ratio of medians against the minimal
script (targets: whole <= 1.15, to the number <= 1.10). Also times
`assistant --help` (target: under 0.2 s).

    .venv/bin/python bench/bench_submit.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from compiled import compile_sources

from assistant.sites.demo.portal import DemoPortal

REPO = Path(__file__).resolve().parent.parent
CASE = REPO / "flows" / "samples" / "demo-case.yaml"
NUMBER = re.compile(r"DEMO-\d{6}")


@dataclass
class Run:
    wall: float  # start to exit, seconds
    to_number: float  # start to the line with the request number on stdout
    cpu: float  # user + system seconds of the process and everything it waited for


def timed(args: list[str]) -> Run:
    """Run args; note when the request number shows on stdout, and what the process tree cost.

    CPU time is the growth of this process's RUSAGE_CHILDREN: the child and every
    descendant it reaped (Playwright's driver reaps the browser), one run at a time."""
    with tempfile.TemporaryFile() as errors:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL)
        to_number = None
        out = []
        assert child.stdout is not None
        for raw in child.stdout:  # line by line, as the process writes them
            line = raw.decode("utf-8", "replace")
            out.append(line)
            if to_number is None and NUMBER.search(line):
                to_number = time.perf_counter() - start
        code = child.wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if code != 0 or to_number is None:
            errors.seek(0)
            sys.exit(f"run failed: {' '.join(args)}\n{''.join(out)}\n{errors.read().decode('utf-8', 'replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, to_number, cpu)


def med(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in runs)


def show(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def spread(runs: list[Run], baseline: list[Run], attribute: str) -> str:
    """Each round's ratio (the tool's run against the script's of the same round, minutes apart
    at most), lowest, median and highest: how far the machine alone moves the ratio."""
    ratios = sorted(getattr(r, attribute) / getattr(b, attribute) for r, b in zip(runs, baseline, strict=True))
    return f"{ratios[0]:.2f} / {statistics.median(ratios):.2f} / {ratios[-1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = max(1, parser.parse_args().rounds)
    compile_sources()
    load_before = os.getloadavg()
    # Two timestamp authorities on 127.0.0.1 (the tests' own), for the line that seals with them.
    sys.path.insert(0, str(REPO / "tests"))
    from tsa_server import TimestampServer

    with (
        DemoPortal() as portal,
        TimestampServer() as first,
        TimestampServer() as second,
        tempfile.TemporaryDirectory() as tmp,
    ):
        tool = [
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
        programs = {
            # The targets' line: sealed with no authority, as the scripts are.
            "assistant submit demo": lambda i: [*tool, "--tsa", "none"],
            "  with 2 local authorities": lambda i: [*tool, "--tsa", first.url, "--tsa", second.url],
            "minimal Playwright script": lambda i: [
                sys.executable,
                str(REPO / "bench" / "minimal_submit.py"),
                portal.url,
                f"{tmp}/minimal{i}",
            ],
            "per-action-shot script": lambda i: [
                sys.executable,
                str(REPO / "bench" / "handwritten_submit.py"),
                portal.url,
                f"{tmp}/hand{i}",
            ],
        }
        names = list(programs)
        for name in names:  # warm the disk cache and the signing key; not counted
            timed(programs[name](-1))
        runs: dict[str, list[Run]] = {name: [] for name in names}
        for i in range(rounds):
            order = names[i % len(names) :] + names[: i % len(names)]  # rotate who goes first
            for name in order:
                runs[name].append(timed(programs[name](i)))
    load_after = os.getloadavg()

    tool, stamped, minimal, hand = (runs[name] for name in names)
    print(
        f"submit demo, {rounds} rounds (rotating order), medians; load average {load_before[0]:.2f} → {load_after[0]:.2f}"
    )
    print(f"  {'':28} {'whole':>7} {'to number':>10} {'CPU':>7}")
    for name in names:
        print(
            f"  {name:28} {med(runs[name], 'wall'):6.2f}s {med(runs[name], 'to_number'):9.2f}s {med(runs[name], 'cpu'):6.2f}s"
        )
        print(f"  {'':28} whole: {show([r.wall for r in runs[name]])}")
        print(f"  {'':28} to number: {show([r.to_number for r in runs[name]])}")
    print("ratios against the minimal script (of the medians; then each round's own, lowest to highest):")
    for label, attribute, target in (
        ("whole process", "wall", "(target <= 1.15)"),
        ("to the number", "to_number", "(target <= 1.10)"),
        ("CPU", "cpu", ""),
    ):
        ratio = med(tool, attribute) / med(minimal, attribute)
        print(f"  {label:16} {ratio:5.2f}   {target:16}  rounds: {spread(tool, minimal, attribute)}")
    print("sealing with two local timestamp authorities (asked at once, after the number):")
    print(f"  whole process    {med(stamped, 'wall') / med(tool, 'wall'):5.2f} × the same run without")
    print(f"  to the number    {med(stamped, 'to_number') / med(tool, 'to_number'):5.2f} × the same run without")
    print("ratio against the per-action-shot script (the earlier baseline):")
    print(f"  whole process    {med(tool, 'wall') / med(hand, 'wall'):5.2f}")

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
    print(f"assistant --help median {hm:.3f} s (bare python start {bm:.3f} s; target < 0.200 s)")


if __name__ == "__main__":
    main()
