"""The flow language: one YAML file per provider, described by these models.

These pydantic models are the only definition of the format: the loader
validates with them and `assistant flow schema` exports them as JSON Schema.

A step is a one-key mapping, Maestro-style:

    - click: "#contact-support"            # shorthand: a selector
    - fill: { label: "Email", value: "{{ case.contacts.email }}" }
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, TypeAlias, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from assistant.errors import InputError
from assistant.language import templating, yamlsource
from assistant.language.urls import Policy, UnsafeURL, parse_entry, parse_url
from assistant.translation import N_, _

FLOW_FORMAT: Final = 1

# Limits on what a flow file may ask for: a shared flow is untrusted input, and
# a huge count or an infinite number must end in a clear error, not a hang.
MAX_TEXT = 100_000  # characters in any one string
MAX_TIMEOUT = 600  # seconds, for every timeout
MAX_STEPS = 500
MAX_CATEGORIES = 200
MAX_REGEX = 1000  # characters
MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
MAX_ATTACHMENT_FILES = 50


class Strict(BaseModel):
    # Frozen: a loaded flow is what was validated; nothing may change it on the way to the browser.
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT, allow_inf_nan=False)


def _regex(value: str | None) -> str | None:
    """Compile at validation: a typo in a regex must fail before any browser starts."""
    if value is None:
        return value
    if len(value) > MAX_REGEX:
        raise ValueError(
            _("a regular expression of {length} characters; at most {limit}").format(length=len(value), limit=MAX_REGEX)
        )
    try:
        re.compile(value)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise ValueError(_("not a regular expression: {reason}").format(reason=exc)) from None
    return value


Regex = Annotated[str | None, AfterValidator(_regex)]


# ----------------------------------------------------------------- locating


class Target(Strict):
    """Where on the page. Give exactly one of selector, text, label, role, placeholder, test_id."""

    selector: str | None = Field(None, description="CSS or Playwright selector, e.g. '#email'")
    text: str | None = Field(None, description="visible text of the element")
    label: str | None = Field(None, description="text of the form field's <label>")
    role: str | None = Field(None, description="ARIA role, e.g. 'button'; combine with name")
    name: str | None = Field(None, description="accessible name, with role")
    placeholder: str | None = None
    test_id: str | None = None
    frame: str | None = Field(None, description="selector of the iframe the element is in")
    exact: bool = False
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT, description="seconds; overrides the flow's timeout")
    label_text: str | None = Field(None, alias="describe", description="how the step is named in logs")

    LOCATORS: ClassVar[tuple[str, ...]] = ("selector", "text", "label", "role", "placeholder", "test_id")

    @model_validator(mode="after")
    def _one_locator(self) -> Target:
        given = [k for k in self.LOCATORS if getattr(self, k) is not None]
        if len(given) != 1:
            keys = ", ".join(self.LOCATORS)
            if given:
                raise ValueError(
                    _("give exactly one of {keys} (got {given})").format(keys=keys, given=", ".join(given))
                )
            raise ValueError(_("give exactly one of {keys}").format(keys=keys))
        if self.name is not None and self.role is None:
            raise ValueError(_("'name' goes with 'role'"))
        return self

    def describe_target(self, render: Callable[[str], Any] = lambda value: value) -> str:
        for key in self.LOCATORS:
            value = getattr(self, key)
            if value is not None:
                value = render(value)
                extra = f" name={self.name!r}" if key == "role" and self.name else ""
                return f"{key}={value!r}{extra}"
        return "?"


def _shorthand(key: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return {key: value} if isinstance(value, str) else value

    return convert


class GotoArgs(Strict):
    url: str
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT)


class FillArgs(Target):
    value: str
    secret: bool = Field(
        False, description="the value is a secret (a code, a token): kept out of the evidence and masked in screenshots"
    )


class SelectArgs(Target):
    value: str | None = Field(None, description="the option's value attribute")
    option: str | None = Field(None, description="the option's visible text")

    @model_validator(mode="after")
    def _one_choice(self) -> SelectArgs:
        if (self.value is None) == (self.option is None):
            raise ValueError(_("give either 'value' or 'option'"))
        return self


class CheckArgs(Target):
    checked: bool = True


ATTACHMENTS_REF = re.compile(r"^\{\{\s*attachments(\[\d+\])?\s*\}\}$")


class UploadArgs(Target):
    """Only the case's own attachments can be uploaded: a flow never names a file."""

    files: str | tuple[str, ...] = Field(
        description="'{{ attachments }}', '{{ attachments[N] }}', or a list of those; never a path"
    )
    types: tuple[str, ...] | None = Field(
        None, description="only the attachments of these media types, e.g. [application/pdf, image/*]"
    )

    @field_validator("files")
    @classmethod
    def _only_attachments(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        items = (value,) if isinstance(value, str) else value
        if not items:
            raise ValueError(_("give '{{{{ attachments }}}}' (or '{{{{ attachments[N] }}}}')").format())
        for item in items:
            if not ATTACHMENTS_REF.match(item.strip()):
                raise ValueError(
                    _(
                        "{item!r}: a flow uploads only the case's attachments; write '{{{{ attachments }}}}' "
                        "or '{{{{ attachments[N] }}}}' (the case lists the files, not the flow)"
                    ).format(item=item)
                )
        return value

    @field_validator("types")
    @classmethod
    def _media_types(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for kind in value or ():
            if not re.fullmatch(r"[a-z0-9.+-]+/(\*|[a-z0-9.+-]+)", kind):
                raise ValueError(_("{kind!r} is not a media type like application/pdf or image/*").format(kind=kind))
        return value


class PressArgs(Strict):
    key: str = Field(description="e.g. Enter, Tab, Control+A")
    selector: str | None = None
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT)


class WaitForArgs(Strict):
    selector: str | None = None
    text: str | None = None
    url: str | None = Field(None, description="glob like '**/tickets/*' or a full URL")
    state: Literal["visible", "attached", "hidden", "detached"] = "visible"
    frame: str | None = Field(None, description="selector of the iframe to look in (selector, text)")
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT)

    @model_validator(mode="after")
    def _one(self) -> WaitForArgs:
        if sum(v is not None for v in (self.selector, self.text, self.url)) != 1:
            raise ValueError(_("give exactly one of selector, text, url"))
        return self


