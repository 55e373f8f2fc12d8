"""Which origins a flow's browser may talk to, enforced inside the browser.

A flow file and every page it opens are hostile input. Checking `page.url`
after a step is too late: the redirect, the form post or the beacon has
already left. So every BrowserContext that runs a flow gets a route on all
requests (pop-ups and frames included, since routes are per context), a
WebSocket route, and no service workers (their traffic bypasses routing).
A request to an origin the flow did not declare is aborted before it is
sent; the runner then stops with a `blocked:` message naming the host.

What may be reached is decided by `assistant.language.urls.Policy`; this
module only enforces it.
"""

from __future__ import annotations

import json
import re
import selectors
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from assistant.language.urls import DEFAULT_PORTS, WS_SCHEMES, Policy, display, nobodys_address
from assistant.run.browser import NO_LOOKUPS_ARG, WEBRTC_ARG, BrowserChoice
from assistant.translation import _

if TYPE_CHECKING:
    import socket

    from playwright.sync_api import BrowserContext, Page, Request, Response, Route, WebSocketRoute

    from evidence import EvidencePackage
    from evidence.scrub import Secrets

GATE_MARK = "support-assistant"
# The gate's own answer when the site closed the connection without answering (X-Gateway-Error marks it).
UPSTREAM_SILENT_TITLE = "No answer: the site closed the connection"
_UPSTREAM_SILENT_BODY = (
    f"<!doctype html><title>{UPSTREAM_SILENT_TITLE}</title><h1>{UPSTREAM_SILENT_TITLE}</h1>"
    "<p>The site closed the connection before it answered; the request may have reached it.</p>"
).encode()
UPSTREAM_SILENT = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
    b"X-Gateway-Error: %s\r\nContent-Length: %d\r\n\r\n%s"
    % (GATE_MARK.encode(), len(_UPSTREAM_SILENT_BODY), _UPSTREAM_SILENT_BODY)
)
# The gate's answer when it could not open a connection to the site (refused, no such name,
# unreachable, timed out): not a byte of the request reached it. X-Gateway-Stage says so to the
# run (outcome.SendWatch), which then knows the request was not sent.
NOT_CONNECTED = "not-connected"


