"""What happened after the submit click, decided from what the browser saw.

Five outcomes (`AfterClick`), never a guess from a timeout alone:

    confirmed  the flow's success check held and the number was read;
    accepted   the success check held and the page gives no number (the flow
               says `confirmation: none`, or the number is not where it looks);
    rejected   the provider (or the browser) refused it, and the page says why:
               the form is still there with an error on it, or no request ever
               left the browser and a field is marked invalid;
    unknown    a request left the browser and no confirmation came;
    not_sent   nothing left the browser, and the page says no reason.

The decision is `decide(look)`, a pure function of one `Look` at the page: the
runner takes a look, asks `decide`, reads what it asks for (`Need`: the page's
words are read only when they can change the answer, since each is a script run
in the page), and turns the `Verdict` into what the person is told. Its rules,
in order, are a table in tests/test_outcome_decision.py.

`SendWatch` follows the page's network from just before the click: whether a
request that could carry the form (a navigation, a POST, a fetch with data, a
WebSocket frame) went to an allowed host, whether it is still in flight, how
the page's own document answered. `read_refusal` reads the refusal off the
page in the person's terms: the field's label and the site's message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from assistant.run.netguard import GATE_MARK, NOT_CONNECTED
from assistant.translation import _
from evidence import RefusalKind

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Request, Response, WebSocket

# Failures that prove the request never reached the server: the browser did not
# connect at all, the proxy tunnel or TLS never opened (nothing of the request is sent
# before both), or our own guard stopped it. Anything else (a reset, an empty answer,
# an abort mid-way) may have reached it.
NOT_DELIVERED = (
    "net::ERR_CONNECTION_REFUSED",
    "net::ERR_NAME_NOT_RESOLVED",
    "net::ERR_ADDRESS_UNREACHABLE",
    "net::ERR_INTERNET_DISCONNECTED",
    "net::ERR_BLOCKED_BY_CLIENT",
    "net::ERR_BLOCKED_BY_RESPONSE",
    "net::ERR_TUNNEL_CONNECTION_FAILED",
    "net::ERR_PROXY_CONNECTION_FAILED",
    "net::ERR_CONNECTION_TIMED_OUT",
    "net::ERR_SSL_",
    "net::ERR_CERT_",
    "net::ERR_BAD_SSL_CLIENT_AUTH_CERT",
)
# Chromium's words for a request that never reached the server, as a person would say them.
_NOT_DELIVERED_SAID = {
    "net::ERR_CONNECTION_REFUSED": "connection refused",
    "net::ERR_NAME_NOT_RESOLVED": "no such host name",
    "net::ERR_ADDRESS_UNREACHABLE": "the address is unreachable",
    "net::ERR_INTERNET_DISCONNECTED": "this machine is offline",
    "net::ERR_TUNNEL_CONNECTION_FAILED": "no connection could be opened",
    "net::ERR_PROXY_CONNECTION_FAILED": "no connection could be opened",
    "net::ERR_CONNECTION_TIMED_OUT": "no answer to the connection",
    "net::ERR_SSL_": "the secure connection (TLS) failed",
    "net::ERR_CERT_": "its certificate was not trusted",
    "net::ERR_BAD_SSL_CLIENT_AUTH_CERT": "the secure connection (TLS) failed",
}


def not_delivered_said(error: str) -> str:
    """A failure that proves nothing reached the server, in plain words with Chromium's code."""
    for code, said in _NOT_DELIVERED_SAID.items():
        if error.startswith(code):
            return f"{said}: {error.split()[0]}"
    return error


_SENDING_TYPES = ("xhr", "fetch", "eventsource", "ping", "websocket")


# A form's answer is a redirect or two and a page; a page that keeps posting is not kept whole.
MAX_ANSWERS = 8


