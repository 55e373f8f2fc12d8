"""`assistant evidence verify|show PATH` and `assistant capture URL… --case FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import click

from assistant.commands.common import (
    Ctx,
    RunOptions,
    browser_options,
    chosen_tsa,
    evidence_options,
    exit_with,
    handles_errors,
    info,
    json_option,
    on_clocks,
    pass_ctx,
    print_json,
    word,
)
from assistant.errors import ExitStatus
from assistant.translation import _, moment, ngettext

if TYPE_CHECKING:
    from evidence.verify import Result


@click.group("evidence")
def evidence() -> None:
    """Check or summarise an evidence package (a folder or its .zip)."""


def _existing(path: str) -> Path:
    from assistant.errors import InputError

    target = Path(path)
    if not target.exists():
        raise InputError(_("{path}: no such package folder or zip").format(path=path))
    return target


@evidence.command("verify")
@click.argument("path")
@click.option(
    "--tsa-ca",
    "tsa_ca",
    metavar="FILE",
    multiple=True,
    help="CA certificate (PEM/DER) the timestamp authority must chain to. Repeatable.",
)
@click.option(
    "--key",
    "expect_key",
    metavar="FINGERPRINT",
    help="The signer's key fingerprint you expect (from `evidence show` of a package you trust).",
)
@json_option
@handles_errors
def verify(path: str, tsa_ca: tuple[str, ...], expect_key: str | None, as_json: bool) -> None:
    """Check every hash, the signature and the timestamp of the package at PATH.

    Exit code 0 only when everything holds; otherwise 1, naming each changed,
    missing or extra file.
    """
    from evidence.verify import verify as check

    result = check(_existing(path), tsa_ca=[_certificate(p) for p in tsa_ca] or None, expect_key=expect_key)
    if as_json:
        print_json(result.public())
    else:
        _print_result(result)
    exit_with(ExitStatus.OK if result.ok else ExitStatus.RUN_FAILED)


MAX_CERTIFICATES = 1024 * 1024  # a CA bundle is a few hundred kB


def _certificate(path: str) -> bytes:
    """A --tsa-ca file, read and checked: a certificate or it is bad input, said in one line."""
    import os
    import stat

    from assistant.errors import InputError, printable
    from evidence.tsa import load_certs

    where = printable(path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):  # a folder, a FIFO that would hang the read, /dev/zero
            raise InputError(
                _("--tsa-ca {file}: not a regular file; give the authority's CA certificate file").format(file=where)
            )
        with open(path, "rb") as handle:
            blob = handle.read(MAX_CERTIFICATES + 1)
    except OSError as exc:
        raise InputError(
            _("--tsa-ca {file}: cannot read it ({reason})").format(file=where, reason=exc.strerror or exc)
        ) from None
    try:
        if len(blob) > MAX_CERTIFICATES:
            raise ValueError("too big")
        load_certs(blob)
    except ValueError:
        raise InputError(
            _(
                "--tsa-ca {file}: not a certificate (PEM or DER); give the timestamp authority's "
                "CA certificate, e.g. FreeTSA's cacert.pem"
            ).format(file=where)
        ) from None
    return blob


def _token(root: Path) -> dict[str, str] | None:
    """Who signed the package's timestamp token and when, by its own word (show checks no CA)."""
    from evidence import tsa
    from evidence.bundle import UnsafeArchive
    from evidence.verify import MAX_MANIFEST, MAX_TOKEN, read_small

    token, manifest = root / "manifest.tsr", root / "manifest.json"
    if not token.is_file():
        return None
    try:
        info = tsa.check(read_small(token, MAX_TOKEN), read_small(manifest, MAX_MANIFEST))
    except (tsa.TimestampError, UnsafeArchive) as exc:
        return {"problem": str(exc)}
    return {"gen_time": f"{info.gen_time:%Y-%m-%d %H:%M:%S} UTC", "signer": info.tsa_subject}


def _say(text: object, **style: Any) -> None:
    """One line of what a package says: its text may come from a hostile file."""
    from assistant.errors import printable

    click.secho(printable(str(text)).replace("\n", " "), **style)


def _time(value: object) -> str:
    """A time a package records (ISO 8601), as the interface writes times."""
    from datetime import datetime

    try:
        return moment(datetime.fromisoformat(str(value)))
    except (ValueError, OverflowError):  # a forged package's year 1 or 9999 cannot be moved to a clock
        return str(value)


