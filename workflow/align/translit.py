"""Cyrillic -> Latin transliteration and a script-independent key for proper names.

The aligner rewards a bead whose English side and Cyrillic side mention the same name
(Lukashenko / Лукашенко / Лукашэнка). Exact transliteration cannot do that: Russian and
Belarusian spell the same name differently (е/э, о/а, г = g/h) and inflect it (Путина,
Путиным). ``name_key`` therefore reduces a word to the first three classes of its
consonant skeleton, after folding sounds that the three spellings render differently.
It is a matching key, not a transliteration to show anyone.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Russian and Belarusian letters, simple scholarly-style romanisation (one table for both).
_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "і": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "w", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ʼ": "", "'": "", "’": "",
}


def to_latin(text: str) -> str:
    """Romanise Russian/Belarusian Cyrillic; other characters pass through unchanged."""
    out = []
    for ch in text:
        low = ch.lower()
        rom = _CYR.get(low)
        if rom is None:
            out.append(ch)
        elif ch != low and rom:
            out.append(rom[0].upper() + rom[1:])
        else:
            out.append(rom)
    return "".join(out)


# Folding rules applied in order to a lower-case Latin spelling (English or romanised).
_FOLD = [
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"dzh|dj|jh|j"), "j"),  # John / Джон (Dzhon)
    (re.compile(r"^u(?=[aeio])"), "v"),  # Wales / Уэльс (Uels), William / Уильям
    (re.compile(r"zh"), "j"),
    (re.compile(r"tch|ch"), "c"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"th"), "t"),
    (re.compile(r"(?<=[aeiou])h(?![aeiouy])"), ""),  # silent English h: John, Sarah
    (re.compile(r"kh|h"), "g"),  # Harry / Гарри / Гары (Hary): h, g and kh are one class
    (re.compile(r"ck|q|c(?![eiy])"), "k"),
    (re.compile(r"c"), "s"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"w"), "v"),
    (re.compile(r"ts|tz|z"), "s"),
    (re.compile(r"[aeiouy]"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
]


@lru_cache(maxsize=65536)
def name_key(word: str, size: int = 3) -> str | None:
    """Skeleton key of a name in either script, or None when too short to be useful.

    >>> name_key("Lukashenko") == name_key("Лукашенко") == name_key("Лукашэнка")
    True
    """
    s = to_latin(word).lower()
    s = re.sub(r"[^a-z]", "", s)
    for rx, rep in _FOLD:
        s = rx.sub(rep, s)
    if len(s) < 2:
        return None
    return s[:size]
