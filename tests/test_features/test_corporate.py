"""Registry functions by hand: group classification, firm-years, the ownership network, and the
row layouts of the long employment table (the panel must not depend on the order of the rows)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features import FeatureBuilder, FeatureWarning, employment_matrix
from features.corporate import classify_groups, corporate_ties, firm_years, ownership_edges
from features.panel import panel_cells

# A registry small enough to count by hand. Sectors are OKVED divisions: 05/07 are section B,
# 10 and 16 section C, 35 section D, 47 section G.
FIRMS = pd.DataFrame({
    "firm_id": ["f1", "f1", "f2", "f3", "f4", "f5", "f6", "f7"],
    "town_id": ["t1", "t1", "t2", "t2", "t3", "t1", "t3", "t2"],
    "sector": ["05", "05", "10", "16", "35", "47", "07", "47"],
    "employees": [100.0, 110.0, 40.0, 60.0, 30.0, 5.0, 20.0, 8.0],
    "year": [2020, 2021, 2021, 2021, 2021, 2021, 2021, 2021],
    "group_id": ["G1", "G1", "G1", "G2", "G2", None, "G3", "GX"],  # GX is not in the groups table
}).astype({"firm_id": "str", "town_id": "str", "sector": "str", "group_id": "str"})
GROUPS = pd.DataFrame({
    "group_id": ["G1", "G2", "G3", "G4"],
    "hq_town_id": ["t1", "t9", "t3", "t2"],
    "vertically_integrated": pd.array([pd.NA, pd.NA, True, pd.NA], dtype="boolean"),
}).astype({"group_id": "str", "hq_town_id": "str"})


def test_classify_groups_by_hand():
    c = classify_groups(FIRMS, GROUPS)
    # G1: towns t1, t2; sections B (05), C (10) -> inferred integrated.
    # G2: towns t2, t3; sections C (16), D (35) -> inferred integrated.
    # G3: flagged True although it has one town and one section; G4 has no firm.
    assert c.loc["G1", ["n_towns", "n_sections"]].tolist() == [2, 2]
    assert c.loc["G2", ["n_towns", "n_sections"]].tolist() == [2, 2]
    assert c.loc["G3", ["n_towns", "n_sections"]].tolist() == [1, 1]
    assert c.loc["G4", ["n_towns", "n_sections"]].tolist() == [0, 0]
    assert c["vertically_integrated"].tolist() == [True, True, True, False]
    assert c["vi_source"].tolist() == ["inferred", "inferred", "flagged", "inferred"]
    assert "GX" not in c.index  # a group absent from the groups table is not classified
    # stricter thresholds: two sections are not three
    assert not classify_groups(FIRMS, GROUPS, min_sections=3).loc[["G1", "G2"], "vertically_integrated"].any()
    # a user hierarchy that puts 10 and 05 in one group makes G1 single-section
    merged = classify_groups(FIRMS, GROUPS, hierarchy={"05": "X", "10": "X"})
    assert merged.loc["G1", "n_sections"] == 1 and not merged.loc["G1", "vertically_integrated"]


def test_classify_groups_without_group_column():
    # a registry of independent firms only: every group has no firm (used to raise a KeyError)
    c = classify_groups(FIRMS.drop(columns="group_id"), GROUPS)
    assert (c["n_towns"] == 0).all() and (c["n_sections"] == 0).all()
    assert c["vertically_integrated"].tolist() == [False, False, True, False]


def test_firm_years_by_hand():
    c = classify_groups(FIRMS, GROUPS)
    fy = firm_years(FIRMS, c)
    assert fy["hq_town_id"].tolist()[:5] == ["t1", "t1", "t1", "t9", "t9"]
    assert fy["hq_town_id"].isna().tolist() == [False] * 5 + [True, False, True]  # f5 independent, GX unknown
    assert fy["vi"].tolist() == [True, True, True, True, True, False, True, False]
    assert str(fy["hq_town_id"].dtype) == "str" and fy["vi"].dtype == bool
    # a snapshot registry (no year) is repeated for every year asked for
    snap = firm_years(FIRMS[FIRMS["year"] == 2021].drop(columns="year"), c, years=[2021, 2020])
    assert len(snap) == 2 * 7 and sorted(snap["year"].unique()) == [2020, 2021]
    assert (snap.groupby("year")["employees"].sum() == FIRMS.loc[FIRMS["year"] == 2021, "employees"].sum()).all()
    with pytest.raises(ValueError, match="years"):
        firm_years(FIRMS.drop(columns="year"), c)


def test_ownership_edges_by_hand():
    fy = firm_years(FIRMS, classify_groups(FIRMS, GROUPS))
    e = ownership_edges(fy)
    expected = pd.DataFrame({
        "year": [2020, 2021, 2021, 2021, 2021],
        "source": ["t1", "t1", "t1", "t3", "t9"],
        "target": ["t1", "t1", "t2", "t3", "t2"],
        "weight": [100.0, 110.0, 40.0, 20.0, 60.0],
        "n_firms": [1, 1, 1, 1, 1],
    })
    # t9 -> t3 (G2's f4, 30 employees) sorts after t9 -> t2
    expected = pd.concat([expected, pd.DataFrame({"year": [2021], "source": ["t9"], "target": ["t3"],
                                                  "weight": [30.0], "n_firms": [1]})], ignore_index=True)
    expected = expected.astype({"year": "int64", "source": "str", "target": "str", "n_firms": "int64"})
    pd.testing.assert_frame_equal(e, expected)
    # two firms of one group in one town add up into one edge
    twice = pd.concat([FIRMS, FIRMS.iloc[[2]].assign(firm_id="f8", employees=2.0)], ignore_index=True)
    e2 = ownership_edges(firm_years(twice, classify_groups(twice, GROUPS)))
    row = e2[(e2["year"] == 2021) & (e2["source"] == "t1") & (e2["target"] == "t2")]
    assert row["weight"].tolist() == [42.0] and row["n_firms"].tolist() == [2]
    empty = ownership_edges(fy.iloc[:0])
    assert list(empty.columns) == list(expected.columns) and len(empty) == 0 and empty["weight"].dtype == float


def _relaid(employment: pd.DataFrame, how: str) -> pd.DataFrame:
    if how == "shuffled":  # no runs: every row hashed
        return employment.sample(frac=1.0, random_state=0).reset_index(drop=True)
    if how == "split":  # each town-year in two separate runs
        low = employment["sector"] < "50"
        return pd.concat([employment[low], employment[~low]], ignore_index=True)
    return employment.sort_values(["town_id", "year", "sector"]).reset_index(drop=True)


@pytest.mark.parametrize("how", ["shuffled", "split"])
def test_the_panel_does_not_depend_on_the_row_layout(small_synthetic, how):
    data = small_synthetic.data
    E = employment_matrix(_relaid(data.employment, "sorted"))
    assert E.isna().to_numpy().any()  # suppressed cells are part of the comparison
    # both ways of finding the rows are exercised: by runs of (town, year), and row by row
    assert panel_cells(_relaid(data.employment, "sorted")).starts is not None
    assert (panel_cells(_relaid(data.employment, how)).starts is None) == (how == "shuffled")
    pd.testing.assert_frame_equal(employment_matrix(_relaid(data.employment, how)), E)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        ref = FeatureBuilder().fit_transform(data.replace(employment=_relaid(data.employment, "sorted")))
        got = FeatureBuilder().fit_transform(data.replace(employment=_relaid(data.employment, how)))
    num = ref.select_dtypes("number").columns
    assert_allclose(got[num].to_numpy(), ref[num].to_numpy(), rtol=1e-12, atol=1e-12)
    assert (got.drop(columns=num).fillna("-") == ref.drop(columns=num).fillna("-")).all().all()
    # coverage by hand: published cells over reported (published positive or suppressed) cells
    e = data.employment
    n_nan = e["employment"].isna().groupby([e["town_id"], e["year"]]).sum()
    n_pos = (e["employment"] > 0).groupby([e["town_id"], e["year"]]).sum()
    assert_allclose(got["coverage"].to_numpy(), (1 - n_nan / (n_nan + n_pos)).reindex(got.index).to_numpy())


def test_duplicate_keys_are_refused_in_any_layout(small_synthetic):
    e = _relaid(small_synthetic.data.employment, "sorted")
    dup = pd.concat([e, e.iloc[[5]]], ignore_index=True)  # the repeat is a run of its own
    with pytest.raises(ValueError, match="more than once"):
        employment_matrix(dup)
    with pytest.raises(ValueError, match="more than once"):
        employment_matrix(e.iloc[np.r_[0:10, 3, 10:len(e)]].reset_index(drop=True))


def test_corporate_ties_by_hand():
    fy = firm_years(FIRMS, classify_groups(FIRMS, GROUPS))
    idx = pd.MultiIndex.from_tuples([("t1", 2020), ("t1", 2021), ("t2", 2021), ("t3", 2021), ("t4", 2021),
                                     ("t5", 2021)], names=["town_id", "year"])
    total = pd.Series([100.0, 200.0, 200.0, 100.0, 50.0, 0.0], index=idx)
    got = corporate_ties(fy, total, cores=["t1"])
    # t1 2021: f1 (G1, integrated, headquartered at home) 110 and independent f5 5 of 200.
    # t2 2021: f2 (G1, hq t1 = a core) 40, f3 (G2, hq t9) 60, f7 (GX, not in the groups table) 8.
    # t3 2021: f4 (G2, hq t9) 30, f6 (G3, flagged, hq at home) 20. t4 has no firm, t5 no employment.
    expected = pd.DataFrame({
        "corp_share": [1.0, 110 / 200, 100 / 200, 50 / 100, 0.0, np.nan],
        "external_control_share": [0.0, 0.0, 100 / 200, 30 / 100, 0.0, np.nan],
        "core_control_share": [0.0, 0.0, 40 / 200, 0.0, 0.0, np.nan],
        "largest_employer_share": [1.0, 110 / 200, 60 / 200, 30 / 100, 0.0, np.nan],
        "n_groups": [1.0, 1.0, 3.0, 2.0, 0.0, np.nan],  # GX counts as a group of the registry
    }, index=idx)
    pd.testing.assert_frame_equal(got, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="repeated rows"):
        corporate_ties(fy, pd.concat([total, total.iloc[:1]]), cores=["t1"])
