"""A real SMTP server on 127.0.0.1 for the email channel tests (aiosmtpd), with STARTTLS and AUTH."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers import self_signed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None


@dataclass
class SmtpServer:
    port: int
    cert: Path
    user: str = "anna"
    password: str = "s3cret-app-password"
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    # Faults: answer DATA with this refusal instead of 250; or take the message and hang up unanswered.
    refuse_with: str | None = None
    hang_up_after_data: bool = False

    def cli_args(self) -> list[str]:
        return [
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(self.port),
            "--smtp-security",
            "starttls",
            "--smtp-user",
            self.user,
        ]

    def env(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": str(self.cert), "ASSISTANT_SMTP_PASSWORD": self.password}


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else session.auth_data
        if self.server.refuse_with:
            return self.server.refuse_with
        self.server.messages.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content), login
            )
        )
        if self.server.hang_up_after_data:  # queued, but the client never hears so
            smtp.transport.close()
        return "250 OK queued"


def start(directory: Path):
    cert, key = self_signed(directory)
    server = SmtpServer(port=free_port(), cert=cert)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticator(smtp, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            server.logins.append((login, password))
            if (login, password) == (server.user, server.password):
                return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)

    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=server.port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    return server, controller
