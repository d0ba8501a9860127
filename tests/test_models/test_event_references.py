"""Event-study estimators against independent implementations on the same panel.

Panel: ``data/event_panel.csv`` (240 towns x 9 years, three cohorts and never-treated towns, a
covariate that shifts trends). References (``results/event_csdid.py``, ``results/event_pyfixest.py``)
were written by ``data/event_references.py`` with csdid 0.4.3 (a port of R ``did``) and pyfixest
0.60.0. Tolerances: 1e-8 for Callaway-Sant'Anna (same formulas, different code: observed
differences ~1e-13); 1e-8 for pyfixest's point estimates and standard errors of the regressions
(its fixed effects are demeaned iteratively to ~1e-10); 1e-5 for ``did2s`` (its first-stage fixed
effects are recovered by an iterative solver).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import models

HERE = Path(__file__).parent
CS = runpy.run_path(str(HERE / "results" / "event_csdid.py"))["REFERENCE"]
PF = runpy.run_path(str(HERE / "results" / "event_pyfixest.py"))["REFERENCE"]


@pytest.fixture(scope="module")
def panel():
    df = pd.read_csv(HERE / "data" / "event_panel.csv", dtype={"town_id": str})
    return df.set_index(["town_id", "year"])


@pytest.mark.parametrize("key", sorted(CS))
def test_callaway_santanna_matches_csdid(panel, key):
    control, cov, est = key.split("|")
    ref = CS[key]
    r = models.event_study(panel, "y", "g", control={"nevertreated": "never_treated"}.get(control, "not_yet_treated"),
                           estimation=est, covariates=() if cov == "1" else ("x",), n_boot=0)
    gt = r.group_time
    idx = pd.MultiIndex.from_arrays([ref["cell_group"], ref["cell_year"]], names=["cohort", "year"])
    np.testing.assert_allclose(gt.loc[idx, "estimate"], ref["att"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(gt.loc[idx, "std_error"], ref["se"], rtol=0, atol=1e-8)
    assert r.overall["estimate"] == pytest.approx(ref["simple"]["att"], abs=1e-8)
    assert r.overall["std_error"] == pytest.approx(ref["simple"]["se"], abs=1e-8)
    for ours, theirs in ((r.dynamic, "dynamic"), (r.by_cohort, "group"), (r.by_calendar_year, "calendar")):
        np.testing.assert_array_equal(ours.index.to_numpy(), ref[theirs]["label"])
        np.testing.assert_allclose(ours["estimate"], ref[theirs]["att"], rtol=0, atol=1e-8)
        np.testing.assert_allclose(ours["std_error"], ref[theirs]["se"], rtol=0, atol=1e-8)


def test_twfe_event_study_matches_pyfixest(panel):
    ref = PF["twfe_binned_m3_3"]
    r = models.event_study(panel, "y", "g", method="twfe", leads=3, lags=3, n_boot=0)
    d = r.dynamic.drop(index=-1)
    np.testing.assert_array_equal(d.index, ref["event_time"])
    np.testing.assert_allclose(d["estimate"], ref["estimate"], atol=1e-8)
    np.testing.assert_allclose(d["std_error"], ref["std_error"], atol=1e-8)
    assert r.dynamic.loc[-1, "estimate"] == 0 and np.isnan(r.dynamic.loc[-1, "std_error"])
    assert r.overall["estimate"] == pytest.approx(PF["static"]["estimate"], abs=1e-8)
    assert r.overall["std_error"] == pytest.approx(PF["static"]["std_error"], abs=1e-8)


def test_sun_abraham_matches_pyfixest_saturated_regression(panel):
    ref = PF["sun_abraham_never"]
    r = models.event_study(panel, "y", "g", method="sun_abraham", control="never_treated", n_boot=0)
    d = r.dynamic.drop(index=-1)
    np.testing.assert_array_equal(d.index, ref["dynamic_event_time"])
    np.testing.assert_allclose(d["estimate"], ref["dynamic"], atol=1e-8)
    np.testing.assert_allclose(d["std_error"], ref["dynamic_se"], atol=1e-8)


def test_imputation_matches_did2s_point_estimates(panel):
    ref = PF["did2s_post"]
    r = models.event_study(panel, "y", "g", method="imputation", n_boot=0)
    np.testing.assert_allclose(r.dynamic.loc[ref["event_time"], "estimate"], ref["estimate"], atol=1e-5)


def test_bacon_weights_sum_to_one_and_reproduce_the_twfe_coefficient(panel):
    b = models.bacon_decomposition(panel, "y", "g")
    assert b["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (b["weight"] > 0).all()
    assert float(b["weight"] @ b["estimate"]) == pytest.approx(PF["static"]["estimate"], abs=1e-10)
    assert set(b["type"]) == {"treated vs never treated", "earlier vs later treated", "later vs earlier treated"}


def test_bacon_with_always_treated_towns_and_no_never_treated(panel):
    df = panel.reset_index()
    df = df[df["g"] != 0].copy()
    df.loc[df["g"] == 2003, "g"] = 2000  # treated from the first year: a control only
    b = models.bacon_decomposition(df.set_index(["town_id", "year"]), "y", "g")
    pf = pytest.importorskip("pyfixest")
    X = df.assign(D=(df["year"] >= df["g"]).astype(float))
    twfe = pf.feols("y ~ D | town_id + year", data=X).coef().iloc[0]
    assert float(b["weight"] @ b["estimate"]) == pytest.approx(twfe, abs=1e-10)
    assert "later vs always treated" in set(b["type"])
