"""Replica of Kuper's support request form on the website (kuper.ru).

Known from the sources (seeds 000, 001): support is reached through "Помощь" /
"Поддержка", the person chooses the category of the question, fills the form
(subject, description with dates, order number, date and time, contacts),
attaches screenshots or documents, sends, and keeps the request number.
Everything else (the URLs, ids, that order fields appear only after choosing
"Заказ", the number format) is an assumption: the live site was never opened
from this project.

Proves: a category page before the form, and fields that appear after a choice.
"""

import re

from assistant.sites.replica import Markup, Site

site = Site(__file__, title="Kuper support")

TOPICS = {
    "payment": "Оплата и возврат денег",
    "technical": "Технические проблемы",
    "rental": "Вопросы по аренде",
    "delivery": "Заказ и доставка",
    "complaint": "Жалоба на сервис",
}
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"%PDF-")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@site.get("/")
def home(request):
    return site.page("home.html")


@site.get("/help")
def help_centre(request):
    links = "".join(
        f'<li><a class="topic" data-topic="{key}" href="/help/request?topic={key}">{label}</a></li>'
        for key, label in TOPICS.items()
    )
    return site.page("help.html", topics=Markup(links))


def form(topic, values=None, errors=None, status=200):
    values, errors = values or {}, errors or {}
    return site.page(
        "form.html",
        status=status,
        topic=topic,
        topic_label=TOPICS[topic],
        errors=Markup("".join(f'<p class="error" role="alert">{m}</p>' for m in errors.values())),
    )


@site.get("/help/request")
def show(request):
    topic = request.query.get("topic", "")
    if topic not in TOPICS:
        return site.redirect("/help")
    return form(topic)


@site.post("/help/request")
def send(request):
    topic = request.value("topic")
    if topic not in TOPICS:
        return site.redirect("/help")
    errors = {}
    if not 3 <= len(request.value("subject")) <= 120:
        errors["subject"] = "Укажите тему обращения"
    if len(request.value("description")) < 20:
        errors["description"] = "Опишите проблему подробнее"
    if request.value("about") not in ("order", "account", "app"):
        errors["about"] = "Выберите, к чему относится вопрос"
    if request.value("about") == "order":
        if not re.fullmatch(r"[\w-]{3,40}", request.value("order_number")):
            errors["order_number"] = "Укажите номер заказа"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", request.value("order_date")):
            errors["order_date"] = "Укажите дату"
        if not re.fullmatch(r"\d{2}:\d{2}", request.value("order_time")):
            errors["order_time"] = "Укажите время"
    if len(request.value("name")) < 2:
        errors["name"] = "Укажите имя"
    if len(re.sub(r"\D", "", request.value("phone"))) < 10:
        errors["phone"] = "Укажите телефон, привязанный к аккаунту"
    if not EMAIL.match(request.value("email")):
        errors["email"] = "Укажите e-mail"
    files = [f for f in request.files if f.name == "files"]
    if len(files) > 5 or any(not f.data.startswith(MAGIC) for f in files):
        errors["files"] = "До 5 файлов: JPG, PNG или PDF"
    if errors:
        return form(topic, request.form, errors, status=422)
    number = site.record(request, prefix="", digits=8)
    return site.redirect(f"/help/request/{number}")


@site.get(r"/help/request/(?P<number>\d{8})")
def done(request):
    received = site.lookup(request.params["number"])
    if received is None:
        return site.page_text("Не найдено", "<h1>Заявка не найдена</h1>", status=404)
    return site.page("done.html", number=received.number, topic=TOPICS[received.fields["topic"]])
