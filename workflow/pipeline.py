"""The whole run: corpus -> ingest -> segment -> translate -> align -> score -> write.

``run(config)`` is the library entry point behind ``workflow run``. Models are resolved
before any work starts, so a missing model ends the run in seconds with nothing written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .cached import EnginePool, translate_cached
from .config import Config
from .corpus import discover
from .errors import InputError, WorkflowError
from .export import write_outputs
from .ingest import Document, doc_id_for, read_document
from .models import ResolvedModel, resolve
from .progress import Reporter
from .score import basic_score
from .segment import Segment, segment_document
from .store import Store
from .table import Row


@dataclass
class RunResult:
    documents: list[Document]
    segments: list[Segment]
    rows: list[Row]
    problems: list[str]
    out_dir: Path
    seconds: float = 0.0
    models_loaded: int = 0
    translated: dict[str, int] = field(default_factory=dict)  # target -> newly translated
    cached: dict[str, int] = field(default_factory=dict)  # target -> taken from the store


def load_corpus(config: Config, reporter: Reporter) -> tuple[list[Document], list[str]]:
    corpus = discover(config.resolve(config.corpus))
    problems = list(corpus.problems)
    docs: list[Document] = []
    used: set[str] = set()
    for src in corpus.sources:
        rel = src.path.relative_to(corpus.root)
        doc_id = doc_id_for(rel.with_suffix("")) if len(rel.parts) == 1 else "__".join(
            doc_id_for(Path(p)) for p in rel.with_suffix("").parts
        )
        base, n = doc_id, 2
        while doc_id in used:
            doc_id, n = f"{base}-{n}", n + 1
        used.add(doc_id)
        try:
            doc = read_document(src.path, config.ingest, doc_id=doc_id)
        except InputError as e:
            problems.append(str(e.message))
            continue
        problems.extend(doc.warnings)
        if doc.paragraphs:
            docs.append(doc)
    if not docs:
        raise InputError(
            f"{corpus.root}: no readable English documents (*.txt, *.md)"
            + ("".join(f"\n  {p}" for p in problems) if problems else "")
        )
    return docs, problems


def resolve_models(config: Config, reporter: Reporter) -> dict[str, ResolvedModel]:
    base = config.path.parent if config.path else Path.cwd()
    resolved: dict[str, ResolvedModel] = {}
    by_ref: dict = {}
    for target in config.targets:
        ref = config.model_for(target)
        if ref not in by_ref:
            by_ref[ref] = resolve(ref, base=base, offline=config.offline)
        resolved[target] = by_ref[ref]
    return resolved


def run(config: Config, reporter: Reporter | None = None) -> RunResult:
    reporter = reporter or Reporter()
    started = time.monotonic()
    docs, problems = load_corpus(config, reporter)
    segments = [s for d in docs for s in segment_document(d)]
    models = resolve_models(config, reporter)
    store = Store(config.resolve(config.store))
    pool = EnginePool(config, reporter)
    result = RunResult(docs, segments, [], problems, config.resolve(config.out))
    try:
        outputs = translate_all(segments, config, models, store, pool, reporter, result)
    finally:
        store.close()
    result.rows = build_rows(segments, outputs, models, config)
    result.models_loaded = pool.loads
    write_outputs(result, config)
    result.seconds = time.monotonic() - started
    return result


def translate_all(segments, config, models, store, pool, reporter, result) -> dict[str, list]:
    """Per target: one (translation, cached) pair per segment (None for skipped ones)."""
    todo = [s for s in segments if not s.skip]
    outputs: dict[str, list] = {}
    for target in config.targets:
        if config.unit == "paragraph":
            from .paragraphs import translate_paragraphs

            pairs = translate_paragraphs(todo, target, models[target], store, pool, reporter)
        else:
            res = translate_cached([s.text for s in todo], target, models[target], store, pool, reporter,
                                   label=f"Translating EN->{target.upper()}")
            pairs = list(zip(res.translations, res.cached))
        by_id = {s.seg_id: p for s, p in zip(todo, pairs)}
        outputs[target] = [by_id.get(s.seg_id) for s in segments]
        result.cached[target] = sum(1 for _, c in pairs if c)
        result.translated[target] = sum(1 for _, c in pairs if not c)
    return outputs


def build_rows(segments, outputs, models, config) -> list[Row]:
    rows: list[Row] = []
    for target in config.targets:
        model = models[target]
        for seg, pair in zip(segments, outputs[target]):
            if pair is None:
                rows.append(Row.skipped(seg, target, model, config.engine))
                continue
            tr, cached = pair
            sc = basic_score(seg.text, tr.text, tr.logprob, target, config.thresholds)
            rows.append(Row.translated(seg, target, model, config.engine, tr, cached, sc))
    return rows


def check_models(config: Config) -> list[tuple[str, str, str]]:
    """(target, model id, status) for ``workflow models``; never downloads."""
    base = config.path.parent if config.path else Path.cwd()
    out = []
    for target in config.targets:
        ref = config.model_for(target)
        try:
            m = resolve(ref, base=base, offline=True, download=False)
            out.append((target, ref.id, f"available ({m.family().name}, {m.revision[:12]}) at {m.folder}"))
        except WorkflowError as e:
            out.append((target, ref.id, "missing: " + e.message))
    return out
