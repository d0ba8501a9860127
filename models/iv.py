"""Two-stage least squares with absorbed effects, and its diagnostics, as pure functions.

The model is ``y = X1 b1 + X2 b2 + effects + u`` with exogenous regressors ``X1`` (``k1``
columns, the intercept among them when the model has one and absorbs no effect), endogenous
regressors ``X2`` (``k2``) and excluded instruments ``Z2`` (``l2 >= k2``); the instruments
are ``Z = [X1, Z2]`` (``l = k1 + l2``), the regressors ``X = [X1, X2]`` (``k = k1 + k2``).
Absorbed effects are partialled out of ``y``, ``X1``, ``X2`` and ``Z2`` first
(:func:`models.absorb.demean`; Frisch-Waugh-Lovell), weights enter as ``sqrt(w)`` times
every partialled-out column. Then

    b = (X' P_Z X)^{-1} X' P_Z y = (X^' X^)^{-1} X^' y,   X^ = P_Z X,   u = y - X b.

Conventions (``N`` observations, ``d`` the absorbed degrees of freedom the caller passes
as ``df_absorbed``, ``d_c`` those counted under clustering, ``df_absorbed_crv``: the levels
of effects nested in a cluster dimension left out, reghdfe's and fixest's rule):

covariance (as pyfixest's ``feols`` IV, fixest, and ivreg2 / ivreghdfe with ``small``)
    ``unadjusted``: ``s^2 (X^'X^)^{-1}``, ``s^2 = u'u / (N - k - d)``; ``robust``: HC1,
    ``N / (N - k - d) (X^'X^)^{-1} (sum u_i^2 x^_i x^_i') (X^'X^)^{-1}``; ``clustered``:
    the sandwich on the cluster sums of the scores ``x^_i u_i`` with one, two or three
    dimensions combined as Cameron, Gelbach and Miller (2011) (``sum over non-empty subsets
    S of the dimensions of (-1)^(|S|+1) V_S``, ``V_S`` clustered by the intersection) and
    the factor ``small_sample``: ``"stata"`` (CRV1) ``G/(G-1) (N-1)/(N-K)``,
    ``K = k + d_c``, ``G`` the smallest number of clusters (fixest's and pyfixest's default
    ``ssc(adj=TRUE, fixef.K="nested", cluster.adj=TRUE, cluster.df="min")``; reghdfe,
    ivreg2); ``"plm"``: each part its own ``G_S/(G_S-1)``, ``K = k`` (plm's ``vcovHC(type =
    "sss")``); ``"none"``: no factor (plm's and sandwich's ``HC0``/``CR0``). ``small_sample``
    acts on clustered errors only, as in :mod:`models.covariance`. The t (and first-stage
    F) reference distributions have ``G - 1`` denominator degrees of freedom when clustered,
    ``N - k - d`` (first stage ``N - l - d``) otherwise.
first stages
    For each endogenous regressor ``x2_j``: OLS of ``x2_j`` on ``Z`` (after partialling out),
    its coefficients and standard errors under the same covariance (``k`` replaced by
    ``l``), and the partial F of the excluded instruments, the Wald form ``F = pi2'
    V(pi2)^{-1} pi2 / l2`` (Stata ivreg2's "F test of excluded instruments", pyfixest's
    ``_f_stat_1st_stage``; with ``unadjusted`` the classical F of AER's "Weak instruments"),
    with the partial R-squared of the excluded instruments.
Cragg-Donald Wald F (homoskedastic; Cragg and Donald 1993, Stock and Yogo 2005)
    ``rho`` the smallest canonical correlation of ``X2~`` and ``Z2~`` (both partialled on
    ``X1`` and the effects): ``F_CD = rho^2 / (1 - rho^2) (N - l - d) / l2``, ivreg2's
    ``e(cdf)``; with one endogenous regressor the homoskedastic first-stage F.
Kleibergen-Paap rk Wald F (robust or clustered; Kleibergen and Paap 2006)
    The rk Wald statistic of the rank ``k2 - 1`` hypothesis on ``Pi2`` (``X2~ = Z2~ Pi2 +
    V``), computed as ranktest (Kleibergen and Schaffer 2007) on ``Theta = F Pi2 G^{-1}``,
    ``F'F = Z2~'Z2~``, ``G'G = X2~'X2~``, with the covariance of ``vec Theta`` from the
    first-stage scores under the chosen covariance and its small-sample factor (``K = l +
    d_c`` clustered, ``N / (N - l - d)`` robust), divided by ``l2``. This is ivreg2's and
    ivreghdfe's ``e(rkf)``: ``chi2 / N (N - L - d) / l2`` robust and ``chi2 / (N-1) (N - L
    - d_c) (G-1)/G / l2`` clustered, ``chi2`` the large-sample rk statistic (Baum, Schaffer
    and Stillman 2007, sec. 4.2). With one endogenous regressor it is the first-stage F.
Effective F (one endogenous regressor; Montiel Olea and Pflueger 2013)
    ``pi2' Z2~'Z2~ pi2 / tr(V(pi2) Z2~'Z2~)`` with ``V(pi2)`` the first-stage covariance;
    under ``unadjusted`` it equals the first-stage F. pyfixest's ``_eff_F`` uses the
    instruments before ``X1`` is partialled out and HC1 under ``iid``: equal when ``k1 = 0``
    and the covariance is robust or clustered.
Over-identification (``l2 > k2``)
    ``unadjusted``: Sargan's ``u' P_Z u / (u'u / (N - d))`` (``N R^2`` of ``u`` on ``Z``
    without effects: AER's "Sargan", ivreg2's ``e(sargan)``; with effects the residual
    variance counts the absorbed levels, so that the statistic is not inflated by ``T/(T-1)``
    in short panels). ``robust``/``clustered``: Hansen's J, the minimised two-step efficient
    GMM criterion ``min_b g(b)' S^{-1} g(b)``, ``g(b) = Z'(y - X b)``, ``S`` the (multiway)
    cluster or White sum of ``z_i u_i`` at the 2SLS residuals, no small-sample factor
    (ivreg2's ``e(j)`` after 2SLS with ``robust``/``cluster``; Hansen 1982, Hayashi 2000,
    sec. 3.6). ``chi2(l2 - k2)``.
Endogeneity (regression-based Durbin-Wu-Hausman, the control function test)
    OLS of ``y`` on ``X`` and the first-stage residuals ``V``; the Wald test that the
    coefficients of ``V`` are zero under the chosen covariance, as ``F = W / k2`` on ``(k2,
    G - 1)`` or ``(k2, N - k - k2 - d)`` degrees of freedom (Wu 1973, Hausman 1978; the
    robust and cluster-robust version: Wooldridge 2010, sec. 6.3.1, Stata's ``estat
    endogenous`` "regression F"). With ``unadjusted`` it is AER's "Wu-Hausman" F; with HC1
    AER's with ``vcov. = function(m) vcovHC(m, type = "HC1")``.
Endogeneity (C statistic, ivreg2's ``endog()``)
    ``C = J(Z+, S) - J(Z, S_ZZ)``, ``Z+`` the instruments with the endogenous regressors
    added, ``S`` the covariance of ``Z+'u`` at the OLS residuals (``s^2 = u'u / (N - d)``,
    White, or cluster sums; no small-sample factor) used in both, ``chi2(k2)`` (Hayashi 2000,
    sec. 3.6): ivreg2's ``e(estat)``. Under ``unadjusted``, the Durbin form of the test.

Identification failures raise :class:`IdentificationError` naming the variables: fewer
excluded instruments than endogenous regressors; an instrument or endogenous regressor
without variation once the effects are partialled out; instruments collinear with the
exogenous regressors (or with each other); a first stage in which the excluded instruments
explain nothing (every coefficient zero), or first stages that leave the endogenous
regressors' fitted values collinear. A variation or canonical correlation counts as zero
below ``max(1e-9, 10 tol)`` relative (``tol`` the projection's tolerance).

References: Baum, Schaffer and Stillman (2007), *Stata Journal* 7(4); Cameron, Gelbach and
Miller (2011), *JBES* 29(2); Cragg and Donald (1993), *Econometric Theory* 9; Hansen (1982),
*Econometrica* 50; Hausman (1978), *Econometrica* 46; Hayashi (2000), *Econometrics*;
Kleibergen and Paap (2006), *Journal of Econometrics* 133; Kleibergen and Schaffer (2007),
ranktest (Stata module, SSC); Montiel Olea and Pflueger (2013), *JBES* 31(3); Sargan (1958),
*Econometrica* 26; Stock and Yogo (2005), in *Identification and Inference for Econometric
Models*; Wooldridge (2010), *Econometric Analysis of Cross Section and Panel Data*, 2nd ed.;
Wu (1973), *Econometrica* 41.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from .absorb import Factor, demean
from .checks import ZERO
from .clusters import intersect_codes
from .exceptions import AbsorbedRegressorError, CollinearityError, DegenerateModelError
from .transforms import group_sums

__all__ = [
    "COV_TYPES",
    "SMALL_SAMPLE",
    "FirstStage",
    "IVCovariance",
    "IVDiagnostics",
    "IVResult",
    "IVTest",
    "IdentificationError",
    "cragg_donald_f",
    "effective_f",
    "endogeneity_c",
    "endogeneity_test",
    "first_stages",
    "hansen_j",
    "kleibergen_paap_rk",
    "multiway_meat",
    "two_sls",
]

COV_TYPES = ("unadjusted", "robust", "clustered")
SMALL_SAMPLE = ("stata", "plm", "none")


class IdentificationError(ValueError):
    """The instruments do not identify the endogenous regressors (named in the message)."""


@dataclass(frozen=True)
class IVTest:
    """A test statistic: ``statistic`` with ``df`` (numerator) degrees of freedom and its
    ``pvalue``; ``df_denom`` is set for an F statistic; ``name`` says what was tested;
    ``note`` how it was computed (the same fields as :class:`models.results.WaldTest`)."""

    name: str
    statistic: float
    df: int
    pvalue: float
    df_denom: float | None = None
    note: str = ""


def _freeze(obj) -> None:
    """Make the array fields of a frozen dataclass read-only copies (the result never changes)."""
    for name, value in vars(obj).items():
        if isinstance(value, np.ndarray):
            a = np.array(value)
            a.setflags(write=False)
            object.__setattr__(obj, name, a)


@dataclass(frozen=True, eq=False)
class FirstStage:
    """The first-stage regression of one endogenous regressor on the exogenous regressors and
    the excluded instruments, after the effects are partialled out (read-only).

    Attributes
    ----------
    endog : str
        The endogenous regressor.
    names : tuple of str
        The first stage's regressors: exogenous regressors, then excluded instruments.
    params, std_errors : (l,) arrays
        Its coefficients and their standard errors under the model's covariance (``k``
        replaced by ``l`` in the small-sample factors).
    cov : (l, l) array
        Their covariance.
    f_test : IVTest
        Wald F of the excluded instruments, ``pi2' V(pi2)^{-1} pi2 / l2`` on ``(l2, G - 1)``
        (clustered) or ``(l2, N - l - df_absorbed)`` degrees of freedom (ivreg2's "F test of
        excluded instruments", pyfixest's first-stage F; AER's "Weak instruments" when
        ``unadjusted``).
    partial_r2 : float
        Partial R-squared of the excluded instruments given the exogenous regressors and the
        effects (ivreg2's ``pr2``).
    """

    endog: str
    names: tuple
    params: np.ndarray
    std_errors: np.ndarray
    cov: np.ndarray
    f_test: IVTest
    partial_r2: float

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True, eq=False)
class IVDiagnostics:
    """Identification, over-identification and endogeneity diagnostics of a 2SLS fit.

    Attributes
    ----------
    first_stage_f : tuple of IVTest
        The first-stage F of each endogenous regressor (as :attr:`FirstStage.f_test`).
    cragg_donald_f : float
        Cragg-Donald Wald F (homoskedastic; Cragg and Donald 1993), compared with Stock and
        Yogo's (2005) critical values; no p-value (its null is weak, not zero, identification).
    kleibergen_paap_f : float or None
        Kleibergen-Paap rk Wald F (Kleibergen and Paap 2006) under ``robust`` or
        ``clustered`` errors (``None`` under ``unadjusted``): ivreg2's ``widstat``.
    weak_id_df : tuple of int
        ``(l2, N - l - df_absorbed)``, the degrees of freedom of both weak-identification F.
    effective_f : float or None
        Montiel Olea and Pflueger's (2013) effective F (one endogenous regressor only).
    overid : IVTest or None
        Sargan's statistic (``unadjusted``) or Hansen's (1982) J (``robust``, ``clustered``),
        ``chi2(l2 - k2)``; ``None`` when exactly identified or not computable (see ``notes``).
    endogeneity : IVTest
        Regression-based (control function) Durbin-Wu-Hausman F test, under the model's
        covariance (AER's "Wu-Hausman"; Stata's ``estat endogenous`` regression F).
    endogeneity_c : IVTest or None
        The difference-in-Sargan (C) statistic of ivreg2's ``endog()``, ``chi2(k2)``
        (Hayashi 2000, sec. 3.6); ``None`` when its moment covariance is singular.
    notes : tuple of str
        Why a statistic is not reported.
    """

    first_stage_f: tuple
    cragg_donald_f: float
    kleibergen_paap_f: float | None
    weak_id_df: tuple
    effective_f: float | None
    overid: IVTest | None
    endogeneity: IVTest
    endogeneity_c: IVTest | None
    notes: tuple = ()


@dataclass(frozen=True, eq=False)
class IVResult:
    """A two-stage least-squares fit (read-only; see the module docstring for every convention).

    Attributes
    ----------
    names : tuple of str
        Exogenous regressors first (in the order given), then endogenous ones.
    params, std_errors : (k,) arrays
        The 2SLS estimates and their standard errors (``NaN`` for a negative variance, which
        multiway clustering can give).
    cov : (k, k) array
        Their covariance under ``cov_type`` and ``small_sample``.
    resid : (n,) array
        ``y - X b`` after the effects are partialled out, in the units of ``y`` (unweighted).
    nobs, df_resid : int
        ``N`` and ``N - k - df_absorbed``.
    df_dist : float
        Denominator degrees of freedom of the t statistics: ``G - 1`` (the fewest clusters)
        when clustered, ``df_resid`` otherwise.
    k_small : int
        The ``K`` of the small-sample factor: ``k + df_absorbed_crv`` (``small_sample="stata"``,
        clustered), ``k`` (``"plm"``), ``k + df_absorbed`` otherwise.
    cov_type, small_sample : str
        As passed to :func:`two_sls`.
    n_clusters : tuple of int
        ``G`` of each cluster dimension (empty unless clustered).
    first_stage : tuple of FirstStage
        One per endogenous regressor, in the order of ``endog_names``.
    diagnostics : IVDiagnostics
    """

    names: tuple
    params: np.ndarray
    std_errors: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    nobs: int
    df_resid: int
    df_dist: float
    k_small: int
    cov_type: str
    small_sample: str
    n_clusters: tuple
    first_stage: tuple
    diagnostics: IVDiagnostics

    def __post_init__(self) -> None:
        _freeze(self)


# ------------------------------------------------------------------------------ covariance
def multiway_meat(scores: np.ndarray, clusters: Sequence[tuple[np.ndarray, int]], small_sample: str = "none",
                  nobs: int | None = None, k: int = 0) -> np.ndarray:
    """Cluster sum of score outer products over one, two or three dimensions.

    ``sum_S (-1)^(|S|+1) c_S sum_g s_g s_g'`` over the non-empty subsets ``S`` of the
    dimensions, clusters of ``S`` the intersections of its dimensions (Cameron, Gelbach and
    Miller 2011), ``s_g`` the column sums of ``scores`` in cluster ``g``. ``c_S``:
    ``"none"`` 1; ``"stata"`` ``G/(G-1) (N-1)/(N-k)`` with ``G`` the fewest clusters of any
    dimension, the same for every part; ``"plm"`` ``G_S/(G_S-1) (N-1)/(N-k)`` per part.

    Parameters
    ----------
    scores : (n, p) array
        Rows ``x_i u_i`` (or ``z_i u_i``).
    clusters : sequence of (codes, G)
        One to three dimensions, ``codes`` int64 in ``0 .. G-1``.
    small_sample : {"none", "stata", "plm"}
    nobs, k : int
        ``N`` (default: rows of ``scores``) and ``K`` of the factor.

    Returns
    -------
    (p, p) array
        Symmetric; with several dimensions it need not be positive semi-definite.

    References
    ----------
    Cameron, Gelbach and Miller (2011), *JBES* 29(2), eq. (2.11).
    """
    n = scores.shape[0] if nobs is None else nobs
    g_min = min(g for _, g in clusters)
    total = np.zeros((scores.shape[1], scores.shape[1]))
    for size in range(1, len(clusters) + 1):
        for subset in combinations(clusters, size):
            codes, g = subset[0]
            for other, _ in subset[1:]:
                codes, g = intersect_codes(codes, other)
            sums = group_sums(scores, codes, g)
            part = sums.T @ sums
            if small_sample == "plm":
                part = part * _factor(g, n, k)
            total += part if size % 2 else -part
    if small_sample == "stata":
        total = total * _factor(g_min, n, k)
    return total


def _factor(g: int, n: int, k: int) -> float:
    if g < 2:
        raise ValueError(f"clustered errors need at least 2 clusters; found {g}")
    if n - k <= 0:
        raise ValueError(f"clustered errors need N > K; found N={n}, K={k}")
    return g / (g - 1) * (n - 1) / (n - k)


def _sym(a: np.ndarray) -> np.ndarray:
    return (a + a.T) / 2.0


@dataclass(frozen=True)
class IVCovariance:
    """How the covariance of every regression of the fit (second stage, first stages,
    control-function regression) is computed: ``cov_type`` (``COV_TYPES``), ``clusters``
    (``((codes, G), ...)``, one to three dimensions), ``small_sample`` (``SMALL_SAMPLE``),
    ``nobs`` and the absorbed degrees of freedom ``df_absorbed`` (all) and
    ``df_absorbed_crv`` (those counted in the CRV1 ``K``)."""

    cov_type: str
    nobs: int
    clusters: tuple = ()
    small_sample: str = "stata"
    df_absorbed: int = 0
    df_absorbed_crv: int = 0

    def df_resid(self, k: int) -> int:
        """``N - k - df_absorbed``."""
        return self.nobs - k - self.df_absorbed

    def k_small(self, k: int) -> int:
        """The ``K`` of the clustered small-sample factor of a regression with ``k`` regressors."""
        return k + self.df_absorbed_crv if self.small_sample == "stata" else k

    def df_denom(self, k: int) -> float:
        """Denominator degrees of freedom of t and F statistics (``G - 1`` when clustered)."""
        if self.cov_type == "clustered":
            return float(min(g for _, g in self.clusters) - 1)
        return float(self.df_resid(k))

    def meat(self, scores: np.ndarray, k: int) -> np.ndarray:
        """The scaled middle of the sandwich (robust or clustered) of a regression with ``k``
        regressors whose scores (``x_i u_i``) are the rows of ``scores``."""
        if self.cov_type == "robust":
            return scores.T @ scores * (self.nobs / self.df_resid(k))
        return multiway_meat(scores, self.clusters, self.small_sample, self.nobs, self.k_small(k))

    def cov(self, bread: np.ndarray, X: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``bread = (X'X)^{-1}`` of the regressors ``X`` (for 2SLS ``X^``) with residuals ``u``."""
        k = X.shape[1]
        if self.cov_type == "unadjusted":
            return bread * (float(u @ u) / self.df_resid(k))
        return _sym(bread @ self.meat(X * u[:, None], k) @ bread)


# ------------------------------------------------------------------------------ algebra
def _ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(b, residuals, (X'X)^{-1})`` of the least-squares fit of ``y`` (1-d or 2-d) on ``X``."""
    Q, R = np.linalg.qr(X)
    b = np.linalg.solve(R, Q.T @ y)
    R_inv = np.linalg.solve(R, np.eye(R.shape[0]))
    return b, y - X @ b, R_inv @ R_inv.T


def _partial(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Residuals of the columns of ``A`` on ``B``."""
    if B.shape[1] == 0:
        return A
    Q, _ = np.linalg.qr(B)
    return A - Q @ (Q.T @ A)


def _std_errors(cov: np.ndarray) -> np.ndarray:
    """Square roots of the variances; ``NaN`` for a negative one (multiway clustering)."""
    v = np.diag(cov)
    return np.where(v >= 0, np.sqrt(np.abs(v)), np.nan)


def _wald(b: np.ndarray, V: np.ndarray) -> float:
    """``b' V^+ b`` (a generalised inverse, as pyfixest's ``wald_test`` and Stata's ``test``:
    a direction with no variance, such as a coefficient that is zero in every cluster, drops
    out)."""
    return float(b @ np.linalg.pinv(V, hermitian=True) @ b)


def _orthonormal(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.linalg.qr(A)


# ------------------------------------------------------------------------------ diagnostics
def first_stages(W: np.ndarray, E: np.ndarray, Z: np.ndarray, vce: IVCovariance, exog_names: Sequence[str],
                 endog_names: Sequence[str], instrument_names: Sequence[str]) -> tuple[tuple, np.ndarray]:
    """The first-stage regressions of the endogenous regressors on the instruments.

    ``E = [W, Z] Pi + V`` by least squares, one column of ``E`` at a time; the covariance of
    each column of ``Pi`` is ``vce``'s with ``l = k1 + l2`` regressors; the F of the excluded
    instruments is the Wald form ``pi2' V(pi2)^+ pi2 / l2``; their partial R-squared is
    ``1 - v'v / e'e``, ``e`` the endogenous regressor partialled on ``W``.

    Parameters
    ----------
    W : (n, k1) array
        Exogenous regressors (partialled out of the effects, weighted).
    E : (n, k2) array
        Endogenous regressors (same).
    Z : (n, l2) array
        Excluded instruments (same).
    vce : IVCovariance
    exog_names, endog_names, instrument_names : sequences of str

    Returns
    -------
    stages : tuple of FirstStage
        One per column of ``E``.
    V : (n, k2) array
        The first-stage residuals (weighted).

    References
    ----------
    Baum, Schaffer and Stillman (2007), sec. 4 (ivreg2's ``first``); Stock and Yogo (2005).
    """
    Zf = np.column_stack([W, Z])
    k1, l2 = W.shape[1], Z.shape[1]
    Pi, V, bread = _ols(Zf, E)
    E_w = _partial(E, W)
    names = (*exog_names, *instrument_names)
    df2 = vce.df_denom(Zf.shape[1])
    stages = []
    for j, name in enumerate(endog_names):
        cov = vce.cov(bread, Zf, V[:, j])
        pi2 = Pi[k1:, j]
        f = _wald(pi2, cov[k1:, k1:]) / l2
        test = IVTest(f"excluded instruments in the first stage of {name}", f, l2, float(scipy.stats.f.sf(f, l2, df2)), df2)
        r2 = 1.0 - float(V[:, j] @ V[:, j]) / float(E_w[:, j] @ E_w[:, j])
        stages.append(FirstStage(name, names, Pi[:, j].copy(), _std_errors(cov), cov, test, r2))
    return tuple(stages), V


def cragg_donald_f(E_t: np.ndarray, Z_t: np.ndarray, df_resid: int) -> float:
    """Cragg-Donald Wald F statistic of weak identification (homoskedastic errors).

    ``F_CD = rho^2 / (1 - rho^2) df_resid / l2``, ``rho`` the smallest canonical correlation
    of ``E_t`` and ``Z_t``: the smallest singular value of ``Qz'Qe`` (``E_t = Qe Re``,
    ``Z_t = Qz Rz``). With one endogenous regressor it is the homoskedastic first-stage F.

    Parameters
    ----------
    E_t : (n, k2) array
        Endogenous regressors partialled on the exogenous regressors and the effects.
    Z_t : (n, l2) array
        Excluded instruments, partialled the same way.
    df_resid : int
        ``N - l - df_absorbed`` (ivreg2 with ``small``; ``l = k1 + l2``).

    Returns
    -------
    float
        ``inf`` when ``rho = 1``. Compare with Stock and Yogo's (2005) critical values.

    References
    ----------
    Cragg and Donald (1993), *Econometric Theory* 9; Stock and Yogo (2005); Baum, Schaffer and
    Stillman (2007), sec. 7.1 (ivreg2's ``e(cdf)``).
    """
    Qe, _ = _orthonormal(E_t)
    Qz, _ = _orthonormal(Z_t)
    rho = np.linalg.svd(Qz.T @ Qe, compute_uv=False).min()
    rho2 = min(float(rho) ** 2, 1.0)
    return rho2 / (1.0 - rho2) * df_resid / Z_t.shape[1] if rho2 < 1.0 else np.inf


def kleibergen_paap_rk(E_t: np.ndarray, Z_t: np.ndarray, vce: IVCovariance, n_instruments: int) -> float:
    """Kleibergen and Paap's (2006) rk Wald statistic of ``rank(Pi2) = k2 - 1`` in
    ``E_t = Z_t Pi2 + V`` (both partialled on the exogenous regressors and the effects).

    With ``E_t = Qe Re`` and ``Z_t = Qz Rz`` (QR), ``Theta = Rz Pi2 Re^{-1} = Qz'Qe`` (the
    normalisation of ranktest, ``F'F = Z'Z``, ``G'G = X'X``) has the singular value
    decomposition ``U S V'``. For the rank ``q = k2 - 1`` the statistic reduces to
    ``lambda' Omega^{-1} lambda`` with ``lambda = U2' Theta v`` (``U2`` the last ``l2 - q``
    columns of ``U``, ``v`` the last right singular vector: KP's ``A_q_perp``, ``B_q_perp``
    up to invertible factors, which the statistic does not depend on) and ``Omega`` the
    covariance of ``lambda``: the (robust, clustered) sum of the scores ``((Qe - Qz Theta) v)_i
    (U2' q_i)``, scaled as the first-stage covariance of a regression with ``n_instruments``
    (``l``) regressors (``vce``). Under ``unadjusted`` it equals ``l2`` times the Cragg-Donald F.

    Parameters
    ----------
    E_t, Z_t : arrays
        As :func:`cragg_donald_f`.
    vce : IVCovariance
        ``robust`` or ``clustered`` (with its small-sample factor).
    n_instruments : int
        ``l = k1 + l2``, the ``k`` of the small-sample factors.

    Returns
    -------
    float
        The rk Wald statistic ``lambda' Omega^+ lambda``; divided by ``l2`` it is ivreg2's
        ``e(rkf)`` / ``e(widstat)`` (the Kleibergen-Paap rk Wald F).

    References
    ----------
    Kleibergen and Paap (2006), *Journal of Econometrics* 133; Kleibergen and Schaffer (2007),
    ranktest (SSC); Baum, Schaffer and Stillman (2007), sec. 4.2.
    """
    Qe, _ = _orthonormal(E_t)
    Qz, _ = _orthonormal(Z_t)
    theta = Qz.T @ Qe
    U, _, Vt = np.linalg.svd(theta, full_matrices=True)
    k2 = E_t.shape[1]
    U2, v = U[:, k2 - 1:], Vt[-1]
    lam = U2.T @ theta @ v
    resid_v = (Qe - Qz @ theta) @ v
    scores = resid_v[:, None] * (Qz @ U2)
    if vce.cov_type == "unadjusted":
        omega = np.eye(U2.shape[1]) * (float(resid_v @ resid_v) / vce.df_resid(n_instruments))
    else:
        omega = vce.meat(scores, n_instruments)
    return _wald(lam, omega)


def effective_f(first: FirstStage, Z_t: np.ndarray) -> float:
    """Montiel Olea and Pflueger's effective F of one endogenous regressor.

    ``F_eff = pi2' Z_t'Z_t pi2 / tr(V(pi2) Z_t'Z_t)``, ``V(pi2)`` the first-stage covariance of
    the excluded instruments' coefficients under the model's covariance. Robust to
    heteroskedasticity, clustering and serial correlation; equal to the first-stage F under
    ``unadjusted``.

    Parameters
    ----------
    first : FirstStage
        The first stage (its last ``l2`` coefficients are the excluded instruments').
    Z_t : (n, l2) array
        Excluded instruments partialled on the exogenous regressors and the effects.

    Returns
    -------
    float
        Compare with Montiel Olea and Pflueger's critical values (``weakivtest`` in Stata).

    References
    ----------
    Montiel Olea and Pflueger (2013), *JBES* 31(3); pyfixest's ``IV_Diag`` (``_eff_F``).
    """
    l2 = Z_t.shape[1]
    pi2, V = first.params[-l2:], first.cov[-l2:, -l2:]
    Q = Z_t.T @ Z_t
    return float(pi2 @ Q @ pi2) / float(np.trace(V @ Q))


def _positive_definite(S: np.ndarray) -> bool:
    """The correlation-scaled ``S`` has no eigenvalue below ``1e-10`` of the largest."""
    d = np.sqrt(np.clip(np.diag(S), 0, None))
    if (d == 0).any():
        return False
    w = np.linalg.eigvalsh(S / np.outer(d, d))
    return bool(w.min() > 1e-10 * w.max())


def _moment_cov(Zf: np.ndarray, u: np.ndarray, vce: IVCovariance) -> np.ndarray | None:
    """Covariance ``S`` of the moment conditions ``Z'u`` at residuals ``u``, without
    small-sample factor: ``u'u / (N - df_absorbed) Z'Z`` (``unadjusted``), ``sum_i u_i^2 z_i
    z_i'`` (``robust``), the multiway cluster sum (``clustered``); ``None`` when it is not
    positive definite (more instruments than clusters, or multiway clustering)."""
    if vce.cov_type == "unadjusted":
        return float(u @ u) / (vce.nobs - vce.df_absorbed) * (Zf.T @ Zf)
    scores = Zf * u[:, None]
    S = scores.T @ scores if vce.cov_type == "robust" else multiway_meat(scores, vce.clusters)
    return S if _positive_definite(S) else None


def _gmm_j(y: np.ndarray, X: np.ndarray, Zf: np.ndarray, S: np.ndarray) -> float:
    """``min_b g(b)' S^{-1} g(b)``, ``g(b) = Z'(y - X b)``: the criterion of the efficient GMM
    estimator with weight matrix ``S^{-1}`` (solved by least squares on ``L^{-1} Z'X``,
    ``S = L L'``)."""
    L = np.linalg.cholesky(S)
    A, c = np.linalg.solve(L, Zf.T @ X), np.linalg.solve(L, Zf.T @ y)
    r = c - A @ np.linalg.lstsq(A, c, rcond=None)[0]
    return float(r @ r)


def hansen_j(y: np.ndarray, X: np.ndarray, Zf: np.ndarray, u: np.ndarray, vce: IVCovariance, k2: int
             ) -> tuple[IVTest | None, str]:
    """Sargan's (``unadjusted``) or Hansen's J (``robust``, ``clustered``) over-identification test.

    ``J = min_b g(b)' S^{-1} g(b)``, ``g(b) = Z'(y - X b)``, with ``S`` the covariance of the
    moment conditions at the 2SLS residuals ``u`` (:func:`_moment_cov`, no small-sample
    factor); ``chi2(l - k)``. Under ``unadjusted`` this is Sargan's ``u'P_Z u / (u'u / (N -
    df_absorbed))``; otherwise the J of the two-step efficient GMM estimator.

    Parameters
    ----------
    y, X, Zf : arrays
        Outcome, regressors ``[X1, X2]`` and instruments ``[X1, Z2]``, partialled out of the
        effects and weighted.
    u : (n,) array
        The 2SLS residuals (weighted).
    vce : IVCovariance
    k2 : int
        Number of endogenous regressors.

    Returns
    -------
    (IVTest or None, str)
        The test (``None`` when exactly identified or when ``S`` is not positive definite)
        and a note saying why it is missing.

    References
    ----------
    Sargan (1958), *Econometrica* 26; Hansen (1982), *Econometrica* 50; Hayashi (2000),
    *Econometrics*, sec. 3.6; Baum, Schaffer and Stillman (2007), sec. 2 (ivreg2's ``e(sargan)``,
    ``e(j)``).
    """
    df = Zf.shape[1] - X.shape[1]
    if df <= 0:
        return None, ""
    S = _moment_cov(Zf, u, vce)
    if S is None:
        return None, ("Hansen's J is not reported: the covariance of the moment conditions is not positive "
                      f"definite ({Zf.shape[1]} instruments; fewer clusters than instruments, or multiway clustering)")
    stat = _gmm_j(y, X, Zf, S)
    if vce.cov_type == "unadjusted":
        name, note = "Sargan", "Sargan's statistic u'P_Z u / s^2, s^2 = u'u / (N - absorbed levels)"
    else:
        name, note = "Hansen J", "Hansen's J of the two-step efficient GMM estimator, S from the 2SLS residuals"
    return IVTest(name, stat, df, float(scipy.stats.chi2.sf(stat, df)), None, note), ""


def endogeneity_c(y: np.ndarray, X: np.ndarray, Zf: np.ndarray, E: np.ndarray, u: np.ndarray, vce: IVCovariance
                  ) -> tuple[IVTest | None, str]:
    """The C (difference-in-Sargan) test that the endogenous regressors are exogenous, as
    ivreg2's ``endog()``.

    ``C = J(Z+, S) - J(Z, S_ZZ)``, ``Z+ = [Z, X2]`` (the endogenous regressors added to the
    instruments), ``J`` the GMM criterion of :func:`hansen_j`, with the same ``S``, the
    covariance of ``Z+'u`` at the OLS residuals (efficient under the null), and ``S_ZZ`` its
    block of ``Z``, so that ``C >= 0``; ``chi2(k2)``. Under ``unadjusted`` it is the Durbin
    form of the Durbin-Wu-Hausman test (``s^2 = u'u / (N - df_absorbed)``); with robust or
    clustered ``S`` it is robust to heteroskedasticity or clustering. As ivreg2, the test is
    not reported when the covariance of the model's own moment conditions (at the 2SLS
    residuals ``u``) is not positive definite (Stata then warns that it is not of full rank
    and reports neither J nor C).

    Parameters
    ----------
    y, X, Zf, E : arrays
        Outcome, regressors ``[X1, X2]``, instruments ``[X1, Z2]`` and endogenous regressors
        ``X2``, partialled out of the effects and weighted.
    u : (n,) array
        The 2SLS residuals (weighted).
    vce : IVCovariance

    Returns
    -------
    (IVTest or None, str)
        The test, or ``None`` and a note when a covariance of the moment conditions is not
        positive definite.

    References
    ----------
    Hayashi (2000), *Econometrics*, sec. 3.6 (the C statistic) and pp. 233-234; Baum, Schaffer
    and Stillman (2007), sec. 2.3 (ivreg2's ``e(estat)``).
    """
    Zplus = np.column_stack([Zf, E])
    _, u_ols, _ = _ols(X, y)
    S = _moment_cov(Zplus, u_ols, vce)
    if S is None or _moment_cov(Zf, u, vce) is None:
        return None, ("the C endogeneity test is not reported: the covariance of the moment conditions (with "
                      "or without the endogenous regressors among the instruments) is not positive definite")
    l1 = Zf.shape[1]
    stat = max(_gmm_j(y, X, Zplus, S) - _gmm_j(y, X, Zf, S[:l1, :l1]), 0.0)
    k2 = E.shape[1]
    return IVTest("endogeneity (C statistic, difference in Sargan-Hansen)", stat, k2, float(scipy.stats.chi2.sf(stat, k2)),
                  None, "J with the endogenous regressors as instruments minus J without them, S from the OLS "
                  "residuals"), ""


def endogeneity_test(y: np.ndarray, X: np.ndarray, V: np.ndarray, vce: IVCovariance) -> IVTest:
    """Regression-based (control function) Durbin-Wu-Hausman test of the endogeneity of ``X2``.

    OLS of ``y`` on ``[X, V]``, ``V`` the first-stage residuals; ``F = W / k2`` with ``W`` the
    Wald statistic of ``V``'s coefficients under ``vce`` (``K = k + k2`` in its small-sample
    factor), on ``(k2, G - 1)`` (clustered) or ``(k2, N - k - k2 - df_absorbed)`` degrees of
    freedom.

    Parameters
    ----------
    y, X : arrays
        Outcome and regressors ``[X1, X2]``, partialled out of the effects and weighted.
    V : (n, k2) array
        First-stage residuals (:func:`first_stages`).
    vce : IVCovariance

    Returns
    -------
    IVTest
        An F test; under ``unadjusted`` AER's "Wu-Hausman", under ``robust`` AER's with
        ``vcov. = vcovHC(type = "HC1")``.

    References
    ----------
    Wu (1973), *Econometrica* 41; Hausman (1978), *Econometrica* 46; Wooldridge (2010),
    *Econometric Analysis of Cross Section and Panel Data*, sec. 6.3.1.
    """
    A = np.column_stack([X, V])
    b, e, bread = _ols(A, y)
    cov = vce.cov(bread, A, e)
    k2 = V.shape[1]
    f = _wald(b[-k2:], cov[-k2:, -k2:]) / k2
    df2 = vce.df_denom(A.shape[1])
    return IVTest("endogeneity (regression-based Durbin-Wu-Hausman)", f, k2, float(scipy.stats.f.sf(f, k2, df2)), df2,
                  "Wald test of the first-stage residuals in the regression of y on X and them (control function)")


# ------------------------------------------------------------------------------ checks
def _listing(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _check_inputs(y, W, E, Z, exog_names, endog_names, instrument_names, weights, cov_type, small_sample, clusters):
    n = y.shape[0]
    for label, A, names in (("X_exog", W, exog_names), ("X_endog", E, endog_names), ("Z", Z, instrument_names)):
        if A.ndim != 2 or A.shape[0] != n:
            raise ValueError(f"{label} must be a 2-d array with {n} rows (one per row of y); got shape {A.shape}")
        if A.shape[1] != len(names):
            raise ValueError(f"{label} has {A.shape[1]} columns but {len(names)} names were given ({_listing(names)})")
    for label, A in (("y", y), ("X_exog", W), ("X_endog", E), ("Z", Z)):
        if not np.isfinite(A).all():
            raise ValueError(f"{label} holds missing or infinite values; drop those rows before the fit")
    if weights is not None and (weights.shape != (n,) or not np.isfinite(weights).all() or (weights <= 0).any()):
        raise ValueError(f"weights must be {n} finite positive numbers, one per row")
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type {cov_type!r} is not one of {COV_TYPES}")
    if small_sample not in SMALL_SAMPLE:
        raise ValueError(f"small_sample {small_sample!r} is not one of {SMALL_SAMPLE}")
    if cov_type == "clustered" and not 1 <= len(clusters) <= 3:
        raise ValueError(f"clustered errors take one to three cluster dimensions; got {len(clusters)}")
    if E.shape[1] == 0:
        raise IdentificationError("no endogenous regressor: two-stage least squares needs at least one "
                                  "(fit the model by least squares instead)")
    if Z.shape[1] < E.shape[1]:
        raise IdentificationError(
            f"the model is not identified: {Z.shape[1]} excluded instrument(s) ({_listing(instrument_names)}) for "
            f"{E.shape[1]} endogenous regressor(s) ({_listing(endog_names)}); each endogenous regressor needs at "
            "least one instrument of its own (the order condition)")


def _check_absorbed(raw: np.ndarray, tilde: np.ndarray, names: Sequence[str], role: str, zero: float) -> None:
    """Refuse columns whose variation the effects remove: ``||a~|| <= zero ||a - mean(a)||``."""
    if raw.shape[1] == 0:
        return
    scale = np.sqrt(((raw - raw.mean(axis=0)) ** 2).sum(axis=0))
    gone = np.sqrt((tilde * tilde).sum(axis=0)) <= zero * np.where(scale > 0, scale, 1.0)
    if not gone.any():
        return
    bad = [n for n, g in zip(names, gone, strict=True) if g]
    msg = (f"{_listing(bad)}: no variation left once the absorbed effects are partialled out (the effects span "
           f"{'it' if len(bad) == 1 else 'them'})")
    if role == "exogenous":
        raise AbsorbedRegressorError(f"{msg}; the effect of such a regressor is not identified with these effects: "
                                     "drop it from the model or absorb fewer effects")
    raise IdentificationError(f"{msg}; an absorbed {role} identifies nothing: use {role}s that vary within the "
                              "effects, or absorb fewer effects")


def _null_names(A: np.ndarray, names: Sequence[str]) -> list[str] | None:
    """Names in the null direction of the correlation-scaled ``A'A`` (eigenvalue below 1e-10
    of the largest, as :func:`models.checks.check_rank`), or ``None`` when ``A`` has full rank."""
    if A.shape[1] == 0:
        return None
    ata = A.T @ A
    d = np.sqrt(np.diag(ata))
    d[d == 0] = 1.0
    w, v = np.linalg.eigh(ata / np.outer(d, d))
    null = v[:, w <= 1e-10 * max(1.0, w.max())]
    if not null.shape[1]:
        return None
    return [names[i] for i in range(len(names)) if np.abs(null[i]).max() > 1e-6]


def _check_ranks(W, E, Z, exog_names, endog_names, instrument_names) -> None:
    involved = _null_names(W, exog_names)
    if involved:
        raise CollinearityError(f"exogenous regressors are collinear: a linear combination of {_listing(involved)} is "
                                "zero (given the effects); remove one of them")
    involved = _null_names(np.column_stack([W, E]), (*exog_names, *endog_names))
    if involved:
        raise CollinearityError(f"regressors are collinear: a linear combination of {_listing(involved)} is zero "
                                "(given the effects); an endogenous regressor cannot be a combination of the exogenous "
                                "ones")
    involved = _null_names(np.column_stack([W, Z]), (*exog_names, *instrument_names))
    if involved:
        instr = [n for n in involved if n in set(instrument_names)]
        raise IdentificationError(
            f"the instruments {_listing(instr)} are collinear with the exogenous regressors or with each other (a "
            f"linear combination of {_listing(involved)} is zero given the effects): they add no excluded variation; "
            "remove them or use other instruments")


def _check_relevance(E_t, Z_t, endog_names, instrument_names, zero: float) -> None:
    """Refuse first stages in which the excluded instruments explain nothing (canonical
    correlation below ``zero``), one endogenous regressor at a time, then jointly."""
    Qz, _ = _orthonormal(Z_t)
    norms = np.sqrt((E_t * E_t).sum(axis=0))
    corr = np.sqrt(((Qz.T @ E_t) ** 2).sum(axis=0)) / norms
    dead = [n for n, c in zip(endog_names, corr, strict=True) if c <= zero]
    if dead:
        raise IdentificationError(
            f"the excluded instruments ({_listing(instrument_names)}) do not enter the first stage of {_listing(dead)}: "
            "their coefficients are zero once the exogenous regressors and the effects are partialled out, so "
            f"{'it is' if len(dead) == 1 else 'they are'} not identified; use instruments correlated with "
            f"{'it' if len(dead) == 1 else 'them'}")
    Qe, _ = _orthonormal(E_t)
    _, s, Vt = np.linalg.svd(Qz.T @ Qe)
    if s.min() <= zero:
        involved = [n for n, c in zip(endog_names, Vt[-1], strict=True) if abs(c) > 1e-6]
        raise IdentificationError(
            f"the first stages of {_listing(involved)} are collinear: the excluded instruments "
            f"({_listing(instrument_names)}) move these endogenous regressors along fewer directions than there are "
            "regressors (the rank condition fails); add instruments that separate them")


# ------------------------------------------------------------------------------ the fit
@dataclass(frozen=True, eq=False)
class _Design:
    """The partialled-out, weighted arrays of a fit."""

    y: np.ndarray
    W: np.ndarray
    E: np.ndarray
    Z: np.ndarray
    sw: np.ndarray


def _prepare(y, W, E, Z, names, factors, weights, tol, maxiter, outcome) -> _Design:
    exog_names, endog_names, instrument_names = names
    zero = max(ZERO, 10.0 * tol)
    k1, k2 = W.shape[1], E.shape[1]
    M = np.column_stack([y, W, E, Z])
    Mt = demean(M, factors, weights, tol, maxiter) if factors else M
    yt, Wt, Et, Zt = Mt[:, 0], Mt[:, 1:1 + k1], Mt[:, 1 + k1:1 + k1 + k2], Mt[:, 1 + k1 + k2:]
    if factors:
        _check_absorbed(W, Wt, exog_names, "exogenous", zero)
        _check_absorbed(E, Et, endog_names, "endogenous regressor", zero)
        _check_absorbed(Z, Zt, instrument_names, "instrument", zero)
        centred = y - y.mean()
        if np.sqrt(yt @ yt) <= zero * np.sqrt(centred @ centred):
            raise DegenerateModelError(f"the outcome {outcome!r} has no variation left once the absorbed effects are "
                                       "partialled out: there is nothing to explain")
    sw = np.sqrt(weights) if weights is not None else np.ones(len(y))
    return _Design(yt * sw, Wt * sw[:, None], Et * sw[:, None], Zt * sw[:, None], sw)


def two_sls(y: np.ndarray, X_exog: np.ndarray, X_endog: np.ndarray, Z: np.ndarray, *,
            exog_names: Sequence[str], endog_names: Sequence[str], instrument_names: Sequence[str],
            factors: Sequence[Factor] = (), weights: np.ndarray | None = None, cov_type: str = "unadjusted",
            clusters: Sequence[tuple[np.ndarray, int]] = (), small_sample: str = "stata", df_absorbed: int = 0,
            df_absorbed_crv: int | None = None, outcome: str = "y", tol: float = 1e-8,
            maxiter: int = 10_000) -> IVResult:
    """Two-stage least squares with absorbed effects, first stages and diagnostics.

    Parameters
    ----------
    y : (n,) array
        The outcome.
    X_exog : (n, k1) array
        Exogenous regressors (with the intercept column when the model has one and
        ``factors`` is empty; an intercept is absorbed by any factor).
    X_endog : (n, k2) array, k2 >= 1
        Endogenous regressors.
    Z : (n, l2) array, l2 >= k2
        Excluded instruments.
    exog_names, endog_names, instrument_names : sequences of str
        Names of the columns (used in the result and in error messages).
    factors : sequence of :class:`models.absorb.Factor`
        Effects partialled out of every column (Frisch-Waugh-Lovell).
    weights : (n,) positive array, optional
        Analytic weights (weighted 2SLS, as pyfixest's and fixest's ``weights``).
    cov_type : {"unadjusted", "robust", "clustered"}
    clusters : sequence of (codes, G)
        One to three cluster dimensions (``codes`` int64 in ``0 .. G-1``) when clustered.
    small_sample : {"stata", "plm", "none"}
        Small-sample factor of clustered errors (module docstring).
    df_absorbed : int
        Degrees of freedom the effects absorb (the constant they absorb included; 0 without
        effects), as the caller counts them (``N - k - df_absorbed`` residual degrees of
        freedom).
    df_absorbed_crv : int, optional
        Those counted in the CRV1 ``K`` (effects nested in a cluster dimension left out);
        default ``df_absorbed``.
    outcome : str
        Name of ``y`` in error messages.
    tol, maxiter : float, int
        Passed to :func:`models.absorb.demean`; ``max(1e-9, 10 tol)`` is also the relative
        size below which a variation or correlation counts as zero.

    Returns
    -------
    IVResult

    Raises
    ------
    IdentificationError
        Too few instruments; an instrument or endogenous regressor absorbed by the effects;
        instruments collinear with the exogenous regressors; excluded instruments that do not
        enter a first stage (names the variables).
    AbsorbedRegressorError, CollinearityError, DegenerateModelError
        An exogenous regressor absorbed by the effects; collinear regressors; an outcome with
        no variation left.
    """
    y, W, E, Zx = (np.asarray(a, dtype=float) for a in (y, X_exog, X_endog, Z))
    w = None if weights is None else np.asarray(weights, dtype=float)
    names = (tuple(exog_names), tuple(endog_names), tuple(instrument_names))
    _check_inputs(y, W, E, Zx, *names, w, cov_type, small_sample, clusters)
    d = _prepare(y, W, E, Zx, names, factors, w, tol, maxiter, outcome)
    _check_ranks(d.W, d.E, d.Z, *names)
    E_t, Z_t = _partial(d.E, d.W), _partial(d.Z, d.W)
    _check_relevance(E_t, Z_t, names[1], names[2], max(ZERO, 10.0 * tol))
    vce = IVCovariance(cov_type, len(y), tuple((np.asarray(c, dtype=np.int64), int(g)) for c, g in clusters),
                       small_sample, int(df_absorbed), int(df_absorbed if df_absorbed_crv is None else df_absorbed_crv))
    return _fit(d, E_t, Z_t, vce, names)


def _fit(d: _Design, E_t: np.ndarray, Z_t: np.ndarray, vce: IVCovariance, names: tuple) -> IVResult:
    """2SLS on the partialled-out arrays, then the first stages and the diagnostics."""
    exog_names, endog_names, instrument_names = names
    X, Zf = np.column_stack([d.W, d.E]), np.column_stack([d.W, d.Z])
    k, l2, k2 = X.shape[1], d.Z.shape[1], d.E.shape[1]
    Qf, _ = _orthonormal(Zf)
    Xhat = Qf @ (Qf.T @ X)
    b, _, bread = _ols(Xhat, d.y)
    u = d.y - X @ b
    cov = vce.cov(bread, Xhat, u)
    stages, V = first_stages(d.W, d.E, d.Z, vce, exog_names, endog_names, instrument_names)
    df_first = vce.df_resid(Zf.shape[1])
    overid, note_j = hansen_j(d.y, X, Zf, u, vce, k2)
    endog_c, note_c = endogeneity_c(d.y, X, Zf, d.E, u, vce)
    diagnostics = IVDiagnostics(
        first_stage_f=tuple(s.f_test for s in stages), cragg_donald_f=cragg_donald_f(E_t, Z_t, df_first),
        kleibergen_paap_f=(kleibergen_paap_rk(E_t, Z_t, vce, Zf.shape[1]) / l2
                           if vce.cov_type != "unadjusted" else None),
        weak_id_df=(l2, df_first), effective_f=effective_f(stages[0], Z_t) if k2 == 1 else None, overid=overid,
        endogeneity=endogeneity_test(d.y, X, V, vce), endogeneity_c=endog_c,
        notes=tuple(n for n in (note_j, note_c) if n))
    return IVResult(
        names=(*exog_names, *endog_names), params=b, std_errors=_std_errors(cov), cov=cov, resid=u / d.sw,
        nobs=vce.nobs, df_resid=vce.df_resid(k), df_dist=vce.df_denom(k),
        k_small=vce.k_small(k) if vce.cov_type == "clustered" else k + vce.df_absorbed, cov_type=vce.cov_type,
        small_sample=vce.small_sample, n_clusters=tuple(g for _, g in vce.clusters), first_stage=stages,
        diagnostics=diagnostics)
