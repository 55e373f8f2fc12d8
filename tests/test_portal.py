"""The demo support portal, driven through a real browser against the real server."""

from __future__ import annotations

import io
import re
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from assistant.sites.demo.portal import DemoPortal
from assistant.sites.web import MAX_PARTS

SUBJECT = "Двойное списание за заказ"
DESCRIPTION = (
    "Здравствуйте! 14 мая в 14:30 с карты дважды списали 1 250 ₽ за заказ.\n"
    "Я уже перезапустил приложение (Pixel 7, Android 14) — не помогло.\n"
    "Прошу вернуть лишнее списание."
)


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (31, 122, 77)).save(buf, format="PNG")
    return buf.getvalue()


# A small PDF whose body contains CRLFs and boundary-looking runs on purpose.
PDF_BYTES = (
    b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\n"
    b"1 0 obj << /Type /Catalog >> endobj\r\n"
    b"\r\n------WebKitFormBoundary\r\n--\r\n\r\n\x00\xff\r"
    b"trailer << /Root 1 0 R >>\r\n%%EOF\r\n"
)


def valid_values() -> dict[str, str]:
    return {
        "category": "payment",
        "subject": SUBJECT,
        "description": DESCRIPTION,
        "order_number": "DM-2024/00123_a",
        "incident_date": (datetime.now(UTC).date() - timedelta(days=2)).isoformat(),
        "incident_time": "14:30",
        "full_name": "Иван Петров",
        "phone": "+7 (912) 345-67-89",
        "email": "ivan.petrov@example.com",
    }


def fill_form(page: Page, values: dict[str, str]) -> None:
    page.get_by_label("Topic").select_option(values["category"])
    page.get_by_label("Subject").fill(values["subject"])
    page.get_by_label("Description").fill(values["description"])
    page.get_by_label("Order number").fill(values["order_number"])
    page.get_by_label("Date of the incident").fill(values["incident_date"])
    page.get_by_label("Time", exact=True).fill(values["incident_time"])
    page.get_by_label("Full name").fill(values["full_name"])
    page.get_by_label("Phone").fill(values["phone"])
    page.get_by_label("Email").fill(values["email"])
    page.get_by_label("I agree to the processing of my personal data").check()


@pytest.fixture
def unconfirmed_portal():
    with DemoPortal(confirm=False) as running:
        yield running


@pytest.fixture
def files(tmp_path):
    png = tmp_path / "payment-screenshot.png"
    png.write_bytes(png_bytes())
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(PDF_BYTES)
    return png, pdf


