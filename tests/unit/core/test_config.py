"""config.toml: the [checks] section and its per-check tables; keys of older files say where they went."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from workflow.core.config import Checks, Config, build_dataclass, load_config
from workflow.core.errors import ConfigError


def load(tmp_path, body: str) -> Config:
    cfg = tmp_path / "config.toml"
    cfg.write_text(body, encoding="utf-8")
    return load_config(cfg)


def test_check_tables_are_kept_for_the_scoring_stage(tmp_path):
    cfg = load(tmp_path, '[checks]\nflag_threshold = 1.5\ndisabled = ["names"]\n\n'
                         '[checks.confidence]\nmin = -0.8\nweight = 2.0\n\n'
                         '[checks.length]\nratio = { be = [0.5, 2.0] }\n')
    assert cfg.checks.flag_threshold == 1.5 and cfg.checks.disabled == ("names",)
    assert cfg.checks.params == {"confidence": {"min": -0.8, "weight": 2.0}, "length": {"ratio": {"be": [0.5, 2.0]}}}
    assert {f.name for f in dataclasses.fields(Checks)} == {
        "disabled", "glossary", "flag_threshold", "roundtrip_beam_size", "reverse_models", "params",
        "scorer", "review_budget", "flag_probability", "encoder_cache", "refit_min_reviews", "refit_weights"}
    assert not hasattr(Config(), "thresholds")


def test_params_is_not_a_key_of_its_own(tmp_path):
    # [checks.params] is a table for a check named "params" (workflow.scoring.checks.validate refuses it)
    assert load(tmp_path, "[checks.params]\nweight = 1.0\n").checks.params == {"params": {"weight": 1.0}}


def test_a_scalar_that_is_no_key_is_still_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'checks.flag_treshold'") as e:
        load(tmp_path, "[checks]\nflag_treshold = 1.0\n")
    assert e.value.hint == "Did you mean 'checks.flag_threshold'?"


@pytest.mark.parametrize(
    "body, key, moved",
    [
        ("[thresholds]\nmin_confidence = -1.0\n", "thresholds.min_confidence", "moved to [checks.confidence] min."),
        ("[thresholds]\nlength_ratio = { be = [0.5, 2.0] }\n", "thresholds.length_ratio", "moved to [checks.length] ratio."),
        ("[thresholds]\n", "thresholds", "moved to the check tables: min_confidence to [checks.confidence] min, "
                                         "length_ratio to [checks.length] ratio."),
        ("[checks]\nweights = { spelling = 0.3 }\n", "checks.weights", "moved to [checks.spelling] weight."),
        ("[checks]\nweights = {}\n", "checks.weights", "moved to [checks.<name>] weight."),
        ("[checks]\nmin_roundtrip_chrf = 40.0\n", "checks.min_roundtrip_chrf", "moved to [checks.roundtrip] min_chrf."),
        ("[checks]\nmax_unknown_words = 2\n", "checks.max_unknown_words", "moved to [checks.spelling] max_unknown."),
    ],
)
def test_keys_of_older_files_say_where_they_moved(tmp_path, body, key, moved):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, body)
    assert e.value.exit_code == 2
    assert e.value.message == f"{tmp_path / 'config.toml'}: key '{key}' is no longer read"
    assert e.value.hint == f"'{key}' {moved}"


def test_build_dataclass_checks_keys_and_types_of_any_table():
    @dataclass(frozen=True)
    class Params:
        min: float = -1.2
        ratio: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)

    assert build_dataclass(Params, {"min": -1, "ratio": {"be": [0.5, 2]}}, "f.toml", "checks.x.") == Params(-1.0, {"be": (0.5, 2.0)})
    with pytest.raises(ConfigError) as e:
        build_dataclass(Params, {"mni": 0}, "f.toml", "checks.x.")
    assert (e.value.message, e.value.hint) == ("f.toml: unknown key 'checks.x.mni'", "Did you mean 'checks.x.min'?")
    with pytest.raises(ConfigError, match="key 'checks.x.min' must be a number"):
        build_dataclass(Params, {"min": "low"}, "f.toml", "checks.x.")
