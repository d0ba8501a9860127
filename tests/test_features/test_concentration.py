"""Concentration of sectors across towns: Hoover, locational Gini, Ellison-Glaeser."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features.concentration import ellison_glaeser, hoover, locational_gini, plant_herfindahl

R = json.loads((Path(__file__).resolve().parent / "results" / "r_results.json").read_text(encoding="utf-8"))
# EconGeo 2.0 / REAT 3.0.3 on R 4.2.2: see results/README.md


def test_hoover_econgeo_examples():
    # EconGeo::hoover_index(mat, pop) on its own example, reported as round(100 H, 2):
    # ind (0, 10, 10, 30, 50) against pop (10, 15, 20, 25, 30); industry 2 = pop; industry 3 all
    # in the last region; industry 4 in the last two
    pop = pd.Series([10.0, 15.0, 20.0, 25.0, 30.0], index=list("abcde"))
    mat = pd.DataFrame({"x": [0, 10, 10, 30, 50], "I2": [10, 15, 20, 25, 30], "I3": [0, 0, 0, 0, 1],
                        "I4": [0, 0, 0, 1, 1]}, index=pop.index, dtype=float)
    got = hoover(mat, reference=pop).to_numpy()
    assert_allclose(np.round(100 * got, 2), R["hoover_index"], atol=1e-12)
    assert_allclose(got, [0.25, 0.0, 0.70, 0.45], atol=1e-15)  # exactly, by hand: (|0 - .1| + ...) / 2


def test_hoover_default_and_uniform_reference():
    E = pd.DataFrame({"A": [1.0, 1.0, 2.0], "B": [3.0, 1.0, 0.0]}, index=["a", "b", "c"])
    # uniform: A shares (.25, .25, .5) vs 1/3 each -> (1/12 + 1/12 + 1/6) / 2 = 1/6
    assert hoover(E, reference="uniform")["A"] == pytest.approx(1 / 6, rel=1e-14)
    # default: each town's total employment (4, 2, 2)/8; B shares (.75, .25, 0)
    assert hoover(E)["B"] == pytest.approx(0.5 * (0.25 + 0.0 + 0.25), rel=1e-14)
    assert np.isnan(hoover(E.assign(C=0.0))["C"])  # a sector with no employment: NaN
    assert np.isnan(locational_gini(E.assign(C=0.0))["C"])
    with pytest.raises(ValueError, match="lacks town"):
        hoover(E, reference=pd.Series({"a": 1.0}))


def test_hoover_suppressed_cell_is_a_complete_case():
    pop = pd.Series([10.0, 15.0, 20.0, 25.0, 30.0], index=list("abcde"))
    E = pd.DataFrame({"x": [0, 10, np.nan, 30, 50]}, index=pop.index, dtype=float)
    kept = E.drop(index="c")
    assert hoover(E, reference=pop)["x"] == pytest.approx(hoover(kept, reference=pop.drop("c"))["x"], rel=1e-15)


def test_locational_gini_reat_example():
    # REAT::gini.conc example (Farhauer & Kroell 2013): 0.4068966 as printed
    E = pd.DataFrame({"i": [500.0, 500.0, 1000.0, 7000.0, 1000.0]})
    e_j = pd.Series([20000.0, 15000.0, 20000.0, 40000.0, 5000.0])
    assert locational_gini(E, reference=e_j, weighted=False)["i"] == pytest.approx(R["gini_conc"], rel=1e-13)


def test_locational_gini_weighted_hand():
    E = pd.DataFrame({"i": [500.0, 500.0, 1000.0, 7000.0, 1000.0]})
    e_j = pd.Series([20000.0, 15000.0, 20000.0, 40000.0, 5000.0])
    # towns already in LQ order; X steps (.2, .15, .2, .4, .05), cumulative Y (.05, .1, .2, .9, 1)
    area = 0.2 * 0.05 + 0.15 * (0.1 + 0.05) + 0.2 * (0.2 + 0.1) + 0.4 * (0.9 + 0.2) + 0.05 * (1 + 0.9)
    assert locational_gini(E, reference=e_j)["i"] == pytest.approx(1 - area, rel=1e-14)  # 0.3725
    assert 1 - area == pytest.approx(0.3725)


def test_locational_gini_econgeo_example():
    # EconGeo::locational_gini on its own example matrix: the area between the Lorenz curve and
    # the diagonal (shoelace formula), half our coefficient
    mat = pd.DataFrame([[100, 0, 0, 0, 0], [0, 15, 5, 70, 10], [0, 20, 10, 20, 50], [0, 25, 30, 5, 40],
                        [0, 40, 55, 5, 0]], index=[f"R{i}" for i in range(1, 6)],
                       columns=[f"I{i}" for i in range(1, 6)], dtype=float)
    g = locational_gini(mat)
    assert_allclose(g.to_numpy() / 2, R["locational_gini"], rtol=1e-12)
    # I1 sits in R1, 20 % of all jobs: the curve is flat to x = .8 then rises: G = 1 - .2 = .8
    assert g["I1"] == pytest.approx(0.8, rel=1e-14)


def test_spread_like_the_reference_is_zero():
    ref = pd.Series([5.0, 10.0, 20.0, 65.0])
    E = pd.DataFrame({"s": ref.to_numpy() * 3})
    assert hoover(E, reference=ref)["s"] == pytest.approx(0.0, abs=1e-15)
    assert locational_gini(E, reference=ref)["s"] == pytest.approx(0.0, abs=1e-15)
    assert locational_gini(E, reference=ref, weighted=False)["s"] == pytest.approx(0.0, abs=1e-15)


@pytest.fixture
def firms():
    # sector S1: firms of 10, 30 in town a and 10 in b; S2: 20 in b, 30 in c
    return pd.DataFrame({"firm_id": ["f1", "f2", "f3", "f4", "f5"], "town_id": ["a", "a", "b", "b", "c"],
                         "sector": ["S1", "S1", "S1", "S2", "S2"], "employees": [10.0, 30.0, 10.0, 20.0, 30.0]})


def test_plant_herfindahl_hand(firms):
    assert_allclose(plant_herfindahl(firms).to_numpy(), [0.04 + 0.36 + 0.04, 0.16 + 0.36], rtol=1e-14)


def test_ellison_glaeser_hand(firms):
    # x = (40, 30, 30)/100, sum x^2 = .34; S1: s = (.8, .2, 0), G = .16 + .01 + .09 = .26, H = .44
    eg = ellison_glaeser(firms)
    assert list(eg.columns) == ["n_firms", "employees", "G", "H", "gamma"]
    assert eg.loc["S1", "G"] == pytest.approx(0.26, rel=1e-14)
    assert eg.loc["S1", "gamma"] == pytest.approx((0.26 - 0.66 * 0.44) / (0.66 * 0.56), rel=1e-13)
    # S2: s = (0, .4, .6), G = .16 + .01 + .09 = .26, H = .52
    assert eg.loc["S2", "gamma"] == pytest.approx((0.26 - 0.66 * 0.52) / (0.66 * 0.48), rel=1e-13)
    assert eg["n_firms"].tolist() == [3, 2]
    # a reference that includes a town without firms (d) changes x
    ref = pd.Series({"a": 40.0, "b": 30.0, "c": 20.0, "d": 10.0})
    eg2 = ellison_glaeser(firms, town_employment=ref)
    x = ref / ref.sum()
    G = ((pd.Series({"a": 0.8, "b": 0.2, "c": 0.0, "d": 0.0}) - x) ** 2).sum()
    sx2 = (x**2).sum()
    assert eg2.loc["S1", "gamma"] == pytest.approx((G - (1 - sx2) * 0.44) / ((1 - sx2) * 0.56), rel=1e-13)
    with pytest.raises(ValueError, match="lacks"):
        ellison_glaeser(firms, town_employment=ref.drop("c"))


def test_ellison_glaeser_one_firm_and_years(firms):
    one = pd.DataFrame({"town_id": ["a", "b"], "sector": ["S1", "S2"], "employees": [5.0, 5.0]})
    assert ellison_glaeser(one)["gamma"].isna().all()  # H = 1: undefined
    panel = pd.concat([firms.assign(year=2020), firms.assign(year=2021)])
    eg = ellison_glaeser(panel)
    assert eg.index.names == ["year", "sector"]
    assert_allclose(eg.loc[2021, "gamma"].to_numpy(), ellison_glaeser(firms)["gamma"].to_numpy(), rtol=1e-15)


def _simulate(gamma0, n_sim, seed):
    """Sectors of 12 firms placed on 8 towns: with probability gamma0 all firms of a sector
    go to one town drawn from x, otherwise each firm independently (Ellison & Glaeser 1997:
    pairs co-locate with probability gamma0 + (1 - gamma0) sum x^2, so E[gamma] = gamma0)."""
    rng = np.random.default_rng(seed)
    x = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])
    sizes = rng.integers(5, 200, 12).astype(float)
    together = rng.random(n_sim) < gamma0
    common = rng.choice(len(x), size=n_sim, p=x)
    own = rng.choice(len(x), size=(n_sim, 12), p=x)
    loc = np.where(together[:, None], common[:, None], own)
    firms = pd.DataFrame({"town_id": [f"r{i}" for i in loc.ravel()], "sector": np.repeat(np.arange(n_sim), 12).astype(str),
                          "employees": np.tile(sizes, n_sim)})
    ref = pd.Series(x, index=[f"r{i}" for i in range(len(x))])
    return ellison_glaeser(firms, town_employment=ref)["gamma"].to_numpy()


@pytest.mark.parametrize("gamma0", [0.0, 0.3])
def test_ellison_glaeser_is_unbiased_under_its_model(gamma0):
    g = _simulate(gamma0, 6000, seed=12)
    se = g.std(ddof=1) / np.sqrt(len(g))
    assert abs(g.mean() - gamma0) < 4 * se
