"""The demo portal's pages: its templates (package data) filled in, as whole HTML documents."""

from __future__ import annotations

import html
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.sites.demo.forms import CATEGORIES, RESPONSE_TIMES, TEXT_FIELDS, Ticket, fmt_size

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

_template_cache: dict[str, string.Template] = {}


def _template(name: str) -> string.Template:
    tpl = _template_cache.get(name)
    if tpl is None:
        tpl = string.Template((TEMPLATES / name).read_text(encoding="utf-8"))
        _template_cache[name] = tpl
    return tpl


def render(name: str, **values: object) -> str:
    """Fill a template; values are inserted as given (escape them first)."""
    return _template(name).substitute({k: str(v) for k, v in values.items()})


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, nav: str = "") -> str:
    return render(
        "base.html",
        title=e(title),
        body=body,
        nav_home=' aria-current="page"' if nav == "home" else "",
        nav_help=' aria-current="page"' if nav == "help" else "",
    )


def _breadcrumbs(*items: tuple[str, str | None]) -> str:
    out = []
    for label, href in items:
        out.append(f'<a href="{e(href)}">{e(label)}</a>' if href else f'<span aria-current="page">{e(label)}</span>')
    return '<nav class="breadcrumbs" aria-label="Breadcrumb">' + ' <span class="sep">›</span> '.join(out) + "</nav>"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def home_page() -> str:
    return page("DemoMarket — groceries delivered", render("home.html"), nav="home")


def help_page() -> str:
    body = render(
        "help.html",
        breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", None)),
        times_rows="\n".join(
            f"<tr><td>{e(CATEGORIES[k])}</td><td>{e(RESPONSE_TIMES[k])}</td></tr>"
            for k in ("payment", "technical", "delivery", "complaint")
        ),
    )
    return page("Help centre — DemoMarket", body, nav="help")


def form_page(values: dict[str, str], errors: dict[str, str], csrf: str, *, notice: str | None = None) -> str:
    """The form, filled with `values`; `errors` by field, `notice` a refusal of the whole form."""

    def v(name: str) -> str:
        return e(values.get(name, ""))

    def err(name: str) -> str:
        msg = errors.get(name)
        if not msg:
            return ""
        return f'<p class="field-error" id="error-{name}">{e(msg)}</p>'

    def invalid(name: str) -> str:
        if name in errors:
            return f' aria-invalid="true" aria-describedby="error-{name}"'
        return ""

    selected = values.get("category", "")
    options = ['<option value="">Choose a topic…</option>']
    for key, label in CATEGORIES.items():
        sel = " selected" if key == selected else ""
        options.append(f'<option value="{key}"{sel}>{e(label)}</option>')

    summary = ""
    if notice:
        summary = f'<div id="form-errors" class="error-summary" role="alert" tabindex="-1"><p>{e(notice)}</p></div>'
    elif errors:
        items = "".join(f'<li><a href="#{e(name)}">{e(msg)}</a></li>' for name, msg in errors.items())
        summary = (
            '<div id="form-errors" class="error-summary" role="alert" tabindex="-1">'
            "<h2>Please correct the errors below</h2>"
            f"<ul>{items}</ul></div>"
        )

    fields = {}
    for name in TEXT_FIELDS:
        fields[f"{name}_value"] = v(name)
        fields[f"{name}_error"] = err(name)
        fields[f"{name}_invalid"] = invalid(name)
    fields["attachments_error"] = err("attachments")
    fields["attachments_invalid"] = invalid("attachments")
    body = render(
        "form.html",
        breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", "/help"), ("Contact support", None)),
        summary=summary,
        category_options="\n".join(options),
        consent_checked=" checked" if values.get("consent") == "yes" else "",
        csrf_token=e(csrf),
        max_date=e((datetime.now(UTC).date() + timedelta(days=1)).isoformat()),
        **fields,
    )
    title = "Contact support" if not (errors or notice) else "Error: Contact support"
    return page(title, body, nav="help")


def submitted_page(ticket: Ticket) -> str:
    cat = ticket.fields.get("category", "other")
    body = render(
        "submitted.html",
        number=e(ticket.number),
        category=e(CATEGORIES.get(cat, "Other")),
        response_time=e(RESPONSE_TIMES.get(cat, RESPONSE_TIMES["other"])),
        subject=e(ticket.fields.get("subject", "")),
        email=e(ticket.fields.get("email", "")),
        created=e(_iso(ticket.created_at)),
        files=e(len(ticket.files)),
    )
    return page(f"Request {ticket.number} registered", body, nav="help")


