"""Model confidence: mean token log-probability of the output, as reported by the engine.

Skipped (not failed) when the engine gave none (e.g. ``workflow qe`` on outside MT).
Threshold: ``thresholds.min_confidence`` in config.toml.
"""

from __future__ import annotations

import math

from workflow.scoring.checks.base import Check, CheckInput, Span, register


@register("confidence")
class Confidence(Check):
    severity = "major"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.min = ctx.settings.thresholds.min_confidence

    def score(self, inp: CheckInput):
        if inp.logprob is None or (isinstance(inp.logprob, float) and math.isnan(inp.logprob)):
            self.skip_reason = "no log-probability from the engine"
            return None, []
        return float(inp.logprob), [Span(0, len(inp.mt), f"mean token log-probability {inp.logprob:.2f}")]

    def accept(self, score: float) -> bool:
        return score >= self.min

    def badness(self, score: float) -> float:
        return min(1.0, 0.5 + (self.min - score) / max(0.1, abs(self.min)))
