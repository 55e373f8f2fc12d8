"""A flow cannot turn on its user: files, replicas and secrets stay contained (issue 8, parts 1, 5, 6).

Every test drives the real CLI and a real browser against small sites on
127.0.0.1 that record what they receive; the attacks come from flow and case
files written outside the repository, as a stranger would share them.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from helpers import REPO, run_cli, write_case

from assistant.sites.replica import ReplicaServer, Site

# ---------------------------------------------------------------- helpers


def flows_env(tmp_path: Path, flow_id: str, text: str) -> tuple[dict, Path]:
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    path = folder / f"{flow_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return {"ASSISTANT_FLOWS": str(folder)}, path


def upload_site() -> Site:
    """A form with one file input; every file it receives is kept, byte for byte."""
    site = Site(__file__, title="upload")

    @site.get("/")
    def form(request):
        return site.page_text(
            "Upload",
            (
                '<form method="post" action="/send" enctype="multipart/form-data">'
                '<input id="f" type="file" name="f" multiple><input id="msg" name="msg">'
                '<button id="send">Send</button></form>'
            ),
        )

    @site.post("/send")
    def send(request):
        number = site.record(request, prefix="UP-")
        return site.redirect(f"/sent?n={number}")

    @site.get("/sent")
    def sent(request):
        return site.page_text("Sent", f'<p>Number: <b id="number">{request.query.get("n", "")}</b></p>')

    return site


def upload_flow(files: str, flow_id: str = "uploader", extra: str = "") -> str:
    return f"""\
id: {flow_id}
name: Uploads files
homepage: "{{{{ base_url }}}}/"
allowed_hosts: [127.0.0.1]
channel: web_form
categories:
  payment: {{ label: Payments, deadline: {{ hours: 24 }} }}
attachments: {{ max_files: 5 }}
steps:
  - goto: "{{{{ base_url }}}}/"
  - fill: {{ selector: "#msg", value: "{{{{ request.subject }}}}" }}
  - upload: {{ selector: "#f", files: {files}{extra} }}
  - submit: "#send"
