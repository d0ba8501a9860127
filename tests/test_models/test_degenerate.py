"""Degenerate outcomes and fits: refused or flagged, never starred.

* An outcome that is missing everywhere, constant, or constant once the model's effects are
  removed is refused with :class:`DegenerateModelError` naming it.
* A perfect fit (zero residuals) keeps its exact estimates; t, p-value and interval are NaN.
* A standard error that is zero to rounding (here: a regressor that varies within one town
  only, errors clustered by town, whose cluster scores are all 0 by the normal equations)
  gives t, p-value and interval NaN, with a note naming the term.
* Normal fits keep their t statistics and p-values: checked against statsmodels OLS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from models import (
    DegenerateModelError,
    PanelModelSpec,
    SpecificationTestWarning,
    fit_panel_model,
    specification_tests,
)


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(11)
    n_towns, n_years = 30, 8
    idx = pd.MultiIndex.from_product([[f"T{i:02d}" for i in range(n_towns)], range(2010, 2010 + n_years)],
                                     names=["town_id", "year"])
    n = len(idx)
    d = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)}, index=idx)
    town = np.repeat(rng.normal(size=n_towns), n_years)
    year = np.tile(rng.normal(size=n_years), n_towns)
    d["y"] = town + 0.5 * d["x"] - 0.3 * d["z"] + rng.normal(size=n)
    d["const"] = 4.2
    d["town_level"] = town  # varies only between towns
    d["town_plus_year"] = town + year  # absorbed by two-way effects
    d["demeaned"] = d["y"] - d.groupby(level="town_id")["y"].transform("mean")  # equal town means
    d["exact"] = 1.0 + 2.0 * d["x"] - d["z"]
    d["region"] = np.repeat([f"R{i % 6}" for i in range(n_towns)], n_years)
    # x varies within town T00 only
    d["x_one"] = np.where(d.index.get_level_values("town_id") == "T00", d["x"], 1.0)
    d["y_one"] = 0.7 * d["x_one"] + town + rng.normal(size=n)
    return d


@pytest.mark.parametrize("estimator", ["within", "pooled", "random", "between", "first_difference"])
def test_constant_outcome_refused(panel, estimator):
    # before: exit 0 with slopes of 1e-13 and |t| > 4 (issue 11, A5)
    with pytest.raises(DegenerateModelError, match=r"outcome 'const' is constant \(4\.2\)"):
        fit_panel_model(panel, PanelModelSpec("const ~ x + z", estimator=estimator))


def test_constant_log_outcome_and_all_missing_refused(panel):
    with pytest.raises(DegenerateModelError, match=r"outcome 'log\(const\)' is constant"):
        fit_panel_model(panel, PanelModelSpec("log(const) ~ x"))
    d = panel.assign(empty=np.nan, negative=-1.0)
    with pytest.raises(DegenerateModelError, match="outcome 'empty' is missing or invalid in all 240 rows"):
        fit_panel_model(d, PanelModelSpec("empty ~ x"))
    with pytest.raises(DegenerateModelError, match=r"outcome 'log\(negative\)' is missing or invalid in all"):
        fit_panel_model(d, PanelModelSpec("log(negative) ~ x"))


@pytest.mark.parametrize(("outcome", "kw", "message"), [
    ("town_level", {}, "does not vary within towns: the town effects absorb"),
    ("town_level", {"estimator": "random"}, "does not vary within towns: random effects need within-town"),
    ("town_level", {"estimator": "first_difference"}, "does not change between consecutive years"),
    ("town_plus_year", {"effects": "twoway"}, "is a town part plus a year part"),
    ("demeaned", {"estimator": "between"}, "has the same mean in every town"),
])
def test_outcome_without_variation_after_effects_refused(panel, outcome, kw, message):
    with pytest.raises(DegenerateModelError, match=f"outcome '{outcome}' {message}"):
        fit_panel_model(panel, PanelModelSpec(f"{outcome} ~ x + z", **kw))
    # the same outcomes are fine where their variation is what the model explains
    if outcome == "town_level":
        fit_panel_model(panel, PanelModelSpec(f"{outcome} ~ x + z", estimator="between", cov_type="unadjusted"))


@pytest.mark.parametrize("cov_type", ["unadjusted", "robust", "clustered", "wild_bootstrap"])
def test_perfect_fit_flagged_not_starred(panel, cov_type):
    r = fit_panel_model(panel, PanelModelSpec("exact ~ x + z", estimator="pooled", cov_type=cov_type, random_state=0))
    # the estimates are the exact coefficients
    np.testing.assert_allclose(r.params[["Intercept", "x", "z"]], [1.0, 2.0, -1.0], atol=1e-12)
    assert (r.std_errors == 0).all()
    assert r.tstats.isna().all() and r.pvalues.isna().all()
    assert r.conf_int().isna().all().all()
    assert any("fits exact exactly" in n for n in r.notes)
    assert any("no t statistic, p-value or interval for Intercept, x, z" in n for n in r.notes)
    w = r.wald_test()
    assert np.isnan(w.statistic) and np.isnan(w.pvalue)
    if cov_type == "wild_bootstrap":
        assert r.bootstrap is None


def test_zero_clustered_standard_error_flagged(panel):
    # within, clustered by town: x_one varies in T00 only, so every town's score sum is 0
    r = fit_panel_model(panel, PanelModelSpec("y_one ~ x_one"))
    assert np.isnan(r.tstats["x_one"]) and np.isnan(r.pvalues["x_one"]) and r.std_errors["x_one"] == 0
    assert np.isnan(r.conf_int().loc["x_one"]).all()
    assert any("no t statistic, p-value or interval for" in n and "x_one" in n for n in r.notes)
    # the classical standard error of the same fit is a real one: t and p reported
    u = fit_panel_model(panel, PanelModelSpec("y_one ~ x_one", cov_type="unadjusted"))
    assert np.isfinite(u.tstats["x_one"]) and 0 < u.pvalues["x_one"] < 1 and not any("no t" in n for n in u.notes)


def test_normal_fit_t_and_p_unchanged(panel):
    """t and p of an ordinary fit equal statsmodels OLS (0.15): classical, HC1, and cluster
    (CRV1, t(G-1)) on the pooled regression."""
    X = sm.add_constant(panel[["x", "z"]].to_numpy())
    y = panel["y"].to_numpy()
    groups = pd.factorize(panel["region"])[0]
    for cov_type, sm_fit in (("unadjusted", sm.OLS(y, X).fit()),
                             ("robust", sm.OLS(y, X).fit(cov_type="HC1", use_t=True)),
                             ("clustered", sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                                            use_t=True))):
        r = fit_panel_model(panel, PanelModelSpec("y ~ x + z", estimator="pooled", cov_type=cov_type,
                                                  cluster="region"))
        np.testing.assert_allclose(r.tstats.to_numpy(), sm_fit.tvalues, rtol=1e-10)
        np.testing.assert_allclose(r.pvalues.to_numpy(), sm_fit.pvalues, rtol=1e-8, atol=1e-300)
        assert not any("no t statistic" in n for n in r.notes)


def test_specification_tests_on_degenerate_inputs(panel):
    with pytest.raises(DegenerateModelError, match="'const'"):
        specification_tests(panel, "const ~ x + z")
    with pytest.raises(DegenerateModelError, match="'town_level' does not vary within towns"):
        specification_tests(panel, "town_level ~ x + z")
    # an exact fit: every test says it cannot be computed (NaN), none reports rounding noise
    with pytest.warns(SpecificationTestWarning, match="not computed"):
        tab = specification_tests(panel, "exact ~ x + z")
    assert tab["statistic"].isna().all() and tab["pvalue"].isna().all()
    assert tab["test"].str.contains("not computed").all()
