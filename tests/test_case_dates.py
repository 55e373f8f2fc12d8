"""A case in a Russian person's own words (issue 24, points 3 and 4): dates and times as they
write them, a time without an offset taken in their zone (and check saying so when it is this
computer's), and the request in the language of their text unless the case says otherwise.

The refusals' whole lines, with file:line:column, are golden files: tests/golden/case_errors/
(date-without-time, impossible-date, impossible-previous-date, month-misspelt, slashed-date,
unknown-timezone).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import json_out, run_cli, write_case
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.errors import InputError
from assistant.language.case import load_case, text_language
from assistant.language.dates import machine_zone, parse_day, parse_moment, zone_named

YEKT = zone_named("Asia/Yekaterinburg")  # not Moscow, and not this computer's: the zone shows in the offset

RUSSIAN_TEXT = {
    "subject": "Деньги списаны, а заказ не оформлен",
    "description": "20 ноября я оплатила заказ DM-2026-114512 картой в приложении DemoMarket, приложение "
    "показало ошибку, а 2 480,00 руб. с карты списались.",
    "steps_taken": ["Перезапустила приложение: заказа нет.", "В банке списание проведено."],
    "desired_outcome": "Вернуть 2 480,00 руб. на карту.",
}


@pytest.mark.parametrize(
    "written, meant",
    [
        ("01.12.2026 19:05", "2026-12-01T19:05:00+05:00"),
        ("1.12.2026 19:05", "2026-12-01T19:05:00+05:00"),
        ("01.12.2026, 19:05", "2026-12-01T19:05:00+05:00"),
        ("01.12.2026 в 19:05", "2026-12-01T19:05:00+05:00"),
        ("1 декабря 2026 19:05", "2026-12-01T19:05:00+05:00"),
        ("1 декабря 2026 г. в 19:05", "2026-12-01T19:05:00+05:00"),
        ("1 ДЕКАБРЯ 2026 года, в 19:05:30", "2026-12-01T19:05:30+05:00"),
        ("1 декабрь 2026 19:05", "2026-12-01T19:05:00+05:00"),
        ("1 дек. 2026 19:05", "2026-12-01T19:05:00+05:00"),
        ("3 мая 2026 9:00", "2026-05-03T09:00:00+05:00"),
        ("1 December 2026 19:05", "2026-12-01T19:05:00+05:00"),
        ("1 Dec 2026, 19:05", "2026-12-01T19:05:00+05:00"),
        ("1 December 2026 at 19:05", "2026-12-01T19:05:00+05:00"),
        ("29.02.2028 10:00", "2028-02-29T10:00:00+05:00"),
        ("  01.12.2026 \n 19:05 ", "2026-12-01T19:05:00+05:00"),
        # ISO 8601 without an offset is taken in the zone too
        ("2026-12-01T19:05", "2026-12-01T19:05:00+05:00"),
        ("2026-12-01 19:05:00", "2026-12-01T19:05:00+05:00"),
        # an offset written after the time is the time's own, whatever the person's zone
        ("01.12.2026 19:05 МСК", "2026-12-01T19:05:00+03:00"),
        ("01.12.2013 19:05 мск", "2013-12-01T19:05:00+04:00"),  # Moscow kept UTC+4 from 2011 to 2014
        ("20.11.2026 14:35 (UTC+03:00)", "2026-11-20T14:35:00+03:00"),  # as compose writes it
        ("20 November 2026, 14:35 (UTC+03:00)", "2026-11-20T14:35:00+03:00"),
        ("01.12.2026 19:05 UTC+3", "2026-12-01T19:05:00+03:00"),
        ("01.12.2026 19:05 −02:30", "2026-12-01T19:05:00-02:30"),
        ("01.12.2026 19:05 UTC", "2026-12-01T19:05:00+00:00"),
    ],
)
def test_a_date_and_time_reads_as_people_write_it(written, meant):
    moment = parse_moment(written, YEKT)
    assert moment == dt.datetime.fromisoformat(meant)
    assert moment.utcoffset() is not None


def test_iso_8601_with_an_offset_goes_to_pydantic_as_it_always_has():
    for written in ("2026-11-20T14:35:00+03:00", "2026-11-20T09:35:00Z", "2026-13-45T99:00:00+03:00"):
        assert parse_moment(written, YEKT) is written


@pytest.mark.parametrize(
    "written, said",
    [
        ("01.12.2026", "'01.12.2026' has a date but no time; write when it happened, like 01.12.2026 19:05"),
        (
            "1 декабря 2026 г.",
            "'1 декабря 2026 г.' has a date but no time; write when it happened, like 01.12.2026 19:05",
        ),
        ("2026-12-01", "'2026-12-01' has a date but no time; write when it happened, like 01.12.2026 19:05"),
        ("31.02.2026 19:05", "'31.02.2026 19:05' is not a date: February 2026 has 28 days"),
        ("29.02.2026 10:00", "'29.02.2026 10:00' is not a date: February 2026 has 28 days"),
        ("31 апреля 2026 10:00", "'31 апреля 2026 10:00' is not a date: April 2026 has 30 days"),
        (
            "12.31.2026 19:05",
            "'12.31.2026 19:05' is not a date: there is no month 31 (the day comes first: 01.12.2026 is 1 December)",
        ),
        ("01.12.2026 24:00", "'01.12.2026 24:00': 24:00 is not a time of day (00:00-23:59)"),
        ("1 декабра 2026 19:05", "'декабра' is not the name of a month; did you mean 'декабря'?"),
        ("1 Decmber 2026 19:05", "'Decmber' is not the name of a month; did you mean 'december'?"),
        (
            "12/01/2026 19:05",
            "'12/01/2026 19:05': with slashes the day comes first in some countries and the month in others; "
            "write the day first with dots, like 01.12.2026 19:05, or ISO 8601: 2026-12-01T19:05:00+03:00",
        ),
        (
            "12/1/26",
            "'12/1/26': with slashes the day comes first in some countries and the month in others; "
            "write the day first with dots, like 01.12.2026 19:05, or ISO 8601: 2026-12-01T19:05:00+03:00",
        ),
        (
            "вчера вечером",
            "'вчера вечером' is not a date and time this reads; write it like 01.12.2026 19:05, "
            "1 декабря 2026 19:05 or 2026-12-01T19:05:00+03:00",
        ),
        (
            "01.12.2026 19:05 по Москве",
            "'по Москве' after the time is not a time zone; write an offset like +03:00 or UTC+5, "
            "or nothing to take the time in your zone",
        ),
        ("01.01.0001 00:00", "'01.01.0001 00:00' is not a date a problem happened on"),  # before year 1 in UTC
        (
            "01.12.2026 19:05 UTC+15",
            "'UTC+15' after the time is not a time zone; write an offset like +03:00 or UTC+5, "
            "or nothing to take the time in your zone",
        ),
    ],
)
def test_what_cannot_be_a_moment_is_refused_saying_what_to_write(written, said):
    with pytest.raises(ValueError) as refused:
        parse_moment(written, YEKT)
    assert str(refused.value) == said


@pytest.mark.parametrize(
    "number",
    [20261120, 2026, 1.5, 1_700_000_000, True, 10**5000],
    ids=["yyyymmdd", "year", "float", "unix", "yes", "huge"],
)
def test_a_number_is_not_read_as_seconds_since_1970(number):
    """pydantic reads a number as a Unix time: 20261120 would be 23 August 1970, said as a fact."""
    for parse in (lambda v: parse_moment(v, YEKT), parse_day):
        with pytest.raises(ValueError, match="a number, not a date; write it like"):
            parse(number)


def test_a_case_whose_date_is_a_number_is_refused_at_its_line(tmp_path):
    case = write_case(tmp_path, incident_at=20261120)
    done = run_cli("check", "--case", str(case), home=tmp_path / "home")
    assert done.returncode != 0
    assert f"{case}:" in done.stderr and "20261120: a number, not a date" in done.stderr


# Near misses of every form (odd digits, separators, years, zones after the time) and any text at all.
NEAR_DATES = st.from_regex(
    r"\d{1,3}([./ ]|\s[а-яa-z]{2,9}\.?\s)\d{1,3}[./ ]\d{1,5}( г\.)?(,? (в |at )?\d{1,2}:\d{1,3}(:\d\d)?)?( .{0,8})?",
    fullmatch=True,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(NEAR_DATES, st.text(max_size=40)))
def test_any_text_is_read_or_refused_with_a_message(text):
    for parse in (lambda t: parse_moment(t, YEKT), parse_day):
        try:
            parse(text)
        except ValueError as refused:
            assert str(refused) and "\n" not in str(refused)


def test_a_time_the_clocks_skipped_is_refused_and_a_repeated_one_is_its_first():
    berlin = zone_named("Europe/Berlin")
    with pytest.raises(ValueError, match="'29.03.2026 02:30' never happened in Europe/Berlin: the clocks went forward"):
        parse_moment("29.03.2026 02:30", berlin)
    assert parse_moment("25.10.2026 02:30", berlin).isoformat() == "2026-10-25T02:30:00+02:00"


@pytest.mark.parametrize(
    "written, meant",
    [
        ("02.12.2026", dt.date(2026, 12, 2)),
        ("2.12.2026", dt.date(2026, 12, 2)),
        ("2 декабря 2026", dt.date(2026, 12, 2)),
        ("2 декабря 2026 г.", dt.date(2026, 12, 2)),
        ("2 December 2026", dt.date(2026, 12, 2)),
        ("02.12.2026 19:05", dt.date(2026, 12, 2)),  # when it was filed, to the minute: the day is kept
    ],
)
def test_an_earlier_requests_date_reads_as_people_write_it(written, meant):
    assert parse_day(written) == meant


def test_an_earlier_requests_iso_date_goes_to_pydantic_as_it_always_has():
    assert parse_day("2026-12-02") == "2026-12-02"
    with pytest.raises(ValueError, match="'31.11.2026' is not a date: November 2026 has 30 days"):
        parse_day("31.11.2026")
    with pytest.raises(ValueError, match="'12/02/2026': with slashes .* like 01.12.2026, or ISO 8601: 2026-12-01$"):
        parse_day("12/02/2026")


def test_this_computers_zone_is_the_one_tz_names(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Yekaterinburg")
    assert machine_zone().key == "Asia/Yekaterinburg"
    monkeypatch.setenv("TZ", ":Europe/Moscow")
    assert machine_zone().key == "Europe/Moscow"
    monkeypatch.setenv("TZ", "MSK-3")  # a POSIX rule: the zone in use has no name
    assert machine_zone() is None


def test_without_an_offset_the_cases_timezone_wins_over_this_computers(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/London")
    home = tmp_path / "home"
    case = load_case(write_case(tmp_path, incident_at="20.11.2026 14:35", timezone="Asia/Yekaterinburg"), home=home)
    assert case.incident_at.isoformat() == "2026-11-20T14:35:00+05:00"
    assert case.assumed_zone() is None  # the person named it
    case = load_case(write_case(tmp_path, incident_at="20.11.2026 14:35"), home=home)
    assert case.incident_at.isoformat() == "2026-11-20T14:35:00+00:00"
    assert case.assumed_zone() == "Europe/London"
    written = load_case(write_case(tmp_path, incident_at="2026-11-20T14:35:00+03:00"), home=home)
    assert written.assumed_zone() is None


def test_a_time_without_an_offset_on_a_computer_whose_zone_has_no_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "MSK-3")
    with pytest.raises(InputError) as refused:
        load_case(write_case(tmp_path, incident_at="20.11.2026 14:35"), home=tmp_path / "home")
    assert str(refused.value) == (
        f"{tmp_path / 'case.yaml'}:11:1: incident_at: '20.11.2026 14:35' has no time zone and this computer's zone "
        "has no name to take it in; add timezone: (yours, like Europe/Moscow) to the case, or write the offset: "
        "2026-11-20T14:35+03:00"
    )


def test_check_says_which_zone_a_time_was_taken_in(tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path, incident_at="20 ноября 2026 г. в 14:35")
    done = run_cli("check", "--case", str(case), "--json", home=home, env={"TZ": "Asia/Yekaterinburg"})
    assert done.returncode == 0, done.stderr
    taken = [f for f in json.loads(done.stdout)["findings"] if f["field"] == "incident_at"]
    assert taken == [
        {
            "level": "warning",
            "field": "incident_at",
            "message": "written without a time zone: taken in this computer's zone, Asia/Yekaterinburg "
            "(2026-11-20T14:35:00+05:00)",
            "fix": "add timezone: Asia/Yekaterinburg (or your own zone) to the case, or write the offset",
        }
    ]
    named = write_case(tmp_path, incident_at="20 ноября 2026 г. в 14:35", timezone="Asia/Yekaterinburg")
    done = run_cli("check", "--case", str(named), home=home, env={"TZ": "Europe/London"})
    assert done.returncode == 0 and "ok, nothing to fix" in done.stdout, done.stdout + done.stderr
    composed = json_out(run_cli("compose", "--case", str(named), "--lang", "ru", "--json", home=home))
    assert "Дата и время: 20.11.2026 14:35 (UTC+05:00)" in composed["body"]


def test_a_case_filed_before_dates_and_languages_changed_keeps_its_fingerprint(tmp_path):
    """The never-twice check knows a case again by its fingerprint: a file with neither
    timezone: nor language: must give the fingerprint it was journalled with (these two were
    computed before either field changed)."""
    case = tmp_path / "case.yaml"
    case.write_text(
        "provider: demo\ncategory: payment\nsubject: Двойное списание за заказ\n"
        "description: Приложение показало ошибку оплаты, а деньги с карты списали дважды.\n"
        'order_id: DM-2026-114512\nincident_at: "2026-11-19T18:42:00+03:00"\n'
        'contacts: { full_name: Анна Петрова, phone: "+7 912 345-67-89", email: anna@example.com }\n',
        encoding="utf-8",
    )
    russian = load_case(case)
    assert russian.language == "ru"
    assert russian.fingerprint() == "a1ffc5d71ec2a9aacc428c1a5036346e9b8733cbf0db1ed77f84c1f82c58c2e8"
    text = case.read_text(encoding="utf-8")
    text = text.replace("subject: Двойное списание за заказ", "subject: Card charged twice for the order")
    text = text.replace(
        "description: Приложение показало ошибку оплаты, а деньги с карты списали дважды.",
        "description: The app said the payment failed, and the card was charged twice.",
    )
    case.write_text(text, encoding="utf-8")
    assert load_case(case).fingerprint() == "445332d82db07b4a3d020cfa8e9b6ad4a325abec5ac1c39b8586c23b856cfcaa"


@pytest.mark.parametrize(
    "texts, language",
    [
        (["Приложение показало ошибку 502 на iPhone 13, заказ DM-2026-114512 не создан."], "ru"),
        (["The app showed error 502 on my iPhone 13; order DM-2026-114512 was not created."], "en"),
        (["Card charged", "Деньги списали дважды, заказа нет"], "ru"),
        (["Деньги списали", "The card was charged twice and the order is not there"], "en"),
        (["24-1187-5512", "2 480,00", ""], None),
    ],
)
def test_the_language_of_the_persons_own_words(texts, language):
    assert text_language(texts) == language


def test_a_case_in_russian_with_no_language_gives_a_russian_request(tmp_path):
    home = tmp_path / "home"
    russian = write_case(tmp_path, language=None, **RUSSIAN_TEXT)
    assert load_case(russian, home=home).language == "ru"
    composed = json_out(run_cli("compose", "--case", str(russian), "--json", home=home))
    assert composed["language"] == "ru" and composed["body"].startswith("Здравствуйте!")
    english = write_case(tmp_path, language=None)
    assert load_case(english, home=home).language == "en"


def test_an_explicit_language_is_kept_and_check_warns_when_the_text_is_in_another(tmp_path):
    home = tmp_path / "home"
    mixed = write_case(tmp_path, language="en", **RUSSIAN_TEXT)
    assert load_case(mixed, home=home).language == "en"
    done = run_cli("check", "--case", str(mixed), "--json", home=home)
    assert done.returncode == 0, done.stderr
    warned = [f for f in json.loads(done.stdout)["findings"] if f["field"] == "language"]
    assert warned == [
        {
            "level": "warning",
            "field": "language",
            "message": "is en, but the case is written in Russian: the request would be English around your "
            "Russian sentences",
            "fix": "write language: ru, or leave language: out and it follows your text",
        }
    ]
    for agreeing in (write_case(tmp_path, language="ru", **RUSSIAN_TEXT), write_case(tmp_path, language=None)):
        done = run_cli("check", "--case", str(agreeing), "--json", home=home)
        assert [f for f in json.loads(done.stdout)["findings"] if f["field"] == "language"] == []


def test_the_readme_case_loads_as_written(tmp_path):
    """The README's case, as a newcomer copies it (its attachments aside): the date as people write it."""
    import re

    from helpers import REPO

    text = (REPO / "README.md").read_text(encoding="utf-8").split("## Filing your own request", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    body = "\n".join(line for line in block.group(1).splitlines() if not line.startswith("attachments:"))
    (tmp_path / "case.yaml").write_text(body + "\n", encoding="utf-8")
    case = load_case(tmp_path / "case.yaml")
    assert (case.incident_at.day, case.incident_at.hour, case.incident_at.minute) == (20, 14, 35)
    assert case.language == "ru"
