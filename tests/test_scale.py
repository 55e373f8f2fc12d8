"""At scale: what one run leaves behind must be nothing, however many runs a process makes."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from pathlib import Path

from assistant.language.urls import Policy
from assistant.run.netguard import Guard


def test_a_closed_gate_leaves_no_thread_and_no_listening_port():
    before = {t.ident for t in threading.enumerate() if t.name == "netguard-gate"}
    ports = []
    for _ in range(3):
        with Guard(Policy.open("scale")) as guard:
            guard.start_gate()
            assert guard.gate is not None
            ports.append(int(guard.gate.url.rsplit(":", 1)[1]))
            socket.create_connection(("127.0.0.1", ports[-1]), timeout=5).close()  # it listens while open
    left = [t for t in threading.enumerate() if t.name == "netguard-gate" and t.ident not in before]
    assert left == [], "each closed gate ends its accepting thread"
    for port in ports:
        probe = socket.socket()
        try:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still accepts connections"
        finally:
            probe.close()


def test_listing_the_cases_reads_the_journal_in_the_same_few_queries_however_many_there_are(tmp_path):
    """`assistant cases` at 100,000 cases took 820 s when each case cost four queries, three of
    them full scans; now the count of queries does not grow with the journal."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from bench_cases import build

    from assistant.casework.tracking import case_view, due
    from assistant.store import Store

    def queries(size: int) -> int:
        home = tmp_path / str(size)
        build(home, size)
        with Store(home) as store:
            seen: list[str] = []
            store.db.set_trace_callback(seen.append)
            views = [case_view(store, r.case, records=r) for r in store.every_case()]
            listing = len(seen)
            candidates = store.due_candidates("2026-12-08T00:00:00")
            seen.clear()
            due(store, dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC))
            store.db.set_trace_callback(None)
        assert len(views) == size and all(v["submissions"] for v in views)
        # The due list reads only the cases its index finds, a few queries each.
        assert len(seen) <= 2 + 4 * len(candidates), (len(seen), len(candidates))
        return listing

    assert queries(10) == queries(200)


def test_every_case_hands_each_case_its_own_records(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from bench_cases import build

    from assistant.store import Store

    build(tmp_path, 30)
    with Store(tmp_path) as store:
        for records in store.every_case():
            key = records.case["id"]
            assert [s.id for s in records.submissions] == [s.id for s in store.submissions_of(key)]
            assert records.replies == store.replies(key)
            assert records.history == store.history(key)
            assert records.notes == store.notes(key)


def _listening_sockets() -> int:
    """Sockets of this process in LISTEN (its fds matched to the kernel's TCP tables)."""
    import os

    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            count += fields[3] == "0A" and fields[9] in inodes  # 0A: LISTEN
    return count


def test_fifty_flows_in_one_process_give_back_every_thread_descriptor_and_port():
    """A replay worker runs flow after flow in one process: each run gives back what it took."""
    import gc
    import os

    from assistant.run import browser as browsers
    from assistant.workbench.flowtest import run

    def taken() -> tuple[int, int, int]:
        gc.collect()
        return threading.active_count(), len(os.listdir("/proc/self/fd")), _listening_sockets()

    flow = Path(__file__).parent.parent / "flows" / "demo.yaml"
    counts: list[tuple[int, int, int]] = []
    failed: list[BaseException] = []

    def worker() -> None:
        # A thread of its own: Playwright's sync API refuses a thread whose event loop is
        # running, as pytest-playwright's session fixtures leave the main one in a full run.
        try:
            with browsers.open_browser() as opened:
                lent = browsers.Started(*opened)
                for _ in range(50):
                    result = run(flow, lent=lent, report_pdf=False)
                    assert result.ok, result.message
                    counts.append(taken())
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    thread = threading.Thread(target=worker, name="fifty-flows")
    thread.start()
    thread.join(timeout=1200)
    assert not thread.is_alive(), "the fifty flows did not end"
    if failed:
        raise failed[0]
    first = counts[0]
    assert all(c == first for c in counts), f"threads, descriptors, listening sockets after each run: {counts}"
