"""The whole run: corpus -> ingest -> segment -> translate -> align -> score -> write.

``run(config)`` is the library entry point behind ``workflow run``. Models are resolved
before any work starts, so a missing model ends the run in seconds with nothing written.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from workflow.translation.cache import EnginePool, translate_cached
from workflow.core.config import Config
from workflow.corpus.discover import discover
from workflow.core.errors import InputError, WorkflowError
from workflow.outputs.publish import write_outputs
from workflow.corpus.ingest import Document, doc_id_for, read_document
from workflow.core.lock import locked
from workflow.translation.hub import ResolvedModel, resolve
from workflow.core.progress import Reporter
from workflow.align.references import attach_references
from workflow.review.importer import apply_review
from workflow.scoring.score import score_segments
from workflow.corpus.screen import screen_document
from workflow.corpus.segment import Segment, segment_document
from workflow.core.store import Store
from workflow.core.records import Row


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
    seen: dict[str, Document] = {}  # content hash -> first document with that text
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
        take, notes = screen_document(doc, seen)  # not English / duplicate
        problems.extend(notes)
        if doc.paragraphs and take:
            doc.references = dict(src.references)
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


@locked  # one run per project at a time (workflow/lock.py)
def run(config: Config, reporter: Reporter | None = None) -> RunResult:
    reporter = reporter or Reporter()
    started = time.monotonic()
    docs, problems = load_corpus(config, reporter)
    segments = [s for d in docs for s in segment_document(d)]
    models = resolve_models(config, reporter)
    store = Store(config.resolve(config.store))
    problems.extend(store.warnings)  # a damaged store was backed up and rebuilt
    pool = EnginePool(config, reporter)
    result = RunResult(docs, segments, [], problems, config.resolve(config.out))
    try:
        outputs = translate_all(segments, config, models, store, pool, reporter, result)
        result.rows = build_rows(segments, outputs, models, config, reporter,
                                 backtranslators(config, store, pool, reporter))
        result.rows = apply_review(result.rows, store)  # reviewers' fixes win over MT, always
        attach_references(result.rows, {d.doc_id: d.references for d in docs if d.references})
    finally:
        store.close()
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
            from workflow.translation.paragraphs import translate_paragraphs

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


def build_rows(segments, outputs, models, config, reporter: Reporter | None = None,
               backtranslators: dict | None = None) -> list[Row]:
    reporter = reporter or Reporter()
    rows: list[Row] = []
    for target in config.targets:
        model = models[target]
        done = [(seg, pair) for seg, pair in zip(segments, outputs[target]) if pair is not None]
        with reporter.spinner(f"Scoring EN->{target.upper()} ({len(done)} segments)"):
            verdicts = score_segments(
                [s.seg_id for s, _ in done], [s.text for s, _ in done], [p[0].text for _, p in done],
                [p[0].logprob for _, p in done], target, config, (backtranslators or {}).get(target),
            )
        by_id = {s.seg_id: v for (s, _), v in zip(done, verdicts)}
        for seg, pair in zip(segments, outputs[target]):
            if pair is None:
                rows.append(Row.skipped(seg, target, model, config.engine))
            else:
                rows.append(Row.translated(seg, target, model, config.engine, pair[0], pair[1], by_id[seg.seg_id]))
    return rows


def backtranslators(config: Config, store: Store, pool: EnginePool, reporter: Reporter) -> dict:
    """target -> translate(texts, "en") with the configured reverse model (round-trip check)."""
    base = config.path.parent if config.path else Path.cwd()
    out = {}
    decoding = dataclasses.replace(config.decoding, beam_size=config.checks.roundtrip_beam_size)
    for target, ref in config.checks.reverse_models.items():
        if target not in config.targets:
            continue
        reverse = resolve(ref, base=base, offline=config.offline)

        def translate(texts, lang, reverse=reverse, target=target):
            res = translate_cached(texts, lang, reverse, store, pool, reporter, label=f"Back-translating {target.upper()}->EN",
                                   decoding=decoding)
            return [t.text for t in res.translations]

        out[target] = translate
    return out


def check_models(config: Config) -> list[tuple[str, str, str]]:
    """(target, model id, status) for ``workflow models``; never downloads."""
    base = config.path.parent if config.path else Path.cwd()
    out = []
    for target in config.targets:
        ref = config.model_for(target)
        try:
            m = resolve(ref, base=base, download=False)
            out.append((target, ref.id, f"available ({m.family().name}, {m.revision[:12]}) at {m.folder}"))
        except WorkflowError as e:
            out.append((target, ref.id, "missing: " + e.message + " `workflow run` downloads it when the machine has network access."))
    return out


def _corpus_references(config: Config, reporter: Reporter) -> dict:
    """doc_id -> {lang: reference file} of the corpus as it is now (none if it is gone)."""
    try:
        docs, _ = load_corpus(config, reporter)
    except InputError:
        return {}
    return {d.doc_id: d.references for d in docs if d.references}


@locked
def rescore(config: Config, reporter: Reporter | None = None) -> RunResult:
    """``workflow score``: re-run the checks on the translations in ``aligned/`` (after a
    config, glossary or threshold change), take in reviewers' fixes imported since, and
    re-read the reference files of ``corpus/`` (new, changed or removed ones), without
    translating anything."""
    import polars as pl

    from workflow.core.records import STATUS_SKIPPED

    reporter = reporter or Reporter()
    out_dir = config.resolve(config.out)
    table = out_dir / "segments.parquet"
    if not table.exists():
        raise InputError(f"{table}: no previous run to re-score", hint="Run `workflow run` first.")
    names = {f.name for f in dataclasses.fields(Row)}
    rows = [Row(**{k: v for k, v in r.items() if k in names}) for r in pl.read_parquet(table).iter_rows(named=True)]
    store = Store(config.resolve(config.store))
    pool = EnginePool(config, reporter)
    try:
        back = backtranslators(config, store, pool, reporter)
        for target in sorted({r.target for r in rows}):
            todo = [r for r in rows if r.target == target and r.status != STATUS_SKIPPED]
            with reporter.spinner(f"Re-scoring EN->{target.upper()} ({len(todo)} segments)"):
                verdicts = score_segments([r.seg_id for r in todo], [r.en for r in todo], [r.mt or "" for r in todo],
                                          [r.logprob for r in todo], target, config, back.get(target))
            for r, v in zip(todo, verdicts):
                r.length_ratio, r.weak_score, r.flagged, r.spans = v.length_ratio, v.weak_score, v.flagged, list(v.spans)
                r.flags = list(v.flags) + (["split_long_source"] if r.split else [])
        rows = apply_review(rows, store)
    finally:
        store.close()
    refs = _corpus_references(config, reporter)
    for r in rows:
        r.reference = None  # what the corpus holds now
    attach_references(rows, refs)
    segs = {r.seg_id for r in rows}
    result = RunResult([], [], rows, [], out_dir, models_loaded=pool.loads)
    result.segments = list(segs)  # counts only
    result.documents = list({r.doc_id for r in rows})
    write_outputs(result, config)
    return result
