"""Translation and scoring on a Ray cluster: one pool of actors that lives for the whole run.

A :class:`RayPool` (one per run, closed when the run ends) starts ``scale.concurrency``
:class:`Worker` actors (``num_cpus`` / ``num_gpus`` each) on first use and hands them work
through Ray's own ``ray.util.ActorPool`` (Ray schedules; nothing here does). A worker loads
a model the first time it translates with it and keeps it until the run ends, so a run
loads each model once per actor, whatever its number of chunks and targets (both targets
of a multi-target model share the loaded engine); the weak-spot encoder is likewise built
once per worker process. Actors are started with unlimited ``max_restarts`` and
``max_task_retries``: a lost worker is restarted by Ray and its call retried.

- translation (:meth:`RayPool.translate`): the driver looks the texts up in its store
  first and sends only what is missing, in the same longest-first parts as a local run
  (``decoding.chunk`` sentences), ``scale.batch_size`` parts per call; it commits every
  part to the store the moment it comes back, so a driver killed at any point resumes
  with only the missing parts.
- scoring (:meth:`RayPool.score_parts`): one call scores ``batch_size`` parts of
  segments with the one scoring function, without the review budget (the caller draws it
  over the whole run).

The store, the progress bars and every decision stay on the driver; the workers need the
project installed and the model files (and the CTranslate2 conversion cache, or room to
convert) at the paths the driver resolved (README: "Many machines: Ray"). ``ray`` is
imported only when a Ray run starts (an optional dependency: the ``ray`` extra).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence

from workflow.core.config import Checks, Scale, TranslationSettings
from workflow.core.errors import ConfigError, WorkflowError
from workflow.core.progress import Reporter
from workflow.core.records import SegmentVerdict, Translation
from workflow.core.store import Store
from workflow.scale.parts import ScorePart, score_part
from workflow.scoring.checks import Glossary
from workflow.translation.cache import CachedResult, cache_key, cached_result, longest_first_parts, lookup, store_part
from workflow.translation.engines import load_engine
from workflow.translation.engines.base import Engine
from workflow.translation.hub import ResolvedModel

# ---------------------------------------------------------------- the cluster


def connect(scale: Scale):
    """The ``ray`` module, connected to ``scale.address`` (unless this process already is:
    a test or a notebook may have called ``ray.init`` itself)."""
    try:
        import ray  # optional heavy dependency (the `ray` extra): only a Ray run imports it
    except ImportError:
        raise ConfigError('[scale] executor = "ray" needs Ray, which is not installed',
                          hint="pip install -e '.[ray]' (or pip install ray), or set executor = \"local\".") from None
    if not ray.is_initialized():
        address = None if scale.address == "local" else scale.address
        try:
            ray.init(address=address, include_dashboard=False, logging_level="warning", log_to_driver=True)
        except ConnectionError as e:
            raise ConfigError(f"[scale] address = {scale.address!r}: no Ray cluster to connect to ({str(e).splitlines()[0][:200]})",
                              hint='Start one with `ray start --head` (on this machine, for "auto"), point address at '
                                   'its head ("ray://HOST:10001"), or use address = "local" for a Ray started for this run.') from None
    return ray


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


class Worker:
    """A Ray actor of the run's pool: translates with the engines it has loaded (each once)
    and scores parts. Every answer carries the actor's process id, so the driver counts
    the model loads of the run (a restarted actor is a new process and loads again)."""

    def __init__(self) -> None:
        self.engines: dict[tuple[str, str], Engine] = {}

    def translate(self, model: ResolvedModel, settings: TranslationSettings, key_settings: str, target: str,
                  k: int, parts: list[list[str]]) -> tuple[int, int, list[list[Translation]]]:
        """(``k``, this process's id, the translations of each part)."""
        mine = cache_key(model, settings, target).settings
        if mine != key_settings:  # e.g. compute type "auto" chose int8_float16 on a GPU worker, int8 on the driver
            raise ConfigError(f"the Ray workers' engine settings ({mine}) differ from the driver's ({key_settings}), "
                              f"so their translations would be cached under the wrong key",
                              hint='Set [ctranslate2] compute_type (e.g. "int8_float16" for GPU workers) and '
                                   '[decoding] device explicitly.')
        engine = self.engines.get((model.key, mine))
        if engine is None:
            engine = self.engines[(model.key, mine)] = load_engine(model, settings)
        return k, os.getpid(), list(engine.translate_chunks(parts, target))

    def score(self, target: str, settings: Checks, glossary: Glossary | None,
              parts: list[tuple[int, ScorePart]]) -> list[tuple[int, list[SegmentVerdict], list[str]]]:
        return [(k, *score_part(p, target, settings, glossary)) for k, p in parts]


class RayPool:
    """The run's actors on Ray, started on first use, killed by :meth:`close`."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.loaded: set[tuple[int, str]] = set()  # (actor pid, model key) of each model load
        self._ray = None
        self._actors: list = []
        self._pool = None  # ray.util.ActorPool over _actors
        self._shared: dict[int, tuple[Glossary | None, object]] = {}  # id(glossary) -> (it, its ObjectRef): put once per run

    @property
    def loads(self) -> int:
        """Models loaded by the actors in this run (as :attr:`EnginePool.loads` counts the driver's)."""
        return len(self.loaded)

    def _workers(self):
        if self._pool is None:
            ray = self._ray = connect(self.scale)
            cls = ray.remote(Worker).options(num_cpus=self.scale.num_cpus, num_gpus=self.scale.num_gpus or None,
                                             max_restarts=-1, max_task_retries=-1)
            self._actors = [cls.remote() for _ in range(self.scale.concurrency)]
            self._pool = ray.util.ActorPool(self._actors)
        return self._pool

    def _map(self, call: Callable, items: Iterable, what: str) -> Iterator:
        """``call(actor, item)`` for every item on the pool's actors, answers as they come.
        A WorkflowError raised in an actor (a model that cannot be loaded, a target it cannot
        translate) is re-raised as itself. A caller that stops reading (an error, Ctrl-C)
        leaves calls in flight, so the pool is then closed: the next use starts a new one."""
        pool = self._workers()
        try:
            yield from pool.map_unordered(call, list(items))
        except WorkflowError:
            self.close()
            raise
        except Exception as e:  # noqa: BLE001 - Ray wraps what an actor raised (RayTaskError ...)
            self.close()
            cause = e
            while cause is not None and not isinstance(cause, WorkflowError):
                cause = getattr(cause, "cause", None) or cause.__cause__
            if cause is not None:
                raise cause from None
            raise WorkflowError(f"Ray: {what} failed ({type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''})") from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Kill the actors (their models go with them)."""
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors, self._pool, self._shared = [], None, {}

    def translate(self, texts: Sequence[str], target: str, model: ResolvedModel, store: Store,
                  settings: TranslationSettings, reporter: Reporter | None = None, label: str | None = None) -> CachedResult:
        """:func:`~workflow.translation.cache.translate_cached` with the engines on the actors:
        the same parts, the same translations, each part committed when it comes back."""
        reporter = reporter or Reporter()
        key = cache_key(model, settings, target)
        found, missing = lookup(texts, key, store)
        if missing:
            parts = longest_first_parts(missing, settings.decoding.chunk)
            calls = [parts[s:s + self.scale.batch_size] for s in range(0, len(parts), self.scale.batch_size)]
            mine = actor_settings(settings, self.scale)

            def call(actor, k: int):
                return actor.translate.remote(model, mine, key.settings, target, k, calls[k])

            with reporter.bar(label or f"Translating EN->{target.upper()} on Ray", len(missing)) as bar:
                for k, pid, outs in self._map(call, range(len(calls)), f"translating EN->{target.upper()}"):
                    self.loaded.add((pid, model.key))
                    for part, out in zip(calls[k], outs):
                        store_part(store, key, part, out)
                        bar.advance(len(part))
            found, _ = lookup(texts, key, store)
        return cached_result(texts, found, set(missing))

    def score_parts(self, parts: Sequence[ScorePart], target: str, settings: Checks, glossary: Glossary | None,
                    progress: Callable[[int], None]) -> Iterator[tuple[int, list[SegmentVerdict], list[str]]]:
        """(part index, verdicts, notes) of each part, as the actors finish them (any order);
        ``progress(n)`` hears of each part's segments."""
        indexed = list(enumerate(parts))
        calls = [indexed[s:s + self.scale.batch_size] for s in range(0, len(indexed), self.scale.batch_size)]
        self._workers()
        if id(glossary) not in self._shared:
            self._shared[id(glossary)] = (glossary, self._ray.put(glossary))
        shared = self._shared[id(glossary)][1]
        for answers in self._map(lambda a, batch: a.score.remote(target, settings, shared, batch), calls,
                                 f"scoring EN->{target.upper()}"):
            for k, verdicts, notes in answers:
                progress(len(verdicts))
                yield k, verdicts, notes
