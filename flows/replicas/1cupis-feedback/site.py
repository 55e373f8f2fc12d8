"""Replica of 1CUPIS's web feedback form (https://1cupis.ru/info/feedback).

Known from the sources (seed 003): the form is at /info/feedback and takes one
attached image or PDF as proof. Everything else here (field names, topics,
wording, the confirmation page) is an assumption: the live form was never
opened from this project. Server-side validation mirrors what such forms
usually check: required fields, email format, one JPEG/PNG/PDF up to 5 MB,
consent to personal data processing.
"""

import re

from assistant.sites.replica import Markup, Site

site = Site(__file__, title="1CUPIS feedback")

TOPICS = {
    "consultation": "Консультация по работе сервиса",
    "account": "Блокировка или удаление личного кабинета",
    "claim": "Претензия (финансовые потери)",
    "proposal": "Заявление или предложение",
}
MAX_FILE = 5 * 1024 * 1024
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"%PDF-")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def form(values=None, errors=None, status=200):
    values, errors = values or {}, errors or {}
    options = "".join(
        f'<option value="{key}"{" selected" if values.get("topic") == key else ""}>{label}</option>'
        for key, label in TOPICS.items()
    )
    summary = "".join(f"<li>{message}</li>" for message in errors.values())
    return site.page(
        "form.html",
        status=status,
        options=Markup(options),
        errors=Markup(f'<ul class="errors" role="alert">{summary}</ul>' if errors else ""),
        name=values.get("name", ""),
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        message=values.get("message", ""),
    )


@site.get("/")
def home(request):
    return site.page("home.html")


@site.get("/info/feedback")
def show(request):
    return form()


@site.post("/info/feedback")
def send(request):
    errors = {}
    if len(request.value("name")) < 2:
        errors["name"] = "Укажите ФИО"
    if not EMAIL.match(request.value("email")):
        errors["email"] = "Укажите корректный e-mail"
    if len(re.sub(r"\D", "", request.value("phone"))) < 10:
        errors["phone"] = "Укажите телефон, привязанный к учётной записи"
    if request.value("topic") not in TOPICS:
        errors["topic"] = "Выберите тему обращения"
    if len(request.value("message")) < 20:
        errors["message"] = "Опишите ситуацию подробнее (не менее 20 символов)"
    files = [f for f in request.files if f.name == "file"]
    if len(files) > 1:
        errors["file"] = "Можно прикрепить только один файл"
    elif files and (len(files[0].data) > MAX_FILE or not files[0].data.startswith(MAGIC)):
        errors["file"] = "Файл должен быть изображением (JPG, PNG) или PDF до 5 МБ"
    if request.value("agree") != "1":
        errors["agree"] = "Необходимо согласие на обработку персональных данных"
    if errors:
        return form(request.form, errors, status=422)
    number = site.record(request, prefix="", digits=7)
    return site.redirect(f"/info/feedback/success?request={number}")


@site.get("/info/feedback/success")
def success(request):
    received = site.lookup(request.query.get("request", ""))
    if received is None:
        return site.page_text("Не найдено", "<h1>Обращение не найдено</h1>", status=404)
    return site.page("success.html", number=received.number, email=received.fields.get("email", ""))
