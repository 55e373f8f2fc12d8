"""SIGKILL: `assistant submit` killed at seeded random points, again and again; what it leaves must hold.

A normal run is timed first (its progress lines on stderr). Each kill then
picks a moment of a run: while it starts, while it fills the form, just
before the click (the journal entry is written there), just after it (the
post, the confirmation, the number) or while it seals the evidence, and
kills the `assistant` process there with SIGKILL (then its browser). After
every kill:

- the journal opens and `PRAGMA integrity_check` says ok;
- every ticket the portal holds for the case is journalled (pending or confirmed);
- the same command again, without --force, is refused (exit 3) exactly when
  the journal holds a live (pending or confirmed) submission of the case;
  otherwise it goes ahead (it reaches the form; it is the next kill, or runs
  to the end, and then the portal has exactly one ticket for the case);
- no evidence folder claims a file it lacks: a manifest.json lists only
  files that are there with its hashes, SHA256SUMS too, and a sealed folder
  verifies. A folder cut short without a manifest is what a crash leaves.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import write_case

from assistant.language.case import load_case
from assistant.sites.demo.portal import DemoPortal
from assistant.store import Store
from evidence import Environment, EvidencePackage, Manifest
from evidence.keys import Signer
from evidence.package import MANIFEST, SUMS, sha256_file
from evidence.verify import verify

KILLS = int(os.environ.get("CRASH_KILLS", "50"))  # at least 50 in `make test`
WORKERS = 2  # two cases killed at once, each in its own subprocesses
SEED = int(os.environ.get("CRASH_SEED", "20261123"))
# Where a kill lands: (name, the progress line it waits for (None: the start), weight).
PHASES = [
    ("starting", None, 1),
    ("filling the form", "step 1/", 2),
    ("before the click", "step 19/", 2),
    ("click and number", "step 20/", 3),
    ("sealing", "sealing the evidence package", 2),
]


@dataclass
class Timeline:
    """When each progress line of a normal run came, in seconds from its start."""

    seen: dict[str, float]
    end: float

    def span(self, phase: str) -> float:
        """How long the phase lasts in a normal run: the window a kill is drawn from."""
        marks = [self.seen["step 1/"], self.seen["step 19/"], self.seen["step 20/"]]
        marks += [self.seen["sealing the evidence package"], self.end]
        index = [name for name, _, _ in PHASES].index(phase)
        return marks[index] - (marks[index - 1] if index else 0.0)


@dataclass
class Ended:
    """One `assistant submit` process: killed at a point, or ended by itself."""

    killed: bool
    returncode: int
    lines: list[tuple[float, str]]
    stdout: str
    seconds: float

    @property
    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def reached(self, mark: str) -> bool:
        return any(mark in line for _, line in self.lines)

    @property
    def last(self) -> str:
        return self.lines[-1][1][:60] if self.lines else "(nothing yet)"


def submit_until(args: list[str], env: dict[str, str], mark: str | None, delay: float | None) -> Ended:
    """Run the command; `delay` seconds after stderr shows `mark` (or after the start), SIGKILL it."""
    started = time.monotonic()
    proc = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[tuple[float, str]] = []
    anchor = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
            if mark is not None and mark in line:
                anchor.set()
        anchor.set()  # the process ended before the mark: nothing left to wait for

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = False
    if delay is not None:
        if mark is not None:
            anchor.wait(120)
        deadline = time.monotonic() + delay
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
    try:
        proc.wait(timeout=180)
    finally:
        try:  # what it started (Playwright's driver; the browser goes when the driver's pipe closes)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reader.join(10)
    assert proc.stdout is not None
    out = proc.stdout.read()
    return Ended(killed, proc.returncode, lines, out, time.monotonic() - started)


def seal_claims(folder: Path) -> list[str]:
    """What an evidence folder claims and cannot show (empty: nothing)."""
    problems = []
    if (folder / MANIFEST).exists():
        try:
            manifest = Manifest.model_validate(json.loads((folder / MANIFEST).read_bytes()))
        except ValueError as exc:
            return [f"{folder.name}/{MANIFEST} is not a whole manifest: {str(exc).splitlines()[0]}"]
        for entry in manifest.files:
            target = folder / entry.path
            if not target.is_file():
                problems.append(f"{folder.name}: manifest lists {entry.path}, which is missing")
            elif target.stat().st_size != entry.size or sha256_file(target) != entry.sha256:
                problems.append(f"{folder.name}: {entry.path} does not match the manifest")
    if (folder / SUMS).exists():
        for line in (folder / SUMS).read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            if not (folder / name).is_file() or sha256_file(folder / name) != digest:
                problems.append(f"{folder.name}: SHA256SUMS lists {name}, missing or changed")
        # SHA256SUMS is written last: the package is sealed and must verify as a whole.
        result = verify(folder)
        problems += [f"{folder.name}: {problem}" for problem in result.problems]
    return problems


@dataclass
class Tally:
    kills: Counter[str] = field(default_factory=Counter)
    journal_after: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    finished_first: int = 0
    refused: int = 0
    went_ahead: int = 0
    completed: int = 0
    integrity_ok: int = 0
    folders: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Crasher:
    """Kills runs of distinct cases filed to one portal from one home, and checks what each leaves."""

    def __init__(self, tmp_path: Path, portal: DemoPortal, env: dict[str, str], timeline: Timeline):
        self.tmp, self.portal, self.env, self.timeline = tmp_path, portal, env, timeline
        self.home = Path(env["ASSISTANT_HOME"])
        self.tally = Tally()
        self.failures: list[str] = []
        self.checked: set[Path] = set()

    def command(self, case: Path) -> list[str]:
        return command(case, self.portal)

    def tickets(self, order_id: str) -> list[str]:
        return [t.number for t in self.portal.received if t.fields.get("order_number") == order_id]

    def live(self, key: str) -> tuple[bool, str]:
        store = Store(self.home)
        try:
            found = store.find(key, live=True)
            return found is not None, found.status if found else "absent"
        finally:
            store.close()

    def fail(self, what: str) -> None:
        with self.tally.lock:
            self.failures.append(what)

    def check_store(self, where: str) -> None:
        with sqlite3.connect(self.home / "assistant.db") as db:
            result = db.execute("PRAGMA integrity_check").fetchall()
        Store(self.home).close()  # and the assistant's own opening of it (its migrations) works
        if result != [("ok",)]:
            self.fail(f"{where}: integrity_check says {result}")
        else:
            with self.tally.lock:
                self.tally.integrity_ok += 1

    def check_evidence(self, where: str) -> None:
        for folder in sorted((self.home / "evidence").glob("*")):
            if folder in self.checked:
                continue
            for problem in seal_claims(folder):
                self.fail(f"{where}: {problem}")
            if (folder / SUMS).exists():
                self.checked.add(folder)  # sealed and checked; it cannot change any more

    def count_folders(self) -> None:
        for folder in (self.home / "evidence").glob("*"):
            kind = "sealed" if (folder / SUMS).exists() else "manifest only" if (folder / MANIFEST).exists() else "cut"
            self.tally.folders[kind] += 1

    def after(self, order_id: str, key: str, where: str, phase: str) -> bool:
        """The checks after a kill; whether the case is live (a rerun must be refused)."""
        self.check_store(where)
        self.check_evidence(where)
        live, status = self.live(key)
        if self.tickets(order_id) and not live:
            self.fail(f"{where}: the portal has {self.tickets(order_id)} but the journal says {status}")
        with self.tally.lock:  # a pending one, with or without the post having reached the portal
            self.tally.journal_after[phase][
                f"{status} {'with' if self.tickets(order_id) else 'without'} a ticket"
                if status == "pending"
                else status
            ] += 1
        return live

    def refused_again(self, case: Path, order_id: str, where: str) -> None:
        again = submit_until(self.command(case), self.env, None, None)
        if again.returncode != 3:
            self.fail(f"{where}: live in the journal, yet the rerun ended {again.returncode}: {again.stderr[-300:]}")
        else:
            with self.tally.lock:
                self.tally.refused += 1
        tickets, (_, status) = self.tickets(order_id), self.live(load_case(case).fingerprint())
        if len(tickets) > 1 or (status == "confirmed" and len(tickets) != 1):
            self.fail(f"{where}: journal {status}, portal tickets {tickets}")

    def worker(self, number: int, kills: int, rng: random.Random) -> None:
        phases, weights = [p[0] for p in PHASES], [p[2] for p in PHASES]
        marks = {name: mark for name, mark, _ in PHASES}
        case: Path | None = None
        rerun = False
        index = killed = 0
        while killed < kills:  # a run that ends before its kill does not count as one
            index += 1
            assert index <= 3 * kills, "the runs keep ending before their kill: the timeline is off"
            if case is None:
                order_id = f"DM-2026-{number}{index:05d}"
                folder = self.tmp / "cases" / order_id
                folder.mkdir(parents=True)
                case = write_case(folder, order_id=order_id, subject=f"Order {order_id} charged but not placed")
                key = load_case(case).fingerprint()
                rerun = False
            # A rerun must be seen going ahead (reaching the form) before it is killed.
            phase = rng.choices(phases[1:] if rerun else phases, weights[1:] if rerun else weights)[0]
            delay = rng.uniform(0, self.timeline.span(phase))
            ended = submit_until(self.command(case), self.env, marks[phase], delay)
            where = f"{order_id} kill {index} ({phase}, +{delay:.2f} s after {marks[phase] or 'the start'})"
            killed += ended.killed
            with self.tally.lock:
                self.tally.kills[phase] += ended.killed
                self.tally.finished_first += not ended.killed
            if rerun:
                if not ended.reached("step 1/"):
                    self.fail(f"{where}: the rerun did not go ahead: {ended.stderr[-300:]}")
                else:
                    with self.tally.lock:
                        self.tally.went_ahead += 1
            if not ended.killed and ended.returncode != 0:
                self.fail(f"{where}: ended {ended.returncode} without a kill: {ended.stderr[-300:]}")
            if self.after(order_id, key, where, phase):
                self.refused_again(case, order_id, where)
                case = None
            else:
                rerun = True
        if case is not None:  # the last case was never filed: now it goes through, once
            ended = submit_until(self.command(case), self.env, None, None)
            tickets = self.tickets(order_id)
            if ended.returncode != 0 or len(tickets) != 1:
                self.fail(
                    f"{order_id}: the last rerun ended {ended.returncode}, tickets {tickets}: {ended.stderr[-300:]}"
                )
            else:
                with self.tally.lock:
                    self.tally.completed += 1


def command(case: Path, portal: DemoPortal) -> list[str]:
    return [sys.executable, "-m", "assistant", "submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes"]


def calibrate(tmp_path: Path, portal: DemoPortal, env: dict[str, str]) -> Timeline:
    """A normal run, timed (it also makes the evidence key the killed runs share)."""
    folder = tmp_path / "cases" / "calibration"
    folder.mkdir(parents=True)
    case = write_case(folder, order_id="DM-2026-CALIB1", subject="Order DM-2026-CALIB1 charged but not placed")
    ended = submit_until(command(case, portal), env, None, None)
    assert ended.returncode == 0, ended.stderr
    seen = {}
    for mark in ("step 1/", "step 19/", "step 20/", "sealing the evidence package"):
        seen[mark] = next(t for t, line in ended.lines if mark in line)
    return Timeline(seen, ended.seconds)


def test_sigkill_at_random_points_leaves_a_sound_journal_and_honest_evidence(tmp_path, capsys):
    started = time.monotonic()
    with DemoPortal() as portal:
        env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
        timeline = calibrate(tmp_path, portal, env)
        crasher = Crasher(tmp_path, portal, env, timeline)
        rng = random.Random(SEED)
        threads = [
            threading.Thread(
                target=crasher.worker,
                args=(n + 1, KILLS // WORKERS + (n < KILLS % WORKERS), random.Random(rng.random())),
            )
            for n in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tickets = Counter(t.fields.get("order_number") for t in portal.received)
    crasher.count_folders()
    took = time.monotonic() - started
    tally = crasher.tally
    with capsys.disabled():
        print(
            f"\ncrash: {sum(tally.kills.values())} kills ({tally.finished_first} runs ended before their kill), "
            f"{took:.0f} s; seed {SEED}; a normal run {timeline.end:.1f} s, the click at {timeline.seen['step 20/']:.1f} s"
        )
        for name, _, _ in PHASES:
            after = ", ".join(f"{k} {v}" for k, v in sorted(tally.journal_after[name].items()))
            print(f"  {name:17} kills {tally.kills[name]:3}   journal after: {after}")
        print(
            f"  integrity_check ok {tally.integrity_ok}; reruns refused {tally.refused}, went ahead "
            f"{tally.went_ahead}, completed {tally.completed}; evidence folders: "
            + ", ".join(f"{k} {v}" for k, v in sorted(tally.folders.items()))
            + f"; cases on the portal twice: {sum(1 for n in tickets.values() if n > 1)}"
        )
    assert crasher.failures == [], "\n".join(crasher.failures[:20])
    assert sum(tally.kills.values()) >= KILLS
    assert [order for order, n in tickets.items() if n > 1] == []


def test_a_seal_cut_short_leaves_no_manifest_that_lies(tmp_path, monkeypatch):
    """The seal's files are written whole or not at all: a crash while writing the manifest
    leaves the folder without one (a cut folder), never with half of one."""
    package, key = EvidencePackage(tmp_path / "package"), tmp_path / "key.pem"
    package.add_bytes("screenshots/001-home.png", b"\x89PNG not really", "image/png", role="step")
    replaced: list[str] = []

    def crash(source, target):
        replaced.append(Path(target).name)
        raise KeyboardInterrupt("killed while sealing")

    monkeypatch.setattr(os, "replace", crash)
    environment = Environment(os="Linux", os_version="6", kernel="6", architecture="x86_64", python="3.11")
    with pytest.raises(KeyboardInterrupt):
        package.finish(
            tool="t",
            case={},
            environment=environment,
            actions=[],
            report=False,
            created_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
    assert replaced == [MANIFEST]
    assert not (package.root / MANIFEST).exists() and seal_claims(package.root) == []
    monkeypatch.undo()
    package.finish(
        tool="t", case={}, environment=environment, actions=[], report=False, signer=Signer.load_or_create(key)
    )
    assert (package.root / MANIFEST).exists() and (package.root / SUMS).exists()
    assert seal_claims(package.root) == [] and verify(package.root).ok
