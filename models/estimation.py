"""Fitting linear panel models: ``fit_panel_model(data, spec)`` orchestrates.

The steps, each a function of its own module:

1. the design: the formula evaluated on the data (:mod:`models.formula`);
2. the rows kept (:mod:`models.sample`): rows with a missing or invalid value in a variable of
   the model, an absorbed effect or a cluster variable are dropped, and so are the rows the
   estimator's own rule drops (singletons of fixed-effects models, across all absorbed effects;
   first years of first differences); every dropped row is reported in ``result.dropped`` with
   its reason;
3. the estimator's transformation, looked up by name in :data:`models.estimators.ESTIMATORS`
   (demeaning, quasi-demeaning, between means, differences; conventions there);
4. least squares with NumPy (:func:`least_squares`);
5. the covariance, looked up by name in :data:`models.covariance.COVARIANCES` (conventions
   there and in :mod:`models.bootstrap`);
6. the read-only result with the fit measures (:class:`models.PanelModelResult`).

Their numbers are checked against plm, Stata / Gretl and linearmodels in
``tests/test_models``; see ``docs/models.md``.

Degenerate outcomes are refused (:class:`DegenerateModelError`): missing in every row,
constant, or without variation once the model's effects are removed (see
:func:`fit_panel_model`). A perfect fit is kept but not given inference, nor is any
coefficient whose standard error is zero to rounding (t, p-value, interval NaN).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from features.spatial import SpatialWeights

from .absorb import effect_codes
from .checks import ZERO, check_rank, zero_std_errors
from .clusters import cluster_codes, cluster_values, group_cluster_codes
from .covariance import COVARIANCES, Covariance, LeastSquares, cov_unadjusted
from .estimators import ESTIMATORS, EstimatorType, PanelRegression, PreparedFit
from .exceptions import AbsorbedRegressorError, CollinearityError, DegenerateModelError
from .formula import build_design, parse_model
from .panel import panel_index
from .results import FitData, PanelModelResult
from .sample import (
    PanelSample,
    Rows,
    drop_missing_clusters,
    drop_missing_coordinates,
    drop_missing_effects,
    drop_singleton_effects,
    dropped_rows,
    panel_sample,
)
from .spec import PanelModelSpec
from .transforms import group_means, within

__all__ = ["AbsorbedRegressorError", "CollinearityError", "DegenerateModelError", "fit_panel_model",
           "least_squares"]


def _as_spec(spec: PanelModelSpec | str, spec_kw: dict) -> PanelModelSpec:
    if isinstance(spec, str):
        return PanelModelSpec(spec, **spec_kw)
    if spec_kw:
        raise TypeError("pass either a PanelModelSpec or a formula with keyword arguments, not both")
    if not isinstance(spec, PanelModelSpec):
        raise TypeError(f"spec must be a PanelModelSpec or a formula string; found {type(spec).__name__}")
    return spec


def _rows_kept(data: pd.DataFrame, design, pidx, spec: PanelModelSpec, estimator: EstimatorType,
               effects: tuple = ()) -> Rows:
    """Rows without a missing variable, absorbed effect or cluster, nor singletons of the
    absorbed ``effects``, and what the estimator's own rule needs."""
    rows = Rows(~design.missing, design.reasons)  # every drop_* copies the reasons before it writes
    if effects:
        rows = drop_missing_effects(rows, effects)
    if COVARIANCES[spec.cov_type].uses_clusters:
        rows = drop_missing_clusters(rows, data, spec.cluster_dims)
    if COVARIANCES[spec.cov_type].uses_coordinates:
        rows = drop_missing_coordinates(rows, data, spec.coordinates)
    rows = drop_singleton_effects(rows, effects, spec)
    return estimator.rows(rows, pidx, spec) if estimator.rows is not None else rows


def _self_fit(spec: PanelModelSpec, estimator: EstimatorType):
    """The fit of an estimator that fits itself; with instruments, that of the estimator that
    estimates them (``within`` with ``endog`` is two-stage least squares)."""
    if spec.endog and estimator.fit is None:
        return next(e.fit for e in ESTIMATORS.values() if e.instruments and e.fit is not None)
    return estimator.fit


