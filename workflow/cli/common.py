"""What every command shares: the config options, loading the config (written once), the
console (stderr for progress and notes; results go to stdout)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from workflow.core.config import Config, load_config
from workflow.scoring.checks import validate

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="Config file (default: ./config.toml if present).")]
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Folder of English documents (overrides config).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (overrides config).")]


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
    return Console(stderr=True, soft_wrap=True)  # no line breaks inside paths and messages
