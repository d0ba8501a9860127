"""Indices behind the choice of k, checked by hand, and the decision rule on crafted evidence."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from typology.estimator.indices import (
    best_match,
    contingency,
    gap_reference,
    gap_statistic,
    jaccard_matrix,
    log_within,
    prediction_strength,
)
from typology.estimator.selection import decide, evaluate


def test_jaccard_matrix_by_hand():
    a = np.array([0, 0, 0, 1, 1, 2])
    b = np.array([1, 1, 0, 0, 0, 0])
    J = jaccard_matrix(a, b, 3, 2)
    # A0 = {0,1,2}, A1 = {3,4}, A2 = {5}; B0 = {2,3,4,5}, B1 = {0,1}
    expected = np.array([[1 / 6, 2 / 3], [2 / 4, 0 / 4], [1 / 4, 0 / 3]])
    np.testing.assert_allclose(J, expected)
    np.testing.assert_array_equal(contingency(a, b, 3, 2), [[1, 2], [2, 0], [1, 0]])
    # Hungarian matching maximizes the total: B0 -> A1 (0.5), B1 -> A0 (2/3)
    np.testing.assert_array_equal(best_match(J), [1, 0])


def test_prediction_strength_by_hand():
    test = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, 1, 1, 1, 1])
    # test type 0: pairs {01, 02, 12}, co-predicted only 01 -> 1/3; type 1: all 3 pairs -> 1
    assert prediction_strength(test, pred, 2) == pytest.approx(1 / 3)
    # a singleton test type does not count (Tibshirani & Walther 2005: types with >= 2 towns)
    assert prediction_strength(np.array([0, 0, 1]), np.array([0, 0, 1]), 2) == 1.0


def test_log_within_is_the_pairwise_form_of_tibshirani_eq2():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(12, 3))
    lab = np.array([0] * 5 + [1] * 4 + [2] * 3)
    w = 0.0
    for r in range(3):
        P = Z[lab == r]
        D = sum(((P[i] - P[j]) ** 2).sum() for i, j in itertools.product(range(len(P)), repeat=2))
        w += D / (2 * len(P))
    assert log_within(Z, lab, 3) == pytest.approx(np.log(w), rel=1e-12)


def test_gap_statistic_by_hand():
    log_w = np.array([3.0, 2.0])
    ref = np.array([[3.5, 2.9], [3.7, 3.1]])
    gap, se = gap_statistic(log_w, ref)
    np.testing.assert_allclose(gap, [0.6, 1.0])
    # sd with divisor B (Tibshirani et al. 2001, step 3), times sqrt(1 + 1/B)
    np.testing.assert_allclose(se, [0.1 * np.sqrt(1.5), 0.1 * np.sqrt(1.5)])


def test_gap_statistic_matches_r_clusgap():
    """R's cluster::clusGap with squared distances on the same data, partitions and reference sets.

    Reference: data/r/references.json, "clusgap" (R 4.2.2, cluster 2.1.4; data/r/references.R,
    inputs from make_r_references.py): ``set.seed(2001); clusGap(G, by_rank, K.max = 4, B = 10,
    d.power = 2, spaceH0 = "scaledPCA")``, where ``by_rank`` cuts the towns into k groups of
    equal size by the rank of the first coordinate, and the B reference sets clusGap drew.
    """
    r_dir = Path(__file__).with_name("data") / "r"
    ref = json.loads((r_dir / "references.json").read_text(encoding="utf-8"))["clusgap"]
    G = np.loadtxt(r_dir / "gap_input.csv", delimiter=",")
    sets = np.loadtxt(r_dir / "gap_reference_sets.csv", delimiter=",")
    B = int(sets[:, 0].max())

    def by_rank(x, k):
        return (np.argsort(np.argsort(x[:, 0], kind="stable"), kind="stable") * k) // len(x)

    ks = ref["k"]
    log_w = np.array([log_within(G, by_rank(G, k), k) for k in ks])
    ref_log_w = np.array([[log_within(Zb, by_rank(Zb, k), k) for k in ks]
                          for Zb in (sets[sets[:, 0] == b, 1:] for b in range(1, B + 1))])
    gap, se = gap_statistic(log_w, ref_log_w)
    # clusGap's W_k is 0.5 * sum_r sum_{i < i'} d^2 / n_r, half of eq. 2 (which sums ordered pairs):
    # its log W_k is ours - log 2 and the gap is the same
    np.testing.assert_allclose(log_w - np.log(2.0), ref["logW"], rtol=1e-13)
    np.testing.assert_allclose(ref_log_w.mean(axis=0) - np.log(2.0), ref["E.logW"], rtol=1e-13)
    np.testing.assert_allclose(gap, ref["gap"], rtol=1e-11, atol=1e-13)
    # clusGap's SE.sim takes var() (divisor B - 1); step 3 of Tibshirani et al. (2001) divides by B
    np.testing.assert_allclose(se, np.asarray(ref["SE.sim"]) * np.sqrt((B - 1) / B), rtol=1e-12)


def test_gap_reference_is_uniform_in_the_principal_box():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(400, 2)) @ np.array([[3.0, 1.0], [0.0, 0.5]])
    ref = gap_reference(Z, np.random.default_rng(2))
    mean = Z.mean(axis=0)
    _, _, vt = np.linalg.svd(Z - mean, full_matrices=False)
    R, Rr = (Z - mean) @ vt.T, (ref - mean) @ vt.T
    assert (Rr.min(axis=0) >= R.min(axis=0) - 1e-9).all() and (Rr.max(axis=0) <= R.max(axis=0) + 1e-9).all()
    # uniform: each rotated coordinate spreads over its box (variance of a uniform = range^2 / 12)
    np.testing.assert_allclose(Rr.var(axis=0), (R.max(axis=0) - R.min(axis=0)) ** 2 / 12, rtol=0.2)


def _table(sil, ch, db, gap, gap_se, jac, ps, gap1=(0.0, 0.01)):
    ks = range(2, 2 + len(sil))
    t = pd.DataFrame({"silhouette": sil, "calinski_harabasz": ch, "davies_bouldin": db, "gap": gap,
                      "gap_se": gap_se, "bic": np.nan, "jaccard_min": jac, "jaccard_mean": jac, "n_dissolved": 0,
                      "prediction_strength": ps, "prediction_strength_se": 0.01, "within_ss": 1.0},
                     index=pd.Index(ks, name="k"))
    t.attrs["gap_k1"] = gap1
    return t


def test_decision_does_not_follow_silhouette_alone():
    # silhouette peaks at 2 (as on real typology data); the other indices and stability point to 4
    t = _table(sil=[0.60, 0.50, 0.55, 0.40, 0.35], ch=[300, 400, 900, 850, 800], db=[0.9, 0.8, 0.5, 0.7, 0.9],
               gap=[0.5, 0.8, 1.5, 1.52, 1.55], gap_se=[0.03] * 5, jac=[0.95, 0.9, 0.86, 0.6, 0.5],
               ps=[0.99, 0.9, 0.85, 0.6, 0.5])
    k, reason, out, flags = decide(t)
    assert k == 4 and not flags["weak"]
    assert out.loc[4, "votes"] == 4 and out.loc[2, "votes"] == 1
    assert out.loc[4, "voted_by"] == "calinski_harabasz, davies_bouldin, gap, prediction_strength"
    assert list(out.loc[out["admissible"]].index) == [2, 3, 4]
    assert "Runner-up k = 2" in reason and "k = 5 (weakest type's Jaccard 0.60)" in reason


def test_unstable_k_cannot_win_however_many_indices_favour_it():
    t = _table(sil=[0.3, 0.4, 0.7], ch=[100, 200, 900], db=[1.0, 0.9, 0.3], gap=[0.2, 0.3, 1.0],
               gap_se=[0.01] * 3, jac=[0.9, 0.8, 0.7], ps=[0.9, 0.85, 0.9])
    k, _, out, _ = decide(t)
    assert k == 3 and not out.loc[4, "admissible"] and out.loc[4, "votes"] == 0


def test_majority_and_abstentions():
    # silhouette -> 2, CH -> 2, DB -> 3; gap abstains (its rule stops at k = 1); no k reaches PS 0.8
    t = _table(sil=[0.7, 0.5], ch=[300, 200], db=[1.0, 0.9], gap=[0.2, 0.1], gap_se=[0.05, 0.05],
               jac=[0.8, 0.9], ps=[0.7, 0.7], gap1=(1.0, 0.01))
    k, reason, out, flags = decide(t)
    assert (out.loc[2, "votes"], out.loc[3, "votes"]) == (2, 1) and k == 2
    # gap(1) = 1.0 >= gap(2) - s_2 = 0.15: the gap statistic sees a single group
    assert flags["no_structure"] and "no clustering structure" in reason
    assert "k = 2 gets 2 of 5 votes" in reason


def test_equal_votes_go_to_the_more_stable_k_then_the_smaller():
    # silhouette -> 2, CH -> 3, DB -> 3, prediction strength (largest k >= 0.8) -> 2: two votes each
    t = _table(sil=[0.7, 0.5], ch=[100, 200], db=[1.0, 0.9], gap=[0.2, 0.1], gap_se=[0.05, 0.05],
               jac=[0.8, 0.9], ps=[0.85, 0.7], gap1=(1.0, 0.01))
    k, reason, out, _ = decide(t)
    assert out.loc[2, "votes"] == out.loc[3, "votes"] == 2
    assert k == 3 and "The tie goes to k = 3, the more stable" in reason
    t.loc[2, "jaccard_min"] = 0.9
    k, reason, _, _ = decide(t)
    assert k == 2 and "then the smaller k" in reason


def test_no_admissible_k_takes_the_least_unstable_and_says_so():
    t = _table(sil=[0.3, 0.31, 0.32], ch=[10, 11, 12], db=[1.5, 1.4, 1.3], gap=[0.1, 0.1, 0.1],
               gap_se=[0.01] * 3, jac=[0.7, 0.6, 0.5], ps=[0.6, 0.5, 0.4], gap1=(0.2, 0.01))
    k, reason, _, flags = decide(t)
    assert flags["weak"] and k == 2
    assert reason.startswith("No k in 2..4 gives only stable types")
    assert "no candidate k reaches prediction strength 0.8" in reason.lower()


def test_evaluate_on_blobs_and_on_uniform_data():
    rng = np.random.default_rng(3)
    centers = np.array([[0, 0], [7, 0], [0, 7]])
    blobs = np.vstack([rng.normal(c, 1.0, (40, 2)) for c in centers])
    ev = evaluate(blobs, range(2, 6), "kmeans", "full", 5, 20, 10, 4, entropy=5)
    k, reason, out, flags = decide(ev.table)
    assert k == 3 and not flags["weak"] and not flags["no_structure"] and out.loc[3, "votes"] == 5
    assert ev.boot_jaccard[3].shape == (20, 3) and ev.boot_mapped[3].shape == (20, 120)
    cube = np.random.default_rng(4).uniform(size=(120, 3))
    ev2 = evaluate(cube, range(2, 6), "kmeans", "full", 5, 20, 10, 4, entropy=5)
    k2, reason2, out2, flags2 = decide(ev2.table)
    assert flags2["no_structure"] and "no clustering structure (k = 1)" in reason2
    assert (out2["prediction_strength"] < 0.8).all()


def test_without_bootstraps_every_k_is_admissible():
    t = _table(sil=[0.3, 0.7], ch=[10, 20], db=[1.0, 0.5], gap=[0.1, 0.5], gap_se=[0.01, 0.01],
               jac=[np.nan, np.nan], ps=[np.nan, np.nan], gap1=(0.0, 0.01))
    k, reason, out, flags = decide(t)
    assert k == 3 and not flags["weak"] and out["admissible"].all()
    assert reason.startswith("Stability not assessed") and "Jaccard" not in reason.split(".")[-2]
