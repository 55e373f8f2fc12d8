"""`assistant flow snapshot` on saved real-world-shaped forms (tests/forms/): each draft passes
`flow test` unchanged, and what it would send the real site is what the page means."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from form_sites import NAMES, form_url, real_site
from helpers import json_out, run_cli

from assistant.language.flow import load_flow
from assistant.sites.replica import ReplicaServer, load_site


def places(tmp: Path) -> list[str]:
    return ["--flows-dir", str(tmp / "flows"), "--sites-dir", str(tmp / "sites")]


def snapshot(name: str, tmp: Path) -> Path:
    with real_site(name) as server:
        done = run_cli("flow", "snapshot", form_url(server, name), name, *places(tmp), home=tmp / "home")
    assert done.returncode == 0, done.stderr
    return tmp / "flows" / f"{name}.yaml"


def sent(flow: Path, tmp: Path) -> dict:
    """What the draft flow sends: the sample case filed to the replica, as the replica received it."""
    case = flow.parent / "samples" / f"{flow.stem}-case.yaml"
    with ReplicaServer(load_site(tmp / "sites" / flow.stem)) as server:
        done = run_cli("submit", str(flow), "--case", str(case), "--base-url", server.url, "--yes", home=tmp / "home")
        assert done.returncode == 0, done.stderr
        [received] = server.received
    return received.fields


@pytest.mark.parametrize("name", NAMES)
def test_the_draft_passes_flow_test_unchanged(name, tmp_path):
    flow = snapshot(name, tmp_path)
    [result] = json_out(run_cli("flow", "test", str(flow), "--json", home=tmp_path / "home"))
    assert result["ok"], result
    loaded = load_flow(flow)
    assert loaded.rejected is not None  # a refusal ends the run in the site's words
    assert all(key == key.lower() and not key[0].isdigit() for key in loaded.categories)


def test_numeric_select_values_keep_preselected_and_leave_unrelated_dates(tmp_path):
    flow = snapshot("django-helpdesk", tmp_path)
    loaded = load_flow(flow)
    assert {k: (c.label, c.form_value) for k, c in loaded.categories.items()} == {
        "billing": ("Billing", "1"),
        "technical-problem": ("Technical problem", "2"),
        "account-access": ("Account access", "3"),
    }
    text = flow.read_text()
    assert "#id_priority" not in text and '# Priority: left as the page pre-selects it ("3. Normal")' in text
    assert "#id_due_date" not in text and "# TODO: fields left empty" in text and "Due on" in text
    assert loaded.attachments.extensions == (".jpg", ".png", ".pdf", ".txt")
    assert "text/plain" in loaded.attachments.media_types
    fields = sent(flow, tmp_path)
    assert fields["priority"] == "3" and fields["due_date"] == "" and fields["queue"] == "1"


def test_a_date_labelled_as_the_problem_day_gets_the_incident_date(tmp_path):
    flow = snapshot("bitrix24-crm", tmp_path)
    loaded = load_flow(flow)
    assert list(loaded.categories) == ["garantiynyy-remont", "dostavka-i-ustanovka", "oplata"]
    assert loaded.categories["oplata"].form_value == "49"
    fields = sent(flow, tmp_path)
    assert fields["UF_CRM_1700000002"] == "2026-11-20" and fields["agreement_1"] == "Y"


def test_radio_topics_consent_and_left_alone_fields(tmp_path):
    flow = snapshot("radio-consent", tmp_path)
    loaded = load_flow(flow)
    assert {k: c.form_value for k, c in loaded.categories.items()} == {
        "my-parcel-is-late": "late",
        "my-parcel-arrived-damaged": "damaged",
        "refund-or-payment": "refund",
    }
    assert loaded.attachments.extensions is None and loaded.attachments.media_types == ("image/png", "image/jpeg")
    fields = sent(flow, tmp_path)
    assert fields["topic"] == "late" and fields["gdpr"] == "yes" and fields["reply_by"] == "email"
    assert "newsletter" not in fields and fields["dob"] == "" and fields["tracking"] == ""
    meta = json.loads((tmp_path / "sites" / "radio-consent" / "fields.json").read_text())
    assert meta["path"] == "/help/contact"


def one_real_request(name: str, tmp: Path) -> tuple[Path, list]:
    """The form snapshotted, then one genuine request through the draft (by someone else than
    the sample case), its evidence kept in tmp/ev: (the flow file, what the site received).
    The draft's success: is the replica's guess, so the real run may end unknown; the evidence
    keeps the page the site showed anyway."""
    home = tmp / "home"
    with real_site(name) as server:
        done = run_cli("flow", "snapshot", form_url(server, name), name, *places(tmp), home=home)
        assert done.returncode == 0, done.stderr
        flow = tmp / "flows" / f"{name}.yaml"
        sample = flow.parent / "samples" / f"{name}-case.yaml"
        real = sample.with_name("real-case.yaml")
        real.write_text(
            sample.read_text()
            .replace("Anna Petrova", "Boris Realman")
            .replace("anna.petrova@example.com", "boris@real.example")
            .replace("Card charged twice for one order", "My real problem with order")
        )
        done = run_cli(
            "submit", str(flow), "--case", str(real), "--yes", "--timeout", "3", "--out", str(tmp / "ev"), home=home
        )
        assert (tmp / "ev" / "manifest.json").is_file(), done.stderr
        return flow, list(server.received)


@pytest.mark.parametrize("name", ["django-helpdesk", "zendesk-request", "cb-thanks"])
def test_a_real_confirmation_page_becomes_the_replicas_and_drafts_success_and_confirmation(name, tmp_path):
    """One real submission (to the site itself, by someone else than the sample case), then
    `flow snapshot NAME --confirmation EVIDENCE_DIR`: the replica shows the real page with the
    sample case's data, and the flow reads the number where the real site puts it."""
    home = tmp_path / "home"
    flow, [received] = one_real_request(name, tmp_path)
    number = received.number
    drafted = flow.read_text()
    received_at = json.loads((tmp_path / "ev" / "manifest.json").read_text())["submission"]["confirmation_url"] or ""
    pages = json.loads((tmp_path / "ev" / "manifest.json").read_text())["files"]
    received_at = received_at or next(
        (f["meta"]["url"] for f in reversed(pages) if f["path"].startswith("pages/") and f.get("meta")), ""
    )
    done = run_cli(
        "flow",
        "snapshot",
        name,
        "--confirmation",
        str(tmp_path / "ev"),
        "--number",
        number,
        *places(tmp_path),
        home=home,
    )
    assert done.returncode == 0, done.stderr
    # Only the lines it sets change: the rest of the file is the maintainer's, as they wrote it.
    changed = [
        line[1:].strip()
        for line in difflib.unified_diff(drafted.splitlines(), flow.read_text().splitlines(), n=0, lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    ours = ("success:", "confirmation:", "text:", "selector:", "regex:", "from:", "url:", "verified_confirmation:")
    assert changed and all(line.startswith(ours) for line in changed), changed
    page = (tmp_path / "sites" / name / "done.html").read_text()
    assert "$number" in page and number not in page
    assert "Boris" not in page and "boris@real.example" not in page
    assert "anna.petrova@example.com" in page or "Anna Petrova" in page
    loaded = load_flow(flow)
    assert loaded.verified_confirmation is not None and loaded.confirmation is not None
    assert loaded.success is not None and loaded.success.text and "Request received" not in loaded.success.text
    [result] = json_out(run_cli("flow", "test", str(flow), "--json", home=home))
    assert result["ok"], result
    assert result["confirmation"].startswith(number[:3])
    # A rule that reads the address only where the real site put the number there.
    assert loaded.confirmation.source != "url" or number in received_at
    if number not in received_at:  # cb-thanks: only a bare <strong> on the page holds it
        assert loaded.confirmation.source == "text" and loaded.confirmation.selector == "body", loaded.confirmation


ODD_FORM = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Odd "form"</title></head><body>
<form action="/odd" method="post">
  <label for="c">Country</label><select id="c" name="country">{countries}</select>
  <label>Say "hi" \\ there<input name='we"ird' required></label>
  <label for="m">Message</label><textarea id="m" name="m" required></textarea>
  <button type="submit">Send</button>
</form></body></html>"""


def test_a_page_with_quotes_in_names_and_a_country_list_still_drafts_a_valid_flow(tmp_path):
    """Names and labels are someone else's text: the draft stays valid YAML, and a long list
    that does not say it is a topic (250 countries) does not become 250 categories."""
    from werkzeug.wrappers import Request, Response

    from assistant.sites.web import LocalServer

    countries = "".join(f'<option value="c{i}">Country {i}</option>' for i in range(250))

    @Request.application
    def app(request):
        return Response(ODD_FORM.format(countries=countries), content_type="text/html")

    with LocalServer(app) as server:
        done = run_cli("flow", "snapshot", f"{server.url}/odd", "odd", *places(tmp_path), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    flow = tmp_path / "flows" / "odd.yaml"
    assert run_cli("flow", "validate", str(flow), home=tmp_path / "home").returncode == 0
    loaded = load_flow(flow)
    assert list(loaded.categories) == ["general"]
    [result] = json_out(run_cli("flow", "test", str(flow), "--json", home=tmp_path / "home"))
    assert result["ok"], result


MOJIBAKE_FORM = """<html><body><form method="post" action="/send">
  <label for="t">Тема</label>
  <select id="t" name="topic" required><option value="">—</option><option value="1">Оплата</option>
    <option value="2">Доставка</option></select>
  <label for="n">Имя\u0085 и\u2028фамилия</label><input id="n" name="na\u0090me">
  <label for="m">Сообщение</label><textarea id="m" name="m" required></textarea>
  <input type="hidden" name="k\u009fey" value="v\u0001al">
  <button type="submit">Отправить</button>
</form></body></html>"""


def test_a_page_in_the_wrong_encoding_still_drafts_a_flow_that_loads_and_passes(tmp_path):
    """A page sent without a charset is read as windows-1252: its Cyrillic becomes mojibake with
    C1 control characters, which YAML refuses even in quotes. The draft writes them as escapes
    (names, values) or ? (comments), loads, and passes its test."""
    from werkzeug.wrappers import Request, Response

    from assistant.sites.web import LocalServer

    @Request.application
    def app(request):
        return Response(MOJIBAKE_FORM.encode("utf-8"), content_type="text/html")  # no charset

    with LocalServer(app) as server:
        done = run_cli("flow", "snapshot", f"{server.url}/form", "mojibake", *places(tmp_path), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    flow = tmp_path / "flows" / "mojibake.yaml"
    validated = run_cli("flow", "validate", str(flow), home=tmp_path / "home")
    assert validated.returncode == 0, validated.stderr
    [result] = json_out(run_cli("flow", "test", str(flow), "--json", home=tmp_path / "home"))
    assert result["ok"], result


def test_the_confirmation_page_keeps_the_providers_address_and_loses_the_persons():
    from assistant.workbench.confirmation import PHONE, scrub

    page = (
        "<p>Thanks, Boris! Boris Realman, we wrote to boris@real.example and will call +7 912 000-11-22."
        " Questions: help@acme.example. Request 48213, filed 2026-11-20 for order 24-1187-5512; fee $5.</p>"
    )
    pairs = [("Boris Realman", "Anna Petrova"), ("Boris", "Anna"), ("+7 912 000-11-22", "+7 912 345-67-89")]
    out = scrub(page, "48213", pairs, "anna@example.com", "support.acme.example")
    assert out == (
        "<p>Thanks, Anna! Anna Petrova, we wrote to anna@example.com and will call +7 912 345-67-89."
        " Questions: help@acme.example. Request $number, filed 2026-11-20 for order 24-1187-5512; fee $$5.</p>"
    )
    assert PHONE.findall("on 2026-11-20, order 24-1187-5512, tel. 8 (912) 111-22-33") == ["8 (912) 111-22-33"]


def test_confirmation_capture_refuses_what_it_cannot_use_in_one_line(tmp_path):
    home = tmp_path / "home"
    assert run_cli("flow", "new", "acme", *places(tmp_path), home=home).returncode == 0
    empty = tmp_path / "not-evidence"
    empty.mkdir()
    done = run_cli("flow", "snapshot", "acme", "--confirmation", str(empty), *places(tmp_path), home=home)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no manifest.json" in done.stderr
    (empty / "manifest.json").write_text(json.dumps({"submission": {"outcome": "unknown"}, "files": []}))
    done = run_cli("flow", "snapshot", "acme", "--confirmation", str(empty), *places(tmp_path), home=home)
    assert done.returncode == 2 and "pass --number" in done.stderr, done.stderr
    done = run_cli("flow", "snapshot", "../up", "--confirmation", str(empty), *places(tmp_path), home=home)
    assert done.returncode == 2 and "NAME" in done.stderr


def test_a_captcha_a_number_field_and_a_back_button_are_drafted_as_a_person_would(tmp_path):
    flow = snapshot("captcha-number", tmp_path)
    text = flow.read_text()
    loaded = load_flow(flow)
    steps = {(s.kind, getattr(s.args, "selector", None)): s for s in loaded.steps}
    # The CAPTCHA is the person's: never filled by the flow, a pause for them instead.
    assert ("fill", "#f-code") not in steps and any(s.kind == "pause_for_human" for s in loaded.steps)
    assert loaded.test is not None and [s.kind for s in loaded.test.human_steps] == ["fill"]
    # A number field gets digits, not "HX-2026-0042".
    assert steps[("fill", "#f-order")].args.value == "{{ case.order_id | digits }}"
    # The send button, not "Назад", and a selector only it matches.
    submit = loaded.steps[-1].args.selector
    assert "Отправить" in submit and "[type=submit]" not in submit, submit
    assert "image CAPTCHA" in text


def test_a_login_page_captured_instead_of_the_form_is_said_so(tmp_path):
    from assistant.sites.replica import ReplicaServer as Server

    site = load_site(Path(__file__).parent / "sites" / "realforms")
    with Server(site) as server:
        done = run_cli(
            "flow",
            "snapshot",
            f"{server.url}/account/contact",
            "behind-login",
            *places(tmp_path),
            home=tmp_path / "home",
        )
    assert done.returncode == 0, done.stderr
    assert "warning: the form captured has a password field: it looks like a login form" in done.stderr
    assert f"(it opened {server.url}/login?next=/account/contact" in done.stderr and "--session" in done.stderr
    text = (tmp_path / "flows" / "behind-login.yaml").read_text()
    assert "password" not in text.split("steps:")[1].split("success:")[0].replace("a password field", "")


def test_snapshot_with_a_session_no_one_saved_says_how_to_make_one(tmp_path):
    done = run_cli("flow", "snapshot", "http://127.0.0.1:9/x", "x", "--session", "demo", home=tmp_path / "home")
    assert done.returncode == 2 and "assistant login demo" in done.stderr, done.stderr


def test_a_real_thank_you_page_with_no_number_becomes_confirmation_none(tmp_path):
    """A real form whose thank-you page gives no number: learned as `confirmation: none`, and
    the flow test then expects the request accepted with no number."""
    name, home = "thanks-no-number", tmp_path / "home"
    flow, received = one_real_request(name, tmp_path)
    assert len(received) == 1
    asked = run_cli("flow", "snapshot", name, "--confirmation", str(tmp_path / "ev"), *places(tmp_path), home=home)
    assert asked.returncode == 2 and "--no-number" in asked.stderr
    done = run_cli(
        "flow", "snapshot", name, "--confirmation", str(tmp_path / "ev"), "--no-number", *places(tmp_path), home=home
    )
    assert done.returncode == 0, done.stderr
    loaded = load_flow(flow)
    assert loaded.confirmation == "none" and loaded.test is not None and loaded.test.confirmation is None
    assert loaded.success is not None and loaded.success.text and "Boris" not in loaded.success.text
    page = (tmp_path / "sites" / name / "done.html").read_text()
    assert "Boris" not in page and "двух рабочих дней" in page
    [result] = json_out(run_cli("flow", "test", str(flow), "--json", home=home))
    assert result["ok"] and result["confirmation"] is None, result


def snapshot_wizard(path: str, name: str, tmp: Path):
    """`flow snapshot --steps 2` of a wizard of tests/sites/realforms; (the command, what the site received)."""
    with ReplicaServer(load_site(Path(__file__).parent / "sites" / "realforms")) as server:
        done = run_cli("flow", "snapshot", f"{server.url}{path}", name, "--steps", "2", *places(tmp), home=tmp / "home")
        return done, list(server.received)


def test_a_wizard_is_snapshotted_step_by_step_into_a_replica_of_its_steps(tmp_path):
    done, received = snapshot_wizard("/steps", "two-steps", tmp_path)
    assert done.returncode == 0, done.stderr
    assert received == [], "only the first step's Next was clicked, never the send"
    flow = load_flow(tmp_path / "flows" / "two-steps.yaml")
    kinds = [(s.kind, getattr(s.args, "selector", None)) for s in flow.steps]
    assert ("fill", "#s-email") in kinds and ("select", "#s-topic") in kinds
    nexts = [i for i, s in enumerate(flow.steps) if s.kind == "click"]
    assert len(nexts) == 1 and kinds.index(("fill", "#s-email")) < nexts[0] < kinds.index(("select", "#s-topic"))
    assert {c.form_value for c in flow.categories.values()} == {"pay", "ship"}
    submit = flow.steps[-1].args.selector
    assert "Отправить" in submit, submit
    assert (tmp_path / "sites" / "two-steps" / "form-2.html").is_file()
    [result] = json_out(
        run_cli("flow", "test", str(tmp_path / "flows" / "two-steps.yaml"), "--json", home=tmp_path / "home")
    )
    assert result["ok"], result


def test_a_wizard_step_that_refuses_the_sample_case_is_said_in_its_words(tmp_path):
    done, _ = snapshot_wizard("/wizard", "strict", tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--steps: step 1 of the form refused the sample case" in done.stderr
    assert "Enter a valid order number" in done.stderr and "Traceback" not in done.stderr
