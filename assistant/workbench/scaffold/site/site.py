"""Replica of the provider's support form, served on 127.0.0.1 by `assistant flow test`.

Make it look and behave like the real form: the same URL paths, field names
and ids, the same validation messages, and a confirmation page that shows the
number the way the real site does. Handlers get a Request (request.value(...),
request.form, request.files, request.query, request.cookies) and return
site.page(...), site.page_text(...) or site.redirect(...). site.record(...)
keeps what was sent and returns the number to show (prefix= and digits= give
it the real site's shape); `flow test` checks the flow read it back;
site.lookup(...) finds it again. Every helper, with an example: CONTRIBUTING.md,
"Replica API reference" (or `help("assistant.sites.replica")`).
"""

import re

from assistant.sites.replica import Markup, Site

site = Site(__file__)

CATEGORIES = {"general": "General question", "payment": "Payments and refunds"}
PREFIX, DIGITS = "REQ-", 6  # how the real site's numbers look, e.g. "REQ-000123"


@site.get("/support")
def form(request):
    return site.page("form.html", errors="")


@site.post("/support")
def send(request):
    errors = []
    if request.value("category") not in CATEGORIES:
        errors.append("Choose a topic.")
    if len(request.value("subject")) < 3:
        errors.append("Enter a subject.")
    if len(request.value("message")) < 20:
        errors.append("Describe the problem (at least 20 characters).")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", request.value("email")):
        errors.append("Enter a valid email address.")
    if errors:
        items = "".join(f"<li>{e}</li>" for e in errors)
        return site.page("form.html", status=422, errors=Markup(f'<ul class="errors" role="alert">{items}</ul>'))
    number = site.record(request, prefix=PREFIX, digits=DIGITS)
    return site.redirect(f"/support/done/{number}")


@site.get(r"/support/done/(?P<number>[\w-]+)")
def done(request):
    if site.lookup(request.params["number"]) is None:
        return site.page_text("Not found", "<h1>No such request</h1>", status=404)
    return site.page("done.html", number=request.params["number"])
