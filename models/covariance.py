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
    Two- and three-way clustering is Cameron, Gelbach and Miller (2011): ``V_1 + V_2 - V_12``
    (three ways: ``V_1 + V_2 + V_3 - V_12 - V_13 - V_23 + V_123``) with the intersections of
    the dimensions; under ``"stata"`` every part takes the factor of the smallest number of
    clusters (``reghdfe``, fixest's and pyfixest's default ``cluster.df="min"``), under
    ``"plm"`` each part its own ``G_S/(G_S-1)`` (CGM 2011, fixest's ``"conventional"``, as
    linearmodels' ``group_debias`` and sandwich's ``vcovCL``). A multi-way result with a
    slope variance that is not positive has its negative eigenvalues set to 0 (CGM 2011, sec.
    2.3; fixest's ``vcov_fix``, sandwich's ``vcovCL(fix=TRUE)``), with a note; pyfixest does not
    repair. The intercept a within model reports is left out of the check (:func:`psd_fix`).
    Absorbed effects nested in any cluster dimension are not counted in ``K`` (reghdfe's
    ``dof(clusters)``, fixest's ``fixef.K = "nested"``).
``driscoll_kraay``
    Driscoll and Kraay (1998): Newey-West on the cross-sectional sums of the scores of each
    period, Bartlett weights ``1 - j/(L+1)``; ``"stata"``: times ``(N-1)/(N-K)`` (Hoechle's
    ``xtscc``), ``"plm"``/``"none"``: no factor (plm's ``vcovSCC``).
``wild_bootstrap``
    The clustered errors (CRV1), with p-values and 95% intervals from the wild cluster
    bootstrap restricted by the null (:mod:`models.bootstrap`).
``conley``
    Conley's (1999) spatial HAC with serial correlation within towns, as Hsiang (2010) and R's
    ``conleyreg``: ``(X'X)^{-1} Omega (X'X)^{-1}``, ``Omega = sum_t sum_{i,j} K(d_ij) s_it s_jt'
    + sum_i sum_{t != r} k(|t - r|) s_it s_ir'``, ``s_it = x_it u_it``, ``d_ij`` the great-circle
    distance of towns ``i`` and ``j``; no small-sample factor (:func:`cov_conley`).

The registry
------------
:data:`COVARIANCES` maps each ``cov_type`` to a :class:`CovarianceType`: a function
``(fit: LeastSquares, spec) -> Covariance`` and what it needs (clusters, one cluster
dimension, an estimator linear in the outcome). :class:`models.PanelModelSpec` checks its
``cov_type`` against it and :func:`models.fit_panel_model` calls it, as linearmodels looks
its covariance estimators up by name. Adding a covariance: write the function (the formula in
a pure function of arrays, as those above) and register it with :func:`register_covariance`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from features.connectivity import EARTH_RADIUS_KM

from .bootstrap import WildClusterBootstrap, bootstrap_weights, unbounded_notes, wcr_table
from .clusters import intersect_codes, nested
from .transforms import group_sums

__all__ = [
    "COVARIANCES",
    "Covariance",
    "CovarianceType",
    "LeastSquares",
    "bartlett_lags",
    "cluster_factor",
    "clustered",
    "cov_clustered",
    "conley",
    "conley_kernel",
    "cov_conley",
    "psd_fix",
    "cov_driscoll_kraay",
    "cov_robust",
    "cov_unadjusted",
    "crv1_k",
    "driscoll_kraay",
    "intersect_codes",
    "register_covariance",
    "robust",
    "unadjusted",
    "wild_bootstrap",
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


def _score_meat(X: np.ndarray, u: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """:func:`cluster_meat` of the scores ``x_i u_i``, formed one column at a time (the same sums,
    without an array of all the scores)."""
    sums = np.empty((n_groups, X.shape[1]))
    for j in range(X.shape[1]):  # a loop over columns, not rows
        sums[:, j] = np.bincount(codes, weights=X[:, j] * u, minlength=n_groups)
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


def cov_clustered(X: np.ndarray, u: np.ndarray, XtX_inv: np.ndarray, clusters: list[tuple[np.ndarray, int]],
                  kind: str, k_stata: int, k_plm: int) -> np.ndarray:
    """One-, two- or three-way cluster-robust covariance (see the module docstring for ``kind``).

    Multi-way: Cameron, Gelbach and Miller (2011), ``sum over the non-empty sets S of dimensions
    of (-1)^(|S|+1) V_S``, ``V_S`` clustered by the intersection of the dimensions in ``S``
    (two ways: ``V_1 + V_2 - V_12``); :func:`psd_fix` repairs a result that is not positive
    semi-definite.

    Parameters
    ----------
    clusters : list of (codes, n_groups)
        One to three clusterings of the rows.
    kind : {"stata", "plm", "none"}
        ``"stata"``: every term times ``G/(G-1) (N-1)/(N-K)`` with ``G`` the fewest clusters of
        the dimensions; ``"plm"``: each term its own ``G_S/(G_S-1)``; ``"none"``: no factor.
    k_stata, k_plm : int
        The ``K`` of the ``(N-1)/(N-K)`` factor under the Stata and plm conventions.
    """
    n = len(u)
    k = k_stata if kind == "stata" else k_plm
    if len(clusters) == 1:
        codes, g = clusters[0]
        meat = _score_meat(X, u, codes, g) * cluster_factor(kind, g, n, k)
        return _sym(XtX_inv @ meat @ XtX_inv)
    meat = None
    for size in range(1, len(clusters) + 1):
        for subset in itertools.combinations(clusters, size):
            codes, g = subset[0]
            for other, _ in subset[1:]:
                codes, g = intersect_codes(codes, other)
            term = _score_meat(X, u, codes, g)
            if kind == "plm":  # each part with its own G/(G-1)
                term = term * cluster_factor("plm", g, n, k)
            meat = term if meat is None else (meat + term if size % 2 else meat - term)
    if kind == "stata":
        meat = meat * cluster_factor("stata", min(g for _, g in clusters), n, k)
    return _sym(XtX_inv @ meat @ XtX_inv)


def psd_fix(V: np.ndarray, skip: int = 0) -> tuple[np.ndarray, bool]:
    """``V`` with the negative eigenvalues of its block ``V[skip:, skip:]`` set to 0 when a
    variance of that block is not positive (CGM 2011, sec. 2.3), and whether it was fixed.

    ``skip = 1`` leaves out the intercept a within model reports (the grand mean): its scores sum
    to zero in every level of the absorbed effects, so its multi-way variance is zero up to
    rounding and says nothing about the slopes."""
    block = V[skip:, skip:]
    if (np.diag(block) > 0).all():
        return V, False
    w, v = np.linalg.eigh(block)
    out = V.copy()
    out[skip:, skip:] = _sym((v * np.clip(w, 0.0, None)) @ v.T)
    return out, True


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


# ------------------------------------------------------------------------------ the registry
@dataclass(frozen=True, eq=False)
class LeastSquares:
    """A least-squares fit of a panel regression, as every covariance estimator sees it.

    ``X``, ``y``: the estimated (transformed) regression, intercept column first when present;
    ``resid``, ``XtX_inv``, ``df_resid``: its residuals, ``(X'X)^{-1}`` and residual degrees
    of freedom; ``absorbs_constant``/``absorbed``: the estimator's absorbed effects
    (``(dimension, codes, levels, degrees of freedom beyond the constant)``); ``time``,
    ``n_periods``: the period codes of the rows; ``aggregated``: the rows are group means
    (between), not observations of one period; ``clusters``: ``((codes, G), ...)`` of the rows
    when the covariance uses clusters; ``exact_fit``: the residuals are zero to rounding.
    """

    X: np.ndarray
    y: np.ndarray
    resid: np.ndarray
    XtX_inv: np.ndarray
    df_resid: int
    names: tuple
    has_intercept: bool
    absorbs_constant: bool = False
    absorbed: tuple = ()
    time: np.ndarray | None = None
    n_periods: int = 0
    aggregated: bool = False
    clusters: tuple = ()
    exact_fit: bool = False
    entity: np.ndarray | None = None
    coordinates: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Covariance:
    """What a covariance estimator returns: the ``k x k`` ``cov``; ``df_dist``, the degrees of
    freedom of the t statistics when not ``df_resid`` (``G - 1``, ``T - 1``; ignored under normal
    inference); ``notes``; ``bootstrap``: p-values and intervals that replace the Wald ones."""

    cov: np.ndarray
    df_dist: float | None = None
    notes: tuple = ()
    bootstrap: pd.DataFrame | None = None


@dataclass(frozen=True)
class CovarianceType:
    """An entry of :data:`COVARIANCES`: ``function(fit, spec) -> Covariance``; ``uses_clusters``:
    it takes ``spec.cluster`` (rows with a missing cluster are dropped); ``one_cluster_dimension``:
    one dimension only; ``linear_only``: only for estimators linear in the outcome;
    ``uses_coordinates``: it takes the coordinates ``spec.coordinates`` of the rows (rows with a
    missing coordinate are dropped) and their town codes (``fit.entity``, ``fit.coordinates``)."""

    name: str
    function: Callable[..., Covariance]
    uses_clusters: bool = False
    one_cluster_dimension: bool = False
    linear_only: bool = False
    uses_coordinates: bool = False


COVARIANCES: dict[str, CovarianceType] = {}


def register_covariance(name: str, **options) -> Callable:
    """Decorator: register a covariance function in :data:`COVARIANCES` under ``name``
    (options of :class:`CovarianceType`)."""
    def add(function):
        COVARIANCES[name] = CovarianceType(name, function, **options)
        return function
    return add


@register_covariance("unadjusted")
def unadjusted(fit: LeastSquares, spec) -> Covariance:
    """Homoskedastic ``s^2 (X'X)^{-1}``."""
    return Covariance(cov_unadjusted(fit.XtX_inv, fit.resid, fit.df_resid))


@register_covariance("robust")
def robust(fit: LeastSquares, spec) -> Covariance:
    """White's HC1."""
    return Covariance(cov_robust(fit.X, fit.resid, fit.XtX_inv, fit.df_resid))


def crv1_k(fit: LeastSquares) -> tuple[int, int]:
    """The ``K`` of the clustered small-sample factor under the Stata and plm conventions.

    Stata: the coefficients, the constant the effects absorb, and the levels of every absorbed
    effect not nested in a cluster dimension; plm: the slopes of a model with absorbed effects,
    every coefficient otherwise."""
    k = fit.X.shape[1]
    if not fit.absorbs_constant:
        return k, k
    k_stata = k + (0 if fit.has_intercept else 1)
    for _, codes, n_levels, dof in fit.absorbed:
        if not any(nested(codes, n_levels, c) for c, _ in fit.clusters):
            k_stata += dof
    return k_stata, k - (1 if fit.has_intercept else 0)


def _clustered(fit: LeastSquares, kind: str) -> Covariance:
    k_stata, k_plm = crv1_k(fit)
    cov = cov_clustered(fit.X, fit.resid, fit.XtX_inv, list(fit.clusters), kind, k_stata, k_plm)
    notes = ()
    if len(fit.clusters) > 1:
        cov, fixed = psd_fix(cov, 1 if fit.absorbs_constant and fit.has_intercept else 0)
        if fixed:
            notes = ("the multi-way clustered covariance was not positive semi-definite: its negative eigenvalues "
                     "were set to 0 (Cameron, Gelbach and Miller 2011, sec. 2.3)",)
    return Covariance(cov, df_dist=float(min(g for _, g in fit.clusters) - 1), notes=notes)


@register_covariance("clustered", uses_clusters=True)
def clustered(fit: LeastSquares, spec) -> Covariance:
    """One- or two-way cluster-robust errors, ``t(G - 1)`` inference (``G`` the fewest clusters)."""
    return _clustered(fit, spec.cluster_small_sample)


@register_covariance("driscoll_kraay")
def driscoll_kraay(fit: LeastSquares, spec) -> Covariance:
    """Driscoll-Kraay errors, ``spec.dk_lags`` Bartlett lags (default :func:`bartlett_lags`), ``t(T - 1)``."""
    if fit.aggregated:
        raise ValueError(f"Driscoll-Kraay errors need the time dimension; the {spec.estimator} estimator has none")
    lags = spec.dk_lags if spec.dk_lags is not None else bartlett_lags(fit.n_periods)
    cov = cov_driscoll_kraay(fit.X, fit.resid, fit.XtX_inv, fit.time, fit.n_periods, lags, spec.cluster_small_sample,
                             fit.X.shape[1])
    return Covariance(cov, df_dist=float(fit.n_periods - 1), notes=(f"Driscoll-Kraay errors with {lags} Bartlett lag(s)",))


@register_covariance("wild_bootstrap", uses_clusters=True, one_cluster_dimension=True, linear_only=True)
def wild_bootstrap(fit: LeastSquares, spec) -> Covariance:
    """CRV1 errors; p-values and 95% intervals of every term but the intercept from the wild
    cluster bootstrap (WCR; ``spec.bootstrap_reps``, ``spec.bootstrap_weights``,
    ``spec.random_state``). No bootstrap for an exact fit."""
    crv1 = _clustered(fit, "stata")
    if fit.exact_fit:
        return crv1
    codes, g = fit.clusters[0]
    V = bootstrap_weights(g, spec.bootstrap_reps, spec.bootstrap_weights, np.random.default_rng(spec.random_state))
    names = list(fit.names)
    table = wcr_table(WildClusterBootstrap(fit.X, fit.y, codes, V), names, [nm for nm in names if nm != "Intercept"],
                      0.0, 0.95, stacklevel=4)
    bootstrap = table[["pvalue", "ci_lower", "ci_upper"]].reindex(pd.Index(names, name="term"))
    bootstrap.attrs = {"level": 0.95, **table.attrs}
    note = (f"wild cluster bootstrap (WCR, {spec.bootstrap_weights} weights, {g} clusters): "
            + (f"all {V.shape[1]} weight vectors enumerated" if table.attrs["enumerated"]
               else f"{V.shape[1]} replications")
            + "; p-values and 95% intervals from the bootstrap, standard errors CRV1"
            + (f"; smallest attainable p-value {table.attrs['min_pvalue']:.4g}" if table.attrs["min_pvalue"] > 0
               else ""))
    return Covariance(crv1.cov, crv1.df_dist, (note, *unbounded_notes(table.attrs["unbounded"])), bootstrap)


# ------------------------------------------------------------------------------ Conley (1999)
def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def conley_kernel(lat: np.ndarray, lon: np.ndarray, cutoff_km: float, kernel: str = "uniform") -> sparse.csr_array:
    """Spatial kernel weights ``K(d_ij)`` between towns, ``n x n`` sparse, diagonal 1.

    ``d_ij`` is the great-circle (haversine) distance on a sphere of radius 6371.0088 km;
    ``"uniform"``: ``K = 1`` for ``d_ij <= cutoff_km``; ``"bartlett"``: ``K = 1 - d_ij /
    cutoff_km`` for ``d_ij < cutoff_km`` (Conley 1999's product kernel reduced to one distance,
    as Hsiang 2010 and ``conleyreg``); 0 beyond. The pairs within the cut-off come from a k-d
    tree on the unit sphere (chord ``2 sin(d / 2R)``): no dense ``n x n`` matrix."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    n = len(lat)
    P = _unit_vectors(lat, lon)
    chord = 2.0 * np.sin(min(cutoff_km / EARTH_RADIUS_KM, np.pi) / 2.0)
    pairs = cKDTree(P).query_pairs(chord * (1 + 1e-12), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    dot = np.clip(np.einsum("ij,ij->i", P[i], P[j]), -1.0, 1.0)
    # haversine of the pair: 2 R asin(chord / 2), chord = |P_i - P_j| = sqrt(2 - 2 cos)
    d = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip((1.0 - dot) / 2.0, 0.0, 1.0)))
    w = np.where(d <= cutoff_km, 1.0, 0.0) if kernel == "uniform" else np.clip(1.0 - d / cutoff_km, 0.0, None)
    keep = w > 0
    i, j, w = i[keep], j[keep], w[keep]
    rows = np.concatenate([i, j, np.arange(n)])
    cols = np.concatenate([j, i, np.arange(n)])
    return sparse.csr_array((np.concatenate([w, w, np.ones(n)]), (rows, cols)), shape=(n, n))


def cov_conley(X: np.ndarray, u: np.ndarray, XtX_inv: np.ndarray, entity: np.ndarray, time: np.ndarray,
               K: sparse.csr_array, n_periods: int, lags: int | str) -> np.ndarray:
    """Conley (1999) spatial HAC covariance combined with serial correlation within towns.

    ``V = (X'X)^{-1} Omega (X'X)^{-1}``, ``s_it = x_it u_it``,

        Omega = sum_t sum_i sum_j K_ij s_it s_jt'                       (space, same year)
              + sum_i sum_{l=1}^{L} w_l sum_t (s_it s_i,t-l' + s_i,t-l s_it')  (time, same town)

    ``K`` from :func:`conley_kernel` (diagonal 1, so the first sum holds the White terms);
    ``w_l = 1 - l/(L+1)`` (Bartlett, Newey and West 1987) for ``lags = L``; ``lags="all"``: ``w_l
    = 1`` for every ``l`` (all years of a town correlated: the town-clustered serial part); ``0``:
    no serial part. This is the estimator of Hsiang (2010, ``ols_spatial_HAC``) and R's
    ``conleyreg`` (Düben 2022): pairs of different towns in different years are not counted
    (``acreg``, Colella et al. 2019, counts them too). ``time`` codes consecutive periods of
    the sample. No small-sample factor. Scores are laid out as (towns, periods, k): memory
    ``O(N k)`` plus the kernel's pairs.

    References: Conley, T. G. (1999), "GMM estimation with cross sectional dependence", Journal
    of Econometrics 92(1); Hsiang, S. M. (2010), "Temperatures and cyclones strongly associated
    with economic production in the Caribbean and Central America", PNAS 107(35), SI;
    Newey, W. K. and West, K. D. (1987), Econometrica 55(3).
    """
    k = X.shape[1]
    n = K.shape[0]
    S = np.zeros((n, n_periods, k))
    S[entity, time] = X * u[:, None]
    KS = (K @ S.reshape(n, -1)).reshape(n, n_periods, k)
    omega = np.einsum("itk,itl->kl", S, KS)
    L = n_periods - 1 if lags == "all" else min(int(lags), n_periods - 1)
    for lag in range(1, L + 1):  # a loop over lags, not rows
        w = 1.0 if lags == "all" else 1.0 - lag / (L + 1.0)
        g = np.einsum("itk,itl->kl", S[:, lag:], S[:, :-lag])
        omega += w * (g + g.T)
    return _sym(XtX_inv @ omega @ XtX_inv)


def _town_coordinates(coords: np.ndarray, entity: np.ndarray, n: int) -> np.ndarray:
    """One (lat, lon) per town code; refuses coordinates that change within a town."""
    first = np.full((n, 2), np.nan)
    first[entity[::-1]] = coords[::-1]
    if np.abs(first[entity] - coords).max(initial=0.0) > 1e-9:
        raise ValueError("Conley errors: the coordinates of a town must be the same in every year; some change")
    return first


@register_covariance("conley", uses_coordinates=True)
def conley(fit: LeastSquares, spec) -> Covariance:
    """Conley (1999) spatial HAC errors (``spec.conley_km``, ``spec.conley_kernel``,
    ``spec.conley_lags``, coordinates ``spec.coordinates``), ``t(df_resid)`` inference."""
    if fit.aggregated:
        raise ValueError(f"Conley errors need town-year rows; the {spec.estimator} estimator has none")
    entity, n = compress_entity(fit.entity)
    town = _town_coordinates(fit.coordinates, entity, n)
    K = conley_kernel(town[:, 0], town[:, 1], spec.conley_km, spec.conley_kernel)
    cov = cov_conley(fit.X, fit.resid, fit.XtX_inv, entity, fit.time, K, fit.n_periods, spec.conley_lags)
    lags = "all years of a town" if spec.conley_lags == "all" else f"{spec.conley_lags} Bartlett lag(s) within towns"
    pairs = (K.nnz - n) // 2
    return Covariance(cov, notes=(f"Conley spatial HAC errors: {spec.conley_kernel} kernel, cut-off "
                                  f"{spec.conley_km:g} km ({pairs} pairs of towns within it), {lags}",))


def compress_entity(entity: np.ndarray) -> tuple[np.ndarray, int]:
    """Town codes ``0 .. n-1`` of the rows and ``n``."""
    levels, codes = np.unique(entity, return_inverse=True)
    return codes, len(levels)
