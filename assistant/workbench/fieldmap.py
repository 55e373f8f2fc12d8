"""Which field of an unknown feedback form holds which part of a case: the way browsers' autofill
classifies fields (Chromium's autofill_regex_constants, Firefox's HeuristicsRegExp, the HTML
`autocomplete` tokens), in Russian and English, but for a support request, and cautious: a wrong
value in a provider's form is worse than a question, so a field is mapped only when what it says
about itself agrees; anything else is asked for (required) or left alone (optional).

`FORMS_JS` reads every form of a page in the browser (what a person sees: labels by `for=`, by
wrapping, `aria-label`, `aria-labelledby`, placeholders, legends, the text just before a field);
`choose_form` picks the feedback form among them; `classify` maps its fields. The result is data:
what `submit --url` shows the person before anything is filled, and what a drafted flow is made of.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FORMS_JS = r"""
() => {
  const clean = (t) => (t || "").replace(/\s+/g, " ").trim();
  const visible = (el) => {
    if (el.type === "hidden") return false;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || Number(style.opacity) === 0) return false;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) return false;
    if (box.right < 0 || box.bottom < 0 || box.left > 20000 || box.top > 50000) return false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.display === "none" || s.visibility === "hidden") return false;
      if ((s.overflow === "hidden" || s.clip !== "auto") && p.getBoundingClientRect().height < 2) return false;
    }
    return true;
  };
  const textOf = (el) => clean(el ? (el.innerText || el.textContent) : "");
  const labelOf = (el) => {
    const doc = el.ownerDocument;
    if (el.id) {
      const l = doc.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (l) return textOf(l);
    }
    const wrap = el.closest("label");
    if (wrap) {
      const copy = wrap.cloneNode(true);
      copy.querySelectorAll("select, option, textarea").forEach((n) => n.remove());
      return clean(copy.textContent);
    }
    return "";
  };
  const ariaOf = (el) => {
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    const by = ids.map((id) => textOf(el.ownerDocument.getElementById(id))).join(" ");
    return clean(`${el.getAttribute("aria-label") || ""} ${by}`);
  };
  // The text right before a field, when no label names it: a question title in a div, a <p>.
  const nearbyOf = (el) => {
    let node = el;
    for (let depth = 0; depth < 3 && node; depth++) {
      let prev = node.previousElementSibling;
      while (prev) {
        if (!prev.matches("input, select, textarea, button, script, style")) {
          const t = textOf(prev);
          if (t && !prev.querySelector("input, select, textarea")) return t.slice(0, 120);
        }
        if (prev.matches("input, select, textarea") || prev.querySelector("input, select, textarea")) break;
        prev = prev.previousElementSibling;
      }
      node = node.parentElement;
      if (node && node.matches("form")) break;
    }
    return "";
  };
  // A box's words written after it with no <label>: "<input type=checkbox> <span>I agree…</span>".
  const afterOf = (el) => {
    if (!["checkbox", "radio"].includes((el.getAttribute("type") || "").toLowerCase())) return "";
    let text = "";
    for (let n = el.nextSibling; n && text.length < 200; n = n.nextSibling) {
      if (n.nodeType === 1 && n.matches("input, select, textarea, button, br, div, p")) break;
      text += " " + (n.textContent || "");
    }
    return clean(text).slice(0, 200);
  };
  const legendOf = (el) => {
    const set = el.closest("fieldset");
    const leg = set && set.querySelector("legend");
    return leg ? textOf(leg) : "";
  };
  const describe = (el) => ({
    tag: el.tagName.toLowerCase(),
    type: (el.getAttribute("type") || (el.tagName === "INPUT" ? "text" : "")).toLowerCase(),
    name: el.getAttribute("name") || "",
    id: el.id || "",
    autocomplete: (el.getAttribute("autocomplete") || "").toLowerCase(),
    label: labelOf(el) || afterOf(el),
    aria: ariaOf(el),
    placeholder: clean(el.getAttribute("placeholder")),
    title: clean(el.getAttribute("title")),
    legend: legendOf(el),
    nearby: nearbyOf(el),
    required: el.required || el.getAttribute("aria-required") === "true",
    // A radio or a box is often drawn by its label, the input itself hidden: the label is what shows.
    visible: visible(el) || (["checkbox", "radio"].includes(el.type) && [...(el.labels || [])].some(visible)),
    value: el.getAttribute("value") || "",
    accept: el.getAttribute("accept") || "",
    multiple: !!el.multiple,
    pattern: el.getAttribute("pattern") || "",
    maxlength: el.maxLength > 0 ? el.maxLength : null,
    options: el.tagName === "SELECT" ? [...el.options].map((o) => ({ value: o.value, text: clean(o.text) })) : [],
    // What a file field's surroundings say of it ("JPG, PNG, PDF, не более 5 МБ").
    hint: (el.getAttribute("type") || "").toLowerCase() === "file" ? textOf(el.parentElement).slice(0, 300) : "",
  });
  const selectorOf = (form, index) => {
    if (form.id && /^[A-Za-z][\w-]*$/.test(form.id)) return `#${form.id}`;
    const name = form.getAttribute("name");
    if (name && /^[\w-]+$/.test(name)) return `form[name="${name}"]`;
    return `form >> nth=${index}`;
  };
  const controls = (root) => [...root.querySelectorAll("input, select, textarea")]
    .filter((el) => !["submit", "button", "reset", "image"].includes((el.getAttribute("type") || "").toLowerCase()));
  const found = [...document.forms].map((form, index) => ({
    index,
    selector: selectorOf(form, index),
    action: form.getAttribute("action") || "",
    fields: controls(form).map(describe),
  }));
  // A form drawn by a script with no <form> element: the fields a person sees outside every form,
  // in the smallest element that holds them all and a button (sent by the script, not by a post).
  const loose = controls(document).filter((el) => !el.form && !el.closest("form") && el.type !== "hidden" && visible(el));
  if (loose.length >= 2) {
    let box = loose[0].parentElement;
    while (box && box !== document.body && !(loose.every((el) => box.contains(el)) && box.querySelector("button, [role=button], input[type=submit], input[type=button]"))) {
      box = box.parentElement;
    }
    box = box || document.body;
    const path = (el) => {
      if (el.id && /^[A-Za-z][\w-]*$/.test(el.id)) return `#${el.id}`;
      if (el === document.body) return "body";
      const same = [...el.parentElement.children].filter((c) => c.tagName === el.tagName);
      const step = el.tagName.toLowerCase() + (same.length > 1 ? `:nth-of-type(${same.indexOf(el) + 1})` : "");
      return `${path(el.parentElement)} > ${step}`;
    };
    found.push({
      index: found.length,
      selector: path(box),
      action: "",
      loose: true,
      fields: controls(box).filter((el) => !el.closest("form")).map(describe),
    });
  }
  return found;
}
"""

# What a field can be mapped to: the case's parts, and what the person must give or nobody should.
TARGETS = (
    "contacts.full_name",
    "contacts.last_name",
    "contacts.first_name",
    "contacts.middle_name",
    "contacts.email",
    "contacts.phone",
    "order_id",
    "account",
    "incident.date",
    "incident.time",
    "incident.datetime",
    "incident.day",
    "incident.month",
    "incident.year",
    "request.subject",
    "request.body",
    "category",
    "device.model",
    "device.os",
    "device.os_version",
    "device.app_version",
    "attachments",
    "consent",
    "ask",
    "skip",
    "captcha",
)
# What a value comes from: the case fills these without a question.
FILLED = frozenset(t for t in TARGETS if t not in ("ask", "skip", "captcha"))


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


# Each a field's own words may say. Russian stems match their endings (фамили-я/-ю).
# fmt: off
WORDS: dict[str, re.Pattern[str]] = {
    "captcha": _words(
        r"captcha", r"капч", r"код с картинки", r"символы с картинки", r"проверочн\w* код", r"security code",
        r"verification code", r"код подтверждения с изображения", r"введите код", r"enter the (?:code|characters)",
    ),
    "honeypot": _words(r"leave (?:this|it) (?:field )?(?:empty|blank)", r"не заполняйте", r"honeypot", r"оставьте пуст"),
    "full_name_ru": _words(r"\bфио\b", r"ф\.\s?и\.\s?о", r"фамилия,?\s+имя", r"имя\s+(?:и\s+)?фамилия"),
    "cc": _words(r"\bcc\b", r"copy to", r"копи[яюи]\b", r"other recipients", r"additional e-?mail"),
    "extension": _words(r"\bext\b", r"extension", r"добавочн", r"\bдоб\b"),
    "date_part": _words(r"^\W*(?:day|month|year|день|месяц|год|dd|mm|yyyy|дд|мм|гггг)\W*$"),
    "model": _words(r"\bmodel\b", r"модель"),
    "first_name_ru": _words(r"\bимя\b"),
    "middle_name": _words(r"отчеств", r"middle\W?name", r"patronymic", r"\bmname\b", r"middlename"),
    "last_name": _words(r"фамили", r"last\W?name", r"surname", r"family\W?name", r"\blname\b", r"lastname"),
    "first_name": _words(
        r"^\W*имя\W*$", r"^\W*ваше имя\W*$", r"first\W?name", r"given\W?name", r"\bfname\b", r"firstname", r"forename",
        r"как к вам обращаться",
    ),
    "full_name": _words(
        r"full\W?name", r"your name", r"^\W*name\W*$", r"^\W*(?:ваше )?имя\b", r"contact name", r"customer name",
        r"name and surname", r"account holder", r"representative", r"заявител",
    ),
    # A name, a number or a date of someone or something other than the person: asked, never guessed.
    "someone_else": _words(
        r"adjuster", r"seller", r"vendor", r"agent", r"staff", r"employee name", r"driver", r"courier", r"doctor",
        r"ученик", r"ребён|ребен", r"сотрудник", r"продав", r"курьер", r"водител", r"врач", r"asset",
        r"computer name", r"host\s?name", r"device name", r"pupil", r"child", r"student name", r"имя пользовател",
        r"company name", r"название", r"наименовани", r"affected", r"alternative", r"другой номер",
    ),
    "email": _words(r"e-?mail", r"\bпочт[аыуе]\b", r"эл\.\s?почт", r"электронн\w* (?:почт|адрес)", r"email address"),
    "phone": _words(r"телефон", r"phone", r"mobile", r"\bмоб", r"\btel\b", r"contact number", r"номер для связи"),
    "order_id": _words(
        r"номер\w* заказ", r"заказ", r"order", r"booking", r"confirmation (?:code|number)", r"номер\w* договор",
        r"contract", r"номер\w* полис", r"policy (?:number|no)", r"брони", r"reservation", r"pnr",
        r"reference (?:number|no|code)", r"invoice (?:number|no)", r"номер\w* счёта-фактуры",
        r"agreement (?:number|no)", r"номер\w* соглашени", r"claim (?:number|reference|no)",
        r"номер\w* (?:ранее )?(?:поданного |предыдущего )?(?:заявлени|обращени)",
    ),
    "account": _words(
        r"лицев\w* сч[её]т", r"account (?:number|no|id)", r"номер\w* (?:учётной|учетной) записи", r"\blogin\b",
        r"логин", r"customer (?:number|id)", r"абонент\w* номер", r"номер\w* абонент", r"client id",
        r"member(?:ship)? (?:number|id)", r"user\W?id", r"frequent flyer", r"loyalty", r"rewards (?:number|id)",
        r"student (?:or employee )?(?:id|number)", r"employee (?:id|number)", r"бонусн\w* карт", r"карт\w* лояльност",
    ),
    "date": _words(r"дат[аы]", r"\bdate\b", r"\bday\b", r"когда", r"when", r"\bдень\b", r"dd\.mm|дд\.мм|mm/dd"),
    "time": _words(r"врем", r"\btime\b", r"час", r"hh:mm|чч:мм"),
    "incident": _words(
        r"инцидент", r"происш", r"произош", r"случил", r"возник", r"проблем", r"неполад", r"сбо[йяе]", r"ошибк",
        r"incident", r"happen", r"occur", r"problem", r"issue", r"when did", r"event", r"noticed", r"flight",
        r"рейс", r"покупк", r"purchase", r"платеж|платёж|оплат", r"payment", r"transaction", r"операци",
        r"delivery|доставк", r"visit|визит", r"travel|поездк", r"нарушени", r"violation",
    ),
    "not_incident": _words(
        r"рожден", r"birth", r"\bdob\b", r"выдач", r"issue date of", r"expir", r"срок действия", r"callback",
        r"перезвон", r"удобн\w* (?:время|дат)", r"preferred (?:date|time)", r"appointment", r"запис[ьи] на",
        r"arrival", r"departure", r"check-?in", r"check-?out", r"pick-?up", r"drop-?off", r"return date",
        r"заезд", r"выезд", r"прибыти", r"отъезд", r"\bdue\b", r"deadline", r"\bсрок\b", r"follow-?up",
    ),
    "subject": _words(
        r"\bтема\b", r"subject", r"заголов", r"\btitle\b", r"summary", r"кратко", r"краткое описание",
        r"ticket name", r"request name", r"name of (?:the |your )?(?:ticket|request|issue)",
    ),
    "body": _words(
        r"сообщени", r"текст", r"описани", r"опишите", r"коммент", r"обращени", r"вопрос", r"жалоб", r"суть",
        r"message", r"description", r"describe", r"comment", r"details", r"complaint", r"question", r"enquiry",
        r"inquiry", r"how can we help", r"tell us", r"your request", r"feedback", r"что (?:случилось|произошло)",
        r"what happened", r"ситуаци", r"подробн",
    ),
    "topic": _words(
        r"\bтема\b", r"категор", r"тип обращ", r"вид обращ", r"причин", r"раздел", r"тематик", r"по вопросу",
        r"topic", r"category", r"type of (?:request|issue|enquiry|inquiry|complaint)", r"request type", r"reason",
        r"what is (?:this|it|your \w+) about", r"regarding", r"help with", r"issue type", r"nature of",
        r"^\W*type\W*$", r"what kind", r"kind of (?:problem|issue)", r"что (?:случилось|произошло)", r"характер",
        r"сфер[аы]", r"проблем", r"\barea\b", r"enquiry", r"complaint", r"concern", r"what'?s wrong",
        r"type of (?:concern|problem|question|feedback)", r"(?:question|enquiry|inquiry|request|complaint) is about",
        r"what went wrong", r"что не так", r"^\W*queue\W*$", r"department", r"^\W*отдел\W*$",
    ),
    "device_model": _words(r"модель", r"устройств", r"device", r"phone model", r"model"),
    "os_version": _words(r"верси\w* (?:ос|os|операционн|android|ios)", r"os version", r"operating system version"),
    "os": _words(r"\bос\b", r"операционн", r"operating system", r"platform", r"платформ", r"\bos\b"),
    "app_version": _words(
        r"верси\w* приложени", r"app version", r"application version", r"версия программ", r"\bversion\b",
        r"верси[яи]\b",
    ),
    "attachments": _words(r"файл", r"вложени", r"прикреп", r"attach", r"upload", r"file", r"скриншот", r"screenshot"),
    "consent": _words(
        r"персональн", r"согла[сш]", r"agree", r"consent", r"terms", r"политик", r"privacy", r"условия",
        r"обработк", r"accept", r"i have read", r"ознакомлен", r"152-фз", r"personal data", r"data protection",
        r"i confirm", r"declar", r"подтверждаю", r"i am the account holder", r"authori[sz]ed (?:user|to)",
    ),
    "survey": _words(
        r"hear about", r"how did you (?:find|hear)", r"узнали о нас", r"откуда (?:вы )?узнали", r"referr",
        r"как вы нашли", r"source\b",
    ),
    "marketing": _words(
        r"newsletter", r"рассылк", r"\bnews\b", r"новост", r"offers", r"акци", r"подпис", r"marketing",
        r"promotion", r"special offers", r"рекламн", r"subscribe", r"updates by email",
    ),
    # Asked of the person: the case does not hold these.
    "ask": _words(
        r"адрес", r"address", r"\bгород", r"\bcity\b", r"town", r"\bинн\b", r"\binn\b", r"рожден", r"birth",
        r"\bdob\b", r"паспорт", r"passport", r"карт[аыу]\b", r"card", r"sort code", r"регион", r"region",
        r"област", r"county", r"state\b", r"индекс", r"post\s?code", r"zip", r"страна", r"country", r"priority",
        r"приоритет", r"severity", r"company", r"организаци", r"компани", r"должност", r"job title", r"snils|снилс",
        r"iban", r"bic|бик", r"amount|сумм", r"relationship", r"отношени", r"\borg\b", r"organi[sz]ation",
    ),
}
# fmt: on

AUTOCOMPLETE = {
    "name": "contacts.full_name",
    "given-name": "contacts.first_name",
    "family-name": "contacts.last_name",
    "additional-name": "contacts.middle_name",
    "email": "contacts.email",
    "tel": "contacts.phone",
    "tel-national": "contacts.phone",
    "tel-local": "contacts.phone",
    "username": "account",
    "bday": "ask",
    "bday-day": "ask",
    "bday-month": "ask",
    "bday-year": "ask",
    "street-address": "ask",
    "address-line1": "ask",
    "address-line2": "ask",
    "address-level1": "ask",
    "address-level2": "ask",
    "postal-code": "ask",
    "country": "ask",
    "country-name": "ask",
    "organization": "ask",
    "organization-title": "ask",
    "cc-number": "ask",
    "cc-name": "ask",
    "new-password": "ask",
    "current-password": "ask",
    "one-time-code": "ask",
}
MONTHS = re.compile(
    r"январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
    r"nov|dec",
    re.IGNORECASE,
)


@dataclass
class Field:
    """One control of a form, as FORMS_JS describes it (radios of one name are one Field)."""

    tag: str
    type: str
    name: str
    id: str
    autocomplete: str = ""
    label: str = ""
    aria: str = ""
    placeholder: str = ""
    title: str = ""
    legend: str = ""
    nearby: str = ""
    required: bool = False
    visible: bool = True
    value: str = ""
    accept: str = ""
    multiple: bool = False
    pattern: str = ""
    maxlength: int | None = None
    options: list[dict[str, str]] = field(default_factory=list)
    hint: str = ""

    shared: bool = False  # its name is another control's too (a date's three selects, name="d[]")

    @property
    def key(self) -> str:
        """How the corpus and the person name it: its name, else (or when shared) its #id."""
        if self.id and (self.shared or not self.name):
            return f"#{self.id}"
        return self.name

    @property
    def own_words(self) -> str:
        """What the field says about itself to a person: label, aria, placeholder, title."""
        return " ".join(w for w in (self.label, self.aria, self.placeholder, self.title) if w)

    @property
    def context(self) -> str:
        """What surrounds it: its fieldset's legend and the text just before it."""
        return " ".join(w for w in (self.legend, self.nearby) if w)

    @property
    def code_words(self) -> str:
        """Its name and id, split at the joins programmers use (last_name, lastName, last-name)."""
        raw = f"{self.name} {self.id}"
        raw = re.sub(r"([a-z])([A-Z])", r"\1 \2", raw)
        return re.sub(r"[_\-\[\].]+", " ", raw).lower()


