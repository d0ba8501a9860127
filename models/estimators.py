"""The estimators of linear panel models: one pure transformation each, looked up by name.

An estimator turns the sample in levels (:class:`models.sample.PanelSample`) into the
regression that least squares estimates (:class:`PanelRegression`): deviations from group
means (``within``), quasi-deviations (``random``), group means (``between``), differences of
consecutive years (``first_difference``) or the levels themselves (``pooled``). It also says
what the covariance needs: the effects it absorbed (dimension, levels, degrees of freedom)
and, when its rows are group means, which group each row of the sample went to.
:data:`ESTIMATORS` maps each name to an :class:`EstimatorType` (the transformation, the
effects it accepts, its own rule for dropping rows); :class:`models.PanelModelSpec` checks
its ``estimator`` and ``effects`` against it, and :func:`models.fit_panel_model` calls it.

Conventions (checked against plm, Stata and linearmodels in ``tests/test_models``):

* ``within`` reports an intercept, as Stata's ``xtreg, fe`` and ``reghdfe``: the regression
  is run on the demeaned data plus the grand means, so the intercept is
  ``mean(y) - mean(x)' b`` and the slopes equal plm's. Residual degrees of freedom are
  ``N - (absorbed levels) - (slopes)``. Two-way effects are removed exactly in unbalanced
  panels (:class:`models.transforms.TwoWayProjector`). With ``absorb`` (any effects, e.g.
  town, year and region-by-year), the columns are demeaned by every absorbed effect jointly
  (:func:`models.absorb.demean`: alternating projections with Irons-Tuck acceleration, as
  fixest) and the absorbed degrees of freedom follow :func:`models.absorb.absorbed_dof`
  (exact for two effects, one per level less one for the others, as reghdfe).
* ``random``: one-way random town effects with Swamy-Arora variance components;
  ``sigma2_e`` from the within regression (``N - n - K_w`` degrees of freedom), ``sigma2_u``
  from the between regression weighted by the towns' numbers of observations (Baltagi and
  Chang 1994; plm's ``random.method="swar"``; in a balanced panel the textbook
  ``SSR_b/(n - K) - sigma2_e/T``), truncated at 0; ``theta_i = 1 - sqrt(sigma2_e /
  (sigma2_e + T_i sigma2_u))``. Inference is normal, as ``xtreg, re``.
* ``between``: OLS on the unweighted means of towns (``effects="time"``: of years), as plm
  and ``xtreg, be``.
* ``first_difference``: OLS on ``x_t - x_(t-1)`` of consecutive calendar years within towns
  with an intercept (a trend in levels) unless the formula removes it (plm's default); a
  gap breaks the difference.
* ``pooled``: OLS on the levels.

Adding an estimator: write ``transform(sample, effects) -> PanelRegression`` (pure, refusing
an outcome or regressors without variation through :mod:`models.checks`) and register it
with :func:`register_estimator`, naming the effects it accepts and, if it needs one, its
rule for the rows it drops (:mod:`models.sample`).

References: Baltagi (2021), *Econometric Analysis of Panel Data*, 6th ed., ch. 2-3;
Baltagi and Chang (1994), *Journal of Econometrics* 62; Swamy and Arora (1972),
*Econometrica* 40.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .absorb import Projector, absorbed_dof, subtract_effects
from .checks import absorbed_error, check_outcome, no_variation_left
from .sample import PanelSample, drop_singletons, drop_without_previous_year
from .transforms import TwoWayProjector, group_means, within

__all__ = [
    "ESTIMATORS",
    "EstimatorType",
    "PanelRegression",
    "PreparedFit",
    "between_means",
    "first_differences",
    "pooled_levels",
    "random_effects",
    "register_estimator",
    "register_fit",
    "swamy_arora",
    "within_deviations",
]


@dataclass(frozen=True, eq=False)
class PanelRegression:
    """The regression an estimator hands to least squares, ``y = X b + u``, and what the
    covariance needs.

    ``X`` holds the intercept column first when the model has one; ``entity``/``time`` code the
    towns and years of its rows (between: of the groups, the other dimension 0);
    ``df_absorbed`` counts the levels of the effects absorbed; ``absorbed`` lists them as
    ``(dimension, codes of the rows, levels, degrees of freedom beyond the constant)`` (the
    CRV1 ``K`` counts those not nested in the clusters); ``groups`` is ``(codes, n, label)``
    when each row of the regression is the mean of a group of sample rows (between), so that
    clusters are taken by group; ``variance_components`` and ``notes`` are reported as they are.
    """

    X: np.ndarray
    y: np.ndarray
    entity: np.ndarray
    time: np.ndarray
    df_absorbed: int = 0
    absorbed: tuple = ()
    groups: tuple | None = None
    variance_components: dict = field(default_factory=dict)
    notes: tuple = ()


@dataclass(frozen=True)
class EstimatorType:
    """An entry of :data:`ESTIMATORS`.

    ``transform(sample, effects) -> PanelRegression``; ``effects``: the effects accepted, the
    first the default; ``rows(rows, pidx, spec) -> Rows``: the estimator's own rule for
    dropping rows (or ``None``); ``absorbs_constant``: its effects include a constant (the
    intercept is reported as Stata does and counted among the absorbed levels); ``linear``:
    the estimates are least squares on a transformation of the outcome that does not depend
    on it (the wild bootstrap re-estimates them on bootstrap outcomes); ``mundlak``: accepts
    the Mundlak means; ``dist``: ``"t"`` or ``"normal"`` inference; ``effects_hint``: what to
    say for an effect it refuses; ``absorb``: it takes ``PanelModelSpec.absorb`` (the sample
    then holds the absorbed effects, ``sample.absorb``, and ``transform`` gets ``effects=None``);
    ``instruments``: it estimates the endogenous regressors of ``PanelModelSpec.endog`` with
    their instruments (the design's ``endog`` and ``instruments``); ``fit(prepared) ->
    PanelModelResult``: an estimator that is not least squares on a transformation (two-stage
    least squares, Poisson pseudo-maximum likelihood) fits the :class:`PreparedFit` itself
    (``transform`` is then ``None``), registered with :func:`register_fit`; ``cov_types``: the
    covariances it takes (``None``: all).
    """

    name: str
    transform: Callable[[PanelSample, str | None], PanelRegression] | None
    effects: tuple
    rows: Callable | None = None
    absorbs_constant: bool = False
    linear: bool = True
    mundlak: bool = False
    dist: str = "t"
    effects_hint: Mapping = field(default_factory=dict)
    absorb: bool = False
    instruments: bool = False
    fit: Callable | None = None
    cov_types: tuple | None = None


@dataclass(frozen=True, eq=False)
class PreparedFit:
    """What :func:`models.fit_panel_model` has prepared for an estimator that fits itself: the
    ``data`` and ``spec``, the evaluated ``design`` (every row of ``data``), the ``rows`` kept
    (with the reasons of the others), the ``sample`` of the rows kept (with its absorbed
    effects), the ``clusters`` (``(codes, G)`` of the rows kept per dimension, empty when the
    covariance takes none) and the names of the two index levels (``index_names``)."""

    data: object
    spec: object
    design: object
    rows: object
    sample: PanelSample
    clusters: tuple
    index_names: tuple


ESTIMATORS: dict[str, EstimatorType] = {}


def register_estimator(name: str, effects: tuple, **options) -> Callable:
    """Decorator: register ``transform`` in :data:`ESTIMATORS` under ``name`` (options of
    :class:`EstimatorType`)."""
    def add(transform):
        ESTIMATORS[name] = EstimatorType(name, transform, tuple(effects), **options)
        return transform
    return add


def register_fit(name: str, effects: tuple, **options) -> Callable:
    """Decorator: register ``fit(prepared: PreparedFit) -> PanelModelResult`` in
    :data:`ESTIMATORS` under ``name``, for an estimator that fits itself (options of
    :class:`EstimatorType`; ``linear`` is ``False`` unless given)."""
    def add(fit):
        ESTIMATORS[name] = EstimatorType(name, None, tuple(effects), fit=fit, **{"linear": False, **options})
        return fit
    return add


def _with_intercept(sample: PanelSample, X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X]) if sample.has_intercept else X


def _refuse_absorbed(transformed: np.ndarray, sample: PanelSample, why: str, estimator: str) -> None:
    """Raise :class:`~models.AbsorbedRegressorError` naming the regressors the transformation removed."""
    X = sample.X
    gone = no_variation_left(transformed, X - X.mean(axis=0)) if X.shape[1] else np.zeros(0, bool)
    if gone.any():
        raise absorbed_error([n for n, g in zip(sample.names, gone, strict=True) if g], why, estimator)


_BETWEEN_TOWNS = "use estimator='between' or 'pooled' to explain its differences between towns"
_WITHIN = {  # effects -> (how the regressors are absorbed, what the outcome lacks, what to do instead)
    "entity": ("do not vary within towns, so the town effects absorb them",
               "does not vary within towns: the town effects absorb all of its variation", _BETWEEN_TOWNS),
    "time": ("do not vary within years, so the year effects absorb them",
             "does not vary within years: the year effects absorb all of its variation",
             "use estimator='between' with effects='time', or 'pooled', to explain its changes over the years"),
    "twoway": ("are absorbed by the town and year effects (constant within towns, within years, or a sum of both)",
               "is a town part plus a year part: the town and year effects absorb all of its variation",
               "use one-way effects or estimator='pooled'"),
}


def _twoway_projector(s: PanelSample) -> tuple[TwoWayProjector, tuple, int]:
    """The exact two-way projector (demeaning first by the factor with more levels), the absorbed
    effects and their number of levels."""
    if s.n_entities >= s.n_periods:
        proj = TwoWayProjector(s.entity, s.n_entities, s.time, s.n_periods)
        absorbed = (("entity", s.entity, s.n_entities, s.n_entities - 1), ("time", s.time, s.n_periods, proj.rank_b))
        return proj, absorbed, s.n_entities + proj.rank_b
    proj = TwoWayProjector(s.time, s.n_periods, s.entity, s.n_entities)
    absorbed = (("time", s.time, s.n_periods, s.n_periods - 1), ("entity", s.entity, s.n_entities, proj.rank_b))
    return proj, absorbed, s.n_periods + proj.rank_b


# relative norm left after demeaning below which a column is demeaned again to a tight
# tolerance before the checks decide whether the effects absorb it (the iterations stop at
# ``fe_tol``, far above the 1e-9 of the checks)
_RECHECK = 1e-6


def _demean_again(W: np.ndarray, originals: list[np.ndarray], sd: np.ndarray, absorb) -> None:
    """The columns of the demeaned ``W`` left with less than ``_RECHECK`` of their variation
    (``sd``: standard deviations before demeaning) are demeaned again from ``originals`` (the
    columns before demeaning) at ``tol = 1e-12``, in place, so that an absorbed column is zero
    to rounding."""
    again = np.flatnonzero(np.sqrt(np.einsum("ij,ij->j", W, W)) <= _RECHECK * sd * np.sqrt(len(W)))
    if len(again) and absorb.tol > 1e-12:
        W[:, again] = Projector(absorb.factors).demean(np.column_stack([originals[j] for j in again]), 1e-12,
                                                       absorb.maxiter)


def _absorbed_deviations(sample: PanelSample) -> PanelRegression:
    """Within transformation by the absorbed effects of ``sample.absorb``, jointly; the grand
    means are added back so that the intercept is Stata's (``reghdfe``'s ``_cons``).

    The effects are fitted from the group sums of ``X`` and ``y`` (:meth:`Projector.effects`);
    the projector's cross tables are then let go, and one Fortran-ordered block holds ``[1, X,
    y]``, from which the effects are subtracted in place: the regression's ``X`` and ``y`` are
    views of it (no other copy of the data, and never both the cross tables and the block)."""
    ab = sample.absorb
    X, y = sample.X, sample.y
    n, k = X.shape
    proj = Projector(ab.factors)
    effects, sd = proj.effects([*X.T, y], ab.tol, ab.maxiter)
    dof = absorbed_dof(ab.factors, ab.dof, proj)
    del proj
    W = np.empty((n, k + 2), order="F")
    W[:, 1:-1], W[:, -1] = X, y
    subtract_effects(W[:, 1:], effects)
    del effects
    _demean_again(W[:, 1:], [*X.T, y], sd, ab)
    Xd, yd = W[:, 1:-1], W[:, -1]
    names = " + ".join(ab.names)
    check_outcome(y, yd, sample.y_name, f"is a sum of effects of {names}: the absorbed effects explain all of its "
                  "variation", "absorb fewer effects or choose another outcome", "within")
    # no_variation_left's rule ||x~_j|| <= 1e-9 ||x_j - mean||, the norms without copies of X
    gone = np.sqrt(np.einsum("ij,ij->j", Xd, Xd)) <= 1e-9 * np.sqrt(n) * sd[:k]
    if gone.any():
        raise absorbed_error([nm for nm, g in zip(sample.names, gone, strict=True) if g],
                             f"are absorbed by the effects {names} (sums of effects of theirs)", "within")
    absorbed = tuple((f.name, f.codes, f.n_levels, d) for f, d in zip(ab.factors, dof, strict=True))
    if not sample.has_intercept:
        return PanelRegression(Xd, yd, sample.entity, sample.time, df_absorbed=1 + sum(dof), absorbed=absorbed)
    W[:, 0] = 1.0
    Xd += X.mean(axis=0)
    yd += y.mean()
    return PanelRegression(W[:, :-1], yd, sample.entity, sample.time, df_absorbed=1 + sum(dof), absorbed=absorbed)


@register_estimator("within", ("entity", "time", "twoway"), rows=drop_singletons, absorbs_constant=True, absorb=True,
                    instruments=True)
def within_deviations(sample: PanelSample, effects: str | None) -> PanelRegression:
    """Fixed effects: ``x_it - mean_i(x)`` (town), ``- mean_t(x)`` (year), or the exact two-way
    projection; the absorbed effects of ``sample.absorb`` jointly (``effects=None``); the grand
    means are added back so that the intercept is Stata's."""
    if sample.absorb is not None:
        return _absorbed_deviations(sample)
    X, y = sample.X, sample.y
    if effects == "twoway":
        proj, absorbed, df_absorbed = _twoway_projector(sample)
        Xd, yd = proj(X), proj(y)
    else:
        codes, n = (sample.entity, sample.n_entities) if effects == "entity" else (sample.time, sample.n_periods)
        counts = sample.entity_counts if effects == "entity" else np.bincount(codes, minlength=n)
        Xd, yd = within(X, codes, n, counts), within(y, codes, n, counts)
        absorbed, df_absorbed = ((effects, codes, n, n - 1),), n
    how, what, advice = _WITHIN[effects]
    check_outcome(y, yd, sample.y_name, what, advice, "within")
    _refuse_absorbed(Xd, sample, how, "within")
    if sample.has_intercept:
        Xd, yd = np.column_stack([np.ones(len(y)), Xd + X.mean(axis=0)]), yd + y.mean()
    return PanelRegression(Xd, yd, sample.entity, sample.time, df_absorbed=df_absorbed, absorbed=absorbed)


