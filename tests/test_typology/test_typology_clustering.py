"""Partitioning methods: batched k-means against scikit-learn, posteriors, distances, transforms, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from typology.estimator.clustering import cluster, kmeans_plus_plus, lloyd, within_ss
from typology.estimator.parallel import entropy_of, int_seed, run_tasks
from typology.estimator.transforms import (
    AUTO_TRANSFORMS,
    apply_transform,
    fit_plan,
    resolve_transforms,
)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(c, 1.0, (60, 3)) for c in ([0, 0, 0], [9, 0, 0], [0, 9, 0], [0, 0, 9])])


def test_lloyd_matches_scikit_learn_from_the_same_starts(blobs):
    rngs = [np.random.default_rng(s) for s in range(4)]
    starts = kmeans_plus_plus(blobs, 6, rngs)
    centers, within = lloyd(blobs, starts, tol=0.0)
    for r in range(4):
        km = KMeans(n_clusters=6, init=starts[r], n_init=1, algorithm="lloyd", tol=0.0, max_iter=300).fit(blobs)
        np.testing.assert_allclose(np.sort(centers[r], axis=0), np.sort(km.cluster_centers_, axis=0), atol=1e-9)
        assert within[r] == pytest.approx(km.inertia_, rel=1e-9)


def test_kmeans_plus_plus_starts_are_distinct_data_points(blobs):
    C = kmeans_plus_plus(blobs, 4, [np.random.default_rng(1), np.random.default_rng(2)])
    for r in range(2):
        d = ((C[r][:, None, :] - blobs[None]) ** 2).sum(axis=2).min(axis=1)
        np.testing.assert_allclose(d, 0.0, atol=1e-12)
        assert len(np.unique(C[r], axis=0)) == 4
    again = kmeans_plus_plus(blobs, 4, [np.random.default_rng(1), np.random.default_rng(2)])
    np.testing.assert_array_equal(C, again)


@pytest.mark.parametrize("method", ["kmeans", "ward_kmeans", "gmm"])
def test_partition_contract(blobs, method):
    p = cluster(blobs, 4, method, seeds=[11, 12, 13])
    np.testing.assert_array_equal(p.predict(blobs), p.labels)  # predict reproduces the fit
    P = p.proba(blobs)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(P.argmax(axis=1), p.labels)
    assert p.within == pytest.approx(within_ss(blobs, p.labels, 4))
    sizes = np.bincount(p.labels, minlength=4)
    assert sorted(sizes) == [60, 60, 60, 60]  # four well-separated blobs recovered


def test_kmeans_posterior_is_the_equal_spherical_mixture(blobs):
    p = cluster(blobs, 4, "kmeans", seeds=[1])
    d2 = ((blobs[:, None, :] - p.centers[None]) ** 2).sum(axis=2)
    sigma2 = p.within / (blobs.shape[0] * blobs.shape[1])
    expected = np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / (2 * sigma2))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p.proba(blobs), expected, rtol=1e-10)
    np.testing.assert_allclose(p.distance(blobs, p.labels), np.sqrt(d2[np.arange(len(blobs)), p.labels]))


def test_gmm_distance_is_mahalanobis_and_posterior_is_sklearns(blobs):
    p = cluster(blobs, 4, "gmm", seeds=[3])
    gm = p.mixture
    assert isinstance(gm, GaussianMixture)
    np.testing.assert_allclose(p.proba(blobs), gm.predict_proba(blobs))
    lab = p.labels
    diff = blobs - gm.means_[lab]
    inv = np.linalg.inv(gm.covariances_)[lab]
    expected = np.sqrt(np.einsum("ni,nij,nj->n", diff, inv, diff))
    np.testing.assert_allclose(p.distance(blobs, lab), expected, rtol=1e-8)


def test_ward_kmeans_is_deterministic(blobs):
    a = cluster(blobs, 5, "ward_kmeans", seeds=[])
    b = cluster(blobs[::-1].copy(), 5, "ward_kmeans", seeds=[])
    assert a.within == pytest.approx(b.within)


def test_seeds_are_addressed_not_ordered():
    assert int_seed(5, 1, 4, 2, 0) == int_seed(5, 1, 4, 2, 0)
    assert int_seed(5, 1, 4, 2, 0) != int_seed(5, 1, 4, 2, 1)
    assert 0 <= int_seed(5, 0, 0) < 2**31
    assert entropy_of(7) == 7
    with pytest.raises(ValueError, match="random_state"):
        entropy_of(-1)
    out1 = run_tasks(int_seed, [(9, i) for i in range(6)], n_jobs=1)
    out2 = run_tasks(int_seed, [(9, i) for i in range(6)], n_jobs=2)
    assert out1 == out2


def test_transforms_by_formula():
    p = np.array([0.0, 0.25, 1.0])
    np.testing.assert_allclose(apply_transform("logit", p, eps=0.01),
                               np.log([0.01 / 1.01, 0.26 / 0.76, 1.01 / 0.01]))
    np.testing.assert_allclose(apply_transform("arcsine_sqrt", p), [0.0, np.pi / 6, np.pi / 2])
    np.testing.assert_allclose(apply_transform("log1p", np.array([0.0, np.e - 1])), [0.0, 1.0])
    np.testing.assert_allclose(apply_transform("asinh", np.array([-1.0])), [np.log(-1 + np.sqrt(2))])
    with pytest.raises(ValueError, match="unknown transform"):
        apply_transform("boxcox", p)


def test_auto_transforms():
    rng = np.random.default_rng(0)
    vals = np.column_stack([rng.uniform(0, 0.6, 100), rng.uniform(40, 2000, 100), rng.normal(2, 0.5, 100),
                            rng.uniform(0, 1, 100), rng.lognormal(0, 1.5, 100), rng.normal(0, 1, 100)])
    cols = ["corp_share", "dist_core_km", "entropy", "water_share", "firms_per_capita", "x"]
    assert resolve_transforms("auto", cols, vals) == ("logit", "log1p", "identity", "logit", "log1p", "identity")
    assert resolve_transforms({"dist_core_km": "asinh"}, cols, vals)[:2] == ("logit", "asinh")
    assert resolve_transforms(None, cols, vals) == ("identity",) * 6
    assert AUTO_TRANSFORMS["largest_employer_share"] == "logit"
    with pytest.raises(ValueError, match="not features of X"):
        resolve_transforms({"nope": "log"}, cols, vals)


def test_plan_scales_on_the_reference_and_clips_new_values():
    vals = np.array([[0.1, 10.0], [0.2, 100.0], [0.3, 1000.0], [0.4, 50.0]])
    plan = fit_plan(["corp_share", "dist_core_km"], vals)
    Z, bad = plan.transform(vals)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0, ddof=1), 1.0)
    assert not bad.any()
    Zn, badn = plan.transform(np.array([[1.7, -5.0]]))
    assert badn.all() and np.isfinite(Zn).all()  # clipped for the transform, flagged by the mask
    robust = fit_plan(["corp_share", "dist_core_km"], vals, scaling="robust")
    t = np.log1p(vals[:, 1])
    q75, q25 = np.percentile(t, [75, 25])
    assert robust.scale[1] == pytest.approx((q75 - q25) / 1.3489795003921634)
    with pytest.raises(ValueError, match="outside the domain"):
        fit_plan(["corp_share"], np.array([[0.5], [1.2]]))