@dataclass
class SendWatch:
    """The requests that could have carried the form, from the moment `start()` is called."""

    page: Page
    allowed: Callable[[str], bool]
    started: float = 0.0
    sending: dict[int, str] = field(default_factory=dict)  # id(request) → url, while in flight
    sent: list[str] = field(default_factory=list)  # "POST http://…" of each that may have arrived
    undelivered: list[str] = field(default_factory=list)
    document_status: int | None = None  # the main frame's answer to a navigation after the click
    frames_sent: int = 0
    silent_close: bool = False  # the document's answer is the gate's: the site closed without answering
    navigations: set[int] = field(default_factory=set)  # id(request) of the main frame's navigations
    unreached: dict[int, str] = field(default_factory=dict)  # id(request) → why the gate could not connect
    answered: int | None = None  # the latest HTTP status the provider gave a request that could carry the form
    retry_after: str | None = None  # its Retry-After, when it said to wait
    posted: bool = False  # a request with a body (a POST, a PUT) went to an allowed host
    # The provider's answers to what the click sent, and to the main frame's navigations after it
    # (a 303, the confirmation page): kept whole for the evidence (Network.keep_answers).
    answers: list[Response] = field(default_factory=list)
    _handlers: list[tuple[Any, str, Callable[..., None]]] = field(default_factory=list)

    def start(self) -> SendWatch:
        self.started = time.monotonic()
        context = self.page.context
        targets: list[tuple[Any, str, Callable[..., None]]] = [
            (context, "request", self._request),
            (context, "requestfinished", self._finished),
            (context, "requestfailed", self._failed),
            (context, "response", self._response),
            (self.page, "websocket", self._websocket),
        ]
        for target, event, handler in targets:
            target.on(event, handler)
            self._handlers.append((target, event, handler))
        return self

    def stop(self) -> None:
        for target, event, handler in self._handlers:
            try:
                target.remove_listener(event, handler)
            except Exception:  # the page or context is already gone
                pass
        self._handlers.clear()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def left_browser(self) -> bool:
        """Did anything that could carry the form leave for the provider?"""
        return bool(self.sent or self.sending or self.frames_sent)

    @property
    def unreachable(self) -> str | None:
        """Why a request that could carry the form did not reach the provider, when one did not."""
        return self.undelivered[0] if self.undelivered else None

    @property
    def in_flight(self) -> bool:
        return bool(self.sending)

    @property
    def navigating(self) -> bool:
        """Is the page's document on its way to the answer? Until that answer comes, Chromium
        answers no script run in the page (a check of what it shows would wait with it)."""
        return any(key in self.sending for key in self.navigations)

    def _carries_data(self, request: Request) -> bool:
        if request.is_navigation_request():
            return True
        method = request.method.upper()
        if method not in ("GET", "HEAD", "OPTIONS"):
            return True
        # A GET fetch with a query string can carry fields; a bare GET (an image, a script) cannot.
        return request.resource_type in _SENDING_TYPES and "?" in request.url

    def _request(self, request: Request) -> None:
        if not self.allowed(request.url) or not self._carries_data(request):
            return
        self.sending[id(request)] = f"{request.method} {request.url}"
        if request.method.upper() not in ("GET", "HEAD", "OPTIONS"):
            self.posted = True
        try:
            if request.is_navigation_request() and request.frame == self.page.main_frame:
                self.navigations.add(id(request))
        except Exception:  # the frame is gone already
            pass

    def _finished(self, request: Request) -> None:
        what = self.sending.pop(id(request), None)
        if what is None:
            return
        reason = self.unreached.pop(id(request), None)
        if reason is not None:  # the gate answered for a site it could not connect to
            self.undelivered.append(f"{what}: {reason}")
        else:
            self.sent.append(what)

    def _failed(self, request: Request) -> None:
        what = self.sending.pop(id(request), None)
        if what is None:
            return
        error = request.failure or ""
        if any(error.startswith(code) for code in NOT_DELIVERED):
            self.undelivered.append(f"{what}: {not_delivered_said(error)}")
        else:
            self.sent.append(f"{what} ({error or 'failed'})")

    def _response(self, response: Response) -> None:
        request = response.request
        headers = response.headers
        if id(request) in self.sending and headers.get("x-gateway-stage") == NOT_CONNECTED:
            if headers.get("x-gateway-error") == GATE_MARK:
                self.unreached[id(request)] = headers.get("x-gateway-reason") or "could not connect"
                return
        if id(request) in self.sending:
            if headers.get("x-gateway-error") != GATE_MARK and len(self.answers) < MAX_ANSWERS:
                self.answers.append(response)
            self.answered = response.status
            if response.status in (429, 503) and headers.get("retry-after"):
                self.retry_after = headers["retry-after"].strip()[:40]
        try:
            main = request.is_navigation_request() and request.frame == self.page.main_frame
        except Exception:
            return
        if main and id(request) in self.sending:
            self.document_status = response.status
            # The run's own gate stood in for a site that closed the connection without a word
            # (so that Chromium would not post the form again): that is no answer from the provider.
            self.silent_close = response.headers.get("x-gateway-error") == GATE_MARK

    def _websocket(self, socket: WebSocket) -> None:
        if not self.allowed(socket.url):
            return

        def frame_sent(payload: str | bytes) -> None:
            self.frames_sent += 1

        socket.on("framesent", frame_sent)

    def summary(self) -> str:
        if not self.left_browser:
            if self.undelivered:
                return _("the browser could not reach the provider ({what})").format(what=self.undelivered[0])
            return _("no request left the browser")
        first = (self.sent or list(self.sending.values()) or [_("a WebSocket message")])[0]
        return _("the request left the browser ({what})").format(what=first)


