"""What became of a submission whose outcome is unknown: what `assistant cases resolve` decides.

A pending submission is settled by the number the person gives, by their word
that nothing was filed, by the provider's own list of their requests (a flow's
`lookup:` block), or by asking them. Reading that list takes the browser and
asking takes a terminal, both the command's: it hands them in as callables, and
without a terminal there is no one to ask. What is decided here is which
answer holds, and what the journal records of it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypedDict

from pydantic import ValidationError

from assistant.errors import AlreadySubmitted, InputError, NoBrowser, RunFailed
from assistant.language.case import Case
from assistant.language.flow import Flow, find_flow, load_flow
from assistant.store import Status, Store, Submission
from assistant.translation import N_, _, moment, ngettext

NO_TERMINAL_HINT = N_(
    "pass --number N (the number from the provider's email or status page), --accepted (they have it but gave "
    "no number) or --not-filed (they do not have it)"
)

# The journal's words for what became of it; PENDING: nobody knows yet, it stays as it was.
Verdict = Literal[Status.CONFIRMED, Status.NOT_FILED, Status.PENDING]


class FoundRecord(TypedDict):
    number: str | None
    text: str
    problem: str | None
    journalled: bool  # the number is already some submission's in the journal


class LookupRecord(TypedDict):
    """What the provider's list showed, as `cases resolve --json` gives it."""

    url: str | None
    match: str
    items: int
    found: list[FoundRecord]
    evidence_dir: str
    evidence_zip: str | None


@dataclass(frozen=True)
class Answer:
    """What became of a pending submission, and who said so."""

    outcome: Verdict
    number: str | None = None  # the provider's, when they have it
    url: str | None = None  # the page the number was read on
    by: Literal["you", "lookup"] = "you"
    lookup: LookupRecord | None = None  # what the provider's list showed, when it was read


