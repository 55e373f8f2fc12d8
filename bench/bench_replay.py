"""`assistant replay` with 1, 2 and 4 workers against the naive way, side by side.

The naive way is `assistant flow test`: one flow after another, a new browser
for each. Both are run as whole commands (fresh processes, as a tester or CI
runs them) over the same flows: every flow with a `test:` block, copied
`--copies` times under new ids so that there is work enough to spread.

The commands take turns (naive, 1 worker, 2 workers, … then again) for
`--rounds` rounds, and the median of each is printed, so that a slow moment of
the machine falls on all of them alike.

Printed:
  * wall time, flows per minute and the speed-up over the naive way for each,
    and the CPU time the whole machine spent meanwhile (/proc/stat: Chromium's
    renderers are not the command's children once their zygote is, so the
    command's own rusage misses most of them; run it on a quiet machine);
  * the peak memory (PSS) of the whole process tree (Python, Playwright's
    drivers, the browsers) and what each worker past the first adds, from a
    separate, untimed run of each (reading every process's smaps costs about
    50 ms of CPU a time, which would slow the timed runs down);
  * per flow, the time one flow takes inside a replay (one worker: its browser
    already running) against the same flow's `flow test` time less a browser
    launch (measured alone), and their ratio.

Targets (issue "Testers and distribution"): >= 1.8x the naive way at 2
workers on a 2-core machine, and per-flow cost in replay <= 1.2x the flow's
`flow test` time without its browser launch.

    .venv/bin/python bench/bench_replay.py [--copies 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compiled import compile_sources

from assistant.language.flow import all_flow_files, load_flow

REPO = Path(__file__).resolve().parent.parent
ASSISTANT = [sys.executable, "-m", "assistant"]


def tree_memory(root: int) -> int:
    """Memory of a process and all its descendants, in bytes: the sum of their PSS (Linux
    /proc/PID/smaps_rollup), which shares each shared page out among the processes that map it,
    so the browsers' common libraries are not counted once per process as RSS would."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as status:
                for line in status:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, machine CPU seconds meanwhile, stdout) of one command."""
    busy = machine_busy()
    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    cpu = machine_busy() - busy
    out = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[2:5])}… failed (exit {done.returncode}):\n{out}")
    return wall, cpu, out


def peak_memory(args: list[str], env: dict[str, str]) -> int:
    """The peak memory (PSS) of one command's process tree, sampled every 0.2 s."""
    peak = 0
    child = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env
    )
    while child.poll() is None:
        peak = max(peak, tree_memory(child.pid))
        time.sleep(0.2)
    return peak


def copies_of_the_flows(folder: Path, copies: int) -> dict[str, str]:
    """Every flow with a test: block, `copies` times under new ids; new id → the original's id."""
    (folder / "samples").mkdir(parents=True)
    originals: dict[str, str] = {}
    for path in all_flow_files():
        flow = load_flow(path)
        if flow.channel != "web_form" or flow.test is None:
            continue
        case = flow.sample_case()
        for sample in case.parent.iterdir():  # the sample case and the files it attaches
            if sample.is_file() and not (folder / "samples" / sample.name).exists():
                shutil.copy(sample, folder / "samples" / sample.name)
        text = path.read_text(encoding="utf-8")
        replica = flow.test.replica
        if not replica.startswith("builtin:"):
            text = text.replace(replica, os.path.relpath(flow.beside(replica), folder))
        text = text.replace(flow.test.case, f"samples/{case.name}")
        for n in range(1, copies + 1):
            copy_id = f"{flow.id}-{n}"
            (folder / f"{copy_id}.yaml").write_text(
                re.sub(rf"(?m)^id: {re.escape(flow.id)}\s*$", f"id: {copy_id}", text), encoding="utf-8"
            )
            originals[copy_id] = flow.id
    return originals


