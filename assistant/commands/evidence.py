"""`assistant evidence verify|show PATH` and `assistant capture URL… --case FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from assistant.commands.common import (
    Ctx,
    browser_options,
    evidence_options,
    exit_with,
    handles_errors,
    info,
    json_option,
    pass_ctx,
    print_json,
)
from assistant.errors import ExitStatus


@click.group("evidence")
def evidence() -> None:
    """Check or summarise an evidence package (a folder or its .zip)."""


def _existing(path: str) -> Path:
    from assistant.errors import InputError

    target = Path(path)
    if not target.exists():
        raise InputError(f"{path}: no such package folder or zip")
    return target


@evidence.command("verify")
@click.argument("path")
@click.option(
    "--tsa-ca",
    "tsa_ca",
    type=click.Path(dir_okay=False, exists=True),
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
def verify(path, tsa_ca, expect_key, as_json):
    """Check every hash, the signature and the timestamp of the package at PATH.

    Exit code 0 only when everything holds; otherwise 1, naming each changed,
    missing or extra file.
    """
    from evidence.verify import verify as check

    result = check(_existing(path), tsa_ca=[Path(p).read_bytes() for p in tsa_ca] or None, expect_key=expect_key)
    if as_json:
        print_json(result.public())
    else:
        _print_result(result)
    exit_with(ExitStatus.OK if result.ok else ExitStatus.RUN_FAILED)


def _print_result(result) -> None:
    if result.ok:
        click.secho(f"OK: {result.path}", fg="green", bold=True)
        click.echo(f"  {result.checked_files} files match manifest.json and SHA256SUMS")
        click.echo(f"  signed by Ed25519 key {result.signer}")
        if result.timestamp:
            trust = "checked against the CA given" if result.tsa_trusted else "not checked against a CA (pass --tsa-ca)"
            click.echo(f"  timestamp {result.timestamp} from {result.timestamp_authority}; authority {trust}")
        else:
            click.echo("  no trusted timestamp (the package was made without --tsa)")
        return
    click.secho(f"FAILED: {result.path}", fg="red", bold=True, err=True)
    for problem in result.problems:
        click.secho(f"  {problem}", fg="red", err=True)


@evidence.command("show")
@click.argument("path")
@json_option
@handles_errors
def show(path, as_json):
    """Summarise the package at PATH: case, submission, screenshots, signer, time."""
    import json
    import tempfile
    import zipfile

    from assistant.errors import InputError
    from evidence import Manifest
    from evidence.bundle import safe_extract
    from evidence.report import SHOT_ROLES
    from evidence.times import zone

    target = _existing(path)
    with tempfile.TemporaryDirectory(prefix="evidence-show-") as tmp:
        root = target
        if target.is_file():
            if not zipfile.is_zipfile(target):
                raise InputError(f"{path}: not a zip")
            root = safe_extract(target, Path(tmp) / "p")
        try:
            manifest = Manifest.model_validate(json.loads((root / "manifest.json").read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: no readable manifest.json ({str(exc).splitlines()[0]})") from None
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
    }
    if as_json:
        print_json(summary)
        return
    from datetime import datetime

    from evidence.report import clocks_of

    clocks = clocks_of(manifest)  # the provider's and the person's clocks, with UTC
    sub = manifest.submission
    click.secho(f"{manifest.case.get('subject') or 'Evidence package'}", bold=True)
    click.echo(f"  made        {clocks.text(manifest.created_at)} by {manifest.tool}")
    for key in ("provider", "category", "order_id", "incident_at", "contact"):
        value = manifest.case.get(key)
        if value and key == "incident_at":
            try:
                value = clocks.text(datetime.fromisoformat(str(value)))
            except ValueError:
                pass
        if value:
            click.echo(f"  {key:11} {value}")
    if manifest.flow:
        click.echo(f"  flow        {manifest.flow.id} v{manifest.flow.version}")
    if sub:
        number = f", request number {sub.confirmation}" if sub.confirmation else ""
        click.echo(f"  outcome     {sub.outcome}{' (dry run)' if sub.dry_run else ''}{number}")
        if sub.submitted_at:
            click.echo(f"  submitted   {clocks.text(sub.submitted_at)}")
    env = manifest.environment
    device = f", as {env.emulated_device}" if env.emulated_device else ""
    click.echo(f"  captured    on {env.os} {env.os_version}, {env.browser} {env.browser_version}{device}")
    click.echo(f"  actions     {summary['actions']} ({len(summary['failed_actions'])} failed)")
    click.echo(f"  files       {summary['files']} ({summary['bytes']} bytes), {len(shots)} screenshots")
    if shots and clocks.person_zone != "UTC":
        click.echo(f"    (times on the person's clock, {clocks.person_zone})")
    for shot in shots:
        when = shot.captured_at.astimezone(zone(clocks.person_zone)).strftime("%H:%M:%S") if shot.captured_at else "?"
        click.echo(f"    {when}  {shot.path}  {shot.meta.get('url', '')}")
    for fit in manifest.fitting:
        click.echo(f"  fitted      {fit.result}: {'; '.join(fit.actions)}")
    click.echo(f"  signer      {summary['signer_fingerprint'] or 'not signed'}")
    times = manifest.times
    if times is not None and times.authority_time is not None:
        click.echo(f"  timestamp   {clocks.text(times.authority_time)}, signed by {times.authority_signer}")
    else:
        click.echo(f"  timestamp   {manifest.timestamp_authority or 'none'}")
    if times is not None and times.clock:
        click.echo(f"  clock       {times.clock}")
    click.echo(f"  check with  assistant evidence verify {target}")


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
def capture(obj: Ctx, urls, case_file, out, as_json, masks, **settings):
    """Capture the pages at URLS as a signed evidence package, without submitting anything."""
    from assistant.language.case import load_case
    from assistant.pipeline import Settings
    from assistant.pipeline import capture as capture_pages

    case = load_case(case_file)
    done = capture_pages(
        list(urls),
        case,
        Settings(home=obj.home, out=Path(out) if out else None, masks=tuple(masks), log=info, **settings),
    )
    folder, bundle, failures = done.evidence_dir, done.evidence_zip, done.failures
    if as_json:
        print_json({"evidence_dir": str(folder), "evidence_zip": str(bundle), "failed": failures})
    else:
        for failure in failures:
            click.secho(f"not captured: {failure}", fg="yellow", err=True)
        click.echo(f"evidence: {folder}")
        click.echo(f"evidence zip: {bundle}")
    if failures:
        exit_with(ExitStatus.RUN_FAILED)
