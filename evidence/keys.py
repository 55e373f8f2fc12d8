"""The person's Ed25519 signing key: made on first use, kept 0600, never leaves the machine.

The public half travels in every package as `signer.pub.pem`, so anyone can
check `manifest.sig` with plain openssl (`openssl pkeyutl -verify -rawin`).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, as shown in the manifest and by `evidence show`."""
    key = serialization.load_pem_public_key(public_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# How a request's text names the key that signs its evidence: one form in every language, so
# that `evidence verify` finds it in what was sent, and never takes a file's hash (the request
# lists the attachments as "SHA-256 <hex>") for a key.
NAMED = re.compile(r"\bEd25519\s+SHA-256\s+([0-9a-fA-F]{64})(?![0-9a-zA-Z])")


def named(fingerprint: str) -> str:
    """The words a request names its signing key with: "Ed25519 SHA-256 <fingerprint>"."""
    return f"Ed25519 SHA-256 {fingerprint}"


def named_in(text: str) -> list[str]:
    """The fingerprints a text names keys by (see `named`), lower-case, in order."""
    return [found.lower() for found in NAMED.findall(text)]


class Signer:
    def __init__(self, key: Ed25519PrivateKey):
        self._key = key

    @classmethod
    def load_or_create(cls, path: str | Path) -> Signer:
        path = Path(path)
        if path.exists():
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                # Someone widened it; narrow it again rather than refuse to sign.
                os.chmod(path, 0o600)
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path}: not an Ed25519 private key")
            return cls(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Written whole under a name of its own, then linked into place: a second run starting at
        # the same moment never reads a key half written, and the first link is the key of both.
        # O_EXCL + 0600 from the start: the key is never readable by others, not even briefly.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(draft, path)
            except FileExistsError:  # another run made one first: that one is the key
                return cls.load_or_create(path)
            except OSError:  # a file system with no hard links: written in place
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(pem)
        finally:
            draft.unlink(missing_ok=True)
        return cls(key)

    @property
    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_pem)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def certify(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """The certificate `builder` describes, signed with this key: C2PA content credentials
        (evidence.credentials) name their signer by an X.509 certificate, not a bare key."""
        return builder.sign(self._key, None)


def verify(public_pem: bytes, signature: bytes, data: bytes) -> bool:
    try:
        key = serialization.load_pem_public_key(public_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # not a key, or one of a kind never used here
        return False
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
