"""Belarusian orthography: forms of the other written norm than the text's.

``be_orthography`` in ``[checks.orthography]`` says which norm the Belarusian should follow:
``"official"`` (narkamaŭka), ``"classical"`` (taraškievica) or ``"any"`` (the default:
each document's own majority among the segments scored together, so only mixed use
within one document is flagged). The
markers of each norm are in ``workflow.scoring.belarusian.orthography``; a blamed form
says which norm it belongs to and what the document otherwise follows. Like ``leakage``,
not a feature of the learned model (``in_model = False``): a failure flags the segment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from workflow.scoring.belarusian.orthography import NORMS, markers, norm_of
from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register

CHOICES = NORMS + ("any",)
LABEL = {"official": "official (narkamaŭka)", "classical": "classical (taraškievica)"}


def document_of(seg_id: str) -> str:
    """The document part of a segment id ``<doc>:p<n>:s<n>`` (the whole id otherwise)."""
    parts = seg_id.rsplit(":", 2)
    return parts[0] if len(parts) == 3 and parts[1].startswith("p") else seg_id


@register("orthography")
class Orthography(Check):
    """score: the number of forms of the other norm than the expected one (lower is better).
    accept: score == 0."""

    severity = "minor"
    languages = ("be",)
    higher_is_better = False
    in_model = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        be_orthography: str = "any"  # "official" | "classical" | "any" (each document's majority)
        weight: float = 1.0  # hand-set (no Belarusian in the MQM data): one mixed form reaches the flag threshold

        def problems(self) -> dict[str, str]:
            if self.be_orthography not in CHOICES:
                return {"be_orthography": f"is {self.be_orthography!r}; choose one of: {', '.join(CHOICES)}"}
            return {}

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._counts: dict[str, Counter] = {}

    def prepare(self, inputs: list[CheckInput]) -> None:
        self._counts = {}
        for inp in inputs:
            c = self._counts.setdefault(document_of(inp.seg_id), Counter())
            c.update(m.norm for m in markers(inp.mt))

    def score(self, inp: CheckInput):
        found = markers(inp.mt)
        want = self.params.be_orthography
        counts = self._counts.get(document_of(inp.seg_id)) or Counter(m.norm for m in found)
        if want == "any":
            want = norm_of(counts)
            if want is None:
                self.skip_reason = "no form tells the norm apart" if not counts else "as many forms of each norm"
                return None, []
            why = (f"the document is mostly {LABEL[want]}: {counts[want]} forms against "
                   f"{sum(counts.values()) - counts[want]}")
        else:
            why = f"be_orthography is {want!r}"
        spans = [Span(m.start, m.end, f"{LABEL[m.norm]} form {m.form!r} ({m.reason}); {why}")
                 for m in found if m.norm != want]
        return float(len(spans)), spans, min(1.0, 0.6 + 0.2 * len(spans))

    def accept(self, score: float) -> bool:
        return score == 0