def least_squares(reg: PanelRegression, names: tuple, has_intercept: bool, absorbs_constant: bool, n_periods: int,
                  ) -> tuple[LeastSquares, np.ndarray, float, float]:
    """OLS of ``reg.y`` on ``reg.X``: ``b = (X'X)^{-1} X'y``, residuals, and ``df_resid = N - K -
    (absorbed levels)`` (``+ 1`` when the intercept is one of the absorbed levels, as Stata).

    Returns the fit as the covariance estimators take it (without clusters), ``b``, the sum of
    squared residuals and the total sum of squares (centred when the model has an intercept or
    absorbed effects); the fit is exact when ``SSR <= 1e-18 TSS``."""
    check_rank(reg.X, list(names))
    k, n_fit = reg.X.shape[1], reg.X.shape[0]
    XtX_inv = np.linalg.inv(reg.X.T @ reg.X)
    beta = XtX_inv @ (reg.X.T @ reg.y)
    u = reg.y - reg.X @ beta
    df_resid = n_fit - k - reg.df_absorbed + (1 if (absorbs_constant and has_intercept) else 0)
    if df_resid <= 0:
        raise ValueError(f"the model has no residual degrees of freedom: {n_fit} observations, {k} regressors "
                         f"and {reg.df_absorbed} absorbed effects")
    centre = has_intercept or absorbs_constant
    tss = _centred_squares(reg.y) if centre else float(reg.y @ reg.y)
    ssr = float(u @ u)
    fit = LeastSquares(X=reg.X, y=reg.y, resid=u, XtX_inv=XtX_inv, df_resid=int(df_resid), names=tuple(names),
                       has_intercept=has_intercept, absorbs_constant=absorbs_constant,
                       absorbed=reg.absorbed, time=reg.time, n_periods=n_periods,
                       aggregated=reg.groups is not None, exact_fit=bool(ssr <= (ZERO * ZERO) * tss))
    return fit, beta, ssr, tss


def _clusters(spec: PanelModelSpec, data: pd.DataFrame, rows: Rows, sample: PanelSample,
              reg: PanelRegression | None) -> tuple:
    """``((codes, G), ...)`` of the regression's rows for each cluster dimension of the spec; for a
    regression on group means, the cluster of each group (which must lie in one cluster)."""
    idx = None if rows.keep.all() else np.flatnonzero(rows.keep)
    out = []
    for dim in spec.cluster_dims:
        codes, g = cluster_codes(dim, data, idx, sample.entity, sample.time, sample.n_entities, sample.n_periods)
        if reg is not None and reg.groups is not None:
            groups, n_groups, label = reg.groups
            by_group = group_cluster_codes(codes, g, groups, n_groups)
            if by_group is None:
                raise ValueError(f"clusters of a {spec.estimator} model must be constant within each {label}; "
                                 f"{dim!r} is not")
            codes, g = by_group
        out.append((codes, g))
    return tuple(out)


def _coordinates(data: pd.DataFrame, rows: Rows, columns: tuple[str, ...]) -> np.ndarray:
    """The coordinates (``columns``, e.g. latitude and longitude in degrees) of the rows kept."""
    idx = np.flatnonzero(rows.keep)
    out = np.column_stack([cluster_values(data, c).to_numpy(dtype=float)[idx] for c in columns])
    return out


def _centred_squares(y: np.ndarray) -> float:
    """``sum (y - mean(y))^2``, the squares formed in the one copy of ``y``."""
    d = y - y.mean()
    d *= d
    return float(d.sum())


def _corr2(a: np.ndarray, b: np.ndarray, overwrite: tuple[bool, bool] = (False, False)) -> float:
    """Squared correlation of ``a`` and ``b``; ``overwrite`` says which of the two may be centred
    in place (arrays of the caller's own, no longer needed)."""
    a = _centred(a, overwrite[0])
    b = _centred(b, overwrite[1])
    den = np.sqrt((a @ a) * (b @ b))
    return float((a @ b) ** 2 / den**2) if den > 0 else float("nan")


def _centred(a: np.ndarray, in_place: bool) -> np.ndarray:
    if not in_place:
        return a - a.mean()
    a -= a.mean()
    return a


