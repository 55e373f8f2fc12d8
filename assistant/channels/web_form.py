"""The web-form channel: the flow's steps in a real browser, the provider's own form.

The runner does the steps; this channel gives it a guarded, recorded browser
(assistant.run.session), the saved login session if the flow needs one, the
person's confirmation before the submit click and the journal entry right
before it, and seals the evidence while the browser is still open (the
report is rendered in it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.casework import names
from assistant.casework.compose import FittedFile, compose, fitted_files, signing_key
from assistant.channels.base import Delivery, Filing
from assistant.errors import AlreadySubmitted, Declined, OutcomeUnknown, Rejected
from assistant.language.case import Case
from assistant.language.flow import Flow
from assistant.language.urls import Policy, origin_of
from assistant.run import login
from assistant.run.capture import check_masks
from assistant.run.netguard import Guard
from assistant.run.outcome import AfterClick
from assistant.run.runner import Blocked, PersonHooks, Runner, RunOptions, RunResult, StepFailure
from assistant.run.sent import KnownFile
from assistant.run.session import BrowserSession, find_browser
from assistant.translation import _
from evidence import FilingOutcome

# What the runner saw after the click, as the evidence package records it.
FILED_AS: dict[AfterClick, FilingOutcome] = {
    AfterClick.CONFIRMED: FilingOutcome.CONFIRMED,
    AfterClick.ACCEPTED: FilingOutcome.ACCEPTED,
    AfterClick.REJECTED: FilingOutcome.REJECTED,
    AfterClick.UNKNOWN: FilingOutcome.UNKNOWN,
    AfterClick.NOT_SENT: FilingOutcome.NOT_SUBMITTED,
}


def template_context(
    case: Case,
    flow: Flow,
    base_url: str,
    attachments: list[Any] | None = None,
    fitted: dict[str, FittedFile] | None = None,
    signed_by: str | None = None,
) -> dict[str, Any]:
    """What a flow's `{{ … }}` templates may read: plain data only. Files are there by name, never
    by their place on this machine (a template's text may be typed into the page); an upload step
    hands the page the file a name stands for (RunOptions.uploads)."""
    category = flow.categories[case.category]
    files = list(case.attachments) if attachments is None else attachments
    request = compose(case, files, flow=flow, fitted=fitted, signed_by=signed_by)
    return {
        "case": {**case.model_dump(mode="python"), "attachments": [p.name for p in case.attachments]},
        "category": {
            "key": case.category,
            "label": category.label,
            "form_value": category.form_value or case.category,
            "deadline": str(category.deadline),
        },
        "request": {"subject": request.subject, "body": request.body},
        # The name's parts, for a form that asks for them apart; read only by a flow that uses them
        # (pymorphy3's dictionary is loaded for a Russian name). Unknown parts are missing, so a
        # step that needs one stops before anything is sent.
        "name": (names.name_parts(case.contacts.full_name) or {}) if _uses_name(flow) else {},
        "attachments": [Path(p).name for p in files],
        "base_url": base_url,
        "vars": {},
    }


NAME_PART = re.compile(r"\{\{\s*name\.")


def _uses_name(flow: Flow) -> bool:
    return any(NAME_PART.search(repr(step.args)) for step in flow.steps)


class WebForm:
    name = "web_form"

    def __init__(self, filing: Filing) -> None:
        self.filing = filing
        self.context = template_context(
            filing.case,
            filing.flow,
            filing.base_url,
            filing.attachments,
            fitted_files(filing.fitted),
            signed_by=signing_key(filing.settings.home),  # the key that will seal this run's package
        )
        self.session: dict[str, Any] | None = None
        self.outcome = FilingOutcome.NOT_SUBMITTED

    def prepare(self) -> None:
        flow, settings = self.filing.flow, self.filing.settings
        # A flow behind a login wall needs a saved session before anything is launched or written.
        check_masks(list(settings.evidence.masks))
        self.session = login.load(settings.home, flow) if flow.requires_login else None
        self.choice = find_browser(settings.browser)

    def deliver(self) -> Delivery:
        filing = self.filing
        case, flow, settings = filing.case, filing.flow, filing.settings
        # --base-url (a replica, a local site) is allowed for this run only, by its exact origin.
        extra = [origin_of(filing.base_url)] if settings.base_url else []
        guard = Guard(Policy.for_flow(flow, extra), log=settings.log)
        browser = BrowserSession.for_case(
            filing.package,
            case,
            filing.key,
            home=settings.home,
            browser=settings.browser,
            evidence=settings.evidence,
            workdir=filing.workdir,
            guard=guard,
            choice=self.choice,
            storage_state=self.session["state"] if self.session else None,
            provider_zone=flow.timezone,
            log=settings.log,
        )
        journalled = False

        def before_submit() -> None:
            nonlocal journalled
            filing.journal()
            journalled = True

        with browser:
            page = browser.page
            assert page is not None
            if settings.on_page is not None:
                settings.on_page(page)
            capturer = browser.capturer
            capturer.known_files(self._known_files())
            options = RunOptions(
                dry_run=settings.dry_run,
                headed=settings.browser.headed or settings.person_watches,
                timeout=settings.timeout,
                retries=settings.retries,
                hooks=_FilingHooks(self, before_submit),
                recorder=capturer,
                packaged=filing.packaged,
                uploads={path.name: path for path in filing.attachments},
                guard=guard,
            )
            runner = Runner(page, flow, self.context, filing.package, options)
            error: BaseException | None = None
            try:
                if self.session is not None:
                    runner.precheck()
                    timeout_ms = (settings.timeout or flow.timeout) * 1000
                    login.verify(page, flow, filing.base_url, self.session, timeout_ms, guard=guard)
                result = runner.run()
            except BaseException as exc:  # seal the evidence whatever happened; the pipeline re-raises
                error = exc
                result = runner.result
            delivery = Delivery(
                outcome=self._outcome(result, journalled, error),
                reason=result.reason,
                refusal=result.refusal,
                dry_run=settings.dry_run,
                confirmation=result.confirmation,
                confirmation_url=result.confirmation_url,
                submitted_at=result.submitted_at,
                actions=result.actions,
                environment=browser.settle_environment(),
                request=self.context["request"],
                # Only a click that was made has a form it sent (or that the browser refused to send).
                form=capturer.submitted_form(result.sent) if result.submitted or result.sent else None,
                answers=capturer.answers,
                error=error,
            )
            browser.capturer.collect_stamped()  # the report shows the stamped copies
            guard.allow_files_under(filing.outdir)  # report.pdf is rendered from file:// in this context
            render_pdf = browser.render_pdf() if filing.settings.evidence.report_pdf else None
            filing.seal(delivery, render_pdf=render_pdf, before_seal=browser.before_seal)
        self.outcome = delivery.outcome
        delivery.error = self._told(error, result.confirmation)
        return delivery

    def _known_files(self) -> list[KnownFile]:
        """Each file an upload step may hand to the page, by the name the browser sends, with the
        hash of its copy in the package."""
        known = []
        for packaged in self.filing.packaged.values():
            entry = self.filing.package.entry(packaged)
            if entry is not None:
                name = packaged.rsplit("/", 1)[-1]
                known.append(KnownFile(name, entry.size, entry.sha256, packaged, entry.media_type))
        return known

    @staticmethod
    def _outcome(result: RunResult, journalled: bool, error: BaseException | None) -> FilingOutcome:
        """The manifest's word for what happened, from what the runner saw after the click."""
        if result.confirmation:
            return FilingOutcome.CONFIRMED
        if not journalled:  # stopped before the click: by choice, by another run, refused, or broken
            if isinstance(error, Rejected):  # a wizard's step the site refused: nothing was filed
                return FilingOutcome.REJECTED
            stopped = error is None or isinstance(error, (Declined, AlreadySubmitted, KeyboardInterrupt))
            return FilingOutcome.NOT_SUBMITTED if stopped else FilingOutcome.FAILED
        declined = isinstance(error, (Declined, AlreadySubmitted))
        if result.outcome is not AfterClick.REJECTED and not result.submitted and declined:
            return FilingOutcome.NOT_SUBMITTED
        return FILED_AS[result.outcome or AfterClick.UNKNOWN]

    def _told(self, error: BaseException | None, number: str | None) -> BaseException | None:
        """What the person is told: what happened at the provider, what to do, where the evidence is."""
        outdir = self.filing.outdir
        if number and isinstance(error, StepFailure):
            filed = _("The request was filed: its number {number} is journalled. Evidence: {folder}").format(
                number=number, folder=outdir
            )
            return StepFailure(f"{error}\n{filed}", after_submit=True)
        evidence = _("evidence: {folder}").format(folder=outdir)
        if isinstance(error, Rejected):
            return Rejected(f"{error}\n{evidence}")
        if self.outcome is FilingOutcome.NOT_SUBMITTED and isinstance(error, StepFailure) and error.after_submit:
            return type(error)(f"{error}\n{evidence}", after_submit=True)  # nothing left the browser
        case = self.filing.case_id or "CASE"
        if isinstance(error, Blocked) and error.after_submit:
            return Blocked(
                _(
                    "{error}. It is recorded as pending: ask the provider whether it arrived, then "
                    "`assistant cases resolve {case}`. Evidence: {folder}"
                ).format(error=error, case=case, folder=outdir),
                after_submit=True,
            )
        if isinstance(error, OutcomeUnknown) or isinstance(error, StepFailure) and error.after_submit:
            return OutcomeUnknown(
                _(
                    "{error}. The provider may have it: it is recorded as pending and will not be sent again "
                    "blindly; `assistant cases resolve {case}` records what happened once you know (their email "
                    "or status page)"
                ).format(error=error, case=case)
                + f"\n{evidence}"
            )
        return error

    def _number_read(self, number: str | None, url: str | None) -> None:
        self.filing.confirmed(number, url)  # the journal first: a number shown is never a number lost
        if self.filing.settings.on_confirmation is not None:
            self.filing.settings.on_confirmation(number, url)

    def _confirm(self) -> bool:
        filing = self.filing
        settings, case = filing.settings, filing.case
        if settings.yes:
            return True
        return settings.confirm(
            {
                "provider": filing.flow.name,
                "category": self.context["category"]["label"],
                "subject": self.context["request"]["subject"],
                "order_id": case.order_id,
                "contact": f"{case.contacts.full_name} <{case.contacts.email}>",
                "attachments": [p.name for p in case.attachments],
                "evidence": str(filing.outdir),
            }
        )


class _FilingHooks(PersonHooks):
    """A filing's part in its run: ask, journal, tell the number, let the person act."""

    def __init__(self, channel: WebForm, journal: Callable[[], None]) -> None:
        settings = channel.filing.settings
        super().__init__(settings.log, settings.ask_human)
        self.channel, self.journal = channel, journal

    def confirm_submit(self) -> bool:
        return self.channel._confirm()

    def before_submit(self) -> None:
        self.journal()

    def number_read(self, number: str | None, url: str | None) -> None:
        self.channel._number_read(number, url)
