"""The submission journal (SQLite in the user data dir).

A submission is written as `pending` *before* the submit click, then settled:

    pending    the click may have happened and no answer was read (a crash, a
               timeout after the request left): the outcome is unknown. It
               blocks a blind resubmission until `assistant cases resolve`.
    confirmed  the provider accepted it: its number was read, or its page gives
               none (`confirmation` NULL: "accepted, no number yet" until the
               number arrives by email, `assistant cases number`).
    rejected   the provider (or the browser) refused it; nothing was filed.
    drafted    written for the person to send themselves (an .eml): no clock yet;
               `assistant cases mark-sent` makes it confirmed when they have sent it.
    not_filed  the person found out it never reached the provider.

Only `pending` and `confirmed` are live: they count as a request on the
matter and block a resend; the others do not. The check for a live
submission and the insert of a new one are one transaction (`begin(check=…)`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.translation import _

SCHEMA_VERSION = 4

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
    # 2: the case store. A case is one matter (provider + order number, or the
    # case's fingerprint without one); its submissions, status history, the
    # provider's replies and notes hang off it. Rows from schema 1 become one
    # case per matter, nothing dropped.
    2: """
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        matter TEXT NOT NULL,
        provider TEXT NOT NULL,
        order_id TEXT,
        category TEXT NOT NULL,
        subject TEXT,
        language TEXT NOT NULL DEFAULT 'en',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'escalated', 'closed')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        case_json TEXT NOT NULL
    );
    CREATE INDEX cases_matter ON cases(matter);
    CREATE TABLE status_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT
    );
    CREATE TABLE replies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        submission_id INTEGER REFERENCES submissions(id),
        number TEXT,
        text TEXT,
        received_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        at TEXT NOT NULL,
        text TEXT NOT NULL
    );
    ALTER TABLE submissions ADD COLUMN case_id INTEGER REFERENCES cases(id);
    ALTER TABLE submissions ADD COLUMN kind TEXT NOT NULL DEFAULT 'request';
    ALTER TABLE submissions ADD COLUMN message_id TEXT;
    ALTER TABLE submissions ADD COLUMN manifest_sha256 TEXT;
    ALTER TABLE submissions ADD COLUMN due_at TEXT;
    CREATE INDEX submissions_case_id ON submissions(case_id);
    """,
    # 3: outcomes besides pending/confirmed. SQLite cannot change a CHECK, so the
    # table is copied into one with the wider check; every row and id is kept.
    3: """
    CREATE TABLE submissions_v3 (
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
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'drafted', 'not_filed')),
        confirmation TEXT,
        confirmation_url TEXT,
        submitted_at TEXT NOT NULL,
        confirmed_at TEXT,
        evidence_dir TEXT,
        last_error TEXT,
        case_json TEXT NOT NULL,
        case_id INTEGER REFERENCES cases(id),
        kind TEXT NOT NULL DEFAULT 'request',
        message_id TEXT,
        manifest_sha256 TEXT,
        due_at TEXT,
        settled_at TEXT
    );
    INSERT INTO submissions_v3 SELECT id, case_key, provider, category, subject, order_id, channel, flow_id,
        flow_version, flow_sha256, status, confirmation, confirmation_url, submitted_at, confirmed_at,
        evidence_dir, last_error, case_json, case_id, kind, message_id, manifest_sha256, due_at, NULL
        FROM submissions;
    DROP TABLE submissions;
    ALTER TABLE submissions_v3 RENAME TO submissions;
    CREATE INDEX submissions_case_key ON submissions(case_key);
    CREATE INDEX submissions_case_id ON submissions(case_id);
    """,
    # 4: what a rejection was about (evidence.RefusalKind), for the advice that fits it; and the
    # indexes a case's history, replies and notes are read by (without them, each case read
    # scanned the whole table: `assistant cases` grew with the square of the journal).
    4: """
    ALTER TABLE submissions ADD COLUMN refusal TEXT;
    CREATE INDEX IF NOT EXISTS status_history_case_id ON status_history(case_id);
    CREATE INDEX IF NOT EXISTS replies_case_id ON replies(case_id);
    CREATE INDEX IF NOT EXISTS notes_case_id ON notes(case_id);
    CREATE INDEX IF NOT EXISTS submissions_confirmation ON submissions(confirmation);
    CREATE INDEX IF NOT EXISTS submissions_message_id ON submissions(message_id);
    CREATE INDEX IF NOT EXISTS submissions_due_at ON submissions(due_at);
    CREATE INDEX IF NOT EXISTS cases_status ON cases(status, id);
    """,
}


class Status(StrEnum):
    """What the journal says of a submission (see the module docstring). The schema's CHECK
    holds the same words (tests/test_outcome_decision.py compares them)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    DRAFTED = "drafted"
    NOT_FILED = "not_filed"


