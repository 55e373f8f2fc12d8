"""Drafts for when support does not answer, or answers and the person disagrees: a complaint
to the regulator, a pre-trial claim, a review.

Nothing is sent: the person reads, signs and files these themselves. Each is
written as text and as a PDF, printed by the same Chromium the assistant drives
(Playwright's page.pdf), so there is no second rendering engine to install.

A draft says only what is so. Where the case stands (tracking.standing) decides
the sentence about the answer: none by the deadline, one the person disagrees
with, or, drafted early with --force, that the deadline has not passed. Before
the deadline an escalation is refused, as a follow-up is. Drafting changes no
status: the case becomes `escalated` when the person says they sent it
(`mark_sent`).

Who the draft goes to follows the provider's kind in law (the flow's `legal:`
block): a consumer service to Rospotrebnadzor under the consumer-protection
law, a payment operator or a bank to the Bank of Russia under the national
payment system law. The wording of each lives in the tables below, beside the
templates' own (flows/templates/regulator.*.txt, claim.*.txt).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from assistant.casework.compose import compose, format_date, format_datetime
from assistant.casework.drafts import CLOCK_SLACK
from assistant.casework.names import genitive_name
from assistant.casework.tracking import latest_live, parse, standing
from assistant.errors import AlreadySubmitted, InputError
from assistant.language.case import Case
from assistant.language.flow import Legal
from assistant.translation import _, moment

if TYPE_CHECKING:
    from assistant.language.flow import Flow
    from assistant.store import Store

TARGETS = ("regulator", "claim", "review")

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
  @page {{ size: A4; margin: 20mm 18mm; }}
  body {{ font-family: "DejaVu Serif", "Times New Roman", serif; font-size: 12pt; line-height: 1.4;
          font-variant-ligatures: none; }}  /* "ff" in a hash must copy as two letters */
  p {{ margin: 0 0 0.8em 0; white-space: pre-wrap; overflow-wrap: anywhere; }}
  p.head {{ text-align: right; }}
  p.title {{ text-align: center; }}
  p.title::first-line {{ font-weight: bold; letter-spacing: 0.05em; }}
</style></head>
<body>
{paragraphs}
</body></html>
"""


def to_html(text: str, lang: str, title: str) -> str:
    paragraphs = []
    for index, block in enumerate(text.strip().split("\n\n")):
        escaped = html.escape(block)
        css = ' class="head"' if index == 0 and block.count("\n") >= 1 and len(block) < 300 else ""
        first_line = block.split("\n")[0]
        if first_line.isupper() and len(first_line) < 60:  # "ЖАЛОБА", "PRE-TRIAL CLAIM": centred heading
            css = ' class="title"'
        paragraphs.append(f"<p{css}>{escaped}</p>")
    return PAGE.format(lang=lang, title=html.escape(title), paragraphs="\n".join(paragraphs))


# ------------------------------------------------------------ where it stands


@dataclass(frozen=True)
class Position:
    """What a draft may say about the provider's answer, read from the journal."""

    state: str  # tracking.standing's: overdue, answered, waiting, due soon, pending, drafted, …
    due_at: dt.datetime | None  # the latest live request's deadline, in the provider's zone
    number: str | None  # that request's number
    answered_at: dt.datetime | None = None  # when the latest answer came
    answer_number: str | None = None


def position(store: Store, case_row: dict[str, Any], now: dt.datetime) -> Position:
    subs = store.submissions_of(case_row["id"])
    replies = store.replies(case_row["id"])
    where = standing(case_row, subs, replies, now)
    latest = latest_live(subs)
    answered_at = answer_number = None
    if where["state"] == "answered" and latest is not None:
        reply = [r for r in replies if (r["recorded_at"] or "") >= latest.submitted_at][-1]
        answered_at = parse(reply["received_at"] or reply["recorded_at"])
        answer_number = reply["number"]
    return Position(
        state=where["state"],
        due_at=parse(where["due_at"]),
        number=latest.reference if latest is not None else None,
        answered_at=answered_at,
        answer_number=answer_number,
    )


