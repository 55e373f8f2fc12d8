"""Check a package, folder or zip: every hash, the signature, the timestamp token.

Every problem names the file it is about, so a person can see at once what
was changed, removed or slipped in.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from pydantic import ValidationError

from . import credentials, keys, tsa
from .bundle import UnsafeArchive, files_of, safe_extract
from .manifest import Manifest
from .package import (
    CAPTURED_SUMS,
    CAPTURED_TOKEN,
    FIRST_SUMS,
    LATER,
    MANIFEST,
    MAX_AUTHORITIES,
    PUBLIC_KEY,
    SEAL,
    SIGNATURE,
    SUMS,
    SUMS_SIGNATURE,
    captured_token,
    first_token,
    manifest_token,
    sha256_file,
)

# Control characters and line breaks: a name from a hostile zip must not split a message
# or drive the terminal it is printed on.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown(text: str) -> str:
    """text on one line, its control characters as escapes (\\x1b)."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass
class Problem:
    file: str
    what: str

    def __str__(self) -> str:
        return shown(f"{self.file}: {self.what}")


@dataclass
class Result:
    path: str
    problems: list[Problem] = field(default_factory=list)
    checked_files: int = 0
    signer: str | None = None
    key_checked: bool = False  # the signer is the key the reader expected (--key)
    key_named_in: str | None = None  # where the package's request names the signer's key ("field description")
    key_sent: bool = False  # ... in what it records as sent to the provider, not only the text composed
    timestamp: str | None = None
    timestamp_authority: str | None = None  # the URL the manifest says was asked
    timestamp_signer: str | None = None  # who signed the token: its certificate's subject
    tsa_trusted: bool = False
    timestamps: list[dict[str, Any]] = field(default_factory=list)  # each token on manifest.json, checked
    later: list[dict[str, Any]] = field(default_factory=list)  # tokens added after sealing (later/), checked
    credentials: int = 0  # captures whose C2PA content credentials were checked and hold
    notes: list[str] = field(default_factory=list)  # worth saying, not a failure
    manifest: Manifest | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.manifest is not None

    def add(self, file: str, what: str) -> None:
        self.problems.append(Problem(file, what))

    @property
    def key_pinned_by(self) -> str | None:
        """What binds the signer's key to the person: the key the reader gave (--key), or the
        request sent to the provider naming it (their own copy of it says the same)."""
        if self.key_checked:
            return "--key"
        return "request" if self.key_sent else None

    @property
    def untimed(self) -> bool:
        """No authority vouches for when the package was made (package.UNTIMED says what then)."""
        return not self.timestamps

    def public(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "checked_files": self.checked_files,
            "signer_fingerprint": self.signer,
            "key_checked": self.key_checked,
            "key_pinned_by": self.key_pinned_by,
            "key_named_in": self.key_named_in,
            "timestamp": self.timestamp,
            "timestamp_authority": self.timestamp_authority,
            "timestamp_signer": self.timestamp_signer,
            "tsa_trusted": self.tsa_trusted,
            "timestamps": self.timestamps,
            "later": self.later,
            "content_credentials": self.credentials,
            "untimed": self.untimed,
            "notes": self.notes,
            "problems": [{"file": p.file, "problem": p.what} for p in self.problems],
        }


def verify(path: str | Path, *, tsa_ca: list[bytes] | None = None, expect_key: str | None = None) -> Result:
    """expect_key: a fingerprint (hex) the signer must have. tsa_ca: CA certificates the
    timestamp authority must chain to. Whatever the folder or zip holds, the answer is a
    Result: a hostile package is a list of problems, never an exception."""
    path = Path(path)
    try:
        with unpacked(path) as root:
            result = verify_folder(root, tsa_ca=tsa_ca, expect_key=expect_key)
            result.path = str(path)
            return result
    except UnsafeArchive as exc:
        result = Result(str(path))
        result.add(path.name, f"refused to unpack: {exc}")
    except NotAPackage as exc:
        result = Result(str(path))
        result.add(path.name, str(exc))
    return result


