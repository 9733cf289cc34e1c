"""Translation and scoring on a Ray cluster: Ray Data ``map_batches`` over stateful actors.

:func:`translate_on_ray` and :func:`score_on_ray` take what
:func:`workflow.translation.cache.translate_cached` and
:func:`workflow.scoring.score.score_segments` take (plus the ``[scale]`` section) and give
back the same results, so the pipeline only chooses which to call:

- translation: the driver looks the texts up in its store first and sends only what is
  missing, cut into the same longest-first parts as a local run (``decoding.chunk``
  sentences: the engine's length limit is per batch, so other parts could give other
  translations). One dataset row is one part, ``scale.batch_size`` parts go to an actor
  at a time; each of the ``scale.concurrency`` actors (:class:`TranslateActor`, ``num_gpus`` / ``num_cpus``
  each) loads the engine once and translates a part with the same engine code as a local
  run. The driver commits every part to the store as it comes back (``iter_rows``), so a
  driver killed at any point resumes with only the missing parts, and a lost worker is
  Ray's business: Ray Data restarts the actor and retries its part (``max_restarts`` and
  ``max_task_retries`` are unlimited for actor pools).
- scoring: one row is one chunk of segments, scored by :class:`ScoreActor` with the
  one scoring function; the review budget is a share of the whole run, so chunks are
  scored without it and the driver flags the weakest share of all of them, as
  ``score_segments`` does for one list.

The store, the progress bars and every decision stay on the driver; the workers need the
project installed and the model files (and the CTranslate2 conversion cache, or room to
convert) at the paths the driver resolved (README: "Many machines: Ray"). Nothing here
schedules: Ray Data does. ``ray`` is imported only when a Ray run starts (an optional
dependency: the ``ray`` extra).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa

from workflow.core.config import Checks, Scale, TranslationSettings
from workflow.core.errors import ConfigError, WorkflowError
from workflow.core.progress import Reporter
from workflow.core.records import SegmentVerdict, Translation
from workflow.core.store import Store
from workflow.scale.parts import ScorePart, score_part
from workflow.scoring.checks import Glossary
from workflow.translation.cache import CachedResult, cache_key, cached_result, longest_first_parts, lookup, store_part
from workflow.translation.engines import load_engine
from workflow.translation.hub import ResolvedModel

# ---------------------------------------------------------------- the cluster


def connect(scale: Scale):
    """The ``ray`` module, connected to ``scale.address`` (unless this process already is:
    a test or a notebook may have called ``ray.init`` itself)."""
    try:
        import ray  # optional heavy dependency (the `ray` extra): only a Ray run imports it
    except ImportError:
        raise ConfigError('[scale] executor = "ray" needs Ray, which is not installed',
                          hint="pip install -e '.[ray]' (or pip install 'ray[data]'), or set executor = \"local\".") from None
    if not ray.is_initialized():
        address = None if scale.address == "local" else scale.address
        try:
            ray.init(address=address, include_dashboard=False, logging_level="warning", log_to_driver=True)
        except ConnectionError as e:
            raise ConfigError(f"[scale] address = {scale.address!r}: no Ray cluster to connect to ({str(e).splitlines()[0][:200]})",
                              hint='Start one with `ray start --head` (on this machine, for "auto"), point address at '
                                   'its head ("ray://HOST:10001"), or use address = "local" for a Ray started for this run.') from None
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # the driver's own bars count sentences
    ctx.print_on_execution_start = False
    return ray


def _pool(ray, scale: Scale, num_gpus: float) -> dict:
    """``map_batches`` arguments of one actor pool: ``scale.batch_size`` rows (parts) per call."""
    return dict(batch_size=scale.batch_size, batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=scale.concurrency),
                num_cpus=scale.num_cpus, num_gpus=num_gpus or None)


def _rows(dataset, what: str):
    """The dataset's output rows as they come, a WorkflowError raised in an actor (a model
    that cannot be loaded, a target it cannot translate) re-raised as itself."""
    try:
        yield from dataset.iter_rows()
    except WorkflowError:
        raise
    except Exception as e:  # noqa: BLE001 - Ray wraps what an actor raised (RayTaskError, UserCodeException ...)
        cause = e
        while cause is not None and not isinstance(cause, WorkflowError):
            cause = getattr(cause, "cause", None) or cause.__cause__
        if cause is not None:
            raise cause from None
        raise WorkflowError(f"Ray: {what} failed ({type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''})") from None


# ---------------------------------------------------------------- translation


def actor_settings(settings: TranslationSettings, scale: Scale) -> TranslationSettings:
    """The engine settings of one actor: with automatic CTranslate2 threads, a CPU actor
    runs as many parallel batches as it has CPUs (``num_cpus``), not as the node has
    cores, so ``concurrency`` actors share a node without oversubscribing it."""
    ct2 = settings.ctranslate2
    if scale.num_gpus or ct2.inter_threads or ct2.intra_threads:
        return settings
    cores = max(1, round(scale.num_cpus))
    inter = min(cores, 4)  # as thread_layout does for the cores of a machine
    return dataclasses.replace(settings, ctranslate2=dataclasses.replace(ct2, inter_threads=inter, intra_threads=max(1, cores // inter)))


class TranslateActor:
    """A Ray Data actor: the engine of one model, loaded once, translating whole parts."""

    def __init__(self, model: ResolvedModel, settings: TranslationSettings, target: str, key_settings: str) -> None:
        mine = cache_key(model, settings, target).settings
        if mine != key_settings:  # e.g. compute type "auto" chose int8_float16 on a GPU worker, int8 on the driver
            raise ConfigError(f"the Ray workers' engine settings ({mine}) differ from the driver's ({key_settings}), "
                              f"so their translations would be cached under the wrong key",
                              hint='Set [ctranslate2] compute_type (e.g. "int8_float16" for GPU workers) and '
                                   '[decoding] device explicitly.')
        self.engine = load_engine(model, settings)
        self.engine.check_target(target)
        self.target = target

    def __call__(self, batch):
        parts = batch.column("part").to_pylist()
        out: dict[str, list] = {"part": [], "text": [], "logprob": [], "n_tokens": [], "split": []}
        for part, res in zip(parts, self.engine.translate_chunks(parts, self.target)):
            out["part"].append(part)
            out["text"].append([t.text for t in res])
            out["logprob"].append([t.logprob for t in res])
            out["n_tokens"].append([t.n_tokens for t in res])
            out["split"].append([t.split for t in res])
        return pa.table(out)


def translate_on_ray(
    texts: Sequence[str],
    target: str,
    model: ResolvedModel,
    store: Store,
    settings: TranslationSettings,
    scale: Scale,
    reporter: Reporter | None = None,
    label: str | None = None,
) -> CachedResult:
    """:func:`~workflow.translation.cache.translate_cached` with the engines on Ray actors:
    the same parts, the same translations, each part committed when it comes back."""
    reporter = reporter or Reporter()
    key = cache_key(model, settings, target)
    found, missing = lookup(texts, key, store)
    if missing:
        ray = connect(scale)
        parts = longest_first_parts(missing, settings.decoding.chunk)
        dataset = ray.data.from_items([{"part": p} for p in parts], override_num_blocks=len(parts)).map_batches(
            TranslateActor, fn_constructor_args=(model, actor_settings(settings, scale), target, key.settings),
            **_pool(ray, scale, scale.num_gpus))
        with reporter.bar(label or f"Translating EN->{target.upper()} on Ray", len(missing)) as bar:
            for row in _rows(dataset, f"translating EN->{target.upper()}"):
                out = [Translation(*t) for t in zip(row["text"], row["logprob"], row["n_tokens"], row["split"])]
                store_part(store, key, row["part"], out)
                bar.advance(len(row["part"]))
        found, _ = lookup(texts, key, store)
    return cached_result(texts, found, set(missing))


# ---------------------------------------------------------------- scoring


class ScoreActor:
    """A Ray Data actor: the scoring stage for one target language (the weak-spot encoder is
    built once per process, so once per actor), scoring whole parts."""

    def __init__(self, target: str, settings: Checks, glossary: Glossary | None) -> None:
        self.target, self.settings, self.glossary = target, settings, glossary

    def __call__(self, batch):
        out: dict[str, list] = {"index": [], "verdicts": [], "notes": []}
        for row in batch.to_pylist():
            part = ScorePart(**json.loads(row["part"]))
            verdicts, notes = score_part(part, self.target, self.settings, self.glossary)
            out["index"].append(row["index"])
            out["verdicts"].append(json.dumps([dataclasses.asdict(v) for v in verdicts], ensure_ascii=False))
            out["notes"].append(notes)
        return pa.table(out)


def score_parts_on_ray(parts: Sequence[ScorePart], target: str, settings: Checks, glossary: Glossary | None,
                       scale: Scale, progress: Callable[[int], None]) -> Iterator[tuple[int, list[SegmentVerdict], list[str]]]:
    """(part index, verdicts, notes) of each part, as the actors finish them (any order);
    ``progress(n)`` hears of each part's segments. A part travels as JSON: its lists hold
    ``None`` and differ in length, which Arrow columns would have to be told."""
    ray = connect(scale)
    rows = [{"index": k, "part": json.dumps(dataclasses.asdict(p), ensure_ascii=False)} for k, p in enumerate(parts)]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        ScoreActor, fn_constructor_args=(target, settings, glossary), **_pool(ray, scale, 0))
    for row in _rows(dataset, f"scoring EN->{target.upper()}"):
        verdicts = [SegmentVerdict(**v) for v in json.loads(row["verdicts"])]
        progress(len(verdicts))
        yield row["index"], verdicts, row["notes"]
