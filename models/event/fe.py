"""Two-way fixed effects on any sample of town-years: the exact least-squares projection.

For observations ``(i, t)`` of a possibly unbalanced sample, the projection of columns ``Y`` on
town and year indicators solves the normal equations

    n_i a_i + sum_{t in i} l_t = r_i,        sum_{i in t} a_i + m_t l_t = c_t,

(``n_i``, ``m_t`` the counts, ``r_i``, ``c_t`` the sums of ``Y`` by town and by year). Eliminating
the town effects leaves the ``T x T`` system ``(diag(m) - A' diag(1/n) A) l = c - A' (r / n)``
(``A`` the town-by-year incidence), solved by a pseudo-inverse (one year effect is not
identified; the fitted values are). No iteration, no loop over towns.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["TwoWay"]


class TwoWay:
    """The two-way projection for observations with town codes ``unit`` and year codes ``time``."""

    def __init__(self, unit: np.ndarray, time: np.ndarray, n_units: int, n_times: int):
        n = len(unit)
        ones = np.ones(n)
        self.unit, self.time = unit, time
        self.U = sparse.csr_matrix((ones, (np.arange(n), unit)), shape=(n, n_units))
        self.T = sparse.csr_matrix((ones, (np.arange(n), time)), shape=(n, n_times))
        self.n_i = np.asarray(self.U.sum(axis=0)).ravel()
        self.m_t = np.asarray(self.T.sum(axis=0)).ravel()
        A = (self.U.T @ self.T).toarray()  # towns x years incidence (0/1)
        inv_n = np.divide(1.0, self.n_i, out=np.zeros(n_units), where=self.n_i > 0)
        self.A, self.inv_n = A, inv_n
        S = np.diag(self.m_t) - A.T @ (inv_n[:, None] * A)
        self.S_pinv = np.linalg.pinv(S, rcond=1e-10, hermitian=True)
        # parameters the effects use: one per town observed, the rank of S for the years
        self.rank = int((self.n_i > 0).sum()) + int(np.linalg.matrix_rank(S, tol=1e-8 * max(1.0, np.abs(S).max())))

    def effects(self, r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Town and year effects ``(a, l)`` solving the normal equations for right-hand sides
        ``r`` (towns x k) and ``c`` (years x k)."""
        lam = self.S_pinv @ (c - self.A.T @ (self.inv_n[:, None] * r))
        a = self.inv_n[:, None] * (r - self.A @ lam)
        return a, lam

    def fit(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Town and year effects of the least-squares fit of the columns of ``Y`` (n x k)."""
        Y = Y.reshape(len(self.unit), -1)
        return self.effects(np.asarray(self.U.T @ Y), np.asarray(self.T.T @ Y))

    def resid(self, Y: np.ndarray) -> np.ndarray:
        """``Y`` minus its projection on the town and year indicators (n x k)."""
        Y = Y.reshape(len(self.unit), -1)
        a, lam = self.fit(Y)
        return Y - a[self.unit] - lam[self.time]
