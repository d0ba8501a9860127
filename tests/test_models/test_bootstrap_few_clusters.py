"""The wild cluster bootstrap (WCR) with few clusters: enumeration, exact ties, unbounded intervals.

Panel: ``data/wcr_4regions.csv``, 24 towns in 4 regions, 6 years (drawn once with numpy,
rounded to 6 decimals), ``y ~ x + z`` with town effects, clustered by region.

References: (1) a brute-force loop written here over every weight vector, one bootstrap
regression at a time (N x B work, the definition of the WCR p-value of Cameron, Gelbach and
Miller 2008), independent of the G x G algebra of ``models.bootstrap``; (2) wildboottest 0.3.2
(``data/wcr_reference_wildboottest.py``, which prints the values of ``results/wcr_4regions.py``).
"""

from __future__ import annotations

import itertools
import runpy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import BootstrapWarning, PanelModelSpec, fit_panel_model, wild_cluster_bootstrap
from models.bootstrap import WildClusterBootstrap, bootstrap_weights, enumerates

DATA = Path(__file__).parent / "data"
WILDBOOTTEST = runpy.run_path(str(Path(__file__).parent / "results" / "wcr_4regions.py"))["rademacher"]
WEBB = (-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5))


@pytest.fixture(scope="module")
def regions4():
    return pd.read_csv(DATA / "wcr_4regions.csv", dtype={"town_id": str}).set_index(["town_id", "year"])


def brute_force_pvalue(X, y, codes, j, r, points):
    """Share of weight vectors (all of ``points^G``) with ``|t*| >= |t|`` (ties within 1e-9)."""
    G = codes.max() + 1
    A = np.linalg.inv(X.T @ X)
    others = [i for i in range(X.shape[1]) if i != j]
    b_r = np.linalg.lstsq(X[:, others], y - X[:, j] * r, rcond=None)[0]
    fitted = X[:, j] * r + X[:, others] @ b_r
    u_r = y - fitted

    def t_stat(yy):
        b = A @ X.T @ yy
        u = yy - X @ b
        s = np.array([X[codes == g].T @ u[codes == g] for g in range(G)])
        return (b[j] - r) / np.sqrt(A[j] @ (s.T @ s) @ A[j])

    t = t_stat(y)
    ts = np.array([t_stat(fitted + u_r * np.asarray(v)[codes]) for v in itertools.product(points, repeat=G)])
    return float(np.mean(np.abs(ts) >= abs(t) * (1 - 1e-9)))


