"""Replica of Kuper's "Оставить жалобу" (leave a complaint) form on the website.

Known from the sources (seed 001): a complaint goes through Help/Support →
"Оставить жалобу", all required fields (full name and contacts; order number,
date and time; the description; the demands), evidence attached, "Отправить".
Review within 1-10 business days. Everything else (URLs, ids, the review step
before sending, the number format) is an assumption: the live site was never
opened from this project.

Proves: a multi-step form (category page → form → review → send), with the
confirmation number only in the final page's URL.
"""

import re

from assistant.sites.replica import Markup, Site

site = Site(__file__, title="Kuper complaint")

KINDS = {
    "quality": "Качество товаров",
    "delivery": "Опоздание или недовоз",
    "courier": "Работа курьера",
    "payment": "Неверное списание денег",
}
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"%PDF-")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELDS = (
    "kind",
    "order_number",
    "order_date",
    "order_time",
    "subject",
    "description",
    "demands",
    "name",
    "phone",
    "email",
)


@site.get("/help")
def help_centre(request):
    return site.page("help.html")


@site.get("/help/complaint")
def choose(request):
    links = "".join(
        f'<li><a class="kind" data-kind="{k}" href="/help/complaint/form?kind={k}">{v}</a></li>'
        for k, v in KINDS.items()
    )
    return site.page("kinds.html", kinds=Markup(links))


def form(kind, errors=None, status=200):
    text = "".join(f'<p class="error" role="alert">{m}</p>' for m in (errors or {}).values())
    return site.page("form.html", status=status, kind=kind, kind_label=KINDS[kind], errors=Markup(text))


@site.get("/help/complaint/form")
def show(request):
    kind = request.query.get("kind", "")
    return form(kind) if kind in KINDS else site.redirect("/help/complaint")


@site.post("/help/complaint/form")
def review(request):
    kind = request.value("kind")
    if kind not in KINDS:
        return site.redirect("/help/complaint")
    errors = {}
    if not re.fullmatch(r"[\w-]{3,40}", request.value("order_number")):
        errors["order_number"] = "Укажите номер заказа"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", request.value("order_date")):
        errors["order_date"] = "Укажите дату заказа"
    if not re.fullmatch(r"\d{2}:\d{2}", request.value("order_time")):
        errors["order_time"] = "Укажите время"
    for name, message in (("subject", "Укажите тему"), ("name", "Укажите ФИО")):
        if len(request.value(name)) < 2:
            errors[name] = message
    if len(request.value("description")) < 20:
        errors["description"] = "Опишите ситуацию подробнее"
    if len(request.value("demands")) < 5:
        errors["demands"] = "Укажите ваши требования"
    if len(re.sub(r"\D", "", request.value("phone"))) < 10:
        errors["phone"] = "Укажите телефон"
    if not EMAIL.match(request.value("email")):
        errors["email"] = "Укажите e-mail"
    files = [f for f in request.files if f.name == "evidence"]
    if len(files) > 5 or any(not f.data.startswith(MAGIC) for f in files):
        errors["evidence"] = "До 5 файлов: JPG, PNG или PDF"
    if errors:
        return form(kind, errors, status=422)
    draft = site.new_token()
    site.state[draft] = (dict(request.form), list(request.files))
    rows = "".join(f"<tr><th>{name}</th><td>{_e(request.value(name))}</td></tr>" for name in FIELDS)
    names = ", ".join(_e(f.filename) for f in files) or "нет"
    return site.page("review.html", draft=draft, rows=Markup(rows), files=Markup(names))


def _e(text):
    from assistant.sites.replica import escape

    return escape(text)


@site.post("/help/complaint/send")
def send(request):
    draft = site.state.pop(request.value("draft"), None)
    if draft is None:
        return site.page_text("Черновик устарел", "<h1>Черновик не найден, заполните форму снова</h1>", status=410)
    request.form, request.files = draft
    number = site.record(request, prefix="CMP-", digits=6)
    return site.redirect(f"/help/complaint/thanks?complaint={number}")


@site.get("/help/complaint/thanks")
def thanks(request):
    return site.page("thanks.html")
