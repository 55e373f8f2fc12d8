"""Fit attachments to a provider's limits: media types, bytes per file, number of files.

Tried in order, and every step is written down:
  1. too many files: merge them into one PDF (if the form takes PDF), else
     images into one tall image;
  2. a name ending the form does not take (`extensions`, e.g. photo.jpeg where
     the site takes .jpg): the same bytes under an ending it takes;
  3. a type the form does not take: PNG↔JPEG;
  4. too big: JPEG at decreasing quality, then downscale, step by step.
The originals are never touched; fitted copies are written to `outdir`.
"""

from __future__ import annotations

import io
import mimetypes
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .said import N_

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

LATIN_NAME = re.compile(r"[A-Za-z0-9._-]+")
# Russian names are the common case here; other scripts lose their accents (NFKD) or become '-'.
CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(" "),
        strict=True,
    )
)
CYRILLIC.update({"ъ": "", "ь": ""})

IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
# Photos as phones take them (HEIC is the iPhone camera's default): read with pillow-heif, never
# sent as they are unless the form takes them, converted like an oversized picture otherwise.
HEIF_TYPES = {"image/heic": "HEIC", "image/heif": "HEIF"}
# What fit() can re-encode, by media type, with the name a person knows it by.
PICTURES = {**IMAGE_TYPES, **HEIF_TYPES}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
HEIF_BRANDS = {b"mif1", b"msf1"}
EXT = {"image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf"}
QUALITIES = (90, 80, 70, 60, 50, 40)
MIN_WIDTH = 480


class CannotFit(ValueError):
    """Why files cannot be made to fit, as a sentence a person can act on: `str()` is English; the
    template and its values let a program say it in the person's language."""

    def __init__(self, template: str, **values: object) -> None:
        self.template, self.values = template, values
        super().__init__(template.format(**values))


@dataclass
class Limits:
    media_types: list[str]
    max_bytes: int
    max_files: int
    extensions: list[str] | None = None  # lower-case endings like ".jpg"; None: any name will do
    latin_names: bool = False  # the site takes only names of Latin letters, digits, '.', '-' and '_'

    def takes_ending(self, name: str) -> bool:
        return self.extensions is None or Path(name).suffix.lower() in self.extensions

    def takes_name(self, name: str) -> bool:
        return self.takes_ending(name) and (not self.latin_names or LATIN_NAME.fullmatch(name) is not None)

    def stem(self, name: str) -> str:
        """The name's stem as the site takes it: transliterated to Latin letters when it must be."""
        stem = Path(name).stem
        if not self.latin_names:
            return stem
        latin = "".join(CYRILLIC.get(c, CYRILLIC.get(c.lower(), c)) for c in stem)
        latin = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"[^A-Za-z0-9_]+", "-", latin).strip("-") or "file"

    def rules(self, name: str) -> str:
        """Which of the name rules `name` breaks, in words."""
        broken = []
        if not self.takes_ending(name):
            broken.append(f"only names ending {', '.join(self.extensions or ())}")
        if self.latin_names and LATIN_NAME.fullmatch(name) is None:
            broken.append("only names of Latin letters, digits, '.', '-' and '_'")
        return " and ".join(broken)

    def ending(self, kind: str) -> str | None:
        """The name ending a fitted file of this media type gets; None when the form takes none for it."""
        if self.extensions is None:
            return EXT.get(kind) or mimetypes.guess_extension(kind)
        fallback = EXT.get(kind)
        if fallback in self.extensions:  # .jpg rather than .jpeg or .jpe when the form takes it
            return fallback
        return next((e for e in self.extensions if mimetypes.guess_type("x" + e)[0] == kind), None)


@dataclass
class Fitted:
    path: Path
    media_type: str
    sources: list[Path]
    actions: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(12)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":  # an ISO media file: its major brand says which
        if head[8:12] in HEIC_BRANDS:
            return "image/heic"
        if head[8:12] in HEIF_BRANDS:
            return "image/heif"
    return "application/octet-stream"