# Reads refusals the way a person would: the message, and the label of the field it is about.
# Runs in the frame of the submit button (element = the button, or null for the page itself).
_READ_REFUSAL = r"""
(element, opts) => {
  const doc = element ? element.ownerDocument : document;
  const form = element ? (element.form || element.closest('form')) : null;
  const root = form || doc.body || doc.documentElement;
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const style = doc.defaultView.getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  };
  const clean = (t) => (t || '').replace(/\s+/g, ' ').trim();
  const CONTROLS = 'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea';
  // The usual error containers of hand-written forms, frameworks and form builders.
  const CONTAINERS = [
    '.errorlist', '.error', '.errors', '.field-error', '.form-error', '.error-message', '.error-text',
    '.invalid-feedback', '.alert-danger', '.alert-error', '.text-danger', '.help-block.error',
    '.has-error .help-block', '.wpcf7-not-valid-tip', '.wpcf7-response-output.wpcf7-validation-errors',
    '.notification.is-danger', '.message.error', '.validation-error', '.field-validation-error',
    '.validation-summary-errors', '.errormsg', '.err', '[data-error]',
    // Form builders and UI kits seen on support pages: Bitrix24 CRM forms, HubSpot, Parsley,
    // Gravity/Formidable/Ninja/Forminator (WordPress), Marketo, Zendesk, Ant Design, MUI, Element.
    '.b24-form-control-alert-message', '.hs-error-msgs', '.parsley-errors-list.filled', '.gfield_validation_message',
    '.validation_message', '.frm_error', '.nf-error-msg', '.forminator-error-message', '.mktoError',
    '.notification-error', '.ant-form-item-explain-error', '.Mui-error.MuiFormHelperText-root', '.el-form-item__error',
    '.has-danger .form-control-feedback', '.error-msg', 'form.invalid .wpcf7-response-output'
  ].join(', ');
  const ownText = (el) => {
    // A label may wrap its field and the field's error (Contact Form 7): only the label's own words.
    const copy = el.cloneNode(true);
    copy.querySelectorAll(CONTROLS + ', ' + CONTAINERS + ', [id]').forEach((n) => {
      const describes = n.id && doc.querySelector(`[aria-describedby~="${CSS.escape(n.id)}"]`);
      if (n.matches(CONTROLS) || n.matches(CONTAINERS) || describes) n.remove();
    });
    return copy.textContent;
  };
  const labelOf = (c) => {
    let text = '';
    if (c.labels && c.labels.length) text = ownText(c.labels[0]);
    if (!text && c.getAttribute('aria-labelledby')) {
      text = c.getAttribute('aria-labelledby').split(/\s+/)
        .map((id) => doc.getElementById(id)).filter(Boolean).map((e) => e.innerText).join(' ');
    }
    // Builders that label with a styled <div> (Bitrix24: .b24-form-control-label) keep it beside the field.
    for (let box = c.parentElement, depth = 0; !text && box && depth < 2; box = box.parentElement, depth++) {
      const near = box.querySelector('[class*="label" i]:not(input):not(select):not(textarea)');
      if (near && !near.contains(c) && near.querySelectorAll(CONTROLS).length === 0) text = near.textContent;
    }
    text = text || c.getAttribute('aria-label') || c.getAttribute('placeholder') || c.name || c.id || '';
    return clean(text).replace(/[\s*:]+$/, '');
  };
  const found = [];
  const seen = new Set();
  const add = (label, message) => {
    message = clean(message).slice(0, 300);
    if (!message || seen.has(message)) return;
    seen.add(message);
    found.push({label: label || null, message});
  };
  // 1. The browser's own validation: only when nothing was sent (the browser blocked it).
  if (opts.browser && form && !form.noValidate) {
    for (const c of form.querySelectorAll(CONTROLS)) {
      if (!c.willValidate || c.validity.valid || !visible(c)) continue;
      // The browser's bubble shows the field's title beside "match the requested format": so do we.
      const hint = c.validity.patternMismatch && c.title ? ` (${c.title})` : '';
      add(labelOf(c), c.validationMessage + hint);
    }
  }
  // 2. Fields the site marks invalid, with the text they point at.
  for (const c of root.querySelectorAll('[aria-invalid="true"]')) {
    const ids = ((c.getAttribute('aria-errormessage') || '') + ' ' + (c.getAttribute('aria-describedby') || ''))
      .split(/\s+/).filter(Boolean);
    const texts = ids.map((id) => doc.getElementById(id)).filter((e) => e && visible(e)).map((e) => e.innerText);
    if (texts.length) add(labelOf(c), texts.join(' '));
  }
  // 3. The usual error containers, each tied to the one field beside it if there is one.
  const fieldNear = (el) => {
    let node = el;
    for (let depth = 0; depth < 3 && node && node !== root; depth++) {
      const controls = node.querySelectorAll(CONTROLS);
      if (controls.length === 1) return controls[0];
      if (controls.length > 1) return null;
      for (const sib of [node.nextElementSibling, node.previousElementSibling]) {
        if (!sib) continue;
        const near = sib.matches(CONTROLS) ? [sib] : sib.querySelectorAll(CONTROLS);
        if (near.length === 1) return near[0];
      }
      node = node.parentElement;
    }
    return null;
  };
  const containers = [...root.querySelectorAll(CONTAINERS)].filter((el) => visible(el) && !el.matches(CONTROLS));
  for (const el of containers) {
    if (containers.some((other) => other !== el && other.contains(el))) continue;
    const control = fieldNear(el);
    add(control ? labelOf(control) : null, el.innerText);
  }
  // 4. Live regions and alerts: only when they read as an error, so a "Thank you" toast is not one.
  const ERRORISH = /(error|invalid|incorrect|required|must|cannot|can't|could not|couldn't|failed|not valid|not allowed|try again|please (enter|fill|correct|select|check)|ошибк|неверн|некоррект|обязательн|не удалось|заполните|укажите|исправьте|недопустим|попробуйте)/i;
  const regions = doc.querySelectorAll('[role=alert], [aria-live=assertive], [aria-live=polite], [role=status]');
  for (const el of regions) {
    if (!visible(el)) continue;
    const klass = (el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className) || '';
    const text = el.innerText;
    if (!(ERRORISH.test(text) || /error|danger|invalid|fail/i.test(klass))) continue;
    // Lines already quoted with their field are not quoted twice.
    const rest = text.split('\n').map(clean).filter((line) => line && !seen.has(line)).join(' ');
    add(null, rest);
  }
  return {found, form: !!form};
}
"""


