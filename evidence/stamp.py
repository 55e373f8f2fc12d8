"""Screenshots with their time on them.

Two files per capture:
  * the original: the PNG exactly as the browser produced it, with text chunks
    (capture time, URL, title) inserted before IEND. No pixel is re-encoded:
    the IDAT chunks are the browser's own bytes. The manifest hashes this file
    as stored, and also records `capture_sha256`, the hash of the browser's
    bytes before the chunks were added (strip the tEXt/iTXt chunks to check it).
  * the stamped copy (JPEG): the same picture with a banner below it naming the
    capture time (on the provider's and the person's clocks, and in UTC), the
    URL and the case reference, labelled in the case's language (Clocks.language).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .times import Clocks, utc_text
from .words import word

if TYPE_CHECKING:
    from concurrent.futures import Future

    from PIL import Image
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# DejaVu Sans has full Cyrillic coverage and ships with nearly every Linux
# (Debian: fonts-dejavu-core). ASSISTANT_FONT overrides it.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "C:\\Windows\\Fonts\\DejaVuSans.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
)


class FontMissing(RuntimeError):
    pass


def font_path() -> Path:
    override = os.environ.get("ASSISTANT_FONT")
    if override:
        if not Path(override).is_file():
            raise FontMissing(f"ASSISTANT_FONT={override}: no such font file")
        return Path(override)
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    # matplotlib ships DejaVu Sans; use it if it happens to be installed (found, not imported: that takes seconds).

    spec = find_spec("matplotlib")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return bundled
    raise FontMissing(
        "no font with Cyrillic glyphs for the screenshot banner: install DejaVu Sans "
        "(Debian/Ubuntu: apt-get install fonts-dejavu-core; `assistant browser install` does it), "
        "or set ASSISTANT_FONT=/path/to/font.ttf"
    )


@lru_cache(maxsize=8)
def font(size: int) -> FreeTypeFont:
    from PIL import ImageFont

    # BASIC layout: Latin and Cyrillic need no shaping, and it measures text 5x faster than raqm.
    return ImageFont.truetype(str(font_path()), size, layout_engine=ImageFont.Layout.BASIC)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def text_chunk(key: str, value: str) -> bytes:
    """tEXt for Latin-1 values, iTXt (UTF-8) for anything else, e.g. a Cyrillic title."""
    try:
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:
        return _chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8"))


def add_text_chunks(png: bytes, items: dict[str, str]) -> bytes:
    if not png.startswith(PNG_SIGNATURE) or png[-12:-8] != b"\0\0\0\0" or png[-8:-4] != b"IEND":
        raise ValueError("not a complete PNG")
    extra = b"".join(text_chunk(k, v) for k, v in items.items() if v is not None)
    return png[:-12] + extra + png[-12:]


def read_text_chunks(png: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = data.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = data.partition(b"\0")
            # compression flag, method, language tag\0, translated keyword\0, text
            rest = rest[2:]
            _, _, rest = rest.partition(b"\0")
            _, _, value = rest.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("utf-8")
        pos += 12 + length
    return out


def strip_text_chunks(png: bytes) -> bytes:
    """The browser's PNG again: the inverse of add_text_chunks."""
    out = [png[: len(PNG_SIGNATURE)]]
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind not in (b"tEXt", b"iTXt"):
            out.append(png[pos : pos + 12 + length])
        pos += 12 + length
    return b"".join(out)


def banner_fields(
    captured_at: datetime, url: str, case_ref: str, title: str | None, clocks: Clocks | None
) -> list[tuple[str, str]]:
    """What a banner says: the moment on the provider's and the person's clocks and in UTC,
    the page and the case. Without clocks, UTC alone: never the clock of this machine's zone,
    which is neither the person's nor the provider's.

    The labels are the vocabulary's keys (evidence/words.py), in English: banner_labels
    says them in the language the banner is drawn in."""
    times = clocks.lines(captured_at) if clocks is not None else [("UTC", utc_text(captured_at))]
    return [*times, ("URL", url), ("Page", title or "—"), ("Case", case_ref)]


def banner_labels(fields: list[tuple[str, str]], language: str = "en") -> list[tuple[str, str]]:
    """The fields as the banner draws them: each label in the language («Компания и заявитель»,
    «Адрес», «Страница», «Обращение» for ru), each value as it is. The text stays the same size;
    the label column is as wide as the longest label."""
    return [(word(label, language), value) for label, value in fields]


