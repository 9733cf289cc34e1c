"""workflow.translation.subwords: torch-free tokenizers, identical to transformers' on the tiny models.

Token ids, token strings and decoded text are compared with transformers' AutoTokenizer
(the reference) on the real corpus, Cyrillic sentences and edge cases; then the
CTranslate2 engine and a whole ``workflow run`` are checked, in fresh processes, not to
import torch or transformers once the model is converted.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, corpus_lines, cyrillic_lines, write_config
from workflow.core.config import ModelRef
from workflow.translation.hub import resolve
from workflow.translation.subwords import (MarianSubwords, NllbSubwords, TransformersSubwords, Unsupported, fast_subwords,
                               load_subwords)

TRICKY = [
    "", " ", "   ", "\t", "\n", "<unk>", "</s>", "<pad>", "<s>", "<mask>", "a </s> b", "x<unk>y", "</s></s>", "<unk> </s> <pad>",
    ">>rus<< Hello world.", ">>bel<<Hi", ">>bel<< </s>>>rus<< z", ">>xx", "<<>>", ">> not a code", "a >>bel<< b",
    "Emoji 😀 and 👍🏽 and 🇧🇾.", "Прывітанне, свет! Ёлка і ўсё.", "Привет, мир!", "  leading and trailing  ",
    "tab\tand\nnewline", "a  b   c    d", "don't , isn't . ? ! 's 're", "eng_Latn bel_Cyrl rus_Cyrl text",
    "ﬁ ligature, full-width ＡＢＣ, nbsp\u00a0here, zero\u200bwidth", "Ĳ, Å, e\u0301, ＄100", "«quotes» — dash … ellipsis",
    "x" * 500, " ".join(corpus_lines()) * 3,
]

FAMILY_OF = {"tiny_marian": "marian", "tiny_marian_single": "marian", "tiny_nllb": "nllb"}


def texts_for(fixture: str) -> list[str]:
    base = corpus_lines() + cyrillic_lines() + TRICKY
    if fixture == "tiny_marian":  # as the family gives them to the tokenizer
        base += [f">>{code}<< {t}" for code in ("bel", "rus") for t in corpus_lines()[:20] + TRICKY]
    return base


def pair(folder: Path, family: str):
    from transformers import AutoTokenizer

    resolved = resolve(ModelRef(str(folder)))
    assert resolved.family().name == family
    kwargs = resolved.family().tokenizer_kwargs()
    return fast_subwords(folder, family, **kwargs), AutoTokenizer.from_pretrained(str(folder), **kwargs)


@pytest.mark.parametrize("fixture", list(FAMILY_OF))
def test_encoding_identical(fixture, request):
    fast, ref = pair(request.getfixturevalue(fixture), FAMILY_OF[fixture])
    assert isinstance(fast, MarianSubwords if FAMILY_OF[fixture] == "marian" else NllbSubwords)
    texts = texts_for(fixture)
    ids = fast.encode(texts)
    ref_ids = ref(texts, add_special_tokens=True)["input_ids"]
    for text, a, b in zip(texts, ids, ref_ids):
        assert a == b, f"ids differ for {text[:60]!r}"
        assert fast.ids_to_tokens(a) == ref.convert_ids_to_tokens(b), f"tokens differ for {text[:60]!r}"
        assert fast.tokens_to_ids(fast.ids_to_tokens(a)) == ref.convert_tokens_to_ids(ref.convert_ids_to_tokens(b))
    assert fast.encode([]) == []
    assert fast.eos_token == ref.eos_token
    assert fast.model_max_length == ref.model_max_length
    unknown = ["no-such-piece", "▁zzzqqq", ">>xyz<<"]
    assert fast.tokens_to_ids(unknown) == ref.convert_tokens_to_ids(unknown)


@pytest.mark.parametrize("fixture", list(FAMILY_OF))
def test_decoding_identical(fixture, request):
    """decode(skip_special_tokens=True): encoded texts, random id sequences (special and
    language tokens mixed in) and the whole vocabulary in one sequence."""
    fast, ref = pair(request.getfixturevalue(fixture), FAMILY_OF[fixture])
    n = len(ref)
    rng = random.Random(0)
    seqs = ref(texts_for(fixture), add_special_tokens=True)["input_ids"]
    seqs += [[rng.randrange(n) for _ in range(rng.randrange(0, 40))] for _ in range(500)]
    seqs += [list(range(n)), [], list(ref.all_special_ids)]
    for ids in seqs:
        assert fast.decode(ids) == ref.decode(ids, skip_special_tokens=True), f"decode differs for {ids[:20]}"


def test_fallbacks(tiny_marian, tmp_path):
    """What the module does not reproduce goes to transformers (and still matches)."""
    with pytest.raises(Unsupported):
        fast_subwords(tiny_marian, "m2m100", src_lang="en")  # transformers 5.23: Python sentencepiece tokenizer
    folder = tmp_path / "marian-lstrip"
    shutil.copytree(tiny_marian, folder)
    cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    next(t for t in cfg["added_tokens_decoder"].values() if t["content"] == "<unk>")["lstrip"] = True
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(Unsupported):
        fast_subwords(folder, "marian")
    tok = load_subwords(folder, "marian")
    assert isinstance(tok, TransformersSubwords)
    assert tok.encode(["a <unk> b"]) == tok.tokenizer(["a <unk> b"])["input_ids"]
    assert isinstance(load_subwords(tiny_marian, "marian"), MarianSubwords)


def _run_fresh(code: str) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_ct2_engine_does_not_import_torch(tiny_marian, tiny_nllb, tmp_path):
    from workflow.translation.engines.ctranslate2 import ensure_converted

    cache = tmp_path / "ct2"
    for folder in (tiny_marian, tiny_nllb):  # conversion needs transformers and torch: done here, once
        ensure_converted(resolve(ModelRef(str(folder))), cache, "int8")
    sentences = ["Hello world.", "The cat sat on the mat.", "Viasna documented 1,200 cases in Minsk."]
    cases = [(str(tiny_marian), "be"), (str(tiny_marian), "ru"), (str(tiny_nllb), "be")]
    out = _run_fresh(f"""
        import json, sys
        CASES, SENTENCES = {cases!r}, {sentences!r}
        from workflow.core.config import CT2, Decoding, ModelRef, TranslationSettings
        from workflow.translation.engines.ctranslate2 import CT2Engine
        from workflow.translation.hub import resolve
        settings = TranslationSettings(engine="ctranslate2", decoding=Decoding(beam_size=1, max_length_ratio=0.3, device="cpu"),
                                       ctranslate2=CT2(compute_type="int8", cache_dir={str(cache)!r}))
        kinds, texts = [], []
        for folder, target in CASES:
            engine = CT2Engine(resolve(ModelRef(folder)), settings)
            texts.append([t.text for t in engine.translate(SENTENCES, target)])
            kinds.append(type(engine.tokenizer).__name__)
        print(json.dumps([kinds, texts, "torch" in sys.modules, "transformers" in sys.modules]))
    """)
    kinds, texts, torch_loaded, transformers_loaded = json.loads(out)
    assert kinds == ["MarianSubwords", "MarianSubwords", "NllbSubwords"]
    assert (torch_loaded, transformers_loaded) == (False, False)
    # the torch-free path translates exactly like the same engine on transformers' tokenizer
    from workflow.core.config import CT2, Decoding, TranslationSettings
    from workflow.translation.engines.ctranslate2 import CT2Engine

    settings = TranslationSettings(engine="ctranslate2", decoding=Decoding(beam_size=1, max_length_ratio=0.3, device="cpu"),
                                   ctranslate2=CT2(compute_type="int8", cache_dir=str(cache)))
    for (folder, target), got in zip(cases, texts):
        engine = CT2Engine(resolve(ModelRef(folder)), settings)
        engine.tokenizer = TransformersSubwords(Path(folder), **engine.family.tokenizer_kwargs())
        engine._memo.clear()
        assert [t.text for t in engine.translate(sentences, target)] == got, (folder, target)


def test_workflow_run_does_not_import_torch(tiny_marian, tiny_marian_single, tmp_path):
    """The whole ``workflow run`` on the CTranslate2 engine (pipeline, checks, outputs)."""
    from workflow.core.config import load_config
    from workflow.translation.engines.ctranslate2 import ensure_converted, resolve_compute_type

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in sorted((ROOT / "corpus").glob("*.txt"))[:2]:
        shutil.copy(f, corpus / f.name)
    cfg_path = write_config(tmp_path, be=tiny_marian, ru=tiny_marian_single, corpus=corpus)
    cfg = load_config(cfg_path)
    for folder in (tiny_marian, tiny_marian_single):
        ensure_converted(resolve(ModelRef(str(folder))), cfg.resolve(cfg.ctranslate2.cache_dir), resolve_compute_type("auto", "cpu"))
    out = _run_fresh(f"""
        import sys
        from workflow.cli.app import main
        try:
            main(["run", "--config", {str(cfg_path)!r}])
        except SystemExit as e:
            assert not e.code, e.code
        print("torch" in sys.modules, "transformers" in sys.modules)
    """)
    assert out == "False False"
    assert any((tmp_path / "aligned").iterdir())
