"""One run's life, for every channel and for page captures.

    case + flow ─▶ checks ─▶ channel.prepare() ─▶ evidence package opened
        ─▶ channel.deliver()  (journal just before the irreversible act)
        ─▶ seal (journal the outcome first, then report, manifest, signature)
        ─▶ zip ─▶ Outcome

`submit()` files a request through the flow's channel (assistant.channels);
`capture()` photographs pages with no form and no submission. `assistant
submit`, `demo`, `followup`, `capture`, `flow test` and `flow check` are thin
uses of these two. The pipeline is the only part that writes the journal.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant import __version__, channels, paths
from assistant.casework.attachments import limits_of, refusal_words, stage
from assistant.casework.matter import before_filing, claim_check, journal_extras, refuse_duplicate
from assistant.channels.base import Delivery, Filing, Settings
from assistant.errors import AssistantError, InputError, RunFailed
from assistant.language.case import Case
from assistant.language.flow import Flow
from assistant.run.scratch import run_folder
from assistant.run.zones import person_clock
from assistant.store import Status, Store
from assistant.translation import _
from evidence import Action, Environment, EvidencePackage, FilingOutcome, Fitting, FlowRef, SubmissionRef
from evidence.fit import media_type

if TYPE_CHECKING:
    from evidence.fit import Fitted
    from evidence.manifest import SubmittedForm

__all__ = ["Outcome", "Settings", "base_url_for", "capture", "submit"]


@dataclass
class Outcome:
    # confirmed, accepted (no number), dry_run, eml_written; or, with an error: rejected,
    # unknown, not_submitted, failed
    status: str
    flow_id: str
    evidence_dir: Path
    confirmation: str | None = None
    confirmation_url: str | None = None
    submission_id: int | None = None
    case_id: int | None = None
    screenshots: list[str] = field(default_factory=list)
    evidence_zip: Path | None = None
    reason: str | None = None  # the provider's words (rejected), or what was seen (unknown)

    def public(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "flow": self.flow_id,
            "confirmation": self.confirmation,
            "confirmation_url": self.confirmation_url,
            "submission_id": self.submission_id,
            "case_id": self.case_id,
            "evidence_dir": str(self.evidence_dir),
            "screenshots": self.screenshots,
            "evidence_zip": str(self.evidence_zip) if self.evidence_zip else None,
        }


@dataclass
class Captured:
    evidence_dir: Path
    evidence_zip: Path | None
    failures: list[str]


# ------------------------------------------------------------------ checks


# What the journal says of a submission once its evidence package records what happened.
# Pending and drafted are what `begin` wrote: those outcomes leave the row as it is.
JOURNAL_AS: dict[FilingOutcome, Status] = {
    FilingOutcome.CONFIRMED: Status.CONFIRMED,
    FilingOutcome.ACCEPTED: Status.CONFIRMED,  # the journal's "confirmed" with no number
    FilingOutcome.REJECTED: Status.REJECTED,
    FilingOutcome.UNKNOWN: Status.PENDING,
    FilingOutcome.DRAFTED: Status.DRAFTED,
    FilingOutcome.NOT_SUBMITTED: Status.NOT_FILED,
    FilingOutcome.FAILED: Status.PENDING,
    FilingOutcome.PENDING: Status.PENDING,
}


def told(delivery: Delivery) -> str:
    """`Outcome.status`, the word the person (and `--json`) is given: the package's outcome, save
    that a run that stopped or drafted by the person's choice says which choice."""
    if delivery.error is None and delivery.dry_run:
        return "dry_run"
    if delivery.error is None and delivery.outcome is FilingOutcome.DRAFTED:
        return "eml_written"
    return str(delivery.outcome)


def _same_provider(flow_id: str, flow: Flow) -> bool:
    """A case for one of a provider's flows may go through another of its channels."""
    from assistant.language.flow import find_flow, load_flow

    try:
        other = load_flow(find_flow(flow_id))
    except InputError:
        return False
    return bool(other.provider) and other.provider == flow.provider


