"""Channels, found by the name a flow gives in `channel:`.

The built-in ones are named here as "module:class" strings, imported only when
a run uses them, so importing this package registers nothing and loads no
browser code. Other distributions add channels under the entry-point group
`support_assistant.channels` (name = "package.module:Class"), the way pytest
finds plugins; a built-in name cannot be taken over.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import TYPE_CHECKING

from assistant.errors import InputError

if TYPE_CHECKING:
    from assistant.channels.base import Channel

ENTRY_POINTS = "support_assistant.channels"
BUILT_IN = {
    "web_form": "assistant.channels.web_form:WebForm",
    "email": "assistant.channels.email:Email",
}


def available() -> dict[str, str]:
    """Every channel name → where its class lives, built-in ones first."""
    found = dict(BUILT_IN)
    for entry in metadata.entry_points(group=ENTRY_POINTS):
        found.setdefault(entry.name, entry.value)
    return found


def find(name: str) -> type[Channel]:
    target = available().get(name)
    if target is None:
        raise InputError(f"channel: no channel named {name!r} (known: {', '.join(available())})")
    module, _, attribute = target.partition(":")
    channel: type[Channel] = getattr(importlib.import_module(module), attribute)
    return channel
