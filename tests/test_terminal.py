"""A person at a terminal: prompts for what is missing, a summary, a question before sending."""

from __future__ import annotations

import os
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
