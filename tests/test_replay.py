"""`assistant replay`: flows as pytest items on pytest-xdist workers, shards, retries, traces,
failure output, JUnit, the HTML report, --live, and a browser elsewhere (run-server, CDP)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from helpers import run_cli, start_run_server, stop_run_server

from assistant.language.flow import all_flow_files, find_flow, load_flow
from assistant.run import browser as browsers
from assistant.testing.replay import Entry, shard_of
from assistant.workbench.authoring import Places, new

# Delays inside the test replicas; --timeout is shorter, so only a second try finds the element.
LATE_MS = 4000
STEP_TIMEOUT = "2"
# The send button comes later still: after the steps before it however slow the machine (they
# may take seconds under load), yet within what three more 2 s tries would have waited.
LATE_SEND_MS = 7000
EMAIL_STEP = 'selector: "#email"'


def replay(*args: str, home: Path, env: dict | None = None, timeout: float = 400):
    return run_cli("replay", *args, home=home, env=env, timeout=timeout)


def result_of(done) -> dict:
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"no JSON on stdout (exit {done.returncode}):\n{done.stdout}\n{done.stderr}") from None


def flows_with_a_test_block() -> set[str]:
    ids = set()
    for path in all_flow_files():
        flow = load_flow(path)
        if flow.channel == "web_form" and flow.test is not None:
            ids.add(flow.id)
    return ids


def junit_cases(path: Path) -> list[ElementTree.Element]:
    return list(ElementTree.parse(path).getroot().iter("testcase"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scaffold(tmp: Path, name: str, *, late: str | None = None, late_ms: int = LATE_MS) -> Path:
    """A flow + replica made by `flow new`; `late` names a field the replica's form adds only
    LATE_MS after the page loads (a slow script, the kind of thing --retries is for)."""
    new(name, Places(tmp / "flows", tmp / "sites"))
    if late:
        form = tmp / "sites" / name / "form.html"
        html = form.read_text(encoding="utf-8")
        element = re.search(rf'<(input|button) id="{late}"[^>]*>(?:[^<]*</button>)?', html).group(0)
        html = html.replace(element, '<span id="late-slot"></span>')
        script = (
            f"<script>setTimeout(() => {{ document.getElementById('late-slot').outerHTML = {json.dumps(element)}; }}, "
            f"{late_ms});</script>\n</body>"
        )
        form.write_text(html.replace("</body>", script), encoding="utf-8")
    return tmp / "flows" / f"{name}.yaml"


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# ------------------------------------------------------------------ every flow, workers, JUnit


def test_every_flow_replays_on_two_workers_with_one_junit_case_per_flow(tmp_path):
    junit = tmp_path / "replay.xml"
    done = replay("--workers", "2", "--junit", str(junit), "--output", str(tmp_path / "out"), "--json", home=tmp_path)
    result = result_of(done)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = flows_with_a_test_block()
    assert len(expected) >= 4
    assert {r["flow"] for r in result["flows"]} == expected
    assert all(r["ok"] and r["confirmation"] for r in result["flows"]), result
    # Both workers took flows: pytest-xdist spread them; each started its browser once.
    assert {r["worker"] for r in result["flows"]} == {"gw0", "gw1"}
    assert {r["launch"] for r in result["flows"]} == {1}
    cases = junit_cases(junit)
    assert sorted(c.get("name") for c in cases) == sorted(expected)
    assert not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    # A passing flow with --trace off leaves nothing behind.
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ------------------------------------------------------------------ shards


def test_shards_together_replay_every_flow_exactly_once(tmp_path):
    everything = result_of(replay("--list", "--json", home=tmp_path))["flows"]
    assert {e["id"] for e in everything} == flows_with_a_test_block()
    for count in (2, 3):
        seen: list[str] = []
        for index in range(1, count + 1):
            listed = result_of(replay("--list", "--json", "--shard", f"{index}/{count}", home=tmp_path))
            assert listed["chosen"] == len(everything)
            seen += [e["id"] for e in listed["flows"]]
        assert sorted(seen) == sorted(e["id"] for e in everything), (count, seen)


def test_the_split_is_round_robin_over_sorted_ids_and_balanced():
    entries = [Entry(f"flow-{n:02d}", f"{n}.yaml") for n in range(11)]
    for count in range(1, 7):
        shards = [shard_of(entries, (index, count)) for index in range(1, count + 1)]
        ids = [e.id for shard in shards for e in shard]
        assert sorted(ids) == [e.id for e in entries] and len(set(ids)) == len(entries)
        sizes = [len(s) for s in shards]
        assert max(sizes) - min(sizes) <= 1
        assert shards[0][0].id == "flow-00" and (count == 1 or shards[1][0].id == "flow-01")


def test_a_bad_shard_is_one_line_naming_the_option(tmp_path):
    for bad in ("3/2", "0/2", "1-2", "a/b"):
        done = replay("--shard", bad, home=tmp_path)
        assert done.returncode == 2, (bad, done.stderr)
        assert done.stderr.startswith("error: --shard:") and "Traceback" not in done.stderr


def test_a_flow_file_that_does_not_load_fails_as_its_own_test_and_the_others_go_on(tmp_path):
    bad = tmp_path / "broken-flow.yaml"
    bad.write_text("format: 1\nid: broken-flow\nsteps: [\n", encoding="utf-8")
    # A CI's PYTEST_ADDOPTS is for its own suite: here -x would stop at the broken flow (the
    # first by id) and --junitxml would write a file nobody asked the replay for.
    stray = tmp_path / "stray.xml"
    env = {"PYTEST_ADDOPTS": f"-x --junitxml={stray}"}
    done = replay(str(bad), "demo", "--output", str(tmp_path / "out"), home=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    # A line per flow as it finishes (in id order on one worker), then the count.
    lines = done.stdout.splitlines()
    assert re.match(rf"FAIL  broken-flow +\[1/2\] {re.escape(str(bad))}:\d+", lines[0]), lines
    assert re.match(r"ok    demo +DEMO-\d{6} +[\d.]+ s  \[2/2\]$", lines[-2]), lines
    assert lines[-1].startswith("1 passed, 1 failed in ")
    assert not stray.exists()
    assert "Traceback" not in done.stdout + done.stderr


# ------------------------------------------------------------------ a broken replica, the report


def broken_copy(tmp: Path) -> Path:
    """kuper-support and its replica, copied, with the e-mail field renamed on the form.
    Where the replica and the samples live is read from the flow's own test: block."""
    original = load_flow(find_flow("kuper-support"))
    flows, sites = tmp / "flows", tmp / "sites"
    (flows / "samples").mkdir(parents=True)
    shutil.copytree(original.beside(original.test.replica), sites / "kuper-support")
    for sample in original.sample_case().parent.glob("kuper-*"):
        shutil.copy(sample, flows / "samples" / sample.name)
    text = Path(original.path).read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*replica:).*$", r"\1 ../sites/kuper-support", text)
    text = re.sub(r"(?m)^(\s*case:).*$", rf"\1 samples/{original.sample_case().name}", text)
    (flows / "kuper-support.yaml").write_text(text, encoding="utf-8")
    form = sites / "kuper-support" / "form.html"
    form.write_text(form.read_text(encoding="utf-8").replace('id="email"', 'id="e-mail"'), encoding="utf-8")
    return flows / "kuper-support.yaml"