@register_estimator("random", ("entity",), mundlak=True, linear=False, dist="normal", effects_hint={
    "time": "for year effects with random town effects add C(year) to the formula",
    "twoway": "for year effects with random town effects add C(year) to the formula"})
def random_effects(sample: PanelSample, effects: str) -> PanelRegression:
    """Random town effects: quasi-deviations ``x_it - theta_i mean_i(x)`` with Swamy-Arora
    ``theta_i = 1 - sqrt(sigma2_e / (sigma2_e + T_i sigma2_u))`` (:func:`swamy_arora`)."""
    X, y, entity = sample.X, sample.y, sample.entity
    Xm = group_means(X, entity, sample.n_entities, sample.entity_counts)  # town means, for both regressions
    ym = group_means(y, entity, sample.n_entities, sample.entity_counts)
    Xw, yw = X - Xm[entity], y - ym[entity]
    check_outcome(y, yw, sample.y_name, "does not vary within towns: random effects need within-town variation "
                  "to estimate sigma2_e (it would be 0 and theta 1)", _BETWEEN_TOWNS, "random")
    Xm = _with_intercept(sample, Xm)
    sigma2_e, sigma2_u, notes = swamy_arora(sample, Xw, yw, Xm, ym)
    theta = 1.0 - np.sqrt(sigma2_e / (sigma2_e + sample.entity_counts * sigma2_u))
    th = theta[entity]
    components = {"sigma2_e": sigma2_e, "sigma2_u": sigma2_u, "theta": float(np.mean(theta)),
                  "theta_min": float(theta.min()), "theta_max": float(theta.max()),
                  "rho": sigma2_u / (sigma2_u + sigma2_e) if sigma2_u + sigma2_e > 0 else float("nan")}
    return PanelRegression(_with_intercept(sample, X) - th[:, None] * Xm[entity], y - th * ym[entity], entity,
                           sample.time, variance_components=components, notes=notes)


