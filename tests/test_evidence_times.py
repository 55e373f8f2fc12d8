"""Times as people read them: the provider's clock and the person's, in the browser, the banner,
the report (its PDF, read back with pypdf) and the contact sheet; attachments' own dates."""

from __future__ import annotations

import io
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import json_out, run_cli, write_case
from PIL import Image
from pypdf import PdfReader
from tsa_server import TimestampServer

from assistant.language.case import load_case
from assistant.run.zones import person_clock
from evidence import Environment, EvidencePackage, Manifest
from evidence.report import clocks_of
from evidence.stamp import SHEET_TEXT, banner_fields, stamp, strip_text_chunks
from evidence.times import Clocks

MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,6}")


def manifest_of(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))


def pdf_texts(folder: Path) -> list[str]:
    # NFKC: the PDF's text has the font's ligatures (ﬁ, ﬀ) where the page had two letters.
    return [unicodedata.normalize("NFKC", page.extract_text() or "") for page in PdfReader(folder / "report.pdf").pages]


# ------------------------------------------------------------------ the clocks


def test_one_line_when_the_clocks_agree_both_when_they_differ():
    at = datetime(2026, 11, 20, 11, 35, 7, 123456, tzinfo=UTC)
    same = Clocks(person_zone="Europe/Moscow", provider_zone="Europe/Moscow", language="ru").lines(at)
    assert same == [
        ("Provider & person", "20.11.2026 14:35:07 (MSK, Europe/Moscow, UTC+03:00)"),
        ("UTC", "2026-11-20 11:35:07 UTC"),
    ]
    apart = Clocks(person_zone="Asia/Yekaterinburg", provider_zone="Europe/Moscow").lines(at)
    assert apart == [
        ("Provider", "20 Nov 2026 14:35:07 (MSK, Europe/Moscow, UTC+03:00)"),
        ("Person", "20 Nov 2026 16:35:07 (Asia/Yekaterinburg, UTC+05:00)"),
        ("UTC", "2026-11-20 11:35:07 UTC"),
    ]
    # No provider and no known person: UTC alone, never this machine's zone.
    assert Clocks().lines(at) == [("UTC", "2026-11-20 11:35:07 UTC")]


@pytest.mark.parametrize(
    ("language", "incident_at", "tz", "zone", "source"),
    [
        ("ru", "2026-11-20T14:35:00+03:00", None, "Europe/Moscow", "incident_at"),
        ("ru", "2026-11-20T14:35:00+05:00", None, "Asia/Yekaterinburg", "incident_at"),
        ("en", "2026-11-20T14:35:00+05:00", None, "Etc/GMT-5", "incident_at"),
        ("en", "2026-11-20T14:35:00+05:30", None, "Asia/Kolkata", "incident_at"),
        ("en", "2026-11-20T14:35:00+03:00", "America/New_York", "America/New_York", "--tz"),
    ],
)
def test_the_persons_zone_comes_from_the_case_or_tz(tmp_path, language, incident_at, tz, zone, source):
    case = load_case(write_case(tmp_path, language=language, incident_at=incident_at))
    clock = person_clock(case, provider_zone="Europe/Moscow", tz=tz)
    assert source in clock.source
    assert clock.locale == ("ru-RU" if language == "ru" else "en-US")
    if zone is not None:
        assert clock.zone == zone
    # Whatever the name, it is a zone with the person's offset at the incident.
    from zoneinfo import ZoneInfo

    if tz is None:
        assert case.incident_at.astimezone(ZoneInfo(clock.zone)).utcoffset() == case.incident_at.utcoffset()


def test_bad_tz_and_locale_are_refused_before_anything_runs(tmp_path):
    case = write_case(tmp_path)
    done = run_cli("submit", "demo", "--case", str(case), "--yes", "--tz", "Mars/Olympus", home=tmp_path / "home")
    assert done.returncode == 2 and "Mars/Olympus" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("submit", "demo", "--case", str(case), "--yes", "--locale", "russian", home=tmp_path / "home")
    assert done.returncode == 2 and "ru-RU" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "evidence").exists()