def _span(text: object) -> str:
    """A span between two times, as evidence.verify writes it in English ("3 days"), in the interface's language."""
    import re

    found = re.fullmatch(r"(\d+) (day|hour|minute|second)s?", str(text))
    if found is None:
        return str(text)
    n, unit = int(found.group(1)), found.group(2)
    if unit == "day":
        said = ngettext("{n} day", "{n} days", n)
    elif unit == "hour":
        said = ngettext("{n} hour", "{n} hours", n)
    elif unit == "minute":
        said = ngettext("{n} minute", "{n} minutes", n)
    else:
        said = ngettext("{n} second", "{n} seconds", n)
    return said.format(n=n)


def _print_result(result: Result) -> None:
    if result.ok:
        _say(_("OK: {path}").format(path=result.path), fg="green", bold=True)
        _say("  " + _("{n} files match manifest.json and SHA256SUMS").format(n=result.checked_files))
        _say("  " + _("signed by Ed25519 key {key}").format(key=result.signer))
        _print_key(result)
        for stamp in result.timestamps:
            _say(
                "  "
                + _("timestamp {when}, signed by {signer} ({file}, asked of {authority})").format(
                    when=_time(stamp["time"]), signer=stamp["signer"], file=stamp["file"], authority=stamp["authority"]
                )
            )
        if result.timestamps and result.tsa_trusted:
            _say("  " + _("authority checked: its certificate chains to the CA given (--tsa-ca)"))
        elif result.timestamps:
            _say(
                "  "
                + _(
                    "authority NOT checked: anyone can make a token in any name; pass --tsa-ca FILE "
                    "with the authority's CA certificate"
                ),
                fg="yellow",
            )
        for stamp in result.later:
            _say(
                "  "
                + _(
                    "timestamped later: it existed by {when}, {span} after it says it was made "
                    "(signed by {signer}, {file}); the times it claims before that rest on the signer's word"
                ).format(
                    when=_time(stamp["time"]), span=_span(stamp["after"]), signer=stamp["signer"], file=stamp["file"]
                ),
                fg="yellow",
            )
        if not result.timestamps and not result.later:
            _say("  " + _("warning: no trusted timestamp: its times rest on the signer's word"), fg="yellow")
        for note in result.notes:
            _say("  " + _("note: {note}").format(note=note), fg="yellow")
        return
    _say(_("FAILED: {path}").format(path=result.path), fg="red", bold=True, err=True)
    for problem in result.problems:
        _say(f"  {problem}", fg="red", err=True)


def _print_key(result: Result) -> None:
    """Whose key signed it: the one the reader expected (--key), and the one the request sent to the
    provider names (their own copy of it is what binds the key to the person)."""
    if result.key_checked:
        _say("  " + _("key checked: it is the one you expected (--key)"))
    if result.key_sent:
        _say(
            "  "
            + _("key pinned: the request sent to the provider names this key ({where})").format(
                where=result.key_named_in
            )
        )
        if not result.key_checked:
            _say(
                "  "
                + _(
                    "key NOT checked against the provider's copy: whoever signs a package again can rewrite its "
                    "record too; the provider's own copy of the request must name this key, or ask the person "
                    "for their key's fingerprint (`assistant evidence key` prints it on their machine) and pass --key"
                ),
                fg="yellow",
            )
    elif result.key_named_in is not None and not result.key_checked:
        _say(
            "  "
            + _(
                "key NOT checked: anyone can sign a package of their own making; the request's text names this "
                "key, but the package records no form that sent it (an email, a dry run): the provider's own copy "
                "of the request pins it if it names the same key; or ask the person for their key's fingerprint "
                "(`assistant evidence key` prints it on their machine) and pass --key"
            ),
            fg="yellow",
        )
    elif not result.key_checked:
        _say(
            "  "
            + _(
                "key NOT checked: anyone can sign a package of their own making, and nothing it records as sent "
                "names its key (pages captured alone, or a package made before requests named their key); a request "
                "that names it pins it when the provider's copy names the same key; or ask the person for their "
                "key's fingerprint (`assistant evidence key` prints it on their machine) and pass --key"
            ),
            fg="yellow",
        )


