"""RFC 3161 tokens checked properly: chain, key usage, validity at genTime, ESS binding, SHA-1, nonce,
and what `evidence verify` says of a token whose authority it was not told to trust.

The authorities are real ones on 127.0.0.1 (tests/tsa_server.py), each made wrong in one way.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import algos, tsp
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from helpers import run_cli
from tsa_server import Authority, TimestampServer

from evidence import Environment, EvidencePackage, tsa
from evidence.keys import Signer


def token_from(authority: Authority, data: bytes = b"manifest") -> bytes:
    return authority.respond(tsa.request(hashlib.sha256(data).digest()).dump())


@pytest.fixture(scope="module")
def real():
    """The authority whose CA the person trusts."""
    return Authority()


def test_a_good_token_chains_to_its_ca_and_names_its_signer(real):
    info = tsa.check(token_from(real), b"manifest", trusted_ca=[real.ca_pem])
    assert info.trusted and info.tsa_subject == "O=Test TSA,CN=Test Timestamp Unit"
    assert "Test Timestamp Root" in info.tsa_issuer and info.gen_time.tzinfo is not None
    untrusted = tsa.check(token_from(real), b"manifest")
    assert not untrusted.trusted and untrusted.tsa_subject == info.tsa_subject


def test_a_chain_through_an_intermediate_ca_is_built_to_the_root():
    authority = Authority(intermediate=True)
    token = token_from(authority)
    assert tsa.check(token, b"manifest", trusted_ca=[authority.ca_pem]).trusted
    # The intermediate itself may be the anchor a person trusts.
    middle = authority.intermediates[0].public_bytes(serialization.Encoding.PEM)
    assert tsa.check(token, b"manifest", trusted_ca=[middle]).trusted
    # A root that is not on the path is no anchor.
    with pytest.raises(tsa.TimestampError, match="does not chain to the trusted CA"):
        tsa.check(token, b"manifest", trusted_ca=[Authority().ca_pem])


def test_a_self_made_authority_is_named_but_fails_against_the_real_ca(real):
    forger = Authority(cn="Official Timestamp Service", root_cn="Official Timestamp Root")
    token = token_from(forger)
    info = tsa.check(token, b"manifest")  # the token's own word: it holds together
    assert info.tsa_subject == "O=Test TSA,CN=Official Timestamp Service" and not info.trusted
    with pytest.raises(tsa.TimestampError, match=r"Official Timestamp Service\) does not chain to the trusted CA"):
        tsa.check(token, b"manifest", trusted_ca=[real.ca_pem])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"eku": (ExtendedKeyUsageOID.SERVER_AUTH,)}, r"is for serverAuth, not for timestamps alone"),
        (
            {"eku": (ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING)},
            r"is for timeStamping, codeSigning, not for timestamps alone",
        ),
        ({"eku_critical": False}, r"its extended key usage is not critical"),
        ({"eku": None}, r"has no extended key usage timeStamping"),
        ({"valid": (timedelta(days=-30), timedelta(days=-1))}, r"was not valid at the token's time"),
        ({"valid": (timedelta(days=1), timedelta(days=30))}, r"was not valid at the token's time"),
        ({"digest": "sha1"}, r"the token's signature uses SHA1, which is refused"),
        ({"ess": None}, r"no ESS signing-certificate attribute"),
        ({"ess": "other"}, r"names another certificate than it carries"),
    ],
)
def test_a_token_wrong_in_one_way_is_refused_with_or_without_a_ca(options, message):
    authority = Authority(**options)
    token = token_from(authority)
    for trusted in (None, [authority.ca_pem]):
        with pytest.raises(tsa.TimestampError, match=message):
            tsa.check(token, b"manifest", trusted_ca=trusted)


def test_the_ca_must_have_been_valid_at_the_tokens_time():
    """The signer's certificate covers a backdated genTime; its root (made 60 days ago) does not."""
    authority = Authority(backdate=timedelta(days=90), valid=(timedelta(days=-100), timedelta(days=30)))
    token = token_from(authority)
    assert tsa.check(token, b"manifest").gen_time  # the token alone holds together
    with pytest.raises(tsa.TimestampError, match="does not chain .* at the token's time"):
        tsa.check(token, b"manifest", trusted_ca=[authority.ca_pem])


