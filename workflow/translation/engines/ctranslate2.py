"""CTranslate2 engine: the fast path, same outputs and confidence scale as the reference.

The configured Hugging Face model is converted once into
``<ctranslate2.cache_dir>/<model key>-<compute type>`` and reused. Conversion is
crash-safe: it writes into a temporary sibling folder, marks it valid, then renames it
into place; a folder without the marker is never used (it is removed and redone). A
file lock serialises two processes converting the same model; if locking is not
available, the loser of the final rename simply uses the winner's folder.

Model-family quirks come from the same registry as the transformers engine
(:mod:`workflow.translation.families`: ``family.source_text`` adds ``>>bel<<`` for
multi-target Marian models, ``family.target_prefix`` gives the forced NLLB / M2M-100
language token).

This module imports ``ctranslate2`` at its top: :func:`workflow.translation.engines.engine_class`
imports it only when the ``ctranslate2`` engine is configured, and turns a missing
package into a :class:`ConfigError`.

Measured facts the code relies on (ctranslate2 4.8.5, checked in
tests/unit/translation/test_ctranslate2.py):

* With ``length_penalty=1`` (greedy or beam) ``TranslationResult.scores`` is the sum of
  the token log-probabilities, end token included, target prefix excluded, divided by
  the number of tokens *including* the prefix and the end token. The engine converts it
  back to the reference scale: mean log-probability per output token, end token
  included, forced language token excluded.
* ``max_decoding_length`` counts the target prefix. The ct2 Marian conversion has no
  ``forced_eos_token_id``: where transformers forces ``</s>`` as the last token at the
  length limit (log-probability 0), ct2 stops one token earlier without it. So ct2 gets
  one step less and the forced end token is counted with log-probability 0.
* ct2 drops ``</s>`` from hypotheses unless ``return_end_token=True`` (used here, then
  stripped, so ``n_tokens`` knows whether the model ended the sentence itself).

Tokenizer: :mod:`workflow.translation.subwords` reproduces transformers' Marian and NLLB tokenizers
without importing transformers (which imports torch: 2-4 s and ~200 MB); other tokenizers
(M2M-100, anything it does not reproduce exactly) go through transformers' AutoTokenizer.
Only a missing conversion imports transformers and torch (once per model).

Threads: ``inter_threads`` batches run in parallel, each on ``intra_threads`` cores. On
the 2-core development machine ``inter=2, intra=1`` was the fastest layout for batched
greedy and beam decoding (see bench/README.md); the default for ``0`` is therefore as
many parallel batches as cores (at most 4) with the remaining cores shared inside them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import ctranslate2

try:
    import fcntl  # POSIX file locks for concurrent conversions
except ImportError:  # pragma: no cover - not POSIX: conversions rely on the atomic rename
    fcntl = None

from workflow.core.config import TranslationSettings
from workflow.core.errors import WorkflowError
from workflow.core.records import Translation
from workflow.translation.engines.base import Engine, device_for, fill_batches
from workflow.translation.hub import ResolvedModel
from workflow.translation.subwords import Subwords, load_subwords

VALID_MARKER = ".workflow-valid"


# ---------------------------------------------------------------- settings


def cuda_devices() -> int:
    """CUDA devices CTranslate2 can use (for :func:`device_for`)."""
    return ctranslate2.get_cuda_device_count()


def resolve_compute_type(setting: str, device: str) -> str:
    """``auto``: int8 on CPU; int8_float16 (else float16) on CUDA; float32 if unsupported."""
    if setting != "auto":
        return setting
    supported = set(ctranslate2.get_supported_compute_types(device))
    prefs = ("int8_float16", "float16", "int8", "float32") if device == "cuda" else ("int8", "int8_float32", "float32")
    return next((c for c in prefs if c in supported), "default")


def cpu_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def thread_layout(inter: int, intra: int, device: str, cores: int | None = None) -> tuple[int, int]:
    """Threads for ``0`` (auto). CPU: parallel batches = min(cores, 4), the rest of the
    cores inside each batch (2 cores -> 2 x 1, measured 1.8x faster than 1 x 2). CUDA: one
    batch at a time per device, a few CPU threads for the host side."""
    cores = cores or cpu_cores()
    if device == "cuda":
        return (inter or 1, intra or min(4, cores))
    inter = inter or min(cores, 4)
    intra = intra or max(1, cores // inter)
    return inter, intra


MIN_BATCHES = 2  # a list is cut into at least this many batches (see CT2Engine.batches)
def batching(setting: str, examples: int, tokens: int) -> tuple[str, int]:
    """(``"tokens"``, padded source tokens per batch) or (``"examples"``, sentences per
    batch). Tokens is the default on every shape: on random-weight models of the real
    shapes, raw CTranslate2 was fastest with token batches on transformer-big and base
    alike, and the engine's 2,048-token batches were as fast as or faster than 32-example
    ones (bench/README.md, "Engine batching")."""
    return (setting, examples if setting == "examples" else tokens)


def safe_name(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:80]
    return f"{slug}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


# ---------------------------------------------------------------- conversion


def converted_folder(model: ResolvedModel, cache_dir: Path, quantization: str) -> Path:
    return cache_dir / f"{safe_name(model.key)}-{quantization}"


def is_valid(folder: Path) -> bool:
    return (folder / VALID_MARKER).is_file() and (folder / "model.bin").is_file()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - not POSIX: rely on the atomic rename
        yield
        return
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX)
        except OSError:  # e.g. a file system without locks: rely on the atomic rename
            pass
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(f, fcntl.LOCK_UN)


def ensure_converted(model: ResolvedModel, cache_dir: Path, quantization: str, *, converter=None) -> Path:
    """The converted model folder, converting on first use (crash-safe, see module doc)."""
    final = converted_folder(model, cache_dir, quantization)
    if is_valid(final):
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir / (final.name + ".lock")):
        if is_valid(final):  # another process converted it while we waited
            return final
        # leftovers of a crashed conversion: never used, removed
        for stale in cache_dir.glob(final.name + ".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        tmp = cache_dir / f"{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            (converter or _convert)(model, tmp, quantization)
            (tmp / VALID_MARKER).write_text(
                json.dumps({"model": model.key, "quantization": quantization, "created": time.time(),
                            "ctranslate2": ctranslate2.__version__}),
                encoding="utf-8",
            )
            try:
                os.replace(tmp, final)
            except OSError:
                if not is_valid(final):  # not someone else's finished conversion
                    raise
        except Exception as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, WorkflowError):
                raise
            raise WorkflowError(f"{model.ref.id}: conversion to CTranslate2 failed ({type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''})") from None
        finally:
            if tmp.exists() and is_valid(final):
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def _convert(model: ResolvedModel, out: Path, quantization: str) -> None:
    # here: only a missing conversion needs the converter, which loads the model with
    # transformers (and torch); a converted model translates without either
    from ctranslate2.converters import TransformersConverter
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    quant = None if quantization in ("default", "float32") else quantization
    TransformersConverter(str(model.folder)).convert(str(out), quantization=quant, force=True)


# ---------------------------------------------------------------- engine


class CT2Engine(Engine):
    """``ctranslate2.Translator`` over a converted copy of the configured model."""

    name = "ctranslate2"

    # bench only: force every output to exactly this many tokens (comparable runs)
    fixed_output_tokens: int | None = None

    def __init__(self, model: ResolvedModel, settings: TranslationSettings) -> None:
        super().__init__(model, settings)
        model.weights(allow_pickle=settings.allow_pickle)  # refuses pickle checkpoints unless allowed
        ct2 = settings.ctranslate2
        self.device = device_for(self.decoding.device, cuda_devices)
        self.compute_type = resolve_compute_type(ct2.compute_type, self.device)
        self.inter_threads, self.intra_threads = thread_layout(ct2.inter_threads, ct2.intra_threads, self.device)
        self.batching = batching(ct2.batch_type, ct2.batch_examples, self.decoding.batch_tokens)
        try:  # torch-free when workflow.translation.subwords reproduces the tokenizer, else transformers'
            self.tokenizer: Subwords = load_subwords(model.folder, self.family.name, **self.family.tokenizer_kwargs())
        except Exception as e:  # noqa: BLE001 - tokenizer libraries raise TypeError, OSError ... for a bad folder
            first = str(e).splitlines()[0][:300] if str(e) else ""
            raise WorkflowError(f"{model.folder}: cannot load tokenizer ({type(e).__name__}: {first})",
                                hint="Copy or download the whole model folder again.") from None
        self.folder = ensure_converted(model, Path(ct2.cache_dir), self.compute_type)
        try:
            self.translator = ctranslate2.Translator(
                str(self.folder), device=self.device, compute_type=self.compute_type,
                inter_threads=self.inter_threads, intra_threads=self.intra_threads,
            )
        except (RuntimeError, ValueError) as e:
            raise WorkflowError(f"{self.folder}: cannot load converted model ({str(e).splitlines()[0][:300]})") from None
        self._templates: dict[str, tuple[str, ...]] = {}
        self._checked: set[str] = set()
        self._memo: dict[str, dict[str, list[int]]] = {}
        cfg = self.family.config
        gen = _read_json(model.folder / "generation_config.json")
        eos_id = gen.get("eos_token_id", cfg.get("eos_token_id"))
        forced = gen.get("forced_eos_token_id", cfg.get("forced_eos_token_id"))
        self.forced_eos = forced is not None and forced == eos_id
        self.eos_token = self.tokenizer.ids_to_tokens([eos_id])[0] if isinstance(eos_id, int) else "</s>"

    @classmethod
    def cache_settings(cls, settings: TranslationSettings) -> dict:
        device = device_for(settings.decoding.device, cuda_devices)
        return {**super().cache_settings(settings),
                "compute_type": resolve_compute_type(settings.ctranslate2.compute_type, device)}

    def check_target(self, target: str) -> None:
        if target not in self._checked:  # once per target (the family scans its vocabulary)
            super().check_target(target)
            self._checked.add(target)

    # --- tokens (memoised: the base class counts each text, then all; ct2 needs them again)
    def _source_text(self, text: str, target: str) -> str:
        """``family.source_text`` through a per-target template (the Marian family scans
        its whole vocabulary on every call, 0.2 s at 61k entries)."""
        template = self._templates.get(target)
        if template is None:
            t = self.family.source_text("\x00", target)
            template = self._templates[target] = tuple(t.split("\x00")) if t.count("\x00") == 1 else ()
        return template[0] + text + template[1] if template else self.family.source_text(text, target)

    def _ids(self, texts: Sequence[str], target: str) -> list[list[int]]:
        memo = self._memo.setdefault(target, {})
        if len(memo) > 50_000:  # bounded: a run translates chunk by chunk
            memo.clear()
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            memo.update(zip(missing, self.tokenizer.encode([self._source_text(t, target) for t in missing])))
        return [memo[t] for t in texts]

    def count_tokens(self, texts, target):
        return [len(ids) for ids in self._ids(texts, target)]

    def max_source_tokens(self) -> int:
        limits = [self.family.config.get("max_position_embeddings"), self.tokenizer.model_max_length]
        ok = [int(x) for x in limits if x and x < 10**7]
        return min(ok) if ok else 512

    def batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Batches over the length-sorted order (longest first), by :func:`batching`:
        ``batch_examples`` sentences, or a budget of ``batch_tokens`` padded source tokens;
        either is lowered so that even a short list gives ``MIN_BATCHES`` batches, for
        parallel translators (a constant, not the thread count: the same list gives the
        same batches on every machine). Cut where the length bucket changes
        (:func:`~workflow.translation.engines.base.fill_batches`), so a sentence's decoding
        limit is its own, whatever it is translated with."""
        if not order:
            return []
        kind, limit = self.batching
        if kind == "examples":
            size = max(1, min(limit, math.ceil(len(order) / MIN_BATCHES)))
            return fill_batches(order, lengths, lambda batch, k: len(batch) < size)
        padded_total = sum(lengths[k] for k in order)
        budget = max(1, min(limit, math.ceil(padded_total / MIN_BATCHES)))
        # the order is longest first (Engine.translate), so a batch is as wide as its first source
        return fill_batches(order, lengths, lambda batch, k: lengths[batch[0]] * (len(batch) + 1) <= budget)

    # --- decoding
    def _source_tokens(self, texts: Sequence[str], target: str) -> list[list[str]]:
        return [self.tokenizer.ids_to_tokens(ids) for ids in self._ids(texts, target)]

    def _options(self, sources: list[list[str]]) -> dict:
        max_new = self.max_new_tokens(max(len(s) for s in sources))  # one bucket per batch
        # transformers counts a forced end token among max_new_tokens; ct2 cannot force it
        max_len = max(1, max_new - (1 if self.forced_eos else 0))
        min_len = 0
        if self.fixed_output_tokens:
            max_len = min_len = self.fixed_output_tokens
        return dict(beam_size=self.decoding.beam_size, length_penalty=1.0, max_decoding_length=max_len,
                    min_decoding_length=min_len, return_scores=True, return_end_token=True, max_input_length=0)

    def _submit(self, texts: Sequence[str], target: str):
        sources = self._source_tokens(texts, target)
        prefix = self.family.target_prefix(target)
        prefixes = [[prefix] for _ in sources] if prefix else None
        results = self.translator.translate_batch(sources, prefixes, asynchronous=True, **self._options(sources))
        return results, (1 if prefix else 0)

    def _collect(self, pending) -> list[Translation]:
        results, n_prefix = pending
        out = []
        for r in results:
            res = r.result()
            tokens = list(res.hypotheses[0])
            score = res.scores[0]
            ended = bool(tokens) and len(tokens) > n_prefix and tokens[-1] == self.eos_token
            norm_len = len(tokens)  # prefix and end token included: ct2's length normalisation
            total = score * norm_len  # sum of log-probs (end token in, prefix out)
            body = tokens[:-1] if ended else tokens
            n = len(tokens) - n_prefix
            if not ended and self.forced_eos:
                n += 1  # transformers forces </s> here with log-probability 0
            text = self.tokenizer.decode(self.tokenizer.tokens_to_ids(body)).strip()
            out.append(Translation(text, (total / n) if n > 0 else None, max(n, 0)))
        return out

    def _translate_batch(self, texts, target):
        return self._collect(self._submit(texts, target))

    def _translate_batches(self, batches, target):
        # every batch is queued now (not when the results are first read), so the
        # ``inter_threads`` translators work in parallel and translate_chunks can queue the
        # next list before collecting this one; results are handed back in order
        pending = [self._submit(texts, target) for texts in batches]
        return map(self._collect, pending)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
