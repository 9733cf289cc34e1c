"""Reading a review workbook (``<doc>.xlsx``, ``workflow.outputs.xlsx``) back as a review table.

The workbook is checked before openpyxl sees it: it must be a zip archive whose parts
together stay under the size limit the importer gives (a zip bomb is refused), and no
part may hold a DOCTYPE (an OOXML part never has one; one there can only declare
entities). openpyxl then reads it read-only, with defusedxml (a dependency) refusing
entities. Cells are read as they are stored: a string is the text exactly (an
apostrophe typed into the text stays), a number becomes its digits, and a formula in a
target or status cell is refused (the spreadsheet ran it: its text is gone).

The columns are found by their header labels; the hidden ``key_id`` column, when there,
gives the segment id and ``key_hash`` the hash of the English it was exported for. The
line of each row is its row number in the sheet.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence

from openpyxl import load_workbook

from workflow.outputs.xlsx import KEY_ID, SHEET, labels
from workflow.review.parse import Problem

_DOCTYPE = re.compile(rb"<\x00?!\x00?D\x00?O\x00?C\x00?T\x00?Y\x00?P\x00?E", re.I)


class XlsxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def check_archive(data: bytes, max_unpacked: int) -> None:
    """Raise :class:`XlsxError` unless ``data`` is a zip archive of at most
    ``max_unpacked`` bytes unpacked with no DOCTYPE in any part."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise XlsxError(1, "not an .xlsx workbook (not a zip archive): save it as Excel 2007-365 (.xlsx)") from None
    with archive:
        infos = archive.infolist()
        if any(i.filename == "mimetype" for i in infos) and archive.read("mimetype")[:60].startswith(
                b"application/vnd.oasis.opendocument"):
            raise XlsxError(1, "an OpenDocument file (.ods): save it as Excel 2007-365 (.xlsx) and import that")
        unpacked = sum(i.file_size for i in infos)
        if unpacked > max_unpacked:
            raise XlsxError(1, f"the workbook unpacks to {unpacked / 2**20:.0f} MB, more than the "
                               f"{max_unpacked / 2**20:.0f} MB a review workbook may hold")
        for info in infos:
            try:
                with archive.open(info) as part:
                    body = part.read(max_unpacked + 1)  # the declared size may lie
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as e:
                raise XlsxError(1, f"damaged workbook: part {info.filename} cannot be unpacked ({e})") from None
            if len(body) > max_unpacked:
                raise XlsxError(1, f"the workbook part {info.filename} unpacks to more than "
                                   f"{max_unpacked / 2**20:.0f} MB")
            if _DOCTYPE.search(body):
                raise XlsxError(1, f"the workbook part {info.filename} has a DOCTYPE declaration (an .xlsx has "
                                   "none; a DTD here can only declare entities): save it again from the spreadsheet")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def read_workbook(data: bytes, name: str, targets: Sequence[str], max_unpacked: int
                  ) -> tuple[list[str], list[tuple[int, list[str]]], list[Problem]]:
    """(column keys, (row number, cell texts) of every row, problems) of a review workbook.
    Raises :class:`XlsxError` when it is not one."""
    check_archive(data, max_unpacked)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as e:  # noqa: BLE001 - openpyxl raises KeyError, ValueError, TypeError... for damaged parts
        raise XlsxError(1, f"cannot be read as a workbook ({type(e).__name__}: {e})") from None
    try:
        if SHEET not in wb.sheetnames:
            raise XlsxError(1, f"no sheet named {SHEET!r} (sheets: {', '.join(wb.sheetnames)}): "
                               "not a review workbook from aligned/<doc>.xlsx")
        rows = wb[SHEET].iter_rows()
        header = next(rows, ())
        by_label = {k.lower(): v for k, v in labels(targets).items()}
        keys = [by_label.get(_text(c.value).strip().lower(), _text(c.value)) for c in header]
        if KEY_ID in keys:  # the hidden id is the one to match by; the visible one is for people
            keys = ["shown_id" if k == "id" else "id" if k == KEY_ID else k for k in keys]
        editable = {i for i, k in enumerate(keys) if k in targets or k.startswith("status_")}
        table: list[tuple[int, list[str]]] = []
        problems: list[Problem] = []
        for n, row in enumerate(rows, start=2):
            cells = []
            for i, c in enumerate(row):
                if c.data_type == "f" and i in editable:
                    problems.append(Problem(name, n, f"the {keys[i]} cell is a formula ({str(c.value)[:40]}): "
                                                     "to enter a text that starts with =, type an apostrophe first"))
                cells.append(_text(c.value))
            while len(cells) > len(keys) and not cells[-1]:
                cells.pop()  # empty cells right of the table
            table.append((n, cells))
        return keys, table, problems
    finally:
        wb.close()

