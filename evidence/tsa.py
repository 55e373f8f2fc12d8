"""RFC 3161 trusted time: ask a timestamp authority to sign the manifest's hash, and check its answer.

asn1crypto speaks the ASN.1 (TimeStampReq/Resp, CMS SignedData), cryptography
checks the signature and builds the authority's certificate path
(`cryptography.x509.verification`, the same path builder as its TLS checks);
the token is stored as the authority sent it (`manifest.tsr`), so
`openssl ts -verify` can check it without this tool.

What a token must show, with or without a trusted CA: a message imprint and
signature digests of SHA-256 or stronger (SHA-1 is refused: collisions can be
made), a signature that holds, an ESS signing-certificate(-v2) attribute that
binds the signature to the certificate carried in the token, and that
certificate's critical extended key usage of timeStamping alone, valid at the
token's genTime. With a trusted CA, also a path from that certificate to it,
valid at genTime. Without one, the token's own word is all there is: who
signed it (the certificate's subject) and when, which anyone with a key of
their own can claim.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import algos, tsp
from asn1crypto import x509 as ax509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID

# Some authorities still sign with DSA, and their tokens are checked as any other. cryptography
# warns on every use of it, on the person's screen, about what only the authority can change:
# silenced for this module's own lines, where the choice is made on purpose.
warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning, module=__name__)

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# Digests a token may not rest on: collisions can be made for them.
WEAK = ("md2", "md5", "sha1")


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


MAX_RESPONSE = 1 << 20  # a token is a few kB; an authority that sends more is not answering


def fetch(url: str, data: bytes, *, timeout: float = 30) -> bytes:
    """The authority's TimeStampResp (DER) for the SHA-256 of data; checked before it is returned."""
    req = request(hashlib.sha256(data).digest())
    http = urllib.request.Request(
        url, data=req.dump(), headers={"Content-Type": "application/timestamp-query"}, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:
            body: bytes = answer.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"timestamp authority {url}: {getattr(exc, 'reason', exc)}") from None
    if len(body) > MAX_RESPONSE:
        raise TimestampError(f"timestamp authority {url}: the answer is over {MAX_RESPONSE} bytes")
    try:
        info = check(body, data)
    except TimestampError as exc:
        raise TimestampError(f"timestamp authority {url}: {exc}") from None
    if info.nonce != req["nonce"].native:
        raise TimestampError(f"timestamp authority {url}: the answer's nonce is not the one we sent")
    return body


def fetch_all(urls: list[str], data: bytes, *, timeout: float = 15) -> list[bytes | TimestampError]:
    """Each authority's token for data, asked at once on threads of their own: the slowest
    sets the wait, not their sum. Failures come back in their place, as TimestampError."""
    from concurrent.futures import ThreadPoolExecutor

    def one(url: str) -> bytes | TimestampError:
        try:
            return fetch(url, data, timeout=timeout)
        except TimestampError as exc:
            return exc

    if len(urls) < 2:
        return [one(url) for url in urls]
    with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="tsa") as pool:
        return list(pool.map(one, urls))


@dataclass
class TokenInfo:
    gen_time: datetime
    serial: int
    policy: str
    nonce: int | None
    tsa_subject: str  # who signed the token: the subject of the certificate it carries
    tsa_issuer: str = ""
    trusted: bool = False  # its certificate chains to a CA the caller gave
    chain: list[bytes] = field(default_factory=list)  # DER certificates carried in the token


def _attr(signed_attrs: Any, name: str) -> Any:
    found = [attr for attr in signed_attrs if attr["type"].native == name]
    if len(found) > 1 or (found and len(found[0]["values"]) != 1):
        raise TimestampError(f"the token's signed attributes hold {name} more than once")
    return found[0]["values"][0] if found else None


def _strong(algorithm: str, what: str) -> str:
    if algorithm in WEAK:
        raise TimestampError(f"{what} uses {algorithm.upper()}, which is refused: collisions can be made for it")
    if algorithm not in HASHES:
        raise TimestampError(f"{what} uses {algorithm}, which this tool cannot check")
    return algorithm


def _verify_sig(cert: cx509.Certificate, signature: bytes, data: bytes, digest: str, sig_algo: str) -> None:
    key = cert.public_key()
    hash_cls = HASHES[digest]
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if sig_algo == "rsassa_pss":
                key.verify(signature, data, padding.PSS(padding.MGF1(hash_cls()), padding.PSS.AUTO), hash_cls())
            else:
                key.verify(signature, data, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, hash_cls())
        else:
            raise TimestampError(f"the authority signs with a {type(key).__name__}, which this tool cannot check")
    except InvalidSignature:
        raise TimestampError("the authority's signature on the token does not verify") from None


