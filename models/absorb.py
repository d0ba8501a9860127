"""Absorbed effects: the projection of columns on the dummies of one or more factors.

:func:`demean` returns the residuals of the (weighted) least-squares projection of each column
on the indicators of every factor jointly (the within transformation of any number of
effects, Frisch-Waugh-Lovell). This implementation solves each projection with LSQR on the
sparse matrix of indicators (Paige and Saunders 1982), to the precision of the arithmetic: a
slow but exact reference, with the interface of the accelerated alternating projections of
fixest, reghdfe and pyhdfe (Gaure 2013; Correia 2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import lsqr

from .exceptions import ConvergenceError

__all__ = ["ConvergenceError", "Factor", "demean"]


@dataclass(frozen=True)
class Factor:
    """One absorbed effect: ``codes`` (int64, ``0 .. n_levels-1``, one per row) and its
    ``name`` (e.g. ``"town_id"``, ``"region^year"``)."""

    name: str
    codes: np.ndarray
    n_levels: int


def _dummies(factors: Sequence[Factor], n: int) -> sparse.csr_matrix:
    blocks = [sparse.csr_matrix((np.ones(n), (np.arange(n), f.codes), ), shape=(n, f.n_levels)) for f in factors]
    return sparse.hstack(blocks, format="csr")


def demean(M: np.ndarray, factors: Sequence[Factor], weights: np.ndarray | None = None, tol: float = 1e-8,
           maxiter: int = 10_000) -> np.ndarray:
    """Residuals of the (weighted) least-squares projection of each column of ``M`` on the
    dummies of every factor jointly.

    ``M_tilde = M - D a``, ``a = argmin || W^(1/2) (M - D a) ||`` with ``D`` the indicators of
    all levels of all factors and ``W = diag(weights)``.

    Parameters
    ----------
    M : (n,) or (n, k) float array
    factors : sequence of Factor
        No factor: ``M`` is returned (as a copy).
    weights : (n,) positive array, optional
        Weighted least squares (PPML's iteratively reweighted least squares).
    tol : float
        Upper bound of LSQR's relative stopping tolerances (the solver runs to
        ``min(tol, 1e-14)``).
    maxiter : int
        Iteration limit of LSQR per column.

    Raises
    ------
    ConvergenceError
        When a column's projection does not converge within ``maxiter`` iterations (names the
        effects).
    """
    M = np.asarray(M, dtype=float)
    one_d = M.ndim == 1
    V = M[:, None] if one_d else M
    if not factors:
        return V[:, 0].copy() if one_d else V.copy()
    n = V.shape[0]
    sw = np.sqrt(weights) if weights is not None else np.ones(n)
    D = sparse.diags(sw) @ _dummies(factors, n)
    a_tol = min(tol, 1e-14)
    out = np.empty_like(V)
    for j in range(V.shape[1]):  # one sparse solve per column
        b = V[:, j] * sw
        res = lsqr(D, b, atol=a_tol, btol=a_tol, conlim=1e16, iter_lim=maxiter)
        if res[1] == 7:
            names = ", ".join(f.name for f in factors)
            raise ConvergenceError(f"the projection on the effects {names} did not converge in {maxiter} iterations; "
                                   "raise maxiter or check the effects for disconnected or tiny groups")
        out[:, j] = (b - D @ res[0]) / sw
    return out[:, 0] if one_d else out
