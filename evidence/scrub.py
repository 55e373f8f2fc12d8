"""Take secrets out of a HAR before it goes into a package that will be sent to strangers.

Cookies, authorization headers, CSRF tokens and password/card fields in
query strings and form bodies (urlencoded, multipart, JSON) become
"[scrubbed]". The names of the fields stay, so the log still shows what was sent.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCRUBBED = "[scrubbed]"
SECRET_HEADERS = {
    "cookie", "set-cookie", "authorization", "proxy-authorization", "x-csrf-token", "x-xsrf-token",
    "x-csrftoken", "x-api-key", "x-auth-token", "x-access-token",
}
SECRET_FIELD = re.compile(r"pass|pwd|csrf|xsrf|token|secret|session|sid$|^pin$|cvv|cvc|card.?num|pan$|otp|auth", re.I)
MULTIPART_FIELD = re.compile(
    r'(Content-Disposition:\s*form-data;\s*name="(?P<name>[^"]*)"(?![^\r\n]*filename=)[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)'
    r"(?P<value>.*?)(?=\r?\n--)",
    re.S | re.I,
)


def secret(name: str) -> bool:
    return bool(SECRET_FIELD.search(name or ""))


def _headers(headers: list[dict]) -> None:
    for header in headers or []:
        if header.get("name", "").lower() in SECRET_HEADERS:
            header["value"] = SCRUBBED


def _params(params: list[dict]) -> None:
    for param in params or []:
        if secret(param.get("name", "")) and "value" in param:
            param["value"] = SCRUBBED


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (SCRUBBED if secret(k) and not isinstance(v, (dict, list)) else _json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def scrub_url(url: str) -> str:
    parts = urlsplit(url)
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


def scrub_har(har: dict) -> dict:
    for entry in har.get("log", {}).get("entries", []):
        request, response = entry.get("request", {}), entry.get("response", {})
        _headers(request.get("headers"))
        _headers(response.get("headers"))
        for cookie in request.get("cookies", []) + response.get("cookies", []):
            cookie["value"] = SCRUBBED
        if "url" in request:
            request["url"] = scrub_url(request["url"])
        _params(request.get("queryString"))
        post = request.get("postData")
        if post:
            _params(post.get("params"))
            if isinstance(post.get("text"), str):
                post["text"] = scrub_body(post["text"], post.get("mimeType", ""))
    return har
