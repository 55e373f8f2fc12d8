"""Playwright's driver and the browser, started while the rest of a run gets ready.

Starting Playwright's driver (a Node process) and launching the browser take
about half a second in which this process only waits; loading the flow, the
case and the run's modules takes about as long in Python. A command starts
the browser here first and loads the rest on a worker thread meanwhile (the
sync API belongs to the thread that started it, so the browser side stays on
the main thread), then hands the started browser to the run's BrowserSession.

A warm start never changes what a run does or says: if it fails, nothing is
reported here and the session starts the browser the usual way, where the
usual error (with its advice) is raised at the usual moment. What the run
does not claim is closed by `close()`.

The driver starts inside a run folder of its own (assistant.run.scratch), as
a session's would: the browser's profile and temporary files stay in the
home's private folder, never in the shared /tmp, and are removed at `close()`.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.run import browser as browsers
from assistant.run.scratch import run_folder

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright


class Warmup:
    """One started Playwright driver and, once `launch()` ran, one browser, for one session to claim."""

    def __init__(
        self,
        home: Path,
        choice: browsers.BrowserChoice,
        *,
        headless: bool,
        slowmo: float = 0,
        locale: str | None = None,
    ) -> None:
        """locale: the person's, as far as it is known before the case is loaded (the browser's
        language is set when it starts: see browsers.language_env)."""
        self.home = home
        self.choice = choice
        self.headless = headless
        self.slowmo = slowmo
        self.locale = locale
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self._folder = ExitStack()

    def import_driver(self) -> None:
        """Import Playwright's Python side, before other threads start loading (see start_driver)."""
        try:
            import playwright.sync_api  # noqa: F401
        except Exception:  # start_driver fails too, and the session reports why
            pass

    def start_driver(self) -> None:
        """Start Playwright's driver. Call import_driver first, before other threads load: the
        import is the one part of this that needs the interpreter throughout, and while it
        shares it with a loading thread the driver starts about 100 ms later."""
        try:
            self._folder.enter_context(run_folder(self.home))
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
        except Exception:  # the session will start it again and report why it cannot
            self.playwright = None

    def launch(self) -> None:
        if self.playwright is None or self.browser is not None:
            return
        try:
            self.browser = browsers.connect(
                self.playwright, self.choice, headless=self.headless, slow_mo=self.slowmo, locale=self.locale
            )
        except Exception:
            self.browser = None

    def claim(
        self, choice: browsers.BrowserChoice, *, headless: bool, slowmo: float, locale: str | None = None
    ) -> tuple[Playwright, Browser] | None:
        """(playwright, browser) if this warm start is the one asked for; the caller then owns both.

        Otherwise the warm start is stopped first: one thread can hold only one sync
        Playwright, and the caller is about to start its own. (Its run folder stays until
        `close()`: the caller's own run folder was entered after it, and leaves first.)"""
        wanted = (choice, headless, slowmo, locale) == (self.choice, self.headless, self.slowmo, self.locale)
        if self.browser is None or not wanted or not self.browser.is_connected():
            self.stop()
            return None
        assert self.playwright is not None  # a browser is launched only by a started driver
        claimed = (self.playwright, self.browser)
        self.playwright = self.browser = None
        return claimed

    def stop(self) -> None:
        """Close the browser and the driver if nobody claimed them."""
        browser, playwright = self.browser, self.playwright
        self.browser = self.playwright = None
        for stop in (browser.close if browser else None, playwright.stop if playwright else None):
            if stop is not None:
                try:
                    stop()
                except Exception:  # nothing of the run depends on it any more
                    pass

    def close(self) -> None:
        """Stop what was not claimed and remove the warm start's run folder."""
        self.stop()
        self._folder.close()
