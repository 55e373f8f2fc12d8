"""One submission, end to end: case + flow → browser run → evidence → journal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant import __version__
from assistant.casework.compose import compose
from assistant.errors import AlreadySubmitted, InputError, NoBrowser
from assistant.language.case import Case
from assistant.language.flow import Flow
from assistant.run import browser as browsers
from assistant.run.runner import Blocked, Runner, RunOptions, StepFailure
from assistant.store import Store
from evidence import EvidencePackage, Fitting, FlowRef, SubmissionRef
from evidence.fit import media_type


@dataclass
class Settings:
    home: Path
    base_url: str | None = None
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    headed: bool = False
    slowmo: float = 0
    timeout: float | None = None
    out: Path | None = None
    browser_path: str | None = None
    browser_endpoint: str | None = None
    cdp: str | None = None
    interactive: bool = False
    device: str | None = None  # a Playwright device descriptor name, e.g. "iPhone 13"
    masks: tuple[str, ...] = ()  # CSS selectors blacked out in every screenshot
    tsa: str | None = None  # RFC 3161 timestamp authority URL
    trace: bool = False
    trace_in_package: bool = False  # the trace (typed passwords, cookies) inside the shareable package
    confirm: Callable[[dict[str, Any]], bool] = lambda summary: True
    ask_human: Callable[[str], None] | None = None
    log: Callable[[str], None] = lambda message: None
    on_page: Callable[[Any], None] | None = None  # sees the page before the flow runs (flow tests)
    # Told (number, URL) as soon as the provider's number is read, before the package is sealed.
    on_confirmation: Callable[[str, str | None], None] | None = None
    # A person can see and use this browser although it was not launched headed
    # (a --cdp Chrome on their screen; a flow test acting for the person).
    person_watches: bool = False
    # The request and the case: a follow-up skips the one-channel rule; email options.
    kind: str = "request"  # request | followup
    to: str | None = None  # provider address for a generic email flow
    eml_only: bool = False  # email: write the .eml instead of sending it
    smtp: Any = None  # email_channel.SmtpSettings


@dataclass
class Outcome:
    status: str  # confirmed, dry_run
    flow_id: str
    evidence_dir: Path
    confirmation: str | None = None
    confirmation_url: str | None = None
    submission_id: int | None = None
    screenshots: list[str] = field(default_factory=list)
    evidence_zip: Path | None = None

    def public(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "flow": self.flow_id,
            "confirmation": self.confirmation,
            "confirmation_url": self.confirmation_url,
            "submission_id": self.submission_id,
            "evidence_dir": str(self.evidence_dir),
            "screenshots": self.screenshots,
            "evidence_zip": str(self.evidence_zip) if self.evidence_zip else None,
        }


def _same_provider(flow_id: str, flow: Flow) -> bool:
    """A case for one of a provider's flows may go through another of its channels."""
    from assistant.language.flow import find_flow, load_flow

    try:
        other = load_flow(find_flow(flow_id))
    except InputError:
        return False
    return bool(other.provider) and other.provider == flow.provider


def _check_case_against_flow(case: Case, flow: Flow) -> None:
    if case.provider != flow.id and not _same_provider(case.provider, flow):
        raise InputError(f"case: provider: '{case.provider}' does not match the flow '{flow.id}'")
    if case.category not in flow.categories:
        known = ", ".join(flow.categories)
        raise InputError(f"case: category: '{case.category}' is not a category of {flow.id} (known: {known})")


def fit_attachments(case: Case, flow: Flow, workdir: Path):
    """The files to upload: the case's own when they meet the flow's limits, else fitted
    copies (JPEG, smaller, merged). Refuses only what cannot be fitted."""
    from evidence.fit import CannotFit, Limits, fit

    limits = flow.attachments
    try:
        return fit(
            list(case.attachments), Limits(list(limits.media_types), limits.max_bytes, limits.max_files), workdir
        )
    except CannotFit as exc:
        raise InputError(
            f"case: attachments: {exc} ({flow.id} takes {', '.join(limits.media_types)}, "
            f"at most {limits.max_bytes} bytes each, {limits.max_files} files)"
        ) from None


