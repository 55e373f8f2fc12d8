"""Running the real `assistant` command in a subprocess, as a person or CI would."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "flows" / "samples"
DEMO_FLOW = REPO / "flows" / "demo.yaml"


def run_cli(*args: str, home: Path, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_case(tmp: Path, **changes) -> Path:
    """The demo sample case, copied with its attachments, with top-level changes (None deletes)."""
    yaml = YAML()
    data = yaml.load((SAMPLES / "demo-case.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    for name in data.get("attachments", []):
        shutil.copy(SAMPLES / name, tmp / name)
    path = tmp / "case.yaml"
    buffer = StringIO()
    yaml.dump(data, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def submissions(home: Path) -> list[dict]:
    db = home / "assistant.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM submissions ORDER BY id")]


def json_out(done: subprocess.CompletedProcess):
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def start_run_server() -> tuple[subprocess.Popen, int]:
    """A `playwright run-server --unsafe` on 127.0.0.1 (it then starts the browser a client names)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1", "--port", str(port), "--unsafe"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: `python -m playwright` leaves node running when only it is ended
    )
    line = server.stdout.readline() if server.stdout else ""
    assert "Listening on ws://" in line, line
    return server, port


def stop_run_server(server: subprocess.Popen) -> None:
    """End the server's whole process group: `python -m playwright`, and the node driver under
    it, which closes its browsers on SIGTERM and may outlive its parent while it does (or hang
    there): whatever is left after a grace period is killed."""
    import signal
    import time

    group = server.pid
    os.killpg(group, signal.SIGTERM)
    server.wait(timeout=10)
    if server.stdout is not None:
        server.stdout.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)  # anyone left in the group?
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def self_signed(directory: Path, host: str = "127.0.0.1", prefix: str = "smtp") -> tuple[Path, Path]:
    """(certificate, key) files for host (an IP address or a name), self-signed: trusted only
    where it is named as a CA (SSL_CERT_FILE), refused by a browser unless told to ignore it."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{prefix}-cert.pem", directory / f"{prefix}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextmanager
def tls_page(folder: Path) -> Iterator[tuple[object, object]]:
    """(server, certificate): a page served over HTTPS at https://localhost:PORT/ with a
    self-signed certificate, which a browser lets through only if told to ignore the error."""
    import ssl

    from cryptography import x509
    from werkzeug.wrappers import Request, Response

    from assistant.sites.web import LocalServer

    cert_path, key_path = self_signed(folder, "localhost", prefix="tls")

    @Request.application
    def app(request: Request) -> Response:
        return Response(b"<title>TLS page</title><p>secure</p>", content_type="text/html")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    with LocalServer(app, ssl_context=context) as server:
        yield server, x509.load_pem_x509_certificate(cert_path.read_bytes())
