"""Least squares with town and year effects and errors clustered (CR1), for the regression-based
event studies (two-way fixed effects, Sun and Abraham).

``y_it = a_i + l_t + x_it' b + u_it`` is fitted by partialling the effects out of ``y`` and ``x``
(Frisch-Waugh-Lovell, with the exact projection of :mod:`models.event.fe`). The clustered
covariance is ``V = q (X'X)^{-1} (sum_c s_c s_c') (X'X)^{-1}`` with scores ``s_c = sum_{i in c}
x_it u_it`` and ``q = G/(G-1) (N-1)/(N-K)``, ``K`` the slopes, the year effects and the constant (town
effects nested in town clusters are not counted: ``fixest``'s ``ssc(fixef.K = "nested")``, Stata's
``reghdfe``). It is returned as the influence matrix ``phi = sqrt(q) S (X'X)^{-1}`` (clusters x
k, ``V = phi' phi``), which the multiplier bootstrap perturbs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bootstrap import cluster_sum
from .cohorts import EventDataError
from .fe import TwoWay

__all__ = ["ClusteredFit", "fit_clustered"]


@dataclass(frozen=True, eq=False)
class ClusteredFit:
    params: np.ndarray
    phi: np.ndarray
    nobs: int
    names: tuple


def fit_clustered(unit, time, y, X, cluster_of_unit, n_clusters, n_units, n_times, names=(),
                  nested: bool = True) -> ClusteredFit:
    """OLS of ``y`` on ``X`` (n x k) with town and year effects; CR1 errors by cluster."""
    fe = TwoWay(unit, time, n_units, n_times)
    R = fe.resid(np.column_stack([y, X]))
    yt, Xt = R[:, 0], R[:, 1:]
    XtX = Xt.T @ Xt
    w, V = np.linalg.eigh(XtX)
    if w.size and w.min() <= 1e-10 * max(w.max(), 1e-300):
        dead = [names[j] for j in np.nonzero(np.abs(V[:, np.argmin(w)]) > 1e-6)[0]] if names else []
        raise EventDataError(
            "event_study: the event-time indicators are collinear with the town and year effects "
            f"(involved: {', '.join(map(str, dead)) or 'several'}). Bin the end points, shorten the "
            "window (leads=, lags=) or add never-treated towns.")
    XtX_inv = np.linalg.inv(XtX)
    beta = XtX_inv @ (Xt.T @ yt)
    u = yt - Xt @ beta
    cl = cluster_of_unit[unit]
    used = np.unique(cl)
    S = cluster_sum(Xt * u[:, None], cl, n_clusters)  # clusters with no row contribute zeros
    G, N = len(used), len(y)
    # slopes + year effects + the constant (the town effects nested in clusters are not counted)
    K = X.shape[1] + (fe.rank - int((fe.n_i > 0).sum()) + 1 if nested else fe.rank)
    q = G / (G - 1) * (N - 1) / (N - K) if G > 1 and N > K else np.nan
    return ClusteredFit(beta, np.sqrt(q) * S @ XtX_inv, N, tuple(names))
