"""Spatial panel models in runs and the recovery of world 3's spillover by them.

World 3 of the generator (``typology.data.synth``): ``log wage += theta W_t corp_share_t + u_t``,
``u_t = (I - lambda W)^-1 e_t``, ``theta = 0.20``, ``lambda = 0.6``, W the row-standardized
6-nearest-neighbour weights among the municipalities (truth.json ``spatial``): the spatial Durbin
error model (SDEM), ``fit_spatial_panel(..., W(corp_share), model="error")``. Its wage equation
also has an i.i.d. term ``e_w ~ N(0, WAGE_SD = 0.04)`` besides the spatial shock (innovation sd
0.02), so the error of world 3 is ``u_t + e_w``, not a SAR error: the SEM's lambda is a weighted
compromise (about 0.2), and lambda = 0.6 is recovered in the same world without the i.i.d. term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import build_features
from features import spatial as sp
from models import fit_spatial_panel
from typology.workflow.config import ConfigError, parse_config

TRUTH_FORMULA = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share + W(corp_share)"
Z = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def _balanced_world3(monkeypatch=None, wage_sd=None):
    import typology.data.synth as synth

    if wage_sd is not None:
        monkeypatch.setattr(synth, "WAGE_SD", wage_sd)
    ds = synth.generate(world=3, late_entry_rate=0.0, missing_outcome_rate=0.0)
    F = build_features(ds.data)
    frame = F.join(ds.data.outcomes.set_index(["town_id", "year"])[["avg_wage"]])
    towns = ds.data.towns.set_index("town_id")
    spec = ds.truth["spatial"]["weights"]
    w = sp.knn_weights(towns["lat"], towns["lon"], k=spec["k"], transform=spec["transform"])
    w = w.reindex(pd.Index(frame.index.get_level_values("town_id").unique(), name="town_id"))
    return ds, frame, w


def _inside(est, se, truth):
    return est - Z * se < truth < est + Z * se


def test_sdem_recovers_the_world3_spillover_and_its_impacts():
    ds, frame, w = _balanced_world3()
    truth = ds.truth["spatial"]
    assert frame.groupby(level="town_id").size().nunique() == 1  # balanced: every municipality every year
    assert w.n == len(ds.data.towns)  # the weights among every municipality, as the truth says
    r = fit_spatial_panel(frame, TRUTH_FORMULA, w, model="error", effects="twoway")
    lo, hi = r.conf_int().loc["W(corp_share)"]
    assert lo < truth["theta"]["corp_share"] < hi and lo > 0
    imp = r.impacts(n_draws=2000, random_state=0).loc["corp_share"]
    for kind in ("direct", "indirect", "total"):
        assert _inside(imp[kind], imp[f"{kind}_se"], truth["impacts"]["corp_share"][kind]), (kind, imp)
    # the spatially correlated shock is detected; its lambda is diluted by the i.i.d. wage noise
    lo, hi = r.conf_int().loc["lambda"]
    assert lo > 0 and hi < truth["lambda"]


def test_sdem_recovers_lambda_in_world3_without_the_iid_wage_noise(monkeypatch):
    ds, frame, w = _balanced_world3(monkeypatch, wage_sd=0.0)
    truth = ds.truth["spatial"]
    r = fit_spatial_panel(frame, TRUTH_FORMULA, w, model="error", effects="twoway")
    ci = r.conf_int()
    assert ci.loc["lambda", "lower"] < truth["lambda"] < ci.loc["lambda", "upper"]
    assert ci.loc["W(corp_share)", "lower"] < truth["theta"]["corp_share"] < ci.loc["W(corp_share)", "upper"]
    imp = r.impacts(n_draws=2000, random_state=0).loc["corp_share"]
    for kind in ("direct", "indirect", "total"):
        assert _inside(imp[kind], imp[f"{kind}_se"], truth["impacts"]["corp_share"][kind]), (kind, imp)


# ------------------------------------------------------------------ configuration
def _cfg(models, spatial=True, **sp_keys):
    raw = {"data": {"path": "/tmp"}, "models": models}
    if spatial:
        raw["spatial"] = dict(sp_keys)
    return parse_config(raw, where="run.toml")


def test_spatial_models_are_checked_and_round_trip():
    m = {"name": "sdem", "kind": "spatial", "formula": "log(avg_wage) ~ corp_share + W(corp_share)", "model": "error",
         "balance": "drop_towns", "n_draws": 500}
    cfg = _cfg([m])
    s = cfg.models[0]
    assert (s.kind, s.model, s.effects, s.balance, s.n_draws) == ("spatial", "error", "twoway", "drop_towns", 500)
    assert s.random_state > 0 and s.kwargs() == {"bias_correction": True, "method": "auto", "tol": 1e-10}
    assert parse_config(cfg.to_dict()).models == cfg.models
    lin = _cfg([{"name": "wages", "formula": "log(avg_wage) ~ corp_share"}], spatial=False)
    assert set(lin.to_dict()["models"][0]) >= {"name", "kind", "formula"}
    assert not {"balance", "n_draws", "model"} & set(lin.to_dict()["models"][0])
    cases = [
        ([m], False, {}, r"run.toml: \[\[models\]\] entry 1 \('sdem'\) kind: kind = \"spatial\" needs .*\[spatial\]"),
        ([{"name": "w", "formula": "y ~ W(x)"}], False, {}, r"\('w'\) formula: W\(x\) in 'y ~ W\(x\)' needs"),
        ([{**m, "model": "sar"}], True, {}, r"\('sdem'\) model: expected one of \"lag\", \"error\", \"durbin\""),
        ([{**m, "balance": "fill"}], True, {}, r"\('sdem'\) balance: expected one of \"require\", \"drop_towns\""),
        ([{**m, "n_draws": 1}], True, {}, r"n_draws: expected an integer in 2\.\."),
        ([{**m, "cluster": "entity"}], True, {}, r"unknown key\(s\) \['cluster'\] .* of kind \"spatial\""),
        ([{**m, "formula": "y ~ x | region"}], True, {}, r"formula: the spatial panel models take no '\|' parts"),
        ([m], True, {"transform": "b"}, r"\('sdem'\) effects: \"twoway\" with bias_correction"),
    ]
    for models, spatial, keys, text in cases:
        with pytest.raises(ConfigError, match=text):
            _cfg(models, spatial, **keys)


def test_linear_models_with_conley_errors_name_the_coordinates():
    cfg = _cfg([{"name": "wages", "formula": "log(avg_wage) ~ corp_share", "cov_type": "conley", "conley_km": 200}],
               spatial=False)
    d = cfg.to_dict()["models"][0]
    assert d["cov_type"] == "conley" and d["conley_km"] == 200
    assert parse_config(cfg.to_dict()).models[0].spec == cfg.models[0].spec


# ------------------------------------------------------------------ a run with spatial models
CONFIG = """
[data]
path = "data"
[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
n_types = 4
n_boot = 20
n_ref = 5
[[models]]
name = "slx"
formula = "log(avg_wage) ~ corp_share + W(corp_share)"
estimator = "within"
effects = "twoway"
cov_type = "conley"
conley_km = 300
conley_lags = "all"
[[models]]
name = "sdem"
kind = "spatial"
formula = "log(avg_wage) ~ corp_share + W(corp_share)"
model = "error"
effects = "twoway"
balance = "drop_towns"
n_draws = 300
[[models]]
name = "sar"
kind = "spatial"
formula = "log(avg_wage) ~ corp_share"
model = "lag"
effects = "entity"
balance = "drop_towns"
n_draws = 300
[spatial]
variables = ["entropy"]
permutations = 49
"""


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    from typology.cli import main
    from typology.data.io import write_dataset
    from typology.data.synth import generate

    root = tmp_path_factory.mktemp("spatial_models_run")
    ds = generate(n_towns=80, n_years=6, seed=2, world=3)
    write_dataset(ds.data, root / "data", truth=ds.truth)
    (root / "cfg.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["fit", str(root / "cfg.toml"), "--out", str(root / "run"), "--quiet"]) == 0
    return root


def test_run_writes_spatial_models_and_impacts(model_run):
    run = model_run / "run"
    tab = pd.read_csv(run / "spatial_models.csv")
    assert list(tab.loc[tab["model"] == "sdem", "term"]) == ["corp_share", "W(corp_share)", "lambda"]
    assert list(tab.loc[tab["model"] == "sar", "term"]) == ["corp_share", "rho"]
    assert (tab["std_error"] > 0).all() and ((tab["pvalue"] >= 0) & (tab["pvalue"] <= 1)).all()
    assert set(tab["spatial_model"]) == {"error", "lag"} and (tab["towns_dropped"] > 0).all()
    # the balanced panel: the towns observed with every variable in every year, fitted on knn weights among them
    F = pd.read_parquet(run / "features.parquet")
    out = pd.read_csv(model_run / "data" / "outcomes.csv", dtype={"town_id": str}).set_index(["town_id", "year"])
    frame = F.join(out[["avg_wage"]])
    ok = frame[["avg_wage", "corp_share"]].notna().all(axis=1)
    n_years = frame.index.get_level_values("year").nunique()
    keep = ok.groupby(level="town_id", sort=False).sum()
    keep = keep.index[keep.to_numpy() == n_years]
    sub = frame[frame.index.get_level_values("town_id").isin(keep) & ok.to_numpy()]
    towns = pd.read_csv(model_run / "data" / "towns.csv", dtype={"town_id": str}).set_index("town_id")
    w = sp.knn_weights(towns.loc[keep, "lat"], towns.loc[keep, "lon"], k=6)
    r = fit_spatial_panel(sub, "log(avg_wage) ~ corp_share + W(corp_share)", w, model="error", effects="twoway")
    got = tab[tab["model"] == "sdem"].set_index("term")
    np.testing.assert_allclose(got["estimate"], r.params.reindex(got.index), rtol=1e-10)
    np.testing.assert_allclose(got["std_error"], r.std_errors.reindex(got.index), rtol=1e-10)
    assert int(got["n_towns"].iloc[0]) == len(keep)
    imp = pd.read_csv(run / "spatial_impacts.csv")
    assert set(imp["model"]) == {"sdem", "sar"} and (imp["n_draws"] == 300).all()
    e = imp[imp["model"] == "sdem"].iloc[0]
    assert e["direct"] == pytest.approx(got.loc["corp_share", "estimate"])  # SDEM: direct = beta, indirect = theta
    assert e["indirect"] == pytest.approx(got.loc["W(corp_share)", "estimate"])
    coefs = pd.read_csv(run / "coefficients.csv")
    assert "W(corp_share)" in set(coefs["term"])  # the linear model's W(x) on the [spatial] weights
    md = (run / "report.md").read_text(encoding="utf-8")
    assert "Spatial panel models" in md and "Direct, indirect (spillover) and total effects" in md


def test_reproduce_compares_spatial_models_and_impacts(model_run, tmp_path):
    import shutil

    from typology.workflow.manifest import load_manifest, output_hashes, write_manifest
    from typology.workflow.runs import reproduce_run

    run = model_run / "run"
    assert reproduce_run(run, quiet=True) == []
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    imp = pd.read_csv(copy / "spatial_impacts.csv")
    imp.loc[0, "indirect_se"] *= 1.01
    imp.to_csv(copy / "spatial_impacts.csv", index=False)
    m = load_manifest(copy)
    m["outputs"] = output_hashes(copy)
    write_manifest(copy, m)
    diffs = reproduce_run(copy, quiet=True)
    assert any(d.startswith("spatial_impacts") and "indirect_se" in d for d in diffs), diffs


def test_an_unbalanced_panel_is_refused_without_balance(model_run):
    from typology.data.io import read_dataset
    from typology.workflow.config import load_config
    from typology.workflow.pipeline import run_pipeline

    cfg = CONFIG.replace('balance = "drop_towns"\nn_draws = 300\n[[models]]\nname = "sar"',
                         'n_draws = 300\n[[models]]\nname = "sar"')
    assert cfg != CONFIG
    (model_run / "cfg_require.toml").write_text(cfg, encoding="utf-8")
    c = load_config(model_run / "cfg_require.toml")
    data = read_dataset(model_run / "data")
    with pytest.raises(ConfigError, match=r"cfg_require.toml: \[\[models\]\] 'sdem' balance: the spatial panel models "
                                          r"need a balanced panel .* set balance = \"drop_towns\""):
        run_pipeline(c, data)


def test_russian_report_translates_the_spatial_models(model_run, tmp_path):
    import shutil

    from typology.cli import main

    d = tmp_path / "run"
    shutil.copytree(model_run / "run", d)
    assert main(["report", str(d), "--lang", "ru", "--quiet"]) == 0
    md = (d / "report.md").read_text(encoding="utf-8")
    assert "Spatial panel models" not in md and "Пространственные панельные модели" in md
    assert "Прямые, косвенные (перетоки) и общие эффекты" in md and "Direct, indirect" not in md
