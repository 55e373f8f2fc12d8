"""A form whose thank-you page shows no number: it appears only later, on the "My requests" status page."""

from assistant.sites.replica import Site

site = Site(__file__)


@site.get("/support")
def form(request):
    return site.page("form.html")


@site.post("/support")
def send(request):
    if not request.value("email") or len(request.value("message")) < 20:
        return site.page("form.html", status=422)
    number = site.record(request, prefix="ST-")
    site.state.setdefault(request.value("email"), []).append(number)
    return site.redirect(f"/support/thanks?email={request.value('email')}")


@site.get("/support/thanks")
def thanks(request):
    email = request.query.get("email", "")
    return site.page_text(
        "Thanks",
        "<h1>Thank you, we received your request</h1>"
        f'<p><a id="my-requests" href="/support/requests?email={email}">My requests</a></p>',
    )


@site.get("/support/requests")
def requests_page(request):
    numbers = site.state.get(request.query.get("email", ""), [])
    rows = "".join(f'<tr><td class="number">{n}</td><td class="state">Registered</td></tr>' for n in numbers)
    return site.page_text("My requests", f'<h1>My requests</h1><table id="requests">{rows}</table>')
