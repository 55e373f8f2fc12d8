"""The case's files, read once: what is checked is what is sent.

A case names files in a folder others may write to (a shared or synced folder, the person's
other programs). Read again at each use, a file swapped after the checks (a symlink to a
key, another picture) would be what the site receives while the package keeps the first.
So before anything else a run opens each attachment once, without following a link in its
last part, makes sure the file it opened is the one the case was checked with, and copies
it into the run's own folder, hashing as it goes. From then on the run reads only the copy:
the fitting, the evidence package, the upload, the email.

Also here: the verdict on a case's files against a flow's limits that can be given from
their sizes and first bytes alone, so that `assistant check` and `assistant submit` give the
same one without reading a large file whole.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.language.case import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_BYTES, Case, identity, megabytes, open_once
from assistant.language.flow import Flow
from assistant.translation import N_, _
from evidence.fit import CannotFit, Limits, precheck

CHUNK = 1 << 20


def limits_of(flow: Flow) -> Limits:
    """The flow's attachment rules, as evidence.fit takes them."""
    rules = flow.attachments
    extensions = list(rules.extensions) if rules.extensions is not None else None
    return Limits(list(rules.media_types), rules.max_bytes, rules.max_files, extensions, rules.latin_names)


def _refusal(exc: CannotFit, flow: Flow) -> tuple[str, dict[str, Any]]:
    """(message marked with N_(), its values): why the file does not fit, beside what the flow takes."""
    rules = flow.attachments
    values = {
        "reason": _(exc.template).format(**exc.values),
        "flow": flow.id,
        "types": ", ".join(rules.media_types),
        "max_bytes": rules.max_bytes,
        "max_files": rules.max_files,
    }
    if rules.extensions is None:
        return N_("{reason} ({flow} takes {types}, at most {max_bytes} bytes each, {max_files} files)"), values
    template = N_(
        "{reason} ({flow} takes {types} named {extensions}, at most {max_bytes} bytes each, {max_files} files)"
    )
    return template, {**values, "extensions": ", ".join(rules.extensions)}


def refusal_words(exc: CannotFit, flow: Flow) -> str:
    """A CannotFit as the person reads it: what the flow takes, beside why their file does not fit."""
    template, values = _refusal(exc, flow)
    return _(template).format(**values)


def refusal(case: Case, flow: Flow) -> tuple[str, dict[str, Any]] | None:
    """Why the flow can never take the case's files, judged without reading them (None: it may),
    as a message marked with N_() and its values: `check` says it in English with --json."""
    try:
        precheck(list(case.attachments), limits_of(flow))
    except CannotFit as exc:
        return _refusal(exc, flow)
    return None


def stage(case: Case, folder: Path) -> Case:
    """The case with its attachments copied into `folder` (the run's own, private): each file
    opened once, checked to be the very file the case was loaded with (same file, size and time),
    copied and hashed. Names stay as the person gave them; a name given twice gets -2, -3."""
    if not case.attachments:
        return case
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    copies: list[Path] = []
    digests: dict[str, str] = {}
    taken: set[str] = set()
    total = 0
    for index, original in enumerate(case.attachments):
        where = f"{case.where('attachments', index)}: attachments[{index}]"
        target = folder / _unique(original.name, taken)
        digests[str(target)], size = _copy(case, original, target, where)
        total += size
        if total > MAX_ATTACHMENTS_BYTES:
            raise InputError(
                _("{where}: the attachments grew past {limit}; nothing was sent").format(
                    where=where, limit=megabytes(MAX_ATTACHMENTS_BYTES)
                )
            )
        copies.append(target)
    return case.with_copies(copies, digests)


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        path = Path(name)
        candidate = f"{path.stem}-{number}{path.suffix}"
    taken.add(candidate.lower())
    return candidate


def _copy(case: Case, original: Path, target: Path, where: str) -> tuple[str, int]:
    source, info = open_once(original, where)
    try:
        checked = case.checked_as(original)
        if checked is not None and identity(info) != checked:
            raise InputError(
                _(
                    "{where}: {path} changed after the case was checked (another file, or other bytes); "
                    "nothing was sent: check the file and run again"
                ).format(where=where, path=original)
            )
        digest = hashlib.sha256()
        copied = 0
        with open(target, "xb") as out:
            while chunk := os.read(source, CHUNK):
                copied += len(chunk)
                if copied > MAX_ATTACHMENT_BYTES:
                    raise InputError(
                        _(
                            "{where}: {path} changed after the case was checked (it grew past {limit} while it "
                            "was read); nothing was sent"
                        ).format(where=where, path=original, limit=megabytes(MAX_ATTACHMENT_BYTES))
                    )
                digest.update(chunk)
                out.write(chunk)
        os.chmod(target, 0o600)
        # The file's own time, for what it says of its date (casework.compose.file_date).
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    finally:
        os.close(source)
    return digest.hexdigest(), copied
