"""A configuration is checked whole before any work; seeds make every run reproducible;
discrete-choice [[models]] run from the configuration.

Every bad value must give exit code 1 and one message naming the file, the section and key,
what was expected and what was found, before the dataset is read (static checks) or right
after it and before any feature is computed (checks against the data).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from features import FeatureBuilder
from typology.cli import main
from typology.data.io import write_dataset
from typology.workflow.config import ConfigError, load_config, model_seed, parse_config

GROUPS = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]
FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_dumps(cfg: dict) -> str:
    """A configuration dict as TOML (tables, then the [[models]] array)."""
    out = []
    for section, body in cfg.items():
        if section == "models":
            continue
        out.append(f"[{section}]")
        out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in body.items()]
        out.append("")
    for m in cfg.get("models", []):
        out.append("[[models]]")
        out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in m.items()]
        out.append("")
    return "\n".join(out)


def base_config(path: str = "ds") -> dict:
    return {
        "data": {"path": path},
        "features": {"groups": list(GROUPS)},
        "typology": {"features": list(FEATURES), "n_boot": 10, "n_ref": 5, "n_ps": 4, "random_state": 0},
        "models": [
            {"name": "wages", "formula": "log(avg_wage) ~ corp_share + core_control_share", "estimator": "within",
             "effects": "twoway", "cov_type": "wild_bootstrap", "cluster": "entity", "bootstrap_reps": 99},
            {"name": "stagnation", "kind": "logit", "formula": "status ~ corp_share + core_control_share + dist_core_km",
             "outcome_level": "stagnating"},
        ],
        "report": {"title": "checks"},
    }


@pytest.fixture(scope="module")
def root(tmp_path_factory, small_synthetic):
    d = tmp_path_factory.mktemp("cfgchecks")
    write_dataset(small_synthetic.data, d / "ds", truth=small_synthetic.truth)
    write_dataset(small_synthetic.data, d / "nofirms")
    for f in ("firms.csv", "groups.csv"):
        (d / "nofirms" / f).unlink()
    from typology.data.synth import generate

    write_dataset(generate(n_towns=17, n_years=6, seed=3).data, d / "t17")
    parse_config(base_config())  # imports done once (statsmodels, scikit-learn): the timings below are of the checks
    return d


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any feature is computed."""
    def boom(*a, **k):
        raise AssertionError("features were computed although the configuration is wrong")

    monkeypatch.setattr(FeatureBuilder, "fit_transform", boom)
    monkeypatch.setattr(FeatureBuilder, "fit", boom)


@pytest.fixture
def no_data(monkeypatch, no_work):
    """Fail the test if the dataset is read (static checks come first)."""
    def boom(*a, **k):
        raise AssertionError("the dataset was read although the configuration is wrong")

    monkeypatch.setattr("typology.data.io.read_dataset_hashed", boom)
    monkeypatch.setattr("typology.workflow.runs.read_dataset_hashed", boom)


def _fit(root, cfg: dict, capsys, name="c.toml"):
    f = root / name
    f.write_text(toml_dumps(cfg), encoding="utf-8")
    out = root / f"run_{name}"
    t0 = time.process_time()  # CPU time: the machine may be busy with other work
    rc = main(["fit", str(f), "--out", str(out), "--quiet"])
    elapsed = time.process_time() - t0
    return rc, capsys.readouterr().err, elapsed, f, out


