"""`assistant cases list|show|reply|status|close|note|due|mark-sent`: the requests you have filed."""

from __future__ import annotations

import click

from assistant.commands.common import Ctx, handles_errors, json_option, pass_ctx, print_json

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
NO_NUMBER = {"rejected": "(rejected)", "unknown": "(outcome unknown)", "drafted": "(draft, not sent)"}


def _open_store(obj: Ctx):
    from assistant.store import Store

    return Store(obj.home)


def case_row(store, ref: str) -> dict:
    from assistant.errors import InputError

    found = store.find_case(ref)
    if found is None:
        raise InputError(f"CASE: no case '{ref}' (give its number from `assistant cases list`, or a request number)")
    return found


def _reference(sub: dict) -> str:
    """A submission's number for the list; a plain word for one that has none."""
    number = sub.get("confirmation") or (sub.get("message_id") if sub.get("outcome") == "accepted" else None)
    return number or NO_NUMBER.get(sub.get("outcome", ""), "(no number yet)")


def _when(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


def _due(stamp: str | None) -> str:
    """A due date in the provider's zone, unambiguous: 23 November 2026, 05:09 (UTC+03:00)."""
    import datetime as dt

    from assistant.casework.compose import format_datetime

    if not stamp:
        return ""
    return format_datetime(dt.datetime.fromisoformat(stamp), "en")


def _now(value: str | None):
    import datetime as dt

    from assistant.errors import InputError

    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"--now: '{value}' is not a date and time with a zone, like 2026-11-25T10:00:00+03:00")
    return moment


@click.group("cases", invoke_without_command=True)
@json_option
@click.pass_context
def cases(ctx: click.Context, as_json: bool) -> None:
    """Requests you have filed, their deadlines and answers (default: list them)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cases, as_json=as_json)


@cases.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only cases not closed.")
@json_option
@pass_ctx
@handles_errors
def list_cases(obj: Ctx, as_json: bool, only_open: bool = False) -> None:
    """List cases, oldest first, with their latest request number and due date."""
    from assistant.casework.tracking import case_view

    store = _open_store(obj)
    try:
        views = [case_view(store, c) for c in store.cases() if not (only_open and c["status"] == "closed")]
    finally:
        store.close()
    if as_json:
        print_json(views)
        return
    if not views:
        click.echo("no open cases" if only_open else "no cases yet (try `assistant demo`)")
        return
    for v in views:
        latest = v["submissions"][-1] if v["submissions"] else {}
        number = _reference(latest)
        status = click.style(f"{v['status']:<9}", fg=STATUS_COLOURS.get(v["status"]))
        state = v["state"] if v["state"] not in ("closed", v["status"]) else ""
        due = f"due {_due(v['due_at'])}" if v["due_at"] and v["status"] != "closed" else ""
        click.echo(
            f"{v['id']:>4}  {status} {number:<18} {v['provider']:<14} {latest.get('channel', ''):<8} "
            f"{due:<40} {click.style(state, fg=STATE_COLOURS.get(state))}  {v['subject'] or ''}"
        )


@cases.command("show")
@click.argument("case")
@json_option
@pass_ctx
@handles_errors
def show(obj: Ctx, case: str, as_json: bool) -> None:
    """Everything about CASE (its number, or any of its request numbers)."""
    from assistant.casework.tracking import case_view

    store = _open_store(obj)
    try:
        view = case_view(store, case_row(store, case))
    finally:
        store.close()
    if as_json:
        print_json(view)
        return
    click.secho(f"case {view['id']}: {view['subject'] or ''}", bold=True)
    click.echo(f"  provider   {view['provider']}   order {view['order_id'] or '-'}   category {view['category']}")
    click.echo(f"  status     {view['status']} ({view['state']})")
    if view["due_at"] and view["status"] != "closed":
        click.echo(f"  due        {_due(view['due_at'])}")
    if view["next_action"]:
        click.echo(f"  next       {view['next_action']}")
    click.secho("requests", bold=True)
    for s in view["submissions"]:
        number = s["confirmation"] or "(no number yet)"
        extra = f"  Message-ID {s['message_id']}" if s["message_id"] and s["message_id"] != number else ""
        click.echo(
            f"  {_when(s['submitted_at'])} UTC  {s['kind']:<8} {s['channel']:<8} {s['outcome']:<9} {number}{extra}"
        )
        if s["outcome"] != "accepted" and s["said"] != view["next_action"]:
            click.secho(f"      {s['said']}", fg=STATE_COLOURS.get(s["outcome"]))
        if s["evidence_dir"]:
            click.echo(f"      evidence {s['evidence_dir']}")
    if view["replies"]:
        click.secho("replies", bold=True)
        for r in view["replies"]:
            click.echo(f"  {_when(r['received_at'])}  {r['number'] or ''}  {r['text'] or ''}")
    if view["notes"]:
        click.secho("notes", bold=True)
        for n in view["notes"]:
            click.echo(f"  {_when(n['at'])} UTC  {n['text']}")
    click.secho("history", bold=True)
    for h in view["history"]:
        click.echo(f"  {_when(h['at'])} UTC  {h['status']:<9} {h['note'] or ''}")


@cases.command("reply")
@click.argument("case")
@click.option("--number", metavar="N", help="The request number the provider gave.")
@click.option("--text", metavar="TEXT", help="What they answered.")
@click.option("--file", "text_file", type=click.File("r", encoding="utf-8"), help="Their answer, from a file.")
@click.option("--at", "received_at", metavar="WHEN", help="When it came (ISO date and time; default: now).")
@pass_ctx
@handles_errors
def reply(obj: Ctx, case: str, number, text, text_file, received_at) -> None:
    """Record the provider's answer to CASE (and the number they gave it)."""
    from assistant.errors import InputError

    if text_file is not None:
        text = text_file.read()
    if not (number or text):
        raise InputError("give --number N (their request number) and/or --text/--file (what they said)")
    moment = _now(received_at).isoformat()
    store = _open_store(obj)
    try:
        found = case_row(store, case)
        store.add_reply(found["id"], number=number, text=text, received_at=moment)
    finally:
        store.close()
    click.echo(f"case {found['id']}: reply recorded" + (f"; its number is now {number}" if number else ""))


