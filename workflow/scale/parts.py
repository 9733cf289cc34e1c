"""The unit of work both executors share: a part of a scoring call, scored the same way
wherever it runs.

A call to :func:`workflow.scale.executor.score` is cut into parts of ``SCORE_PART``
segments; each part is scored with the one scoring function, without the review budget
(the budget is a share of the whole call, drawn afterwards). Local and Ray runs cut the
same parts, so they give the same verdicts: the weak-spot encoder batches what it is
given together, and its vectors (so the probabilities, in the third decimal) depend on
which texts share a batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from workflow.core.config import Checks
from workflow.core.progress import Reporter
from workflow.core.records import SegmentVerdict
from workflow.scoring.checks import Glossary
from workflow.scoring.score import score_segments

SCORE_PART = 256  # segments per part


@dataclass(frozen=True)
class ScorePart:
    """What scoring one part needs; ``back`` (back-translations, for the round trip) is
    made on the driver, with the cached reverse model."""

    sources: list[str]
    outputs: list[str]
    seg_ids: list[str]
    logprobs: list[float | None]
    back: list[str] | None
    other: dict[str, list[str]]  # the other targets' translations of the same sources


class Notes(Reporter):
    """Collects the notes of scoring a part (the encoder could not be built ...) so that
    the caller says each once, however many parts (or actors) said it."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def info(self, message: str) -> None:
        self.notes.append(message)


def score_part(part: ScorePart, target: str, settings: Checks, glossary: Glossary | None) -> tuple[list[SegmentVerdict], list[str]]:
    """(verdicts without the review budget, notes) of one part."""
    notes = Notes()
    back = part.back
    verdicts = score_segments(part.sources, part.outputs, target, dataclasses.replace(settings, review_budget=0.0),
                              glossary=glossary, seg_ids=part.seg_ids, logprobs=part.logprobs,
                              backtranslate=(lambda texts, lang: back) if back is not None else None,
                              reporter=notes, other=part.other or None)
    return verdicts, notes.notes