def test_a_flows_time_zone_is_checked_and_the_error_names_the_line(tmp_path):
    flow = tmp_path / "moon.yaml"
    text = (Path(__file__).parent.parent / "flows" / "demo.yaml").read_text(encoding="utf-8")
    flow.write_text(text.replace("timezone: Europe/Moscow", "timezone: Moon/Tranquility"), encoding="utf-8")
    line = next(i for i, x in enumerate(flow.read_text().splitlines(), 1) if x.startswith("timezone:"))
    done = run_cli("flow", "validate", str(flow), home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{flow}:{line}:" in done.stderr and "Moon/Tranquility" in done.stderr and "IANA" in done.stderr


# ------------------------------------------------------------------ a Russian case, end to end


@pytest.fixture(scope="module")
def russian(tmp_path_factory):
    """A Russian person in Moscow files to the demo portal with a trusted timestamp."""
    from assistant.sites.demo.portal import DemoPortal

    tmp = tmp_path_factory.mktemp("ru")
    case = write_case(tmp, language="ru", incident_at="2026-11-20T14:35:00+03:00")
    with DemoPortal() as portal, TimestampServer() as tsa:
        result = json_out(
            run_cli(
                "submit", "demo", "--case", str(case), "--base-url", portal.url, "--yes", "--json",
                "--tsa", tsa.url, "--out", str(tmp / "package"), home=tmp / "home",
            )
        )  # fmt: skip
    return Path(result["evidence_dir"])


def test_russian_case_browser_runs_on_moscow_time_in_russian(russian):
    manifest = manifest_of(russian)
    times = manifest.times
    assert times is not None
    assert (times.person_zone, times.provider_zone, times.language) == ("Europe/Moscow", "Europe/Moscow", "ru")
    assert (manifest.environment.locale, manifest.environment.timezone) == ("ru-RU", "Europe/Moscow")
    assert times.clock and "system clock" in times.clock
    # The manifest keeps UTC.
    assert all(f.captured_at is None or f.captured_at.utcoffset() == timedelta(0) for f in manifest.files)
    assert manifest.created_at.utcoffset() == timedelta(0)


def test_russian_case_banner_shows_moscow_time_in_russian_format(russian):
    manifest = manifest_of(russian)
    by_path = {f.path: f for f in manifest.files}
    original = by_path["screenshots/003-filled-form.png"]
    stamped = by_path[original.meta["stamped"]]
    assert original.captured_at is not None
    fields = banner_fields(
        original.captured_at,
        original.meta["url"],
        stamped.meta["case_ref"],
        original.meta["title"],
        clocks_of(manifest),
    )
    moscow = original.captured_at.astimezone(timezone_moscow())
    assert fields[0] == ("Provider & person", f"{moscow:%d.%m.%Y %H:%M:%S} (MSK, Europe/Moscow, UTC+03:00)")
    assert fields[1] == ("UTC", f"{original.captured_at:%Y-%m-%d %H:%M:%S} UTC")
    # The stamped copy in the package is exactly this banner on the browser's picture.
    raw = strip_text_chunks((russian / original.path).read_bytes())
    again = stamp(
        raw,
        captured_at=original.captured_at,
        url=original.meta["url"],
        case_ref=stamped.meta["case_ref"],
        title=original.meta["title"],
        clocks=clocks_of(manifest),
    )
    assert again == (russian / stamped.path).read_bytes()


def timezone_moscow():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Moscow")


def test_russian_case_report_pdf_reads_moscow_time_without_dicts_or_microseconds(russian):
    manifest = manifest_of(russian)
    texts = pdf_texts(russian)
    text = "\n".join(texts)
    times = manifest.times
    assert times is not None and times.authority_time is not None and manifest.submission is not None
    # The incident and the submission on the provider's (= the person's) clock, in Russian format, with UTC.
    assert "20.11.2026 14:35:00 (MSK, Europe/Moscow, UTC+03:00)" in text
    assert "2026-11-20 11:35:00 UTC" in text
    submitted = manifest.submission.submitted_at
    assert submitted is not None
    assert f"{submitted.astimezone(timezone_moscow()):%d.%m.%Y %H:%M:%S} (MSK, Europe/Moscow" in text
    # The timestamp's time and signer.
    assert f"{times.authority_time.astimezone(timezone_moscow()):%d.%m.%Y %H:%M:%S}" in text
    assert "Test Timestamp Unit" in text and "проверка часов" in text
    # People's words, not Python's.
    assert not MICROSECONDS.search(text), MICROSECONDS.search(text)
    assert "{'" not in text and "'width'" not in text
    assert not re.search(r"\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}", text)  # no ISO times
    assert "1280 × 800 (CSS-пиксели)" in text
    # The person's device and this machine, apart.
    device, capture = text.index("Устройство заявителя"), text.index("Среда съёмки")
    assert device < text.index("модель iPhone 13", device) < capture < text.index("chromium", capture)
    # Attachments dated truthfully: their file-system time, said so; never "captured".
    assert "файл изменён (время в файловой системе)" in " ".join(text.split())  # a table cell may wrap it
    # A Russian report: no English heading, no selector for a caption.
    english = {"Case", "Time", "Request as sent", "Submitted form", "Timeline", "Attachments", "Screenshots",
               "The person's device", "The capture environment", "Files", "How to verify"}  # fmt: skip
    assert not [line for line in text.splitlines() if line.strip() in english or line.startswith("Evidence:")]
    assert "selector=" not in text and "Шаг" in text
    assert manifest.case.get("category_label") and "Оплата и возврат денег" in text  # the label, not "payment"
    refs = {f.meta.get("case_ref") for f in manifest.files if f.meta.get("case_ref")}
    assert refs and all("заказ DM-2026-114512" in r and "обращение " in r for r in refs), refs
    # A URL breaks only after '/', '?', '&' or '=' (never at the '-' of DEMO-000123).
    url = manifest.submission.confirmation_url
    assert url is not None
    spread = re.compile("\n?".join(re.escape(ch) for ch in url))  # the URL, maybe broken over lines
    found = [m.group(0) for m in spread.finditer(text)]
    assert found, url
    for shown in found:
        assert all(shown[i - 1] in "/?&=" for i, ch in enumerate(shown) if ch == "\n"), repr(shown)
    # No mostly blank page: every page but the last has a picture or a good deal of text.
    reader = PdfReader(russian / "report.pdf")
    for page, page_text in list(zip(reader.pages, texts, strict=True))[:-1]:
        assert page.images or len(page_text) > 600, page_text[:200]


def test_russian_case_report_pdf_page_renders_the_stamped_screenshot(russian):
    """A page of the PDF, rendered back to pixels by pypdf + Pillow: the picture on it is the
    stamped copy (page and banner), whole."""
    reader = PdfReader(russian / "report.pdf")
    texts = pdf_texts(russian)
    page = next(p for p, t in zip(reader.pages, texts, strict=True) if "003-filled-form.png — снят" in t)
    stamped = Image.open(russian / "screenshots" / "stamped" / "003-filled-form.jpg")
    # Four plates share the page; the filled form's is the one of its size.
    [shown] = [i.image for i in page.images if i.image is not None and i.image.size == stamped.size]
    # The banner's pale yellow is the bottom of the picture as the PDF holds it.
    r, g, b = shown.convert("RGB").getpixel((shown.width - 5, shown.height - 5))
    assert r > 240 and g > 235 and 190 < b < 230


def test_russian_case_contact_sheet_reads_at_100_percent(russian):
    sheet = Image.open(russian / "report" / "contact-sheet.jpg").convert("RGB")
    pictures = 4
    assert sheet.width <= 2 * 640 + 40  # at most two pictures a row
    assert sheet.height > (pictures // 2) * 500
    # The first picture's banner starts at its dark-yellow rule; its lines of text are 1.4 × the text size apart.
    column = sheet.crop((12, 0, 600, sheet.height))

    def is_rule(y: int) -> bool:
        return all(
            abs(a - b) < 40
            for x in range(20, 580, 40)
            for a, b in zip(column.getpixel((x, y)), (180, 140, 0), strict=True)
        )

    rule = next(y for y in range(column.height) if is_rule(y))
    band = column.crop((0, rule + 3, column.width, rule + 3 + 5 * 19))
    inked = [y for y in range(band.height) if min(band.getpixel((x, y))[0] for x in range(130, 400, 2)) < 90]
    starts = [y for i, y in enumerate(inked) if i == 0 or y - inked[i - 1] > 2]
    assert len(starts) >= 4, starts
    pitch = min(b - a for a, b in zip(starts, starts[1:], strict=False))
    assert SHEET_TEXT >= 12 and pitch >= int(12 * 1.4), starts


def test_date_inputs_render_in_the_persons_format(portal, browser_choice, tmp_path):
    """The filled form's date and time as the browser draws them: day.month.year and 24 hours
    for a Russian person (the accessibility tree names the fields in the order drawn)."""
    from assistant.run.session import BrowserSession
    from assistant.run.settings import BrowserSettings, EvidenceSettings

    def fields_drawn(language: str) -> list[tuple[str, object]]:
        case = load_case(write_case(tmp_path, language=language, incident_at="2026-11-20T14:35:00+03:00"))
        session = BrowserSession.for_case(
            EvidencePackage(tmp_path / f"pkg-{language}"),
            case,
            "k" * 64,
            home=tmp_path / "home",
            browser=BrowserSettings(),
            evidence=EvidenceSettings(),
            workdir=tmp_path / f"work-{language}",
            choice=browser_choice,
            provider_zone="Europe/Moscow",
        )
        with session:
            page = session.page
            assert page is not None
            page.goto(f"{portal.url}/support/new")
            page.fill("#incident_date", "2026-11-20")
            page.fill("#incident_time", "14:35")
            assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Europe/Moscow"
            cdp = page.context.new_cdp_session(page)
            nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
            spins = [n for n in nodes if n.get("role", {}).get("value") == "spinbutton"]
            # A field's name is its part ("День") and then the input's own label.
            return [(n["name"]["value"].split()[0], n.get("value", {}).get("value")) for n in spins]

    # On a thread of its own, as a run's session starts its own Playwright: this thread may
    # already hold pytest-playwright's (one thread, one sync Playwright).
    with ThreadPoolExecutor(1) as thread:
        ru = thread.submit(fields_drawn, "ru").result()
        en = thread.submit(fields_drawn, "en").result()
    assert ru == [("День", 20), ("Месяц", 11), ("Год", 2026), ("Часы", 14), ("Минуты", 35)]
    assert [name for name, _ in en][:3] == ["Month", "Day", "Year"] and ("AM/PM", 2) in en


# ------------------------------------------------------------------ the clock against an authority


def test_a_clock_far_from_the_authoritys_is_recorded_and_warned(tmp_path):
    package = EvidencePackage(tmp_path / "pkg")
    package.add_bytes("screenshots/a.png", b"\x89PNG not really", "image/png", captured_at=datetime.now(UTC))
    said: list[str] = []
    with TimestampServer() as tsa:
        tsa.authority.backdate = -timedelta(minutes=5)  # its clock 5 minutes ahead
        manifest = package.finish(
            tool="test",
            case={"subject": "clock"},
            environment=Environment(os="t", os_version="", kernel="", architecture="", python=""),
            actions=[],
            tsa_urls=[tsa.url],
            warn=said.append,
        )
    times = manifest.times
    assert times is not None and times.clock_offset_seconds is not None
    assert 295 < times.clock_offset_seconds < 305
    assert times.authority_signer and "Test Timestamp Unit" in times.authority_signer
    assert any("more than 2 minutes" in line and "behind" in line for line in said), said
    html = (tmp_path / "pkg" / "report.html").read_text(encoding="utf-8")
    assert "class='warn'" in html and "more than 2 minutes" in html
    # The token over the captured files checks with the authority's own answer.
    from evidence.tsa import check

    info = check(
        (tmp_path / "pkg/report/captured.tsr").read_bytes(), (tmp_path / "pkg/report/captured.sums").read_bytes()
    )
    assert info.gen_time == times.authority_time


def test_attachment_dates_come_from_exif_or_say_file_modified(tmp_path):
    from assistant.casework.compose import file_date

    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 14:52:10"
    Image.new("RGB", (8, 8)).save(photo, exif=exif)
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    moscow = timezone_moscow()
    when, source = file_date(photo, moscow)
    assert (when, source) == (datetime(2026, 11, 20, 14, 52, 10, tzinfo=moscow), "exif")
    when, source = file_date(plain, moscow)
    assert source == "mtime" and abs(when.timestamp() - plain.stat().st_mtime) < 1


def test_without_a_report_the_manifests_own_timestamp_checks_the_clock(tmp_path):
    package = EvidencePackage(tmp_path / "pkg")
    package.add_bytes("a.txt", b"a", "text/plain")
    said: list[str] = []
    with TimestampServer() as tsa:
        tsa.authority.backdate = timedelta(minutes=3)  # its clock 3 minutes behind
        package.finish(
            tool="test",
            case={},
            environment=Environment(os="t", os_version="", kernel="", architecture="", python=""),
            actions=[],
            tsa_urls=[tsa.url],
            report=False,
            warn=said.append,
        )
    assert (tmp_path / "pkg" / "manifest.tsr").is_file() and not (tmp_path / "pkg" / "report").exists()
    assert any("ahead of the timestamp authority's" in line and "more than 2 minutes" in line for line in said)


def test_report_names_both_clocks_when_they_differ():
    from evidence import Action, Times
    from evidence.report import render_html

    at = datetime(2026, 11, 20, 11, 35, 7, 250000, tzinfo=UTC)
    manifest = Manifest(
        tool="test",
        created_at=at,
        case={"subject": "Курьер не приехал", "incident_at": "2026-11-20T16:35:00+05:00"},
        environment=Environment(
            os="Linux", os_version="", kernel="", architecture="", python="", viewport={"width": 1280, "height": 800}
        ),
        times=Times(person_zone="Asia/Yekaterinburg", person_zone_from="--tz", provider_zone="Europe/Moscow"),
        actions=[Action(index=0, kind="goto", description="open", started_at=at, ended_at=at, url_after="http://x/")],
        files=[],
    )
    html = render_html(manifest)
    assert "20 Nov 2026 14:35:00 (MSK, Europe/Moscow, UTC+03:00)" in html  # the provider's clock
    assert "20 Nov 2026 16:35:00 (Asia/Yekaterinburg, UTC+05:00)" in html  # the person's
    assert "2026-11-20 11:35:00 UTC" in html
    assert "times in Asia/Yekaterinburg UTC+05:00" in html and "<td>16:35:07</td>" in html
    assert "1280 × 800 CSS pixels" in html and "{'width'" not in html and ".250" not in html


def test_a_browser_without_the_persons_language_files_is_named(tmp_path):
    from assistant.run.browser import BrowserChoice, lacks_language

    exe = tmp_path / "chrome"
    exe.write_text("")
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "en-US.pak").write_text("")
    choice = BrowserChoice("path", str(exe), "--browser-path")
    assert lacks_language(choice, "ru-RU") and not lacks_language(choice, "en-GB")
    (tmp_path / "locales" / "ru.pak").write_text("")
    assert not lacks_language(choice, "ru-RU")


def test_russian_case_report_fits_the_printed_page(russian, browser):
    """report.html drawn by Chromium as it prints (A4 less the margins, 190 mm = 718 px): nothing
    is wider than the page, so no URL or hash is cut off at the edge of the PDF."""
    page = browser.new_page(viewport={"width": 718, "height": 1000})
    try:
        page.emulate_media(media="print")
        page.goto((russian / "report.html").as_uri(), wait_until="load")
        widest = page.evaluate(
            """() => Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))"""
        )
        picture = page.screenshot(full_page=True)
    finally:
        page.close()
    assert widest <= 718, widest
    drawn = Image.open(io.BytesIO(picture))
    assert drawn.width == 718 and drawn.height > 3000  # the whole report, drawn


def test_the_browser_started_before_the_case_loads_speaks_its_language(tmp_path):
    """submit starts the browser while the case loads: its language comes from the case file as
    written (or --locale, or --set language=…), so a Russian case claims the warm browser."""
    from assistant.commands.submit import locale_hint

    ru = write_case(tmp_path, language="ru")
    assert locale_hint(ru, {}, {}) == "ru-RU"
    assert locale_hint(ru, {"language": "en"}, {}) == "en-US"
    assert locale_hint(ru, {}, {"locale": "ru-UA"}) == "ru-UA"
    assert locale_hint(None, {}, {}) == "en-US"
    assert locale_hint(tmp_path / "missing.yaml", {}, {}) == "en-US"


def test_cases_show_gives_the_journals_times_on_the_providers_clock(russian):
    shown = run_cli("cases", "show", "1", home=russian.parent / "home")
    assert shown.returncode == 0, shown.stderr
    requests = shown.stdout.split("requests", 1)[1].splitlines()[1]
    # One way of writing a time per interface language (assistant.translation.moment), the offset named.
    assert re.fullmatch(r"  \d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2} \(UTC\+03:00\)", requests), requests
    russian_shown = run_cli("cases", "show", "1", home=russian.parent / "home", env={"ASSISTANT_LANG": "ru"})
    assert russian_shown.returncode == 0, russian_shown.stderr
    requests = russian_shown.stdout.split("отправки", 1)[1].splitlines()[1]
    assert re.fullmatch(r"  \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(UTC\+03:00\)", requests), requests
