"""Compose: every element the source documents list, in Russian and English, in the person's clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil

import pytest
from helpers import DEMO_FLOW, SAMPLES, json_out, run_cli, write_case
from PIL import Image

from assistant.casework.compose import compose
from assistant.language.case import load_case
from assistant.language.flow import find_flow, load_flow

YEKT = dt.timezone(dt.timedelta(hours=5))  # the person lives in Yekaterinburg; the provider is in Moscow


@pytest.fixture
def complaint(tmp_path):
    """A complaint filed from UTC+05:00 with a photo whose EXIF says when it was taken."""
    path = write_case(
        tmp_path,
        category="complaint",
        language="ru",
        subject="Курьер не привёз оплаченный заказ",
        description="20 ноября 2026 года в 14:35 курьер отметил заказ DM-2026-114512 как доставленный, "
        "но заказ я не получила. Деньги 2 480,00 руб. списаны с карты.",
        incident_at="2026-11-20T14:35:00+05:00",
        steps_taken=["Позвонила курьеру: телефон недоступен.", "Написала в чат приложения, ответа нет."],
        desired_outcome="Вернуть 2 480,00 руб. на карту в течение 10 дней.",
        previous_requests=[{"number": "CH-55120", "date": "2026-11-20", "channel": "chat"}],
        attachments=None,
    )
    # write_case copies only the sample files; these two are made here.
    photo = tmp_path / "courier-photo.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 14:52:10"  # DateTimeOriginal, the phone's local time
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo, exif=exif)
    shutil.copy(SAMPLES / "demo-receipt.pdf", tmp_path / "demo-receipt.pdf")
    taken = dt.datetime(2026, 11, 20, 10, 5, tzinfo=dt.UTC).timestamp()  # 15:05 in UTC+05:00
    os.utime(tmp_path / "demo-receipt.pdf", (taken, taken))
    path.write_text(
        path.read_text(encoding="utf-8") + "attachments:\n- courier-photo.jpg\n- demo-receipt.pdf\n", encoding="utf-8"
    )
    return path


def _in_order(body: str, parts: list[str]) -> None:
    positions = []
    for part in parts:
        assert part in body, f"missing {part!r} in:\n{body}"
        positions.append(body.index(part))
    assert positions == sorted(positions), f"out of order: {parts}"


def test_russian_request_has_every_element_in_the_persons_clock(complaint, tmp_path):
    case = load_case(complaint)
    request = compose(case, flow=load_flow(DEMO_FLOW))
    body = request.body
    photo_sha = hashlib.sha256((tmp_path / "courier-photo.jpg").read_bytes()).hexdigest()
    pdf_sha = hashlib.sha256((tmp_path / "demo-receipt.pdf").read_bytes()).hexdigest()
    assert request.subject == "Курьер не привёз оплаченный заказ"
    _in_order(
        body,
        [
            "Здравствуйте!",
            "курьер отметил заказ DM-2026-114512 как доставленный",
            "Дата и время: 20.11.2026 14:35 (UTC+05:00)",
            "Номер заказа / договора: DM-2026-114512",
            "Устройство: iPhone 13, iOS 17.5, приложение 6.12.0",
            "Что я уже сделал(а):\n- Позвонила курьеру: телефон недоступен.\n- Написала в чат приложения, ответа нет.",
            "Мои требования: Вернуть 2 480,00 руб. на карту в течение 10 дней.",  # a complaint states demands
            "Прилагаю:",
            f"- courier-photo.jpg (файл датирован 20.11.2026 14:52 UTC+05:00 (EXIF); SHA-256 {photo_sha})",
            f"- demo-receipt.pdf (файл изменён 20.11.2026 15:05 UTC+05:00 (время файла); SHA-256 {pdf_sha})",
            "Предыдущие обращения по этому вопросу:\n- № CH-55120 от 20.11.2026 (чат)",
            "Контакты: Анна Петрова, тел. +7 912 345-67-89, anna.petrova@example.com",
            "С уважением,\nАнна Петрова",
        ],
    )
    assert "Прошу:" not in body and "{{" not in body


def test_english_request_has_every_element(complaint):
    case = load_case(complaint)
    body = compose(case, lang="en").body
    _in_order(
        body,
        [
            "Hello,",
            "курьер отметил заказ",
            "Date and time: 20 November 2026, 14:35 (UTC+05:00)",
            "Order / contract number: DM-2026-114512",
            "Device: iPhone 13, iOS 17.5, app 6.12.0",
            "What I have already tried:\n- Позвонила курьеру",
            "My demands: Вернуть 2 480,00 руб.",
            "Attached:\n- courier-photo.jpg (file dated 20 November 2026, 14:52 UTC+05:00 (EXIF); SHA-256 ",
            "- demo-receipt.pdf (file last modified 20 November 2026, 15:05 UTC+05:00 (file system); SHA-256 ",
            "Earlier requests on this matter:\n- No. CH-55120 of 20 November 2026 (chat)",
            "Contacts: Анна Петрова, phone +7 912 345-67-89, anna.petrova@example.com",
            "Kind regards,",
        ],
    )


def test_a_request_that_is_not_a_complaint_asks_and_drops_empty_sections(tmp_path):
    case = load_case(write_case(tmp_path, previous_requests=None, device=None, order_id=None, attachments=None))
    body = compose(case).body
    assert "What I am asking for: Refund the 2,480.00 RUB or place the order as paid." in body
    for absent in ("My demands", "Earlier requests", "Device:", "Order / contract", "Attached"):
        assert absent not in body
    assert "\n\n\n" not in body


def test_subject_is_suggested_from_the_description_when_absent(tmp_path):
    case = load_case(write_case(tmp_path, subject=None))
    subject = compose(case).subject
    assert subject == "On 20 November 2026 at 14:35 I"
    assert len(subject.split()) == 7


def test_a_flow_overrides_the_template_beside_its_file(tmp_path):
    flows = tmp_path / "flows"
    (flows / "templates" / "mymarket").mkdir(parents=True)
    (flows / "mymarket.yaml").write_text(DEMO_FLOW.read_text().replace("id: demo", "id: mymarket"))
    (flows / "templates" / "mymarket" / "request.en.txt").write_text(
        "Dear MyMarket team,\n\n{{ description }}\n\nWhen: {{ when }}\n\nTicket history:\n{{ previous }}\n\n{{ full_name }}\n"
    )
    case = write_case(tmp_path, provider="mymarket")
    result = json_out(
        run_cli("compose", "--case", str(case), "--json", home=tmp_path / "home", env={"ASSISTANT_FLOWS": str(flows)})
    )
    assert result["body"].startswith("Dear MyMarket team,\n\nOn 20 November 2026")
    assert "When: 20 November 2026, 14:35 (UTC+03:00)" in result["body"]
    assert "Ticket history" not in result["body"]  # empty section dropped
    # The Russian template was not overridden: the bundled one is used.
    ru = json_out(
        run_cli(
            "compose",
            "--case",
            str(case),
            "--lang",
            "ru",
            "--json",
            home=tmp_path / "home",
            env={"ASSISTANT_FLOWS": str(flows)},
        )
    )
    assert ru["body"].startswith("Здравствуйте!") and ru["language"] == "ru"


def test_another_folder_of_flows_cannot_change_the_request_of_a_flow_it_does_not_hold(tmp_path):
    """A stranger's flows folder (--flows, ASSISTANT_FLOWS) holds templates for the bundled demo
    flow and generic ones: neither is read for demo, whose request stays the assistant's own."""
    case = write_case(tmp_path)
    plain = json_out(run_cli("compose", "--case", str(case), "--json", home=tmp_path / "home"))
    pack = tmp_path / "pack"
    for folder in (pack / "templates" / "demo", pack / "templates"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "request.en.txt").write_text("HIJACKED {{ full_name }}\n")
    hijacked = run_cli("--flows", str(pack), "compose", "--case", str(case), "--json", home=tmp_path / "home")
    assert json_out(hijacked) == plain
    assert "HIJACKED" not in hijacked.stdout


