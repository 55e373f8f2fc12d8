"""Reading the provider's own record of your requests: a flow's `lookup:` block.

A submission whose outcome is unknown (the click happened, no number was read)
is settled by `assistant cases resolve`. When the flow says where the provider
lists a person's requests, this opens that list in the same guarded, recorded
browser a filing uses (BrowserSession, the host guard, the saved login),
runs the lookup's steps with the runner, and reads every item on the list
that contains the case's `match` text, with its number. It decides nothing:
the command sees the matches and what the journal already knows, and records
the answer. The list's pages go into an evidence package of their own, sealed
like a capture's (pipeline.capture is the model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.channels.base import Settings
from assistant.errors import InputError, RunFailed
from assistant.language import templating
from assistant.language.case import Case
from assistant.language.flow import Flow, Lookup
from assistant.language.urls import Policy, UnsafeURL, origin_of
from assistant.pipeline import base_url_for, bundle, evidence_dir, seal_package
from assistant.run.scratch import run_folder
from assistant.translation import N_, _
from evidence import Action, EvidencePackage

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["Found", "Looked", "context_for", "look_up"]


@dataclass
class Found:
    """One item on the provider's list that contains the case's match text."""

    number: str | None  # None: the item matched but no number could be read from it
    text: str  # the item's text, on one line
    problem: str | None = None


@dataclass
class Looked:
    url: str | None  # the page the list was read on
    wanted: str  # the match text, as rendered for this case
    items: int  # requests the page listed, matching or not
    found: list[Found] = field(default_factory=list)
    evidence_dir: Path | None = None
    evidence_zip: Path | None = None

    @property
    def numbers(self) -> list[str]:
        """The numbers read, each once, in the list's order."""
        return list(dict.fromkeys(f.number for f in self.found if f.number))


def context_for(case: Case, flow: Flow, base_url: str) -> dict[str, Any]:
    """What a lookup's templates may read (flow.lookup_context_shape): plain data only."""
    category = flow.categories.get(case.category)
    return {
        "case": {**case.model_dump(mode="python"), "attachments": [p.name for p in case.attachments]},
        "category": {
            "key": case.category,
            "label": category.label if category else case.category,
            "form_value": (category.form_value if category else None) or case.category,
            "deadline": str(category.deadline) if category else "",
        },
        "base_url": base_url,
        "vars": {},
    }


def _where(flow: Flow, *loc: Any) -> str:
    """file:line:column: lookup.steps[2].goto, as the flow's other messages name a place."""
    line, column = flow.position(("lookup", *loc))
    name = "lookup" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return f"{flow.path}:{line}:{column}: {name}"


def _precheck(lookup: Lookup, flow: Flow, context: dict[str, Any], policy: Policy) -> str:
    """Render what can be rendered before the browser starts, so a case that lacks a value
    the lookup needs, or a URL it may not open, is said with the flow line; the match text."""
    from assistant.language.flow import step_strings

    for index, step in enumerate(lookup.steps):
        for value in step_strings(step):
            if any(name.startswith("vars.") for name in templating.names_in(value)):
                continue  # known once the extract step before it has run
            try:
                rendered = templating.render(value, context)
            except templating.TemplateError as exc:
                raise InputError(f"{_where(flow, 'steps', index, step.kind)}: {exc}") from None
            if step.kind == "goto" and value == step.args.url:
                try:
                    policy.check(str(rendered))
                except UnsafeURL as exc:
                    raise InputError(f"{_where(flow, 'steps', index, step.kind)}: {exc}") from None
    try:
        wanted = " ".join(str(templating.render(lookup.match, context)).split())
    except templating.TemplateError as exc:
        raise InputError(
            _("{where}: {reason}; the lookup cannot tell this case's request").format(
                where=_where(flow, "match"), reason=exc
            )
        ) from None
    if not wanted:
        raise InputError(
            _("{where}: {match!r} is empty for this case, so any request would match").format(
                where=_where(flow, "match"), match=lookup.match
            )
        )
    return wanted


def _read_list(page: Page, lookup: Lookup, context: dict[str, Any], wanted: str, timeout_ms: float) -> Looked:
    looked = Looked(url=None, wanted=wanted, items=0)
    items = page.locator(str(templating.render(lookup.item, context))).all()
    looked.items = len(items)
    needle = wanted.casefold()
    for item in items:
        whole = " ".join(item.inner_text(timeout=timeout_ms).split())
        if needle not in whole.casefold():
            continue
        text = whole if len(whole) <= 300 else whole[:299] + "…"  # a page's text, quoted to the person
        try:
            raw = item.locator(str(templating.render(lookup.number.selector, context))).first
            value = raw.inner_text(timeout=timeout_ms).strip()
        except Exception as exc:
            problem = f"no {lookup.number.selector!r} in it ({str(exc).strip().splitlines()[0]})"
            looked.found.append(Found(None, text, problem))
            continue
        if lookup.number.regex:
            hit = re.search(lookup.number.regex, value)
            if hit is None:
                problem = f"{value[:80]!r} does not match /{lookup.number.regex}/"
                looked.found.append(Found(None, text, problem))
                continue
            value = (hit.group(1) if hit.groups() else hit.group(0)).strip()
        if not value or len(value) > 200:
            looked.found.append(Found(None, text, "its number is empty" if not value else "its number is too long"))
            continue
        looked.found.append(Found(value, text))
    return looked


