"""Munnell's public capital data (plm::Produc = linearmodels.datasets.munnell), 48 states,
1970-1986: published plm outputs.

Sources: plm's manual, ``?plm`` example (within model); plm's
``inst/tests/test_FD_models.Rout.save`` (first differences, ``vcovHC``); plm outputs of
the within two-way, random and pooled models and of ``phtest`` as printed in a public
course lab on plm ("Lab 8: Introduction to panel data models", R Markdown output); the
Arellano (HC0) clustered errors of the within model as printed by a public plm tutorial
(``coeftest(fe_model, vcov = vcovHC(fe_model, method = "arellano"))``).
"""

from __future__ import annotations

import pytest

from models import PanelModelSpec, fit_panel_model, hausman

F = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


def fit(data, **kw):
    kw.setdefault("cov_type", "unadjusted")
    return fit_panel_model(data, PanelModelSpec(F, **kw))


def close(series, expected):
    for k, v in expected.items():
        decimals = len(repr(v).split(".")[1].split("e")[0]) if "." in repr(v) else 0
        assert abs(float(series[k]) - v) <= 0.5 * 10.0 ** -decimals + 1e-15, (k, float(series[k]), v)


def test_within(produc):
    r = fit(produc)
    # plm manual, ?plm: summary(zz)
    close(r.params, {"log(pcap)": -0.02614965, "log(pc)": 0.29200693, "log(emp)": 0.76815947, "unemp": -0.00529774})
    close(r.std_errors, {"log(pcap)": 0.02900158, "log(pc)": 0.02511967, "log(emp)": 0.03009174, "unemp": 0.00098873})
    assert r.rsquared == pytest.approx(0.94134, abs=5e-6)
    assert r.df_resid == 764


def test_within_arellano_hc0(produc):
    r = fit(produc, cov_type="clustered", cluster_small_sample="none")
    # plm vcovHC(method = "arellano") (HC0, clustered by state), public plm tutorial output
    close(r.std_errors, {"log(pcap)": 0.0603262, "log(pc)": 0.0617425, "log(emp)": 0.0816652, "unemp": 0.0024958})


def test_within_twoway(produc):
    r = fit(produc, effects="twoway")
    # plm output (effect = "twoways", model = "within"), course lab
    close(r.params, {"log(pcap)": -0.0301761, "log(pc)": 0.1688280, "log(emp)": 0.7693062, "unemp": -0.0042211})
    close(r.std_errors, {"log(pcap)": 0.0269365, "log(pc)": 0.0276563, "log(emp)": 0.0281418, "unemp": 0.0011388})
    assert r.rsquared == pytest.approx(0.75496, abs=5e-6)
    assert r.df_resid == 748


def test_random(produc):
    r = fit(produc, estimator="random")
    # plm output (model = "random", Swamy-Arora), course lab
    close(r.params, {"Intercept": 2.13541100, "log(pcap)": 0.00443859, "log(pc)": 0.31054843,
                     "log(emp)": 0.72967053, "unemp": -0.00617247})
    close(r.std_errors, {"Intercept": 0.13346149, "log(pcap)": 0.02341732, "log(pc)": 0.01980475,
                         "log(emp)": 0.02492022, "unemp": 0.00090728})
    assert r.variance_components["sigma2_e"] == pytest.approx(0.001454, abs=5e-7)
    assert r.variance_components["sigma2_u"] == pytest.approx(0.006838, abs=5e-7)
    assert r.variance_components["theta"] == pytest.approx(0.8888, abs=5e-5)


def test_pooled(produc):
    r = fit(produc, estimator="pooled")
    # lm(log(gsp) ~ ..., data = Produc), course lab
    close(r.params, {"Intercept": 1.643302, "log(pcap)": 0.155007, "log(pc)": 0.309190, "log(emp)": 0.593935,
                     "unemp": -0.006733})
    close(r.std_errors, {"Intercept": 0.057587, "log(pcap)": 0.017154, "log(pc)": 0.010272, "log(emp)": 0.013747,
                         "unemp": 0.001416})


def test_first_difference(produc):
    r = fit(produc, estimator="first_difference")
    # plm test_FD_models.Rout.save, summary(fd_plm)
    close(r.params, {"Intercept": 0.01068526, "log(pcap)": -0.00660507, "log(pc)": -0.03243575,
                     "log(emp)": 0.83147269, "unemp": -0.00598593})
    close(r.std_errors, {"Intercept": 0.00137639, "log(pcap)": 0.04593751, "log(pc)": 0.02305050,
                         "log(emp)": 0.03696857, "unemp": 0.00076141})
    assert r.nobs == 768
    assert r.rsquared == pytest.approx(0.69166, abs=5e-6)
    # the first year of every state has no difference, and is reported
    assert len(r.dropped) == 48
    # vcovHC(fd_plm): Arellano HC0 clustered by state, diagonal
    hc0 = fit(produc, estimator="first_difference", cov_type="clustered", cluster_small_sample="none")
    diag = {"Intercept": 1.535028e-06, "log(pcap)": 1.904713e-03, "log(pc)": 6.851179e-04, "log(emp)": 1.004051e-03,
            "unemp": 6.273753e-07}
    for k, v in diag.items():
        assert hc0.cov.loc[k, k] == pytest.approx(v, rel=5e-7)
    nocons = fit_panel_model(produc, PanelModelSpec(F.replace("~", "~ 0 +"), estimator="first_difference",
                                                    cov_type="unadjusted"))
    # summary(fd_plm2), without intercept
    close(nocons.params, {"log(pcap)": 0.12347223, "log(pc)": 0.01838177, "log(emp)": 0.95943399, "unemp": -0.00428020})


def test_hausman_twoway_within_against_random(produc):
    fe2 = fit(produc, effects="twoway")
    re = fit(produc, estimator="random")
    # phtest(pmodel2, pmodel3) in the course lab: chisq = 116.69, df = 4
    h = hausman(fe2, re)
    assert h.statistic == pytest.approx(116.69, abs=5e-3) and h.df == 4
