"""CTranslate2 engine: parity with the transformers engine on the tiny local models.

Tolerance for the confidence score: the CTranslate2 engine's ``Translation.logprob``
(converted from ct2's length-normalised score) equals the transformers engine's mean
token log-probability (end token included, forced language token excluded) within
``LOGPROB_TOL`` = 1e-4 at float32; measured differences are about 3e-6.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from conftest import corpus_lines, short_lines

ct2 = pytest.importorskip("ctranslate2")

from workflow.core.config import CT2, Config, Decoding, ModelRef, TranslationSettings  # noqa: E402
from workflow.core.errors import ConfigError, WorkflowError  # noqa: E402
from workflow.core.store import Store  # noqa: E402
from workflow.translation.cache import EnginePool, cache_key, translate_cached  # noqa: E402
from workflow.translation.engines import ENGINES, engine_class, load_engine  # noqa: E402
from workflow.translation.engines.base import device_for, length_bucket  # noqa: E402
from workflow.translation.engines.ctranslate2 import (MIN_BATCHES, CT2Engine, batching, converted_folder,  # noqa: E402
                                                      cuda_devices, ensure_converted, is_valid, resolve_compute_type,
                                                      thread_layout)
from workflow.translation.engines.transformers import TransformersEngine  # noqa: E402
from workflow.translation.hub import resolve  # noqa: E402

LOGPROB_TOL = 1e-4
SENTENCES = corpus_lines()[:12]


@pytest.fixture(scope="module")
def ct2_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ct2-cache")


@pytest.fixture(scope="module")
def eos_marian(tiny_marian, tmp_path_factory) -> Path:
    """The tiny multi-target Marian with a bias towards </s>: it ends some sentences after
    1-25 tokens and runs others to the length limit, so both endings are compared."""
    from safetensors.torch import load_file, save_file

    folder = tmp_path_factory.mktemp("models") / "tiny-marian-eos"
    shutil.copytree(tiny_marian, folder)
    weights = load_file(str(folder / "model.safetensors"))
    weights["final_logits_bias"][0, 0] += 5.5  # </s> is id 0
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def make_settings(cache: Path, *, engine="ctranslate2", compute_type="float32", ratio=0.6, batch_size=16,
                  batch_tokens=2048, beam=1) -> TranslationSettings:
    return TranslationSettings(
        engine=engine,
        decoding=Decoding(beam_size=beam, batch_size=batch_size, batch_tokens=batch_tokens, max_length_ratio=ratio, device="cpu"),
        ctranslate2=CT2(compute_type=compute_type, cache_dir=str(cache)),
    )


def translate(engine_cls, folder: Path, target: str, settings: TranslationSettings, texts=SENTENCES):
    model = resolve(ModelRef(str(folder)))
    return engine_cls(model, settings).translate(texts, target)


def assert_same(a, b, what: str) -> None:
    assert [x.text for x in a] == [y.text for y in b], what
    assert [x.n_tokens for x in a] == [y.n_tokens for y in b], what
    diff = max(abs(x.logprob - y.logprob) for x, y in zip(a, b))
    assert diff <= LOGPROB_TOL, f"{what}: logprob differs by {diff:.2e}"


CASES = [("tiny_marian", "be"), ("tiny_marian", "ru"), ("tiny_nllb", "be"), ("tiny_marian_single", "ru"), ("eos_marian", "be")]


@pytest.mark.parametrize("fixture,target", CASES)
def test_float32_greedy_parity_unbatched(fixture, target, request, ct2_cache):
    """One sentence at a time, length limit tied to each source: identical
    text and token counts, confidence on the same scale."""
    folder = request.getfixturevalue(fixture)
    ratio = 0.6 if fixture == "eos_marian" else 0.3  # the random models rarely stop: keep it short
    hf = translate(TransformersEngine, folder, target, make_settings(ct2_cache, engine="transformers", batch_size=1, ratio=ratio))
    fast = translate(CT2Engine, folder, target, make_settings(ct2_cache, batch_tokens=1, ratio=ratio))
    assert_same(hf, fast, f"{fixture}->{target}")
    if fixture == "eos_marian":  # both endings really occur
        assert any(t.n_tokens < 10 for t in hf) and any(t.n_tokens > 20 for t in hf)


@pytest.mark.parametrize("fixture,target", [("eos_marian", "be"), ("tiny_nllb", "be"), ("tiny_marian_single", "ru")])
def test_batched_equals_unbatched_both_engines(fixture, target, request, ct2_cache):
    """Neither padding nor the other sentences of a batch change a translation: the length
    limit is each source's own (its length bucket's), and these random models run most
    sentences into it (ratio 0.6: limits of 15-45 tokens here), so a limit taken from the
    batch would show. Both engines, one at a time and batched, and the CTranslate2 engine
    on lists that put each sentence beside other ones."""
    folder = request.getfixturevalue(fixture)
    runs = {
        "hf-unbatched": translate(TransformersEngine, folder, target, make_settings(ct2_cache, engine="transformers", batch_size=1)),
        "hf-batched": translate(TransformersEngine, folder, target, make_settings(ct2_cache, engine="transformers", batch_size=16)),
        "ct2-unbatched": translate(CT2Engine, folder, target, make_settings(ct2_cache, batch_tokens=1)),
        "ct2-batched": translate(CT2Engine, folder, target, make_settings(ct2_cache, batch_tokens=4096)),
    }
    ref = runs["hf-unbatched"]
    for name, out in runs.items():
        assert_same(ref, out, f"{fixture}: {name} vs hf-unbatched")
    engine = CT2Engine(resolve(ModelRef(str(folder))), make_settings(ct2_cache, batch_tokens=4096))
    lengths = engine.count_tokens(SENTENCES, target)
    assert len({length_bucket(n) for n in lengths}) > 1 and len({engine.max_new_tokens(n) for n in lengths}) > 1
    mixed = SENTENCES[::2] + [s + " " + s for s in SENTENCES[:4]]  # a list with longer neighbours
    assert_same(engine.translate(mixed, target)[:len(SENTENCES[::2])], ref[::2], f"{fixture}: beside longer sentences")
    assert_same(engine.translate(SENTENCES[1::2], target), ref[1::2], f"{fixture}: beside half of them")


def _tokens(engine: CT2Engine, texts, target):
    sources = engine._source_tokens(texts, target)
    opts = engine._options(sources)
    return sources, [list(r.hypotheses[0]) for r in engine.translator.translate_batch(sources, **opts)]


def test_int8_agrees_with_float32(trained_marian, ct2_cache):
    """int8 against float32 greedy decisions, token by token, on a tiny model trained
    to copy its input (``train_copy``): a random-weight model's next-token distribution
    is nearly flat (top token about 6%), so int8 noise flips about half of its choices;
    a trained model's is not. Per decision: given the float32 output so far as the
    prefix, does int8 choose the same next token (end token included)? Free running:
    position-wise agreement over whole outputs, printed (one flip shifts everything after
    it; measured 87%). Per decision must be >= 95% (measured 98.2%), and the float32
    outputs must depend on the input."""
    texts = short_lines()
    model = resolve(ModelRef(str(trained_marian)))
    engines = {}
    out = {}
    for ct in ("float32", "int8"):
        settings = make_settings(ct2_cache, compute_type=ct, ratio=1.0)  # room to copy and end
        engines[ct] = CT2Engine(model, settings)
        sources, out[ct] = _tokens(engines[ct], texts, "be")
    distinct = len({tuple(o) for o in out["float32"]}) / len(texts)
    assert distinct >= 0.8, f"float32 outputs barely depend on the input ({distinct:.0%} distinct)"
    # free running
    same = total = 0
    for a, b in zip(out["float32"], out["int8"]):
        total += max(len(a), len(b))
        same += sum(x == y for x, y in zip(a, b))
    free = same / total
    # per decision (teacher forced on the float32 output)
    srcs, prefixes, expected = [], [], []
    for src, hyp in zip(sources, out["float32"]):
        for i, tok in enumerate(hyp):
            srcs.append(src)
            prefixes.append(hyp[:i])
            expected.append(tok)
    got = engines["int8"].translator.translate_batch(
        srcs, prefixes, beam_size=1, max_decoding_length=max(len(p) for p in prefixes) + 1, min_decoding_length=0,
        return_end_token=True, max_batch_size=256,
    )
    agree = 0
    for prefix, exp, r in zip(prefixes, expected, got):
        hyp = r.hypotheses[0]
        agree += len(hyp) > len(prefix) and hyp[len(prefix)] == exp
    forced = agree / len(expected)
    print(f"\nint8 vs float32 on {len(texts)} inputs ({distinct:.0%} distinct float32 outputs): per-decision "
          f"token agreement {forced:.4f} ({agree}/{len(expected)}); free-running position-wise agreement "
          f"{free:.4f} ({same}/{total})")
    assert forced >= 0.95


def test_beam_search_runs_and_scores(tiny_marian, tiny_nllb, ct2_cache):
    for folder, target in ((tiny_marian, "be"), (tiny_nllb, "ru")):
        out = translate(CT2Engine, folder, target, make_settings(ct2_cache, beam=3), texts=SENTENCES[:6])
        assert all(t.text and t.n_tokens > 0 and t.logprob is not None and t.logprob <= 0 for t in out)


def test_cache_key_includes_compute_type_and_beam(ct2_cache):
    keys = {
        (ct, beam): CT2Engine.cache_settings(make_settings(ct2_cache, compute_type=ct, beam=beam))
        for ct in ("int8", "float32") for beam in (1, 4)
    }
    assert len({repr(sorted(v.items())) for v in keys.values()}) == 4
    auto = CT2Engine.cache_settings(make_settings(ct2_cache, compute_type="auto"))
    assert auto["compute_type"] == "int8"  # auto on CPU


def test_thread_layout_defaults():
    assert thread_layout(0, 0, "cpu", cores=2) == (2, 1)
    assert thread_layout(0, 0, "cpu", cores=1) == (1, 1)
    assert thread_layout(0, 0, "cpu", cores=8) == (4, 2)
    assert thread_layout(1, 2, "cpu", cores=2) == (1, 2)
    assert thread_layout(0, 0, "cuda", cores=8) == (1, 4)  # one batch at a time on a GPU


def test_engine_table_imports_on_demand_and_names_the_known_engines():
    assert engine_class("transformers") is TransformersEngine and engine_class("ctranslate2") is CT2Engine
    assert all(engine_class(name).name == name for name in ENGINES)
    with pytest.raises(ConfigError, match="engine 'marian' is not available") as err:
        engine_class("marian")
    assert err.value.hint == "Known engines: transformers, ctranslate2."


def test_config_gives_the_stage_only_its_settings(tmp_path, tiny_marian_single):
    """``Config.translation``: engine, decoding, allow_pickle as configured, the ct2 cache
    folder resolved against the config's folder; engines and the pool get nothing else."""
    decoding = Decoding(beam_size=2, device="cpu")
    config = Config(engine="transformers", decoding=decoding, allow_pickle=True,
                    ctranslate2=CT2(compute_type="int8", cache_dir="ct2"), path=tmp_path / "config.toml")
    settings = config.translation
    assert settings == TranslationSettings("transformers", decoding, CT2(compute_type="int8", cache_dir=str(tmp_path / "ct2")), True)
    engine = load_engine(resolve(ModelRef(str(tiny_marian_single))), dataclasses.replace(settings, engine="ctranslate2"))
    assert isinstance(engine, CT2Engine) and engine.settings.decoding == decoding
    assert engine.folder.parent == tmp_path / "ct2" and engine.compute_type == "int8"


