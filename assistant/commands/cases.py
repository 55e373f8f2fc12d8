"""`assistant cases list|show|reply|status|close|note|due|mark-sent|resolve`: the requests you have filed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, Unpack

import click

from assistant.commands.common import (
    BrowserOptions,
    Ctx,
    F,
    browser_options,
    handles_errors,
    info,
    interactive,
    json_option,
    on_clocks,
    padded,
    pass_ctx,
    print_json,
    word,
)
from assistant.translation import N_, _, moment

if TYPE_CHECKING:
    import datetime as dt

    from assistant.casework.resolve import Answer, ListRead, LookUp
    from assistant.language.case import Case
    from assistant.language.flow import Flow
    from assistant.store import CaseRecords, Store, Submission
    from evidence.times import Clocks

STATUS_COLOURS = {"open": "yellow", "answered": "green", "escalated": "magenta", "closed": None}
STATE_COLOURS = {
    "overdue": "red",
    "due soon": "yellow",
    "pending": "yellow",
    "answered": "green",
    "rejected": "red",
    "drafted": "yellow",
    "not filed": "yellow",
}
# What the list shows instead of a number when the latest request has none.
NO_NUMBER = {
    "rejected": N_("(rejected)"),
    "unknown": N_("(outcome unknown)"),
    "drafted": N_("(draft, not sent)"),
    "accepted": N_("(accepted, no number yet)"),
}
NO_NUMBER_YET = N_("(no number yet)")
# The words of the columns that show them (common.WORDS), for their width.
STATUSES = ("open", "answered", "escalated", "closed")
STATES = ("overdue", "due soon")
OUTCOMES = ("accepted", "rejected", "unknown", "drafted", "not_filed")
KINDS = ("request", "followup")
# Who settled a submission, in "submission 3 resolved by {by}".
RESOLVED_BY = {
    # Translators: in "submission {submission} resolved by {by}": the person settled it.
    "you": N_("you"),
    # Translators: in "submission {submission} resolved by {by}": the provider's list of requests, read in the browser.
    "lookup": N_("lookup"),
}


def _message(text: str, shown: dict[str, Any] | None = None, **values: Any) -> tuple[str, str]:
    """A message, in English for --json (its "message") and in the interface's language for the
    terminal (with the values in `shown` put in their words there)."""
    return text.format(**values), _(text).format(**(values | (shown or {})))


def _open_store(obj: Ctx) -> Store:
    from assistant.store import Store

    return Store(obj.home)


def case_row(store: Store, ref: str) -> dict[str, Any]:
    from assistant.errors import InputError

    found = store.find_case(ref)
    if found is None:
        raise InputError(
            _("CASE: no case '{ref}' (give its number from `assistant cases list`, or a request number)").format(
                ref=ref
            )
        )
    return found


def _reference(sub: dict[str, Any]) -> str:
    """A submission's number for the list; a plain word for one that has none."""
    number: str | None = sub.get("confirmation") or (
        sub.get("message_id") if sub.get("outcome") == "accepted" else None
    )
    return number or _(NO_NUMBER.get(sub.get("outcome", ""), NO_NUMBER_YET))


def _clocks(row: dict[str, Any]) -> Clocks:
    """The provider's and the person's clocks for a case's times (evidence.times.Clocks): the
    flow's zone, and the zone of the case's incident_at offset."""
    import datetime as dt
    import json

    from assistant.run.zones import zone_for
    from evidence.times import Clocks

    data = json.loads(row.get("case_json") or "{}")
    language = data.get("language", "en")
    provider_zone = None
    try:
        from assistant.language.flow import find_flow, load_flow

        provider_zone = load_flow(find_flow(str(data.get("provider") or row.get("provider")))).timezone
    except Exception:  # a flow no longer here: the person's clock and UTC still say it all
        pass
    try:
        person = zone_for(dt.datetime.fromisoformat(str(data["incident_at"])), language, provider_zone)
    except (KeyError, ValueError):
        person = provider_zone or "UTC"
    return Clocks(person_zone=person, provider_zone=provider_zone, language=language)


