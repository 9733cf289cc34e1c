"""Shared fixtures: tiny local models (built once, kept in a disk cache) and project folders.

The models have the interfaces of the real ones (multi-target Marian with >>bel<< /
>>rus<<, NLLB-style codes, M2M-100 with __be__ / __ru__) and random weights; see
workflow/testing/tinymodels.py. Each is built once per recipe into
``.workflow/test-models/`` (``$WORKFLOW_TEST_MODELS``) and reused by later sessions; see
workflow/testing/cache.py.

Marks every test under tests/e2e/ and the tests in ``SLOW`` as ``slow``:
``pytest -m "not slow"`` (``make test-fast``) skips them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from workflow.core.config import OUTPUT_FORMATS
from workflow.testing.cache import Recipe, cached_model
from workflow.testing.tinymodels import build_copy_marian, build_m2m100, build_marian, build_nllb

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
E2E = Path(__file__).resolve().parent / "e2e"

# Unit tests of over ~2 s (``--durations``) in tests/unit/translation/ and
# tests/unit/scoring/, by node id (all parameters of a test when it has them): marked here
# rather than with @pytest.mark.slow in those files, which others were editing when the
# fast lane was set up; elsewhere the mark is on the test itself.
SLOW = (
    # ~5 s: a whole ``workflow run`` in a fresh interpreter
    "tests/unit/translation/test_subwords.py::test_workflow_run_does_not_import_torch",
)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(E2E) or item.nodeid.split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)


def corpus_lines() -> list[str]:
    return [line for f in sorted(CORPUS.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


def cyrillic_lines() -> list[str]:
    return [line for lang in ("bel", "rus") for line in (DATA / f"tatoeba-sample.{lang}.txt").read_text(encoding="utf-8").splitlines()]


def short_lines(words: int = 4) -> list[str]:
    """The first few words of each corpus line, without repeats: the inputs the trained
    tiny model (``trained_marian``) learned to copy."""
    return list(dict.fromkeys(" ".join(line.split()[:words]) for line in corpus_lines()))


# the session fixtures' models, by fixture name (tests/unit/core/test_tinymodels.py
# rebuilds each and compares the bytes)
RECIPES = {
    "tiny_marian": Recipe(build_marian, (corpus_lines(), cyrillic_lines())),
    "tiny_marian_single": Recipe(build_marian, (corpus_lines(), cyrillic_lines()), {"targets": ()}),
    "tiny_nllb": Recipe(build_nllb, (corpus_lines() + cyrillic_lines(),)),
    "tiny_m2m100": Recipe(build_m2m100, (corpus_lines() + cyrillic_lines(),)),
    "trained_marian": Recipe(build_copy_marian, (corpus_lines(), cyrillic_lines(), short_lines())),
}


@pytest.fixture(scope="session")
def tiny_marian() -> Path:
    return cached_model(RECIPES["tiny_marian"])


@pytest.fixture(scope="session")
def tiny_marian_single() -> Path:
    """A single-pair Marian model (no target tokens), like opus-mt-en-ru."""
    return cached_model(RECIPES["tiny_marian_single"])


@pytest.fixture(scope="session")
def tiny_nllb() -> Path:
    return cached_model(RECIPES["tiny_nllb"])


@pytest.fixture(scope="session")
def tiny_m2m100() -> Path:
    """An M2M-100 model like facebook/m2m100_418M (``__be__`` / ``__ru__`` language tokens)."""
    return cached_model(RECIPES["tiny_m2m100"])


@pytest.fixture(scope="session")
def trained_marian() -> Path:
    """A tiny Marian model briefly trained to copy its input (``short_lines()``): confident,
    input-dependent next-token choices like a trained model's, for quantisation tests."""
    return cached_model(RECIPES["trained_marian"])


_CT2_CACHE: list[Path] = []  # one conversion cache for the whole test session


@pytest.fixture(scope="session", autouse=True)
def _shared_ct2_cache(tmp_path_factory):
    _CT2_CACHE.append(tmp_path_factory.mktemp("ct2-conversions"))
    yield


def write_config(folder: Path, *, be: Path | str, ru: Path | str, corpus: Path = CORPUS, extra: str = "", top: str = "",
                 scorer: str = "checks", formats: tuple[str, ...] | None = OUTPUT_FORMATS) -> Path:
    """A project config for tests: the default engine (CTranslate2, int8 on CPU) with fast
    greedy decoding and short outputs; conversions are shared across the session.

    ``scorer``: the checks' weighted sum by default, so the many end-to-end runs do not
    encode every segment with the weak-spot model's encoder (seconds per run); tests of the
    default scorer pass ``scorer="model"``. It goes into ``extra``'s [checks] table if it has one.
    ``formats``: every output format by default, so the tests of each find their files;
    None leaves ``[outputs] formats`` at the project default. It goes into ``extra``'s
    [outputs] table if it has one."""
    cfg = folder / "config.toml"
    ct2_cache = _CT2_CACHE[-1] if _CT2_CACHE else folder / "ct2"
    line = f'scorer = "{scorer}"\n'
    extra = extra.replace("[checks]\n", "[checks]\n" + line, 1) if "[checks]\n" in extra else extra + "\n[checks]\n" + line
    if formats is not None:
        line = f"formats = {json.dumps(list(formats))}\n"  # a JSON list of strings is a TOML array
        extra = extra.replace("[outputs]\n", "[outputs]\n" + line, 1) if "[outputs]\n" in extra else extra + "\n[outputs]\n" + line
    cfg.write_text(
        f'corpus = "{corpus}"\nout = "{folder / "aligned"}"\nstore = "{folder / "store.sqlite"}"\n{top}\n'
        f'[models]\nbe = "{be}"\nru = "{ru}"\n\n'
        "[decoding]\nbeam_size = 1\nbatch_size = 16\nmax_length_ratio = 0.6\nchunk = 16\n"
        f'\n[ctranslate2]\ncache_dir = "{ct2_cache}"\n' + extra,
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def project(tmp_path, tiny_marian) -> Path:
    """A project folder with a copy of the real corpus and a tiny-model config."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus)
    return tmp_path

