"""DemoMarket: a small, realistic support portal, served on 127.0.0.1.

The tool's ``demo`` flow files a request here, so the whole pipeline (browser,
form filling, evidence capture, ticket number) can run on one machine with no
network.  It behaves like a real provider's web form:

* home ``/`` -> help centre ``/help`` -> form ``/support/new``;
* a multipart/form-data form with attachments, a CSRF token bound to a session
  cookie, and server-side validation (422 with per-field messages);
* on success a 303 redirect to a confirmation page showing the request number,
  and a status page for each request.

Public API::

    with DemoPortal(port=0, confirm=True, first_number=123, faults=None) as portal:
        portal.url          # "http://127.0.0.1:<port>"
        portal.received     # list[Ticket] (a copy)
        portal.faults       # the Faults given (assistant.sites.demo.faults), or None

With `faults` the portal misbehaves at random, the ways a real provider does
(latency, an HTTP 500, a reset connection, an answer that never comes, a
refusal of the whole form); `faults.hits` records which answer each post got.

Text fields are stored as posted, except that line breaks are normalised to
``\\n`` (browsers send a textarea's line breaks as CRLF).

The package splits the portal by job: `forms` (fields and validation),
`pages` (templates), `app` (the WSGI app: routes, sessions, numbers), `faults`
(the broken answers it can be told to give) and this
module (the server's life, and ``python -m assistant.sites.demo.portal``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from assistant.errors import ExitStatus
from assistant.sites.demo.app import PortalApp
from assistant.sites.demo.faults import Faults
from assistant.sites.demo.forms import ReceivedFile, Ticket
from assistant.sites.web import LocalServer, until_interrupted

__all__ = ["DemoPortal", "Faults", "Ticket", "ReceivedFile", "serve_forever", "main"]


class DemoPortal(LocalServer):
    """The DemoMarket support portal, served in a background thread."""

    app: PortalApp

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        confirm: bool = True,
        first_number: int = 123,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(
            PortalApp(confirm=confirm, first_number=first_number, faults=faults),
            host,
            port,
            software="DemoMarketSupport/1.0",
        )

    @property
    def confirm(self) -> bool:
        return self.app.confirm

    @property
    def received(self) -> list[Ticket]:
        return self.app.received

    @property
    def faults(self) -> Faults | None:
        return self.app.faults

    def stop(self) -> None:
        if self.app.faults is not None:
            self.app.faults.release()  # a hung answer ends now rather than hold a thread
        super().stop()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    confirm: bool = True,
    first_number: int = 123,
    faults: Faults | None = None,
    on_ready: Callable[[DemoPortal], None] | None = None,
) -> list[Ticket]:
    """Run the portal in the foreground until Ctrl-C; return the tickets received."""
    portal = DemoPortal(host=host, port=port, confirm=confirm, first_number=first_number, faults=faults)
    portal.start()
    try:
        if on_ready is not None:
            on_ready(portal)
        else:
            print(f"DemoMarket support portal at {portal.url}/ (Ctrl-C to stop)", flush=True)
        until_interrupted()
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return portal.received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the DemoMarket demo support portal.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-confirm", action="store_true", help="accept requests but never show a request number")
    parser.add_argument("--first-number", type=int, default=123)
    parser.add_argument(
        "--faults", metavar="SPEC", help="misbehave at random, e.g. latency=0.3,reset=0.1,seed=7 (see faults.py)"
    )
    args = parser.parse_args(argv)
    try:
        faults = Faults.parse(args.faults) if args.faults is not None else None
    except ValueError as exc:
        parser.error(f"--faults: {exc}")
    tickets = serve_forever(
        args.host, args.port, confirm=not args.no_confirm, first_number=args.first_number, faults=faults
    )
    print(f"Stopped; {len(tickets)} request(s) received.")
    return ExitStatus.OK


if __name__ == "__main__":
    raise SystemExit(main())