# ------------------------------------------------------------------ static checks, before reading data
BAD = [  # (section, key, value, words the message must hold); the first 20 are the tracebacks
    ("typology", "n_types", 1, ['"auto" or an integer >= 2', "found 1"]),
    ("typology", "n_types", "three", ['"auto" or an integer >= 2', "'three'"]),
    ("typology", "n_types", 2.5, ["integer >= 2", "2.5"]),
    ("typology", "k_range", [5, 3], ["2 <= smallest <= largest", "[5, 3]"]),
    ("typology", "k_range", [1, 4], ["2 <= smallest <= largest", "[1, 4]"]),
    ("typology", "k_range", "2-5", ["pair", "'2-5'"]),
    ("typology", "k_range", [2], ["pair", "[2]"]),
    ("typology", "random_state", -1, ["integer >= 0", "-1"]),
    ("typology", "random_state", "x", ["integer >= 0", "'x'"]),
    ("typology", "random_state", 1.5, ["integer >= 0", "1.5"]),
    ("typology", "method", "hclust", ['"kmeans"', "'hclust'"]),
    ("typology", "period", [2015, 2012], ["first <= last", "[2015, 2012]"]),
    ("typology", "period", "first", ['"last"', "'first'"]),
    ("features", "mp_beta", -1, ["number > 0", "-1"]),
    ("features", "mp_beta", "one", ["number > 0", "'one'"]),
    ("features", "mp_beta", 0, ["number > 0", "found 0"]),
    ("features", "mp_decay", "gauss", ['"power", "exponential"', "'gauss'"]),
    ("features", "groups", ["foo"], ["unknown: ['foo']", "['foo']"]),
    ("features", "groups", [], ["non-empty list", "[]"]),
    ("typology", "features", [], ["non-empty list", "[]"]),
    # further keys
    ("typology", "features", ["nope"], ["unknown: ['nope']"]),
    ("typology", "features", ["status"], ["numeric", "'status'"]),
    ("typology", "features", "corp_share", ["list", "'corp_share'"]),
    ("typology", "sample", "some", ['"towns", "all"', "'some'"]),
    ("typology", "n_boot", -1, ["0..1,000,000", "-1"]),
    ("typology", "n_boot", 10**18, ["0..1,000,000", str(10**18)]),
    ("typology", "n_ref", "20", ["integer", "'20'"]),
    ("typology", "alpha", 2, ["(0, 1)", "found 2"]),
    ("typology", "ood_alpha", 0.0, ["(0, 1)", "0.0"]),
    ("typology", "min_jaccard", math.nan, ["[0, 1]", "nan"]),
    ("typology", "share_eps", 0.7, ["(0, 0.5)", "0.7"]),
    ("typology", "scale", "minmax", ['"standard"', "'minmax'"]),
    ("typology", "transform", {"corp_share": "cube"}, ["logit", "cube"]),
    ("typology", "transform", {"market_potential": "log"}, ["keys are typology features", "market_potential"]),
    ("typology", "n_init", 0, ['"auto" or an integer', "found 0"]),
    ("typology", "covariance_type", "banded", ['"full"', "'banded'"]),
    ("typology", "missing", "ignore", ['"raise", "drop"', "'ignore'"]),
    ("typology", "ood_neighbors", 0, ["integer >= 1", "found 0"]),
    ("typology", "n_jobs", 0, ["positive integer or -1", "found 0"]),
    ("typology", "name_terms", True, ["integer >= 1", "True"]),
    ("features", "core_population", -5, ["number > 0", "-5"]),
    ("features", "core_population", math.inf, ["number > 0", "inf"]),
    ("features", "base", 1, ["other than 1", "found 1"]),
    ("features", "missing", "drop", ['"omit", "raise"', "'drop'"]),
    ("features", "self_potential", "yes", ["true or false", "'yes'"]),
    ("features", "min_distance_km", -1.0, ["number > 0", "-1.0"]),
    ("features", "vi_min_towns", 0, ["integer >= 1", "found 0"]),
    ("features", "network_links", 1, ["true or false", "found 1"]),
    ("features", "groups", "corporate", ["non-empty list", "'corporate'"]),
    ("report", "title", 123, ["a string", "123"]),
    ("report", "title", ["a"], ["a string", "['a']"]),
    ("data", "path", 5, ["non-empty string", "found 5"]),
]


