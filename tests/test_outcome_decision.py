"""Where "rejected" is decided: `assistant.run.outcome.decide`, a pure function, on its own
table of cases; and the one outcome vocabulary, layer by layer, against docs/ARCHITECTURE.md.

The browser tests (test_outcomes.py, test_unhappy_paths.py, …) show that the runner takes the
right looks at real pages; this table shows what each look decides, rule by rule, in
milliseconds and without a browser.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.casework.tracking import OUTCOMES
from assistant.channels.web_form import FILED_AS
from assistant.pipeline import JOURNAL_AS
from assistant.run.outcome import (
    SETTLE_SECONDS,
    AfterClick,
    Look,
    Need,
    Refusal,
    Verdict,
    Why,
    decide,
    refusal_kind,
)
from assistant.store import Status, Store
from evidence import FilingOutcome, RefusalKind

ROOT = Path(__file__).resolve().parent.parent

EMAIL = (Refusal("Email", "Enter a valid email address."),)
OTHER = (Refusal("Phone", "Too short."),)
WORDS = (Refusal(None, "Order not found"),)

# A look after the request left and its answer came; each case changes what it must.
SENT = Look(elapsed=2.0, left_browser=True, form_shown=False)
QUIET = Look(elapsed=2.0, left_browser=False, form_shown=True, invalid=())

CASES: list[tuple[str, Look, Verdict | Need | None]] = [
    # The guard stopped the click's only request: nothing left, so nothing was filed.
    (
        "guard-stopped-the-only-request",
        Look(elapsed=1.0, left_browser=False, stopped="blocked evil.test"),
        Verdict(AfterClick.NOT_SENT, Why.GUARD_STOPPED_IT, sent=False),
    ),
    (
        "guard-stopped-but-too-soon-to-say",
        Look(elapsed=SETTLE_SECONDS / 2, left_browser=False, stopped="blocked evil.test", form_shown=True),
        None,
    ),
    # The gate (or Chromium) could not connect, open the tunnel or finish TLS: not a byte left.
    (
        "unreachable-server-is-not-sent",
        Look(elapsed=1.0, left_browser=False, unreachable="POST http://x/send: connection refused"),
        Verdict(AfterClick.NOT_SENT, Why.UNREACHABLE, sent=False),
    ),
    (
        "unreachable-but-another-request-left",
        Look(
            elapsed=1.0,
            left_browser=True,
            unreachable="GET http://x/ping?a=1: connection refused",
            form_shown=False,
            login_shown=False,
        ),
        None,
    ),
    (
        "unreachable-too-soon-to-say",
        Look(
            elapsed=SETTLE_SECONDS / 2, left_browser=False, unreachable="POST http://x/send: refused", form_shown=True
        ),
        None,
    ),
    # While the document's answer is on its way, the page cannot be read: wait.
    ("navigating", Look(elapsed=1.0, left_browser=True, in_flight=True, navigating=True), None),
    # The flow's own `rejected:` check is read first, and counts whether or not anything left.
    ("flow-check-asked-for", Look(elapsed=1.0, left_browser=True, declares_rejected=True), Need.DECLARED),
    (
        "flow-check-shows",
        replace(SENT, declares_rejected=True, declared=WORDS),
        Verdict(AfterClick.REJECTED, Why.FLOW_SAYS_REJECTED, WORDS),
    ),
    (
        "flow-check-shows-before-sending",
        replace(QUIET, declares_rejected=True, declared=WORDS),
        Verdict(AfterClick.REJECTED, Why.FLOW_SAYS_REJECTED, WORDS, sent=False),
    ),
    (
        "flow-check-silent-then-form-asked",
        Look(elapsed=1.0, left_browser=True, declares_rejected=True, declared=()),
        Need.FORM_SHOWN,
    ),
    # Nothing left the browser: only a field marked invalid, after a moment, says why.
    ("nothing-sent-asks-for-invalid-fields", replace(QUIET, invalid=None), Need.INVALID),
    (
        "nothing-sent-a-field-invalid",
        replace(QUIET, invalid=EMAIL),
        Verdict(AfterClick.REJECTED, Why.BROWSER_REFUSED, EMAIL, sent=False),
    ),
    ("nothing-sent-yet-no-reason", QUIET, None),
    ("nothing-sent-too-soon-to-read", replace(QUIET, elapsed=SETTLE_SECONDS / 2, invalid=None), None),
    ("nothing-sent-form-gone", replace(QUIET, form_shown=False, invalid=None), None),
    # Sent, and still in flight: wait for the answer.
    ("in-flight", replace(SENT, in_flight=True), None),
    ("connection-broke", replace(SENT, broken=True), Verdict(AfterClick.UNKNOWN, Why.CONNECTION_BROKE)),
    # The form came back: its error counts once it holds still for two looks, or with a 4xx.
    ("form-back-asks-for-refusals", replace(SENT, form_shown=True), Need.REFUSALS),
    ("form-back-first-sight", replace(SENT, form_shown=True, refusals=EMAIL), None),
    (
        "form-back-same-error-twice",
        replace(SENT, form_shown=True, refusals=EMAIL, previous=EMAIL),
        Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, EMAIL),
    ),
    ("form-back-error-changed", replace(SENT, form_shown=True, refusals=EMAIL, previous=OTHER), None),
    (
        "form-back-error-with-4xx",
        replace(SENT, form_shown=True, refusals=EMAIL, status=422),
        Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, EMAIL),
    ),
    ("form-back-no-error-with-4xx", replace(SENT, form_shown=True, refusals=(), status=422), None),
    # The form is gone: the document's answer tells.
    ("closed-without-a-word", replace(SENT, silent_close=True), Verdict(AfterClick.UNKNOWN, Why.CLOSED_SILENTLY)),
    ("server-error", replace(SENT, status=503), Verdict(AfterClick.UNKNOWN, Why.SERVER_ERROR)),
    ("client-error-asks-for-words", replace(SENT, status=404), Need.PAGE_WORDS),
    (
        "client-error-with-words",
        replace(SENT, status=404, page_words=WORDS),
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, WORDS),
    ),
    (
        "client-error-heading-only",
        replace(SENT, status=403, page_words=(), heading="Forbidden"),
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "Forbidden"),)),
    ),
    (
        "client-error-nothing-to-quote",
        replace(SENT, status=400, page_words=()),
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "HTTP 400"),)),
    ),
    # The answer is another page: a login form that holds still for two looks means the session ended.
    ("answer-page-asks-for-login", replace(SENT, status=200), Need.LOGIN),
    ("success-page-pending-its-check", replace(SENT, status=200, login_shown=False), None),
    ("redirected-elsewhere", replace(SENT, status=302, login_shown=False), None),
    ("login-page-first-sight", replace(SENT, status=200, login_shown=True), None),
    (
        "login-page-twice-asks-for-words",
        replace(SENT, status=200, login_shown=True, previous_login=True),
        Need.PAGE_WORDS,
    ),
    (
        "login-page-twice",
        replace(SENT, status=200, login_shown=True, previous_login=True, page_words=(), heading="Sign in"),
        Verdict(AfterClick.REJECTED, Why.LOGIN_PAGE, (Refusal(None, "Sign in"),)),
    ),
    # Time is up: the timeout alone never decides "rejected".
    (
        "time-up-guard-stopped-something",
        replace(SENT, status=200, stopped="blocked tracker.test", time_up=True, login_shown=False),
        Verdict(AfterClick.UNKNOWN, Why.TIME_UP_GUARD),
    ),
    (
        "time-up-nothing-sent",
        replace(QUIET, time_up=True),
        Verdict(AfterClick.NOT_SENT, Why.TIME_UP_NOTHING_SENT, sent=False),
    ),
    (
        "time-up-still-waiting",
        Look(elapsed=30.0, left_browser=True, in_flight=True, navigating=True, time_up=True),
        Verdict(AfterClick.UNKNOWN, Why.TIME_UP_NO_ANSWER),
    ),
    (
        "time-up-answer-not-success",
        replace(SENT, status=200, time_up=True, login_shown=False),
        Verdict(AfterClick.UNKNOWN, Why.TIME_UP_NOT_SUCCESS),
    ),
    (
        "time-up-form-back-error-once",
        replace(SENT, form_shown=True, refusals=EMAIL, time_up=True),
        Verdict(AfterClick.UNKNOWN, Why.TIME_UP_NOT_SUCCESS),
    ),
    (
        "time-up-still-reads-first",
        replace(SENT, form_shown=True, time_up=True),
        Need.REFUSALS,
    ),
]


@pytest.mark.parametrize(("look", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_look_decides(look: Look, expected: Verdict | Need | None) -> None:
    assert decide(look) == expected


def test_every_rule_is_in_the_table() -> None:
    decided = {c[2].why for c in CASES if isinstance(c[2], Verdict)}
    asked = {c[2] for c in CASES if isinstance(c[2], Need)}
    assert decided == set(Why), f"rules with no case: {set(Why) - decided}"
    assert asked == set(Need), f"readings never asked for: {set(Need) - asked}"


def test_a_time_up_look_always_decides() -> None:
    """Once time is up, every look ends in a verdict after its readings: the runner never waits on."""
    answers = {
        Need.DECLARED: {"declared": ()},
        Need.FORM_SHOWN: {"form_shown": True},
        Need.INVALID: {"invalid": ()},
        Need.REFUSALS: {"refusals": ()},
        Need.PAGE_WORDS: {"page_words": ()},
        Need.LOGIN: {"login_shown": False},
    }
    for _, look, _ in CASES:
        look = replace(look, time_up=True)
        verdict = decide(look)
        for _ in range(len(Need) + 1):
            if not isinstance(verdict, Need):
                break
            look = replace(look, **answers[verdict])
            verdict = decide(look)
        assert isinstance(verdict, Verdict), look
        assert verdict.outcome is not AfterClick.CONFIRMED  # only the success check confirms


def _documented() -> list[list[str]]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = re.search(r"```outcomes\n(.*?)```", text, re.S)
    assert block, "docs/ARCHITECTURE.md: no ```outcomes block"
    rows = [[cell.strip() for cell in line.split("|")] for line in block.group(1).strip().splitlines()]
    return rows[1:]


def test_the_vocabulary_is_the_documented_one() -> None:
    rows = _documented()
    assert {r[0] for r in rows if r[0] != "-"} == set(AfterClick)
    assert {r[1] for r in rows} == set(FilingOutcome)
    assert {r[2] for r in rows} == set(Status)
    for after, filed, journal, read in rows:
        if after != "-":
            assert FILED_AS[AfterClick(after)] == filed, after
        assert JOURNAL_AS[FilingOutcome(filed)] == journal, filed
        assert OUTCOMES[Status(journal)] == read, journal
    assert set(FILED_AS) == set(AfterClick) and set(JOURNAL_AS) == set(FilingOutcome)


def test_the_journal_accepts_exactly_its_statuses(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.begin(
            case_key="k",
            case={"provider": "Demo", "category": "refund"},
            flow={"id": "demo", "version": "1", "sha256": "0" * 64, "channel": "web_form"},
            evidence_dir=str(tmp_path),
        )
    db = sqlite3.connect(store.path)
    try:
        for status in Status:
            db.execute("UPDATE submissions SET status=?", (status,))
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE submissions SET status='accepted'")
    finally:
        db.close()


# What a rejection is about, for the advice: the site's words, its status, and why it was decided.
KINDS = [
    ("field-error", Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, EMAIL), 200, RefusalKind.FIELDS),
    (
        "browser-blocked-a-field",
        Verdict(AfterClick.REJECTED, Why.BROWSER_REFUSED, EMAIL, sent=False),
        None,
        RefusalKind.FIELDS,
    ),
    (
        "django-csrf-page",
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "Forbidden (403): CSRF verification failed."),)),
        403,
        RefusalKind.SESSION,
    ),
    (
        "laravel-419",
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "Page Expired"),)),
        419,
        RefusalKind.SESSION,
    ),
    ("login-page", Verdict(AfterClick.REJECTED, Why.LOGIN_PAGE, (Refusal(None, "Вход"),)), 200, RefusalKind.SESSION),
    (
        "session-expired-words-on-the-form",
        Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, (Refusal(None, "Сессия истекла, обновите страницу"),)),
        200,
        RefusalKind.SESSION,
    ),
    (
        "captcha-by-its-label",
        Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, (Refusal("Код с картинки", "Неверный код"),)),
        200,
        RefusalKind.CAPTCHA,
    ),
    (
        "captcha-in-english",
        Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, (Refusal(None, "The CAPTCHA was incorrect."),)),
        403,
        RefusalKind.CAPTCHA,
    ),
    (
        "too-many",
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "Slow down"),)),
        429,
        RefusalKind.RATE_LIMIT,
    ),
    (
        "too-many-in-words",
        Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, (Refusal(None, "Слишком много попыток, повторите позже"),)),
        200,
        RefusalKind.RATE_LIMIT,
    ),
    (
        "gone",
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "Page not found"),)),
        404,
        RefusalKind.NOT_FOUND,
    ),
    (
        "bad-request",
        Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, (Refusal(None, "HTTP 400"),)),
        400,
        RefusalKind.OTHER,
    ),
]


@pytest.mark.parametrize(("verdict", "status", "kind"), [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
def test_a_refusal_is_told_by_what_it_is_about(verdict: Verdict, status: int | None, kind: RefusalKind) -> None:
    assert refusal_kind(verdict, status) is kind


def test_every_refusal_kind_is_in_the_table() -> None:
    assert {k[3] for k in KINDS} == set(RefusalKind)
