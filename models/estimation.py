"""Fitting linear panel models: ``fit_panel_model(data, spec)``.

The estimators transform the data (pure functions of :mod:`models.transforms`), run least
squares with NumPy and compute the covariance chosen in the specification
(:mod:`models.covariance`, :mod:`models.bootstrap`). Their numbers are checked against
plm, Stata / Gretl and linearmodels in ``tests/test_models``; see ``docs/models.md``.

Conventions
-----------
* ``within`` reports an intercept, as Stata's ``xtreg, fe`` and ``reghdfe``: the
  regression is run on the demeaned data plus the grand means, so the intercept is
  ``mean(y) - mean(x)' b`` and the slopes equal plm's. Residual degrees of freedom are
  ``N - (absorbed levels) - (slopes)``.
* ``random``: one-way random town effects with Swamy-Arora variance components;
  ``sigma2_e`` from the within regression (``N - n - K_w`` degrees of freedom), ``sigma2_u``
  from the between regression weighted by the towns' numbers of observations (Baltagi and
  Chang 1994; plm's ``random.method="swar"``; in a balanced panel the textbook
  ``SSR_b/(n - K) - sigma2_e/T``), truncated at 0; ``theta_i = 1 - sqrt(sigma2_e /
  (sigma2_e + T_i sigma2_u))``.
* ``between``: OLS on the unweighted means of towns (``effects="time"``: of years), as plm
  and ``xtreg, be``.
* ``first_difference``: OLS on ``x_t - x_(t-1)`` of consecutive calendar years within towns
  with an intercept (a trend in levels) unless the formula removes it (plm's default); a
  gap breaks the difference.
* Rows with a missing or invalid value in a variable of the model, or in a cluster
  variable, are dropped; fixed-effects models also drop singletons (towns or years with
  one observation). Every dropped row is reported in ``result.dropped`` with its reason.
* Degenerate outcomes are refused (:class:`DegenerateModelError`): missing in every row,
  constant, or without variation once the model's effects are removed (see
  :func:`fit_panel_model`). A perfect fit is kept but not given inference, nor is any
  coefficient whose standard error is zero to rounding (t, p-value, interval NaN).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .bootstrap import WildClusterBootstrap, bootstrap_weights, unbounded_notes, wcr_table
from .covariance import (
    bartlett_lags,
    cov_clustered,
    cov_driscoll_kraay,
    cov_robust,
    cov_unadjusted,
    intersect_codes,
)
from .formula import FormulaError, build_design, parse_formula
from .panel import _compress, panel_index
from .results import FitData, PanelModelResult
from .spec import PanelModelSpec
from .transforms import TwoWayProjector, consecutive_pairs, group_means, within

__all__ = ["AbsorbedRegressorError", "CollinearityError", "DegenerateModelError", "fit_panel_model"]


class AbsorbedRegressorError(ValueError):
    """Regressors that the model's effects absorb (for example time-invariant under town effects)."""


class CollinearityError(ValueError):
    """Regressors that are linear combinations of the others."""


class DegenerateModelError(ValueError):
    """An outcome that leaves nothing to estimate: missing in every row, constant, or constant
    once the model's effects are removed (named, with what to do instead)."""


# relative size below which a variation, residual or standard error counts as zero: well above
# the rounding error of the least-squares algebra (about 1e-15 times the condition number),
# far below anything data produce (a t statistic of 1e9)
_ZERO = 1e-9

_BETWEEN_TOWNS = "use estimator='between' or 'pooled' to explain its differences between towns"
_NO_WITHIN_VARIATION = {  # (estimator, effects) -> (what happened, what to do)
    ("within", "entity"): ("does not vary within towns: the town effects absorb all of its variation",
                           _BETWEEN_TOWNS),
    ("within", "time"): ("does not vary within years: the year effects absorb all of its variation",
                         "use estimator='between' with effects='time', or 'pooled', to explain its changes over "
                         "the years"),
    ("within", "twoway"): ("is a town part plus a year part: the town and year effects absorb all of its "
                           "variation", "use one-way effects or estimator='pooled'"),
    ("random", "entity"): ("does not vary within towns: random effects need within-town variation to estimate "
                           "sigma2_e (it would be 0 and theta 1)", _BETWEEN_TOWNS),
    ("first_difference", "entity"): ("does not change between consecutive years in any town: its first "
                                     "differences are all 0", _BETWEEN_TOWNS),
    ("between", "entity"): ("has the same mean in every town: the between regression has nothing to explain",
                            "use estimator='within' or 'pooled' to explain its variation within towns"),
    ("between", "time"): ("has the same mean in every year: the between regression has nothing to explain",
                          "use estimator='within' or 'pooled'"),
}


