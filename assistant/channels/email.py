"""The email channel: a standard MIME message to the provider's support address.

The text is the composed request; the evidence goes as attachments, fitted to
the flow's limits. It is sent through the person's own SMTP server, or written
as an .eml file for their mail program (--eml-only). The password comes from
the environment (ASSISTANT_SMTP_PASSWORD) or the system keyring, never from
the case file. The message's Message-ID is the submission's reference until
the provider answers with a number of its own (`assistant cases reply`).

Same journal as the web form: the submission is written as pending before the
message is handed to the server, and confirmed once the server accepts it. An
.eml written for the person's mail program is journalled as drafted: nothing
was sent, no deadline runs, until they say they sent it (`assistant cases
mark-sent`).
"""

from __future__ import annotations

import os
import platform
import re
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.casework.compose import FittedFile, Request, compose, fitted_files, signing_key
from assistant.channels.base import Delivery, Filing, SmtpSettings
from assistant.errors import AlreadySubmitted, Declined, InputError, OutcomeUnknown, Rejected
from assistant.language.case import EMAIL, Case
from assistant.translation import _
from evidence import Action, Environment, FilingOutcome
from evidence.fit import media_type

if TYPE_CHECKING:
    from assistant.language.flow import Flow

KEYRING_SERVICE = "support-assistant-smtp"
PASSWORD_ENV = "ASSISTANT_SMTP_PASSWORD"


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
        _(
            "--smtp-user {user}: no password. Set {variable}, or store it once with "
            "`keyring set {service} {user}` (passwords never go in the case file)"
        ).format(user=smtp.user, variable=PASSWORD_ENV, service=KEYRING_SERVICE)
    )


def recipient(flow: Flow, to: str | None) -> str:
    address = to or (flow.email.address if flow.email else None)
    if not address:
        raise InputError(
            _("flow {flow} has no provider address: pass --to support@provider.example").format(flow=flow.id)
        )
    if not EMAIL.fullmatch(address):
        raise InputError(
            _("--to: '{address}' is not an email address like support@example.com").format(address=address)
        )
    return address


def fit_total(flow: Flow, attachments: list[Path]) -> None:
    limit = flow.email.max_total_bytes if flow.email else None
    total = sum(p.stat().st_size for p in attachments)
    if limit and total > limit:
        raise InputError(
            _(
                "case: attachments: {total} bytes together, but {flow} takes at most {limit} bytes per message; "
                "attach fewer or smaller files"
            ).format(total=total, flow=flow.id, limit=limit)
        )


def build_message(
    case: Case,
    flow: Flow,
    attachments: list[Path],
    *,
    to: str,
    sender: str | None = None,
    fitted: dict[str, FittedFile] | None = None,
    signed_by: str | None = None,
) -> tuple[EmailMessage, Request]:
    request = compose(case, attachments, flow=flow, fitted=fitted, signed_by=signed_by)
    prefix = flow.email.subject_prefix if flow.email else ""
    sender = sender or case.contacts.email
    message = EmailMessage()
    # A subject is one line whatever a template made of it; the case's own fields are refused
    # with a line break when the case is read (language.case.Line).
    header(message, "Subject", " ".join(f"{prefix}{request.subject}".split()))
    header(message, "From", formataddr((case.contacts.full_name, sender)))
    header(message, "To", to)
    message["Date"] = format_datetime(datetime.now(UTC))
    header(message, "Message-ID", make_msgid(domain=sender.rsplit("@", 1)[-1]))
    if case.contacts.email != sender:
        header(message, "Reply-To", case.contacts.email)
    message["Content-Language"] = request.language
    message.set_content(request.body, charset="utf-8")
    for path in attachments:
        main, _slash, sub = media_type(path).partition("/")
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub or "octet-stream", filename=path.name)
    return message, request


def header(message: EmailMessage, name: str, value: str) -> None:
    """Set a header; a value Python's email package refuses (a line break slipped past the
    checks) is bad input naming the header, never a traceback, and nothing is sent."""
    try:
        message[name] = value
    except ValueError as exc:
        raise InputError(
            _("email {header}: {value!r} cannot be a header ({reason}); nothing was sent").format(
                header=name, value=value[:80], reason=exc
            )
        ) from None


