"""Covariance estimators of least-squares coefficients, with their conventions.

All functions are pure: they take the regressors ``X`` of the estimated (transformed)
regression, its residuals ``u`` and ``XtX_inv = (X'X)^{-1}``, and return a ``k x k`` array.

Conventions (``N`` observations, ``K`` coefficients counted as described, ``G`` clusters):

``unadjusted``
    ``s^2 (X'X)^{-1}``, ``s^2 = u'u / df_resid``; ``df_resid`` subtracts the absorbed effects
    (``N - n - K`` for one-way fixed effects), as ``xtreg, fe`` and plm.
``robust``
    White's HC1, ``N / df_resid * (X'X)^{-1} (sum u_i^2 x_i x_i') (X'X)^{-1}``: the HC1 errors
    of the regression with dummies for the effects (``regress ... i.id, vce(robust)``,
    statsmodels ``cov_type="HC1"`` on the dummy-variable regression). With fixed effects and
    short panels prefer clustered errors (Stock and Watson 2008).
``clustered``
    Liang-Zeger / Arellano sandwich ``(X'X)^{-1} (sum_g s_g s_g') (X'X)^{-1}``, ``s_g`` the
    sum of the scores ``x_i u_i`` of cluster ``g``, times a small-sample factor:
    ``"stata"`` (CRV1) ``G/(G-1) (N-1)/(N-K)``, ``K`` = regressors including the constant
    plus the levels of absorbed effects that are not nested in the clusters (``xtreg, fe
    vce(cluster id)``, ``reghdfe``; fixest ``ssc(adj=TRUE, fixef.K="nested",
    cluster.adj=TRUE)``); ``"plm"`` plm's ``vcovHC(type="sss")``, the same formula with
    ``K`` = the coefficients plm reports (no constant, no effects, in within models);
    ``"none"``: no factor (plm's ``vcovHC`` default ``"HC0"``, linearmodels' default).
    Two-way clustering is Cameron, Gelbach and Miller (2011): ``V_1 + V_2 - V_12`` with the
    intersection of the two dimensions for ``V_12``; under ``"stata"`` every part takes the
    factor of the smaller number of clusters (``reghdfe``, fixest's default
    ``cluster.df="min"``), under ``"plm"`` each part its own ``G_j/(G_j-1)`` (CGM 2011, as
    linearmodels' ``group_debias``).
``driscoll_kraay``
    Driscoll and Kraay (1998): Newey-West on the cross-sectional sums of the scores of each
    period, Bartlett weights ``1 - j/(L+1)``; ``"stata"``: times ``(N-1)/(N-K)`` (Hoechle's
    ``xtscc``), ``"plm"``/``"none"``: no factor (plm's ``vcovSCC``).
"""

from __future__ import annotations

import numpy as np

from .transforms import group_sums

__all__ = [
    "bartlett_lags",
    "cluster_factor",
    "cov_clustered",
    "cov_driscoll_kraay",
    "cov_robust",
    "cov_unadjusted",
    "intersect_codes",
]


def _sym(a: np.ndarray) -> np.ndarray:
    return (a + a.T) / 2.0


def cov_unadjusted(XtX_inv: np.ndarray, u: np.ndarray, df_resid: int) -> np.ndarray:
    """Homoskedastic covariance ``s^2 (X'X)^{-1}``, ``s^2 = u'u / df_resid``."""
    return XtX_inv * (float(u @ u) / df_resid)


def cov_robust(X: np.ndarray, u: np.ndarray, XtX_inv: np.ndarray, df_resid: int) -> np.ndarray:
    """White HC1 covariance with factor ``N / df_resid``."""
    xe = X * u[:, None]
    meat = xe.T @ xe
    return _sym(XtX_inv @ meat @ XtX_inv) * (len(u) / df_resid)


def cluster_meat(scores: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """``sum_g s_g s_g'`` with ``s_g`` the column sums of ``scores`` over the rows of cluster ``g``."""
    sums = group_sums(scores, codes, n_groups)
    return sums.T @ sums


def cluster_factor(kind: str, n_clusters: int, nobs: int, k: int) -> float:
    """Small-sample factor of clustered errors: ``G/(G-1) (N-1)/(N-K)`` or 1 for ``"none"``."""
    if kind == "none":
        return 1.0
    if n_clusters < 2:
        raise ValueError(f"clustered errors need at least 2 clusters; found {n_clusters}")
    if nobs - k <= 0:
        raise ValueError(f"clustered errors need N > K; found N={nobs}, K={k}")
    return n_clusters / (n_clusters - 1) * (nobs - 1) / (nobs - k)


def intersect_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of the intersection of two clusterings (pairs present in the data)."""
    pair = a.astype(np.int64) * (int(b.max()) + 1) + b
    uniq, codes = np.unique(pair, return_inverse=True)
    return codes, len(uniq)


def cov_clustered(X: np.ndarray, u: np.ndarray, XtX_inv: np.ndarray, clusters: list[tuple[np.ndarray, int]],
                  kind: str, k_stata: int, k_plm: int) -> np.ndarray:
    """One- or two-way cluster-robust covariance (see the module docstring for ``kind``).

    Parameters
    ----------
    clusters : list of (codes, n_groups)
        One or two clusterings of the rows.
    kind : {"stata", "plm", "none"}
    k_stata, k_plm : int
        The ``K`` of the ``(N-1)/(N-K)`` factor under the Stata and plm conventions.
    """
    n = len(u)
    scores = X * u[:, None]
    k = k_stata if kind == "stata" else k_plm
    if len(clusters) == 1:
        codes, g = clusters[0]
        meat = cluster_meat(scores, codes, g) * cluster_factor(kind, g, n, k)
        return _sym(XtX_inv @ meat @ XtX_inv)
    (c1, g1), (c2, g2) = clusters
    c12, g12 = intersect_codes(c1, c2)
    m1, m2, m12 = cluster_meat(scores, c1, g1), cluster_meat(scores, c2, g2), cluster_meat(scores, c12, g12)
    if kind == "stata":
        meat = (m1 + m2 - m12) * cluster_factor("stata", min(g1, g2), n, k)
    elif kind == "plm":  # each part with its own G/(G-1)
        meat = (m1 * cluster_factor("plm", g1, n, k) + m2 * cluster_factor("plm", g2, n, k)
                - m12 * cluster_factor("plm", g12, n, k))
    else:
        meat = m1 + m2 - m12
    return _sym(XtX_inv @ meat @ XtX_inv)


def bartlett_lags(n_periods: int) -> int:
    """Default Driscoll-Kraay lag length ``floor(4 (T/100)^(2/9))`` (Hoechle 2007, ``xtscc``)."""
    return int(np.floor(4.0 * (n_periods / 100.0) ** (2.0 / 9.0)))


def cov_driscoll_kraay(X: np.ndarray, u: np.ndarray, XtX_inv: np.ndarray, time: np.ndarray, n_time: int,
                       lags: int, kind: str, k: int) -> np.ndarray:
    """Driscoll-Kraay covariance: Newey-West (Bartlett) on ``h_t = sum_i x_it u_it``.

    ``time`` are integer codes of consecutive periods (``0 .. T-1`` in calendar order).
    """
    h = group_sums(X * u[:, None], time, n_time)
    s = h.T @ h
    for lag in range(1, min(lags, n_time - 1) + 1):
        w = 1.0 - lag / (lags + 1.0)
        g = h[lag:].T @ h[:-lag]
        s += w * (g + g.T)
    n = len(u)
    factor = (n - 1) / (n - k) if kind == "stata" else 1.0
    return _sym(XtX_inv @ s @ XtX_inv) * factor
