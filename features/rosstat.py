"""Rosstat municipal statistics in wide form -> the data contract's long tables.

Rosstat's municipal database (BD PMO) and its open re-packagings (tochno.st, SberIndex) ship
employment by OKVED-2 section as one row per municipality and year with one column per
section (``emp_A``, ``emp_B``, ...). An empty cell is *not published* (confidentiality, or no
large and medium firms): it becomes a suppressed cell (``employment`` = NaN), never 0.

These are pure adapters (DataFrame in, DataFrame out; nothing here reads files):

* :func:`employment_from_wide`: the long ``employment`` table;
* :func:`towns_from_wide`: a ``towns`` skeleton (identifier, name, region, and coordinates
  when a table of centroids is given);
* :func:`outcomes_from_wide`: an ``outcomes`` table from chosen columns (average wage, ...);
* :func:`oktmo8`: OKTMO codes as 8-digit strings (``"79-701-000-000"`` -> ``"79701000"``).

Rosstat's conventional marks (Rosstat, "Условные обозначения" of its statistical
publications) are read as: ``"-"`` (phenomenon absent) -> 0; ``"…"``, ``"..."``, ``"x"`` /
``"х"`` (not published / confidential), ``"к"`` (confidential) -> suppressed. Any other text
in a section column is an error naming the rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .sectors import OKVED_SECTIONS

__all__ = ["ROSSTAT_MARKS", "employment_from_wide", "oktmo8", "outcomes_from_wide", "residual_sectors_table",
           "towns_from_wide"]

#: Rosstat's conventional marks and how they are read (NaN = suppressed).
ROSSTAT_MARKS: dict[str, float] = {"-": 0.0, "—": 0.0, "–": 0.0, "…": np.nan, "...": np.nan, "x": np.nan,
                                   "х": np.nan, "X": np.nan, "Х": np.nan, "к": np.nan, "К": np.nan}


def oktmo8(codes) -> pd.Series:
    """OKTMO codes as 8-digit strings.

    Separators (``-``, spaces, dots) are removed and codes of 11 digits keep their first 8
    (the municipal formation); integers or texts that lost their leading zero (7 digits) get
    it back. Anything else raises ``ValueError`` naming the values.
    """
    s = pd.Series(codes)
    if pd.api.types.is_float_dtype(s.dtype):
        raise ValueError("OKTMO codes must be text or integers, not floating-point numbers (precision and "
                         "leading zeros are lost); read the column as text")
    t = s.astype("string").str.replace(r"[\s\-.]", "", regex=True)
    ok = t.str.fullmatch(r"\d{7,8}|\d{10,11}").fillna(False)
    if not ok.all():
        bad = list(s[~ok.to_numpy()].astype(str).unique()[:5])
        raise ValueError(f"expected OKTMO codes of 8 (or 11) digits, e.g. '79701000' or '79-701-000-000'; found {bad}")
    t = t.where(~t.str.len().isin([7, 10]), "0" + t)
    return t.str.slice(0, 8).astype("str")


def _section_columns(wide: pd.DataFrame, prefix: str) -> dict[str, str]:
    pat = re.compile(rf"^{re.escape(prefix)}([A-U])$")
    found = {}
    for c in wide.columns:
        m = pat.match(str(c))
        if m and m.group(1) in OKVED_SECTIONS:
            found[str(c)] = m.group(1)
    if not found:
        raise ValueError(f"no OKVED-2 section columns named '{prefix}A' .. '{prefix}U' in {list(wide.columns)[:20]}")
    return found


def _numbers(col: pd.Series, name: str, row_labels) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=float, na_value=np.nan)
    t = col.astype("string").str.strip()
    empty = (t.isna() | (t == "")).to_numpy()
    is_mark = t.isin(list(ROSSTAT_MARKS)).fillna(False).to_numpy()
    num = pd.to_numeric(t.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
                        .str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~empty & ~is_mark & np.isnan(num)
    if bad.any():
        pos = np.flatnonzero(bad)
        raise ValueError(f"column '{name}': {len(pos)} value(s) are neither numbers, empty cells nor Rosstat marks "
                         f"{sorted(ROSSTAT_MARKS)}, e.g. {list(t.iloc[pos[:3]])} at row(s) {list(row_labels[pos[:5]])}")
    mark_vals = t.astype(object).map(ROSSTAT_MARKS).to_numpy(dtype=float, na_value=np.nan)
    return np.where(is_mark, mark_vals, np.where(empty, np.nan, num))


def employment_from_wide(wide: pd.DataFrame, id_column: str = "oktmo", year_column: str = "year",
                         prefix: str = "emp_", residual: str | None = None,
                         total_column: str = "emp_total") -> pd.DataFrame:
    """Long ``employment`` table (``town_id``, ``year``, ``sector``, ``employment``) from a wide
    extract with one row per municipality and year and one column per OKVED-2 section.

    Every section cell becomes a row: a number as it is, an empty cell (or a Rosstat
    "not published" mark) as a suppressed row (``employment`` = NaN, never 0), ``"-"`` as 0.
    Rows are sorted by town, year and section; the table passes ``TownData`` validation.

    Parameters
    ----------
    wide : DataFrame
        The extract, e.g. ``rosstat_bdpmo_employment_okved_north_2023_2024.csv`` read with its
        identifier column as text.
    id_column, year_column : str
        Municipality identifier (OKTMO, normalized by :func:`oktmo8`) and year.
    prefix : str
        Section columns are ``prefix + letter`` (``emp_A`` ... ``emp_U``).
    residual : str, optional
        Name of an extra sector holding ``total_column`` minus the published sections (the
        sections not listed plus the suppressed cells), so that shares are taken over the
        municipality's total employment. It is not an OKVED code: give the dataset a
        ``sectors`` table mapping it (see :func:`residual_sectors_table`). Default: no
        residual, shares over the published listed sections.
    total_column : str
        Total employment column used by ``residual``.

    Raises
    ------
    ValueError
        Missing columns, repeated (municipality, year), negative values, text that is not a
        number or a Rosstat mark, a total below its published sections.
    """
    for c in (id_column, year_column):
        if c not in wide.columns:
            raise ValueError(f"wide table lacks the column '{c}'; found {list(wide.columns)[:20]}")
    secs = _section_columns(wide, prefix)
    ids = oktmo8(wide[id_column]).to_numpy(dtype=object)
    years = pd.to_numeric(wide[year_column], errors="coerce")
    if years.isna().any() or (years != np.round(years)).any():
        raise ValueError(f"column '{year_column}' must hold integer years")
    years = years.to_numpy().astype("int64")
    key = pd.DataFrame({"town_id": ids, "year": years})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        first = key[dup].iloc[0].tolist()
        raise ValueError(f"{int(dup.sum())} rows repeat a (municipality, year), e.g. {tuple(first)}; expected one row each")
    labels = wide.index.to_numpy()
    vals = np.column_stack([_numbers(wide[c], c, labels) for c in secs])
    if (vals < 0).any():
        r, j = np.nonzero(vals < 0)
        raise ValueError(f"negative employment in column '{list(secs)[j[0]]}' at row {labels[r[0]]}")
    letters = list(secs.values())
    if residual is not None:
        if total_column not in wide.columns:
            raise ValueError(f"residual needs the total column '{total_column}'")
        tot = _numbers(wide[total_column], total_column, labels)
        rest = tot - np.nansum(vals, axis=1)
        if (rest < -1e-9 * np.maximum(tot, 1)).any():
            r = int(np.flatnonzero(rest < -1e-9 * np.maximum(tot, 1))[0])
            raise ValueError(f"'{total_column}' is below the sum of the published sections at row {labels[r]}")
        vals = np.column_stack([vals, np.maximum(rest, 0.0)])
        letters = [*letters, residual]
    n, k = vals.shape
    out = pd.DataFrame({
        "town_id": pd.array(np.repeat(ids, k), dtype="str"),
        "year": np.repeat(years, k),
        "sector": pd.array(np.tile(np.asarray(letters, dtype=object), n), dtype="str"),
        "employment": vals.reshape(-1),
    })
    return out.sort_values(["town_id", "year", "sector"], kind="stable").reset_index(drop=True)


def residual_sectors_table(residual: str = "other") -> pd.DataFrame:
    """The ``sectors`` table that makes the residual sector of :func:`employment_from_wide`
    valid: the 21 OKVED-2 sections map to themselves, the residual to itself."""
    codes = [*OKVED_SECTIONS, residual]
    return pd.DataFrame({"sector": codes, "section": codes})


def towns_from_wide(wide: pd.DataFrame, id_column: str = "oktmo", name_column: str = "municipality",
                    region_column: str = "region_name", coordinates: pd.DataFrame | None = None,
                    year_column: str | None = "year") -> pd.DataFrame:
    """A ``towns`` skeleton: one row per municipality with ``town_id``, ``name``, ``region``
    (the name and region of its latest year) and ``lat``, ``lon``.

    ``coordinates``, a DataFrame indexed by OKTMO (any form :func:`oktmo8` reads) with ``lat``
    and ``lon`` (e.g. the administrative centres of the SberIndex municipal dictionary), fills
    the coordinates; municipalities without coordinates keep NaN and ``TownData`` will name
    them, since the contract needs coordinates.
    """
    for c in (id_column, name_column, region_column):
        if c not in wide.columns:
            raise ValueError(f"wide table lacks the column '{c}'; found {list(wide.columns)[:20]}")
    w = wide.assign(_id=oktmo8(wide[id_column]).to_numpy())
    if year_column is not None and year_column in w.columns:
        w = w.sort_values(year_column, kind="stable")
    last = w.groupby("_id", sort=True).last()
    towns = pd.DataFrame({"town_id": last.index.astype("str"), "name": last[name_column].astype("str").to_numpy(),
                          "region": last[region_column].astype("str").to_numpy()})
    if coordinates is not None:
        need = {"lat", "lon"}
        if not need <= set(coordinates.columns):
            raise ValueError(f"coordinates must have columns 'lat' and 'lon'; found {list(coordinates.columns)}")
        c = coordinates[["lat", "lon"]].copy()
        c.index = oktmo8(pd.Series(c.index)).to_numpy()
        c = c[~c.index.duplicated(keep="first")]
        towns = towns.join(c, on="town_id")
    else:
        towns["lat"] = np.nan
        towns["lon"] = np.nan
    return towns


def outcomes_from_wide(wide: pd.DataFrame, columns: dict[str, str], id_column: str = "oktmo",
                       year_column: str = "year") -> pd.DataFrame:
    """An ``outcomes`` table (``town_id``, ``year`` and the renamed ``columns``), e.g.
    ``{"wage_total": "avg_wage"}``. Empty cells stay missing; Rosstat marks are read as in
    :func:`employment_from_wide`."""
    absent = [c for c in [id_column, year_column, *columns] if c not in wide.columns]
    if absent:
        raise ValueError(f"wide table lacks column(s) {absent}")
    labels = wide.index.to_numpy()
    out = pd.DataFrame({"town_id": oktmo8(wide[id_column]).to_numpy(),
                        "year": pd.to_numeric(wide[year_column]).astype("int64").to_numpy()})
    for src, dst in columns.items():
        out[dst] = _numbers(wide[src], src, labels)
    return out.sort_values(["town_id", "year"], kind="stable").reset_index(drop=True)
