"""Clustering optima: k-means reaches R's best partitions; degenerate Gaussian mixtures get no vote.

Defects pinned here: with 10 k-means++ starts and Lloyd's algorithm the full-data fit of the
default typology input missed the best partition for k >= 7 (``W_10`` = 68.41 where R finds
66.09), biasing the gap statistic at large k; a Gaussian mixture with a singular full covariance
had a finite BIC through ``reg_covar`` and won the BIC vote where mclust returns NA.
"""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from typology import TownTypology, TypologyWarning, town_rows
from typology.estimator.clustering import cluster, hartigan, lloyd, within_ss
from typology.estimator.selection import decide, evaluate

DEFAULT_FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]

# Reference values computed with R (data/r/references.json: R 4.2.2, mclust 6.0.0; the script is
# data/r/references.R, its inputs are written by make_r_references.py).
# kmeans_best_tot_withinss: stats::kmeans (Hartigan-Wong), the best tot.withinss over set.seed(1..20)
# of kmeans(Z, k, nstart = 200, iter.max = 100) on Z = typology_input_z.csv, the model-space matrix
# of the typology input below (TownTypology's transforms and scaling, rows in town_id order). A
# single nstart = 200 run reaches these values in 20/20 seeds for k <= 7, 18/20 at k = 8, 13/20 at
# k = 9, 14/20 at k = 10 (set.seed(1) gives 66.5085255001 at k = 10; measure_kmeans_restarts.py).
R_DIR = Path(__file__).with_name("data") / "r"
R_REF = json.loads((R_DIR / "references.json").read_text(encoding="utf-8"))
R_BEST_WK = dict(zip(R_REF["kmeans_best_tot_withinss"]["k"], R_REF["kmeans_best_tot_withinss"]["value"],
                     strict=True))


@pytest.fixture(scope="module")
def typed(synthetic, synthetic_features):
    """The issue's typology input: last year, typed towns only, the default features (300 towns)."""
    truth = pd.Series(synthetic.truth["town_types"])
    towns = truth.index[~truth.isin(["core", "rural"])]
    return town_rows(synthetic_features, "last", sample=towns)[DEFAULT_FEATURES]


def test_rs_input_is_the_typologys_model_space(typed):
    typ = TownTypology(n_types=2, n_init=1, n_boot=0, n_ref=0, n_ps=0, random_state=0).fit(typed)
    rows = typed.iloc[np.argsort(np.asarray(typed.index.astype(str)), kind="stable")].to_numpy(dtype=float)
    Z = typ.transform_plan_.transform(rows, clip=False)[0]
    np.testing.assert_array_equal(Z, np.loadtxt(R_DIR / "typology_input_z.csv", delimiter=","))


@pytest.mark.parametrize("random_state", [0, 1, 2, 3])
def test_full_data_within_ss_equals_rs_best(typed, random_state):
    typ = TownTypology(random_state=random_state, n_boot=0, n_ref=0, n_ps=0).fit(typed)
    w = typ.selection_["within_ss"]
    expected = pd.Series(R_BEST_WK)
    np.testing.assert_allclose(w.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-6)


def test_hartigan_transfer_leaves_a_lloyd_fixed_point():
    # {-1, 1} | {2.9} is a fixed point of Lloyd's algorithm (1 is nearer 0 than 2.9), W = 2;
    # moving 1 to the other type lowers W by 1/2 * 1.9^2 - 2/1 * 1^2 = -0.195 (Hartigan & Wong 1979)
    Z = np.array([[-1.0], [1.0], [2.9]])
    start = np.array([[[0.0], [2.9]]])
    C, w = lloyd(Z, start, tol=0.0)
    assert w[0] == pytest.approx(2.0)
    C, w = hartigan(Z, C)
    assert w[0] == pytest.approx(2.0 - 0.195)
    best = min(within_ss(Z, np.array(lab), 2) for lab in itertools.product([0, 1], repeat=3) if len(set(lab)) == 2)
    assert w[0] == pytest.approx(best)  # the global optimum of the three points