class ScreenshotArgs(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    full_page: bool = True
    selector: str | None = Field(None, description="capture only this element")


class AssertTextArgs(Target):
    expected: str | None = Field(None, alias="equals")
    contains: str | None = None
    regex: Regex = None


class ExtractArgs(Strict):
    var: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    selector: str | None = None
    source: Literal["text", "url", "value", "attribute", "title"] = Field("text", alias="from")
    attribute: str | None = None
    regex: Regex = Field(None, description="first group (or whole match) is kept")
    frame: str | None = Field(None, description="selector of the iframe the element is in")
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT)

    @model_validator(mode="after")
    def _needs_selector(self) -> ExtractArgs:
        if self.source in ("text", "value", "attribute") and self.selector is None:
            raise ValueError(_("from: {source} needs a selector").format(source=self.source))
        if self.source == "attribute" and not self.attribute:
            raise ValueError(_("from: attribute needs 'attribute'"))
        return self


class PauseArgs(Strict):
    message: str


def _origin_entry(value: str) -> str:
    parse_entry(value)  # ValueError says what is wrong with it
    return value


OriginEntry = Annotated[str, AfterValidator(_origin_entry)]


def _page_url(value: str) -> str:
    # A template ({{ base_url }}/) is rendered and checked at run time, like a goto.
    if "{{" not in value:
        parse_url(value)  # UnsafeURL is a ValueError saying what is wrong
    return value


PageURL = Annotated[str, AfterValidator(_page_url)]
ORIGIN_SYNTAX = (
    "'host' (http and https on their default ports 80/443), 'host:port' (http and https on that port), "
    "'*.example.com' (the domain and its subdomains) or 'https://host[:port]' (that scheme only)"
)


# -------------------------------------------------------------------- steps

# A step's argument may be written short, as its one required text: `click: "#send"`.
SelectorOrTarget = Annotated[Target, BeforeValidator(_shorthand("selector"), json_schema_input_type=str | Target)]
UrlOrGoto = Annotated[GotoArgs, BeforeValidator(_shorthand("url"), json_schema_input_type=str | GotoArgs)]
SelectorOrCheck = Annotated[CheckArgs, BeforeValidator(_shorthand("selector"), json_schema_input_type=str | CheckArgs)]
KeyOrPress = Annotated[PressArgs, BeforeValidator(_shorthand("key"), json_schema_input_type=str | PressArgs)]
NameOrScreenshot = Annotated[
    ScreenshotArgs, BeforeValidator(_shorthand("name"), json_schema_input_type=str | ScreenshotArgs)
]
MessageOrPause = Annotated[PauseArgs, BeforeValidator(_shorthand("message"), json_schema_input_type=str | PauseArgs)]


class StepBase(Strict):
    """One step: a mapping whose one key is the step's kind and whose value is its arguments."""

    kind: ClassVar[str] = ""
    changes_page: ClassVar[bool] = True
    _line: int = PrivateAttr(0)
    _column: int = PrivateAttr(0)

    @property
    def args(self) -> Any:
        return getattr(self, self.kind)

    @property
    def line(self) -> int:
        return self._line

    @property
    def column(self) -> int:
        return self._column


class GotoStep(StepBase):
    """Open a URL (must be on allowed_hosts)."""

    kind = "goto"
    goto: UrlOrGoto


class ClickStep(StepBase):
    """Click an element."""

    kind = "click"
    click: SelectorOrTarget


class FillStep(StepBase):
    """Type a value into a field."""

    kind = "fill"
    fill: FillArgs


class SelectStep(StepBase):
    """Choose an option in a <select>."""

    kind = "select"
    select: SelectArgs


class CheckStep(StepBase):
    """Tick (or untick) a checkbox."""

    kind = "check"
    check: SelectorOrCheck


class UploadStep(StepBase):
    """Attach files to a file input."""

    kind = "upload"
    upload: UploadArgs