def _open(smtp: SmtpSettings) -> smtplib.SMTP:
    """Connect and log in, so a wrong host or password fails before anything is journalled."""
    if not smtp.host:
        raise InputError(_("--smtp-host: where to send from (your mail provider's SMTP server), or pass --eml-only"))
    port = smtp.port_or_default()
    password = password_for(smtp) if smtp.user else None
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, port, timeout=smtp.timeout)
    except OSError as exc:
        raise InputError(
            _("--smtp-host {host}:{port}: cannot connect ({reason}); nothing was sent").format(
                host=smtp.host, port=port, reason=getattr(exc, "strerror", None) or exc
            )
        ) from None
    try:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.user and password is not None:
            client.login(smtp.user, password)
    except smtplib.SMTPAuthenticationError as exc:
        client.close()
        raise InputError(
            _("--smtp-user {user}: the server refused the login ({code}); nothing was sent").format(
                user=smtp.user, code=exc.smtp_code
            )
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise InputError(
            _("--smtp-host {host}:{port} ({security}): {reason}; nothing was sent").format(
                host=smtp.host, port=port, security=smtp.security, reason=exc
            )
        ) from None
    return client


class Email:
    """A MIME message to the provider's address, sent through the person's SMTP server."""

    name = "email"

    def __init__(self, filing: Filing) -> None:
        self.filing = filing
        settings = filing.settings
        self.smtp: SmtpSettings = settings.smtp or SmtpSettings()
        self.client: smtplib.SMTP | None = None

    def prepare(self) -> None:
        """Address, size, the person's yes and the SMTP login: all before anything is written."""
        filing = self.filing
        case, flow, settings = filing.case, filing.flow, filing.settings
        self.to = recipient(flow, settings.to)
        if self.smtp.sender is not None and not EMAIL.fullmatch(self.smtp.sender):
            raise InputError(
                _("--smtp-from: {address!r} is not an email address like you@example.com").format(
                    address=self.smtp.sender
                )
            )
        fit_total(flow, filing.attachments)
        self.message, self.request = build_message(
            case,
            flow,
            filing.attachments,
            to=self.to,
            sender=self.smtp.sender,
            fitted=fitted_files(filing.fitted),
            signed_by=signing_key(settings.home),  # the key that will seal this run's package
        )
        if not (settings.yes or settings.dry_run):
            summary = {
                "provider": flow.name,
                "to": self.to,
                "subject": str(self.message["Subject"]),
                "order_id": case.order_id,
                "contact": f"{case.contacts.full_name} <{case.contacts.email}>",
                "attachments": [p.name for p in filing.attachments],
                "via": _("an .eml file")
                if settings.eml_only
                else f"SMTP {self.smtp.host}:{self.smtp.port_or_default()}",
            }
            if not settings.confirm(summary):
                raise Declined(_("not sent: you declined at the confirmation prompt"))
        if not (settings.dry_run or settings.eml_only):
            self.client = _open(self.smtp)

    def deliver(self) -> Delivery:
        try:
            return self._deliver()
        finally:
            if self.client is not None:
                try:
                    self.client.quit()
                except (smtplib.SMTPException, OSError):
                    self.client.close()

    def _deliver(self) -> Delivery:
        filing, smtp, message = self.filing, self.smtp, self.message
        settings = filing.settings
        message_id = str(message["Message-ID"])
        filing.package.add_bytes("message.eml", bytes(message), "message/rfc822", role="message")
        delivery = Delivery(
            outcome=FilingOutcome.NOT_SUBMITTED,
            dry_run=settings.dry_run,
            environment=this_machine(),
            request={"subject": str(message["Subject"]), "body": self.request.body},
        )
        if settings.dry_run:
            self._seal(delivery)
            return delivery
        try:
            filing.journal(message_id=message_id, draft=settings.eml_only)
        except AlreadySubmitted as exc:  # another run got there first: send nothing
            delivery.error = exc
            self._seal(delivery)
            return delivery
        delivery.submitted_at = datetime.now(UTC)
        if settings.eml_only:
            filing.log(
                _("written for your mail program: {file} (send it to {address})").format(
                    file=filing.outdir / "message.eml", address=self.to
                )
            )
            delivery.outcome, delivery.confirmation = FilingOutcome.DRAFTED, message_id
            self._act(delivery, "draft", f"written as message.eml for the person to send to {self.to}; not sent")
            self._seal(delivery)
            return delivery
        filing.log(
            _("sending to {address} through {host}:{port} ({security})").format(
                address=self.to, host=smtp.host, port=smtp.port_or_default(), security=smtp.security
            )
        )
        assert self.client is not None
        sending = f"handed to {smtp.host}:{smtp.port_or_default()} ({smtp.security}) for {self.to}"
        started = datetime.now(UTC)
        try:
            self.client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self._act(
                delivery, "send", sending, started=started, error=str(exc).splitlines()[0] if str(exc) else repr(exc)
            )
            refusal = smtp_refusal(exc)
            if refusal is not None:  # the server answered "no": it did not take the message
                delivery.outcome, delivery.reason = FilingOutcome.REJECTED, refusal
                delivery.error = Rejected(
                    _(
                        "rejected by the mail server {host}: {refusal} Nothing was sent; fix the address or "
                        "the settings and send again."
                    ).format(host=smtp.host, refusal=refusal)
                    + "\n"
                    + _("evidence: {folder}").format(folder=filing.outdir)
                )
            else:  # the connection broke mid-way: the message may have gone
                delivery.outcome = FilingOutcome.UNKNOWN
                delivery.reason = f"the connection to {smtp.host} broke while sending: {exc}"
                delivery.error = OutcomeUnknown(
                    f"sent, but not confirmed: {delivery.reason}. It may or may not have been delivered: it is "
                    "recorded as pending and will not be sent again blindly; `assistant cases resolve "
                    f"{filing.case_id or 'CASE'}` records what happened once you know\nevidence: {filing.outdir}"
                )
            self._seal(delivery)
            return delivery
        delivery.outcome, delivery.confirmation = FilingOutcome.CONFIRMED, message_id
        self._act(delivery, "send", f"{sending}: accepted", started=started)
        self._seal(delivery)
        return delivery

    def _act(
        self,
        delivery: Delivery,
        kind: str,
        description: str,
        *,
        started: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """The report's timeline: what was done with the message, and when."""
        now = datetime.now(UTC)
        delivery.actions.append(
            Action(
                index=len(delivery.actions) + 1,
                kind=kind,
                description=description,
                started_at=started or now,
                ended_at=now,
                status="failed" if error else "ok",
                error=error,
                files=["message.eml"],
            )
        )

    def _seal(self, delivery: Delivery) -> None:
        """Seal as a web run does: with report.html and, printed by the browser, report.pdf."""
        self.filing.seal(delivery, render_pdf=report_pdf(self.filing.settings.browser.path, self.filing.log))


def report_pdf(browser_path: str | None, log: Callable[[str], None]) -> Callable[[Path], bytes | None]:
    """report.html → report.pdf in a browser started for it: an email run has none open. The
    page may load only files: the report is ours, but its text quotes the case."""

    def render(html: Path) -> bytes | None:
        from assistant.run.browser import open_browser

        try:
            with open_browser(browser_path) as (_playwright, browser, _choice):
                page = browser.new_page()
                page.route(re.compile(r"^(?!file:)"), lambda route: route.abort())
                page.goto(html.resolve().as_uri(), wait_until="load")
                pdf: bytes = page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
                )
                return pdf
        except Exception as exc:  # no browser here: the message is sent, the package keeps report.html
            log(
                _("note: no report.pdf ({reason}); report.html has the same content").format(
                    reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                )
            )
            return None

    return render


def smtp_refusal(exc: BaseException) -> str | None:
    """The server's own words when it refused the message (a reply code), else None (no answer came)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        return f'"{"; ".join(answers)}"'
    if isinstance(exc, smtplib.SMTPResponseException):
        return f'"{exc.smtp_code} {_text(exc.smtp_error)}"'
    return None


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def this_machine() -> Environment:
    """What an email was composed on: no browser took part."""
    return Environment(
        os=platform.system(),
        os_version=platform.release(),
        kernel=platform.version(),
        architecture=platform.machine(),
        python=platform.python_version(),
    )
