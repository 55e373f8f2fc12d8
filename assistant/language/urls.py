"""Which origins a flow may name, and which URLs are safe to hand a browser.

Pure parsing and policy, no browser: the flow language checks `allowed_hosts`
and literal URLs with it at validation time, and `assistant.run.netguard`
enforces the same Policy inside the browser at run time.

URLs are parsed strictly: where Python's urlsplit and the browser's WHATWG
parser could disagree (a backslash, user@host, control characters, odd IPv4
spellings) the URL is refused rather than guessed at.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.translation import _


class DeclaresHosts(Protocol):
    """What a Policy reads of a flow (assistant.language.flow.Flow): its id, the hosts it
    declares, and where they are written. A protocol, so this module needs nothing of flow.py."""

    @property
    def id(self) -> str: ...

    @property
    def allowed_hosts(self) -> Iterable[str]: ...

    @property
    def allowed_resources(self) -> Iterable[str]: ...

    def position(self, loc: Any) -> tuple[int, int]: ...


DEFAULT_PORTS = {"http": 80, "https": 443}
# WebSockets belong to the origin of the page's scheme.
WS_SCHEMES = {"ws": "http", "wss": "https"}

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_IPV6 = re.compile(r"^\[[0-9a-f:.]+\]$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_DOTTED = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")


class UnsafeURL(ValueError):
    """A URL the browser must not be asked to open; the message says why."""


class SchemeRefused(UnsafeURL):
    def __init__(self, scheme: str):
        self.scheme = scheme
        super().__init__(
            _("a {scheme}: URL is not opened (a flow opens only http:// and https:// pages)").format(scheme=scheme)
        )


def _host(raw: str, what: str) -> str:
    host = raw.lower()
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURL(
                _("{what} has a host {host!r} that is not a valid domain name").format(what=what, host=raw)
            ) from None
    if _IPV6.match(host):
        return host
    if not _NAME.match(host):
        raise UnsafeURL(
            _("{what} has a host {host!r} that is not a plain domain name or IP address").format(what=what, host=raw)
        )
    # The browser reads a host whose last label is a number as IPv4 (0x7f.1 is 127.0.0.1):
    # only the plain dotted form is accepted, so both sides see the same address.
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]) and not _DOTTED.match(host):
        raise UnsafeURL(
            _(
                "{what} has a host {host!r} that a browser would read as a different IP address; "
                "write the address as four numbers, e.g. 127.0.0.1"
            ).format(what=what, host=raw)
        )
    return host


def _split_hostport(authority: str, what: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise UnsafeURL(_("{what} has an unclosed '[' in its host").format(what=what))
        host, rest = authority[: end + 1], authority[end + 1 :]
    else:
        host, colon, port_text = authority.partition(":")
        rest = f":{port_text}" if colon else ""
    port = None
    if rest:
        if not rest.startswith(":") or not rest[1:].isdigit() or not 0 < int(rest[1:]) < 65536:
            raise UnsafeURL(
                _("{what} has a port {port!r} that is not a number from 1 to 65535").format(what=what, port=rest[1:])
            )
        port = int(rest[1:])
    return host, port


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL a flow wants opened, or UnsafeURL."""
    what = _("the URL {url!r}").format(url=url)
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeURL(
            _("the URL {url!r} has a space or control character; browsers drop those silently").format(url=url)
        )
    if "\\" in url:
        raise UnsafeURL(
            _(
                "the URL {url!r} has a backslash, which browsers read as '/' and Python does not, "
                "so the host it opens is not the one checked"
            ).format(url=url)
        )
    scheme_match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if not scheme_match:
        raise UnsafeURL(
            _("the URL {url!r} is not absolute; give the full address, e.g. https://example.com/page").format(url=url)
        )
    scheme = scheme_match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise SchemeRefused(scheme)
    rest = url[scheme_match.end() :]
    if not rest.startswith("//"):
        raise UnsafeURL(
            _("the URL {url!r} has no '//' after '{scheme}:'; write {scheme}://host/path").format(
                url=url, scheme=scheme
            )
        )
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise UnsafeURL(
            _(
                "the URL {url!r} has a user name or password before the host (user@host), "
                "a trick to make one host look like another; it is refused"
            ).format(url=url)
        )
    host, port = _split_hostport(authority, what)
    if not host:
        raise UnsafeURL(_("the URL {url!r} has no host").format(url=url))
    return scheme, _host(host, what), port or DEFAULT_PORTS[scheme]


def display(scheme: str, host: str, port: int) -> str:
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


# ------------------------------------------------------------------ origins


