"""Covariance conventions checked against independent computations.

Where no published number exists the reference is computed here, by a different route:
statsmodels on the dummy-variable regression, linearmodels with settings that match the
convention, or a direct NumPy loop over the formula (derived by hand, said so next to it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels import PanelOLS

from models import PanelModelSpec, fit_panel_model
from models.bootstrap import WildClusterBootstrap, bootstrap_weights

F = "inv ~ value + capital"


def lsdv(grunfeld, time_dummies=False):
    d = grunfeld.reset_index()
    X = pd.get_dummies(d["firm"], drop_first=True, dtype=float)
    if time_dummies:
        X = X.join(pd.get_dummies(d["year"], prefix="y", drop_first=True, dtype=float))
    X = sm.add_constant(X.join(d[["value", "capital"]]))
    return d, X


def test_robust_is_hc1_of_the_dummy_regression(grunfeld):
    d, X = lsdv(grunfeld)
    ref = sm.OLS(d["inv"], X).fit(cov_type="HC1")
    r = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="robust"))
    np.testing.assert_allclose(r.std_errors[["value", "capital"]], ref.bse[["value", "capital"]], rtol=1e-10)


def test_clustered_stata_equals_lsdv_cluster_with_nested_effects_not_counted(grunfeld):
    # derived: statsmodels' cluster correction on the dummy regression counts the 9 firm
    # dummies in K; CRV1 with nested effects does not, so rescale by (N-K_lsdv)/(N-K)
    d, X = lsdv(grunfeld)
    ref = sm.OLS(d["inv"], X).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(d["firm"])[0]})
    n, k_lsdv, k = 200, X.shape[1], 3
    scale = np.sqrt((n - k_lsdv) / (n - k))
    r = fit_panel_model(grunfeld, PanelModelSpec(F))
    np.testing.assert_allclose(r.std_errors[["value", "capital"]], ref.bse[["value", "capital"]] * scale, rtol=1e-10)


def test_twoway_clustering(grunfeld):
    # no factor: linearmodels' V1 + V2 - V12 (Cameron, Gelbach and Miller 2011) without any
    # small-sample adjustment (group_debias=False, debiased=False, effects not counted)
    lm = PanelOLS(grunfeld["inv"], grunfeld[["value", "capital"]], entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True, cluster_time=True, group_debias=False, debiased=False,
        count_effects=False, auto_df=False)
    none = fit_panel_model(grunfeld, PanelModelSpec(F, cluster="entity+time", cluster_small_sample="none"))
    np.testing.assert_allclose(none.std_errors[["value", "capital"]].to_numpy(), lm.std_errors.to_numpy(), rtol=1e-10)
    # the factors, derived by hand from the parts
    fd = none.fit_data
    X, u = fd.Xt, fd.yt - fd.Xt @ none.params.to_numpy()
    A = np.linalg.inv(X.T @ X)

    def part(codes):
        s = np.array([(X[codes == c] * u[codes == c, None]).sum(axis=0) for c in np.unique(codes)])
        return A @ (s.T @ s) @ A

    v_e, v_t, v_et = part(fd.entity), part(fd.time), part(np.arange(len(u)))
    np.testing.assert_allclose(none.cov.to_numpy(), v_e + v_t - v_et, rtol=1e-10)
    n = 200
    # Stata / reghdfe: min(G) = 10 for every part, K = 3 (firm effects nested in the firm clusters)
    st = fit_panel_model(grunfeld, PanelModelSpec(F, cluster="entity+time"))
    np.testing.assert_allclose(st.cov.to_numpy(), (v_e + v_t - v_et) * 10 / 9 * (n - 1) / (n - 3), rtol=1e-10)
    assert st.df_dist == 9
    # plm convention: each part its own G/(G-1), times (N-1)/(N-K) with K = 2 slopes
    pl = fit_panel_model(grunfeld, PanelModelSpec(F, cluster="entity+time", cluster_small_sample="plm"))
    want = (v_e * 10 / 9 + v_t * 20 / 19 - v_et * 200 / 199) * (n - 1) / (n - 2)
    np.testing.assert_allclose(pl.cov.to_numpy(), want, rtol=1e-10)


def test_driscoll_kraay_by_hand(grunfeld):
    r = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="driscoll_kraay", dk_lags=3,
                                                 cluster_small_sample="none"))
    # independent loop over the textbook formula (Driscoll and Kraay 1998; Hoechle 2007 eq. 10-11)
    fd = r.fit_data
    X, u = fd.Xt, fd.yt - fd.Xt @ r.params.to_numpy()
    T = fd.time.max() + 1
    h = np.array([(X[fd.time == t] * u[fd.time == t, None]).sum(axis=0) for t in range(T)])
    S = sum(np.outer(h[t], h[t]) for t in range(T))
    for j in range(1, 4):
        w = 1 - j / 4
        G = sum(np.outer(h[t], h[t - j]) for t in range(j, T))
        S = S + w * (G + G.T)
    A = np.linalg.inv(X.T @ X)
    np.testing.assert_allclose(r.cov.to_numpy(), A @ S @ A, rtol=1e-10)
    assert r.df_dist == T - 1
    st = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="driscoll_kraay", dk_lags=3))
    np.testing.assert_allclose(st.cov.to_numpy(), r.cov.to_numpy() * 199 / 197, rtol=1e-10)


def test_driscoll_kraay_default_lags(grunfeld):
    r = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="driscoll_kraay"))
    # floor(4 (20/100)^(2/9)) = 2 (Hoechle 2007)
    assert "2 Bartlett lag(s)" in " ".join(r.notes)


def brute_force_wcr_pvalue(X, y, codes, j, r, V):
    """The WCR p-value by the definition, one bootstrap sample at a time (N x B work)."""
    k = X.shape[1]
    others = [i for i in range(k) if i != j]
    Xo = X[:, others]
    br = np.linalg.lstsq(Xo, y - X[:, j] * r, rcond=None)[0]
    fitted = X[:, j] * r + Xo @ br
    ur = y - fitted
    A = np.linalg.inv(X.T @ X)

    def tstat(yy, null):
        b = A @ X.T @ yy
        u = yy - X @ b
        s = np.array([X[codes == g].T @ u[codes == g] for g in range(codes.max() + 1)])
        se = np.sqrt(A[j] @ (s.T @ s) @ A[j])
        return (b[j] - null) / se

    t0 = tstat(y, r)
    ts = np.array([tstat(fitted + ur * V[codes, b], r) for b in range(V.shape[1])])
    return np.mean(np.abs(ts) >= abs(t0) - 1e-12)


def test_wild_bootstrap_fast_algorithm_equals_definition(grunfeld):
    r = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="unadjusted"))
    fd = r.fit_data
    codes = fd.entity
    # random sign vectors (10 clusters would be enumerated by bootstrap_weights)
    V = np.random.default_rng(0).choice(np.array([-1.0, 1.0]), size=(10, 999))
    wb = WildClusterBootstrap(fd.Xt, fd.yt, codes, V[:, :199])
    for j, null in ((1, 0.0), (2, 0.3), (1, 0.12)):
        fast = wb.pvalue(j, null)
        slow = brute_force_wcr_pvalue(fd.Xt, fd.yt, codes, j, null, V[:, :199])
        assert fast == pytest.approx(slow, abs=1e-12)


def test_wild_bootstrap_spec(grunfeld):
    r = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="wild_bootstrap", bootstrap_reps=2000, random_state=1))
    # 2^10 = 1024 <= 2000: the bootstrap enumerates every sign vector, so the seed does not matter
    r2 = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="wild_bootstrap", bootstrap_reps=2000, random_state=7))
    pd.testing.assert_frame_equal(r.bootstrap, r2.bootstrap)
    assert r.bootstrap.attrs["reps"] == 1024
    # the standard errors are CRV1; the intervals invert the bootstrap test and contain the estimate
    crv1 = fit_panel_model(grunfeld, PanelModelSpec(F))
    pd.testing.assert_series_equal(r.std_errors, crv1.std_errors)
    ci = r.conf_int()
    for term in ("value", "capital"):
        assert ci.loc[term, "lower"] < r.params[term] < ci.loc[term, "upper"]
        # at the interval's ends the bootstrap p-value is (close to) 0.05
        wb = WildClusterBootstrap(r.fit_data.Xt, r.fit_data.yt, r.fit_data.entity,
                                  bootstrap_weights(10, 2000, "rademacher", np.random.default_rng(0)))
        j = list(r.params.index).index(term)
        inside = ci.loc[term, "lower"] + 1e-6 * r.std_errors[term]
        outside = ci.loc[term, "lower"] - 1e-3 * r.std_errors[term]
        assert wb.pvalue(j, inside) > 0.05 >= wb.pvalue(j, outside)
    assert r.pvalues["value"] == pytest.approx(r.bootstrap.loc["value", "pvalue"])


def test_webb_weights_are_deterministic_by_seed(grunfeld):
    a = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="wild_bootstrap", bootstrap_weights="webb",
                                                 bootstrap_reps=199, random_state=3))
    b = fit_panel_model(grunfeld, PanelModelSpec(F, cov_type="wild_bootstrap", bootstrap_weights="webb",
                                                 bootstrap_reps=199, random_state=3))
    pd.testing.assert_frame_equal(a.bootstrap, b.bootstrap)
    w = bootstrap_weights(12, 60000, "webb", np.random.default_rng(0))
    # Webb's six points have mean 0 and variance 1
    assert abs(w.mean()) < 0.01 and w.var() == pytest.approx(1.0, abs=0.01)
    assert len(np.unique(np.round(w, 12))) == 6
