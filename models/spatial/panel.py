"""Spatial panel models with fixed effects by maximum likelihood: ``fit_spatial_panel``.

The steps: the design (:mod:`models.formula`, ``W(x)`` terms included), the balanced panel as
arrays of shape (years, towns), the weights restricted to the towns of the data, the effects
removed (:func:`remove_effects`), the spatial lags of the demeaned outcome (and regressors),
the concentrated likelihood maximized (:mod:`models.spatial.likelihood`), the information
matrix, the result (:class:`models.spatial.results.SpatialPanelResult`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.spatial import SpatialWeights

from ..formula import FormulaError, build_design, parse_formula_cached
from ..panel import panel_index
from .impacts import exact_factors
from .likelihood import Effective, fit_error, fit_lag, information_error, information_lag
from .logdet import spatial_operator
from .results import SpatialPanelResult

__all__ = ["MODELS", "SPATIAL_EFFECTS", "fit_spatial_panel", "remove_effects", "spatial_lag"]

MODELS = ("lag", "error", "durbin")
SPATIAL_EFFECTS = ("twoway", "entity", "none")


def remove_effects(A: np.ndarray, effects: str) -> np.ndarray:
    """``A`` (years x towns [x columns]) less its town means (``"entity"``), less its town and
    year means plus the grand mean (``"twoway"``), or centred on nothing (``"none"``)."""
    if effects == "none":
        return A.copy()
    out = A - A.mean(axis=0, keepdims=True)
    if effects == "twoway":
        out -= A.mean(axis=1, keepdims=True) - A.mean(axis=(0, 1), keepdims=True)
    return out


def spatial_lag(W, A: np.ndarray) -> np.ndarray:
    """``W`` applied to the towns of every year: ``A`` is (years x towns [x columns])."""
    T, n = A.shape[:2]
    flat = np.moveaxis(A, 1, 0).reshape(n, -1)
    return np.moveaxis(np.asarray(W @ flat).reshape((n, T) + A.shape[2:]), 0, 1)


def _check_args(weights, model, effects, method, bias_correction) -> None:
    if not isinstance(weights, SpatialWeights):
        raise TypeError(f"weights must be a features.spatial.SpatialWeights; found {type(weights).__name__}")
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; found {model!r}")
    if effects not in SPATIAL_EFFECTS:
        raise ValueError(f"effects must be one of {SPATIAL_EFFECTS}; found {effects!r}")
    if method not in ("auto", "eigen", "lu"):
        raise ValueError(f"method must be 'auto', 'eigen' or 'lu'; found {method!r}")
    if not isinstance(bias_correction, bool):
        raise ValueError(f"bias_correction must be True or False; found {bias_correction!r}")


def _balanced(data: pd.DataFrame, design, pidx) -> np.ndarray:
    """The order of the rows that lays them out as (years x towns); refuses missing values and
    missing town-years, naming them."""
    if design.missing.any():
        bad = np.flatnonzero(design.missing)
        listed = "; ".join(f"{data.index[i]}: {design.reasons[i]}" for i in bad[:8])
        raise ValueError(f"the spatial panel models need a balanced panel without missing values; {len(bad)} row(s) "
                         f"have a missing or invalid value ({listed}{' ...' if len(bad) > 8 else ''}); drop those "
                         "towns (or years) from the data, or fill the values")
    n, T = pidx.n_entities, pidx.n_periods
    counts = np.bincount(pidx.entity, minlength=n)
    if len(pidx.entity) != n * T:
        short = pidx.entity_labels[counts < T]
        per_year = np.bincount(pidx.time, minlength=T)
        years = pidx.time_labels[per_year < n]
        raise ValueError(f"the spatial panel models need a balanced panel (every town in every year): {n} towns x "
                         f"{T} years = {n * T} rows expected, {len(pidx.entity)} found; {len(short)} town(s) miss "
                         f"years ({list(short[:10])}{' ...' if len(short) > 10 else ''}), years with towns missing: "
                         f"{list(years[:10])}; keep the towns observed in every year")
    return np.argsort(pidx.time.astype(np.int64) * n + pidx.entity, kind="stable")


def _weights_for(weights: SpatialWeights, towns, notes: list):
    """The weights over the towns of the data, in their order."""
    pos = weights.ids.get_indexer(towns)
    if (pos < 0).any():
        absent = list(towns[pos < 0][:10])
        raise ValueError(f"{int((pos < 0).sum())} town(s) of the data are not in the spatial weights "
                         f"({weights.kind or 'weights'} over {weights.n} towns): {absent}; build the weights over "
                         "every town of the data")
    if len(towns) != weights.n or (pos != np.arange(weights.n)).any():
        if len(towns) != weights.n:
            notes.append(f"the weights ({weights.n} towns) were restricted to the {len(towns)} towns of the data"
                         + (" and row-standardized again" if weights.transform == "r" else ""))
        weights = weights.reindex(pd.Index(towns))
    if len(weights.islands):
        raise ValueError(f"the spatial weights leave {len(weights.islands)} town(s) without neighbours "
                         f"({list(weights.islands[:10])}): their spatial lag is 0 and the likelihood of the model "
                         "assumes every town has neighbours; connect them (e.g. k nearest neighbours) or drop them")
    return weights


def _effective(effects: str, n: int, T: int, bias_correction: bool, op) -> Effective:
    if not bias_correction or effects == "none":
        return Effective(n * T, T, 0, n)
    if effects == "entity":
        return Effective(n * (T - 1), T - 1, 0, n)
    if not op.row_standardized:
        raise ValueError("two-way effects with the Lee-Yu transformation need row-standardized weights (every row "
                         "sums to 1: the year means are removed from W's lag only then); use transform 'r' or "
                         "bias_correction=False")
    return Effective((n - 1) * (T - 1), T - 1, 1, n)


def _design_grid(data, formula, weights, model, effects):
    """``(y, X, names, y_name)``: the outcome (years x towns) and regressors (years x towns x k),
    ``W(x)`` columns appended for a Durbin model."""
    form = parse_formula_cached(formula)
    if form.absorb or form.endog:
        raise FormulaError(f"formula {formula!r}: the spatial panel models take no '|' parts; the effects are "
                           "given by effects=")
    pidx = panel_index(data)
    has_icpt = effects == "none" and form.intercept
    design = build_design(data, form, pidx.entity, pidx.year, True, weights=weights)
    order = _balanced(data, design, pidx)
    n, T = pidx.n_entities, pidx.n_periods
    y = design.y[order].reshape(T, n)
    X = design.X[order].reshape(T, n, -1)
    names = list(design.names)
    clash = [nm for nm in names if nm in ("rho", "lambda", "Intercept")]
    if clash:
        raise ValueError(f"regressor(s) named {clash}: the names rho, lambda and Intercept are the model's own; "
                         "rename the column(s)")
    return y, X, names, design.y_name, pidx, has_icpt


def _durbin(X, names, W):
    """Append ``W x`` for every regressor that is not already a spatial lag."""
    own = [j for j, nm in enumerate(names) if not nm.startswith("W(")]
    lagged = [f"W({names[j]})" for j in own if f"W({names[j]})" not in names]
    keep = [j for j in own if f"W({names[j]})" not in names]
    if not keep:
        return X, names
    return np.concatenate([X, spatial_lag(W, X[:, :, keep])], axis=2), names + lagged


def fit_spatial_panel(data: pd.DataFrame, formula: str, weights: SpatialWeights, model: str = "lag",
                      effects: str = "twoway", *, bias_correction: bool = True, method: str = "auto",
                      tol: float = 1e-10) -> SpatialPanelResult:
    """Fixed-effects spatial lag, error and Durbin panel models by maximum likelihood.

    ``lag`` (SAR): ``y_t = rho W y_t + X_t b + a + g_t 1 + e_t``; ``durbin`` (SDM): the same
    with ``W X_t`` among the regressors (coefficients ``W(x)``); ``error`` (SEM): ``y_t = X_t b +
    a + g_t 1 + u_t``, ``u_t = lambda W u_t + e_t``; ``e_t ~ N(0, sigma2 I)``, town effects
    ``a`` and year effects ``g_t`` (``effects="twoway"``), town effects only (``"entity"``), or
    neither, with an intercept (``"none"``: pooled; with one year, the cross-sectional model).
    ``W(x)`` terms may be written in the formula of any of the three models.

    Estimation (Elhorst 2014, ch. 3): the effects are removed by demeaning, the spatial lags of
    the demeaned data are demeaned in the same way, and the likelihood concentrated in the
    spatial parameter is maximized by Brent's method on its admissible interval (tolerance
    ``tol``). With ``bias_correction=True`` (default) the likelihood is that of Lee and Yu's
    (2010) transformation approach, which removes the effects by an orthonormal transformation
    and so counts the degrees of freedom they take:

    * town effects: ``N_e = n (T - 1)``, ``T_e = T - 1``: ``b`` and ``rho`` equal the direct
      approach's and ``sigma2_BC = sigma2 T / (T - 1)`` (Lee and Yu 2010, sec. 3; Elhorst 2014,
      eq. 3.33);
    * town and year effects: ``N_e = (n - 1)(T - 1)``, ``T_e = T - 1`` and the log-determinant
      ``(T - 1)[log|I - rho W| - log(1 - rho)]`` (the transformation removes the eigenvalue 1 of
      the row-standardized ``W``; Lee and Yu 2010, sec. 4, eq. 4.2): ``rho`` and ``b`` differ
      from the direct approach, whose ``rho`` and ``sigma2`` are inconsistent when ``n`` is large
      relative to ``T`` (Lee and Yu 2010, Theorem 4.1; Elhorst 2014, sec. 3.4.2).

    ``bias_correction=False`` is the direct approach (``N_e = nT``, ``T_e = T``): spreg's
    ``Panel_FE_Lag`` and ``Panel_FE_Error`` with town effects. Standard errors: the inverse of
    the information matrix (:mod:`models.spatial.likelihood`).

    Parameters
    ----------
    data : DataFrame
        Indexed by (``town_id``, ``year``): a balanced panel (every town in every year, no
        missing value in the model's variables). An unbalanced panel is refused with the towns
        and years missing: the likelihood with a year's towns missing needs the weights of the
        towns present, which the model does not choose for you.
    formula : str
        ``"y ~ x1 + x2"`` (the formulas of :mod:`models.formula`, ``W(x)`` included; no ``|``).
    weights : features.spatial.SpatialWeights
        Weights over (at least) the towns of the data; restricted to them (re-standardized) when
        they hold more. No town may be left without neighbours. Two-way effects with the bias
        correction need row-standardized weights.
    model : {"lag", "error", "durbin"}
    effects : {"twoway", "entity", "none"}
    bias_correction : bool
        Lee and Yu's transformation approach (True) or the direct approach (False).
    method : {"auto", "eigen", "lu"}
        Log-determinant, solves and traces (:mod:`models.spatial.logdet`): eigenvalues (default
        up to 1,000 towns) or sparse LU (above; no dense ``n x n`` matrix).
    tol : float
        Tolerance of the maximization in the spatial parameter.

    Returns
    -------
    SpatialPanelResult
        ``params`` with ``rho`` (lag, Durbin) or ``lambda`` (error), ``std_errors``, ``pvalues``,
        ``conf_int``, ``loglik``, ``sigma2``, ``summary()``, ``impacts()``.

    References
    ----------
    Elhorst, J. P. (2014), *Spatial Econometrics: From Cross-Sectional Data to Spatial Panels*,
    Springer, ch. 3. Lee, L.-F. and Yu, J. (2010), "Estimation of spatial autoregressive panel
    data models with fixed effects", Journal of Econometrics 154(2). Anselin, L. (1988),
    *Spatial Econometrics: Methods and Models*, Kluwer. LeSage, J. and Pace, R. K. (2009),
    *Introduction to Spatial Econometrics*, CRC Press.
    """
    _check_args(weights, model, effects, method, bias_correction)
    y, X, names, y_name, pidx, has_icpt = _design_grid(data, formula, weights, model, effects)
    notes: list[str] = []
    W = _weights_for(weights, pidx.entity_labels, notes).sparse
    n, T = pidx.n_entities, pidx.n_periods
    if effects != "none" and T < 2:
        raise ValueError(f"effects={effects!r} need at least 2 years; found {T} (use effects='none' for a cross-section)")
    if model == "durbin":
        X, names = _durbin(X, names, W)
    if has_icpt:
        X, names = np.concatenate([np.ones((T, n, 1)), X], axis=2), ["Intercept", *names]
    op = spatial_operator(W, method)
    eff = _effective(effects, n, T, bias_correction, op)
    yd, Xd = remove_effects(y, effects), remove_effects(X, effects)
    wy = remove_effects(spatial_lag(W, y), effects).ravel()
    k = X.shape[2]
    Xf, yf = Xd.reshape(-1, k), yd.ravel()
    if np.linalg.matrix_rank(Xf) < k:
        raise ValueError(f"the regressors {names} are collinear once the {effects} effects are removed")
    if model == "error":
        wX = remove_effects(spatial_lag(W, X), effects).reshape(-1, k)
        fit = fit_error(yf, wy, Xf, wX, op, eff, tol)
        tr = op.traces(fit.spatial)
        info = information_error(Xf - fit.spatial * wX, tr, fit.spatial, fit.sigma2, eff)
        point = exact_factors(op, 0.0, float(W.diagonal().sum()))
    else:
        fit = fit_lag(yf, wy, Xf, op, eff, tol)
        tr = op.traces(fit.spatial)
        xb = (Xd @ fit.beta).T                                        # towns x years
        H = remove_effects(op.G_apply(fit.spatial, xb).T, "twoway" if eff.unit_roots else "none").ravel()
        info = information_lag(Xf, H, tr, fit.spatial, fit.sigma2, eff)
        point = exact_factors(op, fit.spatial, tr["tr_G"])
    if fit.at_bound:
        notes.append(f"the estimate of the spatial parameter lies on the edge of its interval {op.bounds}")
    V = np.linalg.inv(info)
    sp_name = "lambda" if model == "error" else "rho"
    return SpatialPanelResult.build(
        [*names, sp_name], np.append(fit.beta, fit.spatial), V[:k + 1, :k + 1], model=model, effects=effects,
        method=op.method, bias_correction=bias_correction, y_name=y_name, sigma2=fit.sigma2,
        sigma2_se=float(np.sqrt(max(V[k + 1, k + 1], 0.0))), loglik=fit.loglik, nobs=n * T, n_entities=n,
        n_periods=T, resid=fit.resid, notes=tuple(notes), _operator=op, _point_factors=point)
