"""`manifest.json`: the one description of an evidence package."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MANIFEST_FORMAT: Final = 1


# Times a package can hold: a forged year 1 or 9999 cannot be moved to another clock (OverflowError).
YEARS = range(1970, 9000)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _years_a_clock_can_show(self) -> Self:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, datetime) and value.year not in YEARS:
                raise ValueError(f"{name}: the year {value.year} is not one a package was made in")
        return self


class FileEntry(Model):
    path: str = Field(description="relative to the package root, '/' separated")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    media_type: str
    captured_at: AwareDatetime | None = Field(None, description="UTC time the content was captured")
    role: str = Field("other", description="screenshot, page, failure, attachment, log, …")
    meta: dict[str, Any] = Field(default_factory=dict, description="URL, title, step, …")
    content_credentials: str | None = Field(
        None,
        description="C2PA content credentials were embedded in this capture at sealing, signed with the "
        "package's key: the package path of their certificate (signer.cert.pem). Absent: none were.",
    )


class Uploaded(Model):
    """A file an upload step handed to the page: exactly what the provider received."""

    path: str = Field(description="package path of the file (attachments/… or attachments/fitted/…)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Action(Model):
    index: int
    kind: str
    description: str
    flow_line: int | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime
    url_before: str | None = None
    url_after: str | None = None
    status: Literal["ok", "failed", "skipped"] = "ok"
    error: str | None = None
    files: list[str] = Field(default_factory=list)
    uploaded: list[Uploaded] = Field(default_factory=list, description="the files an upload step sent")


class TlsCheck(Model):
    """How the browser judged one HTTPS origin's certificate."""

    origin: str
    validated: bool = Field(description="the browser checked the certificate and accepted it")
    security_state: str | None = Field(None, description="Chromium's verdict: secure, insecure, neutral, …")
    how: str = Field(description="what decided it, e.g. 'Chromium, certificate errors refused'")
    protocol: str | None = None
    subject: str | None = None
    issuer: str | None = None
    valid_to: AwareDatetime | None = None


class Environment(Model):
    os: str
    os_version: str
    kernel: str
    architecture: str
    python: str
    playwright: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    browser_source: str | None = None
    user_agent: str | None = None
    viewport: dict[str, int] | None = None
    device_scale_factor: float | None = None
    emulated_device: str | None = None
    locale: str | None = None
    timezone: str | None = None
    utc_offset: str | None = None
    reported_device: dict[str, Any] | None = Field(None, description="the device the person reported")
    headless: bool | None = None
    launch_args: list[str] | None = Field(
        None, description="the browser's command line as it reported it (home folder written as ~)"
    )
    certificate_errors: str | None = Field(None, description="how certificate errors were treated")
    tls: list[TlsCheck] = Field(default_factory=list, description="each HTTPS origin the pages loaded")
    proxy: str | None = Field(None, description="the proxy the browser's requests went through, if any")
    outward_address: str | None = Field(
        None, description="the address the sites saw this machine connect from, or why it is not known"
    )


class Stamp(Model):
    """One authority's RFC 3161 timestamp on the list of captured files (report/captured.sums)."""

    authority: str = Field(description="the URL asked")
    token: str = Field(description="package path of the token, e.g. report/captured-2.tsr")
    time: AwareDatetime = Field(description="the token's genTime")
    signer: str | None = Field(None, description="subject of the certificate that signed it")


class Times(Model):
    """Whose clocks the times shown to people are on, and how far this machine's clock can be trusted.
    Every time in the manifest itself is UTC."""

    person_zone: str = Field(description="IANA zone of the person's clock, e.g. Europe/Moscow")
    person_zone_from: str = Field(description="where the person's zone comes from: the case's incident_at, --tz")
    provider_zone: str | None = Field(None, description="IANA zone the provider works in (the flow's timezone)")
    language: str = Field("en", description="the language dates are written in for people")
    clock: str | None = Field(None, description="this machine's clock and whether it is synchronised")
    authority_time: AwareDatetime | None = Field(
        None, description="genTime of the timestamp on the captured files (report/captured.tsr)"
    )
    authority_signer: str | None = Field(None, description="subject of the certificate that signed that timestamp")
    local_time_at_authority: AwareDatetime | None = Field(
        None, description="this machine's clock when that timestamp was asked for"
    )
    clock_offset_seconds: float | None = Field(
        None, description="authority_time minus local_time_at_authority (positive: this clock was behind)"
    )
    stamps: list[Stamp] = Field(
        default_factory=list,
        description="every authority's timestamp on the captured files, the first being authority_time's",
    )
    first_stamps: list[Stamp] = Field(
        default_factory=list,
        description="every authority's timestamp on the first capture, asked as it was taken "
        "(report/first-capture.sums holds its line)",
    )


class FlowRef(Model):
    id: str
    version: str
    sha256: str
    file: str


class FilingOutcome(StrEnum):
    """What happened at the provider, as the package records it."""

    CONFIRMED = "confirmed"  # accepted: the success check held and the number was read
    ACCEPTED = "accepted"  # the success check held; the provider's page gave no number
    REJECTED = "rejected"  # the provider (or the browser) refused it: nothing was filed
    UNKNOWN = "unknown"  # the request left this machine and no confirmation came
    DRAFTED = "drafted"  # written for the person to send (an .eml), not sent by this run
    NOT_SUBMITTED = "not_submitted"  # stopped before the irreversible act (dry run, declined)
    FAILED = "failed"  # broke before the irreversible act
    PENDING = "pending"  # only in packages made before "unknown" existed


