"""M2M-100 (facebook/m2m100_418M style) on a tiny local model: family detection, the
forced ``__be__`` / ``__ru__`` first decoder token, CTranslate2 parity and batching, and
an end-to-end run. Random weights: outputs are compared between engines and with a direct
``generate()``, never asserted to be non-empty text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from conftest import CORPUS, corpus_lines, cyrillic_lines, write_config
from test_ctranslate2 import SENTENCES, assert_same, make_settings, translate
from workflow.cli.app import main
from workflow.core.config import ModelRef
from workflow.core.errors import ConfigError
from workflow.testing.tinymodels import build_m2m100
from workflow.translation.engines.ctranslate2 import CT2Engine
from workflow.translation.engines.transformers import TransformersEngine
from workflow.translation.families import M2M100Family
from workflow.translation.hub import fingerprint, resolve

TARGETS = ("be", "ru")
DOCS = ("amnesty-belarus-police-must-be-held-accountable.txt", "amnesty-urges-investigation-of-torture-in-belarus.txt")


@pytest.fixture(scope="module")
def ct2_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ct2-cache")


@pytest.fixture(scope="module")
def reference(tiny_m2m100):
    """The folder's tokenizer and model loaded directly with transformers (not through the engine)."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_m2m100)), AutoModelForSeq2SeqLM.from_pretrained(str(tiny_m2m100)).eval()


def test_resolve_detects_m2m100_family(tiny_m2m100, reference):
    model = resolve(ModelRef(str(tiny_m2m100)))
    assert model.local and model.folder == tiny_m2m100.resolve()
    family = model.family()
    assert isinstance(family, M2M100Family) and family.name == "m2m100"
    assert family.src_lang == "en" and family.tokenizer_kwargs() == {"src_lang": "en"}
    tok, net = reference
    for target in TARGETS:
        assert family.supports(target)
        assert family.source_text("Hello.", target) == "Hello."  # the language goes to the decoder
        prefix = family.target_prefix(target)
        assert prefix == f"__{target}__"
        # the language token is one special token, the one the tokenizer itself uses for the target
        assert tok.convert_tokens_to_ids(prefix) == tok.get_lang_id(target) < net.config.vocab_size
        assert prefix in tok.all_special_tokens
    assert tok.get_lang_id("be") != tok.get_lang_id("ru")
    # the interfaces of facebook/m2m100_418M: __en__ ... </s> in, </s> as decoder start
    assert type(tok).__name__ == "M2M100Tokenizer" and net.config.model_type == "m2m_100"
    ids = tok("Belarus must release all political prisoners.").input_ids
    assert ids[0] == tok.get_lang_id("en") and ids[-1] == tok.eos_token_id
    assert net.config.decoder_start_token_id == net.config.eos_token_id == tok.eos_token_id
    assert net.config.vocab_size == len(tok.encoder) + len(tok.lang_token_to_id) + tok.num_madeup_words


def test_build_is_deterministic(tiny_m2m100, tmp_path):
    """Same texts and seed: the same files, byte for byte (so the same cache key)."""
    again = build_m2m100(tmp_path / "again", corpus_lines() + cyrillic_lines())

    def model_files(folder):  # the fixture's folder also holds the test-model cache's dot-file marker
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))

    assert model_files(again) == model_files(tiny_m2m100)
    assert fingerprint(again) == fingerprint(tiny_m2m100)


def test_target_missing_from_the_language_list_is_refused(tiny_m2m100, tmp_path, ct2_cache):
    """An M2M-100 tokenizer with another language list (like the WMT-21 models': no
    Belarusian) has no ``__be__``: the tokenizer would turn it into ``<unk>`` and force that
    silently, so the model must be refused for ``be`` before anything is translated."""
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    folder = tmp_path / "m2m100-wmt21-codes"
    shutil.copytree(tiny_m2m100, folder)
    smap = json.loads((folder / "special_tokens_map.json").read_text(encoding="utf-8"))
    smap["additional_special_tokens"] = [f"__{c}__" for c in FAIRSEQ_LANGUAGE_CODES["wmt21"]]
    (folder / "special_tokens_map.json").write_text(json.dumps(smap), encoding="utf-8")
    tok_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    (folder / "tokenizer_config.json").write_text(json.dumps({**tok_config, "language_codes": "wmt21"}), encoding="utf-8")
    model = resolve(ModelRef(str(folder)))
    family = model.family()
    assert family.name == "m2m100" and family.supports("ru") and not family.supports("be")
    settings = make_settings(ct2_cache, engine="transformers")
    engine = TransformersEngine(model, settings)
    with pytest.raises(ConfigError, match="cannot translate into 'be'"):
        engine.translate(SENTENCES[:2], "be")
    assert len(engine.translate(SENTENCES[:2], "ru")) == 2