def check_case_against_flow(case: Case, flow: Flow) -> None:
    if case.provider != flow.id and not _same_provider(case.provider, flow):
        raise InputError(
            _("case: provider: '{provider}' does not match the flow '{flow}'").format(
                provider=case.provider, flow=flow.id
            )
        )
    if case.category not in flow.categories:
        known = ", ".join(flow.categories)
        raise InputError(
            _("case: category: '{category}' is not a category of {flow} (known: {known})").format(
                category=case.category, flow=flow.id, known=known
            )
        )


def base_url_for(flow: Flow, given: str | None) -> str:
    """The site a run talks to: --base-url (a replica, a local site), else the flow's homepage."""
    if given:
        try:
            parts = urlsplit(given)
        except ValueError:  # "http://[::1": Python refuses to split it at all
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                _("--base-url: {url!r} is not an http(s) URL like http://127.0.0.1:8000").format(url=given)
            )
        from assistant.language.urls import UnsafeURL, parse_url

        try:
            parse_url(given)
        except UnsafeURL as exc:
            raise InputError(f"--base-url: {exc}") from None
        return given.rstrip("/")
    if "base_url" in flow.homepage:
        raise InputError(
            _("flow {flow} runs against a local site: pass --base-url http://127.0.0.1:PORT").format(flow=flow.id)
        )
    parts = urlsplit(flow.homepage)
    return f"{parts.scheme}://{parts.netloc}"


def fit_attachments(case: Case, flow: Flow, workdir: Path) -> list[Fitted]:
    """The files to upload: the case's own when they meet the flow's limits, else fitted
    copies (JPEG, smaller, merged). Refuses only what cannot be fitted."""
    from evidence.fit import CannotFit, fit

    try:
        return fit(list(case.attachments), limits_of(flow), workdir)
    except CannotFit as exc:
        raise InputError(f"case: attachments: {refusal_words(exc, flow)}") from None


# ------------------------------------------------------------------ the package


def evidence_dir(home: Path, out: Path | None, name: str, key: str) -> Path:
    if out:
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return home / "evidence" / f"{stamp}-{name}-{key[:8]}"


def bundle(package: EvidencePackage, home: Path, out_given: bool) -> Path:
    """The zip: beside --out; otherwise in home/bundles, so home/evidence holds only folders."""
    if out_given:
        return package.bundle()
    target = home / "bundles" / f"{package.root.name}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    return package.bundle(target)


def discard_unused(package: EvidencePackage, created: bool) -> None:
    """Remove a package folder this run made that holds no evidence: a run that stopped before
    anything was captured (the browser would not start, an option it could not read) leaves
    only copies of the case's own files, which prove nothing and would pile up unsealed."""
    try:
        package.flush()
    except OSError:
        pass
    if created and all(f.role in ("attachment", "attachment-fitted") for f in package.files):
        shutil.rmtree(package.root, ignore_errors=True)


def signer(home: Path) -> Any:
    from evidence.keys import Signer

    return Signer.load_or_create(home / "keys" / "evidence-ed25519.pem")


def seal_package(
    package: EvidencePackage,
    case: Case,
    key: str,
    settings: Settings,
    *,
    environment: Environment,
    actions: list[Action],
    flow: Flow | None = None,
    case_extra: dict[str, Any] | None = None,
    submission: SubmissionRef | None = None,
    request: dict[str, str] | None = None,
    fitting: list[Fitting] | None = None,
    form: SubmittedForm | None = None,
    render_pdf: Callable[[Path], bytes | None] | None = None,
    before_seal: Callable[[], None] | None = None,
    report: bool = True,
) -> None:
    """Seal a run's package: the one place a filing, a capture and a lookup are sealed, so that
    each records the tool, the case, the flow, the person's clocks and the signature alike."""
    zone = flow.timezone if flow is not None else None
    category = flow.categories.get(case.category) if flow is not None else None
    label = {"category_label": category.label} if category is not None else {}  # the report shows it
    package.finish(
        tool=f"support-assistant {__version__}",
        case={**case.summary(), **label, "fingerprint": key, **(case_extra or {})},
        flow=FlowRef(id=flow.id, version=flow.version, sha256=flow.sha256, file=paths.shown(flow.path))
        if flow is not None
        else None,
        environment=environment,
        actions=actions,
        submission=submission,
        request=request,
        fitting=fitting,
        form=form,
        signer=signer(settings.home),
        tsa_urls=settings.evidence.tsa,
        render_pdf=render_pdf,
        report=report,
        before_seal=before_seal,
        warn=settings.log,
        times=person_clock(case, provider_zone=zone, tz=settings.evidence.tz, locale=settings.evidence.locale).times(
            zone
        ),
    )


