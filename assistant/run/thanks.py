"""The generic readers of a provider's answer, for a flow that knows nothing of the page
after the click (`success: {thanks: true}`, `confirmation: {from: page}`): the one
`assistant submit --url` writes for a form nobody has written a flow for.

Acceptance is a thank-you sentence that was not on the page before the click ("Спасибо,
ваше обращение принято", "Thank you, your request has been received"), never one that
says the opposite ("Сообщение не отправлено", "could not be sent"). The number is a
token with digits written just after the words a provider puts before one (номер,
заявка, обращение, №, ticket, request, reference, #), else a value of the address that
says it is one (?ticket=…, /requests/…). Both are pure functions of text, tested on
their own table (tests/test_thanks.py); the runner reads the text.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

# The page's visible text, one line per block: what a person reads, not hidden templates.
TEXT_JS = "() => document.body ? document.body.innerText : ''"

THANKS = re.compile(
    r"спасибо|благодарим|благодарю|"
    r"\b(?:успешно\s+)?(?:принят|отправлен|получен|зарегистрирован|создан|направлен|доставлен)[аоы]?\b|"
    r"\bthank(?:s|\s+you)\b|\b(?:received|submitted|(?:has|have|was|were)\s+been\s+(?:sent|created|logged|registered)"
    r"|successfully\s+sent|(?:ticket|request|case)\b[^.]{0,40}\b(?:created|opened|logged)|we(?:'ll|\s+will)\s+(?:get\s+back|contact|reply|respond|be\s+in\s+touch))\b",
    re.IGNORECASE,
)
# A sentence that names success only to deny it, or an error beside it: never a thank-you.
DENIED = re.compile(
    r"\bне\s+(?:был[аои]?\s+)?(?:удалось|принят|отправлен|получен|доставлен)|ошибк|невозможно|повторите|"
    r"\b(?:error|failed|failure|could\s*not|couldn't|cannot|can't|unable|invalid|required|try\s+again)\b|"
    r"\bnot\s+(?:been\s+|yet\s+)?(?:sent|submitted|received|delivered)\b|обязательн",
    re.IGNORECASE,
)
MAX_LINE = 400


def thanks_lines(text: str) -> frozenset[str]:
    """The lines of a page's text that thank or say the request arrived."""
    out = set()
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line and len(line) <= MAX_LINE and THANKS.search(line) and not DENIED.search(line):
            out.add(line)
    return frozenset(out)


def new_thanks(before: frozenset[str], text: str) -> list[str]:
    """The thank-you lines on the page now that were not there before the click."""
    return sorted(thanks_lines(text) - before)


# What a provider writes before a number, in Russian and English.
NUMBER_WORDS = re.compile(
    r"номер\w*|заявк\w*|обращени\w*|тикет\w*|запрос\w*|№|"
    r"\b(?:ticket|request|reference|case|ref|enquiry|inquiry|complaint|tracking|confirmation)\b(?:\s*(?:number|no|id|code))?|#",
    re.IGNORECASE,
)
# What comes between the words and the number: "is", ":", «вашей заявки присвоен номер».
GAP = re.compile(
    r"[\s:.,\"'«»()\[\]-]*(?:(?:is|was|has|been|присвоен\w*|№|no\.?|id|number|номер\w*|#)[\s:.,\"'«»()\[\]-]*){0,4}",
    re.I,
)
TOKEN = re.compile(r"[A-Za-zА-Яа-я]{0,8}[-_/]?\d[A-Za-zА-Яа-я0-9\-_/]{1,40}")
NOT_A_NUMBER = re.compile(
    r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|^\d{4}-\d{2}-\d{2}$|^\d{1,2}:\d{2}$|^[+]?\d{11,}$", re.IGNORECASE
)
# Words that put a different number after them: a phone, a date, an amount.
OTHER_NUMBER = re.compile(r"телефон|phone|tel\b|дат|date|сумм|amount|руб|₽|\$|€|время|time", re.IGNORECASE)
ADDRESS_KEYS = re.compile(
    r"^(?:ticket|request|req|case|ref|reference|number|num|no|id|ticket_?id|request_?id|номер)$", re.I
)
ADDRESS_PATH = re.compile(r"(?:ticket|request|case|enquir|inquir|complaint|appeal|zayav|obrash)\w*$", re.IGNORECASE)


def _token(found: str) -> str | None:
    token = found.strip("-_/").rstrip(".")
    digits = sum(c.isdigit() for c in token)
    if digits < 3 or NOT_A_NUMBER.match(token):
        return None
    return token


def find_number(text: str, url: str = "") -> str | None:
    """The request number a confirmation page shows: after its words in the text, else in its
    address; None when it shows none (accepted with no number)."""
    for line in text.splitlines():
        for words in NUMBER_WORDS.finditer(line):
            before = line[max(0, words.start() - 24) : words.start()]
            if OTHER_NUMBER.search(before + words.group(0)):
                continue
            gap = GAP.match(line, words.end())
            start = gap.end() if gap else words.end()
            found = TOKEN.match(line, start)
            if found and not OTHER_NUMBER.search(line[words.end() : start]):
                token = _token(found.group(0))
                if token:
                    return token
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if ADDRESS_KEYS.match(key):
            found = TOKEN.fullmatch(value.strip())
            token = _token(found.group(0)) if found else None
            if token:
                return token
    segments = [unquote(s) for s in parts.path.split("/") if s]
    for name, value in zip(segments, segments[1:], strict=False):
        if ADDRESS_PATH.search(name):
            found = TOKEN.fullmatch(value)
            token = _token(found.group(0)) if found else None
            if token:
                return token
    return None