def swamy_arora(sample: PanelSample, Xw: np.ndarray, yw: np.ndarray, Xm: np.ndarray, ym: np.ndarray):
    """Swamy-Arora variance components ``(sigma2_e, sigma2_u, notes)`` (Baltagi and Chang 1994).

    ``sigma2_e = e_w'e_w / (N - n - K_w)`` from the within regression (``Xw``, ``yw``: deviations
    from town means; regressors without within variation left out); ``sigma2_u = (q - (n - K_b)
    sigma2_e) / (N - tr((X_b'W X_b)^-1 X_b'W^2 X_b))`` from the between regression of the town
    means ``ym`` on ``Xm`` (intercept included) weighted by ``W = diag(T_i)``, ``q`` its weighted
    sum of squared residuals; a negative ``sigma2_u`` is set to 0 with a note.
    """
    X, nobs, n_ent, counts = sample.X, sample.nobs, sample.n_entities, sample.entity_counts
    varies = ~no_variation_left(Xw, X - X.mean(axis=0)) if X.shape[1] else np.zeros(0, bool)
    Xw = Xw[:, varies]
    kw_rank = np.linalg.matrix_rank(Xw) if Xw.shape[1] else 0
    bw = np.linalg.lstsq(Xw, yw, rcond=None)[0] if Xw.shape[1] else np.zeros(0)
    ew = yw - Xw @ bw
    dfw = nobs - n_ent - kw_rank
    if dfw <= 0:
        raise ValueError(f"random effects need residual degrees of freedom in the within regression; "
                         f"found N={nobs}, towns={n_ent}, regressors={kw_rank}")
    sigma2_e = float(ew @ ew) / dfw
    sw = np.sqrt(counts.astype(float))
    bb, _, kb, _ = np.linalg.lstsq(Xm * sw[:, None], ym * sw, rcond=None)
    eb = ym - Xm @ bb
    q = float((counts * eb * eb).sum())
    XtWX = (Xm * counts[:, None]).T @ Xm
    XtW2X = (Xm * (counts.astype(float) ** 2)[:, None]).T @ Xm
    tr = float(np.trace(np.linalg.pinv(XtWX) @ XtW2X))
    if n_ent - kb <= 0 or nobs - tr <= 0:
        raise ValueError(f"random effects need residual degrees of freedom in the between regression; "
                         f"found towns={n_ent}, regressors={kb}")
    sigma2_u = (q - (n_ent - kb) * sigma2_e) / (nobs - tr)
    if not sigma2_u < 0:
        return sigma2_e, sigma2_u, ()
    return sigma2_e, 0.0, (f"the Swamy-Arora estimate of the town-effect variance is negative ({sigma2_u:.4g}); "
                           "set to 0 (theta = 0: the estimates equal pooled OLS)",)


