"""A case folder is hostile input too: files swapped under the run, files too big to read,
text that would become an email header, and local paths a template could type into a page.

Each test runs the real CLI (or, for a swap the CLI cannot be paused at, the staging itself)
against a replica on 127.0.0.1 that keeps every byte it receives.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli, write_case
from test_containment import case_listing, flows_env, upload_flow, upload_site

from assistant.errors import InputError
from assistant.sites.replica import ReplicaServer

OUTSIDE = b"the person's private key, outside the case folder\n"


def test_a_file_swapped_for_a_link_during_the_run_is_not_what_the_site_receives(tmp_path):
    """The form page swaps the case's picture for a link to a file outside the case folder (as
    anyone who can write the folder could) after the run has started: the site receives the
    picture the case was checked with, and the manifest's hash is that picture's."""
    env, _ = flows_env(tmp_path, "uploader", upload_flow('"{{ attachments }}"'))
    case = write_case(tmp_path, provider="uploader")
    picture = tmp_path / "demo-app-error.png"
    original = picture.read_bytes()
    secret = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    secret.write_bytes(OUTSIDE)
    site = upload_site()

    @site.get("/swap")
    def swap(request):
        picture.unlink()
        picture.symlink_to(secret)
        return site.redirect("/")

    flow = upload_flow('"{{ attachments }}"').replace('  - goto: "{{ base_url }}/"', '  - goto: "{{ base_url }}/swap"')
    (tmp_path / "flows" / "uploader.yaml").write_text(flow, encoding="utf-8")
    out = tmp_path / "evidence"
    with ReplicaServer(site) as server:
        done = run_cli(
            "submit", "uploader", "--case", str(case), "--base-url", server.url, "--yes", "--out", str(out),
            home=tmp_path / "home", env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert picture.is_symlink()  # the swap did happen, before the upload step
        received = {f.filename: f.data for f in server.received[0].files}
    assert received["demo-app-error.png"] == original
    assert OUTSIDE not in b"".join(received.values())
    manifest = json.loads((out / "manifest.json").read_text())
    uploaded = {u["path"]: u["sha256"] for a in manifest["actions"] for u in a["uploaded"]}
    assert uploaded["attachments/demo-app-error.png"] == hashlib.sha256(original).hexdigest()
    assert (out / "attachments" / "demo-app-error.png").read_bytes() == original


def _loaded(tmp_path: Path):
    from assistant.language.case import load_case

    case_file = write_case(tmp_path)
    return load_case(case_file, home=tmp_path / "home")


def test_a_file_swapped_between_the_check_and_the_copy_is_refused(tmp_path):
    from assistant.casework.attachments import stage

    case = _loaded(tmp_path)
    secret = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    secret.write_bytes(OUTSIDE)
    checked = case.attachments[0]
    checked.unlink()
    checked.symlink_to(secret)
    with pytest.raises(
        InputError,
        match=r"case\.yaml:\d+:\d+: attachments\[0\]: .* changed after the case was checked \(it is now a link\)",
    ):
        stage(case, tmp_path / "run")
    assert not (tmp_path / "run" / checked.name).exists()


def test_a_folder_swapped_on_the_way_to_a_file_is_refused(tmp_path):
    from assistant.casework.attachments import stage

    folder = tmp_path / "case"
    (folder / "shots").mkdir(parents=True)
    (folder / "shots" / "proof.pdf").write_bytes(b"%PDF-1.4\n% the proof\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "proof.pdf").write_bytes(b"%PDF-1.4\n% someone else's file\n")
    from assistant.language.case import load_case

    case = load_case(case_listing(folder, ["shots/proof.pdf"]), home=tmp_path / "home")
    (folder / "shots").rename(folder / "moved")
    (folder / "shots").symlink_to(elsewhere)
    with pytest.raises(InputError, match="a folder on its way now leads to"):
        stage(case, tmp_path / "run")


def test_what_is_staged_is_the_file_as_checked_with_its_own_time(tmp_path):
    from assistant.casework.attachments import stage
    from assistant.language.case import load_case

    case_file = write_case(tmp_path)
    os.utime(tmp_path / "demo-app-error.png", (1_700_000_000, 1_700_000_000))
    case = load_case(case_file, home=tmp_path / "home")
    staged = stage(case, tmp_path / "run")
    copy = staged.attachments[0]
    assert copy.parent == tmp_path / "run" and copy.name == case.attachments[0].name
    assert copy.read_bytes() == case.attachments[0].read_bytes()
    assert copy.stat().st_mtime == 1_700_000_000
    assert staged.fingerprint() == case.fingerprint()
    assert staged.as_filed()["attachments"] == [str(p) for p in case.attachments]


def sparse(path: Path, size: int, head: bytes) -> Path:
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


# Runs `python -m assistant ARGS` and, as it exits, writes its peak memory (VmHWM: the peak of
# this program's own memory; ru_maxrss would also count the forking test process it started as).
PEAK = """
import atexit, runpy, sys
target = sys.argv[1]
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(target, "w").write(line.split()[1])
atexit.register(peak)
sys.argv = ["assistant", *sys.argv[2:]]
runpy.run_module("assistant", run_name="__main__")
"""


def peak_rss_mb(args: list[str], env: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run the assistant with `args`; what it printed and its own peak memory in MB."""
    out = tmp_path / f"peak-{len(list(tmp_path.glob('peak-*')))}"
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(out), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    return done, int(out.read_text()) / 1024


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (1024**3, "is 1.0 GB; a case attaches files of up to 100.0 MB"),  # over what any case may attach
        (90 * 1024**2, "is too big and cannot be converted"),  # under that, over what the flow takes
    ],
)
def test_check_and_submit_refuse_a_huge_file_alike_without_reading_it(tmp_path, size, words):
    case = write_case(tmp_path)
    sparse(tmp_path / "demo-receipt.pdf", size, b"%PDF-1.4\n")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    checked, check_peak = peak_rss_mb(["check", "--case", str(case)], env, tmp_path)
    submitted, submit_peak = peak_rss_mb(
        ["submit", "demo", "--case", str(case), "--base-url", "http://127.0.0.1:9", "--yes"], env, tmp_path
    )
    assert checked.returncode == 2 and submitted.returncode == 2, checked.stderr + submitted.stderr
    assert words in checked.stdout + checked.stderr
    assert words in submitted.stderr and "Traceback" not in submitted.stderr
    # A whole read of the file would take at least its size: both stay under it (and under 250 MB).
    bound = min(250, size / 1024**2)
    assert check_peak < bound and submit_peak < bound, (check_peak, submit_peak)