@dataclass(frozen=True)
class Refusal:
    label: str | None
    message: str

    def __str__(self) -> str:
        return f'{self.label}: "{self.message}"' if self.label else f'"{self.message}"'


def read_refusal(page: Page, submit: Locator | None, *, browser: bool) -> list[Refusal]:
    """The refusal messages on the page now (browser=True: also the browser's own validation)."""
    try:
        if submit is not None and submit.count() > 0:
            raw = submit.first.evaluate(_READ_REFUSAL, {"browser": browser})
        else:
            raw = page.evaluate(f"(opts) => ({_READ_REFUSAL})(null, opts)", {"browser": False})
    except Exception:  # mid-navigation: the next look will tell
        return []
    return [Refusal(item.get("label"), item["message"]) for item in raw.get("found", [])]


def read_declared(scope: Any, selector: str | None, text: str | None) -> list[Refusal]:
    """The flow's own `rejected:` check: the visible text of what it names."""
    try:
        if selector is not None:
            locator = scope.locator(selector)
            if text is not None:
                locator = locator.filter(has_text=text)
        else:
            locator = scope.get_by_text(text)
        shown = locator.filter(visible=True)
        texts = [" ".join(shown.nth(i).inner_text(timeout=1000).split()) for i in range(min(shown.count(), 5))]
        # An error marker with no words of its own still counts: the flow says it means refusal.
        return [Refusal(None, t or f"{selector or text} is shown") for t in texts]
    except Exception:
        return []


def quote(refusals: list[Refusal], limit: int = 400) -> str:
    text = "; ".join(str(r) for r in refusals)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AfterClick(StrEnum):
    """What the runner saw happen at the provider after the submit click."""

    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"  # the success check held; the provider's page gives no number
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    NOT_SENT = "not_sent"


