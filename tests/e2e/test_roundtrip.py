"""Round-trip check inside `workflow run`: a configured reverse model back-translates every
MT output (greedy by default), the check compares it with the English, and the
back-translations are cached like any translation."""

from __future__ import annotations

import polars as pl
import pytest

from conftest import corpus_lines, cyrillic_lines, short_lines, write_config
from workflow.core.config import load_config
from workflow.pipeline import run


@pytest.fixture(scope="module")
def copy_back(tmp_path_factory):
    """A single-pair tiny Marian trained to copy: a perfect 'reverse model' for outputs
    that are copies of the English."""
    from workflow.testing.tinymodels import build_marian, train_copy

    folder = tmp_path_factory.mktemp("models") / "tiny-marian-copy-back"
    build_marian(folder, corpus_lines(), cyrillic_lines(), targets=(), init_std=0.05)
    return train_copy(folder, short_lines())


def _project(tmp_path, forward, reverse, extra_checks=""):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # short sentences the trained models learned to copy, as one English document
    text = "\n\n".join(short_lines()[:40])
    (corpus / "short.txt").write_text(text, encoding="utf-8")
    return write_config(tmp_path, be=forward, ru=forward, corpus=corpus, top='targets = ["be"]',
                        extra=f'\n[checks]\nreverse_models = {{ be = "{reverse}" }}\n{extra_checks}')


def _roundtrip(df: pl.DataFrame) -> tuple[int, int, list[str]]:
    mt = df.filter(pl.col("status") == "mt")
    reasons = [s["reason"] for spans in mt["spans"].to_list() for s in spans if s["reason"].startswith("roundtrip")]
    return mt.height, sum("roundtrip" in f for f in mt["flags"].to_list()), reasons


def test_round_trip_separates_faithful_from_garbled_back_translation(tmp_path, trained_marian, copy_back, tiny_marian_single, monkeypatch):
    import workflow.translation.cache as cached

    beams = []
    real = cached.load_engine

    def recording(model, config):
        beams.append((model.ref.id, config.decoding.beam_size))
        return real(model, config)

    monkeypatch.setattr(cached, "load_engine", recording)

    good = tmp_path / "good"
    good.mkdir()
    cfg = load_config(_project(good, trained_marian, copy_back))
    result = run(cfg)
    df = pl.read_parquet(good / "aligned" / "segments.parquet")
    n, flagged, _ = _roundtrip(df)
    assert n >= 30
    assert flagged <= n * 0.2, f"{flagged}/{n} faithful copies flagged by the round trip"
    # the forward model (beam 1 in the test config) and the reverse one (greedy by default)
    assert sorted(beams) == sorted([(str(trained_marian), 1), (str(copy_back), 1)])
    assert result.models_loaded == 2

    bad = tmp_path / "bad"
    bad.mkdir()
    run(load_config(_project(bad, trained_marian, tiny_marian_single)))  # random weights: garbled English
    n_bad, flagged_bad, reasons = _roundtrip(pl.read_parquet(bad / "aligned" / "segments.parquet"))
    assert flagged_bad >= n_bad * 0.8, f"only {flagged_bad}/{n_bad} garbled back-translations flagged"
    assert all("round-trip chrF" in r for r in reasons)

    # rerun: forward and back-translations come from the store, no model is loaded
    beams.clear()
    again = run(cfg)
    assert again.models_loaded == 0 and beams == []
    assert pl.read_parquet(good / "aligned" / "segments.parquet").drop("cached").equals(df.drop("cached"))


def test_round_trip_beam_is_configurable_and_part_of_the_cache_key(tmp_path, trained_marian, copy_back, monkeypatch):
    import workflow.translation.cache as cached

    beams = []
    real = cached.load_engine
    monkeypatch.setattr(cached, "load_engine", lambda m, c: beams.append((m.ref.id, c.decoding.beam_size)) or real(m, c))
    run(load_config(_project(tmp_path, trained_marian, copy_back, "roundtrip_beam_size = 3")))
    assert (str(copy_back), 3) in beams
    beams.clear()
    run(load_config(_project_again(tmp_path, trained_marian, copy_back)))
    assert beams == [(str(copy_back), 1)]  # new settings: back-translated again, forward reused


def _project_again(tmp_path, forward, reverse):
    cfg = tmp_path / "config.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("roundtrip_beam_size = 3", ""), encoding="utf-8")
    return cfg