success: {{ selector: "#number" }}
confirmation: {{ selector: "#number" }}
"""


def case_listing(folder: Path, attachments: list[str], **changes) -> Path:
    """The demo sample case in `folder`, listing these attachments as written (nothing copied)."""
    from ruamel.yaml import YAML

    path = write_case(folder, attachments=[], **changes)
    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    data["attachments"] = attachments
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return path


def all_files(*roots: Path) -> list[Path]:
    out = []
    for root in roots:
        if root.is_file():
            out.append(root)
        elif root.is_dir():
            out += [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return out


def leaks(markers: list[str], *roots: Path) -> list[str]:
    """Every (file, marker) where a marker appears raw or URL/form-encoded, zips opened."""
    forms = {
        m: {
            m.encode(),
            quote(m, safe="").encode(),
            quote_plus(m).encode(),
            quote(m).encode(),
            json.dumps(m)[1:-1].encode(),
        }
        for m in markers
    }
    found = []

    def scan(name: str, data: bytes) -> None:
        for marker, encodings in forms.items():
            if any(e in data for e in encodings):
                found.append(f"{name}: {marker}")

    for path in all_files(*roots):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # another process's scratch folder, gone as it finished: not a leftover
            continue
        scan(str(path), data)
        if data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    scan(f"{path}!{member}", archive.read(member))
    return found


# -------------------------------------------------------------- 1. files

ATTACKS = [
    "/etc/passwd",
    "~/.ssh/id_rsa",
    "../../etc/hostname",
    "HOME/assistant.db",
    "HOME/keys/evidence-ed25519.pem",
    "{{ base_url }}/x.png",
    "{{ case.description }}",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_a_flow_naming_a_file_is_refused_before_anything_runs(tmp_path, target):
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    (home / "assistant.db").write_bytes(b"SQLite format 3\x00secret journal")
    (home / "keys" / "evidence-ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    fake_ssh = tmp_path / "user" / ".ssh"
    fake_ssh.mkdir(parents=True)
    (fake_ssh / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    target = target.replace("HOME", str(home))
    env, flow_path = flows_env(tmp_path, "uploader", upload_flow(json.dumps(target)))
    env["HOME"] = str(tmp_path / "user")
    step = f'  - upload: {{ selector: "#f", files: {json.dumps(target)} }}'
    line = upload_flow(json.dumps(target)).splitlines().index(step) + 1

    done = run_cli("flow", "validate", str(flow_path), home=home, env=env)
    assert done.returncode == 2, done.stderr
    assert f"uploader.yaml:{line}:" in done.stderr and "only the case's attachments" in done.stderr

    with ReplicaServer(upload_site()) as server:
        case = write_case(tmp_path, provider="uploader")
        done = run_cli("submit", "uploader", "--case", str(case), "--base-url", server.url, "--yes", home=home, env=env)
        assert done.returncode == 2, done.stderr
        assert f"uploader.yaml:{line}:" in done.stderr
        assert server.received == []
    assert not (home / "evidence").exists()


def test_a_list_of_files_must_be_attachment_references_too(tmp_path):
    env, flow_path = flows_env(tmp_path, "uploader", upload_flow('["{{ attachments[0] }}", "/etc/hostname"]'))
    done = run_cli("flow", "validate", str(flow_path), home=tmp_path / "home", env=env)
    assert done.returncode == 2
    assert "'/etc/hostname'" in done.stderr and "only the case's attachments" in done.stderr


def test_upload_sends_exactly_the_case_attachments_and_the_manifest_lists_them(tmp_path):
    env, _ = flows_env(tmp_path, "uploader", upload_flow('"{{ attachments }}"'))
    case = write_case(tmp_path, provider="uploader")
    attachments = {p.name: p.read_bytes() for p in (tmp_path / "demo-app-error.png", tmp_path / "demo-receipt.pdf")}
    out = tmp_path / "evidence"
    with ReplicaServer(upload_site()) as server:
        done = run_cli(
            "submit",
            "uploader",
            "--case",
            str(case),
            "--base-url",
            server.url,
            "--yes",
            "--json",
            "--out",
            str(out),
            home=tmp_path / "home",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        received = {f.filename: f.data for f in server.received[0].files}
    assert received == attachments
    manifest = json.loads((out / "manifest.json").read_text())
    uploaded = [u for a in manifest["actions"] for u in a["uploaded"]]
    assert {u["sha256"] for u in uploaded} == {hashlib.sha256(d).hexdigest() for d in attachments.values()}
    assert {u["path"] for u in uploaded} == {f"attachments/{name}" for name in attachments}
    by_path = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert all(by_path[u["path"]] == u["sha256"] for u in uploaded)


def test_upload_types_pick_a_subset_of_the_attachments(tmp_path):
    env, _ = flows_env(tmp_path, "uploader", upload_flow('"{{ attachments }}"', extra=", types: [application/pdf]"))
    case = write_case(tmp_path, provider="uploader")
    out = tmp_path / "evidence"
    with ReplicaServer(upload_site()) as server:
        done = run_cli(
            "submit",
            "uploader",
            "--case",
            str(case),
            "--base-url",
            server.url,
            "--yes",
            "--out",
            str(out),
            home=tmp_path / "home",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        received = {f.filename: f.data for f in server.received[0].files}
    assert received == {"demo-receipt.pdf": (tmp_path / "demo-receipt.pdf").read_bytes()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert [u["path"] for a in manifest["actions"] for u in a["uploaded"]] == ["attachments/demo-receipt.pdf"]


def _case_attack(tmp_path: Path, kind: str) -> tuple[Path, list[str], str]:
    """A case folder with one hostile attachment; returns (case file, extra CLI args, expected message)."""
    folder = tmp_path / "case"
    folder.mkdir()
    outside = tmp_path / "outside.png"
    outside.write_bytes((REPO / "flows" / "samples" / "demo-app-error.png").read_bytes())
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True, exist_ok=True)
    (home / "keys" / "evidence-ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    if kind == "absolute":
        return case_listing(folder, [str(outside)]), [], "is outside the case's folder"
    if kind == "dotdot":
        return case_listing(folder, ["../outside.png"]), [], "is outside the case's folder"
    if kind == "symlink":
        (folder / "innocent.png").symlink_to(outside)
        return case_listing(folder, ["innocent.png"]), [], "is outside the case's folder"
    if kind == "proc":
        return case_listing(folder, ["/proc/self/environ"]), [], "is outside the case's folder"
    if kind == "proc-cli":
        return case_listing(folder, []), ["--set", "attachments=/proc/self/environ"], "system file"
    if kind == "home-cli":
        return (
            case_listing(folder, []),
            ["--set", f"attachments={home}/keys/evidence-ed25519.pem"],
            "inside the assistant's own folder",
        )
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.png")
        return case_listing(folder, []), ["--set", f"attachments={tmp_path}/pipe.png"], "not a regular file"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "proc", "proc-cli", "home-cli", "fifo"])
def test_case_attachments_outside_the_case_folder_are_refused_by_check_and_submit(tmp_path, kind):
    case, extra, message = _case_attack(tmp_path, kind)
    home = tmp_path / "home"
    if not extra:  # `check` reads the case file only
        done = run_cli("check", "--case", str(case), home=home)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr and "attachments[0]" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "case.yaml:" in done.stderr
    with ReplicaServer(upload_site()) as server:
        done = run_cli("submit", "demo", "--case", str(case), *extra, "--base-url", server.url, "--yes", home=home)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
        assert server.received == []


def test_an_attachment_inside_the_home_is_refused_even_from_the_case_folder(tmp_path):
    folder = tmp_path / "case"
    home = folder / "home"  # a case folder that holds the assistant's home
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "evidence-ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    case = case_listing(folder, ["home/keys/evidence-ed25519.pem"])
    done = run_cli("check", "--case", str(case), home=home)
    assert done.returncode == 2
    assert "case.yaml:" in done.stderr and "inside the assistant's own folder" in done.stderr


def test_a_file_chosen_on_the_command_line_may_live_anywhere(tmp_path):
    # --set paths are the person's own choice, relative to the current folder, not to the case file.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "shot.png").write_bytes((REPO / "flows" / "samples" / "demo-app-error.png").read_bytes())
    env, _ = flows_env(tmp_path, "uploader", upload_flow('"{{ attachments }}"'))
    case = case_listing(tmp_path, [], provider="uploader")
    with ReplicaServer(upload_site()) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "assistant",
                "submit",
                "uploader",
                "--case",
                str(case),
                "--set",
                "attachments=shot.png",
                "--base-url",
                server.url,
                "--yes",
            ],
            env={**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), **env},
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        assert [(f.filename, f.data) for f in server.received[0].files] == [
            ("shot.png", (elsewhere / "shot.png").read_bytes())
        ]


# ---------------------------------------------------------- 6. secrets

MARKERS = {
    name: f"{name}{secrets.token_hex(6)}"
    for name in ("apikey", "urlpw", "pin", "header", "cookie", "redirect", "marked")
}
MARKERS["pw"] = f"pw{secrets.token_hex(6)} &=ü/"  # encodes differently as URL, form and JSON


def secrets_site(hold: dict | None = None) -> Site:
    """A login + form site that plants every kind of secret the issue lists."""
    site = Site(__file__, title="secrets")

    @site.get("/login")
    def login(request):
        page = site.page_text(
            "Log in",
            (
                '<form method="post" action="/login"><input id="user" name="user">'
                '<input id="pw" name="pw" type="password"><input id="pincode" name="pincode">'
                '<input id="extra" name="extra" style="position:absolute;left:50px;top:200px;width:300px;'
                'height:60px;background:#ffff00">'
                '<button id="login">Log in</button></form>'
                "<script>console.log('cookie ' + document.cookie);"
                "fetch('/api/token').then(r => r.json()).then(j => fetch('/api/ping', {headers: "
                "{'X-Session-Token': j.token}})).then(() => { document.body.dataset.ready = '1'; });</script>"
            ),
        )
        page.cookies.append(f"sid={MARKERS['cookie']}; Path=/")
        return page

    @site.get("/api/token")
    def token(request):
        from assistant.sites.replica import Response

        return Response(200, json.dumps({"token": MARKERS["header"]}).encode(), "application/json")

    @site.get("/api/ping")
    def ping(request):
        site.state["header"] = request.headers.get("x-session-token")
        return site.page_text("pong", "pong")

    @site.post("/login")
    def logged_in(request):
        site.state["login"] = dict(request.form)
        return site.redirect(f"/landing?token={MARKERS['redirect']}")

    @site.get("/landing")
    def landing(request):
        if hold is not None:
            hold["landed"] = True
            hold["release"].wait(120)  # the killed run: it stops here, mid-way
        return site.page_text(
            "Form",
            ('<form method="post" action="/send"><input id="msg" name="msg"><button id="send">Send</button></form>'),
        )

    @site.post("/send")
    def send(request):
        number = site.record(request, prefix="S-")
        return site.redirect(f"/sent?n={number}")

    @site.get("/sent")
    def sent(request):
        return site.page_text("Sent", f'<p>Number: <b id="number">{request.query.get("n", "")}</b></p>')

    return site


SECRETS_FLOW = f"""\
id: secretive
name: Plants secrets
homepage: "{{{{ base_url }}}}/"
allowed_hosts: [127.0.0.1]
channel: web_form
categories:
  payment: {{ label: Payments, deadline: {{ hours: 24 }} }}
