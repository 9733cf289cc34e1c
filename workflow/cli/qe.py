"""``workflow qe``: the command body (registered in workflow.cli.app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.common import ConfigOpt, UsageError, load, results
from workflow.scoring.qe import score_files, write_tsv


def qe_command(
    src: Annotated[Path, typer.Option("--src", metavar="FILE", help="English source, one segment per line (UTF-8).")],
    mt: Annotated[Path, typer.Option("--mt", metavar="FILE", help="Machine translation, one segment per line, same line count.")],
    tgt_lang: Annotated[str, typer.Option("--tgt-lang", metavar="LANG", help="Language of the MT: be or ru.")],
    out: Annotated[Path, typer.Option("-o", "--out", metavar="FILE", help="TSV to write: segment, weak_score, flagged, flags, spans.")],
    config: ConfigOpt = None,
    order: Annotated[str, typer.Option("--order", metavar="ORDER", help="Row order: input, or weak (worst first).")] = "input",
) -> None:
    """Score MT output without references (one segment per line).

    Runs the reference-free checks of the config's [checks] section; the checks that need
    the translation model (confidence, round trip) are skipped.
    """
    if order not in ("input", "weak"):
        raise UsageError(f"--order is {order!r}; choose input or weak.", "workflow qe")
    cfg = load(config)
    result = score_files(src, mt, tgt_lang, cfg)
    path = write_tsv(result, out, order=order)
    out_console = results()
    n = len(result.scores)
    used = result.scores[0].scorer if result.scores else cfg.checks.scorer
    rule = (f"the weakest {cfg.checks.review_budget:.0%} by the learned model's probability of a major error"
            if used == "model" else f"weak-spot score >= {cfg.checks.flag_threshold}")
    out_console.print(f"{n} segments scored, {result.flagged} flagged ({rule}); wrote {path}",
                      markup=False, highlight=False)
    worst = sorted(enumerate(result.scores, start=1), key=lambda p: -p[1].weak_score)[:5]
    for line, s in worst:
        if s.weak_score > 0:
            out_console.print(f"  line {line}: {s.weak_score:.2f} {', '.join(s.flags)}", markup=False, highlight=False)
