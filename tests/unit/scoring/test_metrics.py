"""sacrebleu wrappers: corpus/segment BLEU, chrF++, TER with signatures; paired tests."""

from __future__ import annotations

import pytest

from workflow.scoring.metrics import corpus_scores, paired_test, sentence_scores, signatures

REFS = [
    "Міліцыя павінна несці адказнасць за гвалт.",
    "Ён закахаўся ў найлепшага сябра.",
    "Каву з вяршкамі і цукрам, калі ласка.",
    "Кіншаса — сталіца Дэмакратычнай Рэспублікі Конга.",
]
GOOD = [
    "Міліцыя павінна несці адказнасць за гвалт.",
    "Ён закахаўся ў свайго найлепшага сябра.",
    "Каву з вяршкамі і цукрам, калі ласка.",
    "Кіншаса — сталіца Дэмакратычнай Рэспублікі Конга.",
]
BAD = [
    "Полиция должна отвечать за насилие.",
    "Он влюбился в лучшего друга.",
    "Кофе со сливками и сахаром, пожалуйста.",
    "Киншаса — столица Конго.",
]


def test_identical_output_scores_perfectly_with_signatures():
    s = corpus_scores(REFS, [REFS])
    assert s["bleu"].score == pytest.approx(100.0)
    assert s["chrf"].score == pytest.approx(100.0)
    assert s["ter"].score == pytest.approx(0.0)
    assert "tok:13a" in s["bleu"].signature and "version:" in s["bleu"].signature
    assert "nw:2" in s["chrf"].signature  # chrF++
    assert "BLEU" in str(s["bleu"]) and "[" in str(s["bleu"])


def test_plain_chrf_option_and_ordering():
    good = corpus_scores(GOOD, [REFS], metrics=("bleu", "chrf"), chrf_word_order=0)
    bad = corpus_scores(BAD, [REFS], metrics=("bleu", "chrf"), chrf_word_order=0)
    assert "nw:0" in good["chrf"].signature
    assert good["bleu"].score > bad["bleu"].score
    assert good["chrf"].score > bad["chrf"].score


def test_sentence_scores_per_segment_and_empty_reference():
    scores = sentence_scores(GOOD + ["x"], [REFS + [""]])
    assert scores[0]["bleu"] == pytest.approx(100.0) and scores[0]["ter"] == pytest.approx(0.0)
    assert scores[1]["chrf"] < 100.0
    assert scores[-1] == {}


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError, match="3 segments"):
        corpus_scores(GOOD, [REFS[:3]])


def test_signatures_for_printing():
    sig = signatures()
    assert set(sig) == {"bleu", "chrf", "ter"}
    assert "nrefs:1" in sig["bleu"] and "nw:2" in sig["chrf"]


@pytest.mark.parametrize("test", ["ar", "bs"])
def test_paired_test_is_reproducible_and_finds_the_better_system(test):
    systems = {"baseline": BAD * 5, "better": GOOD * 5}
    refs = [REFS * 5]
    a = paired_test(systems, refs, test=test, n_samples=200, seed=7)
    b = paired_test(systems, refs, test=test, n_samples=200, seed=7)
    assert [c.p_value for c in a] == [c.p_value for c in b]
    bleu = next(c for c in a if c.metric == "bleu")
    assert bleu.system_score > bleu.baseline_score
    assert bleu.p_value is not None and bleu.p_value < 0.05 and bleu.significant
    assert "seed:7" in bleu.signature
    assert "p =" in str(bleu)


def test_paired_test_needs_two_systems():
    with pytest.raises(ValueError):
        paired_test({"only": GOOD}, [REFS])