def ready(store: Store, case_row: dict[str, Any], *, force: bool = False, now: dt.datetime | None = None) -> Position:
    """Where the case stands; refused (AlreadySubmitted) before the provider's deadline unless `force`."""
    if case_row["status"] == "closed":
        raise InputError(
            _("case {case} is closed; reopen it with `assistant cases status {case} open`").format(case=case_row["id"])
        )
    where = position(store, case_row, now or dt.datetime.now(dt.UTC))
    if where.state in ("overdue", "answered") or force:
        return where
    if where.state == "pending":
        raise AlreadySubmitted(
            _(
                "case {case}: whether the provider has the request is not known (pending); "
                "`assistant cases resolve {case}` first, or pass --force to draft it anyway."
            ).format(case=case_row["id"])
        )
    if where.due_at is not None:
        due = format_datetime(where.due_at, "en")
        if where.number:
            raise AlreadySubmitted(
                _(
                    "case {case}: the answer to {number} is due {due} ({state}); an escalation before the "
                    "deadline would say it is late. Pass --force to draft it anyway (it then says the deadline "
                    "has not passed)."
                ).format(case=case_row["id"], number=where.number, due=due, state=where.state)
            )
        raise AlreadySubmitted(
            _(
                "case {case}: the answer to the request is due {due} ({state}); an escalation before the "
                "deadline would say it is late. Pass --force to draft it anyway (it then says the deadline "
                "has not passed)."
            ).format(case=case_row["id"], due=due, state=where.state)
        )
    raise AlreadySubmitted(
        _(
            "case {case}: no deadline has passed ({state}): nothing filed here is waiting for an answer. "
            "Pass --force to draft it anyway (it then says no answer has come so far)."
        ).format(case=case_row["id"], state=where.state)
    )


def facts(where: Position, lang: str, tz: dt.tzinfo | None = None) -> str:
    """The one sentence about the answer that is true of `where`."""
    ru = lang == "ru"
    if where.state == "answered" and where.answered_at is not None:
        when = format_date(where.answered_at.astimezone(tz).date(), lang)
        number = f" (№ {where.answer_number})" if ru else f" (No. {where.answer_number})"
        number = number if where.answer_number else ""
        if ru:
            return f"{when} получен ответ{number}; с ответом я не согласен(на)."
        return f"An answer came on {when}{number}; I disagree with it."
    if where.due_at is not None and where.state == "overdue":
        due = format_date(where.due_at.date(), lang)
        if ru:
            return f"Ответа по существу в установленный срок (до {due}) не получено."
        return f"No answer on the substance came within the deadline ({due})."
    if where.due_at is not None and where.state in ("waiting", "due soon"):
        due = format_date(where.due_at.date(), lang)
        if ru:
            return f"Срок ответа ({due}) ещё не истёк; ответ пока не получен."
        return f"The deadline for an answer ({due}) has not passed yet; no answer has come so far."
    return "Ответ по существу пока не получен." if ru else "No answer on the substance has come so far."


# --------------------------------------------------------- who and what law

# The authority a complaint goes to, by the provider's kind (Legal.kind).
AUTHORITY = {
    ("ru", "consumer_service"): "В Управление Роспотребнадзора",
    ("en", "consumer_service"): "To: the consumer-protection regulator (Rospotrebnadzor)",
    ("ru", "bank"): "В Банк России\n(интернет-приёмная: cbr.ru/reception)",
    ("en", "bank"): "To: the Bank of Russia\n(internet reception: cbr.ru/reception)",
}
AUTHORITY_NAME = {"consumer_service": "Rospotrebnadzor", "bank": "the Bank of Russia"}

