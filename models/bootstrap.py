"""Wild cluster bootstrap restricted by the null (WCR) for few clusters.

For a least-squares regression ``y = X b + e`` (after fixed effects are partialled out) and
the null ``b_j = r``, the bootstrap of Cameron, Gelbach and Miller (2008) draws

    y*_b = X b_r + u_r * v_g(b)

where ``b_r`` and ``u_r`` are the restricted estimates and residuals and ``v_g`` one weight per
cluster (Rademacher +-1, or Webb's 2014 six-point distribution ``+-sqrt(1/2), +-1,
+-sqrt(3/2)``). The statistic is the CRV1 ``t`` of ``b_j - r``; the p-value is the share of
bootstrap ``|t*|`` at least as large as ``|t|`` (symmetric test). Confidence intervals invert
the test (the set of ``r`` not rejected), as ``boottest`` (Roodman, MacKinnon, Nielsen and
Webb 2019).

The computation follows Roodman et al. (2019): with ``A = (X'X)^{-1}``, ``S`` the ``k x G``
matrix of cluster score sums ``X_g' u_r,g`` and ``a_j`` the ``j``-th row of ``A``, the
numerator of ``t*`` is ``q'v`` (``q_g = a_j' S_g``) and the cluster contributions to its
variance are ``q_h v_h - (a_j' X_h'X_h A S v)``; everything is a ``G x G`` or ``G x B``
array, never ``N x B``. Since ``u_r`` is linear in ``r``, the statistics for any ``r`` come
from two precomputed pieces, which makes the test inversion cheap. With Rademacher weights
and ``2^G <= reps`` all ``2^G`` sign vectors are enumerated (the exact bootstrap
distribution), as ``boottest`` does.
"""

from __future__ import annotations

import itertools

import numpy as np

from .transforms import group_sums

