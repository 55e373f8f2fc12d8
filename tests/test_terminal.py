"""A person at a terminal: prompts for what is missing, a summary, a question before sending."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pexpect
from helpers import submissions, write_case


def spawn(portal, case, home):
    env = {**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "assistant", "submit", "demo", "--case", str(case), "--base-url", portal.url],
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(50, 200),
    )


def test_asks_before_submitting_and_no_means_nothing_is_sent(portal, tmp_path):
    child = spawn(portal, write_case(tmp_path), tmp_path / "home")
    child.expect("About to submit:")
    child.expect("Card charged but order not placed")
    child.expect(r"Submit this request now\? It cannot be undone \[y/N\]:")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5
    assert portal.received == [] and submissions(tmp_path / "home") == []


def test_prompts_for_a_missing_contact_then_submits(portal, tmp_path):
    case = write_case(tmp_path, contacts={"full_name": "Anna Petrova", "phone": "+7 912 345-67-89"})
    child = spawn(portal, case, tmp_path / "home")
    child.expect(r"contacts\.email \(Email address for the answer\):")
    child.sendline("anna@example.com")
    child.expect(r"Submit this request now\?")
    child.sendline("y")
    child.expect(r"DEMO-\d{6}")
    number = child.after
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert [t.number for t in portal.received] == [number]
    assert portal.received[0].fields["email"] == "anna@example.com"


def test_ctrl_c_at_the_question_is_interrupted_130_and_nothing_is_sent(portal, tmp_path):
    child = spawn(portal, write_case(tmp_path), tmp_path / "home")
    child.expect(r"Submit this request now\? It cannot be undone \[y/N\]:")
    child.sendintr()
    child.expect(pexpect.EOF)
    said = child.before
    child.close()
    assert child.exitstatus == 130, said
    assert "interrupted" in said and "Aborted!" not in said and "Traceback" not in said
    assert portal.received == [] and submissions(tmp_path / "home") == []


def russian_case(tmp_path):
    """A case as a Russian speaker writes it: Russian text and a Russian date, no `language:`."""
    return write_case(
        tmp_path,
        language=None,
        subject="Деньги списаны, заказ не оформлен",
        description="20 ноября 2026 года в 14:35 я оплатил заказ картой, деньги списаны, а заказа в приложении нет.",
        incident_at="20.11.2026 14:35",
        desired_outcome="Вернуть 2480 рублей или оформить заказ как оплаченный.",
        steps_taken=["Перезапустил приложение: заказа по-прежнему нет."],
        contacts={"full_name": "Анна Петрова", "phone": "+7 912 345-67-89"},
    )


def english_prose(text: str) -> list[str]:
    """Lines that say something in English: three English words in a row once paths, addresses,
    commands in backticks, option names, the flow's own step notation (in parentheses) and the
    summary's values are taken out."""
    import re

    left = []
    for line in text.splitlines():
        # The summary's values are the case's and the flow's own words ("Payments and refunds" is the
        # demo site's category): its labels are what the program says.
        line = re.sub(r"^(  \w+(?: \w+)?)  +\S.*$", r"\1", line)
        prose = re.sub(r"`[^`]*`|\([^()]*\)|--[\w-]+|\S*[/\\@]\S*|\S+\.\w{2,4}\b|\[y/N\]", " ", line)
        if re.search(r"\b[A-Za-z]{2,}\b[ ,;:]+\b[A-Za-z]{2,}\b[ ,;:]+\b[A-Za-z]{2,}\b", prose):
            left.append(line)
    return left


def test_a_whole_submit_reads_in_russian_under_a_russian_locale(portal, tmp_path):
    """LANG=ru_RU.UTF-8, a case in Russian with no `language:`: every line the person reads is Russian,
    the missing email is asked for in Russian, and the request the portal got is Russian too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "ASSISTANT_LANG"))}
    home = tmp_path / "home"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "assistant", "submit", "demo", "--case", str(russian_case(tmp_path)), "--base-url", portal.url],
        env={**env, "LANG": "ru_RU.UTF-8", "ASSISTANT_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"},
        encoding="utf-8",
        timeout=90,
        dimensions=(50, 200),
    )
    child.logfile_read = io.StringIO()  # everything the person saw, prompts included
    child.expect(r"contacts\.email \(Адрес электронной почты для ответа\):")
    child.sendline("anna@example.com")
    child.expect("Будет отправлено:")
    child.expect(r"Отправить обращение сейчас\? Отменить это будет нельзя \[y/N\]:")
    child.sendline("y")
    child.expect("отправлено; сохраните этот номер:")
    child.expect(r"DEMO-\d{6}")
    number = child.after
    child.expect(pexpect.EOF)
    said = child.logfile_read.getvalue()
    child.close()
    assert child.exitstatus == 0, said
    assert "запечатываю пакет доказательств" in said and "доказательства:" in said, said
    assert english_prose(said) == [], said
    assert [t.number for t in portal.received] == [number]
    assert portal.received[0].fields["description"].startswith("Здравствуйте"), portal.received[0].fields


def test_a_script_with_yes_reads_russian_and_c_reads_english(portal, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "ASSISTANT_LANG"))}
    args = ["-m", "assistant", "submit", "demo", "--base-url", portal.url, "--yes", "--dry-run"]
    runs = {}
    for lang in ("ru_RU.UTF-8", "C.UTF-8"):
        folder = tmp_path / lang
        folder.mkdir()
        case = write_case(folder, contacts={"full_name": "Anna Petrova", "phone": "+7 912 345-67-89"})
        runs[lang] = subprocess.run(
            [sys.executable, *args, "--case", str(case)],
            env={**env, "LANG": lang, "ASSISTANT_HOME": str(folder / "home"), "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
        )
    ru, en = runs["ru_RU.UTF-8"], runs["C.UTF-8"]
    # The email is missing and there is no terminal to ask on: refused, naming the field, in each language.
    assert ru.returncode == en.returncode == 2, (ru.stderr, en.stderr)
    assert ru.stderr.startswith("ошибка:") and "contacts.email" in ru.stderr and english_prose(ru.stderr) == []
    assert en.stderr.startswith("error:") and "contacts.email" in en.stderr
