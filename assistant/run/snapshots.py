"""The page behind a capture: its HTML and an MHTML archive, inert, with the form as it was filled.

A serialised page shows its form as the server sent it, so the form's live
values are written into it first (formstate) and taken out again after the
capture. Both snapshots are made inert (evidence.inert) and scrubbed of the
run's secrets before they are kept: opening one runs nothing of the site and
fetches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.run import formstate
from evidence import inert

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from assistant.run.pagestate import Pages
    from assistant.run.sent import KnownFile
    from evidence import EvidencePackage
    from evidence.scrub import Secrets


class Snapshots:
    """Keeps the snapshots of the pages behind a run's captures."""

    def __init__(
        self, pages: Pages, package: EvidencePackage, *, secrets: Secrets, note: Callable[[str], None]
    ) -> None:
        self._pages = pages
        self._package = package
        self._secrets = secrets
        self._note = note
        # The files the run may upload: a snapshot names a chosen file by size and SHA-256.
        self.files: list[KnownFile] = []

    def form_script(self) -> str:
        """The script that writes the form's live values into the page and stretches its textareas."""
        files = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files]
        return formstate.reflect(files, sorted(self._secrets.values), expand=True)

    def write_form(self, page: Page) -> bool:
        """Write the form's live values into its attributes and stretch its textareas (formstate)."""
        if self._pages.evaluate(page, self.form_script()) is None:
            self._note("a page's form values could not be written into its snapshot")
            return False
        return True

    def undo_form(self, page: Page) -> None:
        """Put the page back as it was before write_form()."""
        self._pages.evaluate(page, formstate.UNDO)

    def take(self, page: Page, stem: str, taken: datetime) -> dict[str, str]:
        """The page as HTML and as an MHTML archive, both made inert: their package paths by kind."""
        from playwright.sync_api import Error as PlaywrightError

        out: dict[str, str] = {}
        url = self._secrets.url(page.url)
        try:
            made = inert.html(self._secrets.bytes(page.content().encode("utf-8")))
            out["html"] = self._keep(f"pages/{stem}.html", made, "text/html", url, taken)
        except Exception as exc:  # the page is hostile input: whatever it holds, the capture goes on
            self._note(f"no HTML snapshot: {str(exc).splitlines()[0]}")
        try:
            captured = self._pages.capture(page, "Page.captureSnapshot", {"format": "mhtml"})
            if captured is None:
                self._note(f"no MHTML snapshot of {stem}: the page moved on while it was taken")
        except PlaywrightError as exc:
            self._note(f"no MHTML snapshot: {str(exc).splitlines()[0]}")
            captured = None
        if captured is not None:
            try:
                archive = inert.mhtml(captured["data"].encode("utf-8"), self._secrets)
                out["mhtml"] = self._keep(f"pages/{stem}.mhtml", archive, "multipart/related", url, taken)
            except Exception as exc:  # the page is hostile input: whatever it holds, the capture goes on
                self._note(f"no MHTML snapshot: {str(exc).splitlines()[0]}")
        return out

    def html(self, page: Page) -> bytes:
        """The page's HTML with the values its form holds (as in every capture's snapshot), secrets
        scrubbed. Raises when the page cannot be read."""
        written = self.write_form(page)
        try:
            return self._secrets.bytes(page.content().encode("utf-8"))
        finally:
            if written:
                self.undo_form(page)

    def _keep(self, path: str, made: inert.Inert, media_type: str, url: str | None, taken: datetime) -> str:
        self._package.add_bytes(
            path, made.data, media_type, role="page", captured_at=taken, meta={"url": url, **made.meta()}
        )
        return path
