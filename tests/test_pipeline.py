"""The pipeline's promises to every channel, checked with a channel written here.

The channel below is a real one as far as the pipeline can tell (found through
the registry, prepared, delivered, sealed); it writes its "provider" to a file
instead of a browser, so each promise can be broken on purpose: a channel that
refuses in prepare(), one whose seal fails after the number was read, one that
never seals.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import submissions, write_case

from assistant import channels
from assistant.channels.base import Delivery, Filing
from assistant.errors import InputError, RunFailed
from assistant.language.case import load_case
from assistant.language.flow import find_flow, load_flow
from assistant.pipeline import Settings, submit
from evidence import FilingOutcome, verify


class Recorder:
    """Files into `provider.txt` beside the home; `mode` says which promise to break."""

    name = "email"
    mode = "ok"

    def __init__(self, filing: Filing) -> None:
        self.filing = filing

    def prepare(self) -> None:
        if self.mode == "refuse":
            raise InputError("fax: no fax number in the flow")

    def deliver(self) -> Delivery:
        from assistant.channels.email import this_machine

        filing = self.filing
        filing.package.add_bytes("sent.txt", b"the request", "text/plain", role="message")
        filing.journal()
        (filing.settings.home / "provider.txt").write_text("received\n")
        if self.mode == "number-then-crash":
            filing.confirmed("FAX-1", None)
            raise RuntimeError("the confirmation page could not be photographed")
        delivery = Delivery(outcome=FilingOutcome.CONFIRMED, confirmation="FAX-1", environment=this_machine())
        if self.mode == "no-seal":
            return delivery
        before_seal = None
        if self.mode == "seal-fails":

            def before_seal() -> None:
                raise OSError("disk full while sealing")

        filing.seal(delivery, report=False, before_seal=before_seal)
        return delivery


@pytest.fixture
def recorder(monkeypatch):
    monkeypatch.setitem(channels.BUILT_IN, "email", f"{__name__}:Recorder")
    monkeypatch.setattr(Recorder, "mode", "ok")
    return Recorder


def file_once(tmp_path: Path):
    flow = load_flow(find_flow("demo-email"))
    case = load_case(write_case(tmp_path))
    home = tmp_path / "home"
    return home, submit(case, flow, Settings(home=home, yes=True, force=True))


def test_a_channel_is_found_by_name_and_its_package_is_sealed_and_zipped(recorder, tmp_path):
    home, outcome = file_once(tmp_path)
    assert outcome.confirmation == "FAX-1" and outcome.status == "confirmed"
    [row] = submissions(home)
    assert row["status"] == "confirmed" and row["confirmation"] == "FAX-1" and row["manifest_sha256"]
    assert verify.verify(outcome.evidence_dir).ok
    assert outcome.evidence_zip is not None and outcome.evidence_zip.is_file()


def test_a_refusal_in_prepare_writes_and_journals_nothing(recorder, tmp_path):
    recorder.mode = "refuse"
    with pytest.raises(InputError, match="no fax number"):
        file_once(tmp_path)
    home = tmp_path / "home"
    assert submissions(home) == [] and not (home / "evidence").exists() and not (home / "provider.txt").exists()


def test_the_number_is_journalled_before_the_seal_so_a_failing_seal_cannot_lose_it(recorder, tmp_path):
    recorder.mode = "seal-fails"
    with pytest.raises(OSError, match="disk full"):
        file_once(tmp_path)
    [row] = submissions(tmp_path / "home")
    assert row["status"] == "confirmed" and row["confirmation"] == "FAX-1"


def test_a_number_read_stays_journalled_when_the_run_breaks_after_it(recorder, tmp_path):
    recorder.mode = "number-then-crash"
    with pytest.raises(RuntimeError, match="photographed"):
        file_once(tmp_path)
    [row] = submissions(tmp_path / "home")
    assert row["status"] == "confirmed" and row["confirmation"] == "FAX-1"
    assert "photographed" in row["last_error"]


def test_a_channel_that_never_seals_is_an_error_not_a_silent_success(recorder, tmp_path):
    recorder.mode = "no-seal"
    with pytest.raises(RunFailed, match="did not seal"):
        file_once(tmp_path)
    [row] = submissions(tmp_path / "home")
    assert row["status"] == "pending"  # sent, no sealed evidence: never shown as done


def test_an_unknown_channel_is_bad_input_naming_the_known_ones():
    with pytest.raises(InputError, match=r"no channel named 'fax' \(known: web_form, email\)"):
        channels.find("fax")
