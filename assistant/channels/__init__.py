"""Channels, found by the name a flow gives in `channel:`.

The registry is this literal table of "module:Class" strings, imported only
when a run uses the channel: importing this package registers nothing and
loads no browser code. A new channel is a module in this package that
implements assistant.channels.base.Channel, one line here, and its settings
block in the flow language (assistant.language.flow); no other channel and
not the pipeline change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from assistant.errors import InputError
from assistant.translation import _

if TYPE_CHECKING:
    from assistant.channels.base import Channel

BUILT_IN = {
    "web_form": "assistant.channels.web_form:WebForm",
    "email": "assistant.channels.email:Email",
}


def find(name: str) -> type[Channel]:
    target = BUILT_IN.get(name)
    if target is None:
        raise InputError(
            _("channel: no channel named {name!r} (known: {known})").format(name=name, known=", ".join(BUILT_IN))
        )
    module, _colon, attribute = target.partition(":")
    channel: type[Channel] = getattr(importlib.import_module(module), attribute)
    return channel