def _base_url(flow: Flow, given: str | None) -> str:
    if given:
        try:
            parts = urlsplit(given)
        except ValueError:  # "http://[::1": Python refuses to split it at all
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--base-url: {given!r} is not an http(s) URL like http://127.0.0.1:8000")
        from assistant.language.urls import UnsafeURL, parse_url

        try:
            parse_url(given)
        except UnsafeURL as exc:
            raise InputError(f"--base-url: {exc}") from None
        return given.rstrip("/")
    if "base_url" in flow.homepage:
        raise InputError(f"flow {flow.id} runs against a local site: pass --base-url http://127.0.0.1:PORT")
    parts = urlsplit(flow.homepage)
    return f"{parts.scheme}://{parts.netloc}"


def build_context(case: Case, flow: Flow, base_url: str, attachments: list[Path] | None = None) -> dict[str, Any]:
    category = flow.categories[case.category]
    attachments = list(case.attachments) if attachments is None else attachments
    request = compose(case, attachments, flow=flow)
    return {
        # Plain data only: templates may reach any value here (Path objects become text).
        "case": {**case.model_dump(mode="python"), "attachments": [str(p) for p in case.attachments]},
        "category": {
            "key": case.category,
            "label": category.label,
            "form_value": category.form_value or case.category,
            "deadline": str(category.deadline),
        },
        "request": {"subject": request.subject, "body": request.body},
        "attachments": [str(p) for p in attachments],
        "base_url": base_url,
        "vars": {},
    }


def _refuse_duplicate(store: Store, key: str) -> None:
    existing = store.find(key)
    if existing is None:
        return
    if existing.status == "confirmed":
        raise AlreadySubmitted(
            f"already submitted: {existing.confirmation} ({existing.flow_id}, {existing.submitted_at}); "
            f"evidence in {existing.evidence_dir}. Nothing was sent again; pass --force to file a new request."
        )
    raise AlreadySubmitted(
        f"a submission of this case started at {existing.submitted_at} was never confirmed "
        f"(last error: {existing.last_error or 'none recorded'}). The provider may have it: check their "
        "status page or your email first; pass --force only if they did not receive it."
    )


def submit(case: Case, flow: Flow, settings: Settings) -> Outcome:
    _check_case_against_flow(case, flow)
    base_url = _base_url(flow, settings.base_url)
    if not (settings.yes or settings.dry_run or settings.interactive):
        raise InputError("no terminal to ask before submitting: pass --yes to submit, or --dry-run to rehearse")
    from assistant.run.scratch import run_folder

    key = case.fingerprint()
    with run_folder(settings.home) as workdir:
        fitted = fit_attachments(case, flow, workdir / "fitted")
        context = build_context(case, flow, base_url, [f.path for f in fitted])
        store = Store(settings.home)
        try:
            if not settings.force and not settings.dry_run:
                _refuse_duplicate(store, key)
            from assistant.casework.matter import before_filing

            before_filing(case, flow, settings)  # check, and one request per matter
            if flow.channel == "email":
                from assistant.channels.email import send

                return send(case, flow, settings, [f.path for f in fitted])
            return _run(case, flow, settings, context, key, store, fitted, workdir)
        finally:
            store.close()


def _evidence_dir(settings: Settings, flow: Flow, key: str) -> Path:
    if settings.out:
        return settings.out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return settings.home / "evidence" / f"{stamp}-{flow.id}-{key[:8]}"


