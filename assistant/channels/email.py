"""The email channel: a standard MIME message to the provider's support address.

The text is the composed request; the evidence goes as attachments, fitted to
the flow's limits. It is sent through the person's own SMTP server, or written
as an .eml file for their mail program (--eml-only). The password comes from
the environment (ASSISTANT_SMTP_PASSWORD) or the system keyring, never from
the case file. The message's Message-ID is the submission's reference until
the provider answers with a number of its own (`assistant cases reply`).

Same journal as the web form: the submission is written as pending before the
message is handed to the server, and confirmed once the server accepts it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.casework.compose import compose
from assistant.errors import Declined, InputError, RunFailed
from assistant.language.case import EMAIL, Case

if TYPE_CHECKING:
    from assistant.language.flow import Flow

KEYRING_SERVICE = "support-assistant-smtp"
PASSWORD_ENV = "ASSISTANT_SMTP_PASSWORD"


@dataclass
class SmtpSettings:
    host: str | None = None
    port: int | None = None
    security: str = "starttls"  # starttls | tls | none
    user: str | None = None
    sender: str | None = None  # From address; default: the case's contact email
    timeout: float = 30

    def port_or_default(self) -> int:
        return self.port or {"tls": 465, "starttls": 587}.get(self.security, 25)


def password_for(smtp: SmtpSettings) -> str:
    """The SMTP password: ASSISTANT_SMTP_PASSWORD, else the system keyring."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            value = keyring.get_password(KEYRING_SERVICE, smtp.user or "")
        except KeyringError:
            value = None
    except ImportError:
        value = None
    if value:
        return value
    raise InputError(
        f"--smtp-user {smtp.user}: no password. Set {PASSWORD_ENV}, or store it once with "
        f"`keyring set {KEYRING_SERVICE} {smtp.user}` (passwords never go in the case file)"
    )


def recipient(flow: Flow, to: str | None) -> str:
    address = to or (flow.email.address if flow.email else None)
    if not address:
        raise InputError(f"flow {flow.id} has no provider address: pass --to support@provider.example")
    if not EMAIL.match(address):
        raise InputError(f"--to: '{address}' is not an email address like support@example.com")
    return address


def media_type(path: Path) -> tuple[str, str]:
    from assistant.pipeline import media_type as sniff

    kind = sniff(path)
    main, _, sub = kind.partition("/")
    return main, sub or "octet-stream"


def fit_total(flow: Flow, attachments: list[Path]) -> None:
    limit = flow.email.max_total_bytes if flow.email else None
    total = sum(p.stat().st_size for p in attachments)
    if limit and total > limit:
        raise InputError(
            f"case: attachments: {total} bytes together, but {flow.id} takes at most {limit} bytes per message; "
            "attach fewer or smaller files"
        )


def build_message(
    case: Case, flow: Flow, attachments: list[Path], *, to: str, sender: str | None = None
) -> tuple[EmailMessage, object]:
    request = compose(case, attachments, flow=flow)
    prefix = flow.email.subject_prefix if flow.email else ""
    sender = sender or case.contacts.email
    message = EmailMessage()
    message["Subject"] = f"{prefix}{request.subject}"
    message["From"] = formataddr((case.contacts.full_name, sender))
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    if case.contacts.email != sender:
        message["Reply-To"] = case.contacts.email
    message["Content-Language"] = request.language
    message.set_content(request.body, charset="utf-8")
    for path in attachments:
        main, sub = media_type(path)
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return message, request


