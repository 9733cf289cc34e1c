"""Shared fixtures: tiny local models (built once per test session) and project folders.

The models have the interfaces of the real ones (multi-target Marian with >>bel<< /
>>rus<<, NLLB-style codes, M2M-100 with __be__ / __ru__) and random weights; see workflow/tinymodels.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"


def corpus_lines() -> list[str]:
    return [line for f in sorted(CORPUS.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


def cyrillic_lines() -> list[str]:
    return [line for lang in ("bel", "rus") for line in (DATA / f"tatoeba-sample.{lang}.txt").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    from workflow.testing.tinymodels import build_marian

    return build_marian(tmp_path_factory.mktemp("models") / "tiny-marian-en-zle", corpus_lines(), cyrillic_lines())


@pytest.fixture(scope="session")
def tiny_marian_single(tmp_path_factory) -> Path:
    """A single-pair Marian model (no target tokens), like opus-mt-en-ru."""
    from workflow.testing.tinymodels import build_marian

    return build_marian(tmp_path_factory.mktemp("models") / "tiny-marian-en-ru", corpus_lines(), cyrillic_lines(), targets=())


@pytest.fixture(scope="session")
def tiny_nllb(tmp_path_factory) -> Path:
    from workflow.testing.tinymodels import build_nllb

    return build_nllb(tmp_path_factory.mktemp("models") / "tiny-nllb", corpus_lines() + cyrillic_lines())


@pytest.fixture(scope="session")
def tiny_m2m100(tmp_path_factory) -> Path:
    """An M2M-100 model like facebook/m2m100_418M (``__be__`` / ``__ru__`` language tokens)."""
    from workflow.testing.tinymodels import build_m2m100

    return build_m2m100(tmp_path_factory.mktemp("models") / "tiny-m2m100", corpus_lines() + cyrillic_lines())


_CT2_CACHE: list[Path] = []  # one conversion cache for the whole test session


@pytest.fixture(scope="session", autouse=True)
def _shared_ct2_cache(tmp_path_factory):
    _CT2_CACHE.append(tmp_path_factory.mktemp("ct2-conversions"))
    yield


def write_config(folder: Path, *, be: Path | str, ru: Path | str, corpus: Path = CORPUS, extra: str = "", top: str = "") -> Path:
    """A project config for tests: the default engine (CTranslate2, int8 on CPU) with fast
    greedy decoding and short outputs; conversions are shared across the session."""
    cfg = folder / "config.toml"
    ct2_cache = _CT2_CACHE[-1] if _CT2_CACHE else folder / "ct2"
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


def short_lines(words: int = 4) -> list[str]:
    """The first few words of each corpus line, without repeats: the inputs the trained
    tiny model (``trained_marian``) learned to copy."""
    return list(dict.fromkeys(" ".join(line.split()[:words]) for line in corpus_lines()))


@pytest.fixture(scope="session")
def trained_marian(tmp_path_factory) -> Path:
    """A tiny Marian model briefly trained to copy its input (``short_lines()``): confident,
    input-dependent next-token choices like a trained model's, for quantisation tests."""
    from workflow.testing.tinymodels import build_marian, train_copy

    folder = tmp_path_factory.mktemp("models") / "tiny-marian-copy"
    build_marian(folder, corpus_lines(), cyrillic_lines(), init_std=0.05)
    return train_copy(folder, short_lines())
