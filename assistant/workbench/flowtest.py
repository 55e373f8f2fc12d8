"""`assistant flow test`: run a flow against its replica with its sample case.

A flow's `test:` block names a replica (flows/replicas/<flow>/), a sample case and
the pattern the confirmation number must match. The test starts the replica
on 127.0.0.1, submits the case through the real browser exactly as
`assistant submit` does, and passes only when the number the flow read from
the page matches the pattern and is the number the replica issued.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError, InputError
from assistant.language.flow import BUILTIN_REPLICAS, Flow, StepBase, load_flow
from assistant.translation import _


@dataclass
class FlowTestResult:
    flow: str
    file: str
    ok: bool
    seconds: float
    confirmation: str | None = None
    message: str = ""
    evidence_dir: str | None = None

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def replica_spec(flow: Flow) -> str | Path:
    assert flow.test is not None
    spec = flow.test.replica
    if spec in BUILTIN_REPLICAS:
        return spec
    return flow.beside(spec)


def outside_code(flow: Flow) -> Path | None:
    """The site.py a flow's test runs when it does not come with the assistant (a flow pack's,
    HOME/flows', one from --flows or a clone): code someone else may have written."""
    if flow.test is None:
        return None
    spec = replica_spec(flow)
    if isinstance(spec, str):
        return None
    from assistant.language.catalog import bundled

    code = (Path(spec) / "site.py").resolve()
    try:
        if bundled().resolve() in code.parents:
            return None
    except InputError:  # no bundled flows installed: nothing is the assistant's own
        pass
    return code


_ANNOUNCED: set[Path] = set()


def announce_code(flow: Flow, echo: Callable[[str], None]) -> None:
    """Say which replica code is about to run, before it is imported, once per file a process."""
    code = outside_code(flow)
    if code is None or code in _ANNOUNCED:
        return
    _ANNOUNCED.add(code)
    echo(
        _(
            "note: running {code}: {flow}'s test site, Python from outside the assistant that runs "
            "with your rights; read a replica you did not write before testing its flow"
        ).format(code=code, flow=flow.id)
    )


def perform(page, flow: Flow, steps: Sequence[StepBase], base_url: str, evidence: Path, guard=None) -> None:
    """Do a person's part (log in, solve a CAPTCHA) with the flow language's own steps."""
    from assistant.language.urls import origin_of
    from assistant.run.runner import Runner, RunOptions
    from evidence import EvidencePackage

    options = RunOptions(extra_origins=(origin_of(base_url),), guard=guard)
    runner = Runner(page, flow, {"base_url": base_url, "vars": {}}, EvidencePackage(evidence), options)
    runner.run_steps(steps)


def log_in_for_test(
    flow: Flow, base_url: str, home: Path, scratch: Path, browser_options: dict, lent: Any = None
) -> None:
    """Log in to the replica as the person would and save the session in `home`.

    `lent` (assistant.run.browser.Started) is a running browser: the login gets a context
    of its own in it, and the browser stays up."""
    from assistant.language.urls import Policy, origin_of
    from assistant.run import browser as browsers
    from assistant.run import login
    from assistant.run.netguard import Guard
    from assistant.run.session import guarded_page

    assert flow.test is not None
    login_steps = flow.test.login_steps
    if not login_steps:
        raise InputError(
            _("{path}: requires_login: true, so test: needs login_steps (how the person logs in)").format(
                path=flow.path
            )
        )
    if lent is not None:
        choice = lent.choice
    else:
        choice = browsers.discover(browser_options.get("browser_path"), browser_options.get("browser_endpoint"))
    guard = Guard(Policy.for_flow(flow, [origin_of(base_url)]))
    with guarded_page(choice, guard, home, headless=True, lent=lent) as page:
        state = login.capture(
            page,
            flow,
            base_url,
            flow.timeout,
            act=lambda p: perform(p, flow, login_steps, base_url, scratch / "login", guard),
            guard=guard,
        )
    login.save(home, flow, state)


