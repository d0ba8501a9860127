"""The spatial weights object: sparse, immutable, indexed by ``town_id``.

:class:`SpatialWeights` is what every builder of :mod:`features.spatial` returns and what the
statistics (:func:`features.spatial.moran`, ...) and the spatial models take. It holds a
``scipy.sparse.csr_array`` (``n x n``, zero diagonal, read-only buffers), the towns' ids in its
row order, the transform of the weights and how they were built. Transforms follow libpysal
(``libpysal.weights.W.transform``):

* ``"o"``: original weights ``w_ij`` (as built: 1 for binary, ``d^-p``, kernel values...);
* ``"b"``: binary, ``1`` where ``w_ij != 0``;
* ``"r"``: row-standardized, ``w_ij / sum_j w_ij`` (a row of an island stays zero);
* ``"d"``: doubly standardized, ``w_ij / S0`` (all weights sum to one);
* ``"v"``: variance-stabilizing (Tiefelsdorf, Griffith & Boots 1999), ``s_ij = w_ij / q_i`` with
  ``q_i = sqrt(sum_j w_ij^2)``, then scaled by ``n / sum_ij s_ij``.

The original weights are kept (``base``) so that a transform or a subset is always computed from
them, never from already transformed numbers.

Reference: Anselin, L. & Rey, S. J. (2014) *Modern Spatial Econometrics in Practice*, GeoDa
Press, ch. 3-4; Rey, S. J. & Anselin, L. (2007) "PySAL: a Python library of spatial analytical
methods", *Review of Regional Studies* 37(1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["TRANSFORMS", "SpatialWeights", "SpatialWeightsWarning", "from_triplets"]

#: The transforms of the weights (libpysal's names, lower case).
TRANSFORMS = ("o", "b", "r", "d", "v")


class SpatialWeightsWarning(UserWarning):
    """Something about spatial weights that changes what a statistic means: islands (towns with
    no neighbour), towns left out for missing values."""


def _readonly(a: sparse.csr_array) -> sparse.csr_array:
    for buf in (a.data, a.indices, a.indptr):
        buf.flags.writeable = False
    return a


def _transformed(base: sparse.csr_array, transform: str) -> sparse.csr_array:
    """The weights ``base`` (original, zero diagonal) under ``transform``."""
    w = base.copy()
    if transform == "o":
        return w
    if transform == "b":
        w.data = np.ones_like(w.data)
        return w
    if transform == "r":
        rs = np.asarray(w.sum(axis=1)).ravel()
        w.data = w.data / np.repeat(np.where(rs == 0, 1.0, rs), np.diff(w.indptr))
        return w
    if transform == "d":
        s0 = w.data.sum()
        w.data = w.data / (s0 if s0 else 1.0)
        return w
    if transform == "v":
        q = np.sqrt(np.asarray(w.multiply(w).sum(axis=1)).ravel())
        w.data = w.data / np.repeat(np.where(q == 0, 1.0, q), np.diff(w.indptr))
        total = w.data.sum()
        w.data = w.data * (w.shape[0] / total if total else 1.0)
        return w
    raise ValueError(f"transform must be one of {TRANSFORMS} (libpysal's names), got {transform!r}")


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """Sparse spatial weights between towns.

    Attributes
    ----------
    sparse : scipy.sparse.csr_array
        ``n x n``, zero diagonal, sorted indices, read-only buffers: row ``i`` holds the weights
        ``w_ij`` of town ``ids[i]``'s neighbours ``j``.
    ids : pandas.Index
        ``town_id`` of the rows (and columns), unique.
    transform : str
        ``"r"`` row-standardized, ``"b"`` binary, ``"o"`` original, ``"d"`` doubly standardized,
        ``"v"`` variance-stabilizing (see the module).
    kind : str
        How the weights were built, e.g. ``"knn(k=6)"``.
    base : scipy.sparse.csr_array, optional
        The original weights (``transform="o"``), from which transforms and subsets are
        computed; default ``sparse`` itself.

    Notes
    -----
    Build it with the functions of :mod:`features.spatial` (``knn_weights``, ...) or
    :func:`from_triplets`; the constructor checks the shape, the ids and the diagonal.
    """

    sparse: sparse.csr_array
    ids: pd.Index
    transform: str = "r"
    kind: str = "custom"
    base: sparse.csr_array | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        ids = pd.Index(self.ids)
        if ids.has_duplicates:
            raise ValueError(f"SpatialWeights: duplicate town_id {list(ids[ids.duplicated()].unique()[:5])}")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"SpatialWeights: transform must be one of {TRANSFORMS}, got {self.transform!r}")
        w = _canonical(self.sparse, len(ids), "sparse")
        base = w if self.base is None else _canonical(self.base, len(ids), "base")
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "sparse", _readonly(w))
        object.__setattr__(self, "base", base if base is w else _readonly(base))

    # -- sizes and summaries ------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of towns."""
        return len(self.ids)

    @property
    def n_neighbors(self) -> pd.Series:
        """Number of neighbours of each town (non-zero weights of its row), by ``town_id``."""
        return pd.Series(np.diff(self.sparse.indptr), index=self.ids, name="n_neighbors")

    @property
    def islands(self) -> pd.Index:
        """``town_id`` of the towns with no neighbour (an empty row)."""
        return self.ids[np.diff(self.sparse.indptr) == 0]

    @property
    def s0(self) -> float:
        """``S0 = sum_ij w_ij``."""
        return float(self.sparse.data.sum())

    @property
    def s1(self) -> float:
        """``S1 = 1/2 sum_ij (w_ij + w_ji)^2``."""
        t = self.sparse + self.sparse.T
        return float(0.5 * (t.data**2).sum())

    @property
    def s2(self) -> float:
        """``S2 = sum_i (w_i. + w_.i)^2`` (row plus column sums)."""
        r = np.asarray(self.sparse.sum(axis=1)).ravel()
        c = np.asarray(self.sparse.sum(axis=0)).ravel()
        return float(((r + c) ** 2).sum())

    @property
    def is_symmetric(self) -> bool:
        """Whether ``w_ij == w_ji`` for every pair (to 1e-12 relative)."""
        d = self.sparse - self.sparse.T
        return bool(d.nnz == 0 or np.abs(d.data).max() <= 1e-12 * max(np.abs(self.sparse.data).max(), 1.0))

    def __repr__(self) -> str:
        k = self.n_neighbors
        return (f"SpatialWeights({self.kind}, n={self.n}, transform={self.transform!r}, "
                f"neighbours {k.min() if self.n else 0}-{k.max() if self.n else 0} "
                f"(mean {k.mean() if self.n else 0:.2f}), islands={len(self.islands)})")

    # -- new weights ----------------------------------------------------------------------
    def transformed(self, transform: str) -> SpatialWeights:
        """The same weights under another transform (computed from the original weights)."""
        return SpatialWeights(_transformed(self.base, transform), self.ids, transform, self.kind, self.base)

    def reindex(self, ids, warn: bool = True) -> SpatialWeights:
        """The weights among the towns ``ids``, in that order, re-transformed.

        Towns left out take their weights with them; the rows are then transformed again (a
        row-standardized row sums to one over the neighbours that remain). A town whose
        neighbours are all left out becomes an island (named in a warning when ``warn``).

        Raises
        ------
        KeyError
            An id that the weights do not have (the first ones are named).
        """
        ids = pd.Index(ids)
        if ids.has_duplicates:
            raise ValueError(f"reindex: duplicate town_id {list(ids[ids.duplicated()].unique()[:5])}")
        pos = self.ids.get_indexer(ids)
        if (pos < 0).any():
            raise KeyError(f"reindex: town_id not in the weights ({self.kind}): {list(ids[pos < 0][:5])}")
        base = self.base[pos][:, pos].tocsr()
        out = SpatialWeights(_transformed(base, self.transform), ids, self.transform, self.kind, base)
        if warn:
            warn_islands(out, "after reindexing")
        return out

    # -- use ---------------------------------------------------------------------------------
    def lag(self, values):
        """Spatial lag ``(W x)_i = sum_j w_ij x_j``.

        ``values`` is a Series (aligned by ``town_id``: every town of the weights must have a
        value; extra ids are an error), a DataFrame (each column lagged) or an array whose first
        axis follows ``ids``. Returns the same type, labelled by ``ids``.
        """
        if isinstance(values, pd.Series | pd.DataFrame):
            missing = self.ids.difference(values.index)
            extra = values.index.difference(self.ids)
            if len(missing) or len(extra):
                raise KeyError(f"lag: values must be indexed by the weights' town_id; missing for "
                               f"{list(missing[:5])}, not in the weights {list(extra[:5])}")
            x = values.reindex(self.ids).to_numpy(dtype=float)
            out = self.sparse @ x
            if isinstance(values, pd.Series):
                return pd.Series(out, index=self.ids, name=values.name)
            return pd.DataFrame(out, index=self.ids, columns=values.columns)
        x = np.asarray(values, dtype=float)
        if x.shape[0] != self.n:
            raise ValueError(f"lag: expected {self.n} values (one per town of the weights), got {x.shape[0]}")
        return self.sparse @ x

    def to_libpysal(self):
        """The weights as a ``libpysal.graph.Graph`` (same ids and weights; transform ``"O"`` of
        the Graph, i.e. the numbers of ``sparse`` as they are)."""
        from libpysal.graph import Graph

        return Graph.from_sparse(self.sparse.tocsr(), ids=self.ids.to_numpy())

    def to_frame(self) -> pd.DataFrame:
        """Long table ``focal``, ``neighbor``, ``weight`` (one row per non-zero weight)."""
        coo = self.sparse.tocoo()
        return pd.DataFrame({"focal": self.ids.take(coo.row), "neighbor": self.ids.take(coo.col),
                             "weight": coo.data})


