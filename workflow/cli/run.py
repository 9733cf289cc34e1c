"""``workflow run``, ``score``, ``translate`` and ``models``: the commands of the main job."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from workflow.cli.common import ConfigOpt, CorpusOpt, OutOpt, console, load
from workflow.core.errors import ConfigError, InputError
from workflow.core.files import write_atomic
from workflow.core.lock import project_lock
from workflow.core.progress import RichReporter
from workflow.core.store import Store
from workflow.corpus.load import load_corpus
from workflow.corpus.segment import segment_document
from workflow.pipeline import RunResult, rescore
from workflow.pipeline import run as run_pipeline
from workflow.translation.cache import EnginePool, translate_cached
from workflow.translation.hub import model_status, resolve_models


def run(config: ConfigOpt = None, corpus: CorpusOpt = None, out: OutOpt = None,
        offline: Annotated[bool, typer.Option("--offline", help="Never use the network.")] = False) -> None:
    """Run everything: ingest, segment, translate, align, score, write aligned/."""
    cfg = load(config, corpus=corpus, out=out, offline=offline or None)
    out_console = console()
    result = run_pipeline(cfg, RichReporter(out_console))
    _summary(out_console, result, cfg.targets)


def score(config: ConfigOpt = None, out: OutOpt = None) -> None:
    """Re-score the translations in aligned/ (after a config, glossary or threshold change)."""
    cfg = load(config, out=out)
    out_console = console()
    result = rescore(cfg, RichReporter(out_console))
    _summary(out_console, result, cfg.targets)


def _summary(out, result: RunResult, targets) -> None:
    table = Table(title=f"workflow run: {result.out_dir}", show_header=True)
    table.add_column("target")
    table.add_column("segments", justify="right")
    table.add_column("translated now", justify="right")
    table.add_column("from cache", justify="right")
    table.add_column("flagged", justify="right")
    for t in targets:
        rows = [r for r in result.rows if r.target == t and not r.is_skipped]
        table.add_row(t, str(len(rows)), str(result.translated.get(t, 0)), str(result.cached.get(t, 0)),
                      str(sum(1 for r in rows if r.flags)))
    out.print(table)
    skipped = sum(1 for r in result.rows if r.is_skipped and r.target == targets[0])
    out.print(f"{len(result.documents)} documents, {len(result.segments)} segments, {skipped} skipped as boilerplate "
              f"(listed in skipped.tsv), models loaded: {result.models_loaded}, {result.seconds:.1f} s")
    for p in result.problems:
        out.print(f"[yellow]note:[/] {p}")
    weakest = sorted((r for r in result.rows if not r.is_skipped), key=lambda r: -r.weak_score)[:5]
    if weakest:
        out.print("Weakest segments:")
        for r in weakest:
            out.print(f"  {r.weak_score:6.2f}  {r.seg_id} [{r.target}] {','.join(r.flags) or '-'}: {(r.mt or '')[:70]!r}",
                      markup=False, highlight=False)


def translate(
    source: Annotated[Optional[Path], typer.Argument(help="Text file, one English sentence per line. Omit to fill the cache for the whole corpus.")] = None,
    target: Annotated[str, typer.Option("--target", "-t", help="Target language: be or ru.")] = "be",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write translations here (default: stdout).")] = None,
    config: ConfigOpt = None,
    corpus: CorpusOpt = None,
) -> None:
    """Translate only (cached): a file of sentences, or every segment of the corpus."""
    cfg = load(config, corpus=corpus)
    reporter = RichReporter(console())
    if source is not None:
        if target not in cfg.targets:
            raise ConfigError(f"--target {target!r} is not one of the configured targets ({', '.join(cfg.targets)})")
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{source}: cannot read as UTF-8 text ({e})") from None
        targets = (target,)
    else:
        docs, _ = load_corpus(cfg.resolve(cfg.corpus), cfg.ingest)
        lines = [s.text for d in docs for s in segment_document(d) if not s.skip]
        targets = cfg.targets
    cfg = dataclasses.replace(cfg, targets=targets)
    models = resolve_models(cfg.models, cfg.targets, base=cfg.base_dir, offline=cfg.offline)
    with project_lock(cfg.resolve(cfg.store), reporter), Store(cfg.resolve(cfg.store)) as store:
        pool = EnginePool(cfg.translation, reporter)
        for t in targets:
            res = translate_cached(lines, t, models[t], store, pool, reporter)
            if source is not None:
                text = "\n".join(tr.text for tr in res.translations) + "\n"
                if output:
                    write_atomic(output, text)
                else:
                    sys.stdout.write(text)
            else:
                reporter.info(f"{t}: {sum(res.cached)} cached, {len(lines) - sum(res.cached)} translated now")


def models(config: ConfigOpt = None) -> None:
    """List the configured models and whether each is available on this machine."""
    cfg = load(config)
    table = Table(title="Configured models")
    table.add_column("target")
    table.add_column("model", overflow="fold")
    table.add_column("status")
    for target, model_id, status in model_status(cfg.models, cfg.targets, base=cfg.base_dir):
        table.add_row(target, model_id, status)
    console().print(table)
