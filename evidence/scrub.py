"""Take secrets out of what goes into a package that will be sent to strangers.

By name: every cookie, authorization headers, headers ending in -token/-key,
and query/form/JSON parameters whose name has a word like token, key, secret, pass, pin,
session (and the usual CSRF/card fields) become "[scrubbed]"; the names stay,
so the log still shows what was sent.

By value: whatever the run typed into a password field or a field marked
`secret: true`, and every cookie value, is replaced wherever it appears, in
its raw, URL-encoded, form-encoded, JSON-escaped and HTML-escaped forms,
because a page can copy a secret anywhere (a redirect's Location, a header
set by script, a parameter with an innocent name).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

SCRUBBED = "[scrubbed]"
SECRET_HEADERS = {
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
    "x-csrf-token",
    "x-xsrf-token",
    "x-csrftoken",
    "x-api-key",
    "x-auth-token",
    "x-access-token",
}
SECRET_HEADER_SUFFIXES = ("-token", "-key", "-secret", "-session", "-auth")
# Names are matched word by word (api_key, apiKey, X-Session-Token), not as
# substrings: "author", "opinion", "shipping" and "keyword" are evidence of what
# was sent, and blanking them would make the log useless.
SECRET_WORDS = frozenset(
    {
        "pw",
        "pwd",
        "pass",
        "passwd",
        "password",
        "passcode",
        "passphrase",
        "pin",
        "pincode",
        "token",
        "secret",
        "session",
        "sessionid",
        "sessid",
        "sid",
        "csrf",
        "xsrf",
        "key",
        "apikey",
        "otp",
        "totp",
        "cvv",
        "cvv2",
        "cvc",
        "auth",
        "authorization",
        "pan",
        "ccnum",
        "cardnumber",
        "jwt",
        "bearer",
    }
)
SECRET_ENDINGS = ("token", "secret", "password", "passwd", "pwd", "csrf", "xsrf", "sessid", "sessionid", "apikey")
CARD_NUMBER = re.compile(r"card.?(num|no\b)|cc.?num", re.I)
MULTIPART_FIELD = re.compile(
    r'(Content-Disposition:\s*form-data;\s*name="(?P<name>[^"]*)"(?![^\r\n]*filename=)[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)'
    r"(?P<value>.*?)(?=\r?\n--)",
    re.S | re.I,
)
# Shorter values would blank out ordinary text ("1", "ok"); no real secret is this short.
MIN_SECRET = 4
# Cookies also carry settings ("lang=ru", "theme=dark"); a session or tracking id is longer.
MIN_COOKIE = 8


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name or "")
    return re.findall(r"[a-z0-9]+", spaced.lower())


def secret(name: str) -> bool:
    """True for a parameter or field name that says it holds a secret."""
    words = _words(name)
    if any(w in SECRET_WORDS or w.endswith(SECRET_ENDINGS) for w in words):
        return True
    return bool(CARD_NUMBER.search(name or ""))


def secret_header(name: str) -> bool:
    name = (name or "").lower()
    return name in SECRET_HEADERS or name.endswith(SECRET_HEADER_SUFFIXES)


class Secrets:
    """The values one run must never write down, collected as the run learns them."""

    def __init__(self, values: Iterable[str] = ()):
        self._forms: list[str] = []  # longest first, so a value is replaced before a part of it
        self._raw: list[bytes] = []  # the same, encoded, for snapshots
        self.values: set[str] = set()
        self.typed: set[str] = set()  # what the run itself typed (add_typed): a page may show it
        self._typed_forms: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: Any, min_length: int = MIN_SECRET) -> None:
        value = "" if value is None else str(value)
        if len(value) < max(min_length, MIN_SECRET) or value in self.values:
            return
        self.values.add(value)
        forms = Secrets._forms_of([value])
        known = set(self._forms)
        self._forms += [form for form in forms if len(form) >= MIN_SECRET and form not in known]
        self._forms.sort(key=len, reverse=True)
        self._raw = [form.encode("utf-8") for form in self._forms]

    def add_typed(self, value: str) -> None:
        """A value the run typed into a password or secret field: scrubbed like any other, and
        looked for on the page itself, where a page may echo it (see Capturer's masking)."""
        self.add(value)
        if value in self.values:  # not too short to be one
            self.typed.add(value)
            self._typed_forms = Secrets._forms_of(self.typed)

    def holds_typed(self, text: str) -> bool:
        """Whether `text` holds a typed value, as it is or encoded (a URL made of a password)."""
        return any(form in text for form in self._typed_forms)

    @staticmethod
    def _forms_of(values: Iterable[str]) -> set[str]:
        """Each value as it may appear written down: raw, URL-, form-, HTML- and JSON-encoded."""
        forms: set[str] = set()
        for value in values:
            forms |= {
                value,
                quote(value, safe=""),
                quote(value),
                quote_plus(value),
                html.escape(value),
                json.dumps(value)[1:-1],
                json.dumps(value, ensure_ascii=False)[1:-1],
            }
        return {form for form in forms if len(form) >= MIN_SECRET}

    def __bool__(self) -> bool:
        return bool(self.values)

    def text(self, text: str) -> str:
        if not self._forms or not isinstance(text, str):
            return text
        for form in self._forms:
            if form in text:
                text = text.replace(form, SCRUBBED)
        return text

    def bytes(self, data: bytes) -> bytes:
        if not self._forms:
            return data
        for raw in self._raw:
            if raw in data:
                data = data.replace(raw, SCRUBBED.encode("ascii"))
        return data

    def url(self, url: str | None) -> str | None:
        """A URL as it may be written down; the values of its secret-named parameters are
        learned, so a page that echoes them (a snapshot's Content-Location) is scrubbed too."""
        if url is None:
            return None
        for name, value in _query(url):
            if secret(name):
                self.add(value)
        return self.text(scrub_url(url))

    def deep(self, value: Any) -> Any:
        """Every string in a JSON-like structure, by value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        return value


def _query(url: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return []


def _headers(headers: list[dict[str, Any]] | None, learn: Secrets) -> None:
    for header in headers or []:
        name = header.get("name", "")
        if secret_header(name):
            if name.lower() not in ("cookie", "set-cookie"):  # cookie values are learned one by one
                learn.add(header.get("value"))
            header["value"] = SCRUBBED
        elif name.lower() in ("location", "referer", "content-location", "refresh"):
            header["value"] = learn.url(header.get("value", ""))


def _params(params: list[dict[str, Any]] | None, learn: Secrets) -> None:
    for param in params or []:
        if secret(param.get("name", "")) and "value" in param:
            learn.add(param["value"])
            param["value"] = SCRUBBED


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (SCRUBBED if secret(k) and not isinstance(v, (dict, list)) else _json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def scrub_url(url: str) -> str:
    """Secret-named query parameters of a URL (absolute, relative, or 'url=…' of a Refresh header)."""
    if not url or "?" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    query = [(k, SCRUBBED if secret(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]")))


def scrub_body(text: str, mime: str) -> str:
    mime = (mime or "").lower()
    if "x-www-form-urlencoded" in mime:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, SCRUBBED if secret(k) else v) for k, v in pairs], safe="[]")
    if "multipart/form-data" in mime:
        return MULTIPART_FIELD.sub(
            lambda m: m.group(1) + (SCRUBBED if secret(m.group("name")) else m.group("value")), text
        )
    if "json" in mime:
        try:
            return json.dumps(_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            return text
    return text


def cookie_values(har: dict[str, Any]) -> list[str]:
    """Every cookie value a HAR saw, so it can be scrubbed wherever else it turns up."""
    out: list[str] = []
    for entry in har.get("log", {}).get("entries", []):
        for side in (entry.get("request", {}), entry.get("response", {})):
            out += [c.get("value", "") for c in side.get("cookies", []) or []]
    return out


def scrub_har(har: dict[str, Any], values: Secrets | Iterable[str] | None = None) -> dict[str, Any]:
    found = values if isinstance(values, Secrets) else Secrets(values or ())
    for value in cookie_values(har):
        found.add(value, MIN_COOKIE)
    for entry in har.get("log", {}).get("entries", []):
        request, response = entry.get("request", {}), entry.get("response", {})
        _headers(request.get("headers"), found)
        _headers(response.get("headers"), found)
        for cookie in request.get("cookies", []) + response.get("cookies", []):
            cookie["value"] = SCRUBBED
        if "url" in request:
            request["url"] = found.url(request["url"])
        if response.get("redirectURL"):
            response["redirectURL"] = found.url(response["redirectURL"])
        _params(request.get("queryString"), found)
        post = request.get("postData")
        if post:
            _params(post.get("params"), found)
            if isinstance(post.get("text"), str):
                post["text"] = scrub_body(post["text"], post.get("mimeType", ""))
    for page in har.get("log", {}).get("pages", []):
        if isinstance(page.get("title"), str):
            page["title"] = scrub_url(page["title"])
    scrubbed: dict[str, Any] = found.deep(har)
    return scrubbed