CONSUMER_LAW_RU = "Закона РФ от 07.02.1992 № 2300-1 «О защите прав потребителей»"
CONSUMER_LAW_EN = 'Law of the Russian Federation No. 2300-1 of 07.02.1992 "On Protection of Consumer Rights"'
PAYMENT_LAW_RU = "Федерального закона от 27.06.2011 № 161-ФЗ «О национальной платёжной системе»"
PAYMENT_LAW_EN = 'Federal Law No. 161-FZ of 27.06.2011 "On the National Payment System"'
# Article 9 of 161-FZ: the operator considers the client's statements, disputes over an electronic
# means of payment included. Said as the duty it is, not as a promise of a refund.
PAYMENT_DUTY_RU = (
    f"Согласно статье 9 {PAYMENT_LAW_RU} оператор по переводу денежных средств обязан рассматривать "
    "заявления клиента, в том числе при возникновении споров, связанных с использованием электронного "
    "средства платежа."
)
PAYMENT_DUTY_EN = (
    f"Under article 9 of {PAYMENT_LAW_EN}, a money transfer operator must consider its client's "
    "statements, including disputes over the use of an electronic means of payment."
)

# What the complaint says the law is; what the claim's ten days rest on; what follows a refusal.
LAW = {
    ("ru", "consumer_service"): "Считаю, что действиями (бездействием) {respondent} нарушены мои права "
    "потребителя, установленные Законом РФ от 07.02.1992 № 2300-1 «О защите прав потребителей».",
    ("en", "consumer_service"): "I consider that the actions (inaction) of {respondent} violate my rights "
    f"as a consumer under {CONSUMER_LAW_EN}.",
    ("ru", "bank"): PAYMENT_DUTY_RU,
    ("en", "bank"): PAYMENT_DUTY_EN,
}
# The ten days of a refund demand: article 22 (goods) and article 31 (works and services).
TERM_BASIS = {
    ("ru", "consumer_service"): "Требование о возврате уплаченной суммы подлежит удовлетворению в "
    f"десятидневный срок (статьи 22 и 31 {CONSUMER_LAW_RU}: для товаров и для работ и услуг).",
    ("en", "consumer_service"): "A demand to refund the price paid is to be met within ten days "
    f"(articles 22 and 31 of {CONSUMER_LAW_EN}: for goods, and for works and services).",
    ("ru", "bank"): PAYMENT_DUTY_RU,
    ("en", "bank"): PAYMENT_DUTY_EN,
}
COURT = {
    ("ru", "consumer_service"): "В случае отказа или неполучения ответа я обращусь в суд с требованием о "
    "защите прав потребителя, взыскании неустойки, компенсации морального вреда (статья 15 Закона РФ "
    "«О защите прав потребителей») и штрафа (пункт 6 статьи 13 того же Закона).",
    ("en", "consumer_service"): "If the claim is refused or left unanswered, I will go to court to protect my "
    "rights as a consumer, claiming a penalty, compensation for moral damage (article 15 of the Law "
    '"On Protection of Consumer Rights") and the fine of article 13, paragraph 6, of the same Law.',
    ("ru", "bank"): "В случае отказа или неполучения ответа я обращусь в Банк России и в суд за защитой своих прав.",
    ("en", "bank"): "If the claim is refused or left unanswered, I will turn to the Bank of Russia and to "
    "the court to protect my rights.",
}


def _oversight(kind: str) -> str:
    """A payment operator answers to the Bank of Russia as a bank does: one set of words for both."""
    return "bank" if kind in ("bank", "payment_operator") else "consumer_service"


def respondent(flow: Flow | None, brand: str, lang: str) -> tuple[str, str]:
    """(the name in running text, the name in full for the heading): the legal entity when the flow
    gives it, with the brand and the ИНН; else the brand."""
    legal = (flow.legal if flow is not None else None) or Legal()
    if not legal.entity:
        return brand, brand
    full = legal.entity if brand in ("", legal.entity) else f"{legal.entity} ({brand})"
    if legal.inn:
        full += (", ИНН " if lang == "ru" else ", INN ") + legal.inn
    return legal.entity, full