@evidence.command("timestamp")
@click.argument("path")
@click.option(
    "--tsa",
    metavar="URL",
    multiple=True,
    callback=chosen_tsa,
    help="Authority to ask; repeatable (default: ASSISTANT_TSA, else FreeTSA, DigiCert and Sectigo).",
)
@json_option
@pass_ctx
@handles_errors
def timestamp(obj: Ctx, /, path: str, tsa: tuple[str, ...], as_json: bool) -> None:
    """Add trusted time to a package sealed without it (offline, or an authority down).

    Each authority that answers stamps manifest.json; the tokens go in later/ and
    SHA256SUMS is signed again, with this machine's key, which must be the one that
    signed the package. They prove the package existed by their time, which is
    later than it says it was made: verify says so, and the times it claims before
    that still rest on your word."""
    import shutil
    import tempfile

    from assistant.errors import InputError, RunFailed
    from assistant.pipeline import signer
    from evidence.bundle import make_zip
    from evidence.package import add_later_timestamps
    from evidence.verify import unpacked
    from evidence.verify import verify as check

    target = _existing(path)
    if not tsa:
        raise InputError(_("no authority to ask (--tsa none, or ASSISTANT_TSA empty): name one with --tsa URL"))
    before = check(target)
    if not before.ok:
        raise InputError(
            _("{path}: does not verify ({problem}); only a sound package is timestamped").format(
                path=path, problem=before.problems[0]
            )
        )
    with tempfile.TemporaryDirectory() as work, unpacked(target) as root:
        folder = root
        if target.is_file():  # a zip: add to a copy of its folder, then replace the zip whole
            folder = Path(shutil.copytree(root, Path(work) / "package"))
        try:
            added, failed = add_later_timestamps(folder, tsa, signer(Path(obj.home)))
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from None
        if added and target.is_file():
            make_zip(folder, target)
    for line in failed:
        info(_("warning: no timestamp from {authority}").format(authority=line))
    if not added:
        raise RunFailed(_("{path}: no authority answered; the package is as it was").format(path=path))
    after = check(target)
    if as_json:
        print_json({"path": str(target), "added": added, "later": after.later, "ok": after.ok})
        return
    for stamp in after.later:
        if stamp["file"] in added:
            _say(
                _("added {file}: the package existed by {when}, signed by {signer}").format(
                    file=stamp["file"], when=_time(stamp["time"]), signer=stamp["signer"]
                )
            )
    _say(_("its times before that still rest on your word (the package says it was made earlier)"), fg="yellow")


@evidence.command("key")
@json_option
@pass_ctx
@handles_errors
def key(obj: Ctx, /, as_json: bool) -> None:
    """Print the fingerprint of this machine's signing key (made now if there is none yet).

    Every package made here is signed with it; `assistant evidence verify PACKAGE --key
    FINGERPRINT` then proves a package is yours, not one re-signed with someone else's key.
    Every request filed here names it in its text, so the provider's copy of the request binds your
    packages to it; give it through another channel than the package itself too (a letter)."""
    from assistant.pipeline import signer

    made = signer(Path(obj.home))
    path = Path(obj.home) / "keys" / "evidence-ed25519.pem"
    if as_json:
        print_json({"fingerprint": made.fingerprint, "algorithm": "Ed25519", "key_file": str(path)})
        return
    click.echo(made.fingerprint)
    info(_("Ed25519, SHA-256 of the public key; the private key is {path} (readable only by you)").format(path=path))