@dataclass
class Mapping:
    key: str
    target: str  # one of TARGETS
    sure: bool  # False: a guess, shown to the person as one and asked about without a terminal
    why: str
    label: str  # what the person reads for it
    required: bool = False


def controls(raw: Iterable[dict[str, Any]]) -> list[Field]:
    """Fields from FORMS_JS's records, the radios and checkboxes of one name gathered into one."""
    out: list[Field] = []
    seen: dict[str, Field] = {}
    records = list(raw)
    names = Counter(r.get("name") for r in records if r.get("type") not in ("radio", "hidden") and r.get("name"))
    for record in records:
        item = Field(**{k: v for k, v in record.items() if k in Field.__dataclass_fields__})
        item.shared = item.type not in ("radio", "hidden") and names[item.name] > 1
        if item.type == "radio" and item.name:
            group = seen.get(item.name)
            if group is not None:
                group.options.append({"value": item.value, "text": item.label or item.value})
                group.required = group.required or item.required
                group.visible = group.visible or item.visible
                continue
            item.options = [{"value": item.value, "text": item.label or item.value}]
            # A radio group's question is its legend or the text before it, not one option's label.
            item.label = ""
            seen[item.name] = item
        out.append(item)
    return out


def _has(kind: str, text: str) -> bool:
    return bool(text) and WORDS[kind].search(text) is not None


