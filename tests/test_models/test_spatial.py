"""Spatial models: fit_spatial_panel (SAR, SEM, SDM with fixed effects) against spreg 1.9.0 and
R spatialreg 1.2-6, Lee and Yu's transformation approach against an explicit orthonormal
transformation, impacts, W(x) in formulas, Conley errors against a hand computation.

Reference values and their sources: ``tests/test_models/results/spatial.py``."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.linalg import null_space
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from features.spatial import SpatialWeights
from models import FormulaError, PanelModelSpec, fit_panel_model, fit_spatial_panel
from models.spatial.likelihood import Effective, star_traces
from models.spatial.logdet import spatial_operator

from .results import spatial as ref

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(DATA / "spatial_panel.csv").set_index(["town_id", "year"])


@pytest.fixture(scope="module")
def W(panel) -> SpatialWeights:
    edges = pd.read_csv(DATA / "spatial_edges.csv")
    ids = pd.Index(sorted(panel.index.get_level_values(0).unique()))
    B = sparse.csr_array((np.ones(len(edges)), (ids.get_indexer(edges["town_id"]), ids.get_indexer(edges["neighbor"]))),
                         shape=(len(ids), len(ids)))
    return SpatialWeights(sparse.csr_array(B / B.sum(axis=1)[:, None]), ids, "r", "knn(k=5)")


def _close(a, b, rtol):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


# ------------------------------------------------------------------ references
@pytest.mark.parametrize("method", ["eigen", "lu"])
def test_panel_fe_lag_and_error_equal_spreg(panel, W, method):
    nT = len(panel)
    for model, params, se, logll, sig2 in (("lag", ref.LAG_PARAMS, ref.LAG_SE, ref.LAG_LOGLL, ref.LAG_SIG2),
                                           ("error", ref.ERR_PARAMS, ref.ERR_SE, ref.ERR_LOGLL, ref.ERR_SIG2)):
        r = fit_spatial_panel(panel, "y ~ x1 + x2", W, model=model, effects="entity", bias_correction=False,
                              method=method)
        assert list(r.params.index) == ["x1", "x2", "rho" if model == "lag" else "lambda"]
        # spreg stops Brent's search at xatol = 1e-7 in the spatial parameter; ours at 1e-10
        _close(r.params, params, 1e-6)
        _close(r.std_errors, se, 1e-5)
        _close(r.sigma2, sig2, 1e-6)
        _close(r.loglik, logll + nT / 2 * np.log(nT), 1e-9)


def test_town_effects_bias_correction_is_sigma2_times_T_over_T_minus_1(panel, W):
    direct = fit_spatial_panel(panel, "y ~ x1 + x2", W, effects="entity", bias_correction=False)
    corrected = fit_spatial_panel(panel, "y ~ x1 + x2", W, effects="entity")
    T = corrected.n_periods
    _close(corrected.params, direct.params, 1e-8)
    _close(corrected.sigma2, direct.sigma2 * T / (T - 1), 1e-8)


@pytest.mark.parametrize("model", ["lag", "error", "durbin"])
def test_cross_section_equals_spatialreg(panel, W, model):
    cs = panel.xs(2000, level="year", drop_level=False)
    r = fit_spatial_panel(cs, "y ~ x1 + x2", W, model=model, effects="none")
    key = {"lag": "CS_LAG", "error": "CS_ERR", "durbin": "CS_DUR"}[model]
    _close(r.params, getattr(ref, key + "_COEF"), 1e-6)
    _close(r.std_errors, getattr(ref, key + "_SE"), 1e-5)
    _close(r.loglik, getattr(ref, key + "_LOGLIK"), 1e-9)
    if model != "error":
        imp = r.impacts(n_draws=200, random_state=1)
        _close(imp["direct"], getattr(ref, key + "_DIRECT"), 1e-6)
        _close(imp["indirect"], getattr(ref, key + "_INDIRECT"), 1e-5)
        _close(imp["total"], getattr(ref, key + "_TOTAL"), 1e-6)
    if model == "lag":
        _close(r.sigma2, ref.CS_LAG_SIGMA2, 1e-6)


# ------------------------------------------------------------------ Lee and Yu's transformation
def _helmert(m: int) -> np.ndarray:
    """An orthonormal basis ``F`` (m x (m-1)) of the deviations from the mean: ``F F' = I - 11'/m``."""
    return null_space(np.ones((1, m)))


def test_twoway_equals_the_explicit_orthonormal_transformation(panel, W):
    """Lee and Yu (2010, sec. 4): transform by F_T (T x T-1) and F_n (n x n-1), then the
    likelihood of (n-1)(T-1) observations with log|I - rho F_n'W F_n| computed densely."""
    r = fit_spatial_panel(panel, "y ~ x1 + x2", W, effects="twoway")
    ids = W.ids
    years = sorted(panel.index.get_level_values(1).unique())
    grid = panel.reindex(pd.MultiIndex.from_product([years, ids]).swaplevel()).reset_index(drop=True)
    T, n = len(years), len(ids)
    FT, Fn = _helmert(T), _helmert(n)
    Wd = W.sparse.toarray()
    Ws = Fn.T @ Wd @ Fn

    def tr(col):
        return FT.T @ grid[col].to_numpy().reshape(T, n) @ Fn       # (T-1) x (n-1)

    ys, X1, X2 = tr("y"), tr("x1"), tr("x2")

    def negll(theta):
        b1, b2, rho, ls2 = theta
        e = ys - rho * ys @ Ws.T - b1 * X1 - b2 * X2
        s2 = np.exp(ls2)
        sign, logdet = np.linalg.slogdet(np.eye(n - 1) - rho * Ws)
        N = (n - 1) * (T - 1)
        return 0.5 * N * np.log(2 * np.pi * s2) - (T - 1) * logdet + (e * e).sum() / (2 * s2)

    start = np.array([*r.params.to_numpy(), np.log(r.sigma2)]) + 0.05
    opt = minimize(negll, start, method="BFGS", options={"gtol": 1e-9})
    _close(r.params, opt.x[:3], 1e-5)
    _close(r.sigma2, np.exp(opt.x[3]), 1e-5)
    _close(r.loglik, -opt.fun, 1e-9)
    # the traces of G* = F_n' G F_n from the identities of likelihood.star_traces
    rho = float(r.params["rho"])
    G = Wd @ np.linalg.inv(np.eye(n) - rho * Wd)
    Gs = Fn.T @ G @ Fn
    got = star_traces(spatial_operator(W.sparse, "lu").traces(rho), rho, Effective((n - 1) * (T - 1), T - 1, 1, n))
    _close(got, [np.trace(Gs), np.trace(Gs @ Gs), np.trace(Gs.T @ Gs)], 1e-9)


