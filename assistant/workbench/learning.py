"""A flow for a form nobody has written one for: `assistant submit --url URL`.

`read` opens the page under the guard (only the URL's own host; what else the page asked
for is reported, and allowed only when the person names it), picks the feedback form and
maps its fields (assistant.workbench.fieldmap). `decide` turns the mapping into the steps
of a flow, with the person's answers for what the case does not hold. `flow_text` writes
that flow: the same file `flow validate` and `flow test` read, with the generic readers of
the answer (`success: {thanks: true}`, `confirmation: {from: page}`), so the filing itself
goes through the one pipeline every flow does (journal, never twice, evidence). `save`
keeps it, with a replica made from the page, in the person's flows folder.

A value the case holds is written as its template (`{{ case.contacts.email }}`), so the
saved flow files the next case too; what the person answered is written as given.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.errors import InputError, RunFailed
from assistant.translation import _
from assistant.workbench import authoring, drafting, fieldmap

MAX_FORMS_SHOWN = 5
# The answer time a learned flow assumes until someone finds the provider's own: the longer end
# of "complaints about service" (DOMAIN.md, from the seeds: 3–5 business days).
DEFAULT_BUSINESS_DAYS = 5


@dataclass
class Page:
    """One page of the form: the whole form, or one step of a wizard."""

    form: authoring.FormStep
    records: list[dict[str, Any]]  # FORMS_JS's records of the form as this step shows it
    controls: list[fieldmap.Field]
    mappings: list[fieldmap.Mapping]
    next: str | None = None  # the selector of its "Next" button; None on the last page
    next_words: str = ""  # what that button says


@dataclass
class Reading:
    """What the address showed: its feedback form, page by page, mapped and decided."""

    url: str  # where the browser ended up (after redirects)
    title: str
    page_html: str
    pages: list[Page]
    plan: Plan
    other_hosts: list[str]  # hosts the page asked for that the guard did not let it reach
    allowed: list[str] = field(default_factory=list)  # allowed_hosts: the URL's, and --allow-host's

    @property
    def host(self) -> str:
        parts = urlsplit(self.url)
        return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")

    @property
    def form(self) -> authoring.FormStep:
        return self.pages[0].form

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for page in self.pages for r in page.records]


@dataclass
class Row:
    """One line of the table the person reads before anything is sent."""

    label: str
    key: str
    target: str
    source: str  # where the value comes from, in the person's words
    step: dict[str, Any] | None  # the flow's step for it; None: left as the page has it
    maxlength: int | None = None  # the most the field takes (its maxlength=)


@dataclass
class Plan:
    rows: list[Row] = field(default_factory=list)
    categories: dict[str, dict[str, str]] = field(default_factory=dict)
    captcha: bool = False
    pages: list[list[Row]] = field(default_factory=list)  # the rows of each page, in order
    files_used: int = 0  # file fields given an attachment each, when the form has several
    media_types: list[str] = field(default_factory=list)  # the case's own kinds the form takes too
    answered: set[str] = field(default_factory=set)  # the --field names a field took


def default_name(url: str) -> str:
    """A flow name from the address: www.shop.example.ru → shop-example-ru; a port written in
    the address is part of it (127.0.0.1:8080 → 127-0-0-1-8080: two sites, two providers)."""
    parts = urlsplit(url)
    host = (parts.hostname or "form").lower()
    host = re.sub(r"^www\d?\.", "", host)
    name = re.sub(r"[^a-z0-9]+", "-", host.encode("idna").decode("ascii") if not host.isascii() else host)
    name = name.strip("-")[:54] or "form"
    return f"{name}-{parts.port}" if parts.port else name


def _origin_entries(url: str) -> list[str]:
    """The hosts the address allows: its own, and its www. twin (a site that sends
    example.ru to www.example.ru, or back, is the same site)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(_("--url: {url!r} is not an http(s) address").format(url=url))
    host = parts.hostname
    port = f":{parts.port}" if parts.port else ""
    entries = [host + port]
    if re.search(r"[a-z]", host.split(".")[-1]) and host.count(".") >= 1 and not parts.port:
        entries.append(host[4:] if host.startswith("www.") else f"www.{host}")
    return entries


# The words of a wizard's "Next": the page's button goes on to another page, not to the provider.
NEXT = re.compile(r"далее|продолж|следующ|дальше|вперед|вперёд|\bnext\b|continue|proceed|→|»", re.IGNORECASE)
SEND = re.compile(r"отправ|подать|послать|submit|send|создать|create|готово|finish|complete", re.IGNORECASE)
MAX_PAGES = 6


