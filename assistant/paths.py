"""Where the assistant keeps its data: --home, then ASSISTANT_HOME, then the OS's user data dir."""

from __future__ import annotations

import getpass
import os
from pathlib import Path


def home(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("ASSISTANT_HOME")
    if env:
        return Path(env).expanduser()
    # platformdirs knows each OS's convention (XDG on Linux, Application
    # Support on macOS, AppData on Windows) so we do not have to.
    from platformdirs import user_data_dir

    return Path(user_data_dir("support-assistant", appauthor=False))


def shown(path: str | Path) -> str:
    """A path as shareable evidence may carry it: without the person's user name.

    Relative to the folder the command runs in (flows/demo.yaml) or to the home folder
    (~/flows/x.yaml); any other path that names the user (/tmp/pytest-of-anna/…) is cut to
    its last part."""

    resolved = Path(path).expanduser().resolve()
    for base, prefix in ((Path.cwd().resolve(), ""), (Path.home().resolve(), "~/")):
        if base == Path(base.anchor):  # relative to / says nothing less than the path itself
            continue
        try:
            return prefix + resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    try:
        user = getpass.getuser()
    except Exception:  # no user name to be found: none to hide
        return resolved.as_posix()
    if user and any(part == user or part.endswith(f"-{user}") for part in resolved.parts[:-1]):
        return f"…/{resolved.name}"
    return resolved.as_posix()
