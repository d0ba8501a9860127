"""The configuration is a tree of frozen dataclasses: built once, read-only, written to the
manifest as a dict that reads back into the same tree; old key names keep working."""

from __future__ import annotations

import dataclasses
import inspect
import tomllib
from pathlib import Path

import pytest

from models import PanelModelSpec
from typology.data.io import read_dataset, write_dataset
from typology.estimator.typology import TownTypology
from typology.workflow.config import (
    ComputeConfig,
    ConfigError,
    DiscreteModelConfig,
    LinearModelConfig,
    RunConfig,
    embedded_config,
    parse_config,
    valid_keys,
)

ROOT = Path(__file__).resolve().parents[2]
FULL = {
    "data": {"path": "ds"},
    "features": {"groups": ["specialization", "diversification", "corporate", "agglomeration", "dynamics"],
                 "mp_decay": "exponential"},
    "typology": {"features": ["corp_share", "dist_core_km", "entropy"], "period": [2012, 2014], "k_range": [2, 5],
                 "feature_transform": {"dist_core_km": "log"}, "scale": "none", "n_boot": 10, "n_ref": 3, "n_ps": 2,
                 "random_state": 4},
    "models": [{"name": "wages", "formula": "log(avg_wage) ~ corp_share", "effects": "none", "estimator": "pooled",
                "cov_type": "wild_bootstrap", "bootstrap_reps": 99},
               {"name": "stagnation", "kind": "probit", "formula": "status ~ corp_share", "outcome_level": "stagnating"}],
    "report": {"title": "t"},
    "compute": {"n_jobs": 2},
}


@pytest.mark.parametrize("name", ["demo", "russia_north_real", "full"])
def test_the_resolved_form_reads_back_into_the_same_tree(name):
    cfg = parse_config(FULL, where="full") if name == "full" else embedded_config(name, "somewhere")
    resolved = cfg.to_dict()
    again = parse_config(resolved, where=cfg.where)
    assert again == cfg and again.to_dict() == resolved
    studies = {"event_studies"} if name == "demo" else set()  # listed only when a config has some
    spatial = {"spatial"} if name == "russia_north_real" else set()  # likewise [spatial]
    assert set(resolved) == {"data", "features", "typology", "models", "report", "compute"} | studies | spatial


def test_the_tree_is_typed_and_read_only():
    cfg = parse_config(FULL)
    assert isinstance(cfg, RunConfig) and cfg.compute == ComputeConfig(n_jobs=2)
    linear, discrete = cfg.models
    assert isinstance(linear, LinearModelConfig) and isinstance(linear.spec, PanelModelSpec)
    assert linear.spec.effects is None and linear.spec.random_state is not None and linear.spec.name is None
    assert isinstance(discrete, DiscreteModelConfig) and discrete.kind == "probit"
    assert discrete.options["outcome_level"] == "stagnating" and discrete.formula == "status ~ corp_share"
    assert cfg.typology.period == (2012, 2014) and cfg.typology.params["k_range"] == (2, 5)
    assert cfg.typology.params["scale"] is None and cfg.features.groups[0] == "specialization"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.typology = None
    with pytest.raises(TypeError):
        cfg.features.params["mp_beta"] = 2.0
    with pytest.raises(TypeError):
        cfg.typology.params["feature_transform"]["entropy"] = "log"
    # what the estimators are given is plain (lists, dicts), as before
    kw = cfg.typology.kwargs()
    assert kw["k_range"] == (2, 5) and kw["n_jobs"] is None and isinstance(cfg.features.kwargs()["groups"], list)


def test_the_spec_is_built_once_and_is_the_one_fitted(tmp_path, small_synthetic, monkeypatch):
    import models
    from typology.workflow.pipeline import run_pipeline

    write_dataset(small_synthetic.data, tmp_path / "ds")
    raw = {"data": {"path": str(tmp_path / "ds")},
           "typology": {"n_boot": 5, "n_ref": 2, "n_ps": 2, "n_types": 3},
           "models": [{"name": "wages", "formula": "log(avg_wage) ~ corp_share", "effects": "twoway"}]}
    cfg = parse_config(raw)
    seen = []
    real = models.fit_panel_model

    def recording(frame, spec, *a, **k):
        seen.append(spec)
        return real(frame, spec, *a, **k)

    monkeypatch.setattr(models, "fit_panel_model", recording)
    res = run_pipeline(cfg, read_dataset(tmp_path / "ds"))
    assert len(seen) == 1 and seen[0] is cfg.models[0].spec
    assert res.config == cfg.to_dict()


