"""Models by Hugging Face id, found in a local Hugging Face cache laid out the way
huggingface_hub writes it (blobs, snapshots/<commit>/ symlinks, refs/<revision>), offline.

This is the path the default config takes on a machine that has the model cached (run
once with network, or a copied cache): the real hub id, no network, no fallback."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from conftest import CORPUS, write_config
from workflow.cli.app import main
from workflow.core.config import ModelRef
from workflow.core.errors import ModelNotAvailable
from workflow.translation.hub import resolve

REPO = "Helsinki-NLP/opus-mt-tc-big-en-zle"  # the default model's id


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def plant(cache: Path, repo: str, model: Path, revision: str = "main", *, skip: tuple[str, ...] = ()) -> str:
    """Put ``model``'s files into ``cache`` as huggingface_hub does; returns the commit."""
    storage = cache / ("models--" + repo.replace("/", "--"))
    commit = hashlib.sha1(f"{repo}@{revision}".encode()).hexdigest()
    snap = storage / "snapshots" / commit
    snap.mkdir(parents=True)
    (storage / "blobs").mkdir(exist_ok=True)
    for f in sorted(model.iterdir()):
        if f.is_file() and f.name not in skip:
            blob = storage / "blobs" / hashlib.sha256(f.read_bytes()).hexdigest()
            shutil.copy(f, blob)
            os.symlink(os.path.relpath(blob, snap), snap / f.name)
    ref = storage / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text(commit)
    return commit


def test_hub_id_resolves_from_the_cache_offline(hub_cache, tiny_marian):
    commit = plant(hub_cache, REPO, tiny_marian)
    m = resolve(ModelRef(REPO), offline=True)
    assert (m.revision, m.local) == (commit, False)
    assert m.folder.parent.name == "snapshots" and m.family().name == "marian"
    assert m.family().supports("be") and m.family().supports("ru")


def test_safetensors_conversion_pull_request_is_found_in_the_cache(hub_cache, tiny_marian):
    """main holds only a pickle checkpoint; the download took the hub's safetensors
    conversion (refs/pr/N), which a later offline run must find again."""
    plant(hub_cache, REPO, tiny_marian, "refs/pr/2")
    newest = plant(hub_cache, REPO, tiny_marian, "refs/pr/3")
    m = resolve(ModelRef(REPO), offline=True)
    assert m.revision == newest and (m.folder / "model.safetensors").exists()


def test_pinned_revision_and_missing_model(hub_cache, tiny_marian):
    commit = plant(hub_cache, REPO, tiny_marian)
    assert resolve(ModelRef(REPO, revision=commit), offline=True).revision == commit
    with pytest.raises(ModelNotAvailable) as e:
        resolve(ModelRef(REPO, revision="v2"), offline=True)
    assert "offline mode is on" in e.value.message and "three ways" in e.value.hint
    with pytest.raises(ModelNotAvailable, match="facebook/nllb-200-distilled-600M"):
        resolve(ModelRef("facebook/nllb-200-distilled-600M"), offline=True)


def test_pickle_only_cache_is_refused_unless_allowed(hub_cache, tiny_marian, tmp_path):
    import torch
    from safetensors.torch import load_file

    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_marian, pickled)
    torch.save(load_file(str(pickled / "model.safetensors")), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    plant(hub_cache, REPO, pickled)
    m = resolve(ModelRef(REPO), offline=True)
    with pytest.raises(ModelNotAvailable, match="only a pickle checkpoint"):
        m.weights()
    assert m.weights(allow_pickle=True).name == "pytorch_model.bin"


def test_default_config_runs_end_to_end_from_the_cache(hub_cache, tiny_marian, tmp_path, capsys):
    """The README's main job with the default model id, when the model is cached."""
    plant(hub_cache, REPO, tiny_marian)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "amnesty-belarus-police-must-be-held-accountable.txt", corpus)
    cfg = write_config(tmp_path, be=REPO, ru=REPO, corpus=corpus)
    main(["models", "--config", str(cfg)])
    assert "available (marian" in capsys.readouterr().out.replace("\n", " ")
    main(["run", "--config", str(cfg), "--offline"])
    df = pl.read_parquet(tmp_path / "aligned" / "segments.parquet")
    assert set(df["model"]) == {REPO} and set(df["target"]) == {"be", "ru"}
    commit = hashlib.sha1(f"{REPO}@main".encode()).hexdigest()
    assert set(df.filter(pl.col("status") == "mt")["revision"]) == {commit}  # the hub commit keys the cache