def test_ess_v1_binding_is_accepted_and_checked():
    authority = Authority(ess="v1")
    assert tsa.check(token_from(authority), b"manifest", trusted_ca=[authority.ca_pem]).trusted


def test_a_sha1_imprint_is_refused():
    authority = Authority()
    req = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
                "hashed_message": hashlib.sha1(b"manifest").digest(),
            },
            "nonce": 7,
            "cert_req": True,
        }
    )
    token = authority.respond(req.dump())
    with pytest.raises(tsa.TimestampError, match="message imprint uses SHA1, which is refused"):
        tsa.check(token, b"manifest", trusted_ca=[authority.ca_pem])


def test_the_nonce_must_be_the_one_sent():
    with TimestampServer(nonce_offset=1) as server, pytest.raises(tsa.TimestampError, match="nonce"):
        tsa.fetch(server.url, b"manifest")


# ------------------------------------------------------------------ packages and the command


def stamped_package(tmp: Path, server: TimestampServer) -> Path:
    """A small signed package stamped by server's authority (no browser needed for this)."""
    package = EvidencePackage(tmp / "package")
    package.add_bytes("pages/001-form.html", b"<p>the complaint</p>", "text/html", role="page")
    package.finish(
        tool="test",
        case={"subject": "Card charged"},
        environment=Environment(os="Linux", os_version="6", kernel="k", architecture="x86_64", python="3.11"),
        actions=[],
        signer=Signer.load_or_create(tmp / "key.pem"),
        tsa_urls=[server.url],
        report=False,
    )
    return package.root


def test_a_backdated_token_from_a_self_made_authority_is_flagged_and_fails_against_the_real_ca(tmp_path, real):
    real_ca = tmp_path / "real-ca.pem"
    real_ca.write_bytes(real.ca_pem)
    with TimestampServer(cn="Official Timestamp Service", root_cn="Forger Root", backdate=timedelta(days=21)) as forger:
        folder = stamped_package(tmp_path, forger)
    done = run_cli("evidence", "verify", str(folder), home=tmp_path / "home")
    assert done.returncode == 1, done.stdout + done.stderr
    line = next(line for line in done.stderr.splitlines() if "manifest.tsr" in line)
    assert "by O=Test TSA,CN=Official Timestamp Service, 21 days before the package says it was made" in line
    assert "backdated token; check its authority with --tsa-ca FILE" in line
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(real_ca), "--json", home=tmp_path / "home")
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    assert [p["file"] for p in problems] == ["manifest.tsr"]
    assert "Official Timestamp Service) does not chain to the trusted CA given" in problems[0]["problem"]


def test_a_fresh_token_without_a_ca_names_its_signer_and_says_the_authority_is_not_checked(tmp_path):
    with TimestampServer(cn="Official Timestamp Service", root_cn="Forger Root") as server:
        folder = stamped_package(tmp_path, server)
        ca = server.write_ca(tmp_path / "ca.pem")
    done = run_cli("evidence", "verify", str(folder), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "signed by O=Test TSA,CN=Official Timestamp Service" in done.stdout
    assert "authority NOT checked" in done.stdout
    shown = json.loads(run_cli("evidence", "verify", str(folder), "--json", home=tmp_path / "home").stdout)
    assert shown["timestamp_signer"] == "O=Test TSA,CN=Official Timestamp Service" and shown["tsa_trusted"] is False
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(ca), home=tmp_path / "home")
    assert done.returncode == 0 and "authority checked" in done.stdout and "authority NOT checked" not in done.stdout
    shown = run_cli("evidence", "show", str(folder), home=tmp_path / "home")
    assert "by O=Test TSA,CN=Official Timestamp Service (authority not checked" in shown.stdout, shown.stdout


