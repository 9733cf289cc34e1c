"""The pipeline's one choice of where translation and scoring run (``[scale] executor``).

An :class:`Executor` serves one run: :meth:`~Executor.translate` takes what
:func:`~workflow.translation.cache.translate_cached` takes and gives what it gives;
:meth:`~Executor.score` what :func:`~workflow.scoring.score.score_segments` takes and
gives. With ``executor = "ray"`` the work goes to the run's pool of Ray actors
(:class:`~workflow.scale.cluster.RayPool`, started once and closed with the executor);
both executors do the same work in the same parts (translation: ``decoding.chunk``
sentences; scoring: :data:`~workflow.scale.parts.SCORE_PART` segments), so they give the
same results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from workflow.core.config import Checks, Scale
from workflow.core.progress import Reporter
from workflow.core.records import SegmentVerdict
from workflow.core.store import Store
from workflow.scale.cluster import RayPool
from workflow.scale.parts import SCORE_PART, ScorePart, score_part
from workflow.scoring.checks import Glossary, backtranslations
from workflow.scoring.score import budget_flags
from workflow.translation.cache import CachedResult, EnginePool, translate_cached
from workflow.translation.hub import ResolvedModel


class Executor:
    """Where one run translates and scores; a context manager (a Ray executor's actors
    live until it closes)."""

    def __init__(self, scale: Scale, pool: EnginePool) -> None:
        self.scale = scale
        self.pool = pool  # the driver's engines (local translation, back-translations)
        self.ray = RayPool(scale) if scale.executor == "ray" else None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.ray is not None:
            self.ray.close()

    @property
    def loads(self) -> int:
        """Models loaded in this run: by the driver, and by every Ray actor."""
        return self.pool.loads + (self.ray.loads if self.ray is not None else 0)

    def translate(self, texts: Sequence[str], target: str, model: ResolvedModel, store: Store,
                  reporter: Reporter | None = None, label: str | None = None) -> CachedResult:
        """:func:`~workflow.translation.cache.translate_cached`, here or on Ray."""
        if self.ray is not None:
            return self.ray.translate(texts, target, model, store, self.pool.settings, reporter or self.pool.reporter, label)
        return translate_cached(texts, target, model, store, self.pool, reporter, label=label)

    def score(self, sources: Sequence[str], outputs: Sequence[str], target: str, settings: Checks, *,
              glossary: Glossary | None = None, seg_ids: Sequence[str] | None = None,
              logprobs: Sequence[float | None] | None = None,
              backtranslate: Callable[[list[str], str], list[str]] | None = None, reporter: Reporter | None = None,
              other: Mapping[str, Sequence[str]] | None = None) -> list[SegmentVerdict]:
        """:func:`~workflow.scoring.score.score_segments`, here or on Ray, part by part; the
        learned scorer's review budget is drawn over the whole call, as ``score_segments``
        draws it over its list."""
        n = len(sources)
        if len(outputs) != n:
            raise ValueError(f"{n} sources but {len(outputs)} translations")
        reporter = reporter or Reporter()
        seg_ids = list(seg_ids) if seg_ids is not None else [str(i + 1) for i in range(n)]
        logprobs = list(logprobs) if logprobs is not None else [None] * n
        back = backtranslations(list(outputs), backtranslate)  # on the driver: the reverse model's cache is its store
        parts = [ScorePart(list(sources[s:s + SCORE_PART]), list(outputs[s:s + SCORE_PART]), seg_ids[s:s + SCORE_PART],
                           logprobs[s:s + SCORE_PART], back[s:s + SCORE_PART] if backtranslate is not None else None,
                           {t: list(texts[s:s + SCORE_PART]) for t, texts in (other or {}).items() if t != target})
                 for s in range(0, n, SCORE_PART)]
        scored: dict[int, list[SegmentVerdict]] = {}
        notes: dict[str, None] = {}  # each note once, however many parts said it
        where = " on Ray" if self.ray is not None else ""
        with reporter.bar(f"Scoring EN->{target.upper()}{where}", n) as bar:
            if self.ray is not None:
                done = self.ray.score_parts(parts, target, settings, glossary, bar.advance)
            else:
                done = ((k, *score_part(p, target, settings, glossary)) for k, p in enumerate(parts))
            for k, verdicts, said in done:
                scored[k] = verdicts
                notes.update(dict.fromkeys(said))
                if self.ray is None:
                    bar.advance(len(verdicts))
        for note in notes:
            reporter.info(note)
        verdicts = [v for k in range(len(parts)) for v in scored[k]]
        learned = [i for i, v in enumerate(verdicts) if v.scorer == "model"]
        flags = budget_flags([verdicts[i].weak_score for i in learned], settings.review_budget, settings.flag_probability)
        for i, flag in zip(learned, flags):
            verdicts[i] = dataclasses.replace(verdicts[i], flagged=verdicts[i].flagged or flag)  # flagged in its part: stays
        return verdicts
