"""Poisson pseudo-maximum likelihood in :func:`models.fit_panel_model`: the ``ppml`` estimator
hands the prepared sample to :func:`models.ppml.ppml`.

The rows are those of every model (missing values, missing effects or clusters and singletons
dropped, with their reasons); :func:`models.ppml.ppml` then drops the levels of an effect whose
outcomes are all zero and the observations separated by the regressors (Correia, Guimarães and
Zylkin 2021), repeating the singleton rule, and the reasons are added to ``result.dropped``.
Effects: ``absorb`` or the legacy ``effects``; no intercept is reported with effects. Inference
is on the normal distribution (as fixest, pyfixest and ppmlhdfe), with their small-sample
factors (``cluster_small_sample="stata"``) or none (``"none"``). Conventions:
:mod:`models.ppml`.
"""

from __future__ import annotations

import numpy as np

from .absorb import Factor
from .estimators import PreparedFit, register_fit
from .fit_iv import sample_factors
from .ppml import ppml
from .results import PanelModelResult
from .sample import Rows, drop_singletons, dropped_rows

__all__ = ["fit_ppml"]

PPML_COV_TYPES = ("clustered", "unadjusted", "robust")


def _rows_after(rows: Rows, used: np.ndarray, reasons: np.ndarray) -> Rows:
    """The spec's rows less those :func:`models.ppml.ppml` left out (``used`` over the rows kept)."""
    idx = np.flatnonzero(rows.keep)
    keep, why = rows.keep.copy(), rows.reasons.copy()
    keep[idx[~used]] = False
    why[idx[~used]] = reasons[~used]
    return Rows(keep, why, rows.previous)


@register_fit("ppml", (None, "entity", "time", "twoway"), absorb=True, cov_types=PPML_COV_TYPES, dist="normal",
              rows=drop_singletons)
def fit_ppml(prepared: PreparedFit) -> PanelModelResult:
    """Poisson pseudo-maximum likelihood on the prepared sample (:func:`models.ppml.ppml`)."""
    spec, s = prepared.spec, prepared.sample
    if spec.cov_type == "clustered" and spec.cluster_small_sample == "plm":
        raise ValueError("cluster_small_sample='plm' is plm's convention for linear models; a ppml model takes "
                         "'stata' (fixest's and pyfixest's factors) or 'none'")
    factors = sample_factors(prepared)
    # the sample's regressors become the IRLS's block (demeaned in place: no copy of the regressors);
    # they are the design's own rows or a copy of them, and nothing reads them after the fit
    X, names = s.X, list(s.names)
    if s.has_intercept and not factors:
        X, names = np.column_stack([np.ones(len(s.y)), X]), ["Intercept", *names]
    clusters = tuple(Factor(dim, codes, g) for dim, (codes, g) in zip(spec.cluster_dims, prepared.clusters,
                                                                      strict=False))
    small = "none" if spec.cluster_small_sample == "none" else "stata"
    res = ppml(s.y, X, factors, clusters=clusters if spec.cov_type == "clustered" else (), names=names,
               cov_type=spec.cov_type, small_sample=small, drop_singletons=spec.singletons == "drop",
               fixef_tol=spec.fe_tol, fixef_maxiter=spec.fe_maxiter, overwrite_X=True)
    rows = _rows_after(prepared.rows, np.asarray(res.keep), np.asarray(res.reasons))
    dropped, note = dropped_rows(prepared.data, rows)
    notes = [note] if note else []
    if res.omitted:
        notes.append(f"{', '.join(res.omitted)} omitted: without variation once the separated observations are "
                     f"dropped (separated by {', '.join(res.separated_by) or 'the effects'}); their coefficients "
                     "are infinite (ppmlhdfe's rule)")
    used = np.asarray(res.keep)
    nan = float("nan")
    return PanelModelResult.build(
        spec, list(res.names), res.params, res.cov, nobs=int(res.nobs),
        n_entities=int(len(np.unique(s.entity[used]))), n_periods=int(len(np.unique(s.time[used]))),
        df_resid=int(res.nobs - res.df_k), df_model=int(len(res.names) - ("Intercept" in res.names)),
        ssr=nan, dist="normal", df_dist=np.inf, dropped=dropped, notes=tuple(notes),
        n_clusters=dict(zip(spec.cluster_dims, res.n_clusters, strict=False)), y_name=prepared.design.y_name,
        rsquared=nan, rsquared_within=nan, rsquared_between=nan, rsquared_overall=nan,
        absorbed=tuple(f.name for f in factors), pseudo_rsquared=float(res.pseudo_r2), deviance=float(res.deviance),
        loglik=float(res.loglik))
