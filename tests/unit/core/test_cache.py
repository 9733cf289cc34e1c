"""The disk cache of test models (workflow/testing/cache.py): one build per recipe, a
key that covers the whole recipe, crash-safe, and safe with two builders at once."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from workflow.testing import cache as cache_module
from workflow.testing.cache import VALID_MARKER, Recipe, cached_model


def write_model(folder: Path, text: str, *, log: str = "", delay: float = 0.0) -> Path:
    """A stand-in builder: one file; notes each build in ``log``."""
    folder.mkdir(parents=True)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {threading.get_ident()}\n")
    time.sleep(delay)
    (folder / "weights.txt").write_text(text, encoding="utf-8")
    return folder


def broken_model(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "weights.txt").write_text(text[:1], encoding="utf-8")
    raise RuntimeError("the build failed half-way")


def builds(log: Path) -> int:
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


@pytest.fixture(autouse=True)
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("WORKFLOW_TEST_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def test_a_model_is_built_once_then_reused(root, tmp_path):
    log = tmp_path / "builds.log"
    recipe = Recipe(write_model, ("weights",), {"log": str(log)})
    folder = cached_model(recipe)
    assert folder == root / f"write_model-{recipe.key()}" and len(recipe.key()) == 64
    assert (folder / "weights.txt").read_text(encoding="utf-8") == "weights" and (folder / VALID_MARKER).is_file()
    assert cached_model(Recipe(write_model, ("weights",), {"log": str(log)})) == folder
    assert builds(log) == 1
    assert sorted(p.name for p in root.iterdir()) == [folder.name, folder.name + ".lock"]  # no temporary folder left


def test_the_key_covers_builder_arguments_source_and_versions(monkeypatch):
    recipe = Recipe(write_model, (["a line", "another"],))
    key = recipe.key()
    assert Recipe(write_model, (["a line", "another"],)).key() == key
    others = {
        Recipe(write_model, (["a line", "another."],)).key(),
        Recipe(write_model, (["a line", "another"],), {"delay": 0.0}).key(),
        Recipe(broken_model, (["a line", "another"],)).key(),
    }
    assert len(others) == 3 and key not in others
    with monkeypatch.context() as m:
        m.setattr(cache_module.inspect, "getsource", lambda module: "another version of the builders")
        assert recipe.key() != key
    with monkeypatch.context() as m:
        m.setattr(cache_module.metadata, "version", lambda name: "0.0")
        assert recipe.key() != key
    assert recipe.key() == key


def test_a_folder_without_the_marker_and_crash_leftovers_are_removed_and_rebuilt(root):
    recipe = Recipe(write_model, ("complete",))
    final = root / f"write_model-{recipe.key()}"
    final.mkdir(parents=True)
    (final / "weights.txt").write_text("half-writ", encoding="utf-8")  # a crash before the marker
    ended = subprocess.Popen(["true"])
    ended.wait()
    crashed = root / f"{final.name}.tmp-{ended.pid}-deadbeef"  # its builder is gone
    running = root / f"{final.name}.tmp-{os.getpid()}-cafebabe"  # its builder still runs
    crashed.mkdir()
    running.mkdir()
    assert cached_model(recipe) == final
    assert (final / "weights.txt").read_text(encoding="utf-8") == "complete"
    assert not crashed.exists() and running.exists()


def test_a_failed_build_leaves_nothing_behind(root):
    with pytest.raises(RuntimeError, match="half-way"):
        cached_model(Recipe(broken_model, ("weights",)))
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == []


def test_two_processes_building_the_same_model_at_once_build_it_once(root, tmp_path):
    log = tmp_path / "builds.log"
    recipe = Recipe(write_model, ("weights",), {"log": str(log), "delay": 0.5})
    with multiprocessing.get_context("fork").Pool(2) as pool:
        folders = pool.map(cached_model, [recipe, recipe], chunksize=1)
    assert folders[0] == folders[1] and (folders[0] / "weights.txt").read_text(encoding="utf-8") == "weights"
    assert builds(log) == 1  # the second one waited for the lock, then used the first one's folder


def test_without_the_lock_the_loser_of_the_rename_uses_the_winners_folder(root, tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "_file_lock", lambda path: contextlib.nullcontext())
    log = tmp_path / "builds.log"
    recipe = Recipe(write_model, ("weights",), {"log": str(log), "delay": 0.5})
    folders: list[Path] = []
    threads = [threading.Thread(target=lambda: folders.append(cached_model(recipe))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds(log) == 2 and len(folders) == 2 and folders[0] == folders[1]
    assert (folders[0] / "weights.txt").read_text(encoding="utf-8") == "weights"
    assert sorted(p.name for p in root.iterdir()) == [folders[0].name]  # the loser's folder is removed
