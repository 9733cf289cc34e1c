"""``workflow qe``: score any MT output against its English source, no reference needed.

Input: two UTF-8 text files, one segment per line, same number of lines (a BOM and
CRLF line ends are accepted; an empty line is an empty segment). Output: a TSV with
columns ``segment`` (1-based line number), ``weak_score`` (higher = worse), ``flagged``
(1/0), ``flags`` (names of failed checks, comma-separated), ``spans`` (blamed character
spans into the MT line, ``start-end:check:reason`` joined by `` | ``), ``source``, ``mt``.

The file is written atomically (a temporary file in the same folder, then
``os.replace``), so an interrupted run never leaves half a TSV. Cells are made safe for
spreadsheets: a cell starting with ``=``, ``+``, ``-`` or ``@`` (which Excel and
LibreOffice would run as a formula) gets a leading single quote ``'``; tabs and line
breaks inside cells become spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflow.scoring.checks import CheckInput, SegmentScore, run_checks
from workflow.core.errors import InputError
from workflow.core.files import tsv, tsv_cell, write_atomic

COLUMNS = ("segment", "weak_score", "flagged", "flags", "spans", "source", "mt")


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 text file (BOM and CRLF tolerated); InputError names file and line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, not a text file") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise InputError(f"{p}: looks like a binary or UTF-16 file; save it as UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{p}:{line}: not valid UTF-8 ({e.reason} at byte {e.start})",
                         hint="Convert the file to UTF-8.") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


safe_cell = tsv_cell  # formula-looking text gets a leading quote; tabs and newlines are escaped


def format_spans(score: SegmentScore) -> str:
    return " | ".join(f"{a}-{b}:{reason}" for a, b, reason in score.spans)


@dataclass(frozen=True)
class QEResult:
    scores: list[SegmentScore]
    sources: list[str]
    mts: list[str]

    @property
    def flagged(self) -> int:
        return sum(s.flagged for s in self.scores)


def score_files(
    src: str | Path,
    mt: str | Path,
    target_lang: str,
    config=None,
    *,
    logprobs: list[float | None] | None = None,
    backtranslations: list[str | None] | None = None,
) -> QEResult:
    if target_lang not in ("be", "ru"):
        raise InputError(f"unknown target language {target_lang!r}", hint="Use --tgt-lang be or --tgt-lang ru.")
    sources, mts = read_lines(src), read_lines(mt)
    if len(sources) != len(mts):
        n = min(len(sources), len(mts)) + 1
        longer = src if len(sources) > len(mts) else mt
        raise InputError(
            f"{longer}:{n}: {len(sources)} source lines but {len(mts)} MT lines",
            hint="Both files need one segment per line, in the same order.",
        )
    inputs = [
        CheckInput(
            str(i + 1), s, m,
            logprobs[i] if logprobs else None,
            backtranslations[i] if backtranslations else None,
        )
        for i, (s, m) in enumerate(zip(sources, mts))
    ]
    return QEResult(run_checks(inputs, target_lang, config), sources, mts)


def write_tsv(result: QEResult, out: str | Path, *, order: str = "input") -> Path:
    """Write the TSV atomically; ``order="weak"`` puts the worst segments first."""
    out = Path(out)
    rows = list(zip(result.scores, result.sources, result.mts))
    if order == "weak":
        rows.sort(key=lambda r: (-r[0].weak_score, int(r[0].seg_id)))
    body = [[sc.seg_id, f"{sc.weak_score:.3f}", str(int(sc.flagged)), ",".join(sc.flags), format_spans(sc), s, m]
            for sc, s, m in rows]
    write_atomic(out, tsv(COLUMNS, body))
    return out
