"""``workflow review ...``: bring reviewers' fixes back in.

Registered in workflow.cli.app with ``app.add_typer(review_app, name="review")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.cli.common import ConfigOpt, console, load
from workflow.review.importer import import_files

review_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Import reviewers' fixes (edited TSV or XLIFF) into the translation memory.")


@review_app.callback()
def _review() -> None:
    """Import reviewers' fixes (edited TSV or XLIFF) into the translation memory."""


@review_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="Edited aligned/<doc>.tsv or XLIFF files (2.x or 1.2).")],
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", "-r", help="Who approved the fixes (default: $WORKFLOW_REVIEWER or the user name).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count, write nothing.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Validate every file, then store all approved fixes at once (nothing is stored if any row is wrong)."""
    cfg = load(config)
    result = import_files(cfg, files, reviewer, dry_run=dry_run)
    out = console()
    per_target: dict[str, int] = {}
    for f in result.fixes:
        per_target[f.target] = per_target.get(f.target, 0) + 1
    detail = ", ".join(f"{t}: {n}" for t, n in sorted(per_target.items())) or "none"
    verb = "would approve" if dry_run else "approved"
    out.print(f"{len(result.files)} file(s) valid; {verb} {len(result.fixes)} fix(es) ({detail}); "
                  f"{result.unchanged} unchanged translation(s) left as they were.", highlight=False)
    if result.written:
        out.print("Run `workflow run` to refresh aligned/ (no model is loaded for unchanged text).", highlight=False)
