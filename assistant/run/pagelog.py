"""What the pages of a run say on their own: console messages and uncaught errors.

They are kept as they come, in memory, and written to logs/console.jsonl and
logs/page-errors.jsonl when the run closes, scrubbed of every secret the run
learnt by then (the network log is scrubbed first: it teaches the tokens a
page may repeat here). A page chooses how much it says, so what a run keeps
of it has bounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Error, Page

    from evidence import EvidencePackage
    from evidence.scrub import Secrets

# What a page can make a run keep of its console and errors, and of its title and address in
# each capture's record: a page chooses their size (a 1 MB title, a console message a
# millisecond), and the evidence keeps them whole up to these.
MAX_LOG_ROWS = 10_000
MAX_TEXT = 10_000


def bounded(text: Any) -> Any:
    """`text` cut to MAX_TEXT characters, saying how many more there were; anything else as it is."""
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters not kept]"
    return text


class PageLog:
    """The console messages and page errors of every page watched, up to MAX_LOG_ROWS each."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self.console: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self._note = note

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if self._full(self.console, "console messages"):
                return
            location = message.location or {}
            self.console.append(
                {
                    "time": datetime.now(UTC).isoformat(),
                    "type": message.type,
                    "text": bounded(message.text),
                    "url": bounded(location.get("url")),
                    "line": location.get("lineNumber"),
                }
            )

        def on_error(error: Error) -> None:
            if self._full(self.errors, "page errors"):
                return
            self.errors.append(
                {
                    "time": datetime.now(UTC).isoformat(),
                    "url": bounded(page.url),
                    "message": bounded(str(error)),
                    "stack": bounded(getattr(error, "stack", None)),
                }
            )

        page.on("console", on_console)
        page.on("pageerror", on_error)

    def _full(self, rows: list[dict[str, Any]], what: str) -> bool:
        """True once a page has filled a log to its bound (it could fill memory and the package)."""
        if len(rows) < MAX_LOG_ROWS:
            return False
        self._note(f"the page wrote more than {MAX_LOG_ROWS} {what}; the rest are not kept")
        return True

    def keep(self, package: EvidencePackage, secrets: Secrets, now: datetime) -> None:
        """Write both logs, scrubbed of what `secrets` holds now."""
        _add_jsonl(package, "logs/console.jsonl", _scrubbed(self.console, secrets), now)
        _add_jsonl(package, "logs/page-errors.jsonl", _scrubbed(self.errors, secrets), now)


def _scrubbed(rows: list[dict[str, Any]], secrets: Secrets) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        row = secrets.deep(row)
        if row.get("url"):
            row["url"] = secrets.url(row["url"])
        out.append(row)
    return out


def _add_jsonl(package: EvidencePackage, path: str, rows: list[dict[str, Any]], now: datetime) -> None:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    package.add_bytes(path, body, "application/x-ndjson", role="log", captured_at=now, meta={"entries": len(rows)})