class ListItem(Protocol):
    """An item of the provider's list that matched (assistant.lookup.Found)."""

    @property
    def number(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def problem(self) -> str | None: ...


class ListRead(Protocol):
    """The provider's list as the lookup read it (assistant.lookup.Looked)."""

    @property
    def url(self) -> str | None: ...
    @property
    def wanted(self) -> str: ...
    @property
    def items(self) -> int: ...
    @property
    def found(self) -> Sequence[ListItem]: ...
    @property
    def evidence_dir(self) -> Path | None: ...
    @property
    def evidence_zip(self) -> Path | None: ...
    @property
    def numbers(self) -> list[str]: ...


# Reads the provider's list for the journalled case, its flow and its case key, in the browser.
LookUp = Callable[[Case, Flow, str], ListRead]
# Asks the person on a terminal: the submission, its flow if it loads, and what was seen of it so far.
Ask = Callable[[Submission, Flow | None, str | None], Answer]


def started(sub: Submission) -> str:
    """When the submission was started, to the minute, in UTC as the journal keeps it."""
    return moment(dt.datetime.fromisoformat(sub.submitted_at.replace("Z", "+00:00")), dt.UTC)


def checked_number(number: str) -> str:
    number = number.strip()
    if not number or len(number) > 200 or any(ch in number for ch in "\r\n\t"):
        raise InputError(
            _("--number: {number!r} is not a request number; give it as the provider wrote it").format(
                number=number[:40]
            )
        )
    return number


def claimed(number: str | None, not_filed: bool, *, accepted: bool = False) -> Answer | None:
    """What the person said with --number, --accepted or --not-filed; None: none of them, it is
    to be found out. Refused before the journal is opened, so the flags are checked whatever the case."""
    if sum((number is not None, not_filed, accepted)) > 1:
        raise InputError(
            _(
                "give one of --number N (they have it), --accepted (they have it, no number) or --not-filed "
                "(they do not)"
            )
        )
    if number is not None:
        return Answer(Status.CONFIRMED, checked_number(number))
    if accepted:
        return Answer(Status.CONFIRMED)
    if not_filed:
        return Answer(Status.NOT_FILED)
    return None


def pending_one(store: Store, case_id: int, submission_id: int | None) -> Submission | None:
    """The pending submission to settle; None when there is nothing to resolve."""
    subs = store.submissions_of(case_id)
    if submission_id is not None:
        chosen = next((s for s in subs if s.id == submission_id), None)
        if chosen is None:
            ids = ", ".join(str(s.id) for s in subs) or _("none")
            raise InputError(
                _("--submission: {submission} is not a submission of case {case} (its: {ids})").format(
                    submission=submission_id, case=case_id, ids=ids
                )
            )
        return chosen if chosen.status == "pending" else None
    pending = [s for s in subs if s.status == "pending"]
    if len(pending) > 1:
        listed = "; ".join(
            _("{submission} ({flow}, started {time})").format(submission=s.id, flow=s.flow_id, time=started(s))
            for s in pending
        )
        raise InputError(
            ngettext(
                "case {case} has {n} submissions pending: {listed}; pass --submission ID",
                "case {case} has {n} submissions pending: {listed}; pass --submission ID",
                len(pending),
            ).format(case=case_id, n=len(pending), listed=listed)
        )
    return pending[0] if pending else None


def _journalled_case(sub: Submission) -> Case:
    try:
        return Case.model_validate(json.loads(sub.case_json))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise InputError(
            _("submission {submission}: the case journalled with it cannot be read ({reason})").format(
                submission=sub.id, reason=first
            )
        ) from None


def _lookup_said(looked: ListRead, known: dict[str, int | None]) -> str:
    """What the provider's list showed, for the person (one line)."""
    if not looked.found:
        return ngettext(
            "The provider's list ({url}) shows {n} request(s), none with {wanted!r}; "
            "a request sent minutes ago may not be listed yet.",
            "The provider's list ({url}) shows {n} request(s), none with {wanted!r}; "
            "a request sent minutes ago may not be listed yet.",
            looked.items,
        ).format(url=looked.url, n=looked.items, wanted=looked.wanted)
    parts = []
    for f in looked.found:
        if f.number is None:
            parts.append(_("one whose number could not be read ({problem})").format(problem=f.problem))
        elif f.number in known:
            parts.append(_("{number} (already journalled, case {case})").format(number=f.number, case=known[f.number]))
        else:
            parts.append(f.number)
    return ngettext(
        "The provider's list ({url}) shows {n} request(s) with {wanted!r}: {found}.",
        "The provider's list ({url}) shows {n} request(s) with {wanted!r}: {found}.",
        len(looked.found),
    ).format(url=looked.url, n=len(looked.found), wanted=looked.wanted, found=", ".join(parts))


def _record(looked: ListRead, known: dict[str, int | None]) -> LookupRecord:
    return {
        "url": looked.url,
        "match": looked.wanted,
        "items": looked.items,
        "found": [
            {"number": f.number, "text": f.text, "problem": f.problem, "journalled": f.number in known}
            for f in looked.found
        ],
        "evidence_dir": str(looked.evidence_dir),
        "evidence_zip": str(looked.evidence_zip) if looked.evidence_zip else None,
    }


def find_out(store: Store, sub: Submission, look_up: LookUp, ask: Ask | None) -> Answer:
    """From the provider's list if the flow has a lookup and it finds exactly one request not
    journalled yet, else from the person. ask is None without a terminal: then an answer the
    list does not give is an InputError naming the flags that give it."""
    flow = None
    seen: str | None = None
    record: LookupRecord | None = None
    try:
        flow = load_flow(find_flow(sub.flow_id))
    except InputError as exc:
        seen = _("The flow {flow} cannot be loaded to look it up ({reason}).").format(
            flow=sub.flow_id, reason=str(exc).splitlines()[0]
        )
    if flow is not None and flow.lookup is not None:
        try:
            looked = look_up(_journalled_case(sub), flow, sub.case_key)
        except (InputError, RunFailed, NoBrowser) as exc:
            if ask is None:
                kind = next(k for k in (InputError, NoBrowser, RunFailed) if isinstance(exc, k))
                hint = _("Settle it without the lookup: {hint}.").format(hint=_(NO_TERMINAL_HINT))
                raise kind(f"{exc}\n{hint}") from None
            seen = _("The lookup did not work: {reason}").format(
                reason=str(exc).splitlines()[0].removeprefix("lookup: ")
            )
        else:
            known = {s.confirmation: s.case_id for s in store.all() if s.confirmation}
            fresh = [n for n in looked.numbers if n not in known]
            unread = [f for f in looked.found if f.number is None]
            record = _record(looked, known)
            if len(fresh) == 1 and not unread:
                return Answer(Status.CONFIRMED, fresh[0], looked.url, "lookup", record)
            seen = _lookup_said(looked, known)
            if len(fresh) > 1:
                seen += " " + _("More than one could be yours, so none was chosen.")
    if ask is None:
        if flow is not None and flow.lookup is None:
            seen = _("The flow {flow} has no lookup: block to read the provider's list.").format(flow=sub.flow_id)
        said = [
            _("case {case}: submission {submission}'s outcome is unknown.").format(case=sub.case_id, submission=sub.id),
            seen,
            _("Settle it: {hint}.").format(hint=_(NO_TERMINAL_HINT)),
        ]
        raise InputError(" ".join(s for s in said if s))
    answer = ask(sub, flow, seen)
    return Answer(answer.outcome, answer.number, None, "you", record)


def settle(store: Store, case_id: int, sub: Submission, answer: Answer, note: str | None) -> Submission:
    """Record a confirmed or not-filed answer, with the note in the case's history; the
    submission as the journal then holds it. AlreadySubmitted, changing nothing, when another
    run settled it first."""
    if answer.outcome == Status.PENDING:
        raise ValueError("a pending answer settles nothing")
    detail = f": {note}" if note else ""
    if answer.outcome == Status.CONFIRMED and answer.number is None:
        told = f"submission {sub.id} resolved by {answer.by}: filed, accepted with no number"
        done = store.resolve_filed(sub.id, None, None, told + detail)
    elif answer.outcome == Status.CONFIRMED:
        where = f", read on {answer.url}" if answer.url else ""
        evidence = answer.lookup["evidence_dir"] if answer.lookup else None
        told = f"submission {sub.id} resolved by {answer.by}: filed, number {answer.number}{where}" + (
            f" (evidence of the lookup: {evidence})" if evidence else ""
        )
        done = store.resolve_filed(sub.id, answer.number, answer.url, told + detail)
    else:
        told = f"submission {sub.id} resolved by {answer.by}: not filed"
        done = store.resolve_not_filed(sub.id, told + detail)
    if not done:
        now = next(s for s in store.submissions_of(case_id) if s.id == sub.id)
        raise AlreadySubmitted(
            _(
                "submission {submission} is no longer pending (now {status}, settled by another run); nothing changed"
            ).format(submission=sub.id, status=now.status)
        )
    return next(s for s in store.submissions_of(case_id) if s.id == sub.id)
