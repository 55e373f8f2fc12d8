"""Runs a flow's steps on a Playwright page, recording every action as evidence.

The runner knows nothing of the store or the CLI: the caller hands it its
`RunHooks` for the moments that matter (ask before submitting, journal right
before the click, the number the moment it is read) and a `Recorder` that
keeps the pictures, so data flows one way: case + flow → runner → evidence →
submission record.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assistant import translation
from assistant.errors import Declined, InputError, OutcomeUnknown, Rejected, RunFailed
from assistant.language import templating
from assistant.language.flow import (
    AssertTextArgs,
    CheckArgs,
    Confirmation,
    ExtractArgs,
    FillArgs,
    Flow,
    GotoArgs,
    PauseArgs,
    PressArgs,
    ScreenshotArgs,
    SelectArgs,
    StepBase,
    Target,
    UploadArgs,
    WaitForArgs,
    step_strings,
)
from assistant.language.urls import DEFAULT_PORTS, Policy, UnsafeURL
from assistant.run import thanks
from assistant.run.capture import PageNotAnswering
from assistant.run.outcome import (
    AfterClick,
    Look,
    Need,
    Refusal,
    SendWatch,
    Verdict,
    Why,
    after_failed_step,
    decide,
    quote,
    read_declared,
    read_refusal,
    refusal_kind,
)
from assistant.translation import N_, _
from evidence import Action, EvidencePackage, RefusalKind, inert
from evidence.fit import media_type
from evidence.manifest import Uploaded
from evidence.scrub import Secrets

if TYPE_CHECKING:
    from playwright.sync_api import FrameLocator, Locator, Page, Response

    from assistant.run.netguard import Guard


# Steps that change a field of the page, not the page itself.
FIELD_ACTIONS = ("fill", "select", "check", "upload")
# Steps that only wait or check.
QUIET_STEPS = ("wait_for", "assert_visible", "assert_text")


# How long a fill waits to see whether its field is a password field before typing (it usually
# is on the page already; one that appears later is asked about after the fill only).
PRE_FILL_LOOK_MS = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


class Recorder(Protocol):
    """Keeps the evidence of the run's page: assistant.run.capture.Capturer is the one there is.
    A run without one (a flow test acting for the person) keeps bare pictures and snapshots."""

    # What the run typed into password and `secret: true` fields, and cookie values: scrubbed
    # from every message and file of the run.
    secrets: Secrets

    def shoot(
        self,
        page: Page,
        stem: str,
        *,
        full_page: bool,
        role: str,
        element: Locator | None = None,
        flow_line: int | None = None,
    ) -> str:
        """Take and keep one picture (masks, stamped copy, page snapshots); its package path."""
        ...

    def mask(self, locator: Locator) -> None:
        """Black out a field holding a secret in every later picture."""
        ...

    def before_click(self, page: Page, submit: Locator) -> None:
        """Right before the submit click: read the form as the page holds it, and start
        recording what the click sends."""
        ...

    def page_html(self, page: Page) -> bytes:
        """The page's HTML with its form's values in it."""
        ...

    def keep_answers(self, responses: list[Response]) -> None:
        """After the outcome: keep the provider's answers to the click (bodies, Date headers)."""
        ...


class RunHooks:
    """The moments of a run its caller takes part in: one method each, with the default written
    here (as pytest's hookspecs). A caller subclasses and overrides the ones it implements."""

    def log(self, message: str) -> None:
        """A line of progress for the person."""

    def confirm_submit(self) -> bool:
        """Asked right before the submit step: False stops the run (Declined), nothing sent."""
        return True

    def before_submit(self) -> None:
        """Right before the irreversible click, once the evidence so far is on disk: journal it."""

    def ask_human(self, message: str) -> bool:
        """Wait while the person does what `message` asks (a CAPTCHA); False: nobody to ask."""
        return False

    def number_read(self, number: str | None, url: str | None) -> None:
        """The provider accepted the request: its number the moment it is read (None: the page
        gives none), before the confirmation page's picture and the packaging: the person waits
        for nothing else."""


class PersonHooks(RunHooks):
    """Hooks for a run a person follows: its progress to their log, and a step that needs them
    (a CAPTCHA) to their prompt, when there is one."""

    def __init__(self, log: Callable[[str], None], ask_human: Callable[[str], None] | None) -> None:
        self._log, self._ask_human = log, ask_human

    def log(self, message: str) -> None:
        self._log(message)

    def ask_human(self, message: str) -> bool:
        if self._ask_human is None:
            return False
        self._ask_human(message)
        return True


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    headed: bool = False
    timeout: float | None = None  # overrides every step's timeout (seconds)
    # A step before the submit step that fails (a Playwright error, not a refusal or a blocked
    # host) is tried again up to this many times; the submit step and those after it never are.
    retries: int = 0
    hooks: RunHooks = field(default_factory=RunHooks)
    recorder: Recorder | None = None
    # Fitted attachment path → its path in the evidence package, for the manifest.
    packaged: dict[str, str] = field(default_factory=dict)
    # The files an upload step may hand to the page, by the name the flow's templates see (they
    # never see a local path): the run's own copies of the case's files, fitted where needed.
    uploads: dict[str, Path] = field(default_factory=dict)
    # Origins this run may reach besides the flow's allowed_hosts (--base-url,
    # a replica); the loaded flow itself is never changed.
    extra_origins: tuple[str, ...] = ()
    # The browser-side route guard of the page's context (netguard.Guard); the
    # runner turns what it blocked into a 'blocked:' failure after each step.
    guard: Guard | None = None


@dataclass
class RunResult:
    actions: list[Action] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)
    submitted: bool = False  # the submit click was made
    submitted_at: datetime | None = None
    confirmation: str | None = None
    confirmation_url: str | None = None
    outcome: AfterClick | None = None  # decided by assistant.run.outcome
    reason: str | None = None  # the provider's words (rejected), or what was seen (unknown, not_sent)
    refusal: RefusalKind | None = None  # what a rejection was about
    sent: list[str] = field(default_factory=list)  # "METHOD URL" of what the click sent, first first


class StepFailure(RunFailed):
    def __init__(self, message: str, *, after_submit: bool = False):
        super().__init__(message)
        self.after_submit = after_submit


class _TryAgain(Exception):
    """A step before the submit failed and may be tried again (RunOptions.retries)."""


class Blocked(StepFailure):
    """The page tried to reach a host the flow does not allow; the browser did not send it."""

    where: str | None = None  # the flow step, for a message written again once more is known
    blocked: str | None = None  # what the guard stopped


def _step_in_words(kind: str, description: str) -> str:
    """A progress line's step: the flow's own notation in English (what a maintainer reads and
    writes); in another language, what the step does in its words first, the notation after."""
    language = translation.current()
    if language == "en":
        return description
    from evidence.report import step_words

    now = utcnow()
    said = step_words(Action(index=0, kind=kind, description=description, started_at=now, ended_at=now), language)
    return f"{said[:1].lower()}{said[1:]} ({description})"