def test_a_clock_ahead_of_a_trusted_authority_is_a_note_not_a_failure(tmp_path):
    with TimestampServer(backdate=timedelta(minutes=30)) as server:
        folder = stamped_package(tmp_path, server)
        ca = server.write_ca(tmp_path / "ca.pem")
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(ca), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    # The authority answers a moment after the manifest is dated, and the span is counted in
    # whole minutes: a slow machine makes the 30 minutes 29 and some seconds.
    assert "note: manifest.tsr: dated" in done.stdout and re.search(r"\b(29|30) minutes before", done.stdout)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b"\x30\x82\xff"],
)
def test_a_tsa_ca_that_is_not_a_certificate_is_bad_input_in_one_line(tmp_path, content):
    with TimestampServer() as server:
        folder = stamped_package(tmp_path, server)
    bad = tmp_path / "ca.pem"
    bad.write_bytes(content)
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(bad), home=tmp_path / "home")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--tsa-ca" in lines[0] and "not a certificate" in lines[0], done.stderr


@pytest.mark.parametrize("kind", ["missing", "folder", "fifo", "device"])
def test_a_tsa_ca_that_is_no_file_is_bad_input_in_one_line_and_never_read(tmp_path, kind):
    import os

    folder = tmp_path / "package"
    folder.mkdir()  # verify never gets that far: the option is checked first
    given = {"missing": tmp_path / "nowhere.pem", "folder": tmp_path, "device": Path("/dev/zero")}.get(kind)
    if kind == "fifo":
        given = tmp_path / "ca.pem"
        os.mkfifo(given)  # reading it would hang the command
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(given), home=tmp_path / "home", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: --tsa-ca {given}: "), done.stderr


# ------------------------------------------------------------------ the tokens against the times claimed


def full_package(
    tmp: Path,
    server: TimestampServer | list[str],
    *,
    name: str = "package",
    moved: timedelta = timedelta(0),
    warnings: list[str] | None = None,
) -> Path:
    """A signed package with a report, so with both tokens: report/captured.tsr over the captures,
    manifest.tsr over the manifest. `moved`: every time it claims is that much earlier, as a
    person backdating their own package with their own key would make it."""
    from datetime import UTC, datetime

    at = datetime.now(UTC) - moved
    package = EvidencePackage(tmp / name)
    package.add_bytes("pages/001-form.html", f"<p>{name}</p>".encode(), "text/html", role="page", captured_at=at)
    package.stamp_first("pages/001-form.html", server if isinstance(server, list) else [server.url])
    package.finish(
        tool="test",
        case={"subject": "Card charged"},
        environment=Environment(os="Linux", os_version="6", kernel="k", architecture="x86_64", python="3.11"),
        actions=[],
        signer=Signer.load_or_create(tmp / "key.pem"),
        tsa_urls=server if isinstance(server, list) else [server.url],
        created_at=at,
        warn=(warnings if warnings is not None else []).append,
    )
    return package.root


def problems_of(folder: Path, ca: Path, home: Path) -> dict[str, str]:
    """What `evidence verify` finds, by file; the by-hand block (docs/evidence.md) must agree
    that the package is good or not (it reads the authority's CA beside the folder)."""
    from evidence_fixtures import run_by_hand

    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(ca), "--json", home=home)
    problems = {p["file"]: p["problem"] for p in json.loads(done.stdout)["problems"]}
    (folder.parent / "TSA-CA.pem").write_bytes(ca.read_bytes())
    by_hand = run_by_hand(folder)
    assert (by_hand.returncode == 0) == (not problems), (problems, by_hand.stdout, by_hand.stderr)
    return problems


def test_times_moved_back_by_their_own_signer_fail_against_fresh_tokens(tmp_path):
    """The person's own backdating: every time three days earlier, signed with their own key,
    timestamped now. The tokens say when it was made; both are far later than the times claimed."""
    with TimestampServer() as server:
        honest = full_package(tmp_path, server, name="honest")
        moved = full_package(tmp_path, server, name="moved", moved=timedelta(days=3))
        ca = server.write_ca(tmp_path / "ca.pem")
    assert problems_of(honest, ca, tmp_path / "home") == {}
    problems = problems_of(moved, ca, tmp_path / "home")
    assert set(problems) == {"manifest.tsr", "report/captured.tsr", "report/first-capture.tsr"}, problems
    assert "3 days after the package says it was sealed" in problems["manifest.tsr"]
    assert "3 days after the last capture it covers" in problems["report/captured.tsr"]
    assert "the times in the package are not the times it was made" in problems["manifest.tsr"]


