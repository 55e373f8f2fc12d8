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

from . import keys, tsa
from .bundle import UnsafeArchive, files_of, safe_extract
from .manifest import Manifest
from .package import (
    CAPTURED_SUMS,
    CAPTURED_TOKEN,
    MANIFEST,
    PUBLIC_KEY,
    SEAL,
    SIGNATURE,
    SUMS,
    SUMS_SIGNATURE,
    TIMESTAMP,
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
    timestamp: str | None = None
    timestamp_authority: str | None = None  # the URL the manifest says was asked
    timestamp_signer: str | None = None  # who signed the token: its certificate's subject
    tsa_trusted: bool = False
    notes: list[str] = field(default_factory=list)  # worth saying, not a failure
    manifest: Manifest | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.manifest is not None

    def add(self, file: str, what: str) -> None:
        self.problems.append(Problem(file, what))

    def public(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "checked_files": self.checked_files,
            "signer_fingerprint": self.signer,
            "key_checked": self.key_checked,
            "timestamp": self.timestamp,
            "timestamp_authority": self.timestamp_authority,
            "timestamp_signer": self.timestamp_signer,
            "tsa_trusted": self.tsa_trusted,
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
    text = (root / MANIFEST).read_bytes()
    if len(text) > MAX_MANIFEST:
        raise ManifestError(
            f"{len(text)} bytes: not a manifest this tool made (at most {MAX_MANIFEST})",
            f"{len(text)} bytes, more than {MAX_MANIFEST}",
        )
    try:
        return Manifest.model_validate(json.loads(text)), text
    except (ValueError, ValidationError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
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
    _check_timestamp(root, manifest, text, result, tsa_ca)
    _check_captured(root, manifest, result, tsa_ca)
    listed = {f.path for f in manifest.files}
    for entry in manifest.files:
        target = root / entry.path
        if entry.path not in on_disk:
            result.add(entry.path, "missing (listed in manifest.json)")
            continue
        if target.stat().st_size != entry.size or sha256_file(target) != entry.sha256:
            result.add(entry.path, "changed: its SHA-256 is not the one in manifest.json")
        result.checked_files += 1
    for extra in sorted(on_disk - listed - set(SEAL)):
        result.add(extra, "extra: not listed in manifest.json")


def _check_sums(root: Path, manifest: Manifest, on_disk: set[str], result: Result) -> None:
    if SUMS not in on_disk:
        result.add(SUMS, "missing")
        return
    expected = {f.path: f.sha256 for f in manifest.files}
    named: set[str] = set()
    for number, line in enumerate((root / SUMS).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            result.add(SUMS, f"line {number} is not 'HASH  PATH'")
            continue
        named.add(name)
        if name in SEAL:
            if name not in on_disk:
                result.add(name, f"missing (listed in {SUMS})")
            elif sha256_file(root / name) != digest:
                result.add(name, f"changed: its SHA-256 is not the one in {SUMS}")
        elif name not in expected:
            result.add(SUMS, f"line {number} names {name}, which manifest.json does not list")
        elif expected[name] != digest:
            result.add(SUMS, f"line {number}: the hash of {name} differs from manifest.json")
    for name in sorted(set(expected) - named):
        result.add(SUMS, f"does not list {name}")
    for name in (MANIFEST, SIGNATURE, PUBLIC_KEY, TIMESTAMP):
        if name in on_disk and name not in named:
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
    pem = pub.read_bytes()
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
    if not keys.verify(pem, sig.read_bytes(), text):
        result.add(SIGNATURE, "does not verify: manifest.json or the signature was changed, or the key swapped")
    _check_sums_signature(root, manifest, pem, result)


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
    if sums.is_file() and not keys.verify(pem, sig.read_bytes(), sums.read_bytes()):
        result.add(SUMS_SIGNATURE, "does not verify: SHA256SUMS was changed after it was signed")


# How far a token may be dated before the manifest it stamps: the machine's clock and the
# authority's disagree by seconds, rarely by more; weeks mean a backdated token.
CLOCK_SLACK = timedelta(minutes=2)
TOKEN_WINDOW = timedelta(minutes=10)


def _check_timestamp(root: Path, manifest: Manifest, text: bytes, result: Result, tsa_ca: list[bytes] | None) -> None:
    token = root / TIMESTAMP
    result.timestamp_authority = manifest.timestamp_authority
    if not token.is_file():
        if manifest.timestamp_authority:
            result.add(TIMESTAMP, f"missing (manifest.json says {manifest.timestamp_authority} was asked)")
        return
    try:
        info = tsa.check(token.read_bytes(), text, trusted_ca=tsa_ca)
    except tsa.TimestampError as exc:
        result.add(TIMESTAMP, str(exc))
        return
    result.timestamp = info.gen_time.isoformat()
    result.timestamp_signer = info.tsa_subject
    result.tsa_trusted = info.trusted
    early = manifest.created_at - info.gen_time
    if early > CLOCK_SLACK:
        said = (
            f"dated {info.gen_time:%Y-%m-%d %H:%M:%S} UTC by {info.tsa_subject}, {_span(early)} before the package "
            f"says it was made ({manifest.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
        )
        if info.trusted:  # the authority's time is the one to believe: the machine's clock was ahead
            result.notes.append(f"{TIMESTAMP}: {said}; the clock of the machine that made it was ahead")
        else:
            result.add(TIMESTAMP, f"{said}: a backdated token; check its authority with --tsa-ca FILE")
    _check_window(TIMESTAMP, info.gen_time, manifest.created_at, "the package says it was sealed", result)


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


def _check_captured(root: Path, manifest: Manifest, result: Result, tsa_ca: list[bytes] | None) -> None:
    """report/captured.tsr: the authority's timestamp on the list of the files captured before the
    report. The list must be this package's own files as the manifest hashes them, the token must
    be over that list and be the one the manifest (and the report) gives the time of, and its time
    must follow the captures' claimed times closely."""
    named = manifest.times.authority_time if manifest.times else None
    token, sums = root / CAPTURED_TOKEN, root / CAPTURED_SUMS
    if not token.is_file():
        if named is not None:
            result.add(
                CAPTURED_TOKEN, f"missing (manifest.json gives its time, {named.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
            )
        return
    if not sums.is_file():
        result.add(CAPTURED_SUMS, "missing (report/captured.tsr is a timestamp on it)")
        return
    data = sums.read_bytes()
    try:
        info = tsa.check(token.read_bytes(), data, trusted_ca=tsa_ca)
    except tsa.TimestampError as exc:
        result.add(CAPTURED_TOKEN, str(exc))
        return
    if named is None or abs(info.gen_time - named) > timedelta(seconds=1):
        result.add(CAPTURED_TOKEN, "its time is not the one manifest.json gives for the captured files")
    by_path = {f.path: f for f in manifest.files}
    covered = []
    for line in data.decode("utf-8", "replace").splitlines():
        digest, _, path = line.partition("  ")
        entry = by_path.get(path)
        if entry is None or entry.sha256 != digest:
            result.add(CAPTURED_SUMS, f"{shown(path)}: not this package's file as manifest.json hashes it")
            return
        covered.append(entry)
    times = [f.captured_at for f in covered if f.captured_at is not None]
    if times:
        _check_window(CAPTURED_TOKEN, info.gen_time, max(times), "the last capture it covers", result)


def _span(delta: timedelta) -> str:
    # Rounded, not floored: a token made a second after "21 days ago" is 21 days early, not 20.
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = (seconds + size // 2) // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
