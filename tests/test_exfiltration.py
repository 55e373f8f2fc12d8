"""A page that read the typed password cannot send it around the host guard.

Each test runs the real `assistant submit` (tests/exfil_run.py) against a form whose script,
the moment the run types the password, tries one channel the guard's proxy does not carry:
WebRTC (TURN over UDP and TCP, STUN checks to a forged peer, a STUN server named after the
password), WebTransport, DNS prefetching. It runs in a network namespace of its own
(tests/netns.py: the attacker on 10.99.0.2, every DNS query written down), or, where none
can be made, on loopback with the attacker on 127.0.0.2. The attacker must receive nothing,
no DNS query may carry the password, and the request is filed all the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import netns
import pytest
from exfil_run import SECRET, SECRET_B64, SECRET_HEX

RUNNER = Path(__file__).parent / "exfil_run.py"


def attempt(tmp_path: Path, channels: list[str], *, cdp: bool = False, need_dns: bool = False) -> dict:
    config = tmp_path / "config.json"
    result = tmp_path / "result.json"
    argv = [sys.executable, str(RUNNER), str(config), str(result)]
    wrapped = netns.isolated(argv)
    if wrapped is None and need_dns:
        pytest.skip("needs a network namespace of its own (root, or user namespaces) to see DNS queries")
    attacker = netns.ATTACKER_IN_NAMESPACE if wrapped is not None else "127.0.0.2"
    config.write_text(
        json.dumps(
            {
                "channels": channels,
                "attacker": attacker,
                "dns": wrapped is not None,
                "cdp": cdp,
                "home": str(tmp_path / "home"),
                "work": str(tmp_path),
            }
        )
    )
    command, env = wrapped if wrapped is not None else (argv, {})
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and result.exists(), done.stdout + done.stderr
    return json.loads(result.read_text())


def assert_nothing_left(found: dict) -> None:
    assert found["returncode"] == 0, found["stderr"]
    assert found["posts"] == ["/done"]  # the form itself was filed, once
    assert json.loads(found["stdout"])["confirmation"] == "T-123456"
    assert found["datagrams"] == [], f"{len(found['datagrams'])} datagrams reached the attacker"
    assert found["connections"] == [], f"{len(found['connections'])} connections reached the attacker"
    leaked = [bytes.fromhex(d) for d in found["datagrams"] + found["connections"]]
    assert not any(s.encode() in d for d in leaked for s in (SECRET, SECRET_HEX, SECRET_B64))
    if found["dns"] is not None:
        assert not [n for n in found["dns"] if SECRET_HEX in n], found["dns"]


def blocked_rows(home: Path) -> list[dict]:
    (log,) = home.glob("evidence/*/logs/blocked.jsonl")
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.parametrize("channel", ["turn_udp", "turn_tcp", "stun_checks", "webtransport"])
def test_a_page_cannot_send_the_password_by_webrtc_or_webtransport(tmp_path, channel):
    found = attempt(tmp_path, [channel])
    assert_nothing_left(found)
    # The page guard turned the attempt away and the evidence says so.
    kinds = {r["resource_type"] for r in blocked_rows(tmp_path / "home") if r["kind"] == "channel"}
    assert kinds == {"webtransport" if channel == "webtransport" else "webrtc"}
    assert "nothing was sent" in found["stderr"]


@pytest.mark.parametrize("channel", ["stun_name", "prefetch"])
def test_a_browser_started_by_the_assistant_looks_up_no_host_name(tmp_path, channel):
    found = attempt(tmp_path, [channel], need_dns=True)
    assert_nothing_left(found)
    # Not the password's name, and not Chromium's own (update.googleapis.com, …): none at all.
    assert found["dns"] == []


def test_in_a_chrome_the_assistant_did_not_start_the_page_guard_holds_and_the_log_says_what_does_not(tmp_path):
    found = attempt(
        tmp_path, ["turn_udp", "turn_tcp", "stun_checks", "stun_name", "webtransport", "prefetch"], cdp=True
    )
    assert_nothing_left(found)
    assert "not started by the assistant" in found["stderr"]
    assert "looks host names up itself" in found["stderr"]
    kinds = {r["resource_type"] for r in blocked_rows(tmp_path / "home") if r["kind"] == "channel"}
    assert kinds == {"webrtc", "webtransport"}
