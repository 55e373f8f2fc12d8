"""Rebuilding a filed case from the store: for a follow-up, an escalation or a script.

A follow-up is the repeat complaint marked "on inaction" (На бездействие) the
sources recommend when the deadline passes without an answer: the same facts,
every earlier request cited with its number and date, sent through the same
channel as the last request, with the same checks and the same journal.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.casework.tracking import latest_live, parse, standing
from assistant.errors import AlreadySubmitted, InputError
from assistant.language.case import Case, PreviousRequest
from assistant.store import Store, Submission
from assistant.translation import _, moment


def _attachment(path: str, subs: list[Submission]) -> Path | None:
    """The original file, or the copy kept in an evidence package."""
    original = Path(path)
    if original.is_file():
        return original
    for sub in reversed(subs):
        if sub.evidence_dir:
            kept = Path(sub.evidence_dir) / "attachments" / original.name
            if kept.is_file():
                return kept
    return None


def earlier_requests(store: Store, case_id: int, base: list[dict[str, Any]] | None = None) -> list[PreviousRequest]:
    """Every request on this matter: those the person listed, then each one filed here."""
    out: list[PreviousRequest] = [PreviousRequest.model_validate(p) for p in base or []]
    seen = {p.number for p in out if p.number}
    for sub in store.submissions_of(case_id):
        number = sub.reference
        # Only what the provider has is an earlier request; a draft never sent, a rejected form,
        # one found not filed and one whose outcome is unknown are not. One accepted by a page
        # that gave no number is, cited by its date and channel.
        if not sub.live or (number is None and sub.status != "confirmed") or (number and number in seen):
            continue
        if number:
            seen.add(number)
        submitted = parse(sub.submitted_at)
        due = parse(sub.due_at)
        out.append(
            PreviousRequest(
                number=number,
                date=submitted.astimezone(due.tzinfo).date()
                if submitted and due
                else (submitted.date() if submitted else None),
                channel=sub.channel,
                due=due.date() if due else None,
            )
        )
    return out


def stored_case(store: Store, case_row: dict[str, Any]) -> Case:
    """The case as last filed, with every earlier request number on it."""
    subs = store.submissions_of(case_row["id"])
    originals = [s for s in subs if s.kind == "request"] or subs
    data = json.loads(originals[-1].case_json if originals else case_row["case_json"])
    attachments = []
    for path in data.get("attachments") or []:
        found = _attachment(path, subs)
        if found is not None:
            attachments.append(str(found))
    data["attachments"] = attachments
    data["previous_requests"] = [
        p.model_dump(mode="json") for p in earlier_requests(store, case_row["id"], data.get("previous_requests"))
    ]
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            _("case {case}: the stored case no longer validates: {problem}").format(
                case=case_row["id"], problem=exc.errors()[0]["msg"]
            )
        ) from None


def stored_case_and_flow(store: Store, case_row: dict[str, Any]):
    """The stored case and the flow of its last filing (None if that flow is gone:
    drafts and scripts do not need it, they only use its templates)."""
    from assistant.language.flow import find_flow, load_flow

    case = stored_case(store, case_row)
    subs = store.submissions_of(case_row["id"])
    try:
        flow = load_flow(find_flow(subs[-1].flow_id)) if subs else None
    except Exception:
        flow = None
    return case, flow


def followup_case(
    store: Store, case_row: dict[str, Any], *, force: bool = False, now: dt.datetime | None = None
) -> tuple[Case, Submission]:
    """The repeat complaint on inaction, and the submission whose channel it goes through."""
    subs = store.submissions_of(case_row["id"])
    latest = latest_live(subs)
    if latest is None:
        if subs:
            raise InputError(
                _(
                    "case {case}: nothing has reached the provider yet (the last one is {status}); file the "
                    "request with `assistant submit`, or `assistant cases mark-sent {case}` once a draft is sent"
                ).format(case=case_row["id"], status=subs[-1].status)
            )
        raise InputError(
            _("case {case}: nothing has reached the provider yet; file the request with `assistant submit`").format(
                case=case_row["id"]
            )
        )
    if case_row["status"] == "closed":
        raise InputError(
            _("case {case} is closed; reopen it with `assistant cases status {case} open`").format(case=case_row["id"])
        )
    where = standing(case_row, subs, store.replies(case_row["id"]), now or dt.datetime.now(dt.UTC))
    if where["state"] not in ("overdue", "answered") and not force:
        due_at = where["due_at"]
        # due_at is written in the provider's zone: shown on that clock, its offset named.
        due = moment(dt.datetime.fromisoformat(due_at)) if due_at else "?"
        if latest.reference:
            raise AlreadySubmitted(
                _(
                    "case {case}: the answer to {number} is due {due} ({state}); a repeat before the deadline "
                    "is ignored. Pass --force to send it anyway."
                ).format(case=case_row["id"], number=latest.reference, due=due, state=where["state"])
            )
        raise AlreadySubmitted(
            _(
                "case {case}: the answer to the request is due {due} ({state}); a repeat before the deadline "
                "is ignored. Pass --force to send it anyway."
            ).format(case=case_row["id"], due=due, state=where["state"])
        )
    case = stored_case(store, case_row)
    prefix = "На бездействие: " if case.language == "ru" else "On inaction: "
    subject = case.subject or ""
    case = case.model_copy(update={"kind": "followup", "subject": prefix + subject if subject else prefix.rstrip(": ")})
    return case, latest
