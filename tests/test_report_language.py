"""The report and the banners in the case's language: a Russian case's package reads in Russian,
an English one in English, and steps are said in words, never by their CSS selectors.

No browser and no server: the report is rendered from a manifest made here, the banner drawn by Pillow."""

from __future__ import annotations

import ast
import html
import io
import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from evidence import Action, Environment, Manifest, Times, words
from evidence.manifest import (
    FileEntry,
    FlowRef,
    FormField,
    ProviderAnswer,
    SentRequest,
    SignerRef,
    Stamp,
    SubmissionRef,
    SubmittedForm,
    TlsCheck,
    Uploaded,
)
from evidence.report import render_html, shot_groups, step_words, submitted_form
from evidence.stamp import banner_fields, banner_labels, stamp, stamp_image
from evidence.times import Clocks

SHA = "b" * 64
AT = datetime(2026, 11, 20, 11, 35, 7, tzinfo=UTC)
EVIDENCE = Path(__file__).resolve().parent.parent / "evidence"
CYRILLIC = re.compile("[а-яА-ЯёЁ]")

# The steps of flows/demo.yaml as the runner describes them (assistant/run/runner.py _describe).
DEMO_STEPS = [
    ("goto", "goto http://127.0.0.1:8000/"),
    ("screenshot", "screenshot home"),
    ("click", "click selector='#help-link'"),
    ("wait_for", "wait for selector='#contact-support'"),
    ("select", "select selector='#category'"),
    ("fill", "fill selector='#subject'"),
    ("fill", "fill label='Full name'"),
    ("fill", "fill selector='#phone'"),
    ("upload", "upload selector='#attachments'"),
    ("check", "check selector='#consent'"),
    ("click", "click role='button' name='Далее'"),
    ("screenshot", "screenshot filled-form"),
    ("submit", "submit selector='#submit-request'"),
    ("success", "wait for text 'Ваше обращение зарегистрировано' (proof the provider accepted the request)"),
]