def _check_outcome(y: np.ndarray, transformed: np.ndarray | None, name: str, est: str, eff) -> None:
    """Refuse a constant outcome, or one whose variation the model's effects remove."""
    spread = float(np.ptp(y)) if len(y) else 0.0
    if spread <= _ZERO * 1e-3 * max(float(np.abs(y).max()) if len(y) else 0.0, np.finfo(float).tiny):
        raise DegenerateModelError(
            f"the outcome {name!r} is constant ({float(y[0]):.6g}) in the {len(y)} rows used: there is "
            "nothing to explain, and any coefficient or t statistic would be rounding noise; check the column "
            "(and which rows have missing values in the model's variables) or choose another outcome")
    if transformed is None:
        return
    centred = y - y.mean()
    if np.sqrt(transformed @ transformed) <= _ZERO * np.sqrt(centred @ centred):
        what, advice = _NO_WITHIN_VARIATION[(est, eff)]
        raise DegenerateModelError(f"the outcome {name!r} {what}, so a {est} model of it is degenerate; {advice}")


def _zero_std_errors(Xt: np.ndarray, yt: np.ndarray, se: np.ndarray, has_icpt: bool, centre: bool) -> np.ndarray:
    """Standard errors that are zero to rounding: ``se_j <= 1e-9 ||y~|| / ||x~_j||``.

    ``||y~|| / ||x~_j||`` (outcome and regressor centred when the model has an intercept or
    effects; the intercept column itself uncentred) is the standard error a coefficient would
    have if the residuals were as large as the outcome; a real standard error is at least
    about ``sqrt((1 - R^2) / N)`` of it."""
    yc = yt - yt.mean() if centre else yt
    Xc = Xt - Xt.mean(axis=0) if centre else Xt.copy()
    if has_icpt:
        Xc[:, 0] = 1.0
    xn = np.sqrt((Xc * Xc).sum(axis=0))
    xn[xn == 0] = np.inf
    return ~(se > _ZERO * np.sqrt(yc @ yc) / xn)


@functools.lru_cache(maxsize=256)
def _parse(text: str):
    return parse_formula(text)


