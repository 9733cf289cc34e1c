"""Ingest on the seeds' real quirks, and on the encodings users will bring."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.core.config import Ingest
from workflow.core.errors import InputError
from workflow.corpus.ingest import decode, normalise_paragraph, normalise_text, read_document, split_paragraphs

from conftest import CORPUS


def doc(name: str):
    return read_document(CORPUS / name, Ingest())


def test_broken_entities_become_characters_and_spaces_fold():
    d = doc("amnesty-urges-investigation-of-torture-in-belarus.txt")
    texts = [p.text for p in d.paragraphs]
    assert "A new report by human rights defenders speaks of the need to use international justice" in texts
    assert not any("&#" in t or "\u00a0" in t for t in texts)
    # the bullet line keeps its words, loses the bullet, and decodes &# 171; / &# 187;
    credit = next(p for p in d.paragraphs if "Voices of America" in p.text)
    assert credit.text.startswith("Russian service «") and credit.text.endswith("»")


def test_double_full_stops_are_repaired_but_ellipses_kept():
    d = doc("amnesty-urges-investigation-of-torture-in-belarus.txt")
    assert any(p.text.endswith("torture and ill-treatment.") for p in d.paragraphs)
    assert not any(".." in p.text.replace("...", "") for p in d.paragraphs)
    assert normalise_paragraph("He said so... Then left..") == "He said so... Then left."


def test_boilerplate_is_marked_with_reasons_not_dropped():
    mt = doc("moscow-times-belarus-rights-abuses-under-fire-at-un.txt")
    skipped = {p.text: p.skip for p in mt.paragraphs if p.skip}
    assert "donation" in skipped["Support The Moscow Times!"]
    assert "photo credit" in skipped["Stringer / TASS"]
    assert skipped["Read more"] and skipped["Continue"]
    assert any(t.startswith("Your support, no matter how small") for t in skipped)
    kept = [p.text for p in mt.paragraphs if not p.skip]
    assert kept[0] == "Belarus Rights Abuses Under Fire at UN"  # the real title is not a "related headline"
    assert "'Fraudulent'" in kept  # a one-word subheading is article text

    amnesty = doc("amnesty-belarus-police-must-be-held-accountable.txt")
    tail = [p for p in amnesty.paragraphs if p.skip]
    assert [p.text[:12] for p in tail] == ["For further ", "Lucy Scholey"]

    ministry = doc("belarus-interior-ministry-to-un-we-are-honest.txt")
    related = [p for p in ministry.paragraphs if p.skip]
    assert len(related) == 1 and related[0].text.startswith("“If You Die") and "related" in related[0].skip

    voa = doc("amnesty-urges-investigation-of-torture-in-belarus.txt")
    reasons = {p.text: p.skip for p in voa.paragraphs if p.skip}
    assert reasons["Amnesty International urges to investigate torture in Belarus"] == "duplicate of paragraph 1"
    assert {"I will follow", "Other news"} <= set(reasons)


def test_boilerplate_rules_can_be_switched_off():
    d = read_document(CORPUS / "moscow-times-belarus-rights-abuses-under-fire-at-un.txt",
                      Ingest(boilerplate=False, duplicate_paragraphs=False, related_headlines=False))
    assert not any(p.skip for p in d.paragraphs)


def test_paragraph_structure_and_line_numbers():
    d = doc("joint-statement-belarusian-human-rights-community-2023.txt")
    assert len(d.paragraphs) == 22  # one paragraph per line, no blank lines in this file
    assert d.paragraphs[1].text == "November 12, 2023" and d.paragraphs[1].line == 2
    wrapped = split_paragraphs("A line that is hard\nwrapped in the middle.\n\nNext paragraph.")
    assert wrapped == [(1, "A line that is hard wrapped in the middle."), (4, "Next paragraph.")]


def test_belarusian_cp1251_is_not_mistaken_for_damaged_utf8():
    text = "Мінск і Гродна: Сімяон Полацкі, ўсе правы чалавека. Вясна і Беларускі Хельсінкскі камітэт.\n" * 4
    decoded, used = decode(text.encode("cp1251"), "be.txt")
    assert decoded == text and used == "cp1251"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1251", "koi8_r"])
def test_decodes_boms_and_legacy_cyrillic(encoding):
    text = "Лукашенко: права человека - это не пустые слова, и этого достаточно для проверки.\n" * 3
    decoded, used = decode(text.encode(encoding), "doc.txt")
    assert decoded == text
    assert used.replace("-", "_").lower() == {"utf-8-sig": "utf_8_sig", "utf-16": "utf_16"}.get(encoding, encoding)


def test_refuses_binary_and_undecodable_with_file_and_line():
    with pytest.raises(InputError, match="image.txt.*binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "image.txt")
    with pytest.raises(InputError, match=r"bad.txt:2: not valid UTF-8"):
        decode("fine line\nthe café served a naïve crème brûlée\n".encode("latin-1"), "bad.txt")


def test_invisible_and_control_characters_are_removed():
    assert normalise_text("a\u200bb\u202ec\x00d\r\ne\rf") == "abcd\ne\nf"


def test_english_with_stray_bytes_is_refused_not_read_as_cp1251():
    with pytest.raises(InputError, match=r"doc.txt:2: .*not valid UTF-8"):
        decode(b"Plain English text about the protests.\nA line with stray bytes \xff\xfe\xfa in it.\n" * 3, "doc.txt")
    with pytest.raises(InputError, match=r"mixed.txt:1: damaged UTF-8"):
        decode("Лукашенко said \u201cno\u201d ".encode("utf-8") + b"\xff\n", "mixed.txt")


def test_breaks_that_are_not_newlines_keep_their_meaning(tmp_path):
    """Word's manual line break (U+000B) and U+2028 break a line inside a paragraph (a
    space, never words run together); U+2029 separates paragraphs (line numbers unchanged)."""
    path = tmp_path / "word-export.txt"
    path.write_text("Title of the statement\n"
                    "The court sentenced him\x0bto five years.\u2028His lawyer\u2028appealed.\n"
                    "Second paragraph ends here.\u2029Third paragraph starts here.\n"
                    "Last line.\n", encoding="utf-8")
    d = read_document(path, Ingest())
    assert [(p.line, p.text) for p in d.paragraphs] == [
        (1, "Title of the statement"),
        (2, "The court sentenced him to five years. His lawyer appealed."),
        (3, "Second paragraph ends here."),
        (3, "Third paragraph starts here."),
        (4, "Last line."),
    ]
    # the same breaks with spaces around them collapse to one space
    assert normalise_paragraph(normalise_text("a \x0b b\u2028 c")) == "a b c"
    # a page break (form feed) also ends a paragraph; one left inside a line split by a caller is a space
    assert split_paragraphs(normalise_text("end of page one.\x0cPage two.")) == [(1, "end of page one."), (1, "Page two.")]
    assert normalise_paragraph("one\u2029two") == "one two"
