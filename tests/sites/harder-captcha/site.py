"""A form with a CAPTCHA that only a person can read (here: a code drawn as text)."""

import random

from assistant.sites.replica import Site

site = Site(__file__)


@site.get("/support")
def form(request):
    token, code = site.new_token(), f"{random.randint(0, 99999):05d}"
    site.state[token] = code
    return site.page("form.html", token=token, code=code)


@site.post("/support")
def send(request):
    expected = site.state.pop(request.value("captcha_token"), None)
    if expected is None or request.value("captcha") != expected:
        return site.page_text("Wrong code", "<h1>Wrong CAPTCHA code; the request was not sent</h1>", status=400)
    if len(request.value("message")) < 20:
        return site.page_text("Too short", "<h1>Describe the problem</h1>", status=422)
    number = site.record(request, prefix="CP-")
    return site.page_text("Sent", f'<h1>Request sent</h1><p>Number: <b id="ticket">{number}</b></p>')
