"""Pictures of a page: Chromium's fast PNGs, Playwright's where needed, typed secrets blacked out.

A run takes a picture after every action and a full-page one for each capture
people read, so those come straight from Chromium, in its fast PNG encoding
(larger files, the same pixels, half the cost). Masked selectors, an element
and an emulated device go through Playwright, which knows how to do those.
Either way a page can make itself any size, and a picture keeps at most
MAX_CAPTURE_WIDTH × MAX_CAPTURE_HEIGHT of it; wherever the page shows a value
the run typed, the picture is blacked out there. The stamped JPEG copies are
made on worker threads (evidence.stamp) while the run goes on.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.run.pagestate import ANSWER_TIMEOUT_MS
from evidence import stamp

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from assistant.run.pagestate import Pages
    from evidence import EvidencePackage
    from evidence.scrub import Secrets
    from evidence.times import Clocks

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


@dataclass(frozen=True)
class Picture:
    """A picture as taken, before it is stamped and kept."""

    png: bytes
    title: str | None  # the page's title when it came with the page's measure, else None
    hidden: int | str  # the places showing a typed secret that were blacked out, or "all"
    cut: str | None  # how the page was cut to the limits, if it was


class Pictures:
    """Takes the pictures of a run and has their stamped copies made."""

    def __init__(
        self,
        pages: Pages,
        package: EvidencePackage,
        *,
        masks: list[str],
        device: str | None,
        secrets: Secrets,
        case_ref: str,
        clocks: Clocks | None,
        write_form: Callable[[Page], object],
        note: Callable[[str], None],
    ) -> None:
        """`masks`: the selectors blacked out in every picture; `write_form`: writes the form's
        values into the page (formstate) when that did not come with the page's measure."""
        self._pages = pages
        self._package = package
        self._masks = masks
        self._device = device
        self._secrets = secrets
        self._case_ref = case_ref
        self._clocks = clocks  # the provider's and the person's, for the banners
        self._write_form = write_form
        self._note = note
        self._secret_fields: list[Locator] = []
        self._cut: str | None = None  # how the picture being taken was cut to the limits, if it was
        try:
            stamp.font(16)  # before anything happens, not at the first screenshot
        except stamp.FontMissing as exc:
            from assistant.errors import RunFailed

            raise RunFailed(str(exc)) from None
        self._stamper = stamp.Stamper()

    def mask(self, locator: Locator) -> None:
        """A field the flow filled with a secret: blacked out in every later picture."""
        self._secret_fields.append(locator)

    def take(self, page: Page, *, full_page: bool, element: Locator | None, form: str | None) -> Picture:
        """`page` (or `element`), with its typed secrets blacked out.

        `form` writes the form's values into the page for its snapshots (formstate): it rides
        with the page's measure when Chromium takes the whole page, and is otherwise written
        before Playwright's picture, or after Chromium's picture of the window."""
        masks = [page.locator(selector) for selector in self._masks] + self._secret_fields
        target = element if element is not None else page
        kwargs: dict[str, Any] = {} if element is not None else {"full_page": full_page}
        if masks:
            kwargs.update(mask=masks, mask_color="#000000")
        raw = title = None
        self._cut = None
        if not masks and element is None and self._device is None:
            if full_page:
                raw, title = self._fast_full_png(page, before=form)
                form = None if raw is not None else form
            else:
                raw = self._fast_viewport_png(page)
        if form is not None:
            self._write_form(page)
        if raw is None:
            if full_page and element is None:
                clip = self._clip_of_big_page(page)
                if clip is not None:
                    kwargs["clip"] = clip
            raw = target.screenshot(type="png", **kwargs)
        raw, hidden = self._mask_typed(page, raw, full_page=full_page and element is None, element=element)
        return Picture(raw, title, hidden, self._cut)

    def queue_stamped(
        self,
        page: Page,
        picture: Picture,
        *,
        path: str,
        stamped_path: str,
        taken: datetime,
        url: str | None,
        title: str | None,
        element: Locator | None,
    ) -> None:
        """Have the stamped copy of the picture kept at `path` made, at `stamped_path`."""
        viewport = page.viewport_size
        width = int.from_bytes(picture.png[16:20], "big")  # from the PNG header
        scale = width / viewport["width"] if viewport and element is None else 1.0
        self._stamper.submit(
            (stamped_path, path, taken),
            picture.png,
            thumbnail=True,
            captured_at=taken,
            url=url,
            case_ref=self._case_ref,
            title=title,
            scale=scale,
            clocks=self._clocks,
        )

    def collect_stamped(self) -> None:
        """Add the stamped copies made so far in the background (waits for the rest)."""
        for (stamped_path, path, taken), data in self._stamper.results():
            if isinstance(data, Exception):
                self._note(f"no stamped copy of {path}: {data}")
                continue
            self._package.add_bytes(
                stamped_path,
                data,
                "image/jpeg",
                role="stamped",
                captured_at=taken,
                meta={"stamped_of": path, "case_ref": self._case_ref},
            )
            small = self._stamper.thumbnails.pop((stamped_path, path, taken), None)
            if small is not None:
                self._package.thumbnails[stamped_path] = small

    def close(self) -> None:
        """Keep the last stamped copies; no picture is taken after this."""
        self.collect_stamped()
        self._stamper.close()

    # --------------------------------------------------------- Chromium's way

    def _fast_viewport_png(self, page: Page) -> bytes | None:
        """The viewport as a lossless PNG straight from Chromium, compressed for speed.

        A run takes one of these after every action; Chromium's fast PNG encoding
        (larger files, same pixels) halves their cost.
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

    def _screenshot(self, page: Page, params: dict[str, Any]) -> bytes | None:
        """Chromium's fast PNG of the page; None when unavailable or the page moved on meanwhile."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            shot = self._pages.capture(
                page, "Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True, **params}
            )
        except PlaywrightError as exc:
            self._note(f"fast screenshots unavailable ({str(exc).splitlines()[0]}); using Playwright's")
            return None
        return None if shot is None else base64.b64decode(shot["data"])

    def _measure(self, page: Page, expression: str) -> tuple[int, int, int, int, Any] | None:
        """(width, height, window width, window height, title) of the page by PAGE_SIZE, or None
        when it has no document yet, went away, or gave something else than sizes."""
        from playwright.sync_api import Error as PlaywrightError

        # RuntimeError: the page does not answer (PageNotAnswering), or has no CDP session;
        # TypeError, ValueError: no document (null), or not five values.
        try:
            width, height, view_width, view_height, title = self._pages.in_world(
                page, expression, wait=True, timeout=10_000
            )
        except (PlaywrightError, RuntimeError, TypeError, ValueError):
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

    # ------------------------------------------------------- typed secrets

    def _mask_typed(
        self, page: Page, raw: bytes, *, full_page: bool, element: Locator | None
    ) -> tuple[bytes, int | str]:
        """The picture with every place the page shows a value the run typed blacked out, and how
        many places (or "all").

        Measured right after the picture is taken, while the page is as it was photographed
        (a form's values written in, textareas stretched). The main frame is searched in a world
        of our own, out of reach of the page's scripts; frames inside it through their own.
        A page that cannot be searched is blacked out whole: it may show the secret."""
        typed = sorted(self._secrets.typed)
        if not typed:
            return raw, 0
        try:
            found = self._secret_boxes(page, typed, full_page=full_page, element=element)
        except Exception:  # the page is hostile input, and whatever it did, its picture may show the secret
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
        main = self._pages.in_world(page, f"({SECRET_BOXES})({json.dumps(typed)})", timeout=5_000)
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
            except Exception:  # asked in the frame's own world, whose scripts may answer anything
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
        session = self._pages.session(page)
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
