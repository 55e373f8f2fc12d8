"""The submission journal (SQLite in the user data dir).

A submission is written as `pending` *before* the submit click and turned
`confirmed` once the provider's number is read. A run killed in between leaves
`pending`, which blocks a blind resubmission: the person must look at the
provider's side first and then pass --force.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

SCHEMA_VERSION = 1

MIGRATIONS = {
    1: """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_key TEXT NOT NULL,
        provider TEXT NOT NULL,
        category TEXT NOT NULL,
        subject TEXT,
        order_id TEXT,
        channel TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        flow_version TEXT NOT NULL,
        flow_sha256 TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
        confirmation TEXT,
        confirmation_url TEXT,
        submitted_at TEXT NOT NULL,
        confirmed_at TEXT,
        evidence_dir TEXT,
        last_error TEXT,
        case_json TEXT NOT NULL
    );
    CREATE INDEX submissions_case_key ON submissions(case_key);
    """,
}


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Submission:
    id: int
    case_key: str
    provider: str
    category: str
    subject: str | None
    order_id: str | None
    channel: str
    flow_id: str
    flow_version: str
    flow_sha256: str
    status: str
    confirmation: str | None
    confirmation_url: str | None
    submitted_at: str
    confirmed_at: str | None
    evidence_dir: str | None
    last_error: str | None
    case_json: str

    def public(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.pop("case_json")
        return data


class Store:
    def __init__(self, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "assistant.db"
        self.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # the journal is what stops a double submission
        self._migrate()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row["value"]) if row else 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer version (schema {version}); upgrade the assistant"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                # executescript() would commit mid-migration; run statement by statement instead.
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        self.db.close()

    def begin(self, *, case_key: str, case: dict, flow: dict, evidence_dir: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                """INSERT INTO submissions(case_key, provider, category, subject, order_id, channel,
                   flow_id, flow_version, flow_sha256, status, submitted_at, evidence_dir, case_json)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)""",
                (
                    case_key,
                    case["provider"],
                    case["category"],
                    case.get("subject"),
                    case.get("order_id"),
                    flow["channel"],
                    flow["id"],
                    flow["version"],
                    flow["sha256"],
                    now(),
                    evidence_dir,
                    json.dumps(case, ensure_ascii=False, sort_keys=True),
                ),
            )
            return int(cursor.lastrowid)

    def confirm(self, submission_id: int, number: str, url: str | None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET status='confirmed', confirmation=?, confirmation_url=?, "
                "confirmed_at=?, last_error=NULL WHERE id=?",
                (number, url, now(), submission_id),
            )

    def note_error(self, submission_id: int, error: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE submissions SET last_error=? WHERE id=?", (error, submission_id))

    def find(self, case_key: str) -> Submission | None:
        row = self.db.execute(
            "SELECT * FROM submissions WHERE case_key=? ORDER BY id DESC LIMIT 1", (case_key,)
        ).fetchone()
        return Submission(**dict(row)) if row else None

    def all(self) -> list[Submission]:
        return [Submission(**dict(r)) for r in self.db.execute("SELECT * FROM submissions ORDER BY id")]