# The live ones count as a request at the provider and block a resend.
LIVE = (Status.PENDING, Status.CONFIRMED)

CASE_STATUSES = ("open", "answered", "escalated", "closed")


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id an INSERT gave its row (sqlite3 types lastrowid as optional; after an INSERT it is set)."""
    if cursor.lastrowid is None:
        raise RuntimeError("the journal's INSERT returned no row id")
    return cursor.lastrowid


def _backfill_cases(db: sqlite3.Connection) -> None:
    """Schema 1 → 2: one case per matter for the submissions already journalled."""
    rows = db.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    by_matter: dict[str, int] = {}
    for row in rows:
        matter = matter_key(row["provider"], row["order_id"], row["case_key"])
        case_id = by_matter.get(matter)
        try:
            language = json.loads(row["case_json"]).get("language", "en")
        except (ValueError, AttributeError):
            language = "en"
        if case_id is None:
            case_id = _row_id(
                db.execute(
                    "INSERT INTO cases(matter, provider, order_id, category, subject, language, status, "
                    "created_at, updated_at, case_json) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                    (
                        matter,
                        row["provider"],
                        row["order_id"],
                        row["category"],
                        row["subject"],
                        language,
                        row["submitted_at"],
                        row["submitted_at"],
                        row["case_json"],
                    ),
                )
            )
            db.execute(
                "INSERT INTO status_history(case_id, status, at, note) VALUES (?, 'open', ?, ?)",
                (case_id, row["submitted_at"], "recorded before the case store (schema 1)"),
            )
            by_matter[matter] = case_id
        else:
            db.execute(
                "UPDATE cases SET updated_at=?, case_json=? WHERE id=?",
                (row["submitted_at"], row["case_json"], case_id),
            )
        db.execute("UPDATE submissions SET case_id=? WHERE id=?", (case_id, row["id"]))


# Data steps that run after a version's SQL, inside the same transaction.
BACKFILLS = {2: _backfill_cases}


def matter_key(provider: str, order_id: str | None, fingerprint: str) -> str:
    """Same provider and order number is the same matter; without a number, the same case."""
    # "DM-2026-114512", "dm 2026 114512" and "DM2026114512" are one order number.
    order = "".join(ch for ch in (order_id or "") if ch.isalnum()).upper()
    return f"{provider}|{order}" if order else f"{provider}|#{fingerprint}"


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


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
    status: Status
    confirmation: str | None
    confirmation_url: str | None
    submitted_at: str
    confirmed_at: str | None
    evidence_dir: str | None
    last_error: str | None
    case_json: str
    case_id: int | None = None
    kind: str = "request"
    message_id: str | None = None
    manifest_sha256: str | None = None
    due_at: str | None = None
    settled_at: str | None = None  # when it became rejected, not_filed, or a draft marked sent
    refusal: str | None = None  # a rejection's kind (evidence.RefusalKind): the advice that fits it

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @property
    def reference(self) -> str | None:
        """What the provider knows it by: its number, else the email's Message-ID; None for a
        request accepted by a page that gave no number, until `assistant cases number`."""
        return self.confirmation or self.message_id

    @property
    def live(self) -> bool:
        """Counts as a request at the provider (or possibly so): blocks a resend on its matter."""
        return self.status in LIVE

    def public(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.pop("case_json")
        return data


@dataclass
class CaseRecords:
    """A case and what hangs off it, as `Store.every_case` reads them."""

    case: dict[str, Any]
    submissions: list[Submission]
    replies: list[dict[str, Any]]
    history: list[dict[str, Any]]
    notes: list[dict[str, Any]]


class _grouped:
    """Rows ordered by case_id, handed out a case at a time as the cases are walked in order."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.rows = iter(cursor)
        self.next: dict[str, Any] | None = self._advance()

    def _advance(self) -> dict[str, Any] | None:
        row = next(self.rows, None)
        return dict(row) if row is not None else None

    def take(self, case_id: int) -> list[dict[str, Any]]:
        while self.next is not None and self.next["case_id"] < case_id:  # rows of no listed case
            self.next = self._advance()
        out = []
        while self.next is not None and self.next["case_id"] == case_id:
            out.append(self.next)
            self.next = self._advance()
        return out


