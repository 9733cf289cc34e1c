"""``workflow compare``: the command body (registered in workflow.cli.app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.cli.common import UsageError
from workflow.core.langs import LANGUAGES
from workflow.core.text import read_lines
from workflow.outputs import parquet
from workflow.scoring.compare import System, compare, format_result, run_system, text_system


def load_system(path: Path, target: str | None) -> System:
    """A text file (one segment per line) or a run (``aligned/`` or its ``segments.parquet``)."""
    table = parquet.table_path(path)
    if table.suffix == ".parquet" or path.is_dir():
        return run_system(str(table.parent if table.name == parquet.NAME else table), parquet.read_rows(path), target)
    return text_system(path)


def compare_command(
    systems: Annotated[list[Path], typer.Argument(metavar="SYSTEM", help="Two or more systems: text files (one segment per line) or run outputs (aligned/ folders). The first is the baseline.")],
    ref: Annotated[Optional[list[Path]], typer.Option("--ref", "-r", metavar="FILE", help="Reference file, one segment per line (repeat for several). Runs use their own references when omitted.")] = None,
    target: Annotated[Optional[str], typer.Option("--target", "-t", metavar="LANG", help="Target language (be or ru): which translations of a run to compare.")] = None,
    test: Annotated[str, typer.Option("--test", metavar="TEST", help="ar (approximate randomisation) or bs (paired bootstrap).")] = "ar",
    samples: Annotated[int, typer.Option("--samples", metavar="N", help="Trials or resamples (0: sacrebleu's defaults, 10,000 AR / 1,000 bootstrap).")] = 0,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed of the test (same seed, same p-values).")] = 12345,
) -> None:
    """Compare systems or runs: BLEU, chrF++, TER, significance.

    Scores every system on the same segments, with sacrebleu signatures, and tests each
    against the first (paired approximate randomisation or bootstrap, fixed seed).
    """
    if test not in ("ar", "bs"):
        raise UsageError(f"--test is {test!r}; choose ar or bs.", "workflow compare")
    if target is not None and (target not in LANGUAGES or target == "en"):
        raise UsageError(f"--target {target!r} is not a known target language.", "workflow compare")
    loaded = [load_system(p, target) for p in systems]
    refs = [read_lines(p) for p in (ref or [])]
    result = compare(loaded, refs, target_lang=target, test=test, n_samples=samples, seed=seed)
    typer.echo(format_result(result))
