"""English sentence splitting on the seeds, and stable segment ids."""

from __future__ import annotations

from pathlib import Path

from workflow.core.config import Ingest
from workflow.corpus.ingest import read_document
from workflow.corpus.segment import segment_document, split_sentences, text_hash

from conftest import CORPUS


def test_abbreviations_quotes_and_ellipses():
    assert split_sentences("U.S. Ambassador Andrew Bremberg told the assembly. He left.") == [
        "U.S. Ambassador Andrew Bremberg told the assembly.", "He left."]
    # a closed quotation stays one segment (sentencex keeps quoted speech together)
    assert split_sentences("“We did not aim to persuade someone. We are honest.” He left.") == [
        "“We did not aim to persuade someone. We are honest.”", "He left."]
    assert split_sentences("the use of unregistered symbols, carefully planned provocations, etc.”.") == [
        "the use of unregistered symbols, carefully planned provocations, etc.”."]
    assert len(split_sentences("We sought to convey information. […] We stressed that every fact counts.")) == 2


def test_belarusian_and_russian_splitting():
    assert split_sentences("Ён нарадзіўся ў г. Мінску. Потым пераехаў.", "be") == ["Ён нарадзіўся ў г. Мінску.", "Потым пераехаў."]
    assert split_sentences("Т. е. это было в г. Минске. Все знали.", "ru") == ["Т. е. это было в г. Минске.", "Все знали."]


def test_segments_of_a_seed_have_stable_ids_and_hashes():
    doc = read_document(CORPUS / "amnesty-belarus-police-must-be-held-accountable.txt", Ingest())
    segs = segment_document(doc)
    ids = [s.seg_id for s in segs]
    assert len(ids) == len(set(ids))
    assert ids[:4] == [f"{doc.doc_id}:p1:s1", f"{doc.doc_id}:p2:s1", f"{doc.doc_id}:p3:s1", f"{doc.doc_id}:p4:s1"]
    p4 = [s.text for s in segs if s.para == 4]
    assert p4 == [
        "“According to our information not a single criminal case has been opened against police who brutally tortured hundreds of peaceful protesters.",
        "Yet, dozens of criminal cases have been launched against these protesters, often without any credible evidence of wrongdoing.",
        "Belarusians are peacefully demanding accountability to prevent this dangerous culture of impunity.",
    ]
    assert segs[0].hash == text_hash("Belarus:  Police must be held accountable for violence")  # whitespace-folded
    assert segment_document(read_document(CORPUS / "amnesty-belarus-police-must-be-held-accountable.txt", Ingest())) == segs
    assert [s.skip is not None for s in segs][-2:] == [True, True]  # media-contact lines listed, marked