def open_package(
    outdir: Path, case: Case, fitted: list[Fitted], flow_id: str, log: Callable[[str], None]
) -> tuple[EvidencePackage, dict[str, str], list[Fitting]]:
    """The package with the case's files as given, and the fitted copies that are sent instead."""
    from assistant.casework.compose import file_date

    package = EvidencePackage(outdir)
    for path in case.attachments:
        # The date the file carries, labelled by where it comes from: the tool did not capture it.
        dated, source = file_date(path, case.incident_at.tzinfo or UTC)
        package.add_bytes(
            f"attachments/{path.name}",
            path.read_bytes(),
            media_type(path),
            role="attachment",
            meta={"dated": dated.astimezone(UTC).isoformat().replace("+00:00", "Z"), "dated_from": source},
        )
    fitting = []
    packaged: dict[str, str] = {}  # what each upload step sends, by its package path (manifest: uploaded)
    for item in fitted:
        packaged[str(item.path)] = f"attachments/{item.path.name}"
        if item.actions:  # a fitted copy; the originals above stay as they were
            rel = f"attachments/fitted/{item.path.name}"
            packaged[str(item.path)] = rel
            sources = [f"attachments/{p.name}" for p in item.sources]
            package.add_bytes(
                rel, item.path.read_bytes(), item.media_type, role="attachment-fitted", meta={"from": sources}
            )
            fitting.append(Fitting(sources=sources, result=rel, actions=item.actions, size=item.size))
            log(
                _("attachment fitted to {flow}'s limits: {file}: {changes}").format(
                    flow=flow_id, file=rel, changes="; ".join(item.actions)
                )
            )
    return package, packaged, fitting


# ------------------------------------------------------------------ submit


def submit(case: Case, flow: Flow, settings: Settings) -> Outcome:
    """File the case through the flow's channel; the number, the evidence and the journal entry."""
    check_case_against_flow(case, flow)
    base_url = base_url_for(flow, settings.base_url)
    if not (settings.yes or settings.dry_run or settings.interactive):
        raise InputError(_("no terminal to ask before submitting: pass --yes to submit, or --dry-run to rehearse"))
    channel_class = channels.find(flow.channel)
    with run_folder(settings.home) as workdir:
        # The one read of the person's files: everything after reads these copies.
        case = stage(case, workdir / "attachments")
        key = case.fingerprint()
        fitted = fit_attachments(case, flow, workdir / "fitted")
        with Store(settings.home) as store:
            if not settings.force and not settings.dry_run:
                refuse_duplicate(store, key)
            before_filing(case, flow, settings)  # check, and one request per matter
            return _file(channel_class, case, flow, settings, base_url, key, fitted, workdir, store)