class Why(StrEnum):
    """Which rule decided: the runner words its message from it."""

    GUARD_STOPPED_IT = "the click's only request went to a host the flow does not allow"
    UNREACHABLE = "the click's request could not reach the provider: no connection, no TLS"
    FLOW_SAYS_REJECTED = "the flow's `rejected:` check shows"
    BROWSER_REFUSED = "nothing left the browser and a field is marked invalid"
    CONNECTION_BROKE = "the connection broke before the provider answered"
    FORM_WITH_ERROR = "the form came back with the site's error on it"
    CLOSED_SILENTLY = "the provider closed the connection without answering"
    SERVER_ERROR = "the provider's server answered 5xx"
    CLIENT_ERROR = "the provider answered 4xx with no form"
    LOGIN_PAGE = "the answer is a login page: the session ended"
    TIME_UP_GUARD = "time is up, and the guard stopped something the page tried"
    TIME_UP_NOTHING_SENT = "time is up, and nothing left the browser"
    TIME_UP_NO_ANSWER = "time is up, and the answer has not come"
    TIME_UP_NOT_SUCCESS = "time is up, and the answer is not the success page"


class Need(Enum):
    """What `decide` must see before it can answer: the runner reads it off the page."""

    DECLARED = "the flow's `rejected:` check"
    FORM_SHOWN = "whether the submit button is still shown"
    INVALID = "fields the browser or the site marks invalid"
    REFUSALS = "the site's refusal beside the form"
    PAGE_WORDS = "the error page's words"
    LOGIN = "whether the answer is a login page (a password field the form did not have)"


# A refusal counts once it has held for this long after the click (a form's script may mark a
# field invalid for a moment while it sends).
SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class Look:
    """One look at the page after the click. The first fields come from `SendWatch` and the
    guard, at no cost; the rest stay None until `decide` asks for them (`Need`)."""

    elapsed: float
    left_browser: bool
    in_flight: bool = False
    navigating: bool = False  # the document's answer is on its way: the page cannot be read
    stopped: str | None = None  # what the guard stopped, in its words
    unreachable: str | None = None  # a request that could carry the form and never reached the provider
    broken: bool = False  # the page is the browser's own error page
    status: int | None = None  # the HTTP status of the document's answer after the click
    silent_close: bool = False  # the gate stood in for a site that closed without a word
    declares_rejected: bool = False  # the flow has a `rejected:` check
    time_up: bool = False  # the success check's time has run out
    # Read on demand. Refusals are those not on the page before the click (its baseline).
    declared: tuple[Refusal, ...] | None = None
    form_shown: bool | None = None
    invalid: tuple[Refusal, ...] | None = None
    refusals: tuple[Refusal, ...] | None = None
    previous: tuple[Refusal, ...] | None = None  # the refusals of the look before this one
    page_words: tuple[Refusal, ...] | None = None
    heading: str | None = None
    login_shown: bool | None = None  # a password field is shown that the page before the click lacked
    previous_login: bool = False  # the look before this one saw it too


@dataclass(frozen=True)
class Verdict:
    outcome: AfterClick
    why: Why
    refusals: tuple[Refusal, ...] = ()
    sent: bool = True  # did a request leave the browser (a refusal by the browser did not)


def decide(look: Look) -> Verdict | Need | None:
    """The outcome this look shows; a `Need` when a reading of the page must come first; None
    while the page does not tell yet (look again, until `time_up`)."""
    answer = _shown(look)
    if answer is None and look.time_up:
        return _time_up(look)
    return answer


def after_failed_step(left_browser: bool) -> AfterClick:
    """A step after the click failed (or the click itself): whether anything left decides."""
    return AfterClick.UNKNOWN if left_browser else AfterClick.NOT_SENT


def _client_error(status: int | None) -> bool:
    return status is not None and 400 <= status < 500