def not_connected_answer(target: str, reason: str, *, tunnel: bool) -> bytes:
    title = f"Not sent: {target} could not be reached ({reason})"
    body = b"" if tunnel else (f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>").encode()
    return (
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
        b"X-Gateway-Error: %s\r\nX-Gateway-Stage: %s\r\nX-Gateway-Reason: %s\r\nContent-Length: %d\r\n\r\n%s"
        % (GATE_MARK.encode(), NOT_CONNECTED.encode(), reason.encode("ascii", "replace"), len(body), body)
    )


class NobodysAddress(OSError):
    """A host whose every address is link-local, unspecified or multicast: no provider's."""


def connect_failure(exc: OSError) -> str:
    """Why a connection to the site could not be opened, plainly."""
    if isinstance(exc, NobodysAddress):
        return "a link-local, unspecified or multicast address: not connected"
    if isinstance(exc, socket.gaierror):
        return "no such host name"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer to the connection"
    return (exc.strerror or type(exc).__name__).lower()


SUBRESOURCES = frozenset({"image", "stylesheet", "font", "script", "media"})
# What the page guard calls when a page reaches for a channel it turned off.
REPORT_BINDING = "__supportAssistantRefused"
# WebRTC and WebTransport connect outside any proxy and are not routed. A browser this tool
# launches already keeps WebRTC to the proxy (browser.WEBRTC_ARG), which takes none of it; a
# browser it did not launch (--cdp, --browser-endpoint) may not. So in every frame of every
# page, whatever the browser, they are turned off before the page's own scripts run: the names
# are made read-only and unremovable, and a constructor throws as in a browser whose policy
# forbids them. Playwright's init scripts run in every frame, blank and srcdoc frames and
# pop-ups included. Workers have no RTCPeerConnection, but do have WebTransport, and no init
# script runs in them: there only the proxy holds it (a browser on this machine); see docs/security.md,
# "Known limits", for a browser on another machine.
PAGE_GUARD = (
    r"""(() => {
  const bound = globalThis.REPORT_BINDING;  // the page may replace the global later, not this
  const report = (name) => {
    try { const f = typeof bound === 'function' ? bound : globalThis.REPORT_BINDING; if (typeof f === 'function') f(name); }
    catch (e) {}
  };
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'WebTransport']) {
    if (!(name in globalThis)) continue;
    const refused = function () {
      report(name);
      throw new DOMException(name + ' is turned off while support-assistant runs', 'NotAllowedError');
    };
    try {
      Object.defineProperty(globalThis, name, {value: refused, writable: false, configurable: false, enumerable: false});
    } catch (e) {}
  }
})();"""
).replace("REPORT_BINDING", REPORT_BINDING)


# -------------------------------------------------------------------- guard

KIND_WORDS = {
    "open": "to open",
    "popup": "to open a pop-up at",
    "form": "to send a form to",
    "data": "to send data to",
    "frame": "to load a frame from",
    "socket": "to open a WebSocket to",
    "scheme": "to open",
}
# Channels the page guard turns off, as a note names them.
CHANNEL_WORDS = {
    "RTCPeerConnection": "a WebRTC connection",
    "webkitRTCPeerConnection": "a WebRTC connection",
    "WebTransport": "a WebTransport session",
}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _endpoint(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL the browser already parsed; ws/wss count as http/https."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    scheme = WS_SCHEMES.get(scheme, scheme)
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def outside(policy: Policy) -> re.Pattern[str]:
    """A pattern for every URL that is not on one of the policy's allowed origins.

    Matched by Playwright's driver (JavaScript) and again by its Python side, on the
    browser's own form of the URL: lower-case scheme and host, no default port. An
    allowed origin is written out exactly and must be followed by '/', '?', '#' or the
    end, so `http://host:80801/` or `http://host@elsewhere/` are not taken for `http://host`;
    whatever the pattern does not recognise (another spelling, user@host, a wildcard label
    with unusual characters) matches it, and _judge decides."""
    if policy.anywhere:
        return re.compile(r"^(?!(?:https?|wss?)://)")  # only other schemes are judged
    prefixes = []
    for origin in policy.hosts:
        for scheme in sorted(origin.schemes):
            port = origin.port if origin.port is not None else DEFAULT_PORTS[scheme]
            shown = "" if port == DEFAULT_PORTS[scheme] else f":{port}"
            host = re.escape(origin.host[2:]) if origin.host.startswith("*.") else re.escape(origin.host)
            if origin.host.startswith("*."):
                host = r"(?:[a-z0-9_-]+\.)*" + host
            prefixes.append(f"{scheme}://{host}{shown}")
    if not prefixes:
        return re.compile("^")
    # (?![\s\S]) is the end of the text in both JavaScript and Python ($ is not, before a newline).
    return re.compile("^(?!(?:" + "|".join(prefixes) + r")(?:[/?#]|(?![\s\S])))")


def _origin_only(url: str) -> str:
    # What a blocked request carried in its path or query is exactly what must not be kept.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


class Guard:
    """Installs the route on a context and remembers what it blocked.

    Route handlers run on Playwright's dispatcher: they must not raise. They
    record; the runner asks `violation` after each step and raises there.
    """

    def __init__(self, policy: Policy, log: Callable[[str], None] = lambda m: None):
        self.policy = policy
        self.log = log
        self.page: Page | None = None  # the run's own page; main-frame navigations of others are pop-ups
        # The run's secrets (the capturer's): a request to an allowed_resources host that
        # carries a typed one is refused like data to another host.
        self.secrets: Secrets | None = None
        self.blocked: list[dict[str, Any]] = []
        self.violation: dict[str, Any] | None = None
        self._noted: set[str] = set()
        self._files: Path | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.gate: Gate | None = None

    # ---------------------------------------------------------- installing

    def start_gate(self) -> Guard:
        """Also send the context through a checking proxy (for a browser on this machine)."""
        self.gate = Gate(self)
        return self

    def start_gate_if_local(self, choice: BrowserChoice) -> bool:
        """The checking proxy, where the browser can reach it (this machine); False if not.
        Notes in the log what the browser's own flags do not hold (see held_by_flags)."""
        webrtc, lookups = held_by_flags(choice)
        unheld = []
        if not webrtc:
            unheld.append(_("WebRTC and WebTransport are turned off by a script inside every page, not by its flags"))
        if not lookups:
            unheld.append(_("it looks host names up itself, so a page could make it send a name to a DNS server"))
        if unheld:
            self.log(
                _("note: this browser was not started by the assistant: {reasons}").format(reasons="; ".join(unheld))
            )
        if not browser_is_local(choice):
            return False
        self.start_gate()
        return True

    def close(self) -> None:
        self._closing.set()
        if self.gate is not None:
            self.gate.close()

    def watch_disk(self, measure: Callable[[], int], limit: int, every: float = 1.0) -> None:
        """Stop the run (a violation, as for a blocked host) once `measure()` passes `limit`
        bytes: what the page made the browser write to this machine's disk."""

        def watch() -> None:
            while not self._closing.wait(every):
                try:
                    used = measure()
                except Exception:  # a folder removed under it: the next look tells
                    continue
                if used > limit:
                    with self._lock:
                        self._add(
                            {
                                "time": _now(),
                                "url": "-",
                                "method": "-",
                                "resource_type": "disk",
                                "host": f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit} bytes",
                                "kind": "disk",
                                "stopped": True,
                            }
                        )
                    return

        threading.Thread(target=watch, name="netguard-disk", daemon=True).start()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def context_options(self) -> dict[str, Any]:
        """new_context() arguments: no service workers (their requests bypass routes), no
        downloads (a page pushed 400 MB into the home in one run); the gate."""
        options: dict[str, Any] = {"service_workers": "block", "accept_downloads": False}
        if self.gate is not None:
            options.update(self.gate.context_options())
        return options

    def install(self, context: BrowserContext | Page) -> Guard:
        """Guard a BrowserContext (or, where the context is not ours to change, one Page)."""
        # Every request but those to an allowed origin comes to _on_route; those it would only
        # let through, and Playwright lets them through itself, without a round trip to Python
        # (the gate still checks their connections).
        context.route(outside(self.policy), self._on_route)
        context.route_web_socket(lambda url: True, self._on_socket)
        context.expose_binding(REPORT_BINDING, self._on_refused_channel)
        context.add_init_script(PAGE_GUARD)
        # What the gate turned away comes back as a failed request or its 403: told by what it was.
        context.on("requestfailed", self._on_failed)
        context.on("response", self._on_response)
        return self

    def allow_files_under(self, folder: Path) -> None:
        """After the run: the report is rendered from file:// in this context."""
        self._files = Path(folder).resolve()

    # ------------------------------------------------------------ deciding

    def _on_route(self, route: Route, request: Request) -> None:
        try:
            allowed = self._judge(request)
        except Exception:  # a request we cannot even describe does not leave
            allowed = False
        try:
            if allowed:
                route.fallback()
            else:
                route.abort("blockedbyclient")
        except Exception:
            pass  # the page closed meanwhile; the request went nowhere

    def _judge(self, request: Request) -> bool:
        url = request.url
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file" and self._files is not None:
            path = Path(url2pathname(parts.path)).resolve()
            if path == self._files or self._files in path.parents:
                return True
        if scheme in ("data", "blob"):
            return True  # no network; what their scripts request comes through here again
        if scheme not in DEFAULT_PORTS:
            self._record(request, scheme, f"{scheme}:", "scheme", stop=True)
            return False
        _scheme, host, port = _endpoint(url)
        if self.policy.allows(scheme, host, port):
            return True
        method = request.method.upper()
        kind = request.resource_type
        if method == "GET" and kind in SUBRESOURCES and self.policy.allows_resource(scheme, host, port):
            if not self._carries_secret(url):
                return True
            # A picture's address made of a typed password: a resource host takes pictures, not data.
            self._record(request, scheme, display(scheme, host, port), "data", stop=True)
            return False
        what, stop = self._classify(request, method, kind)
        self._record(request, scheme, display(scheme, host, port), what, stop=stop)
        return False

    def _carries_secret(self, url: str) -> bool:
        """Whether a URL holds a value the run typed into a password or secret field (as it is,
        or URL-encoded: the forms evidence.scrub.Secrets knows)."""
        return self.secrets is not None and bool(self.secrets.holds_typed(url))

    def _classify(self, request: Request, method: str, kind: str) -> tuple[str, bool]:
        if request.is_navigation_request():
            try:
                frame = request.frame
            except Exception:  # a pop-up's first request comes before its frame exists
                return "popup", True
            if frame.parent_frame is not None:
                return "frame", True
            if method not in ("GET", "HEAD"):
                return "form", True
            if self.page is not None and frame.page != self.page:
                return "popup", True
            return "open", True
        if method not in ("GET", "HEAD") or kind in ("fetch", "xhr", "eventsource", "websocket", "ping"):
            # A script talking to another host, whatever the method: a GET carries data in its URL.
            return "data", True
        return kind, False

    def _on_failed(self, request: Request) -> None:
        try:
            if "BLOCKED_BY_CLIENT" in (request.failure or ""):
                return  # the route's own abort, recorded there
            self._late(request)
        except Exception:
            pass

    def _on_response(self, response: Response) -> None:
        try:
            if response.status == 403 and response.headers.get("x-blocked-by") == GATE_MARK:
                self._late(response.request)
        except Exception:
            pass

    def _late(self, request: Request) -> None:
        scheme, host, port = _endpoint(request.url)
        if scheme not in DEFAULT_PORTS:
            return
        if self.policy.allows(scheme, host, port) or self.policy.allows_resource(scheme, host, port):
            return
        what, stop = self._classify(request, request.method.upper(), request.resource_type)
        self._record(request, scheme, display(scheme, host, port), what, stop=stop)

    def _on_refused_channel(self, source: dict[str, Any], name: object) -> None:
        """The page guard turned a WebRTC or WebTransport connection away: listed, and noted once.
        Not a stop: fraud-prevention scripts on real login pages probe WebRTC for the machine's
        addresses. What the page meant to connect to is not kept (its server names can carry data)."""
        try:
            what = CHANNEL_WORDS.get(str(name), "a connection the guard does not route")
            try:
                host = urlsplit(source["frame"].url).netloc or "-"
            except Exception:
                host = "-"
            with self._lock:
                self.blocked.append(
                    {
                        "time": _now(),
                        "url": str(name) if str(name) in CHANNEL_WORDS else "?",
                        "method": "-",
                        "resource_type": "webrtc" if "RTC" in str(name) else "webtransport",
                        "host": host,
                        "kind": "channel",
                        "stopped": False,
                    }
                )
                if what not in self._noted:
                    self._noted.add(what)
                    self.log(
                        _(
                            "note: a page on {host} tried to open {what}; they are off during a run, nothing was sent"
                        ).format(host=host, what=what)
                    )
        except Exception:
            pass

    def _on_socket(self, ws: WebSocketRoute) -> None:
        try:
            scheme, host, port = _endpoint(ws.url)
            if scheme in DEFAULT_PORTS and self.policy.allows(scheme, host, port):
                ws.connect_to_server()
                return
            with self._lock:
                self._add(
                    {
                        "time": _now(),
                        "url": _origin_only(ws.url),
                        "method": "GET",
                        "resource_type": "websocket",
                        "host": display(scheme, host, port),
                        "kind": "socket",
                        "stopped": True,
                    }
                )
            ws.close(code=1008, reason="blocked by support-assistant: host not in allowed_hosts")
        except Exception:
            pass

    def _record(self, request: Request, scheme: str, host: str, kind: str, *, stop: bool) -> None:
        row: dict[str, Any] = {
            "time": _now(),
            "url": _origin_only(request.url),
            "method": request.method,
            "resource_type": request.resource_type,
            "host": host,
            "kind": kind,
            "stopped": stop,
        }
        with self._lock:
            self._add(row)

    def _add(self, row: dict[str, Any]) -> None:
        if self._files is not None:
            row["stopped"] = False  # after the run: blocked all the same, but nothing left to stop
        self.blocked.append(row)
        if row["kind"] == "connection":
            return  # the gate's own record; the request it belongs to (if any) is told by _late
        if row["stopped"]:
            if self.violation is None:
                self.violation = row
        elif row["host"] not in self._noted:
            self._noted.add(row["host"])
            self.log(
                _(
                    "note: blocked {kind} from {host} (not in allowed_hosts or "
                    "allowed_resources of flow {flow}); the run goes on without it"
                ).format(kind=row["resource_type"], host=row["host"], flow=self.policy.flow_id)
            )

    def refused(self, host: str, port: int) -> None:
        """The gate turned a connection away: a hop the route never saw (a redirect), or the
        browser's own background traffic. Kept in the list; the page's request is told by _late."""
        shown = display("https" if port == 443 else "http", host, port)
        with self._lock:
            self._add(
                {
                    "time": _now(),
                    "url": f"//{shown}",
                    "method": "?",
                    "resource_type": "connection",
                    "host": shown,
                    "kind": "connection",
                    "stopped": False,
                }
            )

    # ----------------------------------------------------------- reporting

    def message(self, row: dict[str, Any] | None = None) -> str | None:
        row = row or self.violation
        if row is None:
            return None
        if row["kind"] == "scheme":
            return f"blocked: the page tried to open a {row['host']} URL, which a flow never opens"
        if row["kind"] == "disk":
            return (
                f"stopped: the browser wrote more than {row['host']} to this machine's disk during the run "
                "(what the page stored); nothing more was written"
            )
        return f"blocked: the page tried {KIND_WORDS[row['kind']]} {row['host']} (not in {self.policy.where()})"

    def jsonl(self) -> bytes:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.blocked).encode("utf-8")

    def save(self, package: EvidencePackage) -> None:
        """Keep the list of blocked requests with the evidence (none: no file)."""
        if self.blocked:
            package.add_bytes(
                "logs/blocked.jsonl",
                self.jsonl(),
                "application/x-ndjson",
                role="log",
                captured_at=datetime.now(UTC),
                meta={"entries": len(self.blocked)},
            )


