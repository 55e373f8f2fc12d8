"""The browser half of a run: one browser, one context, one page, watched and guarded.

A web-form filing and a page capture open the browser the same way: find it,
start the host guard's proxy when the browser is on this machine, connect,
open a context with the capturer's recorders and the guard's routes, and
read the environment the evidence was captured in. BrowserSession does that
once for both, and closes everything in the right order whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import InputError, NoBrowser
from assistant.run import browser as browsers
from assistant.run import scratch
from assistant.run.capture import Capturer, CaptureSettings, context_options, render_pdf
from assistant.run.zones import person_clock
from assistant.translation import _
from evidence import Environment
from evidence.package import EvidencePackage
from evidence.times import Clocks

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from assistant.language.case import Case
    from assistant.run.netguard import Guard
    from assistant.run.settings import BrowserSettings, EvidenceSettings
    from assistant.run.warmup import Warmup


def find_browser(settings: BrowserSettings) -> browsers.BrowserChoice:
    """The browser a run will use; refuses before anything is launched or written."""
    if settings.lent is not None:
        return settings.lent.choice
    try:
        return browsers.discover(settings.path, settings.endpoint, settings.cdp)
    except browsers.BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None


def case_reference(subject: str | None, order_id: str | None, key: str, language: str = "en") -> str:
    """The line every stamped screenshot carries: what the evidence is about, in the case's language."""
    order, case = ("заказ", "обращение") if language == "ru" else ("order", "case")
    return " · ".join(x for x in (subject, f"{order} {order_id}" if order_id else None, f"{case} {key[:8]}") if x)


def _close_quietly(context: BrowserContext) -> None:
    try:
        context.close()  # a second close (the capturer closes it first) does nothing
    except Exception:  # the browser went away under it; nothing left to close
        pass