def _bundle_path(settings: Settings, outdir: Path) -> Path:
    target = settings.home / "bundles" / f"{outdir.name}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _run(
    case: Case, flow: Flow, settings: Settings, context: dict, key: str, store: Store, fitted, workdir: Path
) -> Outcome:
    from assistant.run import login

    # Before anything is launched or written: a flow behind a login wall needs a saved session.
    session = login.load(settings.home, flow) if flow.requires_login else None
    try:
        choice = browsers.discover(settings.browser_path, settings.browser_endpoint, settings.cdp)
    except browsers.BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    submission: dict[str, int] = {}
    outdir = _evidence_dir(settings, flow, key)
    package = EvidencePackage(outdir)
    for path in case.attachments:
        package.add_bytes(f"attachments/{path.name}", path.read_bytes(), media_type(path), role="attachment")
    fitting = []
    packaged: dict[str, str] = {}  # what each upload step sends, by its package path (manifest: uploaded)
    for item in fitted:
        packaged[str(item.path)] = f"attachments/{item.path.name}"
        if item.actions:  # a fitted copy; the originals above stay as they were
            rel = f"attachments/fitted/{item.path.name}"
            packaged[str(item.path)] = rel
            package.add_bytes(
                rel,
                item.path.read_bytes(),
                item.media_type,
                role="attachment-fitted",
                meta={"from": [f"attachments/{p.name}" for p in item.sources]},
            )
            fitting.append(
                Fitting(
                    sources=[f"attachments/{p.name}" for p in item.sources],
                    result=rel,
                    actions=item.actions,
                    size=item.size,
                )
            )
            settings.log(f"attachment fitted to {flow.id}'s limits: {rel}: {'; '.join(item.actions)}")
    from assistant.language.urls import Policy, origin_of
    from assistant.run.capture import Capturer, CaptureSettings, check_masks, context_options, render_pdf, signer
    from assistant.run.netguard import Guard

    # --base-url (a replica, a local site) is allowed for this run only, by its exact origin.
    guard = Guard(
        Policy.for_flow(flow, [origin_of(context["base_url"])] if settings.base_url else []), log=settings.log
    )

    capture_settings = CaptureSettings(
        device=settings.device,
        masks=check_masks(list(settings.masks)),
        tsa=settings.tsa,
        trace=settings.trace or settings.trace_in_package,
        trace_in_package=settings.trace_in_package,
        trace_dir=settings.home / "traces",
    )
    case_ref = " · ".join(
        x for x in (case.subject, f"order {case.order_id}" if case.order_id else None, f"case {key[:8]}") if x
    )
    capturer = Capturer(package, case_ref=case_ref, settings=capture_settings, workdir=workdir, log=settings.log)
    signing_key = signer(settings.home)

    def confirm_submit() -> bool:
        if settings.yes:
            return True
        return settings.confirm(
            {
                "provider": flow.name,
                "category": context["category"]["label"],
                "subject": context["request"]["subject"],
                "order_id": case.order_id,
                "contact": f"{case.contacts.full_name} <{case.contacts.email}>",
                "attachments": [p.name for p in case.attachments],
                "evidence": str(outdir),
            }
        )

    def before_submit() -> None:
        flow_info = {"id": flow.id, "version": flow.version, "sha256": flow.sha256, "channel": flow.channel}
        from assistant.casework.matter import journal_extras

        submission["id"] = store.begin(
            case_key=key,
            case=case.model_dump(mode="json"),
            flow=flow_info,
            evidence_dir=str(outdir),
            **journal_extras(case, flow, settings.kind, settings.to),
        )

    options = RunOptions(
        dry_run=settings.dry_run,
        headed=settings.headed or settings.person_watches,
        timeout=settings.timeout,
        confirm_submit=confirm_submit,
        before_submit=before_submit,
        ask_human=settings.ask_human,
        log=settings.log,
        shoot=capturer.shoot,
        secrets=capturer.secrets,
        mask=capturer.mask,
        packaged=packaged,
        guard=guard,
        on_confirmation=settings.on_confirmation,
    )
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from assistant.run import environment

    if guard.start_gate_if_local(choice):
        capturer.peer = guard.gate.peer
    else:
        settings.log(
            f"note: the browser at {choice.target} is on another machine: hosts are checked by its "
            "routes only, and a redirect to another host is not stopped before it connects"
        )
    with guard, sync_playwright() as playwright:
        try:
            browser = browsers.connect(playwright, choice, headless=not settings.headed, slow_mo=settings.slowmo)
        except PlaywrightError as exc:
            raise browsers.start_failure(choice, exc, headless=not settings.headed) from None
        try:
            browser_context = browser.new_context(
                **context_options(playwright, capture_settings, locale="ru-RU" if case.language == "ru" else "en-US"),
                **capturer.context_kwargs(),
                **guard.context_options(),
                storage_state=session["state"] if session else None,
            )
            guard.install(browser_context)
            capturer.start(browser_context)
            page = capturer.new_page(browser_context)
            guard.page = page
            if settings.on_page is not None:
                settings.on_page(page)
            env = environment.capture(
                browser,
                page,
                browser_source=choice.describe(),
                emulated_device=settings.device,
                reported_device=case.device.model_dump(exclude_none=True) if case.device else None,
            )
            runner = Runner(page, flow, context, package, options)
            error: BaseException | None = None
            try:
                if session is not None:
                    runner.precheck()
                    login.verify(
                        page, flow, context["base_url"], session, (settings.timeout or flow.timeout) * 1000, guard=guard
                    )
                result = runner.run()
            except BaseException as exc:  # finish the manifest whatever happened, then re-raise
                error = exc
                result = runner.result
            if error is not None and submission.get("id") is not None:
                store.note_error(submission["id"], str(error).splitlines()[0] if str(error) else repr(error))
            if error is None and result.confirmation and submission.get("id") is not None:
                store.confirm(submission["id"], result.confirmation, result.confirmation_url)
            outcome = (
                "confirmed"
                if result.confirmation
                else "pending"
                if submission.get("id") is not None
                else "not_submitted"
                if error is None
                else "failed"
            )
            capturer.collect_stamped()  # the report shows the stamped copies
            guard.allow_files_under(outdir)  # report.pdf is rendered from file:// in this context
            package.finish(
                tool=f"support-assistant {__version__}",
                case={**case.summary(), "fingerprint": key},
                flow=FlowRef(id=flow.id, version=flow.version, sha256=flow.sha256, file=flow.path),
                environment=env,
                actions=result.actions,
                submission=SubmissionRef(
                    dry_run=settings.dry_run,
                    submitted_at=result.submitted_at,
                    confirmation=result.confirmation,
                    confirmation_url=result.confirmation_url,
                    outcome=outcome,
                ),
                request=context["request"],
                fitting=fitting,
                signer=signing_key,
                tsa_url=settings.tsa,
                render_pdf=render_pdf(browser_context, capturer, settings.log),
                # The network log and console are written when the context closes,
                # after the report (which lists the files captured before it).
                before_seal=lambda: (capturer.close(browser_context), guard.save(package)),
                warn=settings.log,
            )
            # Beside --out; otherwise in home/bundles, so home/evidence holds only folders.
            evidence_zip = package.bundle(None if settings.out else _bundle_path(settings, outdir))
            if submission.get("id") is not None and (outdir / "manifest.json").is_file():
                import hashlib

                store.set_submission(
                    submission["id"],
                    manifest_sha256=hashlib.sha256((outdir / "manifest.json").read_bytes()).hexdigest(),
                )
            if error is not None:
                if isinstance(error, Blocked) and error.after_submit:
                    raise Blocked(
                        f"{error}. It is recorded as pending: ask the provider whether it arrived. Evidence: {outdir}",
                        after_submit=True,
                    ) from None
                if isinstance(error, StepFailure) and error.after_submit:
                    raise StepFailure(
                        f"{error}\nThe request was sent but not confirmed; it is recorded as pending. "
                        f"Evidence: {outdir}",
                        after_submit=True,
                    ) from None
                raise error
        finally:
            browser.close()
    return Outcome(
        status="dry_run" if settings.dry_run else "confirmed",
        flow_id=flow.id,
        evidence_dir=outdir,
        confirmation=result.confirmation,
        confirmation_url=result.confirmation_url,
        submission_id=submission.get("id"),
        screenshots=[f.path for f in package.files if f.media_type == "image/png" and f.role != "stamped"],
        evidence_zip=evidence_zip,
    )