def _drawn(
    captured_at: datetime, url: str, case_ref: str, title: str | None, clocks: Clocks | None
) -> list[tuple[str, str]]:
    """banner_fields in the clocks' language: what stamp() and the stamping threads draw."""
    return banner_labels(
        banner_fields(captured_at, url, case_ref, title, clocks), clocks.language if clocks is not None else "en"
    )


def _fit_text(draw: ImageDraw, text: str, fnt: FreeTypeFont, width: int) -> str:
    # No glyph is narrower than a pixel: what is past `width` characters never shows. A page
    # chooses its title (a 1 MB one took minutes to cut a character at a time): cut, then bisect.
    if len(text) <= width and draw.textlength(text, font=fnt) <= width:
        return text
    text = text[: max(width, 1)]
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid] + "…", font=fnt) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def _wrap(draw: ImageDraw, text: str, fnt: FreeTypeFont, width: int, max_lines: int = 3) -> list[str]:
    """Break text into lines that fit width (at spaces where it can, anywhere in a URL);
    the last allowed line ends with … if text is longer still."""
    lines: list[str] = []
    rest = text[: max(width, 1) * (max_lines + 1)]  # more never shows (see _fit_text)
    while rest and len(lines) < max_lines:
        if draw.textlength(rest, font=fnt) <= width:
            lines.append(rest)
            return lines
        # the longest prefix that fits, by bisection on characters
        lo, hi = 1, len(rest)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if draw.textlength(rest[:mid], font=fnt) <= width:
                lo = mid
            else:
                hi = mid - 1
        cut = rest.rfind(" ", 0, lo + 1)
        cut = cut if cut > lo // 2 else lo
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines[-1] = _fit_text(draw, lines[-1] + " " + rest, fnt, width)
    return lines or [""]


