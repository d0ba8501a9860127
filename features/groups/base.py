"""What a feature group is, and what the feature builder hands it.

A feature group (:class:`FeatureGroup`) is the unit of the feature table: its columns (the
entries of :data:`features.dictionary.FEATURES` with its name), its requirements (what the data
must hold for the group to be built) and its computation, which turns the shared panel of the
scored data into its columns by calling the index kernels. The builder
(:class:`features.FeatureBuilder`) orchestrates: ``fit`` learns the shared reference and asks each
planned group to learn its own; ``transform`` builds the shared panel pass, in which the groups
that work on sector shares fill their columns one year at a time (:class:`RowBlock`), then asks
each planned group for its columns (:class:`Scoring` holds what they read).

The functions of a group take the builder first: its parameters (``mp_beta``, ``base``, ...) and
its fitted reference (``sectors_``, ``national_``, ``cores_``, ...) are what they read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..diversification import entropy_rows
from ..panel import positions
from ..specialization import hhi_rows

__all__ = ["FeatureGroup", "Panel", "RowBlock", "Scoring", "lookup", "nearest_year", "sum_at"]


@dataclass(frozen=True)
class Panel:
    """The town-years of a dataset: index, sectors, the long table's cells (row, column,
    value with suppressed = 0), published totals, coverage and, when a planned group needs
    sector shares, the dense town-year x sector matrix ``E``."""

    index: pd.MultiIndex
    columns: list
    cpos: np.ndarray
    rpos: np.ndarray
    values: np.ndarray
    total: np.ndarray
    coverage: np.ndarray
    E: pd.DataFrame | None


class RowBlock:
    """The town-years of one year in the shared pass over the sector matrix.

    ``rows``: their positions in the panel; ``s``: their sector shares over the published
    sectors (NaN = suppressed), ``valid``: rows with published employment; ``S``: the
    complete-case national reference shares of the year; ``k``: number of fitted sectors;
    ``lf``: ``ln(base)`` of the builder's log base. ``hhi`` and ``entropy`` are computed once
    for every group that reads them (a group that computes the entropy with its variety sets
    ``entropy``, so the others reuse it).
    """

    def __init__(self, rows: np.ndarray, s: np.ndarray, valid: np.ndarray, S: np.ndarray, k: int, lf: float):
        self.rows, self.s, self.valid, self.S, self.k, self.lf = rows, s, valid, S, k, lf
        self._hhi: np.ndarray | None = None
        self._entropy: np.ndarray | None = None

    @property
    def hhi(self) -> np.ndarray:
        if self._hhi is None:
            self._hhi = hhi_rows(self.s, self.valid)
        return self._hhi

    @property
    def entropy(self) -> np.ndarray:
        if self._entropy is None:
            self._entropy = entropy_rows(self.s, self.valid, self.lf)
        return self._entropy

    @entropy.setter
    def entropy(self, value: np.ndarray) -> None:
        self._entropy = value


@dataclass
class Scoring:
    """What the planned groups read when they compute their columns.

    ``data``: the scored :class:`features.TownData`; ``panel``: its :class:`Panel`; ``years``: the
    year of each panel row; ``rows``: an empty DataFrame on the panel's index; ``fitted_data``:
    the scored data is the fitted data (``fit_transform``); ``X``: the sector matrix as an array
    (None without share groups); ``order``, ``bounds``: the panel rows sorted by year and the
    limits of each year's block; ``state``: what each group's row kernel filled in the shared
    pass; ``fy``, ``edges``: the scored firm-years and ownership network (firm groups);
    ``towns``: the reference municipalities updated with the scored ones; ``links``: the links
    table grouped by pair (the scored data's, else the fitted one).
    """

    data: Any
    panel: Panel
    years: np.ndarray
    rows: pd.DataFrame
    fitted_data: bool
    X: np.ndarray | None = None
    order: np.ndarray | None = None
    bounds: np.ndarray | None = None
    state: dict[str, dict] = field(default_factory=dict)
    fy: pd.DataFrame | None = None
    edges: pd.DataFrame | None = None
    towns: pd.DataFrame | None = None
    links: pd.DataFrame | None = None


@dataclass(frozen=True)
class FeatureGroup:
    """A feature group: its name, what it needs and how it computes its columns.

    Attributes
    ----------
    name : the group name; its columns are the data dictionary's entries of this group
    compute : ``compute(builder, scoring) -> {column: array aligned with the panel}``
    needs : shared inputs: ``"shares"`` (the town-year x sector matrix), ``"firms"`` (the
        classified firm registry), ``"edges"`` (the ownership network), ``"links"`` (the links
        table grouped by pair)
    unsupported : ``unsupported(builder, data) -> str | None``: why the data cannot support
        the group (None: it can); called with the builder's ``cores_`` known
    fitted : ``((attribute, value when the group is not planned), ...)``: the fitted
        attributes the group's ``fit`` sets
    fit : ``fit(builder, data, panel)``: learn the group's own reference
    start_rows, fill_rows : the group's row kernel in the shared pass: ``start_rows(builder,
        n) -> state`` (the arrays to fill), ``fill_rows(builder, state, block)`` for each
        :class:`RowBlock`; ``compute`` finds the state in ``scoring.state[name]``
    selectable : a user can ask for (or leave out) the group by name
    """

    name: str
    compute: Callable[[Any, Scoring], dict[str, np.ndarray]]
    needs: frozenset[str] = frozenset()
    unsupported: Callable[[Any, Any], str | None] | None = None
    fitted: tuple[tuple[str, Any], ...] = ()
    fit: Callable[[Any, Any, Panel], None] | None = None
    start_rows: Callable[[Any, int], dict] | None = None
    fill_rows: Callable[[Any, dict, RowBlock], None] | None = None
    selectable: bool = True


def nearest_year(fitted_years: np.ndarray, years) -> np.ndarray:
    """Nearest fitted year for each year (the earlier one on ties)."""
    fy = fitted_years
    years = np.asarray(years)
    pos = np.searchsorted(fy, years)
    lo = fy[np.clip(pos - 1, 0, len(fy) - 1)]
    hi = fy[np.clip(pos, 0, len(fy) - 1)]
    return np.where(np.abs(years - lo) <= np.abs(hi - years), lo, hi)


def sum_at(rows: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` at each of ``n`` rows; entries with row -1 are left out."""
    ok = rows >= 0
    return np.bincount(rows[ok], weights=weights[ok], minlength=n).astype(float)


def lookup(table: pd.DataFrame, ids, years) -> np.ndarray:
    """Values of a town x year table at (town, year) pairs, vectorized."""
    r = positions(table.index, ids)
    c = table.columns.get_indexer(years)
    vals = table.to_numpy()
    ok = (r >= 0) & (c >= 0)
    res = np.full(len(r), np.nan)
    res[ok] = vals[r[ok], c[ok]]
    return res