def test_auto_device_and_compute_type_follow_what_ctranslate2_reports(monkeypatch):
    """The CUDA branch cannot run here (no GPU): drive it through what CTranslate2 reports."""
    import ctranslate2

    def ct2_device(setting):  # what CT2Engine does
        return device_for(setting, cuda_devices)

    # the real CPU build here: no CUDA device, int8 supported
    assert ct2_device("auto") == "cpu"
    assert resolve_compute_type("auto", "cpu") == "int8"
    assert resolve_compute_type("float32", "cpu") == "float32"  # explicit settings are kept

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    assert ct2_device("auto") == "cuda"
    assert ct2_device("cpu") == "cpu"
    supported = {"cuda": {"float32", "float16", "int8_float16", "int8"}}
    monkeypatch.setattr(ctranslate2, "get_supported_compute_types", lambda device: supported[device])
    assert resolve_compute_type("auto", "cuda") == "int8_float16"
    supported["cuda"] = {"float32", "float16"}  # e.g. a GPU without int8 kernels
    assert resolve_compute_type("auto", "cuda") == "float16"
    supported["cuda"] = {"float32"}  # an old GPU: no float16
    assert resolve_compute_type("auto", "cuda") == "float32"

    def no_cuda_build():
        raise RuntimeError("this CTranslate2 build has no CUDA support")

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", no_cuda_build)
    assert ct2_device("auto") == "cpu"


