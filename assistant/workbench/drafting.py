"""A draft flow from a captured form's fields: steps, categories, attachment rules.

The draft must pass `assistant flow test` against the replica at once and must
not file a bad request on the real site: so it maps a field only when its
type, name or label says what it holds, keeps what the page pre-selects for
the fields the case says nothing about, and leaves the rest out with a TODO
naming them (a required one gets a placeholder value and a louder TODO, as the
form would not go without it).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from typing import Any

FIELDS_JS = r"""
(form) => {
  const clean = (t) => (t || "").replace(/\s+/g, " ").trim();
  const labelOf = (el) => {
    if (el.id) { const l = form.ownerDocument.querySelector(`label[for="${CSS.escape(el.id)}"]`); if (l) return clean(l.innerText); }
    const wrap = el.closest("label"); if (wrap) return clean(wrap.innerText.trim().split("\n")[0]);
    return el.getAttribute("aria-label") || el.getAttribute("placeholder") || "";
  };
  const legendOf = (el) => { const set = el.closest("fieldset"); const leg = set && set.querySelector("legend"); return leg ? clean(leg.innerText) : ""; };
  return [...form.querySelectorAll("input, select, textarea, button")].map((el) => ({
    tag: el.tagName.toLowerCase(), type: (el.getAttribute("type") || "").toLowerCase(),
    name: el.getAttribute("name") || "", id: el.id || "", label: labelOf(el), legend: legendOf(el),
    required: el.required || el.getAttribute("aria-required") === "true" || /\*\s*$/.test(labelOf(el)),
    multiple: !!el.multiple, value: el.getAttribute("value") || "", accept: el.getAttribute("accept") || "",
    checked: !!el.defaultChecked,
    selected: el.tagName === "SELECT" ? ([...el.options].find((o) => o.defaultSelected) || {value: ""}).value : "",
    text: el.tagName === "BUTTON" ? el.innerText.trim() : "",
    options: el.tagName === "SELECT" ? [...el.options].map((o) => ({ value: o.value, text: o.text.trim() })) : [],
  }));
}
"""

# Labels that name the topic of a request: the field whose options become the flow's categories.
TOPIC_WORDS = ("topic", "category", "queue", "subject", "type", "about", "reason", "department", "help with")
TOPIC_WORDS_RU = ("тема", "категор", "вопрос", "тип", "причин", "отдел", "раздел")
# A date or time is the incident's only when the label says so: "Due on" or a birth date is not.
INCIDENT_WORDS = ("incident", "happen", "occur", "problem", "issue", "when did", "event", "noticed")
INCIDENT_WORDS_RU = ("инцидент", "происш", "произош", "случил", "возник", "проблем", "неполад", "сбо")
# A field a person types a CAPTCHA into: a flow never fills it; it pauses for the person.
CAPTCHA_FIELD = re.compile(
    r"captcha|капч|код с картинки|символы с картинки|проверочн|security code|verification code|anti-?spam",
    re.I,
)
# The page's CAPTCHA widget, if any (run on the form): the common ones, then an image with a text box.
CAPTCHA_JS = r"""
(form) => {
  const doc = form.ownerDocument;
  const has = (sel) => !!doc.querySelector(sel);
  if (has('.g-recaptcha, iframe[src*="recaptcha"], script[src*="recaptcha"]')) return 'reCAPTCHA';
  if (has('.h-captcha, iframe[src*="hcaptcha"], script[src*="hcaptcha"]')) return 'hCaptcha';
  if (has('.smart-captcha, iframe[src*="smartcaptcha"], script[src*="captcha-api.yandex"]')) return 'Yandex SmartCaptcha';
  if (has('.cf-turnstile, script[src*="challenges.cloudflare.com/turnstile"]')) return 'Cloudflare Turnstile';
  const image = [...form.querySelectorAll('img')].find((i) =>
    /captcha|капч/i.test([i.src, i.alt, i.id, i.className].join(' ')));
  return image ? 'an image CAPTCHA' : null;
}
"""
# The form's own submit button: the last one that does not go back, cancel or reset, with a
# selector only it matches on the page (a wizard's last step has "Back" beside "Send").
SUBMIT_JS = r"""
(form) => {
  const doc = form.ownerDocument;
  const inside = [...form.querySelectorAll('button, input[type=submit], input[type=image]')];
  const outside = form.id ? [...doc.querySelectorAll(`[form="${CSS.escape(form.id)}"]`)] : [];
  // A form with no <form> element is sent by a script: its button is often type=button.
  const loose = form.tagName !== 'FORM';
  const submits = [...inside, ...outside].filter((b) => loose ||
    b.tagName === 'INPUT' || !b.getAttribute('type') || b.getAttribute('type').toLowerCase() === 'submit');
  const back = /назад|back|previous|prev|отмен|cancel|reset|сброс|очист|clear/i;
  const words = (b) => (b.innerText || b.value || b.getAttribute('aria-label') || '').trim();
  // What a person can press: a wizard drawn by a script keeps its later steps' buttons hidden,
  // and its "Next" is often a type=button.
  const shown = (b) => !!(b.offsetWidth || b.offsetHeight || b.getClientRects().length)
    && getComputedStyle(b).visibility !== 'hidden';
  const next = /далее|продолж|следующ|дальше|вперед|вперёд|next|continue|proceed/i;
  let pool = submits.filter(shown);
  if (!pool.length) pool = [...inside, ...outside].filter((b) => shown(b) && next.test(words(b)));
  if (!pool.length) pool = submits;
  const chosen = pool.filter((b) => !back.test(words(b) + ' ' + (b.name || '') + ' ' + (b.id || ''))).pop()
    || pool.pop();
  if (!chosen) return null;
  return {id: chosen.id || '', name: chosen.getAttribute('name') || '', text: words(chosen).replace(/\s+/g, ' '),
          tag: chosen.tagName.toLowerCase(), value: chosen.getAttribute('value') || '',
          submits: chosen.tagName === 'INPUT' || !chosen.getAttribute('type')
            || chosen.getAttribute('type').toLowerCase() === 'submit'};
}
"""
CONSENT_WORDS = ("consent", "agree", "accept", "gdpr", "privacy", "terms", "соглас", "персональн", "политик")

# Russian letters in category keys: keys are what a case's `category:` says, so they stay typeable.
TRANSLIT = {
    letter: latin.strip("-")
    for letter, latin in zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(" "),
        strict=True,
    )
}

MEDIA = {
    "image/*": ["image/png", "image/jpeg"],
    ".jpg": ["image/jpeg"],
    ".jpeg": ["image/jpeg"],
    ".png": ["image/png"],
    ".pdf": ["application/pdf"],
    ".txt": ["text/plain"],
}
DEFAULT_TYPES = ["image/png", "image/jpeg", "application/pdf"]
DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # when the page states no limit: what most forms take
MAX_STATED_BYTES = 50 * 1024 * 1024
MAX_TOPICS = 200  # a flow's category cap
MAX_UNNAMED_TOPICS = 30


def slug(text: str) -> str:
    lowered = "".join(TRANSLIT.get(c, c) for c in text.lower())
    return re.sub(r"[^a-z0-9]+", "-", lowered).strip("-")[:40].strip("-")


def _printable(c: str) -> bool:
    """A character YAML lets stand as it is: no control character, no line break."""
    n = ord(c)
    return (
        0x20 <= n <= 0x7E or 0xA0 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or n >= 0x10000
    ) and c not in "\u2028\u2029"


def display(text: str) -> str:
    """A page's text for a comment in a draft: one line, any character YAML refuses shown as ?."""
    return "".join(c if _printable(c) else "?" for c in " ".join(text.split()))


