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
    import signal

    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=10)


@contextmanager
def tls_page(folder: Path) -> Iterator[tuple[object, object]]:
    """(server, certificate): a page served over HTTPS at https://localhost:PORT/ with a
    self-signed certificate, which a browser lets through only if told to ignore the error."""
    import ssl
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from werkzeug.wrappers import Request, Response

    from assistant.sites.web import LocalServer

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    @Request.application
    def app(request: Request) -> Response:
        return Response(b"<title>TLS page</title><p>secure</p>", content_type="text/html")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    with LocalServer(app, ssl_context=context) as server:
        yield server, cert
