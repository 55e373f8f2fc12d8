"""A support form behind a login wall.

Sessions live in this server's memory: a fresh replica knows no session, which
is how the tests make a saved session "expire".
"""

from assistant.sites.replica import Site

site = Site(__file__)
USERS = {"anna@example.com": "correct horse"}
COOKIE = "sid"


def _user(request):
    return site.state.get("sessions", {}).get(request.cookies.get(COOKIE, ""))


@site.get("/login")
def login_form(request):
    return site.page("login.html", next=request.query.get("next", "/account"), error="")


@site.post("/login")
def login(request):
    email, password = request.value("email"), request.value("password")
    if USERS.get(email) != password:
        return site.page("login.html", status=401, next=request.value("next"), error="Wrong email or password")
    sid = site.new_token()
    site.state.setdefault("sessions", {})[sid] = email
    response = site.redirect(request.value("next") or "/account")
    response.cookies.append(f"{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000")
    return response


@site.get("/account")
def account(request):
    user = _user(request)
    if user is None:
        return site.redirect("/login?next=/account")
    return site.page_text(
        "Account",
        f'<nav id="account-menu">Signed in as {user}</nav>'
        '<p><a id="support-link" href="/support">Contact support</a></p>',
    )


@site.get("/support")
def form(request):
    if _user(request) is None:
        return site.redirect("/login?next=/support")
    return site.page("form.html")


@site.post("/support")
def send(request):
    user = _user(request)
    if user is None:
        return site.redirect("/login?next=/support")
    if len(request.value("message")) < 20:
        return site.page("form.html", status=422)
    request.form["account"] = user
    number = site.record(request, prefix="LG-")
    return site.page_text("Sent", f'<h1>Request sent</h1><p>Number: <b id="ticket">{number}</b></p>')
