"""``workflow review ...``: bring reviewers' fixes back in.

Registered in workflow.cli.app with ``app.add_typer(review_app, name="review")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.cli.common import ConfigOpt, console, load, require_command, results
from workflow.review.importer import import_files

review_app = typer.Typer(add_completion=False, rich_markup_mode=None)


@review_app.callback(invoke_without_command=True)
def _review(ctx: typer.Context) -> None:
    """Bring reviewers' fixes (edited TSV, workbook or XLIFF) back in."""
    require_command(ctx)


@review_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Edited aligned/<doc>.tsv, <doc>.xlsx or XLIFF files (2.x or 1.2).")],
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", "-r", metavar="NAME", help="Who approved the fixes (default: $WORKFLOW_REVIEWER or the user name).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count, write nothing.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Import edited review files as approved fixes.

    Every file is validated first; then all approved fixes are stored at once (nothing is
    stored if any row is wrong).
    """
    cfg = load(config)
    result = import_files(cfg, files, reviewer, dry_run=dry_run)
    per_target: dict[str, int] = {}
    for f in result.fixes:
        per_target[f.target] = per_target.get(f.target, 0) + 1
    detail = ", ".join(f"{t}: {n}" for t, n in sorted(per_target.items())) or "none"
    verb = "would approve" if dry_run else "approved"
    results().print(f"{len(result.files)} file(s) valid; {verb} {len(result.fixes)} fix(es) ({detail}); "
                    f"{result.unchanged} unchanged translation(s) left as they were.", highlight=False, markup=False)
    for note in result.notes():  # rows matched by their English after the document changed; needs work
        console().print(note, highlight=False, markup=False)
    if result.written:
        console().print("Run `workflow run` to refresh aligned/ (no model is loaded for unchanged text).",
                        highlight=False, markup=False)