def test_hartigan_partitions_admit_no_improving_transfer():
    rng = np.random.default_rng(5)
    Z = np.vstack([rng.normal(c, 1.0, (25, 2)) for c in ([0, 0], [3, 0], [0, 3], [3, 3])])
    starts = Z[rng.choice(len(Z), (6, 5), replace=True)]
    C0, w0 = lloyd(Z, starts)
    C, w = hartigan(Z, C0)
    assert (w <= w0 + 1e-9).all()
    for r in range(len(C)):
        lab = ((Z[:, None, :] - C[r][None]) ** 2).sum(axis=2).argmin(axis=1)
        assert within_ss(Z, lab, 5) == pytest.approx(w[r], rel=1e-12)
        for i in range(len(Z)):  # brute force: every single transfer, W recomputed from scratch
            if (lab == lab[i]).sum() == 1:
                continue
            for b in range(5):
                if b != lab[i]:
                    moved = lab.copy()
                    moved[i] = b
                    assert within_ss(Z, moved, 5) >= w[r] - 1e-9


def test_kmeans_at_ks_does_not_depend_on_the_other_ks(typed):
    """The k are fitted in increasing order; the partition at k is the same for any k_range."""
    a = TownTypology(n_types=6, random_state=3, n_boot=0, n_ref=0, n_ps=0).fit(typed)
    b = TownTypology(k_range=(2, 8), random_state=3, n_boot=0, n_ref=0, n_ps=0).fit(typed)
    assert a.selection_.loc[6, "within_ss"] == b.selection_.loc[6, "within_ss"]


# ---------------------------------------------------------------- degenerate Gaussian mixtures
def _line_and_blobs() -> np.ndarray:
    """Three Gaussian blobs in 3-D and twelve towns on a line (two coordinates constant): the
    matrix R read (written by make_r_references.line_and_blobs, every double exactly)."""
    return np.loadtxt(R_DIR / "line_and_blobs.csv", delimiter=",")


# mclust_bic_vvv: mclustBIC(L, G = 1:6, modelNames = "VVV")[, "VVV"] on L = line_and_blobs.csv
# (data/r/references.json: R 4.2.2, mclust 6.0.0). mclust's BIC is -BIC; null (NA): a singular
# covariance; EEE and VII are finite at G = 4..6.
MCLUST_VVV = dict(zip(R_REF["mclust_bic_vvv"]["G"], R_REF["mclust_bic_vvv"]["value"], strict=True))


def test_degenerate_mixture_gets_no_bic_vote():
    Z = _line_and_blobs()
    ev = evaluate(Z, range(2, 7), "gmm", "full", 3, 0, 0, 0, entropy=1)
    # the twelve collinear towns make a component whose covariance is singular without reg_covar
    bad = [k for k in range(2, 7) if MCLUST_VVV[k] is None]
    assert ev.table["degenerate"].to_dict() == {k: k in bad for k in range(2, 7)}
    assert ev.table.loc[bad, "bic"].isna().all()  # as mclust: no BIC
    assert ev.table.loc[3, "bic"] == pytest.approx(-MCLUST_VVV[3], rel=1e-6)  # same optimum, BIC sign flipped
    raw = ev.partitions[4].bic(Z)
    assert raw < ev.table["bic"].min()  # reg_covar's finite BIC would have won the vote at k = 4
    k, reason, table, flags = decide(ev.table, use_bic=True)
    assert "bic" in table.at[3, "voted_by"] and k == 3
    assert not table.loc[bad, "admissible"].any() and (table.loc[bad, "votes"] == 0).all()
    assert "k = 4, 5, 6" in reason and "degenerate" in reason and not flags["degenerate"]


def test_a_regular_mixture_is_not_degenerate():
    Z = _line_and_blobs()[:180]  # the three blobs only
    for cov in ("full", "tied", "diag", "spherical"):
        assert cluster(Z, 3, "gmm", seeds=[1, 2], covariance_type=cov).degenerate(len(Z)) == ""


def test_fixed_k_with_a_degenerate_mixture_warns():
    Z = pd.DataFrame(_line_and_blobs(), columns=["a", "b", "c"],
                     index=pd.Index([f"t{i:03d}" for i in range(192)], name="town_id"))
    with pytest.warns(TypologyWarning, match="degenerate"):
        typ = TownTypology(method="gmm", n_types=4, feature_transform=None, random_state=0, n_boot=0, n_ref=0,
                           n_ps=0).fit(Z)
    assert bool(typ.selection_.loc[4, "degenerate"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TypologyWarning)
        auto = TownTypology(method="gmm", k_range=(2, 6), feature_transform=None, random_state=0, n_boot=0, n_ref=0,
                            n_ps=0).fit(Z)
    assert auto.n_types_ not in (4, 5, 6) and auto.selection_.loc[4:6, "degenerate"].all()
    assert not auto.selection_.loc[4:6, "votes"].any()
