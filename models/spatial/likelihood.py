"""Concentrated log-likelihoods and information matrices of the fixed-effects spatial lag
(SAR), spatial Durbin (SDM: SAR with ``W x`` among the regressors) and spatial error (SEM)
models, on data from which the effects have been removed.

Notation (Elhorst 2014, ch. 3; Lee and Yu 2010): ``y~``, ``X~`` the outcome and regressors
after the effects are removed, ``Wy~`` the spatial lag (within each year) of the outcome
with the effects removed in the same way, ``N_e`` and ``T_e`` the effective numbers of
observations and periods and ``c`` the number of eigenvalues 1 the transformation removes
(:class:`Effective`). For a fixed spatial parameter the other parameters are least squares,
so the likelihood is concentrated on one parameter and maximized by Brent's method.

SAR: ``b(rho) = b0 - rho b1`` with ``b0``, ``b1`` the OLS coefficients of ``y~`` and ``Wy~`` on
``X~``, ``e(rho) = e0 - rho e1``, ``sigma2 = e'e / N_e`` and (Anselin 1988, eq. 12.7; Elhorst
2014, eq. 3.12)

    log L(rho) = -N_e/2 [log(2 pi sigma2(rho)) + 1] + T_e [log|I - rho W| - c log(1 - rho)].

SEM: ``b(lambda)`` is OLS of ``y~ - lambda Wy~`` on ``X~ - lambda WX~``, ``sigma2`` the mean
squared filtered residual, and ``log L`` the same expression in ``lambda`` (Elhorst 2014,
eq. 3.20). All cross products are formed once: an evaluation costs ``O(k^3)`` plus the
log-determinant.

Information matrices (Elhorst 2014, eq. 3.29 and 3.30; Lee and Yu 2010, eq. 10 and 4.3),
``G = W (I - rho W)^{-1}``, ``H = G X~ b`` (in each year), traces on the transformed space:

SAR, order ``(b, rho, sigma2)``::

    [ X~'X~/s2      X~'H/s2                                0          ]
    [ .             T_e tr(G*G* + G*'G*) + H'H/s2          T_e tr(G*)/s2 ]
    [ .             .                                      N_e/(2 s2^2) ]

SEM, order ``(b, lambda, sigma2)``: ``X*'X*/s2`` (``X* = X~ - lambda WX~``), zero cross terms
with ``b``, and the same ``lambda`` / ``sigma2`` block with ``G = W (I - lambda W)^{-1}``.

References: Anselin, L. (1988), *Spatial Econometrics: Methods and Models*, Kluwer; Elhorst,
J. P. (2014), *Spatial Econometrics: From Cross-Sectional Data to Spatial Panels*, Springer,
ch. 3; Lee, L.-F. and Yu, J. (2010), "Estimation of spatial autoregressive panel data models
with fixed effects", Journal of Econometrics 154(2), 165-185.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from .logdet import SpatialOperator

__all__ = ["Effective", "MLFit", "fit_error", "fit_lag", "information_error", "information_lag", "star_traces"]

LN2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Effective:
    """Effective sizes of the transformed model: ``n_obs`` (``N_e``), ``n_periods`` (``T_e``),
    ``unit_roots`` (``c``: 1 when the towns' year means are removed by the orthonormal
    transformation, whose ``log|I - rho W|`` loses the eigenvalue 1 of a row-standardized
    ``W``), ``n_towns`` (``n``)."""

    n_obs: int
    n_periods: int
    unit_roots: int
    n_towns: int


@dataclass(frozen=True, eq=False)
class MLFit:
    """A maximum-likelihood fit: ``beta``, the spatial parameter ``spatial``, ``sigma2``,
    ``loglik``, ``resid`` (the model's innovations ``e``), and whether the maximum lies on the
    edge of the admissible interval (``at_bound``)."""

    beta: np.ndarray
    spatial: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    at_bound: bool


def _loglik(ssr: float, jac: float, eff: Effective) -> float:
    sigma2 = ssr / eff.n_obs
    return -0.5 * eff.n_obs * (LN2PI + np.log(sigma2) + 1.0) + eff.n_periods * jac


def _jacobian(op: SpatialOperator, r: float, eff: Effective) -> float:
    """``log|I - r W| - c log(1 - r)``."""
    return op.logdet(r) - (eff.unit_roots * np.log(1.0 - r) if eff.unit_roots else 0.0)


def _maximize(neg, bounds: tuple[float, float], tol: float) -> tuple[float, bool]:
    res = minimize_scalar(neg, bounds=bounds, method="bounded", options={"xatol": tol, "maxiter": 500})
    x = float(res.x)
    width = bounds[1] - bounds[0]
    return x, bool(min(x - bounds[0], bounds[1] - x) < 1e-6 * width)


def fit_lag(y: np.ndarray, wy: np.ndarray, X: np.ndarray, op: SpatialOperator, eff: Effective,
            tol: float = 1e-10) -> MLFit:
    """Maximum likelihood of ``y = rho Wy + X b + e`` (concentrated in ``rho``)."""
    XtX_inv = np.linalg.inv(X.T @ X)
    b0, b1 = XtX_inv @ (X.T @ y), XtX_inv @ (X.T @ wy)
    e0, e1 = y - X @ b0, wy - X @ b1
    a, b, c = float(e0 @ e0), float(e0 @ e1), float(e1 @ e1)

    def neg(r):
        return -_loglik(a - 2.0 * r * b + r * r * c, _jacobian(op, r, eff), eff)

    rho, edge = _maximize(neg, op.bounds, tol)
    resid = e0 - rho * e1
    ssr = float(resid @ resid)
    return MLFit(b0 - rho * b1, rho, ssr / eff.n_obs, -neg(rho), resid, edge)


def _filtered_moments(y, wy, X, wX):
    """Cross products of ``(y, Wy)`` and ``(X, WX)`` from which those of the filtered data
    ``y - l Wy``, ``X - l WX`` are quadratic in ``l``."""
    Z = np.column_stack([X, wX, y, wy])
    return Z.T @ Z


def _filtered(M: np.ndarray, k: int, lam: float) -> tuple[np.ndarray, np.ndarray, float]:
    """``X*'X*``, ``X*'y*``, ``y*'y*`` at ``lam`` from the moments ``M``."""
    # selector of the filtered columns: X* = X - lam WX, y* = y - lam Wy
    S = np.zeros((2 * k + 2, k + 1))
    S[np.arange(k), np.arange(k)] = 1.0
    S[np.arange(k, 2 * k), np.arange(k)] = -lam
    S[2 * k, k] = 1.0
    S[2 * k + 1, k] = -lam
    F = S.T @ M @ S
    return F[:k, :k], F[:k, k], float(F[k, k])


def fit_error(y: np.ndarray, wy: np.ndarray, X: np.ndarray, wX: np.ndarray, op: SpatialOperator, eff: Effective,
              tol: float = 1e-10) -> MLFit:
    """Maximum likelihood of ``y = X b + u``, ``u = lambda Wu + e`` (concentrated in ``lambda``)."""
    k = X.shape[1]
    M = _filtered_moments(y, wy, X, wX)

    def ssr(lam):
        xx, xy, yy = _filtered(M, k, lam)
        return yy - float(xy @ np.linalg.solve(xx, xy))

    def neg(lam):
        return -_loglik(ssr(lam), _jacobian(op, lam, eff), eff)

    lam, edge = _maximize(neg, op.bounds, tol)
    xx, xy, _ = _filtered(M, k, lam)
    beta = np.linalg.solve(xx, xy)
    resid = (y - lam * wy) - (X - lam * wX) @ beta
    return MLFit(beta, lam, float(resid @ resid) / eff.n_obs, -neg(lam), resid, edge)


def star_traces(tr: dict, r: float, eff: Effective) -> tuple[float, float, float]:
    """``tr(G*)``, ``tr(G*G*)``, ``tr(G*'G*)`` of ``G* = F'GF`` on the space the transformation
    keeps. Without year effects ``G* = G``. With them (row-standardized ``W``, ``G 1 = 1/(1 -
    r)``, ``F F' = J = I - 11'/n``; Lee and Yu 2010, sec. 4): ``tr(G*) = tr(G) - 1/(1-r)``,
    ``tr(G*G*) = tr(GG) - 1/(1-r)^2``, ``tr(G*'G*) = tr(G'G) - ||G'1||^2 / n``."""
    if not eff.unit_roots:
        return tr["tr_G"], tr["tr_GG"], tr["tr_GtG"]
    g = 1.0 / (1.0 - r)
    return tr["tr_G"] - g, tr["tr_GG"] - g * g, tr["tr_GtG"] - tr["Gt1_2"]


def _spatial_block(tr: dict, r: float, s2: float, eff: Effective, extra: float = 0.0) -> np.ndarray:
    t1, t2, t3 = star_traces(tr, r, eff)
    return np.array([[eff.n_periods * (t2 + t3) + extra, eff.n_periods * t1 / s2],
                     [eff.n_periods * t1 / s2, eff.n_obs / (2.0 * s2 * s2)]])


def information_lag(X: np.ndarray, H: np.ndarray, tr: dict, rho: float, s2: float, eff: Effective) -> np.ndarray:
    """Information matrix of ``(b, rho, sigma2)`` of the lag model; ``H = G X~ b`` (projected
    like the data)."""
    k = X.shape[1]
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = X.T @ X / s2
    info[:k, k] = info[k, :k] = X.T @ H / s2
    info[k:, k:] = _spatial_block(tr, rho, s2, eff, float(H @ H) / s2)
    return info


def information_error(Xs: np.ndarray, tr: dict, lam: float, s2: float, eff: Effective) -> np.ndarray:
    """Information matrix of ``(b, lambda, sigma2)`` of the error model; ``Xs = X~ - lambda WX~``."""
    k = Xs.shape[1]
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = Xs.T @ Xs / s2
    info[k:, k:] = _spatial_block(tr, lam, s2, eff)
    return info
