"""Russian leakage in Belarusian, word by word: each Russian-only word is blamed.

A word is Russian-only when (1) it has a letter Belarusian never writes (``и``, ``щ``,
``ъ``), or (2) it is one of the frequent Russian words of ``RUSSIANISMS`` (``что``,
``который``, ``если`` ...), or (3) hunspell-ru accepts it and hunspell-be rejects it
(measured on Tatoeba: 94% of Russian-only words, 0.4% false alarms on Belarusian-only
words) and, when Apertium is installed, Apertium's Belarusian analyser does not know it
either (a second Belarusian lexicon: fewer false alarms on words hunspell-be lacks).
Capitalised words inside a sentence are names and left to the names check. The
sentence-level detector stays in the ``language`` check (a second signal).

The learned weak-spot model was trained on EN-RU data and has no feature for this check
(``in_model = False``): a Belarusian segment that fails it is flagged whatever the model
says (bench/belarusian.py: clean NTREX Belarusian <= 2% flagged).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.core.text import is_cyrillic, words
from workflow.scoring.belarusian import apertium
from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register
from workflow.scoring.checks.spelling import _sentence_start
from workflow.scoring.hunspell import dictionary_path, known

RUSSIAN_LETTERS = set("ищъ")
# frequent Russian words whose Belarusian is different (что/што, если/калі, также/таксама ...):
# caught even without hunspell; forms with и/щ/ъ are left out (the letters catch them)
RUSSIANISMS = frozenset(
    "что чтобы когда если также тоже является являются который которая которое это этот эта "
    "этого этом он она оно его её ее уже очень сейчас только потому между после через "
    "всех все всё более около может можно нужно будет будут".split()
)


@register("leakage")
class RussianLeakage(Check):
    """score: the number of Russian-only words in the Belarusian text (lower is better).
    accept: score <= ``max_words``."""

    severity = "major"
    languages = ("be",)
    higher_is_better = False
    in_model = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        max_words: int = 0  # more Russian-only words than this is flagged
        weight: float = 1.0  # hand-set (no Belarusian in the MQM data): one Russian word reaches the flag threshold

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._be_lexicon: dict[str, set[str]] = {}

    def prepare(self, inputs: list[CheckInput]) -> None:
        if apertium.available("bel-rus") is not None or not self._dictionaries():
            return
        cands = {w.lower() for inp in inputs for _, _, w in words(inp.mt) if self._dictionary_candidate(w.lower())}
        try:
            self._be_lexicon = apertium.analyse(sorted(cands), "be")
        except (RuntimeError, OSError):  # a broken Apertium: the dictionaries alone decide
            self._be_lexicon = {}

    @staticmethod
    def _dictionaries() -> bool:
        return dictionary_path("be") is not None and dictionary_path("ru") is not None

    def _dictionary_candidate(self, w: str) -> bool:
        return len(w) >= 2 and is_cyrillic(w) and known("ru", w) and not known("be", w)

    def reason(self, word: str) -> str | None:
        """Why ``word`` is Russian-only, or None."""
        w = word.lower()
        letters = sorted(RUSSIAN_LETTERS & set(w))
        if letters:
            return f"Russian letter {', '.join(letters)} (not Belarusian)"
        if w in RUSSIANISMS:
            return "Russian word (frequent Russianism)"
        if self._dictionaries() and self._dictionary_candidate(w) and not self._be_lexicon.get(w):
            return "Russian word (hunspell-ru knows it, hunspell-be does not)"
        return None

    def score(self, inp: CheckInput):
        spans = []
        for s, e, w in words(inp.mt):
            if not is_cyrillic(w) or (w[0].isupper() and not _sentence_start(inp.mt, s)):
                continue
            why = self.reason(w)
            if why:
                spans.append(Span(s, e, f"{why}: {w!r}"))
        return float(len(spans)), spans, min(1.0, 0.6 + 0.2 * len(spans))

    def accept(self, score: float) -> bool:
        return score <= self.params.max_words