def _canonical(w, n: int, what: str) -> sparse.csr_array:
    if not sparse.issparse(w):
        raise TypeError(f"SpatialWeights: {what} must be a scipy.sparse array, got {type(w).__name__}")
    if w.shape != (n, n):
        raise ValueError(f"SpatialWeights: {what} is {w.shape[0]} x {w.shape[1]}, expected {n} x {n} (one row per id)")
    w = sparse.csr_array(w, dtype=float, copy=True)
    w.sum_duplicates()
    w.sort_indices()
    if w.diagonal().any():
        bad = np.flatnonzero(w.diagonal())
        raise ValueError(f"SpatialWeights: {what} has non-zero diagonal entries (a town as its own neighbour) "
                         f"at rows {list(bad[:5])}")
    if not np.isfinite(w.data).all() or (w.data < 0).any():
        raise ValueError(f"SpatialWeights: {what} must hold finite, non-negative weights")
    w.eliminate_zeros()
    return w


def warn_islands(w: SpatialWeights, context: str = "") -> None:
    """Warn, naming them, about towns with no neighbour."""
    isl = w.islands
    if len(isl):
        shown = ", ".join(map(repr, isl[:10])) + (" ..." if len(isl) > 10 else "")
        warnings.warn(
            f"{w.kind}{' ' + context if context else ''}: {len(isl)} island(s) (town(s) with no neighbour): "
            f"{shown}. Their spatial lag is 0; a statistic counts them as values with no neighbours.",
            SpatialWeightsWarning, stacklevel=3)


def from_triplets(rows, cols, weights, ids, transform: str = "r", kind: str = "custom",
                  warn: bool = True) -> SpatialWeights:
    """Weights from positions ``(rows, cols)`` (into ``ids``) and the original weights.

    Duplicate pairs are summed; zero weights are dropped; self pairs are an error of the caller
    (the builders drop them first).
    """
    ids = pd.Index(ids)
    n = len(ids)
    base = sparse.csr_array((np.asarray(weights, dtype=float), (np.asarray(rows), np.asarray(cols))), shape=(n, n))
    base = _canonical(base, n, "weights")
    out = SpatialWeights(_transformed(base, transform), ids, transform, kind, base)
    if warn:
        warn_islands(out)
    return out