def learn(
    url: str,
    case: Any,
    answers: dict[str, str],
    *,
    ask: Callable[[fieldmap.Field, fieldmap.Mapping], str | None] | None,
    browser: dict[str, Any],
    timeout: float,
    home: Path,
    allow_hosts: tuple[str, ...] = (),
    form_selector: str | None = None,
    choose: Callable[[list[dict[str, Any]]], int] | None = None,
    log: Callable[[str], None] = lambda m: None,
) -> Reading:
    """Open the page, find its feedback form and decide each field (`decide`). A wizard's page
    is filled with what was decided and its "Next" clicked, as a person would (the site gets
    that page's fields; nothing is filed before the last page's button), up to MAX_PAGES.
    `choose` picks among several forms that could be it (a terminal's question); without it,
    several are an error naming --form."""
    from playwright.sync_api import Error as PlaywrightError

    from assistant.language.urls import Policy, parse_entry
    from assistant.run import browser as browsers
    from assistant.run.netguard import Guard
    from assistant.run.scratch import run_folder

    entries = [*_origin_entries(url), *allow_hosts]
    try:
        policy = Policy("url", 0, [parse_entry(e) for e in entries])
    except ValueError as exc:
        raise InputError(_("--allow-host: {problem}").format(problem=exc)) from None
    guard = Guard(policy)
    plan = Plan()
    pages: list[Page] = []
    headed = bool(browser.get("headed"))
    with (
        run_folder(home),
        guard,
        browsers.open_browser(
            browser.get("browser_path"),
            browser.get("browser_endpoint"),
            browser.get("cdp"),
            headless=not headed,
        ) as (_started, opened, choice),
    ):
        try:
            guard.start_gate_if_local(choice)
            context = opened.new_context(**guard.context_options())
            guard.install(context)
            page = context.new_page()
            log(_("opening {url} …").format(url=url))
            answer = page.goto(url, wait_until="load", timeout=timeout * 1000)
            if answer is None or answer.status >= 400 or page.url.startswith("chrome-error:"):
                # The site is down, or answered with an error: not a page without a form.
                status = f"HTTP {answer.status}" if answer is not None else "no answer"
                raise RunFailed(_("could not read the form at {url}: {error}").format(url=url, error=status))
            final, title, page_html = page.url, page.title(), page.content()
            chosen = _choose(_forms(page, timeout), form_selector, choose)
            for number in range(1, MAX_PAGES + 1):
                step = _page(page, chosen)
                pages.append(step)
                _check_sends_to(chosen, page.url, policy)
                if step.form.captcha and not any(m.target == "captcha" for m in step.mappings):
                    if not headed:
                        raise InputError(
                            _("the form has {captcha}; a person solves it: run again with --headed").format(
                                captcha=_(authoring.CAPTCHA_WORDS[step.form.captcha])
                                if step.form.captcha in authoring.CAPTCHA_WORDS
                                else step.form.captcha
                            )
                        )
                    plan.captcha = True
                rows = decide(step, case, answers, ask=ask, headed=headed, plan=plan)
                plan.pages.append(rows)
                _revealed(page, step, rows, case, answers, ask=ask, headed=headed, plan=plan)
                if step.next is None:
                    break
                if number == MAX_PAGES:
                    raise InputError(
                        _(
                            "the form goes on past {count} pages; file it with a flow (`assistant flow snapshot`)"
                        ).format(count=MAX_PAGES)
                    )
                log(
                    _("page {number} of the form: filled, going on with its «{button}» …").format(
                        number=number, button=step.next_words
                    )
                )
                chosen = _next_page(page, step, number, timeout)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0]
            raise RunFailed(_("could not read the form at {url}: {error}").format(url=url, error=first)) from None
    unused = [key for key in answers if key not in plan.answered]
    if unused:
        labels = [
            m.label.strip(" *:") or m.key
            for p in pages
            for c, m in zip(p.controls, p.mappings, strict=True)
            if c.visible and c.type != "hidden"
        ]
        raise InputError(
            _("--field {names}: no such field on the form (its fields: {fields}); nothing was filed").format(
                names=", ".join(repr(k) for k in unused), fields="; ".join(labels)
            )
        )
    others = sorted({row["host"] for row in guard.blocked if row.get("kind") != "connection" and row.get("host")})
    plan.media_types = taken_kinds(case.attachments, [r for p in pages for r in p.records if r.get("type") == "file"])
    if not plan.categories:
        plan.categories[case.category] = {"label": case.category, "form_value": case.category}
    return Reading(
        url=final,
        title=title,
        page_html=page_html,
        pages=pages,
        plan=plan,
        other_hosts=others,
        allowed=entries,
    )


MAX_REVEALS = 3


