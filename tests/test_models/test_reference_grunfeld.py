"""Grunfeld (10 firms, Baltagi's version = plm::Grunfeld): every estimator and test against
published and recomputed numbers.

The numbers and their sources (plm's saved test outputs, which replicate Baltagi 2013 and quote
Gretl, Stata, SAS and EViews; R 4.2.2 with plm 2.6.2 through ``data/panel_references.R``; a
Stata 16 log) are in ``results/grunfeld.py``, each with the command that produced it.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from models import (
    PanelModelSpec,
    breusch_pagan,
    f_test_effects,
    fit_panel_model,
    hausman,
    mundlak_test,
    specification_tests,
)

REF = runpy.run_path(str(Path(__file__).parent / "results" / "grunfeld.py"))
F = REF["FORMULA"]


def fit(data, **kw):
    kw.setdefault("cov_type", "unadjusted")
    return fit_panel_model(data, PanelModelSpec(F, **kw))


def close(series, expected):
    """Each value equals the published one to the digits printed (half a unit of the last digit)."""
    for k, v in expected.items():
        decimals = len(repr(v).split(".")[1]) if "." in repr(v) else 0
        assert abs(float(series[k]) - v) <= 0.5 * 10.0 ** -decimals + 1e-12, (k, float(series[k]), v)


def digits(value, expected):
    """Equal to a value printed with 10 significant digits (``data/panel_references.R``)."""
    assert float(value) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_grunfeld_is_baltagis_version(grunfeld):
    assert grunfeld.shape[0] == 200
    assert grunfeld.index.get_level_values(0).nunique() == 10
    sums = REF["column_sums"]["values"]
    np.testing.assert_allclose(grunfeld[list(sums)].sum().to_numpy(), list(sums.values()))


def test_pooled(grunfeld):
    ref = REF["pooled"]
    r = fit(grunfeld, estimator="pooled")
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])
    close({"r2": r.rsquared}, {"r2": ref["rsquared"]})
    assert r.df_resid == ref["df_resid"]


def test_between(grunfeld):
    ref = REF["between"]
    r = fit(grunfeld, estimator="between")
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])
    close({"r2": r.rsquared}, {"r2": ref["rsquared"]})
    assert r.nobs == ref["nobs"]


def test_within_entity(grunfeld):
    ref = REF["within"]
    r = fit(grunfeld)
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])
    close({"r2": r.rsquared}, {"r2": ref["rsquared"]})
    assert r.df_resid == ref["df_resid"]
    # Stata's reported constant (mean(y) - mean(x)'b), as Gretl prints it
    close({"Intercept": r.params["Intercept"]}, {"Intercept": ref["intercept"]["value"]})


def test_within_time_and_twoway(grunfeld):
    t = fit(grunfeld, effects="time")
    close(t.params, REF["within_time"]["params"])
    close(t.std_errors, REF["within_time"]["std_errors"])
    ref = REF["within_twoway"]
    tw = fit(grunfeld, effects="twoway")
    close(tw.params, ref["params"])
    close(tw.std_errors, ref["std_errors"])
    close({"r2": tw.rsquared}, {"r2": ref["rsquared"]})
    assert tw.df_resid == ref["df_resid"]


def test_twoway_unbalanced(grunfeld):
    ref = REF["within_twoway_unbalanced"]
    r = fit(grunfeld.drop(index=ref["dropped_row"]), effects="twoway")
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])
    assert r.df_resid == ref["df_resid"]


def test_random_swamy_arora(grunfeld):
    ref = REF["random"]
    r = fit(grunfeld, estimator="random")
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])
    close(r.variance_components, ref["variance_components"])
    assert r.dist == "normal"


def test_random_unbalanced_baltagi_chang(grunfeld):
    ref = REF["random_unbalanced"]
    r = fit(grunfeld.drop(index=REF["within_twoway_unbalanced"]["dropped_row"]), estimator="random")
    close(r.variance_components, ref["variance_components"])
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])


def test_clustered_stata_convention(grunfeld):
    # Gretl uses Stata's G/(G-1) (N-1)/(N-K) with the constant counted in K
    ref = REF["gretl_clustered"]
    fe = fit(grunfeld, cov_type="clustered")
    close(fe.params, ref["within"]["params"])
    close(fe.std_errors, ref["within"]["std_errors"])
    assert fe.dist == "t" and fe.df_dist == ref["within"]["df_dist"]
    close({"F": fe.wald_test(f_test=True).statistic}, {"F": ref["within"]["f_statistic"]})
    # two-way: time effects are not nested in the firm clusters, so K = 2 + 1 + 19 (Gretl, time dummies)
    tw = fit(grunfeld, cov_type="clustered", effects="twoway")
    close(tw.std_errors, ref["within_twoway"]["std_errors"])
    close({"F": tw.wald_test(f_test=True).statistic}, {"F": ref["within_twoway"]["f_statistic"]})
    pooled = fit(grunfeld, estimator="pooled", cov_type="clustered")
    close(pooled.std_errors, ref["pooled"]["std_errors"])
    re = fit(grunfeld, estimator="random", cov_type="clustered")
    close(re.std_errors, ref["random"]["std_errors"])
    close({"chi2": re.wald_test().statistic}, {"chi2": ref["random"]["chi2_statistic"]})


def test_clustered_plm_conventions(grunfeld):
    ref = REF["plm_clustered"]
    # plm::vcovHC default (Arellano, HC0, no factor)
    none = fit(grunfeld, cov_type="clustered", cluster_small_sample="none")
    digits(none.wald_test().statistic, ref["chi2_statistic"])
    digits(none.wald_test(f_test=True).statistic, ref["f_statistic"])
    # plm's type = "sss": G/(G-1) (N-1)/(N-K) with K = 2 slopes (derived: HC0 times that factor)
    sss = fit(grunfeld, cov_type="clustered", cluster_small_sample="plm")
    factor = 10 / 9 * 199 / 198
    np.testing.assert_allclose(sss.std_errors[["value", "capital"]], none.std_errors[["value", "capital"]]
                               * np.sqrt(factor))
    # clustered by year
    by_time = fit(grunfeld, cov_type="clustered", cluster="time", cluster_small_sample="none")
    digits(by_time.wald_test(f_test=True).statistic, ref["f_statistic_time_clusters"])
    assert by_time.df_dist == ref["df_dist_time_clusters"]


def test_hausman(grunfeld):
    ref = REF["hausman"]
    fe = fit(grunfeld)
    re = fit(grunfeld, estimator="random")
    h = hausman(fe, re)
    close({"H": h.statistic, "p": h.pvalue}, {"H": ref["classical"]["statistic"], "p": ref["classical"]["pvalue"]})
    assert h.df == ref["classical"]["df"]
    # robust (auxiliary regression) without a factor: plm's phtest(method = "aux", vcov = vcovHC)
    re_none = fit(grunfeld, estimator="random", cov_type="clustered", cluster_small_sample="none")
    digits(hausman(fe, re_none, method="robust").statistic, ref["robust_plm"]["statistic"])
    # ... and with Stata's factor (K = 5): Gretl's robust Hausman test
    re_stata = fit(grunfeld, estimator="random", cov_type="clustered")
    h2 = hausman(fe, re_stata, method="robust")
    close({"H": h2.statistic, "p": h2.pvalue}, {"H": ref["robust_gretl"]["statistic"],
                                                 "p": ref["robust_gretl"]["pvalue"]})


def test_breusch_pagan(grunfeld):
    ref = REF["breusch_pagan"]
    close({"LM": breusch_pagan(grunfeld, F).statistic}, {"LM": ref["entity"]})
    close({"LM": breusch_pagan(grunfeld, F, "time").statistic}, {"LM": ref["time"]})
    tw = breusch_pagan(grunfeld, F, "twoway")
    close({"LM": tw.statistic}, {"LM": ref["twoway"]})
    assert tw.df == 2
    unbal = grunfeld.drop(index=REF["within_twoway_unbalanced"]["dropped_row"])
    close({"LM": breusch_pagan(unbal, F).statistic}, {"LM": ref["unbalanced"]["entity"]})
    close({"LM": breusch_pagan(unbal, F, "time").statistic}, {"LM": ref["unbalanced"]["time"]})


def test_f_test_effects(grunfeld):
    for effects, ref in REF["f_test_effects"].items():
        if effects in ("source", "command"):
            continue
        f = f_test_effects(grunfeld, F, effects)
        close({"F": f.statistic}, {"F": ref["statistic"]})
        assert (f.df, f.df_denom) == (ref["df"], ref["df_denom"])


def test_mundlak(grunfeld):
    # classical: equals the regression-based Hausman test, plm phtest(method = "aux")
    m = mundlak_test(grunfeld, F, cov_type="unadjusted")
    digits(m.statistic, REF["mundlak"]["statistic"])
    assert m.df == REF["mundlak"]["df"]
    # cluster-robust: the same numbers as the robust Hausman test (Wooldridge 2010, 10.7.3)
    digits(mundlak_test(grunfeld, F, cluster_small_sample="none").statistic,
           REF["hausman"]["robust_plm"]["statistic"])
    close({"H": mundlak_test(grunfeld, F).statistic}, {"H": REF["hausman"]["robust_gretl"]["statistic"]})
    # the Mundlak coefficients on the time-varying regressors equal the within estimates
    cre = fit(grunfeld, estimator="random", mundlak=True)
    fe = fit(grunfeld)
    np.testing.assert_allclose(cre.params[["value", "capital"]], fe.params[["value", "capital"]])


def test_specification_tests_table(grunfeld):
    tab = specification_tests(grunfeld, F)
    assert list(tab.index) == ["f_effects", "breusch_pagan", "hausman", "mundlak"]
    assert {"statistic", "df", "pvalue"} <= set(tab.columns)
    # the published values of the tests above: plm pFtest, plmtest, phtest; Gretl
    close(tab["statistic"], {"f_effects": REF["f_test_effects"]["entity"]["statistic"],
                             "breusch_pagan": REF["breusch_pagan"]["entity"],
                             "hausman": REF["hausman"]["classical"]["statistic"],
                             "mundlak": REF["hausman"]["robust_gretl"]["statistic"]})
    np.testing.assert_array_equal(tab["df"], [9, 1, 2, 2])


def test_within_rsquared_as_stata(grunfeld):
    ref = REF["stata_rsquared"]
    r = fit(grunfeld)
    ours = {"within": r.rsquared_within, "between": r.rsquared_between, "overall": r.rsquared_overall}
    close(ours, ref["values"])  # Stata 16's log, 4 decimals
    for k, v in ref["recomputed"]["values"].items():  # Stata's definitions recomputed in R, 10 digits
        digits(ours[k], v)


def test_twoway_clustering_plm_convention_equals_linearmodels(grunfeld):
    from linearmodels import PanelOLS

    r = fit(grunfeld, cov_type="clustered", cluster="entity+time", cluster_small_sample="plm")
    # linearmodels (run here) with the per-dimension factor G/(G-1) (group_debias) and the
    # (N-1)/(N-K) factor (debiased) without counting the absorbed effects: plm's "sss" convention
    ref = PanelOLS(grunfeld["inv"], grunfeld[["value", "capital"]], entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True, cluster_time=True, group_debias=True, debiased=True,
        count_effects=False, auto_df=False)
    np.testing.assert_allclose(r.std_errors[["value", "capital"]].to_numpy(), ref.std_errors.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(r.params[["value", "capital"]].to_numpy(), ref.params.to_numpy(), rtol=1e-10)
