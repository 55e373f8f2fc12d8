"""What the evidence was captured with: this machine, this browser, the reported device."""

from __future__ import annotations

import ipaddress
import platform
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence import Environment
from evidence.manifest import TlsCheck

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _os_version() -> str:
    if platform.system() == "Linux":
        try:
            return platform.freedesktop_os_release().get("PRETTY_NAME", platform.version())
        except OSError:
            return platform.version()
    if platform.system() == "Darwin":
        return platform.mac_ver()[0]
    return platform.version()


def capture(
    browser: Browser,
    page: Page,
    *,
    browser_source: str,
    reported_device: dict[str, Any] | None,
    emulated_device: str | None = None,
    headless: bool | None = None,
) -> Environment:
    try:
        playwright_version = metadata.version("playwright")
    except metadata.PackageNotFoundError:
        playwright_version = None
    info = page.evaluate(
        """() => ({ua: navigator.userAgent, lang: navigator.language,
                   tz: Intl.DateTimeFormat().resolvedOptions().timeZone, dpr: window.devicePixelRatio})"""
    )
    offset = datetime.now(UTC).astimezone().strftime("%z")
    return Environment(
        os=platform.system(),
        os_version=_os_version(),
        kernel=platform.release(),
        architecture=platform.machine(),
        python=platform.python_version(),
        playwright=playwright_version,
        browser=browser.browser_type.name,
        browser_version=browser.version,
        browser_source=browser_source,
        user_agent=info.get("ua"),
        viewport=page.viewport_size,
        device_scale_factor=info.get("dpr"),
        emulated_device=emulated_device,
        locale=info.get("lang"),
        timezone=info.get("tz") or time.tzname[0],
        utc_offset=f"{offset[:3]}:{offset[3:]}",
        reported_device=reported_device,
        headless=headless,
    )


def command_line(browser: Browser, *, local: bool) -> list[str] | None:
    """The browser's own command line, home folder as ~: as Chromium gives it to an automation
    client, or else (a browser on this machine) read from its process."""
    argv: list[str] | None = None
    try:
        session = browser.new_browser_cdp_session()
    except Exception:  # not Chromium
        return None
    try:
        try:
            argv = session.send("Browser.getBrowserCommandLine")["arguments"]
        except Exception:  # only with --enable-automation, which Playwright no longer passes
            if local:
                processes = session.send("SystemInfo.getProcessInfo")["processInfo"]
                pid = next(int(p["id"]) for p in processes if p.get("type") == "browser")
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                argv = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    except Exception:  # another system, or the process is not ours to read
        argv = None
    finally:
        try:
            session.detach()
        except Exception:
            pass
    if argv is None:
        return None
    home = str(Path.home())
    return [a.replace(home, "~") for a in map(str, argv)] if home not in ("/", "") else list(map(str, argv))


def complete(
    environment: Environment,
    browser: Browser,
    *,
    passed_args: list[str],
    remote: bool,
    ignore_https_errors: bool,
    tls: dict[str, dict[str, Any]],
    proxy: str | None,
    local_addresses: dict[str, str] | None,
) -> Environment:
    """What is known only once the pages were loaded: launch flags, certificates, proxy, address."""
    argv = command_line(browser, local=not remote)
    environment.launch_args = argv if argv is not None else [*passed_args, "(as passed; the browser did not tell)"]
    if environment.headless is None and argv is not None:
        environment.headless = any(a.startswith("--headless") for a in argv)
    flags = [a for a in argv or [] if a.startswith(("--ignore-certificate-errors", "--allow-insecure-localhost"))]
    if ignore_https_errors:
        how = "ignored for this run's pages (ignore_https_errors)"
    elif flags:
        how = f"ignored: the browser was started with {flags[0]}"
    elif remote and argv is None:
        how = "not known: the browser runs elsewhere and did not give its command line"
    else:
        how = (
            "refused: the browser checks every certificate and stops at an invalid one "
            "(no ignore_https_errors, no --ignore-certificate-errors)"
        )
    environment.certificate_errors = how
    ignoring = ignore_https_errors or bool(flags)
    environment.tls = [_tls(origin, seen, ignoring, how) for origin, seen in sorted(tls.items())]
    environment.proxy = proxy
    environment.outward_address = _outward(local_addresses, remote)
    return environment


def _tls(origin: str, seen: dict[str, Any], ignoring: bool, how: str) -> TlsCheck:
    details = seen.get("details") or {}
    state = seen.get("securityState")
    valid_to = details.get("validTo")
    return TlsCheck(
        origin=origin,
        validated=state == "secure" and not ignoring,
        security_state=state,
        how=f"Chromium; certificate errors {how.split(':')[0].split(' (')[0]}",
        protocol=details.get("protocol"),
        subject=details.get("subjectName"),
        issuer=details.get("issuer"),
        valid_to=datetime.fromtimestamp(valid_to, UTC) if isinstance(valid_to, int | float) else None,
    )


def _outward(local_addresses: dict[str, str] | None, remote: bool) -> str:
    if remote:
        return "not known: the browser runs on another machine"
    if not local_addresses:
        return "not known: no connection went through this run's relay"
    said = []
    for address in sorted(set(local_addresses.values())):
        sites = ", ".join(sorted(k for k, v in local_addresses.items() if v == address))
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            said.append(f"{address} (to {sites})")
            continue
        if ip.is_loopback:
            said.append(f"{address}, loopback: the site runs on this machine (to {sites})")
        elif ip.is_global:
            said.append(
                f"{address}, a public address: what the site saw unless a proxy or NAT between changed it (to {sites})"
            )
        else:
            said.append(
                f"{address} on the local network (to {sites}); the public address the site saw is not known: "
                "a router's NAT stands between"
            )
    return "; ".join(said)