def test_home_to_help_to_form(page: Page, portal: DemoPortal):
    page.goto(portal.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("a#help-link").click()
    expect(page).to_have_url(portal.url + "/help")
    expect(page.get_by_role("heading", name="Help centre")).to_be_visible()
    expect(page.locator("table")).to_contain_text("up to 24 hours")
    expect(page.locator("table")).to_contain_text("3–5 business days")
    expect(page.get_by_text("support@demomarket.example").first).to_be_visible()
    page.locator("a#contact-support").click()
    expect(page).to_have_url(portal.url + "/support/new")
    form = page.locator("form#support-form")
    expect(form).to_have_attribute("enctype", "multipart/form-data")
    expect(page.locator("select#category option").first).to_have_text("Choose a topic…")
    expect(page.locator("input#attachments")).to_have_attribute("accept", ".png,.jpg,.jpeg,.pdf")
    expect(page.locator("button#submit-request")).to_have_text("Send request")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["demo_session"]["httpOnly"] is True
    assert cookies["demo_session"]["sameSite"] == "Lax"


def test_full_submission_with_attachments(page: Page, portal: DemoPortal, files):
    png, pdf = files
    values = valid_values()
    page.goto(portal.url + "/support/new")
    fill_form(page, values)
    page.get_by_label("Screenshots, photos of receipts, documents").set_input_files([png, pdf])
    page.locator("button#submit-request").click()

    expect(page).to_have_url(portal.url + "/support/tickets/DEMO-000123/submitted")
    expect(page.get_by_role("heading", name="Your request has been registered")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text("DEMO-000123")
    expect(page.locator("#response-time")).to_have_text("up to 24 hours")

    [ticket] = portal.received
    assert ticket.number == "DEMO-000123"
    assert ticket.fields == {**values, "consent": "yes"}
    assert ticket.created_at.tzinfo is not None
    assert [(f.filename, f.content_type, f.data) for f in ticket.files] == [
        ("payment-screenshot.png", "image/png", png.read_bytes()),
        ("receipt.pdf", "application/pdf", PDF_BYTES),
    ]

    # the status page, reached from the confirmation
    page.locator("a#ticket-status").click()
    expect(page).to_have_url(portal.url + "/support/tickets/DEMO-000123")
    expect(page.locator("#status-number")).to_have_text("DEMO-000123")
    expect(page.locator("#ticket-state")).to_have_text("Received")
    expect(page.locator("#ticket-category")).to_have_text("Payments and refunds")
    expect(page.locator("#ticket-subject")).to_have_text(SUBJECT)
    expect(page.locator("#ticket-files")).to_contain_text("payment-screenshot.png")
    expect(page.locator("#ticket-files")).to_contain_text("receipt.pdf")
    created = page.locator("#ticket-created").inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)

    # numbers increase per ticket
    page.goto(portal.url + "/support/new")
    fill_form(page, {**values, "order_number": ""})
    page.locator("button#submit-request").click()
    expect(page.locator("#ticket-number")).to_have_text("DEMO-000124")
    assert [t.number for t in portal.received] == ["DEMO-000123", "DEMO-000124"]
    assert portal.received[1].files == []
    assert portal.received[1].fields["order_number"] == ""


def test_empty_submit_shows_server_errors(page: Page, portal: DemoPortal):
    page.goto(portal.url + "/support/new")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.locator("button#submit-request").click()
    assert info.value.status == 422
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#form-errors")).to_contain_text("Please correct the errors below")
    for name in (
        "category",
        "subject",
        "description",
        "incident_date",
        "incident_time",
        "full_name",
        "phone",
        "email",
        "consent",
    ):
        expect(page.locator(f"#error-{name}")).to_be_visible()
        expect(page.locator(f"#error-{name}")).to_have_class("field-error")
    expect(page.locator("#error-order_number")).to_have_count(0)
    expect(page.locator("#error-attachments")).to_have_count(0)
    assert portal.received == []


def test_bad_values_keep_text_and_explain(page: Page, portal: DemoPortal):
    page.goto(portal.url + "/support/new")
    values = {
        **valid_values(),
        "description": "Слишком коротко",
        "email": "ivan@",
        "phone": "12-34",
        "order_number": "№ 1",
    }
    fill_form(page, values)
    page.locator("button#submit-request").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#error-description")).to_contain_text("at least 20 characters")
    expect(page.locator("#error-email")).to_contain_text("valid email")
    expect(page.locator("#error-phone")).to_contain_text("10 digits")
    expect(page.locator("#error-order_number")).to_be_visible()
    expect(page.locator("#error-subject")).to_have_count(0)
    # text values come back as typed, including Cyrillic; the checkbox stays checked
    expect(page.locator("#subject")).to_have_value(SUBJECT)
    expect(page.locator("#description")).to_have_value("Слишком коротко")
    expect(page.locator("#full_name")).to_have_value("Иван Петров")
    expect(page.locator("#category")).to_have_value("payment")
    expect(page.locator("#consent")).to_be_checked()
    assert portal.received == []

    # fixing the errors on the re-rendered form works (same session token)
    page.get_by_label("Description").fill(DESCRIPTION)
    page.get_by_label("Email").fill("ivan@example.com")
    page.get_by_label("Phone").fill("8 912 345 67 89")
    page.get_by_label("Order number").fill("")
    page.locator("button#submit-request").click()
    expect(page.locator("#ticket-number")).to_have_text("DEMO-000123")
    assert portal.received[0].fields["description"] == DESCRIPTION


def test_future_date_rejected(page: Page, portal: DemoPortal):
    page.goto(portal.url + "/support/new")
    future = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    fill_form(page, {**valid_values(), "incident_date": future})
    page.locator("button#submit-request").click()
    expect(page.locator("#error-incident_date")).to_contain_text("future")
    assert portal.received == []


def test_wrong_file_type_rejected(page: Page, portal: DemoPortal, tmp_path):
    fake = tmp_path / "screenshot.png"
    fake.write_text("this is not really an image\r\n", encoding="utf-8")
    page.goto(portal.url + "/support/new")
    fill_form(page, valid_values())
    page.locator("#attachments").set_input_files(fake)
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.locator("button#submit-request").click()
    assert info.value.status == 422
    expect(page.locator("#error-attachments")).to_contain_text("screenshot.png")
    expect(page.locator("#error-attachments")).to_contain_text("not a PNG, JPEG or PDF")
    expect(page.locator("#subject")).to_have_value(SUBJECT)
    assert portal.received == []


def test_too_many_files_rejected(page: Page, portal: DemoPortal, tmp_path):
    paths = []
    for i in range(6):
        p = tmp_path / f"shot{i}.png"
        p.write_bytes(png_bytes())
        paths.append(p)
    page.goto(portal.url + "/support/new")
    fill_form(page, valid_values())
    page.locator("#attachments").set_input_files(paths)
    page.locator("button#submit-request").click()
    expect(page.locator("#error-attachments")).to_contain_text("at most 5 files")
    assert portal.received == []


def _csrf(page: Page) -> str:
    return page.locator("input[name=csrf_token]").get_attribute("value")


def test_wrong_csrf_token_forbidden(page: Page, portal: DemoPortal):
    page.goto(portal.url + "/support/new")
    good = _csrf(page)
    form = {**valid_values(), "consent": "yes"}

    bad = page.request.post(portal.url + "/support/new", multipart={**form, "csrf_token": "0" * 64}, max_redirects=0)
    assert bad.status == 403
    assert "session has expired" in bad.text()
    missing = page.request.post(portal.url + "/support/new", multipart=form, max_redirects=0)
    assert missing.status == 403
    assert portal.received == []

    # the same request with the right token goes through (the cookie is the page's)
    ok = page.request.post(portal.url + "/support/new", multipart={**form, "csrf_token": good}, max_redirects=0)
    assert ok.status == 303
    assert ok.headers["location"] == "/support/tickets/DEMO-000123/submitted"
    assert len(portal.received) == 1


def test_token_without_session_cookie_forbidden(page: Page, portal: DemoPortal):
    page.goto(portal.url + "/support/new")
    token = _csrf(page)
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="subject"\r\n\r\nHello there\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        portal.url + "/support/new",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 403
    assert portal.received == []


def test_malformed_multipart_is_400(portal: DemoPortal):
    for ctype, body in [
        ("multipart/form-data; boundary=abc", b"--abc\r\nno colon here\r\n\r\nx\r\n--abc--\r\n"),
        ("multipart/form-data; boundary=abc", b'--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nnever closed'),
        ("application/x-www-form-urlencoded", b"a=b"),
    ]:
        req = urllib.request.Request(
            portal.url + "/support/new", data=body, method="POST", headers={"Content-Type": ctype}
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 400
    assert portal.received == []


def test_oversized_body_is_413_without_reading_it(portal: DemoPortal):
    port = int(portal.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /support/new HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=abc\r\n"
            b"Content-Length: 40000000\r\n\r\n" + b"x" * 1000
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert portal.received == []


def test_unconfirmed_portal_stores_but_never_shows_number(page: Page, unconfirmed_portal: DemoPortal):
    portal = unconfirmed_portal
    page.goto(portal.url + "/support/new")
    fill_form(page, valid_values())
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.locator("button#submit-request").click()
    assert info.value.status == 200
    expect(page.get_by_role("heading", name="We are processing your request…")).to_be_visible()
    page.wait_for_timeout(300)
    expect(page.locator("#ticket-number")).to_have_count(0)
    assert "DEMO-" not in page.content()
    assert [t.number for t in portal.received] == ["DEMO-000123"]
    assert portal.received[0].fields["subject"] == SUBJECT


def test_unknown_pages_are_404(page: Page, portal: DemoPortal):
    for path in ("/support/tickets/DEMO-999999", "/support/tickets/DEMO-999999/submitted", "/nowhere"):
        response = page.goto(portal.url + path)
        assert response.status == 404
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    css = page.request.get(portal.url + "/static/portal.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")


def _session_and_token(portal: DemoPortal) -> tuple[str, str]:
    with urllib.request.urlopen(portal.url + "/support/new", timeout=5) as reply:
        cookie = reply.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', reply.read().decode()).group(1)
    return cookie, token


def test_uploads_arrive_byte_exact_whatever_they_hold(portal: DemoPortal):
    cookie, token = _session_and_token(portal)
    boundary = b"----WebKitFormBoundaryAbC123"
    # CRs, NULs, "--" lines and boundary look-alikes that are not delimiters stay file content.
    payload = (
        PDF_BYTES
        + b"\r\n--"
        + boundary
        + b"X\n"
        + b"\r\n\r\n\x00\xff\r\n--\r\n"
        + b"\r\n--"
        + boundary[:-1]
        + b"\r\n"
        + b"\r"
    )

    def field(name: str, value: str) -> bytes:
        return b'Content-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value.encode() + b"\r\n"

    values = {**valid_values(), "description": DESCRIPTION.replace("\n", "\r\n"), "consent": "yes"}
    body = b"preamble\r\n"
    for name, value in {"csrf_token": token, **values}.items():
        body += b"--" + boundary + b"\r\n" + field(name, value)
    body += (
        b"--" + boundary + b"  \r\n"  # transport padding after a delimiter is allowed
        b'Content-Disposition: form-data; name="attachments"; filename="a;b %22c%22.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + payload + b"\r\n"
        b"--" + boundary + b"\r\n"
        b"Content-Disposition: form-data; name=\"attachments\"; filename*=UTF-8''%D1%84.pdf\r\n"
        b"Content-Type: application/pdf\r\n\r\n" + PDF_BYTES + b"\r\n"
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="attachments"; filename=""\r\n'  # a file input left empty
        b"Content-Type: application/octet-stream\r\n\r\n\r\n"
        b"--" + boundary + b"--\r\nepilogue"
    )
    req = urllib.request.Request(
        portal.url + "/support/new",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}", "Cookie": cookie},
    )
    with urllib.request.urlopen(req, timeout=5) as reply:  # follows the 303 to the confirmation
        assert reply.status == 200 and "DEMO-000123" in reply.read().decode()
    [ticket] = portal.received
    assert [(f.filename, f.content_type, f.data) for f in ticket.files] == [
        ('a;b "c".pdf', "application/pdf", payload),
        ("ф.pdf", "application/pdf", PDF_BYTES),
    ]
    assert ticket.fields["description"] == DESCRIPTION  # line breaks normalised to \n
    assert ticket.fields["subject"] == SUBJECT


def test_malformed_parts_and_too_many_parts_are_400(portal: DemoPortal):
    cookie, token = _session_and_token(portal)
    part = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'
    for body, reason in [
        (b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n", "Content-Disposition"),
        (b"no boundary at all", "PREAMBLE"),
        (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n", "no name"),
        (part * (MAX_PARTS + 1) + b"--b--\r\n", f"more than {MAX_PARTS} parts"),
    ]:
        req = urllib.request.Request(
            portal.url + "/support/new",
            data=body,
            method="POST",
            headers={"Content-Type": "multipart/form-data; boundary=b", "Cookie": cookie},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 400
        assert "could not read the submitted form" in (text := err.value.read().decode()) and reason in text
    assert portal.received == []
