"""From the contract's long tables to the matrices the index functions take."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .sectors import OKVED_DIVISIONS, OKVED_SECTIONS

__all__ = ["employment_matrix", "member", "panel_cells", "positions", "row_positions", "sector_order",
           "sorted_factorize"]


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


def sorted_factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)``, sorting the distinct values rather than the codes."""
    codes, uniq = pd.factorize(values)
    uniq = np.asarray(uniq, dtype=object if values.dtype == "str" else None)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniq[order]


class _Cells(NamedTuple):
    """Where the long table's cells go in the (town_id, year) x sector matrix.

    ``rpos`` / ``cpos``: row and column of each cell; ``values``: its value (NaN = suppressed).
    ``starts`` / ``run_rows``: when the table holds its cells in runs of consecutive rows with
    the same (town_id, year), as exports sorted by town and year do, the first cell of each run
    and the run's row (``None`` otherwise); per-row sums then add runs, not cells.
    """

    index: pd.MultiIndex
    columns: pd.Index
    rpos: np.ndarray
    cpos: np.ndarray
    values: np.ndarray
    starts: np.ndarray | None
    run_rows: np.ndarray | None

    def flat(self) -> np.ndarray:
        """Position of each cell in the row-major (rows x sectors) matrix."""
        return self.rpos * len(self.columns) + self.cpos

    def row_sums(self, x: np.ndarray) -> np.ndarray:
        """Sum of a per-cell float array over each row."""
        n = len(self.index)
        if self.starts is None:
            return np.bincount(self.rpos, weights=x, minlength=n)
        return np.bincount(self.run_rows, weights=np.add.reduceat(x, self.starts), minlength=n)

    def row_counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Number of cells of each row (where ``mask`` holds, if given; cheap for a sparse mask)."""
        n = len(self.index)
        if mask is not None:
            return np.bincount(self.rpos[np.flatnonzero(mask)], minlength=n)
        if self.starts is None:
            return np.bincount(self.rpos, minlength=n)
        return np.bincount(self.run_rows, weights=np.diff(np.r_[self.starts, len(self.rpos)]), minlength=n)


def _run_starts(town: pd.Series, year: np.ndarray) -> np.ndarray | None:
    """First row of each run of consecutive rows with the same (town_id, year), or ``None``
    when finding them would cost a pass over every string (ids not Arrow-backed or missing)
    or the runs are too short to save anything."""
    n = len(year)
    dtype = town.dtype
    if n < 2 or not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(town)  # the Arrow buffer itself, no copy
    if arr.null_count:
        return None
    change = np.empty(n, dtype=bool)
    change[0] = True
    change[1:] = pc.not_equal(arr[1:], arr[:-1]).to_numpy(zero_copy_only=False)
    change[1:] |= year[1:] != year[:-1]
    starts = np.flatnonzero(change)
    return starts if len(starts) <= n // 4 else None


def positions(index: pd.Index, values) -> np.ndarray:
    """``index.get_indexer(values)`` (-1 where absent) for an index of unique labels, looking up
    each distinct value once: pandas turns Arrow strings into Python objects to look them up,
    which costs more than hashing them when the values repeat."""
    codes, uniq = pd.factorize(values)
    return np.r_[index.get_indexer(uniq), -1][codes]  # code -1 (missing) takes the last slot


def row_positions(index: pd.MultiIndex, town_ids, years) -> np.ndarray:
    """Row of each (town_id, year) pair in a (town_id, year) index of unique rows, -1 where the
    pair is not a row; hashes each distinct id once against the index's town level."""
    if not index.is_unique:
        raise ValueError("the (town_id, year) index has repeated rows; expected one row per town-year")
    towns, yrs = index.levels
    table = np.full((len(towns), len(yrs)), -1, dtype=np.int64)
    table[index.codes[0], index.codes[1]] = np.arange(len(index))
    t = positions(towns, town_ids)
    y = yrs.get_indexer(np.asarray(years))
    ok = (t >= 0) & (y >= 0)
    out = np.full(len(t), -1, dtype=np.int64)
    out[ok] = table[t[ok], y[ok]]
    return out