def resealed(folder: Path, key: Path, *, drop_manifest_token: bool = True) -> Path:
    """What a person with their own key can do after changing files: hash them again in the
    manifest, sign it and SHA256SUMS again. The manifest's own token no longer fits; dropped."""
    from evidence_fixtures import sign_again

    from evidence.manifest import Manifest
    from evidence.package import manifest_bytes, sha256_file

    signer = Signer.load_or_create(key)
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    files = [
        f.model_copy(update={"sha256": sha256_file(folder / f.path), "size": (folder / f.path).stat().st_size})
        for f in manifest.files
        if (folder / f.path).is_file()  # a file deleted is left out of the list too
    ]
    update: dict = {"files": files}
    if drop_manifest_token:
        for token in folder.glob("manifest*.tsr"):
            token.unlink()
        update["timestamp_authority"] = None
        update["timestamp_authorities"] = []
    return sign_again(folder, signer, manifest_bytes(manifest.model_copy(update=update)))


def test_a_captured_token_from_another_package_or_none_at_all_fails(tmp_path):
    """Re-signed by the person, so every hash and signature holds: the captured files' token must
    still be over this package's captures, and there when the manifest gives its time."""
    import shutil

    with TimestampServer() as server:
        mine = full_package(tmp_path, server, name="mine")
        other = full_package(tmp_path, server, name="other")
        ca = server.write_ca(tmp_path / "ca.pem")
    key = tmp_path / "key.pem"
    assert problems_of(resealed(shutil.copytree(mine, tmp_path / "same"), key), ca, tmp_path / "home") == {}
    # The token alone: not over this package's list.
    token_only = shutil.copytree(mine, tmp_path / "token-only")
    shutil.copy(other / "report/captured.tsr", token_only / "report/captured.tsr")
    problems = problems_of(resealed(token_only, key), ca, tmp_path / "home")
    assert "for different content" in problems.get("report/captured.tsr", ""), problems
    # The token and its list: the list is of another package's files.
    both = shutil.copytree(mine, tmp_path / "both")
    for name in ("report/captured.tsr", "report/captured.sums"):
        shutil.copy(other / name, both / name)
    problems = problems_of(resealed(both, key), ca, tmp_path / "home")
    assert "not this package's file as manifest.json hashes it" in problems.get("report/captured.sums", ""), problems
    # Deleted, while the manifest gives its time: missing.
    gone = shutil.copytree(mine, tmp_path / "gone")
    (gone / "report" / "captured.tsr").unlink()
    problems = problems_of(resealed(gone, key), ca, tmp_path / "home")
    assert problems["report/captured.tsr"].startswith("missing (manifest.json gives its time"), problems


# ------------------------------------------------------------------ more than one authority


def test_two_authorities_each_stamp_the_captures_and_the_manifest(tmp_path):
    from evidence.manifest import Manifest

    with TimestampServer(cn="First TSA") as first, TimestampServer(cn="Second TSA", root_cn="Second Root") as second:
        folder = full_package(tmp_path, [first.url, second.url])
        both = tmp_path / "both-ca.pem"
        both.write_bytes(first.authority.ca_pem + second.authority.ca_pem)
    assert {p.name for p in folder.glob("manifest*.tsr")} == {"manifest.tsr", "manifest-2.tsr"}
    assert {p.name for p in (folder / "report").glob("captured*.tsr")} == {"captured.tsr", "captured-2.tsr"}
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.timestamp_authorities == [first.url, second.url]
    assert manifest.times is not None and [s.token for s in manifest.times.stamps] == [
        "report/captured.tsr",
        "report/captured-2.tsr",
    ]
    assert problems_of(folder, both, tmp_path / "home") == {}  # and by hand, with both CAs in one file
    shown = json.loads(run_cli("evidence", "verify", str(folder), "--json", home=tmp_path / "home").stdout)
    assert [t["signer"] for t in shown["timestamps"]] == ["O=Test TSA,CN=First TSA", "O=Test TSA,CN=Second TSA"]
    # Only one CA trusted: the other authority's token does not chain to it.
    (tmp_path / "one.pem").write_bytes(first.authority.ca_pem)
    done = run_cli("evidence", "verify", str(folder), "--tsa-ca", str(tmp_path / "one.pem"), home=tmp_path / "home")
    assert done.returncode == 1 and "manifest-2.tsr" in done.stderr and "manifest.tsr:" not in done.stderr


