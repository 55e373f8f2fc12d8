"""Faults the demo portal injects into its answers to the support form, for tests and `demo --serve --faults`.

A real provider's form does not always answer with a number. The portal can be
told to misbehave the ways a real one does, at random with a seed, so that the
tool's outcomes (accepted, rejected, unknown) can be tested and measured:

    Faults.parse("latency=0.3,error500=0.1,reset=0.1,hang=0.1,reject=0.1,seed=7")

    seed=INT          the random sequence (default 0): the same seed and the same
                      posts in the same order give the same faults
    latency=SECONDS   every post waits a random 0..SECONDS before it is answered
    error500=RATE     an HTTP 500 error page; nothing is stored
    reset=RATE        the ticket is stored, then the connection is reset: no answer at all
                      (Chromium then sends the post again, once, on a new connection:
                      the second post is drawn for like any other)
    hang=RATE         the ticket is stored, then no answer comes until the client gives
                      up (or the portal stops, or HANG_LIMIT passes: then a 504 page)
    reject=RATE       the form comes back (HTTP 200) saying "We could not accept your
                      request: please try again later." in its error summary
                      (role=alert); nothing is stored

A rate is the chance (0..1) that a post gets that fault; the rates add up to
at most 1 and the other posts are answered normally (kind "none"). Only a
post that passes the form's own checks (session, CSRF token, the fields) is
drawn for: an invalid form is answered as always. Each such post is written
down as a `Hit` (its kind, its delay, its fields and the ticket stored, if
any), so a test can tell which answer every request got.
"""

from __future__ import annotations

import random
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from assistant.sites.demo import pages
from assistant.sites.web import WSGIApp, reset_connection

__all__ = ["KINDS", "REJECTED", "Faults", "Hit"]

# The faults a post can be given, besides "none".
KINDS = ("error500", "reset", "hang", "reject")
REJECTED = "We could not accept your request: please try again later."
MAX_LATENCY = 60.0
# However long a client waits, a hung answer ends after this: a server thread is not held for ever.
HANG_LIMIT = 300.0


@dataclass
class Hit:
    """One post of the form and the answer it was given."""

    kind: str  # none, or one of KINDS
    delay: float  # seconds waited before answering
    fields: dict[str, str]
    number: str | None = None  # the ticket stored for it, if any
    at: float = field(default_factory=time.time)


class Faults:
    """Which fault each post of the form gets, drawn from seeded rates; thread-safe."""

    def __init__(
        self,
        *,
        seed: int = 0,
        latency: float = 0.0,
        rates: dict[str, float] | None = None,
        on_hit: Callable[[Hit], None] | None = None,
    ) -> None:
        rates = dict(rates or {})
        for kind, rate in rates.items():
            if kind not in KINDS:
                raise ValueError(f"unknown fault {kind!r} (known: seed, latency, {', '.join(KINDS)})")
            if not 0 <= rate <= 1:
                raise ValueError(f"{kind}={rate:g}: a rate is a chance between 0 and 1, e.g. {kind}=0.1")
        if sum(rates.values()) > 1 + 1e-9:
            raise ValueError(f"the rates add up to {sum(rates.values()):g}; at most 1 (the rest are answered normally)")
        if not 0 <= latency <= MAX_LATENCY:
            raise ValueError(f"latency={latency:g}: seconds between 0 and {MAX_LATENCY:g}")
        self.seed = seed
        self.latency = latency
        self.rates = {kind: rates.get(kind, 0.0) for kind in KINDS}
        self.on_hit = on_hit
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._released = threading.Event()

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """From "latency=0.3,error500=0.1,…,seed=7"; ValueError says what is wrong and how to write it."""
        values: dict[str, str] = {}
        for item in spec.split(","):
            if not item.strip():
                continue
            name, sep, value = item.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not name or not value:
                raise ValueError(f"{item.strip()!r}: expected NAME=VALUE, e.g. reset=0.1")
            if name not in ("seed", "latency", *KINDS):
                raise ValueError(f"unknown fault {name!r} (known: seed, latency, {', '.join(KINDS)})")
            if name in values:
                raise ValueError(f"{name} is given twice")
            values[name] = value
        try:
            seed = int(values.pop("seed", "0"))
        except ValueError:
            raise ValueError("seed: expected a whole number, e.g. seed=7") from None
        numbers: dict[str, float] = {}
        for name, value in values.items():
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{name}={value}: expected a number, e.g. {name}=0.1") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"{name}={value}: expected a finite number")
            numbers[name] = number
        latency = numbers.pop("latency", 0.0)
        return cls(seed=seed, latency=latency, rates=numbers)

    def describe(self) -> str:
        """The faults in the words of the spec, for a banner: "latency=0.3,reset=0.1,seed=7"."""
        parts = [f"latency={self.latency:g}"] if self.latency else []
        parts += [f"{kind}={rate:g}" for kind, rate in self.rates.items() if rate]
        return ",".join([*parts, f"seed={self.seed}"])

    @property
    def hits(self) -> list[Hit]:
        """Every post drawn for so far, oldest first (a copy)."""
        with self._lock:
            return list(self._hits)

    def draw(self, fields: dict[str, str]) -> Hit:
        """The answer this post gets; waits its latency first (outside the lock)."""
        with self._lock:
            delay = self._random.uniform(0, self.latency) if self.latency else 0.0
            roll = self._random.random()
            kind = "none"
            for name, rate in self.rates.items():
                if roll < rate:
                    kind = name
                    break
                roll -= rate
            hit = Hit(kind=kind, delay=delay, fields=dict(fields))
            self._hits.append(hit)
        if delay:
            self._released.wait(delay)
        return hit

    def stored(self, hit: Hit, number: str) -> WSGIApp | None:
        """After the ticket is stored: the answer that replaces the confirmation, if the hit has one."""
        with self._lock:
            hit.number = number
        self.report(hit)
        if hit.kind == "reset":
            return reset_connection
        if hit.kind == "hang":
            return self._hang
        return None

    def report(self, hit: Hit) -> None:
        """Tell `on_hit` (a console, a log) how this post is answered."""
        if self.on_hit is not None:
            self.on_hit(hit)

    def release(self) -> None:
        """End every hung answer and every wait now: the portal is stopping."""
        self._released.set()

    def _hang(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The body was read: the connection turns readable again only when the client closes it.
        connection: socket.socket | None = environ.get("werkzeug.socket")
        deadline = time.monotonic() + HANG_LIMIT
        while not self._released.wait(0.2) and time.monotonic() < deadline:
            if connection is not None and _closed_by_peer(connection):
                break
        # An answer, not a dropped connection, even this late: a browser resends a post whose
        # connection closes before any answer (Chromium does, once), and that would be a second ticket.
        late = Response(pages.gateway_timeout_page(), 504, content_type="text/html; charset=utf-8")
        return late(environ, start_response)


def _closed_by_peer(connection: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True
