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


def employment_matrix(employment: pd.DataFrame, sectors=None, value: str = "employment") -> pd.DataFrame:
    """Pivot the long ``employment`` table into a (town_id, year) x sector matrix.

    A (town, year, sector) row that is absent means no employment in that sector (0); a row
    present with an empty value is suppressed and stays ``NaN``. Only town-years that have at
    least one row appear. Vectorized (factorize + scatter), no group-wise Python code.

    Parameters
    ----------
    employment : DataFrame with ``town_id``, ``year``, ``sector`` and ``value``
    sectors : list of str, optional
        Columns of the result, in this order (a fitted sector universe). Sectors of the table
        missing from it raise ``ValueError``; default: the sectors present, canonical order.
    """
    if not len(employment):
        idx = pd.MultiIndex.from_arrays([pd.Index([], dtype="str"), pd.Index([], dtype="int64")], names=["town_id", "year"])
        return pd.DataFrame(index=idx, columns=pd.Index(list(sectors or []), name="sector"), dtype=float)
    cols = sector_order(employment["sector"].unique()) if sectors is None else [str(s) for s in sectors]
    col_index = pd.Index(cols, name="sector")
    cpos = col_index.get_indexer(employment["sector"].astype(str))
    if (cpos < 0).any():
        unknown = sorted(set(employment["sector"].astype(str)[cpos < 0]))
        raise ValueError(f"sector(s) {unknown[:10]} are not in the sector universe {cols[:10]}...")
    keys = pd.MultiIndex.from_arrays([employment["town_id"].astype(str), employment["year"].astype("int64")],
                                     names=["town_id", "year"])
    rpos, row_index = pd.factorize(keys, sort=True)
    X = np.zeros((len(row_index), len(cols)))
    X[rpos, cpos] = employment[value].to_numpy(dtype=float, na_value=np.nan)
    row_index = pd.MultiIndex.from_tuples(list(row_index), names=["town_id", "year"]) if not isinstance(row_index, pd.MultiIndex) else row_index
    row_index = row_index.set_names(["town_id", "year"])
    return pd.DataFrame(X, index=row_index, columns=col_index)