@pytest.mark.parametrize("target", TARGETS)
def test_transformers_engine_forces_the_target_token(tiny_m2m100, reference, target, ct2_cache):
    """The engine's output is a greedy decode that starts with ``</s> __be__``: the same as
    ``generate(..., forced_bos_token_id=tokenizer.get_lang_id(target))`` called directly,
    text and token count, and not the same as decoding without the forced token."""
    import torch

    tok, net = reference
    settings = make_settings(ct2_cache, engine="transformers", batch_size=1, ratio=0.0)  # 10 new tokens each
    engine = TransformersEngine(resolve(ModelRef(str(tiny_m2m100))), settings)
    assert engine._forced_bos(target) == tok.get_lang_id(target)
    got = engine.translate(SENTENCES, target)
    lang = tok.get_lang_id(target)
    unforced_differs = 0
    for text, out in zip(SENTENCES, got):
        enc = tok(text, return_tensors="pt")
        with torch.inference_mode():
            seq = net.generate(**enc, forced_bos_token_id=lang, num_beams=1, do_sample=False, max_new_tokens=10)[0].tolist()
            free = net.generate(**enc, num_beams=1, do_sample=False, max_new_tokens=10)[0].tolist()
        assert seq[:2] == [tok.eos_token_id, lang]  # decoder start, then the target language
        body = seq[2:]
        if tok.eos_token_id in body:
            body = body[: body.index(tok.eos_token_id) + 1]
        assert out.text == tok.decode(seq, skip_special_tokens=True).strip()
        assert out.n_tokens == len(body)  # the forced token is not counted, </s> is
        unforced_differs += free[1] != lang
    assert unforced_differs > 0, "the model chooses the target token by itself: forcing is not tested"


def test_ct2_engine_source_and_prefix_tokens(tiny_m2m100, reference, ct2_cache):
    """ct2 gets the same source tokens as transformers (``__en__ ... </s>``) and the target
    language as the decoder prefix, which comes back first in the hypothesis."""
    tok, _ = reference
    settings = make_settings(ct2_cache)
    engine = CT2Engine(resolve(ModelRef(str(tiny_m2m100))), settings)
    assert engine._ids(SENTENCES, "be") == tok(SENTENCES).input_ids
    sources = engine._source_tokens(SENTENCES[:3], "be")
    assert all(s[0] == "__en__" and s[-1] == "</s>" and s.count("__en__") == 1 for s in sources)
    for target in TARGETS:
        results = engine.translator.translate_batch(sources, [[f"__{target}__"]] * len(sources), max_decoding_length=4)
        assert all(r.hypotheses[0][0] == f"__{target}__" for r in results)
        assert all(f"__{target}__" not in t.text for t in engine.translate(SENTENCES[:3], target))


@pytest.mark.parametrize("target", TARGETS)
def test_float32_greedy_parity(tiny_m2m100, target, ct2_cache):
    """One sentence at a time, length limit tied to each source (as test_ctranslate2.py):
    identical text and token counts, confidence within LOGPROB_TOL."""
    hf = translate(TransformersEngine, tiny_m2m100, target, make_settings(ct2_cache, engine="transformers", batch_size=1, ratio=0.3))
    fast = translate(CT2Engine, tiny_m2m100, target, make_settings(ct2_cache, batch_tokens=1, ratio=0.3))
    assert_same(hf, fast, f"tiny_m2m100->{target}")
    assert len({t.text for t in hf}) > 1, "all outputs alike: parity would prove little"


def test_targets_give_different_outputs(tiny_m2m100, ct2_cache):
    out = {t: translate(CT2Engine, tiny_m2m100, t, make_settings(ct2_cache, ratio=0.0)) for t in TARGETS}
    assert [x.text for x in out["be"]] != [x.text for x in out["ru"]]


def test_batched_equals_unbatched(tiny_m2m100, ct2_cache):
    """Neither padding nor the other sentences of a batch change anything: the length limit
    is each source's own (its length bucket's), whatever the batch."""
    runs = {
        "ct2-unbatched": translate(CT2Engine, tiny_m2m100, "be", make_settings(ct2_cache, ratio=0.3, batch_tokens=1)),
        "ct2-batched": translate(CT2Engine, tiny_m2m100, "be", make_settings(ct2_cache, ratio=0.3, batch_tokens=4096)),
        "hf-batched": translate(TransformersEngine, tiny_m2m100, "be", make_settings(ct2_cache, engine="transformers", ratio=0.3, batch_size=16)),
    }
    ref = runs["ct2-unbatched"]
    for name, out in runs.items():
        assert_same(ref, out, f"tiny_m2m100: {name} vs ct2-unbatched")


def test_run_end_to_end(tmp_path, tiny_m2m100):
    """``workflow run`` with M2M-100 for both targets (the default engine: CTranslate2 int8)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in DOCS:
        shutil.copy(CORPUS / name, corpus)
    cfg = write_config(tmp_path, be=tiny_m2m100, ru=tiny_m2m100, corpus=corpus)
    main(["run", "--config", str(cfg)])
    out = tmp_path / "aligned"
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["models_loaded"] == 1  # one model, both targets
    assert sorted(p.name for p in out.glob("*.tsv") if p.name != "skipped.tsv") == sorted(n.replace(".txt", ".tsv") for n in DOCS)
    for name in DOCS:
        lines = (out / name.replace(".txt", ".tsv")).read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t")
        assert header[:6] == ["id", "status_be", "status_ru", "en", "be", "ru"]
        rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
        assert all(len(line.split("\t")) == len(header) for line in lines)
        mt = [r for r in rows if r["status_be"] == "mt"]
        assert len(mt) >= 5
        for t in TARGETS:  # every translated row has a confidence for both targets
            assert all(r[f"confidence_{t}"] for r in mt)
    df = pl.read_parquet(out / "segments.parquet")
    mt = df.filter(pl.col("status") == "mt")
    assert set(mt["target"]) == set(TARGETS)
    assert set(df["model"]) == {str(tiny_m2m100)}
    assert mt["logprob"].null_count() == 0 and (mt["logprob"] < 0).all()
    empty = mt.filter(pl.col("mt") == "")  # a random model may stop at once: flagged, not hidden
    assert all("empty" in f for f in empty["flags"].to_list())
    assert mt.filter(pl.col("target") == "be")["mt"].to_list() != mt.filter(pl.col("target") == "ru")["mt"].to_list()
