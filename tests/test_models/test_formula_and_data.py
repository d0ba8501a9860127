"""Formulas, lags, categorical interactions, dropped rows, singletons and identification errors."""

from __future__ import annotations

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

from models import (
    AbsorbedRegressorError,
    BootstrapWarning,
    CollinearityError,
    FormulaError,
    PanelModelSpec,
    fit_panel_model,
    parse_formula,
)


@pytest.fixture
def panel():
    rng = np.random.default_rng(0)
    towns = [f"T{i:02d}" for i in range(30)]
    years = range(2010, 2018)
    idx = pd.MultiIndex.from_product([towns, years], names=["town_id", "year"])
    n = len(idx)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)}, index=idx)
    df["type"] = np.repeat(rng.choice(["a", "b", "c"], 30), 8)
    df["region"] = np.repeat([f"R{i % 5}" for i in range(30)], 8)
    df["dist"] = np.repeat(rng.uniform(10, 500, 30), 8)  # time-invariant
    alpha = np.repeat(rng.normal(size=30), 8)
    slope = df["type"].map({"a": 1.0, "b": 2.0, "c": -1.0}).to_numpy()
    df["y"] = alpha + slope * df["x"] + 0.5 * df["z"] + 0.1 * rng.normal(size=n)
    df["w"] = np.exp(df["y"])
    return df


def test_parse_expansions():
    f = parse_formula("y ~ a*b + log(c) + lag(d, 2) - 1")
    assert not f.intercept
    assert [":".join(x.render() for x in t) for t in f.terms] == ["a", "b", "a:b", "log(c)", "lag(d, 2)"]
    assert parse_formula("y ~ 0 + x").intercept is False
    assert parse_formula("y ~ x + x").terms == parse_formula("y ~ x").terms
    with pytest.raises(FormulaError, match="unknown function"):
        parse_formula("y ~ exp(x)")
    with pytest.raises(FormulaError, match="exactly one"):
        parse_formula("y + x")
    with pytest.raises(FormulaError, match="only the intercept"):
        parse_formula("y ~ x - z")


def test_unknown_column_is_named(panel):
    with pytest.raises(FormulaError, match="'nope' is not in the data"):
        fit_panel_model(panel, PanelModelSpec("y ~ nope"))


def test_spec_validation_lists_valid_values():
    with pytest.raises(ValueError, match="estimator must be one of 'within', 'random'"):
        PanelModelSpec("y ~ x", estimator="fe")
    with pytest.raises(ValueError, match="cov_type must be one of"):
        PanelModelSpec("y ~ x", cov_type="hc3")
    with pytest.raises(ValueError, match="add C\\(year\\)"):
        PanelModelSpec("y ~ x", estimator="random", effects="twoway")
    with pytest.raises(ValueError, match="cluster_small_sample must be one of 'stata', 'plm', 'none'"):
        PanelModelSpec("y ~ x", cluster_small_sample="hc1")
    assert PanelModelSpec("y ~ x", estimator="pooled").effects is None
    assert PanelModelSpec("y ~ x").effects == "entity"
    spec = PanelModelSpec("y ~ x")
    with pytest.raises(AttributeError):
        spec.estimator = "random"


def test_heterogeneous_slopes_by_type(panel):
    r = fit_panel_model(panel, PanelModelSpec("y ~ x:C(type) + z", cov_type="unadjusted"))
    # full coding: one slope per type, true values 1, 2, -1
    est = r.params[["x:C(type)[a]", "x:C(type)[b]", "x:C(type)[c]"]].to_numpy()
    np.testing.assert_allclose(est, [1.0, 2.0, -1.0], atol=0.05)
    r2 = fit_panel_model(panel, PanelModelSpec("y ~ x + x:C(type) + z", cov_type="unadjusted"))
    # treatment coding: reference slope and differences, the same fitted model
    assert list(r2.params.index) == ["Intercept", "x", "x:C(type)[T.b]", "x:C(type)[T.c]", "z"]
    assert r2.params["x"] + r2.params["x:C(type)[T.b]"] == pytest.approx(r.params["x:C(type)[b]"], rel=1e-10)
    assert r2.ssr == pytest.approx(r.ssr, rel=1e-10)
    r3 = fit_panel_model(panel, PanelModelSpec("y ~ x + x:C(type, ref='c') + z", cov_type="unadjusted"))
    assert r3.params["x"] == pytest.approx(r.params["x:C(type)[c]"], rel=1e-10)


def test_lag_is_calendar_previous_year_within_town(panel):
    df = panel.copy()
    df = df.drop(index=("T00", 2013))  # a gap: lag at 2014 is missing, not the 2012 value
    r = fit_panel_model(df, PanelModelSpec("y ~ lag(x, 1) + z", estimator="pooled", cov_type="unadjusted"))
    dropped = r.dropped
    # first year of every town (30) + the year after the gap
    assert len(dropped) == 31
    assert dropped.loc[("T00", 2014), "reason"] == "missing lag(x, 1)"
    X = r.fit_data.X
    # the lag column of T01, 2011 is x of T01, 2010
    pos = list(df.index).index(("T01", 2011))
    kept = np.setdiff1d(np.arange(len(df)), [list(df.index).index(i) for i in dropped.index])
    row = int(np.flatnonzero(kept == pos)[0])
    assert X[row, 0] == df.loc[("T01", 2010), "x"]