def _shown(item: Field) -> str:
    return item.own_words or item.context or item.key


def classify(raw: Iterable[dict[str, Any]]) -> list[Mapping]:
    """Every field of one form, mapped: FORMS_JS's records for it, in page order."""
    items = controls(raw)
    out = [_one(item) for item in items]
    _one_body(items, out)
    return out


def _one(item: Field) -> Mapping:
    def done(target: str, why: str, sure: bool = True) -> Mapping:
        return Mapping(item.key, target, sure, why, _shown(item), item.required)

    own, near, code = item.own_words, item.context, item.code_words
    said = f"{own} {near}".strip()
    if not (item.label or item.aria or item.title):  # a placeholder is often an example, not a name
        own = f"{item.placeholder} {near}".strip()
    if item.type == "hidden":
        return done("skip", "hidden: the page's own value")
    if item.type == "file":  # often hidden behind a styled button or a drop zone
        return done("attachments", "a file input")
    if not item.visible:
        return done("skip", "not shown to a person (a trap for robots, or a part of the page not in use)")
    if _has("honeypot", f"{said} {code}"):
        return done("skip", "a field the page asks to leave empty")
    if item.type == "password":
        return done("ask", "a password: never filled by the tool")
    if _has("captcha", f"{said} {code}"):
        return done("captcha", "a CAPTCHA: a person types it")
    token = next((t for t in item.autocomplete.split() if t in AUTOCOMPLETE), None)
    if token is not None:
        return done(AUTOCOMPLETE[token], f"autocomplete={token}")
    if item.type in ("checkbox",):
        return _checkbox(item, done)
    if item.tag == "select" or item.type == "radio":
        return _choice(item, done)
    if item.type == "email":
        return done("contacts.email", "type=email")
    if item.type == "tel":
        if _has("someone_else", item.own_words):
            return done("ask", f"a number that is not the person's own: {item.own_words}")
        return done("contacts.phone", "type=tel")
    if item.type in ("date", "datetime-local", "time"):
        return _when(item, done)
    if item.tag == "textarea":
        if _has("ask", own) and not _has("body", own):
            return done("ask", f"a text box for something the case does not hold: {own}")
        return done("request.body", "a text area", sure=_has("body", said) or not said)
    return _text(item, done, own or near, code)


