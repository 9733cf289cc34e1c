"""Publishing keeps what a reviewer's OmegaT wrote into its project, and only that, across a rerun."""

from __future__ import annotations

from review_rows import sample_rows
from workflow.outputs.publish import REMOVED, write_outputs

TARGETS = ["be", "ru"]


def test_a_rerun_keeps_omegat_project_memory_and_targets_in_place(tmp_path):
    out = tmp_path / "aligned"
    rows = sample_rows()
    write_outputs(out, rows, TARGETS, {"documents": 1})
    memory = out / "omegat" / "be" / "omegat" / "project_save.tmx"
    translated = out / "omegat" / "be" / "target" / "doc-1.po"
    stray = out / "old-document.tsv"  # an output of a document no longer in the corpus
    for path, text in ((memory, "<tmx>reviewer's work</tmx>"), (translated, "msgid \"\""), (stray, "id\ten\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    notes = write_outputs(out, rows, TARGETS, {"documents": 1})
    assert memory.read_text(encoding="utf-8") == "<tmx>reviewer's work</tmx>"
    assert translated.read_text(encoding="utf-8") == "msgid \"\""
    assert not stray.exists()
    moved = list((out / REMOVED).rglob("old-document.tsv"))
    assert len(moved) == 1 and moved[0].read_text(encoding="utf-8") == "id\ten\n"
    assert len(notes) == 1 and "old-document.tsv" in notes[0] and "project_save" not in notes[0]
