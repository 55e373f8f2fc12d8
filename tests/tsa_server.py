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


def make_ca(cn: str = "Test Timestamp Root"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _tsa_key(kind: str):
    if kind == "dsa":
        return dsa.generate_private_key(key_size=2048)
    if kind == "x25519":  # a key that cannot sign: what a checker must refuse plainly
        return x25519.X25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_tsa_cert(ca_key, ca_cert, kind: str = "rsa"):
    key = _tsa_key(kind)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Timestamp Unit"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


class Authority:
    """Signs with an RSA key, or with `kind` "dsa" or "x25519" (which cannot sign: the signature is zeros)."""

    def __init__(self, kind: str = "rsa"):
        self.kind = kind
        self.ca_key, self.ca_cert = make_ca()
        self.key, self.cert = make_tsa_cert(self.ca_key, self.ca_cert, kind)
        self.serial = 0
        self.requests = 0
        self.skew = timedelta(0)  # how far this authority's clock is from the machine's

    @property
    def ca_pem(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)

    def respond(self, body: bytes) -> bytes:
        req = tsp.TimeStampReq.load(body)
        self.serial += 1
        self.requests += 1
        tst = tsp.TSTInfo(
            {
                "version": 1,
                "policy": "1.3.6.1.4.1.99999.1.1",
                "message_imprint": req["message_imprint"],
                "serial_number": self.serial,
                "gen_time": (datetime.now(UTC) + self.skew).replace(microsecond=0),
                "accuracy": {"seconds": 1},
                "nonce": req["nonce"].native,
            }
        )
        content = tst.dump()
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        acert = ax509.Certificate.load(cert_der)
        ess = tsp.SigningCertificateV2(
            {
                "certs": [
                    {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "cert_hash": hashlib.sha256(cert_der).digest(),
                        "issuer_serial": {
                            "issuer": [ax509.GeneralName(name="directory_name", value=acert.issuer)],
                            "serial_number": acert.serial_number,
                        },
                    }
                ]
            }
        )
        attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "signing_time", "values": [cms.Time(name="utc_time", value=datetime.now(UTC))]}
                ),
                cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
                cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
            ]
        )
        to_sign = b"\x31" + attrs.dump()[1:]
        if self.kind == "dsa":
            signature, algorithm = self.key.sign(to_sign, hashes.SHA256()), "sha256_dsa"
        elif self.kind == "x25519":
            signature, algorithm = bytes(64), "sha256_rsa"
        else:
            signature, algorithm = self.key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256()), "sha256_rsa"
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(content)},
                "certificates": [acert] if req["cert_req"].native else [],
                "signer_infos": [
                    {
                        "version": "v1",
                        "sid": cms.SignerIdentifier(
                            name="issuer_and_serial_number",
                            value={"issuer": acert.issuer, "serial_number": acert.serial_number},
                        ),
                        "digest_algorithm": {"algorithm": "sha256"},
                        "signed_attrs": attrs,
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
    """`with TimestampServer() as tsa:` — tsa.url, tsa.authority.ca_pem."""

    def __init__(self, kind: str = "rsa"):
        self.authority = Authority(kind)
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
