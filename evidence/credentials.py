"""C2PA content credentials in the screenshots, signed with the package's own Ed25519 key.

A screenshot sent on its own (attached to a complaint, forwarded by a provider) leaves the
package's manifest behind. Its credentials travel inside the file: that it is a screen capture,
when and of which page it was taken, and a signature bound to its bytes, readable by any C2PA
reader (c2pa-python, c2patool, contentcredentials.org/verify).

C2PA names its signer by an X.509 certificate; the person has a key, not a certificate from an
authority. `certificate` makes one, self-signed by that key, and the package keeps it beside the
key (signer.cert.pem). A C2PA viewer therefore says "unknown signer": nobody vouched for who
holds the key. `check` makes it the only trust anchor, so a credential signed by any other key
is "untrusted" while the package's own is "Trusted".

c2pa-python is imported only here and only when used: a package is still sealed and verified
where it cannot be loaded, without credentials (and verify says it did not check them).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from .keys import Signer
    from .manifest import FileEntry

CERTIFICATE = "signer.cert.pem"
GENERATOR = "support-assistant"
# The captures as the browser took them. The stamped copies (role "stamped") are drawn on, and
# the report's pictures are made from the captures: neither is a screen capture itself.
CAPTURE_ROLES = ("screenshot", "step", "review", "confirmation", "failure", "capture")
MEDIA_TYPES = ("image/png", "image/jpeg")
SCREEN_CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/screenCapture"
CAPTURE_ASSERTION = "org.support-assistant.capture"
# RFC 5280's "no well-defined expiration date": a package is read years after it is made, and
# C2PA readers check the signing certificate's validity.
NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
# A capture larger than this is not one the browser took: verify does not hand it to the reader.
MAX_CHECKED = 256 * 1024**2


def available() -> bool:
    """c2pa-python is installed and its native library loads on this machine."""
    try:
        import c2pa  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def carries(entry: FileEntry) -> bool:
    """Whether a package file is a capture that gets credentials at sealing."""
    return entry.role in CAPTURE_ROLES and entry.media_type in MEDIA_TYPES


def certificate(signer: Signer, now: datetime) -> bytes:
    """A certificate of the signer's key, self-signed, as C2PA takes one (PEM)."""
    public = serialization.load_pem_public_key(signer.public_pem)
    assert isinstance(public, Ed25519PublicKey)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"evidence key {signer.fingerprint[:16]}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{GENERATOR} (self-signed)"),
        ]
    )
    no_other_use = dict(
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(NO_EXPIRY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, **no_other_use), critical=True)
        # c2pa-rs refuses a signing certificate without an extended key usage it allows, and a
        # self-signed one without an authority key identifier ("the certificate is invalid").
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
    )
    return signer.certify(builder).public_bytes(serialization.Encoding.PEM)


def _when(entry: FileEntry) -> str | None:
    return entry.captured_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if entry.captured_at else None


def _said(entry: FileEntry) -> dict[str, Any]:
    """What the credentials say of a capture beyond C2PA's own words: as the manifest says it."""
    return {"captured_at": _when(entry), "url": entry.meta.get("url")}


def embed(data: bytes, entry: FileEntry, signer: Signer, cert_pem: bytes, *, version: str | None) -> bytes:
    """The capture's bytes with its content credentials in them (a PNG caBX chunk, JPEG APP11
    segments): c2pa.created from a screen capture, its time and URL, signed with the key."""
    import c2pa

    created: dict[str, Any] = {"action": "c2pa.created", "digitalSourceType": SCREEN_CAPTURE}
    if entry.captured_at is not None:
        created["when"] = _when(entry)
    definition = {
        "claim_generator_info": [{"name": GENERATOR, **({"version": version} if version else {})}],
        "title": entry.path.rsplit("/", 1)[-1],
        "format": entry.media_type,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [created]}},
            {"label": CAPTURE_ASSERTION, "data": _said(entry)},
        ],
    }
    # No thumbnail: the capture is its own picture, and one costs a third of the time and ~30 kB.
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    out = io.BytesIO()
    with (
        c2pa.Signer.from_callback(signer.sign, c2pa.C2paSigningAlg.ED25519, cert_pem.decode("ascii")) as c2pa_signer,
        c2pa.Builder(json.dumps(definition), context=context) as builder,
    ):
        builder.sign(c2pa_signer, entry.media_type, io.BytesIO(data), out)
    return out.getvalue()


def certificate_problem(cert_pem: bytes, fingerprint: str) -> str | None:
    """Why cert_pem is not a certificate of the key with this fingerprint, or None."""
    from .keys import fingerprint as fingerprint_of

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        public = cert.public_key()
    except (ValueError, TypeError):
        return "not a certificate (PEM)"
    if not isinstance(public, Ed25519PublicKey):
        return "not a certificate of an Ed25519 key"
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if fingerprint_of(pem) != fingerprint:
        return f"certifies key {fingerprint_of(pem)[:16]}…, not the package's ({fingerprint[:16]}…)"
    return None


def check(data: bytes, entry: FileEntry, cert_pem: bytes) -> str | None:
    """What is wrong with a capture's content credentials, in a few words, or None when they are
    whole (C2PA's hash of the file holds), signed under cert_pem (already checked to be the
    package's key) and say what the manifest says of the capture."""
    import c2pa

    # The package's certificate as the only trust anchor: "Trusted" means signed under it.
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": cert_pem.decode("ascii")}}
    try:
        with c2pa.Reader(entry.media_type, io.BytesIO(data), context=c2pa.Context.from_dict(settings)) as reader:
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
            active = reader.get_active_manifest() or {}
    except c2pa.C2paError.ManifestNotFound:
        return "no content credentials, though manifest.json says they were embedded: removed"
    except Exception as exc:  # c2pa's errors, or what a hostile file makes of its parser
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        return f"its content credentials cannot be read ({reason})"
    failed = [str(f.get("code")) for f in (results.get("activeManifest") or {}).get("failure") or []]
    if any("mismatch" in code for code in failed):
        return f"changed after its content credentials were signed (C2PA: {', '.join(failed)})"
    if "signingCredential.untrusted" in failed:
        return f"its content credentials were signed by another key, not the package's ({CERTIFICATE})"
    if failed or state != "Trusted":
        return f"its content credentials do not validate (C2PA: {state}{': ' if failed else ''}{', '.join(failed)})"
    serial = str(x509.load_pem_x509_certificate(cert_pem).serial_number)
    if (active.get("signature_info") or {}).get("cert_serial_number") != serial:
        return f"its content credentials were signed under another certificate than {CERTIFICATE}"
    said = next((a.get("data") for a in active.get("assertions") or [] if a.get("label") == CAPTURE_ASSERTION), None)
    if said != _said(entry):
        return "its content credentials give another capture time or page than manifest.json"
    return None