class PressStep(StepBase):
    """Press a key."""

    kind = "press"
    press: KeyOrPress


class WaitForStep(StepBase):
    """Wait for a selector, text or URL."""

    kind = "wait_for"
    changes_page = False
    wait_for: WaitForArgs


class ScreenshotStep(StepBase):
    """Take a named screenshot."""

    kind = "screenshot"
    changes_page = False
    screenshot: NameOrScreenshot


class AssertVisibleStep(StepBase):
    """Fail unless visible."""

    kind = "assert_visible"
    changes_page = False
    assert_visible: SelectorOrTarget


class AssertTextStep(StepBase):
    """Fail unless the text matches."""

    kind = "assert_text"
    changes_page = False
    assert_text: AssertTextArgs


class ExtractStep(StepBase):
    """Read a value into vars.<var>."""

    kind = "extract"
    changes_page = False
    extract: ExtractArgs


class PauseForHumanStep(StepBase):
    """Let a person act (headed only)."""

    kind = "pause_for_human"
    changes_page = False
    pause_for_human: MessageOrPause


class SubmitStep(StepBase):
    """The one irreversible click."""

    kind = "submit"
    submit: SelectorOrTarget


# The step vocabulary, in the order the schema lists it. A new step is a class
# above and a line here; importing this module registers nothing anywhere.
STEPS: Mapping[str, type[StepBase]] = {
    "goto": GotoStep,
    "click": ClickStep,
    "fill": FillStep,
    "select": SelectStep,
    "check": CheckStep,
    "upload": UploadStep,
    "press": PressStep,
    "wait_for": WaitForStep,
    "screenshot": ScreenshotStep,
    "assert_visible": AssertVisibleStep,
    "assert_text": AssertTextStep,
    "extract": ExtractStep,
    "pause_for_human": PauseForHumanStep,
    "submit": SubmitStep,
}


def _step_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        known = [k for k in value if k in STEPS]
        chosen = known[0] if len(value) > 1 and len(known) == 1 else next(iter(value), None)
        return None if chosen is None else str(chosen)
    if isinstance(value, StepBase):
        return value.kind
    return None


if TYPE_CHECKING:
    # mypy cannot read a union built from STEPS; every member is a StepBase.
    Step: TypeAlias = StepBase
else:
    Step = Annotated[
        Union[tuple(Annotated[model, Tag(kind)] for kind, model in STEPS.items())],  # noqa: UP007 (built from STEPS)
        Discriminator(_step_tag),
    ]


# --------------------------------------------------------------- flow parts


class Deadline(Strict):
    hours: float | None = Field(None, gt=0, le=8760, description="at most a year (8760)")
    business_days: int | None = Field(None, ge=1, le=365)

    @model_validator(mode="after")
    def _one(self) -> Deadline:
        if (self.hours is None) == (self.business_days is None):
            raise ValueError(_("give either 'hours' or 'business_days'"))
        return self

    def __str__(self) -> str:
        if self.hours is not None:
            return f"{self.hours:g} hours"
        return f"{self.business_days} business day" + ("s" if self.business_days != 1 else "")


class Category(Strict):
    label: str
    form_value: str | None = Field(None, description="what the form's category field takes; default: the key")
    deadline: Deadline
    source: str | None = Field(None, description="where the deadline comes from")
    order_id_required: bool | None = Field(
        None, description="this category needs the order or contract number (default: the flow's)"
    )


class AttachmentLimits(Strict):
    media_types: tuple[str, ...] = Field(
        default_factory=lambda: ("image/png", "image/jpeg", "application/pdf"), max_length=50
    )
    extensions: tuple[str, ...] | None = Field(
        None,
        max_length=50,
        description="the file name endings the form takes, e.g. [.jpg, .png, .pdf] (a site that rejects "
        "photo.jpeg gets photo.jpg); default: any name",
    )
    latin_names: bool = Field(
        False,
        description="the site takes only file names of Latin letters, digits, '.', '-' and '_' "
        "(фото чека.jpg is sent as foto-cheka.jpg)",
    )
    max_bytes: int = Field(5 * 1024 * 1024, gt=0, le=MAX_ATTACHMENT_BYTES)
    max_files: int = Field(5, ge=0, le=MAX_ATTACHMENT_FILES)

    @field_validator("media_types")
    @classmethod
    def _media_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for kind in value:
            if not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", kind):
                raise ValueError(_("{kind!r} is not a media type like application/pdf or image/png").format(kind=kind))
        return value

    @field_validator("extensions")
    @classmethod
    def _extensions(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        # Sites compare endings without case (.JPG is .jpg), so one spelling is kept.
        for item in value or ():
            if not re.fullmatch(r"\.[A-Za-z0-9][A-Za-z0-9_+-]{0,15}", item):
                raise ValueError(_("{item!r} is not a file name ending like .jpg or .pdf").format(item=item))
        return None if value is None else tuple(dict.fromkeys(item.lower() for item in value))


class Success(Strict):
    """What proves the provider accepted the request, checked after submit."""

    text: str | None = None
    url: str | None = None
    selector: str | None = None
    thanks: Literal[True] | None = Field(
        None,
        description="true: a request left the browser and the page then thanks for it, in Russian or English "
        "(the generic reader, for a page nobody has described; `assistant submit --url` writes it)",
    )
    frame: str | None = Field(None, description="selector of the iframe the proof appears in (text, selector)")
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT)

    @model_validator(mode="after")
    def _one(self) -> Success:
        if sum(v is not None for v in (self.text, self.url, self.selector, self.thanks)) != 1:
            raise ValueError(_("give exactly one of text, url, selector, thanks"))
        return self