def member(values, lookup) -> np.ndarray:
    """``values.isin(lookup)`` as a boolean array (pandas' ``isin`` on Arrow strings builds one
    Python object per lookup value; this hashes both sides once)."""
    ref = pd.Index(list(lookup) if isinstance(lookup, set | frozenset | dict) else lookup)
    if not ref.is_unique:
        ref = ref.unique()
    return positions(ref, values) >= 0


def panel_cells(employment: pd.DataFrame, sectors=None, value: str = "employment", check_unique: bool = True,
                 unknown_hint: str = "") -> _Cells:
    """The cells of the long table in the (town_id, year) x sector matrix (see :class:`_Cells`);
    ``unknown_hint`` ends the message about sectors outside ``sectors``.

    Town ids are hashed once per run of rows with the same (town_id, year) when the table is
    stored in such runs, else once per row; the rows are the same either way."""
    need = ["town_id", "year", "sector", value]
    absent = [c for c in need if c not in employment.columns]
    if absent:
        raise ValueError(f"employment must have columns {need}; missing {absent}")
    if not len(employment):
        idx = pd.MultiIndex.from_arrays([pd.Index([], dtype="str"), pd.Index([], dtype="int64")], names=["town_id", "year"])
        empty = np.zeros(0, dtype=np.int64)
        return _Cells(idx, pd.Index(list(sectors or []), name="sector"), empty, empty, np.zeros(0), None, None)
    sec_codes, sec_uniq = pd.factorize(employment["sector"].astype(str))
    sec_uniq = [str(s) for s in sec_uniq]
    cols = sector_order(sec_uniq) if sectors is None else [str(s) for s in sectors]
    col_index = pd.Index(cols, name="sector")
    upos = col_index.get_indexer(sec_uniq)
    if (upos < 0).any():
        unknown = sorted(np.asarray(sec_uniq, dtype=object)[upos < 0])
        raise ValueError(f"sector(s) {unknown[:10]} are not in the sector universe {cols[:10]}...{unknown_hint}")
    cpos = upos[sec_codes]
    del sec_codes
    town = employment["town_id"].astype(str)
    year = employment["year"].to_numpy(dtype="int64")
    starts = _run_starts(town, year)
    if starts is not None:  # one key per run
        town, year = town.iloc[starts], year[starts]
    tcodes, towns = sorted_factorize(town)
    ycodes, years = sorted_factorize(pd.Series(year))
    ny = len(years)
    key = tcodes.astype(np.int64) * ny + ycodes
    present = np.zeros(len(towns) * ny, dtype=bool)
    present[key] = True
    cells = np.flatnonzero(present)
    rank = np.cumsum(present) - 1  # row of each present (town, year) key
    run_rows = rank[key]
    if starts is None:
        rpos = run_rows
    else:
        rpos = np.repeat(run_rows, np.diff(np.r_[starts, len(employment)]))
    k = len(cols)
    out = _Cells(
        pd.MultiIndex.from_arrays(
            [pd.Index(np.asarray(towns, dtype=object)[cells // ny], dtype="str"),
             pd.Index(np.asarray(years)[cells % ny], dtype="int64")],
            names=["town_id", "year"]),
        col_index, rpos, cpos, employment[value].to_numpy(dtype=float, na_value=np.nan),
        starts, None if starts is None else run_rows)
    if check_unique:
        counts = np.bincount(out.flat(), minlength=len(cells) * k)
        if counts.max(initial=0) > 1:
            flat = np.flatnonzero(counts > 1)[0]
            t_, y_ = divmod(int(cells[flat // k]), ny)
            raise ValueError(
                f"employment has {int((counts > 1).sum())} (town_id, year, sector) key(s) given more than once, "
                f"e.g. ({towns[t_]!r}, {int(years[y_])}, {cols[flat % k]!r}); expected one row per key"
            )
    return out


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
    cells = panel_cells(employment, sectors, value, check_unique)
    X = np.zeros((len(cells.index), len(cells.columns)))
    X.reshape(-1)[cells.flat()] = cells.values
    return pd.DataFrame(X, index=cells.index, columns=cells.columns, copy=False)  # X is ours: no copy
