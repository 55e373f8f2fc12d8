"""`assistant submit --url`: filing to forms nobody wrote a flow for, through the real pipeline.

Each test serves a form on 127.0.0.1 and runs the installed command as a person would, with
a case that names no provider: what the site stored, the journal, the evidence, the flow
it leaves behind (which `flow validate` and `flow test` must pass unchanged), and the
unhappy paths (a question a script cannot answer, a refusal, a second filing).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
from form_sites import form_url, real_site
from helpers import REPO, SAMPLES, run_cli, submissions, write_case

from assistant.errors import ExitStatus
from assistant.sites.replica import Markup, ReplicaServer, Response, Site, escape
from assistant.workbench.learning import default_name

HELPDESK = REPO / "tests" / "sites" / "helpdesk-url"
SCRIPT_FORM = REPO / "tests" / "sites" / "script-form"
DYNAMIC = REPO / "tests" / "sites" / "dynamic-form"


def helpdesk() -> ReplicaServer:
    """An English help-centre form: a city the case does not hold (asked), a marketing box (left
    alone), one PNG. It refuses "Atlantis" by showing the form again with its error, as sites do."""
    site = Site(HELPDESK / "page.html", title="helpdesk")

    @site.get("/help/contact")
    def form(request):
        return site.page("page.html", errors="")

    @site.post("/contact")
    def send(request):
        if request.value("city").lower() == "atlantis":
            error = Markup(f'<div class="errorlist" role="alert">{escape("We have no store in Atlantis.")}</div>')
            return site.page("page.html", errors=error)
        number = site.record(request, prefix="T-", digits=6)
        return site.redirect(f"/help/thanks?n={number}")

    @site.get("/help/thanks")
    def thanks(request):
        return site.page("thanks.html", number=request.query.get("n", ""))

    return ReplicaServer(site)


def file_to(url: str, case: Path, home: Path, *options: str):
    """`assistant submit --url URL --case CASE OPTIONS…`, run as a script runs it (no terminal)."""
    return run_cli("submit", "--url", url, "--case", str(case), *options, home=home)


def on_a_terminal(url: str, case: Path, home: Path, language: str | None = None) -> pexpect.spawn:
    """`assistant submit --url URL --case CASE` on a terminal; `language`: the person's LANG (else English)."""
    env = {**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    if language is not None:
        env["LANG"] = language
        env.pop("ASSISTANT_LANG", None)
    args = ["-m", "assistant", "submit", "--url", url, "--case", str(case)]
    return pexpect.spawn(sys.executable, args, env=env, encoding="utf-8", timeout=90, dimensions=(50, 200))


def url_case(tmp_path: Path, **changes) -> Path:
    """The demo sample case with no provider, one PNG attached."""
    return write_case(tmp_path, provider=None, attachments=["demo-app-error.png"], **changes)


def test_files_to_an_unknown_form_with_yes_and_keeps_the_flow(tmp_path):
    home = tmp_path / "home"
    case = url_case(tmp_path)
    with helpdesk() as server:
        done = file_to(server.url + "/help/contact", case, home, "--field", "Nearest store (city)=Leeds", "--yes")
        assert done.returncode == 0, done.stderr
        (stored,) = server.received
    # The number the site gave, read by the generic reader, told to the person and journalled.
    assert stored.number in done.stdout
    (row,) = submissions(home)
    assert (row["status"], row["confirmation"]) == ("confirmed", stored.number)
    # Every stored field holds the case's value; the marketing box stayed unticked.
    assert stored.fields["name"] == "Анна Петрова"
    assert stored.fields["email"] == "anna.petrova@example.com"
    assert stored.fields["city"] == "Leeds"
    assert stored.fields["order"] == "DM-2026-114512"
    assert "2,480.00 RUB" in stored.fields["message"]
    assert "news" not in stored.fields
    # The attachment arrives byte-identical.
    (upload,) = stored.files
    assert upload.data == (SAMPLES / "demo-app-error.png").read_bytes()
    # The evidence package verifies, and holds the filled form and the provider's answer.
    (bundle,) = re.findall(r"evidence zip: (\S+\.zip)", done.stdout)
    verified = run_cli("evidence", "verify", bundle, home=home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # The mapping was shown before anything was sent, each value with where it came from.
    assert "as it will be filled" in done.stderr
    assert re.search(r"Nearest store \(city\)\s+Leeds", done.stderr)
    # The flow it used is kept, and passes validate and test unchanged on the replica made of the page.
    name = default_name(server.url)  # 127-0-0-1-PORT: a port written in the address is another site
    flow = home / "flows" / f"{name}.yaml"
    assert flow.is_file(), done.stderr
    text = flow.read_text(encoding="utf-8")
    assert "thanks: true" in text and "from: page" in text
    assert re.search(r"verified_live: \d{4}-\d{2}-\d{2}", text)
    assert "max_bytes: 2097152" in text  # "PNG, up to 2 MB", as the page says beside the field
    assert run_cli("flow", "validate", str(flow), home=home).returncode == 0
    tested = run_cli("flow", "test", name, home=home)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_never_files_twice_and_the_next_filing_uses_the_saved_flow(tmp_path):
    home = tmp_path / "home"
    case = url_case(tmp_path)
    with helpdesk() as server:
        url = server.url + "/help/contact"
        first = file_to(url, case, home, "--field", "city=Leeds", "--yes")
        assert first.returncode == 0, first.stderr
        again = file_to(url, case, home, "--field", "city=Leeds", "--yes")
        by_name = run_cli("submit", default_name(url), "--case", str(case), "--yes", home=home)
        assert len(server.received) == 1
    assert again.returncode == ExitStatus.REFUSED, again.stderr
    assert "already submitted" in again.stderr
    assert by_name.returncode == ExitStatus.REFUSED, by_name.stderr
    assert len(submissions(home)) == 1


def test_a_script_is_told_which_fields_to_give_and_nothing_is_sent(tmp_path):
    home = tmp_path / "home"
    with helpdesk() as server:
        done = file_to(server.url + "/help/contact", url_case(tmp_path), home, "--yes")
        assert server.received == []
    assert done.returncode == ExitStatus.BAD_INPUT
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert "Nearest store (city)" in line and "--field" in line
    assert submissions(home) == []
    assert not (home / "flows").exists()


def test_the_sites_refusal_is_quoted_and_no_flow_is_kept(tmp_path):
    home = tmp_path / "home"
    with helpdesk() as server:
        done = file_to(server.url + "/help/contact", url_case(tmp_path), home, "--field", "city=Atlantis", "--yes")
        assert server.received == []
    assert done.returncode == ExitStatus.REJECTED, done.stderr
    assert "We have no store in Atlantis." in done.stderr
    (row,) = submissions(home)
    assert row["status"] == "rejected"
    assert not (home / "flows").exists()


def test_accepted_without_a_number_is_said_so(tmp_path):
    home = tmp_path / "home"
    with real_site("thanks-no-number") as server:
        done = file_to(form_url(server, "thanks-no-number"), url_case(tmp_path), home, "--yes")
        (stored,) = server.received
    assert done.returncode == 0, done.stderr
    assert "gives no request number" in done.stdout
    (row,) = submissions(home)
    assert (row["status"], row["confirmation"]) == ("confirmed", None)
    assert stored.fields["your-email"] == "anna.petrova@example.com"


@pytest.mark.parametrize("name", ["zendesk-request", "django-helpdesk", "wp-cf7"])
def test_the_number_is_read_where_each_site_puts_it(tmp_path, name):
    home = tmp_path / "home"
    with real_site(name) as server:
        done = file_to(form_url(server, name), url_case(tmp_path), home, "--yes")
        received = server.received
    assert done.returncode == 0, done.stderr
    (stored,) = received
    (row,) = submissions(home)
    assert row["confirmation"] == stored.number, done.stdout
    assert "anna.petrova@example.com" in stored.fields.values()


def test_a_dry_run_with_save_flow_sends_nothing_and_writes_a_flow_that_passes_its_test(tmp_path):
    home = tmp_path / "home"
    with helpdesk() as server:
        done = file_to(
            server.url + "/help/contact",
            url_case(tmp_path),
            home,
            "--field",
            "city=Leeds",
            "--dry-run",
            "--save-flow",
            "example-help",
        )
        assert server.received == []
    assert done.returncode == 0, done.stderr
    assert run_cli("flow", "validate", "example-help", home=home).returncode == 0
    tested = run_cli("flow", "test", "example-help", home=home)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_on_a_terminal_the_person_answers_the_form_and_confirms(tmp_path):
    home = tmp_path / "home"
    with helpdesk() as server:
        child = on_a_terminal(server.url + "/help/contact", url_case(tmp_path), home)
        child.expect(r"The form asks «Nearest store \(city\)» \(required\)")
        child.sendline("York")
        child.expect("as it will be filled")
        child.expect(r"Submit this request now\? It cannot be undone \[y/N\]:")
        child.sendline("y")
        child.expect(r"T-\d{6}")
        child.expect(pexpect.EOF)
        child.close()
        (stored,) = server.received
    assert child.exitstatus == 0
    assert stored.fields["city"] == "York"


def realforms():
    from assistant.sites.replica import open_replica

    return open_replica(REPO / "tests" / "sites" / "realforms")


def test_a_wizard_is_followed_page_by_page_and_its_flow_kept(tmp_path):
    home = tmp_path / "home"
    with realforms() as server:
        done = file_to(server.url + "/steps", url_case(tmp_path), home, "--yes")
        received = list(server.received)
    assert done.returncode == 0, done.stderr
    assert "«Далее»" in done.stderr
    # The form takes no files: said, and the request goes without them.
    assert "takes no files" in done.stderr
    (stored,) = received
    assert stored.number.startswith("ST-") and stored.number in done.stdout
    assert (stored.fields["topic"], "2,480.00 RUB" in stored.fields["text"]) == ("pay", True)
    name = default_name(server.url)
    text = (home / "flows" / f"{name}.yaml").read_text(encoding="utf-8")
    assert re.search(r"- click: .*# «Далее»: page 2 of the form", text)
    tested = run_cli("flow", "test", name, home=home)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_wizard_page_the_site_refuses_stops_with_its_words_and_nothing_filed(tmp_path):
    home = tmp_path / "home"
    with realforms() as server:
        done = file_to(server.url + "/wizard", url_case(tmp_path), home, "--yes")
        assert server.received == []
    assert done.returncode == ExitStatus.BAD_INPUT, done.stderr
    assert "page 1 of the form refused" in done.stderr
    assert "Enter a valid order number, like HX-2026-0042." in done.stderr
    assert submissions(home) == []


def test_a_value_longer_than_its_field_takes_is_refused_before_anything_is_sent(tmp_path):
    home = tmp_path / "home"
    long = "The app charged my card twice for one order. " * 80  # 3,600 characters; the box takes 3,000
    with helpdesk() as server:
        case = url_case(tmp_path, description=long)
        done = file_to(server.url + "/help/contact", case, home, "--field", "city=Leeds", "--yes")
        assert server.received == []
    assert done.returncode == ExitStatus.BAD_INPUT, done.stderr
    assert "«How can we help?» takes at most 3000 characters" in done.stderr
    assert submissions(home) == []


def test_a_login_page_is_named_as_one(tmp_path):
    with realforms() as server:
        done = file_to(server.url + "/login", url_case(tmp_path), tmp_path / "home", "--yes")
    assert done.returncode == ExitStatus.BAD_INPUT, done.stderr
    assert "login form, not a feedback form" in done.stderr


def script_form() -> ReplicaServer:
    """A support card drawn with no <form> element: its "Отправить" is a type=button whose script
    posts the fields with fetch and draws the thanks (with the number) in place of the card."""
    site = Site(SCRIPT_FORM / "page.html", title="script-form")

    @site.get("/support")
    def page(request):
        return site.page("page.html")

    @site.post("/api/feedback")
    def send(request):
        if "@" not in request.value("email"):
            return Response(422, json.dumps({"error": "Укажите e-mail"}).encode(), "application/json")
        number = site.record(request, prefix="", digits=5)
        return Response(200, json.dumps({"id": number}).encode(), "application/json")

    return ReplicaServer(site)


def test_a_form_drawn_by_a_script_with_no_form_element_is_filed(tmp_path):
    home = tmp_path / "home"
    with script_form() as server:
        done = file_to(server.url + "/support", url_case(tmp_path), home, "--yes")
        received = list(server.received)
    assert done.returncode == 0, done.stderr
    (stored,) = received
    assert stored.number in done.stdout
    assert (stored.fields["name"], stored.fields["email"]) == ("Анна Петрова", "anna.petrova@example.com")
    assert stored.fields["order"] == "DM-2026-114512"
    (upload,) = stored.files
    assert upload.data == (SAMPLES / "demo-app-error.png").read_bytes()
    (row,) = submissions(home)
    assert row["confirmation"] == stored.number


def dynamic_form() -> ReplicaServer:
    """A Russian form whose topic shows a field it hid ("Оплата заказа" asks the order number),
    a phone box whose mask writes +7 itself, two file fields that take any kind of file."""
    site = Site(DYNAMIC / "page.html", title="dynamic-form")

    @site.get("/support")
    def page(request):
        return site.page("page.html", errors="")

    @site.post("/support")
    def send(request):
        if request.value("topic") == "pay" and not request.value("order"):
            return site.page("page.html", errors=Markup('<p class="error" role="alert">Укажите номер заказа</p>'))
        number = site.record(request, prefix="", digits=7)
        return site.redirect(f"/support/ok?n={number}")

    @site.get("/support/ok")
    def done(request):
        return site.page_text(
            "Спасибо",
            f"<h1>Спасибо!</h1><p>Обращение зарегистрировано под номером {escape(request.query.get('n', ''))}.</p>",
        )

    return ReplicaServer(site)


def test_a_field_a_choice_reveals_is_filled_and_each_file_field_gets_its_file(tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path, provider=None, language="ru")
    with dynamic_form() as server:
        done = file_to(server.url + "/support", case, home, "--yes")
        received = list(server.received)
    assert done.returncode == 0, done.stderr
    (stored,) = received
    assert stored.number in done.stdout
    assert stored.fields["topic"] == "pay"
    assert stored.fields["order"] == "DM-2026-114512"  # shown only once the topic was chosen
    assert stored.fields["fio"] == "Анна Петрова"
    assert stored.fields["phone"] == "9123456789"  # the mask writes +7 itself
    assert stored.fields["agree"] == "1"
    files = {u.name: u.data for u in stored.files}
    assert files == {
        "f1": (SAMPLES / "demo-app-error.png").read_bytes(),
        "f2": (SAMPLES / "demo-receipt.pdf").read_bytes(),
    }


def test_a_wizard_a_script_shows_step_by_step_in_one_form_is_followed(tmp_path):
    """One <form>, its second step hidden until a type=button "Continue" shows it."""
    site = Site(REPO / "tests" / "sites" / "script-wizard" / "page.html", title="script-wizard")

    @site.get("/contact")
    def page(request):
        return site.page("page.html")

    @site.post("/contact")
    def send(request):
        number = site.record(request, prefix="CB", digits=8)
        return site.page_text("Thank you", f"<h1>Thank you</h1><p>Your reference: {number}</p>")

    home = tmp_path / "home"
    with ReplicaServer(site) as server:
        done = file_to(server.url + "/contact", url_case(tmp_path), home, "--yes")
        received = list(server.received)
    assert done.returncode == 0, done.stderr
    assert "«Continue»" in done.stderr
    (stored,) = received
    assert stored.number in done.stdout
    assert (stored.fields["full_name"], stored.fields["email"]) == ("Анна Петрова", "anna.petrova@example.com")
    assert stored.fields["subject"] == "Card charged but order not placed"
    assert "2,480.00 RUB" in stored.fields["message"]


def test_a_form_that_sends_to_another_host_is_named_before_anything_is_typed(tmp_path):
    site = Site(HELPDESK / "page.html", title="elsewhere")

    @site.get("/contact")
    def page(request):
        return site.page_text(
            "Contact",
            '<form method="post" action="http://127.0.0.2:9/collect"><label>Name <input name="n"></label>'
            '<label>Message <textarea name="m"></textarea></label><button>Send</button></form>',
        )

    with ReplicaServer(site) as server:
        done = file_to(server.url + "/contact", url_case(tmp_path), tmp_path / "home", "--yes")
    assert done.returncode == ExitStatus.BAD_INPUT, done.stderr
    assert "sends what is typed in it to 127.0.0.2:9" in done.stderr and "--allow-host 127.0.0.2:9" in done.stderr


def test_a_captcha_without_a_person_is_said_before_anything_is_sent(tmp_path):
    with realforms() as server:
        done = file_to(server.url + "/captcha", url_case(tmp_path), tmp_path / "home", "--yes")
        assert server.received == []
    assert done.returncode == ExitStatus.BAD_INPUT, done.stderr
    assert "CAPTCHA" in done.stderr and "--headed" in done.stderr


def test_the_same_case_to_two_sites_is_two_requests(tmp_path):
    """Each address is its own provider (a port written in it too): never twice is per provider."""
    home = tmp_path / "home"
    case = url_case(tmp_path)
    with helpdesk() as one, helpdesk() as other:
        for server in (one, other):
            done = file_to(server.url + "/help/contact", case, home, "--field", "city=Leeds", "--yes")
            assert done.returncode == 0, done.stderr
        assert (len(one.received), len(other.received)) == (1, 1)
    assert len(submissions(home)) == 2


def test_a_field_option_that_names_no_field_is_an_error(tmp_path):
    with helpdesk() as server:
        done = file_to(
            server.url + "/help/contact",
            url_case(tmp_path),
            tmp_path / "home",
            "--field",
            "city=Leeds",
            "--field",
            "Favourite colour=blue",
            "--yes",
        )
        assert server.received == []
    assert done.returncode == ExitStatus.BAD_INPUT, done.stderr
    assert "'Favourite colour': no such field on the form" in done.stderr
    assert "Nearest store (city)" in done.stderr  # the fields it has, to choose from


def test_on_a_russian_terminal_the_questions_and_the_table_are_russian(tmp_path):
    home = tmp_path / "home"
    with helpdesk() as server:
        child = on_a_terminal(
            server.url + "/help/contact", url_case(tmp_path, language="ru"), home, language="ru_RU.UTF-8"
        )
        child.expect(r"Форма спрашивает «Nearest store \(city\)» \(обязательно\)")
        child.sendline("York")
        child.expect("будет заполнена так")
        child.expect("Отменить это будет нельзя")
        child.sendline("y")
        child.expect(r"T-\d{6}")
        child.expect(pexpect.EOF)
        child.close()
        (stored,) = server.received
    assert child.exitstatus == 0
    assert stored.fields["city"] == "York"
    assert stored.fields["message"].startswith("Здравствуйте")
