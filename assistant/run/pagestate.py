"""What a capture knows of each page it watches, and the lines it reaches the page by.

Several parts of the capturer meet the same page: the network watch enables
Network on a CDP session of it, pictures and snapshots are taken through a
session of their own, the capturer's scripts run in an isolated world made once
per document. What they learn of a page is kept in one PageState, found by the
page itself: Playwright hands out one Page object for each page, and the state
goes with it (an id() could come back for a later page).

CDP has no timeout. A page whose scripts hold its thread would keep every
capture waiting for ever, so a page is asked whether it answers first, through
Playwright, which has one; a page found hung is not asked anything again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession, Frame, Page, Response

# How long a page may go without answering before it is taken for hung (a script that never
# returns): Chromium then answers no capture and the run would wait for ever.
ANSWER_TIMEOUT_MS = 10_000


class PageNotAnswering(RuntimeError):
    """The page's scripts hold its thread: nothing can be read or photographed from it."""


@dataclass(eq=False, slots=True)
class PageState:
    """What the capturer keeps of one page."""

    document: Response | None = None  # the response of the main frame's last document
    # `document` and its server details, once they were all had (no round trips for the next capture)
    server: tuple[Response, dict[str, Any]] | None = None
    session: CDPSession | None = None  # the network watch's, or one made when first needed
    no_session: bool = False  # Chromium refused `session`: not asked again
    network_on: bool = False  # `session` has Network enabled
    capture_session: CDPSession | None = None  # see Pages.capture
    world: int | None = None  # the isolated world's context in the document on screen
    hung: bool = False  # found not answering (Pages.check_answering)


class Pages:
    """Each watched page's PageState, and the CDP sessions and the isolated world that reach it."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self._note = note
        self._states: weakref.WeakKeyDictionary[Page, PageState] = weakref.WeakKeyDictionary()

    def state(self, page: Page) -> PageState:
        state = self._states.get(page)
        if state is None:
            state = self._states[page] = PageState()
        return state

    def session(self, page: Page) -> CDPSession | None:
        """The page's CDP session; None when Chromium gives none (not Chromium, the page is gone)."""
        from playwright.sync_api import Error as PlaywrightError

        state = self.state(page)
        if state.session is None and not state.no_session:
            try:
                state.session = page.context.new_cdp_session(page)
            except PlaywrightError as exc:
                state.no_session = True
                self._note(f"no CDP session ({str(exc).splitlines()[0]}): no MHTML snapshots or certificates")
        return state.session

    def capture(self, page: Page, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """A CDP capture of the document on screen; None if the page navigated meanwhile.

        Chromium never answers Page.captureScreenshot or Page.captureSnapshot asked of a
        document that a navigation then replaces (a script or meta refresh moving on, a
        blocked request's error page), and a CDP session's send has no timeout: the run
        would wait for ever. So captures go through a session of their own, detached as
        soon as the main frame navigates during one, which fails it at once (the next
        capture opens a new session: one per capture would double a step's screenshot).
        """
        from playwright.sync_api import Error as PlaywrightError

        state = self.state(page)
        session = state.capture_session
        if session is None:
            session = state.capture_session = page.context.new_cdp_session(page)
        navigated = False

        def on_navigated(frame: Frame) -> None:
            nonlocal navigated
            if frame.parent_frame is None and not navigated:
                navigated = True
                state.capture_session = None
                try:
                    session.detach()
                except PlaywrightError:
                    pass  # already gone: the command failed with it

        page.on("framenavigated", on_navigated)
        try:
            return session.send(method, params)
        except PlaywrightError:
            if navigated:
                return None
            raise
        finally:
            page.remove_listener("framenavigated", on_navigated)

    def check_answering(self, page: Page) -> None:
        """Raise PageNotAnswering for a page whose scripts hold its thread. The captures
        talk to the page through CDP, which has no timeout: on such a page they would wait for
        ever. Playwright's own wait has one, and costs about 2 ms on a page that answers."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        state = self.state(page)
        if not state.hung:
            try:
                page.wait_for_function("() => true", timeout=ANSWER_TIMEOUT_MS)
                return
            except PlaywrightTimeout:
                state.hung = True
            except PlaywrightError:  # closed, or navigating: the capture says what it finds
                return
        raise PageNotAnswering(
            f"the page stopped answering: a script on it ran for over {ANSWER_TIMEOUT_MS // 1000} s without "
            "returning, so nothing more could be read or photographed from it"
        )

    def in_world(self, page: Page, expression: str, *, wait: bool = False, timeout: int = 5_000) -> Any:
        """Evaluate in an isolated world of the page's main frame, out of reach of the page's own
        scripts. The world is made once per document and kept (two round trips saved on every
        capture); a navigation destroys it, and the next call makes a new one. Raises when the
        page has no document to evaluate in."""
        from playwright.sync_api import Error as PlaywrightError

        state = self.state(page)
        if state.hung:  # would wait for ever (see check_answering)
            raise PageNotAnswering("the page stopped answering")
        session = self.session(page)
        if session is None:
            raise RuntimeError("no CDP session")
        for attempt in range(2):
            world = state.world
            if world is None:
                frame = session.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
                made = session.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": "support-assistant"})
                world = state.world = int(made["executionContextId"])
            try:
                answer = session.send(
                    "Runtime.evaluate",
                    {
                        "expression": expression,
                        "contextId": world,
                        "awaitPromise": wait,
                        "returnByValue": True,
                        "timeout": timeout,
                    },
                )
            except PlaywrightError:
                state.world = None  # the document it lived in is gone
                if attempt:
                    raise
                continue
            return answer.get("result", {}).get("value")
        return None

    def evaluate(self, page: Page, expression: str) -> Any:
        """in_world(), or None where the page moved on (or hangs): nothing of ours is left on it."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            return self.in_world(page, expression)
        except (PlaywrightError, RuntimeError):  # RuntimeError: PageNotAnswering, or no CDP session
            return None