class _Journal:
    """The submission's journal entry: begun before the irreversible act, settled before sealing."""

    def __init__(self, store: Store, case: Case, flow: Flow, settings: Settings, key: str, outdir: Path):
        self.store, self.case, self.flow, self.settings, self.key, self.outdir = (
            store,
            case,
            flow,
            settings,
            key,
            outdir,
        )
        self.id: int | None = None
        self.case_id: int | None = None

    def begin(self, *, draft: bool = False, message_id: str | None = None, **extra: Any) -> int:
        """Journal it (pending; drafted for a message the person sends themselves), unless another
        run of this case or matter journalled one first: then AlreadySubmitted, and nothing is sent."""
        flow, settings = self.flow, self.settings
        self.id = self.store.begin(
            case_key=self.key,
            case=self.case.as_filed(),
            flow={"id": flow.id, "version": flow.version, "sha256": flow.sha256, "channel": flow.channel},
            evidence_dir=str(self.outdir),
            message_id=message_id,
            status=Status.DRAFTED if draft else Status.PENDING,
            check=claim_check(self.case, flow, force=settings.force, kind=settings.kind),
            **journal_extras(self.case, flow, settings.kind, settings.to),
        )
        if extra:
            self.store.set_submission(self.id, **extra)
        found = self.store.submission(self.id)
        self.case_id = found.case_id if found else None
        return self.id

    def confirmed(self, number: str | None, url: str | None) -> None:
        if self.id is not None:
            self.store.confirm(self.id, number, url)

    def settle(self, delivery: Delivery) -> None:
        """The outcome, before the seal. A number read stays confirmed whatever failed after it
        (a capture of the confirmation page, say): the error is kept beside it."""
        if self.id is None:
            return
        status = JOURNAL_AS[delivery.outcome]
        if (delivery.confirmation and status is not Status.DRAFTED) or delivery.outcome is FilingOutcome.ACCEPTED:
            # The number read (or the success page with none) is what counts, whatever failed after it.
            self.store.confirm(self.id, delivery.confirmation, delivery.confirmation_url)
        elif status is Status.REJECTED:
            self.store.reject(self.id, delivery.reason or "refused; no reason shown", delivery.refusal)
            return
        elif status is Status.NOT_FILED:  # journalled, then nothing left the browser
            self.store.not_filed(self.id, delivery.reason or str(delivery.error or "nothing was sent"))
            return
        self._note(delivery.error)  # a draft stays drafted, an unknown stays pending

    def _note(self, error: BaseException | None) -> None:
        assert self.id is not None
        if error is not None:
            self.store.note_error(self.id, str(error).splitlines()[0] if str(error) else repr(error))


def _begun(filing: Filing, journal: _Journal, **extra: Any) -> int:
    submission = journal.begin(**extra)
    filing.case_id = journal.case_id
    return submission


def _file(
    channel_class: type[channels.Channel],
    case: Case,
    flow: Flow,
    settings: Settings,
    base_url: str,
    key: str,
    fitted: list[Fitted],
    workdir: Path,
    store: Store,
) -> Outcome:
    outdir = evidence_dir(settings.home, settings.out, flow.id, key)
    journal = _Journal(store, case, flow, settings, key, outdir)
    sealed: list[Delivery] = []
    fitting: list[Fitting] = []

    def seal(
        delivery: Delivery,
        *,
        render_pdf: Callable[[Path], bytes | None] | None = None,
        before_seal: Callable[[], None] | None = None,
        report: bool = True,
    ) -> None:
        # The number is journalled before anything else can fail: it is never lost.
        journal.settle(delivery)
        sealed.append(delivery)
        assert delivery.environment is not None
        seal_package(
            filing.package,
            case,
            key,
            settings,
            flow=flow,
            environment=delivery.environment,
            actions=delivery.actions,
            submission=SubmissionRef(
                dry_run=settings.dry_run,
                submitted_at=delivery.submitted_at,
                confirmation=delivery.confirmation,
                confirmation_url=delivery.confirmation_url,
                outcome=delivery.outcome,
                reason=delivery.reason,
                refusal=delivery.refusal,
                answers=delivery.answers,
            ),
            request=delivery.request,
            fitting=fitting,
            form=delivery.form,
            render_pdf=render_pdf,
            before_seal=before_seal,
            report=report,
        )

    filing = Filing(
        case,
        flow,
        settings,
        key,
        base_url,
        outdir,
        workdir,
        fitted,
        journal=lambda **extra: _begun(filing, journal, **extra),
        seal=seal,
        confirmed=journal.confirmed,
    )
    channel = channel_class(filing)
    channel.prepare()
    created = not outdir.exists()
    filing.package, filing.packaged, found = open_package(outdir, case, fitted, flow.id, settings.log)
    fitting.extend(found)
    try:
        delivery = channel.deliver()
    except BaseException as exc:
        if not sealed:  # a channel that broke before sealing: what was journalled still says so
            journal.settle(Delivery(outcome=FilingOutcome.FAILED, error=exc))
            if journal.id is None:
                discard_unused(filing.package, created)
        raise
    if not sealed:
        broken = RunFailed(f"the {flow.channel} channel did not seal the evidence package in {outdir}")
        journal.settle(Delivery(outcome=FilingOutcome.FAILED, error=broken))
        raise broken
    evidence_zip = bundle(filing.package, settings.home, settings.out is not None)
    if journal.id is not None and (outdir / "manifest.json").is_file():
        digest = hashlib.sha256((outdir / "manifest.json").read_bytes()).hexdigest()
        store.set_submission(journal.id, manifest_sha256=digest)
    outcome = Outcome(
        status=told(delivery),
        flow_id=flow.id,
        evidence_dir=outdir,
        confirmation=delivery.confirmation,
        confirmation_url=delivery.confirmation_url,
        submission_id=journal.id,
        case_id=journal.case_id,
        screenshots=[
            f.path for f in filing.package.files if f.media_type == "image/png" and f.role not in ("stamped",)
        ],
        evidence_zip=evidence_zip,
        reason=delivery.reason,
    )
    if delivery.error is not None:
        if isinstance(delivery.error, AssistantError):
            delivery.error.outcome = outcome  # what was recorded, for --json
        raise delivery.error
    return outcome