def _on_clocks(clocks: Clocks, stamp: str | None) -> str:
    """A journal time as people read it (assistant.translation.moment): on the provider's clock,
    and on the person's too when theirs shows another time."""
    import datetime as dt

    if not stamp:
        return ""
    try:
        at = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return on_clocks(at if at.tzinfo else at.replace(tzinfo=dt.UTC), clocks.provider_zone, clocks.person_zone)


def _due(stamp: str | None) -> str:
    """A due date in the provider's zone, unambiguous: 23 November 2026, 05:09 (UTC+03:00)."""
    import datetime as dt

    if not stamp:
        return ""
    return moment(dt.datetime.fromisoformat(stamp))


def _now(value: str | None, option: str = "--now") -> dt.datetime:
    """The moment an option names (an ISO time with a zone), or now."""
    import datetime as dt

    from assistant.errors import InputError

    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        named = dt.datetime.fromisoformat(value)
    except ValueError:
        named = None
    if named is None or named.tzinfo is None:
        raise InputError(
            _("{option}: '{value}' is not a date and time with a zone, like 2026-11-25T10:00:00+03:00").format(
                option=option, value=value
            )
        )
    return named


def list_options(func: F) -> F:
    """The list's options, on `cases list` and on `cases` itself (which lists by default)."""
    func = click.option("--all", "show_all", is_flag=True, help="Every case (open first), however many.")(func)
    func = click.option(
        "--limit",
        type=click.IntRange(1),
        default=50,
        show_default=True,
        metavar="N",
        help="Show the first N: open cases first, oldest first, then closed ones.",
    )(func)
    return click.option("--open", "only_open", is_flag=True, help="Only cases not closed.")(func)


