"""Absorbed fixed effects: the factors and the (weighted) demeaning by all of them jointly.

:func:`demean` returns the residuals of the weighted least-squares projection of each column on
the dummies of every factor, by alternating projections (the method of Guimarães and Portugal
2010 and Gaure 2013): sweep the factors in turn, subtracting from each column its weighted group
means, until a sweep changes no value by more than ``tol`` times the column's largest absolute
value. The limit is the exact projection (von Neumann-Halperin); one factor needs one sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .exceptions import ConvergenceError

__all__ = ["Factor", "demean"]


@dataclass(frozen=True)
class Factor:
    """One absorbed effect: ``codes`` (int64, 0..n_levels-1, one per row), its name
    (e.g. "town_id", "region^year")."""

    name: str
    codes: np.ndarray
    n_levels: int


def demean(M: np.ndarray, factors: Sequence[Factor], weights: np.ndarray | None = None,
           tol: float = 1e-8, maxiter: int = 10_000) -> np.ndarray:
    """Residuals of the (weighted) least-squares projection of each column of ``M`` on the
    dummies of every factor jointly.

    Parameters
    ----------
    M : ndarray, shape (n,) or (n, k)
        Columns to demean (float64); a new array is returned, of the same shape.
    factors : sequence of Factor
        The effects; none returns a copy of ``M``.
    weights : ndarray, shape (n,), optional
        Positive weights ``w``: the projection minimizes ``sum_i w_i (m_i - d_i' a)^2``.
    tol : float
        A sweep that changes no value of a column by more than ``tol * max|M_j|`` ends it.
    maxiter : int
        Sweeps allowed.

    Raises
    ------
    ConvergenceError
        When ``maxiter`` sweeps do not reach ``tol`` (the error names the effects).
    """
    M = np.asarray(M, dtype=np.float64)
    out = M.reshape(len(M), -1).copy()
    if not factors:
        return out.reshape(M.shape)
    w = np.ones(len(out)) if weights is None else np.asarray(weights, dtype=np.float64)
    wsum = [np.bincount(f.codes, weights=w, minlength=f.n_levels) for f in factors]
    for j in range(out.shape[1]):  # loop over columns, not rows
        col = out[:, j]
        scale = float(np.abs(col).max()) if len(col) else 0.0
        for _ in range(maxiter):
            change = 0.0
            for f, ws in zip(factors, wsum, strict=True):
                with np.errstate(invalid="ignore", divide="ignore"):
                    means = np.bincount(f.codes, weights=w * col, minlength=f.n_levels) / ws
                means[ws == 0] = 0.0
                col -= means[f.codes]
                change = max(change, float(np.abs(means).max()))
            if change <= tol * scale:
                break
        else:
            raise ConvergenceError(
                f"demeaning by {', '.join(f.name for f in factors)} did not converge in {maxiter} sweeps "
                f"(last change {change:.3g} of a column whose largest value is {scale:.3g}, tolerance {tol:g}); "
                "the effects may be nearly collinear: raise maxiter or check the effects")
    return out.reshape(M.shape)
