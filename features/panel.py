"""From the contract's long tables to the matrices the index functions take."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .sectors import OKVED_DIVISIONS, OKVED_SECTIONS

__all__ = ["employment_matrix", "sector_order"]


def sector_order(codes) -> list[str]:
    """Canonical order of sector codes: OKVED-2 sections A..U, then divisions 01..99, then
    other codes alphabetically."""
    sec_rank = {c: i for i, c in enumerate(OKVED_SECTIONS)}
    div_rank = {c: i for i, c in enumerate(sorted(OKVED_DIVISIONS))}

    def key(c: str):
        if c in sec_rank:
            return (0, sec_rank[c], c)
        if c in div_rank:
            return (1, div_rank[c], c)
        return (2, 0, c)

    return sorted({str(c) for c in codes}, key=key)


def _sorted_factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)``, sorting the distinct values rather than the codes."""
    codes, uniq = pd.factorize(values)
    uniq = np.asarray(uniq, dtype=object if values.dtype == "str" else None)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniq[order]


def _panel_cells(employment: pd.DataFrame, sectors=None, value: str = "employment", check_unique: bool = True,
                 unknown_hint: str = ""):
    """Row and column positions of the long table's cells in the (town_id, year) x sector matrix:
    ``(row_index, col_index, flat_positions, row_positions, values)``; ``unknown_hint`` ends the
    message about sectors outside ``sectors``."""
    need = ["town_id", "year", "sector", value]
    absent = [c for c in need if c not in employment.columns]
    if absent:
        raise ValueError(f"employment must have columns {need}; missing {absent}")
    if not len(employment):
        idx = pd.MultiIndex.from_arrays([pd.Index([], dtype="str"), pd.Index([], dtype="int64")], names=["town_id", "year"])
        empty = np.zeros(0, dtype=np.int64)
        return idx, pd.Index(list(sectors or []), name="sector"), empty, empty, np.zeros(0)
    sec_codes, sec_uniq = pd.factorize(employment["sector"].astype(str))
    sec_uniq = [str(s) for s in sec_uniq]
    cols = sector_order(sec_uniq) if sectors is None else [str(s) for s in sectors]
    col_index = pd.Index(cols, name="sector")
    upos = col_index.get_indexer(sec_uniq)
    if (upos < 0).any():
        unknown = sorted(np.asarray(sec_uniq, dtype=object)[upos < 0])
        raise ValueError(f"sector(s) {unknown[:10]} are not in the sector universe {cols[:10]}...{unknown_hint}")
    cpos = upos[sec_codes]
    tcodes, towns = _sorted_factorize(employment["town_id"].astype(str))
    ycodes, years = _sorted_factorize(employment["year"].astype("int64"))
    ny = len(years)
    key = tcodes.astype(np.int64) * ny + ycodes
    present = np.zeros(len(towns) * ny, dtype=bool)
    present[key] = True
    cells = np.flatnonzero(present)
    rank = np.cumsum(present) - 1  # row of each present (town, year) key
    rpos = rank[key]
    k = len(cols)
    flat_pos = rpos * k + cpos
    if check_unique:
        counts = np.bincount(flat_pos, minlength=len(cells) * k)
        if counts.max(initial=0) > 1:
            flat = np.flatnonzero(counts > 1)[0]
            t_, y_ = divmod(int(cells[flat // k]), ny)
            raise ValueError(
                f"employment has {int((counts > 1).sum())} (town_id, year, sector) key(s) given more than once, "
                f"e.g. ({towns[t_]!r}, {int(years[y_])}, {cols[flat % k]!r}); expected one row per key"
            )
        del counts
    row_index = pd.MultiIndex.from_arrays(
        [pd.Index(np.asarray(towns, dtype=object)[cells // ny], dtype="str"),
         pd.Index(np.asarray(years)[cells % ny], dtype="int64")],
        names=["town_id", "year"],
    )
    return row_index, col_index, flat_pos, rpos, employment[value].to_numpy(dtype=float, na_value=np.nan)


def employment_matrix(employment: pd.DataFrame, sectors=None, value: str = "employment",
                      check_unique: bool = True) -> pd.DataFrame:
    """Pivot the long ``employment`` table into a (town_id, year) x sector matrix.

    A (town, year, sector) row that is absent means no employment in that sector (0); a row
    present with an empty value is suppressed and stays ``NaN``. Only town-years that have at
    least one row appear, sorted by town and year. Vectorized (factorize + scatter), no
    group-wise Python code.

    Parameters
    ----------
    employment : DataFrame with ``town_id``, ``year``, ``sector`` and ``value``
    sectors : list of str, optional
        Columns of the result, in this order (a fitted sector universe). Sectors of the table
        missing from it raise ``ValueError``; default: the sectors present, canonical order.
    check_unique : bool
        Check that no (town, year, sector) is given twice (default). A validated
        :class:`features.TownData` guarantees it already, so the feature builder skips it.

    Raises
    ------
    ValueError
        Missing columns, sectors outside ``sectors``, or a (town, year, sector) given twice
        (the matrix would have to drop one of them).
    """
    row_index, col_index, flat_pos, _, values = _panel_cells(employment, sectors, value, check_unique)
    X = np.zeros((len(row_index), len(col_index)))
    X.reshape(-1)[flat_pos] = values
    return pd.DataFrame(X, index=row_index, columns=col_index, copy=False)  # X is ours: no copy
