"""Writing an evidence package: every file is hashed as it is written, then the whole is sealed.

Layout of a finished package:
  manifest.json    what, when, where, with the SHA-256 of every other file
  manifest.sig     Ed25519 signature over the bytes of manifest.json
  signer.pub.pem   the public key that makes it
  manifest.tsr     RFC 3161 timestamp response for SHA-256(manifest.json); manifest-2.tsr, … one
                   per further authority (later/manifest-N.tsr: added after sealing)
  SHA256SUMS       every file but itself and its signature, for `sha256sum -c`
  SHA256SUMS.sig   Ed25519 signature over the bytes of SHA256SUMS: the by-hand check
                   (docs/evidence.md) checks it first, so a rewritten line cannot pass `sha256sum -c`
  report.html, report.pdf, report/contact-sheet.jpg, screenshots/, pages/, logs/, …
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
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
    Stamp,
    SubmissionRef,
    SubmittedForm,
    Times,
)
from .said import N_, Said

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SUMS_SIGNATURE = "SHA256SUMS.sig"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signer.pub.pem"
TIMESTAMP = "manifest.tsr"
# Authorities asked at most: each is a token, a CA for the reader, and a wait at sealing.
MAX_AUTHORITIES = 5


def manifest_token(index: int) -> str:
    """Where the index-th authority's token on manifest.json is kept: manifest.tsr, manifest-2.tsr, …"""
    return TIMESTAMP if index == 0 else f"manifest-{index + 1}.tsr"


SEAL = (MANIFEST, SIGNATURE, PUBLIC_KEY, *map(manifest_token, range(MAX_AUTHORITIES)), SUMS, SUMS_SIGNATURE)
# The files captured before the report, listed as `sha256sum` does, and the authorities'
# timestamps on that list: the captures existed by then (finish() asks for them).
CAPTURED_SUMS = "report/captured.sums"
CAPTURED_TOKEN = "report/captured.tsr"


def captured_token(index: int) -> str:
    """Where the index-th authority's token on the captured files is kept."""
    return CAPTURED_TOKEN if index == 0 else f"report/captured-{index + 1}.tsr"


# The first capture, stamped as it is taken (stamp_first): its line as `sha256sum` writes it, and
# each authority's token on that line. It bounds the run's start as captured.tsr bounds its end.
FIRST_SUMS = "report/first-capture.sums"


def first_token(index: int) -> str:
    return "report/first-capture.tsr" if index == 0 else f"report/first-capture-{index + 1}.tsr"


# Said whenever a package ends up with no trusted time: the times in it are the machine's.
UNTIMED = "its times rest on the signer's word"
# Tokens on manifest.json asked for after sealing (`assistant evidence timestamp`): they bound
# the package from below at their own, later time, not at the times it claims.
LATER = "later"


def later_token(index: int) -> str:
    return f"{LATER}/manifest-{index + 1}.tsr"


def add_later_timestamps(root: Path, authorities: Sequence[str], signer: Signer) -> tuple[list[str], list[str]]:
    """Ask each authority for a token on a sealed package's manifest.json and keep those that
    answer in later/, with SHA256SUMS and its signature written again: the package existed by
    then. Only the key that signed the package may do it (ValueError otherwise). Returns the
    token paths added and a line for each authority that did not answer."""
    from .keys import fingerprint
    from .tsa import TimestampError, fetch_all

    text = (root / MANIFEST).read_bytes()
    pub = root / PUBLIC_KEY
    if not pub.is_file() or fingerprint(pub.read_bytes()) != signer.fingerprint:
        raise ValueError("it was signed by another key: only its signer can add to it")
    kept = sorted(p.relative_to(root).as_posix() for p in (root / LATER).glob("manifest-*.tsr"))
    added: list[str] = []
    failed: list[str] = []
    for url, answer in zip(authorities, fetch_all(list(authorities), text), strict=True):
        if isinstance(answer, TimestampError):
            failed.append(f"{url}: {answer}")
            continue
        name = later_token(len(kept) + len(added))
        (root / LATER).mkdir(exist_ok=True)
        _replace_file(root / name, answer)
        added.append(name)
    if added:
        lines = [line for line in (root / SUMS).read_text(encoding="utf-8").splitlines() if line]
        lines += [f"{sha256_file(root / name)}  {name}" for name in added]
        body = "".join(f"{line}\n" for line in sorted(lines, key=lambda line: line.partition("  ")[2])).encode()
        _replace_file(root / SUMS_SIGNATURE, signer.sign(body))
        _replace_file(root / SUMS, body)
    return added, failed


if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from .keys import Signer


