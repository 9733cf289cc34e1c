"""Cached translation: consult the store first, load a model only for what is missing.

Engines are created lazily through a shared :class:`EnginePool`, so a rerun on an
unchanged corpus never loads a model, and both targets of one multi-target model share
one loaded engine. Missing sentences are translated in chunks, each committed to the
store before the next begins: a killed run loses at most one chunk.
:func:`backtranslators` gives the round-trip check its cached reverse translations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.config import Decoding, ModelRef, TranslationSettings
from workflow.core.progress import Reporter
from workflow.core.records import Translation
from workflow.core.store import CacheKey, CachedTranslation, Store
from workflow.translation.engines import engine_class, load_engine
from workflow.translation.engines.base import Engine
from workflow.translation.hub import ResolvedModel, resolve_models


@dataclass
class EnginePool:
    """The loaded engines of a run, one per model and decoding setting."""

    settings: TranslationSettings
    reporter: Reporter = field(default_factory=Reporter)
    engines: dict[tuple[str, Decoding], Engine] = field(default_factory=dict)
    loads: int = 0  # how many models were loaded (tests: 0 on a cached rerun)

    def settings_for(self, decoding: Decoding | None) -> TranslationSettings:
        """The pool's settings, with ``decoding`` instead of the configured one if given."""
        return self.settings if decoding is None else dataclasses.replace(self.settings, decoding=decoding)

    def get(self, model: ResolvedModel, decoding: Decoding | None = None) -> Engine:
        """The engine of ``model`` with the pool's decoding settings (or ``decoding``: the
        round-trip check back-translates greedily), loaded once."""
        settings = self.settings_for(decoding)
        key = (model.key, settings.decoding)
        if key not in self.engines:
            with self.reporter.spinner(f"Loading model {model.ref.id} ({settings.engine})"):
                self.engines[key] = load_engine(model, settings)
            self.loads += 1
        return self.engines[key]


def cache_key(model: ResolvedModel, settings: TranslationSettings, target: str) -> CacheKey:
    engine_settings = engine_class(settings.engine).cache_settings(settings)
    return CacheKey.make(model.ref.id, model.revision, settings.engine, engine_settings, target)


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
    settings = pool.settings_for(decoding)
    key = cache_key(model, settings, target)
    found, missing = lookup(texts, key, store)
    if missing:
        engine = pool.get(model, decoding)
        parts = longest_first_parts(missing, settings.decoding.chunk)
        with reporter.bar(label or f"Translating EN->{target.upper()}", len(missing)) as bar:
            # each part is committed as soon as it is done (a killed run resumes from there);
            # the engine may already be translating the next part meanwhile
            for part, out in zip(parts, engine.translate_chunks(parts, target, progress=bar.advance)):
                store_part(store, key, part, out)
        found, _ = lookup(texts, key, store)
    return cached_result(texts, found, set(missing))


def lookup(texts: Sequence[str], key: CacheKey, store: Store) -> tuple[dict[str, CachedTranslation], list[str]]:
    """(what the store has of ``texts`` under ``key``, the distinct non-empty texts it has not)."""
    found = store.get_translations(key, [t for t in texts if t.strip()])
    return found, list(dict.fromkeys(t for t in texts if t.strip() and t not in found))


def longest_first_parts(missing: Sequence[str], size: int) -> list[list[str]]:
    """``missing`` cut into parts of ``size``, longest first across all parts (characters as
    a proxy for tokens), so each part's batches hold sentences of like length, as if the
    whole list were sorted at once. A part is what is translated and committed in one step."""
    by_length = sorted(missing, key=len, reverse=True)
    return [by_length[start : start + size] for start in range(0, len(by_length), size)]


def store_part(store: Store, key: CacheKey, part: Sequence[str], out: Sequence[Translation]) -> None:
    """Commit one part's translations (one transaction)."""
    store.put_translations(key, [(s, t.text, t.logprob, t.n_tokens, t.split) for s, t in zip(part, out)])


def cached_result(texts: Sequence[str], found: Mapping[str, CachedTranslation], new: set[str]) -> CachedResult:
    """``texts``' translations from ``found`` (a :func:`lookup`); ``cached`` is false for those in ``new``."""
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


def backtranslators(
    reverse_models: Mapping[str, ModelRef],
    targets: Iterable[str],
    *,
    base: Path,
    offline: bool,
    beam_size: int,
    store: Store,
    pool: EnginePool,
    reporter: Reporter,
) -> dict[str, Callable[[list[str], str], list[str]]]:
    """target -> ``translate(texts, "en")`` with that target's reverse model, for the
    round-trip check: cached like any translation, decoded with ``beam_size`` (the check
    back-translates greedily by default). Targets without a reverse model get none."""
    targets = set(targets)
    reverse = resolve_models(reverse_models, [t for t in reverse_models if t in targets], base=base, offline=offline)
    decoding = dataclasses.replace(pool.settings.decoding, beam_size=beam_size)
    out = {}
    for target, model in reverse.items():

        def translate(texts: list[str], lang: str, model: ResolvedModel = model, target: str = target) -> list[str]:
            res = translate_cached(texts, lang, model, store, pool, reporter,
                                   label=f"Back-translating {target.upper()}->EN", decoding=decoding)
            return [t.text for t in res.translations]

        out[target] = translate
    return out