def with_banner(shot: Image.Image, fields: list[tuple[str, str]], size: int) -> Image.Image:
    """shot with the banner below it, text `size` pixels tall; the page's pixels are not covered."""
    from PIL import Image, ImageDraw

    width = shot.width
    fnt = font(size)
    pad = size // 2
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = max(measure.textlength(label + ":", font=fnt) for label, _ in fields) + pad
    text_w = int(width - label_w - 2 * pad)
    rows = [(label, _wrap(measure, value, fnt, text_w)) for label, value in fields]
    line_h = int(size * 1.4)
    banner_h = pad * 2 + line_h * sum(len(wrapped) for _, wrapped in rows)
    out = Image.new("RGB", (width, shot.height + banner_h), None)  # every pixel is painted below
    out.paste(shot if shot.mode == "RGB" else shot.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(out)
    top = shot.height
    draw.rectangle((0, top, width, top + banner_h), fill=(255, 248, 214))
    draw.rectangle((0, top, width, top + 2), fill=(180, 140, 0))
    y = top + pad
    for label, wrapped in rows:
        draw.text((pad, y), label + ":", font=fnt, fill=(110, 80, 0))
        for line in wrapped:
            draw.text((pad + label_w, y), line, font=fnt, fill=(0, 0, 0))
            y += line_h
    return out


def _open(png: bytes) -> Image.Image:
    from PIL import Image

    shot = Image.open(io.BytesIO(png))
    shot.load()
    return shot


def stamp(
    png: bytes,
    *,
    captured_at: datetime,
    url: str,
    case_ref: str,
    title: str | None = None,
    fmt: str = "JPEG",
    scale: float = 1.0,
    clocks: Clocks | None = None,
) -> bytes:
    """The stamped copy: the screenshot with a banner below it. Pixels of the page are not covered.
    scale: image pixels per CSS pixel (the device pixel ratio)."""
    return stamp_image(_open(png), _drawn(captured_at, url, case_ref, title, clocks), scale=scale, fmt=fmt)


def stamp_image(shot: Image.Image, fields: list[tuple[str, str]], *, scale: float = 1.0, fmt: str = "JPEG") -> bytes:
    """stamp() for a picture already decoded, with its banner's fields."""
    # As big as the page's own body text: 16 CSS pixels times the device's pixel ratio.
    return _encode(with_banner(shot, fields, max(12, min(64, round(16 * scale)))), fmt)


def _encode(out: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        # The stamped copy is for reading (the original PNG is the exact record): JPEG at
        # quality 90 without chroma subsampling keeps text crisp and costs a third of PNG.
        out.save(buffer, "JPEG", quality=90, subsampling=0)
    else:
        out.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# The contact sheet: two pictures side by side, each 600 px wide, with its own banner
# drawn at 13 px (the stamped copy's banner, scaled down with the page, would be 5 px).
SHEET_WIDTH = 600
SHEET_TALLEST = 4  # times the width: a 600 px column of 2,400 px holds a long form whole, still legible
SHEET_TEXT = 13


def sheet_picture(
    shot: Image.Image | bytes | Path, fields: list[tuple[str, str]], width: int = SHEET_WIDTH
) -> Image.Image:
    """One screenshot as the contact sheet shows it: whole, scaled to width (a page taller than
    SHEET_TALLEST times the width is scaled to that height instead, on a white cell as wide),
    with a banner legible at 100 %. The sheet stands for the pictures where a form takes one
    image: a cut page would hide what the person typed further down."""
    from PIL import Image

    if not isinstance(shot, Image.Image):
        with Image.open(io.BytesIO(shot) if isinstance(shot, bytes) else shot) as opened:
            shot = opened.convert("RGB")
    ratio = min(width / shot.width, width * SHEET_TALLEST / shot.height)
    size = (max(1, round(shot.width * ratio)), max(1, round(shot.height * ratio)))
    # Reducing by a whole factor before the filter (reducing_gap 1) is a quarter of the work, the same to the eye.
    small = (shot if shot.mode == "RGB" else shot.convert("RGB")).resize(
        size, Image.Resampling.BILINEAR, reducing_gap=1.0
    )
    if small.width < width:
        cell = Image.new("RGB", (width, small.height), (255, 255, 255))
        cell.paste(small, ((width - small.width) // 2, 0))
        small = cell
    return with_banner(small, fields, SHEET_TEXT)


def has_glyphs(text: str, size: int = 20) -> bool:
    """True when the banner font draws every character of text: none comes out as the
    font's "missing glyph" box (what a private-use code point renders as)."""
    fnt = font(size)

    def bitmap(ch: str) -> tuple[tuple[int, int], bytes]:
        mask = fnt.getmask(ch)
        return mask.size, bytes(mask)

    missing = bitmap("\U0010fffd")
    for ch in set(text) - set(" "):
        if fnt.getmask(ch).getbbox() is None or bitmap(ch) == missing:
            return False
    return True


def _stamp_job(png: bytes, thumbnail: bool, kw: dict[str, Any]) -> tuple[bytes, object]:
    fmt = kw.pop("fmt", "JPEG")
    scale = kw.pop("scale", 1.0)
    fields = _drawn(kw["captured_at"], kw["url"], kw["case_ref"], kw.get("title"), kw.get("clocks"))
    shot = _open(png)
    data = stamp_image(shot, fields, scale=scale, fmt=fmt)
    if not thumbnail:
        return data, None
    try:
        return data, sheet_picture(shot, fields)
    except Exception:  # the sheet makes it again from the file
        return data, None


class Stamper:
    """Makes stamped copies on worker threads while the browser goes on.

    Pillow releases the GIL while it decodes and encodes, so the copy is made
    while the next step runs; the run only waits for copies not yet done when
    it finishes (`results`)."""

    def __init__(self, workers: int = 2) -> None:

        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stamp")
        self._pending: list[tuple[object, Future[tuple[bytes, object]]]] = []
        # key → the copy as the report's contact sheet shows it, for copies submitted with thumbnail=True
        self.thumbnails: dict[object, object] = {}

    def submit(self, key: object, png: bytes, *, thumbnail: bool = False, **kw: Any) -> None:
        self._pending.append((key, self._pool.submit(_stamp_job, png, thumbnail, kw)))

    def results(self) -> list[tuple[Any, bytes | Exception]]:
        """(key, stamped bytes or the exception that stopped it) in the order submitted;
        waits for the rest. A failed copy must not cost the originals."""
        done: list[tuple[Any, bytes | Exception]] = []
        for key, future in self._pending:
            try:
                data, small = future.result()
            except Exception as exc:
                done.append((key, exc))
                continue
            if small is not None:
                self.thumbnails[key] = small
            done.append((key, data))
        self._pending = []
        return done

    def close(self) -> None:
        self._pool.shutdown(wait=True)
