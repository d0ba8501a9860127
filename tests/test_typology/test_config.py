"""Configuration files: checked key by key, defaults resolved, starter configs that run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from typology.cli import main
from typology.workflow.config import ConfigError, embedded_config, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path, text: str) -> Path:
    f = tmp_path / "c.toml"
    f.write_text(text)
    return f


def test_minimal_config_gets_every_default(tmp_path):
    (tmp_path / "ds").mkdir()
    cfg = load_config(_write(tmp_path, '[data]\npath = "ds"\n'))
    assert cfg.data_path == (tmp_path / "ds").resolve()
    assert cfg.features.params["core_population"] == 250_000 and cfg.features.groups is None
    assert cfg.typology.features == ("corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth")
    assert cfg.typology.period == "last" and cfg.typology.sample == "towns"
    assert cfg.typology.params["n_types"] == "auto" and cfg.random_state == 0
    assert cfg.models == () and cfg.compute.n_jobs is None


@pytest.mark.parametrize("text,expected", [
    ('[data]\npath = "x"\n[typology]\nn_typess = 3\n', "n_typess"),
    ('[data]\npath = "x"\n[features]\ncore_pop = 1\n', "core_pop"),
    ('[data]\npath = "x"\n[modelz]\n', "modelz"),
    ('[data]\npath = "x"\n[[models]]\nformula = "y ~ x"\nestimatr = "within"\n', "estimatr"),
])
def test_unknown_keys_list_the_valid_ones(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    msg = str(info.value)
    assert expected in msg and "valid" in msg


@pytest.mark.parametrize("text,expected", [
    ("[features]\ngroups = []\n", "[data] path: missing"),
    ('[data]\npath = "x"\n[typology]\nperiod = "first"\n', "period"),
    ('[data]\npath = "x"\n[typology]\nsample = "some"\n', "sample"),
    ('[data]\npath = "x"\n[[models]]\nname = "a"\n', "needs formula"),
    ('[data]\npath = "x"\n[[models]]\nformula = "y ~ x"\nestimator = "ols"\n', "estimator"),
    ('[data]\npath = "x"\n[[models]]\nname = "a"\nformula = "y ~ x"\n[[models]]\nname = "a"\nformula = "y ~ z"\n', "unique"),
    ('[data\npath = "x"\n', "not valid TOML"),
    ('[data]\npath = "not_there"\n', "[data] path: expected a dataset folder; found no such folder"),
])
def test_bad_values_are_config_errors(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert expected in str(info.value)


def test_effects_none_and_model_defaults(tmp_path):
    (tmp_path / "x").mkdir()
    cfg = load_config(_write(tmp_path, '[data]\npath = "x"\n[[models]]\nformula = "y ~ x"\nestimator = "pooled"\neffects = "none"\n'))
    (m,) = cfg.models
    assert m.name == "model1" and m.spec.effects is None and m.spec.cov_type == "clustered"


def test_shipped_configs_match_the_embedded_ones():
    for name, exp in (("demo", "northern_towns"), ("russia_north_real", "russia_north_real")):
        shipped = tomllib.loads((ROOT / "experiments" / exp / "config.toml").read_text())
        emb = embedded_config(name, "somewhere").resolved
        ship = parse_config(shipped, base_dir=ROOT / "experiments" / exp).resolved
        assert Path(ship["data"]["path"]) == (ROOT / "data" / exp).resolve()
        emb["data"] = ship["data"] = None
        emb["report"] = ship["report"] = None
        assert emb == ship


def test_starter_config_parses_and_names_the_outcome(tmp_path, small_synthetic):
    from typology.data.io import write_dataset

    write_dataset(small_synthetic.data, tmp_path / "ds")
    assert main(["init-config", str(tmp_path / "ds"), "--out", str(tmp_path / "my.toml")]) == 0
    cfg = load_config(tmp_path / "my.toml")
    assert cfg.data_path == (tmp_path / "ds").resolve()
    assert "log(avg_wage)" in cfg.models[0].formula
    # refusing to overwrite
    assert main(["init-config", str(tmp_path / "ds"), "--out", str(tmp_path / "my.toml")]) == 1
