"""Saved login sessions for flows behind a login wall.

`assistant login FLOW` opens a browser window once; the person logs in; the
browser's cookies and local storage (Playwright's storage state) are saved to
`<home>/sessions/<session>.json`, readable by the owner only (0600), since
they are as good as the password. A flow with `requires_login: true` starts
its browser from that file and first checks the session still works.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from assistant.errors import InputError
from assistant.language import templating
from assistant.language.flow import Flow
from assistant.translation import _

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from assistant.language.urls import Policy
    from assistant.run.netguard import Guard


class SessionMissing(InputError):
    pass


class SessionExpired(InputError):
    pass


def session_path(home: Path, flow: Flow) -> Path:
    return Path(home) / "sessions" / f"{flow.session_name()}.json"


def login_url(flow: Flow, base_url: str, check: bool = False, policy: Policy | None = None) -> str:
    """The login (or check) page, refused unless the flow may open it (like a goto)."""
    from assistant.language.urls import UnsafeURL

    assert flow.login is not None
    key = "check_url" if check and flow.login.check_url else "url"
    try:
        url = str(templating.render(getattr(flow.login, key), {"base_url": base_url}))
        if policy is not None:
            policy.check(url)
    except (UnsafeURL, templating.TemplateError) as exc:
        line, column = flow.position(("login", key))
        raise InputError(f"{flow.path}:{line}:{column}: login.{key}: {exc}") from None
    return url


def _open(page: Page, url: str, guard: Guard | None, **kwargs: Any) -> None:
    """page.goto, with a navigation the guard aborted told as what it was."""
    from assistant.errors import RunFailed

    try:
        page.goto(url, **kwargs)
    except Exception:
        if guard is not None and guard.violation is not None:
            raise RunFailed(_("{blocked}; nothing was filled in or sent").format(blocked=guard.message())) from None
        raise
    if guard is not None and guard.violation is not None:
        raise RunFailed(_("{blocked}; nothing was filled in or sent").format(blocked=guard.message()))


def save(home: Path, flow: Flow, state: dict[str, Any]) -> Path:
    """Write the session atomically, owner-only from the first byte."""
    path = session_path(home, flow)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    record = {
        "session": flow.session_name(),
        "flow": flow.id,
        "saved_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "state": state,
    }
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle, ensure_ascii=False, indent=1)
    os.chmod(temporary, 0o600)  # in case the file existed with wider rights
    os.replace(temporary, path)
    return path


def load(home: Path, flow: Flow) -> dict[str, Any]:
    """The saved record for this flow's session, or a clear error saying how to make one."""
    path = session_path(home, flow)
    if not path.exists():
        raise SessionMissing(
            _(
                "{flow} works only when you are logged in to {provider}, and no session is "
                "saved: run `assistant login {flow}` first (it opens a browser window once; the session is "
                "kept in {file}, readable only by you)"
            ).format(flow=flow.id, provider=flow.provider or flow.id, file=path)
        )
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        record["state"]["cookies"]
    except (ValueError, KeyError, TypeError):
        raise SessionMissing(
            _("{file}: not a saved session (damaged?); run `assistant login {flow}` again").format(
                file=path, flow=flow.id
            )
        ) from None
    return record


def verify(
    page: Page, flow: Flow, base_url: str, record: dict[str, Any], timeout_ms: float, guard: Guard | None = None
) -> None:
    """Open the flow's check page and make sure the site still sees us logged in."""
    assert flow.login is not None
    url = login_url(flow, base_url, check=True, policy=guard.policy if guard is not None else None)
    _open(page, url, guard, wait_until="load", timeout=timeout_ms)
    try:
        page.locator(flow.login.logged_in).first.wait_for(state="visible", timeout=min(timeout_ms, 10_000))
    except Exception:
        raise SessionExpired(
            _(
                "your saved {provider} session (saved {saved}) is no longer "
                "accepted: the site did not show '{logged_in}' at {url}, so the session has expired "
                "or was logged out. Run `assistant login {flow}` again; nothing was filled in or sent"
            ).format(
                provider=flow.provider or flow.id,
                saved=record.get("saved_at", "?"),
                logged_in=flow.login.logged_in,
                url=url,
                flow=flow.id,
            )
        ) from None


def capture(
    page: Page,
    flow: Flow,
    base_url: str,
    wait_seconds: float,
    act: Callable[[Page], None] | None = None,
    log: Callable[[str], None] = lambda m: None,
    guard: Guard | None = None,
) -> dict[str, Any]:
    """Open the login page, let the person (or `act`) log in, and return the storage state."""
    assert flow.login is not None
    url = login_url(flow, base_url, policy=guard.policy if guard is not None else None)
    _open(page, url, guard, wait_until="load")
    log(
        _("log in to {provider} in the browser window; waiting up to {seconds:g} s …").format(
            provider=flow.provider or flow.id, seconds=wait_seconds
        )
    )
    if act is not None:
        act(page)
    try:
        page.locator(flow.login.logged_in).first.wait_for(state="visible", timeout=wait_seconds * 1000)
    except Exception:
        from assistant.errors import RunFailed

        raise RunFailed(
            _(
                "not logged in after {seconds:g} s (the page never showed '{logged_in}'); "
                "nothing was saved. Run `assistant login {flow}` again and finish logging in"
            ).format(seconds=wait_seconds, logged_in=flow.login.logged_in, flow=flow.id)
        ) from None
    if guard is not None and guard.violation is not None:
        from assistant.errors import RunFailed

        raise RunFailed(_("{blocked}; nothing was saved").format(blocked=guard.message()))
    # Saved as JSON and handed back to new_context() as it is: plain data to this module.
    return cast(dict[str, Any], page.context.storage_state())
