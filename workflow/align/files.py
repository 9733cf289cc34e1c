"""``workflow align`` on files: read two documents, split them into sentences, align them,
and format the beads (TSV with ids, texts and confidence, or Vecalign's ``[0]:[0, 1]:0.83``).
"""

from __future__ import annotations

from pathlib import Path

from workflow.align.aligner import Bead, align, align_paragraph_translation
from workflow.core.errors import InputError
from workflow.corpus.ingest import decode, normalise_paragraph, normalise_text, split_paragraphs
from workflow.corpus.segment import split_sentences


def read_sentences(path: Path, lang: str, presplit: bool) -> tuple[list[str], list[tuple[int, str]]]:
    """Sentences of a document, and its paragraphs as (line, text).

    ``presplit``: one sentence per non-empty line. Otherwise paragraphs are non-empty
    lines (hard-wrapped lines joined, as in ingest) and are split with the workflow's
    splitter (sentencex for English, razdel for Belarusian and Russian)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    text, _ = decode(data, str(path))
    text = normalise_text(text)
    if presplit:
        paras = [(n, normalise_paragraph(line)) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
        return [p for _, p in paras], paras
    paras = [(n, normalise_paragraph(p)) for n, p in split_paragraphs(text)]
    sents = [s for _, p in paras for s in split_sentences(p, lang)]
    return sents, paras


def align_files(
    src: Path,
    tgt: Path,
    src_lang: str = "en",
    tgt_lang: str = "be",
    bridge: Path | None = None,
    presplit: bool = False,
) -> tuple[list[str], list[str], list[Bead]]:
    """Read, split and align two documents; returns (source sentences, target sentences,
    beads). ``bridge``: MT of the source into the target language, one line per source
    sentence with ``presplit``, else one line per source paragraph (then aligned back to
    the paragraph's sentences)."""
    src_sents, src_paras = read_sentences(src, src_lang, presplit)
    tgt_sents, _ = read_sentences(tgt, tgt_lang, presplit)
    if not src_sents:
        raise InputError(f"{src}: no text to align")
    if not tgt_sents:
        raise InputError(f"{tgt}: no text to align")
    mt = None
    if bridge is not None:
        _, mt_lines = read_sentences(bridge, tgt_lang, presplit=True)
        if presplit:
            if len(mt_lines) != len(src_sents):
                raise InputError(
                    f"{bridge}: {len(mt_lines)} non-empty lines, but {src} has {len(src_sents)} sentences",
                    hint="With --presplit the bridge needs one machine translation per source line.",
                )
            mt = [t for _, t in mt_lines]
        else:
            if len(mt_lines) != len(src_paras):
                raise InputError(
                    f"{bridge}: {len(mt_lines)} paragraphs, but {src} has {len(src_paras)}",
                    hint="Without --presplit the bridge needs one line (machine translation) per source paragraph.",
                )
            mt = []
            for (_, para), (_, mt_para) in zip(src_paras, mt_lines):
                mt += align_paragraph_translation(split_sentences(para, src_lang), mt_para, tgt_lang)
    return src_sents, tgt_sents, align(src_sents, tgt_sents, src_lang, tgt_lang, bridge=mt)


def format_beads(beads: list[Bead], src_sents: list[str], tgt_sents: list[str], fmt: str = "tsv") -> str:
    """``tsv``: header, then source ids, target ids (0-based, comma-separated, empty for
    none), source text, target text, confidence. ``vecalign``: ``[0]:[0, 1]:0.83``."""
    lines = []
    if fmt == "vecalign":
        for b in beads:
            lines.append(f"[{', '.join(map(str, b.src))}]:[{', '.join(map(str, b.tgt))}]:{b.score:.4f}")
    elif fmt == "tsv":
        clean = lambda s: " ".join(s.split())  # noqa: E731  (no tabs or newlines in a cell)
        lines.append("src_ids\ttgt_ids\tsrc\ttgt\tscore")
        for b in beads:
            src_text = clean(" ".join(src_sents[i] for i in b.src))
            tgt_text = clean(" ".join(tgt_sents[j] for j in b.tgt))
            lines.append(f"{','.join(map(str, b.src))}\t{','.join(map(str, b.tgt))}\t{src_text}\t{tgt_text}\t{b.score:.4f}")
    else:
        raise ValueError(f"unknown format {fmt!r} (tsv or vecalign)")
    return "\n".join(lines) + "\n"
