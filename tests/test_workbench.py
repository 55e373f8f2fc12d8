"""The maintainers' workbench, through the real CLI: new, snapshot, validate, test, check, list, schema."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import REPO, json_out, run_cli
from werkzeug.wrappers import Request, Response

from assistant.sites.replica import ReplicaServer, load_site
from assistant.sites.web import LocalServer

UNSEEN_FORM = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Связаться с нами — ТехноДом</title></head>
<body>
<nav><form class="search" action="/search"><input name="q" placeholder="Поиск"></form></nav>
<form class="contact" action="https://crm.example.net/api/feedback" method="post">
  <label><input type="radio" name="who" value="person" required> Физлицо</label>
  <label><input type="radio" name="who" value="company"> Юрлицо</label>
  <label>Ваше имя <input name="client_name" required></label>
  <label>Лицевой счёт <input name="acc" required></label>
  <label>Электронная почта <input name="client_mail" type="email" required></label>
  <label>Тема <select name="reason" required><option value="">—</option>
    <option value="delivery">Доставка</option><option value="refund">Возврат денег</option></select></label>
  <label>Номер заказа <input name="order_no"></label>
  <label>Сообщение <textarea name="body" required></textarea></label>
  <label>Документ <input name="upload" type="file" accept=".pdf"></label>
  <label><input name="pd_agree" type="checkbox" required> Согласен на обработку данных</label>
  <input type="submit" value="Отправить">
</form></body></html>
"""


@pytest.fixture
def static_site():
    """A provider's page this project has never seen, served as a plain file would be."""

    @Request.application
    def app(request: Request) -> Response:
        if request.path in ("/contact/", "/contact/index.html"):
            return Response(UNSEEN_FORM, content_type="text/html")
        return Response("File not found", 404, content_type="text/plain")

    with LocalServer(app) as server:
        yield server.url


def places(tmp: Path) -> list[str]:
    return ["--flows-dir", str(tmp / "flows"), "--sites-dir", str(tmp / "sites")]


def test_new_scaffold_validates_tests_and_checks_at_once(tmp_path):
    home = tmp_path / "home"
    done = run_cli("flow", "new", "acme-support", *places(tmp_path), home=home)
    assert done.returncode == 0, done.stderr
    flow = tmp_path / "flows" / "acme-support.yaml"
    for path in (
        flow,
        tmp_path / "sites" / "acme-support" / "site.py",
        tmp_path / "flows" / "samples" / "acme-support-case.yaml",
    ):
        assert path.is_file() and str(path) in done.stdout
    assert run_cli("flow", "validate", str(flow), home=home).returncode == 0
    [result] = json_out(run_cli("flow", "test", str(flow), "--json", home=home))
    assert result["ok"] and result["confirmation"].startswith("REQ-")
    checked = json_out(run_cli("flow", "check", str(flow), "--json", home=home))
    assert checked["checked_steps"] == 9 and checked["live"] is False
    again = run_cli("flow", "new", "acme-support", *places(tmp_path), home=home)
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr


def test_snapshot_of_an_unseen_form_drafts_a_flow_that_passes(static_site, tmp_path):
    home = tmp_path / "home"
    done = run_cli("flow", "snapshot", f"{static_site}/contact/", "technodom", *places(tmp_path), home=home)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "sites" / "technodom"
    fields = json.loads((site / "fields.json").read_text())
    assert fields["form"] == "form.contact"  # the contact form, not the search box
    assert [f["name"] for f in fields["fields"] if f["required"]] == [
        "who",
        "client_name",
        "acc",
        "client_mail",
        "reason",
        "body",
        "pd_agree",
    ]
    assert "crm.example.net" not in (site / "form.html").read_text()  # posts to the replica now
    flow_text = (tmp_path / "flows" / "technodom.yaml").read_text()
    assert "{{ case.contacts.email }}" in flow_text and "{{ category.form_value }}" in flow_text
    assert "verified_live: null" in flow_text
    assert "[name='who'][value='person']" in flow_text and "{{ case.account }}" in flow_text
    assert "media_types: [application/pdf]" in flow_text and "max_files: 1" in flow_text
    # What the real site would show: a number with non-ASCII letters, in the address too.
    meta = json.loads((site / "fields.json").read_text())
    meta["number"] = {"prefix": "ТД-", "digits": 6}  # the shape the replica's numbers take
    (site / "fields.json").write_text(json.dumps(meta, ensure_ascii=False))
    flow_file = tmp_path / "flows" / "technodom.yaml"
    flow_file.write_text(flow_text.replace("REQ-", "ТД-"))
    [result] = json_out(run_cli("flow", "test", str(tmp_path / "flows" / "technodom.yaml"), "--json", home=home))
    assert result["ok"], result
    assert result["confirmation"] == "ТД-000001"


