"""Model confidence: mean token log-probability of the output, as reported by the engine.

Skipped (not failed) when the engine gave none (e.g. ``workflow qe`` on outside MT).
Threshold: ``[checks.confidence] min`` in config.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register


@register("confidence")
class Confidence(Check):
    """score: the mean token log-probability (0 is certain; higher is better).
    accept: score >= ``min``."""

    severity = "major"
    higher_is_better = True

    @dataclass(frozen=True)
    class Params(CheckParams):
        min: float = -1.2  # mean token log-probability below this is flagged
        weight: float = 1.0  # hand-set: no log-probabilities in the MQM data

    def score(self, inp: CheckInput):
        if inp.logprob is None or (isinstance(inp.logprob, float) and math.isnan(inp.logprob)):
            self.skip_reason = "no log-probability from the engine"
            return None, []
        return float(inp.logprob), [Span(0, len(inp.mt), f"mean token log-probability {inp.logprob:.2f}")]

    def accept(self, score: float) -> bool:
        return score >= self.params.min

    def badness(self, score: float) -> float:
        return min(1.0, 0.5 + (self.params.min - score) / max(0.1, abs(self.params.min)))