def test_lu_and_eigen_agree(panel, W):
    for model in ("lag", "error", "durbin"):
        a = fit_spatial_panel(panel, "y ~ x1 + x2", W, model=model, method="eigen")
        b = fit_spatial_panel(panel, "y ~ x1 + x2", W, model=model, method="lu")
        # the two log-determinants agree to rounding; the maximizer stops within 1e-10 of rho
        np.testing.assert_allclose(a.params, b.params, rtol=1e-6, atol=1e-7)
        _close(a.std_errors, b.std_errors, 1e-6)
        _close(a.loglik, b.loglik, 1e-11)


def _draw_panel(rng, n, T, rho, beta, W):
    Wd = W.sparse.toarray()
    A = np.linalg.inv(np.eye(n) - rho * Wd)
    X = rng.normal(size=(T, n, 2))
    a, g = rng.normal(size=n), rng.normal(size=T)
    y = np.stack([A @ (X[t] @ beta + a + g[t] + rng.normal(size=n)) for t in range(T)])
    idx = pd.MultiIndex.from_product([range(2000, 2000 + T), W.ids], names=["year", "town_id"]).swaplevel()
    return pd.DataFrame({"y": y.ravel(), "x1": X[:, :, 0].ravel(), "x2": X[:, :, 1].ravel()}, index=idx)


def test_simulation_recovers_rho_and_beta(W):
    """60 panels of 60 towns x 5 years from a SAR with town and year effects (rho = 0.4, b1 = 1):
    the 95 % intervals cover the truth in about 95 % of them (at least 85 % asked: a binomial
    sd is 2.8 points)."""
    rng = np.random.default_rng(7)
    hits = np.zeros(3)
    reps = 60
    for _ in range(reps):
        r = fit_spatial_panel(_draw_panel(rng, W.n, 5, 0.4, np.array([1.0, -0.5]), W), "y ~ x1 + x2", W)
        ci = r.conf_int()
        hits += [(ci.loc[t, "lower"] <= v <= ci.loc[t, "upper"]) for t, v in (("rho", 0.4), ("x1", 1.0), ("x2", -0.5))]
    assert (hits / reps >= 0.85).all(), hits / reps