def _rsquared(sample: PanelSample, beta: np.ndarray, ssr: float, tss: float) -> dict:
    """R-squared of the estimated regression, and Stata's within, between and overall R-squared:
    squared correlations of the fitted index ``x b`` (in levels) with the outcome, after
    removing town means, between town means, and overall. At most three arrays of the size of
    ``y`` at a time (the fitted index is centred in place when it is used for the last time)."""
    xb = sample.X @ (beta[1:] if sample.has_intercept else beta)
    y, e, n, counts = sample.y, sample.entity, sample.n_entities, sample.entity_counts
    out = {"rsquared": 1.0 - ssr / tss if tss > 0 else float("nan"),
           "rsquared_within": _corr2(within(y, e, n, counts), within(xb, e, n, counts), (True, True)),
           "rsquared_between": _corr2(group_means(y, e, n, counts), group_means(xb, e, n, counts))}
    out["rsquared_overall"] = _corr2(y, xb, (False, True))
    return out


def _absorbed_names(sample: PanelSample, spec: PanelModelSpec, estimator: EstimatorType, index_names) -> tuple:
    """The effects a fixed-effects model absorbed, by name (the index levels for ``effects``)."""
    if sample.absorb is not None:
        return sample.absorb.names
    if not estimator.absorbs_constant:
        return ()
    return tuple(nm for nm, on in zip(index_names, (spec.effects in ("entity", "twoway"),
                                                     spec.effects in ("time", "twoway")), strict=True) if on)


def _spatial_weights(weights):
    """The spatial weights of ``W(x)`` terms (``None`` when not given), checked to be a
    :class:`features.spatial.SpatialWeights`."""
    if weights is not None and not isinstance(weights, SpatialWeights):
        raise TypeError(f"weights= takes the spatial weights of W(x) terms, a features.spatial.SpatialWeights; found "
                        f"{type(weights).__name__} (regression weights are not offered by fit_panel_model)")
    return weights