def _words(field_: dict[str, Any]) -> str:
    return f"{field_['name']} {field_['id']} {field_['label']} {field_.get('legend', '')}".lower()


def _has(words: str, needles: tuple[str, ...]) -> bool:
    return any(n in words for n in needles)


def is_incident(field_: dict[str, Any]) -> bool:
    label = f"{field_['label']} {field_.get('legend', '')}".lower()
    return _has(label, INCIDENT_WORDS + INCIDENT_WORDS_RU)


def value_for(field_: dict[str, Any]) -> tuple[str, str] | None:
    """(template, why) for a field the case can fill, from its type, name and label; None if unknown."""
    words = _words(field_)
    kind = field_["type"]
    name_words = re.split(r"[^a-zа-яё0-9]+", words)

    def has(*needles: str) -> bool:
        return _has(words, needles)

    if kind == "date" or has("date", "дата"):
        return ("{{ case.incident_at | date }}", "date of the incident") if is_incident(field_) else None
    if kind == "time" or has("время", "time of"):
        return ("{{ case.incident_at | time }}", "time of the incident") if is_incident(field_) else None
    if kind == "email" or has("mail", "почт"):
        return "{{ case.contacts.email }}", "email"
    if kind == "tel" or has("phone", "телефон") or "tel" in name_words:
        return "{{ case.contacts.phone }}", "phone"
    if has("account", "счёт", "счет", "login", "логин"):
        return "{{ case.account }}", "account (the case's `account:`)"
    if has("order", "заказ", "contract", "договор"):
        return '{{ case.order_id | default("") }}', "order number"
    if field_["tag"] == "textarea":
        return "{{ request.body }}", "the request text"
    if has("subject", "title", "summary", "тема", "заголов"):  # before the body: "Тема обращения"
        return "{{ request.subject }}", "subject"
    if has("message", "description", "comment", "сообщ", "описан", "коммент", "текст", "обращен"):
        return "{{ request.body }}", "the request text"
    if has("full name", "fullname", "your name", "your-name", "фио", "имя") or "name" in name_words:
        return "{{ case.contacts.full_name }}", "full name"
    return None