def _without_case(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("case_id", None)
    return row


@dataclass
class Claims:
    """What the journal holds on a case and its matter, read inside the transaction that
    would journal a new submission: a check that refuses on it cannot be raced."""

    same_case: Submission | None  # the latest live submission of this case (its fingerprint)
    on_matter: list[Submission]  # live submissions of the open case(s) on this matter, newest first


class Store:
    def __init__(self, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "assistant.db"
        self.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self._use_wal()
        self.db.execute("PRAGMA synchronous=FULL")  # the journal is what stops a double submission
        self._migrate()

    def _use_wal(self) -> None:
        # Turning a new database to WAL needs it to itself, and SQLite answers "database is
        # locked" at once, without waiting, when another process opens it at that moment
        # (two first runs started together): wait as long as any other lock would be waited for.

        deadline = time.monotonic() + 10
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

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
                raise InputError(
                    _("{file} was written by a newer version (schema {version}); upgrade the assistant").format(
                        file=self.path, version=version
                    )
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                # executescript() would commit mid-migration; run statement by statement instead.
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                if target in BACKFILLS:
                    BACKFILLS[target](db)
            db.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def begin(
        self,
        *,
        case_key: str,
        case: dict,
        flow: dict,
        evidence_dir: str,
        matter: str | None = None,
        kind: str = "request",
        due_at: str | None = None,
        message_id: str | None = None,
        status: Status = Status.PENDING,
        check: Callable[[Claims], None] | None = None,
    ) -> int:
        """Journal a submission as pending (or drafted), under the open case for its matter (or a new case).

        `check` sees the live submissions on the case and its matter inside the same
        `BEGIN IMMEDIATE` transaction as the insert and may raise to refuse: two runs
        of one case racing here end with one row and one refusal, never two clicks.
        """
        status = Status(status)  # a caller's plain "drafted" is the same word
        if status not in (Status.PENDING, Status.DRAFTED):
            raise ValueError("a submission begins as pending, or drafted when the person sends it")
        matter = matter or matter_key(case["provider"], case.get("order_id"), case_key)
        if status is Status.DRAFTED:
            due_at = None  # no clock until the person says it was sent
        stamp = now()
        case_json = json.dumps(case, ensure_ascii=False, sort_keys=True)
        with self.transaction() as db:
            if check is not None:
                check(Claims(self.find(case_key, live=True), self.open_on_matter(matter)))
            row = db.execute(
                "SELECT id FROM cases WHERE matter=? AND status != 'closed' ORDER BY id DESC LIMIT 1", (matter,)
            ).fetchone()
            if row is None:
                case_id = _row_id(
                    db.execute(
                        "INSERT INTO cases(matter, provider, order_id, category, subject, language, status, "
                        "created_at, updated_at, case_json) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                        (
                            matter,
                            case["provider"],
                            case.get("order_id"),
                            case["category"],
                            case.get("subject"),
                            case.get("language", "en"),
                            stamp,
                            stamp,
                            case_json,
                        ),
                    )
                )
                db.execute(
                    "INSERT INTO status_history(case_id, status, at, note) VALUES (?, 'open', ?, ?)",
                    (case_id, stamp, f"{kind} via {flow['channel']} ({flow['id']})"),
                )
            else:
                case_id = int(row["id"])
                if kind == "request":
                    db.execute("UPDATE cases SET case_json=? WHERE id=?", (case_json, case_id))
                db.execute("UPDATE cases SET updated_at=? WHERE id=?", (stamp, case_id))
            cursor = db.execute(
                """INSERT INTO submissions(case_key, provider, category, subject, order_id, channel,
                   flow_id, flow_version, flow_sha256, status, submitted_at, evidence_dir, case_json,
                   case_id, kind, due_at, message_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                    status,
                    stamp,
                    evidence_dir,
                    case_json,
                    case_id,
                    kind,
                    due_at,
                    message_id,
                ),
            )
            return _row_id(cursor)

    def confirm(self, submission_id: int, number: str | None, url: str | None) -> None:
        """The provider accepted it: with its number, or (None) with a page that gives none."""
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET status='confirmed', confirmation=?, confirmation_url=?, "
                "confirmed_at=?, last_error=NULL WHERE id=?",
                (number, url, now(), submission_id),
            )

    def reject(self, submission_id: int, reason: str, refusal: str | None = None) -> None:
        """The provider or the browser refused it: nothing filed, no deadline, no block on a resend."""
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET status='rejected', last_error=?, refusal=?, due_at=NULL, settled_at=? "
                "WHERE id=?",
                (reason, refusal, now(), submission_id),
            )

    def mark_sent(self, submission_id: int, *, sent_at: str, due_at: str | None, note: str) -> bool:
        """The person sent a draft themselves: from now on it is a confirmed request whose
        reference is its Message-ID, filed at `sent_at`, due at `due_at`. False if it is no
        longer a draft (marked by another command meanwhile)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT case_id FROM submissions WHERE id=? AND status='drafted'", (submission_id,)
            ).fetchone()
            if row is None:
                return False
            stamp = now()
            db.execute(
                "UPDATE submissions SET status='confirmed', confirmation=COALESCE(confirmation, message_id), "
                "submitted_at=?, confirmed_at=?, due_at=?, settled_at=? WHERE id=?",
                (sent_at, sent_at, due_at, stamp, submission_id),
            )
            case = db.execute("SELECT status FROM cases WHERE id=?", (row["case_id"],)).fetchone()
            db.execute(
                "INSERT INTO status_history(case_id, status, at, note) VALUES (?, ?, ?, ?)",
                (row["case_id"], case["status"] if case else "open", stamp, note),
            )
            db.execute("UPDATE cases SET updated_at=? WHERE id=?", (stamp, row["case_id"]))
            return True

    def not_filed(self, submission_id: int, reason: str) -> None:
        """Nothing reached the provider (the click never sent anything): no deadline, no block."""
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET status='not_filed', last_error=?, due_at=NULL, settled_at=? WHERE id=?",
                (reason, now(), submission_id),
            )

    def note_error(self, submission_id: int, error: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE submissions SET last_error=? WHERE id=?", (error, submission_id))

    def find(self, case_key: str, *, live: bool = False) -> Submission | None:
        """The latest submission of this case (live=True: the latest pending or confirmed one)."""
        where = " AND status IN ('pending', 'confirmed')" if live else ""
        row = self.db.execute(
            f"SELECT * FROM submissions WHERE case_key=?{where} ORDER BY id DESC LIMIT 1", (case_key,)
        ).fetchone()
        return Submission(**dict(row)) if row else None

    def submission(self, submission_id: int) -> Submission | None:
        row = self.db.execute("SELECT * FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return Submission(**dict(row)) if row else None

    def all(self) -> list[Submission]:
        return [Submission(**dict(r)) for r in self.db.execute("SELECT * FROM submissions ORDER BY id")]

    # ------------------------------------------------------------ the case store

    def set_submission(self, submission_id: int, **fields: Any) -> None:
        allowed = {"message_id", "manifest_sha256", "due_at", "evidence_dir"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot set {', '.join(sorted(unknown))}")
        if not fields:
            return
        assignments = ", ".join(f"{k}=?" for k in fields)
        with self.transaction() as db:
            db.execute(f"UPDATE submissions SET {assignments} WHERE id=?", (*fields.values(), submission_id))

    def open_on_matter(self, matter: str) -> list[Submission]:
        """Live submissions (pending, confirmed) of cases on this matter that are not closed, newest first."""
        rows = self.db.execute(
            "SELECT s.* FROM submissions s JOIN cases c ON c.id = s.case_id "
            "WHERE c.matter=? AND c.status != 'closed' AND s.status IN ('pending', 'confirmed') ORDER BY s.id DESC",
            (matter,),
        )
        return [Submission(**dict(r)) for r in rows]

    def cases(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM cases ORDER BY id")]

    def case(self, case_id: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM cases WHERE id=?", (case_id,)).fetchone()
        return dict(row) if row else None

    def find_case(self, ref: str) -> dict[str, Any] | None:
        """A case by its id, or by any of its request numbers or Message-IDs."""
        ref = ref.strip()
        digits = ref.lstrip("#")
        # SQLite's integers end at 2**63 - 1: a longer number is no case's id, perhaps a request's.
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            found = self.case(int(digits))
            if found:
                return found
        row = self.db.execute(
            "SELECT case_id FROM submissions WHERE confirmation=? OR message_id=? OR message_id=? "
            "ORDER BY id DESC LIMIT 1",
            (ref, ref, f"<{ref.strip('<>')}>"),
        ).fetchone()
        if row is None:
            row = self.db.execute("SELECT case_id FROM replies WHERE number=? LIMIT 1", (ref,)).fetchone()
        return self.case(int(row["case_id"])) if row and row["case_id"] is not None else None

    def count_cases(self) -> dict[str, int]:
        """How many cases there are, open (not closed) and closed."""
        row = self.db.execute(
            "SELECT COUNT(*) AS every, COALESCE(SUM(status = 'closed'), 0) AS closed FROM cases"
        ).fetchone()
        return {"open": row["every"] - row["closed"], "closed": row["closed"]}

    def some_cases(self, ids: list[int], *, details: bool = True) -> Iterator[CaseRecords]:
        """These cases, in this order, each with its records (indexed reads: for a page of them)."""
        for key in ids:
            case = self.case(key)
            if case is not None:
                history, notes = (self.history(key), self.notes(key)) if details else ([], [])
                yield CaseRecords(case, self.submissions_of(key), self.replies(key), history, notes)

    def page_of_cases(self, limit: int) -> list[int]:
        """The first `limit` cases to show: open ones first, oldest first, then closed ones."""
        rows = self.db.execute("SELECT id FROM cases WHERE status != 'closed' ORDER BY id LIMIT ?", (limit,)).fetchall()
        if len(rows) < limit:
            rows += self.db.execute(
                "SELECT id FROM cases WHERE status = 'closed' ORDER BY id LIMIT ?", (limit - len(rows),)
            ).fetchall()
        return [r["id"] for r in rows]

    def due_candidates(self, before: str) -> list[int]:
        """Cases not closed with a live submission due before `before` (ISO): a superset of those
        overdue or due soon, found by the due index, for `assistant cases due` to judge."""
        rows = self.db.execute(
            "SELECT DISTINCT s.case_id FROM submissions s JOIN cases c ON c.id = s.case_id "
            "WHERE s.due_at IS NOT NULL AND s.due_at < ? AND s.status IN ('pending', 'confirmed') "
            "AND c.status != 'closed' ORDER BY s.case_id",
            (before,),
        )
        return [r["case_id"] for r in rows]

    def every_case(self, *, details: bool = True, closed: bool | None = None) -> Iterator[CaseRecords]:
        """Every case with its records, oldest first, in one pass over each table: flat memory and
        a handful of queries however many cases there are. `details=False` leaves the history and
        the notes out (the list does not show them); `closed` picks the closed (True) or the open
        (False) ones only."""
        where = "" if closed is None else ("WHERE status = 'closed' " if closed else "WHERE status != 'closed' ")
        cases = self.db.execute(f"SELECT * FROM cases {where}ORDER BY id")
        subs = _grouped(self.db.execute("SELECT * FROM submissions WHERE case_id IS NOT NULL ORDER BY case_id, id"))
        replies = _grouped(
            self.db.execute(
                "SELECT case_id, id, submission_id, number, text, received_at, recorded_at FROM replies "
                "ORDER BY case_id, id"
            )
        )
        history = notes = None
        if details:
            history = _grouped(
                self.db.execute("SELECT case_id, status, at, note FROM status_history ORDER BY case_id, id")
            )
            notes = _grouped(self.db.execute("SELECT case_id, at, text FROM notes ORDER BY case_id, id"))
        for row in cases:
            case = dict(row)
            key = case["id"]
            yield CaseRecords(
                case,
                [Submission(**r) for r in subs.take(key)],
                [_without_case(r) for r in replies.take(key)],
                [_without_case(r) for r in history.take(key)] if history else [],
                [_without_case(r) for r in notes.take(key)] if notes else [],
            )

    def submissions_of(self, case_id: int) -> list[Submission]:
        rows = self.db.execute("SELECT * FROM submissions WHERE case_id=? ORDER BY id", (case_id,))
        return [Submission(**dict(r)) for r in rows]

    def history(self, case_id: int) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT status, at, note FROM status_history WHERE case_id=? ORDER BY id", (case_id,)
            )
        ]

    def replies(self, case_id: int) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT id, submission_id, number, text, received_at, recorded_at FROM replies "
                "WHERE case_id=? ORDER BY id",
                (case_id,),
            )
        ]

    def notes(self, case_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT at, text FROM notes WHERE case_id=? ORDER BY id", (case_id,))]

    def _set_status(self, db: sqlite3.Connection, case_id: int, status: str, note: str | None) -> None:
        if status not in CASE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(CASE_STATUSES)}")
        stamp = now()
        db.execute(
            "UPDATE cases SET status=?, updated_at=?, closed_at=? WHERE id=?",
            (status, stamp, stamp if status == "closed" else None, case_id),
        )
        db.execute(
            "INSERT INTO status_history(case_id, status, at, note) VALUES (?, ?, ?, ?)",
            (case_id, status, stamp, note),
        )

    def set_status(self, case_id: int, status: str, note: str | None = None) -> None:
        with self.transaction() as db:
            self._set_status(db, case_id, status, note)

    def add_reply(self, case_id: int, *, number: str | None, text: str | None, received_at: str) -> None:
        """The provider answered: keep what they said and, if they gave one, their request number.

        The number replaces a Message-ID as the reference of the latest confirmed
        submission that has no number of the provider's own yet.
        """
        with self.transaction() as db:
            latest = db.execute(
                "SELECT id, confirmation, message_id FROM submissions WHERE case_id=? AND status='confirmed' "
                "ORDER BY id DESC LIMIT 1",
                (case_id,),
            ).fetchone()
            db.execute(
                "INSERT INTO replies(case_id, submission_id, number, text, received_at, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, latest["id"] if latest else None, number, text, received_at, now()),
            )
            if (
                number
                and latest is not None
                and (latest["confirmation"] is None or latest["confirmation"] == latest["message_id"])
            ):
                db.execute("UPDATE submissions SET confirmation=? WHERE id=?", (number, latest["id"]))
            self._set_status(
                db, case_id, "answered", f"reply received {received_at}" + (f", number {number}" if number else "")
            )

    def add_note(self, case_id: int, text: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO notes(case_id, at, text) VALUES (?, ?, ?)", (case_id, now(), text))
            db.execute("UPDATE cases SET updated_at=? WHERE id=?", (now(), case_id))

    # ------------------------------------------------------------ resolving unknown outcomes

    def _pending(self, db: sqlite3.Connection, submission_id: int) -> sqlite3.Row | None:
        return db.execute(
            "SELECT id, case_id FROM submissions WHERE id=? AND status='pending'", (submission_id,)
        ).fetchone()

    def _history_note(self, db: sqlite3.Connection, case_id: int | None, note: str) -> None:
        """A line in the case's history that leaves its status as it is."""
        if case_id is None:
            return
        stamp = now()
        db.execute(
            "INSERT INTO status_history(case_id, status, at, note) SELECT id, status, ?, ? FROM cases WHERE id=?",
            (stamp, note, case_id),
        )
        db.execute("UPDATE cases SET updated_at=? WHERE id=?", (stamp, case_id))

    def resolve_filed(self, submission_id: int, number: str | None, url: str | None, note: str) -> bool:
        """A pending submission the provider did receive, its number found afterwards (on their
        own list, or in their email): confirmed (settled_at says when it was resolved), its
        deadline as journalled, the note in the case's history. False, changing nothing, if it
        is no longer pending."""
        with self.transaction() as db:
            row = self._pending(db, submission_id)
            if row is None:
                return False
            stamp = now()
            db.execute(
                "UPDATE submissions SET status='confirmed', confirmation=?, confirmation_url=?, confirmed_at=?, "
                "settled_at=? WHERE id=?",
                (number, url, stamp, stamp, submission_id),
            )
            self._history_note(db, row["case_id"], note)
        return True

    def record_number(self, submission_id: int, number: str, note: str) -> bool:
        """The number of a request accepted without one (a thank-you page, a draft sent by
        email), when the provider's email brings it; the case's status stays. False, changing
        nothing, unless it is accepted and has no number of the provider's own yet."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT id, case_id FROM submissions WHERE id=? AND status='confirmed' "
                "AND (confirmation IS NULL OR confirmation = message_id)",
                (submission_id,),
            ).fetchone()
            if row is None:
                return False
            db.execute("UPDATE submissions SET confirmation=? WHERE id=?", (number, submission_id))
            self._history_note(db, row["case_id"], note)
        return True

    def resolve_not_filed(self, submission_id: int, note: str) -> bool:
        """A pending submission that never reached the provider: no deadline, no block on a
        resend, the note in the case's history. False, changing nothing, if it is no longer pending."""
        with self.transaction() as db:
            row = self._pending(db, submission_id)
            if row is None:
                return False
            db.execute(
                "UPDATE submissions SET status='not_filed', due_at=NULL, settled_at=? WHERE id=?",
                (now(), submission_id),
            )
            self._history_note(db, row["case_id"], note)
        return True