def _check_binding(attrs: Any, cert: ax509.Certificate) -> None:
    """The ESS signing-certificate attribute (RFC 2634, RFC 5035): the signature names the
    certificate it was made with, so the certificate carried beside it cannot be swapped."""
    v2 = _attr(attrs, "signing_certificate_v2")
    v1 = _attr(attrs, "signing_certificate")
    if v2 is None and v1 is None:
        raise TimestampError("the token does not name its signer's certificate (no ESS signing-certificate attribute)")
    if v2 is not None:
        ids = v2["certs"]
        algorithm = _strong(ids[0]["hash_algorithm"]["algorithm"].native, "the ESS signing-certificate-v2 attribute")
    else:
        # ESSCertID (v1) is SHA-1 by definition; it names the certificate, it signs nothing.
        ids, algorithm = v1["certs"], "sha1"
    if not len(ids):
        raise TimestampError("the token's ESS signing-certificate attribute names no certificate")
    first = ids[0]
    if first["cert_hash"].native != hashlib.new(algorithm, cert.dump()).digest():
        raise TimestampError("the token's ESS signing-certificate attribute names another certificate than it carries")
    issuer_serial = first["issuer_serial"]
    if issuer_serial.native is not None:
        names = [n.chosen for n in issuer_serial["issuer"] if n.name == "directory_name"]
        if issuer_serial["serial_number"].native != cert.serial_number or (names and names[0] != cert.issuer):
            raise TimestampError("the token's ESS signing-certificate attribute names another issuer or serial number")


def _require_timestamping(eku: cx509.ExtendedKeyUsage, cert: cx509.Certificate) -> None:
    if list(eku) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        shown = ", ".join(getattr(oid, "_name", oid.dotted_string) for oid in eku) or "nothing"
        raise TimestampError(
            f"the authority's certificate ({cert.subject.rfc4514_string()}) is for {shown}, "
            "not for timestamps alone (RFC 3161 2.3)"
        )


def _check_certificate(cert: cx509.Certificate, gen_time: datetime) -> None:
    """What the token's own certificate must say, trusted or not (RFC 3161 2.3)."""
    subject = cert.subject.rfc4514_string()
    try:
        eku = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    except cx509.ExtensionNotFound:
        raise TimestampError(
            f"the authority's certificate ({subject}) has no extended key usage timeStamping"
        ) from None
    if not eku.critical:
        raise TimestampError(f"the authority's certificate ({subject}): its extended key usage is not critical")
    _require_timestamping(eku.value, cert)
    if not (cert.not_valid_before_utc <= gen_time <= cert.not_valid_after_utc):
        raise TimestampError(
            f"the authority's certificate ({subject}) was not valid at the token's time {gen_time:%Y-%m-%d %H:%M:%S} UTC "
            f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})"
        )
    algorithm = cert.signature_hash_algorithm
    if algorithm is not None and algorithm.name in WEAK:
        raise TimestampError(
            f"the authority's certificate ({subject}) is signed with {algorithm.name.upper()}: refused"
        )


def check(response_der: bytes, data: bytes, *, trusted_ca: list[bytes] | None = None) -> TokenInfo:
    """Check that response_der is a granted RFC 3161 answer for the hash of data, signed as the
    module's docstring says. With trusted_ca (DER or PEM certificates, each a trust anchor), also
    check the path from the signer's certificate to one of them, at the token's genTime.
    Raises TimestampError naming what failed, and only that."""
    try:
        return _check(response_der, data, trusted_ca)
    except TimestampError:
        raise
    except Exception as exc:  # malformed ASN.1 anywhere, read lazily (a certificate's extensions)
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise TimestampError(f"malformed timestamp token ({type(exc).__name__}: {reason})") from None