class Refusal(Strict):
    """What the provider shows when it refuses the request (an error on the re-shown form, say).

    Checked together with `success:` after submit, so neither waits for the other's
    timeout. Without it the tool still looks for the usual signs: fields the browser or
    the site marks invalid, `role=alert` regions, error containers."""

    selector: str | None = Field(None, description="an element shown only on refusal, e.g. '.errorlist, .alert-danger'")
    text: str | None = Field(None, description="text shown only on refusal, e.g. 'Please correct the errors'")
    frame: str | None = Field(None, description="selector of the iframe the refusal appears in")

    @model_validator(mode="after")
    def _some(self) -> Refusal:
        if self.selector is None and self.text is None:
            raise ValueError(_("give selector, text, or both"))
        return self


class Confirmation(Strict):
    """Where the confirmation (ticket) number is read from, after success."""

    selector: str | None = None
    # from: page is the generic reader: a number after the words a provider puts before one, or in
    # the address (assistant.run.thanks.find_number).
    source: Literal["text", "url", "title", "page"] = Field("text", alias="from")
    regex: Regex = Field(None, description="first group (or whole match) is the number")
    frame: str | None = Field(None, description="selector of the iframe the number is in (from: text)")

    @model_validator(mode="after")
    def _needs(self) -> Confirmation:
        if self.source == "text" and not self.selector:
            raise ValueError(_("from: text needs a selector"))
        return self


def _confirmation_tag(value: Any) -> str:
    return "none" if isinstance(value, str) else "rule"


def _only_none(value: Any) -> Any:
    if value != "none":
        raise ValueError(
            _(
                "{value!r}: write where the number is read ({{selector: ..., regex: ...}}), "
                "or the word none when the provider's page gives no number"
            ).format(value=value)
        )
    return value


# Where the number is read, or the word `none`: the provider's page gives no number. Chosen by
# the value's shape, so a mistyped rule is told its own error, not also "should be 'none'".
ConfirmationRule: TypeAlias = Annotated[
    Union[Annotated[Confirmation, Tag("rule")], Annotated[Literal["none"], BeforeValidator(_only_none), Tag("none")]],  # noqa: UP007
    Discriminator(_confirmation_tag),
]


class Login(Strict):
    """How a person logs in, for flows behind a login wall (`assistant login FLOW`)."""

    url: str = Field(description="the login page, e.g. '{{ base_url }}/login'")
    logged_in: str = Field(description="a selector that is visible only when logged in, e.g. '#account-menu'")
    check_url: str | None = Field(None, description="page opened to check a saved session; default: url")
    session: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9-]*$", description="name of the saved session; flows of one provider share it"
    )


BUILTIN_REPLICAS = {"builtin:demo"}


class FlowTest(Strict):
    """How `assistant flow test` proves this flow: replica + sample case + expected confirmation."""

    replica: str = Field(
        description="folder with the replica's site.py, relative to this file (it may reach up with '..'), "
        "or 'builtin:demo' for the embedded demo portal. `flow test` runs that folder's code"
    )
    case: str = Field(description="the sample case file, in this file's folder (e.g. samples/NAME-case.yaml)")
    confirmation: str | None = Field(
        None,
        description="regex the whole confirmation number must match, e.g. 'FB-\\d{6}'; "
        "none for a flow with `confirmation: none` (the test then expects accepted, no number)",
    )
    login_steps: tuple[Step, ...] = Field(
        default_factory=tuple,
        max_length=MAX_STEPS,
        description="what the person does on the login page (requires_login flows)",
    )
    human_steps: tuple[Step, ...] = Field(
        default_factory=tuple,
        max_length=MAX_STEPS,
        description="what the person does at pause_for_human (e.g. solve the CAPTCHA)",
    )

    @field_validator("case")
    @classmethod
    def _case_name(cls, value: str) -> str:
        if not yamlsource.openable(value):
            raise ValueError(_("not a file name this system can open"))
        # `flow validate` reads the sample case: a flow must not make it read the person's files.
        if value.startswith(("/", "~")) or ":" in value or "\\" in value or ".." in Path(value).parts:
            raise ValueError(
                _(
                    "{value!r}: name a file in this flow's folder (e.g. samples/NAME-case.yaml); "
                    "not an absolute path or one reaching up with '..'"
                ).format(value=value)
            )
        return value

    @field_validator("replica")
    @classmethod
    def _replica_folder(cls, value: str) -> str:
        if value in BUILTIN_REPLICAS:
            return value
        if not value.strip() or ":" in value or "\\" in value or value.startswith(("/", "~")) or "\0" in value:
            raise ValueError(
                _(
                    "{value!r}: name a folder beside this flow (e.g. replicas/NAME) holding site.py, "
                    "or one of {builtin}; not a module or an absolute path"
                ).format(value=value, builtin=", ".join(sorted(BUILTIN_REPLICAS)))
            )
        if not yamlsource.openable(value):
            raise ValueError(_("not a folder name this system can open"))
        return value

    @field_validator("confirmation")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(_("not a regular expression: {reason}").format(reason=exc)) from None
        return value


