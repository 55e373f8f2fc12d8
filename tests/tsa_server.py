"""A real RFC 3161 timestamp authority on 127.0.0.1, signing with a test CA.

It answers TimeStampReq with a signed TimeStampResp the way public authorities
do (ESS signing-certificate-v2 attribute, critical timeStamping EKU), so the
same token passes `openssl ts -verify` and our own check.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, padding, rsa, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from werkzeug.wrappers import Request, Response

from assistant.sites.web import LocalServer


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test TSA")]
    )


def make_ca(cn: str = "Test Timestamp Root", issuer=None):
    """A root CA, or with issuer=(key, cert) an intermediate CA under it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    signing_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, _name(cn))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=60))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    return key, builder.sign(signing_key, hashes.SHA256())


def _tsa_key(kind: str):
    if kind == "dsa":
        return dsa.generate_private_key(key_size=2048)
    if kind == "x25519":  # a key that cannot sign: what a checker must refuse plainly
        return x25519.X25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_tsa_cert(
    ca_key,
    ca_cert,
    kind: str = "rsa",
    *,
    cn: str = "Test Timestamp Unit",
    eku=(ExtendedKeyUsageOID.TIME_STAMPING,),
    eku_critical: bool = True,
    valid=(timedelta(days=-30), timedelta(days=365)),
):
    """The authority's signing certificate. eku=None leaves the extension out; valid is
    (not before, not after) relative to now. (cryptography no longer signs certificates
    with SHA-1, so a SHA-1 certificate cannot be made here; the path builder refuses one.)"""
    key = _tsa_key(kind)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid[0])
        .not_valid_after(now + valid[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
    return key, builder.sign(ca_key, hashes.SHA256())


class Authority:
    """Signs with an RSA key, or with `kind` "dsa" or "x25519" (which cannot sign: the signature is zeros).

    The rest makes the authorities a checker must see through: a self-made one (its own
    root, any name), one whose certificate is for another use (eku=, eku_critical=), not
    valid at the token's time (valid=), that signs with SHA-1 (digest="sha1"), that
    dates its tokens in the past (backdate=), that leaves out or falsifies the ESS
    signing-certificate attribute (ess=None, "other"), or that signs under an
    intermediate CA (intermediate=True: the token carries it, the root stays the anchor),
    or answers with another nonce than asked (nonce_offset=).
    """

    def __init__(
        self,
        kind: str = "rsa",
        *,
        cn: str = "Test Timestamp Unit",
        root_cn: str = "Test Timestamp Root",
        intermediate: bool = False,
        digest: str = "sha256",
        ess: str | None = "v2",
        backdate: timedelta = timedelta(0),
        nonce_offset: int = 0,
        **cert_options,
    ):
        self.kind, self.digest, self.ess, self.backdate = kind, digest, ess, backdate
        self.nonce_offset = nonce_offset
        self.ca_key, self.ca_cert = make_ca(root_cn)
        self.intermediates = []
        issuer_key, issuer_cert = self.ca_key, self.ca_cert
        if intermediate:
            issuer_key, issuer_cert = make_ca("Test Timestamp Intermediate", issuer=(self.ca_key, self.ca_cert))
            self.intermediates.append(issuer_cert)
        self.key, self.cert = make_tsa_cert(issuer_key, issuer_cert, kind, cn=cn, **cert_options)
        self.serial = 0
        self.requests = 0

    @property
    def ca_pem(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)

    def _hash(self):
        return {"sha1": hashes.SHA1, "sha256": hashes.SHA256}[self.digest]()

    def respond(self, body: bytes) -> bytes:
        req = tsp.TimeStampReq.load(body)
        self.serial += 1
        self.requests += 1
        now = datetime.now(UTC).replace(microsecond=0) - self.backdate
        tst = tsp.TSTInfo(
            {
                "version": 1,
                "policy": "1.3.6.1.4.1.99999.1.1",
                "message_imprint": req["message_imprint"],
                "serial_number": self.serial,
                "gen_time": now,
                "accuracy": {"seconds": 1},
                "nonce": req["nonce"].native + self.nonce_offset,
            }
        )
        content = tst.dump()
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        acert = ax509.Certificate.load(cert_der)
        named = cert_der if self.ess != "other" else make_ca("Someone Else")[1].public_bytes(serialization.Encoding.DER)
        issuer_serial = {
            "issuer": [ax509.GeneralName(name="directory_name", value=acert.issuer)],
            "serial_number": acert.serial_number,
        }
        attrs = [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time(name="utc_time", value=now)]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.new(self.digest, content).digest()]}),
        ]
        if self.ess == "v1":
            ess = tsp.SigningCertificate(
                {"certs": [{"cert_hash": hashlib.sha1(named).digest(), "issuer_serial": issuer_serial}]}
            )
            attrs.append(cms.CMSAttribute({"type": "signing_certificate", "values": [ess]}))
        elif self.ess is not None:
            ess = tsp.SigningCertificateV2(
                {
                    "certs": [
                        {
                            "hash_algorithm": {"algorithm": "sha256"},
                            "cert_hash": hashlib.sha256(named).digest(),
                            "issuer_serial": issuer_serial,
                        }
                    ]
                }
            )
            attrs.append(cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}))
        signed_attrs = cms.CMSAttributes(attrs)
        to_sign = b"\x31" + signed_attrs.dump()[1:]
        if self.kind == "dsa":
            signature, algorithm = self.key.sign(to_sign, self._hash()), f"{self.digest}_dsa"
        elif self.kind == "x25519":
            signature, algorithm = bytes(64), "sha256_rsa"
        else:
            signature, algorithm = self.key.sign(to_sign, padding.PKCS1v15(), self._hash()), f"{self.digest}_rsa"
        carried = [
            acert,
            *(ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in self.intermediates),
        ]
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": self.digest})],
                "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(content)},
                "certificates": carried if req["cert_req"].native else [],
                "signer_infos": [
                    {
                        "version": "v1",
                        "sid": cms.SignerIdentifier(
                            name="issuer_and_serial_number",
                            value={"issuer": acert.issuer, "serial_number": acert.serial_number},
                        ),
                        "digest_algorithm": {"algorithm": self.digest},
                        "signed_attrs": signed_attrs,
                        "signature_algorithm": {"algorithm": algorithm},
                        "signature": signature,
                    }
                ],
            }
        )
        resp = tsp.TimeStampResp(
            {
                "status": {"status": "granted"},
                "time_stamp_token": {"content_type": "signed_data", "content": signed},
            }
        )
        return resp.dump()


def authority_app(authority: Authority):
    """The WSGI app of a timestamp authority: a POSTed TimeStampReq gets a TimeStampResp."""

    @Request.application
    def app(request: Request) -> Response:
        if request.method != "POST":
            return Response(status=405)
        return Response(authority.respond(request.get_data()), content_type="application/timestamp-reply")

    return app


class TimestampServer:
    """`with TimestampServer() as tsa:` — tsa.url, tsa.authority.ca_pem. Options: Authority's."""

    def __init__(self, kind: str = "rsa", **options):
        self.authority = Authority(kind, **options)
        self.server = LocalServer(authority_app(self.authority), software="test-tsa")

    @property
    def url(self) -> str:
        return f"{self.server.url}/tsa"

    def write_ca(self, path: Path) -> Path:
        path.write_bytes(self.authority.ca_pem)
        return path

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()
