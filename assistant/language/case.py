"""The case: what the person tells us about their problem.

Loaded from a YAML file and/or `--set field=value` options; on a terminal,
missing required fields are asked for, one by one.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from assistant.errors import InputError
from assistant.language import yamlsource
from assistant.language.dates import TakenZone, machine_zone, parse_day, parse_moment, zone_named
from assistant.paths import home as default_home
from assistant.translation import N_, _

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # use with fullmatch: $ would let a newline through
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _one_line(value: str) -> str:
    # These go into an email's headers (Subject, From) and into a form's one-line fields as they are:
    # a line break there would start a header of the page's or the case's choosing (Bcc:).
    if CONTROL.search(value):
        raise ValueError(_("must be one line: no line breaks, tabs or control characters"))
    return value


Line = Annotated[str, AfterValidator(_one_line)]

# A case file may come from anyone (a shared example, a script): caps keep a
# hostile one to a clear error instead of a hang.
MAX_TEXT = 100_000  # characters in any one string
MAX_ITEMS = 200  # steps_taken, previous_requests
MAX_ATTACHMENTS = 50
# The largest file a case may attach, and all of them together, decided from their sizes before
# anything reads them: no provider's form takes more (a form's own limit is usually 5-25 MB), and
# every file is copied once into the run's folder and once into the evidence package.
MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
MAX_ATTACHMENTS_BYTES = 200 * 1024 * 1024


# ---------------------------------------------------------------- the person's language

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[A-Za-z]")


def text_language(texts: Iterable[str]) -> Literal["en", "ru"] | None:
    """ru when most letters of the person's own words are Cyrillic, en when most are Latin
    (a tie too); None when they hold no letters at all."""
    text = " ".join(texts)
    cyrillic, latin = len(CYRILLIC.findall(text)), len(LATIN.findall(text))
    if not cyrillic and not latin:
        return None
    return "ru" if cyrillic > latin else "en"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=MAX_TEXT, allow_inf_nan=False)


class Contacts(Strict):
    full_name: Line = Field(min_length=2, description=N_("Full name, as on the account"))
    phone: Line = Field(description=N_("Phone number tied to the account"))
    email: Line = Field(description=N_("Email address for the answer"))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.fullmatch(value):
            raise ValueError(_("'{value}' is not an email address like name@example.com").format(value=value))
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        digits = re.sub(r"\D", "", value)
        if not re.fullmatch(r"[+\d\s()\-.]+", value) or len(digits) < 10:
            raise ValueError(_("'{value}' is not a phone number with at least 10 digits").format(value=value))
        return value


class Device(Strict):
    model: Line | None = Field(None, description=N_("Device model, e.g. iPhone 13 or Samsung Galaxy S23"))
    os: Line | None = Field(None, description=N_("Operating system, e.g. iOS or Android"))
    os_version: Line | None = Field(None, description=N_("OS version, e.g. 17.5"))
    app_version: Line | None = Field(None, description=N_("App version, if the problem is in an app"))
    browser: Line | None = None


# The schema says what a file may hold: dates as people write them are text, not only ISO 8601.
AS_WRITTEN = WithJsonSchema({"type": "string"})


class PreviousRequest(Strict):
    number: Line | None = Field(
        None,
        description=N_(
            "The request number the provider gave (or the email's Message-ID); none for a request "
            "the provider accepted without giving one"
        ),
    )
    date: Annotated[dt.date, AS_WRITTEN] | None = Field(None, description=N_("When it was filed, e.g. 01.12.2026"))
    channel: str | None = Field(None, description=N_("web_form, email, phone, chat, …"))
    due: Annotated[dt.date, AS_WRITTEN] | None = Field(None, description=N_("When the answer was due"))

    @field_validator("date", "due", mode="before")
    @classmethod
    def _as_people_write_it(cls, value: Any) -> Any:
        return parse_day(value)


class Case(Strict):
    """A support request, before it is sent."""

    provider: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description=N_("Flow id of the provider, e.g. demo or kuper-support")
    )
    category: str = Field(description=N_("One of the flow's categories, e.g. payment or technical"))
    subject: Line | None = Field(None, description=N_("Short statement of the problem, 5-7 words"))
    description: str = Field(min_length=20, description=N_("What happened, in detail"))
    order_id: Line | None = Field(None, description=N_("Order or contract number"))
    account: Line | None = Field(None, description=N_("Account login, if it differs from the email"))
    # Before incident_at: pydantic validates fields in order, and incident_at's validator reads this one.
    timezone: Line | None = Field(
        None,
        description=N_(
            "Your IANA time zone, e.g. Europe/Moscow: a time written without an offset is taken in it "
            "(default: this computer's zone)"
        ),
    )
    incident_at: Annotated[AwareDatetime, AS_WRITTEN] = Field(
        description=N_(
            "When the problem happened, e.g. 20.11.2026 14:35, 20 ноября 2026 в 14:35 or "
            "2026-11-20T14:35:00+03:00; without an offset, in your timezone"
        )
    )
    steps_taken: list[str] = Field(default_factory=list, max_length=MAX_ITEMS, description=N_("What you already tried"))
    desired_outcome: str | None = Field(None, description=N_("What you want the provider to do"))
    contacts: Contacts
    device: Device | None = None
    previous_requests: list[PreviousRequest] = Field(default_factory=list, max_length=MAX_ITEMS)
    attachments: list[Path] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description=N_("Files to attach, relative to the case file")
    )
    language: Literal["en", "ru"] = Field(
        "en", description=N_("Language of the request; not given: ru when your own text is mostly Cyrillic, else en")
    )
    kind: Literal["request", "followup"] = Field(
        "request", description=N_("followup: a repeat complaint on inaction (На бездействие), citing previous_requests")
    )

    _source: Any = PrivateAttr(None)
    # Set when a run copies the attachments into its own folder (assistant.casework.attachments):
    # `attachments` then names the copies, which is all the run reads; these are the person's paths.
    _originals: list[Path] | None = PrivateAttr(None)
    _digests: dict[str, str] = PrivateAttr(default_factory=dict)
    # What each attachment was when the case was checked (identity()), by resolved path: a run
    # copies only the same file.
    _checked: dict[str, tuple[int, ...]] = PrivateAttr(default_factory=dict)
    _language_inferred: bool = PrivateAttr(False)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone_named(value)
        return value

    @field_validator("incident_at", mode="before")
    @classmethod
    def _as_people_write_it(cls, value: Any, info: ValidationInfo) -> Any:
        named = info.data.get("timezone")  # absent when it is not a zone: that error is the one to read
        return parse_moment(value, zone_named(named) if named else machine_zone())

    @model_validator(mode="after")
    def _language_of_the_text(self) -> Case:
        # A Russian person's case with no language: would otherwise give an English request
        # around Russian sentences.
        if "language" not in self.model_fields_set:
            self.language = text_language(self.own_text()) or "en"
            self._language_inferred = True
        return self

    @field_validator("attachments")
    @classmethod
    def _file_names(cls, paths: list[Path]) -> list[Path]:
        # The file system refuses these with an exception, not a "no such file".
        for path in paths:
            if not yamlsource.openable(str(path)):
                raise ValueError(_("'{path}' is not a file name this system can open").format(path=str(path)[:80]))
            if CONTROL.search(path.name):  # the name goes into an email header and a form's upload
                raise ValueError(
                    _("{path!r}: a line break or control character in the name; rename the file").format(
                        path=str(path)[:80]
                    )
                )
        return paths

    def where(self, *loc: Any) -> str:
        """`file:line:column` of a field as the case file wrote it (for messages about it)."""
        source = self._source
        if source is None:
            return "<options>"
        line, col = source.position(tuple(loc))
        return f"{source.path}:{line}:{col}"

    def own_text(self) -> list[str]:
        """What the person wrote in their own words: what their language is told from."""
        return [self.subject or "", self.description, self.desired_outcome or "", *self.steps_taken]

    def assumed_zone(self) -> str | None:
        """This computer's zone, when incident_at was written without an offset and the case
        names no timezone: the one guess about the person the case rests on."""
        zone = self.incident_at.tzinfo
        return zone.key if isinstance(zone, TakenZone) and self.timezone is None else None

    def fingerprint(self) -> str:
        """Identifies this request: the same case run twice has the same fingerprint."""
        # A case file written before `timezone:` and the language following the text keeps the
        # fingerprint it was journalled with, or the never-twice check would not know it again.
        unwritten = {"timezone"} if self.timezone is None else set()
        payload = self.model_dump(mode="json", exclude={"attachments"} | unwritten)
        if self._language_inferred:
            payload["language"] = "en"
        payload["attachments"] = [self.digest(p) for p in self.attachments]
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def digest(self, path: Path) -> str:
        """SHA-256 of an attachment, read in pieces (a case's file may be large), once per case."""
        from evidence.package import sha256_file

        key = str(path)
        if key not in self._digests:
            self._digests[key] = sha256_file(path)
        return self._digests[key]

    def with_copies(self, copies: list[Path], digests: dict[str, str]) -> Case:
        """This case with its attachments replaced by a run's copies of them (and their SHA-256,
        by path), remembering the person's own paths for the journal (as_filed)."""
        staged = self.model_copy(update={"attachments": copies})
        staged._source = self._source
        staged._originals = list(self.attachments) if self._originals is None else self._originals
        staged._digests = dict(digests)
        staged._checked = {}
        return staged

    def checked_as(self, path: Path) -> tuple[int, ...] | None:
        """The attachment's identity when the case was checked (see identity), if it was."""
        return self._checked.get(str(path))

    def as_filed(self) -> dict[str, Any]:
        """The case as the journal keeps it: with the person's own file paths, not a run's copies."""
        data = self.model_dump(mode="json")
        if self._originals is not None:
            data["attachments"] = [str(p) for p in self._originals]
        return data

    def summary(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "category": self.category,
            "subject": self.subject,
            "order_id": self.order_id,
            "incident_at": self.incident_at.isoformat(),
            "contact": self.contacts.full_name,
        }


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise InputError(_("--set {field}: '{part}' is not a group of fields").format(field=dotted, part=part))
    key = parts[-1]
    if key in ("steps_taken", "attachments") and isinstance(value, str):
        node.setdefault(key, []).append(value)
    else:
        node[key] = value


def _field_info(loc: yamlsource.Loc) -> tuple[str, type | None]:
    model: Any = Case
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return "", None
        info = fields[part]
        model = yamlsource.model_of(info.annotation)
    # The descriptions are the schema's English, marked with N_() for the prompts and messages.
    return (_(info.description) if info and info.description else ""), model


def load_case(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    defaults: dict[str, Any] | None = None,
    ask: Callable[[str, str], str] | None = None,
    home: Path | None = None,
) -> Case:
    """Load and validate a case. `ask(field, description)` fills missing fields, if given.

    Attachments in the file are relative to its folder and must stay in it;
    those given with --set are relative to the current folder (the person chose them)."""
    if path is not None:
        source = yamlsource.load(path)
        if source.data is None:
            source.data = {}
        if not isinstance(source.data, dict):
            raise InputError(_("{path}:1:1: a case file is a mapping (provider:, category:, …)").format(path=path))
        base = Path(path).resolve().parent
    else:
        source = yamlsource.Source("<options>", {})
        base = Path.cwd()
    listed = source.data.get("attachments")
    from_file = len(listed) if path is not None and isinstance(listed, list) else 0
    for key, value in (overrides or {}).items():
        _set_path(source.data, key, value)
    for key, value in (defaults or {}).items():
        source.data.setdefault(key, value)
    asked = 0
    while True:
        try:
            case = Case.model_validate(source.data)
            break
        except ValidationError as exc:
            missing = [tuple(e["loc"]) for e in exc.errors() if e["type"] == "missing"]
            if ask is None or not missing or asked > 50:
                raise yamlsource.SourceError(_case_problems(source, exc)) from None
            for loc in missing:
                description, sub = _field_info(loc)
                if sub is not None:  # a whole group is missing: ask for its fields next round
                    _set_path(source.data, ".".join(map(str, loc)), {})
                    continue
                _set_path(source.data, ".".join(map(str, loc)), ask(".".join(map(str, loc)), description))
                asked += 1
    case = _resolve_attachments(case, base, source, from_file=from_file, home=home)
    case._source = source
    return case


def _case_problems(source: yamlsource.Source, exc: ValidationError) -> list[yamlsource.Problem]:
    problems = yamlsource.problems_from(source, Case, exc)
    for problem in problems:
        if problem.kind == "timezone_aware":
            problem.message = _(
                "a date and time needs its time zone, or the deadline and your dates would be off by hours; "
                "write it like 2026-11-20T14:35:00+03:00"
            )
        if problem.kind == "missing" and problem.message == _("required; add it"):
            description, _sub = _field_info(tuple(problem.field.split(".")))
            if description:
                problem.message = _("required ({description}); add it to the case file or pass --set {field}=…")
            else:
                problem.message = _("required; add it to the case file or pass --set {field}=…")
            problem.message = problem.message.format(description=description, field=problem.field)
    return problems


# Files no attachment may come from, whoever names it: the kernel's views and devices.
SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))


