"""Gaussian mixtures fitted together (typology.estimator.mixture) against scikit-learn's GaussianMixture.

The reference is scikit-learn itself (the installed version, 1.9 when written), run in the test
from the same seeds: ``KMeans(n_clusters=k, n_init=1, random_state=RandomState(seed))`` for the
start and ``GaussianMixture(n_components=k, covariance_type=..., reg_covar=1e-4,
random_state=seed).fit(X)`` for the mixture, the call the typology made once per restart.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from typology import persist
from typology.estimator import mixture
from typology.estimator.clustering import cluster, cluster_all_k
from typology.estimator.mixture import TIE, fit_mixtures, kmeans_labels

R_DIR = Path(__file__).parent / "data" / "r"
COV_TYPES = ("full", "tied", "diag", "spherical")


def _datasets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    A = rng.normal(0.0, 1.0, (5, 5))
    return {
        # four separated blobs far from the origin
        "blobs": np.vstack([rng.normal(c, 1.0, (60, 3)) for c in ([0, 0, 0], [9, 0, 0], [0, 9, 0], [0, 0, 9])]),
        # three anisotropic, overlapping groups in 5-D
        "aniso": np.vstack([rng.normal(0, 1, (150, 5)) @ A + rng.normal(0, 4, 5) for _ in range(3)]),
        # no structure: EM converges slowly
        "uniform": rng.random((300, 4)),
        # three blobs and twelve collinear towns: a component collapses (make_r_references.line_and_blobs)
        "line_and_blobs": np.loadtxt(R_DIR / "line_and_blobs.csv", delimiter=","),
    }


DATA = _datasets()
KS = (2, 3, 5, 8)


def _sklearn(X, k, cov, seed, **init) -> GaussianMixture:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(n_components=k, covariance_type=cov, reg_covar=1e-4, random_state=seed, **init).fit(X)


def _ours(X, ks, cov, seeds, warm=None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_mixtures(X, ks, lambda k: seeds, cov, warm)


def _assert_same_mixture(ours: GaussianMixture, ref: GaussianMixture, atol=1e-10):
    assert ours.n_iter_ == ref.n_iter_ and ours.converged_ == ref.converged_
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, abs=atol)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=0, atol=atol)
    np.testing.assert_allclose(ours.weights_, ref.weights_, rtol=0, atol=atol)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=0, atol=atol)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, rtol=0, atol=atol)
    # precisions reach 1 / reg_covar = 1e4 on a collapsed component: relative to their size
    scale = np.abs(ref.precisions_cholesky_).max()
    np.testing.assert_allclose(ours.precisions_cholesky_ / scale, ref.precisions_cholesky_ / scale, rtol=0, atol=atol)


@pytest.mark.parametrize("name", list(DATA))
def test_kmeans_start_is_scikit_learns(name):
    X = DATA[name]
    for k in KS:
        labels = kmeans_labels(X, k, [11, 12, 13, 14])
        for r, seed in enumerate([11, 12, 13, 14]):
            km = KMeans(n_clusters=k, n_init=1, random_state=np.random.RandomState(seed)).fit(X)
            np.testing.assert_array_equal(labels[r], km.labels_)


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("name", list(DATA))
def test_every_restart_is_scikit_learns_fit(name, cov):
    """One seed per fit, all k at once: every (k, seed) equals GaussianMixture(random_state=seed)
    to 1e-10 (same iterations, lower bounds, parameters)."""
    X = DATA[name]
    for seed in (11, 12):
        ours = _ours(X, KS, cov, [seed])
        for k in KS:
            _assert_same_mixture(ours[k], _sklearn(X, k, cov, seed))


@pytest.mark.parametrize("cov", COV_TYPES)
def test_the_best_restart_is_kept(cov):
    """Several seeds: the kept mixture is the best of scikit-learn's fits, up to the order of its
    components where two restarts reach the same optimum (a tie within TIE)."""
    for X in (DATA["aniso"], DATA["blobs"], DATA["line_and_blobs"]):
        seeds = [3, 4, 5]
        ours = _ours(X, KS, cov, seeds)
        for k in KS:
            fits = [_sklearn(X, k, cov, s) for s in seeds]
            bounds = np.array([f.lower_bound_ for f in fits])
            first = int(np.flatnonzero(bounds >= bounds.max() - TIE)[0])
            ref = fits[first]
            d = ((ours[k].means_[:, None, :] - ref.means_[None]) ** 2).sum(axis=2)
            rows, cols = linear_sum_assignment(d)
            assert (rows == np.arange(k)).all() and np.abs(ours[k].means_ - ref.means_[cols]).max() < 1e-10
            assert ours[k].lower_bound_ == pytest.approx(bounds.max(), abs=1e-10)
            assert ours[k].random_state == seeds[first]


@pytest.mark.parametrize("cov", COV_TYPES)
def test_warm_start_is_scikit_learns_init_and_only_one_more_restart(cov):
    """The warm restart is EM from the given mixture, as GaussianMixture(weights_init, means_init,
    precisions_init); it competes with the fresh restarts, the largest lower bound is kept."""
    X = DATA["aniso"]
    full = _ours(X, [3, 5], cov, [1, 2])
    idx = np.random.default_rng(5).integers(0, len(X), len(X))  # a bootstrap sample
    B = X[idx]
    warm_only = _ours(B, [3, 5], cov, [], warm=full)
    fresh = _ours(B, [3, 5], cov, [7, 8])
    both = _ours(B, [3, 5], cov, [7, 8], warm=full)
    for k in (3, 5):
        g = full[k]
        ref = _sklearn(B, k, cov, None, weights_init=g.weights_, means_init=g.means_, precisions_init=g.precisions_)
        _assert_same_mixture(warm_only[k], ref, atol=1e-9)
        best = max(fresh[k].lower_bound_, warm_only[k].lower_bound_)
        assert both[k].lower_bound_ == pytest.approx(best, abs=1e-12)
        expected = warm_only[k] if warm_only[k].lower_bound_ > fresh[k].lower_bound_ + TIE else fresh[k]
        np.testing.assert_allclose(both[k].means_, expected.means_, atol=1e-12)


def test_cluster_all_k_forwards_the_warm_partitions():
    X = DATA["aniso"]
    full = cluster_all_k(X, [2, 3, 4], "gmm", lambda k: [1, 2, 3])
    B = X[np.random.default_rng(1).integers(0, len(X), len(X))]
    cold = cluster_all_k(B, [2, 3, 4], "gmm", lambda k: [4, 5, 6], "full", "best")
    warm = cluster_all_k(B, [2, 3, 4], "gmm", lambda k: [4, 5, 6], "full", "best", warm=full)
    for k in (2, 3, 4):
        assert warm[k].mixture.lower_bound_ >= cold[k].mixture.lower_bound_ - 1e-12
        np.testing.assert_array_equal(warm[k].labels, warm[k].mixture.predict(B))
    single = cluster(X, 3, "gmm", seeds=[1, 2, 3])  # one k alone: the same fit as within the batch
    np.testing.assert_array_equal(single.labels, full[3].labels)
    assert single.mixture.lower_bound_ == pytest.approx(full[3].mixture.lower_bound_, abs=1e-12)


def test_the_mixture_is_a_fitted_gaussian_mixture_that_saves_and_loads(tmp_path):
    X = DATA["blobs"]
    ours = _ours(X, [4], "full", [3])[4]
    ref = _sklearn(X, 4, "full", 3)
    assert type(ours) is GaussianMixture and set(vars(ours)) == set(vars(ref))
    assert ours.get_params() == ref.get_params()
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-10)
    assert ours.bic(X) == pytest.approx(ref.bic(X), rel=1e-12)
    path = tmp_path / "mixture.ntm"
    persist.dump(ours, path)
    back = persist.load(path, GaussianMixture)
    np.testing.assert_array_equal(back.means_, ours.means_)
    np.testing.assert_array_equal(back.predict_proba(X), ours.predict_proba(X))


def test_max_iter_stop_and_convergence_warning(monkeypatch):
    """Stopped by max_iter (here 3) as GaussianMixture(max_iter=3): the same parameters, not
    converged, one ConvergenceWarning when the kept restart did not converge."""
    monkeypatch.setattr(mixture, "MAX_ITER", 3)
    X = DATA["uniform"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GaussianMixture(n_components=8, reg_covar=1e-4, random_state=11, max_iter=3).fit(X)
    assert not ref.converged_ and ref.n_iter_ == 3
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        ours = fit_mixtures(X, [8], lambda k: [11], "full")[8]
    _assert_same_mixture(ours, ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit_mixtures(DATA["blobs"], [4], lambda k: [3], "full")  # converges in 2 iterations


def test_user_mistakes_are_named():
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        fit_mixtures(DATA["blobs"], [2], lambda k: [1], "banana")
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        fit_mixtures(DATA["blobs"][:5], [8], lambda k: [1], "full")


def test_mclust_reference_of_the_regular_fit_is_reached():
    """BIC at G = 3 on line_and_blobs.csv equals mclust's (data/r/references.json: R 4.2.2,
    mclust 6.0.0, mclustBIC(L, G = 1:6, modelNames = "VVV")), sign flipped."""
    ref = json.loads((R_DIR / "references.json").read_text())["mclust_bic_vvv"]
    mclust = dict(zip(ref["G"], ref["value"], strict=True))
    X = DATA["line_and_blobs"]
    ours = _ours(X, [3], "full", [1, 2, 3])[3]
    assert ours.bic(X) == pytest.approx(-mclust[3], rel=1e-6)
