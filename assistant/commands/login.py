"""`assistant login FLOW`: log in once in a browser window and keep the session."""

from __future__ import annotations

import click

from assistant.commands.common import Ctx, handles_errors, info, json_option, pass_ctx, print_json, seconds
from assistant.translation import _


@click.command("login")
@click.argument("provider")
@click.option("--base-url", metavar="URL", help="Log in on this site instead (a local replica).")
@click.option(
    "--wait",
    type=seconds(1, 3600),
    default=600,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for you to finish logging in.",
)
@click.option("--browser-path", metavar="PATH", help="Chrome/Chromium executable (or ASSISTANT_BROWSER).")
@click.option("--cdp", metavar="URL", help="Use a Chrome you started with --remote-debugging-port (its window).")
@json_option
@pass_ctx
@handles_errors
def login(
    obj: Ctx,
    /,
    provider: str,
    base_url: str | None,
    wait: float,
    browser_path: str | None,
    cdp: str | None,
    as_json: bool,
) -> None:
    """Open a browser window at PROVIDER's login page and save your session once you are in.

    PROVIDER is a flow with `requires_login: true` (e.g. one listed by
    `assistant flow list`). The session (cookies, local storage) is saved in
    the assistant's home, readable only by you (0600); flows that need it use
    it from then on. Run this again when a flow says the session has expired.
    """
    from assistant.errors import InputError, NoBrowser
    from assistant.language.flow import find_flow, load_flow
    from assistant.pipeline import base_url_for
    from assistant.run import browser as browsers
    from assistant.run import login as sessions
    from assistant.run.session import guarded_page

    flow = load_flow(find_flow(provider))
    if flow.login is None:
        raise InputError(
            _("{flow} does not need a login (no `login:` block in {path})").format(flow=flow.id, path=flow.path)
        )
    site = base_url_for(flow, base_url)
    from assistant.language.urls import Policy, origin_of
    from assistant.run.netguard import Guard

    guard = Guard(Policy.for_flow(flow, [origin_of(site)] if base_url else []), log=info)
    sessions.login_url(flow, site, policy=guard.policy)  # refused before a window opens
    if flow.login.check_url:
        sessions.login_url(flow, site, check=True, policy=guard.policy)
    try:
        choice = browsers.discover(browser_path, None, cdp)
    except browsers.BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    with guarded_page(choice, guard, obj.home, headless=False) as page:
        state = sessions.capture(page, flow, site, wait, log=info, guard=guard)
    path = sessions.save(obj.home, flow, state)
    if as_json:
        print_json({"flow": flow.id, "session": flow.session_name(), "file": str(path)})
        return
    click.secho(_("logged in; session saved to {path} (readable only by you)").format(path=path), fg="green")
