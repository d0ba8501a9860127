"""Transitions between types over a panel: exact counts on a designed panel, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from typology import RuleTypology, TownTypology, transitions

CENTERS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(np.vstack([rng.normal(c, 1.0, (40, 2)) for c in CENTERS]), columns=["x", "y"],
                     index=pd.Index([f"r{i:03d}" for i in range(120)], name="town_id"))
    return TownTypology(n_types=3, feature_transform=None, random_state=0, n_boot=5, n_ref=0, n_ps=0).fit(X)


@pytest.fixture(scope="module")
def panel(fitted):
    """30 towns, 2020-2022; towns 0-5 move from blob 0 to blob 1 in 2022, town 29 lacks 2021."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(30):
        home = i % 3
        for year in (2020, 2021, 2022):
            blob = 1 if (i < 6 and home == 0 and year == 2022) else home
            if i == 29 and year == 2021:
                continue
            x, y = CENTERS[blob] + rng.normal(0, 0.5, 2)
            rows.append((f"p{i:02d}", year, x, y))
    df = pd.DataFrame(rows, columns=["town_id", "year", "x", "y"]).set_index(["town_id", "year"])
    return df


def _type_of_blob(fitted):
    return {b: int(fitted.predict(pd.DataFrame([CENTERS[b]], columns=["x", "y"])).iloc[0]) for b in range(3)}


def test_counts_and_rates(fitted, panel):
    tr = transitions(fitted, panel, random_state=0, n_boot=200)
    t = _type_of_blob(fitted)
    movers = [f"p{i:02d}" for i in range(6) if i % 3 == 0]  # p00, p03
    # 30 towns x 2 steps, minus the two steps broken by the gap of p29
    assert tr.n_pairs == 58 and tr.n_gaps == 1 and tr.n_towns == 30
    c = tr.counts
    assert c.loc[t[0], t[1]] == 2 and c.to_numpy().sum() == 58
    assert c.loc[t[0], t[0]] == 20 - 2  # 10 towns of blob 0, 2 steps each, 2 moves
    assert tr.matrix.loc[t[0], t[0]] == pytest.approx(18 / 20)
    np.testing.assert_allclose(tr.matrix.sum(axis=1), 1.0)
    assert tr.stay.loc[t[1], "stay"] == 1.0 and tr.stay.loc[t[0], "n_from"] == 20
    sw = tr.switchers
    assert sorted(sw["town_id"]) == movers and (sw["year_from"] == 2021).all() and (sw["type_to"] == t[1]).all()
    assert sw["name_to"].iloc[0] == fitted.type_names_[t[1]]
    assert "58 transitions (consecutive) of 30 towns: 2 changes of type by 2 towns" in tr.summary()


def test_bootstrap_intervals(fitted, panel):
    tr = transitions(fitted, panel, random_state=0, n_boot=300)
    t0 = _type_of_blob(fitted)[0]
    lo, hi, est = tr.lower.loc[t0, t0], tr.upper.loc[t0, t0], tr.matrix.loc[t0, t0]
    assert lo <= est <= hi and lo < est and hi == 1.0
    again = transitions(fitted, panel, random_state=0, n_boot=300)
    pd.testing.assert_frame_equal(again.lower, tr.lower)
    # percentiles of a bootstrap distribution on 30 towns take few values: two seeds can give the
    # same intervals by chance, three others cannot all do so
    others = [transitions(fitted, panel, random_state=s, n_boot=300) for s in (1, 2, 3)]
    assert any(not o.lower.equals(tr.lower) or not o.upper.equals(tr.upper) for o in others)
    none = transitions(fitted, panel, n_boot=0)
    assert none.lower.isna().all().all()


def test_first_last_and_left_out(fitted, panel):
    p = panel.copy()
    p.loc[("p01", 2020), "x"] = np.nan
    tr = transitions(fitted, p, between="first_last", n_boot=0)
    assert tr.left_out == (("p01", 2020),)
    assert tr.n_pairs == 30 and len(tr.switchers) == 2  # p01 still has 2021 -> 2022
    assert set(tr.switchers["year_from"]) == {2020} and set(tr.switchers["year_to"]) == {2022}
    assert tr.assignments.loc[("p00", 2022), "type"] == _type_of_blob(fitted)[1]
    assert "ood" in tr.assignments.columns


def test_rule_typology_transitions():
    panel = pd.DataFrame({"largest_employer_share": [0.3, 0.25, 0.1, 0.05, 0.3, 0.4]},
                         index=pd.MultiIndex.from_tuples([("a", 2020), ("a", 2021), ("a", 2022), ("b", 2020),
                                                          ("b", 2021), ("b", 2022)], names=["town_id", "year"]))
    tr = transitions(RuleTypology.monotown(), panel, n_boot=0)
    assert tr.counts.to_numpy().tolist() == [[2, 1], [1, 0]]
    assert tr.switchers[["town_id", "type_from", "type_to"]].values.tolist() == [["a", 1, 2], ["b", 2, 1]]


def test_bad_panel(fitted, panel):
    with pytest.raises(ValueError, match="indexed by \\(town_id, year\\)"):
        transitions(fitted, panel.reset_index())
    with pytest.raises(ValueError, match="lacks the typology's features"):
        transitions(fitted, panel.drop(columns="y"))
    with pytest.raises(ValueError, match="between"):
        transitions(fitted, panel, between="all")
