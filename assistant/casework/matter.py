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
from assistant.translation import _, moment, ngettext

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
    """A journal time (UTC) as the interface shows times."""
    return moment(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")), dt.UTC)


def describe(sub: Submission) -> str:
    if sub.status == "pending":
        number = _("submission {submission}, outcome unknown").format(submission=sub.id)
    elif sub.status == "confirmed" and sub.reference is None:
        number = _("submission {submission}, accepted with no number").format(submission=sub.id)
    else:
        number = sub.reference or _("submission {submission}").format(submission=sub.id)
    # Translators: {channel} is web_form or email; {flow} a flow id.
    return _("{number} through {channel} ({flow}, filed {when})").format(
        number=number, channel=sub.channel, flow=sub.flow_id, when=_when(sub.submitted_at)
    )


def already_filed(sub: Submission) -> AlreadySubmitted:
    """The refusal to send a case again while a submission of it is live: what is known, what to do."""
    if sub.status == "confirmed":
        return AlreadySubmitted(
            _(
                "already submitted: {number} ({flow}, filed {when}); evidence in {folder}. Nothing was sent "
                "again; pass --force to file a new request."
            ).format(
                number=sub.reference or _("accepted, the provider gave no number"),
                flow=sub.flow_id,
                when=_when(sub.submitted_at),
                folder=sub.evidence_dir,
            )
        )
    return AlreadySubmitted(
        _(
            "a submission of this case started at {when} has no known outcome (last error: {error}); the "
            "provider may have it. Run `assistant cases resolve {case}` to record what happened (their "
            "number, or that it was not filed); --force files another one anyway."
        ).format(when=_when(sub.submitted_at), error=sub.last_error or _("none recorded"), case=sub.case_id)
    )


def refuse_duplicate(store: Store, key: str) -> None:
    """The early check, before anything is launched; `claim_check` is the one that counts."""
    existing = store.find(key, live=True)
    if existing is not None:
        raise already_filed(existing)


def what_matter(case: Case) -> str:
    return f"order {case.order_id}" if case.order_id else "this matter"


def same_matter(case: Case, flow: Flow, latest: Submission) -> AlreadySubmitted:
    ref = latest.case_id
    provider = flow.provider or case.provider
    if case.order_id:
        head = _("order {order} is already open with {provider}: request {request}, case {case}.").format(
            order=case.order_id, provider=provider, request=describe(latest), case=ref
        )
    else:
        head = _("this matter is already open with {provider}: request {request}, case {case}.").format(
            provider=provider, request=describe(latest), case=ref
        )
    if latest.status == "pending":
        todo = _(
            "Its outcome is unknown: run `assistant cases resolve {case}` to record what happened "
            "(their number, or that it was not filed); pass --force to file anyway."
        ).format(case=ref)
    else:
        todo = _(
            "Wait for the answer (`assistant cases show {case}`), follow up after the deadline "
            "(`assistant followup {case}`), or close it (`assistant cases close {case}`); pass --force to file "
            "anyway."
        ).format(case=ref)
    slower = _("Sending the same request through another channel slows both down.")
    return AlreadySubmitted(f"{head} {slower} {todo}")


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
            if sub.reference:
                state = _("confirmed as {number}").format(number=sub.reference)
            else:
                state = _("accepted, no number")
        else:
            state = _("pending, outcome not known yet")
        values = {
            "submission": sub.id,
            "time": sub.submitted_at[:19].replace("T", " "),
            "state": state,
            "case": sub.case_id,
            "order": case.order_id,
        }
        if sub is claims.same_case:
            message = _(
                "another run of this case got there first: submission {submission} was journalled at {time} UTC "
                "({state}); this run stopped before sending and sent nothing. See `assistant cases show {case}`."
            )
        elif case.order_id:
            message = _(
                "another run on order {order} got there first: submission {submission} was journalled at {time} "
                "UTC ({state}); this run stopped before sending and sent nothing. See `assistant cases show {case}`."
            )
        else:
            message = _(
                "another run on this matter got there first: submission {submission} was journalled at {time} UTC "
                "({state}); this run stopped before sending and sent nothing. See `assistant cases show {case}`."
            )
        raise AlreadySubmitted(message.format(**values))

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
            if settings.force and finding in problems:
                settings.log(_("check: {finding} (going ahead: --force)").format(finding=finding))
            else:
                settings.log(_("check: {finding}").format(finding=finding))
        if problems and not settings.force and not settings.dry_run:
            lines = "\n".join(str(p) for p in problems)
            raise InputError(
                ngettext(
                    "the request would likely be ignored ({n} problem(s)); nothing was sent. "
                    "Fix the case file, or pass --force to send it anyway:\n{lines}",
                    "the request would likely be ignored ({n} problem(s)); nothing was sent. "
                    "Fix the case file, or pass --force to send it anyway:\n{lines}",
                    len(problems),
                ).format(n=len(problems), lines=lines)
            )
        if kind != "followup" and not settings.force and not settings.dry_run:
            refuse_same_matter(store, case, flow, to)