def launch_seconds(rounds: int = 3) -> float:
    """A browser launch and close alone, as `flow test` pays it for every flow."""
    from assistant.run.browser import open_browser

    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with open_browser():
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="Copies of each flow (default 3).")
    parser.add_argument("--workers", default="1,2,4", help="Worker counts to try (default 1,2,4).")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of all the commands in turn (default 3).")
    options = parser.parse_args()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as scratch:
        flows = Path(scratch) / "flows"
        originals = copies_of_the_flows(flows, options.copies)
        files = [str(flows / f"{name}.yaml") for name in sorted(originals)]
        env = {**os.environ, "ASSISTANT_HOME": str(Path(scratch) / "home"), "NO_COLOR": "1"}
        print(
            f"{len(files)} flows ({len(set(originals.values()))} flows x {options.copies} copies), "
            f"{os.cpu_count()} cores, {options.rounds} rounds"
        )
        commands = {"naive: flow test, a browser per flow": [*ASSISTANT, "flow", "test", *files, "--json"]}
        for workers in [int(w) for w in options.workers.split(",")]:
            out_dir = Path(scratch) / f"out-{workers}"
            commands[f"replay --workers {workers}"] = [
                *ASSISTANT,
                "replay",
                *files,
                "--workers",
                str(workers),
                "--output",
                str(out_dir),
                "--json",
            ]
        walls: dict[str, list[float]] = {label: [] for label in commands}
        cpus: dict[str, list[float]] = {label: [] for label in commands}
        naive: dict[str, list[float]] = {}
        per_flow: dict[str, list[float]] = {}
        for _ in range(options.rounds):
            for label, args in commands.items():
                wall, cpu, out = run(args, env)
                walls[label].append(wall)
                cpus[label].append(cpu)
                if label.startswith("naive"):
                    for r in json.loads(out):
                        naive.setdefault(r["flow"], []).append(r["seconds"])
                elif label == "replay --workers 1":
                    records = json.loads(out)["flows"]
                    first = min(records, key=lambda r: r["flow"])  # sorted by id: the first paid the launch
                    for r in records:
                        if r is not first:
                            per_flow.setdefault(r["flow"], []).append(r["seconds"])
        peaks = {label: peak_memory(args, env) for label, args in commands.items()}
        launch = launch_seconds()

    rows = [
        (label, statistics.median(walls[label]), statistics.median(cpus[label]), peaks[label]) for label in commands
    ]
    naive_wall, naive_cpu = rows[0][1], rows[0][2]
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print(f"{'':40} {'wall s':>8} {'flows/min':>10} {'vs naive':>9} {'CPU s':>7} {'CPU/flow':>9} {'peak MB':>9}")
    base_peak = None
    for label, wall, cpu, peak in rows:
        print(
            f"{label:40} {wall:8.1f} {len(files) / wall * 60:10.1f} {naive_wall / wall:8.2f}x {cpu:7.1f} "
            f"{cpu / len(files):9.2f} {peak / 2**20:9.0f}"
        )
        if label == "replay --workers 1":
            base_peak = peak
    print("wall s of each round: " + "; ".join(f"{k}: {', '.join(f'{w:.1f}' for w in v)}" for k, v in walls.items()))
    if base_peak is not None:
        for label, _, _, peak in rows:
            found = re.search(r"--workers (\d+)", label)
            if found and int(found.group(1)) > 1:
                extra = int(found.group(1)) - 1
                print(f"memory per extra worker ({label}): {(peak - base_peak) / extra / 2**20:.0f} MB")
    for label, _, cpu, _ in rows[1:]:
        print(f"{label}: CPU per flow {cpu / naive_cpu:.2f}x the naive way's")

    print()
    print(f"browser launch alone: {launch:.2f} s (median of 3)")
    print(f"{'flow':22} {'flow test s':>12} {'- launch':>9} {'in replay':>10} {'ratio':>6}")
    ratios = []
    for flow_id in sorted(set(originals.values())):
        tested = statistics.median(t for name, ts in naive.items() if originals[name] == flow_id for t in ts)
        replayed_times = [t for name, ts in per_flow.items() if originals[name] == flow_id for t in ts]
        if not replayed_times:
            continue
        replayed = statistics.median(replayed_times)
        without = max(tested - launch, 0.001)
        ratios.append(replayed / without)
        print(f"{flow_id:22} {tested:12.2f} {without:9.2f} {replayed:10.2f} {replayed / without:6.2f}")
    if ratios:
        print(
            f"per-flow cost in replay / flow test without launch: median {statistics.median(ratios):.2f} (target <= 1.2)"
        )
    two = next((naive_wall / wall for label, wall, _, _ in rows if label == "replay --workers 2"), None)
    if two is not None:
        print(f"speed-up at 2 workers over the naive way: {two:.2f}x (target >= 1.8)")


if __name__ == "__main__":
    main()