@register_estimator("pooled", (None,), mundlak=True, effects_hint=dict.fromkeys(
    ("entity", "time", "twoway"), "use estimator='within' for fixed effects"))
def pooled_levels(sample: PanelSample, effects: None) -> PanelRegression:
    """Pooled OLS: the levels themselves."""
    return PanelRegression(_with_intercept(sample, sample.X), sample.y, sample.entity, sample.time)


_BETWEEN = {  # effects -> (what the outcome lacks, what to do instead)
    "entity": ("has the same mean in every town: the between regression has nothing to explain",
               "use estimator='within' or 'pooled' to explain its variation within towns"),
    "time": ("has the same mean in every year: the between regression has nothing to explain",
             "use estimator='within' or 'pooled'"),
}


@register_estimator("between", ("entity", "time"), linear=False)
def between_means(sample: PanelSample, effects: str) -> PanelRegression:
    """Between: OLS on the unweighted means of towns (``effects="time"``: of years)."""
    codes, n = (sample.entity, sample.n_entities) if effects == "entity" else (sample.time, sample.n_periods)
    Xt, yt = group_means(sample.X, codes, n), group_means(sample.y, codes, n)
    check_outcome(sample.y, yt[codes] - sample.y.mean(), sample.y_name, *_BETWEEN[effects], "between")
    groups = np.arange(n)
    zeros = np.zeros(n, np.int64)
    return PanelRegression(_with_intercept(sample, Xt), yt, groups if effects == "entity" else zeros,
                           groups if effects == "time" else zeros,
                           groups=(codes, n, "town" if effects == "entity" else "year"))


@register_estimator("first_difference", ("entity",), rows=drop_without_previous_year)
def first_differences(sample: PanelSample, effects: str) -> PanelRegression:
    """First differences ``x_t - x_(t-1)`` of consecutive calendar years within towns (the rows
    of the sample are the later years; ``sample.previous`` holds the earlier ones)."""
    X_prev, y_prev = sample.previous
    Xd, yd = sample.X - X_prev, sample.y - y_prev
    check_outcome(sample.y, yd, sample.y_name, "does not change between consecutive years in any town: its first "
                  "differences are all 0", _BETWEEN_TOWNS, "first_difference")
    _refuse_absorbed(Xd, sample, "do not change over time within any town, so first differences remove them",
                     "first_difference")
    return PanelRegression(_with_intercept(sample, Xd), yd, sample.entity, sample.time)
