"""Options of the email channel, shared by `submit` and `followup`."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import click

from assistant.commands.common import F

if TYPE_CHECKING:
    from assistant.channels.base import SmtpSettings


class EmailOptions(TypedDict):
    """What email_options adds to a command's keyword arguments."""

    to: str | None
    eml_only: bool
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str
    smtp_user: str | None
    smtp_from: str | None


class EmailSettings(TypedDict):
    """The same, as pipeline.Settings takes them: the smtp_* options are one SmtpSettings."""

    to: str | None
    eml_only: bool
    smtp: SmtpSettings


def email_options(func: F) -> F:
    options = [
        click.option(
            "--to", metavar="ADDRESS", help="Email flows: the provider's address (for the generic `email` flow)."
        ),
        click.option(
            "--eml-only", is_flag=True, help="Email flows: write the .eml for your mail program instead of sending."
        ),
        click.option(
            "--smtp-host",
            envvar="ASSISTANT_SMTP_HOST",
            metavar="HOST",
            help="Your outgoing mail server (or ASSISTANT_SMTP_HOST).",
        ),
        click.option(
            "--smtp-port",
            envvar="ASSISTANT_SMTP_PORT",
            type=click.IntRange(1, 65535),
            metavar="PORT",
            help="Default: 587 with starttls, 465 with tls, 25 with none.",
        ),
        click.option(
            "--smtp-security",
            envvar="ASSISTANT_SMTP_SECURITY",
            default="starttls",
            show_default=True,
            type=click.Choice(["starttls", "tls", "none"]),
        ),
        click.option(
            "--smtp-user",
            envvar="ASSISTANT_SMTP_USER",
            metavar="USER",
            help="Login; the password comes from ASSISTANT_SMTP_PASSWORD or the system keyring "
            "(service support-assistant-smtp), never from the case file.",
        ),
        click.option(
            "--smtp-from",
            envvar="ASSISTANT_SMTP_FROM",
            metavar="ADDRESS",
            help="From address (default: the case's contacts.email).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def email_settings(options: EmailOptions) -> EmailSettings:
    """The smtp_* options as one SmtpSettings (imported only when used)."""
    from assistant.channels.base import SmtpSettings

    smtp = SmtpSettings(
        host=options["smtp_host"],
        port=options["smtp_port"],
        security=options["smtp_security"] or "starttls",
        user=options["smtp_user"],
        sender=options["smtp_from"],
    )
    return {"to": options["to"], "eml_only": options["eml_only"], "smtp": smtp}
