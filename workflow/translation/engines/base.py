"""Translate: engines that turn English sentences into a target language.

An :class:`Engine` wraps one loaded model and translates for any target the model
supports (both targets of ``opus-mt-tc-big-en-zle`` share one engine). Engines register
under a name (``@register_engine``); the transformers engine is the reference, the
CTranslate2 engine (``workflow.translation.engines.ctranslate2``) the fast path.

Common behaviour lives in the base class: length-sorted batching, splitting sentences
longer than the model's limit (never silent truncation), and the per-segment model
confidence (mean token log-probability of the output, end-of-sentence token included).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from workflow.core.config import Config, Decoding
from workflow.core.errors import ConfigError, WorkflowError
from workflow.translation.hub import ModelFamily, ResolvedModel
from workflow.core.registry import Registry

Progress = Callable[[int], None]  # called with the number of sentences just finished


@dataclass(frozen=True)
class _Plan:
    """How one list of texts is translated: which piece belongs to which text, in batches."""

    n_texts: int
    owner: list[int]  # piece -> index of its text
    batches: list[list[int]]  # piece indices, longest first
    batch_texts: list[list[str]]


@dataclass(frozen=True)
class Translation:
    text: str
    logprob: float | None  # mean log-probability per output token (higher = more confident)
    n_tokens: int  # output tokens scored
    split: bool = False  # the source exceeded the model's limit and was translated in pieces


ENGINES = Registry("engine")
register_engine = ENGINES.register  # @register_engine("transformers") class TransformersEngine(Engine): ...


class Engine(ABC):
    name = "?"

    def __init__(self, model: ResolvedModel, decoding: Decoding, config: Config) -> None:
        self.model = model
        self.decoding = decoding
        self.config = config
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
    def cache_settings(cls, config: Config) -> dict:
        """Everything that changes the output, for the cache key (known without a model)."""
        return {"beam_size": config.decoding.beam_size, "max_length_ratio": config.decoding.max_length_ratio}

    def batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        bs = self.decoding.batch_size
        return [order[i : i + bs] for i in range(0, len(order), bs)]

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
        """Put batch outputs back in input order and join the pieces of split sentences."""
        results: list[Translation | None] = [None] * len(plan.owner)
        for batch, out in zip(plan.batches, outputs):
            for k, t in zip(batch, out):
                results[k] = t
            if progress:
                # report finished source sentences, not pieces
                progress(len({plan.owner[k] for k in batch}))
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


def device_for(setting: str) -> str:
    if setting != "auto":
        return setting
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover
        return "cpu"


@register_engine("transformers")
class TransformersEngine(Engine):
    """Reference engine: ``AutoModelForSeq2SeqLM.generate()`` (transformers 5 has no
    translation pipeline). Loads safetensors; pickle only when ``allow_pickle`` is set."""

    def __init__(self, model: ResolvedModel, decoding: Decoding, config: Config) -> None:
        super().__init__(model, decoding, config)
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "max_new_tokens and max_length both set" on every batch

        weights = model.weights(allow_pickle=config.allow_pickle)
        self.device = device_for(decoding.device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model.folder), **self.family.tokenizer_kwargs())
            self.net = AutoModelForSeq2SeqLM.from_pretrained(
                str(model.folder), use_safetensors=weights.name.startswith("model.safetensors")
            )
        except (OSError, ValueError) as e:
            raise WorkflowError(f"{model.folder}: cannot load model ({str(e).splitlines()[0][:300]})") from None
        self.net.to(self.device).eval()
        self.torch = torch

    def count_tokens(self, texts, target):
        enc = self.tokenizer([self.family.source_text(t, target) for t in texts], add_special_tokens=True)
        return [len(ids) for ids in enc["input_ids"]]

    def max_source_tokens(self) -> int:
        limits = [getattr(self.net.config, "max_position_embeddings", None), getattr(self.tokenizer, "model_max_length", None)]
        return min(int(x) for x in limits if x and x < 10**7) if any(x and x < 10**7 for x in limits) else 512

    def _forced_bos(self, target: str) -> int | None:
        prefix = self.family.target_prefix(target)
        return None if prefix is None else self.tokenizer.convert_tokens_to_ids(prefix)

    def _translate_batch(self, texts, target):
        torch = self.torch
        enc = self.tokenizer([self.family.source_text(t, target) for t in texts], return_tensors="pt", padding=True)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        src_len = int(enc["attention_mask"].sum(dim=1).max())
        max_new = min(self.max_source_tokens(), int(self.decoding.max_length_ratio * src_len) + 10)
        forced = self._forced_bos(target)
        kwargs = dict(num_beams=self.decoding.beam_size, do_sample=False, max_new_tokens=max_new,
                      output_scores=True, return_dict_in_generate=True)
        if forced is not None:
            kwargs["forced_bos_token_id"] = forced
        with torch.inference_mode():
            out = self.net.generate(**enc, **kwargs)
            beam_indices = getattr(out, "beam_indices", None) if self.decoding.beam_size > 1 else None
            trans = self.net.compute_transition_scores(out.sequences, out.scores, beam_indices, normalize_logits=beam_indices is None)
        seqs = out.sequences[:, 1:]  # drop the decoder start token
        pad = self.net.config.pad_token_id
        eos = self.net.config.eos_token_id
        skip_first = 1 if forced is not None else 0  # the forced language token is not the model's choice
        results = []
        for row in range(seqs.shape[0]):
            ids = seqs[row].tolist()
            scores = trans[row].tolist()
            keep = []
            for pos, tok in enumerate(ids):
                if pos < skip_first:
                    continue
                if tok == pad and tok != eos:
                    break
                keep.append(scores[pos])
                if tok == eos:
                    break
            finite = [s for s in keep if s > float("-inf")]
            text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
            results.append(Translation(text, (sum(finite) / len(finite)) if finite else None, len(finite)))
        return results


def engine_class(name: str) -> type[Engine]:
    if name == "ctranslate2":
        try:
            import ctranslate2  # noqa: F401  (the engine needs the package, not just our module)

            from workflow.translation.engines import ctranslate2  # noqa: F401  (registers the engine)
        except ImportError as e:
            raise ConfigError(f"engine {name!r} is not installed ({e})", hint="pip install ctranslate2, or set engine = \"transformers\".") from None
    try:
        return ENGINES[name]
    except KeyError:
        raise ConfigError(f"engine {name!r} is not available", hint=f"Known engines: {', '.join(ENGINES)}.") from None


def load_engine(model: ResolvedModel, config: Config) -> Engine:
    return engine_class(config.engine)(model, config.decoding, config)