def fit_panel_model(data: pd.DataFrame, spec: PanelModelSpec | str, *, weights=None, **spec_kw) -> PanelModelResult:
    """Fit a linear panel model.

    Parameters
    ----------
    data : DataFrame
        Indexed by (``town_id``, ``year``) (any two-level index of towns and integer years);
        numeric columns, plus string or categorical columns for ``C(...)`` terms and
        clustering.
    spec : PanelModelSpec or str
        The specification; a formula string is turned into ``PanelModelSpec(formula, **spec_kw)``.
    weights : features.spatial.SpatialWeights, optional
        Spatial weights of the ``W(x)`` terms of the formula (spatially lagged regressors
        within each year, the SLX model; :mod:`models.formula`). Not part of the
        specification: a weights object is data, the specification stays plain values.

    Returns
    -------
    PanelModelResult

    Raises
    ------
    AbsorbedRegressorError
        A regressor is absorbed by the effects (named, with what to do instead).
    CollinearityError
        Regressors are collinear (named).
    DegenerateModelError
        The outcome (named) is missing or invalid in every row, constant in the rows used, or
        without variation once the model's effects are removed (constant within towns under
        town or random effects, a town part plus a year part under two-way effects, constant
        over consecutive years for first differences, the same mean in every town for
        ``between``): nothing to explain, and every coefficient and t statistic would be
        rounding noise (a constant outcome used to give slopes of 1e-13 with ``|t| > 4``).
    FormulaError
        The formula cannot be parsed or names a column that is not there.

    Notes
    -----
    A perfect fit (residuals below ``1e-9`` of the outcome's variation) is flagged, not
    refused: its estimates are exact and can be what the user wants (an accounting identity,
    a deterministic outcome), but there is no sampling variation to infer from, so standard
    errors are 0 and ``tstats``, ``pvalues`` and ``conf_int`` are NaN, with a note (and no
    wild bootstrap). Any coefficient whose standard error is zero to rounding,
    ``se_j <= 1e-9 ||y~|| / ||x~_j||``, is treated the same way (for example a regressor that
    varies within one town only, with errors clustered by town).
    """
    spec = _as_spec(spec, spec_kw)
    estimator, covariance = ESTIMATORS[spec.estimator], COVARIANCES[spec.cov_type]
    pidx = panel_index(data)
    form = parse_model(spec.formula, spec.absorb, spec.endog, spec.instruments)
    design = build_design(data, form, pidx.entity, pidx.year, form.intercept or estimator.absorbs_constant,
                          weights=_spatial_weights(weights))
    if len(data) and np.isnan(design.y).all():
        raise DegenerateModelError(f"the outcome {design.y_name!r} is missing or invalid in all {len(data)} rows: "
                                   "nothing to estimate; check the column (and, for log(...), that values are > 0)")
    effects = tuple((name, *effect_codes(data, name)) for name in spec.absorb)
    rows = _rows_kept(data, design, pidx, spec, estimator, effects)
    sample = panel_sample(design, pidx, rows, form.intercept, spec.mundlak, effects,
                          (spec.fe_tol, spec.fe_maxiter, spec.fe_dof))
    hook = _self_fit(spec, estimator)
    if hook is not None:
        clusters = _clusters(spec, data, rows, sample, None) if covariance.uses_clusters else ()
        return hook(PreparedFit(data, spec, design, rows, sample, clusters, pidx.names))
    reg = estimator.transform(sample, spec.effects)
    names = (("Intercept",) if sample.has_intercept else ()) + sample.names
    fit, beta, ssr, tss = least_squares(reg, names, sample.has_intercept, estimator.absorbs_constant,
                                        sample.n_periods)
    if covariance.uses_clusters:
        fit = replace(fit, clusters=_clusters(spec, data, rows, sample, reg))
    if covariance.uses_coordinates:
        fit = replace(fit, entity=reg.entity, coordinates=_coordinates(data, rows, spec.coordinates))
    notes = list(reg.notes)
    if fit.exact_fit:
        notes.append(f"the model fits {design.y_name} exactly (residuals zero to rounding, R-squared 1): the "
                     "estimates are exact, but there is no sampling variation to infer from, so t statistics, "
                     "p-values and intervals are not reported (NaN)"
                     + ("; no bootstrap" if spec.cov_type == "wild_bootstrap" else ""))
    cov: Covariance = covariance.function(fit, spec)
    dropped, dropped_note = dropped_rows(data, rows)
    notes = ([dropped_note] if dropped_note else []) + notes + list(cov.notes)
    dist, df_dist = (("normal", np.inf) if estimator.dist == "normal"
                     else ("t", cov.df_dist if cov.df_dist is not None else float(fit.df_resid)))
    cov_classical = cov_unadjusted(fit.XtX_inv, fit.resid, fit.df_resid)
    fit_data = FitData(Xt=reg.X, yt=reg.y, X=sample.X, y=sample.y, entity=reg.entity, time=reg.time,
                       clusters=fit.clusters, names=names, has_intercept=sample.has_intercept,
                       cov_classical=cov_classical, n_entities=sample.n_entities, exact_fit=fit.exact_fit)
    no_inference = fit.exact_fit | zero_std_errors(reg.X, reg.y, np.sqrt(np.clip(np.diag(cov.cov), 0.0, None)),
                                                   sample.has_intercept,
                                                   sample.has_intercept or estimator.absorbs_constant)
    df_resid, clusters = int(fit.df_resid), fit.clusters
    del fit  # the residuals go before the arrays of the R-squared are formed
    return PanelModelResult.build(
        spec, list(names), beta, cov.cov, nobs=int(reg.X.shape[0]), n_entities=int(sample.n_entities),
        n_periods=int(sample.n_periods), df_resid=df_resid, df_model=int(reg.X.shape[1] - sample.has_intercept),
        ssr=ssr, dist=dist, df_dist=df_dist, variance_components=reg.variance_components, dropped=dropped,
        notes=tuple(notes), n_clusters=dict(zip(spec.cluster_dims, (g for _, g in clusters), strict=False)),
        bootstrap=cov.bootstrap, y_name=design.y_name, fit_data=fit_data, no_inference=no_inference,
        absorbed=_absorbed_names(sample, spec, estimator, pidx.names),
        **_rsquared(sample, beta, ssr, tss))