class BrowserSession:
    """Open with `with`; `page`, `context`, `capturer` and `environment` are then ready."""

    def __init__(
        self,
        choice: browsers.BrowserChoice,
        package: EvidencePackage,
        *,
        capture: CaptureSettings,
        case_ref: str,
        workdir: Path,
        locale: str,
        headless: bool,
        timezone_id: str | None = None,
        clocks: Clocks | None = None,
        slowmo: float = 0,
        guard: Guard | None = None,
        storage_state: dict[str, Any] | None = None,
        reported_device: dict[str, Any] | None = None,
        started: browsers.Started | None = None,
        log: Callable[[str], None] = lambda m: None,
        warm: Warmup | None = None,
    ):
        self.choice = started.choice if started is not None else choice
        self.started = started
        self.warm = warm
        self.package = package
        self.settings = capture
        self.locale = locale
        self.timezone_id = timezone_id
        self.headless = headless
        self.slowmo = slowmo
        self.guard = guard
        self.storage_state = storage_state
        self.reported_device = reported_device
        self.log = log
        self.workdir = workdir
        self.capturer = Capturer(package, case_ref=case_ref, settings=capture, workdir=workdir, log=log, clocks=clocks)
        self._stack = ExitStack()
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self.environment: Environment | None = None
        self._ignore_https_errors = False

    @classmethod
    def for_case(
        cls,
        package: EvidencePackage,
        case: Case,
        key: str,
        *,
        home: Path,
        browser: BrowserSettings,
        evidence: EvidenceSettings,
        workdir: Path,
        guard: Guard | None = None,
        choice: browsers.BrowserChoice | None = None,
        storage_state: dict[str, Any] | None = None,
        provider_zone: str | None = None,
        log: Callable[[str], None] = lambda m: None,
    ) -> BrowserSession:
        """The one way a run that keeps evidence opens its browser (a filing, a capture, a
        lookup): the browser its settings choose (or `choice`, found earlier), behind `guard`,
        its stamps naming the case, in the person's language, locale and time zone (with the
        provider's beside it), with the person's reported device."""
        clock = person_clock(case, provider_zone=provider_zone, tz=evidence.tz, locale=evidence.locale)
        return cls(
            choice or find_browser(browser),
            package,
            capture=CaptureSettings.chosen(home, evidence),
            case_ref=case_reference(case.subject, case.order_id, key, case.language),
            workdir=workdir,
            locale=clock.locale,
            timezone_id=clock.zone,
            clocks=clock.clocks(provider_zone),
            headless=not browser.headed,
            slowmo=browser.slowmo,
            guard=guard,
            storage_state=storage_state,
            reported_device=case.device.model_dump(exclude_none=True) if case.device else None,
            started=browser.lent,
            log=log,
            warm=browser.warm,
        )

    def __enter__(self) -> BrowserSession:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        from assistant.run import environment

        stack = self._stack
        try:
            guard = self.guard
            if guard is not None:
                if guard.start_gate_if_local(self.choice) and guard.gate is not None:
                    self.capturer.peer = guard.gate.peer
                elif not guard.policy.anywhere:
                    self.log(
                        _(
                            "note: the browser at {target} is on another machine: hosts are checked by "
                            "its routes only, and a redirect to another host is not stopped before it connects"
                        ).format(target=self.choice.target)
                    )
                stack.enter_context(guard)
                guard.watch_disk(lambda: scratch.browser_usage(self.workdir), scratch.BROWSER_BYTES)
            if self.started is not None:  # lent for this run: a context of our own, the browser stays up
                # It was started once for many runs: the context has the case's locale and zone,
                # the browser's own language (date field formats) is whatever it was started with.
                playwright, browser = self.started.playwright, self.started.browser
            else:
                claimed = (
                    self.warm.claim(self.choice, headless=self.headless, slowmo=self.slowmo, locale=self.locale)
                    if self.warm
                    else None
                )
                if claimed is not None:
                    playwright, browser = claimed
                    stack.callback(playwright.stop)
                else:
                    playwright = stack.enter_context(sync_playwright())
                    try:
                        browser = browsers.connect(
                            playwright, self.choice, headless=self.headless, slow_mo=self.slowmo, locale=self.locale
                        )
                    except PlaywrightError as exc:
                        raise browsers.start_failure(self.choice, exc, headless=self.headless) from None
                stack.callback(browser.close)
                if browsers.lacks_language(self.choice, self.locale):
                    self.log(
                        _(
                            "note: this browser has no {locale} language files: date and time fields show US "
                            "formats (11/20/2026, 02:35 PM); `assistant browser install` adds them (chromium-l10n)"
                        ).format(locale=self.locale)
                    )
            self.browser = browser
            options: dict[str, Any] = {
                **context_options(playwright, self.settings, locale=self.locale, timezone_id=self.timezone_id),
                **self.capturer.context_kwargs(),
            }
            if guard is not None:
                options.update(guard.context_options())
            if self.storage_state is not None:
                options["storage_state"] = self.storage_state
            self._ignore_https_errors = bool(options.get("ignore_https_errors"))
            context = browser.new_context(**options)
            self.context = context
            if self.started is not None:  # the lent browser outlives the run: its context must not
                stack.callback(_close_quietly, context)
            if guard is not None:
                guard.secrets = self.capturer.secrets
                guard.install(context)
            self.capturer.start(context)
            page = self.capturer.new_page(context)
            self.page = page
            self._check_masks(page)
            if guard is not None:
                guard.page = page
            self.environment = environment.capture(
                browser,
                page,
                browser_source=self.choice.describe(),
                emulated_device=self.settings.device,
                reported_device=self.reported_device,
                # A browser started elsewhere (--cdp, --browser-endpoint) tells its own mode later.
                headless=self.headless if self.choice.kind not in ("cdp", "endpoint") else None,
            )
        except BaseException:
            stack.close()
            raise
        return self

    def _check_masks(self, page: Page) -> None:
        """Each --mask as the browser reads it, on the blank page, before any site is opened: a
        selector it cannot parse would otherwise fail the run at its first capture."""
        from playwright.sync_api import Error as PlaywrightError

        for selector in self.settings.masks:
            try:
                page.locator(selector).count()
            except PlaywrightError as exc:
                reason = str(exc).strip().splitlines()[0].split(": ", 1)[-1]
                raise InputError(
                    _(
                        "--mask {selector!r}: not a selector the browser can read ({reason}); "
                        "give a CSS selector such as '#card-number'"
                    ).format(selector=selector, reason=reason)
                ) from None

    def __exit__(self, *exc_info: object) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            self._stack.close()
        except PlaywrightError as exc:
            # Ctrl-C at a prompt reaches the driver and the browser too (one process group): they
            # are gone before the run closes them. What the run decided stands; the evidence is sealed.
            self.log(
                _("note: the browser was already gone when the run ended ({reason})").format(
                    reason=str(exc).strip().splitlines()[0]
                )
            )

    def settle_environment(self) -> Environment:
        """The capture environment with what the run has learnt: the browser's command line, how
        each HTTPS certificate was judged, the proxy, the address this machine connected from.
        Call it before sealing, while the browser is open."""
        from assistant.run import environment

        assert self.environment is not None and self.browser is not None
        gate = self.guard.gate if self.guard is not None else None
        remote = self.choice.kind in ("cdp", "endpoint") and gate is None
        if gate is not None:
            proxy = (
                f"{gate.url}: this run's host guard, a checking relay on this machine; "
                "it connects to each allowed site directly, through no other proxy"
            )
        elif remote:
            proxy = "not known: the browser runs on another machine, with its own settings"
        else:
            proxy = "none: the browser connected to the sites directly"
        return environment.complete(
            self.environment,
            self.browser,
            passed_args=list(self.choice.args),
            remote=remote,
            ignore_https_errors=self._ignore_https_errors,
            tls=self.capturer.tls,
            proxy=proxy,
            local_addresses=gate.local_addresses() if gate is not None else None,
        )

    def render_pdf(self) -> Callable[[Path], bytes | None]:
        """report.html → report.pdf in this context (see capture.render_pdf)."""
        assert self.context is not None
        return render_pdf(self.context, self.capturer, self.log)

    def before_seal(self) -> None:
        """The network log and console are complete only once the context closes: after the report."""
        assert self.context is not None
        self.capturer.close(self.context)
        if self.guard is not None:
            self.guard.save(self.package)


