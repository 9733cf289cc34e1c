"""Paragraph mode (``unit = "paragraph"``): translate whole paragraphs, align back.

A paragraph gives the model context. Its translation is split into target sentences and
aligned to the English sentences with the sentence aligner (``workflow.align.aligner``); 2:1
merges leave the second English sentence's cell empty (flagged "empty" by scoring, so a
reviewer sees the merge), and unmatched target sentences stay with the previous sentence.
"""

from __future__ import annotations

from itertools import groupby

from workflow.align.aligner import align_paragraph_translation
from workflow.core.progress import Reporter
from workflow.core.records import Translation
from workflow.core.store import Store
from workflow.corpus.segment import Segment
from workflow.translation.cache import EnginePool, translate_cached
from workflow.translation.hub import ResolvedModel


def translate_paragraphs(
    segments: list[Segment], target: str, model: ResolvedModel, store: Store, pool: EnginePool, reporter: Reporter
) -> list[tuple[Translation, bool]]:
    """One (translation, cached) pair per segment, in the order given."""
    groups = [list(g) for _, g in groupby(segments, key=lambda s: (s.doc_id, s.para))]
    texts = [" ".join(s.text for s in g) for g in groups]
    res = translate_cached(texts, target, model, store, pool, reporter, label=f"Translating EN->{target.upper()} (paragraphs)")
    out: list[tuple[Translation, bool]] = []
    for group, tr, cached in zip(groups, res.translations, res.cached):
        if len(group) == 1:
            out.append((tr, cached))
            continue
        parts = align_paragraph_translation([s.text for s in group], tr.text, target)
        for part in parts:
            out.append((Translation(part, tr.logprob, tr.n_tokens, tr.split), cached))
    return out