def test_a_broken_replica_fails_with_its_step_screenshot_page_and_trace_and_the_report_shows_it(tmp_path, page):
    broken = broken_copy(tmp_path)
    out, junit, report = tmp_path / "out", tmp_path / "junit.xml", tmp_path / "report" / "replay.html"
    done = replay(
        str(broken),
        "demo",
        "--timeout",
        "3",
        "--trace",
        "retain-on-failure",
        "--output",
        str(out),
        "--junit",
        str(junit),
        "--html",
        str(report),
        "--json",
        home=tmp_path / "home",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    flows = {r["flow"]: r for r in result_of(done)["flows"]}
    assert flows["demo"]["ok"] and flows["demo"]["confirmation"].startswith("DEMO-")
    failed = flows["kuper-support"]
    where = f"{broken}:{line_of(broken, EMAIL_STEP)}"
    assert not failed["ok"] and failed["step"] == where
    assert failed["message"].startswith(f"{where}: step ") and "#email" in failed["message"]

    folder = out / "kuper-support"
    assert (folder / "failure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'id="e-mail"' in (folder / "page.html").read_text(encoding="utf-8")  # the page as it was
    step = (folder / "step.txt").read_text(encoding="utf-8")
    assert f"failing step: {where}" in step
    with zipfile.ZipFile(folder / "trace.zip") as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())
    assert not (out / "demo").exists()  # retain-on-failure: a passing flow keeps no trace

    cases = {c.get("name"): c for c in junit_cases(junit)}
    assert set(cases) == {"demo", "kuper-support"}
    assert cases["demo"].find("failure") is None
    assert where in cases["kuper-support"].find("failure").get("message")

    # The report, as a person opens it.
    page.goto(report.as_uri())
    assert "1 passed, 1 failed" in page.locator(".summary").inner_text()
    row = page.locator("#flow-kuper-support")
    assert row.locator(".result").inner_text() == "failed"
    assert where in row.inner_text()
    image = row.locator("img")
    image.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 100", image.element_handle())
    trace_link = row.locator("a.trace").get_attribute("href")
    assert (report.parent / trace_link).resolve() == (folder / "trace.zip").resolve()
    demo = page.locator("#flow-demo")
    assert demo.locator(".result").inner_text() == "passed"
    assert flows["demo"]["confirmation"] in demo.inner_text()


# ------------------------------------------------------------------ retries


def test_retries_try_a_step_before_submit_again_but_never_the_submit(tmp_path):
    late_field = scaffold(tmp_path, "late-field", late="subject")
    late_send = scaffold(tmp_path, "late-send", late="send", late_ms=LATE_SEND_MS)
    out = tmp_path / "out"
    once = replay(str(late_field), "--timeout", STEP_TIMEOUT, "--output", str(out), "--json", home=tmp_path / "h1")
    assert once.returncode == 1
    (first,) = result_of(once)["flows"]
    assert first["step"] == f"{late_field}:{line_of(late_field, '#subject')}"

    done = replay(
        str(late_field),
        str(late_send),
        "--timeout",
        STEP_TIMEOUT,
        "--retries",
        "3",
        "--output",
        str(out),
        "--json",
        home=tmp_path / "h2",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    flows = {r["flow"]: r for r in result_of(done)["flows"]}
    assert flows["late-field"]["ok"] and flows["late-field"]["confirmation"].startswith("REQ-")
    # The send button came later still, within what three more tries would have waited: the
    # submit was tried once, and nothing was sent.
    assert not flows["late-send"]["ok"]
    assert flows["late-send"]["step"] == f"{late_send}:{line_of(late_send, 'submit:')}"
    assert "submit button" in flows["late-send"]["message"] or "#send" in flows["late-send"]["message"]


# ------------------------------------------------------------------ --live


def test_live_walks_the_site_up_to_the_submit_click_and_sends_nothing(tmp_path):
    from assistant.sites.replica import open_replica

    scaffold(tmp_path, "acme-live")
    server = open_replica(tmp_path / "sites" / "acme-live").start()
    try:
        # This flow's "live site" is a server on this machine: what --live opens is its homepage.
        path = tmp_path / "flows" / "acme-live.yaml"
        text = path.read_text(encoding="utf-8")
        host = server.url.removeprefix("http://")
        text = re.sub(r"(?m)^homepage: .*$", f"homepage: {server.url}/", text)
        text = re.sub(r"(?m)^allowed_hosts: .*$", f'allowed_hosts: ["{host}"]', text)
        path.write_text(text, encoding="utf-8")
        done = replay("--live", str(path), "--json", "--output", str(tmp_path / "out"), home=tmp_path / "home")
        assert done.returncode == 0, done.stdout + done.stderr
        (flow,) = result_of(done)["flows"]
        assert flow["ok"] and flow["mode"] == "live" and flow["confirmation"] is None
        assert "nothing was submitted" in flow["message"]
        assert server.received == []
    finally:
        server.stop()


# ------------------------------------------------------------------ a browser elsewhere


def test_replay_through_a_playwright_run_server(tmp_path, browser_choice):
    server, port = start_run_server()
    try:
        env = {}
        if browser_choice.kind in ("system", "path"):
            # Playwright's own browser download is not available everywhere: the --unsafe
            # server starts the one given in the launch options instead.
            env["ASSISTANT_REMOTE_BROWSER_PATH"] = browser_choice.target
        endpoint = f"ws://127.0.0.1:{port}/"
        done = replay(
            "demo",
            "kuper-support",
            "--workers",
            "2",
            "--browser-endpoint",
            endpoint,
            "--trace",
            "on",
            "--json",
            "--output",
            str(tmp_path / "out"),
            home=tmp_path,
            env=env,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        flows = result_of(done)["flows"]
        assert [r["flow"] for r in flows] == ["demo", "kuper-support"]
        assert all(r["ok"] and r["browser"].startswith(f"endpoint: {endpoint}") for r in flows), flows
        # --trace on: every flow's trace, recorded on the server's side and brought back here.
        for record in flows:
            assert record["trace"] == str(tmp_path / "out" / record["flow"] / "trace.zip")
            with zipfile.ZipFile(record["trace"]) as trace:
                assert any(name.endswith(".trace") for name in trace.namelist())
    finally:
        stop_run_server(server)


def test_a_pool_of_run_servers_where_one_dies_mid_replay_runs_every_flow_once(tmp_path, browser_choice):
    """Three `playwright run-server`s, two workers; the first worker's server is killed after the
    first flow: that worker goes on with the next server that answers, and every flow has one result."""
    import os
    import sys

    servers = [start_run_server() for _ in range(3)]
    try:
        env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
        if browser_choice.kind in ("system", "path"):
            env["ASSISTANT_REMOTE_BROWSER_PATH"] = browser_choice.target
        pool = [f"ws://127.0.0.1:{port}/" for _, port in servers]
        flows = ["demo", "kuper-support", "kuper-complaint", "1cupis-feedback"]
        args = [sys.executable, "-m", "assistant", "replay", *flows, "--workers", "2"]
        args += ["--browser-endpoint", pool[0], "--browser-endpoint", f"{pool[1]},{pool[2]}"]
        child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        lines = [child.stdout.readline()]
        stop_run_server(servers[0][0])  # mid-replay: one flow has its result, the others do not
        out, err = child.communicate(timeout=400)
        lines += out.splitlines()
        results = [line.split()[1] for line in lines if line.startswith(("ok ", "FAIL "))]
        assert sorted(results) == sorted(flows), lines + [err]  # every flow, exactly once
        passed = [line.split()[1] for line in lines if line.startswith("ok ")]
        assert len(passed) >= 3, lines + [err]  # at most the flow running at the kill failed
        assert child.returncode in (0, 1), err
    finally:
        for server, _ in servers[1:]:
            stop_run_server(server)


def test_a_pool_with_no_endpoint_that_answers_is_no_browser(tmp_path):
    dead = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead.append(f"ws://127.0.0.1:{probe.getsockname()[1]}/")
    done = replay("demo", "--browser-endpoint", ",".join(dead), home=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "none of the 2 browser endpoint(s) answers" in done.stderr
    assert "nothing answers there" in done.stderr and "Traceback" not in done.stderr


def test_replay_through_a_running_chrome_over_cdp(tmp_path, browser_choice):
    if browser_choice.kind not in ("system", "path", "managed"):
        pytest.fail("needs a local browser executable")
    chrome = subprocess.Popen(
        [
            browser_choice.target,
            "--headless",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--remote-debugging-address=127.0.0.1",
            *browsers.launch_args(browser_choice.target, lookups=True),
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, endpoint = time.monotonic() + 30, None
        while time.monotonic() < deadline and endpoint is None:
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", chrome.stderr.readline())
            if found:
                endpoint = f"http://127.0.0.1:{found.group(1)}"
        assert endpoint, "Chrome did not print its DevTools address"
        # harder-login logs in to its replica first: in a context of the same lent browser.
        login = str(Path(__file__).parent / "flows" / "harder-login.yaml")
        done = replay("demo", login, "--cdp", endpoint, "--json", "--output", str(tmp_path / "out"), home=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        flows = result_of(done)["flows"]
        assert [f["flow"] for f in flows] == ["demo", "harder-login"]
        assert all(f["ok"] and f["browser"].startswith(f"cdp: {endpoint}") for f in flows), flows
    finally:
        chrome.terminate()
        chrome.wait(timeout=10)