def manifest_bytes(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _named(authorities: list[str]) -> dict[str, Any]:
    """The manifest's fields that name the authorities whose tokens it has beside it."""
    return {"timestamp_authority": authorities[0] if authorities else None, "timestamp_authorities": authorities}


class Unanswered:
    """The authorities that did not answer while a package was sealed, said when the seal ends:
    one line each, or one line in all when none answered (offline, say)."""

    def __init__(self) -> None:
        self.why: dict[str, str] = {}

    def add(self, url: str, why: object) -> None:
        self.why.setdefault(url, str(why).removeprefix(f"timestamp authority {url}: "))

    def say(self, warn: Callable[[str], None], *, stamped: bool) -> None:
        if stamped:
            for url, why in self.why.items():
                warn(Said(N_("warning: no timestamp from {url}: {why}"), url=url, why=why))
        elif self.why:
            said = "; ".join(f"{url}: {why}" for url, why in self.why.items())
            warn(
                Said(
                    N_(
                        "warning: no trusted timestamp: no authority answered ({said}); the package is signed, "
                        "and its times rest on the signer's word"
                    ),
                    said=said,
                )
            )


def _answered_stamps(
    package: EvidencePackage,
    answers: list[tuple[str, bytes | Exception]],
    data: bytes,
    place: Callable[[int], str],
    unanswered: Unanswered,
) -> list[Stamp]:
    """Each authority's token that came back, checked over data and kept in the package at
    place(n), as a Stamp; those that did not are noted in `unanswered`."""
    from .tsa import check

    stamps: list[Stamp] = []
    for url, answer in answers:
        if isinstance(answer, Exception):
            unanswered.add(url, answer)
            continue
        info = check(answer, data)
        path = place(len(stamps))
        package.add_bytes(path, answer, "application/timestamp-reply", role="timestamp")
        stamps.append(Stamp(authority=url, token=path, time=info.gen_time, signer=info.tsa_subject))
    return stamps


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
        # The first capture's line and the authorities' answers on it, asked on threads (stamp_first).
        self._first: tuple[str, ThreadPoolExecutor, list[tuple[str, Future[bytes]]]] | None = None

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

    def stamp_first(self, relpath: str, authorities: Sequence[str]) -> None:
        """Ask each authority, on threads of their own, for a timestamp on the first capture's
        line (its SHA-256 and path) the moment it is taken: the run goes on meanwhile, and finish()
        keeps the tokens. Only the first call does anything."""
        if self._first is not None or not authorities:
            return
        entry = self.entry(relpath)
        if entry is None:
            return
        line = f"{entry.sha256}  {entry.path}\n"

        def ask(url: str) -> bytes:
            from .tsa import fetch  # imported here, on the thread: the run's own thread goes on

            return fetch(url, line.encode("utf-8"), timeout=15)

        pool = ThreadPoolExecutor(max_workers=len(authorities), thread_name_prefix="tsa-first")
        asked = [(url, pool.submit(ask, url)) for url in authorities]
        self._first = (line, pool, asked)

    def _keep_first(self, unanswered: Unanswered) -> list[Stamp]:
        """The first capture's tokens, as they came back (each a file, with its line beside them)."""
        if self._first is None:
            return []
        line, pool, asked = self._first
        self._first = None
        data = line.encode("utf-8")
        answers: list[tuple[str, bytes | Exception]] = []
        for url, future in asked:
            try:
                answers.append((url, future.result()))
            except Exception as exc:  # TimestampError, or whatever else ended its thread
                answers.append((url, exc))
        pool.shutdown(wait=False)
        stamps = _answered_stamps(self, answers, data, first_token, unanswered)
        if stamps:
            self.add_bytes(FIRST_SUMS, data, "text/plain", role="timestamp")
        return stamps

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
        tsa_urls: Sequence[str] = (),
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
        authorities = list(dict.fromkeys(tsa_urls))[:MAX_AUTHORITIES]
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
        )
        unanswered = Unanswered()
        first_line = self._first[0] if self._first is not None else None
        first = self._keep_first(unanswered)
        if first:
            fields["times"] = fields["times"].model_copy(update={"first_stamps": first})
        self.flush()  # the report lists, and the contact sheet reads, what is on disk
        if signer is not None:
            # Before anything lists the captures' hashes (the report, captured.sums, SHA256SUMS):
            # the credentials are part of the files every later hash is of. The first capture's
            # tokens are on its bytes as taken: rewriting it would void them, so it stays as taken.
            taken = {first_line.rstrip("\n").partition("  ")[2]} if first and first_line else set()
            self._add_credentials(signer, tool, warn, keep=taken)
        if report:
            from . import report as reports

            if authorities:
                fields["times"], authorities = self._timestamp_captures(authorities, fields["times"], warn, unanswered)
            clocks = reports.clocks_of(Manifest(**fields, **_named(authorities), files=[]))
            sheet = reports.contact_sheet(self.root, self.files, thumbnails=self.thumbnails, clocks=clocks)
            if sheet:
                self.add_bytes("report/contact-sheet.jpg", sheet, "image/jpeg", role="report")
            draft = Manifest(**fields, **_named(authorities), files=sorted(self.files, key=lambda f: f.path))
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
        manifest, text = self._seal({**fields, **_named(authorities)}, signer)
        if authorities:
            manifest = self._timestamp_manifest(fields, signer, manifest, text, authorities, warn, unanswered)
        unanswered.say(warn, stamped=bool(first or manifest.timestamp_authorities))
        self.write_sums(signer)
        return manifest

    def _add_credentials(self, signer: Signer, tool: str, warn: Callable[[str], None], *, keep: set[str]) -> None:
        """C2PA content credentials in every capture but those in `keep`, signed with the key, and
        the key's certificate they name (evidence.credentials). Each file so marked in the manifest:
        credentials removed later are missed, not taken for a package made without them."""
        from . import credentials

        shots = [f for f in self.files if credentials.carries(f) and f.path not in keep]
        if not shots:
            return
        if not credentials.available():
            warn("note: the screenshots carry no content credentials: c2pa-python cannot be loaded here")
            return
        cert = credentials.certificate(signer, datetime.now(UTC))
        version = tool.removeprefix(f"{credentials.GENERATOR} ") if tool.startswith(credentials.GENERATOR) else None
        done = 0
        for entry in shots:
            target = self._target(entry.path)
            try:
                data = credentials.embed(target.read_bytes(), entry, signer, cert, version=version)
            except Exception as exc:  # c2pa refusing one file: it is kept as taken, and said
                warn(
                    f"warning: {entry.path}: no content credentials ({str(exc).splitlines()[0] if str(exc) else exc!r})"
                )
                continue
            _replace_file(target, data)
            # Not _record: the pixels are the same, so the thumbnail made from them still holds.
            update = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            self.files[self.files.index(entry)] = entry.model_copy(
                update={**update, "content_credentials": credentials.CERTIFICATE}
            )
            done += 1
        if done:
            self.add_bytes(credentials.CERTIFICATE, cert, "application/x-pem-file", role="signer")

    def _timestamp_manifest(
        self,
        fields: dict[str, Any],
        signer: Signer | None,
        manifest: Manifest,
        text: bytes,
        authorities: list[str],
        warn: Callable[[str], None],
        unanswered: Unanswered,
    ) -> Manifest:
        """Every named authority's token on the sealed manifest, asked at once. The manifest names
        them before they answer; one that does not answer is left out and the manifest sealed
        again, naming only those that did, whose tokens are then asked for again."""
        from .tsa import TimestampError, check, fetch_all

        while authorities:
            asked = datetime.now(UTC)
            answers = fetch_all(authorities, text)
            answered = datetime.now(UTC)
            tokens = [answer for answer in answers if isinstance(answer, bytes)]
            failed = [(url, a) for url, a in zip(authorities, answers, strict=True) if isinstance(a, TimestampError)]
            if not failed:
                for index, token in enumerate(tokens):
                    self._write(manifest_token(index), token)
                if manifest.times is None or manifest.times.authority_time is None:  # not checked before the report
                    self._check_clock(check(tokens[0], text).gen_time, asked, answered, warn)
                return manifest
            for url, why in failed:
                unanswered.add(url, why)
            authorities = [url for url in authorities if url not in dict(failed)]
            # The capture (and maybe a submission) already happened: keep it, signed, and say
            # plainly what its times rest on, rather than lose it.
            manifest, text = self._seal({**fields, **_named(authorities)}, signer)
        warn("warning: no authority stamped the sealed manifest; the tokens on its captures stand")
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

    def _timestamp_captures(
        self, authorities: list[str], times: Times, warn: Callable[[str], None], unanswered: Unanswered
    ) -> tuple[Times, list[str]]:
        """Ask every authority at once for a timestamp over the list of files captured so far,
        before the report is written: the report can then show a trusted time and who vouches
        for it (the manifest's own tokens come after the report, which the manifest hashes), and
        how far this machine's clock is from the first authority's. The authorities that answered
        are the ones the manifest is stamped by next."""
        from .tsa import fetch_all

        listing = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(self.files, key=lambda f: f.path))
        data = listing.encode("utf-8")
        asked = datetime.now(UTC)
        answers = fetch_all(authorities, data)
        answered = datetime.now(UTC)
        stamps = _answered_stamps(self, list(zip(authorities, answers, strict=True)), data, captured_token, unanswered)
        if not stamps:  # said when the seal ends (Unanswered.say)
            return times, []
        self.add_bytes(CAPTURED_SUMS, data, "text/plain", role="timestamp")
        self.flush()
        local, offset = self._check_clock(stamps[0].time, asked, answered, warn)
        updated = times.model_copy(
            update={
                "authority_time": stamps[0].time,
                "authority_signer": stamps[0].signer,
                "local_time_at_authority": local,
                "clock_offset_seconds": round(offset, 3),
                "stamps": stamps,
            }
        )
        return updated, [stamp.authority for stamp in stamps]

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
