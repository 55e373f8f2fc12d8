"""The demo portal's support form: its fields, and the server-side validation of a submission."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MAX_FILES = 5
MAX_FILE_SIZE = 5 * 1024 * 1024

CATEGORIES: dict[str, str] = {
    "payment": "Payments and refunds",
    "technical": "Technical problem",
    "delivery": "Order and delivery",
    "complaint": "Complaint about service",
    "other": "Other",
}
RESPONSE_TIMES: dict[str, str] = {
    "payment": "up to 24 hours",
    "technical": "1–3 business days",
    "delivery": "1–2 business days",
    "complaint": "3–5 business days",
    "other": "1–3 business days",
}
TEXT_FIELDS = (
    "category",
    "subject",
    "description",
    "order_number",
    "incident_date",
    "incident_time",
    "full_name",
    "phone",
    "email",
    "consent",
)
MAGIC = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"%PDF-", "PDF"),
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9 +\-()]+$")
ORDER_RE = re.compile(r"^[\w/-]{3,40}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass
class ReceivedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Ticket:
    number: str
    fields: dict[str, str]
    files: list[ReceivedFile]
    created_at: datetime


def normalise(value: str) -> str:
    """Line breaks as ``\\n``: browsers send a textarea's line breaks as CRLF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def fmt_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def _sniff(data: bytes) -> str | None:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _basename(filename: str) -> str:
    return re.split(r"[\\/]", filename)[-1]


def validate(
    values: dict[str, str], uploads: list[ReceivedFile], today: date | None = None
) -> tuple[dict[str, str], list[ReceivedFile]]:
    """Return (errors by field name, accepted files).

    `uploads` are the form's file parts as sent; a part with neither a name
    nor content is a file input left empty.
    """
    errors: dict[str, str] = {}
    today = today or datetime.now(UTC).date()

    def get(name: str) -> str:
        return values.get(name, "").strip()

    if get("category") not in CATEGORIES:
        errors["category"] = "Choose a topic for your request."

    subject = get("subject")
    if not subject:
        errors["subject"] = "Enter a subject: a short statement of the problem."
    elif not 3 <= len(subject) <= 120:
        errors["subject"] = f"The subject must be 3 to 120 characters long (it is {len(subject)})."

    description = get("description")
    if not description:
        errors["description"] = "Describe the problem: what happened, when, and what you already tried."
    elif len(description) < 20:
        errors["description"] = f"The description must be at least 20 characters long (it is {len(description)})."
    elif len(description) > 5000:
        errors["description"] = f"The description must be at most 5000 characters long (it is {len(description)})."

    order = get("order_number")
    if order and not ORDER_RE.match(order):
        errors["order_number"] = "The order number must be 3 to 40 characters: letters, digits, “-”, “_” or “/”."

    idate = get("incident_date")
    if not idate:
        errors["incident_date"] = "Enter the date of the incident."
    else:
        try:
            if not DATE_RE.match(idate):
                raise ValueError
            parsed = date.fromisoformat(idate)
        except ValueError:
            errors["incident_date"] = "Enter the date as YYYY-MM-DD, for example 2024-05-17."
        else:
            if parsed > today + timedelta(days=1):
                errors["incident_date"] = "The date of the incident cannot be in the future."

    itime = get("incident_time")
    if not itime:
        errors["incident_time"] = "Enter the time of the incident."
    elif not TIME_RE.match(itime):
        errors["incident_time"] = "Enter the time as HH:MM (24-hour clock), for example 14:30."

    if not get("full_name"):
        errors["full_name"] = "Enter your full name."
    elif len(get("full_name")) > 200:
        errors["full_name"] = "The name must be at most 200 characters long."

    phone = get("phone")
    if not phone:
        errors["phone"] = "Enter the phone number linked to your account."
    elif not PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 10:
        errors["phone"] = (
            "Enter a phone number with at least 10 digits; only digits, spaces, +, -, ( and ) are allowed."
        )

    email = get("email")
    if not email:
        errors["email"] = "Enter your email address."
    elif len(email) > 254 or not EMAIL_RE.match(email):
        errors["email"] = "Enter a valid email address, like name@example.com."

    files: list[ReceivedFile] = []
    problems: list[str] = []
    chosen = [u for u in uploads if (u.filename or u.data)]
    if len(chosen) > MAX_FILES:
        problems.append(f"You can attach at most {MAX_FILES} files (you chose {len(chosen)}).")
    else:
        for upload in chosen:
            fname = _basename(upload.filename) or "unnamed file"
            if not upload.data:
                problems.append(f"“{fname}” is empty.")
            elif len(upload.data) > MAX_FILE_SIZE:
                problems.append(f"“{fname}” is {fmt_size(len(upload.data))}; each file must be at most 5 MB.")
            elif _sniff(upload.data) is None:
                problems.append(f"“{fname}” is not a PNG, JPEG or PDF file.")
            else:
                files.append(
                    ReceivedFile(
                        filename=fname,
                        content_type=upload.content_type or "application/octet-stream",
                        data=upload.data,
                    )
                )
    if problems:
        errors["attachments"] = " ".join(problems)
        files = []

    if values.get("consent") != "yes":
        errors["consent"] = "You must agree to the processing of your personal data."

    return errors, files
