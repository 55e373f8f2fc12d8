"""Errors that reach the person, and the exit codes the program ends with.

`ExitStatus` is the one list of exit codes: the error classes, `assistant
--help` and every command that exits with a number take theirs from it, and a
test holds docs/exit-codes.md's table to it.
"""

from __future__ import annotations

import enum
import re

from assistant.translation import N_

# Control characters and the ones str.splitlines() breaks on: a value quoted
# from a hostile file must not split a message or drive the terminal.
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """text with control characters shown as escapes (\\x1b), newlines kept."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


class ExitStatus(enum.IntEnum):
    """How the program ended; each member carries the line `--help` and docs/exit-codes.md show for it."""

    description: str

    def __new__(cls, code: int, description: str) -> ExitStatus:
        member = int.__new__(cls, code)
        member._value_ = code
        member.description = description
        return member

    OK = 0, N_("done")
    RUN_FAILED = (
        1,
        N_(
            "the run failed in the browser (a step, a timeout, the provider's page), or an evidence package did not verify"
        ),
    )
    BAD_INPUT = 2, N_("bad input: a flow file, a case file, an option (the message names file:line:column and field)")
    REFUSED = 3, N_("refused: already submitted, or pending (see --force)")
    NO_BROWSER = 4, N_("no browser could be found or started")
    DECLINED = 5, N_("you declined at the confirmation prompt")
    REJECTED = (
        6,
        N_(
            "rejected: the provider (or the browser) refused the request and said why; nothing was filed, "
            "fix the case and submit again"
        ),
    )
    UNKNOWN = (
        7,
        N_(
            "outcome unknown: the request left the browser but no confirmation came; it is recorded as pending "
            "(`assistant cases resolve`)"
        ),
    )
    # 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C.
    INTERRUPTED = 130, N_("interrupted (Ctrl-C); `assistant cases` shows what was recorded")


class AssistantError(Exception):
    exit_code: ExitStatus = ExitStatus.RUN_FAILED
    # What a run recorded before it failed (assistant.pipeline.Outcome), for `--json`.
    outcome: object | None = None


class InputError(AssistantError):
    """Bad flow, case or option. The message names where and what to do."""

    exit_code = ExitStatus.BAD_INPUT


class AlreadySubmitted(AssistantError):
    exit_code = ExitStatus.REFUSED


class NoBrowser(AssistantError):
    exit_code = ExitStatus.NO_BROWSER


class Declined(AssistantError):
    exit_code = ExitStatus.DECLINED


class RunFailed(AssistantError):
    exit_code = ExitStatus.RUN_FAILED


class Rejected(AssistantError):
    """The provider or the browser refused the request: nothing was filed, a resend is allowed."""

    exit_code = ExitStatus.REJECTED


class OutcomeUnknown(AssistantError):
    """A request left the browser and no confirmation came: recorded as pending, never retried blindly."""

    exit_code = ExitStatus.UNKNOWN
