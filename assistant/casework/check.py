"""Lint a request before it is sent, against what gets requests ignored.

The rules come from the source documents (docs/support-requests.md): anonymous
requests, missing identifiers, no date of the problem, profanity or a rude
tone, and a repeat of an open request with no new facts are ignored (errors);
a long or vague subject, no evidence, no device on a technical problem and no
desired outcome slow the answer down (warnings), and so would a request in a
language other than the person's text; a time taken in this computer's zone is
a guess the person should see (a warning too). Every finding names the field
and says how to fix it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from assistant.casework import profanity
from assistant.casework.compose import subject_words, suggest_subject
from assistant.language.case import Case, text_language

if TYPE_CHECKING:
    from assistant.language.flow import Flow
    from assistant.store import Submission

ANONYMOUS = {
    "anonymous",
    "anon",
    "anonim",
    "аноним",
    "анонимно",
    "n/a",
    "na",
    "none",
    "-",
    "--",
    "нет",
    "x",
    "xxx",
    "user",
    "пользователь",
    "клиент",
    "customer",
    "test",
    "тест",
    "me",
    "я",
}
TECHNICAL = ("technical", "tech", "app", "техн")
LANGUAGES = {"ru": "Russian", "en": "English"}


@dataclass
class Finding:
    level: str  # error | warning
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.level}: {self.field}: {self.message}; {self.fix}"

    def public(self) -> dict:
        return asdict(self)


def _needs_order_id(case: Case, flow: Flow | None) -> bool:
    if flow is None:
        return False
    category = flow.categories.get(case.category)
    if category is not None and category.order_id_required is not None:
        return category.order_id_required
    return flow.order_id_required


def _is_technical(case: Case, flow: Flow | None) -> bool:
    label = ""
    if flow is not None and case.category in flow.categories:
        label = flow.categories[case.category].label.lower()
    return any(case.category.lower().startswith(t) or t in label for t in TECHNICAL)


def _facts(case_json: dict) -> dict:
    """What a repeat must change to count as new facts."""
    return {
        "description": " ".join(str(case_json.get("description", "")).split()),
        "steps_taken": case_json.get("steps_taken") or [],
        "desired_outcome": case_json.get("desired_outcome"),
        "attachments": sorted(str(a).rsplit("/", 1)[-1] for a in case_json.get("attachments") or []),
    }


def lint(
    case: Case,
    flow: Flow | None = None,
    open_requests: list[Submission] | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    err = lambda f, m, x: findings.append(Finding("error", f, m, x))  # noqa: E731
    warn = lambda f, m, x: findings.append(Finding("warning", f, m, x))  # noqa: E731

    # -- who is asking: anonymous requests are ignored
    name = case.contacts.full_name.strip()
    if name.lower() in ANONYMOUS or len([w for w in name.split() if len(w.strip(".")) >= 2]) < 2:
        err(
            "contacts.full_name",
            f"'{name}' does not name a person; anonymous requests are ignored",
            "write your first and last name as on the account",
        )
    if not (case.contacts.phone.strip() or case.contacts.email.strip()):
        err("contacts", "no way to answer you", "give the phone tied to the account and an email")

    # -- identifiers
    if flow is not None and _needs_order_id(case, flow) and not (case.order_id or "").strip():
        err(
            "order_id",
            f"{flow.name} needs the order or contract number for this kind of request",
            "add order_id: the number from the order confirmation or the contract",
        )

    # -- when
    moment = now or dt.datetime.now(dt.UTC)
    if case.incident_at > moment + dt.timedelta(minutes=5):
        err(
            "incident_at",
            f"{case.incident_at.isoformat()} is in the future",
            "give the date and time the problem happened, with your time zone",
        )

    # -- tone
    fields = {
        "subject": case.subject or "",
        "description": case.description,
        "desired_outcome": case.desired_outcome or "",
    }
    fields.update({f"steps_taken[{i}]": s for i, s in enumerate(case.steps_taken)})
    for field_name, text in fields.items():
        words = profanity.find(text)
        if words:
            quoted = ", ".join(f"'{w}'" for w in dict.fromkeys(words))
            err(
                field_name,
                f"profanity or insults ({quoted}); rude requests are ignored",
                "state the facts and what you want in neutral words",
            )

    # -- a repeat with nothing new
    for previous in open_requests or []:
        if not previous.live:  # a rejected form, a draft never sent: nothing the provider has to repeat
            continue
        try:
            before = json.loads(previous.case_json)
        except ValueError:
            continue
        if _facts(before) == _facts(case.model_dump(mode="json")):
            state = "accepted, no number" if previous.status == "confirmed" else "outcome unknown"
            number = previous.reference or f"submission {previous.id} ({state})"
            err(
                "description",
                f"repeats the open request {number} ({previous.channel}, "
                f"{previous.submitted_at[:10]}) with no new facts; repeats are ignored",
                f"wait for the answer, add what is new, or use `assistant followup {previous.case_id}` "
                "once the deadline has passed",
            )
            break

    # -- files the provider cannot take: the same verdict submit gives, from their sizes alone
    if flow is not None and case.attachments:
        from assistant.casework.attachments import refusal

        refused = refusal(case, flow)
        if refused:
            err("attachments", refused, "attach only what the form takes")

    # -- warnings
    subject = case.subject or suggest_subject(case.description)
    count = subject_words(subject)
    if not 5 <= count <= 7:
        source = "subject" if case.subject else "subject (suggested from the description)"
        warn(
            "subject",
            f"{source} has {count} words: '{subject}'",
            "state the problem in 5-7 words, e.g. 'Card charged but order not placed'",
        )
    if not case.attachments:
        warn(
            "attachments",
            "no evidence attached",
            "attach screenshots of the error, a photo of the receipt or the payment confirmation",
        )
    if _is_technical(case, flow):
        device = case.device
        if device is None or not device.model or not device.os:
            warn(
                "device",
                "a technical problem without the device model and OS",
                "add device.model and device.os (and os_version, app_version)",
            )
    if not (case.desired_outcome or "").strip():
        warn(
            "desired_outcome",
            "does not say what you want",
            "add desired_outcome: e.g. a refund of the amount, a fix, an explanation",
        )
    zone = case.assumed_zone()
    if zone is not None:
        # The same file read on a computer set to another zone would be another moment.
        warn(
            "incident_at",
            f"written without a time zone: taken in this computer's zone, {zone} ({case.incident_at.isoformat()})",
            f"add timezone: {zone} (or your own zone) to the case, or write the offset",
        )
    written = text_language(case.own_text())
    if written is not None and written != case.language:
        warn(
            "language",
            f"is {case.language}, but the case is written in {LANGUAGES[written]}: the request would be "
            f"{LANGUAGES[case.language]} around your {LANGUAGES[written]} sentences",
            f"write language: {written}, or leave language: out and it follows your text",
        )
    return findings


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]
