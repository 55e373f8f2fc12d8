"""Escalation drafts a lawyer would sign: true to where the case stands, the person's name in the
genitive, the provider's legal entity, the authority and the law of the provider's kind, and a case
that becomes `escalated` only once the person says the draft was sent.

Each case is filed by email with `--eml-only` and marked sent (no browser); the flow is DemoMarket's
email flow copied into the person's own flows folder with a `legal:` block. Time passes as in
test_followup: the journal's due times are moved into the past.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from helpers import REPO, json_out, run_cli, submissions, write_case

from assistant.casework.compose import format_date, format_datetime
from assistant.casework.names import genitive_name

MOSCOW = dt.timezone(dt.timedelta(hours=3))
DEMO_EMAIL = REPO / "flows" / "demo-email.yaml"
INN = "7701000001"  # made up: only its control digit is right
LEGAL = f"""legal:
  kind: {{kind}}
  entity: ООО «ДемоМаркет»
  inn: "{INN}"
  address: 101000, г. Москва, ул. Примерная, д. 1
"""


def file_case(tmp_path: Path, *, kind: str | None = "consumer_service", **case: object) -> Path:
    """A case filed through demo-email (with a legal block of `kind`, or none) and marked sent."""
    home = tmp_path / "home"
    if kind is not None:
        flows = home / "flows"
        flows.mkdir(parents=True)
        text = DEMO_EMAIL.read_text(encoding="utf-8")
        legal = "provider: DemoMarket\n" + LEGAL.format(kind=kind)
        (flows / "demo-email.yaml").write_text(text.replace("provider: DemoMarket\n", legal), encoding="utf-8")
    path = write_case(tmp_path, language="ru", **case)
    json_out(run_cli("submit", "demo-email", "--case", str(path), "--eml-only", "--yes", "--json", home=home))
    assert run_cli("cases", "mark-sent", "1", home=home).returncode == 0
    return home


def due_date(home: Path, lang: str = "ru") -> str:
    """The request's deadline as the drafts cite it: its date in the provider's zone."""
    return format_date(dt.datetime.fromisoformat(submissions(home)[0]["due_at"]).date(), lang)


def deadline_passes(home: Path) -> None:
    past = (dt.datetime.now(MOSCOW) - dt.timedelta(days=1)).isoformat()
    with sqlite3.connect(home / "assistant.db") as db:
        db.execute("UPDATE submissions SET due_at=?", (past,))


def drafted(home: Path, target: str, *more: str) -> str:
    """Draft CASE 1 (no PDF) and read the text file it wrote."""
    done = json_out(run_cli("escalate", "1", "--to", target, "--no-pdf", "--json", *more, home=home))
    return Path(done["text"]).read_text(encoding="utf-8")


def status(home: Path) -> str:
    return str(json_out(run_cli("cases", "show", "1", "--json", home=home))["status"])


NOT_IN_TIME = "в установленный срок"  # the sentence that says the answer is late


def test_before_the_deadline_it_is_refused_and_forced_drafts_say_the_deadline_has_not_passed(tmp_path):
    home = file_case(tmp_path)
    out = tmp_path / "drafts"
    early = run_cli("escalate", "1", "--to", "regulator", "--no-pdf", "--out", str(out), home=home)
    assert early.returncode == 3, early.stderr
    message = early.stderr.strip()
    assert "\n" not in message and "--force" in message
    due_at = dt.datetime.fromisoformat(submissions(home)[0]["due_at"])
    assert f"is due {format_datetime(due_at, 'en')} (due soon)" in message  # 24 hours for a payment
    assert not out.exists()

    due = due_date(home)
    regulator = drafted(home, "regulator", "--force")
    assert f"Срок ответа ({due}) ещё не истёк; ответ пока не получен." in regulator
    assert NOT_IN_TIME not in regulator
    claim = drafted(home, "claim", "--force")
    assert f"Срок ответа ({due}) ещё не истёк; ответ пока не получен." in claim
    assert "не получил" not in claim and NOT_IN_TIME not in claim
    english = drafted(home, "regulator", "--force", "--lang", "en")
    due_en = due_date(home, "en")
    assert f"The deadline for an answer ({due_en}) has not passed yet; no answer has come so far." in english

    shown = json_out(run_cli("cases", "show", "1", "--json", home=home))
    assert shown["status"] == "open"  # drafting is not sending
    assert all("(not sent)" in note["text"] for note in shown["notes"])


def test_after_the_deadline_a_consumer_service_goes_to_rospotrebnadzor_against_its_entity(tmp_path):
    home = file_case(
        tmp_path,
        contacts={"full_name": "Иван Сергеевич Смирнов", "phone": "+7 912 345-67-89", "email": "i.s@example.com"},
    )
    deadline_passes(home)
    due = due_date(home)

    regulator = drafted(home, "regulator")
    assert regulator.startswith("В Управление Роспотребнадзора\nот Смирнова Ивана Сергеевича, тел. +7 912 345-67-89")
    assert (
        f"ЖАЛОБА\nна действия (бездействие) ООО «ДемоМаркет» (DemoMarket), ИНН {INN}\n"
        "Адрес: 101000, г. Москва, ул. Примерная, д. 1\n\n"
    ) in regulator
    assert f"Ответа по существу в установленный срок (до {due}) не получено." in regulator
    assert "Законом РФ от 07.02.1992 № 2300-1 «О защите прав потребителей»" in regulator
    assert "Мои требования к ООО «ДемоМаркет»: Refund the 2,480.00 RUB" in regulator
    assert regulator.rstrip().endswith("\n\nИван Сергеевич Смирнов")  # signed in the nominative
    assert "Банк России" not in regulator

    claim = drafted(home, "claim")
    assert claim.startswith(
        f"Руководителю ООО «ДемоМаркет» (DemoMarket), ИНН {INN}\nАдрес: 101000, г. Москва, ул. Примерная, д. 1\n"
        "от Смирнова Ивана Сергеевича, тел."
    )
    assert f"Ответа по существу в установленный срок (до {due}) не получено." in claim
    assert "Требую в течение 10 дней со дня получения настоящей претензии: Refund" in claim
    assert "статьи 22 и 31 Закона РФ от 07.02.1992 № 2300-1" in claim and "пункт 6 статьи 13" in claim

    assert status(home) == "open"
    sent = json_out(
        run_cli(
            "escalate", "1", "--to", "regulator", "--sent", "--at", "2026-12-01T10:00:00+03:00", "--json", home=home
        )
    )
    assert sent["status"] == "escalated"
    shown = json_out(run_cli("cases", "show", "1", "--json", home=home))
    assert shown["status"] == "escalated"
    assert shown["history"][-1]["note"] == "complaint to Rospotrebnadzor sent on 1 December 2026, 10:00 (UTC+03:00)"


def test_a_payment_operator_goes_to_the_bank_of_russia_in_both_languages(tmp_path):
    from pypdf import PdfReader

    home = file_case(tmp_path, kind="payment_operator")
    deadline_passes(home)

    russian = drafted(home, "regulator")
    assert russian.startswith("В Банк России\n(интернет-приёмная: cbr.ru/reception)\nот Петровой Анны, тел.")
    assert "статье 9 Федерального закона от 27.06.2011 № 161-ФЗ «О национальной платёжной системе»" in russian
    assert "Роспотребнадзор" not in russian and "О защите прав потребителей" not in russian
    claim = drafted(home, "claim")
    assert "161-ФЗ" in claim and "обращусь в Банк России и в суд" in claim and "статьи 22 и 31" not in claim

    english = json_out(run_cli("escalate", "1", "--to", "regulator", "--lang", "en", "--json", home=home))
    text = Path(english["text"]).read_text(encoding="utf-8")
    assert text.startswith("To: the Bank of Russia\n(internet reception: cbr.ru/reception)\nFrom: Анна Петрова,")
    assert f"about the actions (inaction) of ООО «ДемоМаркет» (DemoMarket), INN {INN}" in text
    assert 'article 9 of Federal Law No. 161-FZ of 27.06.2011 "On the National Payment System"' in text
    assert f"No answer on the substance came within the deadline ({due_date(home, 'en')})." in text
    pdf = " ".join(page.extract_text() for page in PdfReader(english["pdf"]).pages)
    assert "Bank of Russia" in pdf and "161-FZ" in pdf

    sent = run_cli("escalate", "1", "--to", "regulator", "--sent", home=home)
    assert sent.returncode == 0 and "complaint to the Bank of Russia sent on " in sent.stdout
    assert status(home) == "escalated"


def test_an_answer_the_person_disagrees_with_is_said_to_have_come(tmp_path):
    home = file_case(tmp_path)
    reply = run_cli(
        "cases", "reply", "1", "--number", "R-77", "--text", "Отказано", "--at", "2026-11-21T12:00:00+03:00", home=home
    )
    assert reply.returncode == 0, reply.stderr
    regulator = drafted(home, "regulator")  # before the deadline, and no --force: it has been answered
    assert "21.11.2026 получен ответ (№ R-77); с ответом я не согласен(на)." in regulator
    assert "не получено" not in regulator and "ещё не истёк" not in regulator
    english = drafted(home, "claim", "--lang", "en")
    assert "An answer came on 21 November 2026 (No. R-77); I disagree with it." in english
    # The public review too: never "still no answer" once one came.
    review = drafted(home, "review")
    assert "21.11.2026 получен ответ (№ R-77); с ответом я не согласен(на). Хочу только одного:" in review
    assert "до сих пор нет" not in review
    assert "There is still no answer" not in drafted(home, "review", "--lang", "en")


def test_without_a_legal_block_the_draft_names_the_brand_before_rospotrebnadzor(tmp_path):
    home = file_case(tmp_path, kind=None)
    deadline_passes(home)
    regulator = drafted(home, "regulator")
    assert regulator.startswith("В Управление Роспотребнадзора\nот Петровой Анны, тел.")
    assert "ЖАЛОБА\nна действия (бездействие) DemoMarket\n\n" in regulator and "ИНН" not in regulator
    assert drafted(home, "claim").startswith("Руководителю DemoMarket\nот Петровой Анны, тел.")


def test_marking_sent_wants_a_real_time_and_at_only_with_sent(tmp_path):
    home = file_case(tmp_path)
    alone = run_cli("escalate", "1", "--to", "claim", "--at", "2026-12-01T10:00:00+03:00", home=home)
    assert alone.returncode == 2 and "--at goes with --sent" in alone.stderr
    future = run_cli("escalate", "1", "--to", "claim", "--sent", "--at", "2999-01-01T10:00:00+03:00", home=home)
    assert future.returncode == 2 and "in the future" in future.stderr
    assert status(home) == "open"


def test_an_inn_whose_control_digit_is_wrong_is_refused_in_the_flow(tmp_path):
    flow = tmp_path / "demo-email.yaml"
    legal = "provider: DemoMarket\n" + LEGAL.format(kind="bank").replace(INN, "7701000002")
    flow.write_text(DEMO_EMAIL.read_text(encoding="utf-8").replace("provider: DemoMarket\n", legal), encoding="utf-8")
    done = run_cli("flow", "validate", str(flow), home=tmp_path / "home")
    assert done.returncode == 2 and "control digits" in done.stderr and "legal" in done.stderr


def test_the_legal_block_in_docs_filing_is_a_valid_one():
    from ruamel.yaml import YAML

    from assistant.language.flow import Legal

    text = (REPO / "docs" / "filing.md").read_text(encoding="utf-8")
    block = text.split("  ```yaml\n  legal:\n", 1)[1].split("  ```", 1)[0]
    legal = Legal.model_validate(YAML(typ="safe").load("legal:\n" + block)["legal"])
    assert legal.kind == "consumer_service" and legal.inn and legal.entity and legal.address


@pytest.mark.parametrize(
    ("written", "genitive"),
    [
        ("Иван Сергеевич Смирнов", "Смирнова Ивана Сергеевича"),
        ("Смирнов Иван Сергеевич", "Смирнова Ивана Сергеевича"),
        ("Иван Смирнов", "Смирнова Ивана"),
        ("Анна Петрова", "Петровой Анны"),
        ("Петрова Анна Сергеевна", "Петровой Анны Сергеевны"),
        ("Анна Сергеевна Петрова", "Петровой Анны Сергеевны"),
        ("Лев Толстой", "Толстого Льва"),
        ("Любовь Орлова", "Орловой Любови"),
        ("Семен Петров", "Петрова Семена"),  # no ё where the person wrote none
        ("Фёдор Достоевский", "Достоевского Фёдора"),
        ("Николай Римский-Корсаков", "Римского-Корсакова Николая"),
        ("Мария Склодовская-Кюри", "Склодовской-Кюри Марии"),
        ("Анна-Мария Петрова", "Петровой Анны-Марии"),
        ("Тарас Шевченко", "Шевченко Тараса"),  # surnames that do not decline
        ("Мария Ким", "Ким Марии"),
        ("ИВАН СМИРНОВ", "СМИРНОВА ИВАНА"),
        # As written when the parts cannot be told apart: never a guessed form.
        ("John Smith", "John Smith"),
        ("Ivan Смирнов", "Ivan Смирнов"),
        ("Женя Ким", "Женя Ким"),  # a man's or a woman's name: Кима or Ким
        ("Иван Голубь", "Иван Голубь"),  # a surname that is also a noun
        ("Михаил Бонч-Бруевич", "Михаил Бонч-Бруевич"),
        ("Ахмед Оглы Мамедов", "Ахмед Оглы Мамедов"),
        ("Иван Петрова", "Иван Петрова"),  # genders that disagree
        ("И. С. Смирнов", "И. С. Смирнов"),
        ("Анна", "Анна"),
        ("Анна Мария Петрова Иванова", "Анна Мария Петрова Иванова"),
    ],
)
def test_the_name_in_the_genitive_surname_first_or_as_written(written, genitive):
    assert genitive_name(written) == genitive