class EmailChannel(Strict):
    """Where and how a request goes by email (channel: email)."""

    address: str | None = Field(None, description="the provider's support address; null in a generic flow (pass --to)")
    subject_prefix: str = Field("", description="put before the subject, e.g. '[Support] '")
    max_total_bytes: int = Field(
        20 * 1024 * 1024,
        gt=0,
        le=MAX_ATTACHMENT_BYTES,
        description="all attachments together, after encoding is not counted",
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(_("'{value}' is not an email address like support@example.com").format(value=value))
        return value


# Who oversees a provider, by what it is in law: the authority an escalation goes to
# (assistant.casework.escalate), and the law the drafts cite.
ProviderKind: TypeAlias = Literal["consumer_service", "payment_operator", "bank"]

_INN_WEIGHTS = {
    10: ((2, 4, 10, 3, 5, 9, 4, 6, 8),),
    12: ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)),
}


def inn_checks(inn: str) -> bool:
    """The ИНН's control digits (the last one, or two of twelve) agree with the others: a typo is caught."""
    digits = [int(c) for c in inn]
    for weights in _INN_WEIGHTS.get(len(digits), ()):
        check = sum(w * d for w, d in zip(weights, digits, strict=False)) % 11 % 10
        if check != digits[len(weights)]:
            return False
    return len(digits) in _INN_WEIGHTS


class Legal(Strict):
    """Who answers for the service in law, for the drafts of `assistant escalate`.

    Write only what the provider publishes (its public offer, its site's footer) or the
    state register shows; leave out what you are not sure of: a draft without an entity
    names the brand (`provider`), and the person adds the rest before signing.
    """

    kind: ProviderKind = Field(
        "consumer_service",
        description="what the provider is in law, which decides where a complaint goes: consumer_service "
        "(a shop, a delivery or other service to consumers: Rospotrebnadzor, the consumer-protection law), "
        "payment_operator (a money transfer operator such as a non-bank credit organisation: the Bank of "
        "Russia, the national payment system law) or bank (the Bank of Russia, likewise)",
    )
    entity: str | None = Field(
        None,
        min_length=2,
        max_length=300,
        description="the legal entity as registered, e.g. 'ООО «Ромашка»'; the drafts name it, with the "
        "brand in brackets. Default: the brand alone",
    )
    inn: str | None = Field(
        None,
        pattern=r"^(\d{10}|\d{12})$",
        description="its taxpayer number (ИНН): 10 digits for an organisation, 12 for a sole trader; the "
        "control digits are checked",
    )
    address: str | None = Field(
        None, min_length=5, max_length=500, description="its legal address, where a pre-trial claim is sent"
    )

    @field_validator("inn")
    @classmethod
    def _inn(cls, value: str | None) -> str | None:
        if value is not None and not inn_checks(value):
            raise ValueError(
                _("{value!r}: the control digits do not match; check the ИНН against the register").format(value=value)
            )
        return value


class LookupNumber(Strict):
    """Where the request number is, inside the one item that matched."""

    selector: str = Field(description="CSS or Playwright selector inside the item, e.g. '.number'")
    regex: Regex = Field(None, description="first group (or whole match) is the number")


SelectorOrNumber = Annotated[
    LookupNumber, BeforeValidator(_shorthand("selector"), json_schema_input_type=str | LookupNumber)
]

# A lookup only reads: it never sends the request again, nor the person's files.
LOOKUP_REFUSED = {
    "submit": N_("a lookup only reads the provider's record; it has no submit step"),
    "upload": N_("a lookup only reads the provider's record; it uploads nothing"),
}


class Lookup(Strict):
    """How to read the provider's own record of your requests (a "my requests" or status page),
    so `assistant cases resolve` can settle a submission whose outcome is unknown.

    The steps (the flow's step vocabulary, without submit or upload) open the
    list; each `item` is one request on it; the item whose text contains
    `match` is this case's, and its number is read from `number`. End the
    steps with a wait_for on the list, so the page is complete when it is read.
    """

    steps: tuple[Step, ...] = Field(min_length=1, max_length=MAX_STEPS)
    item: str = Field(description="selector of one request in the provider's list, e.g. '#requests .request'")
    match: str = Field(
        description="text that identifies this case's request inside an item, e.g. '{{ case.order_id }}' "
        "(compared ignoring case and runs of spaces)"
    )
    number: SelectorOrNumber

    @model_validator(mode="after")
    def _reads_only(self) -> Lookup:
        for index, step in enumerate(self.steps):
            if step.kind in LOOKUP_REFUSED:
                raise yamlsource.At(("steps", index, step.kind), _(LOOKUP_REFUSED[step.kind]))
        return self


