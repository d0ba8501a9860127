"""Estimators and covariances are looked up by name: adding one is one function and one entry.

The estimator added here is the between estimator weighted by the towns' numbers of
observations (Stata's ``xtreg, be wls``), checked against statsmodels' WLS on the town means
(run here); the covariance added is White's HC0, checked against statsmodels' ``HC0`` on the
same regression. Both are removed from the registries after each test.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from models import PanelModelSpec, compare, fit_panel_model, wild_cluster_bootstrap
from models.covariance import COVARIANCES, Covariance, register_covariance
from models.estimators import ESTIMATORS, PanelRegression, register_estimator
from models.transforms import group_means

F = "inv ~ value + capital"


@pytest.fixture
def registries():
    """Restore both registries after the test."""
    est, cov = dict(ESTIMATORS), dict(COVARIANCES)
    yield
    ESTIMATORS.clear()
    ESTIMATORS.update(est)
    COVARIANCES.clear()
    COVARIANCES.update(cov)


def _add_weighted_between():
    @register_estimator("between_wls", ("entity",), linear=False)
    def weighted_between(sample, effects):
        """Town means weighted by sqrt(T_i): WLS of the means with weights T_i."""
        w = np.sqrt(sample.entity_counts.astype(float))
        X = group_means(sample.X, sample.entity, sample.n_entities, sample.entity_counts)
        if sample.has_intercept:
            X = np.column_stack([np.ones(len(X)), X])
        y = group_means(sample.y, sample.entity, sample.n_entities, sample.entity_counts)
        groups = np.arange(sample.n_entities)
        return PanelRegression(X * w[:, None], y * w, groups, np.zeros(sample.n_entities, np.int64),
                               groups=(sample.entity, sample.n_entities, "town"))


def _add_hc0():
    @register_covariance("hc0")
    def hc0(fit, spec):
        """White's HC0, (X'X)^-1 (sum u_i^2 x_i x_i') (X'X)^-1."""
        xe = fit.X * fit.resid[:, None]
        return Covariance(fit.XtX_inv @ (xe.T @ xe) @ fit.XtX_inv)


def test_the_spec_takes_its_names_from_the_registries(registries):
    with pytest.raises(ValueError, match="estimator must be one of 'within', 'random', 'pooled', 'between', "
                                         "'first_difference', 'iv', 'ppml'; found 'between_wls'"):
        PanelModelSpec(F, estimator="between_wls")
    with pytest.raises(ValueError, match="cov_type must be one of 'unadjusted', 'robust', 'clustered', "
                                         "'driscoll_kraay', 'wild_bootstrap', 'conley'; found 'hc0'"):
        PanelModelSpec(F, cov_type="hc0")
    _add_weighted_between()
    _add_hc0()
    spec = PanelModelSpec(F, estimator="between_wls", cov_type="hc0")
    assert spec.effects == "entity"
    # what the entry says is checked: its effects, and that the wild bootstrap needs a linear estimator
    with pytest.raises(ValueError, match="estimator 'between_wls' takes effects in 'entity'; found 'time'"):
        PanelModelSpec(F, estimator="between_wls", effects="time")
    with pytest.raises(ValueError, match="available for the within, pooled and first_difference estimators"):
        PanelModelSpec(F, estimator="between_wls", cov_type="wild_bootstrap")


def test_an_added_estimator_is_fitted(grunfeld, registries):
    _add_weighted_between()
    r = fit_panel_model(grunfeld, PanelModelSpec(F, estimator="between_wls", cov_type="unadjusted"))
    means = grunfeld.groupby(level=0).mean()
    counts = grunfeld.groupby(level=0).size().astype(float)
    ref = sm.WLS(means["inv"], sm.add_constant(means[["value", "capital"]]), weights=counts).fit()
    np.testing.assert_allclose(r.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(r.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-10)
    assert r.nobs == 10 and r.df_resid == 7
    # its rows are town means: clusters are taken by town, and must be constant within towns
    by_town = fit_panel_model(grunfeld, PanelModelSpec(F, estimator="between_wls", cluster_small_sample="none"))
    assert by_town.n_clusters == {"entity": 10}
    with pytest.raises(ValueError, match="clusters of a between_wls model must be constant within each town"):
        fit_panel_model(grunfeld, PanelModelSpec(F, estimator="between_wls", cluster="time"))
    with pytest.raises(ValueError, match="the between_wls estimator has none"):
        fit_panel_model(grunfeld, PanelModelSpec(F, estimator="between_wls", cov_type="driscoll_kraay"))
    # not linear in the outcome: the wild bootstrap refuses it
    with pytest.raises(ValueError, match=r"linear in the outcome \(within, pooled, first_difference\)"):
        wild_cluster_bootstrap(by_town)


def test_an_added_covariance_is_used(grunfeld, registries):
    _add_hc0()
    r = fit_panel_model(grunfeld, PanelModelSpec(F, estimator="pooled", cov_type="hc0"))
    ref = sm.OLS(grunfeld["inv"], sm.add_constant(grunfeld[["value", "capital"]])).fit(cov_type="HC0")
    np.testing.assert_allclose(r.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-10)
    assert r.dist == "t" and r.df_dist == r.df_resid == 197
    # HC1 (cov_type="robust") is HC0 times N / df_resid
    hc1 = fit_panel_model(grunfeld, PanelModelSpec(F, estimator="pooled", cov_type="robust"))
    np.testing.assert_allclose(hc1.cov.to_numpy(), r.cov.to_numpy() * 200 / 197, rtol=1e-12)


def test_every_registered_estimator_and_covariance_fits(grunfeld):
    """Each built-in pair the spec accepts gives a result whose estimates do not depend on the covariance."""
    for est, entry in ESTIMATORS.items():
        params = None
        if entry.instruments and entry.fit is not None:
            continue  # needs instruments: tests/test_models/test_fit_iv_ppml.py
        for cov, ctype in COVARIANCES.items():
            if (ctype.linear_only and not entry.linear) or (entry.cov_types and cov not in entry.cov_types):
                continue
            if cov == "driscoll_kraay" and est == "between":
                continue
            if ctype.uses_coordinates:
                continue  # Grunfeld's firms have no coordinates: tests/test_models/test_spatial.py
            r = fit_panel_model(grunfeld, PanelModelSpec(F, estimator=est, cov_type=cov, bootstrap_reps=99,
                                                         random_state=0))
            assert np.isfinite(r.std_errors.to_numpy()).all() and (r.std_errors.to_numpy() > 0).all(), (est, cov)
            if params is None:
                params = r.params
            pd.testing.assert_series_equal(r.params, params)


def test_regression_table_csv_is_text_and_never_a_file(grunfeld, tmp_path):
    tab = compare([fit_panel_model(grunfeld, PanelModelSpec(F, name="FE"))])
    text = tab.to_csv()
    assert text.splitlines()[0] == ",FE"
    buf = io.StringIO()
    assert tab.to_csv(buf) == text and buf.getvalue() == text
    # the models package writes no files: a path is refused, and nothing is written
    target = tmp_path / "table.csv"
    for path in (target, str(target)):
        with pytest.raises(TypeError, match="not a path|writes no files"):
            tab.to_csv(path)
    assert not target.exists()


@pytest.mark.parametrize("field", ["estimator", "effects", "cov_type", "cluster_small_sample", "bootstrap_weights",
                                   "singletons"])
def test_a_value_of_the_wrong_type_is_a_clear_error(field):
    # a list from a configuration file is refused by name, never a TypeError ("unhashable type")
    with pytest.raises(ValueError, match=field):
        PanelModelSpec("y ~ x", **{field: ["within"]})
