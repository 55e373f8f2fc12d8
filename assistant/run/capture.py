"""Evidence from a live page: stamped screenshots, page snapshots, logs, network.

Used by the runner (through RunOptions.shoot) and by `assistant capture`.
Playwright is only touched through the page and context it is handed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.errors import InputError
from assistant.run import formstate
from assistant.run.sent import KnownFile, Seen, SentRecorder, mend_har
from evidence import EvidencePackage, inert, stamp
from evidence.manifest import SentRequest, SubmittedForm
from evidence.scrub import MIN_COOKIE, Secrets, scrub_har
from evidence.times import Clocks

if TYPE_CHECKING:
    from playwright.sync_api import (
        BrowserContext,
        CDPSession,
        ConsoleMessage,
        Download,
        Error,
        Frame,
        Locator,
        Page,
        Playwright,
        Response,
    )

    from assistant.run.settings import EvidenceSettings

STEP_ROLE = "step"  # the screenshot the runner takes after every action
# The full page's size as Playwright's full_page screenshot measures it, the window's and
# the title, once the fonts are in (at most 5 s, as a page may keep loading fonts for ever).
PAGE_SIZE = """(async () => {
  await Promise.race([document.fonts.ready, new Promise(done => setTimeout(done, 5000))]);
  const b = document.body, d = document.documentElement;
  if (!b || !d) return null;
  return [Math.max(b.scrollWidth, d.scrollWidth, b.offsetWidth, d.offsetWidth, b.clientWidth, d.clientWidth),
          Math.max(b.scrollHeight, d.scrollHeight, b.offsetHeight, d.offsetHeight, b.clientHeight, d.clientHeight),
          window.innerWidth, window.innerHeight, document.title];
})()"""


# The most of a page one capture keeps, in CSS pixels, from its top-left corner. A page can
# make itself any size (a 200,000 px tall one took 12 s and 7 MB, and no reader opens it);
# these are ten screens of a long form and a 4K screen's width, and the manifest says so
# whenever a page was bigger.
MAX_CAPTURE_WIDTH = 3840
MAX_CAPTURE_HEIGHT = 20_000


# Where a page shows a value the run typed (a password it retyped into a text field and echoed,
# a secret in a placeholder or an attribute): the boxes of the elements, text runs and form
# fields that hold it, in the window's coordinates, with the scroll and the pixel ratio.
SECRET_BOXES = r"""(secrets) => {
  // Invisible characters between its letters, or its letters stored backwards and shown forwards
  // (bidi override), still show the secret.
  const wanted = secrets.flatMap((x) => [x, [...x].reverse().join('')]);
  const has = (s) => typeof s === 'string' && s.length > 0
    && wanted.some((x) => s.replace(/[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, '').includes(x));
  const boxes = [];
  const add = (r) => { if (r && r.width > 0 && r.height > 0) boxes.push([r.left, r.top, r.width, r.height]); };
  const roots = [document];
  for (let i = 0; i < roots.length; i++) for (const el of roots[i].querySelectorAll('*')) if (el.shadowRoot) roots.push(el.shadowRoot);
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      let hit = 'value' in el && has(el.value);
      if (!hit) for (const a of el.attributes) if (has(a.value)) { hit = true; break; }
      if (hit) add(el.getBoundingClientRect());
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!has(n.data)) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) add(r);
    }
  }
  // Split across elements (<b>s3</b>cret): each element whose text holds it while none of its
  // own parts (text or element) does. Only where the page's text holds it at all.
  if (roots.some((r) => has((r === document ? document.documentElement : r).textContent))) {
    for (const root of roots) for (const el of root.querySelectorAll('*')) {
      if (has(el.textContent) && ![...el.childNodes].some((c) => has(c.textContent))) add(el.getBoundingClientRect());
    }
  }
  return {dpr: devicePixelRatio, x: scrollX, y: scrollY, boxes};
}"""
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Black boxes are this much bigger than what they cover, in CSS px (antialiased edges, a caret).
MASK_MARGIN = 2


# How long a page may go without answering before it is taken for hung (a script that never
# returns): Chromium then answers no capture and the run would wait for ever.
ANSWER_TIMEOUT_MS = 10_000


class PageNotAnswering(RuntimeError):
    """The page's scripts hold its thread: nothing can be read or photographed from it."""


# What a page can make a run keep of its console and errors, and of its title and address in
# each capture's record: a page chooses their size (a 1 MB title, a console message a
# millisecond), and the evidence keeps them whole up to these.
MAX_LOG_ROWS = 10_000
MAX_TEXT = 10_000


def _cut(text: Any) -> Any:
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters not kept]"
    return text