class Flow(Strict):
    """A provider's support channel, described as data.

    channel: web_form needs steps, success and confirmation (`confirmation: none` when the
    provider's page gives no number); channel: email
    needs an `email:` block and has no steps.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"channel": {"const": "web_form"}}},
                    "then": {"required": ["steps", "success", "confirmation"]},
                },
                {"if": {"properties": {"channel": {"const": "email"}}}, "then": {"required": ["email"]}},
            ]
        },
    )

    format: Literal[1] = Field(FLOW_FORMAT, description="flow language version")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str
    version: str = "1"
    provider: str | None = None
    legal: Legal | None = Field(
        None,
        description="who answers for the provider in law: its kind (which authority oversees it), entity, "
        "ИНН and address, for the escalation drafts. Default: a consumer service known by its brand",
    )
    homepage: PageURL
    allowed_hosts: tuple[OriginEntry, ...] = Field(
        min_length=1,
        description="the only origins the browser may open, post to or fetch from: each entry is "
        + ORIGIN_SYNTAX
        + "; everything else is blocked in the browser before it is sent. "
        "--base-url adds its exact origin for that run",
    )
    allowed_resources: tuple[OriginEntry, ...] = Field(
        default_factory=tuple,
        description="other hosts the pages may load images, CSS, fonts, scripts and media from (GET only); "
        "same syntax as allowed_hosts. Other third-party resources are blocked and noted, without stopping",
    )
    channel: Literal["web_form", "email"]
    country: str = Field(
        "RU", pattern=r"^[A-Z]{2}$", description="ISO country code of the provider's business-day calendar"
    )
    timezone: str = Field(
        "Europe/Moscow",
        description="IANA time zone the provider works in: its deadlines run in it, and evidence shows the "
        "provider's clock in it beside the person's",
    )
    email: EmailChannel | None = Field(None, description="the email channel (channel: email)")
    order_id_required: bool = Field(
        False, description="the provider needs the order or contract number (`check` errors without one)"
    )
    requires_login: bool = Field(False, description="the form is behind a login wall; needs a `login:` block")
    login: Login | None = None
    test: FlowTest | None = Field(None, description="replica, sample case and confirmation for `assistant flow test`")
    lookup: Lookup | None = Field(
        None,
        description="how to find a request on the provider's own list, for `assistant cases resolve` "
        "(a submission whose outcome is unknown)",
    )
    verified_live: date | None = Field(
        None, description="the date this flow last worked against the real site; null if never"
    )
    verified_confirmation: date | None = Field(
        None,
        description="the date success/confirmation were drafted from a real confirmation page "
        "(`assistant flow snapshot --confirmation`); null if they are guesses",
    )
    notes: str | None = Field(None, description="what is known and what was never checked")
    other_channels: Mapping[str, str] = Field(default_factory=dict, max_length=MAX_CATEGORIES)
    categories: Mapping[str, Category] = Field(min_length=1, max_length=MAX_CATEGORIES)
    attachments: AttachmentLimits = Field(default_factory=AttachmentLimits)
    timeout: float = Field(15, gt=0, le=MAX_TIMEOUT, description="default seconds each step may take")
    steps: tuple[Step, ...] = Field(default_factory=tuple, max_length=MAX_STEPS)
    success: Success | None = None
    rejected: Refusal | None = Field(
        None, description="what the provider shows when it refuses the request; checked beside success"
    )
    confirmation: ConfirmationRule | None = Field(
        None,
        description="where the request number is read after success; 'none' when the provider's page gives "
        'no number ("Thank you, we will contact you"): success alone then means accepted, with no number',
    )

    _source: yamlsource.Source | None = PrivateAttr(None)
    _sha256: str = PrivateAttr("")

    @model_validator(mode="after")
    def _channel_parts(self) -> Flow:
        if self.channel == "email":
            if self.email is None:
                raise ValueError(_("channel: email needs an 'email:' block (address, subject_prefix)"))
            if self.steps or self.success or self.confirmation or self.rejected:
                raise ValueError(_("channel: email has no steps, success, rejected or confirmation"))
            return self
        missing: list[str] = [k for k in ("success", "confirmation") if getattr(self, k) is None]
        if not self.steps:
            missing.insert(0, "steps")
        if missing:
            raise ValueError(_("channel: web_form needs {keys}").format(keys=", ".join(missing)))
        count = sum(1 for s in self.steps if s.kind == "submit")
        if count != 1:
            raise ValueError(_("steps: a flow has exactly one 'submit' step (found {count})").format(count=count))
        return self

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(_("'{value}' is not an IANA time zone like Europe/Moscow").format(value=value)) from None
        return value

    @model_validator(mode="after")
    def _test_expects_what_the_flow_reads(self) -> Flow:
        if self.test is None or self.channel != "web_form":
            return self
        if self.confirmation == "none" and self.test.confirmation is not None:
            raise yamlsource.At(
                ("test", "confirmation"),
                _(
                    "this flow reads no number (confirmation: none): remove test.confirmation; "
                    "the test then expects the request accepted with no number"
                ),
            )
        if isinstance(self.confirmation, Confirmation) and self.test.confirmation is None:
            raise yamlsource.At(
                ("test",), _("test needs confirmation: the regex the number must match, e.g. 'FB-\\d{{6}}'").format()
            )
        return self

    @model_validator(mode="after")
    def _login_block(self) -> Flow:
        if self.requires_login and self.login is None:
            raise ValueError(_("requires_login: true needs a 'login:' block (url, logged_in)"))
        return self

    @model_validator(mode="after")
    def _templates_known(self) -> Flow:
        """Every template names something the run's context will hold: the case's fields,
        the category, the request, the attachments, base_url, and vars.<name> only after
        the extract step that sets it. Checked here so `flow validate` names the line."""
        full = _context_shape()
        only_base = {"base_url": templating.LEAF}
        defined: dict[str, str] = {}
        for index, step in enumerate(self.steps):
            for loc, value in _template_fields(step.args, ("steps", index, step.kind)):
                _check_template(value, loc, {**full, "vars": dict(defined)}, vars_later=False)
            if step.kind == "extract":
                defined[step.args.var] = templating.LEAF
        after = {**full, "vars": dict(defined)}
        for name in ("success", "rejected", "confirmation"):
            part = getattr(self, name)
            if part is not None and part != "none":
                for loc, value in _template_fields(part, (name,)):
                    _check_template(value, loc, after, vars_later=True)
        # Rendered before any step runs, with base_url only (login.py, submit.py).
        if self.login is not None:
            for loc, value in _template_fields(self.login, ("login",)):
                _check_template(value, loc, only_base, vars_later=True)
        _check_template(self.homepage, ("homepage",), only_base, vars_later=True)
        if self.test is not None:
            for key in ("login_steps", "human_steps"):
                for index, step in enumerate(getattr(self.test, key)):
                    for loc, value in _template_fields(step.args, ("test", key, index, step.kind)):
                        try:
                            templating.check_syntax(value)
                        except templating.TemplateError as exc:
                            raise yamlsource.At(loc, str(exc)) from None
        return self

    @model_validator(mode="after")
    def _literal_urls_are_allowed(self) -> Flow:
        """A URL written out in full must be one the run may open: said at validation, not mid-run."""
        policy = Policy.for_flow(self)
        places: list[tuple[yamlsource.Loc, str | None]] = [(("homepage",), self.homepage)]
        places += [(("steps", i, "goto", "url"), s.args.url) for i, s in enumerate(self.steps) if s.kind == "goto"]
        if self.login is not None:
            places += [(("login", key), getattr(self.login, key)) for key in ("url", "check_url")]
        for loc, url in places:
            if url is None or "{{" in url:
                continue  # rendered and checked at run time, with --base-url's origin
            try:
                policy.check(url)
            except UnsafeURL as exc:
                raise yamlsource.At(loc, str(exc)) from None
        return self

    @model_validator(mode="after")
    def _lookup_known(self) -> Flow:
        """The lookup's templates name only what a lookup has (lookup_context_shape), and a
        URL written out in full is one the run may open: said with the line, before any run."""
        lookup = self.lookup
        if lookup is None:
            return self
        policy = Policy.for_flow(self)
        shape = lookup_context_shape()
        defined: dict[str, str] = {}
        for index, step in enumerate(lookup.steps):
            loc = ("lookup", "steps", index, step.kind)
            for where, value in _template_fields(step.args, loc):
                _check_template(value, where, {**shape, "vars": dict(defined)}, vars_later=False)
            if step.kind == "extract":
                defined[step.args.var] = templating.LEAF
            if step.kind == "goto" and "{{" not in step.args.url:
                try:
                    policy.check(step.args.url)
                except UnsafeURL as exc:
                    raise yamlsource.At(loc + ("url",), str(exc)) from None
        after = {**shape, "vars": dict(defined)}
        for where, value in _template_fields(lookup, ("lookup",)) + _template_fields(
            lookup.number, ("lookup", "number")
        ):
            _check_template(value, where, after, vars_later=True)
        return self

    @property
    def source(self) -> yamlsource.Source | None:
        """The file this flow was loaded from; None for a flow built in code."""
        return self._source

    @property
    def path(self) -> str:
        return self._source.path if self._source else "<flow>"

    def position(self, loc: yamlsource.Loc) -> tuple[int, int]:
        """(line, column) of loc, e.g. ("login", "url"), in the flow file; (0, 0) without one."""
        return self._source.position(loc) if self._source else (0, 0)

    @property
    def sha256(self) -> str:
        return self._sha256

    def where(self, step: StepBase) -> str:
        return f"{self.path}:{step.line}"

    def submit_index(self) -> int:
        return next(i for i, s in enumerate(self.steps) if s.kind == "submit")

    def session_name(self) -> str:
        """The saved login session this flow uses; flows of one provider share it."""
        if self.login and self.login.session:
            return self.login.session
        return re.sub(r"[^a-z0-9-]+", "-", (self.provider or self.id).lower()).strip("-") or self.id

    def sample_case(self) -> Path:
        """test.case, resolved; it must be a file inside this flow's folder (symlinks followed)."""
        assert self.test is not None
        folder = Path(self.path).resolve().parent
        path = (folder / self.test.case).resolve()
        line, column = self.position(("test", "case"))
        where = f"{self.path}:{line}:{column}: test.case"
        if not path.is_relative_to(folder):
            raise InputError(
                _("{where}: {case} leads outside the flow's folder; keep the sample case there").format(
                    where=where, case=self.test.case
                )
            )
        if not path.is_file():
            raise InputError(_("{where}: {path} does not exist").format(where=where, path=path))
        return path

    def beside(self, relative: str) -> Path:
        """A path written in this flow file, resolved against the file's folder."""
        candidate = Path(relative)
        if candidate.is_absolute() or self._source is None:
            return candidate
        return (Path(self.path).resolve().parent / candidate).resolve()