def _shown(look: Look) -> Verdict | Need | None:
    if look.stopped and not look.left_browser and not look.in_flight and look.elapsed >= SETTLE_SECONDS:
        return Verdict(AfterClick.NOT_SENT, Why.GUARD_STOPPED_IT, sent=False)
    if look.unreachable and not look.left_browser and not look.in_flight and look.elapsed >= SETTLE_SECONDS:
        return Verdict(AfterClick.NOT_SENT, Why.UNREACHABLE, sent=False)
    if look.navigating:
        return None
    if look.declares_rejected:
        if look.declared is None:
            return Need.DECLARED
        if look.declared:
            return Verdict(AfterClick.REJECTED, Why.FLOW_SAYS_REJECTED, look.declared, sent=look.left_browser)
    if look.form_shown is None:
        return Need.FORM_SHOWN
    if not look.left_browser:
        if look.elapsed >= SETTLE_SECONDS and look.form_shown:
            if look.invalid is None:
                return Need.INVALID
            if look.invalid:
                return Verdict(AfterClick.REJECTED, Why.BROWSER_REFUSED, look.invalid, sent=False)
        return None
    if look.in_flight:
        return None
    if look.broken:
        return Verdict(AfterClick.UNKNOWN, Why.CONNECTION_BROKE)
    if look.form_shown:
        if look.refusals is None:
            return Need.REFUSALS
        # A refusal beside the form counts when it holds still for two looks, or the site said 4xx.
        if look.refusals and (look.refusals == look.previous or _client_error(look.status)):
            return Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, look.refusals)
        return None
    if look.silent_close:
        return Verdict(AfterClick.UNKNOWN, Why.CLOSED_SILENTLY)
    if look.status is None or look.status < 400:
        # A site whose session ended answers the post with its login page: nothing was filed. It
        # counts once it holds for two looks (the success check runs between them).
        if look.login_shown is None:
            return Need.LOGIN
        if look.login_shown and look.previous_login:
            if look.page_words is None:
                return Need.PAGE_WORDS
            words = look.page_words or (Refusal(None, look.heading or "a login page"),)
            return Verdict(AfterClick.REJECTED, Why.LOGIN_PAGE, words)
        return None
    if look.status is not None and look.status >= 500:
        return Verdict(AfterClick.UNKNOWN, Why.SERVER_ERROR)
    if _client_error(look.status):
        if look.page_words is None:
            return Need.PAGE_WORDS
        words = look.page_words or (Refusal(None, look.heading or f"HTTP {look.status}"),)
        return Verdict(AfterClick.REJECTED, Why.CLIENT_ERROR, words)
    return None


def _time_up(look: Look) -> Verdict:
    if look.stopped:
        return Verdict(AfterClick.UNKNOWN, Why.TIME_UP_GUARD, sent=look.left_browser)
    if not look.left_browser:
        return Verdict(AfterClick.NOT_SENT, Why.TIME_UP_NOTHING_SENT, sent=False)
    if look.in_flight:
        return Verdict(AfterClick.UNKNOWN, Why.TIME_UP_NO_ANSWER)
    return Verdict(AfterClick.UNKNOWN, Why.TIME_UP_NOT_SUCCESS)


# What a refusal is about, from the site's words (labels and messages) and its HTTP status.
_RATE_WORDS = re.compile(
    r"too many (requests|attempts|submissions)|rate.?limit|slow down|слишком (много|часто)|"
    r"повторите (попытку )?(через|позже)|превышен",
    re.I,
)
_CAPTCHA_WORDS = re.compile(
    r"captcha|капч|not a robot|не робот|код с картинки|символы с картинки|security code|"
    r"characters (shown|in the image)|проверочн\w* код|код (проверки|подтверждения с картинки)",
    re.I,
)
_SESSION_WORDS = re.compile(
    r"csrf|xsrf|session (has )?(expired|timed out|ended)|token (is )?(invalid|expired|missing|mismatch)|"
    r"(log|sign) ?in again|please (log|sign) in|page (has )?expired|сесси\w* (истекл|устарел|заверш)|"
    r"войдите|авторизуйтесь|срок действия (страницы|формы|сессии)",
    re.I,
)
_SESSION_STATUSES = (401, 403, 419, 440)


def refusal_kind(verdict: Verdict, status: int | None) -> RefusalKind:
    """What a rejection is about, for the advice: the field to fix, the session to renew,
    the CAPTCHA to type again, the wait, or the flow's address. Pure; tested on its table."""
    words = " ".join(f"{r.label or ''} {r.message}" for r in verdict.refusals)
    if status == 429 or _RATE_WORDS.search(words):
        return RefusalKind.RATE_LIMIT
    if _CAPTCHA_WORDS.search(words):
        return RefusalKind.CAPTCHA
    if verdict.why is Why.LOGIN_PAGE or status in _SESSION_STATUSES or _SESSION_WORDS.search(words):
        return RefusalKind.SESSION
    if verdict.why is Why.CLIENT_ERROR and status in (404, 405, 410):
        return RefusalKind.NOT_FOUND
    if verdict.why in (Why.FORM_WITH_ERROR, Why.BROWSER_REFUSED, Why.FLOW_SAYS_REJECTED):
        return RefusalKind.FIELDS
    return RefusalKind.OTHER
