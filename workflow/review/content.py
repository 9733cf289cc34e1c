"""What the text of a reviewer's fix must be, whatever file it came in: the right language,
a plausible size, no control characters or broken encodings.

:func:`fix_language` says when a fix is clearly not in its target language: in English
(or another Latin-script text), or in the other target language. It reuses the letter
tells and the lingua detector of the wrong-language check
(``workflow.scoring.checks.language``), with stricter rules than that check: the check
only flags MT for a look, this refuses a reviewer's text, so it must not cry wolf. It
answers ``None`` (accept) for text too short to judge. Measured on NTREX-128 and Tatoeba
(``bench/README.md``, "Review import hardening").
"""

from __future__ import annotations

import re

from workflow.core.langs import LANGUAGES
from workflow.core.text import LATIN, is_cyrillic, words
from workflow.scoring.checks.language import OWN, TELLS, lingua_confidence

MIN_LATIN_WORDS = 4  # a Latin-script fix of fewer words may be a name or a title ("Amnesty International")
MIN_LETTERS = 12  # lingua is asked only when the Cyrillic words have this many letters
CONFIDENT = 0.8  # lingua's confidence in the other target needed to refuse (0 false refusals on Tatoeba)
CELL_RATIO = 6  # a fix may be at most CELL_RATIO x the English length + CELL_SLACK characters
CELL_SLACK = 200

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_MOJIBAKE = re.compile("[\u00d0\u00d1][\u0080-\u00bf\u2018-\u203a\u0152-\u0192]")  # UTF-8 Cyrillic read as Latin-1/CP1252


def fix_language(text: str, target: str, targets) -> str | None:
    """The language code ``text`` is clearly written in when that is not ``target``: 'en'
    for a Latin-script text of MIN_LATIN_WORDS words or more, or another of ``targets``;
    None when it is ``target`` or cannot be told."""
    ws = [w for _, _, w in words(text)]
    cyr = [w for w in ws if is_cyrillic(w)]
    latin = [w for w in ws if LATIN.search(w) and not is_cyrillic(w)]
    if len(latin) >= MIN_LATIN_WORDS and sum(map(len, latin)) > sum(map(len, cyr)):
        return "en"
    others = [t for t in targets if t != target and t in TELLS]
    if target not in TELLS or not cyr or not others:
        return None
    own = OWN[target].search(" ".join(cyr))
    tell = TELLS[target][0]
    if own is None and any(tell.search(w) for w in cyr):
        # the other language's letters and none of the target's own: "Привет", "щит"
        return _other(cyr, others)
    if own is None and sum(map(len, cyr)) >= MIN_LETTERS:
        conf = lingua_confidence(" ".join(cyr))
        best = max(others, key=lambda t: conf.get(t, 0.0))
        if conf.get(best, 0.0) >= CONFIDENT:
            return best
    return None


def cyrillic_letters(text: str) -> int:
    """How many letters of ``text`` are in Cyrillic words (a text with fewer than
    MIN_LETTERS may be the same in Belarusian and Russian: a name, an acronym)."""
    return sum(len(w) for _, _, w in words(text) if is_cyrillic(w))


def _other(cyr: list[str], others: list[str]) -> str:
    """Which of the other targets the tell letters point to (lingua decides between several)."""
    if len(others) == 1:
        return others[0]
    conf = lingua_confidence(" ".join(cyr))
    return max(others, key=lambda t: conf.get(t, 0.0))


def _name(code: str) -> str:
    return LANGUAGES[code].name if code in LANGUAGES else code


def language_problem(text: str, target: str, targets) -> str | None:
    """A message when ``text`` is not in ``target`` (see :func:`fix_language`), else None."""
    lang = fix_language(text, target, targets)
    if lang is None:
        return None
    what = "English or another Latin-script language" if lang == "en" else _name(lang)
    return (f"this {target} text is in {what} (detected: {lang}), not {_name(target)}: "
            "a swapped column, the wrong file, or an untranslated sentence?")


def cell_limit(english: str) -> int:
    """The longest fix accepted for an English source: CELL_RATIO x its length + CELL_SLACK."""
    return CELL_RATIO * len(english) + CELL_SLACK


def text_problem(text: str) -> str | None:
    """A message when ``text`` holds control characters or a broken encoding, else None."""
    m = _CONTROL.search(text)
    if m:
        return f"control character U+{ord(m.group()):04X} in the translation"
    if "\ufffd" in text:
        return "replacement character U+FFFD in the translation: the file went through a broken encoding"
    if _MOJIBAKE.search(text):
        return "the translation looks like UTF-8 read as Latin-1/Windows-1252 (mojibake such as 'Ð°'): " \
               "re-export and edit as UTF-8"
    return None