@pytest.mark.parametrize("section,key,value,words", BAD, ids=[f"{s}.{k}={v!r}" for s, k, v, _ in BAD])
def test_bad_value_is_one_message_before_any_work(root, capsys, no_data, section, key, value, words):
    cfg = base_config()
    cfg[section][key] = value
    rc, err, elapsed, f, out = _fit(root, cfg, capsys)
    assert rc == 1
    assert err.count("\n") == 1 and err.startswith("typology: "), err  # one message, no traceback
    assert str(f) in err and f"[{section}] {key}" in err and "expected" in err, err
    for w in words:
        assert w in err, (w, err)
    assert elapsed < 0.5 and not out.exists()


MODEL_BAD = [  # (model index, key, value, words)
    (0, "formula", "log(avg_wage ~ corp_share", ["formula", "cannot be parsed"]),
    (0, "formula", "y ~ ~ x", ["formula", "cannot be parsed"]),
    (0, "formula", 3, ["formula", "found 3"]),
    (0, "estimator", "ols", ["estimator", "'ols'"]),
    (0, "random_state", -3, ["random_state", "integer >= 0", "-3"]),
    (0, "bootstrap_reps", 10**12, ["bootstrap_reps", "19..1,000,000"]),
    (0, "mundlak", "yes", ["mundlak", "true or false"]),
    (0, "kind", "tobit", ["kind", '"logit"', "'tobit'"]),
    (0, "name", 7, ["name", "non-empty string", "found 7"]),
    (1, "reference", "modernizing", ["reference", "mnlogit"]),
    (1, "cov_type", "driscoll_kraay", ["cov_type", '"clustered"', "'driscoll_kraay'"]),
    (1, "estimator", "within", ["unknown key(s) ['estimator']", "outcome_level"]),
    (1, "outcome_level", 1.5, ["outcome_level", "1.5"]),
]


@pytest.mark.parametrize("i,key,value,words", MODEL_BAD, ids=[f"models{i}.{k}={v!r}" for i, k, v, _ in MODEL_BAD])
def test_bad_model_value_names_the_model_and_key(root, capsys, no_data, i, key, value, words):
    cfg = base_config()
    cfg["models"][i][key] = value
    rc, err, elapsed, f, out = _fit(root, cfg, capsys)
    assert rc == 1 and err.count("\n") == 1 and str(f) in err and f"[[models]] entry {i + 1}" in err, err
    for w in words:
        assert w in err, (w, err)
    assert elapsed < 0.5


def test_mnlogit_takes_no_outcome_level(root, capsys, no_data):
    cfg = base_config()
    cfg["models"][1].update(kind="mnlogit", formula="type_name ~ corp_share")
    rc, err, *_ = _fit(root, cfg, capsys)
    assert rc == 1 and "outcome_level" in err and "logit" in err


