"""Evidence from a live page: stamped screenshots, page snapshots, logs, network.

Used by the runner (through its Recorder) and by `assistant capture`.
Playwright is only touched through the page and context it is handed.

Capturer is what the rest of the assistant holds. It composes the parts that
each keep one kind of evidence: pictures (assistant.run.pictures), the pages
behind them (snapshots), the network and the server of each page (network),
what pages say on their own (pagelog); what they know of each page is one
PageState (pagestate).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import InputError
from assistant.run.network import Network
from assistant.run.pagelog import PageLog, bounded
from assistant.run.pagestate import PageNotAnswering as PageNotAnswering  # a capture raises it; the runner catches it
from assistant.run.pagestate import Pages
from assistant.run.pictures import Pictures
from assistant.run.snapshots import Snapshots
from assistant.translation import _
from evidence import EvidencePackage, stamp
from evidence.manifest import ProviderAnswer, SubmittedForm
from evidence.scrub import Secrets
from evidence.times import Clocks

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Download, Locator, Page, Playwright, Response

    from assistant.run.sent import KnownFile
    from assistant.run.settings import EvidenceSettings

STEP_ROLE = "step"  # the screenshot the runner takes after every action

# Windows a run keeps open at once: its own page, a report page and a few the site opens.
MAX_PAGES = 8


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class CaptureSettings:
    device: str | None = None
    masks: list[str] = field(default_factory=list)
    authorities: tuple[str, ...] = ()  # RFC 3161 authorities: the first capture is stamped as it is taken
    trace: bool = False
    # The trace holds typed passwords and raw cookies: it goes to <home>/traces/
    # unless the person asks for it inside the shareable package.
    trace_in_package: bool = False
    trace_dir: Path | None = None

    @classmethod
    def chosen(cls, home: Path, evidence: EvidenceSettings) -> CaptureSettings:
        """From the run's evidence settings; a trace kept in the package is a trace too."""
        return cls(
            device=evidence.device,
            masks=list(evidence.masks),
            authorities=evidence.tsa,
            trace=evidence.trace or evidence.trace_in_package,
            trace_in_package=evidence.trace_in_package,
            trace_dir=home / "traces",
        )


def context_options(
    playwright: Playwright, settings: CaptureSettings, *, locale: str, timezone_id: str | None = None
) -> dict[str, Any]:
    """new_context() arguments: a Playwright device descriptor, or a desktop window; in the
    person's language and time zone, so dates on the page read as the person sees them."""
    zone = {"timezone_id": timezone_id} if timezone_id else {}
    if settings.device:
        devices = playwright.devices
        if settings.device not in devices:
            close = [name for name in devices if settings.device.lower() in name.lower()][:5]
            if close:
                raise InputError(
                    _("--device: {device!r} is not a Playwright device (did you mean: {close}?)").format(
                        device=settings.device, close=", ".join(close)
                    )
                )
            raise InputError(
                _(
                    "--device: {device!r} is not a Playwright device (e.g. 'iPhone 13', 'Pixel 7', 'Desktop Chrome')"
                ).format(device=settings.device)
            )
        descriptor = dict(devices[settings.device])
        descriptor.pop("default_browser_type", None)
        return {**descriptor, "locale": locale, **zone}
    return {"viewport": {"width": 1280, "height": 800}, "locale": locale, **zone}


def check_masks(masks: list[str]) -> list[str]:
    for mask in masks:
        if not mask.strip():
            raise InputError(_("--mask: empty selector; give a CSS selector such as '#card-number'"))
    return masks


