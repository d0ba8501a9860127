"""Grunfeld (10 firms, Baltagi's version = plm::Grunfeld): every estimator and test against
published numbers.

Sources (each number below names its own):
* plm's regression test outputs ``inst/tests/test_Estimators.Rout.save`` (plm 2.6), which
  replicate Baltagi (2013) Tables 2.1 and 3.1;
* ``test_pwaldtest.Rout.save`` (plm), which quotes Gretl's clustered ("HAC") results with
  Stata's small-sample adjustment;
* ``test_phtest_Hausman_regression.Rout.save`` (plm): Baltagi (2013) sec. 4.3.1;
* ``test_plmtest_unbalanced.Rout.save`` (plm): Baltagi (2013) Tables 4.1-4.2, Stata's
  ``xttest0`` (798.16) and EViews for the unbalanced panel;
* ``test_pFtest.Rout.save`` (plm): SAS 9.4 PROC PANEL (F = 49.18).
"""

from __future__ import annotations

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

F = "inv ~ value + capital"


def fit(data, **kw):
    kw.setdefault("cov_type", "unadjusted")
    return fit_panel_model(data, PanelModelSpec(F, **kw))


def close(series, expected):
    """Each value equals the published one to the digits printed (half a unit of the last digit)."""
    for k, v in expected.items():
        decimals = len(repr(v).split(".")[1]) if "." in repr(v) else 0
        assert abs(float(series[k]) - v) <= 0.5 * 10.0 ** -decimals + 1e-12, (k, float(series[k]), v)


def test_grunfeld_is_baltagis_version(grunfeld):
    assert grunfeld.shape[0] == 200
    assert grunfeld.index.get_level_values(0).nunique() == 10
    # column sums of plm::Grunfeld (plm 2.6 data, as exported by the Rdatasets project)
    np.testing.assert_allclose(grunfeld[["inv", "value", "capital"]].sum().to_numpy(),
                               [29191.65, 216336.22, 55203.43])


def test_pooled(grunfeld):
    r = fit(grunfeld, estimator="pooled")
    # plm test_Estimators.Rout.save, "Pooling Model" (= Baltagi 2013 Table 2.1, OLS)
    close(r.params, {"Intercept": -42.7143694, "value": 0.1155622, "capital": 0.2306785})
    close(r.std_errors, {"Intercept": 9.5116760, "value": 0.0058357, "capital": 0.0254758})
    assert r.rsquared == pytest.approx(0.81241, abs=5e-6)
    assert r.df_resid == 197


def test_between(grunfeld):
    r = fit(grunfeld, estimator="between")
    # plm test_Estimators.Rout.save, "Between Model"
    close(r.params, {"Intercept": -8.527114, "value": 0.134646, "capital": 0.032031})
    close(r.std_errors, {"Intercept": 47.515308, "value": 0.028745, "capital": 0.190938})
    assert r.rsquared == pytest.approx(0.85777, abs=5e-6)
    assert r.nobs == 10


def test_within_entity(grunfeld):
    r = fit(grunfeld)
    # plm test_Estimators.Rout.save, "Within Model" (Baltagi 2013 Table 2.1)
    close(r.params, {"value": 0.110124, "capital": 0.310065})
    close(r.std_errors, {"value": 0.011857, "capital": 0.017355})
    assert r.rsquared == pytest.approx(0.76676, abs=5e-6)
    assert r.df_resid == 188
    # Stata's reported constant (mean(y) - mean(x)'b); Gretl (2016b) as quoted in plm's
    # test_pwaldtest.Rout.save: const -58.7439
    assert r.params["Intercept"] == pytest.approx(-58.7439, abs=5e-5)


def test_within_time_and_twoway(grunfeld):
    t = fit(grunfeld, effects="time")
    # plm test_Estimators.Rout.save, "Oneway (time) effect Within Model"
    close(t.params, {"value": 0.1167978, "capital": 0.2197066})
    close(t.std_errors, {"value": 0.0063313, "capital": 0.0322961})
    tw = fit(grunfeld, effects="twoway")
    # plm test_Estimators.Rout.save, "Twoways effects Within Model" (Baltagi 2013 Table 3.1)
    close(tw.params, {"value": 0.117716, "capital": 0.357916})
    close(tw.std_errors, {"value": 0.013751, "capital": 0.022719})
    assert tw.rsquared == pytest.approx(0.72015, abs=5e-6)
    assert tw.df_resid == 169


def test_twoway_unbalanced(grunfeld):
    unbal = grunfeld.drop(index=("Diamond Match", 1954))  # plm's Grunfeld[1:199, ]
    r = fit(unbal, effects="twoway")
    # plm test_Estimators.Rout.save, twoways unbalanced within
    close(r.params, {"value": 0.118504, "capital": 0.361140})
    close(r.std_errors, {"value": 0.013775, "capital": 0.022951})
    assert r.df_resid == 168