@click.group("cases", invoke_without_command=True)
@list_options
@json_option
@click.pass_context
def cases(ctx: click.Context, as_json: bool, only_open: bool, limit: int, show_all: bool) -> None:
    """Requests you have filed, their deadlines and answers (default: list them)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cases, as_json=as_json, only_open=only_open, limit=limit, show_all=show_all)


@cases.command("list")
@list_options
@json_option
@pass_ctx
@handles_errors
def list_cases(obj: Ctx, /, as_json: bool, only_open: bool = False, limit: int = 50, show_all: bool = False) -> None:
    """List cases: open ones first, oldest first, with their latest request number and due date.

    The first 50 by default (--limit N, or --all); --json writes them as a JSON array, one case
    a line, as the journal is read: flat memory however many there are."""
    import json

    from assistant.casework.tracking import case_view, english

    shown = 0
    with _open_store(obj) as store:
        counts = store.count_cases()
        total = counts["open"] if only_open else counts["open"] + counts["closed"]
        if show_all:  # one pass over each table per group: 100,000 cases in flat memory
            groups = [store.every_case(details=as_json, closed=False)]
            if not only_open:
                groups.append(store.every_case(details=as_json, closed=True))
            everything: Iterable[CaseRecords] = itertools.chain(*groups)
        else:
            page = store.page_of_cases(min(limit, total)) if total else []
            everything = store.some_cases(page, details=as_json)
        for records in everything:
            if only_open and records.case["status"] == "closed":
                continue
            view = case_view(store, records.case, records=records, say=english if as_json else _)
            if as_json:  # a JSON array written as it goes, one case a line (the C encoder: no indent)
                text = json.dumps(view, ensure_ascii=False, default=str)
                click.echo(("[" if not shown else ",") + "\n" + text, nl=False)
            else:
                _list_line(view)
            shown += 1
    if as_json:
        click.echo("\n]" if shown else "[]")
    elif not shown:
        click.echo(_("no open cases") if only_open else _("no cases yet (try `assistant demo`)"))
    elif shown < total:
        info(
            _("{shown} of {total} cases shown (open ones first); --all for every one, --limit N for more").format(
                shown=shown, total=total
            )
        )


def _list_line(v: dict[str, Any]) -> None:
    """One case in the list."""
    latest = v["submissions"][-1] if v["submissions"] else {}
    number = _reference(latest)
    status = click.style(padded(v["status"], 9, STATUSES), fg=STATUS_COLOURS.get(v["status"]))
    state = v["state"] if v["state"] not in ("closed", v["status"]) else ""
    # Translators: a column of `assistant cases`: when the provider's answer is due.
    due = _("due {when}").format(when=_due(v["due_at"])) if v["due_at"] and v["status"] != "closed" else ""
    click.echo(
        f"{v['id']:>4}  {status} {number:<18} {v['provider']:<14} {latest.get('channel', ''):<8} "
        f"{due:<40} {click.style(word(state), fg=STATE_COLOURS.get(state))}  {v['subject'] or ''}"
    )


@cases.command("show")
@click.argument("case")
@json_option
@pass_ctx
@handles_errors
def show(obj: Ctx, /, case: str, as_json: bool) -> None:
    """Everything about CASE (its number, or any of its request numbers)."""
    from assistant.casework.tracking import case_view, english

    with _open_store(obj) as store:
        row = case_row(store, case)
        view = case_view(store, row, say=english if as_json else _)
    if as_json:
        print_json(view)
        return
    click.secho(_("case {case}: {subject}").format(case=view["id"], subject=view["subject"] or ""), bold=True)
    # Translators: the labels of `assistant cases show`'s first lines.
    labels = {"provider": word("provider"), "status": _("status"), "due": _("due"), "next": _("next")}
    width = max(10, *(len(text) for text in labels.values()))
    click.echo(
        f"  {labels['provider']:{width}} "
        + _("{provider}   order {order}   category {category}").format(
            provider=view["provider"], order=view["order_id"] or "-", category=view["category"]
        )
    )
    click.echo(f"  {labels['status']:{width}} {word(view['status'])} ({word(view['state'])})")
    if view["due_at"] and view["status"] != "closed":
        click.echo(f"  {labels['due']:{width}} {_due(view['due_at'])}")
    if view["next_action"]:
        click.echo(f"  {labels['next']:{width}} {view['next_action']}")
    clocks = _clocks(row)
    click.secho(_("requests"), bold=True)
    for s in view["submissions"]:
        number = s["confirmation"] or _(NO_NUMBER.get(s["outcome"], NO_NUMBER_YET))
        extra = f"  Message-ID {s['message_id']}" if s["message_id"] and s["message_id"] != number else ""
        click.echo(
            f"  {_on_clocks(clocks, s['submitted_at'])}\n      {padded(s['kind'], 8, KINDS)} {s['channel']:<8} "
            f"{padded(s['outcome'], 9, OUTCOMES)} {number}{extra}"
        )
        if s["outcome"] != "accepted" and s["said"] != view["next_action"]:
            click.secho(f"      {s['said']}", fg=STATE_COLOURS.get(s["outcome"]))
        if s["evidence_dir"]:
            click.echo("      " + _("evidence {folder}").format(folder=s["evidence_dir"]))
    if view["replies"]:
        click.secho(_("replies"), bold=True)
        for r in view["replies"]:
            click.echo(f"  {_on_clocks(clocks, r['received_at'])}\n      {r['number'] or ''}  {r['text'] or ''}")
    if view["notes"]:
        click.secho(_("notes"), bold=True)
        for n in view["notes"]:
            click.echo(f"  {_on_clocks(clocks, n['at'])}\n      {n['text']}")
    click.secho(_("history"), bold=True)
    for h in view["history"]:
        click.echo(f"  {_on_clocks(clocks, h['at'])}\n      {padded(h['status'], 9, STATUSES)} {h['note'] or ''}")


def _submission_option(help: str) -> Callable[[F], F]:
    # SQLite's integers end at 2**63 - 1: a larger ID is bad input, said as such, not a traceback.
    return click.option("--submission", "submission_id", type=click.IntRange(1, 2**63 - 1), metavar="ID", help=help)


@cases.command("number")
@click.argument("case")
@click.argument("number")
@_submission_option(help="Which request, if several have none.")
@json_option
@pass_ctx
@handles_errors
def number_(obj: Ctx, /, case: str, number: str, submission_id: int | None, as_json: bool) -> None:
    """Record NUMBER for CASE's request the provider accepted without one.

    Many support forms answer "Thank you, we will contact you" and send the
    request's number later by email. The request is journalled as accepted
    with no number; this gives it the number. The case's status and deadline
    stay as they are (an answer on the substance is `cases reply`)."""
    from assistant.casework.resolve import checked_number
    from assistant.errors import InputError

    number = checked_number(number)
    with _open_store(obj) as store:
        found = case_row(store, case)
        waiting = [s for s in store.submissions_of(found["id"]) if s.status == "confirmed" and s.reference is None]
        if submission_id is not None:
            waiting = [s for s in waiting if s.id == submission_id]
        if len(waiting) != 1:
            subs = store.submissions_of(found["id"])
            listed = ", ".join(f"{s.id} ({_reference(_record(s) or {})})" for s in subs) or _("none")
            if not waiting:
                problem = _("case {case}: none of its requests is accepted with no number (its requests: {listed})")
            else:
                problem = _(
                    "case {case}: {n} of its requests are accepted with no number (its requests: {listed}); "
                    "pass --submission ID"
                )
            raise InputError(problem.format(case=found["id"], n=len(waiting), listed=listed))
        sub = waiting[0]
        if not store.record_number(sub.id, number, f"submission {sub.id}: the provider's number is {number}"):
            raise InputError(
                _("submission {submission} changed meanwhile (another command); nothing recorded").format(
                    submission=sub.id
                )
            )
        settled = next(s for s in store.submissions_of(found["id"]) if s.id == sub.id)
    message = _message(
        N_("case {case}: submission {submission} is now {number}"), case=found["id"], submission=sub.id, number=number
    )
    _said({"case": found["id"], "submission": _record(settled)}, message, as_json)


@cases.command("reply")
@click.argument("case")
@click.option("--number", metavar="N", help="The request number the provider gave.")
@click.option("--text", metavar="TEXT", help="What they answered.")
@click.option("--file", "text_file", type=click.File("r", encoding="utf-8"), help="Their answer, from a file.")
@click.option("--at", "received_at", metavar="WHEN", help="When it came (ISO date and time; default: now).")
@pass_ctx
@handles_errors
def reply(
    obj: Ctx, /, case: str, number: str | None, text: str | None, text_file: IO[str] | None, received_at: str | None
) -> None:
    """Record the provider's answer to CASE (and the number they gave it)."""
    from assistant.errors import InputError

    if text_file is not None:
        text = text_file.read()
    if not (number or text):
        raise InputError(_("give --number N (their request number) and/or --text/--file (what they said)"))
    received = _now(received_at, option="--at").isoformat()
    with _open_store(obj) as store:
        found = case_row(store, case)
        store.add_reply(found["id"], number=number, text=text, received_at=received)
    if number:
        click.echo(_("case {case}: reply recorded; its number is now {number}").format(case=found["id"], number=number))
    else:
        click.echo(_("case {case}: reply recorded").format(case=found["id"]))


