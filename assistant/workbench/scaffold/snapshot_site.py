"""Replica started by `assistant flow snapshot` from a real page's form.

form.html is the captured form (pointed at this replica); fields.json lists
its fields; snapshot.html is the whole page as captured, for reference.
This replica accepts a POST to the form's path when every field the real
form marks `required` is filled in, every choice is one the form offers and
every file has a name its `accept=` allows; otherwise it shows the form again
with the errors, the way the real site's platform marks them. It then shows
done.html with a number (its shape and the done page's address come from
fields.json: `assistant flow snapshot NAME --confirmation EVIDENCE_DIR` sets
them from a real confirmation page). A wizard captured with `--steps N` has its
later forms in form-2.html, …; each step's post is checked like the first and
answered with the next step's form, the last with done.html. Make it match the
real site as you learn it.
"""

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from assistant.sites.replica import Markup, Site, escape

site = Site(__file__)
META = json.loads((Path(__file__).parent / "fields.json").read_text(encoding="utf-8"))
STEPS = [{"page": "form.html", "fields": META["fields"]}, *META.get("steps", [])]


def _shown(fields):
    return [f for f in fields if f["name"] and f["type"] not in ("hidden", "submit", "button", "reset")]


NUMBER = META.get("number", {"prefix": "REQ-", "digits": 6})
# Where the confirmation page is; {number} is the number. A real site that keeps the number out of
# the address is copied too: its done page finds the number in a cookie, so a flow that reads the
# number from the address fails here as it would there.
DONE = META.get("done", "/replica-done/{number}")
DONE_PATH = urlsplit(DONE).path
# The number in the address's path, or in one of its query parameters (?ticket={number}).
QUERY_KEY = next((k for k, v in parse_qsl(urlsplit(DONE).query) if v == "{number}"), None)


def problems(request, fields=None):
    """What the real form (or a wizard's step, `fields`) would refuse, as (label, message)."""
    shown = _shown(fields if fields is not None else META["fields"])
    required = [f for f in shown if f["required"] and f["type"] not in ("file", "radio")]
    found = []
    for field in required:
        if not request.value(field["name"]):
            found.append((field["label"] or field["name"], "This field is required."))
    choices: dict[str, set[str]] = {}
    for field in shown:
        if field["tag"] == "select":
            choices.setdefault(field["name"], set()).update(o["value"] for o in field["options"])
        elif field["type"] == "radio":
            choices.setdefault(field["name"], set()).add(field["value"])
    for name, allowed in choices.items():
        given = request.value(name)
        label = next((f["legend"] or f["label"] or name for f in shown if f["name"] == name), name)
        if given and given not in allowed:
            found.append((label, f"Select a valid choice. {given} is not one of the available choices."))
        if not given and any(f["required"] for f in shown if f["name"] == name and f["type"] == "radio"):
            found.append((label, "Choose one."))
    for field in shown:
        if field["type"] != "file" or not field["accept"]:
            continue
        accept = [a.strip().lower() for a in field["accept"].split(",") if a.strip()]
        for upload in request.files:
            if upload.name != field["name"]:
                continue
            ending = "." + upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
            kind = upload.content_type.lower()
            if not any(a == ending or a == kind or (a.endswith("/*") and kind.startswith(a[:-1])) for a in accept):
                found.append((field["label"] or field["name"], f"{upload.filename}: this file type is not allowed."))
    return found


@site.get(META["path"])
def form(request):
    return site.page("form.html", title="Replica of " + META["url"], errors="")


@site.post(META["path"])
def send(request):
    return _answer(request, 1)


@site.post(r"/replica-step/(?P<step>\d+)")
def send_step(request):
    step = int(request.params["step"])
    if not 2 <= step <= len(STEPS):
        return site.page_text("Not found", "<h1>No such step</h1>", status=404)
    return _answer(request, step)


def _answer(request, step):
    """Step `step`'s post: its form again with the errors, the next step's form, or done."""
    found = problems(request, STEPS[step - 1]["fields"])
    page = STEPS[step - 1]["page"]
    if found:
        items = "".join(f"<li>{escape(label)}: {escape(message)}</li>" for label, message in found)
        errors = Markup(f'<ul class="{escape(META.get("error_class", "form-errors"))}" role="alert">{items}</ul>')
        return site.page(page, status=422, title="Replica of " + META["url"], errors=errors)
    if step < len(STEPS):
        return site.page(STEPS[step]["page"], title="Replica of " + META["url"], errors="")
    number = site.record(request, prefix=NUMBER["prefix"], digits=NUMBER["digits"])
    answer = site.redirect(DONE.replace("{number}", number))
    if "{number}" not in DONE:
        answer.cookies.append(f"replica_number={number}; Path=/; HttpOnly")
    return answer


@site.get(re.escape(DONE_PATH).replace(re.escape("{number}"), r"(?P<number>[^/]+)"))
def done(request):
    number = (
        request.params.get("number")
        or request.query.get(QUERY_KEY or "number", "")
        or request.cookies.get("replica_number", "")
    )
    if site.lookup(number) is None:
        return site.page_text("Not found", "<h1>No such request</h1>", status=404)
    return site.page("done.html", number=number)
