"""Replica started by `assistant flow snapshot` from a real page's form.

form.html is the captured form (pointed at this replica); fields.json lists
its fields; snapshot.html is the whole page as captured, for reference.
This replica accepts a POST to the form's path when every field the real
form marks `required` is filled in, and shows done.html with a number.
Make the validation and done.html match the real site as you learn them.
"""

import json
from pathlib import Path

from assistant.sites.replica import Site

site = Site(__file__)
META = json.loads((Path(__file__).parent / "fields.json").read_text(encoding="utf-8"))
REQUIRED = [f for f in META["fields"] if f["required"] and f["name"] and f["type"] not in ("file", "hidden")]
PREFIX = "REQ-"


@site.get(META["path"])
def form(request):
    return site.page("form.html", title="Replica of " + META["url"])


@site.post(META["path"])
def send(request):
    missing = [f["label"] or f["name"] for f in REQUIRED if not request.value(f["name"])]
    if missing:
        return site.page_text("Error", "<h1>Fill in: " + ", ".join(missing) + "</h1>", status=422)
    number = site.record(request, prefix=PREFIX)
    return site.redirect(f"/replica-done/{number}")


@site.get(r"/replica-done/(?P<number>[\w-]+)")
def done(request):
    return site.page("done.html", number=request.params["number"])