@cases.command("status")
@click.argument("case")
@click.argument("new_status", required=False, type=click.Choice(["open", "answered", "escalated", "closed"]))
@click.option("--note", metavar="TEXT", help="Why (kept in the history).")
@json_option
@pass_ctx
@handles_errors
def status(obj: Ctx, /, case: str, new_status: str | None, note: str | None, as_json: bool) -> None:
    """Show CASE's status and history, or set it to NEW_STATUS."""
    with _open_store(obj) as store:
        found = case_row(store, case)
        if new_status:
            store.set_status(found["id"], new_status, note)
            changed = store.case(found["id"])
            assert changed is not None  # found a moment ago, and a case is never deleted
            found = changed
        history = store.history(found["id"])
    if as_json:
        print_json({"case": found["id"], "status": found["status"], "history": history})
        return
    click.echo(_("case {case}: {status}").format(case=found["id"], status=word(found["status"])))
    clocks = _clocks(found)
    for h in history:
        click.echo(f"  {_on_clocks(clocks, h['at'])}  {padded(h['status'], 9, STATUSES)} {h['note'] or ''}")


@cases.command("close")
@click.argument("case")
@click.option("--note", metavar="TEXT", help="How it ended, e.g. 'refunded on 25.11'.")
@pass_ctx
@handles_errors
def close(obj: Ctx, /, case: str, note: str | None) -> None:
    """Close CASE: solved, or given up. The matter can be filed again afterwards."""
    with _open_store(obj) as store:
        found = case_row(store, case)
        store.set_status(found["id"], "closed", note)
    click.echo(_("case {case}: closed").format(case=found["id"]))