def test_a_named_token_left_out_fails_even_when_every_hash_is_signed_again(tmp_path):
    with TimestampServer() as first, TimestampServer() as second:
        folder = full_package(tmp_path, [first.url, second.url])
        both = tmp_path / "both-ca.pem"
        both.write_bytes(first.authority.ca_pem + second.authority.ca_pem)
    (folder / "manifest-2.tsr").unlink()
    problems = problems_of(resealed(folder, tmp_path / "key.pem", drop_manifest_token=False), both, tmp_path / "h")
    assert problems["manifest-2.tsr"].startswith("missing (manifest.json says"), problems


def test_an_authority_that_does_not_answer_is_left_out_and_said(tmp_path):
    from evidence.manifest import Manifest

    warnings: list[str] = []
    with TimestampServer() as server:
        down = "http://127.0.0.1:9/tsr"  # the discard port: nothing listens
        folder = full_package(tmp_path, [down, server.url], warnings=warnings)
        ca = server.write_ca(tmp_path / "ca.pem")
    assert any(w.startswith(f"warning: no timestamp from {down}") for w in warnings), warnings
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.timestamp_authorities == [server.url] and (folder / "manifest.tsr").is_file()
    assert not (folder / "manifest-2.tsr").exists()
    assert problems_of(folder, ca, tmp_path / "home") == {}


def test_offline_the_package_is_sealed_and_says_its_times_rest_on_the_signers_word(tmp_path):
    warnings: list[str] = []
    folder = full_package(tmp_path, ["http://127.0.0.1:9/tsr"], warnings=warnings)
    assert any("its times rest on the signer's word" in w for w in warnings), warnings
    assert not list(folder.glob("manifest*.tsr")) and not (folder / "report" / "captured.tsr").exists()
    done = run_cli("evidence", "verify", str(folder), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "warning: no trusted timestamp: its times rest on the signer's word" in done.stdout
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "none: the times are this machine's clock" in report


@pytest.mark.parametrize(
    ("given", "env", "chosen"),
    [
        ((), None, "public"),
        ((), "", ()),
        ((), "none", ()),
        ((), "https://a.example/tsr, http://b.example/tsr", ("https://a.example/tsr", "http://b.example/tsr")),
        (("http://c.example/tsr",), "https://a.example/tsr", ("http://c.example/tsr",)),
        (("none",), None, ()),
        (("http://c.example/tsr", "http://c.example/tsr"), None, ("http://c.example/tsr",)),
    ],
)
def test_which_authorities_a_run_asks(given, env, chosen):
    from assistant.run.settings import PUBLIC_AUTHORITIES, chosen_authorities

    assert chosen_authorities(given, env) == (PUBLIC_AUTHORITIES if chosen == "public" else chosen)
    assert len(PUBLIC_AUTHORITIES) >= 2


def test_an_authority_that_is_no_address_is_bad_input_in_one_line(tmp_path):
    done = run_cli("demo", "--tsa", "freetsa.org", "--dry-run", home=tmp_path / "home")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if "freetsa.org" in line]
    assert "--tsa" in line and "is not an authority's address like https://freetsa.org/tsr" in line
    done = run_cli("demo", "--dry-run", home=tmp_path / "home", env={"ASSISTANT_TSA": "ftp://x"})
    assert done.returncode == 2 and "ASSISTANT_TSA" in done.stderr


# ------------------------------------------------------------------ trusted time added later


