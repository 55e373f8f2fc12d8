"""Real forms as they are: each shape of tests/sites/realforms, filed through the real browser.

Each test asserts the outcome, the words the person reads, the exit code, the journal and
whether the same case may be sent again.
"""

from __future__ import annotations

import json
import os
import socket
from io import StringIO
from pathlib import Path

import pytest
from helpers import REPO, run_cli, submissions
from ruamel.yaml import YAML

from assistant.errors import ExitStatus
from assistant.sites.replica import ReplicaServer, load_site

FLOWS = REPO / "tests" / "flows"
ENV = {"ASSISTANT_FLOWS": str(FLOWS)}


@pytest.fixture(scope="module")
def forms():
    with ReplicaServer(load_site(REPO / "tests" / "sites" / "realforms")) as server:
        yield server


def case_for(tmp: Path, flow: str, name: str = "case.yaml", **changes) -> Path:
    yaml = YAML()
    data = yaml.load((FLOWS / "samples" / "refusals-case.yaml").read_text(encoding="utf-8"))
    data["provider"] = flow
    data.update(changes)
    buffer = StringIO()
    yaml.dump(data, buffer)
    path = tmp / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def file_it(flow: str, case: Path, home: Path, site, *extra: str, env: dict | None = None):
    return run_cli(
        "submit", flow, "--case", str(case), "--base-url", site.url, "--yes", *extra, home=home, env=env or ENV
    )


def manifest_of(home: Path) -> dict:
    (folder,) = [p for p in sorted((home / "evidence").iterdir()) if (p / "manifest.json").is_file()][-1:]
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ accepted, no number


def test_a_thank_you_page_with_no_number_is_accepted_and_its_number_can_come_later(forms, tmp_path):
    home, case = tmp_path / "home", case_for(tmp_path, "realforms-thanks")
    before = len(forms.received)
    done = file_it("realforms-thanks", case, home, forms)
    assert done.returncode == ExitStatus.OK, done.stderr
    assert "accepted by the provider (its page gives no request number)" in done.stdout
    assert "assistant cases number 1 NUMBER" in done.stdout
    assert "error:" not in done.stderr and "unknown" not in done.stderr
    assert len(forms.received) == before + 1

    [row] = submissions(home)
    assert (row["status"], row["confirmation"]) == ("confirmed", None)
    assert row["due_at"], "the deadline clock starts"
    manifest = manifest_of(home)
    assert manifest["submission"]["outcome"] == "accepted" and manifest["submission"]["confirmation"] is None
    roles = {f["role"] for f in manifest["files"]}
    assert "confirmation" in roles and "failure" not in roles, "the thank-you page is the confirmation"
    assert (
        run_cli("evidence", "verify", str(home / "evidence" / Path(row["evidence_dir"]).name), home=home).returncode
        == 0
    )

    listed = run_cli("cases", home=home)
    assert "(accepted, no number yet)" in listed.stdout, listed.stdout

    again = file_it("realforms-thanks", case, home, forms)
    assert again.returncode == ExitStatus.REFUSED, again.stderr
    assert "accepted, the provider gave no number" in again.stderr and "--force" in again.stderr
    assert len(forms.received) == before + 1, "nothing was sent again"

    numbered = run_cli("cases", "number", "1", "TH-000777", "--json", home=home)
    assert numbered.returncode == 0, numbered.stderr
    assert json.loads(numbered.stdout)["submission"]["confirmation"] == "TH-000777"
    shown = json.loads(run_cli("cases", "show", "1", "--json", home=home).stdout)
    assert shown["status"] == "open" and shown["submissions"][0]["confirmation"] == "TH-000777"
    assert any("TH-000777" in (h["note"] or "") for h in shown["history"])
    twice = run_cli("cases", "number", "1", "TH-000778", home=home)
    assert (
        twice.returncode == ExitStatus.BAD_INPUT and "none of its requests is accepted with no number" in twice.stderr
    )


def test_json_says_accepted_with_no_number(forms, tmp_path):
    home = tmp_path / "home"
    done = file_it("realforms-thanks", case_for(tmp_path, "realforms-thanks"), home, forms, "--json")
    assert done.returncode == ExitStatus.OK, done.stderr
    told = json.loads(done.stdout)
    assert (told["status"], told["confirmation"], told["case_id"]) == ("accepted", None, 1)


