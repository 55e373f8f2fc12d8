"""Writing an evidence package: every file is hashed as it is written."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from .manifest import Action, Environment, FileEntry, FlowRef, Manifest, SubmissionRef

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"


class EvidencePackage:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.files: list[FileEntry] = []

    def _target(self, relpath: str) -> Path:
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
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
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        entry = FileEntry(
            path=relpath,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            media_type=media_type,
            captured_at=captured_at,
            role=role,
            meta=meta or {},
        )
        self.files = [f for f in self.files if f.path != relpath] + [entry]
        return entry

    def finish(
        self,
        *,
        tool: str,
        case: dict[str, Any],
        flow: FlowRef,
        environment: Environment,
        actions: list[Action],
        submission: SubmissionRef,
    ) -> Manifest:
        manifest = Manifest(
            tool=tool,
            created_at=datetime.now(timezone.utc),
            case=case,
            flow=flow,
            environment=environment,
            actions=actions,
            submission=submission,
            files=sorted(self.files, key=lambda f: f.path),
        )
        text = json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        (self.root / MANIFEST).write_text(text, encoding="utf-8")
        sums = [(f.sha256, f.path) for f in manifest.files]
        sums.append((hashlib.sha256(text.encode("utf-8")).hexdigest(), MANIFEST))
        (self.root / SUMS).write_text("".join(f"{h}  {p}\n" for h, p in sorted(sums, key=lambda x: x[1])))
        return manifest
