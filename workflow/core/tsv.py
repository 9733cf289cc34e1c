"""Spreadsheet-safe TSV: the one cell format of every TSV the workflow writes and reads back.

Writing (:func:`tsv`): tabs, newlines, CRs and backslashes inside a cell are escaped
(``\\t``, ``\\n``, ``\\r``, ``\\\\``), so one row is one line; fields holding a double quote
are quoted as RFC 4180 says (``"a ""b"" c"``), which is what LibreOffice Calc and Excel
write when they save TSV. Python's csv module does both (:data:`DIALECT`).

The formula guard, on the way out: a text starting with ``=``, ``+``, ``-``, ``@`` (a
spreadsheet would run it as a formula) or with ``'`` gets one leading ``'``.
:func:`tsv_uncell` is its exact inverse (it removes one ``'`` only before ``= + - @ '``),
for cells read back as the workflow wrote them: ids, English, untouched translations.

On the way in, a cell a reviewer changed is read as written (:func:`tsv_unescape`: the
escapes undone, an apostrophe kept): ``'=text`` is the text ``'=text``; a script writes a
fix with :func:`tsv_escape`, without the guard. That is what a
reviewer sees: a spreadsheet takes an apostrophe typed at the start of a cell as "this
is text" and does not store it, so typing ``'=text`` in Calc or Excel gives ``=text`` in
the saved file; a text editor stores what is typed. Only a cell exactly as exported
is read through the guard (``workflow.review.importer``). Measured with LibreOffice Calc
7.4 (``tests/e2e/test_spreadsheets.py``): opening a TSV it shows the guard as part of the
text (``'=SUM(1)``), runs an unguarded ``=1+1`` as a formula, and reads ``10%``, ``1/2``
and ``007`` as numbers and dates (for spreadsheets, use the workbook ``<doc>.xlsx``).

:func:`read_tsv` reads rows with the same dialect from text with LF, CRLF or CR-only line
ends, with the line each row starts on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@")
GUARDED = (*FORMULA_START, "'")  # a cell starting with ' followed by one of these carries the guard
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


class Dialect(csv.Dialect):
    """Tab-separated, RFC 4180 quoting (only where a field holds a quote), LF line ends."""

    delimiter = "\t"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False  # a stray quote inside an unquoted field is text (Calc reads it so too)


class Literal(Dialect):
    """The same without quoting: a ``"`` is text wherever it is (TSVs written before the
    workflow quoted fields, and the other reading of an ambiguous one)."""

    quoting = csv.QUOTE_NONE
    escapechar = None


DIALECT = Dialect


def tsv_cell(value) -> str:
    """One TSV cell: tabs, newlines and backslashes escaped; the formula guard added."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) else f"{value:.4g}"
    text = tsv_escape(str(value))
    if text.startswith(GUARDED):
        text = "'" + text
    return text


def tsv_escape(text: str) -> str:
    """``text`` with tabs, line ends and backslashes escaped: a cell as a reviewer or a
    script writes a fix (no guard; :func:`tsv_unescape` reads it back)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tsv_uncell(text: str) -> str:
    """The text of a cell :func:`tsv_cell` wrote (guard removed, escapes undone)."""
    if text.startswith("'") and text[1:2] in GUARDED:
        text = text[1:]
    return tsv_unescape(text)


def tsv_unescape(text: str) -> str:
    """A cell's text with the escapes undone (``\\t``, ``\\n``, ``\\r``, ``\\\\``); no guard removed."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def tsv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A whole TSV file: header and rows, every cell through :func:`tsv_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, DIALECT)
    w.writerow(header)
    w.writerows([tsv_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def read_tsv(text: str, field_limit: int, *, quoted: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line the row starts on, raw cells) of every row of ``text`` (LF, CRLF or CR-only
    line ends; RFC 4180 quotes unless ``quoted`` is false); a cell longer than
    ``field_limit`` raises ``csv.Error``."""
    old = csv.field_size_limit(field_limit)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), DIALECT if quoted else Literal)
        start = 1
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    finally:
        csv.field_size_limit(old)
