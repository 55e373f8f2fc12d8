"""A Russian name in the genitive, as a complaint's header gives its author: «от Смирнова Ивана
Сергеевича». pymorphy3 tells the parts apart and declines them; a name it cannot decline with
certainty is kept as written."""

from __future__ import annotations

import functools
import re
from typing import Any

ORDERS = {2: (("Name", "Surn"), ("Surn", "Name")), 3: (("Name", "Patr", "Surn"), ("Surn", "Name", "Patr"))}
NAME_WORD = re.compile(r"[А-ЯЁа-яё]+(?:-[А-ЯЁа-яё]+)?")


@functools.cache
def _morph() -> Any:
    # A dictionary of some megabytes: loaded when a Russian draft is written, never for `--help`.
    import pymorphy3  # type: ignore[import-untyped]

    return pymorphy3.MorphAnalyzer()


def genitive_name(full_name: str) -> str:
    """«Иван Сергеевич Смирнов» → «Смирнова Ивана Сергеевича»: surname first, in the genitive.

    Names given as "Имя Фамилия", "Имя Отчество Фамилия" or "Фамилия Имя Отчество" are told
    apart by pymorphy3's Name, Patr and Surn tags, in one gender for all parts. When no reading,
    or more than one, fits every part (a foreign or rare name, a surname that is also a noun),
    the name is returned as written: never a guessed form.
    """
    words = full_name.split()
    if len(words) not in ORDERS or not all(NAME_WORD.fullmatch(w) for w in words):
        return full_name
    readings: set[str] = set()
    for order in ORDERS[len(words)]:
        for gender in ("masc", "femn"):
            forms = [_genitive(word, role, gender) for word, role in zip(words, order, strict=True)]
            parts = {role: form for role, form in zip(order, forms, strict=True) if form}
            if len(parts) == len(words):
                readings.add(" ".join(parts[role] for role in ("Surn", "Name", "Patr") if role in parts))
    return readings.pop() if len(readings) == 1 else full_name


def _genitive(word: str, role: str, gender: str) -> str | None:
    """One part of the name; each half of a hyphenated one declined alike (Римского-Корсакова)."""
    halves = []
    for half in word.split("-"):
        declined = _genitive_word(half, role, gender)
        if declined is None:
            return None
        halves.append(declined)
    return "-".join(halves)


def _genitive_word(word: str, role: str, gender: str) -> str | None:
    forms: set[str] = set()
    for reading in _morph().parse(word):
        tag = reading.tag
        if {role, "nomn", "sing"} in tag and (gender in tag or "ms-f" in tag):  # ms-f: Шевченко, Ким
            declined = reading.inflect({"gent"})
            if declined is not None and _declines_back(declined.word, role, word):
                # "Семен" stays without ё when the person wrote it so
                forms.add(declined.word if "ё" in word.lower() else declined.word.replace("ё", "е"))
    if len(forms) != 1:
        return None
    form: str = forms.pop()
    if word.isupper() and len(word) > 1:
        return form.upper()
    return form[:1].upper() + form[1:] if word[:1].isupper() else form


def _declines_back(form: str, role: str, word: str) -> bool:
    """The genitive read again gives the word as written: a form the dictionary stands behind."""
    want = word.lower().replace("ё", "е")
    for reading in _morph().parse(form):
        if {role, "gent"} in reading.tag:
            back = reading.inflect({"nomn"})
            if back is not None and back.word.replace("ё", "е") == want:
                return True
    return False


LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'.-]*")


def name_parts(full_name: str) -> dict[str, str] | None:
    """{"last", "first", "middle"} of a person's name, for a form that asks for them apart; None
    when the parts cannot be told apart with certainty (the form's fields are then asked for).

    A Latin-script name is read first name first ("Anna Petrova", "John Quincy Adams"). A Russian
    one is read by pymorphy3's Name, Patr and Surn tags in either order, «Иван Сергеевич Смирнов»
    or «Смирнов Иван Сергеевич», and only when exactly one reading fits every word."""
    words = full_name.split()
    if len(words) in (2, 3) and all(LATIN_WORD.fullmatch(w) for w in words):
        return {"first": words[0], "middle": " ".join(words[1:-1]), "last": words[-1]}
    if len(words) not in ORDERS or not all(NAME_WORD.fullmatch(w) for w in words):
        return None
    readings = []
    for order in ORDERS[len(words)]:
        for gender in ("masc", "femn"):
            if all(_is(word, role, gender) for word, role in zip(words, order, strict=True)):
                readings.append(dict(zip(order, words, strict=True)))
                break
    if len(readings) != 1:
        return None
    found = readings[0]
    return {"first": found["Name"], "middle": found.get("Patr", ""), "last": found["Surn"]}


def _is(word: str, role: str, gender: str) -> bool:
    return all(
        any({role, "nomn", "sing"} in r.tag and (gender in r.tag or "ms-f" in r.tag) for r in _morph().parse(half))
        for half in word.split("-")
    )