@evidence.command("show")
@click.argument("path")
@json_option
@handles_errors
def show(path: str, as_json: bool) -> None:
    """Summarise the package at PATH: case, submission, screenshots, signer, time."""
    import zipfile

    from assistant.errors import InputError, printable
    from evidence.bundle import UnsafeArchive, files_of
    from evidence.report import SHOT_ROLES
    from evidence.times import zone
    from evidence.verify import ManifestError, NotAPackage, read_manifest, unpacked

    target = _existing(path)
    where = printable(path)
    if target.is_file() and not zipfile.is_zipfile(target):
        raise InputError(_("{path}: not a zip").format(path=where))
    try:
        with unpacked(target) as root:
            try:
                files_of(root)  # refuses a symlink or a FIFO anywhere inside, as verify does
                manifest, _sums = read_manifest(root)
            except (UnsafeArchive, NotAPackage):
                raise
            except ManifestError as exc:
                raise InputError(
                    _("{path}: no readable manifest.json ({reason})").format(path=where, reason=printable(exc.reason))
                ) from None
            except (OSError, ValueError, RecursionError) as exc:
                reason = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                raise InputError(
                    _("{path}: no readable manifest.json ({reason})").format(path=where, reason=reason)
                ) from None
            stamped = _token(root)
    except NotAPackage:
        raise InputError(_("{path}: not a package folder or a zip").format(path=where)) from None
    except UnsafeArchive as exc:
        raise InputError(_("{path}: refused: {reason}").format(path=where, reason=printable(str(exc)))) from None
    shots = [f for f in manifest.files if f.media_type == "image/png" and (f.role in SHOT_ROLES or f.role == "step")]
    summary: dict[str, Any] = {
        "path": str(target),
        "created_at": manifest.created_at.isoformat(),
        "case": manifest.case,
        "flow": manifest.flow.model_dump() if manifest.flow else None,
        "submission": manifest.submission.model_dump(mode="json") if manifest.submission else None,
        "actions": len(manifest.actions),
        "failed_actions": [a.description for a in manifest.actions if a.status == "failed"],
        "files": len(manifest.files),
        "bytes": sum(f.size for f in manifest.files),
        "screenshots": [
            {
                "path": f.path,
                "captured_at": f.captured_at.isoformat() if f.captured_at else None,
                "url": f.meta.get("url"),
            }
            for f in shots
        ],
        "fitting": [f.model_dump() for f in manifest.fitting],
        "environment": manifest.environment.model_dump(exclude_none=True),
        "signer_fingerprint": manifest.signer.fingerprint if manifest.signer else None,
        "timestamp_authority": manifest.timestamp_authority,
        "timestamp": stamped,
    }
    if as_json:
        print_json(summary)
        return
    from datetime import UTC, datetime

    from evidence.report import clocks_of

    clocks = clocks_of(manifest)  # the provider's and the person's clocks
    sub = manifest.submission

    def when(at: datetime) -> str:
        try:
            return on_clocks(at, clocks.provider_zone, clocks.person_zone)
        except OverflowError:  # a forged year 1 or 9999 (the case's own times are not checked): as written
            return at.isoformat()

    # The labels of the summary's column, in the interface's language, and how wide it is.
    labels = {
        "made": _("made"),
        "flow": _("flow"),
        "outcome": _("outcome"),
        "submitted": _("submitted"),
        "captured": _("captured"),
        "actions": _("actions"),
        "files": _("files"),
        "fitted": _("fitted"),
        "signer": _("signer"),
        "timestamp": _("timestamp"),
        "clock": _("clock"),
        # Translators: a label in `evidence show`: the command that checks the package follows it.
        "check with": _("check with"),
    }
    fields = ("provider", "category", "order_id", "incident_at", "contact")
    width = max(11, *(len(text) for text in labels.values()), *(len(word(key)) for key in fields))

    def line(label: str, value: str, **style: Any) -> None:
        _say(f"  {label:{width}} {value}", **style)

    _say(str(manifest.case.get("subject") or _("Evidence package")), bold=True)
    line(labels["made"], _("{when} by {tool}").format(when=when(manifest.created_at), tool=manifest.tool))
    for key in fields:
        value = manifest.case.get(key)
        if value and key == "incident_at":
            try:
                value = when(datetime.fromisoformat(str(value)))
            except ValueError:
                pass
        if value:
            line(word(key), str(value))
    if manifest.flow:
        line(labels["flow"], f"{manifest.flow.id} v{manifest.flow.version}")
    if sub:
        outcome = word(str(sub.outcome))
        if sub.confirmation and sub.dry_run:
            said = _("{outcome} (dry run), request number {number}")
        elif sub.confirmation:
            said = _("{outcome}, request number {number}")
        elif sub.dry_run:
            said = _("{outcome} (dry run)")
        else:
            said = "{outcome}"
        line(labels["outcome"], said.format(outcome=outcome, number=sub.confirmation))
        if sub.submitted_at:
            line(labels["submitted"], when(sub.submitted_at))
    env = manifest.environment
    if env.emulated_device:
        captured = _("on {os} {os_version}, {browser} {browser_version}, as {device}")
    else:
        captured = _("on {os} {os_version}, {browser} {browser_version}")
    line(
        labels["captured"],
        captured.format(
            os=env.os,
            os_version=env.os_version,
            browser=env.browser,
            browser_version=env.browser_version,
            device=env.emulated_device,
        ),
    )
    line(
        labels["actions"],
        _("{actions} ({failed} failed)").format(actions=summary["actions"], failed=len(summary["failed_actions"])),
    )
    line(
        labels["files"],
        _("{files} ({bytes} bytes), {screenshots} screenshots").format(
            files=summary["files"], bytes=summary["bytes"], screenshots=len(shots)
        ),
    )
    if shots and clocks.person_zone != "UTC":
        _say("    " + _("(times on the person's clock, {zone})").format(zone=clocks.person_zone))
    for shot in shots:
        taken = shot.captured_at.astimezone(zone(clocks.person_zone)).strftime("%H:%M:%S") if shot.captured_at else "?"
        _say(f"    {taken}  {shot.path}  {shot.meta.get('url', '')}")
    for fit in manifest.fitting:
        line(labels["fitted"], f"{fit.result}: {'; '.join(fit.actions)}")
    line(labels["signer"], summary["signer_fingerprint"] or _("not signed"))
    if stamped and "problem" in stamped:
        line(labels["timestamp"], _("does not hold: {problem}").format(problem=stamped["problem"]), fg="red")
    elif stamped:
        stamped_at = datetime.strptime(stamped["gen_time"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        line(
            labels["timestamp"],
            _("{when} by {signer} (authority not checked: verify --tsa-ca FILE)").format(
                when=when(stamped_at), signer=stamped["signer"]
            ),
        )
    else:
        line(labels["timestamp"], manifest.timestamp_authority or _("none"))
    times = manifest.times
    if times is not None and times.clock:
        line(labels["clock"], times.clock)
    line(labels["check with"], f"assistant evidence verify {target}")


@evidence.command("export")
@click.argument("path")
@click.option(
    "--wacz",
    "wacz_out",
    metavar="OUT.wacz",
    required=True,
    help="Write the captured pages as a WACZ 1.2 web archive (ReplayWeb.page, pywb and archives open it).",
)
@json_option
@handles_errors
def export(path: str, wacz_out: str, as_json: bool) -> None:
    """Export the pages of the package at PATH (a folder or its .zip) in an open format.

    The package is verified first and refused if it does not verify: the export shows only what
    was signed. The package stays the evidence; the export names its manifest's SHA-256."""
    from assistant.errors import InputError, printable
    from evidence.bundle import UnsafeArchive
    from evidence.verify import NotAPackage
    from evidence.wacz import ExportRefused
    from evidence.wacz import export as write

    target = _existing(path)
    where = printable(path)
    try:
        done = write(target, Path(wacz_out))
    except ExportRefused as exc:
        raise InputError(printable(str(exc))) from None
    except NotAPackage:
        raise InputError(_("{path}: not a package folder or a zip").format(path=where)) from None
    except UnsafeArchive as exc:
        raise InputError(_("{path}: refused: {reason}").format(path=where, reason=printable(str(exc)))) from None
    except OSError as exc:
        raise InputError(
            _("{path}: cannot write it ({reason})").format(path=printable(wacz_out), reason=exc.strerror or exc)
        ) from None
    if as_json:
        print_json({"wacz": str(done.path), "pages": done.pages, "records": done.records, "sha256": done.sha256})
        return
    _say(
        _("wrote {path}: {pages} pages in {records} WARC records").format(
            path=done.path, pages=done.pages, records=done.records
        )
    )


@click.command("capture")
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--case",
    "case_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Case file (YAML) the pages are evidence for.",
)
@click.option("--out", type=click.Path(file_okay=False), help="Evidence folder (default: in --home).")
@browser_options
@evidence_options
@json_option
@pass_ctx
@handles_errors
def capture(
    obj: Ctx, /, urls: tuple[str, ...], case_file: str, out: str | None, as_json: bool, **settings: Unpack[RunOptions]
) -> None:
    """Capture the pages at URLS as a signed evidence package, without submitting anything."""
    from assistant.language.case import load_case
    from assistant.pipeline import Settings
    from assistant.pipeline import capture as capture_pages

    case = load_case(case_file)
    done = capture_pages(
        list(urls),
        case,
        Settings.of(home=obj.home, out=Path(out) if out else None, log=info, **settings),
    )
    folder, bundle, failures = done.evidence_dir, done.evidence_zip, done.failures
    if as_json:
        print_json({"evidence_dir": str(folder), "evidence_zip": str(bundle), "failed": failures})
    else:
        for failure in failures:
            click.secho(_("not captured: {failure}").format(failure=failure), fg="yellow", err=True)
        click.echo(_("evidence: {folder}").format(folder=folder))
        click.echo(_("evidence zip: {zip}").format(zip=bundle))
    if failures:
        exit_with(ExitStatus.RUN_FAILED)
