"""Specification tests of panel models: Hausman, Breusch-Pagan LM, F for effects, Mundlak.

References
----------
Hausman (1978); Baltagi (2021), *Econometric Analysis of Panel Data*, 6th ed., sec. 4.3
(Hausman), 4.2 (Breusch-Pagan LM), 2.2.2 and 3.3 (F tests); Breusch and Pagan (1980);
Baltagi and Li (1990) (unbalanced LM); Mundlak (1978); Wooldridge (2010), *Econometric
Analysis of Cross Section and Panel Data*, 2nd ed., sec. 10.7.3 (regression-based, robust
Hausman test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from .covariance import cov_clustered
from .estimation import fit_panel_model
from .panel import compress_codes, panel_index
from .results import PanelModelResult, SpecificationTestWarning, WaldTest
from .spec import PanelModelSpec
from .transforms import within

__all__ = ["breusch_pagan", "f_test_effects", "hausman", "mundlak_test", "specification_tests"]


def _exact(*results: PanelModelResult) -> str:
    """The outcome of the first fit among ``results`` that fits exactly (zero residuals), or ``""``."""
    for r in results:
        if r.fit_data is not None and r.fit_data.exact_fit:
            return f"the {r.spec.estimator} fit of {r.y_name} has zero residuals (an exact fit)"
    return ""


def _not_computed(name: str, df: int, why: str, df_denom: float | None = None) -> WaldTest:
    """A test that the data cannot support: NaN statistic and p-value, and a warning saying why."""
    warnings.warn(f"{name}: not computed, {why}; statistic and p-value are NaN", SpecificationTestWarning,
                  stacklevel=3)
    return WaldTest(float("nan"), df, float("nan"), f"{name} (not computed: {why})", df_denom=df_denom)


def _common_terms(a: PanelModelResult, b: PanelModelResult) -> list[str]:
    return [t for t in a.params.index if t in b.params.index and t != "Intercept" and not t.startswith("mean(")]


def hausman(within_result: PanelModelResult, random_result: PanelModelResult, method: str = "classical") -> WaldTest:
    """Hausman test of random against fixed effects.

    Parameters
    ----------
    within_result, random_result : PanelModelResult
        Fits of the same formula on the same rows (``estimator="within"`` and ``"random"``).
    method : {"classical", "robust"}
        ``"classical"``: ``H = d' (V_W - V_R)^{-1} d`` on the common slopes, ``d = b_W - b_R``,
        with the conventional (non-robust) covariances of the two fits whatever their
        ``cov_type`` (Hausman 1978; plm's ``phtest``; Baltagi 2021 sec. 4.3). The whole
        difference is inverted, as plm (``solve``) and Stata's ``hausman`` (``invsym``) do,
        also when it is indefinite: its directions with negative eigenvalues are kept, and
        ``df`` = its rank = the number of common slopes. Only a difference that is
        numerically singular (an eigenvalue of ``S^-1 (V_W - V_R) S^-1``, ``S`` the larger of
        the two standard errors of each slope, within ``k 1e-10`` of 0) gets a generalized
        inverse (the pseudo-inverse in that scaling) with ``df`` = its rank, as Stata. A
        difference that is not positive definite raises a
        :class:`SpecificationTestWarning` (Stata: "V_b-V_B is not positive definite"); a
        negative statistic (possible only then) is returned with ``pvalue`` NaN, as Stata
        ("chi2<0 ==> model fitted on these data fails to meet the asymptotic assumptions
        of the Hausman test"; plm reports ``|H|`` with a p-value instead). In both cases
        ``method="robust"`` is the test to use. ``"robust"``: Wooldridge's (2010, sec. 10.7.3) auxiliary regression of the
        quasi-demeaned outcome on the quasi-demeaned regressors and the within-demeaned
        time-varying regressors, with a Wald test of the latter under errors clustered by
        town (small-sample convention of the random-effects fit's spec: ``"stata"`` CRV1
        with ``K`` counting every column, as Gretl; ``"none"`` as plm's
        ``phtest(method="aux", vcov=vcovHC)``).

    Returns
    -------
    WaldTest
        ``statistic``, ``df``, ``pvalue`` (chi-squared).
    """
    for res, want in ((within_result, "within"), (random_result, "random")):
        if not isinstance(res, PanelModelResult) or res.fit_data is None:
            raise TypeError(f"expected a PanelModelResult of a {want} fit; found {type(res).__name__}")
    if random_result.spec.estimator != "random":
        raise ValueError(f"the second result must be a random-effects fit; found estimator={random_result.spec.estimator!r}")
    if within_result.spec.estimator not in ("within", "first_difference", "between"):
        raise ValueError(f"the first result must be a consistent (within) fit; found {within_result.spec.estimator!r}")
    common = _common_terms(within_result, random_result)
    if not common:
        raise ValueError("the two fits have no slope in common")
    why = _exact(within_result, random_result)
    if why:
        return _not_computed(f"Hausman ({method})", len(common), why + ": its covariance is zero to rounding")
    if method == "classical":
        fw, fr = within_result.fit_data, random_result.fit_data
        iw = [fw.names.index(t) for t in common]
        ir = [fr.names.index(t) for t in common]
        d = within_result.params[common].to_numpy() - random_result.params[common].to_numpy()
        return _hausman_classical(d, fw.cov_classical[np.ix_(iw, iw)], fr.cov_classical[np.ix_(ir, ir)], common)
    if method != "robust":
        raise ValueError(f"method must be 'classical' or 'robust'; found {method!r}")
    fr = random_result.fit_data
    names_raw = list(fr.names[1:] if fr.has_intercept else fr.names)
    cols = [names_raw.index(t) for t in common]
    n_ent = fr.n_entities
    Xw = within(fr.X[:, cols], fr.entity, n_ent)
    Z = np.column_stack([fr.Xt, Xw])
    ZtZ_inv = np.linalg.inv(Z.T @ Z)
    b = ZtZ_inv @ (Z.T @ fr.yt)
    u = fr.yt - Z @ b
    kind = random_result.spec.cluster_small_sample
    V = cov_clustered(Z, u, ZtZ_inv, [(fr.entity, n_ent)], kind, Z.shape[1], Z.shape[1])
    j = np.arange(fr.Xt.shape[1], Z.shape[1])
    g = b[j]
    stat = float(g @ np.linalg.solve(V[np.ix_(j, j)], g))
    return WaldTest(stat, len(j), float(scipy.stats.chi2.sf(stat, len(j))), f"Hausman (robust, auxiliary regression, {kind})")


def _hausman_classical(d: np.ndarray, Vw: np.ndarray, Vr: np.ndarray, terms: list[str]) -> WaldTest:
    """``H = d' (V_W - V_R)^- d`` with ``df`` = rank (see :func:`hausman`), warnings included."""
    V = Vw - Vr
    V = (V + V.T) / 2.0
    s = np.sqrt(np.maximum(np.diag(Vw), np.diag(Vr)))
    s[~(s > 0)] = 1.0
    w, vec = np.linalg.eigh(V / np.outer(s, s))
    tol = len(w) * 1e-10
    keep = np.abs(w) > tol
    df = int(keep.sum())
    z = vec[:, keep].T @ (d / s)
    stat = float((z * z / w[keep]).sum()) if df else float("nan")
    n_neg = int((w < -tol).sum())
    name = "Hausman (classical)"
    if n_neg == 0 and df == len(w):
        return WaldTest(stat, df, float(scipy.stats.chi2.sf(stat, df)), name)
    what = []
    if n_neg:
        what.append(f"{n_neg} negative eigenvalue{'s' if n_neg > 1 else ''}")
    if df < len(w):
        what.append(f"rank {df} of {len(w)}, a generalized inverse is used")
    msg = (f"Hausman test: V_W - V_R of {', '.join(terms)} is not positive definite ({'; '.join(what)}); "
           f"the statistic inverts the whole difference with df = {df}, as plm's phtest and Stata's hausman")
    if df == 0:
        msg += "; the two covariances are equal, there is nothing to test: statistic and p-value are NaN"
        pvalue = float("nan")
    elif stat < 0:
        msg += (f"; the statistic is negative ({stat:.6g}): the fits fail the asymptotic assumptions of the "
                "test in this sample, so there is no p-value (NaN; Stata reports none, plm reports |H|)")
        pvalue = float("nan")
    else:
        pvalue = float(scipy.stats.chi2.sf(stat, df))
    warnings.warn(msg + ". Use method='robust' (Wooldridge 2010, 10.7.3), which needs no such difference.",
                  SpecificationTestWarning, stacklevel=3)
    return WaldTest(stat, df, pvalue, name)


def _pooled(data, formula):
    return fit_panel_model(data, PanelModelSpec(formula, estimator="pooled", cov_type="unadjusted"))


def _within_keep_singletons(data, formula, effects):
    return fit_panel_model(data, PanelModelSpec(formula, estimator="within", effects=effects, cov_type="unadjusted",
                                                singletons="keep"))


def breusch_pagan(data: pd.DataFrame, formula: str, effects: str = "entity") -> WaldTest:
    """Breusch-Pagan (1980) LM test of no random effects, on pooled OLS residuals ``e``.

    ``LM_i = N^2 / (2 (sum_i T_i^2 - N)) (sum_i (sum_t e_it)^2 / sum e^2 - 1)^2``, the
    unbalanced form of Baltagi and Li (1990) (``N / (2 (T-1)) (...)^2`` when balanced), and
    ``LM_t`` alike over years; ``effects="twoway"`` gives ``LM_i + LM_t`` with 2 degrees of
    freedom (plm's ``plmtest(type="bp")``; Stata's ``xttest0`` for ``"entity"``).
    """
    if effects not in ("entity", "time", "twoway"):
        raise ValueError(f"effects must be 'entity', 'time' or 'twoway'; found {effects!r}")
    return _breusch_pagan(_pooled(data, formula), effects)


def _breusch_pagan(pooled, effects: str) -> WaldTest:
    """:func:`breusch_pagan` from a fitted pooled OLS result."""
    fd = pooled.fit_data
    if fd.exact_fit:
        return _not_computed(f"Breusch-Pagan LM ({effects} effects)", 2 if effects == "twoway" else 1,
                             _exact(pooled) + ": there are no residuals to test")
    e = fd.yt - fd.Xt @ pooled.params.to_numpy()
    n = len(e)
    ee = float(e @ e)

    def lm(codes):
        codes, used = compress_codes(codes, int(codes.max()) + 1)
        t = np.bincount(codes, minlength=len(used)).astype(float)
        s = np.bincount(codes, weights=e, minlength=len(used))
        return n * n / (2.0 * ((t * t).sum() - n)) * ((s * s).sum() / ee - 1.0) ** 2

    parts = []
    if effects in ("entity", "twoway"):
        parts.append(lm(fd.entity))
    if effects in ("time", "twoway"):
        parts.append(lm(fd.time))
    stat = float(sum(parts))
    df = len(parts)
    return WaldTest(stat, df, float(scipy.stats.chi2.sf(stat, df)), f"Breusch-Pagan LM ({effects} effects)")


def f_test_effects(data: pd.DataFrame, formula: str, effects: str = "entity") -> WaldTest:
    """F test that the fixed effects are jointly zero (pooled OLS against the within fit).

    ``F = ((SSR_pooled - SSR_within) / df1) / (SSR_within / df2)`` with ``df1`` the
    absorbed levels less one and ``df2`` the within residual degrees of freedom (plm's
    ``pFtest``; the F test of ``xtreg, fe``). Singletons are kept so that both fits use the
    same rows.
    """
    return _f_test(_pooled(data, formula), _within_keep_singletons(data, formula, effects), effects)


def _f_test(pooled, fe, effects: str) -> WaldTest:
    """:func:`f_test_effects` from the fitted pooled and within results (same rows)."""
    df1 = pooled.df_resid - fe.df_resid
    df2 = fe.df_resid
    why = _exact(fe, pooled)
    if why:
        return _not_computed(f"F test of {effects} effects", int(df1), why + ": F would be 0/0 or x/0", df2)
    f = ((pooled.ssr - fe.ssr) / df1) / (fe.ssr / df2)
    return WaldTest(float(f), int(df1), float(scipy.stats.f.sf(f, df1, df2)), f"F test of {effects} effects", df_denom=df2)


def mundlak_test(data: pd.DataFrame, formula: str, cov_type: str = "clustered", cluster: str = "entity",
                 cluster_small_sample: str = "stata") -> WaldTest:
    """Mundlak (1978) test: Wald test that the town means of the time-varying regressors are 0.

    The random-effects model is augmented with the means (``PanelModelSpec(mundlak=True)``);
    under the null the random-effects estimator is consistent. With ``cov_type="unadjusted"``
    the statistic equals the regression-based Hausman test (Baltagi 2021 sec. 4.3, ``m3``;
    plm's ``phtest(method="aux")``); with clustered errors it is robust to
    heteroskedasticity and serial correlation (Wooldridge 2010, sec. 10.7.3).
    """
    res = fit_panel_model(data, PanelModelSpec(formula, estimator="random", mundlak=True, cov_type=cov_type,
                                               cluster=cluster, cluster_small_sample=cluster_small_sample))
    terms = [t for t in res.params.index if t.startswith("mean(")]
    name = f"Mundlak ({res.cov_label})"
    if res.tstats[terms].isna().any():
        zero = [t for t in terms if np.isnan(res.tstats[t])]
        return _not_computed(name, len(terms), (_exact(res) or "the standard errors of " + ", ".join(zero)
                                                + " are zero to rounding"))
    w = res.wald_test(terms)
    return WaldTest(w.statistic, w.df, w.pvalue, name)


def specification_tests(data: pd.DataFrame, formula: str, effects: str = "entity", cov_type: str = "clustered",
                        cluster: str = "entity", cluster_small_sample: str = "stata",
                        hausman_method: str = "classical") -> pd.DataFrame:
    """The standard battery of panel specification tests, one row each.

    Parameters
    ----------
    data : DataFrame
        Indexed by (town, year).
    formula : str
        Model formula (without effects).
    effects : {"entity", "twoway"}
        ``"twoway"`` tests the two-way fixed effects, uses the two-way LM statistic, and
        compares the two-way within fit with random town effects plus year dummies
        (``C(year)``) in the Hausman and Mundlak tests.
    cov_type, cluster, cluster_small_sample : str
        Covariance of the Mundlak test (and, through the random-effects fit, of the robust
        Hausman test).
    hausman_method : {"classical", "robust"}

    Returns
    -------
    DataFrame
        Indexed by ``f_effects``, ``breusch_pagan``, ``hausman``, ``mundlak`` with columns
        ``statistic``, ``df``, ``pvalue``, ``df_denom`` (F test) and ``test``.
    """
    if effects not in ("entity", "twoway"):
        raise ValueError(f"effects must be 'entity' or 'twoway'; found {effects!r}")
    re_formula = formula
    if effects == "twoway":
        time_name = panel_index(data).names[1]
        re_formula = f"{formula} + C({time_name})"
    fe = _within_keep_singletons(data, formula, effects)
    pooled = _pooled(data, formula)
    re = fit_panel_model(data, PanelModelSpec(re_formula, estimator="random", cov_type="clustered" if hausman_method
                                              == "robust" else "unadjusted", cluster_small_sample=cluster_small_sample))
    tests = {
        "f_effects": _f_test(pooled, fe, effects),
        "breusch_pagan": _breusch_pagan(pooled, effects),
        "hausman": hausman(fe, re, hausman_method),
        "mundlak": mundlak_test(data, re_formula, cov_type, cluster, cluster_small_sample),
    }
    return pd.DataFrame({"statistic": [t.statistic for t in tests.values()],
                         "df": [t.df for t in tests.values()],
                         "pvalue": [t.pvalue for t in tests.values()],
                         "df_denom": [t.df_denom if t.df_denom is not None else np.nan for t in tests.values()],
                         "test": [t.name for t in tests.values()]}, index=pd.Index(list(tests), name="test_name"))
