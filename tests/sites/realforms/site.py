"""Shapes of real support forms, for tests/test_real_forms.py.

/thanks  a contact form whose answer is a thank-you page with no request number
         ("we will contact you within two working days"), as many form builders give.
/down    the same form posting to ?scheme=S&port=P on 127.0.0.1: a server that is down at the click.
/wizard  two steps: the order number ("Далее" posts it; a bad one is refused on step 1), then
         the topic and the message; answers a ticket number WZ-000001, … on the final submit.
/expired a form whose post is refused as Django refuses an expired CSRF token (403 page).
/session a form whose post is answered with the login page: the session ended.
/captcha a form with an image CAPTCHA whose answer is wrong: the form again, the error beside it.
/busy    a form whose post is answered 429 Too Many Requests, Retry-After: 120.
/account/contact  a page behind a login: without a session it sends the browser to /login.
/steps   a two-step wizard to snapshot with --steps 2: e-mail and name, "Далее"; then the topic,
         the message, "Назад" and "Отправить"; answers ST-000001, … on the last.

Each accepts an order number like HX-2026-0042 and keeps what it received (site.received).
"""

import re

from assistant.sites.replica import Markup, Response, Site

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


def _done(number):
    return site.page_text("Thanks", f'<h1>Thank you! Your ticket number is <b id="ticket">{number}</b></h1>')


@site.get("/wizard")
def wizard_start(request):
    return site.page("wizard1.html", errors="", order="")


@site.post("/wizard/1")
def wizard_first(request):
    order = request.value("order")
    if not ORDER.match(order):
        errors = Markup('<ul class="errorlist"><li>Enter a valid order number, like HX-2026-0042.</li></ul>')
        return site.page("wizard1.html", errors=errors, order=order)  # HTTP 200, step 1 again
    return site.page("wizard2.html", order=order)


@site.post("/wizard/2")
def wizard_second(request):
    return _done(site.record(request, prefix="WZ-"))


def _form(action):
    return site.page("contact.html", action=action, errors="", order="")


@site.get("/expired")
def expired_form(request):
    return _form("/expired")


@site.post("/expired")
def expired_send(request):
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title></head><body>'
        '<div id="summary"><h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p>'
        "</div></body></html>"
    )
    return Response(403, body.encode())


@site.get("/session")
def session_form(request):
    return _form("/session")


@site.post("/session")
def session_send(request):
    return site.redirect("/login?next=/session")


@site.get("/login")
def login_page(request):
    return site.page_text(
        "Вход",
        '<h1>Вход</h1><p>Сессия истекла. Войдите снова.</p><form method="post" action="/login">'
        '<label>Логин <input name="username"></label><label>Пароль <input type="password" name="password"></label>'
        '<button type="submit">Войти</button></form>',
    )


@site.get("/captcha")
def captcha_form(request):
    return site.page("captcha.html", errors="")


@site.post("/captcha")
def captcha_send(request):
    errors = Markup('<ul class="errorlist"><li>Неверный код с картинки.</li></ul>')
    return site.page("captcha.html", errors=errors)  # nobody types it right in a test


@site.get("/busy")
def busy_form(request):
    return _form("/busy")


@site.post("/busy")
def busy_send(request):
    body = "<h1>Слишком много запросов</h1><p>Повторите через 2 минуты.</p>"
    page = site.page_text("429", body, status=429)
    page.headers["Retry-After"] = "120"
    return page


@site.get("/account/contact")
def behind_login(request):
    return site.redirect("/login?next=/account/contact")


STEP1 = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Шаг 1</title></head><body>
<h1>Обращение: шаг 1 из 2</h1>$errors
<form method="post" action="/steps/1" class="wizard">
<input type="hidden" name="wizard_step" value="1">
<p><label for="s-name">Имя *</label> <input id="s-name" name="name" required></p>
<p><label for="s-email">Эл. почта *</label> <input id="s-email" name="email" type="email" required></p>
<p><button type="submit" class="next">Далее</button></p></form></body></html>"""

STEP2 = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Шаг 2</title></head><body>
<h1>Обращение: шаг 2 из 2</h1>
<form method="post" action="/steps/2" class="wizard">
<input type="hidden" name="wizard_step" value="2">
<p><label for="s-topic">Тема обращения *</label> <select id="s-topic" name="topic" required>
<option value="">—</option><option value="pay">Оплата</option><option value="ship">Доставка</option></select></p>
<p><label for="s-text">Сообщение *</label> <textarea id="s-text" name="text" required></textarea></p>
<p><button type="submit" name="back" value="1">Назад</button> <button type="submit">Отправить</button></p>
</form></body></html>"""


def _html(text, **values):
    return Response(200, text.replace("$errors", values.get("errors", "")).encode())


@site.get("/steps")
def steps_start(request):
    return _html(STEP1)


@site.post("/steps/1")
def steps_first(request):
    if not request.value("email") or not request.value("name"):
        return _html(STEP1, errors='<ul class="errorlist"><li>Заполните имя и почту.</li></ul>')
    return _html(STEP2)


@site.post("/steps/2")
def steps_second(request):
    if request.value("back"):
        return _html(STEP1)
    return _done(site.record(request, prefix="ST-"))
