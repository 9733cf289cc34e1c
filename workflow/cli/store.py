"""``workflow store ...``: the store's own maintenance (``workflow store restore BACKUP``).

Registered in workflow.cli.app with ``app.add_typer(store_app, name="store")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.common import ConfigOpt, console, load, require_command
from workflow.core.progress import RichReporter
from workflow.review.restore import restore

store_app = typer.Typer(add_completion=False, rich_markup_mode=None)


@store_app.callback(invoke_without_command=True)
def _store(ctx: typer.Context) -> None:
    """Store maintenance: restore approved fixes from a backup."""
    require_command(ctx)


@store_app.command("restore")
def restore_command(
    backup: Annotated[Path, typer.Argument(metavar="BACKUP", help="A copy of the store: a <store>.corrupt-<time> file a repair kept, or your own copy (damaged or not).")],
    config: ConfigOpt = None,
) -> None:
    """Merge the approved fixes (and cached translations) of BACKUP into the store; nothing is lost on either side."""
    cfg = load(config)
    out = console()
    result = restore(cfg.resolve(cfg.store), backup, RichReporter(out))
    out.print(f"{backup}: {result.read} approved fix(es) read; {result.added} restored, {result.same} already there, "
              f"{result.to_history} differing (the newer approval kept, the other in the history); "
              f"{result.history} history row(s) and {result.translations} cached translation(s) added.", highlight=False)
    if result.added or result.to_history:
        out.print("Run `workflow run` (or `workflow score`) to refresh aligned/.", highlight=False)
