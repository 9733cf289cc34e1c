"""``workflow qe``: score any MT output against its English source, no reference needed.

Input: two UTF-8 text files, one segment per line, same number of lines (a BOM and
CRLF line ends are accepted; an empty line is an empty segment). Output: a TSV with
columns ``segment`` (1-based line number), ``weak_score`` (higher = worse: with the
learned model the probability of a major error, 0-1), ``flagged`` (1/0: the weakest
``review_budget`` share of the file), ``flags`` (names of failed checks, comma-separated), ``spans`` (blamed character
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

from workflow.core.config import Config
from workflow.core.errors import InputError
from workflow.core.files import write_atomic
from workflow.core.records import SegmentVerdict
from workflow.core.text import read_lines
from workflow.core.tsv import tsv
from workflow.scoring.checks import load_glossary, validate
from workflow.scoring.score import score_segments

COLUMNS = ("segment", "weak_score", "flagged", "flags", "spans", "source", "mt")


def format_spans(verdict: SegmentVerdict) -> str:
    return " | ".join(f"{s['start']}-{s['end']}:{s['reason']}" for s in verdict.spans)


@dataclass(frozen=True)
class QEResult:
    scores: list[SegmentVerdict]
    sources: list[str]
    mts: list[str]

    @property
    def flagged(self) -> int:
        return sum(s.flagged for s in self.scores)


def score_files(
    src: str | Path,
    mt: str | Path,
    target_lang: str,
    config: Config | None = None,
    *,
    logprobs: list[float | None] | None = None,
    backtranslations: list[str | None] | None = None,
) -> QEResult:
    if target_lang not in ("be", "ru"):
        raise InputError(f"unknown target language {target_lang!r}", hint="Use --tgt-lang be or --tgt-lang ru.")
    config = config or Config()
    validate(config.checks, str(config.path) if config.path else "defaults")
    sources, mts = read_lines(src), read_lines(mt)
    if len(sources) != len(mts):
        n = min(len(sources), len(mts)) + 1
        longer = src if len(sources) > len(mts) else mt
        raise InputError(
            f"{longer}:{n}: {len(sources)} source lines but {len(mts)} MT lines",
            hint="Both files need one segment per line, in the same order.",
        )
    glossary = load_glossary(str(config.resolve(config.checks.glossary)))
    scores = score_segments(sources, mts, target_lang, config.checks, glossary=glossary, logprobs=logprobs,
                            backtranslate=None if backtranslations is None else (lambda texts, lang: list(backtranslations)))
    return QEResult(scores, sources, mts)


def write_tsv(result: QEResult, out: str | Path, *, order: str = "input") -> Path:
    """Write the TSV atomically; ``order="weak"`` puts the worst segments first."""
    out = Path(out)
    rows = [(n, sc, s, m) for n, (sc, s, m) in enumerate(zip(result.scores, result.sources, result.mts), start=1)]
    if order == "weak":
        rows.sort(key=lambda r: (-r[1].weak_score, r[0]))
    body = [[str(n), f"{sc.weak_score:.3f}", str(int(sc.flagged)), ",".join(sc.flags), format_spans(sc), s, m]
            for n, sc, s, m in rows]
    write_atomic(out, tsv(COLUMNS, body))
    return out
