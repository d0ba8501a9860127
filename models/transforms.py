"""Panel transformations as pure, vectorized functions of arrays and integer group codes.

Every function takes the rows of a panel (any order) with integer codes of their groups
(``0 .. G-1``) and returns new arrays; nothing is modified in place. Group sums use
``numpy.bincount``, so the cost is linear in the number of rows.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TwoWayProjector",
    "consecutive_pairs",
    "group_means",
    "group_sums",
    "within",
]


def group_sums(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of ``values`` (1-d or 2-d, rows) over groups: shape ``(n_groups,)`` or ``(n_groups, k)``."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_groups)
    out = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):  # loop over columns, not rows
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_groups)
    return out


def group_means(values: np.ndarray, codes: np.ndarray, n_groups: int, counts: np.ndarray | None = None) -> np.ndarray:
    """Means of ``values`` over groups (``NaN`` for empty groups)."""
    if counts is None:
        counts = np.bincount(codes, minlength=n_groups)
    sums = group_sums(values, codes, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / (counts if values.ndim == 1 else counts[:, None])


def within(values: np.ndarray, codes: np.ndarray, n_groups: int, counts: np.ndarray | None = None) -> np.ndarray:
    """One-way within transformation ``v_it - mean_i(v)`` (the means of the rows are formed in
    the array returned: one array of the size of ``values``)."""
    out = group_means(values, codes, n_groups, counts)[codes]
    return np.subtract(values, out, out=out)


class TwoWayProjector:
    """Exact two-way within transformation of an (unbalanced) panel.

    Removes the effects of both factors by the Frisch-Waugh-Lovell theorem: demean by the
    factor with more levels (``a``), then partial out the indicators of the other factor
    (``b``, dropped first level) after they are themselves demeaned by ``a``. The normal
    matrix of the demeaned indicators is ``diag(n_b) - C diag(1/n_a) C'`` with ``C`` the
    ``b`` by ``a`` table of counts, so no dense matrix of indicators is ever formed and the
    result is exact (no iteration), whatever the pattern of missing cells.

    ``rank_b`` is the number of degrees of freedom the second factor absorbs (``L_b - 1``
    in a connected panel).
    """

    def __init__(self, a: np.ndarray, n_a: int, b: np.ndarray, n_b: int):
        self.a, self.n_a, self.b, self.n_b = a, n_a, b, n_b
        self.count_a = np.bincount(a, minlength=n_a).astype(float)
        count_b = np.bincount(b, minlength=n_b).astype(float)
        table = np.bincount(b.astype(np.int64) * n_a + a, minlength=n_b * n_a).reshape(n_b, n_a).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_a = np.where(self.count_a > 0, 1.0 / self.count_a, 0.0)
        gram = np.diag(count_b) - (table * inv_a) @ table.T
        g = gram[1:, 1:]
        # a pseudo-inverse handles disconnected panels (rank below L_b - 1)
        w, v = np.linalg.eigh(g) if g.size else (np.zeros(0), np.zeros((0, 0)))
        tol = (w.max() if w.size else 0.0) * max(g.shape + (1,)) * 1e-12
        keep = w > tol
        self.rank_b = int(keep.sum())
        self._ginv = (v[:, keep] / w[keep]) @ v[:, keep].T if w.size else g

    def __call__(self, values: np.ndarray) -> np.ndarray:
        one_d = values.ndim == 1
        v = values[:, None] if one_d else values
        va = v - group_means(v, self.a, self.n_a, self.count_a)[self.a]
        proj = group_sums(va, self.b, self.n_b)[1:]  # D' v for the demeaned v
        delta = self._ginv @ proj  # (n_b - 1, k)
        full = np.vstack([np.zeros((1, v.shape[1])), delta])
        d = full[self.b]
        d = d - group_means(d, self.a, self.n_a, self.count_a)[self.a]
        out = va - d
        return out[:, 0] if one_d else out


def consecutive_pairs(entity: np.ndarray, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cur, prev)``: positions of the rows whose same-group row of the previous calendar
    year exists, and of that previous row. A year missing in the middle of a group's series
    breaks the pair (as Stata's ``D.`` operator), it is not taken over the gap."""
    order = np.lexsort((year, entity))
    e, t = entity[order], year[order]
    consecutive = (e[1:] == e[:-1]) & (t[1:] == t[:-1] + 1)
    return order[1:][consecutive], order[:-1][consecutive]