# -------------------------------------------------------------------- gate


def held_by_flags(choice: BrowserChoice) -> tuple[bool, bool]:
    """(WebRTC kept to the proxy, no host name looked up by the browser), as far as the browser's
    own command-line flags hold them: only for a browser started here with launch_args."""
    launched = choice.kind in ("path", "system", "managed")
    return launched and WEBRTC_ARG in choice.args, launched and NO_LOOKUPS_ARG in choice.args


def browser_is_local(choice: BrowserChoice) -> bool:
    """Can this browser reach a proxy on 127.0.0.1 here? (A remote one could not.)"""
    if choice.kind not in ("endpoint", "cdp"):
        return True
    return (urlsplit(choice.target).hostname or "").lower() in ("127.0.0.1", "localhost", "::1")


class Gate:
    """A local HTTP proxy for one run's context: the second wall behind the route.

    Playwright does not route the hops of an HTTP redirect, nor requests that
    belong to no frame; the browser sends those straight out. Through this
    proxy every connection the context makes is checked against the policy
    (host and port; TLS stays end to end inside CONNECT), so a redirect to
    another host never reaches it. Refusals are reported to the guard.
    """

    def __init__(self, guard: Guard):

        self.guard = guard
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = False
        self._peers: dict[tuple[str, int], dict[str, Any]] = {}
        self._locals: dict[str, str] = {}  # "host:port" → this machine's address on the connection to it
        self._thread = threading.Thread(target=self._serve, name="netguard-gate", daemon=True)
        self._thread.start()

    def context_options(self) -> dict[str, Any]:
        # Playwright adds <-loopback>, so even 127.0.0.1 goes through the gate.
        return {"proxy": {"server": self.url}}

    def peer(self, url: str) -> dict[str, Any] | None:
        """The address the gate last connected to for this URL's host and port."""
        _scheme, host, port = _endpoint(url)
        key = (host, port)
        return self._peers.get(key)

    def _connect(self, host: str, port: int) -> socket.socket:
        """A connection to host, never to a link-local, unspecified or multicast address: a flow
        cannot allow one (urls.parse_entry), and a name that resolves to one (a cloud's metadata
        service at 169.254.169.254, by a hostile page's DNS) or a page opened by address
        (Policy.open) is refused here, where the name is looked up."""
        name = host.strip("[]")
        found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        usable = [info for info in found if not nobodys_address(str(info[4][0]))]
        if not usable:
            raise NobodysAddress(f"{host}: {found[0][4][0] if found else 'no address'}")
        failure: OSError | None = None
        for family, kind, proto, _name, address in usable:
            upstream = socket.socket(family, kind, proto)
            upstream.settimeout(60)
            try:
                upstream.connect(address)
                break
            except OSError as exc:
                upstream.close()
                failure = exc
        else:
            assert failure is not None
            raise failure
        _no_delay(upstream)
        address = upstream.getpeername()
        self._peers[(host, port)] = {"ipAddress": address[0], "port": address[1]}
        self._locals[f"{host}:{port}"] = upstream.getsockname()[0]
        return upstream

    def local_addresses(self) -> dict[str, str]:
        """For each site connected to: the address this machine connected from."""
        return dict(self._locals)

    def close(self) -> None:
        """Stop listening, and end the thread that accepts: on Linux closing a listening socket
        does not wake a thread blocked in accept(); shutting it down does."""
        self._closed = True
        try:
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._server.close()
        except OSError:
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- serving

    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _address = self._server.accept()
                _no_delay(client)
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _allows(self, schemes: Iterable[str], host: str, port: int) -> bool:
        policy = self.guard.policy
        return any(policy.allows(s, host, port) or policy.allows_resource(s, host, port) for s in schemes)

    def _handle(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            reader = _Reader(client)
            head = _read_head(reader)
            if head is None:
                return
            request_line, headers = head
            method, target, version = (request_line.split(" ") + ["", ""])[:3]
            if method.upper() == "CONNECT":
                host, port = _split_target(target)
                if not self._allows(("https", "http"), host, port):
                    self.guard.refused(host, port)
                    client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                try:
                    upstream = self._connect(host, port)
                except OSError as exc:  # nothing of the request left: TLS had not even begun
                    client.sendall(not_connected_answer(f"{host}:{port}", connect_failure(exc), tunnel=True))
                    return
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(client, upstream, reader.take())
                return
            parts = urlsplit(target)
            scheme = (parts.scheme or "http").lower()
            host = (parts.hostname or "").lower()
            port = parts.port or DEFAULT_PORTS.get(scheme, 80)
            policy = self.guard.policy
            # A resource host takes no data: only GET/HEAD (inside CONNECT the method is not visible).
            allowed = scheme == "http" and (
                policy.allows("http", host, port)
                or (method.upper() in ("GET", "HEAD") and policy.allows_resource("http", host, port))
            )
            if not allowed:
                self.guard.refused(host, port)
                body = b"blocked by support-assistant: this host is not in the flow's allowed_hosts\n"
                client.sendall(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                    b"X-Blocked-By: %s\r\nContent-Length: %d\r\n\r\n%s" % (GATE_MARK.encode(), len(body), body)
                )
                return
            try:
                upstream = self._connect(host, port)
            except OSError as exc:
                client.sendall(not_connected_answer(f"{host}:{port}", connect_failure(exc), tunnel=False))
                return
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            kept = [
                (k, v)
                for k, v in headers
                if k.lower() not in ("proxy-connection", "connection", "keep-alive", "proxy-authorization")
            ]
            out = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
            try:
                upstream.sendall((out + "Connection: close\r\n\r\n").encode("latin-1"))
                _send_body(reader, upstream, headers)
            except OSError:
                # Part of it may have reached the site: an answer of our own, or Chromium sends it again.
                client.sendall(UPSTREAM_SILENT)
                return
            # One request per connection: the answer runs until the server closes.
            relayed = False
            try:
                while chunk := upstream.recv(65536):
                    relayed = True
                    client.sendall(chunk)
            except OSError:
                if relayed:
                    raise
            if not relayed:
                # The site closed (or reset) the connection without a byte of answer. Closing the
                # browser's connection likewise would make Chromium send the request again, once,
                # unseen by the page: a form posted twice. An answer of our own prevents that.
                client.sendall(UPSTREAM_SILENT)
        except (OSError, ValueError):
            pass
        finally:
            for sock in (upstream, client):
                try:
                    if sock is not None:
                        sock.close()
                except OSError:
                    pass


def _no_delay(sock: socket.socket) -> None:
    # A request head and its body, or an answer relayed in pieces, are small writes
    # in a row: with Nagle's algorithm each can wait for the peer's delayed ACK.

    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class _Reader:
    """Lines and exact byte counts from a socket, keeping what was read ahead."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self.buf and len(self.buf) < limit:
            if not self._fill():
                break
        end = self.buf.find(b"\n")
        end = len(self.buf) if end < 0 else end + 1
        line, self.buf = self.buf[:end], self.buf[end:]
        return line

    def read(self, size: int) -> bytes:
        while len(self.buf) < size:
            if not self._fill():
                break
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def take(self) -> bytes:
        data, self.buf = self.buf, b""
        return data


def _read_head(reader: _Reader) -> tuple[str, list[tuple[str, str]]] | None:
    lines = []
    total = 0
    while True:
        line = reader.readline(65537)
        if not line:
            return None
        total += len(line)
        if total > 256 * 1024:
            raise ValueError("request head too large")
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line.decode("latin-1").rstrip("\r\n"))
    if not lines:
        return None
    headers = []
    for raw in lines[1:]:
        name, _colon, value = raw.partition(":")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _split_target(target: str) -> tuple[str, int]:
    host, _colon, port = target.rpartition(":")
    return host.lower(), int(port)


def _send_body(reader: _Reader, upstream: socket.socket, headers: list[tuple[str, str]]) -> None:
    values = {k.lower(): v for k, v in headers}
    if "chunked" in values.get("transfer-encoding", "").lower():
        while True:
            size_line = reader.readline(65537)
            upstream.sendall(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = reader.readline(65537)
                    upstream.sendall(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return
            upstream.sendall(reader.read(size + 2))
    remaining = int(values.get("content-length") or 0)
    while remaining > 0:
        chunk = reader.read(min(remaining, 65536))
        if not chunk:
            return
        upstream.sendall(chunk)
        remaining -= len(chunk)


def _pipe(client: socket.socket, upstream: socket.socket, pending: bytes) -> None:
    """Relay a CONNECT tunnel both ways until either side closes."""

    if pending:  # sent by the browser right behind the CONNECT
        upstream.sendall(pending)
    selector = selectors.DefaultSelector()
    selector.register(client, selectors.EVENT_READ, (client, upstream))
    selector.register(upstream, selectors.EVENT_READ, (upstream, client))
    try:
        while True:
            for key, _events in selector.select(timeout=300):
                source, target = key.data
                data = source.recv(65536)
                if not data:
                    return
                target.sendall(data)
    finally:
        selector.close()