@contextmanager
def guarded_page(
    choice: browsers.BrowserChoice,
    guard: Guard,
    home: Path,
    *,
    headless: bool,
    lent: browsers.Started | None = None,
) -> Iterator[Page]:
    """A page behind `guard` that records no evidence: for logging in, by the person in a window
    (`assistant login`) or by a flow test's scripted steps. The other way to open a browser
    beside BrowserSession; both connect through assistant.run.browser.

    In a Chrome the person started (`--cdp`) the login happens in their own profile's window,
    and only the new tab is guarded: their other tabs are their business."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    guard.start_gate_if_local(choice)
    # The browser profile holds the session's cookies until it closes: it goes in the home, not /tmp.
    with scratch.run_folder(home), guard, ExitStack() as stack:
        if lent is not None:
            browser = lent.browser
        else:
            playwright = stack.enter_context(sync_playwright())
            try:
                browser = browsers.connect(playwright, choice, headless=headless)
            except PlaywrightError as exc:
                first = str(exc).strip().splitlines()[0]
                if headless:
                    raise NoBrowser(_("could not start the browser ({reason})").format(reason=first)) from None
                raise NoBrowser(
                    _(
                        "could not open a browser window ({reason}). Logging in needs a screen: run this where "
                        "you can see a browser, or start Chrome yourself with --remote-debugging-port=9222 and "
                        "pass --cdp http://127.0.0.1:9222"
                    ).format(reason=first)
                ) from None
            if choice.kind != "cdp":
                stack.callback(browser.close)
        persons = lent is None and choice.kind == "cdp"
        if persons and browser.contexts:
            context = browser.contexts[0]
        else:
            context = browser.new_context(**guard.context_options())
            stack.callback(_close_quietly, context)
        page = context.new_page()
        guard.page = page
        guard.install(page if persons else context)
        yield page
        if persons:
            page.close()