steps:
  - goto: "{{{{ base_url }}}}/login?api_key={MARKERS["apikey"]}&pw={MARKERS["urlpw"]}"
  - wait_for: {{ selector: "body[data-ready='1']", state: attached }}
  - fill: {{ selector: "#user", value: "{{{{ case.contacts.email }}}}" }}
  - fill: {{ selector: "#pw", value: {json.dumps(MARKERS["pw"])} }}
  - fill: {{ selector: "#pincode", value: "{MARKERS["pin"]}" }}
  - fill: {{ selector: "#extra", value: "{MARKERS["marked"]}", secret: true }}
  - click: "#login"
  - wait_for: {{ url: "**/landing*" }}
  - screenshot: landing
  - fill: {{ selector: "#msg", value: "{{{{ request.subject }}}}" }}
  - submit: "#send"
success: {{ selector: "#number" }}
confirmation: {{ selector: "#number" }}
"""


def tmp_leftovers() -> set[Path]:
    return {p for p in Path("/tmp").glob("assistant-*")}


def test_no_planted_secret_is_written_anywhere(tmp_path):
    before = tmp_leftovers()
    env, _ = flows_env(tmp_path, "secretive", SECRETS_FLOW)
    home, out = tmp_path / "home", tmp_path / "evidence"
    case = write_case(tmp_path, provider="secretive")
    site = secrets_site()
    with ReplicaServer(site) as server:
        done = run_cli(
            "submit",
            "secretive",
            "--case",
            str(case),
            "--base-url",
            server.url,
            "--yes",
            "--json",
            "--out",
            str(out),
            home=home,
            env=env,
        )
        assert done.returncode == 0, done.stderr
    # The site really got every secret, so finding none below means something.
    assert site.state["login"]["pw"] == MARKERS["pw"] and site.state["login"]["pincode"] == MARKERS["pin"]
    assert site.state["login"]["extra"] == MARKERS["marked"]
    assert site.state["header"] == MARKERS["header"] and len(site.received) == 1
    har = json.loads((out / "logs" / "network.har").read_text())
    assert "[scrubbed]" in json.dumps(har)
    console = (out / "logs" / "console.jsonl").read_text()
    assert "cookie sid=[scrubbed]" in console
    assert len(leaks(list(MARKERS.values()), tmp_path / "flows")) == 5  # the scan finds what is there
    assert leaks(list(MARKERS.values()), home, out, out.with_suffix(".zip"), *(tmp_leftovers() - before)) == []
    assert not any((home / "tmp").iterdir())  # the run's raw HAR and browser profile are gone
    # The field marked secret: true is blacked out in the screenshot taken right after it was filled.
    from PIL import Image

    manifest = json.loads((out / "manifest.json").read_text())
    # The field as the page first showed it (the fills before it share the picture taken after it).
    before_fill = next(a["files"][0] for a in manifest["actions"] if a["kind"] == "goto")
    shot = next(a["files"][0] for a in manifest["actions"] if "#extra" in a["description"])
    assert Image.open(out / before_fill).convert("RGB").getpixel((200, 230)) == (255, 255, 0)
    assert max(Image.open(out / shot).convert("RGB").getpixel((200, 230))) < 16


def test_a_killed_run_leaves_no_raw_network_data_after_the_next_run_starts(tmp_path):
    import threading

    env, _ = flows_env(tmp_path, "secretive", SECRETS_FLOW)
    home = tmp_path / "home"
    case = write_case(tmp_path, provider="secretive")
    hold = {"release": threading.Event()}
    with ReplicaServer(secrets_site(hold)) as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant",
                "submit",
                "secretive",
                "--case",
                str(case),
                "--base-url",
                server.url,
                "--yes",
                "--timeout",
                "60",
            ],
            env={**os.environ, "ASSISTANT_HOME": str(home), **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not hold.get("landed"):
                time.sleep(0.05)
            assert hold.get("landed"), "the run never reached the page it is killed on"
            # (two when the browser was started while the flow loaded: assistant.run.warmup)
            runs = list((home / "tmp").glob(f"run-{proc.pid}-*"))
            assert any(list(run.glob("playwright_chromiumdev_profile-*")) for run in runs), "the profile is elsewhere"
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            hold["release"].set()
        assert all(run.is_dir() for run in runs)  # what a SIGKILL leaves: raw browser state, swept by the next run
        # (and, as this home is deep, the short name Chromium's socket path needed)
        assert [p for p in Path("/tmp").glob(f"assistant-run-{proc.pid}-*") if p.is_symlink()]
        again = run_cli(
            "submit",
            "secretive",
            "--case",
            str(case),
            "--base-url",
            server.url,
            "--dry-run",
            "--timeout",
            "20",
            home=home,
            env=env,
        )
        assert again.returncode == 0, again.stderr
    assert not any(run.exists() for run in runs)
    assert not [p for p in Path("/tmp").glob(f"assistant-run-{proc.pid}-*") if p.is_symlink()]
    assert not list(Path("/tmp").glob(f"playwright_chromiumdev_profile-*{proc.pid}*"))
    assert leaks(list(MARKERS.values()), home) == []


# --------------------------------------------------------------- traces


def test_trace_is_kept_outside_the_package_unless_asked(portal, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    done = run_cli(
        "submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes", "--json", "--trace", home=home
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    with zipfile.ZipFile(result["evidence_zip"]) as archive:
        assert not [n for n in archive.namelist() if "trace" in n]
    traces = list((home / "traces").glob("*.zip"))
    assert len(traces) == 1 and str(traces[0]) in done.stderr
    assert zipfile.is_zipfile(traces[0])

    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(case),
        "--base-url",
        portal.url,
        "--yes",
        "--json",
        "--force",
        "--trace-in-package",
        home=home,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(json.loads(done.stdout)["evidence_zip"]) as archive:
        assert [n for n in archive.namelist() if n.endswith("logs/trace.zip")]
    assert "warning: the Playwright trace is inside the evidence package" in done.stderr
    assert len(list((home / "traces").glob("*.zip"))) == 1


# ------------------------------------------------------------- 5. replicas

EVIL_SITE = """\
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("site.py ran")
from assistant.sites.replica import Site
site = Site(__file__)
"""


@pytest.mark.parametrize("replica", ["os:getcwd", "/tmp/evil", "builtin:other", "C:\\\\evil", "~/evil"])
def test_a_replica_is_a_folder_beside_the_flow_not_a_module_or_absolute_path(tmp_path, replica):
    text = (REPO / "flows" / "demo.yaml").read_text(encoding="utf-8").replace('"builtin:demo"', json.dumps(replica))
    env, path = flows_env(tmp_path, "demo", text)
    line = text.splitlines().index(f"  replica: {json.dumps(replica)}") + 1
    done = run_cli("flow", "validate", str(path), home=tmp_path / "home", env=env)
    assert done.returncode == 2
    assert f"demo.yaml:{line}:" in done.stderr and "test.replica" in done.stderr


@pytest.mark.parametrize("case", ["/etc/passwd", "../../etc/hostname", "~/.ssh/id_rsa", "samples/link.yaml"])
def test_a_flow_s_sample_case_stays_in_the_flow_s_folder(tmp_path, case):
    """`flow validate` reads test.case; a flow must not make it read (and quote) the person's files."""
    secret = tmp_path / "secret.yaml"
    secret.write_text("aws_access_key_id: PLANTED-NOT-TO-BE-READ\n")
    text = (REPO / "flows" / "demo.yaml").read_text(encoding="utf-8").replace("samples/demo-case.yaml", case)
    env, path = flows_env(tmp_path, "demo", text)
    (tmp_path / "flows" / "samples").mkdir()
    (tmp_path / "flows" / "samples" / "link.yaml").symlink_to(secret)  # a symlink out of the folder
    line = text.splitlines().index(f"  case: {case}") + 1
    done = run_cli("flow", "validate", str(path), home=tmp_path / "home", env=env)
    assert done.returncode == 2, done.stdout
    assert f"demo.yaml:{line}:" in done.stderr and "test.case" in done.stderr, done.stderr
    assert "PLANTED" not in done.stderr + done.stdout and len(done.stderr.strip().splitlines()) == 1