def _checkbox(item: Field, done: Any) -> Mapping:
    said = f"{item.own_words} {item.context}"
    if _has("marketing", said):
        return done("skip", "a marketing opt-in: left unticked")
    if _has("consent", said):
        return done("consent", "an agreement the form needs", sure=True)
    return done("ask" if item.required else "skip", "a box the case says nothing about")


def _choice(item: Field, done: Any) -> Mapping:
    # A list whose first option has no value asks its question there: "Что случилось?", "Choose…".
    first = item.options[0] if item.options and not item.options[0]["value"] else None
    question = first["text"] if first is not None else ""
    said = f"{item.own_words} {item.context} {question} {item.code_words}"
    texts = " ".join(o["text"] for o in item.options)
    if _is_part_of_date(item, said, texts):
        part = _date_part(item, said)
        if part is not None:
            if _has("not_incident", said):
                return done("ask", "a part of a date that is not the incident's")
            return done(f"incident.{part}", f"the {part} of a date")
    codes = [o["text"].strip() for o in item.options if o["text"].strip()]
    if codes and sum(bool(re.match(r"\+\d{1,4}\b", t)) for t in codes) >= len(codes) * 0.8:
        return done("contacts.phone", "a list of country calling codes: the phone's")
    if (
        re.search(r"android", texts, re.I)
        and re.search(r"\bios\b|iphone", texts, re.I)
        and not _has("os_version", said)
    ):
        return done("device.os", "a list of operating systems")
    # Its code name speaks only when nothing a person reads does ("policy_type" under "Вид страхования").
    shown = f"{item.own_words} {item.context} {question}".strip() or item.code_words
    if _has("survey", shown):
        return done("ask" if item.required else "skip", "a question about the person, not the problem")
    if any(_has("topic", w) for w in (shown, item.own_words, item.context)) or (
        item.type == "radio" and _has("topic", texts)
    ):
        return done("category", "a list of topics: the case's category picks one")
    if _has("ask", said):
        return done("ask", f"a choice the case does not hold: {item.own_words or item.context}")
    return done("ask" if item.required else "skip", "a choice the case says nothing about")