@dataclass
class Line:
    """One line of the drafted steps: a step with a comment after it, or a comment alone."""

    step: dict[str, Any] | None
    comment: str | None = None


@dataclass
class Draft:
    steps: list[Line] = field(default_factory=list)
    categories: dict[str, dict[str, str]] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)  # fields left out, by label
    submit: str = ""
    login_form: bool = False  # it has a password field: the page may be a login, not the support form
    captcha: str | None = None  # the CAPTCHA a person solves at pause_for_human
    human_steps: list[dict[str, Any]] = field(default_factory=list)  # what `flow test` does for them


def _selector(field_: dict[str, Any], form_selector: str) -> str:
    if field_["id"] and re.fullmatch(r"[A-Za-z][\w-]*", field_["id"]):
        return f"#{field_['id']}"
    inside = f"{form_selector} >> " if ">>" in form_selector else f"{form_selector} "
    if field_["name"] and "'" not in field_["name"]:
        if field_["type"] in ("radio", "checkbox") and field_["value"] and "'" not in field_["value"]:
            return f"{inside}[name='{field_['name']}'][value='{field_['value']}']"
        return f"{inside}[name='{field_['name']}']"
    if field_["type"] == "submit" or field_["tag"] == "button":
        return f"{inside}[type=submit]" if field_["type"] == "submit" else f"{inside}button"
    return f"{inside}{field_['tag']}"


