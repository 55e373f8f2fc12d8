"""The case store: migration from schema 1, cases commands, deadlines due, bad input."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from helpers import json_out, run_cli, submissions, write_case

from assistant import store as store_module
from assistant.casework.deadlines import due_at
from assistant.store import MIGRATIONS, Store

SCHEMA_1_ROWS = [
    # case_key, provider, category, subject, order_id, status, confirmation, submitted_at
    ("k1", "demo", "payment", "Card charged", "DM-1", "confirmed", "DEMO-100001", "2026-11-02T09:00:00Z"),
    ("k2", "demo", "payment", "Card charged again", "dm 1", "confirmed", "DEMO-100002", "2026-11-03T09:00:00Z"),
    ("k3", "demo", "technical", "App crashes", None, "pending", None, "2026-11-04T09:00:00Z"),
]


def schema_1_db(home: Path) -> Path:
    home.mkdir(parents=True)
    path = home / "assistant.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    for statement in MIGRATIONS[1].split(";"):
        if statement.strip():
            db.execute(statement)
    for key, provider, category, subject, order, status, number, at in SCHEMA_1_ROWS:
        case_json = json.dumps({"provider": provider, "category": category, "language": "ru", "order_id": order})
        db.execute(
            "INSERT INTO submissions(case_key, provider, category, subject, order_id, channel, flow_id, flow_version, "
            "flow_sha256, status, confirmation, submitted_at, evidence_dir, case_json) "
            "VALUES (?, ?, ?, ?, ?, 'web_form', 'demo', '1', 'abc', ?, ?, ?, '/tmp/e', ?)",
            (key, provider, category, subject, order, status, number, at, case_json),
        )
    db.commit()
    db.close()
    return path


def rows(path: Path, sql: str) -> list[dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql)]
    finally:
        db.close()


def test_schema_1_database_migrates_without_losing_rows(tmp_path):
    home = tmp_path / "home"
    path = schema_1_db(home)
    before = rows(path, "SELECT * FROM submissions ORDER BY id")

    listed = json_out(run_cli("cases", "list", "--json", home=home))

    after = rows(path, "SELECT * FROM submissions ORDER BY id")
    assert [{k: r[k] for k in before[0]} for r in after] == before  # every old column and value kept
    assert rows(path, "SELECT value FROM meta WHERE key='schema_version'") == [{"value": "4"}]
    # Schema 4: every lookup by case has its index (a scan per case made `cases` quadratic).
    indexes = {r["name"] for r in rows(path, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"status_history_case_id", "replies_case_id", "notes_case_id", "submissions_due_at"} <= indexes
    plan = rows(path, "EXPLAIN QUERY PLAN SELECT status, at, note FROM status_history WHERE case_id=1 ORDER BY id")
    assert any("USING INDEX status_history_case_id" in r["detail"] for r in plan), plan
    # Same provider and order number (spaces and case aside) is one matter: two cases, not three.
    assert [
        (c["provider"], c["order_id"], c["language"], [s["confirmation"] for s in c["submissions"]]) for c in listed
    ] == [
        ("demo", "DM-1", "ru", ["DEMO-100001", "DEMO-100002"]),
        ("demo", None, "ru", [None]),
    ]
    assert all(c["status"] == "open" and c["history"][0]["note"].startswith("recorded before") for c in listed)
    # Opening it again changes nothing.
    assert json_out(run_cli("cases", "list", "--json", home=home)) == listed


def test_a_failed_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    home = tmp_path / "home"
    path = schema_1_db(home)

    def broken(db):
        db.execute(
            "INSERT INTO cases(matter, provider, category, created_at, updated_at, case_json) "
            "VALUES ('m', 'p', 'c', 'now', 'now', '{}')"
        )
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setitem(store_module.BACKFILLS, 2, broken)
    with pytest.raises(sqlite3.OperationalError):
        Store(home)
    tables = {r["name"] for r in rows(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "cases" not in tables and "replies" not in tables
    assert rows(path, "SELECT value FROM meta WHERE key='schema_version'") == [{"value": "1"}]
    assert len(rows(path, "SELECT * FROM submissions")) == 3
    columns = {r["name"] for r in rows(path, "PRAGMA table_info(submissions)")}
    assert "case_id" not in columns


def test_reply_status_note_close_and_show(tmp_path):
    home = tmp_path / "home"
    sent = json_out(
        run_cli("submit", "demo-email", "--case", str(write_case(tmp_path)), "--eml-only", "--yes", "--json", home=home)
    )
    assert run_cli("cases", "mark-sent", "1", home=home).returncode == 0  # the person sent the .eml
    assert run_cli("cases", "note", "1", "Called the hotline, agent Olga said 3 days", home=home).returncode == 0
    done = run_cli(
        "cases",
        "reply",
        "1",
        "--number",
        "SUP-4411",
        "--text",
        "Refund in 3 days.",
        "--at",
        "2026-11-21T10:00:00+03:00",
        home=home,
    )
    assert done.returncode == 0, done.stderr
    assert json_out(run_cli("cases", "status", "SUP-4411", "--json", home=home))["status"] == "answered"
    assert run_cli("cases", "close", "SUP-4411", "--note", "refunded", home=home).returncode == 0

    shown = json_out(run_cli("cases", "show", "1", "--json", home=home))
    assert shown["status"] == "closed" and shown["closed_at"]
    assert [h["status"] for h in shown["history"]] == ["open", "open", "answered", "closed"]
    assert "sent by you" in shown["history"][1]["note"]
    assert shown["history"][-1]["note"] == "refunded"
    assert shown["replies"][0]["number"] == "SUP-4411"
    assert shown["replies"][0]["received_at"] == "2026-11-21T10:00:00+03:00"
    assert shown["notes"][0]["text"].startswith("Called the hotline")
    assert shown["submissions"][0]["message_id"] == sent["confirmation"]
    assert shown["submissions"][0]["confirmation"] == "SUP-4411"
    text = run_cli("cases", "show", "1", home=home)
    assert "SUP-4411" in text.stdout and "refunded" in text.stdout

    # Closed: the same matter may be filed again.
    again = run_cli(
        "submit",
        "demo-email",
        "--case",
        str(write_case(tmp_path, steps_taken=["Waited."])),
        "--eml-only",
        "--yes",
        home=home,
    )
    assert again.returncode == 0, again.stderr
    assert len(json_out(run_cli("cases", "--json", home=home))) == 2


def test_unknown_case_is_a_clear_error(tmp_path):
    done = run_cli("cases", "show", "42", home=tmp_path / "home")
    assert done.returncode == 2 and "no case '42'" in done.stderr
    # Past SQLite's integers, and digits that are not ASCII: the same answer, not a traceback.
    for ref in ("99999999999999999999999", "²", "٣"):
        for command in (["cases", "show", ref], ["script", ref, "--channel", "chat"]):
            done = run_cli(*command, home=tmp_path / "home")
            assert done.returncode == 2 and f"no case '{ref}'" in done.stderr, done.stderr
            assert "Traceback" not in done.stderr


def test_due_lists_what_is_late_or_due_within_a_day_with_the_next_action(tmp_path):
    home = tmp_path / "home"
    json_out(
        run_cli("submit", "demo-email", "--case", str(write_case(tmp_path)), "--eml-only", "--yes", "--json", home=home)
    )
    technical = write_case(
        tmp_path,
        category="technical",
        order_id="DM-2026-200001",
        description="The app closes when I open the order list, every time since the update.",
    )
    json_out(run_cli("submit", "demo-email", "--case", str(technical), "--eml-only", "--yes", "--json", home=home))
    # Drafts start no clock; the person sending them does.
    assert json_out(run_cli("cases", "due", "--json", "--now", "2099-01-01T00:00:00+00:00", home=home)) == []
    for case in ("1", "2"):
        assert run_cli("cases", "mark-sent", case, home=home).returncode == 0
    first, second = submissions(home)
    filed = dt.datetime.fromisoformat(first["submitted_at"].replace("Z", "+00:00"))
    # payments: 24 hours; technical: 3 business days on the Russian calendar, in Moscow time.
    due = dt.datetime.fromisoformat(first["due_at"])
    assert abs(due - due_at(filed, hours=24)) < dt.timedelta(seconds=1) and due.utcoffset() == dt.timedelta(hours=3)
    filed2 = dt.datetime.fromisoformat(second["submitted_at"].replace("Z", "+00:00"))
    assert second["due_at"] == due_at(filed2, business_days=3).isoformat()

    # A 24-hour payment deadline is due within a day from the start; 3 business days are not.
    soon = json_out(run_cli("cases", "due", "--json", home=home))
    assert [(r["case"], r["state"]) for r in soon] == [(1, "due soon")]
    assert "wait for the answer" in soon[0]["next_action"]
    assert (
        json_out(run_cli("cases", "due", "--json", "--now", (filed - dt.timedelta(days=1)).isoformat(), home=home))
        == []
    )
    late = json_out(run_cli("cases", "due", "--json", "--now", (filed + dt.timedelta(days=30)).isoformat(), home=home))
    assert [(r["case"], r["state"]) for r in late] == [(1, "overdue"), (2, "overdue")]
    assert "assistant followup 1" in late[0]["next_action"]
    text = run_cli("cases", "due", "--now", (filed + dt.timedelta(days=30)).isoformat(), home=home).stdout
    assert "overdue" in text and "next: file a repeat complaint on inaction" in text
    # An answer stops the clock.
    run_cli("cases", "reply", "2", "--text", "Fixed in 6.12.1", home=home)
    late = json_out(run_cli("cases", "due", "--json", "--now", (filed + dt.timedelta(days=30)).isoformat(), home=home))
    assert [r["case"] for r in late] == [1]


def test_bad_case_files_get_a_clear_error_naming_the_field(tmp_path):
    home = tmp_path / "home"
    cases = {
        "wrong type": ({"steps_taken": {"first": "restarted the app"}}, "steps_taken"),
        "date only": ({"incident_at": "20.11.2026"}, "incident_at"),
        "unknown category": ({"category": "refunds"}, "category: 'refunds'"),
    }
    for label, (changes, field) in cases.items():
        renamed = write_case(tmp_path, **changes).rename(tmp_path / f"{label.replace(' ', '-')}.yaml")
        for command in (
            ["check", "--case", str(renamed)],
            ["submit", "demo-email", "--case", str(renamed), "--eml-only", "--yes"],
        ):
            done = run_cli(*command, home=home)
            assert done.returncode == 2, (label, done.stderr)
            assert field in done.stderr and "Traceback" not in done.stderr, (label, done.stderr)
    assert "no time" in run_cli("check", "--case", str(tmp_path / "date-only.yaml"), home=home).stderr
    assert submissions(home) == []


def test_unreadable_attachments_are_named(tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    (tmp_path / "demo-app-error.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # truncated screenshot
    done = run_cli("check", "--case", str(case), home=home)
    assert done.returncode == 2
    assert "attachments[0]: demo-app-error.png cannot be opened as an image" in done.stderr
    (tmp_path / "demo-app-error.png").unlink()
    (tmp_path / "demo-app-error.png").mkdir()
    done = run_cli("submit", "demo-email", "--case", str(case), "--eml-only", "--yes", home=home)
    assert done.returncode == 2 and "attachments[0]: demo-app-error.png is a folder" in done.stderr
    assert submissions(home) == []


def test_a_store_from_a_newer_version_is_refused_untouched(tmp_path):
    home = tmp_path / "home"
    path = schema_1_db(home)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    done = run_cli("cases", home=home)
    assert done.returncode == 2 and "newer version (schema 99)" in done.stderr and "Traceback" not in done.stderr
    assert len(rows(path, "SELECT * FROM submissions")) == 3