@cases.command("status")
@click.argument("case")
@click.argument("new_status", required=False, type=click.Choice(["open", "answered", "escalated", "closed"]))
@click.option("--note", metavar="TEXT", help="Why (kept in the history).")
@json_option
@pass_ctx
@handles_errors
def status(obj: Ctx, case: str, new_status, note, as_json: bool) -> None:
    """Show CASE's status and history, or set it to NEW_STATUS."""
    store = _open_store(obj)
    try:
        found = case_row(store, case)
        if new_status:
            store.set_status(found["id"], new_status, note)
            found = store.case(found["id"])
        history = store.history(found["id"])
    finally:
        store.close()
    if as_json:
        print_json({"case": found["id"], "status": found["status"], "history": history})
        return
    click.echo(f"case {found['id']}: {found['status']}")
    for h in history:
        click.echo(f"  {_when(h['at'])} UTC  {h['status']:<9} {h['note'] or ''}")


@cases.command("close")
@click.argument("case")
@click.option("--note", metavar="TEXT", help="How it ended, e.g. 'refunded on 25.11'.")
@pass_ctx
@handles_errors
def close(obj: Ctx, case: str, note) -> None:
    """Close CASE: solved, or given up. The matter can be filed again afterwards."""
    store = _open_store(obj)
    try:
        found = case_row(store, case)
        store.set_status(found["id"], "closed", note)
    finally:
        store.close()
    click.echo(f"case {found['id']}: closed")


@cases.command("note")
@click.argument("case")
@click.argument("text")
@pass_ctx
@handles_errors
def add_note(obj: Ctx, case: str, text: str) -> None:
    """Add a note to CASE (a call you made, what the agent said)."""
    store = _open_store(obj)
    try:
        found = case_row(store, case)
        store.add_note(found["id"], text)
    finally:
        store.close()
    click.echo(f"case {found['id']}: note added")


@cases.command("due")
@click.option("--now", "now_value", metavar="WHEN", help="Pretend it is WHEN (ISO with zone), to look ahead.")
@json_option
@pass_ctx
@handles_errors
def due(obj: Ctx, now_value, as_json: bool) -> None:
    """Cases overdue or due within a day, with the next action for each."""
    from assistant.casework.tracking import due as list_due

    store = _open_store(obj)
    try:
        rows = list_due(store, _now(now_value))
    finally:
        store.close()
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("nothing overdue or due within a day")
        return
    for r in rows:
        state = click.style(f"{r['state']:<8}", fg=STATE_COLOURS.get(r["state"]))
        click.echo(
            f"{r['case']:>4}  {state} due {_due(r['due_at'])}  {r['number'] or ''}  "
            f"{r['provider']}  {r['subject'] or ''}"
        )
        click.echo(f"      next: {r['next_action']}")


@cases.command("mark-sent")
@click.argument("case")
@click.option("--at", "sent_at", metavar="WHEN", help="When you sent it (ISO date and time with zone; default: now).")
@json_option
@pass_ctx
@handles_errors
def mark_sent(obj: Ctx, case: str, sent_at: str | None, as_json: bool) -> None:
    """Record that you sent CASE's draft (the .eml from `--eml-only`): its deadline starts then."""
    from assistant.casework.drafts import mark_sent as record_sent
    from assistant.casework.tracking import outcome

    moment = _sent_at(sent_at)
    store = _open_store(obj)
    try:
        marked = record_sent(store, case_row(store, case), moment)
    finally:
        store.close()
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
    due = f"; the answer is due {_due(marked.due_at)}" if marked.due_at else ""
    click.echo(f"case {marked.case_id}: {sub.confirmation} recorded as sent at {_when(sub.submitted_at)} UTC{due}")
    if marked.warning:
        click.secho(f"warning: {marked.warning}", err=True, fg="yellow")


def _sent_at(value: str | None):
    import datetime as dt

    from assistant.errors import InputError

    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"--at: '{value}' is not a date and time with a zone, like 2026-11-25T10:00:00+03:00")
    return moment
