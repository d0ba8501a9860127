"""Cluster codes of the rows of a model: a data column, an index level, the towns or the years.

Every function is pure: it takes the data (or integer codes) and returns integer codes
``0 .. G-1`` with the number of clusters ``G``. The covariance estimators
(:mod:`models.covariance`) and the discrete models (:mod:`models.discrete`) use them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .formula import FormulaError
from .panel import compress_codes

__all__ = ["cluster_codes", "cluster_values", "group_cluster_codes", "intersect_codes", "nested"]


def cluster_values(data: pd.DataFrame, dim: str) -> pd.Series:
    """The values of a cluster column or index level (row-aligned with ``data``), or a clear error."""
    if dim in data.columns:
        return data[dim]
    if dim in [n for n in data.index.names if n]:
        return pd.Series(data.index.get_level_values(dim), index=data.index)
    raise FormulaError(f"cluster column {dim!r} is not in the data; use 'entity', 'time', "
                       f"'entity+time' or one of the columns {list(map(str, data.columns))[:20]}")


def cluster_codes(dim: str, data: pd.DataFrame, rows: np.ndarray | None, entity: np.ndarray, time: np.ndarray,
                  n_entities: int, n_periods: int) -> tuple[np.ndarray, int]:
    """Codes of the clusters ``dim`` of the rows used (``rows`` of ``data``; ``None``: all).

    ``"entity"`` and ``"time"`` are the towns and years (``entity``/``time``, codes of the rows
    used); any other name is a column or index level of ``data``, its values coded in sorted
    order (an index level: in the order of its levels)."""
    levels = list(data.index.names) if isinstance(data.index, pd.MultiIndex) and dim not in data.columns else []
    if dim == "entity" or levels[:1] == [dim]:  # the town level of the panel index: its codes
        return entity, n_entities
    if dim == "time" or levels[1:2] == [dim]:
        return time, n_periods
    if dim in levels:
        i = list(data.index.names).index(dim)
        codes = np.asarray(data.index.codes[i], dtype=np.int64)
        codes, used = compress_codes(codes if rows is None else codes[rows], len(data.index.levels[i]))
        return codes, len(used)
    vals = cluster_values(data, dim)
    v = vals.to_numpy()[rows] if rows is not None else vals.to_numpy()
    codes, uniq = pd.factorize(v, sort=True)
    return codes.astype(np.int64), len(uniq)


def intersect_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of the intersection of two clusterings (pairs present in the data)."""
    pair = a.astype(np.int64) * (int(b.max()) + 1) + b
    uniq, codes = np.unique(pair, return_inverse=True)
    return codes, len(uniq)


def nested(inner: np.ndarray, n_inner: int, outer: np.ndarray) -> bool:
    """Each level of ``inner`` (codes ``0 .. n_inner-1``, all present) lies in one level of
    ``outer``: the outer code of any row of a level is that of every row of the level."""
    one = np.zeros(n_inner, dtype=outer.dtype)
    one[inner] = outer
    return bool((one[inner] == outer).all())


def group_cluster_codes(codes: np.ndarray, n_clusters: int, groups: np.ndarray, n_groups: int,
                        ) -> tuple[np.ndarray, int] | None:
    """Cluster codes of groups of rows (the rows of a between regression are town or year means).

    ``codes`` cluster the rows, ``groups`` map each row to its group; returns the cluster of
    each group, renumbered ``0 .. G-1``, or ``None`` when a group spans two clusters."""
    if not nested(groups, n_groups, codes):
        return None
    first = np.zeros(n_groups, np.int64)
    first[groups] = codes
    return compress_codes(first, n_clusters)[0], len(np.unique(first))
