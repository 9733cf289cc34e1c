"""Cached translation: consult the store first, load a model only for what is missing.

Engines are created lazily through a shared :class:`EnginePool`, so a rerun on an
unchanged corpus never loads a model, and both targets of one multi-target model share
one loaded engine. Missing sentences are translated in chunks, each committed to the
store before the next begins: a killed run loses at most one chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from workflow.core.config import Config, Decoding
from workflow.translation.hub import ResolvedModel
from workflow.core.progress import Reporter
from workflow.core.store import CacheKey, Store
from workflow.translation.engines.base import Engine, Translation, engine_class, load_engine


@dataclass
class EnginePool:
    config: Config
    reporter: Reporter = field(default_factory=Reporter)
    engines: dict[tuple[str, Decoding], Engine] = field(default_factory=dict)
    loads: int = 0  # how many models were loaded (tests: 0 on a cached rerun)

    def config_for(self, decoding: Decoding | None) -> Config:
        return self.config if decoding is None else dataclasses.replace(self.config, decoding=decoding)

    def get(self, model: ResolvedModel, decoding: Decoding | None = None) -> Engine:
        """The engine of ``model`` with the pool's decoding settings (or ``decoding``: the
        round-trip check back-translates greedily), loaded once."""
        config = self.config_for(decoding)
        key = (model.key, config.decoding)
        if key not in self.engines:
            with self.reporter.spinner(f"Loading model {model.ref.id} ({config.engine})"):
                self.engines[key] = load_engine(model, config)
            self.loads += 1
        return self.engines[key]


def cache_key(model: ResolvedModel, config: Config, target: str) -> CacheKey:
    settings = engine_class(config.engine).cache_settings(config)
    return CacheKey.make(model.ref.id, model.revision, config.engine, settings, target)


@dataclass(frozen=True)
class CachedResult:
    translations: list[Translation]
    cached: list[bool]


def translate_cached(
    texts: Sequence[str],
    target: str,
    model: ResolvedModel,
    store: Store,
    pool: EnginePool,
    reporter: Reporter | None = None,
    label: str | None = None,
    decoding: Decoding | None = None,
) -> CachedResult:
    """Translations of ``texts`` from the store, translating (and storing) only what is
    missing. ``decoding`` overrides the configured decoding settings (part of the key)."""
    reporter = reporter or pool.reporter
    config = pool.config_for(decoding)
    key = cache_key(model, config, target)
    found = store.get_translations(key, [t for t in texts if t.strip()])
    missing = list(dict.fromkeys(t for t in texts if t.strip() and t not in found))
    if missing:
        engine = pool.get(model, decoding)
        chunk = config.decoding.chunk
        with reporter.bar(label or f"Translating EN->{target.upper()}", len(missing)) as bar:
            # longest first across all parts (characters as a proxy for tokens), so each part's
            # batches hold sentences of like length, as if the whole list were sorted at once
            by_length = sorted(missing, key=len, reverse=True)
            parts = [by_length[start : start + chunk] for start in range(0, len(by_length), chunk)]
            # each part is committed as soon as it is done (a killed run resumes from there);
            # the engine may already be translating the next part meanwhile
            for part, out in zip(parts, engine.translate_chunks(parts, target, progress=bar.advance)):
                store.put_translations(key, [(s, t.text, t.logprob, t.n_tokens, t.split) for s, t in zip(part, out)])
        found = store.get_translations(key, [t for t in texts if t.strip()])
    new = set(missing)
    result: list[Translation] = []
    cached: list[bool] = []
    for t in texts:
        if not t.strip():
            result.append(Translation("", None, 0))
            cached.append(True)
            continue
        c = found[t]
        result.append(Translation(c.text, c.logprob, c.n_tokens, c.split))
        cached.append(t not in new)
    return CachedResult(result, cached)