def look_up(case: Case, flow: Flow, key: str, settings: Settings) -> Looked:
    """Open the provider's list of requests and read the ones that match this case.

    The evidence package (home/evidence/<stamp>-lookup-<flow>-<key>) is sealed
    whatever happened; a failure is raised after it, naming it.
    """
    from assistant.run import login
    from assistant.run.capture import check_masks, utcnow
    from assistant.run.netguard import Guard
    from assistant.run.runner import PersonHooks, Runner, RunOptions
    from assistant.run.session import BrowserSession, find_browser

    lookup = flow.lookup
    if lookup is None:
        raise InputError(_("{file}: flow {flow} has no lookup: block").format(file=flow.path, flow=flow.id))
    base_url = base_url_for(flow, settings.base_url)
    extra = [origin_of(base_url)] if settings.base_url else []
    context = context_for(case, flow, base_url)
    wanted = _precheck(lookup, flow, context, Policy.for_flow(flow, extra))
    check_masks(list(settings.evidence.masks))
    saved = login.load(settings.home, flow) if flow.requires_login else None
    choice = find_browser(settings.browser)

    outdir = evidence_dir(settings.home, None, f"lookup-{flow.id}", key)
    timeout_ms = (settings.timeout or flow.timeout) * 1000
    with run_folder(settings.home) as workdir:
        package = EvidencePackage(outdir)
        guard = Guard(Policy.for_flow(flow, extra), log=settings.log)
        session = BrowserSession.for_case(
            package,
            case,
            key,
            home=settings.home,
            browser=settings.browser,
            evidence=settings.evidence,
            workdir=workdir,
            guard=guard,
            choice=choice,
            storage_state=saved["state"] if saved else None,
            provider_zone=flow.timezone,
            log=settings.log,
        )
        error: BaseException | None = None
        looked = Looked(url=None, wanted=wanted, items=0)
        with session:
            page = session.page
            assert page is not None and session.environment is not None
            capturer = session.capturer
            options = RunOptions(
                headed=settings.browser.headed,
                timeout=settings.timeout,
                hooks=PersonHooks(settings.log, settings.ask_human),
                recorder=capturer,
                guard=guard,
                extra_origins=tuple(extra),
            )
            runner = Runner(page, flow, context, package, options)
            actions = runner.result.actions
            try:
                if saved is not None:
                    login.verify(page, flow, base_url, saved, timeout_ms, guard=guard)
                runner.run_steps(lookup.steps, label=N_("lookup step"))
                started = utcnow()
                page.wait_for_load_state("load", timeout=timeout_ms)
                looked = _read_list(page, lookup, runner.context, wanted, timeout_ms)
                looked.url = capturer.secrets.url(page.url)
                shot = capturer.shoot(page, "lookup-list", full_page=True, role="lookup")
                line = flow.position(("lookup", "item"))[0]
                said = ", ".join(looked.numbers) or "none"
                actions.append(
                    Action(
                        index=len(actions),
                        kind="lookup",
                        description=f"read the provider's list: {looked.items} request(s), "
                        f"{len(looked.found)} matching {wanted!r} (numbers: {said})",
                        flow_line=line,
                        started_at=started,
                        ended_at=utcnow(),
                        url_before=looked.url,
                        url_after=looked.url,
                        files=[shot],
                    )
                )
            except BaseException as exc:  # seal what was seen whatever happened, then say it
                error = exc
            capturer.collect_stamped()
            guard.allow_files_under(outdir)  # report.pdf is rendered from file:// in this context
            seal_package(
                package,
                case,
                key,
                settings,
                flow=flow,
                case_extra={"lookup": wanted},
                environment=session.settle_environment(),
                actions=actions,
                render_pdf=session.render_pdf(),
                before_seal=session.before_seal,
            )
        looked.evidence_dir = outdir
        looked.evidence_zip = bundle(package, settings.home, False)
    if isinstance(error, InputError):
        # "lookup:" names the flow's lookup: block (assistant.casework.resolve takes it off again).
        raise InputError(
            "lookup: " + _("{error}. Evidence of the lookup: {folder}").format(error=error, folder=outdir)
        ) from None
    if isinstance(error, Exception):  # a step that failed, a page that broke: the run's words, first line
        said = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunFailed(
            "lookup: " + _("{error}. Evidence of the lookup: {folder}").format(error=said, folder=outdir)
        ) from None
    if error is not None:
        raise error
    return looked