@cases.command("note")
@click.argument("case")
@click.argument("text")
@pass_ctx
@handles_errors
def add_note(obj: Ctx, /, case: str, text: str) -> None:
    """Add a note to CASE (a call you made, what the agent said)."""
    with _open_store(obj) as store:
        found = case_row(store, case)
        store.add_note(found["id"], text)
    click.echo(_("case {case}: note added").format(case=found["id"]))


@cases.command("due")
@click.option("--now", "now_value", metavar="WHEN", help="Pretend it is WHEN (ISO with zone), to look ahead.")
@json_option
@pass_ctx
@handles_errors
def due(obj: Ctx, /, now_value: str | None, as_json: bool) -> None:
    """Cases overdue or due within a day, with the next action for each."""
    from assistant.casework.tracking import due as list_due
    from assistant.casework.tracking import english

    with _open_store(obj) as store:
        rows = list_due(store, _now(now_value), say=english if as_json else _)
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo(_("nothing overdue or due within a day"))
        return
    for r in rows:
        state = click.style(padded(r["state"], 8, STATES), fg=STATE_COLOURS.get(r["state"]))
        due_at = _("due {when}").format(when=_due(r["due_at"]))
        click.echo(f"{r['case']:>4}  {state} {due_at}  {r['number'] or ''}  {r['provider']}  {r['subject'] or ''}")
        click.echo("      " + _("next: {action}").format(action=r["next_action"]))


@cases.command("mark-sent")
@click.argument("case")
@click.option("--at", "sent_at", metavar="WHEN", help="When you sent it (ISO date and time with zone; default: now).")
@json_option
@pass_ctx
@handles_errors
def mark_sent(obj: Ctx, /, case: str, sent_at: str | None, as_json: bool) -> None:
    """Record that you sent CASE's draft (the .eml from `--eml-only`): its deadline starts then."""
    from assistant.casework.drafts import mark_sent as record_sent
    from assistant.casework.tracking import outcome

    when = sent_at_option(sent_at)
    with _open_store(obj) as store:
        row = case_row(store, case)
        marked = record_sent(store, row, when)
    sub = marked.submission
    if as_json:
        print_json(
            {
                "case": marked.case_id,
                "submission": {**sub.public(), "outcome": outcome(sub)},
                "due_at": marked.due_at,
                "warning": marked.warning,
            }
        )
        return
    sent = _on_clocks(_clocks(row), sub.submitted_at)
    if marked.due_at:
        said = _("case {case}: {number} recorded as sent at {when}; the answer is due {due}")
    else:
        said = _("case {case}: {number} recorded as sent at {when}")
    click.echo(said.format(case=marked.case_id, number=sub.confirmation, when=sent, due=_due(marked.due_at)))
    if marked.warning:
        click.secho(_("warning: {warning}").format(warning=marked.warning), err=True, fg="yellow")