def _is_part_of_date(item: Field, said: str, texts: str) -> bool:
    numbers = [o["text"] for o in item.options if o["text"].strip().isdigit()]
    if _has("date", said) or re.search(r"\b(?:day|month|year|день|месяц|год)\b", said, re.I):
        return True
    return len(numbers) >= 12 or len(MONTHS.findall(texts)) >= 12


def _date_part(item: Field, said: str) -> str | None:
    """Which part of a date a list is: from its options (years, month names, 1 to 31), else from
    its own words, else from the words around it (which may name its neighbour)."""
    values = [o["text"] for o in item.options if o["text"].strip()]
    if sum(bool(re.fullmatch(r"(?:19|20)\d\d", v)) for v in values) >= 2:
        return "year"
    if len(MONTHS.findall(" ".join(values))) >= 12:
        return "month"
    if sum(v.isdigit() and 1 <= int(v) <= 31 for v in values) >= 28:
        return "day"
    parts = (("year", r"year|год|yyyy|гггг"), ("month", r"month|месяц|\bmm\b"), ("day", r"day|день|\bdd\b|\bдд\b"))
    for words in (item.own_words, item.code_words, said):
        found = [part for part, pattern in parts if re.search(pattern, words, re.I)]
        if len(found) == 1:
            return found[0]
    return None


