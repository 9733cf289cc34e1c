"""``workflow review ...``: bring reviewers' fixes back in (``import``), or take them as they are made (``serve``).

Registered in workflow.cli.app with ``app.add_typer(review_app, name="review")``.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer
import uvicorn

from workflow.cli.common import ConfigOpt, UsageError, console, load, require_command, results
from workflow.core.errors import InputError
from workflow.core.progress import RichReporter
from workflow.pipeline import rescore
from workflow.review.importer import default_reviewer, import_files
from workflow.review.serve import LOOPBACK, Session, create_app, loopback, read_token
from workflow.scoring.checks.language import lingua_confidence

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


@review_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0: any free one; the address is printed).")] = 8765,
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", "-r", metavar="NAME", help="Who approves (default: $WORKFLOW_REVIEWER or the user name); the page can change it.")] = None,
    token_file: Annotated[Optional[Path], typer.Option("--token-file", metavar="FILE", help="The write token (first line; default $WORKFLOW_REVIEW_TOKEN, else a new one per session). Required for an address other than loopback.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve aligned/ as an editable review page.

    Every approval is stored at once, through the same checks as `review import`.
    "refresh outputs" on the page runs `workflow score`. Stop with Ctrl-C.
    """
    cfg = load(config)
    token = read_token(token_file, os.environ.get("WORKFLOW_REVIEW_TOKEN"))
    local = loopback(host)
    if not local and token is None:
        raise UsageError(f"--host {host} is not a loopback address: give a token with --token-file FILE or "
                         "WORKFLOW_REVIEW_TOKEN (then every request needs it).", "workflow review serve")
    token = token or secrets.token_urlsafe(24)
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so (proto 0 does
    # not), and without it every JSON answer waited ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port} ({e.strerror})",
                         hint="Choose another --port (0 picks a free one), or stop what is using it.") from None
    session = Session(cfg, (reviewer or default_reviewer()).strip() or "reviewer",
                      refresh=lambda: rescore(cfg, RichReporter(console())))
    app = create_app(session, token, everywhere=not local, hosts=(*LOOPBACK, host) if local else ("*",))
    # the language check's detector loads its models on first use (~2 s): not in the first save
    threading.Thread(target=lingua_confidence, args=("Праверка мовы",), daemon=True).start()
    bound = sock.getsockname()[1]
    where = f"[{host.strip('[]')}]" if ":" in host else host
    console().print(f"Serving {session.out} for review at http://{where}:{bound}/"
                    + ("" if local else f"?token={token}") + "  (Ctrl-C stops)", highlight=False, markup=False)
    server = uvicorn.Server(uvicorn.Config(app, workers=1, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        session.close()