def test_check_walks_up_to_submit_and_never_clicks_it(tmp_path):
    with ReplicaServer(load_site(REPO / "flows" / "replicas" / "kuper-support")) as replica:
        checked = json_out(
            run_cli("flow", "check", "kuper-support", "--base-url", replica.url, "--json", home=tmp_path / "home")
        )
        assert replica.received == []
    assert checked["checked_steps"] == 18
    review = list(Path(checked["evidence_dir"]).glob("screenshots/*review-before-submit*"))
    assert review


def test_check_names_the_line_of_a_selector_that_no_longer_matches(tmp_path):
    text = (REPO / "flows" / "kuper-support.yaml").read_text().replace('"#order-number"', '"#order-no"')
    replica = os.path.relpath(
        REPO / "flows/replicas/kuper-support", tmp_path
    )  # a replica is named relative to the flow
    text = text.replace("replica: replicas/kuper-support", f"replica: {replica}")
    shutil.copytree(REPO / "flows" / "samples", tmp_path / "samples")  # the sample case lives beside its flow
    flow = tmp_path / "kuper-support.yaml"
    flow.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "#order-no" in l)
    done = run_cli("flow", "check", str(flow), "--timeout", "1", home=tmp_path / "home")
    assert done.returncode == 1
    assert f"{flow}:{line}: step 8 (wait for selector='#order-no') failed: timed out after 1 s" in done.stderr


def test_check_live_refuses_a_flow_without_a_live_site(tmp_path):
    done = run_cli(
        "flow", "check", str(REPO / "tests" / "flows" / "harder-iframe.yaml"), "--live", home=tmp_path / "home"
    )
    assert done.returncode == 2 and "has no live site" in done.stderr


def test_list_shows_every_flow_with_verified_live(tmp_path):
    rows = {r["id"]: r for r in json_out(run_cli("flow", "list", "--json", home=tmp_path))}
    for flow_id in ("kuper-support", "kuper-complaint", "1cupis-feedback"):
        assert rows[flow_id]["channel"] == "web_form" and rows[flow_id]["verified_live"] is None
    assert "payment" in rows["kuper-support"]["categories"]
    text = run_cli("flow", "list", home=tmp_path).stdout
    assert "VERIFIED LIVE" in text and "kuper-complaint" in text


def test_schema_file_describes_tests_logins_and_frames(tmp_path):
    out = tmp_path / "flow.schema.json"
    assert run_cli("flow", "schema", "--output", str(out), home=tmp_path).returncode == 0
    schema = json.loads(out.read_text())
    props = schema["properties"]
    assert {"test", "requires_login", "login", "verified_live"} <= set(props)
    assert "frame" in schema["$defs"]["Success"]["properties"]


def test_validate_reports_a_test_block_pointing_nowhere(tmp_path):
    text = (
        (REPO / "flows" / "1cupis-feedback.yaml")
        .read_text()
        .replace("replica: replicas/1cupis-feedback", "replica: replicas/nowhere")
    )
    flow = tmp_path / "1cupis-feedback.yaml"
    flow.write_text(text)
    done = run_cli("flow", "validate", str(flow), home=tmp_path)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("test:"))
    assert done.returncode == 2 and f"{flow}:{line}:1: test.replica:" in done.stderr and "no site.py" in done.stderr