def _when(item: Field, done: Any) -> Mapping:
    said = f"{item.own_words} {item.context} {item.code_words}"
    if _has("not_incident", said):
        return done("ask", "a date that is not the incident's")
    part = {"date": "date", "time": "time", "datetime-local": "datetime"}.get(item.type, "date")
    # A date in a feedback form is when the problem happened, unless its words say otherwise
    # (a birth date, a preferred callback: those are in not_incident and asked for).
    return done(f"incident.{part}", f"type={item.type}")


def _text(item: Field, done: Any, said: str, code: str) -> Mapping:
    """A one-line text box: its own words first, its name and id only when the words are silent."""
    if _has("cc", said) or _has("extension", said):
        return done("ask" if item.required else "skip", "a copy to someone else, or a phone extension")
    if _has("date_part", item.own_words) and not _has("not_incident", f"{item.context} {code}"):
        part = item.own_words.strip(" *:").lower()
        named = {"dd": "day", "дд": "day", "день": "day", "mm": "month", "мм": "month", "месяц": "month"}
        name = named.get(part, "year" if part in ("yyyy", "гггг", "год", "year") else part)
        if name in ("day", "month", "year"):
            return done(f"incident.{name}", f"the {name} of a date")
    for words, silent in ((said, False), (code, True)):
        if not words:
            continue
        target = _text_target(words)
        if target is not None:
            name, why = target
            if name.startswith("incident."):
                return done(name, why, sure=not _has("not_incident", f"{said} {item.context} {code}"))
            return done(name, why if not silent else f"{why} (from its name)", sure=not silent or name != "ask")
    mask = item.placeholder
    # A phone's mask: "+7 (___) ___-__-__", "(555) 123-4567"; a plain run of digits may be any number.
    if mask and re.fullmatch(r"[\d_\s()+-]+", mask) and len(mask) >= 10 and re.search(r"[+(_]", mask):
        return done("contacts.phone", "a phone number's pattern in the box")
    return done("ask" if item.required else "skip", "nothing says what it is")