def test_first_differences_skip_gaps(panel):
    df = panel.drop(index=("T00", 2013))  # T00: 2014 has no previous year, 2013 is gone
    r = fit_panel_model(df, PanelModelSpec("y ~ x + z", estimator="first_difference", cov_type="unadjusted"))
    reasons = r.dropped["reason"]
    assert len(reasons) == df.index.get_level_values(0).nunique() + 1  # every first year, and 2014 of T00
    assert reasons.loc[("T00", 2014)].startswith("no previous year")
    # the differences by hand: OLS of dy on dx and dz with an intercept, over consecutive years only
    d = df.groupby(level=0)[["y", "x", "z"]].diff()
    years = df.index.get_level_values(1).to_numpy()
    step = np.r_[0, np.diff(years)]
    d = d[(step == 1) & d.notna().all(axis=1).to_numpy()]
    A = np.column_stack([np.ones(len(d)), d[["x", "z"]].to_numpy()])
    b = np.linalg.lstsq(A, d["y"].to_numpy(), rcond=None)[0]
    assert r.nobs == len(d)
    np.testing.assert_allclose(r.params[["x", "z"]].to_numpy(), b[1:], rtol=1e-10)


def test_missing_and_invalid_values_are_counted(panel):
    df = panel.copy()
    df.loc[("T03", 2011), "z"] = np.nan
    df.loc[("T04", 2012), "w"] = 0.0  # log(0): invalid
    r = fit_panel_model(df, PanelModelSpec("log(w) ~ x + z"))
    assert r.nobs == len(df) - 2
    assert r.dropped.loc[("T03", 2011), "reason"] == "missing z"
    assert r.dropped.loc[("T04", 2012), "reason"] == "invalid log(w)"
    assert "2 of 240 rows not used" in r.notes[0]


def test_singletons_dropped_and_reported(panel):
    df = panel.drop(index=[("T05", y) for y in range(2011, 2018)])  # T05 has one year left
    r = fit_panel_model(df, PanelModelSpec("y ~ x + z", cov_type="unadjusted"))
    assert r.dropped.loc[("T05", 2010), "reason"] == "singleton town"
    keep = fit_panel_model(df, PanelModelSpec("y ~ x + z", cov_type="unadjusted", singletons="keep"))
    # a singleton carries no information: same estimates, one more row and one more effect
    np.testing.assert_allclose(r.params[["x", "z"]], keep.params[["x", "z"]], rtol=1e-10)
    assert keep.nobs == r.nobs + 1 and keep.df_resid == r.df_resid


def test_time_invariant_regressor_named_with_advice(panel):
    with pytest.raises(AbsorbedRegressorError, match=r"dist: do not vary within towns.*estimator='random'.*mundlak"):
        fit_panel_model(panel, PanelModelSpec("y ~ x + dist"))
    with pytest.raises(AbsorbedRegressorError, match=r"C\(type\)\[T.b\], C\(type\)\[T.c\]"):
        fit_panel_model(panel, PanelModelSpec("y ~ x + C(type)"))
    with pytest.raises(AbsorbedRegressorError, match="first differences remove them"):
        fit_panel_model(panel, PanelModelSpec("y ~ x + dist", estimator="first_difference"))
    # random effects and between keep it
    re = fit_panel_model(panel, PanelModelSpec("y ~ x + dist", estimator="random"))
    assert "dist" in re.params.index
    cre = fit_panel_model(panel, PanelModelSpec("y ~ x + z + dist", estimator="random", mundlak=True))
    assert {"mean(x)", "mean(z)"} <= set(cre.params.index) and "mean(dist)" not in cre.params.index


def test_collinear_regressors_named(panel):
    df = panel.assign(x2=2.0 * panel["x"] - panel["z"])
    with pytest.raises(CollinearityError, match="combination of x, z, x2 is zero"):
        fit_panel_model(df, PanelModelSpec("y ~ x + z + x2", estimator="pooled"))


def test_bad_index_messages(panel):
    with pytest.raises(ValueError, match="two-level"):
        fit_panel_model(panel.reset_index(), PanelModelSpec("y ~ x"))
    dup = pd.concat([panel, panel.iloc[:2]])
    with pytest.raises(ValueError, match="2 duplicate"):
        fit_panel_model(dup, PanelModelSpec("y ~ x"))


def test_result_is_read_only_and_picklable(panel, tmp_path):
    r = fit_panel_model(panel, PanelModelSpec("y ~ x + z", name="wages"))
    with pytest.raises(AttributeError):
        r.nobs = 3
    p = r.params
    p.iloc[0] = 10.0  # a copy: the result is unchanged
    assert r.params.iloc[0] != 10.0
    path = tmp_path / "r.joblib"
    joblib.dump(r, path)
    back = joblib.load(path)
    pd.testing.assert_frame_equal(back.to_frame(), r.to_frame())
    assert pickle.loads(pickle.dumps(r)).summary() == r.summary()
    text = r.summary()
    assert "wages" in text and "clustered by entity (stata)" in text
    tab = r.to_frame()
    assert list(tab.columns) == ["estimate", "std_error", "tstat", "pvalue", "ci_lower", "ci_upper"]
    ci = r.conf_int(0.9)
    assert (ci["lower"] < r.params).all() and (r.params < ci["upper"]).all()


def test_inputs_not_mutated(panel):
    before = panel.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 5 regions: the 95 % Rademacher intervals are unbounded (smallest p-value 1/16), and say so
        warnings.simplefilter("ignore", BootstrapWarning)
        fit_panel_model(panel, PanelModelSpec("log(w) ~ lag(x, 1) + x:C(type)", cov_type="wild_bootstrap",
                                              cluster="region", bootstrap_reps=99, random_state=0))
    pd.testing.assert_frame_equal(panel, before)


def test_cluster_by_column_and_between_time(panel):
    r = fit_panel_model(panel, PanelModelSpec("y ~ x + z", cluster="region"))
    assert r.n_clusters == {"region": 5} and r.df_dist == 4
    b = fit_panel_model(panel, PanelModelSpec("y ~ x + z", estimator="between", effects="time",
                                              cov_type="unadjusted"))
    assert b.nobs == 8
