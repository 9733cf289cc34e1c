"""The Ray executor (workflow/scale/cluster.py) on a local Ray started here, with the
tiny models: the same translations, scores and ``segments.parquet`` as a local run, a
lost actor and a killed driver included, and one pool of actors for a whole run (each
model loaded once per actor, however many chunks and targets).

One module, one ``ray.init(num_cpus=2)`` for all its tests (Ray takes seconds to start);
skipped when ``ray`` is not installed (``pip install -e '.[ray]'``; ``make`` installs it).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import polars as pl
import pytest

from conftest import CORPUS, corpus_lines, write_config

ray = pytest.importorskip("ray", reason="ray is not installed (the `ray` extra: pip install -e '.[ray]')")

from workflow.core.config import ModelRef, Scale, load_config  # noqa: E402
from workflow.core.progress import Reporter  # noqa: E402
from workflow.core.store import Store  # noqa: E402
from workflow.pipeline import run  # noqa: E402
from workflow.scale.executor import Executor  # noqa: E402
from workflow.scoring.checks import load_glossary  # noqa: E402
from workflow.scoring.score import score_segments  # noqa: E402
from workflow.translation.cache import EnginePool, translate_cached  # noqa: E402
from workflow.translation.hub import resolve  # noqa: E402

TEXTS = list(dict.fromkeys(corpus_lines()))[:60]
SCALE = Scale(executor="ray", concurrency=2, num_cpus=1)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def config(tmp_path, tiny_marian):
    corpus = tmp_path / "corpus"  # two real documents: parts enough for two actors
    corpus.mkdir()
    for name in sorted(p.name for p in CORPUS.glob("*.txt"))[:2]:
        shutil.copy(CORPUS / name, corpus)
    write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus)
    return load_config(tmp_path / "config.toml")


def local_translations(config, texts, target="be"):
    model = resolve(ModelRef(config.models[target].id))
    with Store(config.resolve(config.store).with_name("local.sqlite")) as store:
        return translate_cached(texts, target, model, store, EnginePool(config.translation))


def on_ray(config) -> Executor:
    return Executor(SCALE, EnginePool(config.translation))


def actor_pids() -> list[int]:
    """The PIDs of this test's Ray actors (``ray::Worker`` processes below us)."""
    me, pids = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if title.startswith("ray::Worker") and descends_from(int(entry.name), me):
            pids.append(int(entry.name))
    return pids


def descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


class KillAfter(Reporter):
    """Progress that does something once after ``n`` sentences were committed."""

    def __init__(self, n: int, action) -> None:
        self.n, self.action, self.done, self.fired = n, action, 0, False

    def bar(self, description, total):
        outer = self

        class _Bar:
            def advance(self, k: int = 1) -> None:
                outer.done += k
                if outer.done >= outer.n and not outer.fired:
                    outer.fired = True
                    outer.action()

        return nullcontext(_Bar())


def test_ray_translations_equal_local_and_are_committed(config):
    model = resolve(ModelRef(config.models["be"].id))
    local = local_translations(config, TEXTS)
    with Store(config.resolve(config.store)) as store, on_ray(config) as where:
        got = where.translate(TEXTS, "be", model, store)
        assert got.translations == local.translations and not any(got.cached)
        pids = set(actor_pids())
        again = where.translate(TEXTS, "be", model, store)  # all in the store now
        assert all(again.cached) and again.translations == local.translations
        ru = where.translate(TEXTS, "ru", model, store)  # the other target: the same actors, the same engines
        assert ru.translations == local_translations(config, TEXTS, "ru").translations
        assert where.loads == SCALE.concurrency and set(actor_pids()) == pids
    for _ in range(100):  # closed with the executor: Ray ends the processes within moments
        if not actor_pids():
            break
        time.sleep(0.1)
    assert not actor_pids()