def host_allowed(url: str, policy: Policy) -> bool:
    """May the browser open this URL? (Strict parsing: a doubtful URL is not allowed.)"""
    try:
        policy.check(url)
    except UnsafeURL:
        return False
    return True


class Runner:
    def __init__(self, page: Page, flow: Flow, context: dict[str, Any], package: EvidencePackage, options: RunOptions):
        self.page = page
        self.flow = flow
        self.context = dict(context)
        self.context.setdefault("vars", {})
        self.package = package
        self.options = options
        self.hooks = options.hooks
        self.recorder = options.recorder
        self.secrets = options.recorder.secrets if options.recorder is not None else Secrets()
        self.result = RunResult(vars=self.context["vars"])
        self.hung: str | None = None  # why the page stopped answering, once a failure capture found it so
        self._shots = 0
        self._uploaded: list[Uploaded] = []
        self._seen: list[Refusal] | None = None  # the refusal read last time: one that holds still counts
        self._login_seen = False  # the last look saw a login page: one that holds still counts
        # The last step before the submit that sent the form's data (a wizard's "Next"), with the
        # refusals on the page before it: a later step that fails may be the site refusing it.
        self._posted: tuple[int, StepBase, set[str]] | None = None
        self._password_before = False  # the page had a password field before the click
        self._thanks_before: frozenset[str] = frozenset()  # thank-you lines before the click (success: thanks)
        self._unphotographed: list[Action] = []  # field actions the next picture shows
        self._progress: tuple[str, int] | None = None  # (label, count) while run_steps runs a list of its own
        self.guard = options.guard
        self.policy = self.guard.policy if self.guard is not None else Policy.for_flow(flow, options.extra_origins)

    # ------------------------------------------------------------ checking

    def precheck(self) -> None:
        """Render every template before the browser does anything, so a flow that
        needs a value the case lacks fails at once, naming the flow line."""
        defined: set[str] = set()
        for step in self.flow.steps:
            for value in step_strings(step):
                for name in templating.names_in(value):
                    if name.startswith("vars.") and name.split(".")[1] not in defined:
                        self._input_error(step, f"'{name}' is used before an extract step sets it")
                try:
                    if not any(n.startswith("vars.") for n in templating.names_in(value)):
                        templating.render(value, self.context)
                except templating.TemplateError as exc:
                    self._input_error(step, str(exc))
            if step.kind == "extract":
                defined.add(step.args.var)
            if step.kind == "goto" and not any(n.startswith("vars.") for n in templating.names_in(step.args.url)):
                try:
                    self.policy.check(str(templating.render(step.args.url, self.context)))
                except UnsafeURL as exc:
                    self._input_error(step, str(exc))
        self._precheck_login()
        self._precheck_human()

    def _precheck_login(self) -> None:
        # The login pages are opened by the same browser: checked like a goto.
        login = self.flow.login
        if login is None:
            return
        for key in ("url", "check_url"):
            value = getattr(login, key)
            if value is None:
                continue
            try:
                self.policy.check(str(templating.render(value, {"base_url": self.context.get("base_url", "")})))
            except (UnsafeURL, templating.TemplateError) as exc:
                line, column = self.flow.position(("login", key))
                raise InputError(f"{self.flow.path}:{line}:{column}: login.{key}: {exc}") from None

    def _precheck_human(self) -> None:
        # Without a window nobody can solve a CAPTCHA: say so before the form is
        # touched, instead of failing (or waiting) half-way through.
        last = self.flow.submit_index() if self.options.dry_run else len(self.flow.steps)
        if self.options.headed:
            return
        for index, step in enumerate(self.flow.steps[:last]):
            if step.kind == "pause_for_human":
                try:
                    message = self._render(step.args.message)
                except templating.TemplateError:
                    message = step.args.message
                raise RunFailed(
                    _(
                        "{where}: steps[{index}].pause_for_human: this step needs a person ({message}), which a "
                        "headless browser cannot show; nothing was filled in or sent. Run again with --headed on a "
                        "machine with a screen"
                    ).format(where=f"{self.flow.where(step)}:{step.column}", index=index, message=message)
                )

    def _find_submit(self, index: int, step: StepBase) -> None:
        """In a dry run, prove the submit button is there, without clicking it."""
        try:
            self._locate(step.args).first.wait_for(state="visible", timeout=self._timeout_ms(step.args))
        except Exception as exc:
            raise StepFailure(
                f"{self.flow.where(step)}: step {index + 1} ({self._describe(step)}): the submit button was not "
                f"found: {self._explain(exc, step)}"
            ) from None

    def _input_error(self, step: StepBase, message: str) -> None:
        raise InputError(
            f"{self.flow.where(step)}:{step.column}: steps[{self.flow.steps.index(step)}].{step.kind}: {message}"
        )

    # ------------------------------------------------------------- running

    def run(self) -> RunResult:
        self.precheck()
        submit_at = self.flow.submit_index()
        for index, step in enumerate(self.flow.steps):
            if index == submit_at:
                self._settle_guard(index, step)
                if self.options.dry_run:
                    self._shoot("review-before-submit", full_page=True, step=step, role="review")
                    self._find_submit(index, step)
                    self.hooks.log(_("dry run: stopped before the submit step; nothing was sent"))
                    return self.result
                if not self.hooks.confirm_submit():
                    raise Declined(_("not submitted: you declined at the prompt"))
                # Before the click that cannot be undone: every file of the evidence so far is on disk.
                self.package.flush()
                baseline = {r.message for r in read_refusal(self.page, self._locate(step.args), browser=False)}
                self._password_before = self._password_shown()
                if self.flow.success is not None and self.flow.success.thanks:
                    self._thanks_before = thanks.thanks_lines(self.page.evaluate(thanks.TEXT_JS))
                self.hooks.before_submit()
                if self.recorder is not None:
                    self.recorder.before_click(self.page, self._locate(step.args))
                watch = SendWatch(self.page, lambda url: host_allowed(url, self.policy)).start()
                try:
                    self._click_submit(index, step, watch)
                    self._steps_after_submit(submit_at, watch, step, baseline)
                    self._confirm(watch, step, baseline)
                finally:
                    watch.stop()
                    self.result.sent = watch.sent + list(watch.sending.values())
                    if self.recorder is not None and watch.answers:
                        try:  # after the number and its picture: the provider's own answer, kept whole
                            self.recorder.keep_answers(watch.answers)
                        except Exception as exc:  # keeping more evidence must not cost the outcome
                            self.hooks.log(
                                _("note: the provider's answer was not kept whole: {reason}").format(reason=_plain(exc))
                            )
                return self.result
            self._run_step_trying(index, step, photo_follows=self._photo_follows(index))
        return self.result

    def _run_step_trying(self, index: int, step: StepBase, *, photo_follows: bool) -> None:
        """A step before the submit, tried again after a failure when --retries allows. A click
        that posts (a wizard's "Next") is answered by the site: its refusal is read at once."""
        tries = self.options.retries + 1
        for attempt in range(1, tries + 1):
            watch = None
            if step.kind in ("click", "press"):
                baseline = {r.message for r in read_refusal(self.page, None, browser=False)}
                watch = SendWatch(self.page, lambda url: host_allowed(url, self.policy)).start()
            try:
                self._run_step(index, step, after_submit=False, photo_follows=photo_follows, last_try=attempt == tries)
                if watch is not None and watch.posted:  # it sent the form's data, not just opened a page
                    self._posted = (index, step, baseline)
                    self._refused_at_step(watch)
            except _TryAgain as again:
                self.hooks.log(
                    _("{failure} (try {attempt}/{tries}); trying the step again").format(
                        failure=again, attempt=attempt, tries=tries
                    )
                )
                self.page.wait_for_timeout(250 * attempt)
                continue
            finally:
                if watch is not None:
                    watch.stop()
            return

    # A refusal read right after a posting step counts once it holds still this long.
    STEP_REFUSAL_SETTLE_MS = 300

    def _refused_at_step(self, watch: SendWatch | None = None) -> None:
        """After a step before the submit that sent the form's data (a wizard's "Next"): the
        site's refusal on the page it answered with, if any, is a rejection at that step."""
        if self._posted is None:
            return
        index, step, baseline = self._posted
        if watch is not None:  # the answer first: a page cannot be read while its document loads
            deadline = time.monotonic() + self._timeout_ms(step.args) / 1000
            while watch.in_flight and time.monotonic() < deadline:
                self.page.wait_for_timeout(50)
            try:
                self.page.wait_for_load_state("domcontentloaded", timeout=self._timeout_ms(step.args))
            except Exception:
                return

        def fresh() -> list[Refusal]:
            return [r for r in read_refusal(self.page, None, browser=False) if r.message not in baseline]

        found = fresh()
        # Words on the next step's page are not a refusal: only the step that came back counts.
        if not found or not self._came_back(index):
            return
        self.page.wait_for_timeout(self.STEP_REFUSAL_SETTLE_MS)
        if fresh() != found:
            return
        words = self._hide(quote(found))
        self.result.outcome, self.result.reason = AfterClick.REJECTED, words
        self.result.refusal = refusal_kind(Verdict(AfterClick.REJECTED, Why.FORM_WITH_ERROR, tuple(found)), None)
        where = _("{place}: step {number} ({what})").format(
            place=self.flow.where(step), number=index + 1, what=self._hide(self._describe(step))
        )
        advice = self._advice(self.result.refusal, None, None)
        raise Rejected(
            _(
                "rejected by the provider at {where}: {words} The form stopped at this step, before the submit. "
                "{advice}"
            ).format(where=where, words=words, advice=advice)
        )

    def _photo_follows(self, index: int) -> bool:
        """Will a screenshot step right after (waits and checks aside) photograph this step's result
        anyway? And a form's fields are filled one after another, then photographed whole: one
        picture of the filled form is the evidence, not a new browser frame after every fill."""
        steps, submit_at = self.flow.steps, self.flow.submit_index()
        step = steps[index]
        if not step.changes_page:
            return False
        # Waits and checks change nothing, and fields change only themselves: a screenshot step
        # after them shows this step's result too (the page it opened, now filled in).
        later = index + 1
        while later < len(steps) and later != submit_at and steps[later].kind in QUIET_STEPS + FIELD_ACTIONS:
            later += 1
        if later < len(steps) and later != submit_at:
            after = steps[later]
            if after.kind == "screenshot" and after.args.selector is None:
                return True
        # Fields filled right before the submit: the last one is photographed, showing them all.
        following = steps[index + 1] if index + 1 < len(steps) and index + 1 != submit_at else None
        return step.kind in FIELD_ACTIONS and following is not None and following.kind in FIELD_ACTIONS

    def _steps_after_submit(self, submit_at: int, watch: SendWatch, submit: StepBase, baseline: set[str]) -> None:
        """Steps after the click (open a status page, say). One that fails is explained by what the
        page shows: the provider's refusal, or a request sent with no answer read."""
        for index in range(submit_at + 1, len(self.flow.steps)):
            try:
                self._run_step(index, self.flow.steps[index], after_submit=True)
            except StepFailure as exc:
                if isinstance(exc, Blocked):
                    raise
                line = self.flow.position(("success",))[0]
                self._seen = None
                for _twice in range(2):  # twice: a refusal on the page is read once it holds still
                    self._check_refusal(watch, self._locate(submit.args), baseline, line)
                self.result.outcome, self.result.reason = (
                    after_failed_step(watch.left_browser),
                    f"{exc}; {watch.summary()}",
                )
                if self.result.outcome is AfterClick.NOT_SENT:
                    raise StepFailure(
                        _("{error}. Nothing left the browser, so nothing was filed").format(error=exc)
                    ) from None
                raise OutcomeUnknown(_("sent, but not confirmed: {reason}").format(reason=self.result.reason)) from None

    def _click_submit(self, index: int, step: StepBase, watch: SendWatch) -> None:
        """The irreversible click. If it fails, whether anything left the browser says what to tell."""
        try:
            # Its picture is the outcome's: the confirmation page, or the page that refused it.
            self._run_step(index, step, after_submit=True, photo_follows=True)
        except StepFailure as exc:
            self.page.wait_for_timeout(500)  # a request the click started shows up within moments
            if watch.left_browser and not isinstance(exc, Blocked):
                # The click was made: it timed out waiting for the page it sent off (an answer that
                # hangs). What the provider did is decided like any other answer, below.
                clicked = self.result.actions[-1]
                clicked.status = "ok"
                clicked.error = f"the click sent the form, then waited in vain for the next page: {clicked.error}"
                self.result.submitted, self.result.submitted_at = True, clicked.started_at
                return
            self.result.outcome, self.result.reason = after_failed_step(watch.left_browser), f"{exc}; {watch.summary()}"
            if watch.left_browser:
                raise
            if isinstance(exc, Blocked) and exc.where and exc.blocked:
                text = _(
                    "{where}: {blocked}. The click was made, but nothing left the browser (what the form "
                    "sent went to that host and was stopped there), so nothing was filed"
                ).format(where=exc.where, blocked=exc.blocked)
                self.result.reason = text
                raise Blocked(text, after_submit=True) from None
            raise StepFailure(
                _("{error}. Nothing left the browser, so nothing was filed").format(error=exc), after_submit=True
            ) from None
        self.result.submitted = True
        self.result.submitted_at = self.result.actions[-1].ended_at

    def _timeout_ms(self, args: Any = None) -> float:
        seconds = self.options.timeout or getattr(args, "timeout", None) or self.flow.timeout
        return seconds * 1000

    def _render_quietly(self, value: Any) -> Any:
        try:
            return self._render(value)
        except templating.TemplateError:
            return value

    def _describe(self, step: StepBase) -> str:
        args = step.args
        label: str | None = getattr(args, "label_text", None)
        if label:
            return label
        if isinstance(args, Target):
            return f"{step.kind} {args.describe_target(self._render_quietly)}"
        if step.kind == "goto":
            return f"goto {self.secrets.url(str(self._render_quietly(args.url)))}"
        if step.kind == "wait_for":
            what = next(f"{k}={getattr(args, k)!r}" for k in ("selector", "text", "url") if getattr(args, k))
            return f"wait for {what}"
        if step.kind == "screenshot":
            return f"screenshot {args.name}"
        if step.kind == "extract":
            return f"extract vars.{args.var}"
        return step.kind

    def run_steps(self, steps: Sequence[StepBase], *, label: str = N_("step")) -> None:
        """Steps from outside the flow's own list, none of them a submit: what a flow test
        does for the person (log in, solve a CAPTCHA), or a lookup, in the same step language.
        Progress counts them as their own list ("lookup step 2/3")."""
        self._progress = (label, len(steps))
        try:
            for index, step in enumerate(steps):
                self._run_step(index, step, after_submit=False)
        finally:
            self._progress = None

    def _run_step(
        self, index: int, step: StepBase, *, after_submit: bool, photo_follows: bool = False, last_try: bool = True
    ) -> None:
        started = utcnow()
        before = self.page.url
        description = self._hide(self._describe(step))
        label, total = self._progress or (N_("step"), len(self.flow.steps))
        # Translators: {label} is "step" or "lookup step", translated; e.g. "step 2/7: fill #name".
        self.hooks.log(
            _("{label} {number}/{total}: {description}").format(
                label=_(label), number=index + 1, total=total, description=_step_in_words(step.kind, description)
            )
        )
        action = Action(
            index=index,
            kind=step.kind,
            description=description,
            flow_line=step.line,
            started_at=started,
            ended_at=started,
            url_before=self.secrets.url(before),
        )
        try:
            files = getattr(self, f"_do_{step.kind}")(step.args, step) or []
            self._check_host(step)
            if step.changes_page and not photo_follows:
                shot = self._shoot_after(f"{index + 1:02d}-{step.kind}", step)
                files += [shot] if shot else []
            self._check_host(step)
        except (InputError, Declined):
            raise
        except Exception as exc:  # a Playwright error, a failed assertion, a hostile page
            # A navigation the guard aborted surfaces as net::ERR_BLOCKED_BY_CLIENT: say what was blocked.
            blocked = self.guard.message() if self.guard is not None else None
            action.status, action.error = "failed", self._hide(blocked or self._explain(exc, step))
            action.ended_at, action.url_after = utcnow(), self._url()
            if not last_try and not blocked and not isinstance(exc, RunFailed):
                failed = f"{self.flow.where(step)}: step {index + 1} ({description}) failed: {action.error}"
                action.error += "; tried again"  # the evidence keeps the failed try, without its pictures
                self.result.actions.append(action)
                raise _TryAgain(failed) from None
            action.files = self._save_failure(step, action.error, exc)
            if self.hung:
                action.error = f"{self.hung}; {action.error}"
            self.result.actions.append(action)
            if not after_submit and not blocked:
                self._refused_at_step()  # the step failed because the site refused the one before it
            if blocked:
                where = _("{place}: step {number} ({what})").format(
                    place=self.flow.where(step), number=index + 1, what=description
                )
                failure = Blocked(self._blocked_text(where, blocked, after_submit), after_submit=after_submit)
                failure.where, failure.blocked = where, blocked
                raise failure from None
            raise StepFailure(
                _("{place}: step {number} ({what}) failed: {error}").format(
                    place=self.flow.where(step), number=index + 1, what=description, error=action.error
                ),
                after_submit=after_submit,
            ) from None
        action.ended_at, action.url_after, action.files = utcnow(), self._url(), files
        action.uploaded, self._uploaded = self._uploaded, []
        self.result.actions.append(action)
        self._photographed(files)  # the picture that shows what the field actions before it did
        if photo_follows:
            self._unphotographed.append(action)

    def _url(self) -> str | None:
        """The page's address as it may be written down (secret parameters scrubbed)."""
        try:
            return self.secrets.url(self.page.url)
        except Exception:
            return None

    def _hide(self, text: str) -> str:
        return self.secrets.text(text)

    def _explain(self, exc: Exception, step: StepBase) -> str:
        # Here, not at the top: a run imports Playwright's API only once its browser is starting.
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        # The browser's own wording (its method names, its call log) stays in failure/error.txt.
        if isinstance(exc, PlaywrightTimeout):
            seconds = self._timeout_ms(step.args) / 1000
            if step.kind == "goto":  # no element is looked for: the page itself did not come
                return (
                    f"timed out after {seconds:g} s: the page did not finish loading; check that the site is up, "
                    "or give the step a longer timeout"
                )
            return (
                f"timed out after {seconds:g} s: the element never appeared; compare the selector with the page "
                "(failure/page.html in the evidence, or `assistant flow check`)"
            )
        return _plain(exc)

    def _check_host(self, step: StepBase) -> None:
        if self.guard is not None and self.guard.violation is not None:
            raise RunFailed(self.guard.message())
        url = self.page.url
        scheme = url.split(":", 1)[0].lower()
        # Without a guard (or should one miss), the page's own address is still checked.
        if scheme in DEFAULT_PORTS and not host_allowed(url, self.policy):
            raise RunFailed(
                f"blocked: the page went to {url.split('/')[2]} (not in {self.policy.where()}); "
                f"if that host belongs to the provider, add it to allowed_hosts in {self.flow.path}"
            )
        if scheme in ("data", "file", "javascript", "blob"):
            raise RunFailed(f"blocked: the page went to a {scheme}: URL, which a flow never opens")

    def _blocked_text(self, where: str, blocked: str, after_submit: bool) -> str:
        if after_submit:
            return (
                f"{where}: {blocked}. The submit button had already been clicked, so what the page sent "
                "to allowed hosts may have reached the provider; nothing reached the blocked host"
            )
        return f"{where}: {blocked}; nothing was submitted"

    def _settle_guard(self, index: int, step: StepBase) -> None:
        """Before the irreversible click: let the guard see every request of the steps before."""
        if self.guard is None:
            return
        self._title()  # a round trip: route events queued before it are handled first
        blocked = self.guard.message()  # None while nothing was stopped
        if blocked is not None:
            raise Blocked(
                self._blocked_text(f"{self.flow.where(step)}: before step {index + 1} (submit)", blocked, False)
            )

    # ------------------------------------------------------------ evidence

    def _shoot(
        self,
        name: str,
        *,
        full_page: bool,
        step: StepBase | None,
        role: str = "screenshot",
        element: Locator | None = None,
    ) -> str:
        if self.recorder is not None:
            self._shots += 1
            return self.recorder.shoot(
                self.page,
                f"{self._shots:03d}-{name}",
                full_page=full_page,
                role=role,
                element=element,
                flow_line=step.line if step else None,
            )
        if element is not None:
            data = element.screenshot(type="png")
        else:
            data = self.page.screenshot(type="png", full_page=full_page)
        taken = utcnow()
        self._shots += 1
        path = f"screenshots/{self._shots:03d}-{name}.png"
        meta = {"url": self._url(), "title": self._title(), "flow_line": step.line if step else None}
        self.package.add_bytes(path, data, "image/png", role=role, captured_at=taken, meta=meta)
        return path

    def _shoot_after(self, name: str, step: StepBase) -> str | None:
        """The screenshot after an action. The action already happened, so a page
        still navigating must not turn it into a failure: wait, retry, then note it."""
        for attempt in range(3):
            try:
                self.page.wait_for_load_state("load", timeout=self._timeout_ms(step.args))
                return self._shoot(name, full_page=False, step=step, role="step")
            except Exception as exc:  # mid-navigation: "Unable to capture screenshot"
                error = exc
                self.page.wait_for_timeout(200 * (attempt + 1))
        self.hooks.log(
            _("note: no screenshot after {step}: {reason}").format(step=step.kind, reason=str(error).splitlines()[0])
        )
        return None

    def _title(self) -> str | None:
        try:
            return self.page.title()
        except Exception:
            return None

    def _stop_loading(self) -> None:
        """A navigation that timed out is still pending, and Chromium will neither screenshot nor
        serialise a page mid-navigation (each waits out its own 30 s timeout): stop it first, so
        the failure evidence takes a moment instead of minutes."""
        try:
            # Not detached after: the session ends with the context, and detaching waits for ever
            # on a page whose scripts hold its thread (a failure this capture may be about).
            self.page.context.new_cdp_session(self.page).send("Page.stopLoading")
        except Exception:  # not Chromium, or the page is gone: the captures below cope
            pass

    def _save_failure(self, step: StepBase | None, error: str, detail: BaseException | None = None) -> list[str]:
        """The failure's picture, page and words; `detail`: the browser's own error, whose text is
        for a maintainer (kept in failure/error.txt), not for the person's message."""
        saved = []
        now = utcnow()
        where = self.flow.where(step) if step else self.flow.path
        self._stop_loading()
        try:
            saved.append(self._shoot("failure", full_page=True, step=step, role="failure"))
        except PageNotAnswering as exc:  # the likelier cause of the failure: say it first
            self.hung = str(exc)
            error = f"{exc}; {error}"
        except Exception:
            pass  # the page may be gone; the error text below still lands
        try:
            if self.recorder is not None:
                html = self.recorder.page_html(self.page)
            else:
                html = self.secrets.bytes(self.page.content().encode("utf-8"))
            made = inert.html(html)
            self.package.add_bytes(
                "failure/page.html", made.data, "text/html", role="failure", captured_at=now, meta=made.meta()
            )
            saved.append("failure/page.html")
        except Exception:
            pass
        text = f"{where}\n{self._hide(error)}\nurl: {self._url()}\n"
        if detail is not None:
            text += f"\nthe browser's error:\n{self._hide(str(detail).strip())}\n"
        self.package.add_bytes("failure/error.txt", text.encode(), "text/plain", role="failure", captured_at=now)
        saved.append("failure/error.txt")
        return saved

    # --------------------------------------------------------------- steps

    def _render(self, value: Any) -> Any:
        return templating.render(value, self.context)

    def _locate(self, target: Target) -> Locator:
        scope = self.page.frame_locator(target.frame) if target.frame else self.page
        if target.selector is not None:
            return scope.locator(self._render(target.selector))
        if target.text is not None:
            return scope.get_by_text(self._render(target.text), exact=target.exact)
        if target.label is not None:
            return scope.get_by_label(self._render(target.label), exact=target.exact)
        if target.role is not None:
            name = self._render(target.name) if target.name else None
            # Any role a flow names is passed on; Playwright's types list the ARIA roles it knows.
            return scope.get_by_role(target.role, name=name, exact=target.exact)  # type: ignore[arg-type]
        if target.placeholder is not None:
            return scope.get_by_placeholder(self._render(target.placeholder), exact=target.exact)
        return scope.get_by_test_id(self._render(target.test_id))

    def _do_goto(self, args: GotoArgs, step: StepBase) -> None:
        url = str(self._render(args.url))
        try:
            self.policy.check(url)  # again: a URL made of extracted vars is known only now
        except UnsafeURL as exc:
            raise RunFailed(f"refused: {exc}") from None
        self.page.goto(url, wait_until=args.wait_until, timeout=self._timeout_ms(args))

    def _do_click(self, args: Target, step: StepBase) -> None:
        self._locate(args).click(timeout=self._timeout_ms(args))

    def _do_submit(self, args: Target, step: StepBase) -> None:
        # Return once the click is made: waiting inside the click for the page it sends off would
        # turn an answer that hangs into a failed click. The outcome watch waits for the answer.
        self._locate(args).click(timeout=self._timeout_ms(args), no_wait_after=True)

    def _do_fill(self, args: FillArgs, step: StepBase) -> None:
        locator, value = self._locate(args), str(self._render(args.value))
        # A password field is asked before the fill too: a page may turn it into a text field the
        # moment it is typed into, and echo it. (A field not there yet is asked after only.)
        secret = args.secret or self._may_be_password(locator, timeout=PRE_FILL_LOOK_MS, unknown=False)
        if secret:
            self.secrets.add_typed(value)
        if args.secret and self.recorder is not None:
            self.recorder.mask(locator)
        locator.fill(value, timeout=self._timeout_ms(args))
        # Nothing is written between the fill and this check (the HAR only when the run ends),
        # and asking after the fill does not wait a second time for a field that never appears.
        if not secret and self._may_be_password(locator):
            self.secrets.add_typed(value)

    @staticmethod
    def _may_be_password(locator: Locator, *, timeout: float = 2000, unknown: bool = True) -> bool:
        # The attribute, not the property: an input's type property is "password" exactly when
        # its type attribute is, in any case, and reading the attribute costs a tenth as much.
        try:
            kind = locator.get_attribute("type", timeout=timeout)
        except Exception:  # not there (yet, or any more): after the fill, kept out of the evidence
            return unknown
        return kind is not None and kind.lower() == "password"

    def _do_select(self, args: SelectArgs, step: StepBase) -> None:
        locator = self._locate(args)
        if args.value is not None:
            locator.select_option(value=str(self._render(args.value)), timeout=self._timeout_ms(args))
        else:
            locator.select_option(label=str(self._render(args.option)), timeout=self._timeout_ms(args))

    def _do_check(self, args: CheckArgs, step: StepBase) -> None:
        locator = self._locate(args)
        (locator.check if args.checked else locator.uncheck)(timeout=self._timeout_ms(args))

    def _do_upload(self, args: UploadArgs, step: StepBase) -> None:
        # The flow model already takes only {{ attachments }}; this is the last line:
        # nothing but the run's own (fitted) attachments reaches the page.
        files = self._render(args.files)
        files = [files] if isinstance(files, str) else list(files)
        chosen: list[Path] = []
        for item in files:
            path = self.options.uploads.get(str(item))
            if path is None:
                self._input_error(step, f"{item} is not one of the case's attachments; a flow uploads only those")
                continue
            if args.types is None or any(_type_matches(media_type(path), t) for t in args.types):
                chosen.append(path)
        # Copies in the run's own folder (casework.attachments.stage): what the browser reads when
        # the form is sent is what is hashed here.
        self._locate(args).set_input_files(chosen, timeout=self._timeout_ms(args))
        for path in chosen:
            data = path.read_bytes()
            name = self.options.packaged.get(str(path), f"attachments/{path.name}")
            self._uploaded.append(Uploaded(path=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data)))

    def _do_press(self, args: PressArgs, step: StepBase) -> None:
        if args.selector:
            self.page.locator(self._render(args.selector)).press(args.key, timeout=self._timeout_ms(args))
        else:
            self.page.keyboard.press(args.key)

    def _scope(self, frame: str | None) -> Page | FrameLocator:
        return self.page.frame_locator(self._render(frame)) if frame else self.page

    def _wait(
        self,
        *,
        selector: str | None = None,
        text: str | None = None,
        url: str | None = None,
        state: Literal["visible", "attached", "hidden", "detached"] = "visible",
        timeout_ms: float,
        frame: str | None = None,
    ) -> None:
        scope = self._scope(frame)
        if selector is not None:
            self._visible_first(scope.locator(self._render(selector)), state).wait_for(state=state, timeout=timeout_ms)
        elif text is not None:
            self._visible_first(scope.get_by_text(self._render(text)), state).wait_for(state=state, timeout=timeout_ms)
        else:
            self.page.wait_for_url(self._render(url), timeout=timeout_ms)

    @staticmethod
    def _visible_first(locator: Locator, state: str) -> Locator:
        # The same text often appears in hidden places too (menus, collapsed FAQ);
        # waiting for it to be visible means any visible copy.
        return locator.filter(visible=True).first if state == "visible" else locator.first

    def _do_wait_for(self, args: WaitForArgs, step: StepBase) -> None:
        self._wait(
            selector=args.selector,
            text=args.text,
            url=args.url,
            state=args.state,
            timeout_ms=self._timeout_ms(args),
            frame=args.frame,
        )

    def _do_screenshot(self, args: ScreenshotArgs, step: StepBase) -> list[str]:
        element = self.page.locator(self._render(args.selector)) if args.selector else None
        return [self._shoot(args.name, full_page=args.full_page, step=step, element=element)]

    def _do_assert_visible(self, args: Target, step: StepBase) -> None:
        from playwright.sync_api import expect

        expect(self._locate(args)).to_be_visible(timeout=self._timeout_ms(args))

    def _do_assert_text(self, args: AssertTextArgs, step: StepBase) -> None:
        from playwright.sync_api import expect

        locator, timeout = self._locate(args), self._timeout_ms(args)
        if args.expected is not None:
            expect(locator).to_have_text(self._render(args.expected), timeout=timeout)
        elif args.contains is not None:
            expect(locator).to_contain_text(self._render(args.contains), timeout=timeout)
        elif args.regex is not None:
            expect(locator).to_have_text(re.compile(args.regex), timeout=timeout)
        else:
            expect(locator).to_be_visible(timeout=timeout)

    def _read(
        self, source: str, selector: str | None, attribute: str | None, timeout_ms: float, frame: str | None = None
    ) -> str:
        if source == "url":
            return self.page.url
        if source == "title":
            return self.page.title()
        if source == "page":
            return str(self.page.evaluate(thanks.TEXT_JS))
        locator = self._scope(frame).locator(self._render(selector)).first
        if source == "value":
            return locator.input_value(timeout=timeout_ms)
        if source == "attribute" and attribute is not None:  # ExtractArgs requires it with from: attribute
            return locator.get_attribute(attribute, timeout=timeout_ms) or ""
        return locator.inner_text(timeout=timeout_ms)

    @staticmethod
    def _match(raw: str, regex: str | None, what: str) -> str:
        if not regex:
            return raw.strip()
        found = re.search(regex, raw)
        if not found:
            raise RunFailed(f"{what}: {raw.strip()[:120]!r} does not match /{regex}/")
        return (found.group(1) if found.groups() else found.group(0)).strip()

    def _do_extract(self, args: ExtractArgs, step: StepBase) -> None:
        raw = self._read(args.source, args.selector, args.attribute, self._timeout_ms(args), args.frame)
        self.context["vars"][args.var] = self._match(raw, args.regex, f"extract vars.{args.var}")

    def _do_pause_for_human(self, args: PauseArgs, step: StepBase) -> None:
        message = self._render(args.message)
        if not self.options.headed or not self.hooks.ask_human(message):
            raise RunFailed(f"this step needs a person ({message}); run again with --headed on a machine with a screen")

    # --------------------------------------------------------- confirmation

    def _confirm(self, watch: SendWatch, submit: StepBase, baseline: set[str]) -> None:
        """Wait for the success check, the flow's `rejected:` check and the page's own signs
        together: the first that holds decides; the timeout alone decides only `unknown`."""
        success, confirmation = self.flow.success, self.flow.confirmation
        if success is None or confirmation is None:  # Flow refuses a web_form flow without them
            raise InputError(f"{self.flow.path}: channel: web_form needs success and confirmation")
        line = self.flow.position(("success",))[0]
        started = utcnow()
        what = (
            "thank-you page"
            if success.thanks
            else next(f"{k} {getattr(success, k)!r}" for k in ("text", "url", "selector") if getattr(success, k))
        )
        action = Action(
            index=len(self.flow.steps),
            kind="success",
            description=f"wait for {what} (proof the provider accepted the request)",
            flow_line=line,
            started_at=started,
            ended_at=started,
            url_before=self._url(),
        )
        timeout_ms = (self.options.timeout or success.timeout or self.flow.timeout) * 1000
        submit_locator = self._locate(submit.args)
        self._seen = None
        try:
            self._await_outcome(watch, submit_locator, baseline, what, timeout_ms)  # the success check held
        except (Rejected, OutcomeUnknown, StepFailure) as exc:
            self._outcome_evidence(action, str(exc))
            raise
        number = None if confirmation == "none" else self._number(confirmation, timeout_ms)
        self.result.outcome = AfterClick.CONFIRMED if number else AfterClick.ACCEPTED
        self.result.confirmation = number
        self.result.confirmation_url = self._url()
        try:
            self.hooks.number_read(number, self.result.confirmation_url)
        except Exception as exc:  # showing the number must not cost its evidence
            self.hooks.log(
                _("note: could not hand over the number at once: {reason}").format(reason=str(exc).splitlines()[0])
            )
        if self.guard is not None and self.guard.violation is not None:
            # The provider already answered; what the confirmation page then tried was stopped.
            self.hooks.log(
                _("note: {blocked}, after the provider confirmed the request").format(blocked=self.guard.message())
            )
        action.files = [self._shoot("confirmation", full_page=True, step=None, role="confirmation")]
        action.ended_at, action.url_after = utcnow(), self._url()
        if not number:
            action.description += "; the page gives no request number"
        self.result.actions.append(action)
        self._photographed(action.files)

    # The success page is already shown when the number is read: it is there at once or not at all.
    NUMBER_WAIT_MS = 3000

    def _number(self, confirmation: Confirmation, timeout_ms: float) -> str | None:
        """The number where the flow reads it; None, with a note on the result, when it is not
        there: the success check held, so the provider accepted the request all the same."""
        try:
            wait = min(timeout_ms, self.NUMBER_WAIT_MS)
            raw = self._read(confirmation.source, confirmation.selector, None, wait, confirmation.frame)
            if confirmation.source == "page" and not confirmation.regex:
                number = thanks.find_number(raw, self._url() or "")
                if number is None:  # the generic reader looks everywhere: the page gives none
                    return None
            else:
                number = self._match(raw, confirmation.regex, "the number")
            if number:
                return number
            error = "the number is empty"
        except Exception as exc:
            missing = "Timeout" in str(exc) and confirmation.source == "text"
            error = f"no {confirmation.selector!r} on the page" if missing else self._hide(_plain(exc))
        line = self.flow.position(("confirmation",))[0]
        self.result.reason = (
            f"the success check held, but no request number was found where the flow looks "
            f"({self.flow.path}:{line}: {error}); the flow may need updating"
        )
        self.hooks.log(_("note: {message}").format(message=self.result.reason))
        return None

    def _outcome_evidence(self, action: Action, error: str) -> None:
        action.status, action.error = "failed", self._hide(error)
        action.ended_at, action.url_after = utcnow(), self._url()
        action.files = self._save_failure(None, action.error)
        self.result.actions.append(action)
        self._photographed(action.files)

    def _photographed(self, files: list[str]) -> None:
        """Hand the first picture among files to the actions waiting for one (photo_follows)."""
        shots = [f for f in files if f.endswith(".png")]
        if shots:
            for waiting in self._unphotographed:
                waiting.files.append(shots[0])
            self._unphotographed.clear()

    def _await_outcome(
        self, watch: SendWatch, submit: Locator, baseline: set[str], what: str, timeout_ms: float
    ) -> None:
        """Returns when the success check holds; raises Rejected, OutcomeUnknown or StepFailure otherwise."""
        success = self.flow.success
        assert success is not None
        line = self.flow.position(("success",))[0]
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            remaining_ms = (deadline - time.monotonic()) * 1000
            try:
                if success.thanks:
                    if self._thanked(watch, max(1.0, min(250.0, remaining_ms))):
                        return
                else:
                    self._wait(
                        selector=success.selector,
                        text=success.text,
                        url=success.url,
                        timeout_ms=max(1.0, min(250.0, remaining_ms)),
                        frame=success.frame,
                    )
                    return
            except Exception as exc:  # not yet; or mid-navigation ("context was destroyed")
                if "has been closed" in str(exc):  # the page, context or browser is gone
                    raise
            time_up = time.monotonic() >= deadline
            self._check_refusal(watch, submit, baseline, line, time_up=time_up, what=what, timeout_ms=timeout_ms)
            if time_up:  # decide() answers once time is up: this line is never reached
                raise AssertionError("no outcome decided when the success check's time ran out")

    def _thanked(self, watch: SendWatch, wait_ms: float) -> bool:
        """`success: {thanks: true}`: a request left the browser, its answer is in, and the page
        thanks for it in a sentence it did not show before the click."""
        if not watch.left_browser or watch.in_flight or watch.navigating:
            self.page.wait_for_timeout(wait_ms)
            return False
        said = thanks.new_thanks(self._thanks_before, self.page.evaluate(thanks.TEXT_JS))
        if not said:
            self.page.wait_for_timeout(wait_ms)
        return bool(said)

    def _check_refusal(
        self,
        watch: SendWatch,
        submit: Locator,
        baseline: set[str],
        line: int,
        *,
        time_up: bool = False,
        what: str = "",
        timeout_ms: float = 0,
    ) -> None:
        """Raise Rejected, OutcomeUnknown, Blocked or StepFailure once the page shows which
        (assistant.run.outcome.decide); return while it does not yet."""
        look = self._watched(
            Look(
                elapsed=0,
                left_browser=False,
                declares_rejected=self.flow.rejected is not None,
                time_up=time_up,
                previous=tuple(self._seen) if self._seen else None,
                previous_login=self._login_seen,
            ),
            watch,
        )
        verdict = decide(look)
        while isinstance(verdict, Need):
            # The network moves while the page is read (a post may leave during a reading): each
            # decision sees it as it is after the reading, never as it was before.
            look = self._watched(self._read_for(verdict, look, submit, baseline), watch)
            verdict = decide(look)
        if look.refusals is not None:  # a refusal that holds still for two looks counts
            self._seen = list(look.refusals) or None
        if look.login_shown is not None:
            self._login_seen = look.login_shown
        if verdict is not None:
            self._tell(verdict, look, watch, line, what, timeout_ms)

    def _watched(self, look: Look, watch: SendWatch) -> Look:
        """The look with what the network and the guard show now."""
        return replace(
            look,
            elapsed=watch.elapsed,
            left_browser=watch.left_browser,
            in_flight=watch.in_flight,
            navigating=watch.navigating,
            stopped=self.guard.message() if self.guard is not None else None,
            unreachable=watch.unreachable,
            status=watch.document_status,
            silent_close=watch.silent_close,
        )

    def _read_for(self, need: Need, look: Look, submit: Locator, baseline: set[str]) -> Look:
        """The reading of the page `decide` asked for."""

        def fresh(found: list[Refusal]) -> tuple[Refusal, ...]:
            return tuple(r for r in found if r.message not in baseline)

        if need is Need.DECLARED:
            declared = self.flow.rejected
            assert declared is not None
            scope = self._scope(declared.frame)
            selector, text = self._render_quietly(declared.selector), self._render_quietly(declared.text)
            return replace(look, declared=tuple(read_declared(scope, selector, text)))
        if need is Need.FORM_SHOWN:
            try:
                shown = submit.first.is_visible()
            except Exception:
                shown = False
            return replace(look, form_shown=shown, broken=self.page.url.startswith("chrome-error://"))
        if need is Need.INVALID:
            return replace(look, invalid=fresh(read_refusal(self.page, submit, browser=True)))
        if need is Need.REFUSALS:
            return replace(look, refusals=fresh(read_refusal(self.page, submit, browser=False)))
        if need is Need.LOGIN:
            return replace(look, login_shown=not self._password_before and self._password_shown())
        words = tuple(read_refusal(self.page, None, browser=False))
        return replace(look, page_words=words, heading=None if words else self._gist())

    def _tell(self, verdict: Verdict, look: Look, watch: SendWatch, line: int, what: str, timeout_ms: float) -> None:
        """Record the verdict and raise what the person is told."""
        why, sent = verdict.why, watch.summary()
        result = self.result
        result.outcome = verdict.outcome
        if verdict.outcome is AfterClick.REJECTED:
            words = self._hide(quote(list(verdict.refusals)))
            result.reason = words
            result.refusal = refusal_kind(verdict, look.status or watch.answered)
            advice = self._advice(result.refusal, look.status, watch.retry_after)
            if verdict.sent:
                raise Rejected(_("rejected by the provider: {words} {advice}").format(words=words, advice=advice))
            raise Rejected(
                _("not sent: the form refused it in the browser: {words} {advice}").format(words=words, advice=advice)
            )
        stopped = look.stopped
        if why is Why.GUARD_STOPPED_IT:
            result.reason = _(
                "{file}:{line}: after the submit click: {stopped}. The click was made, but nothing "
                "left the browser (what the form sent went to that host and was stopped there), so nothing was filed"
            ).format(file=self.flow.path, line=line, stopped=stopped)
            raise Blocked(result.reason, after_submit=True)
        if why is Why.TIME_UP_GUARD:
            assert stopped is not None
            result.reason = stopped
            raise Blocked(
                self._blocked_text(
                    _("{file}:{line}: success check ({what})").format(file=self.flow.path, line=line, what=what),
                    stopped,
                    True,
                ),
                after_submit=True,
            )
        if why is Why.UNREACHABLE:
            result.reason = _("the provider's site could not be reached ({why})").format(why=look.unreachable)
            raise StepFailure(
                _(
                    "not sent: {reason}. Nothing was filed; try again later (is the site up? is the address right?)"
                ).format(reason=result.reason),
                after_submit=True,
            )
        seconds = _("{seconds:g} s").format(seconds=timeout_ms / 1000)
        if why is Why.TIME_UP_NOTHING_SENT:
            result.reason = _("{sent} in {seconds} after the click, and the page shows no reason").format(
                sent=sent, seconds=seconds
            )
            raise StepFailure(
                _(
                    "{file}:{line}: the submit click sent nothing: {reason} (a dialog, a CAPTCHA, a button that "
                    "needs something else first?). Nothing was filed; see failure/page.html"
                ).format(file=self.flow.path, line=line, reason=result.reason),
                after_submit=True,
            )
        reasons = {
            Why.TIME_UP_NO_ANSWER: _("{sent}; no {what} within {seconds}: it is still waiting for the answer"),
            Why.TIME_UP_NOT_SUCCESS: _("{sent}; no {what} within {seconds}: the answer was not the success page"),
            Why.CONNECTION_BROKE: _("{sent}, and the connection broke before the provider answered"),
            Why.CLOSED_SILENTLY: _(
                "{sent}, and the provider closed the connection without answering: it may have stored the "
                "request before it did"
            ),
            Why.SERVER_ERROR: _(
                "{sent}; the provider's server answered HTTP {status} ({title}), which does not say whether it "
                "stored the request"
            ),
        }
        result.reason = reasons[why].format(
            sent=sent, what=what, seconds=seconds, status=look.status, title=self._title() or _("an error page")
        )
        raise OutcomeUnknown(_("sent, but not confirmed: {reason}").format(reason=result.reason))

    def _advice(self, kind: RefusalKind, status: int | None, retry_after: str | None) -> str:
        """What the person does about a rejection of this kind."""
        flow = self.flow.id
        if kind is RefusalKind.SESSION:
            if self.flow.requires_login:
                return _(
                    "Nothing was filed: the site no longer accepts this session or the form's security token; "
                    "log in again (`assistant login {flow}`), then submit again."
                ).format(flow=flow)
            return _(
                "Nothing was filed: the site no longer accepts this session or the form's security token; "
                "submit again: a fresh form brings a fresh token."
            )
        if kind is RefusalKind.CAPTCHA:
            return _(
                "Nothing was filed: the CAPTCHA answer was not accepted; submit again with --headed and type it again."
            )
        if kind is RefusalKind.RATE_LIMIT:
            if retry_after:
                return _(
                    "Nothing was filed: the site asks you to wait (Retry-After: {wait}); submit again later."
                ).format(wait=retry_after)
            return _("Nothing was filed: the site asks you to wait; submit again later.")
        if kind is RefusalKind.NOT_FOUND:
            return _(
                "Nothing was filed: the form posted to an address the site does not have (HTTP {status}); "
                "the flow may need updating (`assistant flow check {flow}`)."
            ).format(status=status, flow=flow)
        if kind is RefusalKind.OTHER:
            return _("Nothing was filed; do what the provider's words ask, then submit again.")
        return _("Nothing was filed; fix the case and submit again.")

    def _came_back(self, index: int) -> bool:
        """Is the page showing again a field filled right before step `index` (its form came back)?"""
        steps = self.flow.steps
        for before in range(index - 1, -1, -1):
            step = steps[before]
            if step.kind not in (*FIELD_ACTIONS, *QUIET_STEPS, "screenshot"):
                break
            if step.kind in FIELD_ACTIONS:
                try:
                    if self._locate(step.args).first.is_visible():
                        return True
                except Exception:  # mid-navigation, or a selector of another page
                    continue
        return False

    def _password_shown(self) -> bool:
        """Does the page show a password field (a login form)?"""
        try:
            return self.page.locator("input[type=password]").filter(visible=True).count() > 0
        except Exception:  # mid-navigation: the next look will tell
            return False

    _GIST = """() => {
      const clean = (t) => (t || '').replace(/\\s+/g, ' ').trim();
      const h1 = document.querySelector('h1');
      const heading = clean(h1 && h1.innerText);
      const para = [...document.querySelectorAll('p, pre, .error')]
        .filter((el) => !(h1 && el.contains(h1)))
        .map((el) => clean(el.innerText)).find((t) => t && t !== heading) || '';
      return [heading || clean(document.title), para].filter(Boolean).join(': ').slice(0, 300);
    }"""

    def _gist(self) -> str | None:
        """An error page in a line: its heading and its first words (Django's 403 page: "Forbidden
        (403): CSRF verification failed. Request aborted.")."""
        try:
            return str(self.page.evaluate(self._GIST)) or self._title()
        except Exception:
            return self._title()


def _type_matches(kind: str, pattern: str) -> bool:
    if pattern.endswith("/*"):
        return kind.startswith(pattern[:-1])
    return kind == pattern


def _plain(exc: BaseException) -> str:
    """An exception's first line in the person's words: Playwright's method name and its
    timeout wording left out (its whole text goes to failure/error.txt)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^[A-Z]\w*\.\w+: ", "", text)  # "Locator.inner_text: …"
    timeout = re.match(r"Timeout (\d+)ms exceeded", text)
    if timeout:
        return f"nothing there within {int(timeout.group(1)) / 1000:g} s"
    return text
