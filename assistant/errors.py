"""Errors that reach the person, each with the exit code it ends the program with.

Exit codes (documented in the README and `assistant --help`):
  0  done
  1  the run failed in the browser (a step, a timeout, the provider's page)
  2  bad input: a flow file, a case file, a CLI option
  3  refused: this request was already submitted (or is pending); see --force
  4  no browser could be found or started
  5  stopped by the person at the confirmation prompt
"""

from __future__ import annotations

import re

# Control characters and the ones str.splitlines() breaks on: a value quoted
# from a hostile file must not split a message or drive the terminal.
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """text with control characters shown as escapes (\\x1b), newlines kept."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


class AssistantError(Exception):
    exit_code = 1


class InputError(AssistantError):
    """Bad flow, case or option. The message names where and what to do."""

    exit_code = 2


class AlreadySubmitted(AssistantError):
    exit_code = 3


class NoBrowser(AssistantError):
    exit_code = 4


class Declined(AssistantError):
    exit_code = 5


class RunFailed(AssistantError):
    exit_code = 1
