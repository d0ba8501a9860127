"""Direct, indirect and total effects of spatial lag and Durbin models (LeSage and Pace 2009).

For regressor ``x_k`` with coefficient ``b_k`` and, in a Durbin model, ``t_k`` on ``W x_k``,
the matrix of effects is ``S_k = (I - rho W)^{-1} (I b_k + W t_k)`` (LeSage and Pace 2009,
eq. 2.46). Its mean diagonal is the direct effect, its mean row sum the total effect, the
difference the indirect (spillover) effect:

    direct_k   = b_k D(rho) + t_k D_W(rho),   D = tr((I - rho W)^{-1}) / n,   D_W = tr(G) / n
    total_k    = b_k T(rho) + t_k T_W(rho),   T = 1'(I - rho W)^{-1} 1 / n,   T_W = 1'G 1 / n
    indirect_k = total_k - direct_k

with ``G = W (I - rho W)^{-1}``; for row-standardized ``W``, ``T = T_W = 1/(1 - rho)``. The spatial
error model has ``rho = 0`` in these formulas: direct ``b_k``, indirect ``t_k`` times the mean
row sum of ``W`` (the SDEM / SLX spillover).

Point values are exact: ``D = 1 + rho tr(G)/n`` from the traces of the information matrix
(eigenvalues or LU solves) and ``T``, ``T_W`` by solves. Standard errors are simulated
(LeSage and Pace 2009, sec. 4.4; spatialreg's ``impacts(..., R=)``): ``n_draws`` draws of the
parameters from their asymptotic normal distribution ``N(theta, V)`` (``random_state`` seeds
NumPy's generator: the same seed gives the same numbers), the effects of every draw, and their
standard deviation. In the draws ``D`` and ``D_W`` come from the eigenvalues (``"eigen"``:
``mean 1/(1 - rho lambda_i)``, ``mean lambda_i/(1 - rho lambda_i)``) or, for large ``n``
(``"lu"``), from the power series ``D = sum_j rho^j tr(W^j)/n`` truncated at ``m = 100`` terms,
``tr(W)`` and ``tr(W^2) = sum(W o W')`` exact and ``tr(W^j)``, ``j >= 3``, by the Monte Carlo
estimator ``mean_r z_r' W^j z_r`` over 50 Rademacher vectors (Barry and Pace 1999; LeSage and
Pace 2009, sec. 4.3.1; spatialreg's ``trW(type = "MC")``). ``T`` in the draws: ``1/(1 - rho)``
for row-standardized ``W``, else the power series of the exact ``1'W^j 1 / n``.

References: LeSage, J. and Pace, R. K. (2009), *Introduction to Spatial Econometrics*, CRC
Press, ch. 2.7 and 4; Barry, R. and Pace, R. K. (1999), "Monte Carlo estimates of the log
determinant of large sparse matrices", Linear Algebra and its Applications 289.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .logdet import SpatialOperator

__all__ = ["effect_pairs", "impact_factors", "impacts_frame", "power_traces"]

N_TERMS = 100
N_VECTORS = 50


def effect_pairs(names: list[str]) -> list[tuple[str, int | None, int | None]]:
    """``(regressor, position of b, position of t)`` for every regressor of the design
    (intercept left out); ``W(x)`` is paired with ``x``."""
    out: dict[str, list] = {}
    for j, nm in enumerate(names):
        if nm in ("Intercept", "rho", "lambda"):
            continue
        if nm.startswith("W(") and nm.endswith(")"):
            out.setdefault(nm[2:-1], [None, None])[1] = j
        else:
            out.setdefault(nm, [None, None])[0] = j
    return [(nm, b, t) for nm, (b, t) in out.items()]


def power_traces(op: SpatialOperator, random_state) -> tuple[np.ndarray, np.ndarray]:
    """``t_j = tr(W^j)/n`` and ``s_j = 1'W^j 1/n``, ``j = 0 .. m+1`` (``t_0 = s_0 = 1``; ``t_1``,
    ``t_2`` exact, the others Monte Carlo over Rademacher vectors seeded by ``random_state``)."""
    W, n = op.W, op.n
    t = np.zeros(N_TERMS + 2)
    s = np.ones(N_TERMS + 2)
    t[0] = 1.0
    t[1] = float(W.diagonal().sum()) / n
    t[2] = float(W.multiply(W.T).sum()) / n
    rng = np.random.default_rng(random_state)
    Z = rng.choice(np.array([-1.0, 1.0]), size=(n, N_VECTORS))
    V, v = Z, np.ones(n)
    for j in range(1, N_TERMS + 2):  # a loop over powers, each a sparse product
        V = W @ V
        v = W @ v
        s[j] = v.mean()
        if j >= 3:
            t[j] = float(np.einsum("ij,ij->", Z, V)) / (n * N_VECTORS)
    return t, s


def _series(coef: np.ndarray, rho: np.ndarray, shift: int) -> np.ndarray:
    """``sum_j rho^j coef_{j + shift}`` for every ``rho``."""
    powers = rho[:, None] ** np.arange(N_TERMS + 1)[None, :]
    return powers @ coef[shift:shift + N_TERMS + 1]


def impact_factors(op: SpatialOperator, rho: np.ndarray, traces=None) -> np.ndarray:
    """``(D, D_W, T, T_W)`` (columns) for every value of ``rho`` (draws); ``traces`` are the
    :func:`power_traces` (``"lu"``)."""
    rho = np.atleast_1d(np.asarray(rho, float))
    if op.method == "eigen":
        inv = 1.0 / (1.0 - rho[:, None] * op.eig[None, :])
        D = inv.real.mean(axis=1)
        DW = (op.eig[None, :] * inv).real.mean(axis=1)
    else:
        t, _ = traces
        D, DW = _series(t, rho, 0), _series(t, rho, 1)
    if op.row_standardized:
        T = TW = 1.0 / (1.0 - rho)
    else:
        _, s = traces if traces is not None else power_traces(op, 0)
        T, TW = _series(s, rho, 0), _series(s, rho, 1)
    return np.column_stack([D, DW, T, TW])


def exact_factors(op: SpatialOperator, rho: float, tr_G: float) -> np.ndarray:
    """``(D, D_W, T, T_W)`` at one ``rho`` exactly: ``D = 1 + rho tr(G)/n``, ``D_W = tr(G)/n``,
    ``T`` and ``T_W`` by solves."""
    n = op.n
    one = np.ones((n, 1))
    T = float(op.solve(rho, one).mean())
    TW = float(op.solve(rho, np.asarray(op.W @ one)).mean())
    return np.array([1.0 + rho * tr_G / n, tr_G / n, T, TW])


def _effects(beta: np.ndarray, pairs, factors: np.ndarray) -> np.ndarray:
    """Direct, indirect, total (last axis) of every regressor (middle axis) for every row of
    ``beta`` (draws) and ``factors``."""
    m = beta.shape[0]
    out = np.zeros((m, len(pairs), 3))
    for i, (_, b, t) in enumerate(pairs):  # a loop over regressors
        bk = beta[:, b] if b is not None else np.zeros(m)
        tk = beta[:, t] if t is not None else np.zeros(m)
        direct = bk * factors[:, 0] + tk * factors[:, 1]
        total = bk * factors[:, 2] + tk * factors[:, 3]
        out[:, i] = np.column_stack([direct, total - direct, total])
    return out


def impacts_frame(params: np.ndarray, cov: np.ndarray, names: list[str], spatial_index: int | None,
                  op: SpatialOperator, point_factors: np.ndarray, n_draws: int, random_state) -> pd.DataFrame:
    """The table of effects: ``direct``, ``indirect``, ``total`` (exact point values) and their
    simulated standard errors ``*_se`` by regressor (see the module docstring).

    ``spatial_index`` is the position of ``rho`` in ``params`` (``None`` for the error model,
    whose effects use ``rho = 0``)."""
    pairs = effect_pairs(names)
    point = _effects(params[None, :], pairs, point_factors[None, :])[0]
    rng = np.random.default_rng(random_state)
    draws = rng.multivariate_normal(params, cov, size=n_draws, method="eigh")
    rho = draws[:, spatial_index] if spatial_index is not None else np.zeros(n_draws)
    traces = power_traces(op, random_state) if (op.method == "lu" or not op.row_standardized) else None
    sims = _effects(draws, pairs, impact_factors(op, rho, traces))
    se = sims.std(axis=0, ddof=1)
    out = pd.DataFrame({"direct": point[:, 0], "direct_se": se[:, 0], "indirect": point[:, 1],
                        "indirect_se": se[:, 1], "total": point[:, 2], "total_se": se[:, 2]},
                       index=pd.Index([p[0] for p in pairs], name="term"))
    out.attrs = {"n_draws": n_draws, "random_state": random_state, "method": op.method}
    return out
