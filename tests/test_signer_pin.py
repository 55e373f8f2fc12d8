"""A signer the provider can recognise: the request names the key that signs its evidence.

Anyone can sign a package again with a key of their own. The request a person files names the
key their package is signed with, so the provider's own copy of the request says whose package
is theirs, and `evidence verify` finds the same key in what the package records as sent.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from evidence_fixtures import make_demo_package, run_by_hand, sign_again
from helpers import json_out, run_cli, write_case

from assistant.casework.compose import compose, signing_key
from assistant.casework.escalate import draft
from assistant.errors import InputError
from assistant.language.case import load_case
from assistant.language.flow import find_flow, load_flow
from evidence import Manifest, keys
from evidence.keys import Signer
from evidence.package import manifest_bytes
from evidence.verify import verify

EN_LINE = "Evidence for this request is signed with key Ed25519 SHA-256 {}"
RU_LINE = "Доказательства к обращению подписаны ключом Ed25519 SHA-256 {}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One real submission to the demo portal, which records what it received."""
    tmp = tmp_path_factory.mktemp("pin")
    result = make_demo_package(tmp, None)
    result["home"] = tmp / "home"
    result["case"] = tmp / "case.yaml"
    return result


def evidence_key(home: Path) -> str:
    done = run_cli("evidence", "key", home=home)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def manifest_of(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))


def resigned(folder: Path, signer: Signer, change: Callable[[Manifest], Manifest] | None = None) -> Path:
    """What someone holding the package can do with a key of their own: change the manifest if
    they like, put their public key in, name it in the manifest, sign manifest.json and
    SHA256SUMS again. Every hash and signature then holds, and the by-hand check passes."""
    manifest = manifest_of(folder)
    if change is not None:
        manifest = change(manifest)
    assert manifest.signer is not None
    manifest = manifest.model_copy(
        update={"signer": manifest.signer.model_copy(update={"fingerprint": signer.fingerprint})}
    )
    (folder / "signer.pub.pem").write_bytes(signer.public_pem)
    return sign_again(folder, signer, manifest_bytes(manifest))


def test_the_request_the_portal_received_names_the_key_evidence_key_prints(demo):
    fingerprint = evidence_key(demo["home"])
    [ticket] = demo["portal_received"]
    description = ticket.fields["description"]
    assert EN_LINE.format(fingerprint) in description
    # Near the end: after what is attached, right before the contacts.
    assert description.index("Attached:") < description.index(EN_LINE.format(fingerprint))
    assert f"{EN_LINE.format(fingerprint)}\nContacts: " in description
    manifest = manifest_of(Path(demo["evidence_dir"]))
    # The key named is the key that signed the package, and the journal's case fingerprint is
    # the case's own: the line in the text changes neither.
    assert manifest.signer is not None and manifest.signer.fingerprint == fingerprint
    assert manifest.case["fingerprint"] == load_case(demo["case"]).fingerprint()
    assert manifest.request is not None and EN_LINE.format(fingerprint) in manifest.request["body"]


def test_verify_says_the_request_sent_to_the_provider_pins_the_key(demo):
    folder, fingerprint = Path(demo["evidence_dir"]), evidence_key(demo["home"])
    for target in (folder, Path(demo["evidence_zip"])):
        done = run_cli("evidence", "verify", str(target), home=demo["home"])
        assert done.returncode == 0, done.stdout + done.stderr
        assert "key pinned: the request sent to the provider names this key (field description)" in done.stdout
        # What the tool cannot see for itself: the provider's copy must say the same.
        assert "the provider's own copy of the request must name this key" in done.stdout
    result = json_out(run_cli("evidence", "verify", str(folder), "--json", home=demo["home"]))
    assert result["ok"] and result["signer_fingerprint"] == fingerprint
    assert (result["key_pinned_by"], result["key_named_in"]) == ("request", "field description")
    # --key works as before, and wins: the reader's own knowledge of the key.
    done = run_cli("evidence", "verify", str(folder), "--key", fingerprint, "--json", home=demo["home"])
    assert json_out(done)["key_pinned_by"] == "--key"
    done = run_cli("evidence", "verify", str(folder), "--key", fingerprint, home=demo["home"])
    assert "key checked: it is the one you expected (--key)" in done.stdout and "NOT checked" not in done.stdout
    assert "key pinned: the request sent to the provider names this key" in done.stdout


def test_a_package_signed_again_with_another_key_fails_on_signer_pub_pem(demo, tmp_path):
    folder = resigned(
        shutil.copytree(demo["evidence_dir"], tmp_path / "resigned"), Signer.load_or_create(tmp_path / "k")
    )
    # Plain tools cannot tell: every hash and signature holds under the new key.
    by_hand = run_by_hand(folder)
    assert by_hand.returncode == 0 and "package OK" in by_hand.stdout, by_hand.stdout + by_hand.stderr
    original = manifest_of(Path(demo["evidence_dir"])).signer.fingerprint
    result = verify(folder)
    assert not result.ok and result.key_pinned_by is None
    # The screenshots' content credentials still name the first key too (signer.cert.pem); the pin
    # is what catches a forger who also certifies and re-embeds them with the new key.
    assert (
        "signer.pub.pem",
        f"signed by {result.signer[:16]}…, but the request sent to the provider (field description) names "
        f"key {original[:16]}…: the package was signed again with another key",
    ) in [(p.file, p.what) for p in result.problems]
    done = run_cli("evidence", "verify", str(folder), home=demo["home"])
    assert done.returncode == 1 and "signer.pub.pem: signed by" in done.stderr and "signed again" in done.stderr


