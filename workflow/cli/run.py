"""``workflow run``, ``score``, ``translate`` and ``models``: the commands of the main job."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from workflow.cli.common import ConfigOpt, CorpusOpt, OutOpt, UsageError, console, load, results
from workflow.core.config import RAY_ADDRESS
from workflow.core.files import write_atomic
from workflow.core.lock import project_lock
from workflow.core.progress import RichReporter
from workflow.core.store import Store
from workflow.core.text import read_lines
from workflow.corpus.load import load_corpus
from workflow.corpus.segment import segment_document
from workflow.pipeline import RunResult, rescore
from workflow.pipeline import run as run_pipeline
from workflow.translation.cache import EnginePool, translate_cached
from workflow.translation.hub import model_status, resolve_models

STDIN = Path("-")


def run(config: ConfigOpt = None, corpus: CorpusOpt = None, out: OutOpt = None,
        offline: Annotated[bool, typer.Option("--offline", help="Never use the network.")] = False,
        ray: Annotated[Optional[str], typer.Option(
            "--ray", metavar="ADDRESS", show_default=False,
            help='Translate and score on a Ray cluster: "auto" (started with `ray start` here), "local", '
                 '"ray://HOST:10001" or "HOST:6379" ([scale] in config.toml).')] = None) -> None:
    """Ingest, translate, align and score the corpus into aligned/."""
    cfg = load(config, corpus=corpus, out=out, offline=offline or None)
    if ray is not None:
        if not RAY_ADDRESS.fullmatch(ray):
            raise UsageError(f"--ray {ray!r} is not a Ray address (auto, local, ray://HOST:10001 or HOST:6379).", "workflow run")
        cfg = dataclasses.replace(cfg, scale=dataclasses.replace(cfg.scale, executor="ray", address=ray))
    result = run_pipeline(cfg, RichReporter(console()))
    _summary(result, cfg.targets)


def score(config: ConfigOpt = None, out: OutOpt = None) -> None:
    """Re-score aligned/ without translating.

    After a config, glossary or threshold change, new or removed reference files, or
    imported fixes; no model is loaded.
    """
    cfg = load(config, out=out)
    result = rescore(cfg, RichReporter(console()))
    _summary(result, cfg.targets)


def _summary(result: RunResult, targets) -> None:
    """The result on stdout (table, totals, weakest segments); problems as notes on stderr."""
    out = results()
    table = Table(title=f"workflow run: {result.out_dir}", show_header=True)
    table.add_column("target")
    table.add_column("segments", justify="right")
    table.add_column("translated now", justify="right")
    table.add_column("from cache", justify="right")
    table.add_column("flagged", justify="right")
    for t in targets:
        table.add_row(t, str(result.scored.get(t, 0)), str(result.translated.get(t, 0)), str(result.cached.get(t, 0)),
                      str(result.flagged.get(t, 0)))
    out.print(table)
    out.print(f"{len(result.documents)} documents, {result.segments} segments, {result.skipped} skipped as boilerplate "
              f"(listed in skipped.tsv), models loaded: {result.models_loaded}, {result.seconds:.1f} s")
    notes = console()
    for p in result.problems:
        notes.print("[yellow]note:[/] ", end="")
        notes.print(p, markup=False, highlight=False)
    weakest = result.weakest
    if weakest:
        out.print("Weakest segments:")
        for r in weakest:
            out.print(f"  {r.weak_score:6.2f}  {r.seg_id} [{r.target}] {','.join(r.flags) or '-'}: {(r.mt or '')[:70]!r}",
                      markup=False, highlight=False)


def translate(
    source: Annotated[Optional[Path], typer.Argument(
        metavar="FILE", show_default=False,
        help="Text file, one English sentence per line ('-': standard input). Omit it to fill the cache "
             "for every segment of the corpus.")] = None,
    target: Annotated[Optional[str], typer.Option(
        "--target", "-t", metavar="LANG", show_default=False,
        help="Target language, one of the configured targets (be, ru). Default: the first configured target "
             "for FILE, every configured target for the corpus.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE",
                                                   help="Write the translations here (default: standard output).")] = None,
    config: ConfigOpt = None,
    corpus: CorpusOpt = None,
) -> None:
    """Translate a file of sentences, or fill the cache.

    Translations come from the store when they are there and are stored when they are not.
    """
    cfg = load(config, corpus=corpus)
    if target is not None and target not in cfg.targets:
        raise UsageError(f"--target {target!r} is not a configured target (configured: {', '.join(cfg.targets)}).",
                         "workflow translate")
    reporter = RichReporter(console())
    if source is not None:
        # /dev/stdin: read_lines' decoding and error messages for standard input too
        lines = read_lines(Path("/dev/stdin") if source == STDIN else source)
        targets = (target or cfg.targets[0],)
    else:
        docs, _ = load_corpus(cfg.resolve(cfg.corpus), cfg.ingest)
        lines = [s.text for d in docs for s in segment_document(d) if not s.skip]
        targets = (target,) if target else cfg.targets
    cfg = dataclasses.replace(cfg, targets=targets)
    models = resolve_models(cfg.models, cfg.targets, base=cfg.base_dir, offline=cfg.offline)
    with project_lock(cfg.resolve(cfg.store), reporter), Store(cfg.resolve(cfg.store)) as store:
        pool = EnginePool(cfg.translation, reporter)
        for t in targets:
            res = translate_cached(lines, t, models[t], store, pool, reporter)
            if source is not None:
                text = "".join(tr.text + "\n" for tr in res.translations)
                if output:
                    write_atomic(output, text)
                else:
                    sys.stdout.write(text)
            else:
                typer.echo(f"{t}: {sum(res.cached)} cached, {len(lines) - sum(res.cached)} translated now")


def models(config: ConfigOpt = None) -> None:
    """List the configured models and whether each is available."""
    cfg = load(config)
    table = Table(title="Configured models")
    table.add_column("target")
    table.add_column("model", overflow="fold")
    table.add_column("status")
    for target, model_id, status in model_status(cfg.models, cfg.targets, base=cfg.base_dir):
        table.add_row(target, model_id, status)
    results().print(table)