def sent_at_option(value: str | None) -> dt.datetime:
    """When something was sent, as `--at` gives it (also `escalate --sent --at`), or now."""
    return _now(value, option="--at")


# ------------------------------------------------------------------ resolve
# Named `resolve`, not `status`: `cases status` sets the case's own state (open, answered, …);
# this settles one submission whose outcome is unknown, which is a different question.
# What it decides is assistant.casework.resolve's; here are the flags, the browser, the prompt and the words.


def _ask_person(sub: Submission, flow: Flow | None, seen: str | None) -> Answer:
    """On a terminal: what the person found (its number, not filed, or not known yet)."""
    import datetime as dt

    from assistant.casework.resolve import Answer, checked_number
    from assistant.store import Status

    provider = (flow.provider or flow.name) if flow is not None else sub.provider
    started = dt.datetime.fromisoformat(sub.submitted_at.replace("Z", "+00:00"))
    click.secho(
        "\n"
        + _(
            "submission {submission} ({channel}, {flow}, started {when}) may have reached {provider}: "
            "the click happened, no confirmation was read."
        ).format(
            submission=sub.id,
            channel=sub.channel,
            flow=sub.flow_id,
            when=moment(started, flow.timezone if flow is not None else None),
            provider=provider,
        ),
        err=True,
        bold=True,
    )
    if seen:
        click.echo(seen, err=True)
    click.echo(_("Look for it in your email or on the provider's site, then say what you found:"), err=True)
    # Translators: the letters before the answers are what the person types: keep them.
    click.echo("  " + _("n  they have it: I have its number"), err=True)
    click.echo("  " + _("a  they have it, with no number (a thank-you page or email that gives none)"), err=True)
    click.echo("  " + _("x  it was not filed: they do not have it"), err=True)
    click.echo("  " + _("p  I do not know yet: leave it pending"), err=True)
    choice = click.prompt(_("Your answer"), type=click.Choice(["n", "a", "x", "p"]), show_choices=True, err=True)
    if choice == "a":
        return Answer(Status.CONFIRMED)
    if choice == "x":
        return Answer(Status.NOT_FILED)
    if choice == "p":
        return Answer(Status.PENDING)
    number = ""
    while not number:
        number = click.prompt(_("Its number"), err=True).strip()
    return Answer(Status.CONFIRMED, checked_number(number))


def _look_up(obj: Ctx, base_url: str | None, browser: BrowserOptions) -> LookUp:
    """The provider's list, read in a browser with this command's options."""

    def look(case: Case, flow: Flow, key: str) -> ListRead:
        from assistant.lookup import look_up
        from assistant.pipeline import Settings

        return look_up(case, flow, key, Settings.of(home=obj.home, base_url=base_url, log=info, **browser))

    return look