@pytest.mark.parametrize("field", ["subject", "contacts.full_name", "order_id"])
def test_a_line_break_in_a_header_field_is_bad_input_naming_the_field(tmp_path, field):
    from ruamel.yaml import YAML

    home = tmp_path / "home"
    case = write_case(tmp_path)
    yaml = YAML()
    data = yaml.load(case.read_text(encoding="utf-8"))
    *parents, name = field.split(".")
    node = data
    for parent in parents:
        node = node[parent]
    node[name] = "Card charged\nBcc: everyone@example.com"
    with open(case, "w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    for command in (["check"], ["submit", "demo-email", "--eml-only", "--yes"]):
        done = run_cli(*command, "--case", str(case), home=home)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert "case.yaml:" in done.stderr and f"{field}: must be one line" in done.stderr, done.stderr
    assert not list(home.glob("evidence/*/message.eml"))


def test_an_address_with_a_line_break_is_refused_before_anything_is_written(tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    for option in (
        ["--to", "support@example.com\nBcc: x@example.com"],
        ["--smtp-from", "me@example.com\r\nBcc: x@y.z"],
    ):
        done = run_cli("submit", "demo-email", "--case", str(case), "--eml-only", "--yes", *option, home=home)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "is not an email address" in done.stderr
    assert not list(home.glob("evidence/*/message.eml"))


def test_templates_see_file_names_never_where_the_files_are(tmp_path):
    flow = upload_flow('"{{ attachments }}"').replace(
        '  - fill: { selector: "#msg", value: "{{ request.subject }}" }',
        '  - fill: { selector: "#msg", value: \'{{ attachments | join(" ") }} | {{ case.attachments | join(" ") }} | {{ case | string }}\' }',
    )
    env, _ = flows_env(tmp_path, "uploader", flow)
    case = write_case(tmp_path, provider="uploader")
    with ReplicaServer(upload_site()) as server:
        done = run_cli(
            "submit", "uploader", "--case", str(case), "--base-url", server.url, "--yes",
            home=tmp_path / "home", env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        sent = server.received[0].fields["msg"]
    assert sent.startswith("demo-app-error.png demo-receipt.pdf | demo-app-error.png demo-receipt.pdf | ")
    assert str(tmp_path) not in sent and str(tmp_path / "home") not in sent and "/tmp" not in sent


def test_a_file_name_with_a_line_break_is_bad_input(tmp_path):
    odd = tmp_path / "receipt\nBcc: x@example.com.pdf"
    odd.write_bytes(b"%PDF-1.4\n")
    case = case_listing(tmp_path, [odd.name])
    done = run_cli("check", "--case", str(case), home=tmp_path / "home")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "case.yaml:" in done.stderr and "control character in the name; rename the file" in done.stderr


def test_a_hard_link_to_a_file_elsewhere_is_refused(tmp_path):
    """A second name for a file inside the case's folder says nothing of where the file is: a
    hard link to the home's signing key would pass any check of the path."""
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    key = home / "keys" / "evidence-ed25519.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    folder = tmp_path / "case"
    folder.mkdir()
    os.link(key, folder / "receipt.pdf")
    done = run_cli("check", "--case", str(case_listing(folder, ["receipt.pdf"])), home=home)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "case.yaml:" in done.stderr and "has 2 names on this disk (a hard link)" in done.stderr


def test_a_pipe_in_place_of_a_checked_file_is_refused_at_once(tmp_path):
    from assistant.language.case import open_once

    pipe = tmp_path / "receipt.pdf"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match="is not a regular file"):
        open_once(pipe, "case.yaml:9:3: attachments[0]")  # returns at once: nothing opened it for writing


def test_another_file_renamed_in_after_the_check_is_not_copied(tmp_path):
    from assistant.casework.attachments import stage

    case = _loaded(tmp_path)
    checked = case.attachments[1]  # demo-receipt.pdf
    impostor = tmp_path / "impostor.pdf"
    impostor.write_bytes(b"%PDF-1.4\n% not the receipt the case was checked with\n")
    impostor.rename(checked)
    with pytest.raises(InputError, match=r"demo-receipt\.pdf changed after the case was checked \(another file"):
        stage(case, tmp_path / "run")


def test_a_small_file_holding_a_huge_picture_is_refused_before_it_is_decoded(tmp_path):
    from PIL import Image

    case = write_case(tmp_path)
    Image.new("1", (13_300, 13_300)).save(tmp_path / "demo-app-error.png")  # a few KB on disk
    done, peak = peak_rss_mb(
        ["check", "--case", str(case)],
        {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"},
        tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is a picture of 13300 × 13300 pixels; a case attaches pictures of up to 89 megapixels" in done.stderr
    assert peak < 250, peak
