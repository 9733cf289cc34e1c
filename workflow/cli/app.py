"""Command line: a thin layer over the library. ``workflow --help`` lists the commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.core.errors import WorkflowError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Translate English documents into Belarusian and Russian, align and score them for review.")

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="Config file (default: ./config.toml if present).")]
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Folder of English documents (overrides config).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (overrides config).")]


def _console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # no line breaks inside paths and messages


def _load(config: Path | None, **overrides):
    from workflow.core.config import load_config

    if config is None and Path("config.toml").exists():
        config = Path("config.toml")
    return load_config(config, **{k: (str(v) if isinstance(v, Path) else v) for k, v in overrides.items()})


@app.command()
def run(config: ConfigOpt = None, corpus: CorpusOpt = None, out: OutOpt = None,
        offline: Annotated[bool, typer.Option("--offline", help="Never use the network.")] = False) -> None:
    """Run everything: ingest, segment, translate, align, score, write aligned/."""
    from workflow.pipeline import run as run_pipeline
    from workflow.core.progress import RichReporter

    cfg = _load(config, corpus=corpus, out=out, offline=offline or None)
    console = _console()
    result = run_pipeline(cfg, RichReporter(console))
    _summary(console, result, cfg)


def _summary(console, result, cfg) -> None:
    from rich.table import Table

    table = Table(title=f"workflow run: {result.out_dir}", show_header=True)
    table.add_column("target")
    table.add_column("segments", justify="right")
    table.add_column("translated now", justify="right")
    table.add_column("from cache", justify="right")
    table.add_column("flagged", justify="right")
    for t in cfg.targets:
        rows = [r for r in result.rows if r.target == t and r.status != "skipped"]
        table.add_row(t, str(len(rows)), str(result.translated.get(t, 0)), str(result.cached.get(t, 0)),
                      str(sum(1 for r in rows if r.flags)))
    console.print(table)
    skipped = sum(1 for r in result.rows if r.status == "skipped" and r.target == cfg.targets[0])
    console.print(f"{len(result.documents)} documents, {len(result.segments)} segments, {skipped} skipped as boilerplate "
                  f"(listed in skipped.tsv), models loaded: {result.models_loaded}, {result.seconds:.1f} s")
    for p in result.problems:
        console.print(f"[yellow]note:[/] {p}")
    weakest = sorted((r for r in result.rows if r.status != "skipped"), key=lambda r: -r.weak_score)[:5]
    if weakest:
        console.print("Weakest segments:")
        for r in weakest:
            console.print(f"  {r.weak_score:6.2f}  {r.seg_id} [{r.target}] {','.join(r.flags) or '-'}: {(r.mt or '')[:70]!r}",
                          markup=False, highlight=False)


@app.command()
def score(config: ConfigOpt = None, out: OutOpt = None) -> None:
    """Re-score the translations in aligned/ (after a config, glossary or threshold change)."""
    from workflow.pipeline import rescore
    from workflow.core.progress import RichReporter

    cfg = _load(config, out=out)
    console = _console()
    result = rescore(cfg, RichReporter(console))
    _summary(console, result, cfg)


@app.command()
def translate(
    source: Annotated[Optional[Path], typer.Argument(help="Text file, one English sentence per line. Omit to fill the cache for the whole corpus.")] = None,
    target: Annotated[str, typer.Option("--target", "-t", help="Target language: be or ru.")] = "be",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write translations here (default: stdout).")] = None,
    config: ConfigOpt = None,
    corpus: CorpusOpt = None,
) -> None:
    """Translate only (cached): a file of sentences, or every segment of the corpus."""
    from workflow.translation.cache import EnginePool, translate_cached
    from workflow.core.errors import ConfigError, InputError
    from workflow.pipeline import load_corpus, resolve_models
    from workflow.core.progress import RichReporter
    from workflow.corpus.segment import segment_document
    from workflow.core.store import Store
    from workflow.core.files import write_atomic

    cfg = _load(config, corpus=corpus)
    reporter = RichReporter(_console())
    if source is not None:
        if target not in cfg.targets:
            raise ConfigError(f"--target {target!r} is not one of the configured targets ({', '.join(cfg.targets)})")
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{source}: cannot read as UTF-8 text ({e})") from None
        cfg_targets = (target,)
    else:
        docs, _ = load_corpus(cfg, reporter)
        lines = [s.text for d in docs for s in segment_document(d) if not s.skip]
        cfg_targets = cfg.targets
    import dataclasses

    cfg = dataclasses.replace(cfg, targets=cfg_targets)
    models = resolve_models(cfg, reporter)
    from workflow.core.lock import project_lock

    with project_lock(cfg.resolve(cfg.store), reporter), Store(cfg.resolve(cfg.store)) as store:
        pool = EnginePool(cfg, reporter)
        for t in cfg_targets:
            res = translate_cached(lines, t, models[t], store, pool, reporter)
            if source is not None:
                text = "\n".join(tr.text for tr in res.translations) + "\n"
                if output:
                    write_atomic(output, text)
                else:
                    sys.stdout.write(text)
            else:
                reporter.info(f"{t}: {sum(res.cached)} cached, {len(lines) - sum(res.cached)} translated now")


@app.command()
def models(config: ConfigOpt = None) -> None:
    """List the configured models and whether each is available on this machine."""
    from rich.table import Table

    from workflow.pipeline import check_models

    cfg = _load(config)
    table = Table(title="Configured models")
    table.add_column("target")
    table.add_column("model", overflow="fold")
    table.add_column("status")
    for target, model_id, status in check_models(cfg):
        table.add_row(target, model_id, status)
    _console().print(table)


def _register_subcommands() -> None:
    """Commands that live in their own modules (imported here, not at import time of cli)."""
    from workflow.cli.align import align_command
    from workflow.cli.compare import compare_command
    from workflow.cli.qe import qe_command
    from workflow.cli.review import review_app

    if "align" not in {c.name for c in app.registered_commands}:
        app.command("align", help="Align a document with its translation (sentence level, N:M).")(align_command)
        app.command("qe", help="Score any MT output without references (one segment per line).")(qe_command)
        app.command("compare", help="Compare systems or runs on the same segments: BLEU, chrF++, TER, paired significance.")(compare_command)
        app.add_typer(review_app, name="review", help="Bring reviewers' fixes back in (workflow review import FILE...).")


def main(argv: list[str] | None = None) -> None:
    _register_subcommands()
    try:
        code = app(args=argv, standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into exit code 130
            raise KeyboardInterrupt
        if code:
            sys.exit(code)
    except WorkflowError as e:
        console = _console()
        console.print("[bold red]error:[/] ", end="", highlight=False)
        console.print(e.message, highlight=False, markup=False)
        if e.hint:
            console.print(e.hint, highlight=False, markup=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        _console().print("[yellow]interrupted[/]: finished translations are saved; run the same command again to resume.")
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(130)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
