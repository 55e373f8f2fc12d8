"""Writing an evidence package: every file is hashed as it is written, then the whole is sealed.

Layout of a finished package:
  manifest.json    what, when, where, with the SHA-256 of every other file
  manifest.sig     Ed25519 signature over the bytes of manifest.json
  signer.pub.pem   the public key that makes it
  manifest.tsr     RFC 3161 timestamp response for SHA-256(manifest.json) (with --tsa)
  SHA256SUMS       every file but itself and its signature, for `sha256sum -c`
  SHA256SUMS.sig   Ed25519 signature over the bytes of SHA256SUMS: the by-hand check
                   (docs/evidence.md) checks it first, so a rewritten line cannot pass `sha256sum -c`
  report.html, report.pdf, report/contact-sheet.jpg, screenshots/, pages/, logs/, …
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .manifest import (
    Action,
    Environment,
    FileEntry,
    Fitting,
    FlowRef,
    Manifest,
    SignerRef,
    SubmissionRef,
    SubmittedForm,
    Times,
)

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SUMS_SIGNATURE = "SHA256SUMS.sig"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signer.pub.pem"
TIMESTAMP = "manifest.tsr"
SEAL = (MANIFEST, SIGNATURE, PUBLIC_KEY, TIMESTAMP, SUMS, SUMS_SIGNATURE)
# The files captured before the report, listed as `sha256sum` does, and the authority's
# timestamp on that list: the captures existed by then (finish() asks for it).
CAPTURED_SUMS = "report/captured.sums"
CAPTURED_TOKEN = "report/captured.tsr"

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from .keys import Signer


def manifest_bytes(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


WRITES_IN_FLIGHT = 16


def _write_file(target: Path, data: bytes) -> None:
    """Write and fsync: evidence that was reported written is on the disk."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_file(target: Path, data: bytes) -> None:
    """Write whole or not at all: a seal file (manifest, signature, SHA256SUMS) cut short by a
    crash would claim what it cannot show. Written beside, fsynced, then renamed over the name."""
    partial = target.with_name(f".{target.name}.partial")
    _write_file(partial, data)
    os.replace(partial, target)
    try:
        folder = os.open(target.parent, os.O_RDONLY)
    except OSError:  # a system that cannot open a folder (Windows) keeps the rename without it
        return
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class EvidencePackage:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.files: list[FileEntry] = []
        self._writer: ThreadPoolExecutor | None = None  # a one-thread pool once write_behind() is called
        self._pending: list[Future[None]] = []
        # Stamped copies already made small for the report's contact sheet (report.thumbnail),
        # by path: made while a run went on, instead of after it.
        self.thumbnails: dict[str, Any] = {}

    def write_behind(self) -> None:
        """From now on add_bytes records the file (hash, size) at once and writes it to disk
        on a thread of its own, in order, while the caller goes on (a browser run).

        flush() waits for the writes and raises the first that failed; finish() and
        bundle() flush first, and so should anyone about to read the files or to do
        something that cannot be undone without them."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-writer")

    def flush(self) -> None:
        """Wait until every file added so far is on disk; raise the first write that failed."""
        pending, self._pending = self._pending, []
        errors = [exc for exc in (future.exception() for future in pending) if exc is not None]
        if errors:
            raise errors[0]

    def _target(self, relpath: str) -> Path:
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or relpath in SEAL:
            raise ValueError(f"evidence path must stay inside the package: {relpath!r}")
        return self.root.joinpath(*rel.parts)

    def add_bytes(
        self,
        relpath: str,
        data: bytes,
        media_type: str,
        *,
        role: str = "other",
        captured_at: datetime | None = None,
        meta: dict[str, Any] | None = None,
    ) -> FileEntry:
        target = self._target(relpath)
        if self._writer is None:
            _write_file(target, data)
        else:
            self._settle()
            while len(self._pending) >= WRITES_IN_FLIGHT:  # a fast caller must not pile up its files in memory
                self._pending.pop(0).result()
            self._pending.append(self._writer.submit(_write_file, target, data))
        return self._record(relpath, hashlib.sha256(data).hexdigest(), len(data), media_type, role, captured_at, meta)

    def _settle(self) -> None:
        """Forget the writes that are done; a failed one is raised here, at the next file."""
        while self._pending and self._pending[0].done():
            self._pending.pop(0).result()

    def add_file(self, relpath: str, source: str | Path, media_type: str, **kw: Any) -> FileEntry:
        """Move (or copy) a file that was written elsewhere, e.g. a HAR or a trace."""
        return self.add_bytes(relpath, Path(source).read_bytes(), media_type, **kw)

    def _record(
        self,
        relpath: str,
        sha: str,
        size: int,
        media_type: str,
        role: str,
        captured_at: datetime | None,
        meta: dict[str, Any] | None,
    ) -> FileEntry:
        entry = FileEntry(
            path=relpath,
            sha256=sha,
            size=size,
            media_type=media_type,
            captured_at=captured_at,
            role=role,
            meta=meta or {},
        )
        self.files = [f for f in self.files if f.path != relpath] + [entry]
        self.thumbnails.pop(relpath, None)  # made from what was here before
        return entry

    def entry(self, relpath: str) -> FileEntry | None:
        return next((f for f in self.files if f.path == relpath), None)

    def finish(
        self,
        *,
        tool: str,
        case: dict[str, Any],
        environment: Environment,
        actions: list[Action],
        flow: FlowRef | None = None,
        submission: SubmissionRef | None = None,
        request: dict[str, str] | None = None,
        fitting: list[Fitting] | None = None,
        form: SubmittedForm | None = None,
        signer: Signer | None = None,
        tsa_url: str | None = None,
        render_pdf: Callable[[Path], bytes | None] | None = None,
        report: bool = True,
        created_at: datetime | None = None,
        warn: Callable[[str], None] = lambda message: None,
        before_seal: Callable[[], None] | None = None,
        times: Times | None = None,
    ) -> Manifest:
        """Write the report, manifest.json, its signature and timestamp, and SHA256SUMS.

        The report lists the hash of every file captured before it; it cannot list
        its own, which manifest.json and SHA256SUMS do."""
        from .times import clock_source

        times = (times or Times(person_zone="UTC", person_zone_from="not given")).model_copy(
            update={"clock": clock_source()}
        )
        fields: dict[str, Any] = dict(
            tool=tool,
            created_at=created_at or datetime.now(UTC),
            case=case,
            request=request,
            flow=flow,
            environment=environment,
            times=times,
            actions=actions,
            submission=submission,
            fitting=fitting or [],
            form=form,
            signer=SignerRef(fingerprint=signer.fingerprint, sums_signature=SUMS_SIGNATURE) if signer else None,
            timestamp_authority=tsa_url,
        )
        self.flush()  # the report lists, and the contact sheet reads, what is on disk
        if report:
            from . import report as reports

            if tsa_url:
                from .tsa import TimestampError  # ~30 ms of imports a run without an authority never needs

                try:
                    fields["times"] = self._timestamp_captures(tsa_url, times, warn)
                except TimestampError as exc:
                    # Asked once more for the manifest it would only make the person wait again.
                    warn(f"warning: no trusted timestamp: {exc}; the package is signed but not timestamped")
                    tsa_url = None
                    fields["timestamp_authority"] = None
            clocks = reports.clocks_of(Manifest(**fields, files=[]))
            sheet = reports.contact_sheet(self.root, self.files, thumbnails=self.thumbnails, clocks=clocks)
            if sheet:
                self.add_bytes("report/contact-sheet.jpg", sheet, "image/jpeg", role="report")
            draft = Manifest(**fields, files=sorted(self.files, key=lambda f: f.path))
            html = reports.render_html(draft)
            self.add_bytes("report.html", html.encode("utf-8"), "text/html", role="report")
            pdf = None
            if render_pdf is not None:
                # The browser reads the report and its pictures from disk: they must all be there
                # (the writer thread may still hold them; report.pdf went missing 1 run in 6).
                self.flush()
                pdf = render_pdf(self.root / "report.html")
            if pdf:
                self.add_bytes("report.pdf", pdf, "application/pdf", role="report")
        if before_seal is not None:
            before_seal()
        self.flush()
        if self._writer is not None:  # what follows is the seal, written in place
            self._writer.shutdown()
            self._writer = None
        manifest, text = self._seal(fields, signer)
        if tsa_url:
            from .tsa import TimestampError, check, fetch

            try:
                asked = datetime.now(UTC)
                token = fetch(tsa_url, text)
                self._write(TIMESTAMP, token)
                if manifest.times is None or manifest.times.authority_time is None:  # not checked before the report
                    self._check_clock(check(token, text).gen_time, asked, datetime.now(UTC), warn)
            except TimestampError as exc:
                # The capture (and maybe a submission) already happened: keep it, signed,
                # and say plainly that it has no trusted time, rather than lose it.
                warn(f"warning: no trusted timestamp: {exc}; the package is signed but not timestamped")
                manifest, text = self._seal({**fields, "timestamp_authority": None}, signer)
        self.write_sums(signer)
        return manifest

    @staticmethod
    def _check_clock(
        gen_time: datetime, asked: datetime, answered: datetime, warn: Callable[[str], None]
    ) -> tuple[datetime, float]:
        """This machine's time when the authority signed (somewhere between asking and the
        answer), and the authority's time minus it; warned about beyond 2 minutes."""
        from .times import CLOCK_TOLERANCE, describe_difference

        local = asked + (answered - asked) / 2
        offset = (gen_time - local).total_seconds()
        if abs(offset) > CLOCK_TOLERANCE.total_seconds():
            warn(
                f"warning: {describe_difference(gen_time - local)} (more than 2 minutes): the capture "
                "times in this package are off by as much"
            )
        return local, offset

    def _timestamp_captures(self, tsa_url: str, times: Times, warn: Callable[[str], None]) -> Times:
        """Ask the authority for a timestamp over the list of files captured so far, before the
        report is written: the report can then show a trusted time and who vouches for it (the
        manifest's own timestamp comes after the report, which the manifest hashes), and how far
        this machine's clock is from the authority's."""
        from .tsa import check, fetch

        listing = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(self.files, key=lambda f: f.path))
        data = listing.encode("utf-8")
        asked = datetime.now(UTC)
        token = fetch(tsa_url, data)  # TimestampError: the caller keeps the package, untimestamped
        answered = datetime.now(UTC)
        info = check(token, data)
        gen_time = info.gen_time
        local, offset = self._check_clock(gen_time, asked, answered, warn)
        self.add_bytes(CAPTURED_SUMS, data, "text/plain", role="timestamp")
        self.add_bytes(CAPTURED_TOKEN, token, "application/timestamp-reply", role="timestamp")
        self.flush()
        return times.model_copy(
            update={
                "authority_time": gen_time,
                "authority_signer": info.tsa_subject,
                "local_time_at_authority": local,
                "clock_offset_seconds": round(offset, 3),
            }
        )

    def _seal(self, fields: dict[str, Any], signer: Signer | None) -> tuple[Manifest, bytes]:
        manifest = Manifest(**fields, files=sorted(self.files, key=lambda f: f.path))
        text = manifest_bytes(manifest)
        self._write(MANIFEST, text)
        if signer is not None:
            self._write(SIGNATURE, signer.sign(text))
            self._write(PUBLIC_KEY, signer.public_pem)
        return manifest, text

    def _write(self, name: str, data: bytes) -> None:
        _replace_file(self.root / name, data)

    def write_sums(self, signer: Signer | None = None) -> None:
        """SHA256SUMS, and with a signer its signature. The signature is written first, so that
        SHA256SUMS stays the last file of a seal: a folder that has it is whole."""
        lines = [(f.sha256, f.path) for f in self.files]
        for name in SEAL:
            if name not in (SUMS, SUMS_SIGNATURE) and (self.root / name).exists():
                lines.append((sha256_file(self.root / name), name))
        body = "".join(f"{h}  {p}\n" for h, p in sorted(lines, key=lambda x: x[1])).encode("utf-8")
        if signer is not None:
            self._write(SUMS_SIGNATURE, signer.sign(body))
        self._write(SUMS, body)

    def bundle(self, target: str | Path | None = None) -> Path:
        from .bundle import make_zip

        self.flush()
        return make_zip(self.root, target or self.root.with_name(self.root.name + ".zip"))
