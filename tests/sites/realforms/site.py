"""Shapes of real support forms, for tests/test_real_forms.py.

/thanks  a contact form whose answer is a thank-you page with no request number
         ("we will contact you within two working days"), as many form builders give.
/down    the same form posting to ?scheme=S&port=P on 127.0.0.1: a server that is down at the click.

Each accepts an order number like HX-2026-0042 and keeps what it received (site.received).
"""

import re

from assistant.sites.replica import Markup, Site

site = Site(__file__, title="Real forms")
ORDER = re.compile(r"^[A-Z]{2}-\d{4}-\d{4}$")


@site.get("/thanks")
def thanks_form(request):
    return site.page("contact.html", action="/thanks", errors="", order="")


@site.post("/thanks")
def thanks_send(request):
    order = request.value("order")
    if not ORDER.match(order):
        errors = Markup('<ul class="errorlist"><li>Enter a valid order number, like HX-2026-0042.</li></ul>')
        return site.page("contact.html", action="/thanks", errors=errors, order=order)
    site.record(request, prefix="TH-")  # kept, but the page never shows it
    return site.redirect("/thanks/done")


@site.get("/thanks/done")
def thanks_done(request):
    return site.page_text(
        "Спасибо",
        "<h1>Спасибо! Ваше обращение принято.</h1><p>Мы свяжемся с вами в течение двух рабочих дней.</p>",
    )


@site.get("/down")
def down_form(request):
    scheme, port = request.query["scheme"], int(request.query["port"])
    return site.page("contact.html", action=f"{scheme}://127.0.0.1:{port}/send", errors="", order="")