def _context_shape() -> dict[str, Any]:
    from assistant.language.case import Case

    leaf = templating.LEAF
    return {
        "case": templating.shape_of(Case),
        "category": {key: leaf for key in ("key", "label", "form_value", "deadline")},
        "request": {"subject": leaf, "body": leaf},
        "name": {key: leaf for key in ("first", "middle", "last")},
        "attachments": templating.ListOf(leaf),
        "base_url": leaf,
    }


def lookup_context_shape() -> dict[str, Any]:
    """What a lookup's templates may read: the case as journalled, its category, base_url.
    No request text or attachments: a lookup finds the request, it does not write one."""
    full = _context_shape()
    return {key: full[key] for key in ("case", "category", "base_url")}


def _template_fields(model: BaseModel, loc: yamlsource.Loc) -> list[tuple[yamlsource.Loc, str]]:
    """(place in the file, text) of every string field of model, list items included."""
    out: list[tuple[yamlsource.Loc, str]] = []
    for name, info in type(model).model_fields.items():
        if name == "regex":  # used as written, never rendered
            continue
        value = getattr(model, name)
        key = info.alias or name
        if isinstance(value, str):
            out.append((loc + (key,), value))
        elif isinstance(value, (list, tuple)):
            out.extend((loc + (key, i), v) for i, v in enumerate(value) if isinstance(v, str))
    return out