def _rel_norm_zero(transformed: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Columns whose transformation removed (numerically) all of their variation."""
    scale = np.sqrt((original * original).sum(axis=0))
    scale[scale == 0] = 1.0
    return np.sqrt((transformed * transformed).sum(axis=0)) <= 1e-9 * scale


def _check_rank(X: np.ndarray, names: list[str]):
    if X.shape[1] == 0:
        return
    xtx = X.T @ X
    d = np.sqrt(np.diag(xtx))
    d[d == 0] = 1.0
    c = xtx / np.outer(d, d)
    w = np.linalg.eigvalsh(c)
    if w.min() > 1e-10 * max(1.0, w.max()):
        return
    w, v = np.linalg.eigh(c)
    null = v[:, w <= 1e-10 * max(1.0, w.max())]
    involved = [names[i] for i in range(len(names)) if np.abs(null[i]).max() > 1e-6]
    raise CollinearityError(
        f"regressors are collinear: a linear combination of {', '.join(involved)} is zero "
        "(given the intercept and the effects); remove one of them from the formula")


def _absorbed_error(names, how, estimator):
    listing = ", ".join(names)
    if estimator == "first_difference":
        why = "do not change over time within any town, so first differences remove them"
    else:
        why = how
    return AbsorbedRegressorError(
        f"{listing}: {why}. Their effect cannot be estimated with {estimator} effects; to keep "
        f"{'it' if len(names) == 1 else 'them'} use estimator='random' (with mundlak=True for the correlated random "
        "effects of Mundlak 1978, whose coefficients on the time-varying regressors equal the within ones) or "
        "estimator='between', or drop them from the formula (interactions with time-varying regressors, "
        "e.g. x:C(type), are identified)")


def _cluster_values(data: pd.DataFrame, dim: str) -> pd.Series:
    """The values of a cluster column or index level (row-aligned with ``data``), or a clear error."""
    if dim in data.columns:
        return data[dim]
    if dim in [n for n in data.index.names if n]:
        return pd.Series(data.index.get_level_values(dim), index=data.index)
    raise FormulaError(f"cluster column {dim!r} is not in the data; use 'entity', 'time', "
                       f"'entity+time' or one of the columns {list(map(str, data.columns))[:20]}")


def _cluster_codes(dim, data, rows, entity, time, n_ent, n_time):
    if dim == "entity":
        return entity, n_ent
    if dim == "time":
        return time, n_time
    vals = _cluster_values(data, dim)
    v = vals.to_numpy()[rows] if rows is not None else vals.to_numpy()
    codes, uniq = pd.factorize(v, sort=True)
    return codes.astype(np.int64), len(uniq)


def _nested(inner: np.ndarray, n_inner: int, outer: np.ndarray) -> bool:
    """Each level of ``inner`` lies in one level of ``outer``."""
    return intersect_codes(inner, outer)[1] == n_inner


def _corr2(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a @ a) * (b @ b))
    return float((a @ b) ** 2 / den**2) if den > 0 else float("nan")


def fit_panel_model(data: pd.DataFrame, spec: PanelModelSpec | str, **spec_kw) -> PanelModelResult:
    """Fit a linear panel model.

    Parameters
    ----------
    data : DataFrame
        Indexed by (``town_id``, ``year``) (any two-level index of towns and integer years);
        numeric columns, plus string or categorical columns for ``C(...)`` terms and
        clustering.
    spec : PanelModelSpec or str
        The specification; a formula string is turned into ``PanelModelSpec(formula, **spec_kw)``.

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
    if isinstance(spec, str):
        spec = PanelModelSpec(spec, **spec_kw)
    elif spec_kw:
        raise TypeError("pass either a PanelModelSpec or a formula with keyword arguments, not both")
    if not isinstance(spec, PanelModelSpec):
        raise TypeError(f"spec must be a PanelModelSpec or a formula string; found {type(spec).__name__}")
    pidx = panel_index(data)
    form = _parse(spec.formula)
    est, eff = spec.estimator, spec.effects
    design = build_design(data, form, pidx.entity, pidx.year, intercept_in_model=form.intercept or est == "within")
    n_all = len(data)
    if n_all and np.isnan(design.y).all():
        raise DegenerateModelError(f"the outcome {design.y_name!r} is missing or invalid in all {n_all} rows: "
                                   "nothing to estimate; check the column (and, for log(...), that values are > 0)")
    reasons = design.reasons.copy()
    keep = ~design.missing
    # cluster variables must be present
    for dim in spec.cluster_dims if spec.cov_type in ("clustered", "wild_bootstrap") else ():
        if dim in ("entity", "time"):
            continue
        miss = _cluster_values(data, dim).isna().to_numpy()
        new = miss & keep
        reasons[new] = f"missing cluster {dim}"
        keep &= ~miss

    entity_all, time_all, year_all = pidx.entity, pidx.time, pidx.year

    # first differences: rows with a previous consecutive year
    fd_prev = None
    if est == "first_difference":
        rows0 = np.flatnonzero(keep)
        cur, prev = consecutive_pairs(entity_all[rows0], year_all[rows0])
        has = np.zeros(n_all, bool)
        has[rows0[cur]] = True
        prev_pos = np.full(n_all, -1)
        prev_pos[rows0[cur]] = rows0[prev]
        new = keep & ~has
        reasons[new] = "no previous year to difference (first year of the town or a gap)"
        keep &= has
        fd_prev = prev_pos

    # singletons of fixed-effects models
    if est == "within" and spec.singletons == "drop":
        dims = {"entity": ("entity", "twoway"), "time": ("time", "twoway")}
        while True:
            changed = False
            for dim, effs in dims.items():
                if eff not in effs:
                    continue
                codes = entity_all if dim == "entity" else time_all
                cnt = np.bincount(codes[keep], minlength=codes.max() + 1 if len(codes) else 0)
                single = keep & (cnt[codes] == 1)
                if single.any():
                    reasons[single] = "singleton town" if dim == "entity" else "singleton year"
                    keep &= ~single
                    changed = True
            if not changed:
                break

    all_kept = bool(keep.all())
    rows = None if all_kept else np.flatnonzero(keep)
    if not all_kept and len(rows) == 0:
        raise ValueError("no rows left to estimate the model: " + "; ".join(
            f"{r} ({c})" for r, c in pd.Series(reasons[reasons != ""]).value_counts().head(5).items()))

    def sub(a):
        return a if rows is None else a[rows]

    y_raw = sub(design.y)
    X_raw = sub(design.X)
    names = list(design.names)
    entity, used_e = _compress(sub(entity_all), pidx.n_entities)
    time, used_t = _compress(sub(time_all), pidx.n_periods)
    n_ent, n_time = len(used_e), len(used_t)
    nobs = len(y_raw)
    ent_counts = np.bincount(entity, minlength=n_ent)
    _check_outcome(y_raw, None, design.y_name, est, eff)

    if spec.mundlak:
        xm = group_means(X_raw, entity, n_ent, ent_counts)
        xw = X_raw - xm[entity]
        # time-varying regressors whose town means differ between towns (the means of year
        # dummies in a balanced panel are constant: collinear with the intercept)
        varies = ~_rel_norm_zero(xw, X_raw - X_raw.mean(axis=0)) & ~_rel_norm_zero(xm - xm.mean(axis=0), xm)
        if not varies.any():
            raise ValueError("mundlak=True needs regressors that vary within towns; none do")
        X_raw = np.column_stack([X_raw, xm[entity][:, varies]])
        names = names + [f"mean({nm})" for nm, v in zip(names, varies, strict=True) if v]

    has_icpt = form.intercept
    k_slopes = X_raw.shape[1]
    extra: dict = {}
    theta = None
    absorbed_dims: list[tuple[str, int]] = []  # (dimension, degrees of freedom beyond the constant)
    fit_entity, fit_time = entity, time

    # ------------------------------------------------------------------ transformations
    if est in ("pooled",):
        Xt = np.column_stack([np.ones(nobs), X_raw]) if has_icpt else X_raw
        yt = y_raw
        df_absorbed = 0
    elif est == "within":
        if eff == "entity":
            Xd = within(X_raw, entity, n_ent, ent_counts)
            yd = within(y_raw, entity, n_ent, ent_counts)
            df_absorbed = n_ent
            absorbed_dims = [("entity", n_ent - 1)]
            how = "do not vary within towns, so the town effects absorb them"
        elif eff == "time":
            t_counts = np.bincount(time, minlength=n_time)
            Xd = within(X_raw, time, n_time, t_counts)
            yd = within(y_raw, time, n_time, t_counts)
            df_absorbed = n_time
            absorbed_dims = [("time", n_time - 1)]
            how = "do not vary within years, so the year effects absorb them"
        else:
            if n_ent >= n_time:
                proj = TwoWayProjector(entity, n_ent, time, n_time)
                absorbed_dims = [("entity", n_ent - 1), ("time", proj.rank_b)]
                df_absorbed = n_ent + proj.rank_b
            else:
                proj = TwoWayProjector(time, n_time, entity, n_ent)
                absorbed_dims = [("time", n_time - 1), ("entity", proj.rank_b)]
                df_absorbed = n_time + proj.rank_b
            Xd = proj(X_raw)
            yd = proj(y_raw)
            how = "are absorbed by the town and year effects (constant within towns, within years, or a sum of both)"
        _check_outcome(y_raw, yd, design.y_name, est, eff)
        gone = _rel_norm_zero(Xd, X_raw - X_raw.mean(axis=0)) if k_slopes else np.zeros(0, bool)
        if gone.any():
            raise _absorbed_error([n for n, g in zip(names, gone, strict=True) if g], how, "within" if eff else est)
        if has_icpt:
            Xt = np.column_stack([np.ones(nobs), Xd + X_raw.mean(axis=0)])
            yt = yd + y_raw.mean()
        else:
            Xt, yt = Xd, yd
    elif est == "first_difference":
        cur_rows = np.flatnonzero(keep)
        prev_rows = fd_prev[cur_rows]
        Xd = design.X[cur_rows] - design.X[prev_rows]
        if spec.mundlak:  # pragma: no cover - rejected by the spec
            raise ValueError("mundlak is not defined for first differences")
        yd = design.y[cur_rows] - design.y[prev_rows]
        _check_outcome(y_raw, yd, design.y_name, est, eff)
        gone = _rel_norm_zero(Xd, X_raw - X_raw.mean(axis=0)) if k_slopes else np.zeros(0, bool)
        if gone.any():
            raise _absorbed_error([n for n, g in zip(names, gone, strict=True) if g], "", est)
        Xt = np.column_stack([np.ones(nobs), Xd]) if has_icpt else Xd
        yt = yd
        df_absorbed = 0
    elif est == "between":
        g_codes, n_g = (entity, n_ent) if eff == "entity" else (time, n_time)
        Xt = group_means(X_raw, g_codes, n_g)
        yt = group_means(y_raw, g_codes, n_g)
        _check_outcome(y_raw, yt[g_codes] - y_raw.mean(), design.y_name, est, eff)
        if has_icpt:
            Xt = np.column_stack([np.ones(n_g), Xt])
        fit_entity = np.arange(n_g) if eff == "entity" else np.zeros(n_g, np.int64)
        fit_time = np.arange(n_g) if eff == "time" else np.zeros(n_g, np.int64)
        df_absorbed = 0
    else:  # random
        Xfull = np.column_stack([np.ones(nobs), X_raw]) if has_icpt else X_raw
        Xm = group_means(X_raw, entity, n_ent, ent_counts)  # town means, for both regressions
        ym = group_means(y_raw, entity, n_ent, ent_counts)
        Xw = X_raw - Xm[entity]
        yw = y_raw - ym[entity]
        _check_outcome(y_raw, yw, design.y_name, est, eff)
        varies = ~_rel_norm_zero(Xw, X_raw - X_raw.mean(axis=0)) if k_slopes else np.zeros(0, bool)
        Xw = Xw[:, varies]
        kw_rank = np.linalg.matrix_rank(Xw) if Xw.shape[1] else 0
        bw = np.linalg.lstsq(Xw, yw, rcond=None)[0] if Xw.shape[1] else np.zeros(0)
        ew = yw - Xw @ bw
        dfw = nobs - n_ent - kw_rank
        if dfw <= 0:
            raise ValueError(f"random effects need residual degrees of freedom in the within regression; "
                             f"found N={nobs}, towns={n_ent}, regressors={kw_rank}")
        sigma2_e = float(ew @ ew) / dfw
        if has_icpt:
            Xm = np.column_stack([np.ones(n_ent), Xm])
        sw = np.sqrt(ent_counts.astype(float))
        bb, _, kb, _ = np.linalg.lstsq(Xm * sw[:, None], ym * sw, rcond=None)
        eb = ym - Xm @ bb
        q = float((ent_counts * eb * eb).sum())
        XtWX = (Xm * ent_counts[:, None]).T @ Xm
        XtW2X = (Xm * (ent_counts.astype(float) ** 2)[:, None]).T @ Xm
        tr = float(np.trace(np.linalg.pinv(XtWX) @ XtW2X))
        if n_ent - kb <= 0 or nobs - tr <= 0:
            raise ValueError(f"random effects need residual degrees of freedom in the between regression; "
                             f"found towns={n_ent}, regressors={kb}")
        sigma2_u = (q - (n_ent - kb) * sigma2_e) / (nobs - tr)
        if sigma2_u < 0:
            extra.setdefault("notes", []).append(
                f"the Swamy-Arora estimate of the town-effect variance is negative ({sigma2_u:.4g}); set to 0 "
                "(theta = 0: the estimates equal pooled OLS)")
            sigma2_u = 0.0
        theta = 1.0 - np.sqrt(sigma2_e / (sigma2_e + ent_counts * sigma2_u))
        th = theta[entity]
        Xt = Xfull - th[:, None] * Xm[entity]
        yt = y_raw - th * ym[entity]
        df_absorbed = 0
        extra["variance_components"] = {
            "sigma2_e": sigma2_e, "sigma2_u": sigma2_u, "theta": float(np.mean(theta)),
            "theta_min": float(theta.min()), "theta_max": float(theta.max()),
            "rho": sigma2_u / (sigma2_u + sigma2_e) if sigma2_u + sigma2_e > 0 else float("nan")}

    all_names = (["Intercept"] if has_icpt else []) + names
    _check_rank(Xt, all_names)
    k = Xt.shape[1]
    n_fit = Xt.shape[0]
    XtX = Xt.T @ Xt
    XtX_inv = np.linalg.inv(XtX)
    beta = XtX_inv @ (Xt.T @ yt)
    u = yt - Xt @ beta
    ssr = float(u @ u)
    df_resid = n_fit - k - df_absorbed + (1 if (est == "within" and has_icpt) else 0)
    if df_resid <= 0:
        raise ValueError(f"the model has no residual degrees of freedom: {n_fit} observations, {k} regressors "
                         f"and {df_absorbed} absorbed effects")
    centre = has_icpt or est == "within"
    y_var = float(((yt - yt.mean()) ** 2).sum()) if centre else float(yt @ yt)
    exact_fit = ssr <= (_ZERO * _ZERO) * y_var

    # ------------------------------------------------------------------ covariance
    cov_classical = cov_unadjusted(XtX_inv, u, df_resid)
    dist, df_dist = ("normal", np.inf) if est == "random" else ("t", float(df_resid))
    n_clusters: dict = {}
    clusters: tuple = ()
    k_stata = k_plm = k
    bootstrap = None
    notes = list(extra.pop("notes", []))
    if exact_fit:
        notes.append(f"the model fits {design.y_name} exactly (residuals zero to rounding, R-squared 1): the "
                     "estimates are exact, but there is no sampling variation to infer from, so t statistics, "
                     "p-values and intervals are not reported (NaN)" + ("; no bootstrap" if spec.cov_type ==
                                                                        "wild_bootstrap" else ""))
    ctype = spec.cov_type
    if ctype == "unadjusted":
        cov = cov_classical
    elif ctype == "robust":
        cov = cov_robust(Xt, u, XtX_inv, df_resid)
    elif ctype in ("clustered", "wild_bootstrap"):
        cl = []
        for dim in spec.cluster_dims:
            if est == "between":
                codes_rows, g_rows = _cluster_codes(dim, data, rows, entity, time, n_ent, n_time)
                grp = entity if eff == "entity" else time
                n_grp = n_ent if eff == "entity" else n_time
                pair_ok = _nested(grp, n_grp, codes_rows)
                if not pair_ok:
                    raise ValueError(f"clusters of a between model must be constant within each "
                                     f"{'town' if eff == 'entity' else 'year'}; {dim!r} is not")
                first = np.zeros(n_grp, np.int64)
                first[grp] = codes_rows
                codes, g = _compress(first, g_rows)[0], len(np.unique(first))
            else:
                codes, g = _cluster_codes(dim, data, rows, entity, time, n_ent, n_time)
            cl.append((codes, g))
            n_clusters[dim] = g
        clusters = tuple(cl)
        if est == "within":
            k_stata = k + (0 if has_icpt else 1)
            for dim, dof in absorbed_dims:
                dim_codes = entity if dim == "entity" else time
                dim_n = n_ent if dim == "entity" else n_time
                if not any(_nested(dim_codes, dim_n, c) for c, _ in cl):
                    k_stata += dof
            k_plm = k - (1 if has_icpt else 0)
        cov = cov_clustered(Xt, u, XtX_inv, list(cl), spec.cluster_small_sample if ctype == "clustered" else "stata",
                            k_stata, k_plm)
        if est != "random":
            dist, df_dist = "t", float(min(g for _, g in cl) - 1)
        if ctype == "wild_bootstrap" and not exact_fit:
            codes, g = cl[0]
            rng = np.random.default_rng(spec.random_state)
            V = bootstrap_weights(g, spec.bootstrap_reps, spec.bootstrap_weights, rng)
            terms = [nm for nm in all_names if nm != "Intercept"]
            table = wcr_table(WildClusterBootstrap(Xt, yt, codes, V), list(all_names), terms, 0.0, 0.95)
            bootstrap = table[["pvalue", "ci_lower", "ci_upper"]].reindex(pd.Index(all_names, name="term"))
            bootstrap.attrs = {"level": 0.95, **table.attrs}
            notes.append(f"wild cluster bootstrap (WCR, {spec.bootstrap_weights} weights, {g} clusters): "
                         + (f"all {V.shape[1]} weight vectors enumerated" if table.attrs["enumerated"]
                            else f"{V.shape[1]} replications")
                         + "; p-values and 95% intervals from the bootstrap, standard errors CRV1"
                         + (f"; smallest attainable p-value {table.attrs['min_pvalue']:.4g}"
                            if table.attrs["min_pvalue"] > 0 else ""))
            notes += unbounded_notes(table.attrs["unbounded"])
    else:  # driscoll_kraay
        if est == "between":
            raise ValueError("Driscoll-Kraay errors need the time dimension; the between estimator has none")
        lags = spec.dk_lags if spec.dk_lags is not None else bartlett_lags(n_time)
        cov = cov_driscoll_kraay(Xt, u, XtX_inv, time if est != "between" else fit_time, n_time, lags,
                                 spec.cluster_small_sample, k)
        notes.append(f"Driscoll-Kraay errors with {lags} Bartlett lag(s)")
        if est != "random":
            dist, df_dist = "t", float(n_time - 1)

    # ------------------------------------------------------------------ fit measures
    if has_icpt or est == "within":
        tss = float(((yt - yt.mean()) ** 2).sum())
    else:
        tss = float(yt @ yt)
    rsq = 1.0 - ssr / tss if tss > 0 else float("nan")
    b_slopes = beta[1:] if has_icpt else beta
    xb_levels = X_raw @ b_slopes  # fitted values in levels, whatever the estimator
    y_levels = y_raw
    r2_w = _corr2(within(y_levels, entity, n_ent, ent_counts), within(xb_levels, entity, n_ent, ent_counts))
    r2_b = _corr2(group_means(y_levels, entity, n_ent, ent_counts), group_means(xb_levels, entity, n_ent, ent_counts))
    r2_o = _corr2(y_levels, xb_levels)

    # ------------------------------------------------------------------ dropped rows
    drop_mask = ~keep
    if drop_mask.any():
        dropped = pd.DataFrame({"reason": pd.array(reasons[drop_mask], dtype="str")},
                               index=data.index[drop_mask])
        counts = dropped["reason"].value_counts()
        towns = dropped.index.get_level_values(0).unique()
        notes.insert(0, f"{int(drop_mask.sum())} of {n_all} rows not used ("
                     + "; ".join(f"{r}: {c}" for r, c in counts.items())
                     + f"), in {len(towns)} town(s): " + ", ".join(map(str, towns[:8]))
                     + (" ..." if len(towns) > 8 else "") + "; see result.dropped")
    else:
        dropped = pd.DataFrame({"reason": pd.array([], dtype="str")}, index=data.index[:0])

    fit_data = FitData(Xt=Xt, yt=yt, X=X_raw, y=y_raw, entity=fit_entity if est == "between" else entity,
                       time=fit_time if est == "between" else time, clusters=clusters,
                       names=tuple(all_names), has_intercept=has_icpt,
                       cov_classical=cov_classical, n_entities=n_ent, exact_fit=bool(exact_fit))
    no_inference = exact_fit | _zero_std_errors(Xt, yt, np.sqrt(np.clip(np.diag(cov), 0.0, None)), has_icpt, centre)
    return PanelModelResult.build(
        spec, all_names, beta, cov, nobs=int(n_fit), n_entities=int(n_ent), n_periods=int(n_time),
        df_resid=int(df_resid), df_model=int(k - (1 if has_icpt else 0)), rsquared=rsq, rsquared_within=r2_w,
        rsquared_between=r2_b, rsquared_overall=r2_o, ssr=ssr, dist=dist, df_dist=df_dist,
        variance_components=extra.get("variance_components", {}), dropped=dropped, notes=tuple(notes),
        n_clusters=n_clusters, bootstrap=bootstrap, y_name=design.y_name, fit_data=fit_data,
        no_inference=no_inference)
