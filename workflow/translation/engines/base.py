"""The engine base class: what every engine shares, whatever library decodes.

An :class:`Engine` wraps one loaded model and translates for any target the model
supports (both targets of ``opus-mt-tc-big-en-zle`` share one engine). A concrete engine
(:mod:`~workflow.translation.engines.transformers`, :mod:`~workflow.translation.engines.ctranslate2`)
provides tokenisation and the decoding of one batch; this module does the rest:
length-sorted batching, the decoding length limit (a function of each source's own length
bucket, and batches never mix buckets, so a sentence translates the same beside any
others), splitting sentences longer than the model's limit (never silent
truncation) and joining their pieces, the per-segment model confidence (mean token
log-probability of the output, end-of-sentence token included) and the choice of device
(:func:`device_for`). It imports no concrete engine.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from workflow.core.config import TranslationSettings
from workflow.core.errors import ConfigError
from workflow.core.records import Translation
from workflow.translation.families import ModelFamily
from workflow.translation.hub import ResolvedModel

Progress = Callable[[int], None]  # called with the number of sentences just finished


def length_bucket(n: int) -> int:
    """The top of the length bucket of a source of ``n`` tokens: ``n`` rounded up to a
    multiple of 8 up to 64 tokens, then of an eighth of its power of two (16 from 65
    tokens, 32 from 129 ...): at most 7 tokens more than the source's own length up to 64,
    at most 25 % more beyond, with few buckets (4 per doubling of length beyond 64) to cut batches at."""
    width = max(8, 1 << max(0, (n - 1).bit_length() - 3))
    return -(-n // width) * width


def fill_batches(order: Sequence[int], lengths: Sequence[int], fits: Callable[[list[int], int], bool]) -> list[list[int]]:
    """``order`` (longest first) cut into consecutive batches: index ``k`` joins the current
    batch while ``fits(batch, k)`` and its length bucket is the batch's; a new batch starts
    otherwise. Batches never mix buckets, so one decoding limit serves all of a batch."""
    out: list[list[int]] = []
    cur: list[int] = []
    for k in order:
        if cur and (length_bucket(lengths[k]) != length_bucket(lengths[cur[0]]) or not fits(cur, k)):
            out.append(cur)
            cur = []
        cur.append(k)
    if cur:
        out.append(cur)
    return out


@dataclass(frozen=True)
class _Plan:
    """How one list of texts is translated: which piece belongs to which text, in batches."""

    n_texts: int
    owner: list[int]  # piece -> index of its text
    batches: list[list[int]]  # piece indices, longest first
    batch_texts: list[list[str]]


def device_for(setting: str, cuda_devices: Callable[[], int]) -> str:
    """The device for ``decoding.device``: ``auto`` is ``cuda`` when ``cuda_devices()`` (the
    engine's library's CUDA device count) finds one, else ``cpu``; ``cuda`` without a CUDA
    device is a ConfigError (said before any model is loaded)."""
    try:
        found = cuda_devices() if setting in ("auto", "cuda") else 0
    except Exception:  # noqa: BLE001 - a CPU-only build may raise instead of returning 0
        found = 0
    if setting == "cuda" and found < 1:
        raise ConfigError('key \'decoding.device\' is "cuda", but no CUDA device is visible to the engine\'s library',
                          hint='Set device = "auto" (or "cpu") under [decoding] in config.toml, or check the GPU driver.')
    if setting != "auto":
        return setting
    return "cuda" if found > 0 else "cpu"


class Engine(ABC):
    name = "?"  # the ``engine`` setting that selects it

    def __init__(self, model: ResolvedModel, settings: TranslationSettings) -> None:
        self.model = model
        self.settings = settings
        self.decoding = settings.decoding
        self.family: ModelFamily = model.family()

    # --- what a concrete engine provides
    @abstractmethod
    def count_tokens(self, texts: Sequence[str], target: str) -> list[int]:
        """Source length in model tokens, including the target token and end marker."""

    @abstractmethod
    def max_source_tokens(self) -> int:
        """The longest source the model accepts."""

    @abstractmethod
    def _translate_batch(self, texts: Sequence[str], target: str) -> list[Translation]:
        """Translate one batch of sources that all fit the model's limit."""

    def _translate_batches(self, batches: list[list[str]], target: str) -> Iterator[list[Translation]]:
        """Results of the batches, in order. Here each batch is translated when its result is
        read; an engine that decodes in the background (CTranslate2) queues them all at once."""
        for texts in batches:
            yield self._translate_batch(texts, target)

    @classmethod
    def cache_settings(cls, settings: TranslationSettings) -> dict:
        """Everything that changes the output, for the cache key (known without a model)."""
        return {"beam_size": settings.decoding.beam_size, "max_length_ratio": settings.decoding.max_length_ratio}

    def batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """``decoding.batch_size`` sources a batch at most, over the length-sorted order,
        cut where the length bucket changes (:func:`fill_batches`)."""
        bs = self.decoding.batch_size
        return fill_batches(order, lengths, lambda batch, k: len(batch) < bs)

    def max_new_tokens(self, source_tokens: int) -> int:
        """The decoding length limit of a source of ``source_tokens`` tokens (target token and
        end marker included): ``max_length_ratio`` times the top of its length bucket, plus
        10, at most the model's limit. It depends on the source alone: its batch holds
        only sources of its bucket (:func:`fill_batches`), whatever else is being translated."""
        return min(self.max_source_tokens(), int(self.decoding.max_length_ratio * length_bucket(source_tokens)) + 10)

    # --- shared behaviour
    def check_target(self, target: str) -> None:
        if not self.family.supports(target):
            raise ConfigError(
                f"model {self.model.ref.id!r} ({self.family.name}) cannot translate into {target!r}",
                hint="Choose a model for that target under [models] in config.toml.",
            )

    def translate(self, texts: Sequence[str], target: str, progress: Progress | None = None) -> list[Translation]:
        """Translate ``texts`` (in order) into ``target``. Empty strings stay empty."""
        return next(self.translate_chunks([texts], target, progress))

    def translate_chunks(self, chunks: Iterable[Sequence[str]], target: str,
                         progress: Progress | None = None) -> Iterator[list[Translation]]:
        """Translate several lists of texts, yielding each list's translations in turn (the
        caller stores one before the next is finished). The next list is started before this
        one is handed back: an engine that decodes in the background (CTranslate2) keeps its
        translators busy meanwhile, instead of waiting at every list (10-15 % of throughput
        on 2 cores); for the others starting is only planning."""
        self.check_target(target)
        pending = None
        for texts in chunks:
            plan = self._plan(texts, target)
            started = (plan, self._translate_batches(plan.batch_texts, target))
            if pending is not None:
                yield self._finish(*pending, progress)
            pending = started
        if pending is not None:
            yield self._finish(*pending, progress)

    def _plan(self, texts: Sequence[str], target: str) -> _Plan:
        """Split what exceeds the model's limit, sort by length, cut into batches."""
        limit = self.max_source_tokens()
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            parts = self._fit(text, target, limit) if text.strip() else []
            pieces.extend(parts)
            owner.extend([i] * len(parts))
        lengths = self.count_tokens(pieces, target) if pieces else []
        order = sorted(range(len(pieces)), key=lambda k: -lengths[k])
        batches = self.batches(order, lengths)
        return _Plan(len(texts), owner, batches, [[pieces[k] for k in b] for b in batches])

    @staticmethod
    def _finish(plan: _Plan, outputs: Iterable[list[Translation]], progress: Progress | None) -> list[Translation]:
        """Put batch outputs back in input order and join the pieces of split sentences.
        ``progress`` hears of each text once, with the batch that held its last piece (the
        pieces of a split text may sit in different batches)."""
        results: list[Translation | None] = [None] * len(plan.owner)
        left = Counter(plan.owner)  # text -> pieces not translated yet
        for batch, out in zip(plan.batches, outputs):
            finished = 0
            for k, t in zip(batch, out):
                results[k] = t
                left[plan.owner[k]] -= 1
                finished += left[plan.owner[k]] == 0
            if progress and finished:
                progress(finished)
        mine: list[list[Translation | None]] = [[] for _ in range(plan.n_texts)]
        for k, i in enumerate(plan.owner):  # pieces are in sentence order
            mine[i].append(results[k])
        return [_join(m) for m in mine]

    def _fit(self, text: str, target: str, limit: int) -> list[str]:
        """Split a too-long source at clause, then word boundaries until each piece fits."""
        if self.count_tokens([text], target)[0] <= limit:
            return [text]
        for pattern in (r"(?<=[;:])\s+", r"(?<=,)\s+", r"(?<=[–—-])\s+|\s+(?=[–—])", r"\s+"):
            parts = [p for p in re.split(pattern, text) if p]
            if len(parts) < 2:
                continue
            chunks = _greedy_pack(parts, lambda s: self.count_tokens([s], target)[0], limit)
            if all(self.count_tokens([c], target)[0] <= limit for c in chunks):
                return chunks
        # a single "word" longer than the limit: cut it by characters
        step = max(1, len(text) // (self.count_tokens([text], target)[0] // limit + 1))
        return [text[i : i + step] for i in range(0, len(text), step)]


def _greedy_pack(parts: list[str], count: Callable[[str], int], limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in parts:
        trial = f"{current} {part}" if current else part
        if current and count(trial) > limit:
            chunks.append(current)
            current = part
        else:
            current = trial
    if current:
        chunks.append(current)
    return chunks


def _join(parts: list[Translation | None]) -> Translation:
    parts = [p for p in parts if p is not None]
    if not parts:
        return Translation("", None, 0)
    if len(parts) == 1:
        return parts[0]
    n = sum(p.n_tokens for p in parts)
    lp = [p.logprob * p.n_tokens for p in parts if p.logprob is not None]
    return Translation(
        " ".join(p.text for p in parts if p.text),
        (sum(lp) / n) if lp and n else None,
        n,
        split=True,
    )
