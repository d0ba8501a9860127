"""Shift-share (Dunn 1960) and its Esteban-Marquillas (1972) split, by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features.dynamics import annualized_growth, shift_share

R = json.loads((Path(__file__).resolve().parent / "results" / "r_results.json").read_text(encoding="utf-8"))
# REAT 3.0.3 on R 4.2.2 (results/README.md)

SECT = ["A", "B", "C"]


@pytest.fixture
def example():
    # town: A 100 -> 120, B 50 -> 40, C 0 -> 10; nation: 1000 -> 1100, 1000 -> 900, 500 -> 600
    s = lambda v: pd.Series(v, index=SECT, dtype=float)  # noqa: E731
    return s([100, 50, 0]), s([120, 40, 10]), s([1000, 1000, 500]), s([1100, 900, 600])


def test_dunn_hand(example):
    r = shift_share(*example)
    # g = 2600/2500 - 1 = .04, g_s = (.1, -.1, .2)
    assert r["national_share"] == pytest.approx(150 * 0.04)  # 6
    assert r["industry_mix"] == pytest.approx(100 * (0.1 - 0.04) + 50 * (-0.1 - 0.04))  # -1
    assert r["competitive"] == pytest.approx((120 - 110) + (40 - 45) + 10)  # 15
    assert r["total_change"] == 20.0
    assert r["national_share"] + r["industry_mix"] + r["competitive"] == pytest.approx(r["total_change"], rel=1e-14)


def test_esteban_marquillas_hand(example):
    r = shift_share(*example, method="esteban-marquillas")
    # homothetic e* = 150 * (.4, .4, .2) = (60, 60, 30); g_r = (.2, -.2, new sector)
    assert r["homothetic_competitive"] == pytest.approx(60 * (0.2 - 0.1) + 60 * (-0.2 + 0.1), abs=1e-12)  # 0
    assert r["allocation"] == pytest.approx((100 - 60) * 0.1 + (50 - 60) * (-0.1) + 10)  # 15: C is new
    assert r["homothetic_competitive"] + r["allocation"] == pytest.approx(r["competitive"], rel=1e-14)


def test_dunn_and_esteban_marquillas_match_reat(example):
    # REAT::shift(e0, e1, n0, n1, shift.method = "Dunn" / "Esteban") on sectors A and B (REAT's
    # regional share is 0 * Inf = NaN for a sector new to the town): growth, national share,
    # industrial mix, regional share, net total shift / allocation effect
    r0, r1, n0, n1 = (x[["A", "B"]] for x in example)
    dunn, em = R["shift_dunn"], R["shift_esteban"]
    r = shift_share(r0, r1, n0, n1, method="esteban-marquillas")
    assert r["total_change"] == pytest.approx(dunn[0], abs=1e-12)
    assert r["national_share"] == pytest.approx(dunn[1], abs=1e-12)
    assert r["industry_mix"] == pytest.approx(dunn[2], abs=1e-12)
    assert r["competitive"] == pytest.approx(dunn[3], abs=1e-12)
    assert r["homothetic_competitive"] == pytest.approx(em[3], abs=1e-12)
    assert r["allocation"] == pytest.approx(em[4], abs=1e-12)


def test_zero_safe_sector_new_nationally(example):
    r0, r1, n0, n1 = example
    n0 = n0.copy()
    n0["C"] = 0.0  # C did not exist in the base year; g_C := 0, the town's C jobs are competitive
    r = shift_share(r0, r1, n0, n1)
    g = n1.sum() / n0.sum() - 1
    assert r["national_share"] == pytest.approx(150 * g)
    assert r["industry_mix"] == pytest.approx(100 * (0.1 - g) + 50 * (-0.1 - g))
    assert r["competitive"] == pytest.approx(10 - 5 + 10)
    assert r["national_share"] + r["industry_mix"] + r["competitive"] == pytest.approx(20.0, rel=1e-14)
    assert np.isfinite(r.to_numpy()).all()


def test_empty_nation_is_undefined():
    z = pd.Series([0.0, 0.0], index=["A", "B"])
    r = shift_share(z, pd.Series([1.0, 0.0], index=["A", "B"]), z, pd.Series([5.0, 5.0], index=["A", "B"]))
    assert np.isnan(r["industry_mix"]) and np.isnan(r["competitive"])
    assert r["total_change"] == 1.0


def test_suppressed_sector_left_out_of_both_years(example):
    r0, r1, n0, n1 = example
    r1 = r1.copy()
    r1["B"] = np.nan
    r = shift_share(r0, r1, n0, n1)
    assert r["total_change"] == (120 + 10) - 100
    assert r["national_share"] == pytest.approx(100 * 0.04)
    assert r["national_share"] + r["industry_mix"] + r["competitive"] == pytest.approx(30.0, rel=1e-14)


def test_dataframe_rows_match_series(example):
    r0, r1, n0, n1 = example
    rng = np.random.default_rng(3)
    R0 = pd.DataFrame(rng.integers(0, 50, (6, 3)).astype(float), columns=SECT)
    R1 = pd.DataFrame(rng.integers(0, 50, (6, 3)).astype(float), columns=SECT)
    N0 = pd.DataFrame(np.tile(n0.to_numpy(), (6, 1)), columns=SECT)
    out = shift_share(R0, R1, N0, n1, method="esteban-marquillas")
    assert list(out.columns) == ["national_share", "industry_mix", "competitive", "total_change",
                                 "homothetic_competitive", "allocation"]
    for i in range(6):
        one = shift_share(R0.iloc[i], R1.iloc[i], n0, n1, method="esteban-marquillas")
        assert_allclose(out.iloc[i].to_numpy(), one.to_numpy(), rtol=1e-14)
    s = out["national_share"] + out["industry_mix"] + out["competitive"]
    assert_allclose(s.to_numpy(), out["total_change"].to_numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose((out["homothetic_competitive"] + out["allocation"]).to_numpy(), out["competitive"].to_numpy(),
                    rtol=1e-12, atol=1e-12)


def test_bad_inputs(example):
    r0, r1, n0, n1 = example
    with pytest.raises(ValueError, match="method"):
        shift_share(r0, r1, n0, n1, method="arcelus")
    with pytest.raises(ValueError, match="same sectors"):
        shift_share(r0, r1[["B", "A", "C"]], n0, n1)
    with pytest.raises(ValueError, match="negative"):
        shift_share(-r0, r1, n0, n1)
    with pytest.raises(ValueError, match="national"):
        shift_share(r0, r1, n0.where(n0 > 600), n1)
    with pytest.raises(TypeError):
        shift_share(r0.to_numpy(), r1, n0, n1)


def test_annualized_growth():
    g = annualized_growth([100.0, 100.0, 0.0, 100.0, np.nan], [121.0, 50.0, 10.0, 100.0, 5.0], [2, 3, 1, 0, 1])
    assert g[0] == pytest.approx(100 * math.log(1.21) / 2)
    assert g[1] == pytest.approx(100 * math.log(0.5) / 3)
    assert np.isnan(g[2:]).all()  # level 0, zero years, missing level
