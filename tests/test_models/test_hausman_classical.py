"""The classical Hausman test when ``V_W - V_R`` is not positive definite.

plm's ``phtest`` and Stata's ``hausman`` invert the whole difference (Stata: a generalized
inverse, ``df`` = its rank); directions with a negative eigenvalue are kept, not dropped.

References (R 4.2.2, plm 2.6.2): ``data/hausman_reference.R`` beside this file prints every
number (``Rscript hausman_reference.R`` from ``tests/test_models/data``); they are in
``results/hausman_twoway.py`` and ``results/produc.py`` (Munnell's value is also the published
one: Baltagi 2021, sec. 4.3; plm's ``?phtest`` example), Grunfeld's in ``results/grunfeld.py``.
"""

from __future__ import annotations

import runpy
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
RESULTS = Path(__file__).parent / "results"
TWOWAY = runpy.run_path(str(RESULTS / "hausman_twoway.py"))
PRODUC = runpy.run_path(str(RESULTS / "produc.py"))
GRUNFELD = runpy.run_path(str(RESULTS / "grunfeld.py"))
F_PRODUC = PRODUC["FORMULA"]
F = TWOWAY["FORMULA"]


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
    ref = PRODUC["hausman_within_random"]  # plm 2.6.2: phtest(fe, re)
    assert h.statistic == pytest.approx(ref["statistic"], abs=5e-8)
    assert h.df == ref["df"]
    assert h.pvalue == pytest.approx(ref["pvalue"], abs=5e-10)


def test_twoway_synthetic_indefinite_difference():
    fe, re = twoway_fits(twoway_panel(36))
    with pytest.warns(SpecificationTestWarning, match="2 negative"):
        h = hausman(fe, re)
    ref = TWOWAY["seed36"]  # plm 2.6.2; V_W - V_R has two negative eigenvalues
    assert h.statistic == pytest.approx(ref["statistic"], abs=5e-7)
    assert h.df == ref["df"]
    assert h.pvalue == pytest.approx(ref["pvalue"], rel=1e-7)
    # the same through the battery of tests (specification_tests builds these two fits)
    with pytest.warns(SpecificationTestWarning):
        tab = specification_tests(twoway_panel(36), F, effects="twoway", cov_type="unadjusted")
    assert tab.loc["hausman", "statistic"] == pytest.approx(ref["statistic"], abs=5e-7)
    assert tab.loc["hausman", "df"] == ref["df"]


def test_negative_statistic_has_no_pvalue():
    fe, re = twoway_fits(twoway_panel(1))
    with pytest.warns(SpecificationTestWarning, match="negative"):
        h = hausman(fe, re)
    # plm 2.6.2 (seed 1) prints |H| with p = 0; V_W - V_R is negative definite. Stata's hausman
    # reports the negative chi2 and no p-value; so do we.
    ref = TWOWAY["seed1"]
    assert h.statistic == pytest.approx(ref["statistic"], abs=5e-6)
    assert h.df == ref["df"]
    assert np.isnan(h.pvalue)


def test_positive_definite_difference_is_silent(grunfeld):
    fe = fit_panel_model(grunfeld, PanelModelSpec("inv ~ value + capital", cov_type="unadjusted"))
    re = fit_panel_model(grunfeld, PanelModelSpec("inv ~ value + capital", estimator="random", cov_type="unadjusted"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = hausman(fe, re)
    ref = GRUNFELD["hausman"]["classical"]  # plm's test_phtest_Hausman_regression.Rout.save
    assert h.statistic == pytest.approx(ref["statistic"], abs=5e-7) and h.df == ref["df"]


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
    assert h.statistic == pytest.approx(GRUNFELD["hausman"]["classical"]["statistic"], abs=5e-7)