def status_page(ticket: Ticket) -> str:
    cat = ticket.fields.get("category", "other")
    if ticket.files:
        files = (
            '<ul class="files">'
            + "".join(
                f'<li>{e(f.filename)} <span class="muted">({fmt_size(len(f.data))})</span></li>' for f in ticket.files
            )
            + "</ul>"
        )
    else:
        files = '<span class="muted">None</span>'
    body = render(
        "status.html",
        breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", "/help"), (ticket.number, None)),
        number=e(ticket.number),
        category=e(CATEGORIES.get(cat, "Other")),
        response_time=e(RESPONSE_TIMES.get(cat, RESPONSE_TIMES["other"])),
        subject=e(ticket.fields.get("subject", "")),
        created=e(_iso(ticket.created_at)),
        files=files,
    )
    return page(f"Request {ticket.number}", body, nav="help")


def requests_page(email: str, tickets: list[Ticket] | None) -> str:
    """'Track your requests': the form, and the requests filed with that address (None: not asked yet)."""
    results = ""
    if tickets is not None and not tickets:
        results = (
            '<section id="track-results" class="panel"><p id="track-none">We found no requests for '
            f"<strong>{e(email)}</strong>. A request sent in the last few minutes may not be listed yet.</p></section>"
        )
    elif tickets:
        rows = "".join(
            '<tr class="request">'
            f'<td><a class="request-number" href="/support/tickets/{e(t.number)}">{e(t.number)}</a></td>'
            f'<td class="request-date"><time datetime="{e(_iso(t.created_at))}">{e(_iso(t.created_at))}</time></td>'
            f'<td class="request-subject">{e(t.fields.get("subject", ""))}</td>'
            f'<td class="request-order">{e(t.fields.get("order_number", "")) or "—"}</td></tr>'
            for t in tickets
        )
        results = (
            f'<section id="track-results" class="panel"><h2>Requests for {e(email)}</h2>'
            '<table class="times requests"><thead><tr><th scope="col">Number</th><th scope="col">Registered (UTC)</th>'
            '<th scope="col">Subject</th><th scope="col">Order</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></section>"
        )
    body = render(
        "requests.html",
        breadcrumbs=_breadcrumbs(("Home", "/"), ("Help", "/help"), ("Track your requests", None)),
        email=e(email),
        results=results,
    )
    return page("Track your requests — DemoMarket", body, nav="help")


def processing_page() -> str:
    return page("Processing your request", render("processing.html"))


def message_page(title: str, text_html: str, extra: str = "") -> str:
    return page(title, render("message.html", title=e(title), text=text_html, extra=extra))


def server_error_page() -> str:
    return message_page(
        "Something went wrong",
        "<p>Sorry, something went wrong on our side. Please try again later.</p>",
        '<p><a class="button" href="/support/new">Back to the form</a></p>',
    )


def gateway_timeout_page() -> str:
    return message_page(
        "The request took too long",
        "<p>We did not get an answer in time. Please try again later.</p>",
        '<p><a class="button" href="/support/new">Back to the form</a></p>',
    )


def not_found_page() -> str:
    return message_page(
        "Page not found",
        "<p>We could not find the page you were looking for. "
        "It may have been moved, or the address may be mistyped.</p>",
        '<p><a class="button" href="/">Go to the home page</a> '
        '<a class="button secondary" href="/help">Visit the help centre</a></p>',
    )


def bad_form_page(reason: str) -> str:
    return message_page(
        "Bad request",
        "<p>We could not read the submitted form. Please reload the form and try again.</p>",
        f'<p class="muted">{e(reason)}</p><p><a class="button" href="/support/new">Reload the form</a></p>',
    )


def too_large_page() -> str:
    return message_page(
        "Request too large",
        "<p>The request is larger than 30 MB. Attach at most 5 files of up to 5 MB each.</p>",
        '<p><a class="button" href="/support/new">Back to the form</a></p>',
    )


def session_expired_page() -> str:
    return message_page(
        "Your session has expired",
        "<p>Your session has expired or the form is out of date, so the request was "
        "<strong>not sent</strong>. Please reload the form and fill it in again.</p>",
        '<p><a class="button" href="/support/new">Reload the form</a></p>',
    )