def test_syntax_error_names_file_and_line(root, capsys, no_data):
    f = root / "broken.toml"
    f.write_text(toml_dumps(base_config()).replace("[typology]", "[typology"), encoding="utf-8")
    assert main(["fit", str(f), "--out", str(root / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert str(f) in err and "not valid TOML" in err and "line" in err


# ------------------------------------------------------------------ the estimator's and builder's own checks agree
@pytest.fixture(scope="module")
def small_features(small_synthetic):
    import warnings

    from features import build_features

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_features(small_synthetic.data)


TYP_BAD = {"n_types": [1, "three", 2.5, True], "k_range": [[5, 3], [1, 4], "2-5"], "method": ["hclust"],
           "n_boot": [-1, 1.5], "n_ref": [-2], "n_ps": ["x"], "n_init": [0, "many"], "alpha": [0, 1, 2],
           "atypical_alpha": [-0.1], "ood_alpha": [1.0], "covariance_type": ["banded"], "missing": ["skip"],
           "random_state": [-1, "x", 1.5]}


@pytest.mark.parametrize("key,value", [(k, v) for k, vs in TYP_BAD.items() for v in vs])
def test_config_rejects_what_the_estimator_rejects(key, value, small_features):
    """The value the estimator's own validation refuses (on data) is refused by the config."""
    from typology import TownTypology, town_rows

    X = town_rows(small_features[FEATURES], "last").dropna()
    params = {"n_boot": 5, "n_ref": 2, "n_ps": 2, "random_state": 0, key: value}
    if key == "k_range" and isinstance(value, list):
        params[key] = tuple(value)
    with pytest.raises((ValueError, TypeError)):
        TownTypology(**params).fit(X)
    raw = {"data": {"path": "x"}, "typology": {key: value}}
    with pytest.raises(ConfigError, match=rf"\[typology\] {key}: expected"):
        parse_config(raw, where="c.toml")


FEAT_BAD = {"groups": [["foo"], "corporate"], "mp_beta": [-1, 0, math.inf], "mp_decay": ["gauss"],
            "core_population": [0, -5], "missing": ["drop"], "n_jobs": [0], "min_distance_km": [0, -1.0],
            "base": [1, -2]}


@pytest.mark.parametrize("key,value", [(k, v) for k, vs in FEAT_BAD.items() for v in vs])
def test_config_rejects_what_the_builder_rejects(key, value, small_synthetic):
    with pytest.raises((ValueError, TypeError)):
        FeatureBuilder(**{key: value}).fit(small_synthetic.data)
    with pytest.raises(ConfigError, match=rf"\[features\] {key}: expected"):
        parse_config({"data": {"path": "x"}, "features": {key: value}}, where="c.toml")


def test_good_values_pass_both(small_synthetic):
    good = {"groups": ["diversification", "dynamics"], "mp_beta": 2.0, "mp_decay": "exponential", "core_population": 1,
            "missing": "raise", "n_jobs": -1, "min_distance_km": 0.5, "base": 2, "vi_min_towns": 3,
            "self_potential": False, "network_links": False}
    FeatureBuilder(**good).check_params()
    cfg = parse_config({"data": {"path": "x"}, "features": good,
                        "typology": {"features": ["entropy", "pop_growth"], "n_types": 3, "k_range": [2, 4],
                                     "method": "gmm", "n_init": 2, "alpha": 0.1, "scale": "none",
                                     "transform": {"entropy": "log"}}})
    assert cfg.typology.params["scale"] is None and cfg.typology.params["n_types"] == 3


# ------------------------------------------------------------------ checks against the data, before features
def test_group_the_data_cannot_support(root, capsys, no_work):
    rc, err, elapsed, f, out = _fit(root, base_config("nofirms"), capsys)
    assert rc == 1 and err.count("\n") == 1
    assert str(f) in err and "[features] groups" in err and "'corporate'" in err and "firms" in err, err
    assert not out.exists()


def test_typology_feature_of_a_group_the_data_cannot_support(root, capsys, no_work):
    cfg = base_config("nofirms")
    del cfg["features"]["groups"]  # every group the data supports
    cfg["models"] = []
    rc, err, *_ = _fit(root, cfg, capsys)
    assert rc == 1 and "[typology] features" in err and "corp_share" in err and "'corporate'" in err, err


def test_model_variable_that_is_not_in_the_data(root, capsys, no_work):
    cfg = base_config()
    cfg["models"][0]["formula"] = "log(avg_wages) ~ corp_share"
    rc, err, *_ = _fit(root, cfg, capsys)
    assert rc == 1 and "[[models]] 'wages'" in err and "'avg_wages'" in err and "avg_wage" in err, err


def test_explicit_k_range_too_large_for_17_towns(root, capsys, no_work):
    cfg = base_config("t17")
    cfg["typology"]["k_range"] = [2, 10]
    rc, err, *_ = _fit(root, cfg, capsys)
    assert rc == 1 and "[typology] k_range" in err and "at most 7 types" in err and "[2, 10]" in err, err
    cfg["typology"]["n_types"] = 9
    rc, err, *_ = _fit(root, cfg, capsys)
    assert rc == 1 and "[typology] n_types" in err and "at most 7 types" in err and "found 9" in err, err


def test_default_k_range_with_17_towns_is_clipped_with_a_note(root, capsys):
    cfg = base_config("t17")
    cfg["models"] = []
    rc, err, _, f, out = _fit(root, cfg, capsys)
    assert rc == 0, err
    m = json.loads((out / "manifest.json").read_text())
    assert m["config"]["typology"]["k_range"] == "auto"
    assert any("k = 2..7 were considered" in n for n in m["notes"])
    sel = pd.read_csv(out / "selection.csv", index_col=0)
    assert list(sel.index) == list(range(2, 8))
    assert main(["reproduce", str(out), "--quiet"]) == 0


def test_features_command_with_a_group_the_data_cannot_support(root, capsys, no_work):
    f = root / "feat.toml"
    f.write_text(toml_dumps(base_config("nofirms")), encoding="utf-8")
    rc = main(["features", str(root / "nofirms"), "--config", str(f), "--out", str(root / "F.csv")])
    err = capsys.readouterr().err
    assert rc == 1 and "[features] groups" in err and "'corporate'" in err


# ------------------------------------------------------------------ init-config writes what the data supports
@pytest.mark.parametrize("drop", [("firms.csv", "groups.csv"), ("firms.csv", "groups.csv", "outcomes.csv")])
def test_init_config_on_data_without_firms_fits(root, tmp_path, capsys, drop):
    import shutil

    ds = tmp_path / "data"
    shutil.copytree(root / "ds", ds)
    for f in drop:
        (ds / f).unlink(missing_ok=True)
    cfg_file = tmp_path / "config.toml"
    assert main(["init-config", str(ds), "--out", str(cfg_file)]) == 0
    cfg = load_config(cfg_file)
    assert "corporate" not in cfg.features.groups and "corp_share" not in cfg.typology.features
    assert len(cfg.typology.features) >= 2
    if "outcomes.csv" in drop:
        assert cfg.models == () and "pop_growth" not in cfg.typology.features
    else:
        assert [m.formula for m in cfg.models] == ["log(avg_wage) ~ entropy + krugman"]
    text = cfg_file.read_text()
    text = text.replace("n_types = \"auto\"", "n_types = \"auto\"\nn_boot = 10\nn_ref = 5\nn_ps = 4")
    cfg_file.write_text(text)
    capsys.readouterr()
    assert main(["fit", str(cfg_file), "--out", str(tmp_path / "run"), "--quiet"]) == 0, capsys.readouterr().err
    assert (tmp_path / "run" / "types.csv").is_file()


# ------------------------------------------------------------------ seeds
def test_model_seed_derivation():
    """Documented derivation: SeedSequence(seed, spawn_key=(0x6D6F6465, crc32(name))), first word >> 1."""
    import zlib

    ss = np.random.SeedSequence(0, spawn_key=(0x6D6F6465, zlib.crc32(b"wages")))
    assert model_seed(0, "wages") == int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)
    assert model_seed(0, "wages") != model_seed(1, "wages") != model_seed(1, "investment")


def test_models_get_seeds_from_the_run_seed_by_name():
    raw = base_config()
    cfg = parse_config(raw)
    seeds = {m.name: m.spec.random_state for m in cfg.models if m.kind == "linear"}
    assert seeds["wages"] == model_seed(0, "wages") and isinstance(seeds["wages"], int)
    raw["models"] = raw["models"][::-1]  # reordered: same seeds
    assert {m.name: m.spec.random_state for m in parse_config(raw).models if m.kind == "linear"}["wages"] == seeds["wages"]
    raw["typology"]["random_state"] = 5
    assert {m.name: m.spec.random_state for m in parse_config(raw).models if m.kind == "linear"}["wages"] == model_seed(5, "wages")
    raw["models"][1]["random_state"] = 123  # an explicit seed is kept
    assert {m.name: m.spec.random_state for m in parse_config(raw).models if m.kind == "linear"}["wages"] == 123


def test_run_seed_cannot_be_none():
    """A manifest (JSON) can hold null; a run must be reproducible, so it is refused."""
    raw = base_config()
    raw["typology"]["random_state"] = None
    with pytest.raises(ConfigError, match=r"\[typology\] random_state: expected an integer >= 0"):
        parse_config(raw, where="manifest.json")


# ------------------------------------------------------------------ a run with a wild bootstrap and a logit
@pytest.fixture(scope="module")
def two_runs(root):
    f = root / "boot.toml"
    f.write_text(toml_dumps(base_config()), encoding="utf-8")
    runs = []
    for i in (1, 2):
        out = root / f"boot_run{i}"
        assert main(["fit", str(f), "--out", str(out), "--quiet"]) == 0
        runs.append(out)
    return runs


def test_wild_bootstrap_fitted_twice_is_identical_and_reproduces(two_runs):
    a, b = (pd.read_csv(r / "coefficients.csv") for r in two_runs)
    pd.testing.assert_frame_equal(a, b)
    assert a["pvalue"].between(0, 1).all()
    m = json.loads((two_runs[0] / "manifest.json").read_text())
    assert m["seed"] == 0
    assert m["config"]["models"][0]["random_state"] == model_seed(0, "wages")
    assert main(["reproduce", str(two_runs[0]), "--quiet"]) == 0


def test_discrete_model_in_the_run_matches_statsmodels(two_runs, small_synthetic):
    """The logit of the run equals statsmodels' Logit on the same town-years (reference:
    statsmodels, computed in the test with the installed version (0.15.0 when this was written):
    ``Logit(y, X).fit(cov_type="cluster", cov_kwds={"groups": town})`` and
    ``get_margeff(at="overall")``)."""
    import statsmodels.api as sm

    run = two_runs[0]
    coef = pd.read_csv(run / "discrete_coefficients.csv").set_index("term")
    me = pd.read_csv(run / "marginal_effects.csv").set_index("term")
    summ = pd.read_csv(run / "discrete_models.csv")
    assert list(summ["model"]) == ["stagnation"] and summ.loc[0, "kind"] == "logit"
    assert set(coef["outcome"]) == {"stagnating"}
    F = pd.read_parquet(run / "features.parquet")
    d = F[["status", "corp_share", "core_control_share", "dist_core_km"]].dropna()
    y = (d["status"] == "stagnating").astype(float)
    X = sm.add_constant(d[["corp_share", "core_control_share", "dist_core_km"]]).rename(columns={"const": "Intercept"})
    town = pd.factorize(d.index.get_level_values("town_id"))[0]
    ref = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": town})
    assert int(summ.loc[0, "nobs"]) == len(d)
    np.testing.assert_allclose(coef.loc[X.columns, "estimate"], ref.params[X.columns], rtol=1e-6)
    np.testing.assert_allclose(coef.loc[X.columns, "std_error"], ref.bse[X.columns], rtol=1e-6)
    ame = ref.get_margeff(at="overall").summary_frame()
    np.testing.assert_allclose(me.loc[ame.index, "dydx"], ame["dy/dx"], rtol=1e-6)
    report = (run / "report.md").read_text()
    assert "## Discrete-choice models" in report and "stagnating" in report


def test_discrete_options_are_read_from_the_signature(monkeypatch):
    """Options added to models.fit_discrete_model are accepted without a change to the config code."""
    import models

    real = models.fit_discrete_model

    def extended(data, formula, model="logit", outcome_level=None, reference=None, cov_type="clustered",
                 cluster="entity", penalty=None):
        return real(data, formula, model, outcome_level, reference, cov_type, cluster)

    monkeypatch.setattr(models, "fit_discrete_model", extended)
    raw = base_config()
    raw["models"][1]["penalty"] = "firth"
    (m,) = [m for m in parse_config(raw).models if m.name == "stagnation"]
    assert m.options["penalty"] == "firth" and m.kind == "logit" and m.options["cov_type"] == "clustered"
    raw["models"][1]["penalty_typo"] = 1
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['penalty_typo'\].*penalty"):
        parse_config(raw)
