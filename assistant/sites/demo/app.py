"""The demo portal as a WSGI app: its routes, sessions and CSRF tokens, and the tickets it numbers.

It behaves like a real provider's web form, including towards hostile input:
a body over 30 MB, without a stated length, or sent where no form is, is
refused unread; a malformed form is 400, a wrong CSRF token 403, invalid
values 422 with a message per field.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from assistant.sites.demo import pages
from assistant.sites.demo.faults import REJECTED, Faults
from assistant.sites.demo.forms import ReceivedFile, Ticket, normalise, validate
from assistant.sites.web import MAX_BODY, FormError, FormRequest, hang_up

SESSION_COOKIE = "demo_session"
TICKET_PATH = re.compile(r"^/support/tickets/(DEMO-\d{6})(/submitted)?/?$")
CSP = "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"


def respond(
    status: int,
    body: str | bytes,
    *,
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
    cookies: list[str] | None = None,
) -> Response:
    response = Response(body, status, content_type=content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if content_type.startswith("text/html"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = CSP
    for key, value in (headers or {}).items():
        response.headers[key] = value
    for cookie in cookies or []:
        response.headers.add("Set-Cookie", cookie)
    return response


class PortalApp:
    """The WSGI app; `received` lists the tickets it accepted, oldest first.

    With `faults` (assistant.sites.demo.faults) some valid posts of the form get a
    broken answer instead of the confirmation; `faults.hits` says which.
    """

    def __init__(self, *, confirm: bool = True, first_number: int = 123, faults: Faults | None = None) -> None:
        self.confirm = confirm
        self.faults = faults
        self._next = first_number
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []
        self._by_number: dict[str, Ticket] = {}
        self._secret = secrets.token_bytes(32)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = FormRequest(environ)
        try:
            app = self._dispatch(request)
        except HTTPException as exc:  # the client went away in the middle of its body
            app = exc
        return app(environ, start_response)

    @property
    def received(self) -> list[Ticket]:
        with self._lock:
            return list(self._tickets)

    # -- state -----------------------------------------------------------------

    def csrf_for(self, session_id: str) -> str:
        return hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()

    def store(self, fields: dict[str, str], files: list[ReceivedFile]) -> Ticket:
        with self._lock:
            number = f"DEMO-{self._next:06d}"
            self._next += 1
            ticket = Ticket(number=number, fields=dict(fields), files=list(files), created_at=datetime.now(UTC))
            self._tickets.append(ticket)
            self._by_number[number] = ticket
            return ticket

    def lookup(self, number: str) -> Ticket | None:
        with self._lock:
            return self._by_number.get(number)

    def requests_of(self, email: str) -> list[Ticket]:
        """Every request filed with this address, newest first (the 'Track your requests' page)."""
        wanted = email.strip().casefold()
        with self._lock:
            return [t for t in reversed(self._tickets) if t.fields.get("email", "").strip().casefold() == wanted]

    # -- routes ----------------------------------------------------------------

    def _dispatch(self, request: FormRequest):
        if request.method in ("GET", "HEAD"):
            return self._get(request)
        if request.method == "POST":
            return self._post(request)
        return respond(501, pages.message_page("Not implemented", "<p>This method is not supported here.</p>"))

    def _session(self, request: FormRequest) -> tuple[str, list[str]]:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid and re.fullmatch(r"[A-Za-z0-9_-]{20,100}", sid):
            return sid, []
        sid = secrets.token_urlsafe(32)
        return sid, [f"{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"]

    def _get(self, request: FormRequest) -> Response:
        path = request.path
        if path == "/":
            return respond(200, pages.home_page())
        if path in ("/help", "/help/"):
            return respond(200, pages.help_page())
        if path == "/support/new":
            sid, cookies = self._session(request)
            return respond(200, pages.form_page({}, {}, self.csrf_for(sid)), cookies=cookies)
        if path == "/static/portal.css":
            return respond(
                200,
                (pages.STATIC / "portal.css").read_bytes(),
                content_type="text/css; charset=utf-8",
                headers={"Cache-Control": "no-cache"},
            )
        if path in ("/support/requests", "/support/requests/"):
            email = request.args.get("email", "").strip()[:254]
            return respond(200, pages.requests_page(email, self.requests_of(email) if email else None))
        if m := TICKET_PATH.match(path):
            ticket = self.lookup(m.group(1))
            if ticket is None:
                return respond(404, pages.not_found_page())
            return respond(200, pages.submitted_page(ticket) if m.group(2) else pages.status_page(ticket))
        return respond(404, pages.not_found_page())

    def _post(self, request: FormRequest):
        if request.path != "/support/new":
            return hang_up(respond(404, pages.not_found_page()))
        length = request.environ.get("CONTENT_LENGTH")
        if request.headers.get("Transfer-Encoding") or length is None:
            return hang_up(
                respond(411, pages.message_page("Length required", "<p>The request must state its length.</p>"))
            )
        try:
            if int(length) < 0:
                raise ValueError
        except ValueError:
            return hang_up(respond(400, pages.message_page("Bad request", "<p>The request length is invalid.</p>")))
        if int(length) > MAX_BODY:
            return hang_up(respond(413, pages.too_large_page()))

        try:
            if request.mimetype != "multipart/form-data" or not request.mimetype_params.get("boundary"):
                raise FormError("not multipart/form-data")
            form, files = request.read_form()
        except FormError as exc:
            return respond(400, pages.bad_form_page(str(exc)))
        except RequestEntityTooLarge:
            return hang_up(respond(413, pages.too_large_page()))
        values = {name: normalise(value) for name, value in form.items()}
        uploads = [
            ReceivedFile(upload.filename or "", upload.content_type or "", upload.read())
            for upload in files.getlist("attachments")
        ]

        token = values.pop("csrf_token", "")
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid or not hmac.compare_digest(token.encode(), self.csrf_for(sid).encode()):
            return respond(403, pages.session_expired_page())

        errors, accepted = validate(values, uploads)
        if errors:
            return respond(422, pages.form_page(values, errors, self.csrf_for(sid)))

        if self.faults is not None:
            return self._answer_with_faults(self.faults, values, accepted, sid)
        return self._accepted(self.store(values, accepted))

    def _accepted(self, ticket: Ticket) -> Response:
        if self.confirm:
            return respond(303, b"", headers={"Location": f"/support/tickets/{ticket.number}/submitted"})
        return respond(200, pages.processing_page())

    def _answer_with_faults(self, faults: Faults, values: dict[str, str], accepted: list[ReceivedFile], sid: str):
        """The answer `faults` draws for a valid post: an error page or the form again before
        storing, a reset or a hang after it, or the usual confirmation."""
        hit = faults.draw(values)
        if hit.kind == "error500":
            faults.report(hit)
            return respond(500, pages.server_error_page())
        if hit.kind == "reject":
            faults.report(hit)
            return respond(200, pages.form_page(values, {}, self.csrf_for(sid), notice=REJECTED))
        ticket = self.store(values, accepted)
        return faults.stored(hit, ticket.number) or self._accepted(ticket)
