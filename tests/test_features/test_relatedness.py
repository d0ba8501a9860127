"""Proximity, relatedness density and promising sectors (Hidalgo et al. 2007)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features.relatedness import promising_sectors, proximity, rca, relatedness_density

R = json.loads((Path(__file__).resolve().parent / "results" / "r_results.json").read_text(encoding="utf-8"))
# EconGeo 2.0 on R 4.2.2: see results/README.md


@pytest.fixture
def M():
    # t1 and t3 specialized in A and B, t2 in A and C, t4 in C
    return pd.DataFrame([[1, 1, 0], [1, 0, 1], [1, 1, 0], [0, 0, 1]], index=["t1", "t2", "t3", "t4"],
                        columns=["A", "B", "C"], dtype=float)


def test_proximity_hand(M):
    # ubiquity (3, 2, 2); co-specialization AB 2, AC 1, BC 0
    phi = proximity(M)
    expected = [[0, min(2 / 3, 2 / 2), min(1 / 3, 1 / 2)], [2 / 3, 0, 0], [1 / 3, 0, 0]]
    assert_allclose(phi.to_numpy(), expected, rtol=1e-15)
    assert phi.index.equals(M.columns) and phi.columns.equals(M.columns)


def test_density_hand_and_econgeo(M):
    # column sums of phi: A 1, B 2/3, C 1/3
    d = relatedness_density(M)
    assert_allclose(d.loc["t1"].to_numpy(), [2 / 3, 1.0, 1.0], rtol=1e-15)
    assert_allclose(d.loc["t4"].to_numpy(), [1 / 3, 0.0, 0.0], rtol=1e-15)
    # EconGeo::relatedness_density(M, phi) with the hand proximity above: round(100 x density, 2)
    assert_allclose(np.round(100 * d.to_numpy(), 2), R["relatedness_density"], atol=1e-12)


def test_rca_from_employment():
    E = pd.DataFrame({"A": [30.0, 10.0, 0.0], "B": [10.0, 30.0, np.nan], "C": [0.0, 0.0, 0.0]},
                     index=["t1", "t2", "t3"])
    M = rca(E)
    # S = (.5, .5, 0) over published cells; t1 LQ A = 1.5, B = .5; t2 the reverse; C nowhere
    assert M.loc["t1"].tolist() == [1.0, 0.0, 0.0]
    assert M.loc["t2"].tolist() == [0.0, 1.0, 0.0]
    assert M.loc["t3"].isna().all()  # no published employment
    E.loc["t3", "A"] = 5.0
    M = rca(E)
    assert M.loc["t3", "A"] == 1.0 and np.isnan(M.loc["t3", "B"])  # suppressed: unknown
    with pytest.raises(ValueError, match="threshold"):
        rca(E, threshold=0)


def test_unknown_cells_are_left_out(M):
    Mn = M.copy()
    Mn.loc["t2", "B"] = np.nan
    phi = proximity(Mn)
    # P(A | B): towns in B with A known: t1, t3 -> 2/2; P(B | A): towns in A with B known: t1, t3 -> 2/2
    assert phi.loc["A", "B"] == pytest.approx(1.0)
    # P(A | C) over towns in C with A known (t2, t4) = 1/2; P(C | A) over towns in A with C known = 1/3
    assert phi.loc["A", "C"] == pytest.approx(1 / 3)
    d = relatedness_density(Mn)
    # t2 knows A and C only: density of B = (1 phi_AB + 1 phi_CB) / (phi_AB + phi_CB)
    assert d.loc["t2", "B"] == pytest.approx((phi.loc["A", "B"] + phi.loc["C", "B"]) / (phi.loc["A", "B"] + phi.loc["C", "B"]))
    with pytest.raises(ValueError, match="incidence"):
        proximity(M * 2)


def test_promising_sectors():
    E = pd.DataFrame([[50, 50, 0, 0], [50, 0, 50, 0], [40, 40, 0, 20], [0, 10, 0, 90], [0, 0, 60, 40]],
                     index=pd.Index(["t1", "t2", "t3", "t4", "t5"], name="town_id"),
                     columns=["A", "B", "C", "D"], dtype=float)
    out = promising_sectors(E, n=2)
    assert out.index.names == ["town_id", "rank"]
    assert list(out.columns) == ["sector", "density", "lq"]
    M = rca(E)
    D = relatedness_density(M)
    lq = (E.div(E.sum(axis=1), axis=0) / (E.sum() / E.to_numpy().sum()))
    for town, g in out.groupby(level="town_id"):
        cand = [s for s in E.columns if M.loc[town, s] == 0]
        ranked = sorted(cand, key=lambda s: (-D.loc[town, s], -lq.loc[town, s], list(E.columns).index(s)))[:2]
        assert g["sector"].tolist() == ranked
        assert (M.loc[town, g["sector"]] == 0).all()  # never a sector the town is specialized in
        assert_allclose(g["density"].to_numpy(), D.loc[town, ranked].to_numpy())
        assert g["density"].is_monotonic_decreasing
    assert promising_sectors(E, n=1).groupby(level="town_id").size().max() == 1
    assert (promising_sectors(E, n=4, min_density=0.5)["density"] >= 0.5).all()
    with pytest.raises(ValueError, match="positive integer"):
        promising_sectors(E, n=0)


def test_promising_never_proposes_a_suppressed_sector():
    E = pd.DataFrame([[50, 50, 0, 10], [10, np.nan, 50, 40], [40, 40, 20, 0], [30, 0, 30, 40], [0, 60, 10, 30]],
                     index=["t1", "t2", "t3", "t4", "t5"], columns=["A", "B", "C", "D"], dtype=float)
    full = promising_sectors(E.fillna(0.0), n=4).reset_index()
    assert ((full["town"] == "t2") & (full["sector"] == "B")).any()  # B would be proposed if it were a zero
    out = promising_sectors(E, n=4).reset_index()
    assert (out["town"] == "t2").any()
    assert not ((out["town"] == "t2") & (out["sector"] == "B")).any()
