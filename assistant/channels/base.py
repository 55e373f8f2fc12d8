"""What every channel is given and gives back.

A channel is how a request reaches a provider (its web form, its support
address, ...). The pipeline (assistant.pipeline) owns a run's life: it checks
the case, fits the attachments, opens the evidence package, journals, seals,
zips and reports. A channel only does its own part, in `deliver()`:

    class Fax:
        name = "fax"

        def __init__(self, filing: Filing) -> None:
            self.filing = filing

        def prepare(self) -> None:
            ...  # refuse bad input (no number, no modem) before anything is written

        def deliver(self) -> Delivery:
            ...  # evidence into filing.package
            filing.journal()  # right before the irreversible act, never after
            ...  # the act; then filing.seal(delivery) while anything the seal needs is open
            return delivery

and is registered under its `flow.channel` name in assistant.channels.
A channel never imports the pipeline, the store or another channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from assistant.run.settings import BrowserSettings, EvidenceSettings

if TYPE_CHECKING:
    from assistant.language.case import Case
    from assistant.language.flow import Flow
    from evidence import Action, Environment, EvidencePackage, FilingOutcome, RefusalKind
    from evidence.fit import Fitted
    from evidence.manifest import ProviderAnswer, SubmittedForm


@dataclass
class SmtpSettings:
    """Where the email channel sends from: the --smtp-* options as one value. Here, not in the
    email channel, because every filing command builds one from its options before anything
    else, and this module imports nothing heavy."""

    host: str | None = None
    port: int | None = None
    security: str = "starttls"  # starttls | tls | none
    user: str | None = None
    sender: str | None = None  # From address; default: the case's contact email
    timeout: float = 30

    def port_or_default(self) -> int:
        return self.port or {"tls": 465, "starttls": 587}.get(self.security, 25)


# Each settings group's fields, by the names the commands' options give them.
BROWSER_OPTIONS = {
    "browser_path": "path",
    "browser_endpoint": "endpoint",
    "cdp": "cdp",
    "headed": "headed",
    "slowmo": "slowmo",
    "lent": "lent",
    "warm": "warm",
}
EVIDENCE_OPTIONS = ("device", "masks", "tsa", "trace", "trace_in_package", "tz", "locale", "report_pdf")


@dataclass
class Settings:
    """How the person asked for this run: the command's options, and the prompts it may use."""

    home: Path
    base_url: str | None = None
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    timeout: float | None = None
    out: Path | None = None
    interactive: bool = False
    # Tries again a step before the submit step that failed, up to this many times; never the submit.
    retries: int = 0
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    confirm: Callable[[dict[str, Any]], bool] = lambda summary: True
    ask_human: Callable[[str], None] | None = None
    log: Callable[[str], None] = lambda message: None
    # Told the confirmation number the moment it is read (None: accepted, the page gives none),
    # before the evidence is sealed.
    on_confirmation: Callable[[str | None, str | None], None] | None = None
    on_page: Callable[[Any], None] | None = None  # sees the page before the flow runs (flow tests)
    # A person can see and use this browser although it was not launched headed
    # (a --cdp Chrome on their screen; a flow test acting for the person).
    person_watches: bool = False
    kind: str = "request"  # request | followup: a follow-up skips the one-channel rule
    to: str | None = None  # provider address for a generic email flow
    eml_only: bool = False  # email: write the .eml instead of sending it
    smtp: SmtpSettings | None = None  # the email channel's server (--smtp-*)

    @classmethod
    def of(cls, **options: Any) -> Settings:
        """Settings from options named as the commands name them (`browser_path`, `headed`,
        `tsa`, …, and `lent`, `warm`): the browser's and the evidence's go into their groups."""
        browser = {field: options.pop(name) for name, field in BROWSER_OPTIONS.items() if name in options}
        evidence = {name: options.pop(name) for name in EVIDENCE_OPTIONS if name in options}
        return cls(browser=BrowserSettings(**browser), evidence=EvidenceSettings(**evidence), **options)


@dataclass
class Delivery:
    """What happened at the provider, as far as this run can tell."""

    outcome: FilingOutcome  # the manifest's word for what happened at the provider
    reason: str | None = None  # the provider's words (rejected), or what was seen (unknown)
    refusal: RefusalKind | None = None  # what a rejection was about
    dry_run: bool = False  # stopped before the irreversible act because the person asked to
    confirmation: str | None = None
    confirmation_url: str | None = None
    submitted_at: datetime | None = None
    actions: list[Action] = field(default_factory=list)
    environment: Environment | None = None
    request: dict[str, str] | None = None  # the subject and text that went to the provider
    form: SubmittedForm | None = None  # the web form's fields at the click and the request it made
    answers: list[ProviderAnswer] = field(default_factory=list)  # the provider's answers to the click
    error: BaseException | None = None  # raised by the pipeline once the evidence is sealed


@dataclass
class Filing:
    """One request to file, prepared by the pipeline for a channel."""

    case: Case
    flow: Flow
    settings: Settings
    key: str  # the case's fingerprint
    base_url: str
    outdir: Path  # the evidence folder
    workdir: Path  # the run's private scratch folder
    fitted: list[Fitted]
    # Journals the submission as begun (pending) and returns its id; extra fields
    # go with it (e.g. message_id). Call it right before the irreversible act.
    # draft=True journals a message the person will send themselves: drafted, no clock.
    # Raises AlreadySubmitted when another run of the case got there first: then the
    # act must not happen (seal what there is and return the error in the Delivery).
    journal: Callable[..., int]
    # Seals the package: report, manifest, signature, timestamp. Pass render_pdf and
    # before_seal while what they use (a browser) is still open.
    seal: Callable[..., None]
    # Journals the provider's number (and the page it was read on) the moment it is read,
    # before anyone is told it and before anything else can fail.
    confirmed: Callable[[str | None, str | None], None]
    # Opened by the pipeline after prepare(), with the case's attachments in it.
    package: EvidencePackage = field(init=False)
    packaged: dict[str, str] = field(init=False)  # fitted file path → its path in the package
    # The case the journal filed it under, once journal() has run: messages name it
    # (`assistant cases resolve 7`).
    case_id: int | None = field(init=False, default=None)

    @property
    def attachments(self) -> list[Path]:
        """The files to send: the case's own, or copies fitted to the flow's limits."""
        return [f.path for f in self.fitted]

    @property
    def log(self) -> Callable[[str], None]:
        return self.settings.log


class Channel(Protocol):
    name: ClassVar[str]

    def __init__(self, filing: Filing) -> None: ...

    def prepare(self) -> None:
        """Refuse what cannot work before anything is launched, written or journalled."""

    def deliver(self) -> Delivery:
        """File the request; seal the evidence through filing.seal; never raise for what the
        provider or the browser did (put it in Delivery.error): the evidence must be sealed first."""
        ...
