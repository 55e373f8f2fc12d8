"""Profanity and insults, Russian and English, in any inflected form.

Support staff ignore rude requests (source 003/004), so `check` flags them.
Each entry is a pattern matched against a whole word (lower-cased, ё read as
е): a stem plus the endings and prefixes it takes, so "заебали", "хуёвый",
"идиотами" and "fucking" are caught while "небо", "застрахуйте", "употреблять",
"команда", "мудрый", "Dickens" and "scunthorpe" are not.
"""

from __future__ import annotations

import re

# No one-letter prefixes but у/о: "с"+"еб" would catch себе, "в"+"еб" вебинар.
_RU_PREFIX = r"(?:за|от|отъ|вы|на|у|о|по|до|съ|разъ|изъ|взъ|при|подъ|объ|въ|пере|недо|про)?"

RU = [
    # мат
    _RU_PREFIX + r"еб(?:а|у|л|н|и|ё|е|ы|ош|ок|уч|ищ|ись|ет)\w*",
    _RU_PREFIX + r"ху[йеяи]\w*",
    r"\w*пизд\w*",
    r"бля(?:дь|ть|ди|дям|дями|дей|дск\w*|дин\w*|д\w*)?",
    r"муд(?:ак|ач|ил|озвон)\w*",
    r"гандон\w*",
    r"залуп\w*",
    r"шлюх\w*",
    # insults
    r"идиот\w*",
    r"дебил\w*",
    r"кретин\w*",
    r"придур\w*",
    r"мраз[ьию]\w*",
    r"сволоч\w*",
    r"скотин\w*",
    r"ублюд\w*",
    r"урод(?:|а|у|ом|е|ы|ов|ам|ами|ах|ина|ины)",
    r"тупиц\w*",
    r"туп(?:ой|ая|ое|ые|ого|ому|ым|ыми|ых|ую)",
    r"дерьм\w*",
    r"говн\w*",
    r"жоп\w*",
    r"сук(?:а|и|е|у|ой|ам|ами|ах)",
    r"сучк\w*",
    r"козл(?:ы|ам|ами|ах|ина)",  # not "козлов": a common surname
    r"дурак\w*|дура|дуры",
]

EN = [
    r"\w*fuck\w*",
    r"shit(?:s|ty|ting|ted|head\w*|hole\w*)?",
    r"bullshit\w*",
    r"bitch\w*",
    r"bastard\w*",
    r"ass(?:hole\w*|es)?",
    r"arsehole\w*",
    r"dick(?:s|head\w*)?",
    r"cunt\w*",
    r"crap(?:py|s)?",
    r"damn(?:ed|it)?",
    r"goddamn\w*",
    r"wank(?:er|ers|ing)?",
    r"bollocks",
    r"pric(?:k|ks)",
    r"idiot(?:s|ic|ically)?",
    r"moron(?:s|ic)?",
    r"imbecil\w*",
    r"retard(?:s|ed)?",
    r"stupid(?:ity)?",
    r"dumb(?:ass\w*)?",
    r"scum(?:bag\w*)?",
    r"clowns?",
]

_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
_RU = re.compile("|".join(f"(?:{p})" for p in RU))
_EN = re.compile("|".join(f"(?:{p})" for p in EN))


def _normal(word: str) -> str:
    return word.lower().replace("ё", "е")


def find(text: str) -> list[str]:
    """The offending words in `text`, as written, in order."""
    found = []
    for match in _WORD.finditer(text):
        word = _normal(match.group(0))
        for part in word.split("-"):
            pattern = _RU if re.search("[а-я]", part) else _EN
            if pattern.fullmatch(part):
                found.append(match.group(0))
                break
    return found