def _check_template(value: str, loc: yamlsource.Loc, shape: dict[str, Any], *, vars_later: bool) -> None:
    try:
        names = templating.names_in(value)
    except templating.TemplateError as exc:
        raise yamlsource.At(loc, str(exc)) from None
    for name in names:
        problem = templating.check_name(name, shape)
        if problem is None:
            continue
        if re.match(r"vars\b", name) and "vars" in shape:
            known = ", ".join(f"vars.{v}" for v in shape["vars"])
            if vars_later and known:
                problem = _("'{name}' is not set by any extract step (set so far: {known})")
            elif vars_later:
                problem = _("'{name}' is not set by any extract step (set so far: none)")
            elif known:
                problem = _("'{name}' is not set by an extract step before this one (set so far: {known})")
            else:
                problem = _("'{name}' is not set by an extract step before this one (set so far: none)")
            problem = problem.format(name=name, known=known)
        elif "vars" not in shape and re.match(r"vars\b", name):
            problem = _("'{name}': only base_url is known here (this is rendered before any step runs)").format(
                name=name
            )
        raise yamlsource.At(loc, problem)


def _strings(model: BaseModel) -> list[str]:
    out: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, str))
    return out


def step_strings(step: StepBase) -> list[str]:
    return _strings(step.args)


# ------------------------------------------------------------------ loading


def load_flow(path: str | Path) -> Flow:
    source = yamlsource.load(path)
    if not isinstance(source.data, dict):
        raise yamlsource.SourceError(
            [yamlsource.Problem(source.path, 1, 1, "", _("a flow file is a mapping (id:, name:, steps: …)"))]
        )
    flow = yamlsource.validate(source, Flow)
    flow._source = source
    flow._sha256 = hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    for index, step in enumerate(flow.steps):
        step._line, step._column = source.position(("steps", index))
    if flow.lookup is not None:
        for index, step in enumerate(flow.lookup.steps):
            step._line, step._column = source.position(("lookup", "steps", index))
    if flow.test is not None:
        for key in ("login_steps", "human_steps"):
            for index, step in enumerate(getattr(flow.test, key)):
                step._line, step._column = source.position(("test", key, index))
    return flow


def flows_dirs(extra: list[Path] | None = None) -> list[Path]:
    """The folders flows are looked up in, in order (assistant.language.catalog)."""
    from assistant.language import catalog

    return [place.path for place in catalog.search(extra or []).places]


def find_flow(name: str, extra_dirs: list[Path] | None = None) -> Path:
    from assistant.language import catalog

    return catalog.search(extra_dirs or []).find(name)


def schema() -> dict[str, Any]:
    return Flow.model_json_schema(by_alias=True)


def all_flow_files(extra_dirs: list[Path] | None = None) -> list[Path]:
    """Every flow file, the first of each id winning (see assistant.language.catalog)."""
    from assistant.language import catalog

    return [found.path for found in catalog.search(extra_dirs or []).files()]
