"""`assistant browser find|install`."""

from __future__ import annotations

import click

from .common import handles_errors


@click.group("browser")
def browser() -> None:
    """Find or install the browser the assistant drives."""


@browser.command("find")
@click.option("--browser-path", metavar="PATH")
@click.option("--browser-endpoint", metavar="WS_URL")
@click.option("--cdp", metavar="URL")
@handles_errors
def find(browser_path, browser_endpoint, cdp) -> None:
    """Show which browser would be used, and why."""
    from ..browser import BrowserNotFound, discover
    from ..errors import NoBrowser

    try:
        choice = discover(browser_path, browser_endpoint, cdp)
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    click.echo(choice.describe())


@browser.command("install")
@handles_errors
def install() -> None:
    """Make sure a browser is available (Playwright's download, else the system package)."""
    from ..browser import BrowserNotFound
    from ..browser import install as do_install
    from ..errors import NoBrowser

    try:
        do_install(echo=lambda m: click.echo(m, err=True))
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