class RefusalKind(StrEnum):
    """What a rejection was about, for the advice that fits it (one vocabulary for the run,
    the package and the journal)."""

    FIELDS = "fields"  # a value of the case: fix the case
    SESSION = "session"  # the session or the form's security token: log in again, submit again
    CAPTCHA = "captcha"  # the CAPTCHA answer: type it again
    RATE_LIMIT = "rate_limit"  # too many requests: wait
    NOT_FOUND = "not_found"  # the form posted to an address the site does not have: the flow
    OTHER = "other"  # the provider's words say why


class ProviderAnswer(Model):
    """One answer of the provider's server to what the submit click sent, or to the navigation
    that followed (a redirect, the confirmation page): its body is kept in logs/network.har."""

    method: str
    url: str
    status: int
    date: str | None = Field(None, description="its Date header as sent: the provider's clock")
    provider_time: AwareDatetime | None = Field(None, description="that Date, read (to the second)")
    received_at: AwareDatetime | None = Field(None, description="this machine's clock when the answer began to arrive")
    body_bytes: int | None = Field(None, description="the body's size; none for a redirect")
    body_kept: int | None = Field(None, description="bytes of it kept in the HAR (a long one is cut)")


class SubmissionRef(Model):
    dry_run: bool
    submitted_at: AwareDatetime | None = None
    confirmation: str | None = None
    confirmation_url: str | None = None
    outcome: FilingOutcome
    # Why, in the provider's (or the browser's) own words for a rejection; what was seen for unknown.
    reason: str | None = None
    refusal: RefusalKind | None = None  # what a rejection was about
    answers: list[ProviderAnswer] = Field(
        default_factory=list, description="the provider's answers to the click, bodies in logs/network.har"
    )


class SignerRef(Model):
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field("signer.pub.pem", description="the key file in the package")
    fingerprint: str = Field(description="SHA-256 of the raw 32-byte public key")
    signature: str = Field("manifest.sig", description="raw 64-byte signature over manifest.json")
    sums_signature: str | None = Field(
        None,
        description="raw 64-byte signature over SHA256SUMS (absent in packages made before it was added)",
    )


class Fitting(Model):
    """What was done to an attachment so the provider's form takes it."""

    sources: list[str] = Field(description="package paths of the originals")
    result: str = Field(description="package path of the file that was attached")
    actions: list[str] = Field(description="e.g. 'converted PNG to JPEG at quality 80', 'downscaled to 1280×720'")
    size: int


class SentFile(Model):
    """A file the form carried: its name as sent, and the attachment it was made from."""

    name: str
    size: int = Field(ge=0)
    media_type: str | None = None
    sha256: str | None = Field(None, description="SHA-256 of the file handed to the upload field")
    path: str | None = Field(None, description="package path of that attachment")


class FormField(Model):
    """One control of the submitted form, as the page held it right before the click."""

    label: str | None = None
    name: str | None = None
    type: str
    value: str | list[str] | None = Field(None, description="'[masked]' for passwords and secrets")
    masked: bool = False
    checked: bool | None = None
    files: list[SentFile] = Field(default_factory=list)


class BodyPart(Model):
    """One name=value of the request body (urlencoded or multipart)."""

    name: str
    value: str | None = None
    file: SentFile | None = None
    masked: bool = False


class SentRequest(Model):
    """The request the submit click produced, as the browser sent it."""

    method: str
    url: str
    content_type: str | None = None
    content_length: int | None = Field(None, description="the Content-Length header the browser sent")
    body_size: int | None = Field(None, description="the body's size: its text plus the sizes of its files")
    parts: list[BodyPart] = Field(default_factory=list)
    text: str | None = Field(None, description="a body that is neither urlencoded nor multipart (JSON, text)")
    sent_at: AwareDatetime | None = None
    note: str | None = None


class SubmittedForm(Model):
    """What was typed and sent: the form's fields at the click and the request it made."""

    read_at: AwareDatetime = Field(description="UTC time the fields were read, right before the submit click")
    page_url: str | None = None
    fields: list[FormField] = Field(default_factory=list)
    request: SentRequest | None = Field(None, description="absent when no request was seen")
    note: str | None = None


class Manifest(Model):
    format: Literal[1] = MANIFEST_FORMAT
    tool: str
    created_at: AwareDatetime
    case: dict[str, Any]
    request: dict[str, str] | None = Field(None, description="the composed request: subject and body")
    flow: FlowRef | None = Field(None, description="absent for a capture without a submission")
    environment: Environment
    times: Times | None = Field(None, description="the clocks times are shown on; absent in older packages")
    actions: list[Action]
    submission: SubmissionRef | None = None
    fitting: list[Fitting] = Field(default_factory=list)
    form: SubmittedForm | None = Field(None, description="the submitted form and the request it made (web forms)")
    signer: SignerRef | None = None
    timestamp_authority: str | None = Field(None, description="RFC 3161 authority asked for manifest.tsr")
    timestamp_authorities: list[str] = Field(
        default_factory=list,
        description="every authority whose token on manifest.json is kept beside it: manifest.tsr for the "
        "first, manifest-2.tsr for the second, …",
    )
    files: list[FileEntry]


def schema() -> dict[str, Any]:
    return Manifest.model_json_schema()


def utc(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")
