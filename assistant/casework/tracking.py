"""What is due, and what to do next: the case store read as a to-do list.

A case waits on its latest submission's due date (computed when it was filed,
from the flow category's deadline on the provider's calendar). A reply from
the provider after that submission stops the clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from assistant.store import Store


def parse(stamp: str | None) -> dt.datetime | None:
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def case_view(store: Store, case: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """A case with its submissions, history, replies, notes, and where it stands."""
    now = now or dt.datetime.now(dt.UTC)
    subs = store.submissions_of(case["id"])
    replies = store.replies(case["id"])
    view = {k: v for k, v in case.items() if k != "case_json"}
    view["submissions"] = [s.public() for s in subs]
    view["history"] = store.history(case["id"])
    view["replies"] = replies
    view["notes"] = store.notes(case["id"])
    view.update(standing(case, subs, replies, now))
    return view


def standing(case: dict[str, Any], subs: list, replies: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    latest = subs[-1] if subs else None
    out: dict[str, Any] = {"due_at": None, "state": "no submission", "next_action": None}
    if case["status"] == "closed":
        out["state"] = "closed"
        return out
    if latest is None:
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
        out["next_action"] = (
            f"the last submission was never confirmed: `assistant cases resolve {ref}` (the provider's list, "
            "or the number from their email, or that it was not filed)"
        )
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
        number = latest.confirmation or latest.message_id or "its number"
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
    for case in store.cases():
        if case["status"] == "closed":
            continue
        subs = store.submissions_of(case["id"])
        where = standing(case, subs, store.replies(case["id"]), now)
        if where["state"] in ("overdue", "due soon"):
            latest = subs[-1]
            rows.append(
                {
                    "case": case["id"],
                    "provider": case["provider"],
                    "order_id": case["order_id"],
                    "subject": case["subject"],
                    "number": latest.confirmation or latest.message_id,
                    "channel": latest.channel,
                    "kind": latest.kind,
                    "submitted_at": latest.submitted_at,
                    **where,
                }
            )
    rows.sort(key=lambda r: r["due_at"] or "")
    return rows
