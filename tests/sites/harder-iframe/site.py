"""A help page whose support form lives in an iframe (as embedded helpdesk widgets do).

The confirmation is shown inside the iframe too, so the flow must look there
for every field, the success text and the number (`frame:` in the flow).
"""

from assistant.sites.replica import Site

site = Site(__file__)


@site.get("/")
def home(request):
    return site.page_text(
        "Help",
        '<h1>Help centre</h1><iframe id="support-frame" src="/widget" '
        'title="Support" width="700" height="600"></iframe>',
    )


@site.get("/widget")
def widget(request):
    return site.page("widget.html")


@site.post("/widget")
def send(request):
    if not request.value("email") or len(request.value("message")) < 20 or len(request.files) != 1:
        return site.page("widget.html", status=422)
    number = site.record(request, prefix="IF-")
    return site.page_text("Sent", f'<p class="ok">Request accepted: <b id="ticket">{number}</b></p>')
