"""The email channel: a real SMTP server on 127.0.0.1 receives exactly the composed request."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from pathlib import Path

import pytest
import smtp_server
from helpers import SAMPLES, json_out, run_cli, submissions, write_case

from assistant.casework.compose import compose, signing_key
from assistant.errors import ExitStatus
from assistant.language.case import load_case
from assistant.language.flow import find_flow, load_flow


@pytest.fixture
def smtp(tmp_path_factory):
    server, controller = smtp_server.start(tmp_path_factory.mktemp("smtp"))
    try:
        yield server
    finally:
        controller.stop()


def send(case: Path, home: Path, server, *extra: str, flow: str = "demo-email"):
    return run_cli("submit", flow, "--case", str(case), *server.cli_args(), *extra, home=home, env=server.env())


def test_email_flow_sends_the_request_and_evidence_byte_for_byte(smtp, tmp_path):
    home = tmp_path / "home"
    case_path = write_case(tmp_path)
    result = json_out(send(case_path, home, smtp, "--yes", "--json"))

    assert smtp.logins == [("anna", "s3cret-app-password")]  # from the environment, over STARTTLS
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received.login == "anna"
    assert received.mail_from == "anna.petrova@example.com"
    assert received.rcpt_tos == ["support@demomarket.example"]
    message = email.message_from_bytes(received.content, policy=email.policy.default)

    case = load_case(case_path)
    flow = load_flow(find_flow("demo-email"))
    request = compose(case, flow=flow, signed_by=signing_key(home))
    assert message["Subject"] == "[DemoMarket] Card charged but order not placed"
    assert message["To"] == "support@demomarket.example"
    assert message["From"] == "Анна Петрова <anna.petrova@example.com>"
    assert message["Message-ID"] == result["confirmation"]
    body = message.get_body(preferencelist=("plain",))
    # SMTP carries text with CRLF line ends (RFC 5321); the words are exactly the composed request.
    assert body.get_content().replace("\r\n", "\n").rstrip("\n") == request.body
    assert "SHA-256 " in request.body and "DM-2026-114512" in request.body
    attached = [
        (part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()
    ]
    assert attached == [
        ("demo-app-error.png", "image/png", (SAMPLES / "demo-app-error.png").read_bytes()),
        ("demo-receipt.pdf", "application/pdf", (SAMPLES / "demo-receipt.pdf").read_bytes()),
    ]

    # The journal: confirmed, the Message-ID as the reference, the .eml kept as evidence.
    rows = submissions(home)
    assert [(r["status"], r["channel"], r["confirmation"], r["message_id"]) for r in rows] == [
        ("confirmed", "email", result["confirmation"], result["confirmation"])
    ]
    kept = (Path(result["evidence_dir"]) / "message.eml").read_bytes()
    assert kept.replace(b"\r\n", b"\n") == received.content.replace(b"\r\n", b"\n")
    assert rows[0]["manifest_sha256"] and rows[0]["due_at"]


def test_eml_only_writes_the_message_and_sends_nothing(smtp, tmp_path):
    home = tmp_path / "home"
    done = run_cli(
        "submit", "demo-email", "--case", str(write_case(tmp_path)), "--eml-only", "--yes", "--json", home=home
    )
    result = json_out(done)
    assert result["status"] == "eml_written" and smtp.messages == []
    eml = Path(result["evidence_dir"]) / "message.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] == result["confirmation"]
    assert [p.get_filename() for p in message.iter_attachments()] == ["demo-app-error.png", "demo-receipt.pdf"]
    assert [r["message_id"] for r in submissions(home)] == [result["confirmation"]]


def test_the_provider_number_replaces_the_message_id(smtp, tmp_path):
    home = tmp_path / "home"
    result = json_out(send(write_case(tmp_path), home, smtp, "--yes", "--json"))
    done = run_cli(
        "cases",
        "reply",
        result["confirmation"],
        "--number",
        "DM-SUP-77812",
        "--text",
        "We are looking into it.",
        home=home,
    )
    assert done.returncode == 0, done.stderr
    shown = json_out(run_cli("cases", "show", "DM-SUP-77812", "--json", home=home))
    assert shown["status"] == "answered"
    assert [(s["confirmation"], s["message_id"]) for s in shown["submissions"]] == [
        ("DM-SUP-77812", result["confirmation"])
    ]
    assert shown["replies"][0]["text"] == "We are looking into it."


def test_no_password_fails_before_anything_is_journalled(smtp, tmp_path):
    home = tmp_path / "home"
    env = {
        "SSL_CERT_FILE": str(smtp.cert),
        "ASSISTANT_SMTP_PASSWORD": "",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    done = run_cli(
        "submit", "demo-email", "--case", str(write_case(tmp_path)), *smtp.cli_args(), "--yes", home=home, env=env
    )
    assert done.returncode == 2
    assert "ASSISTANT_SMTP_PASSWORD" in done.stderr and "keyring" in done.stderr
    assert smtp.messages == [] and submissions(home) == []


def test_wrong_password_is_refused_and_nothing_is_journalled(smtp, tmp_path):
    home = tmp_path / "home"
    env = {**smtp.env(), "ASSISTANT_SMTP_PASSWORD": "wrong"}
    done = run_cli(
        "submit", "demo-email", "--case", str(write_case(tmp_path)), *smtp.cli_args(), "--yes", home=home, env=env
    )
    assert done.returncode == 2 and "refused the login" in done.stderr and "nothing was sent" in done.stderr
    assert smtp.messages == [] and submissions(home) == []


def test_second_filing_by_email_after_the_web_form_is_refused(portal, smtp, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    web = json_out(
        run_cli("submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes", "--json", home=home)
    )
    # Something new in the text: not the same case, but the same matter (provider + order number).
    changed = write_case(
        tmp_path, description="I paid for order DM-2026-114512 and the money is gone, the order is not in my account."
    )
    again = send(changed, home, smtp, "--yes")
    assert again.returncode == 3, again.stderr
    assert web["confirmation"] in again.stderr and "web_form" in again.stderr and "--force" in again.stderr
    assert smtp.messages == []
    assert len(submissions(home)) == 1
    forced = send(changed, home, smtp, "--yes", "--force", "--json")
    assert json_out(forced)["status"] == "confirmed" and len(smtp.messages) == 1


def test_password_from_the_system_keyring_when_not_in_the_environment(smtp, tmp_path):
    home = tmp_path / "home"
    store = tmp_path / "keyring.json"
    store.write_text(json.dumps({"support-assistant-smtp/anna": smtp.password}))
    env = {
        "SSL_CERT_FILE": str(smtp.cert),
        "ASSISTANT_SMTP_PASSWORD": "",
        "PYTHON_KEYRING_BACKEND": "keyring_backend.FileKeyring",
        "PYTHONPATH": str(Path(__file__).parent),
        "KEYRING_FILE": str(store),
    }
    done = run_cli(
        "submit",
        "demo-email",
        "--case",
        str(write_case(tmp_path)),
        *smtp.cli_args(),
        "--yes",
        "--json",
        home=home,
        env=env,
    )
    assert json_out(done)["status"] == "confirmed"
    assert smtp.logins == [("anna", smtp.password)] and len(smtp.messages) == 1


def test_attachments_are_fitted_to_the_email_flow_limits(smtp, tmp_path):
    import random

    from PIL import Image

    flows = tmp_path / "flows"
    flows.mkdir()
    text = (Path(__file__).parent.parent / "flows" / "demo-email.yaml").read_text()
    (flows / "tinymail.yaml").write_text(
        text.replace("id: demo-email", "id: tinymail").replace("max_bytes: 5242880", "max_bytes: 200000")
    )
    rng = random.Random(4)
    noisy = Image.frombytes("RGB", (900, 700), bytes(rng.getrandbits(8) for _ in range(900 * 700 * 3)))
    case = write_case(tmp_path, attachments=None)
    noisy.save(tmp_path / "big-screenshot.png")
    assert (tmp_path / "big-screenshot.png").stat().st_size > 1_000_000
    case.write_text(case.read_text() + "attachments:\n- big-screenshot.png\n")
    env = {**smtp.env(), "ASSISTANT_FLOWS": str(flows)}
    done = run_cli(
        "submit", "tinymail", "--case", str(case), *smtp.cli_args(), "--yes", "--json", home=tmp_path / "home", env=env
    )
    result = json_out(done)
    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    [part] = list(message.iter_attachments())
    data = part.get_content()
    assert part.get_content_type() == "image/jpeg" and data.startswith(b"\xff\xd8\xff") and len(data) <= 200_000
    # The text lists what was attached, with the hash of the bytes that were sent.
    body = message.get_body(preferencelist=("plain",)).get_content()
    # ... and that it is a copy fitted from the person's file, not the file itself.
    fitted = f"{part.get_filename()} (from big-screenshot.png, fitted to the provider's limits; file last modified "
    assert fitted in body and hashlib.sha256(data).hexdigest() in body
    # As in a web-form package: the person's file as given, and the fitted copy that was sent.
    package = Path(result["evidence_dir"])
    assert (package / "attachments" / "fitted" / part.get_filename()).read_bytes() == data
    assert (package / "attachments" / "big-screenshot.png").read_bytes() == (
        tmp_path / "big-screenshot.png"
    ).read_bytes()


def test_dry_run_writes_the_message_and_sends_and_journals_nothing(smtp, tmp_path):
    home = tmp_path / "home"
    done = send(write_case(tmp_path), home, smtp, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "dry run: nothing sent" in done.stdout
    eml = Path(done.stdout.split("the message is ", 1)[1].strip())
    assert eml.read_bytes().startswith(b"Subject: [DemoMarket] ") or b"\nSubject: [DemoMarket] " in eml.read_bytes()
    assert smtp.messages == [] and smtp.logins == [] and submissions(home) == []


def test_a_mail_server_refusal_is_rejected_in_its_words_and_the_resend_goes_through(smtp, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    smtp.refuse_with = "550 5.7.1 Message rejected: looks like spam"
    done = send(case, home, smtp, "--yes")
    assert done.returncode == ExitStatus.REJECTED, done.stderr
    assert 'rejected by the mail server 127.0.0.1: "550 5.7.1 Message rejected: looks like spam"' in done.stderr
    assert smtp.messages == []
    assert [(r["status"], r["due_at"]) for r in submissions(home)] == [("rejected", None)]
    smtp.refuse_with = None
    again = send(case, home, smtp, "--yes")  # no --force: nothing was filed
    assert again.returncode == 0, again.stderr
    assert len(smtp.messages) == 1
    assert [r["status"] for r in submissions(home)] == ["rejected", "confirmed"]


def test_a_connection_lost_after_the_message_is_unknown_and_never_resent_blindly(smtp, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    smtp.hang_up_after_data = True
    done = send(case, home, smtp, "--yes")
    assert done.returncode == ExitStatus.UNKNOWN, done.stderr
    assert "sent, but not confirmed: the connection to 127.0.0.1 broke while sending" in done.stderr
    assert "`assistant cases resolve 1` records what happened" in done.stderr
    assert len(smtp.messages) == 1  # the server did queue it
    assert [r["status"] for r in submissions(home)] == ["pending"]
    smtp.hang_up_after_data = False
    again = send(case, home, smtp, "--yes")
    assert again.returncode == ExitStatus.REFUSED, again.stderr
    assert "cases resolve 1" in again.stderr and len(smtp.messages) == 1


def test_email_packages_are_signed_zipped_verifiable_packages_with_a_report(smtp, tmp_path):
    """Sent or drafted, an email run leaves what a web run leaves: the .eml, its attachments,
    a report, signed, zipped, passing `evidence verify` and the README's by-hand block."""
    from evidence_fixtures import run_by_hand

    from evidence import Manifest

    sent = json_out(send(write_case(tmp_path), tmp_path / "home", smtp, "--yes", "--json"))
    drafted_dir = tmp_path / "drafted"
    drafted_dir.mkdir()
    drafted = json_out(
        run_cli(
            "submit",
            "demo-email",
            "--case",
            str(write_case(drafted_dir)),
            "--eml-only",
            "--yes",
            "--json",
            home=tmp_path / "home2",
        )
    )
    for result, outcome, kind in ((sent, "confirmed", "send"), (drafted, "drafted", "draft")):
        folder, bundle = Path(result["evidence_dir"]), Path(result["evidence_zip"])
        for target in (folder, bundle):
            done = run_cli("evidence", "verify", str(target), home=tmp_path / "home")
            assert done.returncode == 0, done.stdout + done.stderr
        manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
        paths = {f.path for f in manifest.files}
        assert {
            "message.eml",
            "attachments/demo-app-error.png",
            "attachments/demo-receipt.pdf",
            "report.html",
            "report.pdf",
        } <= paths
        assert manifest.signer and manifest.signer.sums_signature == "SHA256SUMS.sig"
        assert manifest.submission.outcome == outcome
        assert [(a.kind, a.status, a.files) for a in manifest.actions] == [(kind, "ok", ["message.eml"])]
        assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")
        assert "Card charged but order not placed" in (folder / "report.html").read_text(encoding="utf-8")
        done = run_by_hand(folder)
        assert done.returncode == 0 and "package OK" in done.stdout, done.stdout + done.stderr