__all__ = ["WildClusterBootstrap", "bootstrap_weights", "wcr_table", "wild_cluster_bootstrap"]

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def bootstrap_weights(n_clusters: int, reps: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``G x B`` matrix of cluster weights (full enumeration for Rademacher when ``2^G <= reps``)."""
    if kind == "rademacher":
        if n_clusters <= 20 and 2 ** n_clusters <= reps:
            return np.array(list(itertools.product((-1.0, 1.0), repeat=n_clusters))).T
        return rng.choice(np.array([-1.0, 1.0]), size=(n_clusters, reps))
    if kind == "webb":
        return rng.choice(_WEBB, size=(n_clusters, reps))
    raise ValueError(f"bootstrap weights must be 'rademacher' or 'webb'; found {kind!r}")


class WildClusterBootstrap:
    """Restricted wild cluster bootstrap tests and intervals for the coefficients of ``y ~ X``.

    Parameters
    ----------
    X : ndarray, (N, k)
        Regressors of the estimated regression (fixed effects already partialled out).
    y : ndarray, (N,)
    clusters : ndarray of int
        Cluster codes ``0 .. G-1`` of the rows.
    weights : ndarray, (G, B)
        Bootstrap weights (see :func:`bootstrap_weights`); the same draws serve every test.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, clusters: np.ndarray, weights: np.ndarray):
        self.X, self.y = X, y
        self.codes = clusters
        self.G = int(clusters.max()) + 1
        self.V = weights
        k = X.shape[1]
        self.A = np.linalg.inv(X.T @ X)
        self.beta = self.A @ (X.T @ y)
        # per-cluster X_g'X_g (G, k, k) and X_g'y, by bincount over the k(k+1)/2 products
        self.XgX = np.empty((self.G, k, k))
        for a in range(k):
            for b in range(a, k):
                s = np.bincount(clusters, weights=X[:, a] * X[:, b], minlength=self.G)
                self.XgX[:, a, b] = s
                self.XgX[:, b, a] = s
        self._pieces: dict[int, tuple] = {}
        self._se0: dict[int, float] = {}

    def _cluster_sums(self, v: np.ndarray) -> np.ndarray:
        return group_sums(self.X * v[:, None], self.codes, self.G).T  # k x G

    def _prepare(self, j: int):
        if j in self._pieces:
            return self._pieces[j]
        X = self.X
        others = [i for i in range(X.shape[1]) if i != j]
        Xo = X[:, others]
        # restricted residuals u_r(r) = u0 - r * u1
        if others:
            Ao = np.linalg.pinv(Xo.T @ Xo)
            u0 = self.y - Xo @ (Ao @ (Xo.T @ self.y))
            u1 = X[:, j] - Xo @ (Ao @ (Xo.T @ X[:, j]))
        else:
            u0, u1 = self.y.copy(), X[:, j].copy()
        S0, S1 = self._cluster_sums(u0), self._cluster_sums(u1)  # k x G
        a = self.A[j]
        C = np.einsum("k,gkl->gl", a, self.XgX) @ self.A  # G x k: a' X_g'X_g A
        pieces = (a @ S0, a @ S1, C @ S0, C @ S1)
        self._pieces[j] = pieces
        return pieces

    def _t_stats(self, j: int, r: float):
        q0, q1, M0, M1 = self._prepare(j)
        q = q0 - r * q1
        M = M0 - r * M1
        num = q @ self.V
        D = q[:, None] * self.V - M @ self.V
        den = np.sqrt((D * D).sum(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            t_star = num / den
        return t_star

    def pvalue(self, j: int, r: float) -> float:
        """Symmetric WCR p-value of ``b_j = r``.

        The observed and the bootstrap t statistics both use the CRV0 standard error (no
        small-sample factor): any factor common to both cancels in the comparison."""
        t = (self.beta[j] - r) / self._crv0_se(j)
        ts = self._t_stats(j, r)
        ts = ts[np.isfinite(ts)]
        return float(np.mean(np.abs(ts) >= abs(t) - 1e-12 * max(1.0, abs(t))))

    def _crv0_se(self, j: int) -> float:
        """CRV0 standard error of ``b_j`` from the unrestricted residuals (computed once per term)."""
        if j not in self._se0:
            S = self._cluster_sums(self.y - self.X @ self.beta)
            v = self.A[j] @ S
            self._se0[j] = float(np.sqrt(v @ v))
        return self._se0[j]

    def conf_int(self, j: int, level: float = 0.95, se: float | None = None) -> tuple[float, float]:
        """Interval of the ``r`` whose WCR p-value exceeds ``1 - level`` (bisection on each side)."""
        alpha = 1.0 - level
        b = float(self.beta[j])
        s = self._crv0_se(j) if se is None else se
        s = s if s > 0 else max(abs(b), 1.0) * 1e-3

        def reject(r):
            return self.pvalue(j, r) <= alpha

        bounds = []
        for sign in (-1.0, 1.0):
            inner, step = b, 2.0 * s
            outer = b + sign * step
            n_expand = 0
            while not reject(outer):
                inner = outer
                step *= 2.0
                outer = b + sign * step
                n_expand += 1
                if n_expand > 40:
                    outer = sign * np.inf
                    break
            if not np.isfinite(outer):
                bounds.append(outer)
                continue
            for _ in range(60):
                mid = 0.5 * (inner + outer)
                if reject(mid):
                    outer = mid
                else:
                    inner = mid
                if abs(outer - inner) <= 1e-7 * s:
                    break
            bounds.append(0.5 * (inner + outer))
        return bounds[0], bounds[1]


def wild_cluster_bootstrap(result, terms=None, null=0.0, reps: int = 999, weights: str = "rademacher",
                           random_state=None, level: float | None = 0.95, cluster: int = 0):
    """WCR bootstrap p-values (and intervals) for terms of a fitted linear panel model.

    Parameters
    ----------
    result : PanelModelResult
        A within, pooled or first-difference fit with clustered errors (its clusters are used).
    terms : sequence of str, optional
        Default: every term but the intercept.
    null : float or dict
        Value of each coefficient under the null (a dict gives one per term).
    reps, weights, random_state
        Bootstrap replications, ``"rademacher"`` or ``"webb"``, seed.
    level : float or None
        Level of the intervals obtained by test inversion (``None``: no intervals, faster).
    cluster : int
        Which clustering of the result to use (0 = first).

    Returns
    -------
    DataFrame
        ``null``, ``pvalue`` (and ``ci_lower``, ``ci_upper``) by term.
    """

    fd = result.fit_data
    if result.spec.estimator not in ("within", "pooled", "first_difference"):
        raise ValueError("the wild bootstrap needs a model linear in the outcome (within, pooled, first_difference); "
                         f"found {result.spec.estimator!r}")
    if not fd.clusters:
        raise ValueError("the result has no clusters: fit it with cov_type='clustered' (or 'wild_bootstrap')")
    codes, g = fd.clusters[cluster]
    rng = np.random.default_rng(random_state)
    V = bootstrap_weights(g, reps, weights, rng)
    names = list(fd.names)
    terms = [t for t in names if t != "Intercept"] if terms is None else list(terms)
    out = wcr_table(WildClusterBootstrap(fd.Xt, fd.yt, codes, V), names, terms, null, level)
    out.attrs["clusters"] = g
    return out


def wcr_table(wb: WildClusterBootstrap, names: list, terms: list, null=0.0, level: float | None = 0.95):
    """``null``, ``pvalue`` (and ``ci_lower``, ``ci_upper`` at ``level``) of ``terms`` by term."""
    import pandas as pd

    rows = []
    for t in terms:
        j = names.index(t)
        r0 = float(null[t]) if isinstance(null, dict) else float(null)
        row = {"null": r0, "pvalue": wb.pvalue(j, r0)}
        if level is not None:
            row["ci_lower"], row["ci_upper"] = wb.conf_int(j, level)
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.Index(terms, name="term"))
    out.attrs["reps"] = wb.V.shape[1]
    return out
