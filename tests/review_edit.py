"""Editing review files the way a reviewer's tool does, for the review-import tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from workflow.core.tsv import DIALECT, read_tsv, tsv_escape, tsv_uncell


class Table:
    """An exported ``<doc>.tsv`` as raw cells: edit with :meth:`set`, write with :meth:`save`."""

    def __init__(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        rows = [cells for _, cells in read_tsv(text, len(text) + 1)]
        self.header, self.rows = rows[0], rows[1:]
        self.col = {c: i for i, c in enumerate(self.header)}

    def get(self, i: int, column: str) -> str:
        return tsv_uncell(self.rows[i][self.col[column]])

    def set(self, i: int, column: str, text: str, *, raw: bool = False) -> None:
        """Write ``text`` into a cell as a reviewer or a script does (escaped, no formula
        guard; ``raw``: exactly these characters)."""
        self.rows[i][self.col[column]] = text if raw else tsv_escape(text)

    def line(self, i: int) -> int:
        """The file line of row ``i`` (the workflow writes one row per line)."""
        return i + 2

    def where(self, column: str, value: str) -> list[int]:
        return [i for i in range(len(self.rows)) if self.get(i, column) == value]

    def text(self, newline: str = "\n") -> str:
        buf = io.StringIO()
        w = csv.writer(buf, DIALECT, lineterminator=newline)
        w.writerow(self.header)
        w.writerows(self.rows)
        return buf.getvalue()

    def save(self, path: Path, newline: str = "\n", encoding: str = "utf-8") -> Path:
        path.write_bytes(self.text(newline).encode(encoding))
        return path

    def copy(self) -> "Table":
        new = object.__new__(Table)
        new.header, new.rows, new.col = list(self.header), [list(r) for r in self.rows], dict(self.col)
        return new