@dataclass(frozen=True)
class Origin:
    """One allowed_hosts / allowed_resources entry."""

    text: str
    schemes: frozenset[str]
    host: str  # may start with "*."
    port: int | None  # None: the scheme's default port

    def matches(self, scheme: str, host: str, port: int) -> bool:
        scheme = WS_SCHEMES.get(scheme, scheme)
        if scheme not in self.schemes:
            return False
        if port != (self.port if self.port is not None else DEFAULT_PORTS[scheme]):
            return False
        if self.host.startswith("*."):
            return host == self.host[2:] or host.endswith(self.host[1:])
        return host == self.host


def parse_entry(text: str) -> Origin:
    """`host`, `host:port`, `*.example.com[:port]` or `scheme://host[:port]`; ValueError says why not."""
    what = f"{text!r}"
    raw = text.strip()
    schemes = frozenset(DEFAULT_PORTS)
    if "://" in raw:
        scheme, _sep, raw = raw.partition("://")
        scheme = scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(_("{entry}: only http:// and https:// origins can be allowed").format(entry=what))
        schemes = frozenset({scheme})
        raw = raw[:-1] if raw.endswith("/") else raw
    if not raw or any(c in raw for c in "/?#@\\ \t") or any(ord(c) < 0x20 for c in raw):
        raise ValueError(
            _("{entry} is not a host; write host, host:port, *.example.com or https://host:port").format(entry=what)
        )
    try:
        host, port = _split_hostport(raw, what)
        wildcard = host.startswith("*.")
        host = ("*." if wildcard else "") + _host(host[2:] if wildcard else host, what)
    except UnsafeURL as exc:
        raise ValueError(str(exc)) from None
    if nobodys_address(host):
        raise ValueError(
            _(
                "{entry}: a link-local, unspecified or multicast address is no provider's (a cloud's "
                "metadata service answers on one); name the provider's host"
            ).format(entry=what)
        )
    if "*" in host[1:]:
        raise ValueError(_("{entry}: '*' only as the first label, e.g. *.example.com").format(entry=what))
    if wildcard and "." not in host[2:]:
        raise ValueError(
            _("{entry} covers a whole top-level domain; name the provider's domain, e.g. *.example.com").format(
                entry=what
            )
        )
    return Origin(text, schemes, host, port)


def nobodys_address(host: str) -> bool:
    """An address a flow may not allow: this machine's link-local neighbours (the metadata service
    of a cloud at 169.254.169.254 among them), "any address", multicast and broadcast."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address == ipaddress.IPv4Address("255.255.255.255")
    )


def origin_of(url: str) -> str:
    """The exact origin (scheme://host:port) of an http(s) URL, e.g. a --base-url."""
    scheme, host, port = parse_url(url)
    return f"{scheme}://{host}:{port}"


@dataclass
class Policy:
    """What one run may reach: the flow's allowed hosts and resources plus run-only origins."""

    flow_id: str
    line: int  # of allowed_hosts in the flow file
    hosts: list[Origin]
    resources: list[Origin] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    anywhere: bool = False  # every http(s) origin (Policy.open)

    @classmethod
    def for_flow(cls, flow: DeclaresHosts, extra_origins: Iterable[str] = ()) -> Policy:
        line = flow.position(("allowed_hosts",))[0]
        extra = [o for o in extra_origins if o]
        hosts = [parse_entry(e) for e in [*flow.allowed_hosts, *extra]]
        resources = [parse_entry(e) for e in flow.allowed_resources]
        return cls(flow.id, line, hosts, resources, extra)

    @classmethod
    def open(cls, what: str) -> Policy:
        """Every http(s) origin: pages a person asks for by address (`assistant capture`, a
        snapshot's page), where nothing secret is typed. Their browser still goes through the
        host guard's proxy, which is what looks host names up (see assistant.run.browser)."""
        return cls(what, 0, [], anywhere=True)

    def allows(self, scheme: str, host: str, port: int) -> bool:
        if self.anywhere:
            return scheme in DEFAULT_PORTS or scheme in WS_SCHEMES
        return any(o.matches(scheme, host, port) for o in self.hosts)

    def allows_resource(self, scheme: str, host: str, port: int) -> bool:
        return any(o.matches(scheme, host, port) for o in self.resources)

    def listed(self) -> str:
        return ", ".join(o.text for o in self.hosts)

    def check(self, url: str) -> None:
        """Raise UnsafeURL unless the browser may open this URL."""
        if url == "about:blank":
            return
        scheme, host, port = parse_url(url)
        if not self.allows(scheme, host, port):
            raise UnsafeURL(
                _(
                    "{host} is not in allowed_hosts ({allowed}); add it to the flow if it really belongs to the provider"
                ).format(host=display(scheme, host, port), allowed=self.listed())
            )

    def where(self) -> str:
        return f"allowed_hosts of flow {self.flow_id}, line {self.line}"
