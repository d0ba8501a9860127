"""The 2x2 estimators of one group-time cell (Sant'Anna and Zhao 2020), with influence functions.

On the cell's towns (treated ``D = 1`` and comparison ``D = 0``), with ``dy = Y_t - Y_base`` and
covariates ``X`` (intercept first) taken in the earlier of the two years:

* ``reg`` (outcome regression; Heckman, Ichimura and Todd 1997): ``mu(X)`` = OLS of ``dy`` on
  ``X`` in the comparison group, ``ATT = mean_D1(dy) - mean_D1(mu(X))``;
* ``ipw`` (normalized IPW; Abadie 2005): logit ``p(X)`` of ``D``, comparison weights
  ``w0 = p/(1-p)``, ``ATT = mean_D1(dy) - sum(w0 dy)/sum(w0)``;
* ``dr`` (doubly robust; Sant'Anna and Zhao 2020, eq. 3.1): both, ``ATT = mean_D1(dy - mu) -
  sum(w0 (dy - mu))/sum(w0)``;

each with its influence function (the estimation of ``mu`` and ``p`` included), as
``DRDID::reg_did_panel``, ``std_ipw_did_panel`` and ``drdid_panel``: propensity scores capped at
``1 - 1e-6`` and comparison towns with ``p >= 0.995`` trimmed. The influence function ``psi``
of a cell is on the cell's ``n1`` towns, ``ATT - att = mean(psi) + o_p``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cell_att", "logit"]


def logit(D: np.ndarray, X: np.ndarray, max_iter: int = 100, tol: float = 1e-10):
    """Logit of ``D`` on ``X`` by Newton-Raphson: ``(fitted p, inverse information (X'WX)^{-1})``."""
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        W = p * (1.0 - p)
        info = X.T @ (W[:, None] * X)
        step = np.linalg.solve(info, X.T @ (D - p))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    return p, np.linalg.inv(X.T @ ((p * (1 - p))[:, None] * X))


def _ols_control(dy, D, X):
    """OLS of ``dy`` on ``X`` among ``D = 0``: fitted values for all and its linear representation."""
    n = len(D)
    c = 1.0 - D
    XtX = (X * c[:, None]).T @ X
    beta = np.linalg.solve(XtX, (X * c[:, None]).T @ dy)
    mu = X @ beta
    lin = (c * (dy - mu))[:, None] * X @ np.linalg.inv(XtX / n)
    return mu, lin


def cell_att(dy: np.ndarray, D: np.ndarray, X: np.ndarray, estimation: str) -> tuple[float, np.ndarray]:
    """``(ATT, psi)`` of one cell by ``estimation`` in ``reg``, ``ipw``, ``dr``."""
    n = len(D)
    if estimation == "reg":
        mu, lin = _ols_control(dy, D, X)
        eta1 = np.sum(D * dy) / np.sum(D)
        eta0 = np.sum(D * mu) / np.sum(D)
        inf_t = (D * dy - D * eta1) / np.mean(D)
        inf_c = (D * mu - D * eta0 + lin @ np.mean(D[:, None] * X, axis=0)) / np.mean(D)
        return eta1 - eta0, inf_t - inf_c
    p, inv_info = logit(D, X)
    p = np.minimum(p, 1 - 1e-6)
    trim = np.where(D == 0, p < 0.995, True)
    lin_ps = ((D - p)[:, None] * X) @ (inv_info * n)
    if estimation == "ipw":
        mu, lin = np.zeros(n), None
    else:
        mu, lin = _ols_control(dy, D, X)
    w1 = trim * D
    w0 = trim * p * (1 - D) / (1 - p)
    r = dy - mu
    eta1 = np.mean(w1 * r) / np.mean(w1)
    eta0 = np.mean(w0 * r) / np.mean(w0)
    inf_t = w1 * r - w1 * eta1
    inf_c = w0 * r - w0 * eta0 + lin_ps @ np.mean((w0 * (r - eta0))[:, None] * X, axis=0)
    if lin is not None:
        inf_t = inf_t - lin @ np.mean(w1[:, None] * X, axis=0)
        inf_c = inf_c - lin @ np.mean(w0[:, None] * X, axis=0)
    return eta1 - eta0, inf_t / np.mean(w1) - inf_c / np.mean(w0)