def _open(smtp: SmtpSettings) -> smtplib.SMTP:
    """Connect and log in, so a wrong host or password fails before anything is journalled."""
    if not smtp.host:
        raise InputError("--smtp-host: where to send from (your mail provider's SMTP server), or pass --eml-only")
    port = smtp.port_or_default()
    password = password_for(smtp) if smtp.user else None
    context = ssl.create_default_context()
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, port, timeout=smtp.timeout)
    except OSError as exc:
        raise InputError(
            f"--smtp-host {smtp.host}:{port}: cannot connect ({getattr(exc, 'strerror', None) or exc}); nothing was sent"
        ) from None
    try:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.user:
            client.login(smtp.user, password)
    except smtplib.SMTPAuthenticationError as exc:
        client.close()
        raise InputError(
            f"--smtp-user {smtp.user}: the server refused the login ({exc.smtp_code}); nothing was sent"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise InputError(f"--smtp-host {smtp.host}:{port} ({smtp.security}): {exc}; nothing was sent") from None
    return client


def send(case: Case, flow: Flow, settings, attachments: list[Path] | None = None):
    """File the request by email; returns the same Outcome as the web form."""
    from assistant import __version__
    from assistant.casework.matter import journal_extras
    from assistant.pipeline import Outcome, _evidence_dir
    from assistant.store import Store
    from evidence import EvidencePackage, FlowRef, SubmissionRef
    from evidence.manifest import Environment

    attachments = list(case.attachments) if attachments is None else list(attachments)
    to = recipient(flow, getattr(settings, "to", None))
    fit_total(flow, attachments)
    smtp: SmtpSettings = getattr(settings, "smtp", None) or SmtpSettings()
    eml_only = getattr(settings, "eml_only", False)
    message, request = build_message(case, flow, attachments, to=to, sender=smtp.sender)
    message_id = str(message["Message-ID"])
    raw = bytes(message)
    key = case.fingerprint()
    outdir = _evidence_dir(settings, flow, key)

    if not (settings.yes or settings.dry_run):
        summary = {
            "provider": flow.name,
            "to": to,
            "subject": str(message["Subject"]),
            "order_id": case.order_id,
            "contact": f"{case.contacts.full_name} <{case.contacts.email}>",
            "attachments": [p.name for p in attachments],
            "via": "an .eml file" if eml_only else f"SMTP {smtp.host}:{smtp.port_or_default()}",
        }
        if not settings.confirm(summary):
            raise Declined("not sent: you declined at the confirmation prompt")
    client = None if settings.dry_run or eml_only else _open(smtp)

    package = EvidencePackage(outdir)
    package.add_bytes("message.eml", raw, "message/rfc822", role="message")
    for path in attachments:
        main, sub = media_type(path)
        package.add_bytes(f"attachments/{path.name}", path.read_bytes(), f"{main}/{sub}", role="attachment")

    def finish(outcome: str, submitted_at: datetime | None) -> str:
        package.finish(
            tool=f"support-assistant {__version__}",
            case={**case.summary(), "fingerprint": key},
            environment=Environment(
                os=platform.system(),
                os_version=platform.release(),
                kernel=platform.version(),
                architecture=platform.machine(),
                python=platform.python_version(),
            ),
            actions=[],
            flow=FlowRef(id=flow.id, version=flow.version, sha256=flow.sha256, file=flow.path),
            submission=SubmissionRef(
                dry_run=settings.dry_run,
                submitted_at=submitted_at,
                confirmation=message_id,
                outcome=outcome,
            ),
            request={"subject": str(message["Subject"]), "body": request.body},
            report=False,
        )
        return hashlib.sha256((outdir / "manifest.json").read_bytes()).hexdigest()

    if settings.dry_run:
        finish("not_submitted", None)
        return Outcome(status="dry_run", flow_id=flow.id, evidence_dir=outdir)

    store = Store(settings.home)
    try:
        flow_info = {"id": flow.id, "version": flow.version, "sha256": flow.sha256, "channel": flow.channel}
        submission_id = store.begin(
            case_key=key,
            case=case.model_dump(mode="json"),
            flow=flow_info,
            evidence_dir=str(outdir),
            **journal_extras(case, flow, getattr(settings, "kind", "request"), getattr(settings, "to", None)),
        )
        store.set_submission(submission_id, message_id=message_id)
        if eml_only:
            settings.log(f"written for your mail program: {outdir / 'message.eml'} (send it to {to})")
        else:
            settings.log(f"sending to {to} through {smtp.host}:{smtp.port_or_default()} ({smtp.security})")
            try:
                client.send_message(message)
            except (smtplib.SMTPException, OSError) as exc:
                store.note_error(submission_id, str(exc).splitlines()[0] if str(exc) else repr(exc))
                finish("pending", datetime.now(UTC))
                raise RunFailed(
                    f"the SMTP server did not accept the message: {exc}. It may or may not have been sent; "
                    f"it is recorded as pending. Evidence: {outdir}"
                ) from None
        store.confirm(submission_id, message_id, None)
        store.set_submission(submission_id, manifest_sha256=finish("confirmed", datetime.now(UTC)))
    finally:
        store.close()
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return Outcome(
        status="eml_written" if eml_only else "confirmed",
        flow_id=flow.id,
        evidence_dir=outdir,
        confirmation=message_id,
        submission_id=submission_id,
    )