def drafting_context(case: Case, flow: Flow | None, lang: str, where: Position, target: str) -> dict[str, str]:
    """What the regulator and claim templates need beyond compose's context."""
    legal = (flow.legal if flow is not None else None) or Legal()
    kind = _oversight(legal.kind)
    brand = (flow.provider or flow.name) if flow is not None else case.provider
    short, full = respondent(flow, brand, lang)
    ru = lang == "ru"
    name = case.contacts.full_name
    return {
        "facts": facts(where, lang, case.incident_at.tzinfo),
        "authority": AUTHORITY[(lang, kind)],
        "law": LAW[(lang, kind)].replace("{respondent}", short),  # not str.format: an entity may hold braces
        "term_basis": TERM_BASIS[(lang, kind)],
        "court": COURT[(lang, kind)],
        "respondent": short,
        "respondent_full": full,
        "respondent_address": (("Адрес: " if ru else "Address: ") + legal.address) if legal.address else "",
        # Only the Russian headers put the name in the genitive ("от Смирнова Ивана Сергеевича").
        "from_name": genitive_name(name) if ru and target in ("regulator", "claim") else name,
    }


# ------------------------------------------------------------------ drafting


def draft(
    case: Case, target: str, flow: Flow | None = None, lang: str | None = None, where: Position | None = None
) -> tuple[str, str]:
    """The text of the draft and a title for it. `where` (see `ready`) says what the answer's
    state is; without it the draft says only that no answer has come so far."""
    lang = lang or case.language
    where = where or Position(state="no submission", due_at=None, number=None)
    extra = drafting_context(case, flow, lang, where, target) if lang in ("ru", "en") else None
    request = compose(case, flow=flow, lang=lang, kind=target, extra=extra)
    first = request.body.strip().split("\n")[0]
    return request.body, first


def write(
    case: Case,
    target: str,
    out: Path,
    *,
    flow: Flow | None = None,
    lang: str | None = None,
    where: Position | None = None,
    to_pdf: Callable[[str], bytes] | None = None,
) -> dict[str, str]:
    """The draft as text and HTML, and as a PDF when given a printer (assistant.run.browser.html_to_pdf)."""
    text, title = draft(case, target, flow, lang, where)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / target
    paths = {"text": str(stem.with_suffix(".txt")), "html": str(stem.with_suffix(".html"))}
    Path(paths["text"]).write_text(text + "\n", encoding="utf-8")
    page_html = to_html(text, lang or case.language, title)
    Path(paths["html"]).write_text(page_html, encoding="utf-8")
    if to_pdf is not None:
        Path(stem.with_suffix(".pdf")).write_bytes(to_pdf(page_html))
        paths["pdf"] = str(stem.with_suffix(".pdf"))
    return paths


# ------------------------------------------------------------------ sending

SENT = {
    "regulator": "complaint to {authority}",
    "claim": "pre-trial claim to {respondent}",
    "review": "public review",
}


def mark_sent(
    store: Store,
    case_row: dict[str, Any],
    target: str,
    sent_at: dt.datetime,
    flow: Flow | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The person sent the escalation: the case becomes `escalated`, its history saying what went
    where and when. Returns that line."""
    if sent_at > (now or dt.datetime.now(dt.UTC)) + CLOCK_SLACK:
        raise InputError(
            _("--at: {time} is in the future; give when you sent it").format(time=moment(sent_at, sent_at.tzinfo))
        )
    if case_row["status"] == "closed":
        raise InputError(
            _("case {case} is closed; reopen it with `assistant cases status {case} open`").format(case=case_row["id"])
        )
    legal = (flow.legal if flow is not None else None) or Legal()
    brand = (flow.provider or flow.name) if flow is not None else case_row["provider"]
    what = SENT[target].format(
        authority=AUTHORITY_NAME[_oversight(legal.kind)], respondent=respondent(flow, brand, "en")[0]
    )
    zone = ZoneInfo(flow.timezone) if flow is not None else sent_at.tzinfo  # the provider's clock, as due times
    note = f"{what} sent on {format_datetime(sent_at, 'en', zone)}"
    store.set_status(case_row["id"], "escalated", note)
    return note