def _check_sends_to(record: dict[str, Any], page_url: str, policy: Any) -> None:
    """A form whose action is another host's (a forms service) sends the person's words there:
    said before anything is typed, and allowed only by name (--allow-host)."""
    from urllib.parse import urljoin

    from assistant.language.urls import parse_url

    action = urljoin(page_url, record.get("action") or page_url)
    try:
        scheme, host, port = parse_url(action)
    except ValueError:
        return  # javascript:, about: — sent by a script, watched by the guard as any request
    if not policy.allows(scheme, host, port):
        raise InputError(
            _(
                "the form sends what is typed in it to {host}, not to the page's own host; if that is the "
                "provider's (a forms service it uses), pass --allow-host {host}"
            ).format(host=host if port in (80, 443) else f"{host}:{port}")
        )


def _revealed(
    page: Any,
    step: Page,
    rows: list[Row],
    case: Any,
    answers: dict[str, str],
    *,
    ask: Callable[[fieldmap.Field, fieldmap.Mapping], str | None] | None,
    headed: bool,
    plan: Plan,
) -> None:
    """Fill the page as decided and look again: a choice often shows fields it hid (a topic's
    own questions, "Other: say what"). Those are decided too and join the page's rows, up to
    MAX_REVEALS rounds. Nothing leaves the page here: no button is clicked."""
    done = 0
    for _round in range(MAX_REVEALS):
        # Files only where a "Next" needs them: a drop zone may upload a file the moment it is
        # chosen, before the person has said to send anything.
        _fill(page, rows[done:], case, plan, uploads=step.next is not None)
        done = len(rows)
        page.wait_for_timeout(400)  # a script that answers a change, or a fetch of the topic's fields
        shown = {c.key for c in step.controls if c.visible and c.type != "hidden"}
        record = _same_form(page.evaluate(fieldmap.FORMS_JS), step)
        if record is None:
            return
        controls, mappings = fieldmap.controls(record["fields"]), fieldmap.classify(record["fields"])
        new = [
            (c, m)
            for c, m in zip(controls, mappings, strict=True)
            if c.visible and c.type != "hidden" and c.key not in shown
        ]
        if not new:
            return
        more = Page(step.form, [], [c for c, _m in new], [m for _c, m in new])
        step.records += [r for r in record["fields"] if any(r.get("name") == c.name for c, _m in new)]
        step.controls += more.controls
        step.mappings += more.mappings
        rows += decide(more, case, answers, ask=ask, headed=headed, plan=plan)


def _same_form(forms: list[dict[str, Any]], step: Page) -> dict[str, Any] | None:
    """The record of the form a page was read from: the one sharing most of its fields."""
    keys = {c.key for c in step.controls}
    best = max(forms, key=lambda f: len(keys & {c.key for c in fieldmap.controls(f["fields"])}), default=None)
    if best is None or not keys & {c.key for c in fieldmap.controls(best["fields"])}:
        return None
    return best


def taken_kinds(files: list[Path], inputs: list[dict[str, Any]]) -> list[str]:
    """The kinds of the case's files that the form's file fields take as they are: by `accept=`
    (a type, a family like image/*, or the file's ending), or any kind where a field says none.
    The run then sends them unchanged instead of converting them to the usual PNG, JPEG or PDF."""
    from evidence.fit import media_type

    out: list[str] = []
    for path in files:
        kind = media_type(path)
        ending = path.suffix.lower()
        for item in inputs:
            accept = [a.strip().lower() for a in (item.get("accept") or "").split(",") if a.strip()]
            if not accept or any(a in (kind, ending) or (a.endswith("/*") and kind.startswith(a[:-1])) for a in accept):
                if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", kind) and kind not in out:
                    out.append(kind)
                break
    return out


def _forms(page: Any, timeout: float) -> list[dict[str, Any]]:
    """The page's forms, once one a person could fill is there: a script may draw it after load."""
    deadline = time.monotonic() + min(timeout, 10)
    while True:
        forms: list[dict[str, Any]] = page.evaluate(fieldmap.FORMS_JS)
        if fieldmap.choose_form(forms) is not None or time.monotonic() > deadline:
            return forms
        page.wait_for_timeout(250)


def _page(page: Any, chosen: dict[str, Any]) -> Page:
    locator = page.locator(chosen["selector"]).first
    # One that finds this form and no other, in the page and in the replica alike.
    css = authoring.unique_form_selector(page, locator, chosen["selector"] if chosen.get("loose") else None)
    button = locator.evaluate(drafting.SUBMIT_JS)
    words = f"{button['text']} {button['value']}" if button else ""
    submit = authoring.submit_selector(page, css, button)
    form = authoring.FormStep(
        css=css,
        fields=chosen["fields"],
        html=locator.evaluate("(f) => f.outerHTML"),
        captcha=locator.evaluate(drafting.CAPTCHA_JS),
        submit=submit,
    )
    found = Page(form, chosen["fields"], fieldmap.controls(chosen["fields"]), fieldmap.classify(chosen["fields"]))
    if button and NEXT.search(words) and not SEND.search(words):
        found.next = submit or css + " [type=submit]"
        found.next_words = " ".join(words.split())[:40]
    return found


