"""The Rosstat wide-form adapter, on small tables and on the real northern extract."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from features import FeatureWarning, TownData, build_features, employment_matrix
from features.rosstat import (
    employment_from_wide,
    oktmo8,
    outcomes_from_wide,
    residual_sectors_table,
    towns_from_wide,
)
from features.specialization import leading_sector, location_quotient

EXTRACT = "ru_mo_employment_okved_north/rosstat_bdpmo_employment_okved_north_2023_2024.csv"
DICTIONARY = "sberindex_mo_2025/t_dict_municipal_districts.csv"


@pytest.fixture
def wide():
    return pd.DataFrame({
        "oktmo": ["11508000", "11508000", "1701000"],
        "year": [2023, 2024, 2024],
        "region_name": ["R1", "R1", "R2"],
        "municipality": ["M one (old)", "M one", "M two"],
        "emp_total": [1100.0, 120.0, 50.0],
        "emp_A": ["40", "", "-"],
        "emp_B": ["…", "30", "10"],
        "emp_C": ["1 000", "x", "5,5"],
        "wage_total": [50000.0, 55000.0, np.nan],
    })


def test_oktmo8():
    s = oktmo8(["79-701-000-000", "1701000", "01701000", 11508000, "71956000001"])
    assert s.tolist() == ["79701000", "01701000", "01701000", "11508000", "71956000"]
    with pytest.raises(ValueError, match="8"):
        oktmo8(["12345"])
    with pytest.raises(ValueError, match="floating"):
        oktmo8(pd.Series([11508000.0]))


def test_employment_from_wide(wide):
    emp = employment_from_wide(wide)
    assert list(emp.columns) == ["town_id", "year", "sector", "employment"]
    assert len(emp) == 3 * 3  # every section cell is a row
    v = emp.set_index(["town_id", "year", "sector"])["employment"]
    assert v[("11508000", 2023, "A")] == 40.0
    assert np.isnan(v[("11508000", 2023, "B")])  # "…" not published: suppressed
    assert v[("11508000", 2023, "C")] == 1000.0  # digit groups
    assert np.isnan(v[("11508000", 2024, "A")])  # empty: suppressed, never 0
    assert np.isnan(v[("11508000", 2024, "C")])  # "x": suppressed
    assert v[("01701000", 2024, "A")] == 0.0  # "-": the phenomenon is absent
    assert v[("01701000", 2024, "C")] == 5.5  # decimal comma
    assert emp["employment"].isna().sum() == 3


def test_employment_from_wide_errors(wide):
    with pytest.raises(ValueError, match="Rosstat marks"):
        employment_from_wide(wide.assign(emp_A=["40", "n/a?", "1"]))
    with pytest.raises(ValueError, match="repeat"):
        employment_from_wide(pd.concat([wide, wide.iloc[[0]]]))
    with pytest.raises(ValueError, match="negative"):
        employment_from_wide(wide.assign(emp_A=[-1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="section columns"):
        employment_from_wide(wide, prefix="jobs_")
    with pytest.raises(ValueError, match="lacks the column"):
        employment_from_wide(wide.drop(columns="year"))


def test_residual_sector(wide):
    emp = employment_from_wide(wide, residual="other")
    v = emp.set_index(["town_id", "year", "sector"])["employment"]
    assert v[("11508000", 2024, "other")] == 120.0 - 30.0  # total minus the published sections
    t = residual_sectors_table("other")
    assert t.set_index("sector").loc["other", "section"] == "other"
    with pytest.raises(ValueError, match="below"):
        employment_from_wide(wide.assign(emp_total=[1.0, 1.0, 1.0]), residual="other")


def test_towns_and_outcomes(wide):
    coords = pd.DataFrame({"lat": [62.2], "lon": [45.0]}, index=["11-508-000-000"])
    towns = towns_from_wide(wide, coordinates=coords)
    assert towns["town_id"].tolist() == ["01701000", "11508000"]
    assert towns.set_index("town_id").loc["11508000", "name"] == "M one"  # latest year's name
    assert towns.set_index("town_id").loc["11508000", "lat"] == 62.2
    assert np.isnan(towns.set_index("town_id").loc["01701000", "lat"])
    out = outcomes_from_wide(wide, {"wage_total": "avg_wage"})
    assert list(out.columns) == ["town_id", "year", "avg_wage"] and len(out) == 3
    # with coordinates for everyone the tables pass the data contract
    towns["lat"], towns["lon"] = 62.0, 45.0
    data = TownData.from_tables(towns=towns, employment=employment_from_wide(wide), outcomes=out)
    assert data.employment["employment"].isna().sum() == 3


# ---------------------------------------------------------------------------------------
# the real extract (../shared/data)
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(shared_data):
    w = pd.read_csv(shared_data / EXTRACT, dtype={"oktmo": str, "oktmo_stable": str})
    return w, employment_from_wide(w)


def test_real_extract_is_read_cell_for_cell(real):
    w, emp = real
    sections = [c for c in w.columns if c.startswith("emp_") and c != "emp_total"]
    assert len(emp) == len(w) * len(sections)  # 244 rows x 9 sections
    assert emp["employment"].isna().sum() == int(w[sections].isna().sum().sum())  # empty = suppressed
    assert emp["employment"].sum() == pytest.approx(float(w[sections].sum().sum()))
    assert emp["town_id"].str.len().eq(8).all()


def test_real_mining_towns_lead_in_section_b(real):
    """Oil, gas and mining municipalities have the highest location quotients in section B."""
    w, emp = real
    E = employment_matrix(emp)
    w = w.assign(town_id=oktmo8(w["oktmo"]).to_numpy())
    share_b = w.set_index(["town_id", "year"]).eval("emp_B / emp_total")  # B in all employees
    for year in (2023, 2024):
        Ey = E.xs(year, level="year")
        lq = location_quotient(Ey)["B"]
        share = share_b.xs(year, level="year").reindex(lq.index)
        mining = share >= 0.30  # a third of all employees in mining: Usinsk, the Yamal and Yugra districts
        assert mining.sum() >= 15
        assert (lq[mining] >= 1.4).all()
        assert (lq[share < 0.05] < 0.3).all()
        # the ten highest LQs in B are in the oil and gas regions: Khanty-Mansi AO (718..), Yamalo-Nenets
        # AO (719..), the Nenets AO's Zapolyarny district (11811000) and Usinsk in Komi (87.23000)
        top = lq.sort_values(ascending=False).index[:10]
        assert all(t.startswith(("718", "719", "11811")) or t in ("87723000", "87523000") for t in top), list(top)
        lead = leading_sector(Ey)
        assert (lead.loc[mining[mining].index, "leading_sector"] == "B").mean() >= 0.8


def test_real_extract_builds_a_feature_table(real, shared_data):
    w, emp = real
    d = pd.read_csv(shared_data / DICTIONARY, dtype=str)
    d = d.sort_values("year_to", ascending=False)  # current rows (9999) first
    coords = (d.set_index("oktmo")[["municipal_district_center_lat", "municipal_district_center_lon"]]
              .set_axis(["lat", "lon"], axis=1).astype(float).dropna())
    towns = towns_from_wide(w, coordinates=coords)
    no_coords = towns["lat"].isna()
    assert no_coords.sum() <= 12  # municipalities re-organised after the dictionary was made
    towns = towns[~no_coords]
    emp = emp[emp["town_id"].isin(towns["town_id"])]
    data = TownData.from_tables(towns=towns, employment=emp,
                                outcomes=outcomes_from_wide(w, {"wage_total": "avg_wage"})
                                .query("town_id in @towns.town_id"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        F = build_features(data, groups=["specialization", "diversification", "dynamics"])
    assert len(F) == emp.groupby(["town_id", "year"]).ngroups
    assert F["coverage"].lt(1).any()  # suppressed cells are reported, not zeros
    both = F.groupby(level="town_id").size() == 2
    assert F.loc[both[both].index].xs(2024, level="year")["wage_growth"].notna().mean() > 0.9