class Capturer:
    """Takes every screenshot of a run and keeps what belongs with it."""

    def __init__(
        self,
        package: EvidencePackage,
        *,
        case_ref: str,
        settings: CaptureSettings,
        workdir: Path,
        secrets: Secrets | None = None,
        log: Callable[[str], None] = lambda m: None,
        clocks: Clocks | None = None,
    ):
        """`workdir` is the run's private folder (assistant.run.scratch.run_folder): the raw,
        unscrubbed HAR and trace live there until close() and go with it. `clocks`: the
        provider's and the person's, for the stamped copies' banners."""
        self.package = package
        self.secrets = secrets if secrets is not None else Secrets()
        self.settings = settings
        self.log = log
        self.watching = True
        self._notes: set[str] = set()
        self._trace = False
        self._opening = False  # inside new_page(), which watches the network of its page itself
        self._pages = Pages(self._note)
        self._pagelog = PageLog(self._note)
        self._network = Network(self._pages, package, workdir=workdir, secrets=self.secrets, note=self._note)
        self._snapshots = Snapshots(self._pages, package, secrets=self.secrets, note=self._note)
        self._pictures = Pictures(
            self._pages,
            package,
            masks=settings.masks,
            device=settings.device,
            secrets=self.secrets,
            case_ref=case_ref,
            clocks=clocks,
            write_form=self._snapshots.write_form,
            note=self._note,
        )
        # Files are written (and fsynced) on a thread of their own while the browser goes on;
        # close() waits for them, and so does the runner before the submit click.
        package.write_behind()

    @property
    def peer(self) -> Callable[[str], dict[str, Any] | None] | None:
        """The server's own address for a URL, where the browser sees a proxy's (netguard.Gate.peer)."""
        return self._network.peer

    @peer.setter
    def peer(self, peer: Callable[[str], dict[str, Any] | None] | None) -> None:
        self._network.peer = peer

    @property
    def tls(self) -> dict[str, dict[str, Any]]:
        """How Chromium judged the certificate of each https origin, by origin."""
        return self._network.tls

    # ---------------------------------------------------------------- setup

    def context_kwargs(self) -> dict[str, Any]:
        return self._network.context_kwargs()

    def start(self, context: BrowserContext) -> None:
        context.on("page", self.watch)
        if self.settings.trace:
            context.tracing.start(screenshots=True, snapshots=True, sources=False)
            self._trace = True

    def watch(self, page: Page) -> None:
        from playwright.sync_api import Error as PlaywrightError

        if not self.watching:
            return
        # A browser whose pop-up blocker is off (--cdp, a remote one) lets a page open windows
        # that open more: past a few, each new one is closed at once, so that a run can end.
        try:
            crowded = len(page.context.pages) > MAX_PAGES
        except PlaywrightError:
            crowded = False
        if crowded:
            self._note(f"the site opened more than {MAX_PAGES} windows; each one after that was closed at once")
            try:
                page.close()
            except PlaywrightError:  # closed already
                pass
            return

        def on_download(download: Download) -> None:
            # The context takes none (netguard.Guard.context_options): nothing reaches the disk.
            name = self.secrets.text(str(download.suggested_filename or "a file"))[:80]
            self._note(f"the page started a download ({name!r}); a run takes no downloads, nothing was saved")

        self._pagelog.watch(page)
        self._network.watch_documents(page)
        page.on("download", on_download)
        # For a page the site opens (a popup) this is the earliest moment, and its first load
        # may be missed; new_page() makes sure of it for the pages a run opens itself (and
        # does it alone: a second session with Network enabled would cost a page's start).
        if not self._opening:
            self._network.watch(page)

    def new_page(self, context: BrowserContext) -> Page:
        """A page of `context` whose first load is already watched for its TLS certificate.

        Under Playwright's sync API the "page" handler (watch) runs in a greenlet of its own:
        its first CDP call lets context.new_page() return, and the caller's goto() start,
        before Network.enable has reached Chromium. Chromium answers Network.getCertificate
        only from responses its network agent recorded while enabled, so on a busy machine
        the certificate of the first page went missing. Here the page is handed out only
        once its session watches the network.
        """
        self._opening = True
        try:
            page = context.new_page()
        finally:
            self._opening = False
        if self.watching:
            self._network.watch(page)
        return page

    def mask(self, locator: Locator) -> None:
        """A field the flow filled with a secret: blacked out in every later screenshot."""
        self._pictures.mask(locator)

    def _note(self, message: str) -> None:
        if message not in self._notes:
            self._notes.add(message)
            self.log(_("note: {message}").format(message=message))

    # ------------------------------------------------------------- capture

    def shoot(
        self,
        page: Page,
        stem: str,
        *,
        full_page: bool,
        role: str,
        element: Locator | None = None,
        flow_line: int | None = None,
    ) -> str:
        if role == STEP_ROLE:
            return self._shoot(page, stem, full_page=full_page, role=role, element=element, flow_line=flow_line)
        # A capture people read: the form's values in its snapshots, each long field whole
        # (written in by the page measure of the fast path, or on their own before Playwright's).
        try:
            return self._shoot(
                page, stem, full_page=full_page, role=role, element=element, flow_line=flow_line, reflect=True
            )
        finally:
            self._snapshots.undo_form(page)

    def _shoot(
        self,
        page: Page,
        stem: str,
        *,
        full_page: bool,
        role: str,
        element: Locator | None,
        flow_line: int | None,
        reflect: bool = False,
    ) -> str:
        self._pages.check_answering(page)
        form = self._snapshots.form_script() if reflect else None
        picture = self._pictures.take(page, full_page=full_page, element=element, form=form)
        taken = utcnow()
        url = bounded(self.secrets.url(page.url))
        title = picture.title if picture.title is not None else self._title(page)
        title = bounded(self.secrets.text(title)) if title is not None else None
        original = stamp.add_text_chunks(
            picture.png,
            {
                "Creation Time": taken.isoformat().replace("+00:00", "Z"),
                "URL": url or "",
                "Title": title or "",
                "Software": "support-assistant",
            },
        )
        path = f"screenshots/{stem}.png"
        stamped_path = f"screenshots/stamped/{stem}.jpg"
        meta: dict[str, Any] = {
            "url": url,
            "title": title,
            "flow_line": flow_line,
            "capture_sha256": hashlib.sha256(picture.png).hexdigest(),
            "stamped": stamped_path,
            "masked": list(self.settings.masks),
        }
        if picture.cut is not None:
            meta["cut"] = picture.cut
        if picture.hidden:
            meta["secret_hidden"] = picture.hidden  # places showing a typed secret, blacked out (or "all")
        meta.update(self._network.server(page))
        if role == STEP_ROLE:
            # The running record after each action: timestamped and hashed, but the
            # page snapshots and the stamped copy are kept for the captures people
            # look at (named screenshots, review, confirmation, failure); making
            # them for every keystroke would double the time of a run.
            del meta["stamped"]
            self.package.add_bytes(path, original, "image/png", role=role, captured_at=taken, meta=meta)
            self.package.stamp_first(path, self.settings.authorities)
            return path
        self._network.learn_cookies(page.context)
        meta.update(self._snapshots.take(page, stem, taken))
        self.package.add_bytes(path, original, "image/png", role=role, captured_at=taken, meta=meta)
        self.package.stamp_first(path, self.settings.authorities)  # on threads: the run goes on
        self._pictures.queue_stamped(
            page, picture, path=path, stamped_path=stamped_path, taken=taken, url=url, title=title, element=element
        )
        return path

    @staticmethod
    def _title(page: Page) -> str | None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            return page.title()
        except PlaywrightError:
            return None

    def page_html(self, page: Page) -> bytes:
        """The page's HTML with the values its form holds (as in every capture's snapshot), secrets
        scrubbed. Raises when the page cannot be read."""
        self._pages.check_answering(page)
        return self._snapshots.html(page)

    def collect_stamped(self) -> None:
        """Add the stamped copies made so far in the background (waits for the rest)."""
        self._pictures.collect_stamped()

    # ------------------------------------------------------------- the form

    def known_files(self, files: list[KnownFile]) -> None:
        """The files the run may hand to an upload field, with their attachments' hashes."""
        self._snapshots.files = list(files)

    def before_click(self, page: Page, submit: Locator) -> None:
        """Right before the submit click: read the form as the page holds it, and watch what it sends."""
        self._network.before_click(page, submit)

    def keep_answers(self, responses: list[Response]) -> None:
        """The provider's answers to the click, kept whole (Network.keep_answers)."""
        self._network.keep_answers(responses)

    @property
    def answers(self) -> list[ProviderAnswer]:
        return list(self._network.answers)

    def submitted_form(self, sent: list[str]) -> SubmittedForm | None:
        """The form's record: its fields at the click, and the request the click produced
        (`sent`: the outcome watch's "METHOD URL" of what left the browser)."""
        return self._network.submitted_form(sent, self._snapshots.files)

    # --------------------------------------------------------------- finish

    def close(self, context: BrowserContext) -> None:
        """Stop the trace, close the context (which writes the HAR), keep logs, network and stamped copies."""
        from playwright.sync_api import Error as PlaywrightError

        self._pictures.close()
        now = utcnow()
        if self._trace:
            self._keep_trace(context, now)
        self._network.learn_cookies(context)
        # The page's CDP sessions end with the context. Detaching them first waited for ever on a
        # page whose scripts hold its thread.
        try:
            context.close()
        except PlaywrightError:
            pass
        har = self._network.har()  # first: scrubbing it learns the tokens the logs below may repeat
        self._pagelog.keep(self.package, self.secrets, now)
        if har is not None:
            self._network.keep_har(har, now)
        self._network.discard()
        self.package.flush()

    def _keep_trace(self, context: BrowserContext, now: datetime) -> None:
        from playwright.sync_api import Error as PlaywrightError

        trace = self._network.folder / "trace.zip"
        try:
            context.tracing.stop(path=str(trace))
        except (PlaywrightError, OSError) as exc:
            self._note(f"no trace: {str(exc).splitlines()[0]}")
            return
        if self.settings.trace_in_package or self.settings.trace_dir is None:
            self.log(
                _(
                    "warning: the Playwright trace is inside the evidence package (--trace-in-package); it holds "
                    "every typed password and the session cookies: do not share the package"
                )
            )
            self.package.add_file(
                "logs/trace.zip",
                trace,
                "application/zip",
                role="log",
                captured_at=now,
                meta={
                    "open_with": "playwright show-trace logs/trace.zip",
                    "warning": "holds typed passwords and raw cookies",
                },
            )
            return
        self.settings.trace_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        kept = self.settings.trace_dir / f"{self.package.root.name}.zip"
        shutil.move(str(trace), str(kept))
        self.log(
            _(
                "trace (not in the evidence package: it holds typed passwords and cookies): {file}; "
                "open it with `playwright show-trace {file}`"
            ).format(file=kept)
        )