def test_a_killed_actor_is_restarted_and_the_run_completes(config):
    """One actor process is SIGKILLed after the first part is committed: Ray restarts
    it and retries its part; every translation equals the local run's."""
    model = resolve(ModelRef(config.models["ru"].id))
    local = local_translations(config, TEXTS, "ru")
    killed: list[int] = []

    def kill_one():
        pids = actor_pids()
        assert pids, "no actor process found"
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    with Store(config.resolve(config.store)) as store, on_ray(config) as where:
        got = where.translate(TEXTS, "ru", model, store, KillAfter(1, kill_one))
    assert killed and got.translations == local.translations


def test_a_killed_driver_resumes_with_only_the_missing_parts(config):
    model = resolve(ModelRef(config.models["be"].id))
    local = local_translations(config, TEXTS)

    def stop():
        raise KeyboardInterrupt  # the driver dies here, after committing some parts

    with Store(config.resolve(config.store)) as store, on_ray(config) as where:
        with pytest.raises(KeyboardInterrupt):
            where.translate(TEXTS, "be", model, store, KillAfter(12, stop))
    with Store(config.resolve(config.store)) as store, on_ray(config) as where:
        resumed = where.translate(TEXTS, "be", model, store)
    done_before = sum(resumed.cached)
    assert 12 <= done_before < len(TEXTS)  # committed parts were not sent again
    assert resumed.translations == local.translations


@pytest.mark.parametrize("scorer", ["checks", "model"])
def test_scoring_on_ray_equals_local(config, scorer, monkeypatch):
    """Four parts of 16 segments on two actors: the same verdicts as the local executor's
    same parts, the review budget drawn over all 60 (not per part); the checks' sum
    (no encoder) also equals one score_segments call over the whole list."""
    monkeypatch.setattr("workflow.scale.executor.SCORE_PART", 16)
    checks = dataclasses.replace(config.checks, scorer=scorer, review_budget=0.2)
    outputs = [t.text for t in local_translations(config, TEXTS).translations]
    glossary = load_glossary(str(CORPUS / "glossary.toml"))
    ids = [f"d:p{i}:s1" for i in range(len(TEXTS))]
    here = Executor(Scale(), EnginePool(config.translation)).score(TEXTS, outputs, "be", checks, glossary=glossary, seg_ids=ids)
    with on_ray(config) as where:
        got = where.score(TEXTS, outputs, "be", checks, glossary=glossary, seg_ids=ids)
    assert {v.scorer for v in got} == {scorer}
    assert got == here
    if scorer == "checks":
        assert got == score_segments(TEXTS, outputs, "be", checks, glossary=glossary, seg_ids=ids)
    else:  # the budget counted over all parts: 20 % of 60, not of each part of 16
        assert sum(v.flagged for v in got) >= 12


def frame(config) -> pl.DataFrame:
    return pl.read_parquet(config.resolve(config.out) / "segments.parquet").sort(["seg_id", "target"])


def test_workflow_run_on_ray_writes_what_a_local_run_writes(config, tmp_path):
    """A chunk per document, two targets: one pool serves the run, so the model is loaded
    once per actor (it was once per actor per chunk and target: 8 here), none on the driver.
    Parts of 4 sentences, so that every chunk keeps both actors busy."""
    config = dataclasses.replace(config, decoding=dataclasses.replace(config.decoding, chunk=4),
                                 scale=dataclasses.replace(config.scale, chunk_segments=1))
    run(config)
    local = frame(config)
    ray_cfg = dataclasses.replace(config, out=str(tmp_path / "aligned-ray"), store=str(tmp_path / "ray.sqlite"),
                                  scale=dataclasses.replace(SCALE, chunk_segments=1))
    result = run(ray_cfg)
    assert len(result.documents) == 2 and result.models_loaded == SCALE.concurrency
    assert frame(ray_cfg).equals(local)


def test_run_command_connects_to_the_cluster_given_by_ray(config, tmp_path):
    """``workflow run --ray ADDRESS`` in its own process: a second driver on this module's Ray."""
    address = ray.get_runtime_context().gcs_address
    proc = subprocess.run([sys.executable, "-m", "workflow.cli", "run", "--config", str(tmp_path / "config.toml"),
                           "--ray", address], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on Ray" in proc.stderr  # the progress of the Ray stages
    assert frame(config).height > 0