def _shown_names(page: Any) -> list[str]:
    forms = page.evaluate(fieldmap.FORMS_JS)
    chosen = fieldmap.choose_form(forms)
    if chosen is None:
        return []
    return [f"{f['name']}#{f['id']}" for f in chosen["fields"] if f.get("visible") and f.get("type") != "hidden"]


def _next_page(page: Any, step: Page, number: int, timeout: float) -> dict[str, Any]:
    """Click the page's "Next" and wait for the next page of the form; its refusal is an error."""
    from assistant.run.outcome import quote, read_refusal

    assert step.next is not None
    baseline = {r.message for r in read_refusal(page, None, browser=False)}
    refused = authoring.after_next(page, step.next, lambda: _shown_names(page), _shown_names(page), baseline, timeout)
    chosen = fieldmap.choose_form(page.evaluate(fieldmap.FORMS_JS)) if refused == [] else None
    if chosen is not None:
        return chosen
    if refused:
        raise InputError(
            _("page {number} of the form refused the case's values: {refusal}; nothing was filed").format(
                number=number, refusal=quote(refused)
            )
        )
    raise RunFailed(
        _("after page {number}'s «{button}» no next page of the form appeared within {timeout:g} s").format(
            number=number, button=step.next_words, timeout=timeout
        )
    )


def _fill(page: Any, rows: list[Row], case: Any, plan: Plan, *, uploads: bool = True) -> None:
    """Do a page's steps in the browser, with the values the flow will type."""
    from assistant.language import templating

    context = values_context(case, plan)
    files = {p.name: str(p) for p in case.attachments}
    for row in rows:
        if row.step is None:
            continue
        ((kind, args),) = row.step.items()
        if kind == "check":
            page.locator(templating.render(args, context)).first.check()
        elif kind == "upload" and uploads:
            names = templating.render(args["files"], context)
            page.locator(args["selector"]).first.set_input_files([files[n] for n in names if n in files])
        elif kind == "select":
            page.locator(args["selector"]).first.select_option(str(templating.render(args["value"], context)))
        elif kind == "fill":
            page.locator(args["selector"]).first.fill(str(templating.render(args["value"], context)))


def values_context(case: Any, plan: Plan) -> dict[str, Any]:
    """What the flow's templates read, for the pages filled while the form is read (the run's
    own context is the channel's: assistant.channels.web_form.template_context)."""
    from assistant.casework.compose import compose
    from assistant.casework.names import name_parts

    request = compose(case, list(case.attachments))
    category = plan.categories.get(case.category, {"label": case.category, "form_value": case.category})
    return {
        "case": {**case.model_dump(mode="python"), "attachments": [p.name for p in case.attachments]},
        "category": {"key": case.category, **category},
        "request": {"subject": request.subject, "body": request.body},
        "name": name_parts(case.contacts.full_name) or {},
        "attachments": [p.name for p in case.attachments],
        "base_url": "",
        "vars": {},
    }


def _choose(
    forms: list[dict[str, Any]], selector: str | None, choose: Callable[[list[dict[str, Any]]], int] | None
) -> dict[str, Any]:
    if selector is not None:
        found = [f for f in forms if f["selector"] == selector]
        if not found:
            known = ", ".join(f["selector"] for f in forms) or _("none")
            raise InputError(
                _("--form: no form {selector!r} on the page (its forms: {known})").format(
                    selector=selector, known=known
                )
            )
        return found[0]
    best = fieldmap.choose_form(forms)
    if best is None and any(f.get("type") == "password" for form in forms for f in form["fields"]):
        raise InputError(
            _(
                "the page shows a login form, not a feedback form; --url does not log in: give the address of "
                "the feedback form itself, or write a flow with a login (docs/flows.md: `assistant flow "
                "snapshot`, then `assistant login`)"
            )
        )
    if best is None:
        raise InputError(
            _(
                "no feedback form on the page (no visible form with fields a person fills); "
                "open the page that has the form and pass its address to --url"
            )
        )
    rivals = [f for f in fieldmap.candidates(forms) if f is not best]
    if not rivals:
        return best
    options = [best, *rivals][:MAX_FORMS_SHOWN]
    if choose is not None:
        return options[choose(options)]
    listed = "; ".join(f"{f['selector']} ({describe_form(f)})" for f in options)
    raise InputError(
        _("the page has {count} forms that could be the feedback form: {forms}; pass --form with one of them").format(
            count=len(options), forms=listed
        )
    )


def describe_form(form: dict[str, Any]) -> str:
    """A form in a few words a person recognises: its first fields' labels."""
    words = [
        (f.get("label") or f.get("placeholder") or f.get("name") or "")[:30]
        for f in form["fields"]
        if f.get("visible") and f.get("type") != "hidden"
    ]
    return ", ".join(w for w in words[:4] if w) or form["selector"]


