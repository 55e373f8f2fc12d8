"""Find a browser to drive, and start it.

Discovery order (first that is given or found wins):
  1. an explicit executable: --browser-path or ASSISTANT_BROWSER;
  2. a remote browser: --browser-endpoint ws://… (a `playwright run-server`)
     or --cdp http://… (a Chrome started with --remote-debugging-port);
  3. the Chromium that Playwright manages (`playwright install chromium`);
  4. Chrome or Chromium installed on the system.

Playwright is imported inside functions only: `assistant --help` must stay fast.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.translation import _

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

    from assistant.errors import NoBrowser

SYSTEM_BROWSER_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "microsoft-edge",
)
SYSTEM_BROWSER_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/snap/bin/chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)
# A system Chromium must not phone home: this machine's network is closed and
# real users do not want update checks in their evidence's network log.
QUIET_ARGS = ("--disable-background-networking", "--disable-component-update")
# Chrome and Chromium (not Playwright's headless shell) open each new context in a window with
# an omnibox, and pre-render its two WebUI popups in a renderer of their own: about 0.6 s of CPU
# per context, a fifth of a whole replayed flow. Nothing here types into the omnibox; without
# them Chromium falls back to its native popup. Autofill asks Google about every form a page
# shows, through the page's own proxy: the host guard refused it, and listed it, on every run.
QUIET_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "AutofillServerCommunication")
# What Playwright 1.65's driver disables itself: the fallback if its list cannot be read.
PLAYWRIGHT_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# A page must reach no host around the host guard (assistant.run.netguard), and the guard is a
# proxy: what does not go through a proxy is what leaks. Measured in this project's Chromium, a
# page that had read a typed password sent it by WebRTC in a TURN user name, in ~100 STUN checks
# after a forged answer, and as a DNS query for a STUN server named after it.
# WebRTC only through the proxy, which takes no UDP: no candidate, no datagram, no lookup
# (--force-webrtc-ip-handling-policy did not hold).
WEBRTC_ARG = "--webrtc-ip-handling-policy=disable_non_proxied_udp"
# No host name is looked up by the browser itself: every context of a run goes through the guard's
# proxy, which looks up only what it lets through. Also silences Chromium's own lookups of
# update.googleapis.com, accounts.google.com, … on every start. The proxy itself is 127.0.0.1.
NO_LOOKUPS_ARG = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
# The browser's locale for a case's language. Here, not beside the clocks in assistant.run.zones,
# because a command reads it before starting the browser: this module is light to import.
LOCALES = {"ru": "ru-RU", "en": "en-US"}
DEBIAN_LOCALES = Path("/usr/lib/chromium/locales")  # Debian's Chromium; other languages: chromium-l10n


class BrowserNotFound(RuntimeError):
    """No usable browser; the message lists what was tried and how to fix it."""


@dataclass
class BrowserChoice:
    kind: str  # "path", "endpoint", "cdp", "managed", "system"
    target: str  # executable path or URL
    source: str  # where the choice came from, for messages and the manifest
    args: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.kind}: {self.target} ({self.source})"


@dataclass
class Started:
    """A browser started once and lent to many runs, each in a context of its own
    (`assistant replay`: one per worker). Whoever started it closes it."""

    playwright: Playwright
    browser: Any  # a Browser, or pytest-playwright's lent stand-in for one (assistant.testing.plugin)
    choice: BrowserChoice


def launch_args(executable: str | None, *, features: bool = True, lookups: bool = False) -> list[str]:
    """Arguments for a Chrome/Chromium executable. `features`: add the QUIET_FEATURES, which must
    carry the list of the Playwright that launches it (see playwright_disabled_features).
    `lookups`: the browser may look host names up itself, for contexts that do not go through
    the host guard's proxy (a tester's own pages, a browser on another machine)."""
    args = [*QUIET_ARGS, WEBRTC_ARG]
    if not lookups:
        args.append(NO_LOOKUPS_ARG)
    # Chromium refuses to start as root without --no-sandbox.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    if features:
        args.append("--disable-features=" + ",".join(dict.fromkeys((*playwright_disabled_features(), *QUIET_FEATURES))))
    return args


@functools.cache
def playwright_disabled_features() -> tuple[str, ...]:
    """The features the installed Playwright's driver disables when it launches Chromium.

    Chromium keeps only the last --disable-features it is given, and Playwright puts the caller's
    arguments after its own: a list of ours replaces Playwright's unless it repeats it. The
    driver's list changes between versions, so it is read from the driver itself (its bundle,
    a few ms); PLAYWRIGHT_FEATURES if that cannot be done."""
    try:
        import playwright

        lib = Path(playwright.__file__).parent / "driver" / "package" / "lib"
        for name in ("coreBundle.js", "server/chromium/chromiumSwitches.js"):
            try:
                data = (lib / name).read_bytes()
            except OSError:
                continue
            start = data.find(b"disabledFeatures = [")
            end = data.find(b"]", start)
            if start >= 0 and end > start:
                found = re.findall(rb'"([A-Za-z0-9_]+)"', data[start:end])
                if found:
                    return tuple(f.decode("ascii") for f in found)
    except Exception:  # an unusual install: the copy below is close enough to launch with
        pass
    return PLAYWRIGHT_FEATURES


def _playwright_cache() -> Path:
    """Where `playwright install` puts browsers (PLAYWRIGHT_BROWSERS_PATH, else the OS cache)."""
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if env and env != "0":
        return Path(env).expanduser()
    if env == "0":
        import playwright

        return Path(playwright.__file__).parent / "driver" / "package" / ".local-browsers"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ms-playwright"


def _managed_chromium() -> str | None:
    """The Chromium folder `playwright install chromium` made for this Playwright, if any.

    Read from Playwright's own browsers.json rather than by starting its driver,
    which would cost half a second on every run.
    """
    try:
        import playwright
    except ImportError:
        return None
    try:
        listing = json.loads((Path(playwright.__file__).parent / "driver" / "package" / "browsers.json").read_text())
        revision = next(b["revision"] for b in listing["browsers"] if b["name"] == "chromium")
    except (OSError, ValueError, KeyError, StopIteration):
        return None
    folder = _playwright_cache() / f"chromium-{revision}"
    return str(folder) if (folder / "INSTALLATION_COMPLETE").exists() else None


def _system_chromium() -> str | None:
    for name in SYSTEM_BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for candidate in SYSTEM_BROWSER_PATHS:
        if Path(candidate).exists():
            return candidate
    return None


def discover(
    browser_path: str | None = None,
    endpoint: str | None = None,
    cdp: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> BrowserChoice:
    env = os.environ if env is None else env
    tried: list[str] = []
    explicit = browser_path or env.get("ASSISTANT_BROWSER")
    if explicit:
        source = "--browser-path" if browser_path else "ASSISTANT_BROWSER"
        path = Path(explicit).expanduser()
        if not path.exists():
            raise BrowserNotFound(
                _(
                    "{source}: {path} does not exist; point it at a Chrome or Chromium "
                    "executable, or drop it to let the assistant search"
                ).format(source=source, path=explicit)
            )
        if not os.access(path, os.X_OK):
            raise BrowserNotFound(_("{source}: {path} is not executable").format(source=source, path=explicit))
        return BrowserChoice("path", str(path), source, launch_args(str(path)))
    endpoint = endpoint or env.get("ASSISTANT_BROWSER_ENDPOINT")
    if endpoint:
        if not endpoint.startswith(("ws://", "wss://")):
            raise BrowserNotFound(
                _(
                    "--browser-endpoint: {endpoint!r} is not a ws:// or wss:// URL "
                    "(start one with `playwright run-server --port 3000`)"
                ).format(endpoint=endpoint)
            )
        return BrowserChoice("endpoint", endpoint, "--browser-endpoint")
    cdp = cdp or env.get("ASSISTANT_CDP")
    if cdp:
        if not cdp.startswith(("http://", "https://", "ws://", "wss://")):
            raise BrowserNotFound(
                _(
                    "--cdp: {url!r} is not an http:// or ws:// URL "
                    "(start Chrome with --remote-debugging-port=9222 and pass http://127.0.0.1:9222)"
                ).format(url=cdp)
            )
        return BrowserChoice("cdp", cdp, "--cdp")
    tried.append(_("--browser-path / ASSISTANT_BROWSER: not set"))
    tried.append(_("--browser-endpoint / --cdp: not set"))
    managed = _managed_chromium()
    if managed:
        return BrowserChoice("managed", managed, "playwright install", launch_args(None))
    tried.append(_("Playwright-managed Chromium: not installed"))
    system = _system_chromium()
    if system:
        return BrowserChoice("system", system, "system", launch_args(system))
    tried.append(_("Chrome/Chromium on PATH: {names}: none found").format(names=", ".join(SYSTEM_BROWSER_NAMES)))
    raise BrowserNotFound(
        _(
            "no browser found. Tried: {tried}. Fix: run `assistant browser install` "
            "(or `python -m playwright install chromium`), or pass --browser-path /path/to/chrome"
        ).format(tried="; ".join(tried))
    )


def language_env(locale: str | None) -> dict[str, str | float | bool] | None:
    """The environment that makes Chromium speak the person's language where the page cannot
    choose: date and time inputs follow the browser's UI language (from LANGUAGE, not from the
    context's emulated locale), e.g. 20.11.2026 and 14:35 for ru-RU. It needs the browser's
    locale files (Debian: chromium-l10n; `assistant browser install` adds it)."""
    if not locale:
        return None
    language = locale.split("-", 1)[0]
    return {**os.environ, "LANGUAGE": f"{locale.replace('-', '_')}:{language}"}


def lacks_language(choice: BrowserChoice, locale: str) -> bool:
    """True when the browser's own folder shows it has no files for the locale's language
    (Debian's Chromium without chromium-l10n): its date fields then show US formats."""
    if choice.kind not in ("system", "path") or locale.startswith("en"):
        return False
    executable = Path(choice.target).resolve()
    folder = executable.parent / "locales"
    if not folder.is_dir() and executable.parent == Path("/usr/bin"):  # Debian's wrapper script
        folder = DEBIAN_LOCALES
    if not folder.is_dir():
        return False  # laid out some other way: nothing to tell
    return not any((folder / name).exists() for name in (f"{locale.split('-', 1)[0]}.pak", f"{locale}.pak"))


def remote_launch_headers(*, headless: bool = True) -> dict[str, str]:
    """What a `playwright run-server` is told about the browser to launch. One started with
    --unsafe honours these launch options; a plain one ignores executablePath and uses its own
    managed browser. ASSISTANT_REMOTE_BROWSER_PATH names the executable on the server's machine."""
    options: dict[str, Any] = {"headless": headless, "ignoreDefaultArgs": ["--disable-popup-blocking"]}
    remote_exe = os.environ.get("ASSISTANT_REMOTE_BROWSER_PATH")
    if remote_exe:
        options["executablePath"] = remote_exe
        # The remote Playwright's own feature list is not known here: leave it in place. The
        # browser there cannot reach this machine's host guard, so it looks names up itself.
        options["args"] = launch_args(remote_exe, features=False, lookups=True)
    return {"x-playwright-launch-options": json.dumps(options)}


def connect(
    playwright: Playwright,
    choice: BrowserChoice,
    *,
    headless: bool = True,
    slow_mo: float = 0,
    locale: str | None = None,
) -> Browser:
    """Return a Playwright Browser for the choice. Caller owns closing it.
    locale: the person's, for what only the browser's own language decides (see language_env)."""
    chromium = playwright.chromium
    if choice.kind == "endpoint":
        return chromium.connect(choice.target, slow_mo=slow_mo, headers=remote_launch_headers(headless=headless))
    if choice.kind == "cdp":
        return chromium.connect_over_cdp(choice.target, slow_mo=slow_mo)
    executable = None if choice.kind == "managed" else choice.target
    return chromium.launch(
        executable_path=executable,
        args=choice.args,
        # Playwright turns Chromium's pop-up blocker off; a person's browser has it on. With it
        # off, a page can open windows without a click, each opening more (a 20-a-page cascade
        # never let a capture end). Windows a click opens still open.
        ignore_default_args=["--disable-popup-blocking"],
        headless=headless,
        slow_mo=slow_mo,
        env=language_env(locale),
    )


def start_failure(choice: BrowserChoice, exc: Exception, *, headless: bool) -> NoBrowser:
    """The NoBrowser error for a browser that would not start, saying why where we can tell."""
    from assistant.errors import NoBrowser

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    no_screen = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not headless and sys.platform.startswith("linux") and choice.kind in ("path", "managed", "system") and no_screen:
        return NoBrowser(
            _(
                "could not start {browser}: {error}; a visible browser (--headed) needs a screen and this "
                "session has none (DISPLAY is not set): run without --headed, or under xvfb-run"
            ).format(browser=choice.describe(), error=first)
        )
    return NoBrowser(_("could not start {browser}: {error}").format(browser=choice.describe(), error=first))


def _is_debian_like() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return any(word in text for word in ("ID=debian", "ID=ubuntu", "ID_LIKE=debian", "ID_LIKE=ubuntu"))


def _apt_install(packages: list[str], echo: Callable[[str], None] = print) -> None:
    """Debian's packages, when we may (root on Debian/Ubuntu with apt-get); else nothing."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if platform.system() == "Linux" and is_root and _is_debian_like() and shutil.which("apt-get"):
        echo(_("installing Debian's {packages} (apt-get) …").format(packages=" ".join(packages)))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, check=False)


@contextmanager
def open_browser(
    browser_path: str | None = None,
    endpoint: str | None = None,
    cdp: str | None = None,
    *,
    headless: bool = True,
    slow_mo: float = 0,
) -> Iterator[tuple[Playwright, Browser, BrowserChoice]]:
    """(playwright, browser, choice) for a short job; the browser is closed after it.

    Not found or not startable ends with NoBrowser (exit code 4) and the reason."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from assistant.errors import NoBrowser

    try:
        choice = discover(browser_path, endpoint, cdp)
    except BrowserNotFound as exc:
        raise NoBrowser(str(exc)) from None
    with sync_playwright() as playwright:
        try:
            browser = connect(playwright, choice, headless=headless, slow_mo=slow_mo)
        except PlaywrightError as exc:
            raise start_failure(choice, exc, headless=headless) from None
        try:
            yield playwright, browser, choice
        finally:
            browser.close()


def endpoint_pool(values: Sequence[str]) -> list[str]:
    """The endpoints given (each `--browser-endpoint`, or one with commas), checked, in order, once each."""
    pool: list[str] = []
    for value in values:
        for endpoint in (part.strip() for part in value.split(",")):
            if not endpoint:
                continue
            discover(endpoint=endpoint)  # BrowserNotFound for one that is not a ws:// URL
            if endpoint not in pool:
                pool.append(endpoint)
    return pool


def unreachable(endpoint: str, timeout: float = 3) -> str | None:
    """Why nothing answers at the endpoint's host and port; None when something listens there."""
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=timeout).close()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def ensure_font(echo: Callable[[str], None] = print) -> None:
    """The screenshot banner needs a font with Cyrillic (DejaVu Sans); install it if missing.

    Separate from the browser: a machine can have Chrome and still lack the font."""
    from evidence.stamp import FontMissing, font_path

    try:
        echo(_("font: {detail}").format(detail=font_path()))
        return
    except FontMissing:
        pass
    _apt_install(["fonts-dejavu-core"], lambda m: echo(_("font: {detail}").format(detail=m)))
    try:
        echo(_("font: {detail}").format(detail=font_path()))
    except FontMissing as exc:
        echo(_("font: {detail}").format(detail=exc))


