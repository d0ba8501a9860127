"""The panel structure of a DataFrame: town and year codes, read from its (town_id, year) index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PanelIndex", "code_dtype", "compress_codes", "panel_index"]


@dataclass(frozen=True)
class PanelIndex:
    """Integer codes of the rows of a panel.

    ``entity`` (``0 .. n_entities-1``) and ``time`` (``0 .. n_periods-1`` in calendar order)
    code the towns and the years; ``entity_labels`` and ``time_labels`` map codes back to
    labels; :attr:`year` gives the calendar year of each row. The arrays are int32 when their
    values fit (:func:`code_dtype`; half the memory of int64 on a large panel): products of
    codes are formed in int64.
    """

    entity: np.ndarray
    time: np.ndarray
    entity_labels: np.ndarray
    time_labels: np.ndarray
    names: tuple[str, str]

    @property
    def year(self) -> np.ndarray:
        """The calendar year of each row (formed when asked: lags and first differences need it)."""
        return self.time_labels[self.time]

    @property
    def n_entities(self) -> int:
        return len(self.entity_labels)

    @property
    def n_periods(self) -> int:
        return len(self.time_labels)


def code_dtype(n_levels: int) -> type:
    """int32 for codes of fewer than ``2**31 - 1`` levels (or values), else int64."""
    return np.int32 if n_levels < 2**31 - 1 else np.int64


def compress_codes(codes: np.ndarray, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber codes so that every code in ``0 .. m-1`` is used; returns (codes, used levels).

    ``codes`` are integers in ``0 .. n_levels-1``; the new code of a level is the number of
    used levels below it, so the order of the levels is kept. The new codes have the dtype of
    ``codes`` (they are no larger)."""
    used = np.bincount(codes, minlength=n_levels) > 0
    if used.all():  # nothing to renumber: the codes themselves (no copy of a column of the panel)
        return codes, np.arange(n_levels)
    new = (np.cumsum(used) - 1).astype(codes.dtype, copy=False)
    return new[codes], np.flatnonzero(used)


def panel_index(data: pd.DataFrame) -> PanelIndex:
    """Codes of a DataFrame indexed by (town, year); raises ``ValueError`` on a bad index."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame indexed by (town_id, year); found {type(data).__name__}")
    idx = data.index
    if not isinstance(idx, pd.MultiIndex) or idx.nlevels != 2:
        raise ValueError("data must have a two-level (town_id, year) MultiIndex; found an index with "
                         f"{idx.nlevels} level(s) named {list(idx.names)} (use data.set_index(['town_id', 'year']))")
    c0 = np.asarray(idx.codes[0])
    c1 = np.asarray(idx.codes[1])
    if (c0 < 0).any() or (c1 < 0).any():
        raise ValueError(f"the (town_id, year) index has {(c0 < 0).sum() + (c1 < 0).sum()} missing labels")
    lev1 = idx.levels[1]
    if not pd.api.types.is_integer_dtype(lev1.dtype):
        vals = lev1.to_numpy()
        if pd.api.types.is_float_dtype(lev1.dtype) and np.all(vals == np.round(vals)):
            lev1 = pd.Index(vals.astype(np.int64))
        else:
            raise ValueError(f"the second index level ({idx.names[1]!r}) must hold integer years; found dtype {lev1.dtype}")
    lev_years = lev1.to_numpy().astype(np.int64)
    if len(lev_years):
        lev_years = lev_years.astype(code_dtype(int(np.abs(lev_years).max()) + 1), copy=False)
    order = np.argsort(lev_years, kind="stable")
    rank = np.empty(len(order), code_dtype(len(order)))
    rank[order] = np.arange(len(order))
    n_towns = len(idx.levels[0])
    entity, used_e = compress_codes(c0.astype(code_dtype(n_towns), copy=False), n_towns)
    time, used_t = compress_codes(rank[c1], len(lev_years))
    # duplicates: one row per (town, year)
    key = entity.astype(np.int64) * (len(used_t) + 1) + time
    if len(key) and np.bincount(key).max() > 1:
        dup = int(len(key) - len(np.unique(key)))
        raise ValueError(f"the (town_id, year) index has {dup} duplicate row(s); one row per town and year is expected")
    return PanelIndex(entity=entity, time=time, entity_labels=idx.levels[0].to_numpy()[used_e],
                      time_labels=lev_years[order][used_t],
                      names=(str(idx.names[0] or "entity"), str(idx.names[1] or "time")))