# Windows a run keeps open at once: its own page, a report page and a few the site opens.
MAX_PAGES = 8


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class CaptureSettings:
    device: str | None = None
    masks: list[str] = field(default_factory=list)
    tsa: str | None = None
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
            tsa=evidence.tsa,
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
            hint = (
                f" (did you mean: {', '.join(close)}?)" if close else " (e.g. 'iPhone 13', 'Pixel 7', 'Desktop Chrome')"
            )
            raise InputError(f"--device: {settings.device!r} is not a Playwright device{hint}")
        descriptor = dict(devices[settings.device])
        descriptor.pop("default_browser_type", None)
        return {**descriptor, "locale": locale, **zone}
    return {"viewport": {"width": 1280, "height": 800}, "locale": locale, **zone}


def check_masks(masks: list[str]) -> list[str]:
    for mask in masks:
        if not mask.strip():
            raise InputError("--mask: empty selector; give a CSS selector such as '#card-number'")
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
        unscrubbed HAR and trace live there until close() and go with it."""
        self.package = package
        self.secrets = secrets if secrets is not None else Secrets()
        self._secret_fields: list[Locator] = []
        self.case_ref = case_ref
        self.clocks = clocks  # the provider's and the person's, for the banners
        self.settings = settings
        self.log = log
        self.console: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self._documents: dict[int, Response] = {}
        self._servers: dict[int, tuple[Response, dict[str, Any]]] = {}  # page → (its document's response, details)
        self._cdp: dict[int, CDPSession | None] = {}
        self._network_on: set[int] = set()  # pages whose session in _cdp has Network enabled
        self._spare_sessions: list[CDPSession] = []  # sessions replaced in _cdp, kept until the context closes
        self._capture_sessions: dict[int, CDPSession] = {}  # see _capture
        self._worlds: dict[int, int] = {}  # page → its isolated world's context (_in_world)
        self._har_dir = Path(workdir) / "network"
        self._har_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.har_path = self._har_dir / "run.har"
        self._trace = False
        self._notes: set[str] = set()
        self._hung: set[int] = set()  # pages found not answering (_check_answering)
        self._cut: str | None = None  # how the capture being taken was cut to the limits, if it was
        # Through the host guard's proxy the browser sees the proxy's address; this
        # gives the server's own (netguard.Gate.peer), for the evidence to be true.
        self.peer: Callable[[str], dict[str, Any] | None] | None = None
        self.watching = True
        # What the submit click sent (assistant.run.sent), and the files the run may upload,
        # named in snapshots and in the form's record by size and SHA-256 (known_files).
        self.sent = SentRecorder()
        self.tls: dict[str, dict[str, Any]] = {}  # https origin → how Chromium judged its certificate
        self.files: list[KnownFile] = []
        self._form: tuple[Seen, SentRequest] | None = None  # (the request seen, its record), for the HAR
        self._opening = False  # inside new_page(), which watches the network of its page itself
        try:
            stamp.font(16)  # before anything happens, not at the first screenshot
        except stamp.FontMissing as exc:
            from assistant.errors import RunFailed

            raise RunFailed(str(exc)) from None
        self._stamper = stamp.Stamper()
        # Files are written (and fsynced) on a thread of their own while the browser goes on;
        # close() waits for them, and so does the runner before the submit click.
        package.write_behind()

    # ---------------------------------------------------------------- setup

    def context_kwargs(self) -> dict[str, Any]:
        # content omitted: response bodies carry CSRF tokens and personal data; the
        # pages themselves are kept as HTML/MHTML snapshots per capture.
        return {"record_har_path": str(self.har_path), "record_har_content": "omit"}

    def start(self, context: BrowserContext) -> None:
        context.on("page", self.watch)
        if self.settings.trace:
            context.tracing.start(screenshots=True, snapshots=True, sources=False)
            self._trace = True

    def watch(self, page: Page) -> None:
        if not self.watching:
            return
        # A browser whose pop-up blocker is off (--cdp, a remote one) lets a page open windows
        # that open more: past a few, each new one is closed at once, so that a run can end.
        try:
            crowded = len(page.context.pages) > MAX_PAGES
        except Exception:
            crowded = False
        if crowded:
            self._note(f"the site opened more than {MAX_PAGES} windows; each one after that was closed at once")
            try:
                page.close()
            except Exception:  # closed already
                pass
            return

        def on_console(message: ConsoleMessage) -> None:
            if self._full(self.console, "console messages"):
                return
            location = message.location or {}
            self.console.append(
                {
                    "time": utcnow().isoformat(),
                    "type": message.type,
                    "text": _cut(message.text),
                    "url": _cut(location.get("url")),
                    "line": location.get("lineNumber"),
                }
            )

        def on_error(error: Error) -> None:
            if self._full(self.errors, "page errors"):
                return
            self.errors.append(
                {
                    "time": utcnow().isoformat(),
                    "url": _cut(page.url),
                    "message": _cut(str(error)),
                    "stack": _cut(getattr(error, "stack", None)),
                }
            )

        def on_response(response: Response) -> None:
            if response.request.resource_type == "document" and response.frame == page.main_frame:
                self._documents[id(page)] = response

        def on_download(download: Download) -> None:
            # The context takes none (netguard.Guard.context_options): nothing reaches the disk.
            name = self.secrets.text(str(download.suggested_filename or "a file"))[:80]
            self._note(f"the page started a download ({name!r}); a run takes no downloads, nothing was saved")

        page.on("console", on_console)
        page.on("pageerror", on_error)
        page.on("response", on_response)
        page.on("download", on_download)
        # For a page the site opens (a popup) this is the earliest moment, and its first load
        # may be missed; new_page() makes sure of it for the pages a run opens itself (and
        # does it alone: a second session with Network enabled would cost a page's start).
        if not self._opening:
            self._watch_network(page)

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
            self._watch_network(page)
        return page

    def _watch_network(self, page: Page) -> None:
        """Give `page` a CDP session with Network enabled, unless it has one already.

        watch() and new_page() may both be here for the same page, each in its own greenlet,
        each waiting for Chromium in turn: the session that is ready first is kept and the
        other one is let go.
        """
        key = id(page)
        if key in self._network_on:
            return
        try:
            session = page.context.new_cdp_session(page)
            session.send("Network.enable")
        except Exception as exc:
            self._note(f"no TLS certificates: {str(exc).splitlines()[0]}")
            return
        if key in self._network_on:
            try:
                session.detach()  # nobody else holds this one
            except Exception:
                self._spare_sessions.append(session)
            return
        made = self._cdp.get(key)
        if made is not None:  # made meanwhile for a screenshot, maybe in use: kept till close()
            self._spare_sessions.append(made)
        self._cdp[key] = session
        self._network_on.add(key)
        self.sent.listen(session)
        session.on("Network.responseReceived", self._judged)

    def _judged(self, event: dict[str, Any]) -> None:
        """Chromium's verdict on an HTTPS origin's certificate, for the capture environment."""
        response = event.get("response") or {}
        parts = urlsplit(str(response.get("url", "")))
        if parts.scheme != "https":
            return
        origin = f"https://{parts.netloc}"
        if origin in self.tls and self.tls[origin].get("securityState") == response.get("securityState"):
            return
        self.tls[origin] = {
            "securityState": response.get("securityState"),
            "details": response.get("securityDetails") or {},
        }

    def mask(self, locator: Locator) -> None:
        """A field the flow filled with a secret: blacked out in every later screenshot."""
        self._secret_fields.append(locator)

    def _full(self, rows: list[dict[str, Any]], what: str) -> bool:
        """True once a page has filled a log to its bound (it could fill memory and the package)."""
        if len(rows) < MAX_LOG_ROWS:
            return False
        self._note(f"the page wrote more than {MAX_LOG_ROWS} {what}; the rest are not kept")
        return True

    def _note(self, message: str) -> None:
        if message not in self._notes:
            self._notes.add(message)
            self.log(f"note: {message}")

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
            self._evaluate(page, formstate.UNDO)

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
        self._check_answering(page)
        masks = [page.locator(selector) for selector in self.settings.masks] + self._secret_fields
        target = element if element is not None else page
        kwargs: dict[str, Any] = {} if element is not None else {"full_page": full_page}
        if masks:
            kwargs.update(mask=masks, mask_color="#000000")
        raw = title = None
        self._cut = None
        before = self._reflection() if reflect else None
        if not masks and element is None and self.settings.device is None:
            if full_page:
                raw, title = self._fast_full_png(page, before=before)
                before = None if raw is not None else before
            else:
                raw = self._fast_viewport_png(page)
        if before is not None:
            self._reflect(page)
        if raw is None:
            if full_page and element is None:
                clip = self._clip_of_big_page(page)
                if clip is not None:
                    kwargs["clip"] = clip
            raw = target.screenshot(type="png", **kwargs)
        raw, hidden = self._mask_typed(page, raw, full_page=full_page and element is None, element=element)
        taken = utcnow()
        url = _cut(self.secrets.url(page.url))
        title = title if title is not None else self._title(page)
        title = _cut(self.secrets.text(title)) if title is not None else None
        original = stamp.add_text_chunks(
            raw,
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
            "capture_sha256": hashlib.sha256(raw).hexdigest(),
            "stamped": stamped_path,
            "masked": list(self.settings.masks),
        }
        if self._cut is not None:
            meta["cut"] = self._cut
        if hidden:
            meta["secret_hidden"] = hidden  # places showing a typed secret, blacked out (or "all")
        meta.update(self._server(page))
        if role == STEP_ROLE:
            # The running record after each action: timestamped and hashed, but the
            # page snapshots and the stamped copy are kept for the captures people
            # look at (named screenshots, review, confirmation, failure); making
            # them for every keystroke would double the time of a run.
            del meta["stamped"]
            self.package.add_bytes(path, original, "image/png", role=role, captured_at=taken, meta=meta)
            return path
        meta.update(self._snapshots(page, stem, taken))
        self.package.add_bytes(path, original, "image/png", role=role, captured_at=taken, meta=meta)
        viewport = page.viewport_size
        width = int.from_bytes(raw[16:20], "big")  # from the PNG header
        scale = width / viewport["width"] if viewport and element is None else 1.0
        self._stamper.submit(
            (stamped_path, path, taken),
            raw,
            thumbnail=True,
            captured_at=taken,
            url=url,
            case_ref=self.case_ref,
            title=title,
            scale=scale,
            clocks=self.clocks,
        )
        return path

    def _mask_typed(
        self, page: Page, raw: bytes, *, full_page: bool, element: Locator | None
    ) -> tuple[bytes, int | str]:
        """The picture with every place the page shows a value the run typed blacked out, and how
        many places (or "all").

        Measured right after the picture is taken, while the page is as it was photographed
        (a form's values written in, textareas stretched). The main frame is searched in a world
        of our own, out of reach of the page's scripts; frames inside it through their own.
        A page that cannot be searched is blacked out whole: it may show the secret."""
        typed = sorted(self.secrets.typed)
        if not typed:
            return raw, 0
        try:
            found = self._secret_boxes(page, typed, full_page=full_page, element=element)
        except Exception:
            found = None
        if found is not None and not found[3]:
            return raw, 0
        from PIL import Image, ImageDraw

        with Image.open(io.BytesIO(raw)) as opened:
            picture = opened.convert("RGB")
        draw = ImageDraw.Draw(picture)
        hidden: int | str = "all"
        if found is None:
            self._note("a page could not be searched for a typed secret: its picture is blacked out whole")
            draw.rectangle((0, 0, picture.width, picture.height), fill="#000000")
        else:
            ratio, dx, dy, boxes = found
            hidden = len(boxes)
            for x, y, w, h in boxes:
                left, top = (x - dx - MASK_MARGIN) * ratio, (y - dy - MASK_MARGIN) * ratio
                right, bottom = (x - dx + w + MASK_MARGIN) * ratio, (y - dy + h + MASK_MARGIN) * ratio
                draw.rectangle((left, top, right, bottom), fill="#000000")
        out = io.BytesIO()
        picture.save(out, "PNG", compress_level=1)
        return out.getvalue(), hidden

    def _secret_boxes(
        self, page: Page, typed: list[str], *, full_page: bool, element: Locator | None
    ) -> tuple[float, float, float, list[list[float]]] | None:
        """(pixel ratio, dx, dy, boxes): boxes in the window's coordinates, and the point of the
        window where the picture starts (the page's top-left for the whole page, the element's
        corner, or the window's own); None when the page cannot be measured."""
        main = self._in_world(page, f"({SECRET_BOXES})({json.dumps(typed)})", timeout=5_000)
        if not isinstance(main, dict):
            return None
        boxes = [list(map(float, b)) for b in main.get("boxes") or []]
        for frame in page.frames:
            if frame == page.main_frame:
                continue
            try:
                handle = frame.wait_for_function(
                    f"(s) => JSON.stringify(({SECRET_BOXES})(s))", arg=typed, timeout=ANSWER_TIMEOUT_MS
                )
                inner = json.loads(handle.json_value())
            except Exception:
                if frame.is_detached():
                    continue
                return None
            if not inner.get("boxes"):
                continue
            holder = frame.frame_element()
            box = holder.bounding_box()
            edge = holder.evaluate("(e) => [e.clientLeft, e.clientTop]")
            if box is None:
                continue
            left, top = box["x"] + edge[0], box["y"] + edge[1]
            boxes += [[left + x, top + y, w, h] for x, y, w, h in inner["boxes"]]
        boxes += self._layout_boxes(page, typed)
        dx = dy = 0.0
        if element is not None:
            corner = element.bounding_box()
            if corner is None:
                return None
            dx, dy = corner["x"], corner["y"]
        elif full_page:  # the picture starts at the page's top-left, scrolled out of the window
            dx, dy = -float(main.get("x") or 0), -float(main.get("y") or 0)
        return float(main.get("dpr") or 1), dx, dy, boxes

    def _layout_boxes(self, page: Page, typed: list[str]) -> list[list[float]]:
        """Boxes of the text the page's layout shows (Chromium's DOMSnapshot, in window
        coordinates) that holds a typed value: what the DOM walk cannot see, text in a closed
        shadow root or written by a stylesheet (`content:`). The main document's only."""
        session = self._session(page)
        if session is None:
            return []
        snapshot = session.send("DOMSnapshot.captureSnapshot", {"computedStyles": []})
        strings, documents = snapshot.get("strings") or [], snapshot.get("documents") or []
        if not documents:
            return []
        document = documents[0]
        layout = document.get("layout") or {}
        wanted = [*typed, *(value[::-1] for value in typed)]
        sx, sy = float(document.get("scrollOffsetX") or 0), float(document.get("scrollOffsetY") or 0)
        boxes: list[list[float]] = []
        for index, text in enumerate(layout.get("text") or []):
            if not 0 <= text < len(strings):
                continue
            shown = INVISIBLE.sub("", strings[text])
            if any(value in shown for value in wanted):
                x, y, w, h = layout["bounds"][index]
                boxes.append([x - sx, y - sy, w, h])
        return boxes

    def _check_answering(self, page: Page) -> None:
        """Raise PageNotAnswering for a page whose scripts hold its thread. The captures below
        talk to the page through CDP, which has no timeout: on such a page they would wait for
        ever. Playwright's own wait has one, and costs about 2 ms on a page that answers."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        key = id(page)
        if key not in self._hung:
            try:
                page.wait_for_function("() => true", timeout=ANSWER_TIMEOUT_MS)
                return
            except PlaywrightTimeout:
                self._hung.add(key)
            except Exception:  # closed, or navigating: the capture says what it finds
                return
        raise PageNotAnswering(
            f"the page stopped answering: a script on it ran for over {ANSWER_TIMEOUT_MS // 1000} s without "
            "returning, so nothing more could be read or photographed from it"
        )

    def _in_world(self, page: Page, expression: str, *, wait: bool = False, timeout: int = 5_000) -> Any:
        """Evaluate in an isolated world of the page's main frame, out of reach of the page's own
        scripts. The world is made once per document and kept (two round trips saved on every
        capture); a navigation destroys it, and the next call makes a new one. Raises when the
        page has no document to evaluate in."""
        key = id(page)
        if key in self._hung:  # would wait for ever (see _check_answering)
            raise PageNotAnswering("the page stopped answering")
        session = self._session(page)
        if session is None:
            raise RuntimeError("no CDP session")
        for attempt in range(2):
            world = self._worlds.get(key)
            if world is None:
                frame = session.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
                made = session.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": "support-assistant"})
                world = self._worlds[key] = int(made["executionContextId"])
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
            except Exception:
                self._worlds.pop(key, None)  # the document it lived in is gone
                if attempt:
                    raise
                continue
            return answer.get("result", {}).get("value")
        return None

    def _evaluate(self, page: Page, expression: str) -> Any:
        try:
            return self._in_world(page, expression)
        except Exception:  # the page moved on: nothing of ours is left on it
            return None

    def _reflection(self) -> str:
        files = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files]
        return formstate.reflect(files, sorted(self.secrets.values), expand=True)

    def _reflect(self, page: Page) -> bool:
        """Write the form's live values into its attributes and stretch its textareas (formstate)."""
        if self._evaluate(page, self._reflection()) is None:
            self._note("a page's form values could not be written into its snapshot")
            return False
        return True

    def page_html(self, page: Page) -> bytes:
        """The page's HTML with the values its form holds (as in every capture's snapshot), secrets
        scrubbed. Raises when the page cannot be read."""
        self._check_answering(page)
        reflected = self._reflect(page)
        try:
            return self.secrets.bytes(page.content().encode("utf-8"))
        finally:
            if reflected:
                self._evaluate(page, formstate.UNDO)

    # ------------------------------------------------------------- the form

    def known_files(self, files: list[KnownFile]) -> None:
        """The files the run may hand to an upload field, with their attachments' hashes."""
        self.files = list(files)

    def before_click(self, page: Page, submit: Locator) -> None:
        """Right before the submit click: read the form as the page holds it, and watch what it sends."""
        fields: list[dict[str, Any]] = []
        entries: list[list[Any]] = []
        error = None
        try:
            answer = submit.first.evaluate(formstate.READ_FORM, timeout=2000)
            fields, entries = list(answer.get("fields") or []), list(answer.get("entries") or [])
        except Exception as exc:  # the click goes ahead; the record says what is missing
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        try:
            url = page.url
        except Exception:
            url = None
        self.sent.arm(fields, entries, url, error)

    def submitted_form(self, sent: list[str]) -> SubmittedForm | None:
        """The form's record: its fields at the click, and the request the click produced
        (`sent`: the outcome watch's "METHOD URL" of what left the browser)."""
        form = self.sent.record(sent, self.files, self.secrets)
        seen = self.sent.chosen(sent)
        if form is not None and form.request is not None and seen is not None:
            self._form = (seen, form.request)
        return form

    def _fast_viewport_png(self, page: Page) -> bytes | None:
        """The viewport as a lossless PNG straight from Chromium, compressed for speed.

        A run takes one of these after every action; Chromium's fast PNG encoding
        (larger files, same pixels) halves their cost. Masked shots, elements and
        emulated devices go through Playwright, which knows how to do those.
        """
        return self._screenshot(page, {})

    def _fast_full_png(self, page: Page, *, before: str | None = None) -> tuple[bytes | None, str | None]:
        """The whole page with the pixels of Playwright's full_page screenshot, for less, and its title.

        As Playwright does: wait for the page's fonts and measure the page in a world of
        our own (the page's scripts can neither fake the size nor stall the wait for
        long), and draw beyond the window only when the page is bigger than it. Unlike
        Playwright, the PNG is Chromium's fast encoding (same pixels) and the text caret
        is left as it was on screen, as in the step screenshots. The title comes with the
        measure, as page.title() would read it, without a round trip of its own.
        """
        # `before` (the form's values written in) runs first, in the same round trip.
        measured = self._measure(page, f"({before}, {PAGE_SIZE})" if before else PAGE_SIZE)
        if measured is None:  # Playwright's way decides
            return None, None
        width, height, view_width, view_height, title = measured
        width, height = self._within_limits(width, height)
        if width <= view_width and height <= view_height:
            raw = self._screenshot(page, {})
        else:
            clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            raw = self._screenshot(page, {"clip": clip, "captureBeyondViewport": True})
        return raw, title if isinstance(title, str) and raw is not None else None

    def _measure(self, page: Page, expression: str) -> tuple[int, int, int, int, Any] | None:
        """(width, height, window width, window height, title) of the page by PAGE_SIZE, or None
        when it has no document yet, went away, or gave something else than sizes."""
        try:
            width, height, view_width, view_height, title = self._in_world(page, expression, wait=True, timeout=10_000)
        except Exception:
            return None
        if not all(isinstance(v, int) and v > 0 for v in (width, height, view_width, view_height)):
            return None
        return width, height, view_width, view_height, title

    def _within_limits(self, width: int, height: int) -> tuple[int, int]:
        """The page's size cut to what one capture keeps; the cut is noted for the manifest."""
        kept = (min(width, MAX_CAPTURE_WIDTH), min(height, MAX_CAPTURE_HEIGHT))
        if kept != (width, height):
            self._cut = (
                f"the page is {width}×{height} CSS px; this capture keeps its top-left {kept[0]}×{kept[1]} "
                f"(a capture is at most {MAX_CAPTURE_WIDTH}×{MAX_CAPTURE_HEIGHT})"
            )
            self._note(self._cut)
        return kept

    def _clip_of_big_page(self, page: Page) -> dict[str, float] | None:
        """For Playwright's full-page screenshot (masks, emulated devices): a clip to the limits
        when the page is bigger than them, else None (the whole page)."""
        measured = self._measure(page, PAGE_SIZE)
        if measured is None:  # Playwright measures the page itself
            return None
        width, height = measured[:2]
        kept = self._within_limits(width, height)
        return None if kept == (width, height) else {"x": 0, "y": 0, "width": kept[0], "height": kept[1]}

    def _screenshot(self, page: Page, params: dict[str, Any]) -> bytes | None:
        """Chromium's fast PNG of the page; None when unavailable or the page moved on meanwhile."""
        try:
            shot = self._capture(page, "Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True, **params})
        except Exception as exc:
            self._note(f"fast screenshots unavailable ({str(exc).splitlines()[0]}); using Playwright's")
            return None
        return None if shot is None else base64.b64decode(shot["data"])

    def _capture(self, page: Page, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """A CDP capture of the document on screen; None if the page navigated meanwhile.

        Chromium never answers Page.captureScreenshot or Page.captureSnapshot asked of a
        document that a navigation then replaces (a script or meta refresh moving on, a
        blocked request's error page), and a CDP session's send has no timeout: the run
        would wait for ever. So captures go through a session of their own, detached as
        soon as the main frame navigates during one, which fails it at once (the next
        capture opens a new session: one per capture would double a step's screenshot).
        """
        key = id(page)
        session = self._capture_sessions.get(key)
        if session is None:
            session = self._capture_sessions[key] = page.context.new_cdp_session(page)
        navigated = False

        def on_navigated(frame: Frame) -> None:
            nonlocal navigated
            if frame.parent_frame is None and not navigated:
                navigated = True
                self._capture_sessions.pop(key, None)
                try:
                    session.detach()
                except Exception:
                    pass  # already gone: the command failed with it

        page.on("framenavigated", on_navigated)
        try:
            return session.send(method, params)
        except Exception:
            if navigated:
                return None
            raise
        finally:
            page.remove_listener("framenavigated", on_navigated)

    def collect_stamped(self) -> None:
        """Add the stamped copies made so far in the background (waits for the rest)."""
        for (stamped_path, path, taken), data in self._stamper.results():
            if isinstance(data, Exception):
                self._note(f"no stamped copy of {path}: {data}")
                continue
            self.package.add_bytes(
                stamped_path,
                data,
                "image/jpeg",
                role="stamped",
                captured_at=taken,
                meta={"stamped_of": path, "case_ref": self.case_ref},
            )
            small = self._stamper.thumbnails.pop((stamped_path, path, taken), None)
            if small is not None:
                self.package.thumbnails[stamped_path] = small

    @staticmethod
    def _title(page: Page) -> str | None:
        try:
            return page.title()
        except Exception:
            return None

    def _server(self, page: Page) -> dict[str, Any]:
        """Final URL, server IP and TLS details of the document on screen."""
        response = self._documents.get(id(page))
        out: dict[str, Any] = {"final_url": self.secrets.url(page.url)}
        if response is None:
            return out
        known = self._servers.get(id(page))
        if known is not None and known[0] is response:  # the same document as the last shot: no round trips
            return {**out, **known[1]}
        details, complete = self._server_details(page, response)
        if complete:
            self._servers[id(page)] = (response, details)
        return {**out, **details}

    def _server_details(self, page: Page, response: Response) -> tuple[dict[str, Any], bool]:
        out: dict[str, Any] = {}
        try:
            out["http_status"] = response.status
            address = (self.peer(response.url) if self.peer else None) or response.server_addr()
            if address:
                out["server_ip"] = address.get("ipAddress")
                out["server_port"] = address.get("port")
            security = response.security_details()
            if security:
                out["tls"] = security
                certificate = self._certificate(page, response.url)
                if certificate:
                    out["tls_certificate"] = certificate
        except Exception as exc:  # the page navigated away while we asked
            self._note(f"server details unavailable: {str(exc).splitlines()[0]}")
            return out, False
        return out, True

    def _session(self, page: Page) -> CDPSession | None:
        key = id(page)
        if key not in self._cdp:
            try:
                self._cdp[key] = page.context.new_cdp_session(page)
            except Exception as exc:
                self._cdp[key] = None
                self._note(f"no CDP session ({str(exc).splitlines()[0]}): no MHTML snapshots or certificates")
        return self._cdp[key]

    def _certificate(self, page: Page, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme != "https":
            return None
        path = f"pages/certificates/{parts.hostname}.pem"
        if self.package.entry(path):
            return path
        session = self._session(page)
        if session is None:
            return None
        try:
            chain = session.send("Network.getCertificate", {"origin": f"{parts.scheme}://{parts.netloc}"})["tableNames"]
        except Exception as exc:
            self._note(f"TLS certificate of {parts.hostname} unavailable: {str(exc).splitlines()[0]}")
            return None
        if not chain:
            self._note(f"Chromium did not give the TLS certificate of {parts.hostname}")
            return None
        pem = "".join(ssl.DER_cert_to_PEM_cert(base64.b64decode(der)) for der in chain)
        self.package.add_bytes(
            path,
            pem.encode("ascii"),
            "application/x-pem-file",
            role="page",
            captured_at=utcnow(),
            meta={"origin": f"{parts.scheme}://{parts.netloc}", "certificates": len(chain)},
        )
        return path

    def _snapshots(self, page: Page, stem: str, taken: datetime) -> dict[str, str]:
        """The page behind a capture as HTML and as an MHTML archive, both made inert."""
        out: dict[str, str] = {}
        self._learn_cookies(page.context)
        url = self.secrets.url(page.url)
        try:
            made = inert.html(self.secrets.bytes(page.content().encode("utf-8")))
            out["html"] = self._keep_page(f"pages/{stem}.html", made, "text/html", url, taken)
        except Exception as exc:
            self._note(f"no HTML snapshot: {str(exc).splitlines()[0]}")
        try:
            captured = self._capture(page, "Page.captureSnapshot", {"format": "mhtml"})
            if captured is None:
                self._note(f"no MHTML snapshot of {stem}: the page moved on while it was taken")
        except Exception as exc:
            self._note(f"no MHTML snapshot: {str(exc).splitlines()[0]}")
            captured = None
        if captured is not None:
            try:
                archive = inert.mhtml(captured["data"].encode("utf-8"), self.secrets)
                out["mhtml"] = self._keep_page(f"pages/{stem}.mhtml", archive, "multipart/related", url, taken)
            except Exception as exc:
                self._note(f"no MHTML snapshot: {str(exc).splitlines()[0]}")
        return out

    def _keep_page(self, path: str, made: inert.Inert, media_type: str, url: str | None, taken: datetime) -> str:
        self.package.add_bytes(
            path, made.data, media_type, role="page", captured_at=taken, meta={"url": url, **made.meta()}
        )
        return path

    # --------------------------------------------------------------- finish

    def close(self, context: BrowserContext) -> None:
        """Stop the trace, close the context (which writes the HAR), keep logs, network and stamped copies."""
        self.collect_stamped()
        self._stamper.close()
        now = utcnow()
        if self._trace:
            self._keep_trace(context, now)
        self._learn_cookies(context)
        # The page's CDP sessions end with the context. Detaching them first waited for ever on a
        # page whose scripts hold its thread.
        try:
            context.close()
        except Exception:
            pass
        har = None
        if self.har_path.exists():
            har = json.loads(self.har_path.read_text(encoding="utf-8"))
            log = har.get("log", {})
            # The report is rendered from file:// in this context; it is not traffic of the site.
            log["entries"] = [
                e for e in log.get("entries", []) if not e.get("request", {}).get("url", "").startswith("file:")
            ]
            log["pages"] = [p for p in log.get("pages", []) if not str(p.get("title", "")).startswith("file:")]
            if self._form is not None and not mend_har(har, *self._form):
                self._note("the network log has no entry for the form's request to give its body to")
            har = scrub_har(har, self.secrets)  # first: it learns the tokens the logs below may repeat
        self._add_jsonl("logs/console.jsonl", self._scrubbed_rows(self.console), now)
        self._add_jsonl("logs/page-errors.jsonl", self._scrubbed_rows(self.errors), now)
        if har is not None:
            data = json.dumps(har, ensure_ascii=False, indent=1).encode("utf-8")
            self.package.add_bytes(
                "logs/network.har",
                data,
                "application/json",
                role="log",
                captured_at=now,
                meta={
                    "scrubbed": "cookies, auth and *-token/*-key headers, secret-named "
                    "parameters, and every typed password/secret and cookie value"
                },
            )
        shutil.rmtree(self._har_dir, ignore_errors=True)
        self.package.flush()

    def _learn_cookies(self, context: BrowserContext) -> None:
        """The session itself: its values are scrubbed wherever they turn up."""
        try:
            for cookie in context.cookies():
                self.secrets.add(cookie.get("value"), MIN_COOKIE)
        except Exception:  # the context is closing; the HAR still lists its cookies
            pass

    def _scrubbed_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            row = self.secrets.deep(row)
            if row.get("url"):
                row["url"] = self.secrets.url(row["url"])
            out.append(row)
        return out

    def _keep_trace(self, context: BrowserContext, now: datetime) -> None:
        trace = self._har_dir / "trace.zip"
        try:
            context.tracing.stop(path=str(trace))
        except Exception as exc:
            self._note(f"no trace: {str(exc).splitlines()[0]}")
            return
        if self.settings.trace_in_package or self.settings.trace_dir is None:
            self.log(
                "warning: the Playwright trace is inside the evidence package (--trace-in-package); it holds "
                "every typed password and the session cookies: do not share the package"
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
            f"trace (not in the evidence package: it holds typed passwords and cookies): {kept}; "
            f"open it with `playwright show-trace {kept}`"
        )

    def _add_jsonl(self, path: str, rows: list[dict[str, Any]], now: datetime) -> None:
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        self.package.add_bytes(
            path, body, "application/x-ndjson", role="log", captured_at=now, meta={"entries": len(rows)}
        )


def render_pdf(
    context: BrowserContext, capturer: Capturer | None = None, log: Callable[[str], None] = lambda m: None
) -> Callable[[Path], bytes | None]:
    """report.html → report.pdf in the browser context that took the screenshots.

    A page in the open context costs a third of a new context. The capturer is
    told to look away: the report page is not evidence, and its file:// loads are
    dropped from the network log.
    """

    def render(html: Path) -> bytes | None:
        if capturer is not None:
            capturer.watching = False
        page: Page | None = None
        try:
            page = context.new_page()
            page.goto(html.resolve().as_uri(), wait_until="load")
            return page.pdf(
                format="A4",
                print_background=True,
                margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
            )
        except Exception as exc:  # page.pdf needs headless Chromium; --headed runs keep report.html only
            log(f"note: no report.pdf ({str(exc).splitlines()[0]}); report.html has the same content")
            return None
        finally:
            # The capturer's close() closes the context, and this page with it, next.
            if page is not None and capturer is None:
                page.close()

    return render