# ------------------------------------------------------------------ the mapping, as steps


def _selector(item: fieldmap.Field, form_css: str, value: str | None = None) -> str:
    if item.id and re.fullmatch(r"[A-Za-z][\w-]*", item.id) and not item.shared:
        return f"#{item.id}"
    inside = f"{form_css} >> " if ">>" in form_css else f"{form_css} "
    if item.name and "'" not in item.name:
        if value is not None and "'" not in value:
            return f"{inside}[name='{item.name}'][value='{value}']"
        return f"{inside}[name='{item.name}']"
    return f"{inside}{item.tag}"


def date_format(item: fieldmap.Field, target: str, language: str) -> str:
    """The strftime format a date or time field takes: its type's, else its placeholder's or
    pattern's (ДД.ММ.ГГГГ, DD/MM/YYYY), else one nobody can misread (01.12.2026 in Russian,
    1 December 2026 in English, where 01/12 could be either)."""
    if item.type == "date":
        return "%Y-%m-%d"
    if item.type == "datetime-local":
        return "%Y-%m-%dT%H:%M"
    if item.type == "time" or target == "incident.time":
        return "%H:%M"
    hint = f"{item.placeholder} {item.title} {item.label}".upper().replace("Д", "D").replace("М", "M").replace("Г", "Y")
    found = re.search(r"(DD|MM|YYYY|YY)([./-])(DD|MM|YYYY|YY)\2(DD|MM|YYYY|YY)", hint)
    day = "%d.%m.%Y" if language == "ru" else "%d %B %Y"
    if found:
        codes = {"DD": "%d", "MM": "%m", "YYYY": "%Y", "YY": "%y"}
        sep = found.group(2)
        day = sep.join(codes[found.group(i)] for i in (1, 3, 4))
    elif re.search(r"\d{4}-\d{2}-\d{2}", f"{item.placeholder} {item.pattern}") or "YYYY-MM-DD" in hint:
        day = "%Y-%m-%d"
    return f"{day} %H:%M" if target == "incident.datetime" else day


TEMPLATES = {
    "contacts.full_name": "{{ case.contacts.full_name }}",
    "contacts.first_name": "{{ name.first }}",
    "contacts.last_name": "{{ name.last }}",
    "contacts.middle_name": "{{ name.middle }}",
    "contacts.email": "{{ case.contacts.email }}",
    "contacts.phone": "{{ case.contacts.phone }}",
    "order_id": '{{ case.order_id | default("") }}',
    "account": '{{ case.account | default("") }}',
    "request.subject": "{{ request.subject }}",
    "request.body": "{{ request.body }}",
    "device.model": '{{ case.device.model | default("") }}',
    "device.os": '{{ case.device.os | default("") }}',
    "device.os_version": '{{ case.device.os_version | default("") }}',
    "device.app_version": '{{ case.device.app_version | default("") }}',
}
# Where each comes from, as the person reads it in the table.
SOURCES = {
    "contacts.full_name": "contacts.full_name",
    "contacts.first_name": "contacts.full_name",
    "contacts.last_name": "contacts.full_name",
    "contacts.middle_name": "contacts.full_name",
    "request.subject": "subject",
    "request.body": "description",
}
CATEGORY_WORDS = {
    "payment": r"оплат|плат[её]ж|списан|деньг|charge|payment|billing|refund|возврат",
    "delivery": r"доставк|курьер|delivery|shipping|order status|статус заказа",
    "technical": r"техническ|ошибк|не работает|technical|bug|error|app|приложени",
    "account": r"аккаунт|учетн|учётн|личн\w* кабинет|account|login|вход",
    "refund": r"возврат|refund|return",
    "complaint": r"жалоб|претензи|complaint|claim",
    "quality": r"качеств|quality|товар",
    "other": r"друг|проч|other|general|общ",
}


def _case_value(case: Any, target: str) -> Any:
    if target in ("contacts.first_name", "contacts.last_name", "contacts.middle_name"):
        from assistant.casework.names import name_parts

        parts = name_parts(case.contacts.full_name)
        return None if parts is None else parts[target.split(".")[1].split("_")[0]]
    value: Any = case
    for part in target.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value


def _topic(item: fieldmap.Field, case: Any) -> dict[str, str] | None:
    """The option a case's category (or, failing that, its subject) picks: one, or None."""
    options = [o for o in item.options if o.get("value")]
    key = str(case.category).lower()
    for words in (CATEGORY_WORDS.get(key, re.escape(key)), re.escape(key)):
        hits = [o for o in options if re.search(words, f"{o['text']} {o['value']}", re.IGNORECASE)]
        if len(hits) == 1:
            return hits[0]
    # The subject's own words: an option whose word stems (five letters or more) the subject
    # holds, and no other option's ("Не пришёл заказ: доставка" picks "Доставка").
    subject = str(case.subject or "").lower()
    hits = [o for o in options if any(stem in subject for stem in _stems(o["text"]))]
    return hits[0] if len(hits) == 1 else None


