"""Options of the email channel, shared by `submit` and `followup`."""

from __future__ import annotations

import click

SMTP_KEYS = ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from")


def email_options(func):
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


def take_email_options(settings: dict) -> dict:
    """Turn the smtp_* options into one SmtpSettings (imported only when used)."""
    from assistant.channels.base import SmtpSettings

    values = {key: settings.pop(key, None) for key in SMTP_KEYS}
    settings["smtp"] = SmtpSettings(
        host=values["smtp_host"],
        port=values["smtp_port"],
        security=values["smtp_security"] or "starttls",
        user=values["smtp_user"],
        sender=values["smtp_from"],
    )
    return settings
