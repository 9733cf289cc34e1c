"""Round trip: the back-translation (target -> English, by a configured reverse model such
as an OPUS-MT ``zle-en`` model) compared with the English source by sentence chrF.

The check only consumes the back-translation (``CheckInput.backtranslation``); the
pipeline produces it with the engine (``workflow.scoring.checks.backtranslations``). Without a
reverse model configured (``checks.reverse_models``) the check is skipped, not failed.
Threshold: ``[checks.roundtrip] min_chrf`` in config.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

from sacrebleu.metrics import CHRF

from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register


@register("roundtrip")
class RoundTrip(Check):
    """score: sentence chrF (0-100) of the back-translation against the English source
    (higher is better). accept: score >= ``min_chrf``."""

    severity = "major"
    higher_is_better = True

    @dataclass(frozen=True)
    class Params(CheckParams):
        min_chrf: float = 35.0  # chrF of back-translation vs English below this is flagged
        weight: float = 1.0  # hand-set: no back-translations in the MQM data

    def score(self, inp: CheckInput):
        if inp.backtranslation is None:
            self.skip_reason = "no back-translation (no reverse model configured)"
            return None, []
        chrf = CHRF().sentence_score(inp.backtranslation, [inp.source]).score
        return chrf, [Span(0, len(inp.mt), f"round-trip chrF {chrf:.1f}: {inp.backtranslation[:80]}")]

    def accept(self, score: float) -> bool:
        return score >= self.params.min_chrf

    def badness(self, score: float) -> float:
        return min(1.0, 0.4 + (self.params.min_chrf - score) / max(1.0, self.params.min_chrf))
