"""The whole run, over one context: corpus -> segment -> translate -> score -> review -> publish.

``run(config)`` is the library entry point behind ``workflow run``; ``rescore(config)``
the one behind ``workflow score`` (re-scores what a run wrote, no translation). Models are
resolved before any work starts, so a missing model ends the run in seconds with nothing
written. Every stage gets its own config section from here.

A run goes chunk by chunk (``[scale] chunk_segments`` segments of whole documents), so
its memory holds one chunk, the models and a few numbers per segment, whatever the size
of the corpus. Pass 1 segments, translates, scores, applies reviewers' fixes and
attaches references, chunk by chunk, and keeps the scored rows on disk inside the new
output set (``parquet.ChunkFile``). The learned scorer flags "the weakest
``review_budget`` share of a run's segments", which needs every score of the run: pass 1
scores each chunk without the budget and keeps the probabilities (floats), then the
run-wide budget is drawn over all of them exactly as one call over the whole run would
(``score.budget_flags``, ties by run order). Pass 2 reads the chunks back, sets those
flags, and hands each chunk to the writers (``outputs.publish.Publication``), which
stream the corpus-level files and publish the set as one. Per-stage times go into
``run.json`` (``stage_seconds``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import time
from array import array
from collections.abc import Iterable, Iterator
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
from workflow.outputs.page import needs_review
from workflow.outputs.publish import Publication, recover, target_problem
from workflow.review.apply import apply_review
from workflow.scale.executor import Executor
from workflow.scoring.checks import Glossary, load_glossary, validate
from workflow.scoring.refit import in_force, refit_on_reviews
from workflow.scoring.score import budget_flags
from workflow.translation.cache import EnginePool, backtranslators
from workflow.translation.hub import ResolvedModel, resolve_models
from workflow.translation.paragraphs import translate_paragraphs


WEAKEST = 5  # unreviewed segments with the highest scores, for the command's summary


@dataclass
class RunResult:
    """What a run did, in counts (the rows themselves are in ``aligned/``: :attr:`rows`)."""

    documents: list[str]  # doc ids
    segments: int
    problems: list[str]
    out_dir: Path
    seconds: float = 0.0
    models_loaded: int = 0
    translated: dict[str, int] = field(default_factory=dict)  # target -> newly translated
    cached: dict[str, int] = field(default_factory=dict)  # target -> taken from the store
    scored: dict[str, int] = field(default_factory=dict)  # target -> translated (not skipped) segments
    flagged: dict[str, int] = field(default_factory=dict)  # target -> weak spots still to review
    skipped: int = 0  # segments skipped (boilerplate, not English, too long)
    weakest: list[Row] = field(default_factory=list)  # the WEAKEST unreviewed rows, highest score first
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> list[Row]:
        """Every row of the run, read back from ``segments.parquet`` (all in memory: for
        tests and small corpora)."""
        return parquet.read_rows(self.out_dir)


@dataclass
class RunContext:
    """What every step of a run shares: settings, progress, the open store, the engines,
    where translation and scoring run (a Ray executor's actors live as long as the context)."""

    config: Config
    reporter: Reporter
    store: Store
    pool: EnginePool
    executor: Executor
    glossary: Glossary | None  # corpus names and terms, read once (None: no glossary file)

    @property
    def out_dir(self) -> Path:
        return self.config.resolve(self.config.out)


@contextlib.contextmanager
def _context(config: Config, reporter: Reporter | None) -> Iterator[RunContext]:
    reporter = reporter or Reporter()
    validate(config.checks, str(config.path or "defaults"))  # a typo in [checks.*] stops before any work
    glossary = load_glossary(str(config.resolve(config.checks.glossary)))  # so does a glossary that cannot be read
    pool = EnginePool(config.translation, reporter)
    with Store(config.resolve(config.store)) as store, Executor(config.scale, pool) as where:
        yield RunContext(config, reporter, store, pool, where, glossary)


def _check_out(config: Config) -> None:
    """Stop before any work when ``out`` cannot take the outputs (a file, /dev/null, read-only)."""
    out = config.resolve(config.out)
    problem = target_problem(out)
    if problem:
        raise ConfigError(f"{config.path or 'defaults'}: key 'out' (or --out): cannot write the outputs to {out}: {problem}",
                          hint="Point --out (or 'out' in config.toml) at a folder you can write to.")


class _Timer:
    """Seconds per stage of a run (``run.json`` ``stage_seconds``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


@locked  # one run per project at a time (workflow/core/lock.py)
def run(config: Config, reporter: Reporter | None = None) -> RunResult:
    started = time.monotonic()
    timer = _Timer()
    _check_out(config)
    with timer("ingest"):
        docs, problems = load_corpus(config.resolve(config.corpus), config.ingest)
    models = resolve_models(config.models, config.targets, base=config.base_dir, offline=config.offline)
    result = RunResult([d.doc_id for d in docs], 0, problems, config.resolve(config.out))
    with Publication(result.out_dir, config.targets, latin=config.outputs.latin,
                     formats=config.outputs.formats) as pub:
        with _context(config, reporter) as ctx:
            problems.extend(ctx.store.warnings)  # a damaged store was backed up and rebuilt

            def chunks() -> Iterator[tuple[list[Row], dict]]:
                for n, (part, segments) in enumerate(_document_chunks(docs, config.scale.chunk_segments, timer), 1):
                    if len(part) < len(docs):
                        ctx.reporter.info(f"Chunk {n}: {len(part)} document(s), {len(segments)} segments")
                    result.segments += len(segments)
                    with timer("translate"):
                        rows = translate_rows(ctx, segments, models, result)  # the executor's step 1 (see _first_pass)
                    yield rows, {d.doc_id: d.references for d in part if d.references}

            kept = _first_pass(ctx, pub, chunks(), result, timer)
            result.models_loaded = ctx.executor.loads
        _second_pass(config, pub, kept, result, timer)
    result.seconds = time.monotonic() - started
    return result


@locked
def rescore(config: Config, reporter: Reporter | None = None) -> RunResult:
    """``workflow score``: re-run the checks on the translations in ``aligned/`` (after a
    config, glossary or threshold change), take in reviewers' fixes imported since, and
    re-read the reference files of ``corpus/`` (new, changed or removed ones), without
    translating anything. Chunk by chunk like :func:`run`."""
    timer = _Timer()
    out_dir = config.resolve(config.out)
    _check_out(config)
    recover(out_dir)  # a run killed while switching aligned/ in: the previous set back first
    sizes = parquet.document_sizes(out_dir)
    references = _corpus_references(config)
    result = RunResult(list(sizes), 0, [], out_dir)
    with Publication(out_dir, config.targets, latin=config.outputs.latin,
                     formats=config.outputs.formats) as pub:
        with _context(config, reporter) as ctx:
            _refit(ctx, out_dir, sizes)  # the weak-spot model refitted on the project's reviews, when enough

            def chunks() -> Iterator[tuple[list[Row], dict]]:
                for part in _size_chunks(sizes, config.scale.chunk_segments * max(1, len(config.targets))):
                    with timer("ingest"):
                        rows = parquet.read_rows(out_dir, part)
                    for r in rows:
                        r.reference = None  # what the corpus holds now
                    result.segments += len({r.seg_id for r in rows})
                    yield rows, {d: references[d] for d in part if d in references}

            kept = _first_pass(ctx, pub, chunks(), result, timer)
            result.models_loaded = ctx.executor.loads
        _second_pass(config, pub, kept, result, timer)
    return result


def _document_chunks(docs: list[Document], size: int, timer: _Timer) -> Iterator[tuple[list[Document], list[Segment]]]:
    """(documents, their segments): whole documents, at least ``size`` segments a chunk
    (the last one fewer)."""
    part: list[Document] = []
    segments: list[Segment] = []
    for d in docs:
        with timer("segment"):
            segments.extend(segment_document(d))
        part.append(d)
        if len(segments) >= size:
            yield part, segments
            part, segments = [], []
    if part:
        yield part, segments


def _size_chunks(sizes: dict[str, int], size: int) -> Iterator[list[str]]:
    """Document ids in order, whole documents of about ``size`` rows a chunk."""
    part: list[str] = []
    n = 0
    for d, k in sizes.items():
        part.append(d)
        n += k
        if n >= size:
            yield part
            part, n = [], 0
    if part:
        yield part


@dataclass
class _Kept:
    """What pass 1 leaves for pass 2: the scored rows on disk, and per row (in order) its
    place among the learned scorer's rows of its target (-1: not scored by the model),
    with the run-wide budget flags of each target."""

    rows: parquet.ChunkFile
    place: array = field(default_factory=lambda: array("i"))
    probs: dict[str, array] = field(default_factory=dict)
    budget: dict[str, list[bool]] = field(default_factory=dict)


def _first_pass(ctx: RunContext, pub: Publication, chunks: Iterable[tuple[list[Row], dict]], result: RunResult,
                timer: _Timer) -> _Kept:
    """Score, review and attach references chunk by chunk; keep the rows on disk and the
    learned scorer's probabilities in memory; then draw the run-wide review budget."""
    kept = _Kept(parquet.ChunkFile(pub.scratch("scored.parquet")))
    for rows, references in chunks:
        with timer("score"):
            learned = score_rows(ctx, rows)  # the executor's step 2: [scale] executor = "ray" runs both elsewhere
        with timer("review"):
            apply_review(rows, ctx.store)  # reviewers' fixes win over MT, always
            result.problems.extend(attach_references(rows, references))
        with timer("write"):
            for r in rows:
                if id(r) in learned:
                    probs = kept.probs.setdefault(r.target, array("d"))
                    kept.place.append(len(probs))
                    probs.append(r.weak_score)
                else:
                    kept.place.append(-1)
            kept.rows.append(rows)
    budget = ctx.config.checks.review_budget
    with timer("review"):
        # the top share of every score of the run (flag_probability and the other reasons
        # to flag were applied per chunk: score_rows scores without the budget)
        kept.budget = {t: budget_flags(list(p), budget, threshold=2.0) for t, p in kept.probs.items()}
    return kept


def _second_pass(config: Config, pub: Publication, kept: _Kept, result: RunResult, timer: _Timer) -> None:
    """Set the run-wide flags on each chunk, hand it to the writers, publish the set."""
    targets = list(config.targets)
    weakest: list[tuple[float, int, Row]] = []  # a heap of (score, -order, row): the highest, earliest first
    order = 0
    place = iter(kept.place)
    with timer("write"):
        for rows in kept.rows.chunks():
            for r in rows:
                p = next(place)
                if p >= 0 and kept.budget[r.target][p]:
                    r.flagged = True
            pub.add(rows)
            for r in rows:
                if r.is_skipped:
                    result.skipped += r.target == targets[0]
                    continue
                result.scored[r.target] = result.scored.get(r.target, 0) + 1
                result.flagged[r.target] = result.flagged.get(r.target, 0) + needs_review(r)
                if r.approved is None:
                    order += 1
                    (heapq.heappush if len(weakest) < WEAKEST else heapq.heappushpop)(weakest, (r.weak_score, -order, r))
    result.weakest = [r for _, _, r in sorted(weakest, reverse=True)]
    result.stage_seconds = {k: round(v, 3) for k, v in timer.seconds.items()}  # the corpus-level files not included
    summary = {
        "documents": len(result.documents),
        "segments": result.segments,
        "skipped": result.skipped,
        "translated": result.translated,
        "cached": result.cached,
        "models_loaded": result.models_loaded,
        "glossary": str(config.resolve(config.checks.glossary)),  # the OmegaT projects' glossary (outputs.omegat)
        "weakspot": in_force(config.checks),  # the weak-spot weights that scored: shipped or the project's refit
        "stage_seconds": result.stage_seconds,
        "problems": result.problems,
    }
    result.problems.extend(pub.finish(summary))


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
            res = ctx.executor.translate([s.text for s in todo], target, model, ctx.store, ctx.reporter,
                                         label=f"Translating EN->{target.upper()}")
            pairs = list(zip(res.translations, res.cached))
        by_id = {s.seg_id: p for s, p in zip(todo, pairs)}
        result.cached[target] = result.cached.get(target, 0) + sum(1 for _, c in pairs if c)
        result.translated[target] = result.translated.get(target, 0) + sum(1 for _, c in pairs if not c)
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


def _backtranslators(ctx: RunContext) -> dict:
    config = ctx.config
    return backtranslators(config.checks.reverse_models, config.targets, base=config.base_dir, offline=config.offline,
                           beam_size=config.checks.roundtrip_beam_size, store=ctx.store, pool=ctx.pool,
                           reporter=ctx.reporter)


def _refit(ctx: RunContext, out_dir: Path, sizes: dict[str, int]) -> None:
    """``workflow score``: refit the weak-spot model on the reviewed rows of ``aligned/``
    (reviews applied) before scoring, so this scoring uses the weights then in force."""
    config = ctx.config
    if config.checks.scorer == "model" and config.checks.refit_min_reviews:
        chunks = (apply_review(parquet.read_rows(out_dir, part), ctx.store)
                  for part in _size_chunks(sizes, config.scale.chunk_segments * max(1, len(config.targets))))
        refit_on_reviews(chunks, config.checks, glossary=ctx.glossary, backtranslate=_backtranslators(ctx),
                         reporter=ctx.reporter)


def score_rows(ctx: RunContext, rows: list[Row]) -> set[int]:
    """Score every translated row in place with the one scoring function (``workflow.scoring``),
    without the learned scorer's review budget (a run draws it over all its chunks:
    :func:`_first_pass`); returns the ``id()`` of the rows the learned model scored."""
    config = ctx.config
    checks = dataclasses.replace(config.checks, review_budget=0.0)
    back = _backtranslators(ctx)
    mts = {(r.target, r.seg_id): r.mt or "" for r in rows if not r.is_skipped}  # for the checks comparing targets
    learned: set[int] = set()
    for target in dict.fromkeys(r.target for r in rows):
        todo = [r for r in rows if r.target == target and not r.is_skipped]
        other = {t: [mts.get((t, r.seg_id), "") for r in todo] for t in config.targets if t != target}
        ctx.reporter.info(f"Scoring EN->{target.upper()} ({len(todo)} segments)")  # its own bars follow
        verdicts = ctx.executor.score([r.en for r in todo], [r.mt or "" for r in todo], target, checks,
                                      glossary=ctx.glossary, seg_ids=[r.seg_id for r in todo],
                                      logprobs=[r.logprob for r in todo], backtranslate=back.get(target),
                                      reporter=ctx.reporter, other=other)
        for r, v in zip(todo, verdicts):
            r.take_verdict(v)
            if v.scorer == "model":
                learned.add(id(r))
    return learned


def _corpus_references(config: Config) -> dict:
    """doc_id -> {lang: reference file} of the corpus as it is now (none if it is gone)."""
    try:
        docs, _ = load_corpus(config.resolve(config.corpus), config.ingest)
    except InputError:
        return {}
    return {d.doc_id: d.references for d in docs if d.references}