def _resolve_attachments(
    case: Case, base: Path, source: yamlsource.Source, *, from_file: int = 0, home: Path | None = None
) -> Case:
    """Each attachment as a resolved regular file the person chose; see contained_attachment.
    Sizes are judged from the file system before a byte is read (a sparse 1 GB file reads fast
    and fills memory all the same)."""
    resolved = []
    identities: dict[str, tuple[int, ...]] = {}
    total = 0
    for index, path in enumerate(case.attachments):
        line, col = source.position(("attachments", index))
        in_file = index < from_file
        where = f"{source.path}:{line}:{col}: attachments[{index}]" if in_file else f"--set attachments={path}"
        full = contained_attachment(
            path, base if in_file else Path.cwd(), where, in_file=in_file, home=home, case_name=Path(source.path).name
        )
        source_fd, info = open_once(full, where, path)
        with os.fdopen(source_fd, "rb") as handle:
            size = info.st_size
            if size > MAX_ATTACHMENT_BYTES:
                raise InputError(
                    _(
                        "{where}: {path} is {size}; a case attaches files of up to {limit}: "
                        "attach the pages or the picture that show the problem"
                    ).format(where=where, path=path, size=megabytes(size), limit=megabytes(MAX_ATTACHMENT_BYTES))
                )
            total += size
            if total > MAX_ATTACHMENTS_BYTES:
                raise InputError(
                    _(
                        "{where}: with {path} the attachments come to {size}; a case attaches up to {limit} "
                        "in all: leave out what does not show the problem"
                    ).format(where=where, path=path, size=megabytes(total), limit=megabytes(MAX_ATTACHMENTS_BYTES))
                )
            try:
                head = handle.read(16)
            except OSError as exc:
                raise InputError(
                    _("{where}: cannot read {path}: {reason}").format(where=where, path=path, reason=exc.strerror)
                ) from None
            if not head:
                raise InputError(_("{where}: {path} is empty; attach the file itself").format(where=where, path=path))
            if full.suffix.lower() in IMAGE_SUFFIXES:
                handle.seek(0)
                _check_image(handle, where, path)
        identities[str(full)] = identity(info)
        resolved.append(full)
    case.attachments = resolved
    case._checked = identities
    return case