def test_token_batches_and_progress(tiny_marian, ct2_cache):
    settings = make_settings(ct2_cache, batch_tokens=120)
    engine = CT2Engine(resolve(ModelRef(str(tiny_marian))), settings)
    lengths = engine.count_tokens(SENTENCES, "be")
    order = sorted(range(len(lengths)), key=lambda k: -lengths[k])
    batches = engine.batches(order, lengths)
    assert sorted(k for b in batches for k in b) == list(range(len(SENTENCES)))
    assert all(len(b) == 1 or max(lengths[k] for k in b) * len(b) <= 120 for b in batches)
    assert all(len({length_bucket(lengths[k]) for k in b}) == 1 for b in batches)  # one decoding limit a batch
    assert len(batches) >= MIN_BATCHES
    same = [30] * 12  # one bucket: only the budget cuts (at 4 x 30 = 120 tokens)
    assert [len(b) for b in engine.batches(list(range(12)), same)] == [4, 4, 4]
    # a small total is still split for parallel translators
    assert len(engine.batches(order[:4], lengths)) >= MIN_BATCHES
    # the same batches whatever the threads (a Ray actor with one CPU, a bigger machine)
    for inter in (1, 3):
        other = CT2Engine(resolve(ModelRef(str(tiny_marian))), dataclasses.replace(
            settings, ctranslate2=dataclasses.replace(settings.ctranslate2, inter_threads=inter)))
        assert other.inter_threads == inter and other.batches(order, lengths) == batches
    seen: list[int] = []
    engine.translate(SENTENCES, "be", progress=seen.append)
    assert sum(seen) == len(SENTENCES) and len(seen) == len(batches)