def test_validate_check_and_submit_never_run_a_replica_site_py(portal, tmp_path):
    evil = tmp_path / "flows" / "evil-site"
    evil.mkdir(parents=True)
    (evil / "site.py").write_text(EVIL_SITE)
    text = (REPO / "flows" / "demo.yaml").read_text(encoding="utf-8").replace('"builtin:demo"', '"evil-site"')
    env, path = flows_env(tmp_path, "demo", text)
    (tmp_path / "flows" / "samples").mkdir()
    (tmp_path / "flows" / "samples" / "demo-case.yaml").write_text(write_case(tmp_path).read_text())
    for name in ("demo-app-error.png", "demo-receipt.pdf"):
        (tmp_path / "flows" / "samples" / name).write_bytes((tmp_path / name).read_bytes())
    home = tmp_path / "home"
    assert run_cli("flow", "validate", str(path), home=home, env=env).returncode == 0
    done = run_cli("check", "--case", str(write_case(tmp_path)), "--flow", "demo", home=home, env=env)
    assert done.returncode == 0, done.stderr
    done = run_cli(
        "submit", "demo", "--case", str(write_case(tmp_path)), "--base-url", portal.url, "--dry-run", home=home, env=env
    )
    assert done.returncode == 0, done.stderr
    assert not (evil / "IMPORTED").exists()
    # `flow test` is what runs a replica, and it does run this one.
    run_cli("flow", "test", str(path), "--timeout", "1", home=home, env=env)
    assert (evil / "IMPORTED").exists()