def run(
    path: str | Path,
    *,
    log: Callable[[str], None] = lambda m: None,
    keep: Path | None = None,
    timeout: float | None = None,
    browser_path: str | None = None,
    failures: Path | None = None,
    lent: Any = None,
    trace: bool = False,
    retries: int = 0,
    report_pdf: bool = True,
) -> FlowTestResult:
    """Run one flow's test. Raises InputError when the flow or its test block is unusable.

    The run's temporary folder is removed whatever happens; a failed run's evidence is
    kept in `keep`, else in `failures` (a folder per run), else nowhere. `lent`
    (assistant.run.browser.Started) is a running browser, in which the test opens contexts of
    its own (`assistant replay`); `trace` records a Playwright trace into home/traces/ of what
    `keep` keeps; `retries` tries a failed step before the submit again; `report_pdf`: False
    leaves the package without its report.pdf (a replay keeps no package)."""
    from assistant.language.case import load_case

    started = time.monotonic()
    flow = load_flow(path)
    test = flow.test
    if test is None:
        raise InputError(
            _(
                "{path}: no test: block; add one naming the replica, the sample case and the confirmation "
                "pattern (see CONTRIBUTING.md, 'Adding a provider flow')"
            ).format(path=flow.path)
        )
    if flow.channel != "web_form":
        raise InputError(
            _("{path}: flow test runs web_form flows; this one is channel: {channel}").format(
                path=flow.path, channel=flow.channel
            )
        )
    case_path = flow.sample_case()
    # One sample case can serve several flows (the harder-form replicas share one).
    case = load_case(case_path, {"provider": flow.id})
    scratch = Path(tempfile.mkdtemp(prefix=f"flowtest-{flow.id}-"))
    if keep is None and failures is not None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        failed_to: Path | None = failures / f"{stamp}-{flow.id}-{scratch.name.rsplit('-', 1)[-1]}"
    else:
        failed_to = keep
    try:
        replay = {"lent": lent, "trace": trace, "retries": retries, "report_pdf": report_pdf}
        return _run(flow, path, test, case, scratch, log, keep, failed_to, timeout, browser_path, started, replay)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(
    flow: Flow,
    path: str | Path,
    test: Any,
    case: Any,
    scratch: Path,
    log: Callable[[str], None],
    keep: Path | None,
    failed_to: Path | None,
    timeout: float | None,
    browser_path: str | None,
    started: float,
    replay: dict[str, Any],
) -> FlowTestResult:
    """`replay`: what a replay adds to the run's Settings (the lent browser, trace, retries)."""
    from assistant.pipeline import Settings, submit
    from assistant.sites.replica import open_replica

    home = scratch / "home"
    announce_code(flow, log)
    server = open_replica(replica_spec(flow))
    server.start()
    outcome = None
    try:
        url = server.url
        log(
            _("{flow}: replica at {url}").format(flow=flow.id, url=url)
        )  # allowed for this run: submit() adds base_url's origin
        if flow.requires_login:
            log_in_for_test(flow, url, home, scratch, {"browser_path": browser_path}, replay["lent"])
        holder: dict[str, Any] = {}

        def act_for_person(message: str) -> None:
            if not test.human_steps:
                raise InputError(
                    _("{path}: the flow pauses for a person ({message}); add test.human_steps").format(
                        path=flow.path, message=message
                    )
                )
            perform(holder["page"], flow, test.human_steps, url, scratch / "human")

        settings = Settings.of(
            home=home,
            base_url=url,
            yes=True,
            force=True,
            out=scratch / "evidence",
            timeout=timeout,
            browser_path=browser_path,
            ask_human=act_for_person,
            person_watches=bool(test.human_steps),
            on_page=lambda page: holder.__setitem__("page", page),
            log=log,
            **replay,
        )
        try:
            outcome = submit(case, flow, settings)
        except InputError:
            raise
        except AssistantError as exc:
            return _failed(flow, started, str(exc), scratch, failed_to)
        issued = [r.number for r in server.received]
        if test.confirmation is None:  # confirmation: none: accepted, and the replica has it once
            if outcome.status != "accepted" or outcome.confirmation is not None or len(issued) != 1:
                return _failed(
                    flow,
                    started,
                    f"expected the request accepted with no number and received once by the replica; "
                    f"got {outcome.status} {outcome.confirmation or ''}, the replica received {len(issued)}",
                    scratch,
                    failed_to,
                )
            if keep:
                _keep(scratch, keep)
            return FlowTestResult(
                flow.id, str(path), True, time.monotonic() - started, None, evidence_dir=str(keep) if keep else None
            )
        number = outcome.confirmation or ""
        if not number:
            return _failed(
                flow, started, f"no number was read: {outcome.reason or 'the page gave none'}", scratch, failed_to
            )
        if not re.fullmatch(test.confirmation, number):
            return _failed(
                flow,
                started,
                f"confirmation {number!r} does not match test.confirmation /{test.confirmation}/",
                scratch,
                failed_to,
            )
        if issued != [number]:
            return _failed(
                flow, started, f"the flow read {number!r}, but the replica issued {issued}", scratch, failed_to
            )
        if keep:
            _keep(scratch, keep)
        return FlowTestResult(
            flow.id, str(path), True, time.monotonic() - started, number, evidence_dir=str(keep) if keep else None
        )
    finally:
        server.stop()


def _keep(scratch: Path, keep: Path) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for item in scratch.iterdir():
        shutil.move(str(item), str(keep / item.name))
    shutil.rmtree(scratch, ignore_errors=True)


def _failed(flow: Flow, started: float, message: str, scratch: Path, keep: Path | None) -> FlowTestResult:
    if keep:
        _keep(scratch, keep)
    return FlowTestResult(
        flow.id,
        flow.path,
        False,
        time.monotonic() - started,
        None,
        message,
        evidence_dir=str(keep / "evidence") if keep else None,
    )
