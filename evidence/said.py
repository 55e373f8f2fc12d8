"""What the library says to a person, in English, and what a program needs to say it in another
language: the message's template and its values (the assistant's catalog has the templates;
tests/messages.py reads them from the `N_()` marks in this package)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for a translator's catalog; the library itself speaks English."""
    return message


class Said(str):
    """A message as English text (it is a str: print it, log it), with its template and values."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Said:
        said = super().__new__(cls, template.format(**values))
        said.template, said.values = template, values
        return said
