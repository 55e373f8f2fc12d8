"""What the evidence was captured with: this machine, this browser, the reported device."""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from importlib import metadata

from evidence import Environment


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
    browser, page, *, browser_source: str, reported_device: dict | None, emulated_device: str | None = None
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
    )
