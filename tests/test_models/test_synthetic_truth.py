"""The true coefficients of the synthetic generator are recovered (typology.data.synth docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from models import PanelModelSpec, fit_panel_model, specification_tests


@pytest.fixture(scope="module")
def panel(synthetic, synthetic_features):
    out = synthetic.data.outcomes.set_index(["town_id", "year"])
    return synthetic_features.join(out, how="inner")


@pytest.mark.parametrize("equation", ["wages", "investment"])
def test_true_coefficients_in_95_percent_intervals(synthetic, panel, equation):
    eq = synthetic.truth["equations"][equation]
    r = fit_panel_model(panel, PanelModelSpec(eq["formula"], estimator="within", effects="twoway",
                                              cov_type="clustered", cluster="entity"))
    ci = r.conf_int(0.95)
    for term, true in eq["coefficients"].items():
        assert ci.loc[term, "lower"] <= true <= ci.loc[term, "upper"], (term, true, ci.loc[term].to_dict())
    # rows without the outcome (about 4 % missing at random) are counted, not silently dropped
    outcome = "avg_wage" if equation == "wages" else "investment"
    n_missing = int(panel[outcome].isna().sum())
    assert (r.dropped["reason"] == f"invalid log({outcome})").sum() + (
        r.dropped["reason"] == f"missing log({outcome})").sum() == n_missing
    assert r.nobs + len(r.dropped) == len(panel)


def test_noise_variance_recovered(synthetic, panel):
    eq = synthetic.truth["equations"]["wages"]
    r = fit_panel_model(panel, PanelModelSpec(eq["formula"], effects="twoway", cov_type="unadjusted"))
    # residual variance of the two-way within regression estimates sd(e)^2 = 0.04^2
    assert np.sqrt(r.ssr / r.df_resid) == pytest.approx(eq["noise_sd"], rel=0.05)


def test_specification_tests_reject_random_effects(panel, synthetic):
    # the generator's town effects are correlated with the types, hence with corp_share:
    # the Hausman / Mundlak tests should reject random effects
    eq = synthetic.truth["equations"]["investment"]
    tab = specification_tests(panel, eq["formula"], effects="twoway")
    assert tab.loc["f_effects", "pvalue"] < 1e-6
    assert tab.loc["breusch_pagan", "pvalue"] < 1e-6
    assert tab.loc["mundlak", "pvalue"] < 0.05