def _stems(text: str) -> list[str]:
    return [word[:5] for word in re.findall(r"\w+", text.lower()) if len(word) >= 5 and not word.isdigit()]


def _option_for(item: fieldmap.Field, answer: str) -> dict[str, str] | None:
    answer = answer.strip()
    options = [o for o in item.options if o.get("value")]
    for o in options:
        if answer in (o["value"], o["text"]):
            return o
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    lowered = [o for o in options if answer.lower() in (o["text"].lower(), o["value"].lower())]
    return lowered[0] if len(lowered) == 1 else None


def _date_option(item: fieldmap.Field, target: str, case: Any) -> dict[str, str] | None:
    when = case.incident_at
    number = {"incident.day": when.day, "incident.month": when.month, "incident.year": when.year}[target]
    for o in item.options:
        for text in (o["value"], o["text"]):
            if text.strip().isdigit() and int(text) == number:
                return o
    if target == "incident.month":
        index = [o for o in item.options if o.get("value")]
        if len(index) == 12:
            return index[number - 1]
    return None


def decide(
    page: Page,
    case: Any,
    answers: dict[str, str],
    *,
    ask: Callable[[fieldmap.Field, fieldmap.Mapping], str | None] | None,
    headed: bool,
    plan: Plan,
) -> list[Row]:
    """Each field's step on one page of the form: from the case when the mapping is sure and
    the case holds it, from `answers` (`--field`, by name, #id or label), else asked (`ask`, on
    a terminal), else left empty when optional. Raises InputError naming what a script must
    give. The page's rows are added to the plan, and returned."""
    form_css = page.form.css
    language = getattr(case, "language", "en") or "en"
    rows: list[Row] = []
    missing: list[str] = []
    categories = plan.categories
    file_fields = [c for c in page.controls if c.type == "file"]
    for item, mapping in zip(page.controls, page.mappings, strict=True):
        label = mapping.label.strip(" *:") or mapping.key
        target = mapping.target
        given = _answer_for(item, label, answers, plan.answered)
        if given is None and target == "skip":
            continue
        if given is None and target == "captcha":
            if not headed:
                raise InputError(
                    _("{label}: the form has a CAPTCHA; a person solves it: run again with --headed").format(
                        label=label
                    )
                )
            plan.captcha = True
            rows.append(Row(label, mapping.key, target, _("you, in the browser (a CAPTCHA)"), None))
            continue
        if item.type == "password":
            if item.required:
                raise InputError(
                    _(
                        "{label}: the form asks for a password; the tool never types one: a form behind a login "
                        "needs a flow with a login (docs/flows.md)"
                    ).format(label=label)
                )
            continue
        if given is None and target in fieldmap.FILLED and (mapping.sure or target in ("consent", "attachments")):
            files = None
            if target == "attachments" and (len(file_fields) > 1 or plan.files_used):
                files = plan.files_used
                plan.files_used += 1
            step, source = _from_case(item, mapping, case, form_css, language, categories, files)
            if step is not None:
                rows.append(Row(label, mapping.key, target, source, step, item.maxlength))
                continue
            if not item.required:
                continue  # the case holds nothing for it: left empty
        elif given is None and not item.required and ask is None:
            continue  # optional, and nobody is sure what it wants: left empty
        if given is None:
            if ask is None:
                missing.append(f"«{label}» ({mapping.key})")
                continue
            given = ask(item, mapping)
            if not given:
                continue
        step = _answered(item, given, form_css, label)
        if step is not None:
            rows.append(Row(label, mapping.key, target, _("you (--field or your answer)"), step, item.maxlength))
    if missing:
        raise InputError(
            _(
                "the form asks for what the case does not hold: {fields}; give each with --field "
                "'NAME=VALUE' (NAME: the field's label or name), or run on a terminal to be asked"
            ).format(fields="; ".join(missing))
        )
    plan.rows += rows
    return rows


def _answer_for(item: fieldmap.Field, label: str, answers: dict[str, str], used: set[str]) -> str | None:
    """The person's --field for this field: by its key, name, #id or label (any case)."""
    for key in (item.key, item.name, f"#{item.id}" if item.id else "", label):
        if key and key in answers:
            used.add(key)
            return answers[key]
    for key, value in answers.items():
        if key.lower() == label.lower():
            used.add(key)
            return value
    return None