def manifest(language: str = "ru", *, category: str = "payment", **case: object) -> Manifest:
    """A filing's manifest as a run of the demo flow writes it, for a person who reads `language`."""
    actions, files = [], []
    for index, (kind, description) in enumerate(DEMO_STEPS):
        shot = f"screenshots/{index + 1:03d}-{kind}.png"
        files.append(
            FileEntry(
                path=shot,
                sha256=SHA,
                size=2048,
                media_type="image/png",
                role="screenshot",
                captured_at=AT + timedelta(seconds=index),
                meta={
                    "url": "http://127.0.0.1:8000/support/new?step=1",
                    "title": "Служба поддержки",
                    "html": f"pages/{index}.html",
                },
            )
        )
        files.append(
            FileEntry(
                path=f"pages/{index}.html",
                sha256=SHA,
                size=1,
                media_type="text/html",
                role="page",
                meta={"inert": {"removed": {"script": 3, "handler": 1}}},
            )
        )
        actions.append(
            Action(
                index=index,
                kind=kind,
                description=description,
                started_at=AT + timedelta(seconds=index),
                ended_at=AT + timedelta(seconds=index, milliseconds=400),
                url_after="http://127.0.0.1:8000/support/new",
                files=[shot],
                uploaded=[Uploaded(path="attachments/чек.pdf", sha256=SHA, size=10)] if kind == "upload" else [],
            )
        )
    files += [
        FileEntry(
            path="attachments/чек.pdf",
            sha256=SHA,
            size=12345,
            media_type="application/pdf",
            role="attachment",
            meta={"dated": "2026-11-20T10:00:00+00:00", "dated_from": "mtime"},
        ),
        FileEntry(
            path="attachments/fitted/фото.jpg", sha256=SHA, size=1, media_type="image/jpeg",
            role="attachment-fitted", meta={"from": ["фото.png"]},
        ),
    ]  # fmt: skip
    form = SubmittedForm(
        read_at=AT,
        page_url="http://127.0.0.1:8000/support/new",
        fields=[
            FormField(label="Тема", name="subject", type="text", value="Списали деньги, заказа нет"),
            FormField(label="Телефон", name="phone", type="tel", value="+7 912 345-67-89"),
            FormField(name="consent", type="checkbox", value="yes", checked=True),
        ],
        request=SentRequest(method="POST", url="http://127.0.0.1:8000/support", content_type="multipart/form-data"),
    )
    return Manifest(
        tool="support-assistant 1.0",
        created_at=AT + timedelta(minutes=1),
        case={
            "provider": "demo",
            "category": category,
            "subject": "Списали деньги, заказа нет",
            "order_id": "DM-2026-114512",
            "incident_at": "2026-11-20T14:35:00+03:00",
            "contact": "Анна Петрова",
            "fingerprint": "c" * 16,
            **case,
        },
        request={"subject": "Списали деньги, заказа нет", "body": "Здравствуйте!\nПрошу вернуть 2480 руб."},
        flow=FlowRef(id="demo", version="1", sha256=SHA, file="flows/demo.yaml"),
        environment=Environment(
            os="Linux",
            os_version="6.1",
            kernel="6.1",
            architecture="x86_64",
            python="3.11",
            playwright="1.50",
            browser="chromium",
            browser_version="131",
            browser_source="system",
            user_agent="Mozilla/5.0",
            viewport={"width": 1280, "height": 800},
            device_scale_factor=1.0,
            emulated_device="Pixel 7",
            certificate_errors="refused",
            proxy="http://127.0.0.1:1",
            outward_address="127.0.0.1",
            locale="ru-RU",
            timezone="Europe/Moscow",
            utc_offset="+03:00",
            headless=True,
            launch_args=["--headless", "--no-sandbox"],
            reported_device={
                "model": "iPhone 13",
                "os": "iOS",
                "os_version": "17.5",
                "app_version": "6.12.0",
                "browser": "Safari",
            },
            tls=[TlsCheck(origin="https://x.example", validated=True, how="Chromium", subject="x.example")],
        ),  # fmt: skip
        times=Times(
            person_zone="Europe/Moscow",
            person_zone_from="the case's incident_at offset (UTC+03:00)",
            provider_zone="Europe/Moscow",
            language=language,
            clock="system clock, synchronised (the kernel reports NTP discipline)",
            authority_time=AT + timedelta(seconds=30),
            authority_signer="Test TSA",
            clock_offset_seconds=-200,
            stamps=[
                Stamp(authority="http://tsa.one/", token="report/captured.tsr", time=AT, signer="Test TSA"),
                Stamp(authority="http://tsa.two/", token="report/captured-2.tsr", time=AT, signer="Other TSA"),
            ],
        ),
        actions=actions,
        submission=SubmissionRef(
            dry_run=False,
            submitted_at=AT + timedelta(seconds=12),
            confirmation="DEMO-000123",
            confirmation_url="http://127.0.0.1:8000/support/DEMO-000123",
            outcome="confirmed",
            answers=[
                ProviderAnswer(
                    method="POST",
                    url="http://127.0.0.1:8000/support",
                    status=303,
                    date="Fri, 20 Nov 2026 11:35:20 GMT",
                    provider_time=AT + timedelta(seconds=13),
                    received_at=AT + timedelta(seconds=13),
                )
            ],
        ),  # fmt: skip
        form=form,
        signer=SignerRef(fingerprint="d" * 64),
        timestamp_authority="http://tsa.one/",
        files=files,
    )


