"""The request text a provider reads, built from the case.

Follows the structure the source documents ask for (../shared/DOMAIN.md): the
situation with date and time, steps already taken, the desired outcome,
identifiers, the device, earlier request numbers, contacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .case import Case

LABELS = {
    "en": {
        "greeting": "Hello,",
        "when": "When it happened",
        "order": "Order / contract number",
        "account": "Account",
        "tried": "What I have already tried",
        "want": "What I am asking for",
        "device": "Device",
        "previous": "Earlier requests on this matter",
        "contacts": "Contacts",
        "attached": "Attached",
        "thanks": "Thank you.",
    },
    "ru": {
        "greeting": "Здравствуйте!",
        "when": "Когда произошло",
        "order": "Номер заказа / договора",
        "account": "Аккаунт",
        "tried": "Что я уже сделал(а)",
        "want": "Прошу",
        "device": "Устройство",
        "previous": "Предыдущие обращения по этому вопросу",
        "contacts": "Контакты",
        "attached": "Вложения",
        "thanks": "Спасибо.",
    },
}


@dataclass
class Request:
    subject: str
    body: str


def suggest_subject(description: str, words: int = 7) -> str:
    first = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0]
    tokens = first.rstrip(".!?").split()
    return " ".join(tokens[:words])


def compose(case: Case, attachment_names: list[str] | None = None) -> Request:
    t = LABELS[case.language]
    subject = case.subject or suggest_subject(case.description)
    when = case.incident_at.strftime("%Y-%m-%d %H:%M (UTC%z)")
    lines = [t["greeting"], "", case.description.strip(), "", f"{t['when']}: {when}"]
    if case.order_id:
        lines.append(f"{t['order']}: {case.order_id}")
    if case.account:
        lines.append(f"{t['account']}: {case.account}")
    if case.device:
        parts = [
            case.device.model,
            " ".join(p for p in (case.device.os, case.device.os_version) if p),
            f"app {case.device.app_version}" if case.device.app_version else None,
        ]
        lines.append(f"{t['device']}: " + ", ".join(p for p in parts if p))
    if case.steps_taken:
        lines += ["", f"{t['tried']}:"] + [f"- {s}" for s in case.steps_taken]
    if case.desired_outcome:
        lines += ["", f"{t['want']}: {case.desired_outcome}"]
    if case.previous_requests:
        lines += ["", f"{t['previous']}:"]
        for prev in case.previous_requests:
            extra = ", ".join(str(x) for x in (prev.date, prev.channel) if x)
            lines.append(f"- {prev.number}" + (f" ({extra})" if extra else ""))
    if attachment_names:
        lines += ["", f"{t['attached']}: " + ", ".join(attachment_names)]
    c = case.contacts
    lines += ["", f"{t['contacts']}: {c.full_name}, {c.phone}, {c.email}", "", t["thanks"]]
    return Request(subject=subject, body="\n".join(lines))
