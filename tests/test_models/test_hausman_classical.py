"""The classical Hausman test when ``V_W - V_R`` is not positive definite.

plm's ``phtest`` and Stata's ``hausman`` invert the whole difference (Stata: a generalized
inverse, ``df`` = its rank); directions with a negative eigenvalue are kept, not dropped.

References (R 4.2.2, plm 2.6.2): ``data/hausman_reference.R`` beside this file prints every
number below (``Rscript hausman_reference.R`` from ``tests/test_models/data``). Munnell's
value is also the published one (Baltagi 2021, sec. 4.3; plm's ``?phtest`` example).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import (
    PanelModelSpec,
    SpecificationTestWarning,
    fit_panel_model,
    hausman,
    specification_tests,
)

DATA = Path(__file__).parent / "data"
F_PRODUC = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
F = "y ~ x1 + x2 + x3"


def twoway_panel(seed: int) -> pd.DataFrame:
    return pd.read_csv(DATA / f"hausman_twoway_seed{seed}.csv", dtype={"town_id": str}).set_index(
        ["town_id", "year"])


def twoway_fits(d):
    """The two fits of ``specification_tests(effects="twoway")``: two-way within against random
    town effects with year dummies (plm: ``model="within", effect="twoways"`` against
    ``model="random"`` with ``factor(year)``)."""
    fe = fit_panel_model(d, PanelModelSpec(F, effects="twoway", cov_type="unadjusted", singletons="keep"))
    re = fit_panel_model(d, PanelModelSpec(F + " + C(year)", estimator="random", cov_type="unadjusted"))
    return fe, re


def test_munnell_full_difference_inverted(produc):
    fe = fit_panel_model(produc, PanelModelSpec(F_PRODUC, cov_type="unadjusted"))
    re = fit_panel_model(produc, PanelModelSpec(F_PRODUC, estimator="random", cov_type="unadjusted"))
    with pytest.warns(SpecificationTestWarning, match="not positive definite"):
        h = hausman(fe, re)
    # plm 2.6.2: phtest(fe, re) on Produc: chisq = 9.525415635, df = 4, p-value = 0.04922762418
    assert h.statistic == pytest.approx(9.525415635, abs=5e-8)
    assert h.df == 4
    assert h.pvalue == pytest.approx(0.04922762418, abs=5e-10)


def test_twoway_synthetic_indefinite_difference():
    fe, re = twoway_fits(twoway_panel(36))
    with pytest.warns(SpecificationTestWarning, match="2 negative"):
        h = hausman(fe, re)
    # plm 2.6.2 (data/hausman_reference.R, seed 36): chisq = 46.71581068, df = 3, p = 3.994638638e-10;
    # eigenvalues of V_W - V_R: 4.58706e-05 -1.55277e-05 -6.05118e-05
    assert h.statistic == pytest.approx(46.71581068, abs=5e-7)
    assert h.df == 3
    assert h.pvalue == pytest.approx(3.994638638e-10, rel=1e-7)
    # the same through the battery of tests (specification_tests builds these two fits)
    with pytest.warns(SpecificationTestWarning):
        tab = specification_tests(twoway_panel(36), F, effects="twoway", cov_type="unadjusted")
    assert tab.loc["hausman", "statistic"] == pytest.approx(46.71581068, abs=5e-7)
    assert tab.loc["hausman", "df"] == 3


def test_negative_statistic_has_no_pvalue():
    fe, re = twoway_fits(twoway_panel(1))
    with pytest.warns(SpecificationTestWarning, match="negative"):
        h = hausman(fe, re)
    # plm 2.6.2 (seed 1) prints |H|: chisq = 2147.980344, df = 3, p = 0; V_W - V_R is negative definite
    # (eigenvalues -7.16972e-06 -0.000205157 -0.0002757). Stata's hausman reports the negative
    # chi2 and no p-value ("chi2<0 ==> model fitted on these data fails to meet the asymptotic
    # assumptions of the Hausman test"); so do we.
    assert h.statistic == pytest.approx(-2147.980344, abs=5e-6)
    assert h.df == 3
    assert np.isnan(h.pvalue)


def test_positive_definite_difference_is_silent(grunfeld):
    fe = fit_panel_model(grunfeld, PanelModelSpec("inv ~ value + capital", cov_type="unadjusted"))
    re = fit_panel_model(grunfeld, PanelModelSpec("inv ~ value + capital", estimator="random", cov_type="unadjusted"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = hausman(fe, re)
    # plm test_phtest_Hausman_regression.Rout.save: chisq = 2.3303669, df = 2
    assert h.statistic == pytest.approx(2.3303669, abs=5e-7) and h.df == 2


def test_truly_singular_difference_uses_generalized_inverse(grunfeld):
    """A direction in which both fits are the same estimator: the difference is singular there
    (rank 2 of 3), the statistic uses a generalized inverse and ``df`` = 2 (Stata's ``hausman``
    convention). Built by hand: a regressor fitted identically by both (its row and column of
    the difference are zero) appended to Grunfeld's fits, whose ``d`` there is zero."""
    from models.results import FitData

    fe = fit_panel_model(grunfeld, PanelModelSpec("inv ~ value + capital", cov_type="unadjusted"))
    re = fit_panel_model(grunfeld, PanelModelSpec("inv ~ value + capital", estimator="random", cov_type="unadjusted"))

    def extend(res):
        fd = res.fit_data
        k = len(fd.names)
        cov = np.zeros((k + 1, k + 1))
        cov[:k, :k] = fd.cov_classical
        cov[k, k] = 0.25  # same variance in both fits
        cov[k, :k] = cov[:k, k] = 0.0
        data = FitData(**{**fd.__dict__, "names": fd.names + ("z",), "cov_classical": cov})
        params = np.append(res.params.to_numpy(), 1.5)  # same estimate in both fits
        return type(res).build(res.spec, list(data.names), params, cov, nobs=res.nobs, n_entities=res.n_entities,
                               n_periods=res.n_periods, df_resid=res.df_resid, df_model=res.df_model,
                               rsquared=res.rsquared, rsquared_within=res.rsquared_within,
                               rsquared_between=res.rsquared_between, rsquared_overall=res.rsquared_overall,
                               ssr=res.ssr, dist=res.dist, df_dist=res.df_dist, fit_data=data)

    with pytest.warns(SpecificationTestWarning, match="rank 2"):
        h = hausman(extend(fe), extend(re))
    assert h.df == 2
    assert h.statistic == pytest.approx(2.3303669, abs=5e-7)