# A one-line box's words, read in this order: the first rule whose words are all there and none of
# whose "unless" words are decides. Earlier rules are the more specific or the safer: someone
# else's name and what the case does not hold come before the person's own name and numbers.
BY_WORDS: tuple[tuple[tuple[str, ...], tuple[str, ...], str, str], ...] = (
    (("someone_else",), (), "ask", "about someone or something else"),
    (("email",), (), "contacts.email", "the label says email"),
    (("model",), (), "device.model", "the label says model"),
    (("phone",), ("ask",), "contacts.phone", "the label says phone"),
    (("account",), (), "account", "the label says account"),
    (("not_incident",), (), "ask", "the case does not hold it"),
    (("ask",), ("order_id",), "ask", "the case does not hold it"),
    (("full_name_ru",), (), "contacts.full_name", "the label asks for the whole name"),
    (("middle_name",), (), "contacts.middle_name", "the label says patronymic"),
    (("last_name",), ("first_name_ru",), "contacts.last_name", "the label says surname"),
    (("first_name",), (), "contacts.first_name", "the label says first name"),
    (("os_version",), (), "device.os_version", "the label says OS version"),
    (("app_version",), (), "device.app_version", "the label says app version"),
    (("order_id",), (), "order_id", "the label says order, contract or booking"),
    (("date", "time"), (), "incident.datetime", "the label says date and time"),
    (("time",), ("subject",), "incident.time", "the label says time"),
    (("date",), ("subject",), "incident.date", "the label says date"),
    (("device_model",), (), "device.model", "the label says device model"),
    (("os",), (), "device.os", "the label says operating system"),
    (("subject",), (), "request.subject", "the label says subject"),
    (("full_name",), (), "contacts.full_name", "the label says name"),
    (("last_name",), (), "contacts.full_name", "the label says name"),
    (("body",), (), "request.body", "the label says message"),
)


