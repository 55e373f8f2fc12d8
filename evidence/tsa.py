"""RFC 3161 trusted time: ask a timestamp authority to sign the manifest's hash, and check its answer.

asn1crypto speaks the ASN.1 (TimeStampReq/Resp, CMS SignedData) and
cryptography checks the signature; the token is stored as the authority sent
it (`manifest.tsr`), so `openssl ts -verify` can check it without this tool.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import algos, tsp
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha1": hashes.SHA1,
}


class TimestampError(Exception):
    pass


def request(digest: bytes, nonce: int | None = None) -> tsp.TimeStampReq:
    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": digest,
            },
            "nonce": nonce if nonce is not None else secrets.randbits(63),
            "cert_req": True,
        }
    )


def fetch(url: str, data: bytes, *, timeout: float = 30) -> bytes:
    """The authority's TimeStampResp (DER) for the SHA-256 of data; checked before it is returned."""
    req = request(hashlib.sha256(data).digest())
    http = urllib.request.Request(
        url, data=req.dump(), headers={"Content-Type": "application/timestamp-query"}, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:
            body: bytes = answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"timestamp authority {url}: {getattr(exc, 'reason', exc)}") from None
    info = check(body, data)
    if info.nonce != req["nonce"].native:
        raise TimestampError(f"timestamp authority {url}: the answer's nonce is not the one we sent")
    return body


@dataclass
class TokenInfo:
    gen_time: datetime
    serial: int
    policy: str
    nonce: int | None
    tsa_subject: str
    chain: list[bytes] = field(default_factory=list)  # DER certificates carried in the token


def _attr(signed_attrs: Any, name: str) -> Any:
    for attr in signed_attrs:
        if attr["type"].native == name:
            return attr["values"][0]
    return None


def _verify_sig(cert: cx509.Certificate, signature: bytes, data: bytes, digest: str, sig_algo: str) -> None:
    key = cert.public_key()
    hash_cls = HASHES.get(digest)
    if hash_cls is None:
        raise TimestampError(f"unsupported digest algorithm {digest}")
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if sig_algo == "rsassa_pss":
                key.verify(signature, data, padding.PSS(padding.MGF1(hash_cls()), padding.PSS.AUTO), hash_cls())
            else:
                key.verify(signature, data, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, hash_cls())
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        else:
            raise TimestampError(f"the authority signs with a {type(key).__name__}, which this tool cannot check")
    except InvalidSignature:
        raise TimestampError("the authority's signature on the token does not verify") from None


def check(response_der: bytes, data: bytes, *, trusted_ca: list[bytes] | None = None) -> TokenInfo:
    """Check that response_der is a granted RFC 3161 answer whose signature holds and whose
    imprint is the hash of data. With trusted_ca (DER or PEM certificates), also check the
    signer was issued by one of them. Raises TimestampError naming what failed."""
    try:
        resp = tsp.TimeStampResp.load(response_der)
        status = resp["status"]["status"].native
    except Exception as exc:
        raise TimestampError(f"not an RFC 3161 timestamp response ({exc})") from None
    if status not in ("granted", "granted_with_mods"):
        raise TimestampError(f"the authority refused: {status}")
    try:
        signed = resp["time_stamp_token"]["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampError("the token does not carry TSTInfo")
        content_bytes = encap["content"].contents
        tst = tsp.TSTInfo.load(content_bytes)
        imprint = tst["message_imprint"]
        algo = imprint["hash_algorithm"]["algorithm"].native
        if hashlib.new(algo, data).digest() != imprint["hashed_message"].native:
            raise TimestampError("the token is for different content: its hash is not the manifest's")
        certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"] if signed["certificates"] else []
        signer = signed["signer_infos"][0]
        sid = signer["sid"]
        if sid.name == "issuer_and_serial_number":
            serial = sid.chosen["serial_number"].native
            matches = [c for c in certs if c.serial_number == serial]
        else:
            key_id = sid.chosen.native
            matches = [c for c in certs if c.key_identifier == key_id]
        if not matches:
            raise TimestampError("the token does not carry the authority's certificate")
        signer_cert = cx509.load_der_x509_certificate(matches[0].dump())
        digest_algo = signer["digest_algorithm"]["algorithm"].native
        attrs = signer["signed_attrs"]
        if not attrs:
            raise TimestampError("the token has no signed attributes")
        message_digest = _attr(attrs, "message_digest")
        if message_digest is None or message_digest.native != hashlib.new(digest_algo, content_bytes).digest():
            raise TimestampError("the token's content does not match its signed digest")
        # The signature covers the DER of the attributes as a SET (tag 0x31), not the [0] tag.
        signed_bytes = b"\x31" + attrs.dump()[1:]
        sig_algo = signer["signature_algorithm"]["algorithm"].native
        _verify_sig(signer_cert, signer["signature"].native, signed_bytes, digest_algo, sig_algo)
    except TimestampError:
        raise
    except Exception as exc:  # malformed ASN.1 anywhere in the token
        raise TimestampError(f"malformed timestamp token ({type(exc).__name__}: {exc})") from None
    if trusted_ca:
        _check_issued_by(signer_cert, trusted_ca)
    return TokenInfo(
        gen_time=tst["gen_time"].native,
        serial=tst["serial_number"].native,
        policy=tst["policy"].dotted,
        nonce=tst["nonce"].native,
        tsa_subject=signer_cert.subject.rfc4514_string(),
        chain=[c.dump() for c in certs],
    )


def load_certs(blob: bytes) -> list[cx509.Certificate]:
    if b"-----BEGIN CERTIFICATE-----" in blob:
        return cx509.load_pem_x509_certificates(blob)
    return [cx509.load_der_x509_certificate(blob)]


def _check_issued_by(cert: cx509.Certificate, trusted: list[bytes]) -> None:
    roots = [c for blob in trusted for c in load_certs(blob)]
    for root in roots:
        if root == cert:
            return
        try:
            cert.verify_directly_issued_by(root)
            return
        except (ValueError, TypeError, InvalidSignature):
            continue
    raise TimestampError(
        f"the authority's certificate ({cert.subject.rfc4514_string()}) was not issued by the trusted CA given"
    )