def test_a_package_whose_record_names_no_key_says_the_key_is_not_checked(demo, tmp_path):
    """A package made before requests named their key: no line in what was sent."""
    fingerprint = evidence_key(demo["home"])

    def without_the_line(manifest: Manifest) -> Manifest:
        def gone(text):
            return re.sub(r"[^\n]*Ed25519 SHA-256 [0-9a-f]{64}\r?\n", "", text) if isinstance(text, str) else text

        form = manifest.form
        assert form is not None and form.request is not None and manifest.request is not None
        parts = [p.model_copy(update={"value": gone(p.value)}) for p in form.request.parts]
        fields = [f.model_copy(update={"value": gone(f.value)}) for f in form.fields]
        form = form.model_copy(update={"fields": fields, "request": form.request.model_copy(update={"parts": parts})})
        request = {**manifest.request, "body": gone(manifest.request["body"])}
        changed = manifest.model_copy(update={"form": form, "request": request})
        assert fingerprint not in manifest_bytes(changed).decode().replace(f'"fingerprint": "{fingerprint}"', "")
        return changed

    person = Signer.load_or_create(demo["home"] / "keys" / "evidence-ed25519.pem")
    folder = resigned(shutil.copytree(demo["evidence_dir"], tmp_path / "old"), person, without_the_line)
    result = verify(folder)
    assert result.ok and (result.key_pinned_by, result.key_named_in) == (None, None)
    done = run_cli("evidence", "verify", str(folder), home=demo["home"])
    assert done.returncode == 0 and "key NOT checked" in done.stdout and "key pinned" not in done.stdout
    assert "nothing it records as sent names its key" in done.stdout and "pass --key" in done.stdout


def test_the_russian_request_by_email_names_the_key_in_russian(tmp_path):
    """The email channel composes the same text: the message's body has the line, in the case's
    language. Without a form record the package names the key but does not pin it."""
    home = tmp_path / "home"
    case = write_case(tmp_path, language="ru")
    done = run_cli("submit", "demo-email", "--case", str(case), "--eml-only", "--yes", "--json", home=home)
    result = json_out(done)
    fingerprint = evidence_key(home)
    message = email.message_from_bytes(
        (Path(result["evidence_dir"]) / "message.eml").read_bytes(), policy=email.policy.default
    )
    body = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert f"{RU_LINE.format(fingerprint)}\nКонтакты: " in body
    assert "Evidence for this request" not in body
    verified = json_out(run_cli("evidence", "verify", result["evidence_dir"], "--json", home=home))
    assert verified["ok"] and verified["signer_fingerprint"] == fingerprint
    assert (verified["key_pinned_by"], verified["key_named_in"]) == (None, "manifest.json request.body")
    shown = run_cli("evidence", "verify", result["evidence_dir"], home=home)
    assert "key NOT checked" in shown.stdout and "the request's text names this key" in shown.stdout


@pytest.mark.parametrize(("lang", "line"), [("en", EN_LINE), ("ru", RU_LINE)], ids=["en", "ru"])
def test_requests_and_follow_ups_name_the_key_and_drafts_without_a_package_do_not(tmp_path, lang, line):
    case = load_case(write_case(tmp_path, language=lang))
    flow = load_flow(find_flow("demo"))
    fingerprint = signing_key(tmp_path / "home")
    for kind in ("request", "followup"):
        body = compose(case, flow=flow, kind=kind, signed_by=fingerprint).body
        assert body.count(line.format(fingerprint)) == 1 and keys.named_in(body) == [fingerprint]
        assert "Ed25519" not in compose(case, flow=flow, kind=kind).body
    # Escalations are drafts the person sends on their own: no package is signed for them.
    for target in ("regulator", "claim", "review"):
        assert "Ed25519" not in draft(case, target, flow)[0]
    # The attachments' hashes in the same text are never taken for a key.
    assert "SHA-256 " in compose(case, flow=flow).body and keys.named_in(compose(case, flow=flow).body) == []


def test_the_key_a_request_names_is_the_one_evidence_key_prints(tmp_path):
    home = tmp_path / "home"
    assert signing_key(home) == evidence_key(home) == signing_key(home)


def test_a_broken_signing_key_stops_the_run_before_anything_is_sent(tmp_path):
    from assistant.sites.demo.portal import DemoPortal

    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "evidence-ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(InputError, match="evidence-ed25519.pem: the evidence signing key cannot be used"):
        signing_key(home)
    with DemoPortal() as portal:
        done = run_cli(
            "submit", "demo", "--case", str(write_case(tmp_path)), "--base-url", portal.url, "--yes", home=home
        )
        assert done.returncode == 2, done.stderr
        assert "signing key cannot be used" in done.stderr and "nothing was sent" in done.stderr
        assert portal.received == []


def _key_fingerprint(path: str) -> str:
    return Signer.load_or_create(path).fingerprint


def test_runs_starting_together_make_one_signing_key_and_none_reads_it_half_written(tmp_path):
    """Two filings at once in a new home both ask for the key: one is made, whole, and both
    sign with it (a run that read the file while the other was writing it stopped at
    'the evidence signing key cannot be used')."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(4) as pool:
        for round_ in range(10):
            path = tmp_path / f"home{round_}" / "keys" / "evidence-signing-key.pem"
            fingerprints = set(pool.map(_key_fingerprint, [str(path)] * 8))
            assert fingerprints == {Signer.load_or_create(path).fingerprint}
            assert [p.name for p in path.parent.iterdir()] == [path.name]  # no draft left behind
            assert path.stat().st_mode & 0o777 == 0o600
