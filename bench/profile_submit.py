"""Where the time of one `assistant submit demo` goes, phase by phase.

Runs the command in this process against a fresh demo portal, with timers
wrapped around the functions that make up a run, and prints, for each phase,
how often it ran and its total wall time in ms (inclusive: a phase that calls
another timed phase counts it too), then a timeline of the main moments.

    .venv/bin/python bench/profile_submit.py [--rounds 3]

The medians of several rounds are printed; the first round (cold caches) is
not counted. Imports are timed once, before the rounds, in a fresh
interpreter.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from compiled import compile_sources

REPO = Path(__file__).resolve().parent.parent
CASE = REPO / "flows" / "samples" / "demo-case.yaml"

IMPORTS = (
    "import assistant.cli, assistant.commands.submit, assistant.pipeline, assistant.run.capture, "
    "assistant.run.netguard, assistant.run.environment, evidence.report, evidence.bundle, evidence.keys, "
    "playwright.sync_api, PIL.Image"
)

totals: dict[str, float] = defaultdict(float)
counts: dict[str, int] = defaultdict(int)
moments: list[tuple[str, float]] = []
T0 = [0.0]


def timer(owner, name: str, label: str, *, moment: bool = False) -> None:
    original = getattr(owner, name, None)
    if original is None:  # an older tree, profiled for comparison
        return
    static = isinstance(inspect.getattr_static(owner, name), staticmethod)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        if moment:
            moments.append((f"{label} starts", start - T0[0]))
        try:
            return original(*args, **kwargs)
        finally:
            end = time.perf_counter()
            totals[label] += end - start
            counts[label] += 1
            if moment:
                moments.append((f"{label} ends", end - T0[0]))

    setattr(owner, name, staticmethod(timed) if static else timed)


def install() -> None:
    from playwright.sync_api import _context_manager
    from playwright.sync_api._generated import Browser, BrowserContext, Page

    import assistant.pipeline as pipeline
    from assistant.commands import submit as submit_command
    from assistant.run import browser, capture, environment, network, pictures, runner, session, snapshots
    from evidence import bundle, keys, package, report, stamp
    from evidence.scrub import Secrets

    manager = _context_manager.PlaywrightContextManager
    timer(manager, "__enter__", "playwright driver start", moment=True)
    timer(manager, "__exit__", "playwright driver stop", moment=True)
    timer(browser, "connect", "browser launch", moment=True)
    timer(Browser, "new_context", "new context")
    timer(Browser, "close", "browser close", moment=True)
    timer(BrowserContext, "close", "context close (writes the HAR)")
    timer(capture.Capturer, "new_page", "new page + CDP Network.enable")
    timer(BrowserContext, "new_page", "  context.new_page")
    timer(network.Network, "watch", "  CDP session + Network.enable")
    timer(environment, "capture", "environment")
    for kind in ("goto", "click", "submit", "fill", "select", "check", "upload", "wait_for"):
        timer(runner.Runner, f"_do_{kind}", "page actions")
    timer(runner.Runner, "_may_be_password", "  of which: password check after fill")
    timer(runner.Runner, "_field_type", "  of which: password check after fill")
    timer(runner.Runner, "_settle_guard", "guard settle before submit")
    timer(runner.Runner, "_shoot_after", "per-step screenshots (with load wait)")
    timer(runner.Runner, "_do_screenshot", "captures (flow screenshot steps)")
    timer(runner.Runner, "_confirm", "success wait + number + confirmation capture", moment=True)
    timer(runner.Runner, "run", "runner.run", moment=True)
    timer(capture.Capturer, "shoot", "Capturer.shoot (all)")
    timer(pictures.Pictures, "_fast_viewport_png", "  step PNG (CDP captureScreenshot)")
    timer(Page, "screenshot", "  Playwright screenshot (captures)")
    timer(snapshots.Snapshots, "take", "  HTML + MHTML snapshots")
    timer(snapshots.Snapshots, "write_form", "  form values into the snapshot, textareas whole")
    timer(capture.Capturer, "before_click", "form read right before the click")
    timer(capture.Capturer, "submitted_form", "form record (after the number)")
    timer(network.Network, "server", "  server/TLS details")
    timer(capture.Capturer, "_title", "  page title")
    timer(stamp, "add_text_chunks", "  PNG text chunks")
    timer(stamp, "stamp_image", "stamping (worker threads)")
    timer(stamp, "sheet_picture", "  contact sheet's pictures (worker threads)")
    timer(capture.Capturer, "collect_stamped", "waiting for stamped copies")
    timer(package.EvidencePackage, "add_bytes", "writing files (hash + fsync)")
    timer(package.EvidencePackage, "finish", "package.finish", moment=True)
    timer(report, "contact_sheet", "  contact sheet")
    timer(report, "render_html", "  report.html")
    timer(capture.Capturer, "close", "  capturer close (context, HAR, logs)")
    timer(session.BrowserSession, "settle_environment", "environment: command line, TLS, address")
    timer(package.EvidencePackage, "_seal", "  manifest + signature")
    timer(package.EvidencePackage, "write_sums", "  SHA256SUMS")
    timer(bundle, "make_zip", "zip", moment=True)
    timer(keys.Signer, "load_or_create", "signing key load")
    timer(Secrets, "bytes", "scrubbing secrets out of bytes")
    timer(pipeline, "fit_attachments", "fit attachments")
    timer(pipeline.Store, "__init__", "journal open")
    timer(pipeline.Store, "begin", "journal begin")
    timer(pipeline.Store, "confirm", "journal confirm")
    timer(pipeline.Store, "set_submission", "journal manifest hash")
    timer(submit_command, "run_submission", "run_submission", moment=True)

    original_render_pdf = capture.render_pdf

    def render_pdf(*args, **kwargs):
        render = original_render_pdf(*args, **kwargs)

        def timed(html):
            start = time.perf_counter()
            try:
                return render(html)
            finally:
                totals["  report.pdf"] += time.perf_counter() - start
                counts["  report.pdf"] += 1

        return timed

    capture.render_pdf = render_pdf
    session.render_pdf = render_pdf  # imported by name there

    original_echo = submit_command.click.secho

    def secho(message=None, *args, **kwargs):
        if message and kwargs.get("bold") and "DEMO-" in str(message):
            moments.append(("number printed", time.perf_counter() - T0[0]))
        return original_echo(message, *args, **kwargs)

    submit_command.click.secho = secho


def one_round(url: str, home: str) -> tuple[dict[str, float], dict[str, int], list[tuple[str, float]], float]:
    from assistant.cli import main

    totals.clear()
    counts.clear()
    moments.clear()
    T0[0] = time.perf_counter()
    args = ["--home", home, "submit", "demo", "--case", str(CASE), "--base-url", url, "--yes", "--force"]
    try:
        main(args, prog_name="assistant", standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            raise
    return dict(totals), dict(counts), list(moments), time.perf_counter() - T0[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    compile_sources()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], check=True)
    imports = time.perf_counter() - start - bare
    install()
    from assistant.sites.demo.portal import DemoPortal

    results = []
    with DemoPortal() as portal, tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds + 1):
            results.append(one_round(portal.url, f"{tmp}/home"))
    results = results[1:]
    labels = list(dict.fromkeys(label for r in results for label in r[0]))
    print(f"\npython start {bare * 1000:.0f} ms, imports for a run {imports * 1000:.0f} ms (fresh interpreter)")
    print(
        f"in-process run (imports done), median of {rounds}: {statistics.median(r[3] for r in results) * 1000:.0f} ms"
    )
    print(f"{'phase':52} {'calls':>5} {'ms':>7}")
    for label in labels:
        ms = statistics.median(r[0].get(label, 0.0) for r in results) * 1000
        print(f"{label:52} {results[-1][1].get(label, 0):5d} {ms:7.0f}")
    print("timeline of the last round (ms from the command's start):")
    for what, at in results[-1][2]:
        print(f"  {at * 1000:7.0f}  {what}")


if __name__ == "__main__":
    main()
