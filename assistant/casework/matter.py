"""Before filing: the request passes `check`, and the matter is not already open elsewhere.

The source documents (004) say not to send the same request through several
channels at once: the second copy slows both down. "Same matter" is the same
provider and order number (or, without a number, the same case), whatever the
channel, until the case is closed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from assistant.errors import AlreadySubmitted, InputError
from assistant.language.case import Case
from assistant.store import Store, matter_key

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


def describe(sub) -> str:
    number = sub.confirmation or sub.message_id or "no number yet (pending)"
    return f"{number} through {sub.channel} ({sub.flow_id}, filed {sub.submitted_at[:16].replace('T', ' ')} UTC)"


def refuse_same_matter(store: Store, case: Case, flow: Flow, to: str | None = None) -> None:
    open_ones = store.open_on_matter(matter_of(case, flow, to))
    if not open_ones:
        return
    latest = open_ones[0]
    what = f"order {case.order_id}" if case.order_id else "this matter"
    raise AlreadySubmitted(
        f"{what} is already open with {flow.provider or case.provider}: request {describe(latest)}, case {latest.case_id}. "
        "Sending the same request through another channel slows both down. Wait for the answer "
        f"(`assistant cases show {latest.case_id}`), follow up after the deadline (`assistant followup "
        f"{latest.case_id}`), or close it (`assistant cases close {latest.case_id}`); pass --force to file anyway."
    )


def before_filing(case: Case, flow: Flow, settings) -> None:
    """Lint, then the one-request-one-channel rule. --force passes both; a dry run only warns."""
    from assistant.casework.check import errors, lint

    kind = getattr(settings, "kind", "request")
    to = getattr(settings, "to", None)
    store = Store(settings.home)
    try:
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
    finally:
        store.close()
