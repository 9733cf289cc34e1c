"""Round trip: the back-translation (target -> English, by a configured reverse model such
as an OPUS-MT ``zle-en`` model) compared with the English source by sentence chrF.

The check only consumes the back-translation (``CheckInput.backtranslation``); the
pipeline produces it with the engine (``workflow.scoring.checks.backtranslate``). Without a
reverse model configured (``checks.reverse_models``) the check is skipped, not failed.
"""

from __future__ import annotations

from workflow.scoring.checks.base import Check, CheckInput, Span, register


@register("roundtrip")
class RoundTrip(Check):
    severity = "major"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.min = ctx.settings.checks.min_roundtrip_chrf

    def score(self, inp: CheckInput):
        if inp.backtranslation is None:
            self.skip_reason = "no back-translation (no reverse model configured)"
            return None, []
        from sacrebleu.metrics import CHRF

        chrf = CHRF().sentence_score(inp.backtranslation, [inp.source]).score
        return chrf, [Span(0, len(inp.mt), f"round-trip chrF {chrf:.1f}: {inp.backtranslation[:80]}")]

    def accept(self, score: float) -> bool:
        return score >= self.min

    def badness(self, score: float) -> float:
        return min(1.0, 0.4 + (self.min - score) / max(1.0, self.min))