# ------------------------------------------------------------------ capture


def capture(urls: list[str], case: Case, settings: Settings) -> Captured:
    """`assistant capture`: a sealed package from pages alone, with no form and no submission."""
    from assistant.casework.compose import compose
    from assistant.language.urls import Policy
    from assistant.run.capture import check_masks, utcnow
    from assistant.run.netguard import Guard
    from assistant.run.session import BrowserSession, find_browser

    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                _("{url!r}: not an http(s) URL; give the full address, e.g. https://example.com/page").format(url=url)
            )
    check_masks(list(settings.evidence.masks))
    choice = find_browser(settings.browser)
    key = case.fingerprint()
    outdir = evidence_dir(settings.home, settings.out, "capture", key)
    log = settings.log
    with run_folder(settings.home) as workdir:
        created = not outdir.exists()
        package = EvidencePackage(outdir)
        session = BrowserSession.for_case(
            package,
            case,
            key,
            home=settings.home,
            browser=settings.browser,
            evidence=settings.evidence,
            workdir=workdir,
            # Any address the person gives: the guard's proxy is there to look names up, and its
            # page guard to keep WebRTC off (see assistant.run.netguard).
            guard=Guard(Policy.open("capture"), log=log),
            choice=choice,
            log=log,
        )
        actions: list[Action] = []
        failures: list[str] = []
        with ExitStack() as stack:
            try:
                stack.enter_context(session)
            except BaseException:  # no browser, or an option it could not read: nothing captured
                discard_unused(package, created)
                raise
            page = session.page
            assert page is not None and session.environment is not None
            for index, url in enumerate(urls):
                started = utcnow()
                log(_("capture {number}/{total}: {url}").format(number=index + 1, total=len(urls), url=url))
                action = Action(
                    index=index,
                    kind="capture",
                    description=f"open and capture {url}",
                    started_at=started,
                    ended_at=started,
                    url_before=page.url,
                )
                try:
                    page.goto(url, wait_until="load", timeout=(settings.timeout or 30) * 1000)
                    shot = session.capturer.shoot(page, f"{index + 1:03d}-capture", full_page=True, role="capture")
                    action.files = [shot]
                except Exception as exc:
                    action.status, action.error = "failed", str(exc).strip().splitlines()[0]
                    failures.append(f"{url}: {action.error}")
                action.ended_at, action.url_after = utcnow(), page.url
                actions.append(action)
            request = compose(case, [p.name for p in case.attachments])
            session.capturer.collect_stamped()  # the report shows the stamped copies
            seal_package(
                package,
                case,
                key,
                settings,
                environment=session.settle_environment(),
                actions=actions,
                request={"subject": request.subject, "body": request.body},
                render_pdf=session.render_pdf(),
                before_seal=session.before_seal,
            )
        evidence_zip = bundle(package, settings.home, settings.out is not None)
    if failures and len(failures) == len(urls):
        raise RunFailed(
            _("no page could be captured: {failures}. Evidence so far: {folder}").format(
                failures="; ".join(failures), folder=outdir
            )
        )
    return Captured(outdir, evidence_zip, failures)