def _categories(options: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Keys from the labels (a case writes `category: billing`, never `category: 1`)."""
    out: dict[str, dict[str, str]] = {}
    for index, (value, text) in enumerate(options, 1):
        base = slug(text) or slug(value)
        if not base or base[0].isdigit():
            base = f"topic-{base or index}"
        key, n = base, 2
        while key in out:
            key, n = f"{base}-{n}", n + 1
        out[key] = {"label": text or value, "form_value": value}
    return out


def _topic_score(field_: dict[str, Any]) -> int:
    words = _words(field_)
    return 2 if _has(words, TOPIC_WORDS + TOPIC_WORDS_RU) else 0


def draft(
    fields: list[dict[str, Any]],
    form_selector: str,
    url_path: str,
    *,
    submit: str | None = None,
    captcha: str | None = None,
    first: bool = True,
    last: bool = True,
    categories: bool = True,
) -> Draft:
    """The steps for the form's fields, the categories and the submit selector (`submit`: one
    the page was checked to match once; `captcha`: the page's CAPTCHA widget, if any). A
    wizard's steps are drafted one form at a time: only the first opens the page, only the last
    sends, and the topic is taken from the first form that has one (`categories`)."""
    out = Draft(captcha=captcha)
    lines = out.steps

    def step(kind: str, args: Any, comment: str | None = None) -> None:
        lines.append(Line({kind: args}, comment))

    def note(comment: str) -> None:
        lines.append(Line(None, comment))

    if first:
        step("goto", "{{ base_url }}" + url_path)
    step("wait_for", {"selector": form_selector})
    fields = [{**f, "label": display(f["label"]).rstrip(" *")} for f in fields]
    selects = [f for f in fields if f["tag"] == "select" and any(o["value"] for o in f["options"])]
    radios: dict[str, list[dict[str, Any]]] = {}
    for f in fields:
        if f["type"] == "radio" and f["name"]:
            radios.setdefault(f["name"], []).append(f)
    # The topic: a select or radio group named like one (else the first select with no pre-selected value).
    # A long list with no topic-like label (countries, cities) is not the request's topic.
    candidates = [
        (_topic_score(f) + (1 if not f["selected"] else 0), 0, f["name"])
        for f in selects
        if (_topic_score(f) or len(f["options"]) <= MAX_UNNAMED_TOPICS) and len(f["options"]) <= MAX_TOPICS
    ]
    candidates += [
        (_topic_score(group[0]) + (1 if not any(r["checked"] for r in group) else 0), 1, name)
        for name, group in radios.items()
        if len(group) > 1
    ]
    topic = max(candidates, key=lambda c: (c[0], -c[1]), default=None)
    topic_name = topic[2] if topic and (topic[0] >= 2 or topic[1] == 0) and categories else None
    done_radio: set[str] = set()
    for f in fields:
        # Names and labels come from someone else's page: values stay data (the YAML writer quotes
        # them), and what goes into a comment is one printable line (display).
        tag, kind, sel = f["tag"], f["type"], _selector(f, form_selector)
        what = display(f["label"] or f.get("legend") or f["name"] or f["id"])
        about = what[:60] or None
        if (tag == "button" and kind in ("", "submit")) or (tag == "input" and kind in ("submit", "image")):
            out.submit = out.submit or sel
            continue
        if tag == "button" or kind in ("hidden", "button", "reset"):
            continue
        if tag == "select":
            options = [o for o in f["options"] if o["value"]]
            if not options:
                continue
            if f["name"] == topic_name and not out.categories:
                out.categories = _categories([(o["value"], o["text"]) for o in options])
                step("select", {"selector": sel, "value": "{{ category.form_value }}"}, about)
            elif f["selected"]:
                shown = next((o["text"] for o in f["options"] if o["value"] == f["selected"]), f["selected"])
                note(f'{what[:50]}: left as the page pre-selects it ("{display(shown)}")')
            elif f["required"]:
                comment = "TODO: required, no default; choose" + (f" {about}" if about else "")
                step("select", {"selector": sel, "value": options[0]["value"]}, comment)
            else:
                out.todo.append(what)
        elif kind == "radio":
            name = f["name"]
            if name in done_radio:
                continue
            done_radio.add(name)
            group = radios.get(name, [f])
            legend = display(f.get("legend") or name)
            if name == topic_name and not out.categories:
                out.categories = _categories([(r["value"], r["label"]) for r in group])
                inside = f"{form_selector} >> " if ">>" in form_selector else f"{form_selector} "
                step("check", f"{inside}[name='{name}'][value='{{{{ category.form_value }}}}']", legend[:60])
            elif any(r["checked"] for r in group):
                shown = next(r["label"] or r["value"] for r in group if r["checked"])
                note(f'{legend[:50]}: left as the page pre-selects it ("{display(shown)}")')
            elif any(r["required"] for r in group):
                step("check", sel, f"TODO: required, no default; the right choice? {legend[:50]}")
            else:
                out.todo.append(legend)
        elif kind == "checkbox":
            if f["required"] or _has(_words(f), CONSENT_WORDS):
                step("check", sel, about)
            elif not f["checked"]:
                out.todo.append(what)
        elif kind == "file":
            step("upload", {"selector": sel, "files": "{{ attachments }}"}, about)
        elif kind == "password":
            out.login_form = True
            note(f"{what[:50]}: a password field; a flow never fills one (a form behind a login: requires_login)")
        elif CAPTCHA_FIELD.search(_words(f)):
            out.captcha = out.captcha or "a CAPTCHA typed from a picture"
            out.human_steps.append({"fill": {"selector": sel, "value": "replica"}})
            note(f"{what[:50]}: the CAPTCHA; the person types it at pause_for_human (run with --headed)")
        elif kind == "number":
            guess = value_for(f)
            if guess is not None and ("order_id" in guess[0] or "phone" in guess[0]):
                value = guess[0].replace(' | default("")', "").replace(" }}", " | digits }}")
                step("fill", {"selector": sel, "value": value}, f"{guess[1]}, digits only: the field takes numbers")
            elif f["required"]:
                comment = "TODO: required, takes a number; what goes here?" + (f" {about}" if about else "")
                step("fill", {"selector": sel, "value": "1"}, comment)
            else:
                out.todo.append(what)
        else:
            guess = value_for(f)
            if guess is not None:
                value, why = guess
                step("fill", {"selector": sel, "value": value}, why + (f": {f['label'][:50]}" if f["label"] else ""))
            elif f["value"]:
                note(f'{what[:50]}: left with the page\'s value ("{display(f["value"][:40])}")')
            elif f["required"]:
                comment = "TODO: required and not recognised; choose what goes here" + (f" {about}" if about else "")
                step("fill", {"selector": sel, "value": "{{ request.subject }}"}, comment)
            else:
                out.todo.append(what)
    if out.todo:
        note("TODO: fields left empty, as the case says nothing about them: " + "; ".join(out.todo))
    if not last:
        out.submit = submit or out.submit or form_selector + " [type=submit]"
        return out
    if out.captcha:
        step(
            "pause_for_human",
            "Solve the CAPTCHA in the browser window, then press Enter here",
            f"{out.captcha}: a person solves it (assistant submit --headed)",
        )
        if not out.human_steps:  # a widget the replica does not have: nothing to do there
            out.human_steps.append({"wait_for": {"selector": form_selector}})
    step("screenshot", "filled-form")
    step("submit", submit or out.submit or form_selector + " [type=submit]")
    return out


@dataclass
class AttachmentRules:
    media_types: list[str]
    extensions: list[str] | None
    max_files: int
    max_bytes: int = DEFAULT_MAX_BYTES


# The size a page says its file field takes: "не более 5 МБ", "Max. file size: 2 MB", "до 500 Кб".
SIZE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(кб|kb|килобайт\w*|kilobytes?|мб|mb|мегабайт\w*|megabytes?|гб|gb)\b", re.IGNORECASE
)
UNITS = {"к": 1024, "k": 1024, "м": 1024 * 1024, "m": 1024 * 1024, "г": 1024**3, "g": 1024**3}


def stated_size(text: str) -> int | None:
    """The smallest file size a page's words state, in bytes; None when they state none."""
    sizes = [int(float(number.replace(",", ".")) * UNITS[unit[0].lower()]) for number, unit in SIZE.findall(text or "")]
    return min(sizes) if sizes else None


def attachment_rules(fields: list[dict[str, Any]]) -> AttachmentRules:
    """What the form's file inputs take, from `accept` (media types and name endings) and `multiple`."""
    inputs = [f for f in fields if f["type"] == "file"]
    if not inputs:
        return AttachmentRules(list(DEFAULT_TYPES), None, 0)
    types: list[str] = []
    endings: list[str] = []
    any_name = False
    for f in inputs:
        accept = [a.strip().lower() for a in f.get("accept", "").split(",") if a.strip()]
        if not accept:
            any_name = True
            accept = ["image/*", ".pdf"]
        for item in accept:
            if item.startswith("."):
                endings.append(item)
                found = MEDIA.get(item) or [t for t in [mimetypes.guess_type("x" + item)[0]] if t]
            else:
                any_name = True
                found = MEDIA.get(item) or ([item] if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", item) else [])
            types += [t for t in found if t not in types]
    count = sum(5 if f["multiple"] else 1 for f in inputs)
    extensions = None if any_name or not endings else list(dict.fromkeys(endings))
    words = " ".join(f"{f.get('label', '')} {f.get('title', '')} {f.get('hint', '')}" for f in inputs)
    stated = stated_size(words)
    size = min(stated, MAX_STATED_BYTES) if stated and stated >= 1024 else DEFAULT_MAX_BYTES
    return AttachmentRules(types or list(DEFAULT_TYPES), extensions, count, size)


# What each platform shows when it refuses a form: the draft's `rejected:` and the replica's errors.
REFUSALS = (
    ("csrfmiddlewaretoken", ".errorlist", "errorlist"),
    ("wpcf7", ".wpcf7-not-valid-tip", "wpcf7-not-valid-tip"),
    ("authenticity_token", ".notification-error", "notification-error"),
    ("b24-form", ".b24-form-control-alert-message", "b24-form-control-alert-message"),
)


def refusal_marker(page_html: str, fields: list[dict[str, Any]]) -> tuple[str, str]:
    """(selector for `rejected:`, class the replica gives its error list)."""
    names = " ".join(f["name"] for f in fields)
    for needle, selector, css_class in REFUSALS:
        if needle in names or needle in page_html:
            return selector, css_class
    return ".form-errors", "form-errors"