def ensure_locales(choice: BrowserChoice, echo: Callable[[str], None] = print) -> None:
    """Debian's Chromium ships English only; without its other languages a Russian person's
    date fields would show 11/20/2026 (see language_env). Install them (chromium-l10n)."""
    if choice.kind not in ("system", "path") or not DEBIAN_LOCALES.is_dir():
        return
    if (DEBIAN_LOCALES / "ru.pak").exists():
        echo(_("browser languages: installed"))
        return
    _apt_install(["chromium-l10n"], lambda m: echo(_("browser languages: {detail}").format(detail=m)))
    if not (DEBIAN_LOCALES / "ru.pak").exists():
        echo(_("browser languages: English only; date fields show US formats (install chromium-l10n)"))


def install(echo: Callable[[str], None] = print) -> BrowserChoice:
    """Make sure a browser is available: Playwright's download, else Debian's chromium."""
    ensure_font(echo)
    try:
        choice = discover()
        echo(_("browser: {detail}").format(detail=choice.describe()))
        ensure_locales(choice, echo)
        return choice
    except BrowserNotFound:
        pass
    echo(_("browser: none found; trying `playwright install chromium` …"))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"],
            timeout=600,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[:1]
            echo(
                _("browser: Playwright's download failed: {reason}").format(reason=last[0] if last else _("no output"))
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        echo(_("browser: Playwright's download failed: {reason}").format(reason=exc))
    try:
        return discover()
    except BrowserNotFound:
        pass
    _apt_install(
        ["chromium", "chromium-l10n", "fonts-dejavu-core"], lambda m: echo(_("browser: {detail}").format(detail=m))
    )
    choice = discover()  # raises BrowserNotFound with the full list of what was tried
    echo(_("browser: {detail}").format(detail=choice.describe()))
    return choice


def html_to_pdf(page_html: str, browser_path: str | None = None) -> bytes:
    """A page of HTML printed to PDF by the browser the assistant drives: no second rendering engine."""
    with open_browser(browser_path) as (_playwright, browser, _choice):
        page = browser.new_page()
        page.set_content(page_html, wait_until="load")
        return page.pdf(format="A4", print_background=True)
