"""``workflow align``: line up an English document with its Belarusian or Russian version.

Registered in workflow.cli.app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.align.files import align_files, format_beads
from workflow.core.errors import InputError
from workflow.core.files import write_atomic
from workflow.core.langs import LANGUAGES


def align_command(
    src: Annotated[Path, typer.Argument(help="Source document (raw text, or one sentence per line with --presplit).")],
    tgt: Annotated[Path, typer.Argument(help="Target document, same conventions.")],
    src_lang: Annotated[str, typer.Option("--src-lang", help="Language of SRC: en, be or ru.")] = "en",
    tgt_lang: Annotated[str, typer.Option("--tgt-lang", help="Language of TGT: en, be or ru.")] = "be",
    bridge: Annotated[
        Path | None,
        typer.Option("--bridge", help="Machine translation of SRC into the target language: one line per source "
                     "sentence with --presplit, else one line per source paragraph."),
    ] = None,
    presplit: Annotated[bool, typer.Option("--presplit", help="Inputs hold one sentence per line.")] = False,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output file (written atomically).")] = Path("aligned.tsv"),
    fmt: Annotated[str, typer.Option("--format", help="tsv (ids, texts, confidence) or vecalign ([0]:[0, 1]:0.83).")] = "tsv",
) -> None:
    """Align two documents sentence by sentence (1:1, 2:1, 1:2, 2:2, 1:0, 0:1 beads)."""
    for flag, code in (("--src-lang", src_lang), ("--tgt-lang", tgt_lang)):
        if code not in LANGUAGES:
            raise InputError(f"{flag} {code!r}: unknown language (known: {', '.join(sorted(LANGUAGES))})")
    if fmt not in ("tsv", "vecalign"):
        raise InputError(f"--format {fmt!r}: use tsv or vecalign")
    for path in (src, tgt) + ((bridge,) if bridge else ()):
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    if not out.parent.exists():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    src_sents, tgt_sents, beads = align_files(src, tgt, src_lang, tgt_lang, bridge=bridge, presplit=presplit)
    write_atomic(out, format_beads(beads, src_sents, tgt_sents, fmt))
    weak = sum(1 for b in beads if b.score < 0.5)
    typer.echo(f"{out}: {len(beads)} beads ({len(src_sents)} {src_lang} / {len(tgt_sents)} {tgt_lang} sentences), {weak} below confidence 0.5")