@cases.command("resolve")
@click.argument("case")
@click.option("--number", metavar="N", help="They have it: the number from their email or status page.")
@click.option("--accepted", is_flag=True, help="They have it but gave no number (a thank-you page, an email).")
@click.option("--not-filed", "not_filed", is_flag=True, help="They do not have it: nothing was filed.")
@_submission_option(help="Which one, if several are pending.")
@click.option("--note", metavar="TEXT", help="Where you found the answer (kept in the case's history).")
@click.option("--base-url", metavar="URL", help="Look it up on this site (a local one, like the demo portal).")
@browser_options
@json_option
@pass_ctx
@handles_errors
def resolve(
    obj: Ctx,
    /,
    case: str,
    number: str | None,
    accepted: bool,
    not_filed: bool,
    submission_id: int | None,
    note: str | None,
    base_url: str | None,
    as_json: bool,
    **browser: Unpack[BrowserOptions],
) -> None:
    """Settle a submission of CASE whose outcome is unknown.

    A submission is journalled as pending right before the submit click; when no
    confirmation was read after it (a crash, a timeout, a connection reset) the
    provider may or may not have the request, and a resend is refused until this
    says which. (`cases status` sets the case's own status; this settles one
    submission, hence its own verb.)

    \b
    In order:
      --number N     they have it, as N: confirmed, a resend is refused
      --accepted     they have it, with no number yet: accepted, a resend is
                     refused; `cases number` records the number later
      --not-filed    they do not have it: a resend is allowed without --force
      (neither)      if the flow has a `lookup:` block, read the provider's own
                     list of your requests in the browser and take the number
                     found there; otherwise, or if it finds nothing certain,
                     ask on a terminal. Without a terminal: exit 2, naming the
                     flag to pass.

    Nothing pending: says "nothing to resolve" and exits 0.
    """
    from assistant.casework.resolve import claimed, find_out, pending_one, settle
    from assistant.store import Status

    said = claimed(number, not_filed, accepted=accepted)
    with _open_store(obj) as store:
        found = case_row(store, case)
        sub = pending_one(store, found["id"], submission_id)
        result: dict[str, Any] = {"case": found["id"], "submission": _record(sub), "resolved_by": None, "lookup": None}
        if sub is None:
            if submission_id is not None:
                message = _message(
                    N_("case {case}: nothing to resolve: submission {submission} is not pending"),
                    case=found["id"],
                    submission=submission_id,
                )
            else:
                message = _message(
                    N_("case {case}: nothing to resolve: no submission of it is pending"), case=found["id"]
                )
            _said(result, message, as_json)
            return
        answer = said or find_out(store, sub, _look_up(obj, base_url, browser), _ask_person if interactive() else None)
        result["lookup"] = answer.lookup
        if answer.outcome == Status.PENDING:
            message = _message(
                N_("case {case}: submission {submission} left pending"), case=found["id"], submission=sub.id
            )
            _said(result, message, as_json)
            return
        settled = settle(store, found["id"], sub, answer, note)
        values = {"case": found["id"], "submission": sub.id, "by": answer.by, "number": answer.number}
        shown_by = _(RESOLVED_BY[answer.by]) if answer.by in RESOLVED_BY else answer.by
        if answer.outcome == Status.CONFIRMED and answer.number is None:
            message = _message(
                N_(
                    "case {case}: submission {submission} resolved by {by}: the provider has it, with no "
                    "number yet; a resend will be refused as already submitted. When the number comes: "
                    "assistant cases number {case} NUMBER"
                ),
                {"by": shown_by},
                **values,
            )
        elif answer.outcome == Status.CONFIRMED:
            message = _message(
                N_(
                    "case {case}: submission {submission} resolved by {by}: the provider has it as "
                    "{number}; it is confirmed and a resend will be refused as already submitted"
                ),
                {"by": shown_by},
                **values,
            )
        else:
            message = _message(
                N_(
                    "case {case}: submission {submission} resolved by {by}: not filed; "
                    "it no longer blocks a resend (submit the case again, no --force needed)"
                ),
                {"by": shown_by},
                **values,
            )
        result |= {"submission": _record(settled), "resolved_by": answer.by}
    _said(result, message, as_json)


def _record(sub: Submission | None) -> dict[str, Any] | None:
    """A submission as `--json` shows it (as mark-sent does): its journal row and its outcome."""
    from assistant.casework.tracking import outcome

    return None if sub is None else {**sub.public(), "outcome": outcome(sub)}


def _said(result: dict[str, Any], message: tuple[str, str], as_json: bool) -> None:
    """What a command did: `result` with the message in English for --json, else the message as the
    person reads it."""
    english, shown = message
    if as_json:
        print_json(result | {"message": english})
        return
    click.echo(shown)
    lookup = result.get("lookup")
    if lookup and lookup.get("evidence_dir"):
        click.echo(_("evidence of the lookup: {folder}").format(folder=lookup["evidence_dir"]))