def test_a_package_sealed_offline_is_timestamped_later_and_says_from_when(tmp_path):
    import shutil

    from evidence.bundle import make_zip

    folder = full_package(tmp_path, ["http://127.0.0.1:9/tsr"])  # offline at sealing
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    shutil.copy(tmp_path / "key.pem", home / "keys" / "evidence-ed25519.pem")  # the signer's own machine
    archive = make_zip(folder, tmp_path / "package.zip")
    with TimestampServer() as server:
        ca = server.write_ca(tmp_path / "ca.pem")
        done = run_cli("evidence", "timestamp", str(folder), "--tsa", server.url, home=home)
        assert done.returncode == 0, done.stderr
        assert "added later/manifest-1.tsr: the package existed by" in done.stdout
        zipped = run_cli("evidence", "timestamp", str(archive), "--tsa", server.url, "--json", home=home)
        assert zipped.returncode == 0 and json.loads(zipped.stdout)["added"] == ["later/manifest-1.tsr"]
        # Another key's machine may not add to it.
        stranger = run_cli("evidence", "timestamp", str(folder), "--tsa", server.url, home=tmp_path / "other")
        assert stranger.returncode == 2 and "signed by another key: only its signer can add to it" in stranger.stderr
    for target in (folder, archive):
        done = run_cli("evidence", "verify", str(target), "--tsa-ca", str(ca), home=home)
        assert done.returncode == 0, done.stderr
        assert "timestamped later: it existed by" in done.stdout and "rest on the signer's word" in done.stdout
    assert problems_of(folder, ca, home) == {}  # by hand too
    # A later token nobody listed in SHA256SUMS, or one over other bytes, does not pass.
    forged = shutil.copytree(folder, tmp_path / "forged")
    shutil.copy(forged / "later" / "manifest-1.tsr", forged / "later" / "manifest-2.tsr")
    problems = problems_of(forged, ca, home)
    assert "does not list later/manifest-2.tsr" in problems.get("SHA256SUMS", ""), problems


def test_only_a_sound_package_is_timestamped_later(tmp_path):
    folder = full_package(tmp_path, ["http://127.0.0.1:9/tsr"])
    (folder / "pages" / "001-form.html").write_text("<p>changed</p>")
    done = run_cli("evidence", "timestamp", str(folder), "--tsa", "http://127.0.0.1:9/tsr", home=tmp_path / "home")
    assert done.returncode == 2 and "does not verify (pages/001-form.html" in done.stderr
    assert not (folder / "later").exists()


def test_the_first_capture_is_stamped_as_it_is_taken_and_bounds_the_start(tmp_path):
    """A token on the first capture, asked the moment it is taken: its claimed time cannot be
    moved back alone (the last capture's and the manifest's tokens would not show it)."""
    from evidence.manifest import Manifest

    with TimestampServer() as first, TimestampServer() as second:
        folder = full_package(tmp_path, [first.url, second.url])
        both = tmp_path / "both-ca.pem"
        both.write_bytes(first.authority.ca_pem + second.authority.ca_pem)
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.times is not None
    assert [s.token for s in manifest.times.first_stamps] == [
        "report/first-capture.tsr",
        "report/first-capture-2.tsr",
    ]
    assert (folder / "report" / "first-capture.sums").read_text().endswith("  pages/001-form.html\n")
    assert problems_of(folder, both, tmp_path / "home") == {}
    # The first capture said to be two days older, everything signed again by its own key.
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    claimed = manifest.files[[f.path for f in manifest.files].index("pages/001-form.html")].captured_at
    assert claimed is not None
    earlier = (claimed - timedelta(days=2)).isoformat().replace("+00:00", "Z")
    (folder / "manifest.json").write_text(
        text.replace(
            f'"captured_at": "{claimed.isoformat().replace("+00:00", "Z")}"', f'"captured_at": "{earlier}"', 1
        ),
        encoding="utf-8",
    )
    problems = problems_of(resealed(folder, tmp_path / "key.pem"), both, tmp_path / "home")
    assert "2 days after the first capture says it was taken" in problems.get("report/first-capture.tsr", ""), problems