# ------------------------------------------------------------------ old names
def test_transform_is_the_old_name_of_feature_transform():
    raw = {"data": {"path": "x"}, "typology": {"transform": {"entropy": "log"}, "features": ["entropy", "pop_growth"]}}
    cfg = parse_config(raw)
    assert dict(cfg.typology.params["feature_transform"]) == {"entropy": "log"}
    assert "transform" not in cfg.to_dict()["typology"]
    raw["typology"]["feature_transform"] = "auto"
    with pytest.raises(ConfigError, match=r"c.toml: \[typology\] transform: is the old name of feature_transform"):
        parse_config(raw, where="c.toml")
    raw["typology"] = {"transform": "none"}
    assert parse_config(raw).typology.params["feature_transform"] is None


def test_typology_n_jobs_is_the_old_place_of_compute_n_jobs():
    cfg = parse_config({"data": {"path": "x"}, "typology": {"n_jobs": 2}})
    assert cfg.compute.n_jobs == 2 and cfg.typology.kwargs()["n_jobs"] is None
    assert "n_jobs" not in cfg.to_dict()["typology"] and cfg.to_dict()["compute"] == {"n_jobs": 2}
    with pytest.raises(ConfigError, match=r"\[typology\] n_jobs: is the old name of \[compute\] n_jobs"):
        parse_config({"data": {"path": "x"}, "typology": {"n_jobs": 2}, "compute": {"n_jobs": 2}})
    with pytest.raises(ConfigError, match=r"\[compute\] n_jobs: expected a positive integer or -1.*found 0"):
        parse_config({"data": {"path": "x"}, "compute": {"n_jobs": 0}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['workers'\] in \[compute\]; valid keys are \['backend', 'n_jobs', 'n_workers', 'scheduler'\]"):
        parse_config({"data": {"path": "x"}, "compute": {"workers": 2}})
    assert valid_keys()["old_names"] == {"typology.transform": "typology.feature_transform",
                                         "typology.n_jobs": "compute.n_jobs"}


def test_the_config_follows_the_estimators_name_of_the_transform(monkeypatch):
    """Whatever the estimator calls the parameter (``transform`` or ``feature_transform``), the
    configuration's ``feature_transform`` (and the old ``transform``) reaches it."""
    sig = inspect.signature(TownTypology.__init__)
    old = "transform" in sig.parameters  # the installed estimator still uses the old name
    renamed = [p.replace(name="feature_transform") if p.name == "transform" else p for p in sig.parameters.values()]

    class Renamed(TownTypology):  # the installed estimator with the parameter called feature_transform
        def __init__(self, **kw):
            if old and "feature_transform" in kw:
                kw["transform"] = kw.pop("feature_transform")
            super().__init__(**kw)

    Renamed.__init__.__signature__ = sig.replace(parameters=renamed)
    raw = {"data": {"path": "x"}, "typology": {"transform": {"entropy": "log"}, "features": ["entropy", "pop_growth"]}}
    for estimator in (TownTypology, Renamed):
        monkeypatch.setattr("typology.estimator.typology.TownTypology", estimator)
        cfg = parse_config(raw)
        names = set(inspect.signature(estimator.__init__).parameters) - {"self"}
        kw = cfg.typology.kwargs()
        assert set(kw) == names
        key = "feature_transform" if "feature_transform" in names else "transform"
        assert kw[key] == {"entropy": "log"}
        estimator(**kw)  # an unknown keyword would be a TypeError


def test_shipped_configurations_use_the_current_names():
    for f in [*(ROOT / "typology" / "resources").glob("*.toml"), *(ROOT / "experiments").glob("*/config.toml")]:
        raw = tomllib.loads(f.read_text(encoding="utf-8"))
        assert "transform" not in raw.get("typology", {}) and "n_jobs" not in raw.get("typology", {}), f
