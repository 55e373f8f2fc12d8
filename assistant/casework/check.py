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
from dataclasses import dataclass
from dataclasses import field as default
from typing import TYPE_CHECKING, Any

from assistant.casework import profanity
from assistant.casework.compose import subject_words, suggest_subject
from assistant.language.case import Case, text_language
from assistant.translation import N_, _
from assistant.translation import day as day_shown
from assistant.translation import moment as moment_shown

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
# The case's language is not the one its text is written in (the key): one message for each.
OTHER_LANGUAGE = {
    "ru": N_(
        "is {language}, but the case is written in Russian: the request would be English around your Russian sentences"
    ),
    "en": N_(
        "is {language}, but the case is written in English: the request would be Russian around your English sentences"
    ),
}
LEVELS = {"error": N_("error"), "warning": N_("warning")}


@dataclass
class Words:
    """A message marked with N_() and the values it is filled with: English for --json and the
    journal, the interface's language where it is shown."""

    template: str
    values: dict[str, Any] = default(default_factory=dict)

    def english(self) -> str:
        return self.template.format(
            **{k: v.english() if isinstance(v, Words | When) else v for k, v in self.values.items()}
        )

    def shown(self) -> str:
        return _(self.template).format(
            **{k: v.shown() if isinstance(v, Words | When) else v for k, v in self.values.items()}
        )


@dataclass
class When:
    """A moment in a message: ISO 8601 for --json and the journal, the interface's way where it is shown."""

    at: dt.datetime
    day_only: bool = False

    def english(self) -> str:
        return self.at.date().isoformat() if self.day_only else self.at.isoformat()

    def shown(self) -> str:
        return day_shown(self.at.date()) if self.day_only else moment_shown(self.at, self.at.tzinfo)


def words(template: str, **values: Any) -> Words:
    return Words(template, values)


@dataclass
class Finding:
    level: str  # error | warning
    field: str
    message: str
    fix: str
    # The same message and fix as they are shown (str()); message and fix stay English.
    said: tuple[Words, Words] | None = default(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        if self.said is None:
            message, fix = self.message, self.fix
        else:
            message, fix = (w.shown() for w in self.said)
        return _("{level}: {field}: {message}; {fix}").format(
            level=_(LEVELS.get(self.level, self.level)), field=self.field, message=message, fix=fix
        )

    def public(self) -> dict:
        return {"level": self.level, "field": self.field, "message": self.message, "fix": self.fix}


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

    def err(field_name: str, message: Words, fix: Words) -> None:
        findings.append(Finding("error", field_name, message.english(), fix.english(), (message, fix)))

    def warn(field_name: str, message: Words, fix: Words) -> None:
        findings.append(Finding("warning", field_name, message.english(), fix.english(), (message, fix)))

    # -- who is asking: anonymous requests are ignored
    name = case.contacts.full_name.strip()
    if name.lower() in ANONYMOUS or len([w for w in name.split() if len(w.strip(".")) >= 2]) < 2:
        err(
            "contacts.full_name",
            words(N_("'{name}' does not name a person; anonymous requests are ignored"), name=name),
            words(N_("write your first and last name as on the account")),
        )
    if not (case.contacts.phone.strip() or case.contacts.email.strip()):
        err(
            "contacts",
            words(N_("no way to answer you")),
            words(N_("give the phone tied to the account and an email")),
        )

    # -- identifiers
    if flow is not None and _needs_order_id(case, flow) and not (case.order_id or "").strip():
        err(
            "order_id",
            words(N_("{provider} needs the order or contract number for this kind of request"), provider=flow.name),
            words(N_("add order_id: the number from the order confirmation or the contract")),
        )

    # -- when
    moment = now or dt.datetime.now(dt.UTC)
    if case.incident_at > moment + dt.timedelta(minutes=5):
        err(
            "incident_at",
            words(N_("{moment} is in the future"), moment=When(case.incident_at)),
            words(N_("give the date and time the problem happened, with your time zone")),
        )

    # -- tone
    fields = {
        "subject": case.subject or "",
        "description": case.description,
        "desired_outcome": case.desired_outcome or "",
    }
    fields.update({f"steps_taken[{i}]": s for i, s in enumerate(case.steps_taken)})
    for field_name, text in fields.items():
        rude = profanity.find(text)
        if rude:
            quoted = ", ".join(f"'{w}'" for w in dict.fromkeys(rude))
            err(
                field_name,
                words(N_("profanity or insults ({words}); rude requests are ignored"), words=quoted),
                words(N_("state the facts and what you want in neutral words")),
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
            number: str | Words = previous.reference or (
                words(N_("submission {id} (accepted, no number)"), id=previous.id)
                if previous.status == "confirmed"
                else words(N_("submission {id} (outcome unknown)"), id=previous.id)
            )
            err(
                "description",
                words(
                    N_("repeats the open request {number} ({channel}, {date}) with no new facts; repeats are ignored"),
                    number=number,
                    channel=previous.channel,
                    date=When(dt.datetime.fromisoformat(previous.submitted_at.replace("Z", "+00:00")), day_only=True),
                ),
                words(
                    N_(
                        "wait for the answer, add what is new, or use `assistant followup {case_id}` "
                        "once the deadline has passed"
                    ),
                    case_id=previous.case_id,
                ),
            )
            break

    # -- files the provider cannot take: the same verdict submit gives, from their sizes alone
    if flow is not None and case.attachments:
        from assistant.casework.attachments import refusal

        refused = refusal(case, flow)
        if refused:
            err("attachments", Words(*refused), words(N_("attach only what the form takes")))

    # -- warnings
    subject = case.subject or suggest_subject(case.description)
    count = subject_words(subject)
    if not 5 <= count <= 7:
        said = (
            N_("subject has {count} words: '{subject}'")
            if case.subject
            else N_("subject (suggested from the description) has {count} words: '{subject}'")
        )
        warn(
            "subject",
            words(said, count=count, subject=subject),
            words(N_("state the problem in 5-7 words, e.g. 'Card charged but order not placed'")),
        )
    if not case.attachments:
        warn(
            "attachments",
            words(N_("no evidence attached")),
            words(N_("attach screenshots of the error, a photo of the receipt or the payment confirmation")),
        )
    if _is_technical(case, flow):
        device = case.device
        if device is None or not device.model or not device.os:
            warn(
                "device",
                words(N_("a technical problem without the device model and OS")),
                words(N_("add device.model and device.os (and os_version, app_version)")),
            )
    if not (case.desired_outcome or "").strip():
        warn(
            "desired_outcome",
            words(N_("does not say what you want")),
            words(N_("add desired_outcome: e.g. a refund of the amount, a fix, an explanation")),
        )
    zone = case.assumed_zone()
    if zone is not None:
        # The same file read on a computer set to another zone would be another moment.
        warn(
            "incident_at",
            words(
                N_("written without a time zone: taken in this computer's zone, {zone} ({moment})"),
                zone=zone,
                moment=When(case.incident_at),
            ),
            words(N_("add timezone: {zone} (or your own zone) to the case, or write the offset"), zone=zone),
        )
    written = text_language(case.own_text())
    if written is not None and written != case.language:
        warn(
            "language",
            words(OTHER_LANGUAGE[written], language=case.language),
            words(N_("write language: {written}, or leave language: out and it follows your text"), written=written),
        )
    return findings


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]
