"""Poisson pseudo-maximum likelihood (PPML) with high-dimensional fixed effects.

The model
---------
``E[y_i | x_i, d_i] = exp(x_i' b + d_i' a + o_i)`` for an outcome ``y_i >= 0`` (counts, flows,
employment: zeros allowed), regressors ``x_i``, the dummies ``d_i`` of any number of absorbed
effects and an optional offset ``o_i``. PPML solves the Poisson score equations
``sum_i w_i (y_i - mu_i) [x_i, d_i] = 0``; it is consistent whenever the conditional mean is
right, whatever the distribution of ``y`` (Gourieroux, Monfort and Trognon 1984; Santos Silva
and Tenreyro 2006, the estimator of gravity equations), and with origin and destination (by
year) effects it is the structural gravity model (Fally 2015; Yotov, Piermartini, Monteiro and
Larch 2016, *An Advanced Guide to Trade Policy Analysis*, WTO).

The algorithm
-------------
Iteratively reweighted least squares (IRLS) with the effects partialled out at each step
(Correia, Guimarães and Zylkin 2020, "Fast Poisson estimation with high-dimensional fixed
effects", *Stata Journal* 20(1), 95-115, the method of ``ppmlhdfe``; the same iteration as
fixest's ``fepois`` (Bergé 2018, "Efficient estimation of maximum likelihood models with multiple
fixed-effects: the R package FENmlm", CREA Discussion Paper 2018-13) and pyfixest's ``fepois``). Starting from ``mu = (y + mean(y)) / 2``, each step forms
the working outcome ``z = eta - o + (y - mu) / mu``, demeans ``z`` and ``X`` by the effects with
weights ``w mu`` (:func:`models.absorb.demean`), solves the weighted least squares
``b = (X~' W X~)^{-1} X~' W z~`` and updates ``eta = o + z - (z~ - X~ b)``, ``mu = exp(eta)``.
Two accelerations of Correia et al.: the demeaning starts from the previous step's result
(``M(z_t) = M(z_t - z_{t-1} + z~_{t-1})`` exactly, since ``z~_{t-1} - z_{t-1}`` lies in the span
of the dummies; same for ``X``), and its tolerance starts at ``1e-4`` and is divided by 10
whenever the deviance criterion falls below ten times it, down to ``fixef_tol`` (the first step,
which checks for absorbed and collinear regressors, is demeaned to ``fixef_tol``).

Convergence: ``|D_t - D_{t-1}| / (0.1 + |D_t|) < tol`` on the deviance
``D = 2 sum_i w_i [y_i log(y_i / mu_i) - (y_i - mu_i)]`` (R's ``glm.control``, fixest's
``glm.tol``, pyfixest's ``iwls_tol``; default 1e-8), with the demeaning at ``fixef_tol``. A step
whose deviance is not finite is halved (up to 30 times). Reaching ``maxiter`` raises
:class:`models.exceptions.ConvergenceError` naming the criterion (or, with ``strict=False``,
returns ``converged=False`` with a :class:`models.exceptions.ModelWarning`).

Separation
----------
When the MLE does not exist some ``mu_i`` tend to 0 (Santos Silva and Tenreyro 2010; Correia,
Guimarães and Zylkin 2021, "Verifying the existence of maximum likelihood estimates for
generalized linear models", arXiv:1903.01633). :func:`drop_fe_separation` drops, until nothing
changes, the singletons of every effect (``drop_singletons``, as ``ppmlhdfe`` and pyfixest's
``fixef_rm="singleton"``) and the observations of every level whose outcomes are all zero (its
effect would be ``-inf``: fixest's ``fixef.rm="perfect"``, pyfixest's ``separation_check=["fe"]``,
ppmlhdfe's ``fe``). :func:`relu_separation` finds the observations separated by the regressors
together with the effects (the iterative rectifier, ppmlhdfe's ``relu``, pyfixest's ``"ir"``)
and names the regressors of the separating combination; dropped, they leave those regressors
without variation, and these are omitted (``PPMLResult.omitted``: their coefficients are
infinite), as ppmlhdfe omits them. ``separation="auto"`` (default) runs the rectifier only on the
symptom of separation, a zero outcome whose fitted mean falls below ``1e-8 mean(y)`` during the
IRLS (which then stops) or lies below ``1e-6 mean(y)`` after it (ppmlhdfe's ``mu`` tolerance),
and then refits without the separated observations; ``"relu"`` always runs it; ``"fe"`` never
does (it warns on the symptom).

Covariance (pyfixest 0.60 ``fepois`` and fixest's defaults, ``ssc(adj=TRUE, fixef.K="nested",
cluster.adj=TRUE, cluster.df="min")``)
-------------------------------------------------------------------------------------------------
Bread ``H^{-1} = (X~' diag(w mu) X~)^{-1}``, scores ``s_i = w_i (y_i - mu_i) x~_i`` (``x~`` the
regressors demeaned by the effects with weights ``w mu``). ``K`` = coefficients + levels of all
effects - (number of effects - 1) (fixest's count; redundant levels beyond one per extra effect
are not found). ``unadjusted``: ``H^{-1} (N-1)/(N-K)``; ``robust``: HC1
``N/(N-K) H^{-1} (sum s_i s_i') H^{-1}`` (``small_sample="none"``: HC0, statsmodels' GLM
``cov_type="HC0"``); ``clustered``: CRV1 ``G/(G-1) (N-1)/(N-K) H^{-1} (sum_g S_g S_g') H^{-1}``,
the levels of effects nested in a cluster dimension left out of ``K`` (one kept per nested
effect); two or three dimensions by Cameron, Gelbach and Miller (2011), the sum over non-empty
subsets of the dimensions of ``(-1)^{|S|+1} V_S`` (``V_S`` clustered by the intersection), every
term with the factor of the smallest ``G``. Inference is on the normal distribution (pyfixest,
fixest's ``z value``).

Fit statistics: the deviance ``D``, the log likelihood
``l = sum_i w_i [y_i log mu_i - mu_i - log y_i!]``, McFadden's pseudo R-squared ``1 - l / l_0``
with ``l_0`` the log likelihood of the intercept-only model (``mu_0 = sum w y / sum w`` without
offset), as fixest's ``pr2`` ("McFadden's R2s (ratios of log-likelihoods)", ``?fitstat``),
pyfixest's ``_pseudo_r2`` (``1 - loglik / loglik_null``; none with weights, here the weighted
intercept-only model) and ``ppmlhdfe``'s ``e(r2_p) = 1 - e(ll) / e(ll_0)`` (``ppmlhdfe.ado``
2.3.2, ``ll_0`` with ``c = log(mean(y))``): not one minus a deviance ratio.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsmr
from scipy.special import gammaln, xlogy

from .absorb import Factor, Projector, demean
from .checks import check_rank_gram, no_variation_left
from .clusters import intersect_codes, nested
from .exceptions import (
    AbsorbedRegressorError,
    ConvergenceError,
    DegenerateModelError,
    ModelWarning,
)
from .panel import code_dtype
from .transforms import group_sums

__all__ = [
    "COV_TYPES",
    "IRLSFit",
    "PPMLResult",
    "SeparationSuspected",
    "drop_fe_separation",
    "irls",
    "ppml",
    "ppml_covariance",
    "ppml_df_k",
    "poisson_deviance",
    "poisson_loglik",
    "relu_separation",
    "restrict",
]

COV_TYPES = ("unadjusted", "robust", "clustered")
SEPARATION = ("auto", "fe", "relu")
#: the demeaning tolerance of the first IRLS steps (Correia, Guimarães and Zylkin 2020)
START_FIXEF_TOL = 1e-4
#: a zero outcome whose fitted mean is below this share of mean(y) after the fit suggests separation
#: (ppmlhdfe's ``mu`` check uses 1e-6 too)
MU_SEPARATION = 1e-6
#: ... and below this share during the IRLS stops it (``separation="auto"``): the weights vanish
MU_STOP = 1e-8


class SeparationSuspected(ConvergenceError):
    """The IRLS stopped because fitted means of zero outcomes tend to zero (see :func:`irls`)."""


@dataclass(frozen=True, eq=False)
class PPMLResult:
    """A PPML fit.

    ``params``, ``std_errors``, ``cov`` in the order of ``names``; ``nobs`` rows used (``keep``
    over the input rows, ``reasons`` why the others are not, ``""`` when kept); ``fitted``
    (``mu``) and ``linear_predictor`` (``eta``) on the rows used; ``effects``: each absorbed
    effect's name and levels in the rows used; ``separated_by``: regressors of a separating
    combination (the rectifier); ``omitted``: regressors left without variation once the separated
    rows are dropped (their coefficient is ``-inf`` or ``+inf``; not in ``names``), ``df_k`` the ``K`` of the small-sample factor, ``n_clusters``
    per cluster dimension; ``bread`` ``(X~' W X~)^{-1}``.
    """

    params: np.ndarray
    std_errors: np.ndarray
    cov: np.ndarray
    names: tuple[str, ...]
    cov_type: str
    small_sample: str
    df_k: int
    n_clusters: tuple[int, ...]
    nobs: int
    keep: np.ndarray
    reasons: np.ndarray
    effects: tuple[tuple[str, int], ...]
    separated_by: tuple[str, ...]
    omitted: tuple[str, ...]
    fitted: np.ndarray
    linear_predictor: np.ndarray
    deviance: float
    loglik: float
    loglik_null: float
    pseudo_r2: float
    iterations: int
    converged: bool
    bread: np.ndarray

    def __post_init__(self) -> None:
        for value in vars(self).values():  # read-only, as the other results of models
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def dropped(self) -> dict[int, str]:
        """The input rows not used (0-based positions) and why: ``"singleton in <effect>"``,
        ``"only zero outcomes in <effect>"``, ``"separated by <regressors>"``."""
        rows = np.flatnonzero(~self.keep)
        return dict(zip(rows.tolist(), self.reasons[rows].tolist(), strict=True))


@dataclass(frozen=True, eq=False)
class IRLSFit:
    """What :func:`irls` returns: ``params``; ``mu`` and ``eta`` at the estimate; ``Xt`` the
    regressors demeaned with the weights ``weights`` (``w mu`` at the estimate), ``score_resid``
    ``w (y - mu)``; ``crit`` the last deviance criterion and ``deviance`` the deviance at ``mu``."""

    params: np.ndarray
    mu: np.ndarray
    eta: np.ndarray
    Xt: np.ndarray
    weights: np.ndarray
    score_resid: np.ndarray
    iterations: int
    converged: bool
    crit: float
    deviance: float


# ------------------------------------------------------------------------------ fit statistics
def poisson_deviance(y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Poisson deviance ``D = 2 sum_i w_i [y_i log(y_i / mu_i) - (y_i - mu_i)]`` (``0 log 0 = 0``;
    McCullagh and Nelder 1989, sec. 2.3)."""
    d = xlogy(y, y) - xlogy(y, mu) - (y - mu)
    return float(2.0 * (d.sum() if weights is None else weights @ d))


def poisson_loglik(y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Poisson log likelihood ``sum_i w_i [y_i log mu_i - mu_i - log Gamma(y_i + 1)]``."""
    ll = xlogy(y, mu) - mu - gammaln(y + 1.0)
    return float(ll.sum() if weights is None else weights @ ll)


# ------------------------------------------------------------------------------ rows and effects
def restrict(factor: Factor, rows: np.ndarray) -> Factor:
    """The factor on a subset of rows (``rows``: boolean mask or positions), levels renumbered
    ``0 .. L-1`` in their old order, empty levels removed."""
    codes = factor.codes[rows]
    used = np.bincount(codes, minlength=factor.n_levels) > 0
    new = (np.cumsum(used) - 1).astype(code_dtype(factor.n_levels))
    return Factor(factor.name, new[codes], int(used.sum()))


def drop_fe_separation(y: np.ndarray, factors: Sequence[Factor], keep: np.ndarray | None = None,
                       drop_singletons: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Rows a Poisson model with these effects cannot use, dropped until nothing changes.

    Each pass drops, for every effect in turn, the rows alone in their level (singletons, when
    ``drop_singletons``: their effect fits them exactly, so they leave the estimates unchanged
    but would count in ``N``), then the rows of every level whose outcomes are all zero (the
    Poisson MLE of that level's effect is ``-inf``: Santos Silva and Tenreyro 2010; fixest's
    ``fixef.rm``, ppmlhdfe's ``fe`` check). Dropping zeros cannot make another level all-zero,
    but it can leave a singleton, whose dropping can leave an all-zero level: hence the passes
    (as ``ppmlhdfe``; pyfixest drops singletons once before the zero levels).

    Returns
    -------
    keep : ndarray of bool
    reasons : ndarray of object
        ``"singleton in <effect>"`` or ``"only zero outcomes in <effect>"`` for the rows dropped
        here, ``""`` otherwise.
    """
    keep = np.ones(len(y), bool) if keep is None else keep.copy()
    reasons = np.full(len(y), "", dtype=object)
    positive = y > 0
    changed = True
    while changed:
        changed = False
        rules = ([(f, "singleton") for f in factors] if drop_singletons else []) + [(f, "zeros") for f in factors]
        for f, rule in rules:
            if rule == "singleton":
                bad = np.bincount(f.codes[keep], minlength=f.n_levels) == 1
                label = f"singleton in {f.name}"
            else:
                bad = np.bincount(f.codes[keep & positive], minlength=f.n_levels) == 0
                label = f"only zero outcomes in {f.name}"
            hit = keep & bad[f.codes]
            if hit.any():
                reasons[hit] = label
                keep &= ~hit
                changed = True
    return keep, reasons


def _wls(Xt: np.ndarray, zt: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``b = (X' W X)^{-1} X' W z`` and ``(X' W X)^{-1}``."""
    if Xt.shape[1] == 0:
        return np.zeros(0), np.zeros((0, 0))
    xw = Xt * w[:, None]
    inv = np.linalg.inv(xw.T @ Xt)
    return inv @ (xw.T @ zt), inv


def _lse_fit(u: np.ndarray, A: sp.csr_matrix, k: int, sw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values of the least squares of ``u`` on the columns of ``A`` with weights ``sw^2``
    (LSMR of Fong and Saunders 2011 on the column-equilibrated weighted design, as ppmlhdfe's
    rectifier: it copes with the weights' range), and the coefficients of the first ``k`` columns."""
    Aw = sp.diags(sw) @ A
    scale = np.sqrt(np.asarray(Aw.multiply(Aw).sum(axis=0)).ravel())
    scale[scale == 0] = 1.0
    sol = lsmr(Aw @ sp.diags(1.0 / scale), sw * u, atol=1e-14, btol=1e-14, maxiter=20 * A.shape[1] + 1000)[0]
    theta = sol / scale
    return A @ theta, theta[:k]


def relu_separation(y: np.ndarray, X: np.ndarray, factors: Sequence[Factor], names: Sequence[str],
                    tol: float = 1e-4, maxiter: int = 1000) -> tuple[np.ndarray, tuple[str, ...]]:
    """Observations separated by the regressors together with the effects: the iterative rectifier.

    Correia, Guimarães and Zylkin (2021, arXiv:1903.01633, sec. 4): observation ``i`` with
    ``y_i = 0`` is separated when some combination ``s = X g + D a`` is ``0`` wherever ``y > 0``
    and ``>= 0`` wherever ``y = 0``, ``> 0`` at ``i`` (then ``mu_i -> 0``). Starting from
    ``u = 1{y = 0}``, regress ``u`` on ``X`` and the effects' dummies by least squares with
    weight ``M = eps^(-1/2)`` on the rows with ``y > 0`` (which pins their fit at 0: the method of
    weighting, Van Loan 1985) and 1 on the others; set the fitted ``u^`` to 0 on rows with
    ``y > 0`` and where it lies in ``(-tol/10, tol)``; stop when ``u^ >= 0`` everywhere (the
    separated rows are ``u^ > 0``), else replace ``u`` by ``max(u^, 0)`` on the zero rows (a
    rectified linear unit) and repeat. These are the weight, tolerances and solver (LSMR) of
    ``ppmlhdfe``'s ``relu`` check; pyfixest's ``"ir"`` check is the same iteration. ``X`` must
    hold the intercept when there are no effects. The design is solved as a sparse matrix, so
    the check costs much more than a fit on large samples: :func:`ppml` runs it only when asked
    or when a fit shows the symptom of separation.

    Returns
    -------
    separated : ndarray of bool
        The separated rows (all ``False`` when the rectifier does not converge in ``maxiter``:
        a :class:`ModelWarning` says so).
    regressors : tuple of str
        The regressors with a non-zero weight in the separating combination (their part of
        ``u^`` on the separated rows above ``tol``).
    """
    zero = y == 0
    n, k = X.shape
    if not zero.any():
        return np.zeros(n, bool), ()
    rows = np.arange(n)
    A = sp.hstack([sp.csr_matrix(X)] + [sp.csr_matrix((np.ones(n), (rows, f.codes)), shape=(n, f.n_levels))
                                        for f in factors], format="csr")
    sw = np.sqrt(np.where(zero, 1.0, np.ceil(np.finfo(float).eps ** -0.5)))
    u = zero.astype(float)
    for _ in range(maxiter):
        uhat, g = _lse_fit(u, A, k, sw)
        uhat[~zero | ((uhat > -0.1 * tol) & (uhat < tol))] = 0.0
        if (uhat >= 0).all():
            separated = uhat > 0
            part = np.abs(X[separated] * g).max(axis=0, initial=0.0) if k else np.zeros(0)
            return separated, tuple(nm for nm, p in zip(names, part, strict=True) if p > tol)
        u = np.where(zero, np.maximum(uhat, 0.0), 0.0)
    warnings.warn(f"the separation check (iterative rectifier) did not converge in {maxiter} iterations; "
                  "no observation was dropped for separation by the regressors", ModelWarning, stacklevel=2)
    return np.zeros(n, bool), ()


# ------------------------------------------------------------------------------ IRLS
def _looks_separated(y: np.ndarray, mu: np.ndarray, share: float = MU_SEPARATION) -> bool:
    return bool(((y == 0) & (mu < share * y.mean())).any())


def _check_regressors(X: np.ndarray, Xt: np.ndarray, w: np.ndarray, factors: Sequence[Factor],
                      names: Sequence[str], fixef_tol: float) -> None:
    """Refuse regressors the effects absorb (``||x~_j|| <= max(1e-9, 1e3 fixef_tol) ||x_j - mean||``)
    and collinear regressors (:func:`models.checks.check_rank` on ``W^(1/2) X~``)."""
    if factors:
        scale = max(1e-9, 1e3 * fixef_tol)
        left, before = _column_norms(Xt, False), _column_norms(X, True)
        before[before == 0] = 1.0
        gone = left * (1e-9 / scale) <= 1e-9 * before  # no_variation_left, one column at a time
        if gone.any():
            listing = ", ".join(nm for nm, g in zip(names, gone, strict=True) if g)
            raise AbsorbedRegressorError(
                f"{listing}: no variation left once the effects {', '.join(f.name for f in factors)} are removed "
                "(constant within their levels in the rows used); their coefficients cannot be estimated with "
                "these effects: drop them from the model or absorb fewer effects")
    gram = np.empty((Xt.shape[1], Xt.shape[1]))
    for j in range(Xt.shape[1]):  # X~' W X~, one weighted column at a time (a loop over columns)
        gram[:, j] = Xt.T @ (Xt[:, j] * w)
    check_rank_gram(gram, list(names))


def _column_norms(A: np.ndarray, centre: bool) -> np.ndarray:
    """``||a_j||`` (``||a_j - mean(a_j)||`` when ``centre``) of every column, one column's copy at a time."""
    out = np.empty(A.shape[1])
    for j in range(A.shape[1]):  # a loop over columns, not rows
        c = A[:, j] - A[:, j].mean() if centre else A[:, j]
        out[j] = np.sqrt(c @ c)
    return out


def _demean_step(source, factors, w, tol, maxiter, y, mu):
    """:func:`demean` within the IRLS, in place (``source``: the float64 block ``[z, X]``); when it
    fails and zero outcomes have vanishing fitted means, the error says that observations look
    separated (``source`` is then unchanged)."""
    try:
        return Projector(factors, w).residuals(source, tol, maxiter, overwrite=True)[0]
    except ConvergenceError as e:
        if _looks_separated(y, mu):
            raise ConvergenceError(f"{e}. Zero outcomes have fitted means below {MU_SEPARATION:g} of mean(y): "
                                   "observations look separated by the regressors (their weights vanish); "
                                   "use separation='auto' or 'relu'") from e
        raise


def _deviance_function(y: np.ndarray, w: np.ndarray | None):
    """``(eta, mu) -> D``, the deviance with ``sum w y log y`` and ``sum w y`` computed once
    (``y log mu = y eta``; one pass over the rows per IRLS step); ``w=None``: no weights (no
    array of ones)."""
    if w is None:
        ylogy, wy = float(xlogy(y, y).sum()), float(y.sum())

        def deviance(eta: np.ndarray, mu: np.ndarray) -> float:
            return 2.0 * (ylogy - float(y @ eta) - wy + float(mu.sum()))
        return deviance
    ylogy, wy = float(w @ xlogy(y, y)), float(w @ y)
    wyy = w * y

    def deviance(eta: np.ndarray, mu: np.ndarray) -> float:
        return 2.0 * (ylogy - float(wyy @ eta) - wy + float(w @ mu))
    return deviance


def _halve_if_infinite(deviance, eta, eta_old, b, b_old):
    """Halve the step (up to 30 times) while the deviance is not finite."""
    for _ in range(30):
        mu = np.exp(eta)
        with np.errstate(invalid="ignore", over="ignore"):
            dev = deviance(eta, mu)
        if np.isfinite(dev):
            return eta, mu, b, dev
        eta, b = (eta + eta_old) / 2.0, (b + b_old) / 2.0
    raise ConvergenceError("the Poisson IRLS diverged: the deviance is not finite after halving the step 30 times "
                           "(fitted means overflow); check the scale of the regressors and the offset")


def _working_outcome(y: np.ndarray, mu: np.ndarray, eta: np.ndarray, off: np.ndarray | None) -> np.ndarray:
    """``z = eta - o + (y - mu) / mu = y / mu + eta - 1 - o``, in place (three passes, one array)."""
    z = np.divide(y, mu)
    z += eta
    z -= 1.0
    if off is not None:
        z -= off
    return z


def _weighted(w: np.ndarray | None, v: np.ndarray) -> np.ndarray:
    """``w * v``, or ``v`` itself without weights."""
    return v if w is None else w * v


def _vanishing(y: np.ndarray, share: float):
    """``mu -> bool``: a zero outcome has a fitted mean below ``share * mean(y)`` (one pass)."""
    zero, limit = y == 0, share * float(y.mean())
    if not zero.any():
        return lambda mu: False
    return lambda mu: bool(np.min(mu, where=zero, initial=np.inf) < limit)


def irls(y: np.ndarray, X: np.ndarray, factors: Sequence[Factor] = (), weights: np.ndarray | None = None,
         offset: np.ndarray | None = None, names: Sequence[str] | None = None, tol: float = 1e-8,
         maxiter: int = 100, fixef_tol: float = 1e-8, fixef_maxiter: int = 10_000, strict: bool = True,
         stop_if_separated: bool = False) -> IRLSFit:
    """Poisson IRLS with the effects partialled out at each step (the module docstring gives the
    steps, the accelerations and the criterion). The rows must be those of the model: every
    level of every effect with a positive outcome (:func:`drop_fe_separation`).
    ``stop_if_separated``: raise :class:`SeparationSuspected` as soon as a zero outcome has a
    fitted mean below ``1e-8 mean(y)`` (the weights of such rows vanish and slow the demeaning).

    Work per step: one weighted demeaning of the ``n x (k + 1)`` block ``[z, X~]`` (warm-started,
    in place in one Fortran-ordered block allocated once), the ``k x k`` weighted least squares, and a fixed number of
    passes over ``n``-vectors (no loop over rows; ``sum w y log y`` and ``sum w y`` are computed
    once).
    """
    n, k = X.shape
    names = list(names) if names is not None else [f"x{j}" for j in range(k)]
    mu = (y + np.average(y, weights=weights)) / 2.0
    eta, b = np.log(mu), np.zeros(k)
    deviance, stops = _deviance_function(y, weights), _vanishing(y, MU_STOP)
    dev = dev_old = deviance(eta, mu)
    inner = fixef_tol
    source = np.empty((n, k + 1), order="F") if factors else None
    z_prev = Xt = None
    crit, converged, it = np.inf, False, 0
    for it in range(1, maxiter + 1):
        z = _working_outcome(y, mu, eta, offset)
        w = weights * mu if weights is not None else mu
        if factors:
            if z_prev is None:
                source[:, 0], source[:, 1:] = z, X
            else:  # warm start: M(z_t) = M(z_t - z_(t-1) + z~_(t-1)); source holds [z~_(t-1), X~_(t-1)]
                source[:, 0] += z - z_prev
            _demean_step(source, factors, w, inner, fixef_maxiter, y, mu)
            zt, Xt = source[:, 0], source[:, 1:]
        else:
            zt, Xt = z, X
        if it == 1:
            _check_regressors(X, Xt, w, factors, names, fixef_tol)
            inner = max(START_FIXEF_TOL, fixef_tol)
        b_new, _ = _wls(Xt, zt, w)
        eta_new = z - zt  # the effects' part of z (plus the offset below)
        eta_new += Xt @ b_new if k else 0.0
        if offset is not None:
            eta_new += offset
        eta, mu, b, dev = _halve_if_infinite(deviance, eta_new, eta, b_new, b)
        crit = abs(dev - dev_old) / (0.1 + abs(dev))
        dev_old, z_prev = dev, z
        if stop_if_separated and stops(mu):
            raise SeparationSuspected(f"after {it} IRLS iterations a zero outcome has a fitted mean below "
                                      f"{MU_STOP:g} of mean(y): observations look separated")
        if crit < tol and (inner <= fixef_tol or not factors):
            converged = True
            break
        if crit < 10.0 * inner:
            inner = max(min(inner / 10.0, crit), fixef_tol)
    if not converged:
        why = (f"the Poisson IRLS did not converge in {maxiter} iterations: the deviance criterion "
               f"|D_t - D_(t-1)| / (0.1 + |D_t|) is {crit:.3g}, tolerance {tol:g}; raise maxiter, or look for "
               "separated observations (separation='relu') or regressors on very different scales")
        if strict:
            raise ConvergenceError(why)
        warnings.warn(why, ModelWarning, stacklevel=2)
    # the sandwich at the estimate: regressors demeaned with the final weights (warm start)
    w = weights * mu if weights is not None else mu
    Xt = Projector(factors, w).residuals(Xt, fixef_tol, fixef_maxiter, overwrite=True)[0] if factors else X
    return IRLSFit(params=b, mu=mu, eta=eta, Xt=Xt, weights=w, score_resid=_weighted(weights, y - mu), iterations=it,
                   converged=converged, crit=float(crit), deviance=float(dev))


# ------------------------------------------------------------------------------ covariance
def ppml_df_k(k: int, effects: Sequence[Factor], clusters: Sequence[Factor] = ()) -> int:
    """The ``K`` of the small-sample factors: ``k`` coefficients plus the levels of the effects
    minus one per effect after the first (fixest, pyfixest), less, with ``clusters``, the levels
    of each effect nested in a cluster dimension plus one per such effect (fixest's
    ``fixef.K="nested"``, pyfixest's ``k_fixef="nonnested"``)."""
    if not effects:
        return k
    total = sum(f.n_levels for f in effects) - (len(effects) - 1)
    inside = [f for f in effects if any(nested(f.codes, f.n_levels, c.codes) for c in clusters)]
    return k + total - sum(f.n_levels for f in inside) + len(inside)


def ppml_covariance(Xt: np.ndarray, score_resid: np.ndarray, bread: np.ndarray, cov_type: str,
                    clusters: Sequence[Factor] = (), df_k: int = 0, small_sample: str = "stata") -> np.ndarray:
    """Covariance of PPML coefficients (conventions in the module docstring).

    Parameters
    ----------
    Xt : ndarray (n, k)
        Regressors demeaned by the effects with the IRLS weights.
    score_resid : ndarray (n,)
        ``w_i (y_i - mu_i)`` (the scores are ``score_resid[:, None] * Xt``).
    bread : ndarray (k, k)
        ``(X~' W X~)^{-1}``.
    cov_type : {"unadjusted", "robust", "clustered"}
    clusters : sequence of Factor
        One to three cluster dimensions on the same rows (``clustered``).
    df_k : int
        ``K`` of the small-sample factors (:func:`ppml_df_k`).
    small_sample : {"stata", "none"}
        ``"stata"``: fixest's and pyfixest's factors; ``"none"``: HC0 / no factor.
    """
    n = len(score_resid)
    adjust = small_sample == "stata"
    if adjust and n - df_k <= 0:
        raise ValueError(f"the small-sample factor needs N > K; found N={n}, K={df_k}")
    if cov_type == "unadjusted":
        return bread * ((n - 1) / (n - df_k) if adjust else 1.0)
    scores = Xt * score_resid[:, None]
    if cov_type == "robust":
        meat = scores.T @ scores * (n / (n - df_k) if adjust else 1.0)
    else:
        meat = np.zeros((Xt.shape[1],) * 2)
        for size in range(1, len(clusters) + 1):
            for subset in combinations(clusters, size):
                codes, g = subset[0].codes, subset[0].n_levels
                for c in subset[1:]:
                    codes, g = intersect_codes(codes, c.codes)
                sums = group_sums(scores, codes, g)
                meat += (-1.0) ** (size + 1) * (sums.T @ sums)
        g_min = min(c.n_levels for c in clusters)
        if g_min < 2:
            raise ValueError(f"clustered errors need at least 2 clusters; found {g_min} in "
                             f"{[c.name for c in clusters if c.n_levels == g_min][0]!r}")
        if adjust:
            meat = meat * (g_min / (g_min - 1) * (n - 1) / (n - df_k))
    cov = bread @ meat @ bread
    return (cov + cov.T) / 2.0


# ------------------------------------------------------------------------------ the estimator
def _first_bad(bad: np.ndarray) -> str:
    rows = np.flatnonzero(bad)
    return f"{len(rows)} rows (first at row {rows[0]})"


def _check_arrays(y, X, names, weights, offset):
    """The outcome, regressors, weights and offset as float64 (one per row, finite; ``y >= 0``,
    weights ``> 0``); the errors name the array or regressor, the count and the first row."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"the outcome must be one column; found shape {y.shape}")
    y = y.ravel()
    n = len(y)
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"the regressors must be a table of {n} rows (one per outcome); found shape {X.shape}")
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(X.shape[1]))
    if len(names) != X.shape[1]:
        raise ValueError(f"names: expected {X.shape[1]} names of regressors; found {len(names)}")
    if not np.isfinite(y).all():
        raise ValueError(f"the outcome is missing or infinite in {_first_bad(~np.isfinite(y))}; drop those rows "
                         "before fitting")
    if (y < 0).any():
        bad = np.flatnonzero(y < 0)
        raise ValueError(f"PPML needs an outcome >= 0 (counts, flows, employment); {len(bad)} values are negative "
                         f"(first at row {bad[0]}: {y[bad[0]]:g})")
    finite = np.isfinite(X)
    if not finite.all():
        cols = np.flatnonzero(~finite.all(axis=0))
        raise ValueError(f"the regressors {', '.join(names[j] for j in cols)} are missing or infinite in "
                         f"{_first_bad(~finite.all(axis=1))}; drop those rows before fitting")
    out = []
    for what, arr in (("weights", weights), ("offset", offset)):
        if arr is not None:
            arr = np.asarray(arr, dtype=np.float64).ravel()
            if len(arr) != n:
                raise ValueError(f"{what}: expected one value per row ({n}); found {len(arr)}")
            if not np.isfinite(arr).all():
                raise ValueError(f"{what} are missing or infinite in {_first_bad(~np.isfinite(arr))}")
            if what == "weights" and (arr <= 0).any():
                raise ValueError(f"weights must be > 0; found {_first_bad(arr <= 0)} with weight <= 0 (drop them)")
        out.append(arr)
    return y, X, names, out[0], out[1]


def _check_options(n, factors, clusters, cov_type, small_sample, separation):
    """The effects and clusters (codes one per row in ``0..n_levels-1``) and the options."""
    for f in list(factors) + list(clusters):
        codes = np.asarray(f.codes)
        if len(codes) != n or (n and (codes.min() < 0 or codes.max() >= f.n_levels)):
            raise ValueError(f"{f.name!r}: expected {n} integer codes in 0..n_levels-1 ({f.n_levels}); found "
                             f"{len(codes)} codes" + (f" in {codes.min()}..{codes.max()}" if len(codes) else ""))
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {', '.join(COV_TYPES)}; found {cov_type!r}")
    if cov_type == "clustered" and not 1 <= len(clusters) <= 3:
        raise ValueError(f"cov_type='clustered' takes one to three cluster dimensions; found {len(clusters)}")
    if small_sample not in ("stata", "none"):
        raise ValueError(f"small_sample must be 'stata' or 'none'; found {small_sample!r}")
    if separation not in SEPARATION:
        raise ValueError(f"separation must be one of {', '.join(SEPARATION)}; found {separation!r}")


def _drop_relu(y, X, factors, keep, reasons, names, drop_singletons):
    """Drop the rows the rectifier finds separated (and the singletons this leaves); returns the
    rows kept, the reasons, the separating regressors and the mask of regressors left without
    variation (to omit: their coefficient is infinite, as ppmlhdfe omits them)."""
    rows = np.flatnonzero(keep)
    sep, involved = relu_separation(y[rows], X[rows], [restrict(f, rows) for f in factors], names)
    omit = np.zeros(X.shape[1], bool)
    if not sep.any():
        return keep, reasons, (), omit
    keep, reasons = keep.copy(), reasons.copy()
    keep[rows[sep]] = False
    reasons[rows[sep]] = "separated by " + (", ".join(involved) if involved else "the effects")
    keep2, why = drop_fe_separation(y, factors, keep, drop_singletons)
    reasons[keep & ~keep2] = why[keep & ~keep2]
    rows = np.flatnonzero(keep2)
    candidate = np.isin(np.asarray(names, dtype=object), involved) & (np.ptp(X, axis=0) > 0)
    if candidate.any():
        Xk = X[rows][:, candidate]
        if factors:
            left = ~no_variation_left(demean(Xk, [restrict(f, rows) for f in factors], None, 1e-12),
                                      Xk - Xk.mean(axis=0))
        else:
            left = np.ptp(Xk, axis=0) > 0
        omit[np.flatnonzero(candidate)[~left]] = True
    return keep2, reasons, involved, omit


def _kept_columns(X: np.ndarray, omit: np.ndarray) -> np.ndarray:
    """The columns of ``X`` not omitted (``X`` itself, no copy, when none is)."""
    return X[:, ~omit] if omit.any() else X


def _fit_rows(y, X, factors, w, off, keep, reasons, kw):
    """IRLS on the rows kept."""
    rows = np.flatnonzero(keep)
    if len(rows) == 0 or not (y[rows] > 0).any():
        raise DegenerateModelError(
            "no row with a positive outcome is left (every outcome is zero, or every row is in a level of an "
            "effect whose outcomes are all zero, or a singleton): the Poisson MLE does not exist")
    fs = [restrict(f, rows) for f in factors]
    fit = irls(y[rows], X[rows], fs, None if w is None else w[rows], None if off is None else off[rows], **kw)
    return rows, fs, fit


def ppml(y, X, factors: Sequence[Factor] = (), weights=None, clusters: Sequence[Factor] = (), *,
         names: Sequence[str] | None = None, offset=None, cov_type: str | None = None, small_sample: str = "stata",
         separation: str = "auto", drop_singletons: bool = True, tol: float = 1e-8, maxiter: int = 100,
         fixef_tol: float = 1e-8, fixef_maxiter: int = 10_000, strict: bool = True) -> PPMLResult:
    """Poisson pseudo-maximum likelihood with absorbed effects (the module docstring gives the
    model, the algorithm, the separation checks and the covariance conventions).

    Parameters
    ----------
    y : array (n,)
        Outcome, ``>= 0``.
    X : array (n, k)
        Regressors, without an intercept when there are effects (it is absorbed); with one
        (a column of ones) when there are none.
    factors : sequence of Factor
        The absorbed effects (``Factor(name, codes, n_levels)`` of :mod:`models.absorb`).
    weights : array (n,), optional
        Positive observation weights ``w_i`` of the quasi-likelihood.
    clusters : sequence of Factor
        One to three cluster dimensions (``cov_type="clustered"``, the default when given).
    names : sequence of str, optional
        Names of the columns of ``X`` (in errors and ``separated_by``).
    offset : array (n,), optional
        Known part of the linear predictor (e.g. ``log`` of exposure).
    cov_type : {"unadjusted", "robust", "clustered"}, optional
        Default ``"clustered"`` with clusters, else ``"robust"``.
    small_sample : {"stata", "none"}
        ``"stata"``: the factors of fixest and pyfixest (``N/(N-K)`` robust, ``G/(G-1) (N-1)/(N-K)``
        clustered, ``(N-1)/(N-K)`` unadjusted); ``"none"``: HC0 and no factor.
    separation : {"auto", "fe", "relu"}
        When to run the rectifier (:func:`relu_separation`); all-zero levels are always dropped.
    drop_singletons : bool
        Drop the rows alone in a level of an effect (ppmlhdfe and pyfixest do).
    tol, maxiter : float, int
        Deviance criterion and iteration limit of the IRLS.
    fixef_tol, fixef_maxiter : float, int
        Tolerance and limit of the demeaning (:func:`models.absorb.demean`).
    strict : bool
        Raise :class:`ConvergenceError` when the IRLS does not converge (else warn and return
        ``converged=False``).

    Returns
    -------
    PPMLResult
    """
    cov_type = cov_type or ("clustered" if clusters else "robust")
    y, X, names, w, off = _check_arrays(y, X, names, weights, offset)
    _check_options(len(y), factors, clusters, cov_type, small_sample, separation)
    kw = dict(tol=tol, maxiter=maxiter, fixef_tol=fixef_tol, fixef_maxiter=fixef_maxiter, strict=strict)
    keep, reasons = drop_fe_separation(y, factors, None, drop_singletons)
    separated_by: tuple[str, ...] = ()
    omit = np.zeros(X.shape[1], bool)
    if separation == "relu":
        keep, reasons, separated_by, omit = _drop_relu(y, X, factors, keep, reasons, names, drop_singletons)
    kept_names = tuple(nm for nm, o in zip(names, omit, strict=True) if not o)
    try:
        rows, fs, fit = _fit_rows(y, _kept_columns(X, omit), factors, w, off, keep, reasons,
                                  dict(kw, names=kept_names, stop_if_separated=separation == "auto"))
        suspect = separation == "auto" and _looks_separated(y[rows], fit.mu)
    except ConvergenceError:
        if separation != "auto":
            raise
        fit, suspect = None, True  # the symptom, or a fit slowed by vanishing weights
    if suspect:
        keep2, reasons2, separated_by, omit = _drop_relu(y, X, factors, keep, reasons, names, drop_singletons)
        if fit is None or (keep2 != keep).any():
            keep, reasons = keep2, reasons2
            kept_names = tuple(nm for nm, o in zip(names, omit, strict=True) if not o)
            rows, fs, fit = _fit_rows(y, _kept_columns(X, omit), factors, w, off, keep, reasons,
                                      dict(kw, names=kept_names))
    kept_names = tuple(nm for nm, o in zip(names, omit, strict=True) if not o)
    if separation == "fe" and _looks_separated(y[rows], fit.mu):
        warnings.warn(f"observations look separated: zero outcomes have fitted means below {MU_SEPARATION:g} of "
                      "mean(y), and the coefficients of the regressors that separate them diverge; use "
                      "separation='auto' or 'relu' to find and drop them", ModelWarning, stacklevel=2)
    return _result(y[rows], fit, fs, [restrict(c, rows) for c in clusters], w, off, rows, keep, reasons,
                   kept_names, cov_type, small_sample, separated_by,
                   tuple(nm for nm, o in zip(names, omit, strict=True) if o))


def _result(y, fit: IRLSFit, fs, cs, w, off, rows, keep, reasons, names, cov_type, small_sample, separated_by,
            omitted):
    """Covariance and fit statistics of the rows used."""
    wr = None if w is None else w[rows]
    bread = np.linalg.inv((fit.Xt * fit.weights[:, None]).T @ fit.Xt) if len(names) else np.zeros((0, 0))
    df_k = ppml_df_k(len(names), fs, cs if cov_type == "clustered" else ())
    cov = ppml_covariance(fit.Xt, fit.score_resid, bread, cov_type, cs, df_k, small_sample)
    ww = np.ones(len(y)) if wr is None else wr
    base = np.ones(len(y)) if off is None else np.exp(off[rows])
    mu0 = base * (ww @ y) / (ww @ base)
    # l = sum w [y log mu - mu - log y!] (y log mu = y eta); log y! computed once for both likelihoods
    log_factorial = gammaln(y + 1.0)
    loglik = float(ww @ (y * fit.eta - fit.mu - log_factorial))
    loglik0 = float(ww @ (xlogy(y, mu0) - mu0 - log_factorial))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.diag(cov))
    return PPMLResult(
        params=fit.params, std_errors=se, cov=cov, names=tuple(names), cov_type=cov_type, small_sample=small_sample,
        df_k=df_k, n_clusters=tuple(c.n_levels for c in cs) if cov_type == "clustered" else (), nobs=len(y),
        keep=keep, reasons=reasons, effects=tuple((f.name, f.n_levels) for f in fs), separated_by=separated_by, omitted=omitted,
        fitted=fit.mu, linear_predictor=fit.eta, deviance=fit.deviance, loglik=loglik,
        loglik_null=loglik0, pseudo_r2=1.0 - loglik / loglik0, iterations=fit.iterations, converged=fit.converged,
        bread=bread)