def test_example_batches(tiny_marian, ct2_cache):
    """``batch_type = "examples"``: N sentences per batch, longest first (the default is a
    token budget: bench/README.md, "Engine batching")."""
    assert batching("tokens", 32, 2048) == ("tokens", 2048)
    assert batching("examples", 8, 2048) == ("examples", 8)
    base = make_settings(ct2_cache)
    settings = dataclasses.replace(base, ctranslate2=dataclasses.replace(base.ctranslate2, batch_type="examples", batch_examples=5))
    engine = CT2Engine(resolve(ModelRef(str(tiny_marian))), settings)
    assert engine.batching == ("examples", 5)
    lengths = engine.count_tokens(SENTENCES, "be")
    order = sorted(range(len(lengths)), key=lambda k: -lengths[k])
    batches = engine.batches(order, lengths)
    assert [k for b in batches for k in b] == order and max(len(b) for b in batches) <= 5
    assert all(len({length_bucket(lengths[k]) for k in b}) == 1 for b in batches)
    assert [len(b) for b in engine.batches(list(range(12)), [20] * 12)] == [5, 5, 2]  # one bucket
    assert [len(b) for b in engine.batches(list(range(12)), [30] * 7 + [10] * 5)] == [5, 2, 5]  # cut at the bucket
    assert [len(b) for b in engine.batches(list(range(6)), [20] * 6)] == [3, 3]  # MIN_BATCHES even for a short list
    # what the batching changes is only which sentences share a batch: the same translations
    # as token batches
    tokens = dataclasses.replace(settings, ctranslate2=dataclasses.replace(settings.ctranslate2, batch_type="tokens"))
    assert_same(CT2Engine(resolve(ModelRef(str(tiny_marian))), settings).translate(SENTENCES, "be"),
                CT2Engine(resolve(ModelRef(str(tiny_marian))), tokens).translate(SENTENCES, "be"), "examples vs tokens")