class NotAPackage(ValueError):
    """Neither a package folder nor a zip of one."""


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The package's folder: the folder itself, or a zip unpacked safely (evidence.bundle) into a
    temporary folder that is removed afterwards. UnsafeArchive for a zip that is not safe."""
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="evidence-") as tmp:
            yield safe_extract(path, Path(tmp) / "package")
        return
    if not path.is_dir():
        raise NotAPackage("not a package folder or a zip")
    yield path


class ManifestError(ValueError):
    """manifest.json is not one this tool could have made; `reason` says why, in a few words."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


MAX_MANIFEST = 64 * 1024**2  # a manifest of a long run is well under 1 MiB
MAX_TOKEN = 1024**2  # an RFC 3161 answer with its certificates: a few KiB
MAX_KEY_FILE = 64 * 1024  # a key, a signature, a certificate: under 2 KiB


def read_small(path: Path, limit: int) -> bytes:
    """A file the package keeps small, read whole only when it is: a forged package's 100 GB
    SHA256SUMS is refused by its size, not read into memory."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafeArchive(f"{path.name}: more than {limit} bytes, not a file this tool makes")
    return data


def _inside(root: Path, name: str) -> bool:
    """name is a path inside the package (a manifest can name any path: it is checked before use)."""
    try:
        return not Path(name).is_absolute() and (root / name).resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def verify_folder(root: Path, *, tsa_ca: list[bytes] | None = None, expect_key: str | None = None) -> Result:
    result = Result(str(root))
    try:
        _verify_folder(root, result, tsa_ca, expect_key)
    except UnsafeArchive as exc:
        result.add(root.name, str(exc))
    except OSError as exc:  # a file that cannot be read (permissions), a name the system refuses
        where = Path(exc.filename).name if exc.filename else root.name
        result.add(str(where), f"cannot be read ({exc.strerror or exc})")
    return result


def read_manifest(root: Path) -> tuple[Manifest, bytes]:
    """The package's manifest and its bytes (what the signature covers). OSError when it cannot be
    read, ManifestError when it is not a manifest."""
    with (root / MANIFEST).open("rb") as handle:
        text = handle.read(MAX_MANIFEST + 1)
    if len(text) > MAX_MANIFEST:
        raise ManifestError(
            f"more than {MAX_MANIFEST} bytes: not a manifest this tool made",
            f"more than {MAX_MANIFEST} bytes",
        )
    try:
        return Manifest.model_validate(json.loads(text)), text
    except (ValueError, ValidationError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, ValidationError) and exc.errors():  # the first error, not "1 validation error for …"
            first = exc.errors()[0]
            where, said = ".".join(str(part) for part in first["loc"]), first["msg"].removeprefix("Value error, ")
            reason = f"{where}: {said}" if where else said
        raise ManifestError(f"not a valid manifest ({reason})", reason) from None


def _verify_folder(root: Path, result: Result, tsa_ca: list[bytes] | None, expect_key: str | None) -> None:
    on_disk = set(files_of(root))
    if MANIFEST not in on_disk:
        result.add(MANIFEST, "missing")
        return
    try:
        manifest, text = read_manifest(root)
    except ManifestError as exc:
        result.add(MANIFEST, str(exc))
        return
    result.manifest = manifest
    _check_sums(root, manifest, on_disk, result)
    _check_signature(root, manifest, text, result, expect_key)
    _check_named_key(manifest, result)
    _check_timestamp(root, manifest, text, result, tsa_ca)
    _check_captured(root, manifest, result, tsa_ca)
    _check_first(root, manifest, result, tsa_ca)
    _check_later(root, manifest, text, on_disk, result, tsa_ca)
    listed = {f.path for f in manifest.files}
    for entry in manifest.files:
        target = root / entry.path
        if entry.path not in on_disk:
            result.add(entry.path, "missing (listed in manifest.json)")
            continue
        if target.stat().st_size != entry.size or sha256_file(target) != entry.sha256:
            result.add(entry.path, "changed: its SHA-256 is not the one in manifest.json")
        result.checked_files += 1
    for extra in sorted(on_disk - listed - set(SEAL) - set(_later_tokens(on_disk))):
        result.add(extra, "extra: not listed in manifest.json")
    _check_credentials(root, manifest, on_disk, result)


def _check_credentials(root: Path, manifest: Manifest, on_disk: set[str], result: Result) -> None:
    """The C2PA content credentials the manifest says each capture carries: there, whole (the file
    is the one they were signed over) and signed under signer.cert.pem, a certificate of the key
    that signed the package. A package made without them says so by naming none."""
    carrying = [f for f in manifest.files if f.content_credentials is not None and f.path in on_disk]
    if not carrying or result.signer is None:  # no key to hold them to: the signature's problem says why
        return
    if not credentials.available():
        result.notes.append(
            f"the content credentials of {len(carrying)} capture(s) were not checked: c2pa-python cannot be loaded"
        )
        return
    if {f.content_credentials for f in carrying} != {credentials.CERTIFICATE}:
        result.add(MANIFEST, "names an unexpected certificate for the captures' content credentials")
        return
    if credentials.CERTIFICATE not in on_disk:
        result.add(credentials.CERTIFICATE, "missing (the captures' content credentials are signed under it)")
        return
    cert = read_small(root / credentials.CERTIFICATE, MAX_KEY_FILE)
    problem = credentials.certificate_problem(cert, result.signer)
    if problem is not None:
        result.add(credentials.CERTIFICATE, problem)
        return
    for entry in carrying:
        target = root / entry.path
        if target.stat().st_size > credentials.MAX_CHECKED:  # not read whole: no capture is that large
            result.add(entry.path, f"{target.stat().st_size} bytes: too large for a capture, its credentials not read")
            continue
        problem = credentials.check(target.read_bytes(), entry, cert)
        if problem is None:
            result.credentials += 1
        else:
            result.add(entry.path, problem)


def _check_sums(root: Path, manifest: Manifest, on_disk: set[str], result: Result) -> None:
    if SUMS not in on_disk:
        result.add(SUMS, "missing")
        return
    expected = {f.path: f.sha256 for f in manifest.files}
    named: set[str] = set()
    text = read_small(root / SUMS, MAX_MANIFEST).decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            result.add(SUMS, f"line {number} is not 'HASH  PATH'")
            continue
        named.add(name)
        if name in SEAL or _is_later(name):
            if name not in on_disk:
                result.add(name, f"missing (listed in {SUMS})")
            elif (root / name).stat().st_size > MAX_MANIFEST:  # hashing a forged 100 GB file takes minutes
                result.add(name, f"more than {MAX_MANIFEST} bytes, not a file this tool makes")
            elif sha256_file(root / name) != digest:
                result.add(name, f"changed: its SHA-256 is not the one in {SUMS}")
        elif name not in expected:
            result.add(SUMS, f"line {number} names {name}, which manifest.json does not list")
        elif expected[name] != digest:
            result.add(SUMS, f"line {number}: the hash of {name} differs from manifest.json")
    for name in sorted(set(expected) - named):
        result.add(SUMS, f"does not list {name}")
    for name in [*SEAL, *_later_tokens(on_disk)]:
        if name not in (SUMS, SUMS_SIGNATURE) and name in on_disk and name not in named:
            result.add(SUMS, f"does not list {name}")


def _check_signature(root: Path, manifest: Manifest, text: bytes, result: Result, expect_key: str | None) -> None:
    if manifest.signer is None:
        result.add(MANIFEST, "names no signer: the package is not signed")
        return
    pub, sig = root / manifest.signer.public_key, root / manifest.signer.signature
    if manifest.signer.public_key != PUBLIC_KEY or manifest.signer.signature != SIGNATURE:
        result.add(MANIFEST, "names unexpected signature files")
        return
    if not pub.is_file():
        result.add(PUBLIC_KEY, "missing")
        return
    if not sig.is_file():
        result.add(SIGNATURE, "missing")
        return
    pem = read_small(pub, MAX_KEY_FILE)
    try:
        actual = keys.fingerprint(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        result.add(PUBLIC_KEY, "not an Ed25519 public key (PEM)")
        return
    result.signer = actual
    if actual != manifest.signer.fingerprint:
        result.add(PUBLIC_KEY, f"is not the key manifest.json names ({manifest.signer.fingerprint[:16]}…): key swapped")
    expected = expect_key.lower().replace(":", "") if expect_key else None
    if expected and actual != expected:
        result.add(PUBLIC_KEY, f"signed by {actual[:16]}…, not the expected key {expected[:16]}…")
    result.key_checked = actual == expected
    if not keys.verify(pem, read_small(sig, MAX_KEY_FILE), text):
        result.add(SIGNATURE, "does not verify: manifest.json or the signature was changed, or the key swapped")
    _check_sums_signature(root, manifest, pem, result)


def _check_named_key(manifest: Manifest, result: Result) -> None:
    """Whose key: a request this tool files names the key that signs its package
    (`keys.named`), so the provider's own copy of the request says whose package is theirs.
    What left the browser naming the signer's key pins it: the form's request as sent, or, when
    no request was seen, the form's fields at the click of one the provider took. Naming another
    key means the package was signed again with someone else's. The text composed alone (an
    email, a dry run, a form with no record) names the key but does not pin it."""
    signer = result.signer
    if signer is None:
        return
    # (what it is, where in it, its text, whether the provider has it), what was sent first
    texts: list[tuple[str, str, str, bool]] = []
    form = manifest.form
    if form is not None and form.request is not None and (form.request.parts or form.request.text):
        said = "the request sent to the provider"
        texts += [(said, f"field {p.name}", p.value, True) for p in form.request.parts if p.value and not p.masked]
        if form.request.text:
            texts.append((said, "request body", form.request.text, True))
    elif form is not None:
        taken = manifest.submission is not None and manifest.submission.outcome in ("confirmed", "accepted")
        for entry in form.fields:
            values = entry.value if isinstance(entry.value, list) else [entry.value]
            where = f"field {entry.name or entry.label or entry.type}"
            texts += [("the form submitted", where, v, taken) for v in values if v and not entry.masked]
    # The text the tool composed: not a record of what was sent (an email's, a dry run's).
    texts.append(
        ("the request's text", "manifest.json request.body", (manifest.request or {}).get("body") or "", False)
    )
    for said, where, text, sent in texts:
        for named in keys.named_in(text):
            if named != signer:
                result.add(
                    PUBLIC_KEY,
                    f"signed by {signer[:16]}…, but {said} ({where}) names key {named[:16]}…: "
                    "the package was signed again with another key",
                )
                return
            if result.key_named_in is None:
                result.key_named_in, result.key_sent = where, sent


def _check_sums_signature(root: Path, manifest: Manifest, pem: bytes, result: Result) -> None:
    """SHA256SUMS.sig is what makes the by-hand check hold: without it a forger rewrites a
    line of SHA256SUMS and `sha256sum -c` passes. Packages made before it existed name none."""
    assert manifest.signer is not None
    named = manifest.signer.sums_signature
    if named is not None and named != SUMS_SIGNATURE:
        result.add(MANIFEST, "names an unexpected signature file for SHA256SUMS")
        return
    sig = root / SUMS_SIGNATURE
    if not sig.is_file():
        if named:
            result.add(SUMS_SIGNATURE, "missing: SHA256SUMS is not signed, the by-hand check cannot hold")
        return
    sums = root / SUMS
    if sums.is_file() and not keys.verify(pem, read_small(sig, MAX_KEY_FILE), read_small(sums, MAX_MANIFEST)):
        result.add(SUMS_SIGNATURE, "does not verify: SHA256SUMS was changed after it was signed")


# How far a token may be dated before the manifest it stamps: the machine's clock and the
# authority's disagree by seconds, rarely by more; weeks mean a backdated token.
CLOCK_SLACK = timedelta(minutes=2)
TOKEN_WINDOW = timedelta(minutes=10)


def _token(root: Path, name: str, data: bytes, result: Result, tsa_ca: list[bytes] | None, missing: str) -> Any:
    """The token `name` checked over data (tsa.TokenInfo), or None with its problem added."""
    if not _inside(root, name):
        result.add(shown(name), "not a file of this package: manifest.json names a path outside it")
        return None
    token = root / name
    if not token.is_file():
        result.add(name, f"missing ({missing})")
        return None
    try:
        return tsa.check(read_small(token, MAX_TOKEN), data, trusted_ca=tsa_ca)
    except tsa.TimestampError as exc:
        result.add(name, str(exc))
        return None


def _manifest_tokens(manifest: Manifest) -> list[tuple[str, str]]:
    """(token file, authority) for every authority the manifest names; older packages name one."""
    named = manifest.timestamp_authorities or ([manifest.timestamp_authority] if manifest.timestamp_authority else [])
    return [(manifest_token(index), url) for index, url in enumerate(named)]


def _check_timestamp(root: Path, manifest: Manifest, text: bytes, result: Result, tsa_ca: list[bytes] | None) -> None:
    """Each authority's token on manifest.json: there when named, over these bytes, not dated
    before the package says it was made (a backdating authority, unless its CA is trusted)
    nor long after (times moved back)."""
    tokens = _manifest_tokens(manifest)
    result.timestamp_authority = manifest.timestamp_authority
    for stray in sorted({manifest_token(i) for i in range(MAX_AUTHORITIES)} - {name for name, _ in tokens}):
        if (root / stray).is_file():
            result.add(stray, "a token no authority named in manifest.json gave")
    for name, url in tokens:
        info = _token(root, name, text, result, tsa_ca, f"manifest.json says {url} was asked")
        if info is None:
            continue
        if not result.timestamps:
            result.timestamp = info.gen_time.isoformat()
            result.timestamp_signer = info.tsa_subject
        result.timestamps.append(
            {"file": name, "authority": url, "time": info.gen_time.isoformat(), "signer": info.tsa_subject,
             "trusted": info.trusted}
        )  # fmt: skip
        result.tsa_trusted = all(stamp["trusted"] for stamp in result.timestamps)
        early = manifest.created_at - info.gen_time
        if early > CLOCK_SLACK:
            said = (
                f"dated {info.gen_time:%Y-%m-%d %H:%M:%S} UTC by {info.tsa_subject}, {_span(early)} before the "
                f"package says it was made ({manifest.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
            )
            if info.trusted:  # the authority's time is the one to believe: the machine's clock was ahead
                result.notes.append(f"{name}: {said}; the clock of the machine that made it was ahead")
            else:
                result.add(name, f"{said}: a backdated token; check its authority with --tsa-ca FILE")
        _check_window(name, info.gen_time, manifest.created_at, "the package says it was sealed", result)


def _check_window(name: str, gen_time: datetime, claimed: datetime, what: str, result: Result) -> None:
    """A token is asked for right after what it covers: one dated much later than the times the
    package claims says those times were moved back (or the token fetched long after, or taken
    from another package). Within TOKEN_WINDOW of them (WACZ's signing spec: 10 minutes) it
    holds. A machine whose clock was that far behind made times that are not true either:
    sealing warns of it (the clock check against the authority)."""
    late = gen_time - claimed
    if late > TOKEN_WINDOW:
        result.add(
            name,
            f"dated {gen_time.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, {_span(late)} after {what} "
            f"({claimed.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; at most {_span(TOKEN_WINDOW)} may pass): "
            "the times in the package are not the times it was made",
        )


def _captured_stamps(manifest: Manifest) -> list[tuple[str, datetime]]:
    """(token file, the time the manifest gives it) for each token on the captured files."""
    times = manifest.times
    if times is None:
        return []
    if times.stamps:
        return [(stamp.token, stamp.time) for stamp in times.stamps]
    return [(CAPTURED_TOKEN, times.authority_time)] if times.authority_time else []  # older packages: one


def _is_later(name: str) -> bool:
    return re.fullmatch(rf"{LATER}/manifest-[1-9][0-9]?\.tsr", name) is not None


def _later_tokens(on_disk: set[str]) -> list[str]:
    return sorted(name for name in on_disk if _is_later(name))


def _check_later(
    root: Path, manifest: Manifest, text: bytes, on_disk: set[str], result: Result, tsa_ca: list[bytes] | None
) -> None:
    """later/manifest-N.tsr, added by `assistant evidence timestamp` after sealing: each over
    manifest.json. It proves the package existed by its time, and nothing about the times the
    package claims before that: said so, not failed. (SHA256SUMS must list each.)"""
    for name in _later_tokens(on_disk):
        try:
            info = tsa.check(read_small(root / name, MAX_TOKEN), text, trusted_ca=tsa_ca)
        except tsa.TimestampError as exc:
            result.add(name, str(exc))
            continue
        late = info.gen_time - manifest.created_at
        if late < -CLOCK_SLACK and not info.trusted:
            result.add(name, f"dated {_span(-late)} before the package says it was made: a backdated token")
            continue
        result.later.append(
            {"file": name, "time": info.gen_time.isoformat(), "signer": info.tsa_subject, "trusted": info.trusted,
             "after": _span(max(late, timedelta(0)))}
        )  # fmt: skip


def _check_first(root: Path, manifest: Manifest, result: Result, tsa_ca: list[bytes] | None) -> None:
    """report/first-capture*.tsr: each authority's timestamp on the first capture's line, asked
    as it was taken. The line must be a file of this package as the manifest hashes it, and the
    token must follow that capture's claimed time closely: the run began when it says."""
    stamps = manifest.times.first_stamps if manifest.times else []
    named = {stamp.token for stamp in stamps}
    for stray in (first_token(i) for i in range(MAX_AUTHORITIES)):
        if stray not in named and (root / stray).is_file():
            result.add(stray, "a token on the first capture that manifest.json does not give")
    if not stamps:
        return
    sums = root / FIRST_SUMS
    if not sums.is_file():
        result.add(FIRST_SUMS, "missing (the first capture's timestamps are on it)")
        return
    data = read_small(sums, MAX_MANIFEST)
    digest, _, path = data.decode("utf-8", "replace").rstrip("\n").partition("  ")
    entry = next((f for f in manifest.files if f.path == path), None)
    if entry is None or entry.sha256 != digest or data.count(b"\n") != 1:
        result.add(FIRST_SUMS, f"{shown(path)}: not this package's file as manifest.json hashes it")
        return
    for stamp in stamps:
        info = _token(root, stamp.token, data, result, tsa_ca, "manifest.json gives its time")
        if info is None:
            continue
        if abs(info.gen_time - stamp.time) > timedelta(seconds=1):
            result.add(stamp.token, "its time is not the one manifest.json gives for the first capture")
        if entry.captured_at is not None:
            _check_window(stamp.token, info.gen_time, entry.captured_at, "the first capture says it was taken", result)


def _check_captured(root: Path, manifest: Manifest, result: Result, tsa_ca: list[bytes] | None) -> None:
    """report/captured*.tsr: the authorities' timestamps on the list of the files captured before
    the report. The list must be this package's own files as the manifest hashes them, each token
    must be over that list and be dated as the manifest (and the report) says, and follow the
    captures' claimed times closely."""
    stamps = _captured_stamps(manifest)
    named = {token for token, _ in stamps}
    for stray in (captured_token(i) for i in range(MAX_AUTHORITIES)):
        if stray not in named and (root / stray).is_file():
            result.add(stray, "a token on the captured files that manifest.json does not give")
    if not stamps:
        return
    sums = root / CAPTURED_SUMS
    if not sums.is_file():
        result.add(CAPTURED_SUMS, "missing (the captured files' timestamps are on it)")
        return
    data = read_small(sums, MAX_MANIFEST)
    by_path = {f.path: f for f in manifest.files}
    covered = []
    for line in data.decode("utf-8", "replace").splitlines():
        digest, _, path = line.partition("  ")
        entry = by_path.get(path)
        if entry is None or entry.sha256 != digest:
            result.add(CAPTURED_SUMS, f"{shown(path)}: not this package's file as manifest.json hashes it")
            return
        covered.append(entry)
    last = max((f.captured_at for f in covered if f.captured_at is not None), default=None)
    for name, when in stamps:
        info = _token(root, name, data, result, tsa_ca, f"manifest.json gives its time, {when:%Y-%m-%d %H:%M:%S} UTC")
        if info is None:
            continue
        if abs(info.gen_time - when) > timedelta(seconds=1):
            result.add(name, "its time is not the one manifest.json gives for the captured files")
        if last is not None:
            _check_window(name, info.gen_time, last, "the last capture it covers", result)


def _span(delta: timedelta) -> str:
    # Rounded, not floored: a token made a second after "21 days ago" is 21 days early, not 20.
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = (seconds + size // 2) // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