def headings(report: str) -> list[str]:
    """The text of every h1, h2 and h3, tags taken out and entities read."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        for inner in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", report, re.S)
    ]


def cells(report: str, cls: str = "k") -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(rf"<td class='{cls}'>(.*?)</td>", report, re.S)
    ]


# ------------------------------------------------------------------ the report


def test_a_russian_case_report_has_no_english_heading():
    report = render_html(manifest("ru"))
    shown = headings(report)
    assert len(shown) > 12
    for heading in shown:
        # The request's subject is the person's own heading; every other is the report's.
        assert CYRILLIC.search(heading), heading
    for expected in (
        "Доказательства: Списали деньги, заказа нет", "Обращение", "Время", "Текст обращения",
        "Отправленная форма", "Ход событий", "Вложения", "Снимки экрана", "Устройство заявителя",
        "Среда съёмки", "Файлы", "Как проверить",
    ):  # fmt: skip
        assert expected in shown, expected
    assert "<html lang='ru'>" in report


def test_a_russian_case_report_labels_its_rows_and_columns_in_russian():
    report = render_html(manifest("ru"))
    labels = cells(report)
    for expected in (
        "компания", "категория", "тема", "номер заказа", "когда возникла проблема", "итог", "номер обращения",
        "отправлено", "страница подтверждения", "часовой пояс компании", "часовой пояс заявителя",
        "часы этого компьютера", "часы компании", "доверенная метка времени (RFC 3161)", "проверка часов",
        "модель", "версия ОС", "окно браузера", "режим без окна (headless)", "сертификат https://x.example",
    ):  # fmt: skip
        assert expected in labels, (expected, labels)
    # Every row label of the report's own is Russian (every field of the environment and the device
    # is set above): an English one would be all Latin letters.
    english = [label for label in labels if re.fullmatch(r"[a-z' ]+", label)]
    assert english == [], english
    assert {"Python", "Playwright", "User-Agent", "эмулируемое устройство", "прокси", "внешний адрес"} <= set(labels)
    headers = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", report)]
    assert set(headers) >= {"№", "начало", "длилось", "действие", "страница после", "результат", "файл", "путь"}
    assert not {"start", "took", "action", "file", "path", "field", "value", "part"} & set(headers)
    text = html.unescape(report)
    # Values are never translated; the words around them are.
    assert "Пакет собран 20.11.2026 14:36:07 (MSK, Europe/Moscow, UTC+03:00)" in text
    assert "принято, номер получен" in text and "DEMO-000123" in text
    assert "системные часы, синхронизированы" in text and "смещение в incident_at обращения (UTC+03:00)" in text
    assert "часы этого компьютера спешат относительно часов службы меток времени на 200,0 с" in text
    assert "(больше 2 минут: время снимков выше сдвинуто на столько же)" in text
    assert "(по часам компании и заявителя)" in text and "по часам" not in "".join(labels)
    assert "то же время, с точностью до секунды" in text
    assert "файл изменён (время в файловой системе)" in text and "12,3 кБ" in text
    assert "снят 20.11.2026 14:35:07" in text and "Адрес: " in text and "Заголовок страницы: Служба поддержки" in text
    assert "обезврежена (удалено: обработчики событий: 1, скрипты: 3)" in text
    assert "1280 × 800 (CSS-пиксели)" in text and "ключей командной строки: 2" in text
    assert "отмечено (yes)" in text and "Пароли и секреты скрыты." in text
    # English words the report itself wrote before: none left.
    for gone in ("captured ", "Page title", "made inert", "switches", "CSS pixels", "the person's", "dry run"):
        assert gone not in text, gone


def test_how_to_verify_keeps_its_commands_and_says_the_rest_in_russian():
    report = render_html(manifest("ru"))
    section = report[report.index("<h2>Как проверить</h2>") :]
    from evidence.report import by_hand_block

    assert f"<pre>{html.escape(by_hand_block())}</pre>" in section
    assert (
        "Сначала выведите список файлов архива: команда <code>unzip -Z1 PACKAGE.zip | sort | uniq -d</code>" in section
    )
    assert "Блок печатает <code>package OK, signed by key …</code>, только если пройдены все проверки." in section
    assert f"<span class='hash'>{'d' * 64}</span>; сверьте его" in section
    assert "Или программой: <code>assistant evidence verify PACKAGE</code>." in section


def test_the_category_is_shown_by_its_label_not_its_key():
    def category(report: str) -> str:
        return html.unescape(re.search(r"<td class='k'>(?:категория|category)</td><td>(.*?)</td>", report).group(1))

    assert category(render_html(manifest("ru"))) == "Оплата и возврат денег"
    assert category(render_html(manifest("en"))) == "Payments and refunds"
    # The flow's own label when the manifest records it, in Russian when the vocabulary has it.
    assert (
        category(render_html(manifest("ru", category="payment", category_label="Wrong charge"))) == "Неверное списание"
    )
    assert category(render_html(manifest("en", category="payment", category_label="Wrong charge"))) == "Wrong charge"
    assert category(render_html(manifest("ru", category="x", category_label="Свой ярлык"))) == "Свой ярлык"
    assert category(render_html(manifest("ru", category="unheard-of"))) == "unheard-of"
    # Every category key of the bundled flows has a label in both languages.
    flows = Path(__file__).resolve().parent.parent / "flows"
    keys = set()
    for flow in flows.glob("*.yaml"):
        block = re.search(r"^categories:\n((?:[ \t].*\n|\n)*)", flow.read_text(encoding="utf-8"), re.M)
        if block:
            keys |= set(re.findall(r"^  (\w+):", block.group(1), re.M))
            for label in re.findall(r"^    label: (.+)$", block.group(1), re.M):
                assert CYRILLIC.search(words.category_label("?", label, "ru")), label
    assert keys and keys <= set(words.CATEGORIES), keys - set(words.CATEGORIES)
    for key in keys:
        assert CYRILLIC.search(words.category_label(key, None, "ru")), key


def test_step_captions_are_words_never_selectors():
    groups = [heading for heading, _ in shot_groups(manifest("ru"))]
    assert groups == [
        "Шаг 1: открыта страница",
        "Шаг 2: снимок страницы",
        "Шаг 3: нажатие",
        "Шаг 4: ожидание",
        "Шаг 5: выбран вариант",
        "Шаг 6: заполнено поле «Тема»",  # the submitted form's label of the field #subject names
        "Шаг 7: заполнено поле «Full name»",  # the flow's label='…', as the page calls it
        "Шаг 8: заполнено поле «Телефон»",
        "Шаг 9: приложены файлы: чек.pdf",
        "Шаг 10: отмечен флажок",
        "Шаг 11: нажатие «Далее»",  # a button by its accessible name
        "Шаг 12: снимок страницы",
        "Шаг 13: отправка формы",
        "Шаг 14: ожидание подтверждения от компании «Ваше обращение зарегистрировано»",
    ]
    english = [heading for heading, _ in shot_groups(manifest("en"))]
    assert english[5] == "Step 6: filled in “Тема”" and english[12] == "Step 13: submitting the form"
    for report in (render_html(manifest("ru")), render_html(manifest("en"))):
        assert "selector=" not in report and "#submit-request" not in report and "label=&#x27;" not in report
        # The timeline says the same, capitalised, and each step's result in the report's words.
    timeline = render_html(manifest("ru"))
    assert "<td>Отправка формы</td>" in timeline and "<span class='ok'>выполнено</span>" in timeline
    assert "<td>0,4 с</td>" in timeline


def test_a_flow_authors_own_step_name_is_shown_with_the_kinds_words():
    def said(kind: str, description: str, language: str = "ru") -> str:
        return step_words(Action(index=0, kind=kind, description=description, started_at=AT, ended_at=AT), language)

    assert said("click", "Open the help centre") == "Нажатие: Open the help centre"
    assert said("click", "click text='Написать'") == "Нажатие «Написать»"
    assert said("fill", "fill placeholder='Ваш e-mail'", "en") == "Filled in “Ваш e-mail”"
    assert said("click", "click test_id='send'") == "Нажатие"  # a test id is no word for people
    assert said("wait_for", "wait for url='**/done'") == "Ожидание"
    assert said("submit", "Send it") == "Отправка формы"  # the submit step by its kind alone
    assert said("teleport", "teleport selector='#x'") == "Действие"
    assert said("draft", "written as message.eml for the person to send to a@b; not sent") == (
        "Письмо подготовлено для отправки заявителем"
    )


def test_an_english_case_report_reads_as_before():
    report = render_html(manifest("en"))
    shown = headings(report)
    for expected in (
        "Evidence: Списали деньги, заказа нет", "Case", "Time", "Request as sent", "Submitted form", "Timeline",
        "Attachments", "Screenshots", "The person's device", "The capture environment", "Files", "How to verify",
    ):  # fmt: skip
        assert expected in shown, expected
    labels = cells(report)
    for expected in ("provider", "category", "order id", "incident at", "outcome", "request number", "clock check"):
        assert expected in labels
    assert not any(CYRILLIC.search(label) for label in labels)
    text = html.unescape(report)
    assert "system clock, synchronised (the kernel reports NTP discipline)" in text
    assert "(provider & person)" in text and "captured 20 Nov 2026 14:35:07" in text
    assert "none: the times are" not in text  # it has a trusted timestamp


def test_a_package_made_before_times_were_recorded_reads_in_english():
    old = manifest("ru").model_copy(update={"times": None})
    assert "<h2>Как проверить</h2>" not in render_html(old) and "<h2>How to verify</h2>" in render_html(old)


def test_the_submitted_form_alone_speaks_the_packages_language():
    assert "<h2>Отправленная форма</h2>" in submitted_form(manifest("ru"))
    assert "<h2>Submitted form</h2>" in submitted_form(manifest("en"))


def test_values_are_escaped_inside_translated_sentences():
    evil = "<b id=evil>'\"&amp;</b>"
    hostile = manifest("ru", subject=evil).model_copy(update={"tool": evil})
    report = render_html(hostile)
    assert "<b id=evil>" not in report
    assert f"Доказательства: {html.escape(evil, quote=True)}</h1>" in report
    assert f"программой {html.escape(evil, quote=True)}." in report


# ------------------------------------------------------------------ the vocabulary


def test_every_text_the_report_asks_for_is_in_the_vocabulary_with_its_placeholders():
    asked = set()
    for path in EVIDENCE.joinpath("templates").glob("*.j2"):  # w("…"), outside {# comments #}
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        asked |= {ast.literal_eval(q) for q in re.findall(r"\bw\((\"(?:[^\"\\]|\\.)*\")", text)}
    for path in (EVIDENCE / "report.py", EVIDENCE / "stamp.py"):  # word("…"), and each "…" of a word(a if b else c)
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "word" and call.args:
                asked |= {
                    n.value for n in ast.walk(call.args[0]) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }
    assert len(asked) > 80
    assert asked <= set(words.RU), asked - set(words.RU)
    fields = string.Formatter()
    for key, russian in words.RU.items():
        assert {f[1] for f in fields.parse(key) if f[1]} == {f[1] for f in fields.parse(russian) if f[1]}, key
        assert russian.strip(), key
    # One entry a key: a key written twice would silently keep the second Russian.
    tree = ast.parse((EVIDENCE / "words.py").read_text(encoding="utf-8"))
    [table] = [n.value for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "RU"]
    assert isinstance(table, ast.Dict)
    written = [ast.literal_eval(k) for k in table.keys if k is not None]
    assert len(written) == len(set(written))
    for table in (words.STEPS, words.OUTCOMES, words.STATUSES, words.CLOCKS):
        assert all(CYRILLIC.search(ru) for _, ru in table.values())


def test_a_text_missing_from_the_vocabulary_is_an_error_in_every_language():
    with pytest.raises(KeyError, match="evidence/words.py"):
        words.word("Never written", "en")
    assert words.word("How to verify", "ru-RU") == "Как проверить"
    assert words.word("How to verify", "de") == "How to verify"
    assert words.plural_ru(1, "байт", "байта", "байт") == "байт" and words.plural_ru(23, "a", "b", "c") == "b"
    assert [words.plural_ru(n, "1", "2", "5") for n in (11, 12, 21, 104, 111)] == ["5", "5", "1", "2", "5"]


# ------------------------------------------------------------------ the banners


def test_a_russian_banner_labels_its_lines_in_russian():
    ru = Clocks(person_zone="Europe/Moscow", provider_zone="Europe/Moscow", language="ru")
    fields = banner_fields(AT, "https://пример.рф/", "Списали деньги", "Служба поддержки", ru)
    assert banner_labels(fields, "ru") == [
        ("Компания и заявитель", "20.11.2026 14:35:07 (MSK, Europe/Moscow, UTC+03:00)"),
        ("UTC", "2026-11-20 11:35:07 UTC"),
        ("Адрес", "https://пример.рф/"),
        ("Страница", "Служба поддержки"),
        ("Обращение", "Списали деньги"),
    ]
    apart = Clocks(person_zone="Asia/Yekaterinburg", provider_zone="Europe/Moscow", language="ru")
    labels = [label for label, _ in banner_labels(banner_fields(AT, "u", "c", None, apart), "ru")]
    assert labels == ["Компания", "Заявитель", "UTC", "Адрес", "Страница", "Обращение"]
    assert [label for label, _ in banner_labels(fields, "en")] == ["Provider & person", "UTC", "URL", "Page", "Case"]


def test_the_stamped_copy_draws_the_russian_labels_at_the_same_size():
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 200), (30, 90, 160)).save(buffer, "PNG")  # the runs' viewport is 1280 CSS px wide
    png = buffer.getvalue()
    args = {"captured_at": AT, "url": "https://x.example/", "case_ref": "c", "title": "t", "fmt": "PNG"}
    ru = stamp(png, clocks=Clocks(person_zone="Europe/Moscow", provider_zone="Europe/Moscow", language="ru"), **args)
    en = stamp(png, clocks=Clocks(person_zone="Europe/Moscow", provider_zone="Europe/Moscow", language="en"), **args)
    drawn_ru, drawn_en = Image.open(io.BytesIO(ru)), Image.open(io.BytesIO(en))
    # The same lines at the same text size: only the label column is wider («Компания и заявитель»).
    assert drawn_ru.size == drawn_en.size
    assert drawn_ru.tobytes() != drawn_en.tobytes()
    # The Russian copy is exactly the banner with the Russian labels (the dates as Russians write them).
    fields = banner_fields(
        AT,
        "https://x.example/",
        "c",
        "t",
        Clocks(person_zone="Europe/Moscow", provider_zone="Europe/Moscow", language="ru"),
    )
    by_hand = [("Компания и заявитель", fields[0][1]), ("UTC", fields[1][1]), ("Адрес", "https://x.example/"),
               ("Страница", "t"), ("Обращение", "c")]  # fmt: skip
    assert ru == stamp_image(Image.open(io.BytesIO(png)), by_hand, fmt="PNG")