def megabytes(size: int) -> str:
    if size < 1024**3:
        return _("{size:.1f} MB").format(size=size / 1024 / 1024)
    return _("{size:.1f} GB").format(size=size / 1024**3)


def _under_system_tree(path: Path) -> bool:
    return any(path == tree or tree in path.parents for tree in SYSTEM_TREES)


def contained_attachment(
    path: Path, base: Path, where: str, *, in_file: bool, home: Path | None = None, case_name: str = "case.yaml"
) -> Path:
    """`path` resolved (symlinks followed) to a regular file a run may upload, or InputError.

    A case file may be shared, so what it names must stay in its own folder;
    nothing comes from the assistant's home (its database, keys, sessions) or
    from /proc, /sys, /dev, and nothing that is not a plain file (a FIFO would hang)."""

    outside = _("{where}: {path} is outside the case's folder; copy the file next to {case_name}").format(
        where=where, path=path, case_name=case_name
    )
    if in_file and (path.is_absolute() or ".." in path.parts or str(path).startswith("~")):
        raise InputError(outside)
    candidate = Path(path).expanduser() if not in_file else path
    full = candidate if candidate.is_absolute() else base / candidate
    system = _("{where}: {path} is a system file, not a document; attach a copy saved as a file").format(
        where=where, path=path
    )
    if _under_system_tree(full):
        raise InputError(system)
    try:
        real = full.resolve(strict=True)
    except FileNotFoundError:
        missing = (
            _("{where}: {path} does not exist (paths are relative to the case file)")
            if in_file
            else _("{where}: {path} does not exist (paths given with --set are relative to the current folder)")
        )
        raise InputError(missing.format(where=where, path=path)) from None
    except (OSError, RuntimeError) as exc:
        raise InputError(
            _("{where}: {path} cannot be resolved ({reason})").format(
                where=where, path=path, reason=getattr(exc, "strerror", None) or exc
            )
        ) from None
    if in_file and base.resolve() not in real.parents:
        raise InputError(outside)
    if _under_system_tree(real):  # again: a symlink may lead there
        raise InputError(system)
    own = (home or default_home()).expanduser()
    try:
        own = own.resolve()
    except OSError:
        pass
    # HOME/flows is the person's own flows folder (flows, their sample cases and files): no secrets there.
    if (real == own or own in real.parents) and own / "flows" not in real.parents:
        raise InputError(
            _(
                "{where}: {path} is inside the assistant's own folder ({home}), which holds its "
                "database, keys and sessions; attach a copy of the document from elsewhere"
            ).format(where=where, path=path, home=own)
        )
    mode = real.stat().st_mode
    if stat.S_ISDIR(mode):
        raise InputError(
            _("{where}: {path} is a folder; list the files in it one by one").format(where=where, path=path)
        )
    if not stat.S_ISREG(mode):
        raise InputError(_not_regular().format(where=where, path=path))
    return real


