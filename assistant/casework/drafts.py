"""A request the person sends themselves: written as a draft, filed when they say they sent it.

`submit … --eml-only` writes the message for the person's mail program; the
journal keeps it as `drafted`, with no deadline and no weight in the one-matter
rule, because nothing has reached the provider. `assistant cases mark-sent`
records that they sent it: from then on it is a confirmed request whose
reference is its Message-ID, and the provider's deadline counts from the moment
it was sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from assistant.errors import InputError
from assistant.store import Store, Submission
from assistant.translation import _, moment

# A clock a little ahead of ours is not a claim about the future.
CLOCK_SLACK = dt.timedelta(minutes=5)


@dataclass
class MarkedSent:
    case_id: int
    submission: Submission
    due_at: str | None
    warning: str | None = None  # why there is no due date, when there is none


def latest_draft(store: Store, case_row: dict[str, Any]) -> Submission:
    drafts = [s for s in store.submissions_of(case_row["id"]) if s.status == "drafted"]
    if not drafts:
        raise InputError(
            _(
                "CASE: case {case} has no draft waiting to be sent (`assistant cases show {case}` "
                "lists its requests); a draft is what `submit … --eml-only` writes"
            ).format(case=case_row["id"])
        )
    return drafts[-1]


def _due(sub: Submission, sent_at: dt.datetime) -> tuple[str | None, str | None]:
    """The due date from the flow's category deadline, counted from the moment it was sent."""
    from assistant.casework.deadlines import due_for
    from assistant.language.flow import find_flow, load_flow

    try:
        flow = load_flow(find_flow(sub.flow_id))
    except Exception as exc:  # the flow file is gone or broken: record the send, say what is missing
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, _("no due date: the flow '{flow}' could not be loaded ({reason})").format(
            flow=sub.flow_id, reason=first
        )
    category = flow.categories.get(sub.category)
    if category is None:
        return None, _("no due date: the flow '{flow}' has no category '{category}' any more").format(
            flow=sub.flow_id, category=sub.category
        )
    due = due_for(sent_at.replace(microsecond=0), category.deadline, flow.country, flow.timezone)
    return due.isoformat(), None


def mark_sent(
    store: Store, case_row: dict[str, Any], sent_at: dt.datetime, now: dt.datetime | None = None
) -> MarkedSent:
    """The person sent the case's latest draft at `sent_at`: it becomes a confirmed request, due from then."""
    now = now or dt.datetime.now(dt.UTC)
    if sent_at.tzinfo is None:
        raise ValueError("sent_at needs a time zone")
    if case_row["status"] == "closed":
        raise InputError(
            _("CASE: case {case} is closed; reopen it first (`assistant cases status {case} open`)").format(
                case=case_row["id"]
            )
        )
    draft = latest_draft(store, case_row)
    written = dt.datetime.fromisoformat(draft.submitted_at.replace("Z", "+00:00"))
    if sent_at > now + CLOCK_SLACK:
        raise InputError(
            _("--at: {time} is in the future; give when you sent it").format(time=moment(sent_at, sent_at.tzinfo))
        )
    if sent_at < written - CLOCK_SLACK:
        raise InputError(
            _("--at: {time} is before the draft was written ({written}); give when you sent it").format(
                time=moment(sent_at, sent_at.tzinfo), written=moment(written, sent_at.tzinfo)
            )
        )
    due_at, warning = _due(draft, sent_at)
    stamp = sent_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    note = f"draft {draft.message_id or draft.id} (written {draft.submitted_at}) sent by you at {stamp}"
    if due_at:
        note += f"; answer due {due_at}"
    if not store.mark_sent(draft.id, sent_at=stamp, due_at=due_at, note=note):
        raise InputError(
            _("CASE: submission {submission} of case {case} is no longer a draft").format(
                submission=draft.id, case=case_row["id"]
            )
        )
    marked = next(s for s in store.submissions_of(case_row["id"]) if s.id == draft.id)
    return MarkedSent(case_row["id"], marked, due_at, warning)
