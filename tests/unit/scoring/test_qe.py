"""`workflow qe`: files in, TSV out (atomic, spreadsheet-safe), errors naming file and line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from workflow.cli.qe import qe_command
from workflow.core.errors import InputError
from workflow.core.tsv import tsv_cell
from workflow.core.text import read_lines
from workflow.scoring.qe import score_files, write_tsv

SRC = [
    "He fell in love with his best friend.",
    "Over 6,700 people were detained on 31 August.",
    "=1+1 is a formula.",
]
MT_BE = [
    "Ён закахаўся ў найлепшага сябра.",
    "Болей за 7 600 чалавек было затрымана 31 жніўня.",
    "=1+1 — гэта формула.",
]


def write(tmp_path: Path, name: str, lines: list[str], newline: str = "\n", bom: bool = False) -> Path:
    p = tmp_path / name
    data = newline.join(lines) + newline
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return p


def test_read_lines_tolerates_bom_and_crlf(tmp_path):
    p = write(tmp_path, "a.txt", ["one", "", "three"], newline="\r\n", bom=True)
    assert read_lines(p) == ["one", "", "three"]


def test_invalid_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes("добра\nдрэнна ".encode() + b"\xff\xfe x\n")
    with pytest.raises(InputError, match=r"bad\.txt:2: not valid UTF-8"):
        read_lines(p)


def test_line_count_mismatch_names_the_line(tmp_path):
    src = write(tmp_path, "src.txt", SRC)
    mt = write(tmp_path, "mt.txt", MT_BE[:2])
    with pytest.raises(InputError, match=r"src\.txt:3: 3 source lines but 2 MT lines"):
        score_files(src, mt, "be")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        score_files(tmp_path / "nope.txt", tmp_path / "nope2.txt", "be")


def test_safe_cell_neutralises_formulas():
    assert tsv_cell("=SUM(A1)") == "'=SUM(A1)"
    assert tsv_cell("+7") == "'+7" and tsv_cell("-3") == "'-3" and tsv_cell("@x") == "'@x"
    assert tsv_cell("a\tb\nc") == "a\\tb\\nc"  # escaped, so review import restores them
    assert tsv_cell("Мінск") == "Мінск"


def test_tsv_columns_order_and_blame(tmp_path):
    src = write(tmp_path, "src.txt", SRC)
    mt = write(tmp_path, "mt.txt", MT_BE)
    out = write_tsv(score_files(src, mt, "be"), tmp_path / "out" / "qe.tsv", order="weak")
    rows = list(csv.DictReader(out.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert list(rows[0]) == ["segment", "weak_score", "flagged", "flags", "spans", "source", "mt"]
    assert rows[0]["segment"] == "2"  # the changed number is the worst segment
    assert "numbers" in rows[0]["flags"]
    start = MT_BE[1].index("7 600")
    assert f"{start}-{start + 5}:numbers: number 7 600 not in the source" in rows[0]["spans"]
    by_id = {r["segment"]: r for r in rows}
    # the learned model: a probability, lower for the faithful translation, which stays
    # outside the review budget (the weakest 20 %: one of three segments)
    assert 0.0 <= float(by_id["1"]["weak_score"]) < float(rows[0]["weak_score"]) <= 1.0
    assert by_id["1"]["flagged"] == "0" and rows[0]["flagged"] == "1"
    assert by_id["3"]["source"].startswith("'=1+1") and by_id["3"]["mt"].startswith("'=1+1")
    assert [p.name for p in out.parent.iterdir()] == ["qe.tsv"]  # no temp file left


def test_cli_command(tmp_path):
    app = typer.Typer()
    app.command("qe")(qe_command)
    app.command("noop")(lambda: None)
    src = write(tmp_path, "src.txt", SRC)
    mt = write(tmp_path, "mt.txt", MT_BE)
    out = tmp_path / "qe.tsv"
    res = CliRunner().invoke(app, ["qe", "--src", str(src), "--mt", str(mt), "--tgt-lang", "be", "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and lines[1].startswith("1\t")


def test_unknown_target_language(tmp_path):
    src = write(tmp_path, "src.txt", SRC)
    with pytest.raises(InputError, match="--tgt-lang"):
        score_files(src, src, "de")
