"""One submission, end to end: case + flow → browser run → evidence → journal."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from evidence import EvidencePackage, FlowRef, SubmissionRef

from . import __version__
from . import browser as browsers
from .case import Case
from .compose import compose
from .errors import AlreadySubmitted, InputError, NoBrowser
from .flow import Flow
from .runner import Runner, RunOptions, StepFailure
from .store import Store

MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"%PDF-": "application/pdf"}


def media_type(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(8)
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


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
    confirm: Callable[[dict[str, Any]], bool] = lambda summary: True
    ask_human: Callable[[str], None] | None = None
    log: Callable[[str], None] = lambda message: None


@dataclass
class Outcome:
    status: str  # confirmed, dry_run
    flow_id: str
    evidence_dir: Path
    confirmation: str | None = None
    confirmation_url: str | None = None
    submission_id: int | None = None
    screenshots: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "flow": self.flow_id,
            "confirmation": self.confirmation,
            "confirmation_url": self.confirmation_url,
            "submission_id": self.submission_id,
            "evidence_dir": str(self.evidence_dir),
            "screenshots": self.screenshots,
        }


def _check_case_against_flow(case: Case, flow: Flow) -> None:
    if case.provider != flow.id:
        raise InputError(f"case: provider: '{case.provider}' does not match the flow '{flow.id}'")
    if case.category not in flow.categories:
        known = ", ".join(flow.categories)
        raise InputError(f"case: category: '{case.category}' is not a category of {flow.id} (known: {known})")
    limits = flow.attachments
    if len(case.attachments) > limits.max_files:
        raise InputError(
            f"case: attachments: {len(case.attachments)} files, but {flow.id} takes at most {limits.max_files}"
        )
    for index, path in enumerate(case.attachments):
        kind, size = media_type(path), path.stat().st_size
        if kind not in limits.media_types:
            raise InputError(
                f"case: attachments[{index}]: {path.name} is {kind}; {flow.id} takes {', '.join(limits.media_types)}"
            )
        if size > limits.max_bytes:
            raise InputError(
                f"case: attachments[{index}]: {path.name} is {size} bytes; {flow.id} takes at most {limits.max_bytes}"
            )


def _base_url(flow: Flow, given: str | None) -> str:
    if given:
        parts = urlsplit(given)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--base-url: {given!r} is not an http(s) URL like http://127.0.0.1:8000")
        return given.rstrip("/")
    if "base_url" in flow.homepage:
        raise InputError(f"flow {flow.id} runs against a local site: pass --base-url http://127.0.0.1:PORT")
    parts = urlsplit(flow.homepage)
    return f"{parts.scheme}://{parts.netloc}"


def build_context(case: Case, flow: Flow, base_url: str) -> dict[str, Any]:
    category = flow.categories[case.category]
    request = compose(case, [p.name for p in case.attachments])
    return {
        "case": case.model_dump(mode="python"),
        "category": {
            "key": case.category,
            "label": category.label,
            "form_value": category.form_value or case.category,
            "deadline": str(category.deadline),
        },
        "request": {"subject": request.subject, "body": request.body},
        "attachments": [str(p) for p in case.attachments],
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
    if settings.base_url:
        flow.allowed_hosts.append(urlsplit(base_url).hostname or "")
    if not (settings.yes or settings.dry_run or settings.interactive):
        raise InputError("no terminal to ask before submitting: pass --yes to submit, or --dry-run to rehearse")
    context = build_context(case, flow, base_url)
    key = case.fingerprint()
    store = Store(settings.home)
    try:
        if not settings.force and not settings.dry_run:
            _refuse_duplicate(store, key)
        return _run(case, flow, settings, context, key, store)
    finally:
        store.close()


def _evidence_dir(settings: Settings, flow: Flow, key: str) -> Path:
    if settings.out:
        return settings.out
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return settings.home / "evidence" / f"{stamp}-{flow.id}-{key[:8]}"


def _run(case: Case, flow: Flow, settings: Settings, context: dict, key: str, store: Store) -> Outcome:
    try:
        choice = browsers.discover(settings.browser_path, settings.browser_endpoint, settings.cdp)
    except browsers.BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    submission: dict[str, int] = {}
    outdir = _evidence_dir(settings, flow, key)
    package = EvidencePackage(outdir)
    for path in case.attachments:
        package.add_bytes(f"attachments/{path.name}", path.read_bytes(), media_type(path), role="attachment")

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
        submission["id"] = store.begin(
            case_key=key, case=case.model_dump(mode="json"), flow=flow_info, evidence_dir=str(outdir)
        )

    options = RunOptions(
        dry_run=settings.dry_run,
        headed=settings.headed,
        timeout=settings.timeout,
        confirm_submit=confirm_submit,
        before_submit=before_submit,
        ask_human=settings.ask_human,
        log=settings.log,
    )
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from . import environment

    with sync_playwright() as playwright:
        try:
            browser = browsers.connect(playwright, choice, headless=not settings.headed, slow_mo=settings.slowmo)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0]
            raise NoBrowser(f"could not start {choice.describe()}: {first}") from None
        try:
            browser_context = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale="ru-RU" if case.language == "ru" else "en-US"
            )
            page = browser_context.new_page()
            env = environment.capture(
                browser,
                page,
                browser_source=choice.describe(),
                reported_device=case.device.model_dump(exclude_none=True) if case.device else None,
            )
            runner = Runner(page, flow, context, package, options)
            error: BaseException | None = None
            try:
                result = runner.run()
            except BaseException as exc:  # finish the manifest whatever happened, then re-raise
                error = exc
                result = runner.result
            if error is not None and submission.get("id") is not None:
                store.note_error(submission["id"], str(error).splitlines()[0] if str(error) else repr(error))
            if error is None and result.confirmation and submission.get("id") is not None:
                store.confirm(submission["id"], result.confirmation, result.confirmation_url)
            outcome = (
                "confirmed" if result.confirmation
                else "pending" if submission.get("id") is not None
                else "not_submitted" if error is None
                else "failed"
            )
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
            )
            if error is not None:
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
        screenshots=[f.path for f in package.files if f.media_type == "image/png"],
    )

