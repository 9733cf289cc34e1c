"""Shared text helpers for the checks: word tokens with offsets, script classes."""

from __future__ import annotations

import re

# a word: letters, optionally joined by apostrophes/hyphens (Belarusian з'ява, Russian кто-то)
WORD = re.compile(r"[^\W\d_]+(?:['’ʼ\-][^\W\d_]+)*")
CYR = re.compile(r"[\u0400-\u04FF]")
LAT = re.compile(r"[A-Za-z\u00C0-\u024F]")


def words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def is_cyrillic(word: str) -> bool:
    return bool(CYR.search(word)) and not LAT.search(word)


def is_latin(word: str) -> bool:
    return bool(LAT.search(word)) and not CYR.search(word)


def is_mixed(word: str) -> bool:
    """A word part (between hyphens/apostrophes) holding both Latin and Cyrillic letters."""
    return any(CYR.search(p) and LAT.search(p) for p in re.split(r"['’ʼ\-]", word))