def open_image(path: Path) -> PILImage:
    """The picture at path, HEIC and HEIF included (pillow-heif is registered with Pillow only
    when one is opened: its start costs time a run without one need not spend)."""
    from PIL import Image

    if sniff(path) in HEIF_TYPES:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    return Image.open(path)


def media_type(path: Path) -> str:
    """What the file is by its first bytes; for other kinds, what its name says."""
    found = sniff(path)
    if found != "application/octet-stream":
        return found
    return mimetypes.guess_type(path.name)[0] or found


def fits(files: list[tuple[Path, str]], limits: Limits) -> bool:
    return len(files) <= limits.max_files and all(
        kind in limits.media_types and path.stat().st_size <= limits.max_bytes and limits.takes_name(path.name)
        for path, kind in files
    )


def unconvertible(name: str, kind: str, limits: Limits) -> CannotFit:
    """Why a file that fit() cannot re-encode (not a PNG or JPEG picture) is refused: its size, or
    its kind, each with what to do about that one. (The caller says what the form takes.)"""
    if kind in limits.media_types:
        return CannotFit(
            N_("{name} is too big and cannot be converted. Attach a smaller file or a screenshot of it instead"),
            name=name,
        )
    return CannotFit(
        N_(
            "{name} is {kind}, a kind the form does not take, and only PNG, JPEG and HEIC pictures can be "
            "converted. Attach it in a kind the form takes, or leave it out"
        ),
        name=name,
        kind=kind,
    )


def precheck(paths: list[Path], limits: Limits) -> None:
    """Raise CannotFit for what fit() could never make fit, judged from each file's size and first
    bytes alone, before anything reads it whole: a file fit() cannot re-encode (not a PNG or JPEG
    picture) that is of a kind the form does not take, or larger than it takes. Checking a case and
    filing it ask this, so they give the same verdict."""
    if paths and limits.max_files == 0:
        raise CannotFit(N_("the form takes no attachments"))
    for path in paths:
        kind = media_type(path)
        if kind in PICTURES:
            continue
        if kind not in limits.media_types or path.stat().st_size > limits.max_bytes:
            raise unconvertible(path.name, kind, limits)


def fit(paths: list[Path], limits: Limits, outdir: Path) -> list[Fitted]:
    """What to attach instead of paths. Raises CannotFit with a sentence a person can act on."""
    precheck(paths, limits)
    items = [Fitted(p, media_type(p), [p]) for p in paths]
    if fits([(f.path, f.media_type) for f in items], limits):
        return items
    if limits.max_files == 0:
        raise CannotFit(N_("the form takes no attachments"))
    outdir.mkdir(parents=True, exist_ok=True)
    if len(items) > limits.max_files:
        items = _merge(items, limits, outdir)
    out = []
    for item in items:
        out.append(_fit_one(item, limits, outdir))
    return out


def _merge(items: list[Fitted], limits: Limits, outdir: Path) -> list[Fitted]:
    from PIL import Image

    keep = items[: limits.max_files - 1]
    rest = items[limits.max_files - 1 :]
    sources = [p for f in rest for p in f.sources]
    names = ", ".join(p.name for p in sources)
    if "application/pdf" in limits.media_types:
        target = outdir / "merged.pdf"
        _merge_pdf(rest, target)
        merged = Fitted(
            target, "application/pdf", sources, [f"merged {names} into one PDF ({len(rest)} pages or more)"]
        )
    else:
        if any(f.media_type not in PICTURES for f in rest):
            raise CannotFit(
                N_(
                    "{count} files but the form takes {most}, and {names} cannot be merged "
                    "into one image (only PNG, JPEG and HEIC can)"
                ),
                count=len(items),
                most=limits.max_files,
                names=names,
            )
        images = [open_image(f.path).convert("RGB") for f in rest]
        width = max(i.width for i in images)
        sheet = Image.new("RGB", (width, sum(i.height for i in images)), (255, 255, 255))
        y = 0
        for image in images:
            sheet.paste(image, (0, y))
            y += image.height
        target = outdir / "merged.png"
        sheet.save(target, "PNG", compress_level=6)
        merged = Fitted(target, "image/png", sources, [f"stacked {names} into one image ({width}×{y})"])
    return keep + [merged]


