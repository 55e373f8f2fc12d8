"""`assistant check`: each planted problem is found, a good case passes, submit refuses on errors."""

from __future__ import annotations

import json

import pytest
from helpers import SAMPLES, json_out, run_cli, submissions, write_case

from assistant.casework import profanity


def check(case, home, *extra):
    done = run_cli("check", "--case", str(case), "--json", *extra, home=home)
    assert done.returncode in (0, 2), done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(result, level):
    return {f["field"]: f for f in result["findings"] if f["level"] == level}


@pytest.mark.parametrize("sample", ["demo-case.yaml", "kuper-support-case.yaml", "1cupis-feedback-case.yaml"])
def test_good_cases_pass(sample, tmp_path):
    done = run_cli("check", "--case", str(SAMPLES / sample), home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok, nothing to fix" in done.stdout


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (
            {"contacts": {"full_name": "Аноним", "phone": "+7 912 345-67-89", "email": "a@example.com"}},
            "contacts.full_name",
            "anonymous",
        ),
        (
            {"contacts": {"full_name": "Anna", "phone": "+7 912 345-67-89", "email": "a@example.com"}},
            "contacts.full_name",
            "does not name a person",
        ),
        ({"order_id": None}, "order_id", "order or contract number"),
        ({"incident_at": "2099-01-01T10:00:00+03:00"}, "incident_at", "in the future"),
        (
            {"description": "Вы там совсем охуели? Деньги списали, а заказа нет, идиоты, верните деньги немедленно."},
            "description",
            "'охуели', 'идиоты'",
        ),
        (
            {"description": "You fucking morons charged my card twice and the order is still not placed at all."},
            "description",
            "'fucking', 'morons'",
        ),
        ({"steps_taken": ["Позвонила, там какие-то дебилы бросили трубку"]}, "steps_taken[0]", "'дебилы'"),
        ({"desired_outcome": "Refund my money, you bastards."}, "desired_outcome", "'bastards'"),
    ],
)
def test_each_planted_error_is_found_and_names_the_field(changes, field, words, tmp_path):
    code, result = check(write_case(tmp_path, **changes), tmp_path / "home", "--flow", "demo-email")
    assert code == 2 and result["ok"] is False
    errors = findings(result, "error")
    assert field in errors, result
    assert words in errors[field]["message"] and errors[field]["fix"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"subject": "Money gone"}, "subject"),
        ({"subject": "Card charged twice but order was never placed in the app"}, "subject"),
        ({"attachments": None}, "attachments"),
        ({"category": "technical", "device": None}, "device"),
        ({"category": "technical", "device": {"model": "iPhone 13"}}, "device"),
        ({"desired_outcome": None}, "desired_outcome"),
    ],
)
def test_each_planted_warning_is_found(changes, field, tmp_path):
    code, result = check(write_case(tmp_path, **changes), tmp_path / "home")
    assert code == 0 and result["ok"] is True
    assert field in findings(result, "warning"), result
    assert not findings(result, "error")


def test_a_repeat_of_an_open_request_with_no_new_facts_is_an_error(tmp_path):
    home = tmp_path / "home"
    case = write_case(tmp_path)
    written = json_out(run_cli("submit", "demo-email", "--case", str(case), "--eml-only", "--yes", "--json", home=home))
    # The same facts with a reworded subject: still nothing new for the provider, once it has the first.
    again = write_case(tmp_path, subject="Paid by card, order never created")
    assert check(again, home)[0] == 0  # a draft not sent yet is no request to repeat
    assert run_cli("cases", "mark-sent", "1", home=home).returncode == 0
    code, result = check(again, home)
    assert code == 2
    error = findings(result, "error")["description"]
    assert written["confirmation"] in error["message"] and "no new facts" in error["message"]
    # New facts make it a different request (the one-channel rule still applies at submit).
    code, result = check(write_case(tmp_path, steps_taken=["Wrote to the bank: they confirm the charge."]), home)
    assert code == 0


def test_submit_runs_check_first_and_refuses_unless_forced(tmp_path):
    home = tmp_path / "home"
    rude = write_case(tmp_path, description="You fucking morons charged my card twice and nothing was delivered.")
    done = run_cli("submit", "demo-email", "--case", str(rude), "--eml-only", "--yes", home=home)
    assert done.returncode == 2
    assert "would likely be ignored" in done.stderr and "description: profanity" in done.stderr
    assert submissions(home) == []
    forced = json_out(
        run_cli("submit", "demo-email", "--case", str(rude), "--eml-only", "--yes", "--force", "--json", home=home)
    )
    assert forced["status"] == "eml_written" and len(submissions(home)) == 1


def test_profanity_catches_inflected_forms():
    planted = (
        "заебали хуёвый пиздец бляди идиотами Ёбаный охуели отъебитесь мудаки сволочи уродами дебилы "
        "Fucking motherfucker morons bullshit shitty idiots dickhead assholes"
    )
    assert profanity.find(planted) == planted.split()


def test_profanity_leaves_ordinary_words_alone():
    clean = (
        "Небо хлеб себе себестоимость вебинар веб-сайт употребляю оскорблять сукно тупик застрахуйте "
        "команда мудрый мандарин хуже худой хулиган Козлов учебник требую ребёнок дебет урожай дурной "
        "потребитель Dickens assess assistant class passage Scunthorpe shitake therapist cocktail grape "
        "analysis crappie"
    )
    assert profanity.find(clean) == []
    assert profanity.find("Это скотинка, а не сервис") == ["скотинка"]  # a diminutive insult is still one
