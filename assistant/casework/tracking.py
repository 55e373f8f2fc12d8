"""What is due, and what to do next: the case store read as a to-do list.

A case waits on its latest live submission's due date (computed when it was
filed, from the flow category's deadline on the provider's calendar). A reply
from the provider after that submission stops the clock. A rejected submission,
one found not filed and a draft not yet sent start no clock: a case with only
those has no due date, and says what to do instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from assistant.store import CaseRecords, Status, Store, Submission

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
    "fields": "fix the case and submit again",
    "session": "log in again if the form is behind a login, then submit again",
    "captcha": "submit again with --headed and type the CAPTCHA again",
    "rate_limit": "wait, then submit again",
    "not_found": "the flow may need updating (the form's address is gone)",
    "other": "do what the provider's words ask, then submit again",
}


def outcome(sub: Submission) -> str:
    return OUTCOMES[sub.status]


def said(sub: Submission) -> str:
    """What happened to one submission, plainly, with what to do when it is up to the person."""
    case = sub.case_id
    if sub.status == "confirmed" and sub.reference is None:
        return (
            "accepted, no number yet: the provider's page gave none. When their email brings it, "
            f"`assistant cases number {case} NUMBER`"
        )
    if sub.status == "confirmed":
        return f"accepted: {sub.reference}"
    if sub.status == "rejected":
        todo = AFTER_REFUSAL.get(sub.refusal or "fields", AFTER_REFUSAL["fields"])
        return f"rejected: {sub.last_error or 'no reason shown'}; nothing was filed, {todo}"
    if sub.status == "pending":
        error = f" (last error: {sub.last_error})" if sub.last_error else ""
        return (
            f"outcome unknown: no confirmation came{error}; the provider may have it. "
            f"Run `assistant cases resolve {case}` to record what happened"
        )
    if sub.status == "drafted":
        where = f" ({sub.evidence_dir}/message.eml)" if sub.evidence_dir else ""
        return f"drafted, not sent{where}: run `assistant cases mark-sent {case}` once sent"
    if sub.status == "not_filed":
        return f"not filed: it never reached the provider{f' ({sub.last_error})' if sub.last_error else ''}"
    return sub.status


def latest_live(subs: list[Submission]) -> Submission | None:
    """The submission a case waits on: the newest one the provider has, or may have."""
    return next((s for s in reversed(subs) if s.live), None)


def parse(stamp: str | None) -> dt.datetime | None:
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def case_view(
    store: Store, case: dict[str, Any], now: dt.datetime | None = None, records: CaseRecords | None = None
) -> dict[str, Any]:
    """A case with its submissions, history, replies, notes, and where it stands (`records`: as
    `Store.every_case` read them, for a list of many; else read here)."""
    now = now or dt.datetime.now(dt.UTC)
    key = case["id"]
    if records is None:
        records = CaseRecords(case, store.submissions_of(key), store.replies(key), store.history(key), store.notes(key))
    subs, replies = records.submissions, records.replies
    view = {k: v for k, v in case.items() if k != "case_json"}
    view["submissions"] = [{**s.public(), "outcome": outcome(s), "said": said(s)} for s in subs]
    view["history"] = records.history
    view["replies"] = replies
    view["notes"] = records.notes
    view.update(standing(case, subs, replies, now))
    return view


def standing(case: dict[str, Any], subs: list, replies: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
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
        out["next_action"] = said(last)
        return out
    out["due_at"] = latest.due_at
    answered_after = [r for r in replies if (r["recorded_at"] or "") >= latest.submitted_at]
    ref = case["id"]
    if answered_after:
        out["state"] = "answered"
        out["next_action"] = (
            f"read the answer; if it solves the problem `assistant cases close {ref}`, if not appeal "
            f"(`assistant followup {ref}`) or escalate (`assistant escalate {ref} --to regulator`)"
        )
        return out
    if latest.status == "pending":
        out["state"] = "pending"
        out["next_action"] = said(latest)
        return out
    due = parse(latest.due_at)
    if due is None:
        out["state"] = "waiting"
        return out
    left = due - now
    if left < dt.timedelta(0):
        out["state"] = "overdue"
        if latest.kind == "followup":
            out["next_action"] = (
                f"no answer to the complaint on inaction either: `assistant escalate {ref} --to regulator` "
                f"(or --to claim for a pre-trial claim, --to review for a public review)"
            )
        else:
            out["next_action"] = f"file a repeat complaint on inaction: `assistant followup {ref}`"
    elif left <= dt.timedelta(days=1):
        out["state"] = "due soon"
        number = latest.reference or f"the request accepted {latest.submitted_at[:10]}"
        out["next_action"] = (
            f"wait for the answer to {number}; if none comes by the due time, `assistant followup {ref}`"
        )
    else:
        out["state"] = "waiting"
    return out


def due(store: Store, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Cases overdue or due within a day, most urgent first."""
    now = now or dt.datetime.now(dt.UTC)
    rows = []
    # Due dates are written in the provider's zone (up to 14 hours from UTC): the index is asked
    # with room for that, and each case found is judged exactly.
    horizon = (now + dt.timedelta(days=1, hours=15)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for records in store.some_cases(store.due_candidates(horizon), details=False):
        case, subs = records.case, records.submissions
        where = standing(case, subs, records.replies, now)
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