def _not_regular() -> str:
    return _("{where}: {path} is not a regular file (a device, pipe or socket); attach a saved file")


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"}


def _check_image(handle: BinaryIO, where: str, path: Path) -> None:
    """An image attachment must decode whole (a truncated or mislabelled file does not), and be
    no bigger in pixels than Pillow decodes without a warning (~89 megapixels): a 700 KB file can
    hold 13,300 × 13,300 pixels, 680 MB once decoded."""
    from PIL import Image

    if path.suffix.lower() in (".heic", ".heif"):  # the iPhone camera's photos: pillow-heif reads them
        from pillow_heif import register_heif_opener

        register_heif_opener()
    try:
        with Image.open(handle) as image:
            pixels = image.width * image.height
            if pixels > (Image.MAX_IMAGE_PIXELS or pixels):
                raise InputError(
                    _(
                        "{where}: {path} is a picture of {width} × {height} pixels; a case attaches pictures "
                        "of up to {megapixels} megapixels: export it smaller"
                    ).format(
                        where=where,
                        path=path,
                        width=image.width,
                        height=image.height,
                        megapixels=(Image.MAX_IMAGE_PIXELS or 0) // 1_000_000,
                    )
                )
            image.load()  # decodes every byte: catches truncated files that verify() lets through
    except InputError:
        raise
    except Exception as exc:  # Pillow raises several types for broken files
        problem = str(exc).split("\n")[0] or type(exc).__name__
        raise InputError(
            _("{where}: {path} cannot be opened as an image ({problem}); export it again as PNG or JPEG").format(
                where=where, path=path, problem=problem
            )
        ) from None


