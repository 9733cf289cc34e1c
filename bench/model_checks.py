"""Cost of the model-based checks against the translation itself (issue: scoring).

The confidence check reads the log-probabilities the engine returns with every
translation (no extra decoding); the round-trip check back-translates every MT output
with a reverse model of the same size (``checks.reverse_models``), greedily by default
(``checks.roundtrip_beam_size = 1``). This script times, on one corpus, with the
CTranslate2 engine and the default settings (forward beam 4):

  fwd    translate_cached(): EN -> RU, beam 4 (model load included)
  back   the pipeline's back-translator: RU -> EN, greedy (model load included)
  checks score_segments() without the round trip: every reference-free check, the
         confidence check among them, and the learned weak-spot model with its encoder
         (dictionaries, lingua and encoder loading included)

Random-weight Marian models of the real shapes (``bench/translate.py`` builds and caches
them); outputs forced to a fixed number of tokens in both directions, so back-translation
reads and writes as many tokens as a real one of a same-length translation would.

    python bench/model_checks.py           # base shape (opus-mt-en-ru size), 200 sentences
    python bench/model_checks.py --quick   # small shape, under a minute; last line = ratios
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    shape, n_sent, n_tok = ("small-pair", 112, 16) if args.quick else ("base", 200, 40)

    import translate as tb  # bench/translate.py: model shapes, inputs

    # the reverse model must accept "en" as a target: single-pair shapes (base is one)
    tb.SHAPES["small-pair"] = {**tb.SHAPES["small"], "targets": ()}

    from workflow.translation.cache import EnginePool, backtranslators, translate_cached
    from workflow.scoring.checks import REGISTRY, load_glossary
    from workflow.core.config import CT2, Checks, Config, Decoding, ModelRef
    from workflow.translation.engines.ctranslate2 import CT2Engine
    from workflow.translation.hub import resolve
    from workflow.scoring.score import score_segments
    from workflow.core.store import Store

    folder = tb.build(shape)
    texts = tb.sentences(n_sent)[:n_sent]
    CT2Engine.fixed_output_tokens = n_tok  # bench only: every output exactly n_tok tokens
    with tempfile.TemporaryDirectory() as tmp:
        ref = ModelRef(str(folder))
        config = Config(
            targets=("ru",), models={"ru": ref}, store=str(Path(tmp) / "store.sqlite"),
            decoding=Decoding(beam_size=4), ctranslate2=CT2(cache_dir=str(tb.CACHE / "ct2")),
            checks=Checks(reverse_models={"ru": ref}, glossary=str(ROOT / "corpus" / "glossary.toml"),
                          encoder_cache=str(ROOT / ".workflow" / "encoder")),
            path=ROOT / "config.toml",
        )
        model = resolve(ref)
        with Store(Path(tmp) / "store.sqlite") as store:
            pool = EnginePool(config.translation)
            t0 = time.perf_counter()
            fwd = translate_cached(texts, "ru", model, store, pool)
            t_fwd = time.perf_counter() - t0
            mt = [t.text for t in fwd.translations]
            back = backtranslators(config.checks.reverse_models, config.targets, base=config.base_dir, offline=config.offline,
                                   beam_size=config.checks.roundtrip_beam_size, store=store, pool=pool,
                                   reporter=pool.reporter)["ru"]
            t0 = time.perf_counter()
            back(mt, "en")
            t_back = time.perf_counter() - t0
            no_rt = dataclasses.replace(config.checks, disabled=("roundtrip",))
            t0 = time.perf_counter()
            score_segments(texts, mt, "ru", no_rt, glossary=load_glossary(str(config.resolve(no_rt.glossary))),
                           seg_ids=[f"s{i}" for i in range(len(texts))], logprobs=[t.logprob for t in fwd.translations])
            t_checks = time.perf_counter() - t0
    n = len(texts)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"shape {shape}, {n} sentences, outputs forced to {n_tok} tokens, ctranslate2 int8")
    print("| step | seconds | sentences/s | of the translation |")
    print("|---|---|---|---|")
    for name, t in (("fwd: translation EN->RU, beam 4", t_fwd), ("back: back-translation RU->EN, greedy", t_back),
                    (f"checks: {len(REGISTRY) - 1} reference-free checks incl. confidence, and the learned "
                     "weak-spot model (encoder load included)", t_checks)):
        print(f"| {name} | {t:.2f} | {n / t:.1f} | {t / t_fwd:.2f} |")
    print(f"roundtrip_vs_translation={t_back / t_fwd:.2f} checks_vs_translation={t_checks / t_fwd:.2f} "
          f"model_checks_total_vs_translation={(t_back + t_checks) / t_fwd:.2f}")


if __name__ == "__main__":
    main()
