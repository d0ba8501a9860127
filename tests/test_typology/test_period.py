"""town_rows: one row per town from the panel feature table; nothing left out silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from typology import TypologyWarning, town_rows


@pytest.fixture()
def panel():
    rows = [("A", 2020, 1.0, "x"), ("A", 2021, 2.0, "y"), ("A", 2022, 4.0, "z"),
            ("B", 2021, 10.0, "p"), ("B", 2022, np.nan, "q"),
            ("C", 2020, 7.0, "c")]
    df = pd.DataFrame(rows, columns=["town_id", "year", "v", "s"]).set_index(["town_id", "year"])
    return df


def test_last(panel):
    out = town_rows(panel, "last")
    assert out["v"].tolist()[:1] == [4.0] and np.isnan(out.loc["B", "v"]) and out.loc["C", "v"] == 7.0
    assert out.attrs["years"] == {"A": 2022, "B": 2022, "C": 2020}
    assert out.attrs["left_out"] == () and out.index.name == "town_id"


def test_base_year_reports_towns_without_it(panel):
    with pytest.warns(TypologyWarning, match="1 towns have no row for period 2020.*B"):
        out = town_rows(panel, 2020)
    assert out.index.tolist() == ["A", "C"] and out.attrs["left_out"] == ("B",)
    with pytest.raises(ValueError, match="not a year of features"):
        town_rows(panel, 1999)


def test_window_mean(panel):
    with pytest.warns(TypologyWarning) as rec:
        out = town_rows(panel, (2021, 2022))
    msgs = " ".join(str(w.message) for w in rec)
    assert "1 towns have no row for period (2021, 2022)" in msgs and "C" in msgs
    assert out.loc["A", "v"] == 3.0  # mean of 2021, 2022
    assert out.loc["B", "v"] == 10.0  # NaN skipped
    assert out.loc["A", "s"] == "z"  # non-numeric: the latest year of the window
    assert out.attrs["years"] == {"A": 2, "B": 2}
    with pytest.warns(TypologyWarning, match="fewer than 3 years"):
        town_rows(panel, (2020, 2022))
    with pytest.raises(ValueError, match="first <= last"):
        town_rows(panel, (2022, 2020))


def test_sample_order_and_absent_towns(panel):
    with pytest.warns(TypologyWarning, match="1 towns have no row.*1 of them are not in features at all"):
        out = town_rows(panel, "last", sample=["C", "A", "Z"])
    assert out.index.tolist() == ["C", "A"] and out.attrs["left_out"] == ("Z",)
    mask = pd.Series([True, False, True], index=["A", "B", "C"])
    assert town_rows(panel, "last", sample=mask).index.tolist() == ["A", "C"]


def test_bad_input(panel):
    with pytest.raises(ValueError, match="indexed by \\(town_id, year\\)"):
        town_rows(panel.reset_index(), "last")
    with pytest.raises(ValueError, match="period must be"):
        town_rows(panel, "first")
    with pytest.raises(TypeError, match="sample"):
        town_rows(panel, "last", sample="A")


def test_last_on_the_synthetic_panel(synthetic_features):
    out = town_rows(synthetic_features, "last")
    years = synthetic_features.reset_index().groupby("town_id")["year"].max()
    assert out.attrs["years"] == {t: int(y) for t, y in years.items()}
    t = out.index[0]
    pd.testing.assert_series_equal(out.loc[t], synthetic_features.loc[(t, int(years[t]))], check_names=False)
    # results concatenate cleanly (attrs hold only plain values)
    assert len(pd.concat([out, out])) == 2 * len(out)
