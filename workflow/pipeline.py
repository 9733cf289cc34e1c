"""The whole run, over one context: corpus -> segment -> translate -> score -> review -> publish.

``run(config)`` is the library entry point behind ``workflow run``; ``rescore(config)``
the one behind ``workflow score`` (re-scores what a run wrote, no translation). Models are
resolved before any work starts, so a missing model ends the run in seconds with nothing
written. Every stage gets its own config section from here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workflow.align.references import attach_references
from workflow.core.config import Config
from workflow.core.errors import ConfigError, InputError
from workflow.core.lock import locked
from workflow.core.progress import Reporter
from workflow.core.records import STATUS_MT, STATUS_SKIPPED, Row, Translation
from workflow.core.store import Store
from workflow.corpus.ingest import Document
from workflow.corpus.load import load_corpus
from workflow.corpus.segment import Segment, segment_document
from workflow.outputs import parquet
from workflow.outputs.publish import recover, target_problem, write_outputs
from workflow.outputs.tsv import skipped_rows
from workflow.review.apply import apply_review
from workflow.scoring.checks import Glossary, load_glossary, validate
from workflow.scoring.score import score_segments
from workflow.translation.cache import EnginePool, backtranslators, translate_cached
from workflow.translation.hub import ResolvedModel, resolve_models
from workflow.translation.paragraphs import translate_paragraphs


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


@dataclass
class RunContext:
    """What every step of a run shares: settings, progress, the open store, the engines."""

    config: Config
    reporter: Reporter
    store: Store
    pool: EnginePool
    glossary: Glossary | None  # corpus names and terms, read once (None: no glossary file)

    @property
    def out_dir(self) -> Path:
        return self.config.resolve(self.config.out)


@contextlib.contextmanager
def _context(config: Config, reporter: Reporter | None) -> Iterator[RunContext]:
    reporter = reporter or Reporter()
    validate(config.checks, str(config.path or "defaults"))  # a typo in [checks.*] stops before any work
    glossary = load_glossary(str(config.resolve(config.checks.glossary)))  # so does a glossary that cannot be read
    with Store(config.resolve(config.store)) as store:
        yield RunContext(config, reporter, store, EnginePool(config.translation, reporter), glossary)


def _check_out(config: Config) -> None:
    """Stop before any work when ``out`` cannot take the outputs (a file, /dev/null, read-only)."""
    out = config.resolve(config.out)
    problem = target_problem(out)
    if problem:
        raise ConfigError(f"{config.path or 'defaults'}: key 'out' (or --out): cannot write the outputs to {out}: {problem}",
                          hint="Point --out (or 'out' in config.toml) at a folder you can write to.")


@locked  # one run per project at a time (workflow/core/lock.py)
def run(config: Config, reporter: Reporter | None = None) -> RunResult:
    started = time.monotonic()
    _check_out(config)
    docs, problems = load_corpus(config.resolve(config.corpus), config.ingest)
    segments = [s for d in docs for s in segment_document(d)]
    models = resolve_models(config.models, config.targets, base=config.base_dir, offline=config.offline)
    with _context(config, reporter) as ctx:
        problems.extend(ctx.store.warnings)  # a damaged store was backed up and rebuilt
        result = RunResult(docs, segments, [], problems, ctx.out_dir)
        result.rows = translate_rows(ctx, segments, models, result)
        score_rows(ctx, result.rows)
        apply_review(result.rows, ctx.store)  # reviewers' fixes win over MT, always
        problems.extend(attach_references(result.rows, {d.doc_id: d.references for d in docs if d.references}))
        result.models_loaded = ctx.pool.loads
    _publish(config, result)
    result.seconds = time.monotonic() - started
    return result


@locked
def rescore(config: Config, reporter: Reporter | None = None) -> RunResult:
    """``workflow score``: re-run the checks on the translations in ``aligned/`` (after a
    config, glossary or threshold change), take in reviewers' fixes imported since, and
    re-read the reference files of ``corpus/`` (new, changed or removed ones), without
    translating anything."""
    out_dir = config.resolve(config.out)
    _check_out(config)
    recover(out_dir)  # a run killed while switching aligned/ in: the previous set back first
    rows = parquet.read_rows(out_dir)
    with _context(config, reporter) as ctx:
        score_rows(ctx, rows)
        apply_review(rows, ctx.store)
        models_loaded = ctx.pool.loads
    for r in rows:
        r.reference = None  # what the corpus holds now
    notes = attach_references(rows, _corpus_references(config))
    result = RunResult([], [], rows, notes, out_dir, models_loaded=models_loaded)
    result.documents = list(dict.fromkeys(r.doc_id for r in rows))  # counts only
    result.segments = list(dict.fromkeys(r.seg_id for r in rows))
    _publish(config, result)
    return result


def translate_rows(ctx: RunContext, segments: list[Segment], models: dict[str, ResolvedModel],
                   result: RunResult) -> list[Row]:
    """One row per segment per target: translated (from the cache where it can) or skipped."""
    config = ctx.config
    todo = [s for s in segments if not s.skip]
    rows: list[Row] = []
    for target in config.targets:
        model = models[target]
        if config.unit == "paragraph":
            pairs = translate_paragraphs(todo, target, model, ctx.store, ctx.pool, ctx.reporter)
        else:
            res = translate_cached([s.text for s in todo], target, model, ctx.store, ctx.pool, ctx.reporter,
                                   label=f"Translating EN->{target.upper()}")
            pairs = list(zip(res.translations, res.cached))
        by_id = {s.seg_id: p for s, p in zip(todo, pairs)}
        result.cached[target] = sum(1 for _, c in pairs if c)
        result.translated[target] = sum(1 for _, c in pairs if not c)
        for seg in segments:
            pair = by_id.get(seg.seg_id)
            rows.append(_row(seg, target, model, config.engine, *(pair or (None, False))))
    return rows


def _row(seg: Segment, target: str, model: ResolvedModel, engine: str, tr: Translation | None, cached: bool) -> Row:
    common = dict(doc_id=seg.doc_id, seg_id=seg.seg_id, para=seg.para, sent=seg.sent, line=seg.line, hash=seg.hash,
                  en=seg.text, target=target, model=model.ref.id, revision=model.revision, engine=engine)
    if tr is None:
        return Row(**common, status=STATUS_SKIPPED, skip_reason=seg.skip, mt=None, logprob=None, n_tokens=None,
                   split=False, cached=False, length_ratio=None)
    return Row(**common, status=STATUS_MT, skip_reason=None, mt=tr.text, logprob=tr.logprob, n_tokens=tr.n_tokens,
               split=tr.split, cached=cached, length_ratio=None)


def score_rows(ctx: RunContext, rows: list[Row]) -> None:
    """Score every translated row in place with the one scoring function (``workflow.scoring``)."""
    config = ctx.config
    back = backtranslators(config.checks.reverse_models, config.targets, base=config.base_dir, offline=config.offline,
                           beam_size=config.checks.roundtrip_beam_size, store=ctx.store, pool=ctx.pool,
                           reporter=ctx.reporter)
    for target in dict.fromkeys(r.target for r in rows):
        todo = [r for r in rows if r.target == target and not r.is_skipped]
        ctx.reporter.info(f"Scoring EN->{target.upper()} ({len(todo)} segments)")  # its own bars follow
        verdicts = score_segments([r.en for r in todo], [r.mt or "" for r in todo], target, config.checks,
                                  glossary=ctx.glossary, seg_ids=[r.seg_id for r in todo],
                                  logprobs=[r.logprob for r in todo], backtranslate=back.get(target),
                                  reporter=ctx.reporter)
        for r, v in zip(todo, verdicts):
            r.take_verdict(v)


def _corpus_references(config: Config) -> dict:
    """doc_id -> {lang: reference file} of the corpus as it is now (none if it is gone)."""
    try:
        docs, _ = load_corpus(config.resolve(config.corpus), config.ingest)
    except InputError:
        return {}
    return {d.doc_id: d.references for d in docs if d.references}


def _publish(config: Config, result: RunResult) -> None:
    targets = list(config.targets)
    summary = {
        "documents": len(result.documents),
        "segments": len(result.segments),
        "skipped": len(skipped_rows(result.rows, targets)),
        "translated": result.translated,
        "cached": result.cached,
        "models_loaded": result.models_loaded,
        "glossary": str(config.resolve(config.checks.glossary)),  # the OmegaT projects' glossary (outputs.omegat)
        "problems": result.problems,
    }
    result.problems.extend(write_outputs(result.out_dir, result.rows, targets, summary))