def fit(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        return fit_panel_model(d, PanelModelSpec("y ~ x + z", cov_type="wild_bootstrap", cluster="region", **kw))


def test_rademacher_4_regions_pvalues_and_unbounded_intervals(regions4):
    with pytest.warns(BootstrapWarning, match=r"smallest attainable p-value is 0\.125 > 0\.05"):
        r = fit_panel_model(regions4, PanelModelSpec("y ~ x + z", cov_type="wild_bootstrap", cluster="region"))
    fd = r.fit_data
    codes = fd.clusters[0][0]
    assert r.bootstrap.attrs["reps"] == 16
    for j, term in ((1, "x"), (2, "z")):
        assert r.pvalues[term] == pytest.approx(brute_force_pvalue(fd.Xt, fd.yt, codes, j, 0.0, (-1.0, 1.0)), abs=1e-12)
    # wildboottest 0.3.2, full enumeration, ties counted; its CRV1 t statistics are ours
    for term in ("x", "z"):
        assert r.pvalues[term] == pytest.approx(WILDBOOTTEST["pvalues"][term], abs=1e-12)
        assert r.tstats[term] == pytest.approx(WILDBOOTTEST["tstats"][term], rel=1e-10)
    # 16 sign vectors: the p-value never falls below 2/16 > 0.05, so no value is rejected
    ci = r.conf_int()
    for term in ("x", "z"):
        assert ci.loc[term, "lower"] == -np.inf and ci.loc[term, "upper"] == np.inf
    assert any("x, z: the 95% wild bootstrap interval is unbounded" in n for n in r.notes)
    assert any("smallest attainable p-value 0.125" in n for n in r.notes)
    # the summary shows the unbounded ends as -inf / inf, not as numbers
    line = next(ln for ln in r.summary().splitlines() if ln.strip().startswith("x "))
    assert line.split()[-2:] == ["-inf", "inf"]


def test_rademacher_4_regions_bounded_at_80_percent(regions4):
    r = fit(regions4)
    # at 80 % (alpha = 0.2 >= 1/8) the inversion can bound the interval: both ends finite, and at
    # each end the p-value crosses 0.2 (brute force, just inside / just outside)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BootstrapWarning)
        tab = wild_cluster_bootstrap(r, ["x"], level=0.80)
    lo, hi = tab.loc["x", "ci_lower"], tab.loc["x", "ci_upper"]
    assert np.isfinite(lo) and np.isfinite(hi) and lo < r.params["x"] < hi
    fd, se = r.fit_data, r.std_errors["x"]
    codes = fd.clusters[0][0]
    for end, out in ((lo, -1.0), (hi, 1.0)):
        assert brute_force_pvalue(fd.Xt, fd.yt, codes, 1, end - out * 1e-5 * se, (-1.0, 1.0)) > 0.2
        assert brute_force_pvalue(fd.Xt, fd.yt, codes, 1, end + out * 1e-5 * se, (-1.0, 1.0)) <= 0.2


def test_webb_4_regions_enumerated_and_bounded(regions4):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BootstrapWarning)
        r = fit(regions4, bootstrap_weights="webb", bootstrap_reps=99)
    # 6^4 = 1296 vectors enumerated whatever reps (and the seed does not matter)
    assert r.bootstrap.attrs["reps"] == 1296 and r.bootstrap.attrs["enumerated"]
    assert r.bootstrap.attrs["min_pvalue"] == pytest.approx(6 / 1296)
    pd.testing.assert_frame_equal(r.bootstrap, fit(regions4, bootstrap_weights="webb", random_state=5).bootstrap)
    fd = r.fit_data
    codes = fd.clusters[0][0]
    for j, term in ((1, "x"), (2, "z")):
        assert r.pvalues[term] == pytest.approx(brute_force_pvalue(fd.Xt, fd.yt, codes, j, 0.0, WEBB), abs=1e-12)
    ci = r.conf_int()
    se = r.std_errors["x"]
    for end, out in ((ci.loc["x", "lower"], -1.0), (ci.loc["x", "upper"], 1.0)):
        assert np.isfinite(end)
        assert brute_force_pvalue(fd.Xt, fd.yt, codes, 1, end - out * 1e-5 * se, WEBB) > 0.05
        assert brute_force_pvalue(fd.Xt, fd.yt, codes, 1, end + out * 1e-5 * se, WEBB) <= 0.05


def test_enumeration_rules():
    # Rademacher: all 2^G sign vectors up to G = 11 whatever reps, beyond only when reps >= 2^G
    w = bootstrap_weights(11, 99, "rademacher", np.random.default_rng(0))
    assert w.shape == (11, 2048) and len(np.unique(w, axis=1).T) == 2048
    assert bootstrap_weights(12, 999, "rademacher", np.random.default_rng(0)).shape == (12, 999)
    assert bootstrap_weights(12, 5000, "rademacher", np.random.default_rng(0)).shape == (12, 4096)
    # Webb: 6^G up to G = 4, each vector once, each cluster's weights the six points equally often
    w = bootstrap_weights(4, 99, "webb", np.random.default_rng(0))
    assert w.shape == (4, 1296) and len(np.unique(w, axis=1).T) == 1296
    np.testing.assert_allclose(np.sort(np.unique(w)), np.sort(WEBB))
    assert not enumerates(5, 999, "webb") and enumerates(5, 7776, "webb")


def test_pvalue_matches_brute_force_far_from_the_estimate(regions4):
    """Far from the estimate the constant vectors still count as ties (|t*| = |t|, not rounding)."""
    r = fit(regions4)
    fd = r.fit_data
    codes = fd.clusters[0][0]
    V = np.array(list(itertools.product((-1.0, 1.0), repeat=4))).T
    wb = WildClusterBootstrap(fd.Xt, fd.yt, codes, V)
    for null in (0.0, 0.3, 2.0, -5.0, 40.0, 1e3, -1e3, 1e5):
        assert wb.pvalue(1, null) == pytest.approx(brute_force_pvalue(fd.Xt, fd.yt, codes, 1, null, (-1.0, 1.0)),
                                                   abs=1e-12)
        assert wb.pvalue(1, null) >= 0.125
