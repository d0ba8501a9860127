"""Entropy and its decomposition into related and unrelated variety (Frenken et al. 2007)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features.diversification import (
    entropy,
    related_variety,
    unrelated_variety,
    variety_decomposition,
)

R = json.loads((Path(__file__).resolve().parent / "results" / "r_results.json").read_text(encoding="utf-8"))
# EconGeo 2.0 on R 4.2.2: see results/README.md


def _H(p):
    return -sum(x * math.log(x) for x in p if x > 0)


@pytest.fixture
def E():
    # divisions 01, 02 (section A), 05 (B), 10, 11 (C); town t1 shares .1 .3 .2 .25 .15
    return pd.DataFrame(
        [[10.0, 30.0, 20.0, 25.0, 15.0], [0.0, 0.0, 50.0, 0.0, 0.0], [5.0, 5.0, 5.0, 5.0, 5.0]],
        index=["t1", "t2", "t3"],
        columns=["01", "02", "05", "10", "11"],
    )


def test_entropy_hand(E):
    h = entropy(E)
    assert h["t1"] == pytest.approx(_H([0.1, 0.3, 0.2, 0.25, 0.15]), rel=1e-14)
    assert h["t1"] == pytest.approx(1.5444795, rel=1e-7)  # -sum s ln s written out (a hand computation)
    assert h["t2"] == 0.0  # one sector
    assert h["t3"] == pytest.approx(math.log(5), rel=1e-14)  # equal shares: ln k


def test_entropy_base(E):
    assert_allclose(entropy(E, base=2).to_numpy(), entropy(E).to_numpy() / math.log(2), rtol=1e-14)
    assert entropy(E, base=2)["t3"] == pytest.approx(math.log2(5), rel=1e-14)
    # EconGeo::entropy(mat): -rowSums(freqs * log2(freqs + 1e-9)), rounded to 3 digits
    assert_allclose(entropy(E, base=2).to_numpy(), R["entropy_bits"], atol=6e-4)
    for bad in (1, 0, -2, float("inf")):
        with pytest.raises(ValueError, match="base"):
            entropy(E, base=bad)


def test_related_unrelated_variety_hand(E):
    # section shares P = (.4, .2, .4); within A (.25, .75), within C (.625, .375)
    uv = _H([0.4, 0.2, 0.4])
    rv = 0.4 * _H([0.25, 0.75]) + 0.2 * 0.0 + 0.4 * _H([0.625, 0.375])
    assert unrelated_variety(E)["t1"] == pytest.approx(uv, rel=1e-14)
    assert related_variety(E)["t1"] == pytest.approx(rv, rel=1e-14)
    assert uv == pytest.approx(1.0549201, rel=1e-7)
    assert rv == pytest.approx(0.4895594, rel=1e-6)
    # t3: equal shares, P = (.4, .2, .4), ln 2 within A and C
    assert related_variety(E)["t3"] == pytest.approx(0.8 * math.log(2), rel=1e-14)


def test_related_plus_unrelated_is_entropy_exactly(E):
    d = variety_decomposition(E)
    assert (d["related_variety"] + d["unrelated_variety"] == d["entropy"]).all()
    assert d["entropy"].equals(entropy(E).rename("entropy"))
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.gamma(0.5, 10.0, (500, 5)) * (rng.random((500, 5)) < 0.7), columns=E.columns)
    d = variety_decomposition(X)
    ok = d["entropy"].notna()
    assert (d.loc[ok, "related_variety"] + d.loc[ok, "unrelated_variety"] == d.loc[ok, "entropy"]).all()
    assert (d.loc[ok, "related_variety"] >= 0).all() and (d.loc[ok, "unrelated_variety"] >= 0).all()


def test_sections_only_have_no_related_variety():
    E = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["A", "B", "C"])
    d = variety_decomposition(E)
    assert d["related_variety"].iloc[0] == 0.0
    assert d["unrelated_variety"].iloc[0] == d["entropy"].iloc[0]


def test_custom_hierarchy(E):
    # a user grouping: {01, 02, 05} and {10, 11}
    mapping = {"01": "g1", "02": "g1", "05": "g1", "10": "g2", "11": "g2"}
    table = pd.DataFrame({"sector": list(mapping), "section": list(mapping.values())})
    uv = _H([0.6, 0.4])
    rv = 0.6 * _H([1 / 6, 3 / 6, 2 / 6]) + 0.4 * _H([0.625, 0.375])
    for h in (mapping, pd.Series(mapping), table):
        assert unrelated_variety(E, h)["t1"] == pytest.approx(uv, rel=1e-14)
        assert related_variety(E, h)["t1"] == pytest.approx(rv, rel=1e-14)
    with pytest.raises(ValueError, match="no section known"):
        related_variety(pd.DataFrame([[1.0]], columns=["XX"]))


def test_zero_and_suppressed_rows(E):
    Ez = pd.concat([E, pd.DataFrame([[0.0] * 5, [np.nan] * 5], index=["z", "s"], columns=E.columns)])
    d = variety_decomposition(Ez)
    assert d.loc[["z", "s"]].isna().all().all()
    # a suppressed cell is left out of the shares, not counted as 0
    Es = E.copy()
    Es.loc["t1", "05"] = np.nan
    assert entropy(Es)["t1"] == pytest.approx(_H(np.array([10, 30, 25, 15]) / 80), rel=1e-14)
    with pytest.raises(ValueError, match="suppressed"):
        entropy(Es, missing="raise")
