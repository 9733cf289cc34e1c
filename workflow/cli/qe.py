"""Typer command body for ``workflow qe`` (registered in workflow/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def qe_command(
    src: Annotated[Path, typer.Option("--src", help="English source, one segment per line (UTF-8).")],
    mt: Annotated[Path, typer.Option("--mt", help="Machine translation, one segment per line, same line count.")],
    tgt_lang: Annotated[str, typer.Option("--tgt-lang", help="Language of the MT: be or ru.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="TSV to write: segment, weak_score, flagged, flags, spans.")],
    config: Annotated[Path | None, typer.Option("--config", help="config.toml ([checks], [thresholds]).")] = None,
    order: Annotated[str, typer.Option("--order", help="Row order: input, or weak (worst first).")] = "input",
) -> None:
    """Score any MT output with the reference-free checks (no model needed).

    Checks that need the translation model (confidence, round trip) are skipped.
    """
    from rich.console import Console

    from workflow.core.config import load_config
    from workflow.core.errors import InputError
    from workflow.scoring.qe import score_files, write_tsv

    if order not in ("input", "weak"):
        raise InputError(f"--order is {order!r}; choose input or weak")
    cfg = load_config(config) if config else load_config(Path("config.toml")) if Path("config.toml").is_file() else load_config()
    result = score_files(src, mt, tgt_lang, cfg)
    path = write_tsv(result, out, order=order)
    console = Console(stderr=True)
    n = len(result.scores)
    console.print(f"{n} segments scored, {result.flagged} flagged (weak-spot score >= "
                  f"{cfg.checks.flag_threshold}); wrote {path}")
    worst = sorted(result.scores, key=lambda s: -s.weak_score)[:5]
    for s in worst:
        if s.weak_score > 0:
            console.print(f"  line {s.seg_id}: {s.weak_score:.2f} {', '.join(s.flags)}")