def test_replica_code_from_outside_the_assistant_is_named_before_it_runs(tmp_path):
    """flow test, replay and flow serve name the site.py they are about to import, once a run;
    the assistant's own replicas need no such word."""
    evil = tmp_path / "flows" / "evil-site"
    evil.mkdir(parents=True)
    (evil / "site.py").write_text(EVIL_SITE)
    text = (REPO / "flows" / "1cupis-feedback.yaml").read_text(encoding="utf-8")
    replica = next(line for line in text.splitlines() if line.strip().startswith("replica:"))
    env, path = flows_env(tmp_path, "1cupis-feedback", text.replace(replica, '  replica: "evil-site"'))
    shutil.copytree(REPO / "flows" / "samples", tmp_path / "flows" / "samples")
    home = tmp_path / "home"
    named = f"note: running {(evil / 'site.py').resolve()}: 1cupis-feedback's test site, Python from outside"
    for command in (["flow", "test", str(path), "--timeout", "1"], ["replay", "1cupis-feedback", "--timeout", "1"]):
        (evil / "IMPORTED").unlink(missing_ok=True)
        done = run_cli(*command, home=home, env=env)
        assert done.stderr.count(named) == 1, done.stderr
        assert (evil / "IMPORTED").exists()  # and it did run, after the note
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant", "flow", "serve", "1cupis-feedback"],
        env={**os.environ, "ASSISTANT_HOME": str(home), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert named in server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)
    done = run_cli("flow", "test", "demo", home=home)  # bundled: builtin:demo
    assert done.returncode == 0 and "note: running" not in done.stderr, done.stderr
    done = run_cli("flow", "test", "1cupis-feedback", home=home)  # bundled, with a site.py of its own
    assert done.returncode == 0 and "note: running" not in done.stderr, done.stderr


def test_a_typed_password_is_scrubbed_from_error_messages_too(tmp_path):
    # Playwright's own message repeats the expected text; here that text is the password.
    flow = SECRETS_FLOW.replace(
        '  - click: "#login"\n',
        f'  - assert_text: {{ selector: "#user", equals: {json.dumps(MARKERS["pw"])}, timeout: 1 }}\n'
        '  - click: "#login"\n',
    )
    env, _ = flows_env(tmp_path, "secretive", flow)
    home, out = tmp_path / "home", tmp_path / "evidence"
    with ReplicaServer(secrets_site()) as server:
        done = run_cli(
            "submit",
            "secretive",
            "--case",
            str(write_case(tmp_path, provider="secretive")),
            "--base-url",
            server.url,
            "--yes",
            "--out",
            str(out),
            home=home,
            env=env,
        )
    assert done.returncode == 1, done.stderr
    assert "failed" in done.stderr and "[scrubbed]" in done.stderr
    assert MARKERS["pw"] not in done.stderr
    assert "[scrubbed]" in (out / "failure" / "error.txt").read_text()
    assert leaks([MARKERS["pw"]], home, out, out.with_suffix(".zip")) == []