def _text_target(words: str) -> tuple[str, str] | None:
    for needed, unless, target, why in BY_WORDS:
        if all(_has(k, words) for k in needed) and not any(_has(k, words) for k in unless):
            return (target, f"{why}: {words[:60]}" if target == "ask" else why)
    return None


def _one_body(items: list[Field], out: list[Mapping]) -> None:
    """The request's text goes in one place: the main text area (the one that says it is the
    message, else the largest, else the first); one-line boxes that said "message" are the body
    only when the form has no text area at all."""
    areas = [i for i, m in enumerate(out) if m.target == "request.body" and items[i].tag == "textarea"]
    lines = [i for i, m in enumerate(out) if m.target == "request.body" and items[i].tag != "textarea"]
    if areas:
        for i in lines:
            out[i] = Mapping(
                out[i].key, "ask" if items[i].required else "skip", True, "a second text box", out[i].label
            )
        said = [i for i in areas if _has("body", f"{items[i].own_words} {items[i].context}")]
        main = (said or areas)[0]
        if len(areas) == 1 and not out[main].sure:  # the form's one text area is where the request goes
            out[main] = Mapping(out[main].key, "request.body", True, "the form's only text area", out[main].label)
        for i in areas:
            if i != main:
                target = "ask" if items[i].required else "skip"
                out[i] = Mapping(out[i].key, target, True, "another text area, not the request's", out[i].label)
    elif len(lines) > 1:
        for i in lines[1:]:
            out[i] = Mapping(
                out[i].key, "ask" if items[i].required else "skip", True, "a second text box", out[i].label
            )


def choose_form(forms: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The feedback form among a page's forms: visible, not a login or a search, with a text area,
    else the one with the most fields a person fills. None when the page has none."""
    ranked = sorted(forms, key=_score, reverse=True)
    if not ranked or _score(ranked[0])[0] < 0:
        return None
    return ranked[0]


def candidates(forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The forms that could each be the feedback form, as likely as one another: with a text
    area each, or none with one and each with three fields or more. More than one: ask."""
    best = choose_form(forms)
    if best is None:
        return []
    top = _score(best)[0]
    return [f for f in forms if _score(f)[0] == top and (top == 1 or _score(f)[1] >= 3)]


def _score(form: dict[str, Any]) -> tuple[int, int]:
    shown = [f for f in form["fields"] if f.get("visible") and f.get("type") != "hidden"]
    if not shown:
        return (-1, 0)
    # A login has a password and little else; a feedback form may ask for an account PIN too.
    if any(f.get("type") == "password" for f in shown) and len(shown) <= 4:
        return (-1, 0)
    if len(shown) == 1 and (shown[0].get("type") in ("search", "email") or "search" in str(shown[0]).lower()):
        return (-1, 0)
    areas = sum(f.get("tag") == "textarea" for f in shown)
    return (1 if areas else 0, len(shown))