def _knn_panel(n: int, T: int, seed: int = 0) -> tuple[pd.DataFrame, SpatialWeights]:
    rng = np.random.default_rng(seed)
    k = 6
    xy = rng.uniform(size=(n, 2))
    _, nb = cKDTree(xy).query(xy, k=k + 1)
    Wm = sparse.csr_array((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k), nb[:, 1:].ravel())), shape=(n, n))
    W = SpatialWeights(Wm, pd.Index(np.arange(n)), "r", "knn(k=6)")
    X = rng.normal(size=(T, n, 2))
    y = X @ np.array([1.0, -0.5]) + rng.normal(size=(T, n))
    idx = pd.MultiIndex.from_product([range(2000, 2000 + T), W.ids], names=["year", "town_id"]).swaplevel()
    return pd.DataFrame({"y": y.ravel(), "x1": X[:, :, 0].ravel(), "x2": X[:, :, 1].ravel()}, index=idx), W


def test_large_n_memory_is_linear_in_towns():
    """The LU method (log-determinants by sparse LU, traces from solves on blocks of columns)
    holds no dense n x n matrix: doubling the towns doubles the peak (a dense matrix would
    quadruple it), and the peak at 2,000 towns is well under one dense n x n matrix (32 MB)."""
    peaks = []
    for n in (1000, 2000):
        df, W = _knn_panel(n, 2)
        tracemalloc.start()
        r = fit_spatial_panel(df, "y ~ x1 + x2", W, method="lu")
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert r.method == "lu"
    assert peaks[1] / peaks[0] < 2.6, peaks
    assert peaks[1] < 0.5 * 2000 * 2000 * 8, peaks