def test_a_template_that_is_a_link_or_too_large_is_refused_by_name(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the person's own file\n")
    flows = tmp_path / "flows"
    own = flows / "templates" / "mymarket"
    own.mkdir(parents=True)
    (flows / "mymarket.yaml").write_text(DEMO_FLOW.read_text().replace("id: demo", "id: mymarket"))
    case = write_case(tmp_path, provider="mymarket")
    env = {"ASSISTANT_FLOWS": str(flows)}
    (own / "request.en.txt").symlink_to(secret)
    done = run_cli("compose", "--case", str(case), home=tmp_path / "home", env=env)
    assert done.returncode != 0
    assert "the person's own file" not in done.stdout + done.stderr
    assert f"{own / 'request.en.txt'}: a link" in done.stderr
    # The folder as a link to somewhere else is refused the same way.
    (own / "request.en.txt").unlink()
    own.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "request.en.txt").symlink_to(secret)
    own.symlink_to(elsewhere, target_is_directory=True)
    done = run_cli("compose", "--case", str(case), home=tmp_path / "home", env=env)
    assert done.returncode != 0 and f"{own}: a link" in done.stderr
    assert "the person's own file" not in done.stdout + done.stderr
    own.unlink()
    own.mkdir()
    (own / "request.en.txt").write_text("{{ full_name }}\n" * 10_000)
    done = run_cli("compose", "--case", str(case), home=tmp_path / "home", env=env)
    assert done.returncode != 0 and "larger than 64 KB" in done.stderr
    assert done.stderr.count("\n") == 1  # one line, naming the file


def test_compose_command_prints_subject_and_body(tmp_path):
    done = run_cli("compose", "--case", str(write_case(tmp_path)), "--lang", "ru", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Card charged but order not placed\n\nЗдравствуйте!\n")
    assert "Дата и время: 20.11.2026 14:35 (UTC+03:00)" in done.stdout


def test_email_flow_templates_are_the_bundled_ones():
    flow = load_flow(find_flow("1cupis-email"))
    case = load_case(SAMPLES / "demo-case.yaml").model_copy(update={"provider": "1cupis-email", "category": "claim"})
    assert compose(case, flow=flow).body.startswith("Hello,\n\n")
