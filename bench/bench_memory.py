"""Memory of a replay worker as it runs flow after flow: does it stay flat?

Each worker is a process that starts one browser and replays the demo flow
against its embedded portal again and again, in a new context each time, as
`assistant replay` does (assistant.workbench.flowtest.run with a lent browser,
no report.pdf). After flow 1, 10 and the last it prints the worker's resident
memory (VmRSS), its threads and open descriptors; then the slope in MB per
flow between flow 10 and the last (target: under 0.5 MB per flow).

    .venv/bin/python bench/bench_memory.py [--flows 200] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import threading
from pathlib import Path

FLOW = Path(__file__).resolve().parent.parent / "flows" / "demo.yaml"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker(flows: int, marks: list[int], out: multiprocessing.Queue) -> None:
    import gc

    from assistant.run import browser as browsers
    from assistant.workbench.flowtest import run

    seen = {}
    with browsers.open_browser() as opened:
        lent = browsers.Started(*opened)
        for number in range(1, flows + 1):
            result = run(FLOW, lent=lent, report_pdf=False)
            if not result.ok:
                raise SystemExit(f"flow {number} failed: {result.message}")
            if number in marks:
                gc.collect()
                seen[number] = (rss_mb(), threading.active_count(), len(os.listdir("/proc/self/fd")))
    out.put(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    marks = sorted({1, min(10, args.flows), args.flows})
    for count in (int(w) for w in args.workers.split(",")):
        queue: multiprocessing.Queue = multiprocessing.Queue()
        processes = [multiprocessing.Process(target=worker, args=(args.flows, marks, queue)) for _ in range(count)]
        for process in processes:
            process.start()
        results = [queue.get() for _ in processes]
        for process in processes:
            process.join()
        print(f"{count} worker(s), {args.flows} flows each")
        for index, seen in enumerate(results, 1):
            cells = "   ".join(f"flow {n}: {seen[n][0]:.0f} MB, {seen[n][1]} threads, {seen[n][2]} fds" for n in marks)
            first, last = min(10, args.flows), args.flows
            slope = (seen[last][0] - seen[first][0]) / max(1, last - first)
            print(f"  worker {index}: {cells}   slope {slope:+.2f} MB/flow (flow {first} to {last})")


if __name__ == "__main__":
    main()