def _check(response_der: bytes, data: bytes, trusted_ca: list[bytes] | None) -> TokenInfo:
    try:
        resp = tsp.TimeStampResp.load(response_der)
        status = resp["status"]["status"].native
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TimestampError(f"not an RFC 3161 timestamp response ({reason})") from None
    if status not in ("granted", "granted_with_mods"):
        raise TimestampError(f"the authority refused: {status}")
    try:
        token = resp["time_stamp_token"]
        if token["content_type"].native != "signed_data":
            raise TimestampError("the token is not CMS signed data")
        signed = token["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampError("the token does not carry TSTInfo")
        content_bytes = encap["content"].contents
        tst = tsp.TSTInfo.load(content_bytes)
        imprint = tst["message_imprint"]
        algo = _strong(imprint["hash_algorithm"]["algorithm"].native, "the token's message imprint")
        if hashlib.new(algo, data).digest() != imprint["hashed_message"].native:
            raise TimestampError("the token is for different content: its hash is not that of the file it stamps")
        gen_time = tst["gen_time"].native
        if not 1970 <= gen_time.year < 9000:  # a forged year 9999 cannot be moved to a clock
            raise TimestampError(f"the token is dated in the year {gen_time.year}: not a time an authority gives")
        certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"] if signed["certificates"] else []
        if len(signed["signer_infos"]) != 1:
            raise TimestampError(f"the token has {len(signed['signer_infos'])} signers, not one")
        signer = signed["signer_infos"][0]
        sid = signer["sid"]
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            matches = [
                c for c in certs if c.serial_number == wanted["serial_number"].native and c.issuer == wanted["issuer"]
            ]
        else:
            key_id = sid.chosen.native
            matches = [c for c in certs if c.key_identifier == key_id]
        if not matches:
            raise TimestampError("the token does not carry the authority's certificate")
        signer_cert = cx509.load_der_x509_certificate(matches[0].dump())
        digest_algo = _strong(signer["digest_algorithm"]["algorithm"].native, "the token's signature")
        sig_algo = signer["signature_algorithm"]["algorithm"].native
        if sig_algo.startswith(WEAK):  # sha1_rsa, md5_rsa: the name carries its own digest
            _strong(sig_algo.split("_")[0], "the token's signature")
        attrs = signer["signed_attrs"]
        if not attrs:
            raise TimestampError("the token has no signed attributes")
        content_type = _attr(attrs, "content_type")
        if content_type is None or content_type.native != "tst_info":
            raise TimestampError("the token's signed content type is not TSTInfo")
        message_digest = _attr(attrs, "message_digest")
        if message_digest is None or message_digest.native != hashlib.new(digest_algo, content_bytes).digest():
            raise TimestampError("the token's content does not match its signed digest")
        _check_binding(attrs, matches[0])
        # The signature covers the DER of the attributes as a SET (tag 0x31), not the [0] tag.
        signed_bytes = b"\x31" + attrs.dump()[1:]
        _verify_sig(signer_cert, signer["signature"].native, signed_bytes, digest_algo, sig_algo)
        others = [cx509.load_der_x509_certificate(c.dump()) for c in certs if c is not matches[0]]
    except TimestampError:
        raise
    except Exception as exc:  # malformed ASN.1 anywhere in the token
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise TimestampError(f"malformed timestamp token ({type(exc).__name__}: {reason})") from None
    _check_certificate(signer_cert, gen_time)
    if trusted_ca:
        _check_path(signer_cert, others, trusted_ca, gen_time)
    return TokenInfo(
        gen_time=gen_time,
        serial=tst["serial_number"].native,
        policy=tst["policy"].dotted,
        nonce=tst["nonce"].native,
        tsa_subject=signer_cert.subject.rfc4514_string(),
        tsa_issuer=signer_cert.issuer.rfc4514_string(),
        trusted=bool(trusted_ca),
        chain=[c.dump() for c in certs],
    )


def load_certs(blob: bytes) -> list[cx509.Certificate]:
    """The certificates of a PEM (one or more) or DER file; ValueError when it holds none."""
    if b"-----BEGIN CERTIFICATE-----" in blob:
        return cx509.load_pem_x509_certificates(blob)
    return [cx509.load_der_x509_certificate(blob)]


def _check_path(
    cert: cx509.Certificate, untrusted: list[cx509.Certificate], trusted: list[bytes], at: datetime
) -> None:
    """A path from the signer's certificate to a trusted one, valid at the token's time: the
    webpki rules for every CA on it, and for the signer the timestamping key usage."""
    from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

    try:
        roots = [c for blob in trusted for c in load_certs(blob)]
    except ValueError as exc:
        raise TimestampError(f"the trusted CA given is not a certificate ({exc})") from None
    if cert in roots:  # the authority's own certificate, pinned
        return

    def timestamping(policy: Any, leaf: cx509.Certificate, eku: cx509.ExtendedKeyUsage) -> None:
        _require_timestamping(eku, leaf)

    def signing(policy: Any, leaf: cx509.Certificate, usage: cx509.KeyUsage | None) -> None:
        if usage is not None and not (usage.digital_signature or usage.content_commitment):
            raise ValueError("its key usage allows no signatures")

    leaf_policy = (
        ExtensionPolicy.permit_all()
        .require_present(cx509.ExtendedKeyUsage, Criticality.CRITICAL, timestamping)
        .may_be_present(cx509.KeyUsage, Criticality.AGNOSTIC, signing)
    )
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=leaf_policy)
        .build_client_verifier()
    )
    try:
        verifier.verify(cert, untrusted)
    except VerificationError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TimestampError(
            f"the authority's certificate ({cert.subject.rfc4514_string()}) does not chain to the trusted CA given "
            f"at the token's time: {reason}"
        ) from None
