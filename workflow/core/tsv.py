"""Spreadsheet-safe TSV: the one cell format of every TSV the workflow writes and reads back.

A cell's tabs, newlines and backslashes are escaped; a text that a spreadsheet would run
as a formula (starting with = + - @, a tab or a CR) or that starts with an apostrophe gets
a leading apostrophe, which :func:`tsv_uncell` removes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def tsv_cell(value) -> str:
    """One TSV cell: tabs and newlines escaped; a text that a spreadsheet would run as a
    formula (starting with = + - @) gets a leading apostrophe, which spreadsheets hide
    and :func:`tsv_uncell` removes again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) else f"{value:.4g}"
    text = str(value)
    text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if text.startswith(FORMULA_START) or text.startswith("'"):
        text = "'" + text
    return text


def tsv_uncell(text: str) -> str:
    if text.startswith("'"):
        text = text[1:]
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def tsv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    lines = ["\t".join(header)]
    lines.extend("\t".join(tsv_cell(v) for v in row) for row in rows)
    return "\n".join(lines) + "\n"