def test_random_swamy_arora(grunfeld):
    r = fit(grunfeld, estimator="random")
    # plm test_Estimators.Rout.save, random.method = "swar" (Baltagi 2013 Table 2.1)
    close(r.params, {"Intercept": -57.834415, "value": 0.109781, "capital": 0.308113})
    close(r.std_errors, {"Intercept": 28.898935, "value": 0.010493, "capital": 0.017180})
    vc = r.variance_components
    assert vc["sigma2_e"] == pytest.approx(2784.46, abs=0.005)
    assert vc["sigma2_u"] == pytest.approx(7089.80, abs=0.005)
    assert vc["theta"] == pytest.approx(0.8612, abs=5e-5)
    assert r.dist == "normal"


def test_random_unbalanced_baltagi_chang(grunfeld):
    unbal = grunfeld.drop(index=("Diamond Match", 1954))
    r = fit(unbal, estimator="random")
    # plm test_Estimators.Rout.save, unbalanced "swar": sigma2 2799.34 / 7124.82
    vc = r.variance_components
    assert vc["sigma2_e"] == pytest.approx(2799.34, abs=0.005)
    assert vc["sigma2_u"] == pytest.approx(7124.82, abs=0.005)
    close(r.params, {"Intercept": -57.846046, "value": 0.109784, "capital": 0.308110})
    close(r.std_errors, {"Intercept": 28.969526, "value": 0.010519, "capital": 0.017224})


def test_clustered_stata_convention(grunfeld):
    # Gretl (2016b) "Robust (HAC) standard errors", quoted in plm's test_pwaldtest.Rout.save;
    # Gretl uses Stata's G/(G-1) (N-1)/(N-K) with the constant counted in K
    fe = fit(grunfeld, cov_type="clustered")
    close(fe.params, {"Intercept": -58.7439, "value": 0.110124, "capital": 0.310065})
    close(fe.std_errors, {"Intercept": 27.6029, "value": 0.0151945, "capital": 0.0527518})
    assert fe.dist == "t" and fe.df_dist == 9
    assert fe.wald_test(f_test=True).statistic == pytest.approx(28.3096, abs=5e-5)  # Gretl F(2, 9)
    # two-way: time effects are not nested in the firm clusters, so K = 2 + 1 + 19 (Gretl, time dummies)
    tw = fit(grunfeld, cov_type="clustered", effects="twoway")
    close(tw.std_errors, {"value": 0.0108244, "capital": 0.0478484})
    assert tw.wald_test(f_test=True).statistic == pytest.approx(60.0821, abs=5e-5)
    pooled = fit(grunfeld, estimator="pooled", cov_type="clustered")
    close(pooled.std_errors, {"Intercept": 20.4252, "value": 0.0158943, "capital": 0.0849671})
    re = fit(grunfeld, estimator="random", cov_type="clustered")
    close(re.std_errors, {"Intercept": 24.8432, "value": 0.0137557, "capital": 0.0549728})
    assert re.wald_test().statistic == pytest.approx(70.1267, abs=5e-5)  # Gretl Chi-square(2)


def test_clustered_plm_conventions(grunfeld):
    # plm::vcovHC default (Arellano, HC0, no factor): pwaldtest(gi, test = "Chisq", vcov = vcovHC) = 63.5489
    none = fit(grunfeld, cov_type="clustered", cluster_small_sample="none")
    assert none.wald_test().statistic == pytest.approx(63.5489, abs=5e-5)
    assert none.wald_test(f_test=True).statistic == pytest.approx(31.7744, abs=5e-5)
    # plm's type = "sss": G/(G-1) (N-1)/(N-K) with K = 2 slopes (derived: HC0 times that factor)
    sss = fit(grunfeld, cov_type="clustered", cluster_small_sample="plm")
    factor = 10 / 9 * 199 / 198
    np.testing.assert_allclose(sss.std_errors[["value", "capital"]], none.std_errors[["value", "capital"]]
                               * np.sqrt(factor))
    # clustered by year, plm: pwaldtest(gi, test = "F", vcov = function(x) vcovHC(x, cluster = "time")) = 109.317
    by_time = fit(grunfeld, cov_type="clustered", cluster="time", cluster_small_sample="none")
    assert by_time.wald_test(f_test=True).statistic == pytest.approx(109.317, abs=5e-4)
    assert by_time.df_dist == 19


def test_hausman(grunfeld):
    fe = fit(grunfeld)
    re = fit(grunfeld, estimator="random")
    h = hausman(fe, re)
    # plm test_phtest_Hausman_regression.Rout.save: chisq = 2.3303669, df = 2, p-value = 0.3118654
    # (Baltagi 2013 sec. 4.3.1, m1 = 2.33)
    assert h.statistic == pytest.approx(2.3303669, abs=5e-7)
    assert h.df == 2
    assert h.pvalue == pytest.approx(0.3118654, abs=5e-7)
    # robust (auxiliary regression): plm phtest(method = "aux", vcov = vcovHC) = 8.2998366 (no factor)
    re_none = fit(grunfeld, estimator="random", cov_type="clustered", cluster_small_sample="none")
    assert hausman(fe, re_none, method="robust").statistic == pytest.approx(8.2998366, abs=5e-7)
    # ... and with Stata's factor (K = 5): Gretl's Hausman test, Chi-square(2) = 7.31971, p = 0.0257363
    re_stata = fit(grunfeld, estimator="random", cov_type="clustered")
    h2 = hausman(fe, re_stata, method="robust")
    assert h2.statistic == pytest.approx(7.31971, abs=5e-6)
    assert h2.pvalue == pytest.approx(0.0257363, abs=5e-7)