def _merge_pdf(items: list[Fitted], target: Path) -> None:
    if all(f.media_type in PICTURES for f in items):
        images = [open_image(f.path).convert("RGB") for f in items]
        images[0].save(target, "PDF", save_all=True, append_images=images[1:], resolution=96)
        return
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for f in items:
        if f.media_type == "application/pdf":
            for page in PdfReader(f.path).pages:
                writer.add_page(page)
        elif f.media_type in PICTURES:
            buffer = io.BytesIO()
            open_image(f.path).convert("RGB").save(buffer, "PDF", resolution=96)
            buffer.seek(0)
            for page in PdfReader(buffer).pages:
                writer.add_page(page)
        else:
            raise CannotFit(N_("{name} ({kind}) cannot be merged into a PDF"), name=f.path.name, kind=f.media_type)
    with open(target, "wb") as handle:
        writer.write(handle)


def _encode(image: PILImage, kind: str, quality: int | None) -> bytes:
    buffer = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=quality or 90, optimize=True, progressive=True)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _fit_one(item: Fitted, limits: Limits, outdir: Path) -> Fitted:
    kind, size = item.media_type, item.path.stat().st_size
    name = item.path.name
    if kind in limits.media_types and size <= limits.max_bytes:
        if limits.takes_name(name):
            return item
        ending = Path(name).suffix.lower() if limits.takes_ending(name) else limits.ending(kind)
        if ending is not None:
            out = outdir / (limits.stem(name) + ending)
            shutil.copy2(item.path, out)  # the same bytes and file time: only the name changes
            actions = [*item.actions, f"renamed {name} to {out.name}: the form takes {limits.rules(name)}"]
            return Fitted(out, kind, item.sources, actions)
        if kind not in PICTURES:
            raise CannotFit(
                N_(
                    "{name}: the form takes only names ending {endings}, "
                    "and a {kind} file cannot be given one of them. Attach it in a kind the form takes"
                ),
                name=name,
                endings=", ".join(limits.extensions or ()),
                kind=kind,
            )
    if kind not in PICTURES:
        raise unconvertible(name, kind, limits)
    from PIL import Image

    image = open_image(item.path)
    image.load()
    targets = [t for t in ("image/jpeg", "image/png") if t in limits.media_types and limits.ending(t)]
    if not targets:
        rule = ", ".join(limits.media_types) + (
            f" named {', '.join(limits.extensions)}" if limits.extensions is not None else ""
        )
        raise CannotFit(N_("{name} is an image, but the form takes only {rule}"), name=name, rule=rule)
    actions = list(item.actions)
    for target in targets:
        fmt = IMAGE_TYPES[target]
        current: PILImage = image
        while True:
            for quality in QUALITIES if fmt == "JPEG" else (None,):
                data = _encode(current, fmt, quality)
                if len(data) <= limits.max_bytes:
                    steps = list(actions)
                    if target != kind:
                        steps.append(
                            f"converted {PICTURES[kind]} to {fmt}" + (f" at quality {quality}" if quality else "")
                        )
                    elif quality:
                        steps.append(f"re-encoded as JPEG at quality {quality}")
                    else:
                        steps.append("re-encoded PNG with maximum compression")
                    if current.size != image.size:
                        steps.append(
                            f"downscaled from {image.width}×{image.height} to {current.width}×{current.height}"
                        )
                    steps.append(f"{size} → {len(data)} bytes (limit {limits.max_bytes})")
                    out = outdir / (limits.stem(name) + "-fitted" + (limits.ending(target) or EXT[target]))
                    out.write_bytes(data)
                    return Fitted(out, target, item.sources, steps)
            if current.width <= MIN_WIDTH:
                break
            width = max(MIN_WIDTH, int(current.width * 0.75))
            current = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
    raise CannotFit(
        N_("{name} stays above {limit} bytes even at {width} px wide; crop it or attach fewer pages"),
        name=name,
        limit=limits.max_bytes,
        width=MIN_WIDTH,
    )
