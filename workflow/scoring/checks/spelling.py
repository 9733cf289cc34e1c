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
from workflow.scoring.hunspell import DICT_NAMES, dictionary_path, known


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

    def score(self, inp: CheckInput):
        if dictionary_path(self.lang) is None:
            self.skip_reason = f"hunspell dictionary {DICT_NAMES.get(self.lang, self.lang)} not installed"
            return None, []
        gloss = self.ctx.glossary
        spans = []
        for s, e, w in words(inp.mt):
            if len(w) < 2 or not is_cyrillic(w) or (w.isupper() and len(w) <= 6):
                continue
            if gloss is not None and gloss.is_name_form(w, self.lang):
                continue
            if w[0].isupper() and not _sentence_start(inp.mt, s):
                continue  # a capitalised word inside a sentence: most likely a name
            if not known(self.lang, w):
                spans.append(Span(s, e, f"unknown word {w!r}"))
        return float(len(spans)), spans, min(1.0, len(spans) / 4)

    def accept(self, score: float) -> bool:
        return score <= self.params.max_unknown
