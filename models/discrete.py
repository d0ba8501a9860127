"""Discrete outcomes of towns on statsmodels: logit / probit of a status, multinomial logit of types.

``fit_discrete_model(data, "status ~ corp_share + dist_core_km", model="logit",
outcome_level="stagnating")`` models ``P(status == "stagnating")``;
``model="mnlogit"`` models the probabilities of every level of a categorical outcome (a
typology's labels) against a reference level. The formula language is that of
:mod:`models.formula` (``C()``, ``log()``, ``lag()``, interactions); rows with missing
values are dropped and reported.

Average marginal effects (AME) are ``mean_i dP_i/dx`` over the estimation sample
(statsmodels ``get_margeff(at="overall", method="dydx")``), with delta-method standard
errors from the model's covariance. For a logit, ``AME_j = mean_i b_j p_i (1 - p_i)``; for
a probit ``mean_i b_j phi(x_i'b)``; dummy regressors (including ``C()`` levels) are treated
as continuous, as Stata's ``margins, dydx(*)`` without ``i.`` notation. Clustered errors use
statsmodels' cluster sandwich with its default small-sample correction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .formula import Var, build_design
from .panel import panel_index

__all__ = ["DiscreteModelResult", "fit_discrete_model"]

_MODELS = ("logit", "probit", "mnlogit")


@dataclass(frozen=True, eq=False)
class DiscreteModelResult:
    """Result of :func:`fit_discrete_model` (read-only; pandas objects are handed out as copies).

    ``params``, ``std_errors``, ``pvalues``: Series by term (binary models) or DataFrames
    (terms x outcome levels, multinomial); ``marginal_effects``: DataFrame with ``dydx``,
    ``std_error``, ``z``, ``pvalue``, ``ci_lower``, ``ci_upper`` by term (multinomial: by
    (outcome level, term)); ``levels``: the outcome levels (reference first for mnlogit,
    ``[other, outcome_level]`` for a binary model of a categorical column).
    """

    model: str
    formula: str
    _params: pd.Series | pd.DataFrame
    _std_errors: pd.Series | pd.DataFrame
    _pvalues: pd.Series | pd.DataFrame
    _marginal_effects: pd.DataFrame
    nobs: int
    llf: float
    pseudo_rsquared: float
    levels: tuple
    cov_type: str
    _dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple = ()

    @property
    def params(self):
        return self._params.copy()

    @property
    def std_errors(self):
        return self._std_errors.copy()

    @property
    def pvalues(self):
        return self._pvalues.copy()

    @property
    def marginal_effects(self) -> pd.DataFrame:
        return self._marginal_effects.copy()

    @property
    def dropped(self) -> pd.DataFrame:
        return self._dropped.copy()

    def summary(self) -> str:
        lines = [f"{self.model} model: {self.formula}", f"  observations: {self.nobs}    log-likelihood: "
                 f"{self.llf:.4f}    pseudo R-squared: {self.pseudo_rsquared:.4f}    errors: {self.cov_type}",
                 f"  outcome levels: {', '.join(map(str, self.levels))}", "", "Coefficients:",
                 pd.concat({"estimate": self._params, "std_error": self._std_errors, "pvalue": self._pvalues}, axis=1)
                 .to_string(float_format=lambda v: f"{v:.6g}"), "", "Average marginal effects:",
                 self._marginal_effects.to_string(float_format=lambda v: f"{v:.6g}")]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


def fit_discrete_model(data: pd.DataFrame, formula: str, model: str = "logit", outcome_level=None,
                       reference=None, cov_type: str = "clustered", cluster: str = "entity") -> DiscreteModelResult:
    """Fit a logit, probit or multinomial logit of a town outcome.

    Parameters
    ----------
    data : DataFrame
        Indexed by (town, year).
    formula : str
        ``outcome ~ regressors``; the outcome is a 0/1 column, or a categorical / string
        column (with ``outcome_level`` for binary models).
    model : {"logit", "probit", "mnlogit"}
    outcome_level : optional
        Binary models of a categorical outcome: the level coded 1 (e.g. ``"stagnating"``).
    reference : optional
        Multinomial logit: the reference level (default: the first sorted level).
    cov_type : {"clustered", "robust", "unadjusted"}
        Clustered by ``cluster`` (``"entity"``, ``"time"`` or a column), White (HC0), or the
        inverse information matrix.
    """
    if model not in _MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, _MODELS))}; found {model!r}")
    if cov_type not in ("clustered", "robust", "unadjusted"):
        raise ValueError(f"cov_type must be 'clustered', 'robust' or 'unadjusted'; found {cov_type!r}")
    from .estimation import _cluster_values, _parse

    pidx = panel_index(data)
    form = _parse(formula)
    if not isinstance(form.lhs, Var):
        raise ValueError(f"the outcome of a discrete model must be a column; found {form.lhs.render()!r}")
    yname = form.lhs.name
    if yname not in data.columns:
        raise ValueError(f"outcome column {yname!r} is not in the data")
    ycol = data[yname]
    # evaluate the regressors with a stand-in outcome (the year, never missing)
    design = build_design(data, replace(form, lhs=Var(pidx.names[1])), pidx.entity, pidx.year, form.intercept)
    y_missing = ycol.isna().to_numpy()
    numeric = pd.api.types.is_numeric_dtype(ycol.dtype) and not isinstance(ycol.dtype, pd.CategoricalDtype)
    if model == "mnlogit":
        cat = pd.Categorical(ycol)
        levels = [str(c) for c in cat.categories]
        codes = np.asarray(cat.codes)
        if reference is not None:
            if str(reference) not in levels:
                raise ValueError(f"reference {reference!r} is not a level of {yname}: {levels}")
            order = [levels.index(str(reference))] + [i for i in range(len(levels)) if levels[i] != str(reference)]
            remap = np.empty(len(levels), int)
            remap[order] = np.arange(len(levels))
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            levels = [levels[i] for i in order]
        y = codes.astype(float)
        if len(levels) < 3:
            raise ValueError(f"mnlogit needs an outcome with 3 or more levels; {yname} has {levels}")
    elif numeric:
        y = ycol.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isnan(y) | np.isin(y, (0.0, 1.0))
        if not ok.all():
            raise ValueError(f"a binary outcome must be 0/1; {yname} has {int((~ok).sum())} other values")
        levels = ["0", "1"]
    else:
        if outcome_level is None:
            raise ValueError(f"{yname} is not numeric: give outcome_level (one of {sorted(map(str, ycol.dropna().unique()))})")
        vals = ycol.astype(str).to_numpy()
        if str(outcome_level) not in set(vals[~y_missing]):
            raise ValueError(f"outcome_level {outcome_level!r} does not occur in {yname}")
        y = np.where(y_missing, np.nan, (vals == str(outcome_level)).astype(float))
        levels = [f"not {outcome_level}", str(outcome_level)]
    reasons = design.reasons.copy()
    reasons[y_missing & (reasons == "")] = f"missing {yname}"
    keep = ~(design.missing | y_missing)
    clusters = None
    if cov_type == "clustered" and cluster not in ("entity", "time"):
        # rows without a cluster are dropped and reported, as in the linear models (never a cluster of their own)
        clusters = _cluster_values(data, cluster)
        miss = clusters.isna().to_numpy()
        reasons[miss & keep] = f"missing cluster {cluster}"
        keep &= ~miss
    X = design.X[keep]
    names = list(design.names)
    if form.intercept:
        X = np.column_stack([np.ones(len(X)), X])
        names = ["Intercept", *names]
    yk = y[keep]
    exog = pd.DataFrame(X, columns=names)
    kw = {}
    if cov_type == "clustered":
        if cluster == "entity":
            groups = pidx.entity[keep]
        elif cluster == "time":
            groups = pidx.time[keep]
        else:
            groups = pd.factorize(clusters.to_numpy()[keep])[0]
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    elif cov_type == "robust":
        kw = {"cov_type": "HC0"}
    cls = {"logit": sm.Logit, "probit": sm.Probit, "mnlogit": sm.MNLogit}[model]
    res = cls(yk, exog).fit(disp=0, maxiter=200, **kw)
    me = res.get_margeff(at="overall", method="dydx").summary_frame()
    me.columns = ["dydx", "std_error", "z", "pvalue", "ci_lower", "ci_upper"]
    if model == "mnlogit":
        params = pd.DataFrame(np.asarray(res.params), index=names, columns=levels[1:])
        se = pd.DataFrame(np.asarray(res.bse), index=names, columns=levels[1:])
        pv = pd.DataFrame(np.asarray(res.pvalues), index=names, columns=levels[1:])
        # statsmodels labels the margins "y=<code>"; map them to the outcome levels
        outer = [levels[int(str(o).split("=")[1])] if "=" in str(o) else str(o) for o in me.index.get_level_values(0)]
        me.index = pd.MultiIndex.from_arrays([outer, me.index.get_level_values(1)], names=["outcome", "term"])
    else:
        params = pd.Series(np.asarray(res.params), index=names, name="estimate")
        se = pd.Series(np.asarray(res.bse), index=names, name="std_error")
        pv = pd.Series(np.asarray(res.pvalues), index=names, name="pvalue")
        me.index.name = "term"
    drop = ~keep
    dropped = pd.DataFrame({"reason": pd.array(reasons[drop], dtype="str")}, index=data.index[drop])
    notes = (f"{int(drop.sum())} rows not used; see result.dropped",) if drop.any() else ()
    return DiscreteModelResult(model=model, formula=formula, _params=params, _std_errors=se, _pvalues=pv,
                               _marginal_effects=me, nobs=int(keep.sum()), llf=float(res.llf),
                               pseudo_rsquared=float(res.prsquared), levels=tuple(levels), cov_type=cov_type,
                               _dropped=dropped, notes=notes)
