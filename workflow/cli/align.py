"""``workflow align``: line up an English document with its Belarusian or Russian version.

Registered in workflow.cli.app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.align.files import align_files, format_beads
from workflow.cli.common import UsageError
from workflow.core.errors import InputError
from workflow.core.files import write_atomic
from workflow.core.langs import LANGUAGES


def align_command(
    src: Annotated[Path, typer.Argument(metavar="SRC", show_default=False, help="Source document (raw text, or one sentence per line with --presplit).")],
    tgt: Annotated[Path, typer.Argument(metavar="TGT", show_default=False, help="Target document, same conventions.")],
    src_lang: Annotated[str, typer.Option("--src-lang", metavar="LANG", help="Language of SRC: en, be or ru.")] = "en",
    tgt_lang: Annotated[str, typer.Option("--tgt-lang", metavar="LANG", help="Language of TGT: en, be or ru.")] = "be",
    bridge: Annotated[
        Path | None,
        typer.Option("--bridge", metavar="FILE", help="Machine translation of SRC into the target language: one line per source "
                     "sentence with --presplit, else one line per source paragraph."),
    ] = None,
    presplit: Annotated[bool, typer.Option("--presplit", help="Inputs hold one sentence per line.")] = False,
    out: Annotated[Path, typer.Option("-o", "--out", metavar="FILE", help="Output file (written atomically).")] = Path("aligned.tsv"),
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="tsv (ids, texts, confidence) or vecalign ([0]:[0, 1]:0.83).")] = "tsv",
) -> None:
    """Align a document with its translation (N:M sentences).

    Beads of 1:1, 2:1, 1:2, 2:2, 1:0 and 0:1 sentences, each with a confidence.
    """
    for flag, code in (("--src-lang", src_lang), ("--tgt-lang", tgt_lang)):
        if code not in LANGUAGES:
            raise UsageError(f"{flag} {code!r}: unknown language (known: {', '.join(sorted(LANGUAGES))}).",
                             "workflow align")
    if fmt not in ("tsv", "vecalign"):
        raise UsageError(f"--format {fmt!r}: use tsv or vecalign.", "workflow align")
    for path in (src, tgt) + ((bridge,) if bridge else ()):
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    if not out.parent.exists():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    src_sents, tgt_sents, beads = align_files(src, tgt, src_lang, tgt_lang, bridge=bridge, presplit=presplit)
    write_atomic(out, format_beads(beads, src_sents, tgt_sents, fmt))
    weak = sum(1 for b in beads if b.score < 0.5)
    typer.echo(f"{out}: {len(beads)} beads ({len(src_sents)} {src_lang} / {len(tgt_sents)} {tgt_lang} sentences), {weak} below confidence 0.5")
