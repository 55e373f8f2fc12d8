"""What went over the network: the HAR, each page's server and certificate, what the submit click sent.

Playwright records the HAR (without bodies: they carry CSRF tokens and
personal data) into the run's private folder, where it stays raw until the
run closes and it is scrubbed into the package. Chromium tells the rest on a
CDP session with Network enabled, one for each page: how it judged each HTTPS
origin's certificate, the certificate itself, and the bodies of what the submit
click sent (assistant.run.sent). The session cookies are learnt as secrets, to
be scrubbed wherever they turn up.
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.run import formstate
from assistant.run.sent import KnownFile, Seen, SentRecorder, mend_har
from evidence.manifest import ProviderAnswer, SentRequest, SubmittedForm
from evidence.scrub import MIN_COOKIE, scrub_har

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, CDPSession, Locator, Page, Response

    from assistant.run.pagestate import Pages
    from evidence import EvidencePackage
    from evidence.scrub import Secrets


# The most of one answer's body the HAR keeps: a confirmation page is some kB; a site that answers
# a form with megabytes is not kept whole.
MAX_ANSWER_BODY = 2 * 1024 * 1024


def _http_date(value: str | None) -> datetime | None:
    """An HTTP Date header (RFC 9110: IMF-fixdate) as a UTC time; None when it is not one."""
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _received(request: Any) -> datetime | None:
    """When the answer began to arrive, on this machine's clock (Playwright's resource timing)."""
    try:
        timing = request.timing
        start, offset = float(timing["startTime"]), float(timing["responseStart"])
    except Exception:  # no timing for this request
        return None
    if start <= 0 or offset < 0:
        return None
    return datetime.fromtimestamp((start + offset) / 1000, UTC)


class Network:
    """The network side of a run's pages, kept for the evidence."""

    def __init__(
        self,
        pages: Pages,
        package: EvidencePackage,
        *,
        workdir: Path,
        secrets: Secrets,
        note: Callable[[str], None],
    ) -> None:
        """`workdir` is the run's private folder (assistant.run.scratch.run_folder): the raw,
        unscrubbed HAR lives in `folder` there until discard()."""
        self._pages = pages
        self._package = package
        self._secrets = secrets
        self._note = note
        self.folder = Path(workdir) / "network"
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.har_path = self.folder / "run.har"
        # Through the host guard's proxy the browser sees the proxy's address; this
        # gives the server's own (netguard.Gate.peer), for the evidence to be true.
        self.peer: Callable[[str], dict[str, Any] | None] | None = None
        self.sent = SentRecorder()
        self.tls: dict[str, dict[str, Any]] = {}  # https origin → how Chromium judged its certificate
        self._spare_sessions: list[CDPSession] = []  # sessions replaced in a PageState, kept until the context closes
        self._form: tuple[Seen, SentRequest] | None = None  # (the request seen, its record), for the HAR
        self.answers: list[ProviderAnswer] = []  # the provider's answers to the click (keep_answers)
        self._bodies: dict[tuple[str, str, int], bytes] = {}  # their bodies, for the HAR, scrubbed

    def context_kwargs(self) -> dict[str, Any]:
        # content omitted: response bodies carry CSRF tokens and personal data; the
        # pages themselves are kept as HTML/MHTML snapshots per capture.
        return {"record_har_path": str(self.har_path), "record_har_content": "omit"}

    # ------------------------------------------------------------- watching

    def watch_documents(self, page: Page) -> None:
        """Keep the response of each document the page's main frame loads: a capture's server details."""

        def on_response(response: Response) -> None:
            if response.request.resource_type == "document" and response.frame == page.main_frame:
                self._pages.state(page).document = response

        page.on("response", on_response)

    def watch(self, page: Page) -> None:
        """Give `page` a CDP session with Network enabled, unless it has one already.

        The capturer's watch() and new_page() may both be here for the same page, each in its own
        greenlet, each waiting for Chromium in turn: the session that is ready first is kept and
        the other one is let go.
        """
        from playwright.sync_api import Error as PlaywrightError

        state = self._pages.state(page)
        if state.network_on:
            return
        try:
            session = page.context.new_cdp_session(page)
            session.send("Network.enable")
        except PlaywrightError as exc:
            self._note(f"no TLS certificates: {str(exc).splitlines()[0]}")
            return
        if state.network_on:
            try:
                session.detach()  # nobody else holds this one
            except PlaywrightError:
                self._spare_sessions.append(session)
            return
        if state.session is not None:  # made meanwhile for a screenshot, maybe in use: kept till close()
            self._spare_sessions.append(state.session)
        state.session = session
        state.network_on = True
        self.sent.listen(session)
        session.on("Network.responseReceived", self._judged)

    def _judged(self, event: dict[str, Any]) -> None:
        """Chromium's verdict on an HTTPS origin's certificate, for the capture environment."""
        response = event.get("response") or {}
        parts = urlsplit(str(response.get("url", "")))
        if parts.scheme != "https":
            return
        origin = f"https://{parts.netloc}"
        if origin in self.tls and self.tls[origin].get("securityState") == response.get("securityState"):
            return
        self.tls[origin] = {
            "securityState": response.get("securityState"),
            "details": response.get("securityDetails") or {},
        }

    def learn_cookies(self, context: BrowserContext) -> None:
        """The session itself: its values are scrubbed wherever they turn up."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            for cookie in context.cookies():
                self._secrets.add(cookie.get("value"), MIN_COOKIE)
        except PlaywrightError:  # the context is closing; the HAR still lists its cookies
            pass

    # ------------------------------------------------------------- a server

    def server(self, page: Page) -> dict[str, Any]:
        """Final URL, server IP and TLS details of the document on screen."""
        state = self._pages.state(page)
        response = state.document
        out: dict[str, Any] = {"final_url": self._secrets.url(page.url)}
        if response is None:
            return out
        known = state.server
        if known is not None and known[0] is response:  # the same document as the last shot: no round trips
            return {**out, **known[1]}
        details, complete = self._server_details(page, response)
        if complete:
            state.server = (response, details)
        return {**out, **details}

    def _server_details(self, page: Page, response: Response) -> tuple[dict[str, Any], bool]:
        from playwright.sync_api import Error as PlaywrightError

        out: dict[str, Any] = {}
        try:
            out["http_status"] = response.status
            address = (self.peer(response.url) if self.peer else None) or response.server_addr()
            if address:
                out["server_ip"] = address.get("ipAddress")
                out["server_port"] = address.get("port")
            security = response.security_details()
            if security:
                out["tls"] = security
                certificate = self._certificate(page, response.url)
                if certificate:
                    out["tls_certificate"] = certificate
        except PlaywrightError as exc:  # the page navigated away while we asked
            self._note(f"server details unavailable: {str(exc).splitlines()[0]}")
            return out, False
        return out, True

    def _certificate(self, page: Page, url: str) -> str | None:
        from playwright.sync_api import Error as PlaywrightError

        parts = urlsplit(url)
        if parts.scheme != "https":
            return None
        path = f"pages/certificates/{parts.hostname}.pem"
        if self._package.entry(path):
            return path
        session = self._pages.session(page)
        if session is None:
            return None
        try:
            chain = session.send("Network.getCertificate", {"origin": f"{parts.scheme}://{parts.netloc}"})["tableNames"]
        except PlaywrightError as exc:
            self._note(f"TLS certificate of {parts.hostname} unavailable: {str(exc).splitlines()[0]}")
            return None
        if not chain:
            self._note(f"Chromium did not give the TLS certificate of {parts.hostname}")
            return None
        pem = "".join(ssl.DER_cert_to_PEM_cert(base64.b64decode(der)) for der in chain)
        self._package.add_bytes(
            path,
            pem.encode("ascii"),
            "application/x-pem-file",
            role="page",
            captured_at=datetime.now(UTC),
            meta={"origin": f"{parts.scheme}://{parts.netloc}", "certificates": len(chain)},
        )
        return path

    # ------------------------------------------------------------- the form

    def before_click(self, page: Page, submit: Locator) -> None:
        """Right before the submit click: read the form as the page holds it, and watch what it sends."""
        from playwright.sync_api import Error as PlaywrightError

        fields: list[dict[str, Any]] = []
        entries: list[list[Any]] = []
        error = None
        # READ_FORM runs in the page's own world, whose scripts can make it fail in any way: the
        # click goes ahead all the same, and the record says what is missing.
        try:
            answer = submit.first.evaluate(formstate.READ_FORM, timeout=2000)
            fields, entries = list(answer.get("fields") or []), list(answer.get("entries") or [])
        except Exception as exc:
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        try:
            url = page.url
        except PlaywrightError:
            url = None
        self.sent.arm(fields, entries, url, error)

    def submitted_form(self, sent: list[str], files: list[KnownFile]) -> SubmittedForm | None:
        """The form's record: its fields at the click, and the request the click produced
        (`sent`: the outcome watch's "METHOD URL" of what left the browser)."""
        form = self.sent.record(sent, files, self._secrets)
        seen = self.sent.chosen(sent)
        if form is not None and form.request is not None and seen is not None:
            self._form = (seen, form.request)
        return form

    # ------------------------------------------------------- the provider's answer

    def keep_answers(self, responses: list[Response]) -> None:
        """The provider's own answer to the click, kept whole: each response's status, its Date
        header (the provider's clock) beside this machine's time of receipt, and its body (for the
        HAR, which otherwise keeps none), cut at MAX_ANSWER_BODY and scrubbed of secrets."""
        from playwright.sync_api import Error as PlaywrightError

        for response in responses:
            request = response.request
            key = (request.method, response.url, response.status)
            if any((a.method, a.url, a.status) == key for a in self.answers):
                continue
            date = response.headers.get("date")
            body: bytes | None = None
            if not 300 <= response.status < 400:  # a redirect has no body to give
                try:
                    body = response.body()
                except PlaywrightError:  # evicted, or the page went on: the headers still say a lot
                    body = None
            kept = self._secrets.bytes(body[:MAX_ANSWER_BODY]) if body is not None else None
            if kept is not None:
                self._bodies[key] = kept
            self.answers.append(
                ProviderAnswer(
                    method=request.method,
                    url=self._secrets.url(response.url),
                    status=response.status,
                    date=date[:64] if date else None,
                    provider_time=_http_date(date),
                    received_at=_received(request),
                    body_bytes=len(body) if body is not None else None,
                    body_kept=len(kept) if kept is not None else None,
                )
            )

    def _give_bodies(self, har: dict[str, Any]) -> None:
        """Put each kept answer's body in its HAR entry (the last one of that method, URL and status)."""
        entries = har.get("log", {}).get("entries", [])
        for (method, url, status), body in self._bodies.items():
            for entry in reversed(entries):
                request, response = entry.get("request", {}), entry.get("response", {})
                if request.get("method") == method and request.get("url") == url and response.get("status") == status:
                    content = response.setdefault("content", {})
                    try:
                        content["text"] = body.decode("utf-8")
                    except UnicodeDecodeError:
                        content["text"], content["encoding"] = base64.b64encode(body).decode("ascii"), "base64"
                    content["size"] = len(body)
                    content["comment"] = "the provider's answer to the form, kept by the assistant" + (
                        f" (its first {MAX_ANSWER_BODY} bytes)" if len(body) >= MAX_ANSWER_BODY else ""
                    )
                    break

    # --------------------------------------------------------------- finish

    def har(self) -> dict[str, Any] | None:
        """The HAR the closed context wrote, without the report's loads, the form's body given back,
        scrubbed (which teaches the secrets the tokens it finds); None when there is none."""
        if not self.har_path.exists():
            return None
        har: dict[str, Any] = json.loads(self.har_path.read_text(encoding="utf-8"))
        log = har.get("log", {})
        # The report is rendered from file:// in this context; it is not traffic of the site.
        log["entries"] = [
            e for e in log.get("entries", []) if not e.get("request", {}).get("url", "").startswith("file:")
        ]
        log["pages"] = [p for p in log.get("pages", []) if not str(p.get("title", "")).startswith("file:")]
        if self._form is not None and not mend_har(har, *self._form):
            self._note("the network log has no entry for the form's request to give its body to")
        self._give_bodies(har)
        return scrub_har(har, self._secrets)

    def keep_har(self, har: dict[str, Any], now: datetime) -> None:
        data = json.dumps(har, ensure_ascii=False, indent=1).encode("utf-8")
        self._package.add_bytes(
            "logs/network.har",
            data,
            "application/json",
            role="log",
            captured_at=now,
            meta={
                "scrubbed": "cookies, auth and *-token/*-key headers, secret-named "
                "parameters, and every typed password/secret and cookie value"
            },
        )

    def discard(self) -> None:
        """Remove the raw HAR (and whatever else is in `folder`): it holds what was scrubbed."""
        shutil.rmtree(self.folder, ignore_errors=True)