def test_a_flow_looking_for_a_number_the_page_lacks_still_accepts_and_names_its_line(forms, tmp_path):
    home = tmp_path / "home"
    done = file_it("realforms-thanks-number", case_for(tmp_path, "realforms-thanks-number"), home, forms)
    assert done.returncode == ExitStatus.OK, done.stderr
    assert "accepted by the provider (its page gives no request number)" in done.stdout
    flow_file = FLOWS / "realforms-thanks-number.yaml"
    assert (
        f"no request number was found where the flow looks ({flow_file}:22: no '#ticket' on the page); "
        "the flow may need updating" in done.stderr
    ), done.stderr
    assert "Timeout" not in done.stderr and "Locator" not in done.stderr
    [row] = submissions(home)
    assert (row["status"], row["confirmation"]) == ("confirmed", None)
    assert "the flow may need updating" in manifest_of(home)["submission"]["reason"]


def test_flow_test_passes_a_no_number_flow_and_fails_one_that_reads_no_number(tmp_path):
    done = run_cli("flow", "test", "realforms-thanks", "--json", home=tmp_path / "home", env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    [result] = json.loads(done.stdout)
    assert result["ok"] and result["confirmation"] is None

    # The same page, with a flow that expects a number there: the test says what was read.
    folder = tmp_path / "flows"
    folder.mkdir()
    replica = os.path.relpath(REPO / "tests" / "sites" / "realforms", folder)
    (folder / "samples").mkdir()
    (folder / "samples" / "case.yaml").write_text(
        (FLOWS / "samples" / "refusals-case.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    text = (FLOWS / "realforms-thanks-number.yaml").read_text(encoding="utf-8")
    text += f"test:\n  replica: {replica}\n  case: samples/case.yaml\n  confirmation: 'TH-\\d{{6}}'\n"
    (folder / "realforms-thanks-number.yaml").write_text(text, encoding="utf-8")
    failed = run_cli(
        "flow",
        "test",
        "realforms-thanks-number",
        "--json",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(folder)},
    )
    assert failed.returncode != 0
    [result] = json.loads(failed.stdout)
    assert not result["ok"] and "no number was read" in result["message"] and "#ticket" in result["message"]


# ------------------------------------------------------------------ transport truth


def dead_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def down_flow(folder: Path, scheme: str, port: int) -> None:
    """The thanks flow, its form posting to a server that is down."""
    text = (FLOWS / "realforms-thanks.yaml").read_text(encoding="utf-8")
    text = text.replace("id: realforms-thanks", "id: realforms-down")
    text = text.replace("allowed_hosts: [127.0.0.1]", f'allowed_hosts: [127.0.0.1, "{scheme}://127.0.0.1:{port}"]')
    text = text.replace('goto: "{{ base_url }}/thanks"', f'goto: "{{{{ base_url }}}}/down?scheme={scheme}&port={port}"')
    text = text[: text.index("test:\n")]
    folder.mkdir(exist_ok=True)
    (folder / "realforms-down.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_server_down_before_the_click_is_not_sent_and_a_resend_is_allowed(forms, tmp_path, scheme):
    home, port = tmp_path / "home", dead_port()
    down_flow(tmp_path / "flows", scheme, port)
    env = {"ASSISTANT_FLOWS": str(tmp_path / "flows")}
    case = case_for(tmp_path, "realforms-down")
    done = file_it("realforms-down", case, home, forms, env=env)
    assert done.returncode == ExitStatus.RUN_FAILED, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith("error: not sent: the provider's site could not be reached (POST "), line
    assert "Nothing was filed" in line and "sent, but" not in done.stderr and "may have it" not in done.stderr
    if scheme == "http":
        assert "connection refused" in line
    [row] = submissions(home)
    assert row["status"] == "not_filed", row
    assert manifest_of(home)["submission"]["outcome"] == "not_submitted"
    again = file_it("realforms-down", case, home, forms, env=env)
    assert again.returncode == ExitStatus.RUN_FAILED and "already" not in again.stderr, "a resend is allowed"


# ------------------------------------------------------------------ refusals on every page, by kind


def test_a_wizard_refusing_its_first_step_is_rejected_there_in_the_sites_words(forms, tmp_path):
    home = tmp_path / "home"
    before = len(forms.received)
    bad = case_for(tmp_path, "realforms-wizard", "bad.yaml", order_id="HX-42")
    done = file_it("realforms-wizard", bad, home, forms, "--json")
    assert done.returncode == ExitStatus.REJECTED, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert "step 3 (click selector='#next')" in line, line
    assert 'Номер заказа: "Enter a valid order number, like HX-2026-0042."' in line
    assert "The form stopped at this step, before the submit. Nothing was filed; fix the case" in line
    assert "step 4" not in done.stderr and "never appeared" not in done.stderr and "Timeout" not in done.stderr
    told = json.loads(done.stdout)
    assert told["status"] == "rejected"
    assert submissions(home) == [], "nothing was journalled: the submit was never reached"
    assert manifest_of(home)["submission"]["outcome"] == "rejected"
    assert manifest_of(home)["submission"]["refusal"] == "fields"

    good = file_it("realforms-wizard", case_for(tmp_path, "realforms-wizard"), home, forms, "--json")
    assert good.returncode == ExitStatus.OK, good.stderr
    assert json.loads(good.stdout)["confirmation"] == forms.received[-1].number
    assert len(forms.received) == before + 1


def shaped_flow(folder: Path, path: str, extra: str = "") -> str:
    """The thanks flow on another of the replica's forms (`extra`: steps before the submit)."""
    flow_id = f"realforms-{path}"
    text = (FLOWS / "realforms-thanks.yaml").read_text(encoding="utf-8")
    text = text.replace("id: realforms-thanks", f"id: {flow_id}").replace("/thanks", f"/{path}")
    text = text.replace('  - submit: "#send"', f'{extra}  - submit: "#send"')
    text = text[: text.index("test:\n")]
    folder.mkdir(exist_ok=True)
    (folder / f"{flow_id}.yaml").write_text(text, encoding="utf-8")
    return flow_id


KINDS = {
    # path: (steps it needs, the site's words quoted, the advice, the journal's refusal kind)
    "expired": (
        "",
        '"Forbidden (403): CSRF verification failed. Request aborted."',
        "the site no longer accepts this session or the form's security token; submit again",
        "session",
    ),
    "session": ("", "Вход", "the site no longer accepts this session", "session"),
    "captcha": (
        '  - fill: { selector: "#id_captcha", value: "x7k2" }\n',
        'Код с картинки: "Неверный код с картинки."',
        "the CAPTCHA answer was not accepted; submit again with --headed and type it again",
        "captcha",
    ),
    "busy": (
        "",
        "Слишком много запросов: Повторите через 2 минуты.",
        "the site asks you to wait (Retry-After: 120); submit again later",
        "rate_limit",
    ),
}


@pytest.mark.parametrize("path", list(KINDS))
def test_a_refusal_that_is_not_about_the_case_gets_its_own_advice(forms, tmp_path, path):
    extra, words, advice, kind = KINDS[path]
    home = tmp_path / "home"
    if path == "captcha":  # the captcha form has no e-mail or order fields
        text = shaped_flow(tmp_path / "flows", path, extra)
        flow_file = tmp_path / "flows" / f"{text}.yaml"
        lines = [
            line for line in flow_file.read_text().splitlines() if "#id_email" not in line and "#id_order" not in line
        ]
        flow_file.write_text("\n".join(lines) + "\n")
        flow_id = text
    else:
        flow_id = shaped_flow(tmp_path / "flows", path, extra)
    env = {"ASSISTANT_FLOWS": str(tmp_path / "flows")}
    case = case_for(tmp_path, flow_id)
    done = file_it(flow_id, case, home, forms, env=env)
    assert done.returncode == ExitStatus.REJECTED, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith("error: rejected by the provider: ") and words in line and advice in line, line
    assert "fix the case" not in line
    [row] = submissions(home)
    assert (row["status"], row["refusal"]) == ("rejected", kind)
    assert manifest_of(home)["submission"]["refusal"] == kind
    shown = json.loads(run_cli("cases", "show", "1", "--json", home=home).stdout)
    assert "fix the case" not in shown["submissions"][0]["said"]
    again = file_it(flow_id, case, home, forms, env=env)  # nothing was filed: sent again, no --force
    assert again.returncode == ExitStatus.REJECTED and "already" not in again.stderr, again.stderr
    assert [r["status"] for r in submissions(home)] == ["rejected", "rejected"]
