"""Spelling: Cyrillic words unknown to the Debian hunspell dictionaries (be_BY, ru_RU).

The dictionaries are found and loaded by ``workflow.scoring.hunspell`` (spylls). Words in
capitals (acronyms), words that are forms of a glossary name and single letters are not
looked up; capitalised words inside a sentence are taken for names (the WMT21 MQM
annotators do not mark unknown names as errors) and skipped. When the dictionary is not installed the check is skipped, not failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.core.text import is_cyrillic, words
from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register
from workflow.scoring.hunspell import DICT_NAMES, dictionary, known


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"'«„“”(—–-")
    return not before or before[-1] in ".!?…:"


@register("spelling")
class Spelling(Check):
    """score: the number of words unknown to the dictionary (lower is better).
    accept: score <= ``max_unknown``."""

    severity = "minor"
    languages = ("be", "ru")
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        max_unknown: int = 0  # more words unknown to hunspell than this is flagged
        # fitted (lowercase unknown words; capitalised ones are taken for names)
        weight: float = 0.50

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.memo: dict[str, bool] = {}  # word -> unknown (see _unknown)

    def score(self, inp: CheckInput):
        if dictionary(self.lang) is None:  # loaded once per process (lru_cache)
            self.skip_reason = f"hunspell dictionary {DICT_NAMES.get(self.lang, self.lang)} not installed"
            return None, []
        spans = []
        for s, e, w in words(inp.mt):
            if len(w) < 2 or not is_cyrillic(w) or (w.isupper() and len(w) <= 6):
                continue
            if w[0].isupper() and not _sentence_start(inp.mt, s):
                continue  # a capitalised word inside a sentence: most likely a name
            if self._unknown(w):
                spans.append(Span(s, e, f"unknown word {w!r}"))
        return float(len(spans)), spans, min(1.0, len(spans) / 4)

    def _unknown(self, word: str) -> bool:
        """Neither a form of a glossary name nor in the dictionary; remembered per word for
        this check's batch (the glossary scan costs more than the cached dictionary lookup)."""
        if word not in self.memo:
            gloss = self.ctx.glossary
            self.memo[word] = not (gloss is not None and gloss.is_name_form(word, self.lang)) and not known(self.lang, word)
        return self.memo[word]

    def accept(self, score: float) -> bool:
        return score <= self.params.max_unknown