def _from_case(
    item: fieldmap.Field,
    mapping: fieldmap.Mapping,
    case: Any,
    form_css: str,
    language: str,
    categories: dict[str, dict[str, str]],
    plan_files: int | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """(step, where the value comes from); (None, why) when the case holds nothing for it.
    `plan_files`: for one file field of several, how many attachments the ones before took."""
    target = mapping.target
    if target == "consent":
        return {"check": _selector(item, form_css)}, _("ticked: the form needs the agreement")
    if target == "attachments":
        if not case.attachments:
            return None, ""
        if plan_files is None:  # the page's only file field takes them all (fitted to it by the run)
            return {"upload": {"selector": _selector(item, form_css), "files": "{{ attachments }}"}}, "attachments"
        if plan_files >= len(case.attachments):
            return None, ""
        # One file field of several: each takes the next attachment.
        template = f"{{{{ attachments[{plan_files}] }}}}"
        return {"upload": {"selector": _selector(item, form_css), "files": template}}, "attachments"
    if target == "category":
        chosen = _topic(item, case)
        if chosen is None:
            return None, _("no option matches the case's category {category!r}").format(category=case.category)
        key = str(case.category)
        categories[key] = {"label": chosen["text"] or chosen["value"], "form_value": chosen["value"]}
        for n, option in enumerate(o for o in item.options if o.get("value") and o is not chosen):
            slug = drafting.slug(option["text"]) or f"topic-{n + 1}"
            if slug[0].isdigit():
                slug = f"topic-{slug}"
            if slug not in categories:
                categories[slug] = {"label": option["text"] or option["value"], "form_value": option["value"]}
        if item.type == "radio":
            inside = f"{form_css} >> " if ">>" in form_css else f"{form_css} "
            return {"check": f"{inside}[name='{item.name}'][value='{{{{ category.form_value }}}}']"}, "category"
        return {"select": {"selector": _selector(item, form_css), "value": "{{ category.form_value }}"}}, "category"
    if target.startswith("incident."):
        if target in ("incident.day", "incident.month", "incident.year"):
            if item.tag == "select":
                picked = _date_option(item, target, case)
                if picked is None:
                    return None, _("no option for the incident's date")
                return {"select": {"selector": _selector(item, form_css), "value": picked["value"]}}, "incident_at"
            code = {"incident.day": "%d", "incident.month": "%m", "incident.year": "%Y"}[target]
            template = f'{{{{ case.incident_at | date("{code}") }}}}'
        else:
            template = f'{{{{ case.incident_at | date("{date_format(item, target, language)}") }}}}'
        return {"fill": {"selector": _selector(item, form_css), "value": template}}, "incident_at"
    if target == "contacts.phone" and item.tag == "select":
        phone = str(case.contacts.phone).replace(" ", "")
        codes = sorted(
            (o for o in item.options if re.match(r"\+\d+", o["text"].strip())),
            key=lambda o: -len(re.match(r"\+\d+", o["text"].strip()).group(0)),  # type: ignore[union-attr]
        )
        for choice in codes:
            if phone.startswith(re.match(r"\+\d+", choice["text"].strip()).group(0)):  # type: ignore[union-attr]
                return {"select": {"selector": _selector(item, form_css), "value": choice["value"]}}, "contacts.phone"
        return None, _("no calling code matches the phone")
    if target == "device.os" and item.tag == "select" or (target == "device.os" and item.type == "radio"):
        return None, _("a list the case's device does not pick from")
    known = TEMPLATES.get(target)
    if known is None:
        return None, ""
    if item.type == "number" and target in ("order_id", "account"):
        if not re.fullmatch(r"[\d\s-]*", str(_case_value(case, target) or "")):
            return None, _("the field takes digits only, and the case's {field} has more").format(field=target)
    if (
        target == "contacts.phone"
        and "_" in item.placeholder
        and re.match(r"\s*(?:\+7|8)\s*\(?[_\d]", item.placeholder)
    ):
        # A mask that writes the country code itself ("+7 (___) ___-__-__"): the ten digits after it.
        return {"fill": {"selector": _selector(item, form_css), "value": "{{ case.contacts.phone | national }}"}}, (
            "contacts.phone"
        )
    if not target.startswith("request.") and _case_value(case, target) in (None, ""):  # a request is composed
        return None, _("the case has no {field}").format(field=SOURCES.get(target, target))
    if item.type == "number" or (target == "contacts.phone" and (item.maxlength or 99) <= 11):
        known = known.replace(' | default("")', "").replace(" }}", " | digits }}")
    return {"fill": {"selector": _selector(item, form_css), "value": known}}, SOURCES.get(target, target)


def _answered(item: fieldmap.Field, given: str, form_css: str, label: str) -> dict[str, Any] | None:
    if item.tag == "select" or item.type == "radio":
        option = _option_for(item, given)
        if option is None:
            choices = ", ".join(o["text"] or o["value"] for o in item.options if o.get("value"))
            raise InputError(
                _("--field {label}: {value!r} is not one of its options ({choices})").format(
                    label=label, value=given, choices=choices
                )
            )
        if item.type == "radio":
            return {"check": _selector(item, form_css, option["value"])}
        return {"select": {"selector": _selector(item, form_css), "value": option["value"]}}
    if item.type == "checkbox":
        yes = given.strip().lower() in ("1", "y", "yes", "true", "on", "да", "д")
        return {"check": _selector(item, form_css)} if yes else None
    if item.type == "file":
        raise InputError(_("--field {label}: files come from the case's attachments").format(label=label))
    return {"fill": {"selector": _selector(item, form_css), "value": _literal(given)}}


def _literal(text: str) -> str:
    """A person's answer typed as written: a `{{` in it is text, not a template."""
    return text.replace("{{", "{{ '{{' }}") if "{{" in text else text


# ------------------------------------------------------------------ the flow file


def flow_text(name: str, reading: Reading, *, today: date, live: bool) -> str:
    """The flow this filing runs, as a file a maintainer can read, test and share."""
    plan = reading.plan
    lines: list[drafting.Line] = []
    path = urlsplit(reading.url)
    target = path.path or "/"
    if path.query:
        target += f"?{path.query}"
    lines.append(drafting.Line({"goto": "{{ base_url }}" + target}))
    for number, (page, rows) in enumerate(zip(reading.pages, plan.pages, strict=True), 1):
        if number == 1:
            lines.append(drafting.Line({"wait_for": {"selector": page.form.css}}))
        else:
            # The next page's own first field, not the form (it may be the same <form> as before).
            own = next((r.step for r in rows if r.step and next(iter(r.step)) in ("fill", "select", "upload")), None)
            first = next(iter(own.values()))["selector"] if own else page.form.css
            lines.append(drafting.Line({"wait_for": {"selector": first}}, f"page {number} of the form"))
        for row in rows:
            if row.step is not None:
                lines.append(drafting.Line(row.step, drafting.display(f"{row.label[:50]} ← {row.source}")))
        if page.next is not None:
            lines.append(
                drafting.Line(
                    {"click": page.next}, drafting.display(f"«{page.next_words}»: page {number + 1} of the form")
                )
            )
    human: list[dict[str, Any]] = []
    if plan.captcha:
        lines.append(
            drafting.Line(
                {"pause_for_human": "Solve the CAPTCHA in the browser window, then press Enter here"},
                "a CAPTCHA: a person solves it (assistant submit --headed)",
            )
        )
        human.append({"wait_for": {"selector": reading.form.css}})
    lines.append(drafting.Line({"screenshot": "filled-form"}))
    last = reading.pages[-1].form
    submit = last.submit or last.css + " [type=submit]"
    lines.append(drafting.Line({"submit": submit}))
    drafted = drafting.Draft(steps=lines, human_steps=human)
    rules = drafting.attachment_rules(reading.records)
    rules.media_types += [kind for kind in plan.media_types if kind not in rules.media_types]
    parts = urlsplit(reading.url)
    rejected, _error_class = drafting.refusal_marker(reading.page_html, reading.records)
    text = authoring.drafted_flow(
        name,
        drafted,
        plan.categories,
        rules,
        url=reading.url,
        title=reading.title or reading.host,
        homepage=f"{parts.scheme}://{parts.netloc}/",
        host=reading.host,
        rejected=rejected,
        replica=f"replicas/{name}",
        case=f"samples/{name}-case.yaml",
        learned={
            "verified_live": today if live else None,
            "deadline_days": DEFAULT_BUSINESS_DAYS,
            "hosts": reading.allowed or [reading.host],
            "provider": re.sub(r"^www\d?\.", "", reading.host) or name,  # with its port: a site of its own
        },
    )
    return text


def save(
    name: str,
    reading: Reading,
    case: Any,
    folder: Path,
    *,
    today: date,
    live: bool,
) -> list[Path]:
    """The flow, a replica made from the page and a sample case, in `folder` (the person's flows
    folder), so that `assistant submit NAME` files the next request and `flow test NAME` passes."""
    places = authoring.Places(folder, folder / "replicas")
    written, _rejected = authoring.write_replica(
        places.site(name), [p.form for p in reading.pages], reading.url, reading.page_html, force=True
    )
    rules = drafting.attachment_rules(reading.records)
    sample = authoring.write_sample_case(
        places, name, str(case.category), rules.media_types, attach=rules.max_files > 0
    )
    flow_path = places.flow(name)
    flow_path.parent.mkdir(parents=True, exist_ok=True)
    flow_path.write_text(flow_text(name, reading, today=today, live=live), encoding="utf-8")
    return [flow_path, sample, *written]
