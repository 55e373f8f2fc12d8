"""Before filing: the request passes `check`, and the matter is not already open elsewhere.

The source documents (004) say not to send the same request through several
channels at once: the second copy slows both down. "Same matter" is the same
provider and order number (or, without a number, the same case), whatever the
channel, until the case is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.errors import AlreadySubmitted, InputError
from assistant.language.case import Case
from assistant.store import Claims, Store, Submission, matter_key

if TYPE_CHECKING:
    from assistant.language.flow import Flow


def provider_identity(case: Case, flow: Flow, to: str | None = None) -> str:
    """Who the matter is with: the case's provider, or the address of a generic email flow."""
    if flow.channel == "email" and flow.email is not None and flow.email.address is None:
        return f"email:{(to or '').strip().lower()}"
    # The provider, not the flow: its web form and its email are one provider.
    return (flow.provider or flow.id).casefold()


def matter_of(case: Case, flow: Flow, to: str | None = None) -> str:
    return matter_key(provider_identity(case, flow, to), case.order_id, case.fingerprint())


def journal_extras(case: Case, flow: Flow, kind: str = "request", to: str | None = None) -> dict[str, Any]:
    """What the journal keeps beside a submission: its matter, kind and due date."""
    from assistant.casework.deadlines import due_for

    filed = dt.datetime.now(dt.UTC).replace(microsecond=0)
    due = due_for(filed, flow.categories[case.category].deadline, flow.country, flow.timezone)
    return {"matter": matter_of(case, flow, to), "kind": kind, "due_at": due.isoformat()}


def _when(stamp: str) -> str:
    return f"{stamp[:16].replace('T', ' ')} UTC"


def describe(sub: Submission) -> str:
    if sub.status == "pending":
        number = f"submission {sub.id}, outcome unknown"
    elif sub.status == "confirmed" and sub.reference is None:
        number = f"submission {sub.id}, accepted with no number"
    else:
        number = sub.reference or f"submission {sub.id}"
    return f"{number} through {sub.channel} ({sub.flow_id}, filed {_when(sub.submitted_at)})"


def already_filed(sub: Submission) -> AlreadySubmitted:
    """The refusal to send a case again while a submission of it is live: what is known, what to do."""
    if sub.status == "confirmed":
        return AlreadySubmitted(
            f"already submitted: {sub.reference or 'accepted, the provider gave no number'} "
            f"({sub.flow_id}, filed {_when(sub.submitted_at)}); "
            f"evidence in {sub.evidence_dir}. Nothing was sent again; pass --force to file a new request."
        )
    return AlreadySubmitted(
        f"a submission of this case started at {_when(sub.submitted_at)} has no known outcome "
        f"(last error: {sub.last_error or 'none recorded'}); the provider may have it. "
        f"Run `assistant cases resolve {sub.case_id}` to record what happened (their number, or that it "
        "was not filed); --force files another one anyway."
    )


def refuse_duplicate(store: Store, key: str) -> None:
    """The early check, before anything is launched; `claim_check` is the one that counts."""
    existing = store.find(key, live=True)
    if existing is not None:
        raise already_filed(existing)


def what_matter(case: Case) -> str:
    return f"order {case.order_id}" if case.order_id else "this matter"


def same_matter(case: Case, flow: Flow, latest: Submission) -> AlreadySubmitted:
    what = what_matter(case)
    ref = latest.case_id
    if latest.status == "pending":
        todo = (
            f"Its outcome is unknown: run `assistant cases resolve {ref}` to record what happened "
            "(their number, or that it was not filed)"
        )
    else:
        todo = (
            f"Wait for the answer (`assistant cases show {ref}`), follow up after the deadline "
            f"(`assistant followup {ref}`), or close it (`assistant cases close {ref}`)"
        )
    return AlreadySubmitted(
        f"{what} is already open with {flow.provider or case.provider}: request {describe(latest)}, case {ref}. "
        f"Sending the same request through another channel slows both down. {todo}; pass --force to file anyway."
    )


def refuse_same_matter(store: Store, case: Case, flow: Flow, to: str | None = None) -> None:
    open_ones = store.open_on_matter(matter_of(case, flow, to))
    if open_ones:
        raise same_matter(case, flow, open_ones[0])


def claim_check(case: Case, flow: Flow, *, force: bool, kind: str = "request") -> Callable[[Claims], None]:
    """The never-twice rule as the journal applies it, inside the transaction that journals the
    submission: the checks before the browser opened may be seconds old by the click."""

    def check(claims: Claims) -> None:
        if force:
            return
        sub = claims.same_case
        if sub is None and kind != "followup" and claims.on_matter:
            sub = claims.on_matter[0]
        if sub is None:
            return
        if sub.status == "confirmed":
            state = f"confirmed as {sub.reference}" if sub.reference else "accepted, no number"
        else:
            state = "pending, outcome not known yet"
        which = "of this case" if sub is claims.same_case else f"on {what_matter(case)}"
        raise AlreadySubmitted(
            f"another run {which} got there first: submission {sub.id} was journalled at "
            f"{sub.submitted_at[:19].replace('T', ' ')} UTC ({state}); this run stopped before sending and sent nothing. "
            f"See `assistant cases show {sub.case_id}`."
        )

    return check


def before_filing(case: Case, flow: Flow, settings) -> None:
    """Lint, then the one-request-one-channel rule. --force passes both; a dry run only warns."""
    from assistant.casework.check import errors, lint

    kind = getattr(settings, "kind", "request")
    to = getattr(settings, "to", None)
    with Store(settings.home) as store:
        open_ones = [] if kind == "followup" else store.open_on_matter(matter_of(case, flow, to))
        findings = lint(case, flow, open_ones)
        problems = errors(findings)
        for finding in findings:
            overridden = " (going ahead: --force)" if settings.force and finding in problems else ""
            settings.log(f"check: {finding}{overridden}")
        if problems and not settings.force and not settings.dry_run:
            lines = "\n".join(str(p) for p in problems)
            raise InputError(
                f"the request would likely be ignored ({len(problems)} problem(s)); nothing was sent. "
                f"Fix the case file, or pass --force to send it anyway:\n{lines}"
            )
        if kind != "followup" and not settings.force and not settings.dry_run:
            refuse_same_matter(store, case, flow, to)