def test_breusch_pagan(grunfeld):
    # plm test_plmtest_unbalanced.Rout.save; Baltagi (2013) Table 4.2; Stata xttest0 chi2(1) = 798.16
    assert breusch_pagan(grunfeld, F).statistic == pytest.approx(798.16155, abs=5e-5)
    assert breusch_pagan(grunfeld, F, "time").statistic == pytest.approx(6.4538816, abs=5e-7)
    tw = breusch_pagan(grunfeld, F, "twoway")
    assert tw.statistic == pytest.approx(804.61543, abs=5e-5) and tw.df == 2
    unbal = grunfeld.drop(index=("Diamond Match", 1954))
    # EViews on the unbalanced panel (plm test_plmtest_unbalanced.Rout.save): 796.66152, 6.4545778
    assert breusch_pagan(unbal, F).statistic == pytest.approx(796.66152, abs=5e-5)
    assert breusch_pagan(unbal, F, "time").statistic == pytest.approx(6.4545778, abs=5e-7)


def test_f_test_effects(grunfeld):
    # plm test_pFtest.Rout.save; SAS 9.4: F = 49.18 on 9 and 188 df
    f = f_test_effects(grunfeld, F)
    assert f.statistic == pytest.approx(49.177, abs=5e-4) and (f.df, f.df_denom) == (9, 188)
    t = f_test_effects(grunfeld, F, "time")
    assert t.statistic == pytest.approx(0.23451, abs=5e-6) and (t.df, t.df_denom) == (19, 178)
    tw = f_test_effects(grunfeld, F, "twoway")
    assert tw.statistic == pytest.approx(17.403, abs=5e-4) and (tw.df, tw.df_denom) == (28, 169)


def test_mundlak(grunfeld):
    # classical: equals the regression-based Hausman test, plm phtest(method = "aux") = 2.1313662
    # (Baltagi 2013 sec. 4.3.1, m3 = 2.131)
    m = mundlak_test(grunfeld, F, cov_type="unadjusted")
    assert m.statistic == pytest.approx(2.1313662, abs=5e-7) and m.df == 2
    # cluster-robust: the same numbers as the robust Hausman test (Wooldridge 2010, 10.7.3)
    assert mundlak_test(grunfeld, F, cluster_small_sample="none").statistic == pytest.approx(8.2998366, abs=5e-7)
    assert mundlak_test(grunfeld, F).statistic == pytest.approx(7.31971, abs=5e-6)
    # the Mundlak coefficients on the time-varying regressors equal the within estimates
    cre = fit(grunfeld, estimator="random", mundlak=True)
    fe = fit(grunfeld)
    np.testing.assert_allclose(cre.params[["value", "capital"]], fe.params[["value", "capital"]])


def test_specification_tests_table(grunfeld):
    tab = specification_tests(grunfeld, F)
    assert list(tab.index) == ["f_effects", "breusch_pagan", "hausman", "mundlak"]
    assert {"statistic", "df", "pvalue"} <= set(tab.columns)
    # published values quoted in the tests above: plm pFtest, plmtest, phtest; Gretl
    close(tab["statistic"], {"f_effects": 49.177, "breusch_pagan": 798.16155, "hausman": 2.3303669,
                             "mundlak": 7.31971})
    np.testing.assert_array_equal(tab["df"], [9, 1, 2, 2])


def test_within_rsquared_as_stata(grunfeld):
    r = fit(grunfeld)
    # Stata `xtreg invest mvalue kstock, fe` on the same 200 observations (log reproduced in public
    # Stata tutorials, with coefficients .1101238 and .3100653 equal to the ones above):
    # R-sq within = 0.7668, between = 0.8194, overall = 0.8060 (squared correlations of the
    # within, between and overall fitted values with the outcome)
    assert r.rsquared_within == pytest.approx(0.7668, abs=5e-5)
    assert r.rsquared_between == pytest.approx(0.8194, abs=5e-5)
    assert r.rsquared_overall == pytest.approx(0.8060, abs=5e-5)


def test_twoway_clustering_plm_convention_equals_linearmodels(grunfeld):
    from linearmodels import PanelOLS

    r = fit(grunfeld, cov_type="clustered", cluster="entity+time", cluster_small_sample="plm")
    # linearmodels 6 with the per-dimension factor G/(G-1) (group_debias) and the (N-1)/(N-K)
    # factor (debiased) without counting the absorbed effects: plm's "sss" convention
    ref = PanelOLS(grunfeld["inv"], grunfeld[["value", "capital"]], entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True, cluster_time=True, group_debias=True, debiased=True,
        count_effects=False, auto_df=False)
    np.testing.assert_allclose(r.std_errors[["value", "capital"]].to_numpy(), ref.std_errors.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(r.params[["value", "capital"]].to_numpy(), ref.params.to_numpy(), rtol=1e-10)
