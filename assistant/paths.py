"""Where the assistant keeps its data: --home, then ASSISTANT_HOME, then the OS's user data dir."""

from __future__ import annotations

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