def identity(info: os.stat_result) -> tuple[int, ...]:
    """What tells that a file is still the one that was checked: the same file, size and time."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def open_once(path: Path, where: str, shown: Path | str | None = None) -> tuple[int, os.stat_result]:
    """(file descriptor, its stat) of an attachment, opened without following a link in its last
    part and without waiting on a pipe, and checked to be the regular file at `path` (a folder on
    its way swapped for a link shows in where the kernel says it is) with no other name on this
    disk (a hard link would take a file from outside the case's folder, the home's keys among
    them). Raises InputError saying what changed."""
    shown = shown if shown is not None else path
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                _(
                    "{where}: {path} changed after the case was checked (it is now a link); nothing was sent: "
                    "check the case's folder"
                ).format(where=where, path=shown)
            ) from None
        raise InputError(
            _("{where}: cannot read {path}: {reason}").format(where=where, path=shown, reason=exc.strerror)
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(_not_regular().format(where=where, path=shown))
        opened = _path_of(fd)
        if opened is not None and opened != path:
            raise InputError(
                _(
                    "{where}: {path} changed after the case was checked (a folder on its way now leads to "
                    "{opened}); nothing was sent"
                ).format(where=where, path=shown, opened=opened)
            )
        if info.st_nlink > 1:
            raise InputError(
                _(
                    "{where}: {path} has {count} names on this disk (a hard link), so it may be a file "
                    "from elsewhere; attach a copy of it instead"
                ).format(where=where, path=shown, count=info.st_nlink)
            )
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _path_of(fd: int) -> Path | None:
    """The path an open file has now, as the kernel knows it; None where it cannot tell."""
    if sys.platform.startswith("linux"):
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return None
    if sys.platform == "darwin":
        import fcntl

        try:
            raw = fcntl.fcntl(fd, 50, b"\0" * 1024)  # F_GETPATH
            return Path(raw.split(b"\0", 1)[0].decode())
        except OSError:
            return None
    return None


def schema() -> dict[str, Any]:
    return Case.model_json_schema()
