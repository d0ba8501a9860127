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
from two precomputed pieces, which makes the test inversion cheap.

Few clusters
------------
A weight distribution with ``m`` points has only ``m^G`` distinct weight vectors. When
``m^G <= max(reps, 2048)`` all of them are enumerated once (the exact bootstrap
distribution, independent of the seed): Rademacher (``m = 2``) up to ``G = 11`` clusters,
or more when ``reps >= 2^G`` (``boottest``'s rule, whose help says it "will take each
possible draw once" when the replications exceed ``2^G``); Webb (``m = 6``) up to ``G = 4``,
or more when ``reps >= 6^G``. Otherwise ``reps`` vectors are drawn.

The ``m`` constant vectors ``v = c 1`` reproduce the original sample up to scale, so their
``|t*|`` equals ``|t|`` for every null value; they are counted as ties (``|t*| >= |t|``)
exactly, not left to rounding. The p-value therefore never falls below the share of
constant vectors: with enumeration ``2 / 2^G = 1 / 2^(G-1)`` for Rademacher and
``6 / 6^G = 1 / 6^(G-1)`` for Webb (the ``+-v`` pairs give ``2^(G-1)`` and ``6^G / 2``
distinct ``|t*|``; Webb 2023; MacKinnon, Nielsen and Webb 2023). A two-sided test
at level ``alpha`` can reject only if that floor is at most ``alpha``, so a ``1 - alpha``
interval needs at least: Rademacher ``G >= 6`` at 95 % (floor 1/32), ``G >= 5`` at 90 %,
``G >= 8`` at 99 %; Webb ``G >= 3`` at 95 % and 90 % (floor 1/36), ``G >= 4`` at 99 %.
With fewer clusters the interval is reported as ``(-inf, inf)`` with a
:class:`BootstrapWarning` that gives the smallest attainable p-value. (``boottest`` counts
only ``|t*| > |t|``, so with enumeration its p-value can be 0 however few the clusters.)

References
----------
Cameron, Gelbach and Miller (2008), *REStat* 90(3); Webb (2023), "Reworking wild bootstrap
based inference for clustered errors", *Canadian Journal of Economics* 56(3) (QED WP 1315,
2014); Roodman, MacKinnon, Nielsen and Webb (2019), "Fast and wild: bootstrap inference in
Stata using boottest", *Stata Journal* 19(1); MacKinnon, Nielsen and Webb (2023),
"Cluster-robust inference: a guide to empirical practice", *Journal of Econometrics* 232(2).
"""

from __future__ import annotations

import warnings

import numpy as np

from .compute import run_tasks
from .estimators import ESTIMATORS
from .exceptions import BootstrapWarning
from .transforms import group_sums

__all__ = ["WildClusterBootstrap", "bootstrap_weights", "enumerates", "unbounded_notes", "wcr_table",
           "wild_cluster_bootstrap"]

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
_POINTS = {"rademacher": np.array([-1.0, 1.0]), "webb": _WEBB}
ENUMERATE_UP_TO = 2048  # weight vectors enumerated whatever ``reps`` (more when reps allows)


def enumerates(n_clusters: int, reps: int, kind: str) -> bool:
    """Whether :func:`bootstrap_weights` enumerates all ``m^G`` weight vectors (see the module notes)."""
    m = len(_POINTS[kind]) if kind in _POINTS else 0
    return m > 0 and n_clusters * np.log(m) <= np.log(max(reps, ENUMERATE_UP_TO)) + 1e-9


def bootstrap_weights(n_clusters: int, reps: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``G x B`` matrix of cluster weights: all ``m^G`` vectors when :func:`enumerates`, else ``reps`` draws."""
    if kind not in _POINTS:
        raise ValueError(f"bootstrap weights must be 'rademacher' or 'webb'; found {kind!r}")
    points = _POINTS[kind]
    if enumerates(n_clusters, reps, kind):
        m = len(points)
        # column b holds the base-m digits of b (the first cluster varies slowest)
        digits = (np.arange(m**n_clusters)[None, :] // (m ** np.arange(n_clusters - 1, -1, -1))[:, None]) % m
        return points[digits]
    return rng.choice(points, size=(n_clusters, reps))


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
        # constant weight vectors reproduce the sample up to scale: |t*| = |t| exactly
        self.constant = np.all(weights == weights[:1], axis=0)
        # all m^G vectors of the m-point distribution, each once
        m = len(np.unique(weights))
        self.enumerated = weights.shape[1] == m**self.G and len(np.unique(weights, axis=1).T) == weights.shape[1]

    @property
    def min_pvalue(self) -> float:
        """Smallest attainable symmetric p-value: the share of constant weight vectors
        (``1 / 2^(G-1)`` for enumerated Rademacher, ``1 / 6^(G-1)`` for enumerated Webb)."""
        return float(self.constant.mean())

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
        """Symmetric WCR p-value of ``b_j = r``: the share of ``|t*| >= |t|``.

        The observed and the bootstrap t statistics both use the CRV0 standard error (no
        small-sample factor): any factor common to both cancels in the comparison. Constant
        weight vectors count as ties whatever the rounding (see the module notes); bootstrap
        samples whose ``t*`` is undefined (``0/0``) are left out of the share, as ``boottest``."""
        t = (self.beta[j] - r) / self._crv0_se(j)
        ts = self._t_stats(j, r)
        ok = np.isfinite(ts) | self.constant
        hit = self.constant | (np.abs(ts) >= abs(t) - 1e-12 * max(1.0, abs(t)))
        return float(hit[ok].sum() / max(int(ok.sum()), 1))

    def limit_pvalue(self, j: int) -> float:
        """The p-value of ``b_j = r`` as ``r -> +-inf`` (the same on both sides).

        ``|t| -> inf`` while ``t*(v) -> -+ q1'v / ||D1 v||`` (``D1 v`` the slope in ``r`` of the
        cluster contributions), finite unless ``D1 v`` vanishes, as it does for the constant
        vectors. A test inversion can bound the interval only where this limit is at most
        ``alpha``. ``D1 v`` is taken as zero when it is below ``1e-8`` of the terms it is the
        difference of (rounding error of a zero)."""
        _, q1, _, M1 = self._prepare(j)
        D = q1[:, None] * self.V - M1 @ self.V
        size = np.abs(q1)[:, None] * np.abs(self.V) + np.abs(M1) @ np.abs(self.V)
        zero = np.sqrt((D * D).sum(axis=0)) <= 1e-8 * np.sqrt((size * size).sum(axis=0))
        return float(np.mean(zero | self.constant))

    def _crv0_se(self, j: int) -> float:
        """CRV0 standard error of ``b_j`` from the unrestricted residuals (computed once per term)."""
        if j not in self._se0:
            S = self._cluster_sums(self.y - self.X @ self.beta)
            v = self.A[j] @ S
            self._se0[j] = float(np.sqrt(v @ v))
        return self._se0[j]

    def conf_int(self, j: int, level: float = 0.95, se: float | None = None) -> tuple[float, float]:
        """Interval of the ``r`` whose WCR p-value exceeds ``1 - level``, with ``-inf``/``inf``
        for a side that the test inversion cannot bound (and a :class:`BootstrapWarning`)."""
        lo, hi, why = self.interval(j, level, se)
        if why:
            warnings.warn(why, BootstrapWarning, stacklevel=2)
        return lo, hi

    def interval(self, j: int, level: float = 0.95, se: float | None = None) -> tuple[float, float, str]:
        """``(lower, upper, why)``: the test-inversion interval and, if a side is unbounded, why.

        From the estimate ``b`` each side steps out by ``2 s, 4 s, 8 s, ...`` (``s`` the CRV0
        standard error) to the first rejected null value, then bisects between it and the last
        value not rejected, to ``1e-7 s``: each bound lies between a value not rejected and one
        rejected. When the p-value cannot fall to ``alpha = 1 - level`` far from ``b``
        (:meth:`limit_pvalue` above ``alpha``; with few clusters because of the
        :attr:`min_pvalue`), both sides are ``-inf``/``inf``; a side that the step-out cannot
        close within ``2^62 s`` is infinite too. Either way ``why`` says so.
        """
        alpha = 1.0 - level
        b = float(self.beta[j])
        s = self._crv0_se(j) if se is None else se
        s = s if s > 0 else max(abs(b), 1.0) * 1e-3
        far = self.limit_pvalue(j)
        if far > alpha:
            floor = self.min_pvalue
            reason = (f"with {self.G} clusters and these weights the smallest attainable p-value is "
                      f"{floor:.4g} > {alpha:.4g}" if floor > alpha else
                      f"the p-value tends to {far:.4g} > {alpha:.4g} far from the estimate (bootstrap samples "
                      "whose t statistic grows with the null value)")
            return -np.inf, np.inf, (f"the {level:.0%} wild bootstrap interval is unbounded on both sides: {reason}, "
                                     "so the test rejects no value; reported as (-inf, inf)")

        def reject(r):
            return self.pvalue(j, r) <= alpha

        bounds, open_sides = [], []
        for sign in (-1.0, 1.0):
            inner, outer, step = b, None, 2.0 * s
            for _ in range(62):
                r = b + sign * step
                if reject(r):
                    outer = r
                    break
                inner, step = r, step * 2.0
            if outer is None:
                bounds.append(sign * np.inf)
                open_sides.append(f"{'lower' if sign < 0 else 'upper'} (not rejected up to {inner:.6g})")
                continue
            for _ in range(200):
                mid = 0.5 * (inner + outer)
                if mid in (inner, outer) or abs(outer - inner) <= 1e-7 * s:
                    break
                if reject(mid):
                    outer = mid
                else:
                    inner = mid
            bounds.append(0.5 * (inner + outer))
        why = ""
        if open_sides:
            why = (f"the {level:.0%} wild bootstrap interval is unbounded on the {' and '.join(open_sides)} side: "
                   f"the p-value does not fall to {alpha:.4g}; reported as -inf/inf")
        return bounds[0], bounds[1], why


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
        Bootstrap replications, ``"rademacher"`` or ``"webb"``, seed. With few clusters all
        weight vectors are enumerated instead (Rademacher ``2^G`` for ``G <= 11``, Webb
        ``6^G`` for ``G <= 4``, or whenever ``reps`` is at least that many; see the module
        notes), and the result does not depend on the seed.
    level : float or None
        Level of the intervals obtained by test inversion (``None``: no intervals, faster).
        A side that the inversion cannot bound is ``-inf``/``inf``, with a
        :class:`~models.BootstrapWarning` naming the reason and the smallest attainable
        p-value: at 95 % Rademacher weights need at least 6 clusters (smallest p-value
        ``1/2^(G-1)``), Webb weights at least 3 (``1/6^(G-1)``).
    cluster : int
        Which clustering of the result to use (0 = first).

    Returns
    -------
    DataFrame
        ``null``, ``pvalue`` (and ``ci_lower``, ``ci_upper``) by term; ``attrs``: ``reps``
        (weight vectors used), ``enumerated``, ``min_pvalue``, ``clusters`` and ``unbounded``
        (term -> reason, for the intervals that are not bounded).
    """

    fd = result.fit_data
    linear = [name for name, e in ESTIMATORS.items() if e.linear]
    if result.spec.estimator not in linear:
        raise ValueError(f"the wild bootstrap needs a model linear in the outcome ({', '.join(linear)}); "
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


def wcr_table(wb: WildClusterBootstrap, names: list, terms: list, null=0.0, level: float | None = 0.95,
              stacklevel: int = 3):
    """``null``, ``pvalue`` (and ``ci_lower``, ``ci_upper`` at ``level``) of ``terms`` by term.

    A :class:`~models.BootstrapWarning` names the unbounded intervals; ``stacklevel`` points it
    at the user's call (3: the caller of the function that calls this one)."""
    import pandas as pd

    nulls = [float(null[t]) if isinstance(null, dict) else float(null) for t in terms]
    # one task per term (its test and test inversion) on the weights drawn once: the same numbers
    # on any backend (models.compute.run_tasks), the bootstrap object sent to dask workers once
    done = run_tasks(_term_task, [(wb, names.index(t), r0, level) for t, r0 in zip(terms, nulls, strict=True)])
    rows, unbounded = [], {}
    for t, r0, (p, interval) in zip(terms, nulls, done, strict=True):
        row = {"null": r0, "pvalue": p}
        if interval is not None:
            row["ci_lower"], row["ci_upper"], why = interval
            if why:
                unbounded[t] = why
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.Index(terms, name="term"))
    out.attrs.update(reps=wb.V.shape[1], min_pvalue=wb.min_pvalue, unbounded=unbounded,
                     enumerated=bool(wb.enumerated))
    if unbounded:
        warnings.warn("; ".join(unbounded_notes(unbounded)), BootstrapWarning, stacklevel=stacklevel)
    return out


def _term_task(wb: WildClusterBootstrap, j: int, r0: float, level: float | None):
    """``(pvalue, (ci_lower, ci_upper, why) or None)`` of the term ``j`` under the null ``r0``."""
    p = wb.pvalue(j, r0)
    return p, (None if level is None else wb.interval(j, level))


def unbounded_notes(unbounded: dict) -> list[str]:
    """``"term, term: reason"`` lines from a ``{term: reason}`` mapping, one per distinct reason."""
    by_reason: dict = {}
    for t, why in unbounded.items():
        by_reason.setdefault(why, []).append(t)
    return [f"{', '.join(ts)}: {why}" for why, ts in by_reason.items()]