# ------------------------------------------------------------------ impacts
def test_impacts_are_deterministic_and_follow_their_formulas(panel, W):
    r = fit_spatial_panel(panel, "y ~ x1 + x2", W, model="durbin")
    a, b = r.impacts(n_draws=300, random_state=3), r.impacts(n_draws=300, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert (a["direct_se"] > 0).all() and (a["total_se"] > 0).all()
    rho, p = float(r.params["rho"]), r.params
    Wd = W.sparse.toarray()
    A = np.linalg.inv(np.eye(W.n) - rho * Wd)
    for x in ("x1", "x2"):
        S = A @ (np.eye(W.n) * p[x] + Wd * p[f"W({x})"])
        _close(a.loc[x, ["direct", "total"]], [np.trace(S) / W.n, S.sum() / W.n], 1e-10)
    # large-n approximations: LU with traces by power series (Monte Carlo traces) in the draws
    c = fit_spatial_panel(panel, "y ~ x1 + x2", W, model="durbin", method="lu").impacts(n_draws=300, random_state=3)
    _close(c[["direct", "indirect", "total"]], a[["direct", "indirect", "total"]], 1e-7)
    _close(c[["direct_se", "indirect_se", "total_se"]], a[["direct_se", "indirect_se", "total_se"]], 0.05)


def test_error_model_impacts_are_the_coefficients(panel, W):
    r = fit_spatial_panel(panel, "y ~ x1 + x2 + W(x1)", W, model="error")
    imp = r.impacts(n_draws=500, random_state=0)
    _close(imp.loc["x1", ["direct", "indirect"]], [r.params["x1"], r.params["W(x1)"]], 1e-12)
    _close(imp.loc["x2", ["direct", "indirect"]], [r.params["x2"], 0.0], 1e-12)
    _close(imp.loc["x1", "direct_se"], r.std_errors["x1"], 0.1)


# ------------------------------------------------------------------ refusals
def test_unbalanced_panel_and_missing_towns_are_refused(panel, W):
    with pytest.raises(ValueError, match=r"balanced panel.*t07"):
        fit_spatial_panel(panel.drop(("t07", 2003)), "y ~ x1 + x2", W)
    small = SpatialWeights(W.sparse[:50][:, :50], W.ids[:50], "o", "part")
    with pytest.raises(ValueError, match="not in the spatial weights"):
        fit_spatial_panel(panel, "y ~ x1 + x2", small)
    with pytest.raises(ValueError, match="model must be one of"):
        fit_spatial_panel(panel, "y ~ x1 + x2", W, model="sdem")
    with pytest.raises(TypeError, match="SpatialWeights"):
        fit_spatial_panel(panel, "y ~ x1 + x2", W.sparse)


def test_weights_with_more_towns_are_restricted_with_a_note(panel, W):
    sub = panel.drop(index=["t00", "t01"], level="town_id")
    r = fit_spatial_panel(sub, "y ~ x1 + x2", W)
    assert r.n_entities == 58 and any("restricted to the 58 towns" in nt for nt in r.notes)


# ------------------------------------------------------------------ W(x) in formulas
def test_slx_term_equals_the_lag_column(panel, W):
    lagged = panel.copy()
    for _year, block in panel.groupby(level="year"):
        lagged.loc[block.index, "wx1"] = W.lag(block["x1"].droplevel("year")).reindex(
            block.index.get_level_values(0)).to_numpy()
    a = fit_panel_model(panel, PanelModelSpec("y ~ x1 + W(x1)", effects="twoway"), weights=W)
    b = fit_panel_model(lagged, PanelModelSpec("y ~ x1 + wx1", effects="twoway"))
    _close(a.params, b.params, 1e-12)
    _close(a.std_errors, b.std_errors, 1e-12)
    assert list(a.params.index) == ["Intercept", "x1", "W(x1)"]


def test_slx_refusals_and_missing_neighbours(panel, W):
    with pytest.raises(FormulaError, match="needs spatial weights"):
        fit_panel_model(panel, "y ~ x1 + W(x1)")
    small = SpatialWeights(W.sparse[:50][:, :50], W.ids[:50], "o", "part")
    with pytest.raises(FormulaError, match="not in the spatial weights"):
        fit_panel_model(panel, "y ~ x1 + W(x1)", weights=small)
    with pytest.raises(TypeError, match="SpatialWeights"):
        fit_panel_model(panel, "y ~ x1 + W(x1)", weights=W.sparse)
    holed = panel.copy()
    holed.loc[("t03", 2001), "x1"] = np.nan
    r = fit_panel_model(holed, "y ~ x1 + W(x1)", weights=W)
    neighbours = W.ids[W.sparse[:, [W.ids.get_loc("t03")]].toarray().ravel() > 0]
    reasons = r.dropped["reason"]
    assert set(reasons.index) == {("t03", 2001)} | {(t, 2001) for t in neighbours}
    assert all("missing W(x1)" in reasons[(t, 2001)] for t in neighbours)


# ------------------------------------------------------------------ Conley
def _haversine(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(("kernel", "lags"), [("uniform", 0), ("bartlett", 2), ("uniform", "all")])
def test_conley_equals_the_double_sum_over_pairs(panel, kernel, lags):
    """The meat as the explicit double sum over every pair of rows: same year within the
    cut-off (kernel weight), or same town (Bartlett weight of the years apart, or 1 for 'all')."""
    cutoff = 120.0
    spec = PanelModelSpec("y ~ x1 + x2", effects="twoway", cov_type="conley", conley_km=cutoff,
                          conley_kernel=kernel, conley_lags=lags)
    r = fit_panel_model(panel, spec)
    fd = r.fit_data
    u = fd.yt - fd.Xt @ r.params.to_numpy()
    S = fd.Xt * u[:, None]
    towns = panel.index.get_level_values(0)
    years = panel.index.get_level_values(1).to_numpy()
    pos = panel[["lat", "lon"]].to_numpy()
    meat = np.zeros((S.shape[1], S.shape[1]))
    N = len(panel)
    for a in range(N):
        for b in range(N):
            if years[a] == years[b]:
                d = _haversine(pos[a], pos[b])
                w = (d <= cutoff) * 1.0 if kernel == "uniform" else max(0.0, 1 - d / cutoff)
            elif towns[a] == towns[b]:
                gap = abs(years[a] - years[b])
                w = 1.0 if lags == "all" else max(0.0, 1 - gap / (lags + 1)) if gap <= lags else 0.0
            else:
                w = 0.0
            if w:
                meat += w * np.outer(S[a], S[b])
    bread = np.linalg.inv(fd.Xt.T @ fd.Xt)
    V = bread @ meat @ bread
    _close(r.cov.to_numpy()[1:, 1:], V[1:, 1:], 1e-10)


def test_conley_spec_checks(panel):
    with pytest.raises(ValueError, match="conley_km"):
        PanelModelSpec("y ~ x1", cov_type="conley")
    with pytest.raises(ValueError, match="conley_kernel"):
        PanelModelSpec("y ~ x1", cov_type="conley", conley_km=50, conley_kernel="gaussian")
    with pytest.raises(ValueError, match="conley_lags"):
        PanelModelSpec("y ~ x1", cov_type="conley", conley_km=50, conley_lags=-1)
    with pytest.raises(ValueError, match="coordinates"):
        fit_panel_model(panel.drop(columns="lat"), PanelModelSpec("y ~ x1", cov_type="conley", conley_km=50))
    holed = panel.copy()
    holed.loc[("t05", 2002), "lon"] = np.nan
    r = fit_panel_model(holed, PanelModelSpec("y ~ x1", cov_type="conley", conley_km=50))
    assert r.dropped["reason"].tolist() == ["missing coordinate lon"]
