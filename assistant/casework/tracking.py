"""What is due, and what to do next: the case store read as a to-do list.

A case waits on its latest live submission's due date (computed when it was
filed, from the flow category's deadline on the provider's calendar). A reply
from the provider after that submission stops the clock. A rejected submission,
one found not filed and a draft not yet sent start no clock: a case with only
those has no due date, and says what to do instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from assistant.store import CaseRecords, Status, Store, Submission
from assistant.translation import N_
from assistant.translation import day as day_shown

# How the words are said: as they are (English, for --json and the journal) or translated (`_`)
# where a person reads them.
Say = Callable[[str], str]


def english(text: str) -> str:
    return text


# The journal's status of a submission, in the words the person reads (and `--json`'s `outcome`).
OUTCOMES: dict[Status, str] = {
    Status.CONFIRMED: "accepted",
    Status.REJECTED: "rejected",
    Status.PENDING: "unknown",
    Status.DRAFTED: "drafted",
    Status.NOT_FILED: "not_filed",
}


# What to do after a rejection, by what it was about (evidence.RefusalKind's words).
AFTER_REFUSAL: dict[str, str] = {
    "fields": N_("fix the case and submit again"),
    "session": N_("log in again if the form is behind a login, then submit again"),
    "captcha": N_("submit again with --headed and type the CAPTCHA again"),
    "rate_limit": N_("wait, then submit again"),
    "not_found": N_("the flow may need updating (the form's address is gone)"),
    "other": N_("do what the provider's words ask, then submit again"),
}


def outcome(sub: Submission) -> str:
    return OUTCOMES[sub.status]


def said(sub: Submission, say: Say = english) -> str:
    """What happened to one submission, plainly, with what to do when it is up to the person."""
    case = sub.case_id
    if sub.status == "confirmed" and sub.reference is None:
        return say(
            N_(
                "accepted, no number yet: the provider's page gave none. When their email brings it, "
                "`assistant cases number {case} NUMBER`"
            )
        ).format(case=case)
    if sub.status == "confirmed":
        return say(N_("accepted: {number}")).format(number=sub.reference)
    if sub.status == "rejected":
        todo = say(AFTER_REFUSAL.get(sub.refusal or "fields", AFTER_REFUSAL["fields"]))
        return say(N_("rejected: {reason}; nothing was filed, {todo}")).format(
            reason=sub.last_error or say(N_("no reason shown")), todo=todo
        )
    if sub.status == "pending":
        if sub.last_error:
            return say(
                N_(
                    "outcome unknown: no confirmation came (last error: {error}); the provider may have it. "
                    "Run `assistant cases resolve {case}` to record what happened"
                )
            ).format(error=sub.last_error, case=case)
        return say(
            N_(
                "outcome unknown: no confirmation came; the provider may have it. "
                "Run `assistant cases resolve {case}` to record what happened"
            )
        ).format(case=case)
    if sub.status == "drafted":
        if sub.evidence_dir:
            return say(N_("drafted, not sent ({draft}): run `assistant cases mark-sent {case}` once sent")).format(
                draft=f"{sub.evidence_dir}/message.eml", case=case
            )
        return say(N_("drafted, not sent: run `assistant cases mark-sent {case}` once sent")).format(case=case)
    if sub.status == "not_filed":
        if sub.last_error:
            return say(N_("not filed: it never reached the provider ({error})")).format(error=sub.last_error)
        return say(N_("not filed: it never reached the provider"))
    return sub.status


def latest_live(subs: list[Submission]) -> Submission | None:
    """The submission a case waits on: the newest one the provider has, or may have."""
    return next((s for s in reversed(subs) if s.live), None)


def parse(stamp: str | None) -> dt.datetime | None:
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def case_view(
    store: Store,
    case: dict[str, Any],
    now: dt.datetime | None = None,
    records: CaseRecords | None = None,
    say: Say = english,
) -> dict[str, Any]:
    """A case with its submissions, history, replies, notes, and where it stands (`records`: as
    `Store.every_case` read them, for a list of many; else read here), its words said by `say`."""
    now = now or dt.datetime.now(dt.UTC)
    key = case["id"]
    if records is None:
        records = CaseRecords(case, store.submissions_of(key), store.replies(key), store.history(key), store.notes(key))
    subs, replies = records.submissions, records.replies
    view = {k: v for k, v in case.items() if k != "case_json"}
    view["submissions"] = [{**s.public(), "outcome": outcome(s), "said": said(s, say)} for s in subs]
    view["history"] = records.history
    view["replies"] = replies
    view["notes"] = records.notes
    view.update(standing(case, subs, replies, now, say))
    return view


def standing(
    case: dict[str, Any], subs: list, replies: list[dict[str, Any]], now: dt.datetime, say: Say = english
) -> dict[str, Any]:
    out: dict[str, Any] = {"due_at": None, "state": "no submission", "next_action": None}
    if case["status"] == "closed":
        out["state"] = "closed"
        return out
    if not subs:
        return out
    latest = latest_live(subs)
    if latest is None:  # nothing at the provider: no clock, and what to do instead
        last = subs[-1]
        out["state"] = {"drafted": "drafted", "rejected": "rejected", "not_filed": "not filed"}.get(
            last.status, last.status
        )
        out["next_action"] = said(last, say)
        return out
    out["due_at"] = latest.due_at
    answered_after = [r for r in replies if (r["recorded_at"] or "") >= latest.submitted_at]
    ref = case["id"]
    if answered_after:
        out["state"] = "answered"
        out["next_action"] = say(
            N_(
                "read the answer; if it solves the problem `assistant cases close {case}`, if not appeal "
                "(`assistant followup {case}`) or escalate (`assistant escalate {case} --to regulator`)"
            )
        ).format(case=ref)
        return out
    if latest.status == "pending":
        out["state"] = "pending"
        out["next_action"] = said(latest, say)
        return out
    due = parse(latest.due_at)
    if due is None:
        out["state"] = "waiting"
        return out
    left = due - now
    if left < dt.timedelta(0):
        out["state"] = "overdue"
        if latest.kind == "followup":
            out["next_action"] = say(
                N_(
                    "no answer to the complaint on inaction either: `assistant escalate {case} --to regulator` "
                    "(or --to claim for a pre-trial claim, --to review for a public review)"
                )
            ).format(case=ref)
        else:
            out["next_action"] = say(N_("file a repeat complaint on inaction: `assistant followup {case}`")).format(
                case=ref
            )
    elif left <= dt.timedelta(days=1):
        out["state"] = "due soon"
        accepted = parse(latest.submitted_at)
        assert accepted is not None
        shown_day = accepted.date().isoformat() if say is english else day_shown(accepted.date())
        number = latest.reference or say(N_("the request accepted {day}")).format(day=shown_day)
        out["next_action"] = say(
            N_("wait for the answer to {number}; if none comes by the due time, `assistant followup {case}`")
        ).format(number=number, case=ref)
    else:
        out["state"] = "waiting"
    return out


def due(store: Store, now: dt.datetime | None = None, say: Say = english) -> list[dict[str, Any]]:
    """Cases overdue or due within a day, most urgent first."""
    now = now or dt.datetime.now(dt.UTC)
    rows = []
    # Due dates are written in the provider's zone (up to 14 hours from UTC): the index is asked
    # with room for that, and each case found is judged exactly.
    horizon = (now + dt.timedelta(days=1, hours=15)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for records in store.some_cases(store.due_candidates(horizon), details=False):
        case, subs = records.case, records.submissions
        where = standing(case, subs, records.replies, now, say)
        latest = latest_live(subs)
        if where["state"] in ("overdue", "due soon") and latest is not None:
            rows.append(
                {
                    "case": case["id"],
                    "provider": case["provider"],
                    "order_id": case["order_id"],
                    "subject": case["subject"],
                    "number": latest.reference,
                    "channel": latest.channel,
                    "kind": latest.kind,
                    "submitted_at": latest.submitted_at,
                    **where,
                }
            )
    rows.sort(key=lambda r: r["due_at"] or "")
    return rows
