"""Corporate entry and exit events from a firm registry, counted by hand on small registries:
each rule, thresholds (a share equal to the threshold is above it), ties of the anchor firm,
flicker and persistence, missing years, censored entries, the join to a panel, and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import features
from features import TownData, build_features, corporate_events, join_cohort

YEARS = [2010, 2011, 2012, 2013, 2014]
# VI is flagged integrated, LOCAL is not, IND firms have no group
GROUPS = pd.DataFrame({"group_id": ["VI", "VI2", "LOCAL"], "hq_town_id": ["hq", "hq", "a"],
                       "vertically_integrated": pd.array([True, True, False], dtype="boolean")})


def _data(rows, employment=100.0, towns=("a", "b", "c", "hq"), emp_years=YEARS, groups=GROUPS):
    """A dataset from registry rows ``(firm, town, year, employees, group or None)``; each town
    employs ``employment`` in every year of ``emp_years`` (one sector)."""
    firms = pd.DataFrame(rows, columns=["firm_id", "town_id", "year", "employees", "group_id"])
    firms["sector"] = "05"
    firms = firms.astype({"firm_id": "str", "town_id": "str", "group_id": "str"})
    t = pd.DataFrame({"town_id": list(towns), "name": list(towns), "region": "R", "lat": 65.0, "lon": 40.0})
    emp = pd.DataFrame([(tw, y, "05", employment) for tw in towns for y in emp_years],
                       columns=["town_id", "year", "sector", "employment"])
    return TownData.from_tables(t, emp, firms=firms, groups=groups)


def _series(firm, town, groups, employees=60.0, years=YEARS):
    return [(firm, town, y, employees if np.isscalar(employees) else employees[i], g)
            for i, (y, g) in enumerate(zip(years, groups, strict=True)) if g != "-"]


def _row(ev, town):
    return ev.set_index("town_id").loc[town]


def test_anchor_rule_entry_and_exit_by_hand():
    # town a: the anchor (60 employees) is local until 2012, bought by VI in 2012, sold to LOCAL in 2014
    rows = _series("A1", "a", ["LOCAL", "LOCAL", "VI", "VI", "LOCAL"]) + _series("A2", "a", [None] * 5, 10.0)
    rows += _series("B1", "b", ["LOCAL"] * 5)  # never
    ev = corporate_events(_data(rows), rule="anchor")
    a = _row(ev, "a")
    assert (a.entry_year, a.exit_year, a.reentry_year) == (2012, 2014, 0)
    assert a.entry_group == "VI" and a.entry_firm == "A1" and a.exit_group == "VI" and a.exit_firm == "A1"
    assert (a.entry_prev_year, a.exit_prev_year) == (2011, 2013)
    # VI share of employment (100 per town-year): 0 before, 60/100 after; exit 0.6 -> 0
    assert (a.entry_share_before, a.entry_share_after, a.exit_share_before, a.exit_share_after) == (0, 0.6, 0.6, 0)
    assert a.usable and not a.entry_censored and a.n_changes == 2
    b = _row(ev, "b")
    assert (b.entry_year, b.exit_year, b.n_changes, b.usable) == (0, 0, 0, True)
    # c and hq have no firm: never observed under missing="skip"
    c = _row(ev, "c")
    assert (c.n_years, c.usable, c.entry_year, c.first_year) == (0, False, 0, 0)
    assert list(ev["town_id"]) == ["a", "b", "c", "hq"]


def test_anchor_is_the_largest_firm_ties_to_the_smallest_firm_id():
    # a VI firm grows to be the largest in 2013: an entry without any change of owner
    rows = _series("A1", "a", ["LOCAL"] * 5, 50.0) + _series("A2", "a", ["VI"] * 5, [10, 10, 10, 70, 70])
    assert _row(corporate_events(_data(rows)), "a").entry_year == 2013
    # two firms of 40 employees each: the anchor is the smaller firm_id, whatever the row order
    tie = _series("Z9", "b", ["VI"] * 5, 40.0) + _series("B1", "b", ["LOCAL", "LOCAL", "VI", "VI", "VI"], 40.0)
    for rows in (tie, tie[::-1]):
        b = _row(corporate_events(_data(rows)), "b")
        assert (b.entry_year, b.entry_firm) == (2012, "B1")


def test_share_rule_thresholds_ties_and_evidence():
    # VI employment in town a: 20, 30, 40, 50, 40 of 100
    rows = _series("A1", "a", ["VI2"] * 5, [20, 30, 40, 50, 40]) + _series("A2", "a", ["LOCAL"] * 5, 30.0)
    d = _data(rows)
    a = _row(corporate_events(d, rule="share", threshold=0.4), "a")
    assert (a.entry_year, a.exit_year) == (2012, 0)  # 0.40 >= 0.40: a share at the threshold is above it
    assert (a.entry_share_before, a.entry_share_after, a.entry_group) == (0.3, 0.4, "VI2")
    a = _row(corporate_events(d, rule="share", threshold=0.45), "a")
    assert (a.entry_year, a.exit_year, a.exit_share_before, a.exit_share_after) == (2013, 2014, 0.5, 0.4)
    a = _row(corporate_events(d, rule="share", threshold=0.2), "a")
    assert a.entry_censored and not a.usable and a.entry_year == 2010
    assert _row(corporate_events(d, rule="share", threshold=0.6), "a").entry_year == 0
    # denominator: the registry's employees (20 / 50 = 0.4 in 2010) instead of published employment
    r = _row(corporate_events(d, rule="share", threshold=0.45, denominator="registry"), "a")
    assert (r.entry_year, r.entry_share_after) == (2011, 0.5)


def test_share_rule_largest_vi_group_is_the_evidence():
    rows = (_series("A1", "a", ["-", "VI", "VI", "VI", "VI"], 30.0) + _series("A2", "a", ["-", "VI2", "VI2", "VI2",
                                                                                        "VI2"], 40.0)
            + _series("A3", "a", ["LOCAL"] * 5, 10.0))
    a = _row(corporate_events(_data(rows), rule="share", threshold=0.5), "a")
    assert (a.entry_year, a.entry_group, a.entry_share_after) == (2011, "VI2", 0.7)


def test_flicker_needs_persistence():
    # VI one year (2011), back, then VI for good from 2013
    rows = _series("A1", "a", ["LOCAL", "VI", "LOCAL", "VI", "VI"])
    a1 = _row(corporate_events(_data(rows)), "a")
    assert (a1.entry_year, a1.exit_year, a1.reentry_year, a1.n_changes) == (2011, 2012, 2013, 3)
    a2 = _row(corporate_events(_data(rows), min_years=2), "a")
    assert (a2.entry_year, a2.exit_year, a2.n_changes) == (2013, 0, 1)
    assert (a2.entry_prev_year, a2.entry_share_before) == (2012, 0.0)
    # a change in the last year cannot be confirmed with min_years=2
    late = _series("B1", "b", ["LOCAL"] * 4 + ["VI"])
    assert _row(corporate_events(_data(late), min_years=2), "b").entry_year == 0
    assert _row(corporate_events(_data(late), min_years=1), "b").entry_year == 2014
    # a flicker at the start does not hide the initial state: VI at first, then local for good
    start = _series("C1", "c", ["VI", "LOCAL", "LOCAL", "LOCAL", "LOCAL"])
    c = _row(corporate_events(_data(start), min_years=2), "c")
    assert (c.entry_year, c.entry_censored, c.exit_year) == (2010, True, 2011)


def test_missing_years_skip_or_zero():
    # town a has no firm row in 2012 (the registry has other towns that year)
    rows = _series("A1", "a", ["LOCAL", "LOCAL", "-", "VI", "VI"]) + _series("B1", "b", ["LOCAL"] * 5)
    d = _data(rows)
    a = _row(corporate_events(d), "a")  # skip: the change happened in (2011, 2013]
    assert (a.entry_year, a.entry_prev_year, a.n_years, a.first_year, a.last_year) == (2013, 2011, 4, 2010, 2014)
    z = _row(corporate_events(d, missing="zero"), "a")  # zero: 2012 has no anchor, untreated
    assert (z.entry_year, z.entry_prev_year, z.n_years) == (2013, 2012, 5)
    # VI, gap, VI: skip keeps the town treated; zero sees an exit in the gap and a re-entry
    rows = _series("A1", "a", ["LOCAL", "VI", "-", "VI", "VI"]) + _series("B1", "b", ["LOCAL"] * 5)
    s, z = (_row(corporate_events(_data(rows), missing=m), "a") for m in ("skip", "zero"))
    assert (s.entry_year, s.exit_year) == (2011, 0)
    assert (z.entry_year, z.exit_year, z.reentry_year) == (2011, 2012, 2013)
    # a registry year missing for every town is no year of the registry: nothing is observed then
    rows = [r for r in _series("A1", "a", ["LOCAL", "LOCAL", "VI", "VI", "VI"]) if r[2] != 2012]
    assert (_row(corporate_events(_data(rows), missing="zero"), "a")[["entry_year", "entry_prev_year"]].tolist()
            == [2013, 2011])
    # share rule: a town-year without published employment has no share
    rows = _series("A1", "a", ["LOCAL", "LOCAL", "VI", "VI", "VI"])
    d = _data(rows, emp_years=[2010, 2011, 2013, 2014])
    a = _row(corporate_events(d, rule="share", threshold=0.5), "a")
    assert (a.entry_year, a.entry_prev_year, a.n_years) == (2013, 2011, 4)


def test_inferred_integration_as_the_feature_builder():
    # no flag: VIX is integrated when present in >= 2 towns and >= 2 sections (vi_min_towns / vi_min_sections)
    groups = pd.DataFrame({"group_id": ["VIX"], "hq_town_id": ["hq"]})
    rows = _series("A1", "a", [None, None, "VIX", "VIX", "VIX"]) + _series("H1", "hq", ["VIX"] * 5)
    firms_sector = {"A1": "05", "H1": "10"}  # sections B and C
    d = _data(rows, groups=groups)
    f = d.firms
    f["sector"] = f["firm_id"].map(firms_sector)
    d = d.replace(firms=f)
    assert _row(corporate_events(d), "a").entry_year == 2012
    assert _row(corporate_events(d, vi_min_towns=3), "a").entry_year == 0


def test_share_equals_the_corp_share_feature(small_synthetic):
    ev = corporate_events(small_synthetic.data, rule="share", threshold=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F = build_features(small_synthetic.data, groups=["corporate"])
    cs = F["corp_share"]
    e = ev[(ev["entry_year"] > 0) & ~ev["entry_censored"]]
    assert len(e) >= 3
    after = cs.reindex(pd.MultiIndex.from_arrays([e["town_id"], e["entry_year"]])).to_numpy()
    before = cs.reindex(pd.MultiIndex.from_arrays([e["town_id"], e["entry_prev_year"]])).to_numpy()
    np.testing.assert_allclose(e["entry_share_after"], after, rtol=1e-12)
    np.testing.assert_allclose(e["entry_share_before"], before, rtol=1e-12)
    assert (after >= 0.3).all() and (before < 0.3).all()


def test_join_cohort_to_a_panel():
    rows = (_series("A1", "a", ["LOCAL", "LOCAL", "VI", "VI", "LOCAL"]) + _series("B1", "b", ["VI"] * 5)
            + _series("H1", "hq", ["LOCAL"] * 5))
    ev = corporate_events(_data(rows))
    panel = pd.DataFrame({"y": np.arange(20.0)},
                         index=pd.MultiIndex.from_product([["a", "b", "c", "hq"], YEARS], names=["town_id", "year"]))
    j = join_cohort(panel, ev)
    # b is censored (VI from the start), c never observed: dropped; a and hq kept in order
    assert list(j.index.get_level_values("town_id").unique()) == ["a", "hq"]
    assert j.loc["a", "entry_year"].tolist() == [2012] * 5 and j.loc["a", "exit_year"].tolist() == [2014] * 5
    assert (j.loc["hq", "entry_year"] == 0).all()
    kept = join_cohort(panel, ev, drop_unusable=False)
    assert len(kept) == 20 and kept.loc["b", "entry_year"].iloc[0] == 2010
    ex = join_cohort(panel.reset_index(), ev, event="exit", prefix="reg_")
    assert {"reg_exit_year", "reg_reentry_year"} <= set(ex.columns) and set(ex["town_id"]) == {"a", "b", "hq"}
    with pytest.raises(ValueError, match="already has column"):
        join_cohort(j, ev)


def test_errors_name_the_table_and_column():
    rows = _series("A1", "a", ["VI"] * 5)
    d = _data(rows)
    snapshot = d.replace(firms=d.firms.drop(columns="year").drop_duplicates("firm_id"))
    with pytest.raises(ValueError, match=r"table 'firms' of .*has no column 'year'"):
        corporate_events(snapshot)
    with pytest.raises(ValueError, match="has no firms and groups table"):
        corporate_events(d.replace(firms=None, groups=None))
    with pytest.raises(ValueError, match="threshold applies to rule='share'"):
        corporate_events(d, threshold=0.5)
    with pytest.raises(ValueError, match=r"threshold must be a share in \(0, 1\]"):
        corporate_events(d, rule="share", threshold=1.5)
    with pytest.raises(ValueError, match="rule must be one of"):
        corporate_events(d, rule="owner")
    with pytest.raises(ValueError, match="min_years must be an integer >= 1"):
        corporate_events(d, min_years=0)


def test_public_names():
    assert features.corporate_events is corporate_events and features.events.join_cohort is join_cohort
