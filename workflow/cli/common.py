"""What every command shares: the config options, loading the config (written once), the
two consoles (results on stdout; progress and notes on stderr) and the usage error."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from workflow.core.config import Config, load_config
from workflow.core.errors import InputError
from workflow.scoring.checks import validate

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", metavar="FILE",
                                                   help="Config file (default: ./config.toml if present).")]
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", metavar="DIR",
                                                   help="Folder of English documents (overrides the config).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR",
                                                help="Output folder (overrides the config).")]


class UsageError(InputError):
    """A command line that cannot work (missing command, unknown target, a bad choice):
    one line with exit code 2 like the argument parser's usage errors, pointing to the
    help of ``command``."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(f"{message} Try '{command} --help'.")


def load(config: Path | None, **overrides) -> Config:
    """The config of ``--config``, else ./config.toml when present, else the defaults;
    ``overrides`` are command-line flags replacing top-level keys (None: not given). The
    check tables are validated here too, so a typo stops every command at once."""
    if config is None and Path("config.toml").is_file():
        config = Path("config.toml")
    cfg = load_config(config, **{k: (str(v) if isinstance(v, Path) else v) for k, v in overrides.items()})
    validate(cfg.checks, str(cfg.path or "defaults"))
    return cfg


def console() -> Console:
    """Standard error: progress, notes and error messages."""
    return Console(stderr=True, soft_wrap=True)  # no line breaks inside paths and messages


def results() -> Console:
    """Standard output: what a command produced (tables, summaries), so it can be piped."""
    return Console(soft_wrap=True)


def require_command(ctx: typer.Context) -> None:
    """A group called without a command (``workflow``, ``workflow review``): a usage error
    naming the commands, instead of the help page."""
    if ctx.invoked_subcommand is None:
        names = ", ".join(ctx.command.list_commands(ctx))
        raise UsageError(f"missing command (one of: {names}).", ctx.command_path)
