"""The Debian hunspell dictionaries (be_BY, ru_RU) through spylls (pure-Python hunspell, the
same answers as libhunspell): found, loaded lazily once per language (be about 1.5 s, ru
about 2 s), lookups cached. Used by the spelling, leakage and names checks; it registers
no check, so importing it leaves the check registry's order alone."""

from __future__ import annotations

import os
from functools import lru_cache

from spylls.hunspell import Dictionary

DICT_DIRS = ("/usr/share/hunspell", "/usr/share/myspell", "/usr/share/myspell/dicts")
DICT_NAMES = {"be": "be_BY", "ru": "ru_RU"}


def dictionary_path(lang: str) -> str | None:
    """Base path (without .dic/.aff) of the hunspell dictionary for ``lang``, or None."""
    name = DICT_NAMES.get(lang)
    if not name:
        return None
    extra = os.environ.get("WORKFLOW_HUNSPELL_DIR")
    for d in ((extra,) if extra else ()) + DICT_DIRS:
        base = os.path.join(d, name)
        if os.path.isfile(base + ".dic") and os.path.isfile(base + ".aff"):
            return base
    return None


@lru_cache(maxsize=4)
def dictionary(lang: str):
    base = dictionary_path(lang)
    if base is None:
        return None
    return Dictionary.from_files(base)


@lru_cache(maxsize=200_000)
def known(lang: str, word: str) -> bool:
    d = dictionary(lang)
    if d is None:
        return True
    w = word.replace("’", "'").replace("ʼ", "'")
    if d.lookup(w):
        return True
    # hyphenated compounds: every part known
    if "-" in w:
        return all(not p or d.lookup(p) or d.lookup(p.lower()) for p in w.split("-"))
    return False
