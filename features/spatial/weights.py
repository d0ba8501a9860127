"""Sparse spatial weights between towns: the :class:`SpatialWeights` object.

This module holds the shared contract of the weights object (fields ``sparse``, ``ids``,
``transform``, ``kind``; methods ``reindex``, ``lag``; properties ``n``, ``n_neighbors``,
``islands``) in its smallest form. The builders (k nearest neighbours, distance bands,
kernels, links, the ownership network) live beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["SpatialWeights"]

TRANSFORMS = ("r", "b", "v", "o")


def _row_standardize(m: sparse.csr_array) -> sparse.csr_array:
    """``w_ij / sum_j w_ij`` (rows without neighbours stay zero)."""
    rs = np.asarray(m.sum(axis=1)).ravel()
    inv = np.divide(1.0, rs, out=np.zeros_like(rs), where=rs != 0)
    return sparse.csr_array(sparse.diags_array(inv) @ m)


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """Sparse spatial weights between towns (immutable, validated).

    Parameters
    ----------
    sparse : scipy.sparse.csr_array
        ``n x n`` weights ``w_ij`` (row ``i``: the neighbours of town ``i``), zero diagonal;
        its data are made read-only.
    ids : pandas.Index
        ``town_id`` of the rows (and columns), unique, length ``n``.
    transform : {"r", "b", "v", "o"}
        ``"r"`` row-standardized (rows sum to 1), ``"b"`` binary, ``"v"`` variance-stabilizing,
        ``"o"`` original.
    kind : str
        How the weights were built, e.g. ``"knn(k=6)"``.
    """

    sparse: sparse.csr_array
    ids: pd.Index
    transform: str = "o"
    kind: str = ""

    def __post_init__(self):
        m = sparse.csr_array(self.sparse, dtype=np.float64)
        ids = pd.Index(self.ids, name="town_id")
        if m.shape[0] != m.shape[1] or m.shape[0] != len(ids):
            raise ValueError(f"weights: sparse is {m.shape[0]} x {m.shape[1]} but ids has {len(ids)} towns; "
                             "expected a square n x n matrix with one id per row")
        if not ids.is_unique:
            raise ValueError(f"weights: ids must be unique; duplicated {list(ids[ids.duplicated()][:5])}")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"weights: transform must be one of {TRANSFORMS}; found {self.transform!r}")
        if np.any(m.diagonal() != 0):
            raise ValueError("weights: the diagonal must be zero (a town is not its own neighbour)")
        if not np.all(np.isfinite(m.data)):
            raise ValueError("weights: every weight must be finite")
        m.sum_duplicates()
        m.eliminate_zeros()
        m.data.setflags(write=False)
        object.__setattr__(self, "sparse", m)
        object.__setattr__(self, "ids", ids)

    @property
    def n(self) -> int:
        """Number of towns."""
        return len(self.ids)

    @property
    def n_neighbors(self) -> pd.Series:
        """Number of neighbours of each town."""
        return pd.Series(np.diff(self.sparse.indptr), index=self.ids, name="n_neighbors")

    @property
    def islands(self) -> pd.Index:
        """Towns without neighbours."""
        return self.ids[np.diff(self.sparse.indptr) == 0]

    def reindex(self, ids) -> SpatialWeights:
        """The weights among ``ids`` (a subset, in that order); row-standardized again when
        ``transform == "r"``."""
        ids = pd.Index(ids)
        pos = self.ids.get_indexer(ids)
        if (pos < 0).any():
            raise KeyError(f"weights: towns not in the weights: {list(ids[pos < 0][:10])}")
        m = sparse.csr_array(self.sparse[pos][:, pos])
        if self.transform == "r":
            m = _row_standardize(m)
        return SpatialWeights(m, ids, self.transform, self.kind)

    def lag(self, values) -> pd.Series:
        """Spatial lag ``(W x)_i = sum_j w_ij x_j`` of values indexed by ``town_id`` (aligned on
        :attr:`ids`; every town of the weights must have a value)."""
        s = pd.Series(values) if not isinstance(values, pd.Series) else values
        aligned = s.reindex(self.ids)
        if aligned.isna().any():
            raise ValueError(f"weights.lag: no value for towns {list(self.ids[aligned.isna().to_numpy()][:10])}")
        return pd.Series(self.sparse @ aligned.to_numpy(dtype=float), index=self.ids, name=s.name)
