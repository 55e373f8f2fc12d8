"""Four ways a real support form refuses a request, for the outcome tests (tests/test_outcomes.py).

/server  re-renders the form with HTTP 200 and a Django-style error list by the field;
/browser a form without `novalidate`: the browser itself refuses a field that breaks its pattern;
/script  a form sent by fetch(): the site's script shows the error the server answered with;
/quiet   re-renders the form with a notice that looks like no error (the flow must declare it);
/covered a cookie wall nothing dismisses lies over the form: the browser will not click through it.

Each accepts an order number like HX-2026-0042 (and, /browser, a phone like +79123456789) and
answers a ticket number RF-000001, RF-000002, … on success.
"""

import json
import re

from assistant.sites.replica import Markup, Response, Site

site = Site(__file__, title="Refusals")
ORDER = re.compile(r"^[A-Z]{2}-\d{4}-\d{4}$")


def _done(number):
    return site.page_text("Thanks", f'<h1>Thank you! Your ticket number is <b id="ticket">{number}</b></h1>')


@site.get("/server")
def server_form(request):
    return site.page("server.html", errors="", order=request.value("order"))


@site.post("/server")
def server_send(request):
    order = request.value("order")
    if not ORDER.match(order):
        errors = Markup('<ul class="errorlist"><li>Enter a valid order number, like HX-2026-0042.</li></ul>')
        return site.page("server.html", errors=errors, order=order)  # HTTP 200, as Django does
    return _done(site.record(request, prefix="RF-"))


@site.get("/browser")
def browser_form(request):
    return site.page("browser.html")


@site.post("/browser")
def browser_send(request):
    return _done(site.record(request, prefix="RF-"))


@site.get("/script")
def script_form(request):
    return site.page("script.html")


@site.post("/script/api")
def script_api(request):
    order = request.value("order")
    if not ORDER.match(order):
        body = {"field": "order", "error": "The order number was not found. Check it and try again."}
        return Response(400, json.dumps(body).encode(), "application/json")
    return Response(201, json.dumps({"number": site.record(request, prefix="RF-")}).encode(), "application/json")


@site.get("/quiet")
def quiet_form(request):
    return site.page("quiet.html", notice="")


@site.post("/quiet")
def quiet_send(request):
    if not ORDER.match(request.value("order")):
        notice = Markup('<div class="notice">We have no order with that number.</div>')
        return site.page("quiet.html", notice=notice)
    return _done(site.record(request, prefix="RF-"))


@site.get("/covered")
def covered_form(request):
    return site.page("covered.html")


@site.post("/covered")
def covered_send(request):
    return _done(site.record(request, prefix="RF-"))
