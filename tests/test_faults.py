"""The demo portal's injected faults, at the HTTP level (no browser), and `assistant demo --serve --faults`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from helpers import run_cli

from assistant.sites.demo.faults import REJECTED, Faults
from assistant.sites.demo.portal import DemoPortal

BOUNDARY = "----faultsBoundary7MA4YWxkTrZu0gW"


def session(url: str) -> tuple[str, str]:
    """A session cookie and its CSRF token, as the form page hands them out."""
    with urllib.request.urlopen(url + "/support/new", timeout=5) as reply:
        cookie = reply.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', reply.read().decode()).group(1)
    return cookie, token


def form_post(url: str, order: str = "DM-2026-000001") -> bytes:
    """A whole HTTP request posting a valid form to the portal at url, as bytes for a raw socket."""
    cookie, token = session(url)
    values = {
        "csrf_token": token,
        "category": "payment",
        "subject": f"Card charged twice for {order}",
        "description": "Charged twice on 20 November at 14:35; please refund one payment.",
        "order_number": order,
        "incident_date": (datetime.now(UTC).date() - timedelta(days=2)).isoformat(),
        "incident_time": "14:35",
        "full_name": "Anna Petrova",
        "phone": "+7 912 345-67-89",
        "email": "anna@example.com",
        "consent": "yes",
    }
    body = (
        b"".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in values.items()
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST /support/new HTTP/1.1\r\nHost: {url.split('//')[1]}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def exchange(url: str, request: bytes, timeout: float = 5) -> bytes:
    """Send the request on a fresh connection; everything the portal answers before it closes."""
    with connect(url, timeout) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def connect(url: str, timeout: float) -> socket.socket:
    host, port = url.split("//")[1].split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


@pytest.fixture
def faulty():
    """A portal with the given faults, stopped at the end of the test."""
    started: list[DemoPortal] = []

    def start(spec: str) -> DemoPortal:
        portal = DemoPortal(faults=Faults.parse(spec)).start()
        started.append(portal)
        return portal

    yield start
    for portal in started:
        portal.stop()


def test_a_spec_is_read_into_rates_latency_and_seed():
    faults = Faults.parse("latency=0.3, error500=0.1,reset=0.1,hang=0.1,reject=0.1,seed=7")
    assert faults.seed == 7 and faults.latency == 0.3
    assert faults.rates == {"error500": 0.1, "reset": 0.1, "hang": 0.1, "reject": 0.1}
    assert faults.describe() == "latency=0.3,error500=0.1,reset=0.1,hang=0.1,reject=0.1,seed=7"
    assert Faults.parse("").rates == {"error500": 0, "reset": 0, "hang": 0, "reject": 0}


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("reset=2", "reset=2: a rate is a chance between 0 and 1"),
        ("reset=0.6,hang=0.6", "the rates add up to 1.2; at most 1"),
        ("explode=0.1", "unknown fault 'explode' (known: seed, latency, error500, reset, hang, reject)"),
        ("reset", "'reset': expected NAME=VALUE"),
        ("reset=often", "reset=often: expected a number"),
        ("reset=nan", "reset=nan: expected a finite number"),
        ("seed=1.5", "seed: expected a whole number"),
        ("latency=-1", "latency=-1: seconds between 0 and 60"),
        ("hang=0.1,hang=0.2", "hang is given twice"),
    ],
)
def test_a_bad_spec_says_what_is_wrong(spec, said):
    with pytest.raises(ValueError) as err:
        Faults.parse(spec)
    assert said in str(err.value)


def test_the_same_seed_draws_the_same_faults_at_the_rates_given():
    def kinds(seed: int) -> list[str]:
        faults = Faults(seed=seed, rates={"error500": 0.1, "reset": 0.2, "hang": 0.1, "reject": 0.1})
        return [faults.draw({}).kind for _ in range(2000)]

    assert kinds(7) == kinds(7) and kinds(7) != kinds(8)
    counts = Counter(kinds(7))
    assert 900 < counts["none"] < 1100 and 300 < counts["reset"] < 500
    assert all(100 < counts[kind] < 300 for kind in ("error500", "hang", "reject"))


def test_error500_answers_500_and_stores_nothing(faulty):
    portal = faulty("error500=1")
    reply = exchange(portal.url, form_post(portal.url))
    assert reply.startswith(b"HTTP/1.1 500 ")
    assert b"Something went wrong" in reply
    assert portal.received == []
    assert [(h.kind, h.number) for h in portal.faults.hits] == [("error500", None)]


def test_reject_shows_the_form_again_with_the_refusal_and_stores_nothing(faulty):
    portal = faulty("reject=1")
    reply = exchange(portal.url, form_post(portal.url)).decode()
    assert reply.startswith("HTTP/1.1 200 ")
    summary = re.search(r'<div id="form-errors"[^>]*role="alert"[^>]*>(.*?)</div>', reply, re.S)
    assert summary and REJECTED in summary.group(1)
    assert "<title>Error: Contact support" in reply and 'id="support-form"' in reply
    assert 'value="DM-2026-000001"' in reply  # what was typed is kept
    assert portal.received == []
    assert [(h.kind, h.fields["order_number"]) for h in portal.faults.hits] == [("reject", "DM-2026-000001")]


def test_reset_stores_the_ticket_then_resets_the_connection_unanswered(faulty):
    # A browser may send such a post again by itself (Chromium does, once): see tests/test_soak.py.
    portal = faulty("reset=1")
    with pytest.raises(ConnectionResetError):
        exchange(portal.url, form_post(portal.url))
    [ticket] = portal.received
    assert [(h.kind, h.number) for h in portal.faults.hits] == [("reset", ticket.number)]
    # The portal goes on serving.
    with urllib.request.urlopen(portal.url + "/", timeout=5) as reply:
        assert reply.status == 200


def test_hang_stores_the_ticket_and_never_answers_until_the_client_leaves(faulty):
    portal = faulty("hang=1")
    with connect(portal.url, 1.5) as sock:
        sock.sendall(form_post(portal.url, "DM-2026-000002"))
        with pytest.raises(TimeoutError):
            sock.recv(65536)
    [ticket] = portal.received
    assert ticket.fields["order_number"] == "DM-2026-000002"
    assert [(h.kind, h.number) for h in portal.faults.hits] == [("hang", ticket.number)]


def test_a_hung_answer_does_not_hold_up_the_portal_stopping(faulty):
    portal = faulty("hang=1")
    with connect(portal.url, 10) as sock:
        sock.sendall(form_post(portal.url))
        deadline = time.monotonic() + 5
        while not portal.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert portal.received
        started = time.monotonic()
        portal.stop()
        assert time.monotonic() - started < 2
        # The client, still waiting, gets an answer that is not a confirmation: had the
        # connection just closed, a browser would send the form again.
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 504 ") and b"DEMO-" not in reply


def test_latency_delays_the_answer_and_is_recorded(faulty):
    portal = faulty("latency=0.6,seed=3")
    started = time.monotonic()
    reply = exchange(portal.url, form_post(portal.url))
    took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 303 ")
    [hit] = portal.faults.hits
    assert hit.kind == "none" and 0 < hit.delay <= 0.6 and took >= hit.delay
    assert hit.number == portal.received[0].number


def test_an_invalid_form_is_answered_as_always_and_not_drawn_for(faulty):
    portal = faulty("error500=1")
    request = form_post(portal.url).replace(b"anna@example.com", b"not-an-email....")
    assert exchange(portal.url, request).startswith(b"HTTP/1.1 422 ")
    assert portal.faults.hits == [] and portal.received == []


def test_demo_serve_takes_faults_and_says_each_answer(tmp_path):
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "demo", "--serve", "--faults", "reject=1,seed=3"],
        env=env,
        # Ctrl-C as at a terminal: a test run started in the background (`make test &`, a
        # script's `cmd &`) hands its children SIGINT ignored, and Python then keeps it so.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        assert proc.stdout.readline().strip() == "faults: reject=1,seed=3"
        portal = DemoPortal()  # only for its address in form_post
        portal.port = int(url.rsplit(":", 1)[1])
        reply = exchange(portal.url, form_post(portal.url)).decode()
        assert reply.startswith("HTTP/1.1 200 ") and REJECTED in reply
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "portal: post of the form: form refused, nothing stored" in err
    assert "Traceback" not in err


def test_demo_with_a_bad_fault_spec_is_one_line_and_exit_2(tmp_path):
    done = run_cli("demo", "--serve", "--faults", "reset=0.7,hang=0.7", home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --faults: the rates add up to 1.4; at most 1 (the rest are answered normally)"
    ]
