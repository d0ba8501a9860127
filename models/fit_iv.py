"""Instrumental variables in :func:`models.fit_panel_model`: the ``iv`` estimator (and ``within``
with instruments) hands the prepared sample to :func:`models.iv.two_sls`.

The rows are those of every linear model (missing values in the outcome, the regressors, the
endogenous regressors, the instruments, an absorbed effect or a cluster dropped; singletons of
the effects dropped repeatedly). The effects are ``absorb`` (any list) or the legacy
``effects`` (``"entity"``, ``"time"``, ``"twoway"``: the two index levels), partialled out of
every column (Frisch-Waugh-Lovell) by :func:`models.absorb.demean`. With effects no intercept
is reported (as pyfixest, fixest and plm's IV within); without, the model has one unless the
formula removes it. Degrees of freedom of the effects: :func:`models.absorb.absorbed_dof`
(``fe_dof``), those nested in a cluster dimension left out of the CRV1 ``K`` (fixest's and
reghdfe's rule). Conventions of the estimates, covariances and diagnostics: :mod:`models.iv`.
"""

from __future__ import annotations

import numpy as np

from .absorb import Factor, absorbed_dof
from .clusters import nested
from .estimators import PreparedFit, register_fit
from .iv import two_sls
from .results import PanelModelResult
from .sample import drop_singletons, dropped_rows

__all__ = ["fit_iv", "sample_factors"]

IV_COV_TYPES = ("clustered", "unadjusted", "robust")


def sample_factors(prepared: PreparedFit) -> tuple[Factor, ...]:
    """The absorbed effects of the rows kept: ``absorb``, or the legacy ``effects`` as factors
    of the index levels (named after them)."""
    s, effects = prepared.sample, prepared.spec.effects
    if s.absorb is not None:
        return tuple(s.absorb.factors)
    town, year = prepared.index_names
    out = []
    if effects in ("entity", "twoway"):
        out.append(Factor(town, s.entity, s.n_entities))
    if effects in ("time", "twoway"):
        out.append(Factor(year, s.time, s.n_periods))
    return tuple(out)


def effect_dof(factors: tuple[Factor, ...], rule: str, clusters: tuple) -> tuple[int, int]:
    """Absorbed degrees of freedom with the constant (``1 + sum of absorbed_dof``; 0 without
    effects), and the same without the effects nested in a cluster dimension."""
    if not factors:
        return 0, 0
    dof = absorbed_dof(factors, rule)
    crv = sum(d for f, d in zip(factors, dof, strict=True)
              if not any(nested(f.codes, f.n_levels, c) for c, _ in clusters))
    return 1 + int(sum(dof)), 1 + int(crv)


def _within_rsquared(y: np.ndarray, resid: np.ndarray, factors, spec) -> float:
    """``1 - u'u / y~'y~`` with ``y~`` the outcome less its effects (its mean without effects);
    negative values are possible for 2SLS and are reported as they are."""
    from .absorb import demean

    yt = demean(y, factors, tol=spec.fe_tol, maxiter=spec.fe_maxiter) if factors else y - y.mean()
    tss = float(yt @ yt)
    return 1.0 - float(resid @ resid) / tss if tss > 0 else float("nan")


@register_fit("iv", (None, "entity", "time", "twoway"), absorb=True, instruments=True, cov_types=IV_COV_TYPES,
              rows=drop_singletons)
def fit_iv(prepared: PreparedFit) -> PanelModelResult:
    """Two-stage least squares on the prepared sample (:func:`models.iv.two_sls`)."""
    spec, design, s = prepared.spec, prepared.design, prepared.sample
    keep = prepared.rows.keep
    factors = sample_factors(prepared)
    X = s.X
    exog_names = list(s.names)
    if s.has_intercept and not factors:
        X, exog_names = np.column_stack([np.ones(len(s.y)), X]), ["Intercept", *exog_names]
    d, d_crv = effect_dof(factors, spec.fe_dof, prepared.clusters)
    res = two_sls(s.y, X, design.endog[keep], design.instruments[keep], exog_names=exog_names,
                  endog_names=design.endog_names, instrument_names=design.instrument_names, factors=factors,
                  cov_type=spec.cov_type, clusters=prepared.clusters if spec.cov_type == "clustered" else (),
                  small_sample=spec.cluster_small_sample, df_absorbed=d, df_absorbed_crv=d_crv,
                  outcome=design.y_name, tol=spec.fe_tol, maxiter=spec.fe_maxiter)
    dropped, note = dropped_rows(prepared.data, prepared.rows)
    notes = ([note] if note else []) + list(res.diagnostics.notes)
    nan = float("nan")
    return PanelModelResult.build(
        spec, list(res.names), res.params, res.cov, nobs=int(res.nobs), n_entities=int(s.n_entities),
        n_periods=int(s.n_periods), df_resid=int(res.df_resid), df_model=int(len(res.names) - ("Intercept" in res.names)),
        ssr=float(res.resid @ res.resid), dist="t", df_dist=float(res.df_dist), dropped=dropped, notes=tuple(notes),
        n_clusters=dict(zip(spec.cluster_dims, res.n_clusters, strict=False)), y_name=design.y_name,
        rsquared=_within_rsquared(s.y, res.resid, factors, spec), rsquared_within=nan, rsquared_between=nan,
        rsquared_overall=nan, absorbed=tuple(f.name for f in factors), first_stage=res.first_stage,
        iv_diagnostics=res.diagnostics)
