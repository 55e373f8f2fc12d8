"""`assistant browser find|install`."""

from __future__ import annotations

import click

from assistant.commands.common import handles_errors


@click.group("browser")
def browser() -> None:
    """Find or install the browser the assistant drives."""


@browser.command("find")
@click.option("--browser-path", metavar="PATH")
@click.option("--browser-endpoint", metavar="WS_URL")
@click.option("--cdp", metavar="URL")
@handles_errors
def find(browser_path: str | None, browser_endpoint: str | None, cdp: str | None) -> None:
    """Show which browser would be used, and why."""
    from assistant.errors import NoBrowser
    from assistant.run.browser import BrowserNotFound, discover

    try:
        choice = discover(browser_path, browser_endpoint, cdp)
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    click.echo(choice.describe())


@browser.command("install")
@handles_errors
def install() -> None:
    """Make sure a browser is available (Playwright's download, else the system package)."""
    from assistant.errors import NoBrowser
    from assistant.run.browser import BrowserNotFound
    from assistant.run.browser import install as do_install

    try:
        do_install(echo=lambda m: click.echo(m, err=True))
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