@pytest.mark.parametrize("engine_cls", [CT2Engine, TransformersEngine])
def test_chunks_in_flight_give_what_one_call_per_chunk_gives(engine_cls, eos_marian, ct2_cache, tmp_path):
    """CTranslate2 queues the next chunk while the caller stores this one: same outputs, in
    order, as translating chunk by chunk; progress counts every sentence once; and the cache
    fed chunk by chunk holds exactly what one unchunked call gives."""
    engine_name = "ctranslate2" if engine_cls is CT2Engine else "transformers"
    settings = make_settings(ct2_cache, engine=engine_name, batch_tokens=64, batch_size=4)
    engine = engine_cls(resolve(ModelRef(str(eos_marian))), settings)
    chunks = [SENTENCES[:5], SENTENCES[5:6], [], SENTENCES[6:]]
    seen: list[int] = []
    got = list(engine.translate_chunks(chunks, "be", progress=seen.append))
    assert len(got) == len(chunks) and [len(g) for g in got] == [len(c) for c in chunks]
    for chunk, out in zip(chunks, got):
        if chunk:
            assert_same(engine.translate(chunk, "be"), out, f"{engine_name} chunk in flight")
    assert sum(seen) == len(SENTENCES)
    if engine_cls is CT2Engine:  # the next chunk is queued before this one is collected
        events: list[str] = []
        submit, collect = engine._submit, engine._collect
        engine._submit = lambda texts, target: (events.append("submit"), submit(texts, target))[1]
        engine._collect = lambda pending: (events.append("collect"), collect(pending))[1]
        steps = engine.translate_chunks([SENTENCES[:4], SENTENCES[4:8]], "be")
        next(steps)
        assert events.index("collect") > len(engine._plan(SENTENCES[:4], "be").batches), events
        assert "collect" in events and events[-1] == "collect"

    settings = dataclasses.replace(settings, decoding=dataclasses.replace(settings.decoding, chunk=3))
    with Store(tmp_path / "store.sqlite") as store:
        cached = translate_cached(SENTENCES, "be", resolve(ModelRef(str(eos_marian))), store, EnginePool(settings))
    assert_same(engine.translate(SENTENCES, "be"), cached.translations, f"{engine_name} cached in chunks of 3")


def test_both_targets_share_one_model_and_rerun_is_cached(tiny_marian, ct2_cache, tmp_path):
    settings = make_settings(ct2_cache)
    model = resolve(ModelRef(str(tiny_marian)))
    with Store(tmp_path / "store.sqlite") as store:
        pool = EnginePool(settings)
        first = {t: translate_cached(SENTENCES[:8], t, model, store, pool) for t in ("be", "ru")}
        assert pool.loads == 1
        again = EnginePool(settings)
        for t in ("be", "ru"):
            res = translate_cached(SENTENCES[:8], t, model, store, again)
            assert all(res.cached) and res.translations == first[t].translations
        assert again.loads == 0
    int8 = dataclasses.replace(settings, ctranslate2=CT2(compute_type="int8", cache_dir=str(ct2_cache)))
    assert cache_key(model, settings, "be") != cache_key(model, int8, "be")


# ---------------------------------------------------------------- conversion


def test_conversion_is_crash_safe(tiny_marian_single, tmp_path):
    model = resolve(ModelRef(str(tiny_marian_single)))
    cache = tmp_path / "ct2"
    final = converted_folder(model, cache, "float32")
    # leftovers of a killed run: a temp folder and a final folder without the marker
    (cache / (final.name + ".tmp-999-dead")).mkdir(parents=True)
    final.mkdir()
    (final / "model.bin").write_bytes(b"half written")
    assert not is_valid(final)
    calls = []

    def counting(m, out, q):
        from workflow.translation.engines.ctranslate2 import _convert

        calls.append(out)
        _convert(m, out, q)

    assert ensure_converted(model, cache, "float32", converter=counting) == final
    assert len(calls) == 1 and is_valid(final)
    assert not list(cache.glob(final.name + ".tmp-*"))
    import ctranslate2

    ctranslate2.Translator(str(final))  # loadable

    # valid: reused without converting
    def refuse(*_):
        raise AssertionError("converted again")

    assert ensure_converted(model, cache, "float32", converter=refuse) == final

    # a conversion that dies half-way leaves nothing that could be used
    def dies(m, out, q):
        out.mkdir(parents=True)
        (out / "model.bin").write_bytes(b"partial")
        raise RuntimeError("killed")

    with pytest.raises(WorkflowError):
        ensure_converted(model, cache, "int8", converter=dies)
    assert not converted_folder(model, cache, "int8").exists()
    assert not list(cache.glob("*.tmp-*"))


def test_second_converter_uses_the_first_result(tiny_marian_single, tmp_path):
    """Another process finishes the same conversion first (no lock on its side): our
    rename fails and the finished folder is used; our temp folder is removed."""
    model = resolve(ModelRef(str(tiny_marian_single)))
    cache = tmp_path / "ct2"
    final = converted_folder(model, cache, "float32")

    def racing(m, out, q):
        from workflow.translation.engines.ctranslate2 import VALID_MARKER, _convert

        _convert(m, final, q)  # "the other process"
        (final / VALID_MARKER).write_text("{}")
        _convert(m, out, q)

    assert ensure_converted(model, cache, "float32", converter=racing) == final
    assert is_valid(final) and not list(cache.glob("*.tmp-*"))
