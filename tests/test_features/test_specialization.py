"""Specialization indices against hand computations from the published formulas.

The worked example (3 towns x 3 sectors, rows sum to 40, 60, 100; column totals 50, 60, 90 of
200, so the default reference is S = (0.25, 0.30, 0.45)) is computed by hand in the comments
(those numbers stay inline: the test shows the arithmetic); EconGeo's and REAT's values for the
same matrix are in results/r_results.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features.specialization import (
    hachman,
    hhi,
    krugman,
    leading_sector,
    location_quotient,
    ogive,
    theil_specialization,
)

R = json.loads((Path(__file__).resolve().parent / "results" / "r_results.json").read_text(encoding="utf-8"))
# EconGeo 2.0 / REAT 3.0.3 on R 4.2.2 (results/README.md)


@pytest.fixture
def E():
    return pd.DataFrame(
        [[10.0, 0.0, 30.0], [30.0, 30.0, 0.0], [10.0, 30.0, 60.0]],
        index=pd.Index(["t1", "t2", "t3"], name="town_id"),
        columns=pd.Index(["A", "B", "C"], name="sector"),
    )


def test_location_quotient_hand(E):
    # s1 = (.25, 0, .75), s2 = (.5, .5, 0), s3 = (.1, .3, .6); S = (.25, .3, .45)
    expected = [[1.0, 0.0, 0.75 / 0.45], [2.0, 0.5 / 0.3, 0.0], [0.4, 1.0, 0.6 / 0.45]]
    lq = location_quotient(E)
    assert lq.index.equals(E.index) and lq.columns.equals(E.columns)
    assert_allclose(lq.to_numpy(), expected, rtol=1e-14)


def test_econgeo_and_reat_on_the_worked_example(E):
    # EconGeo::location_quotient, krugman_index, hachman, herfindahl; REAT::herf(coefnorm = TRUE)
    # and REAT::krugman.spec(town, rest of the towns) on the same 3 x 3 matrix
    assert_allclose(location_quotient(E).to_numpy(), R["location_quotient"], rtol=1e-14)
    assert_allclose(krugman(E).to_numpy(), R["krugman_index"], rtol=1e-14)
    assert_allclose(hachman(E).to_numpy(), R["hachman"], rtol=1e-14)
    assert_allclose(hhi(E).to_numpy(), R["herfindahl"], rtol=1e-14)
    assert_allclose(hhi(E, normalized=True).to_numpy(), R["herf_norm"], rtol=1e-13)
    assert_allclose(krugman(E, against="rest").to_numpy(), R["krugman_spec_rest"], rtol=1e-14)


def test_location_quotient_weighted_means_are_one(E):
    lq = location_quotient(E).to_numpy()
    e_r = E.sum(axis=1).to_numpy()
    S = E.sum().to_numpy() / E.to_numpy().sum()
    # employment-weighted mean over towns of each sector's LQ = 1 (default reference)
    assert_allclose((e_r[:, None] / e_r.sum() * lq).sum(axis=0), 1.0, rtol=1e-14)
    # reference-share-weighted mean over sectors of each town's LQ = 1
    assert_allclose((S[None, :] * lq).sum(axis=1), 1.0, rtol=1e-14)


def test_krugman_hand(E):
    # |s - S| summed: t1 0 + .3 + .3; t2 .25 + .2 + .45; t3 .15 + 0 + .15
    assert_allclose(krugman(E).to_numpy(), [0.6, 0.9, 0.3], rtol=1e-14)


def test_krugman_against_rest_hand(E):
    # rest of t1: (40, 60, 60)/160; of t2: (20, 30, 90)/140; of t3: (40, 30, 30)/100
    rest2 = np.array([20, 30, 90]) / 140
    expected = [0.0 + 0.375 + 0.375, np.abs(np.array([0.5, 0.5, 0.0]) - rest2).sum(), 0.3 + 0.0 + 0.3]
    assert_allclose(krugman(E, against="rest").to_numpy(), expected, rtol=1e-14)
    with pytest.raises(ValueError, match="rest"):
        krugman(E, against="rest", reference=pd.Series({"A": 1, "B": 1, "C": 1}))
    with pytest.raises(ValueError, match="against"):
        krugman(E, against="nation")


def test_hhi_raw_and_normalized_hand(E):
    # H: .25^2 + .75^2 = .625; .5^2 * 2 = .5; .01 + .09 + .36 = .46; k = 3
    assert_allclose(hhi(E).to_numpy(), [0.625, 0.5, 0.46], rtol=1e-14)
    assert_allclose(hhi(E, normalized=True).to_numpy(),
                    [(0.625 - 1 / 3) / (2 / 3), 0.25, (0.46 - 1 / 3) / (2 / 3)], rtol=1e-13)
    assert hhi(E, normalized=True).name == "hhi_norm"


def test_hhi_k_counts_every_column(E):
    # a sector nobody has still counts in k: k = 4, H unchanged
    E4 = E.assign(D=0.0)
    assert_allclose(hhi(E4).to_numpy(), hhi(E).to_numpy())
    assert_allclose(hhi(E4, normalized=True).to_numpy(), (hhi(E).to_numpy() - 0.25) / 0.75, rtol=1e-14)
    assert hhi(E[["A"]], normalized=True).isna().all()  # k = 1: undefined


def test_theil_hand(E):
    expected = [
        0.75 * math.log(0.75 / 0.45),
        0.5 * math.log(2.0) + 0.5 * math.log(0.5 / 0.3),
        0.1 * math.log(0.4) + 0.6 * math.log(0.6 / 0.45),
    ]
    assert_allclose(theil_specialization(E).to_numpy(), expected, rtol=1e-14)


def test_hachman_hand(E):
    # 1 / sum s^2 / S: t1 1 / (.25 + 1.25); t2 1 / (1 + .25/.3); t3 1 / (.04 + .3 + .8)
    expected = [1 / 1.5, 1 / (1 + 0.25 / 0.3), 1 / 1.14]
    assert_allclose(hachman(E).to_numpy(), expected, rtol=1e-14)
    # Hachman = 1 / share-weighted mean LQ
    s = E.div(E.sum(axis=1), axis=0)
    assert_allclose(hachman(E).to_numpy(), 1 / (s * location_quotient(E)).sum(axis=1).to_numpy(), rtol=1e-14)


def test_ogive_hand(E):
    # k = 3: sum (s - 1/3)^2 * 3
    expected = [
        3 * ((0.25 - 1 / 3) ** 2 + (1 / 3) ** 2 + (0.75 - 1 / 3) ** 2),
        3 * (2 * (0.5 - 1 / 3) ** 2 + (1 / 3) ** 2),
        3 * ((0.1 - 1 / 3) ** 2 + (0.3 - 1 / 3) ** 2 + (0.6 - 1 / 3) ** 2),
    ]
    assert_allclose(ogive(E).to_numpy(), expected, rtol=1e-13)
    assert_allclose(expected, [0.875, 0.5, 0.38], rtol=1e-13)
    # extremes: equal shares -> 0, one sector -> k - 1
    assert ogive(pd.DataFrame([[5.0, 5.0, 5.0, 5.0]])).iloc[0] == pytest.approx(0.0, abs=1e-15)
    assert ogive(pd.DataFrame([[9.0, 0.0, 0.0, 0.0]])).iloc[0] == pytest.approx(3.0)


def test_leading_sector_hand(E):
    out = leading_sector(E)
    assert list(out.columns) == ["leading_sector", "lq_max", "leading_share", "n_specialized"]
    assert out["leading_sector"].tolist() == ["C", "A", "C"]
    assert_allclose(out["lq_max"].to_numpy(), [0.75 / 0.45, 2.0, 0.6 / 0.45], rtol=1e-14)
    assert_allclose(out["leading_share"].to_numpy(), [0.75, 0.5, 0.6])
    # LQ >= 1: t1 A (exactly 1) and C; t2 A and B; t3 B (exactly 1) and C
    assert out["n_specialized"].tolist() == [2, 2, 2]


def test_leading_sector_ties_go_to_the_larger_share():
    # both sectors have LQ 1 in t1 (it has the reference structure): the larger share wins
    E = pd.DataFrame({"A": [10.0, 20.0], "B": [30.0, 60.0]}, index=["t1", "t2"])
    assert leading_sector(E)["leading_sector"].tolist() == ["B", "B"]


def test_zero_employment_town_is_nan_never_zero(E):
    Ez = pd.concat([E, pd.DataFrame([[0.0, 0.0, 0.0], [np.nan, np.nan, np.nan]], index=["z0", "zs"],
                                    columns=E.columns)])
    for f in (krugman, hhi, theil_specialization, hachman, ogive):
        v = f(Ez)
        assert v.loc[["z0", "zs"]].isna().all(), f.__name__
        assert_allclose(v.loc[E.index].to_numpy(), f(E).to_numpy(), rtol=1e-14)  # zero rows change nothing
    assert location_quotient(Ez).loc[["z0", "zs"]].isna().all().all()
    lead = leading_sector(Ez)
    assert lead.loc[["z0", "zs"]].isna().all().all()
    assert hhi(Ez, normalized=True).loc[["z0", "zs"]].isna().all()


def test_zero_reference_share_gives_nan_lq(E):
    E4 = E.assign(D=0.0)
    lq = location_quotient(E4)
    assert lq["D"].isna().all()
    assert_allclose(lq[["A", "B", "C"]].to_numpy(), location_quotient(E).to_numpy())
    # sums over sectors are unaffected by an empty sector (0 ln 0 = 0, 0^2 / 0 = 0)
    for f in (krugman, theil_specialization, hachman):
        assert_allclose(f(E4).to_numpy(), f(E).to_numpy(), rtol=1e-14)


def test_external_reference_with_zero_share_where_town_is_active():
    E = pd.DataFrame({"A": [10.0, 0.0], "B": [5.0, 5.0]}, index=["t1", "t2"])
    ref = pd.Series({"A": 0.0, "B": 1.0})
    assert np.isnan(theil_specialization(E, reference=ref)["t1"])
    assert np.isnan(hachman(E, reference=ref)["t1"])
    assert theil_specialization(E, reference=ref)["t2"] == 0.0  # t2 has the reference structure
    assert hachman(E, reference=ref)["t2"] == 1.0
    assert np.isnan(location_quotient(E, reference=ref).loc["t1", "A"])


def test_reference_series_of_totals_equals_shares(E):
    tot = pd.Series({"A": 500.0, "B": 300.0, "C": 200.0})
    for f in (location_quotient, krugman, theil_specialization, hachman):
        a, b = f(E, reference=tot), f(E, reference=tot / tot.sum())
        assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-14)


def test_reference_dataframe_one_row_per_row(E):
    R = pd.DataFrame([[1.0, 1.0, 2.0]] * 3, index=E.index, columns=E.columns)
    assert_allclose(krugman(E, reference=R).to_numpy(),
                    krugman(E, reference=pd.Series([1.0, 1.0, 2.0], index=E.columns)).to_numpy(), rtol=1e-15)
    with pytest.raises(ValueError, match="lacks rows"):
        krugman(E, reference=R.iloc[:2])
    with pytest.raises(ValueError, match="lacks sector"):
        krugman(E, reference=pd.Series({"A": 1.0, "B": 1.0}))


def test_suppressed_cells_are_complete_cases(E):
    Es = E.copy()
    Es.loc["t1", "B"] = np.nan  # was 0: shares of t1 unchanged, the reference is restricted to A, C
    S = pd.Series([0.25, 0.3, 0.45], index=E.columns)
    S_ac = S[["A", "C"]] / S[["A", "C"]].sum()  # (.25, .45) / .7
    lq = location_quotient(Es)
    assert np.isnan(lq.loc["t1", "B"])
    assert_allclose(lq.loc["t1", ["A", "C"]].to_numpy(), [0.25 / S_ac["A"], 0.75 / S_ac["C"]], rtol=1e-14)
    # K = |.25 - .25/.7| + |.75 - .45/.7| = 2 * 0.75/7
    assert krugman(Es)["t1"] == pytest.approx(1.5 / 7, rel=1e-14)
    # rows without suppressed cells are untouched
    assert_allclose(krugman(Es).loc[["t2", "t3"]].to_numpy(), krugman(E).loc[["t2", "t3"]].to_numpy(), rtol=1e-15)
    # the index of a town with suppressed cells = the index of its published columns alone
    pub = Es.loc[["t1"], ["A", "C"]]
    for f in (krugman, theil_specialization, hachman):
        assert f(Es, reference=S)["t1"] == pytest.approx(f(pub, reference=S[["A", "C"]])["t1"], rel=1e-14)
    # the published share of a sector is never a zero in disguise
    assert hhi(Es)["t1"] == hhi(E)["t1"]


def test_missing_raise(E):
    Es = E.copy()
    Es.loc["t2", "C"] = np.nan
    for f in (location_quotient, krugman, hhi, theil_specialization, hachman, ogive, leading_sector):
        with pytest.raises(ValueError, match="suppressed"):
            f(Es, missing="raise")
    with pytest.raises(ValueError, match="missing must be"):
        hhi(E, missing="zero")


def test_bad_input_messages(E):
    with pytest.raises(TypeError, match="DataFrame"):
        hhi(E.to_numpy())
    with pytest.raises(ValueError, match="negative"):
        hhi(E.assign(A=[-1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="infinite"):
        hhi(E.assign(A=[np.inf, 2.0, 3.0]))
    with pytest.raises(ValueError, match="non-numeric"):
        hhi(E.assign(A=["a", "b", "c"]))


def test_inputs_are_not_mutated(E):
    before = E.copy()
    for f in (location_quotient, krugman, hhi, theil_specialization, hachman, ogive, leading_sector):
        f(E)
    pd.testing.assert_frame_equal(E, before)


def test_scaling_a_town_with_a_fixed_reference(E):
    ref = pd.Series({"A": 2.0, "B": 3.0, "C": 5.0})
    scaled = E.copy()
    scaled.loc["t2"] *= 7.3
    for f in (krugman, theil_specialization, hachman):
        assert_allclose(f(scaled, reference=ref).to_numpy(), f(E, reference=ref).to_numpy(), rtol=1e-14)
    assert_allclose(hhi(scaled).to_numpy(), hhi(E).to_numpy(), rtol=1e-14)
    assert_allclose(ogive(scaled).to_numpy(), ogive(E).to_numpy(), rtol=1e-14)
