"""After filing: the complaint on inaction, escalation drafts, phone and chat scripts."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

from helpers import json_out, run_cli, submissions, write_case

PHONE_CALL = {"number": "T-1001", "date": "2026-11-20", "channel": "phone"}


def deadline_passes(home: Path) -> None:
    """Time passes: every answer the provider owes is now overdue.

    Due times stay in the provider's zone (Moscow), as the journal writes them: a request's date is
    cited on the provider's calendar, which a UTC due time would move back a day late in the evening.
    """
    moscow = dt.timezone(dt.timedelta(hours=3))
    past = (dt.datetime.now(moscow) - dt.timedelta(days=1)).isoformat()
    with sqlite3.connect(home / "assistant.db") as db:
        db.execute("UPDATE submissions SET due_at=?", (past,))


def local_date(stamp: str) -> str:
    """A submission's date as the request cites it: in the provider's zone (Moscow), DD.MM.YYYY."""
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(dt.timezone(dt.timedelta(hours=3)))
    return moment.strftime("%d.%m.%Y")


def test_followup_on_inaction_cites_every_earlier_number_through_the_same_channel(portal, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path, language="ru", previous_requests=[PHONE_CALL])
    first = json_out(
        run_cli("submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes", "--json", home=home)
    )

    early = run_cli("followup", "1", "--base-url", portal.url, "--yes", home=home)
    assert early.returncode == 3 and "before the deadline" in early.stderr and len(portal.received) == 1

    deadline_passes(home)
    second = json_out(run_cli("followup", "1", "--base-url", portal.url, "--yes", "--json", home=home))
    assert len(portal.received) == 2
    ticket = portal.received[1].fields
    assert ticket["subject"] == "На бездействие: Card charged but order not placed"
    body = ticket["description"]
    assert body.startswith("На бездействие\n\nЗдравствуйте!")
    filed = local_date(submissions(home)[0]["submitted_at"])
    assert "- № T-1001 от 20.11.2026 (телефон)" in body
    assert f"- № {first['confirmation']} от {filed} (форма на сайте); срок ответа истёк" in body
    assert "Дата и время: 20.11.2026 14:35 (UTC+03:00)" in body and "Роспотребнадзор" in body

    deadline_passes(home)
    json_out(run_cli("followup", "1", "--base-url", portal.url, "--yes", "--json", home=home))
    third = portal.received[2].fields["description"]
    for number in ("T-1001", first["confirmation"], second["confirmation"]):
        assert f"№ {number} от " in third
    rows = submissions(home)
    for row in rows:  # each submission keeps the hash of its evidence manifest
        manifest = Path(row["evidence_dir"]) / "manifest.json"
        assert row["manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert [(r["kind"], r["channel"], r["case_id"]) for r in rows] == [
        ("request", "web_form", 1),
        ("followup", "web_form", 1),
        ("followup", "web_form", 1),
    ]
    due = json_out(run_cli("cases", "due", "--json", "--now", "2099-01-01T00:00:00+00:00", home=home))
    assert "assistant escalate 1 --to regulator" in due[0]["next_action"]


def test_followup_by_email_goes_by_email(tmp_path):
    home = tmp_path / "home"
    sent = json_out(
        run_cli("submit", "demo-email", "--case", str(write_case(tmp_path)), "--eml-only", "--yes", "--json", home=home)
    )
    assert run_cli("cases", "mark-sent", "1", home=home).returncode == 0
    deadline_passes(home)
    repeat = json_out(run_cli("followup", "1", "--eml-only", "--yes", "--json", home=home))
    eml = (Path(repeat["evidence_dir"]) / "message.eml").read_text()
    assert "Subject: [DemoMarket] On inaction: Card charged but order not placed" in eml
    import email
    import email.policy

    message = email.message_from_string(eml, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Complaint on inaction\n\nHello,")
    assert f"- No. {sent['confirmation']} filed on " in text
    assert [r["channel"] for r in submissions(home)] == ["email", "email"]


def test_escalation_drafts_text_and_pdf_without_sending(portal, tmp_path):
    from pypdf import PdfReader

    home = tmp_path / "home"
    case = write_case(tmp_path, language="ru", previous_requests=[PHONE_CALL])
    first = json_out(
        run_cli("submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes", "--json", home=home)
    )
    out = tmp_path / "drafts"
    deadline_passes(home)  # before it, an escalation is refused (tests/test_escalation.py)
    drafts = {}
    for target in ("regulator", "claim", "review"):
        drafts[target] = json_out(run_cli("escalate", "1", "--to", target, "--out", str(out), "--json", home=home))
    assert len(portal.received) == 1  # nothing sent

    regulator = Path(drafts["regulator"]["text"]).read_text()
    assert regulator.startswith("В Управление Роспотребнадзора\nот Петровой Анны")
    assert "ЖАЛОБА\nна действия (бездействие) DemoMarket" in regulator
    assert "Номер заказа / договора: DM-2026-114512" in regulator
    assert "- № T-1001 от 20.11.2026 (телефон)" in regulator
    assert f"- № {first['confirmation']} от " in regulator
    assert "- demo-app-error.png (файл изменён " in regulator and "SHA-256 " in regulator
    claim = Path(drafts["claim"]["text"]).read_text()
    assert "ДОСУДЕБНАЯ ПРЕТЕНЗИЯ" in claim and "Refund the 2,480.00 RUB" in claim
    assert first["confirmation"] in Path(drafts["review"]["text"]).read_text()

    pdf = Path(drafts["regulator"]["pdf"])
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Роспотребнадзора" in text and first["confirmation"] in text and "DM-2026-114512" in text

    shown = json_out(run_cli("cases", "show", "1", "--json", home=home))
    assert shown["status"] == "open" and "not sent" in shown["notes"][0]["text"]
    assert run_cli("escalate", "1", "--to", "regulator", "--sent", home=home).returncode == 0
    assert json_out(run_cli("cases", "show", "1", "--json", home=home))["status"] == "escalated"


def test_phone_script_in_order_and_short_chat_message(portal, tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    first = json_out(
        run_cli("submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes", "--json", home=home)
    )
    phone = run_cli("script", "1", "--channel", "phone", home=home)
    assert phone.returncode == 0, phone.stderr
    lines = [line for line in phone.stdout.splitlines() if line[:2].rstrip(".").isdigit()]
    assert lines[0].startswith('1. Who you are: "Hello, my name is Анна Петрова. The account is tied to +7 912')
    assert lines[1] == f'2. The request number: "I have already filed this, request number {first["confirmation"]}."'
    assert lines[2].startswith("3. The order number") and lines[3].startswith('4. What happened: "20 November 2026')
    assert lines[-2].startswith('6. What you want: "Refund the 2,480.00 RUB')

    chat = json_out(run_cli("script", "1", "--channel", "chat", "--lang", "ru", "--json", home=home))["text"]
    assert chat.startswith("Здравствуйте! Card charged but order not placed.")
    assert f"Обращение: № {first['confirmation']}" in chat and "Заказ: DM-2026-114512" in chat
    assert len(chat) < 400  # chats answer briefly; so should we

    from_file = run_cli("script", str(case), "--channel", "chat", home=home)
    assert from_file.returncode == 0 and "Request: No." not in from_file.stdout  # nothing filed from the file itself