def render_pdf(
    context: BrowserContext, capturer: Capturer | None = None, log: Callable[[str], None] = lambda m: None
) -> Callable[[Path], bytes | None]:
    """report.html → report.pdf in the browser that took the screenshots.

    In a context of its own, offline and with no scripts: the report is not evidence,
    so it never enters the network log (HAR) of the context that recorded the filing.
    A persistent profile's context has no browser to open another in; there the capturer
    is told to look away and the report's file:// loads are dropped from the log.
    """

    def render(html: Path) -> bytes | None:
        from playwright.sync_api import Error as PlaywrightError

        own: BrowserContext | None = None
        page: Page | None = None
        try:
            if context.browser is not None:
                own = context.browser.new_context(offline=True, java_script_enabled=False)
            elif capturer is not None:
                capturer.watching = False
            page = (own or context).new_page()
            page.goto(html.resolve().as_uri(), wait_until="load")
            return page.pdf(
                format="A4",
                print_background=True,
                margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
            )
        except PlaywrightError as exc:  # page.pdf needs headless Chromium; --headed runs keep report.html only
            log(
                _("note: no report.pdf ({reason}); report.html has the same content").format(
                    reason=str(exc).splitlines()[0]
                )
            )
            return None
        finally:
            try:
                if own is not None:
                    own.close()
                # Otherwise the capturer's close() closes the context, and this page with it, next.
                elif page is not None and capturer is None:
                    page.close()
            except PlaywrightError:  # a browser gone meanwhile: nothing of the package depends on it
                pass

    return render
