"""The executor choice without Ray: the ``[scale]`` section and ``--ray`` are checked like
any setting, the local executor scores in parts exactly as one ``score_segments`` call
does, and a Ray actor's threads follow its CPUs (tests/e2e/test_ray.py runs Ray itself)."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import CORPUS, corpus_lines
from workflow.cli.app import main
from workflow.core.config import CT2, Checks, Scale, TranslationSettings, load_config
from workflow.core.errors import ConfigError
from workflow.scale.cluster import actor_settings
from workflow.scale.executor import Executor
from workflow.scoring.checks import load_glossary
from workflow.scoring.score import score_segments
from workflow.translation.cache import EnginePool


@pytest.mark.parametrize("body, expected", [
    ('[scale]\nexecutor = "spark"\n', "key 'scale.executor' is 'spark'; choose one of: local, ray"),
    ('[scale]\naddress = "http://head"\n', "key 'scale.address' is 'http://head'"),
    ("[scale]\nconcurrency = 0\n", "key 'scale.concurrency' is 0; it must be between 1"),
    ("[scale]\nnum_gpus = -1\n", "key 'scale.num_gpus' is -1.0; it must be between 0"),
    ("[scale]\nbatch_sise = 2\n", "unknown key 'scale.batch_sise'"),
    ('[ctranslate2]\nbatch_type = "sentences"\n', "key 'ctranslate2.batch_type' is 'sentences'; choose one of"),
])
def test_scale_settings_are_checked(tmp_path, body, expected):
    (tmp_path / "config.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path / "config.toml")


@pytest.mark.parametrize("address", ["auto", "local", "ray://head.example:10001", "10.0.0.5:6379"])
def test_ray_addresses_that_are_accepted(tmp_path, address):
    (tmp_path / "config.toml").write_text(f'[scale]\nexecutor = "ray"\naddress = "{address}"\nnum_gpus = 1\n',
                                          encoding="utf-8")
    scale = load_config(tmp_path / "config.toml").scale
    assert (scale.executor, scale.address, scale.num_gpus) == ("ray", address, 1.0)


def test_run_refuses_a_ray_option_that_is_not_an_address(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config.toml here: the defaults
    with pytest.raises(SystemExit) as e:
        main(["run", "--ray", "head node"])
    assert e.value.code == 2
    assert "--ray 'head node' is not a Ray address" in capsys.readouterr().err


def test_actor_threads_follow_its_cpus():
    settings = TranslationSettings(ctranslate2=CT2())
    assert (actor_settings(settings, Scale(num_cpus=1)).ctranslate2.inter_threads,
            actor_settings(settings, Scale(num_cpus=1)).ctranslate2.intra_threads) == (1, 1)
    four = actor_settings(settings, Scale(num_cpus=8)).ctranslate2
    assert (four.inter_threads, four.intra_threads) == (4, 2)
    mine = TranslationSettings(ctranslate2=CT2(inter_threads=3))  # set by the user: kept
    assert actor_settings(mine, Scale(num_cpus=1)) == mine
    assert actor_settings(settings, Scale(num_gpus=1)) == settings  # a GPU actor: CTranslate2's own choice


def test_local_parts_score_as_one_call(monkeypatch):
    """The checks' sum scores each segment alone: parts of 7 give one call's verdicts
    (the learned scorer's budget over parts: tests/e2e/test_ray.py)."""
    monkeypatch.setattr("workflow.scale.executor.SCORE_PART", 7)
    sources = list(dict.fromkeys(corpus_lines()))[:30]
    outputs = [s.upper() if i % 3 else "" for i, s in enumerate(sources)]  # empty ones are flagged
    glossary = load_glossary(str(CORPUS / "glossary.toml"))
    checks = dataclasses.replace(Checks(), scorer="checks")
    here = Executor(Scale(), EnginePool(TranslationSettings()))
    assert here.score(sources, outputs, "ru", checks, glossary=glossary) == \
        score_segments(sources, outputs, "ru", checks, glossary=glossary)
    assert here.score([], [], "ru", checks) == []
