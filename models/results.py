"""Read-only results of a fitted panel model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from .exceptions import BootstrapWarning, ModelWarning, SpecificationTestWarning
from .spec import PanelModelSpec

__all__ = ["BootstrapWarning", "FitData", "ModelWarning", "PanelModelResult", "SpecificationTestWarning", "WaldTest"]


@dataclass(frozen=True)
class WaldTest:
    """A Wald (or LM) test: ``statistic`` with ``df`` degrees of freedom and its ``pvalue``.

    ``df_denom`` is set for an F statistic (``statistic`` is then F); ``name`` says what
    was tested.
    """

    statistic: float
    df: int
    pvalue: float
    name: str = ""
    df_denom: float | None = None

    def __repr__(self) -> str:
        dist = f"F({self.df}, {self.df_denom:g})" if self.df_denom is not None else f"chi2({self.df})"
        return f"WaldTest({self.name}: {dist} = {self.statistic:.6g}, p = {self.pvalue:.4g})"


@dataclass(frozen=True, eq=False)
class FitData:
    """Arrays of a fit, kept for tests and the bootstrap that need to re-use them.

    ``Xt``/``yt``: the estimated (transformed) regression; ``X``/``y``: the rows used,
    untransformed, without intercept column; ``entity``/``time``: codes of the rows (for
    first differences: of the later year of each difference); ``clusters``: the cluster
    codes used; ``theta``: the random-effects transformation per town; ``exact_fit``: the
    residuals are zero to rounding.
    """

    Xt: np.ndarray
    yt: np.ndarray
    X: np.ndarray
    y: np.ndarray
    entity: np.ndarray
    time: np.ndarray
    clusters: tuple = ()
    names: tuple = ()
    has_intercept: bool = False
    cov_classical: np.ndarray | None = None
    n_entities: int = 0
    exact_fit: bool = False


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class PanelModelResult:
    """Result of :func:`models.fit_panel_model` (read-only).

    Attributes
    ----------
    params, std_errors, tstats, pvalues : Series
        Estimates by term; ``Intercept`` first when present.
    cov : DataFrame
        Covariance of the estimates.
    nobs, n_entities, n_periods, df_resid : int
        Observations used (differences for first differences, towns for between), towns,
        years, residual degrees of freedom of the regression.
    rsquared : float
        R-squared of the estimated regression (within R-squared for fixed effects, as plm).
    rsquared_within, rsquared_between, rsquared_overall : float
        Stata's definitions: squared correlations of the fitted index ``x b`` with the
        outcome after removing town means, between town means, and overall.
    dist, df_dist : str, float
        Reference distribution of the t statistics: ``"t"`` with ``df_dist`` degrees of
        freedom (``G - 1`` for clustered errors, ``T - 1`` for Driscoll-Kraay, ``df_resid``
        otherwise, as Stata) or ``"normal"`` (random effects, as ``xtreg, re``).
    variance_components : dict
        Random effects: ``sigma2_e``, ``sigma2_u``, ``theta`` (mean), ``rho``.
    dropped : DataFrame
        Rows left out, indexed by (town, year), with the ``reason``.
    notes : tuple of str
        What the fit had to say (rows dropped, singletons, bootstrap details).
    n_clusters : dict
        Number of clusters by dimension.
    bootstrap : DataFrame or None
        Wild bootstrap p-values and intervals by term (``cov_type="wild_bootstrap"``).
    absorbed : tuple of str
        The effects the model absorbed, by name (``("town_id", "year", "region^year")``;
        ``effects="twoway"``: the two index levels).
    first_stage : DataFrame or None
        Instrumental variables: the first-stage coefficients, indexed by (``endog``, ``term``),
        with ``estimate``, ``std_error``, ``tstat``, ``pvalue``; ``first_stage_tests`` one row
        per endogenous regressor (``F`` of the excluded instruments, its degrees of freedom
        and p-value, partial R-squared); ``iv_diagnostics`` the weak-identification,
        over-identification and endogeneity tests (:class:`models.iv.IVDiagnostics`), as a
        table in ``iv_tests``.
    pseudo_rsquared, deviance, loglik : float
        PPML: McFadden's pseudo R-squared ``1 - ll / ll_0`` (fixest's ``pr2``, ppmlhdfe's
        ``r2_p``), the Poisson deviance and log-likelihood (NaN for linear models).
    """

    spec: PanelModelSpec
    _params: pd.Series
    _std_errors: pd.Series
    _tstats: pd.Series
    _pvalues: pd.Series
    _cov: pd.DataFrame
    nobs: int
    n_entities: int
    n_periods: int
    df_resid: int
    df_model: int
    rsquared: float
    rsquared_within: float
    rsquared_between: float
    rsquared_overall: float
    ssr: float
    dist: str
    df_dist: float
    variance_components: dict = field(default_factory=dict)
    _dropped: pd.DataFrame | None = None
    notes: tuple = ()
    n_clusters: dict = field(default_factory=dict)
    _bootstrap: pd.DataFrame | None = None
    y_name: str = ""
    fit_data: FitData | None = field(default=None, repr=False)
    absorbed: tuple = ()
    _first_stage: tuple = ()
    iv_diagnostics: object = None
    pseudo_rsquared: float = float("nan")
    deviance: float = float("nan")
    loglik: float = float("nan")

    # pandas objects are handed out as copies (lazy under copy-on-write): the result never changes
    @property
    def params(self) -> pd.Series:
        return self._params.copy()

    @property
    def std_errors(self) -> pd.Series:
        return self._std_errors.copy()

    @property
    def tstats(self) -> pd.Series:
        return self._tstats.copy()

    @property
    def pvalues(self) -> pd.Series:
        return self._pvalues.copy()

    @property
    def cov(self) -> pd.DataFrame:
        return self._cov.copy()

    @property
    def dropped(self) -> pd.DataFrame | None:
        return None if self._dropped is None else self._dropped.copy()

    @property
    def bootstrap(self) -> pd.DataFrame | None:
        return None if self._bootstrap is None else self._bootstrap.copy()

    @property
    def first_stage(self) -> pd.DataFrame | None:
        if not self._first_stage:
            return None
        parts = []
        for fs in self._first_stage:
            se = np.asarray(fs.std_errors, float)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(se > 0, fs.params / se, np.nan)
            p = 2.0 * (scipy.stats.norm.sf(np.abs(t)) if self.dist == "normal" else scipy.stats.t.sf(np.abs(t), self.df_dist))
            idx = pd.MultiIndex.from_product([[fs.endog], list(fs.names)], names=["endog", "term"])
            parts.append(pd.DataFrame({"estimate": fs.params, "std_error": se, "tstat": t, "pvalue": p}, idx))
        return pd.concat(parts)

    @property
    def first_stage_tests(self) -> pd.DataFrame | None:
        if not self._first_stage:
            return None
        rows = {fs.endog: {"F": fs.f_test.statistic, "df": fs.f_test.df, "df_denom": fs.f_test.df_denom,
                           "pvalue": fs.f_test.pvalue, "partial_rsquared": fs.partial_r2} for fs in self._first_stage}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("endog")

    @property
    def iv_tests(self) -> pd.DataFrame | None:
        """Instrumental variables: one row per diagnostic (``test``): the first-stage F of each
        endogenous regressor, the Cragg-Donald and Kleibergen-Paap rk Wald F (weak
        identification: no p-value, compare with Stock and Yogo's critical values), Sargan's or
        Hansen's over-identification test and the endogeneity tests, with ``statistic``,
        ``df``, ``df_denom`` and ``pvalue``; ``None`` for other models."""
        d = self.iv_diagnostics
        if d is None:
            return None
        nan = float("nan")
        rows = [(f"first-stage F ({fs.endog})", fs.f_test.statistic, fs.f_test.df, fs.f_test.df_denom,
                 fs.f_test.pvalue) for fs in self._first_stage]
        rows.append(("Cragg-Donald Wald F", d.cragg_donald_f, d.weak_id_df[0], d.weak_id_df[1], nan))
        if d.kleibergen_paap_f is not None:
            rows.append(("Kleibergen-Paap rk Wald F", d.kleibergen_paap_f, d.weak_id_df[0], d.weak_id_df[1], nan))
        rows += [(t.name, t.statistic, t.df, t.df_denom, t.pvalue)
                 for t in (d.overid, d.endogeneity, d.endogeneity_c) if t is not None]
        out = pd.DataFrame(rows, columns=["test", "statistic", "df", "df_denom", "pvalue"]).set_index("test")
        out["df_denom"] = out["df_denom"].astype(float)
        return out

    @classmethod
    def build(cls, spec, names, params, cov, no_inference=None, **kw) -> PanelModelResult:
        """Assemble a result; ``no_inference`` flags terms whose standard error is zero to rounding.

        A term with a zero, negative (clipped) or non-finite variance, or flagged in
        ``no_inference``, gets ``tstat``, ``pvalue`` and interval NaN and a standard error of
        0: a t statistic of an estimate over a rounding-noise standard error is no evidence,
        and NaN is what tables print without a star. A note names the terms.
        """
        params = _ro(params)
        cov = np.array(cov, dtype=float)
        var = np.diag(cov)
        se = np.sqrt(np.clip(var, 0.0, None))
        flag = ~(var > 0) | ~np.isfinite(var) | ~np.isfinite(params)
        if no_inference is not None:
            flag |= np.asarray(no_inference, bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = params / se
        dist, df_dist = kw["dist"], kw["df_dist"]
        p = 2.0 * (scipy.stats.norm.sf(np.abs(t)) if dist == "normal" else scipy.stats.t.sf(np.abs(t), df_dist))
        boot = kw.get("bootstrap")
        if boot is not None:
            p = np.where(np.isnan(boot["pvalue"].to_numpy()), p, boot["pvalue"].to_numpy())
        t = np.where(flag, np.nan, t)
        p = np.where(flag, np.nan, p)
        se = np.where(flag & np.isfinite(se), 0.0, se)  # zero to rounding: shown as 0
        if flag.any():
            listed = ", ".join(str(nm) for nm, f in zip(names, flag, strict=True) if f)
            kw["notes"] = (*kw.get("notes", ()), f"no t statistic, p-value or interval for {listed}: standard "
                           "error zero to rounding (NaN, not significance)")
        cov.setflags(write=False)
        idx = pd.Index(names, name="term")
        kw["_dropped"] = kw.pop("dropped", None)
        kw["_bootstrap"] = kw.pop("bootstrap", None)
        kw["_first_stage"] = tuple(kw.pop("first_stage", ()))
        return cls(spec=spec, _params=pd.Series(params, idx, name="estimate"),
                   _std_errors=pd.Series(_ro(se), idx, name="std_error"), _tstats=pd.Series(_ro(t), idx, name="tstat"),
                   _pvalues=pd.Series(_ro(p), idx, name="pvalue"), _cov=pd.DataFrame(cov, idx, idx), **kw)

    # ------------------------------------------------------------------ inference
    def _crit(self, level: float) -> float:
        q = 0.5 + level / 2.0
        return float(scipy.stats.norm.ppf(q) if self.dist == "normal" else scipy.stats.t.ppf(q, self.df_dist))

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals (``lower``, ``upper``) by term.

        ``estimate -/+ c se`` with ``c`` the quantile of :attr:`dist`; with the wild
        bootstrap, the intervals that invert the bootstrap test (95 % level only unless
        recomputed with :func:`models.wild_cluster_bootstrap`).
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1); found {level!r}")
        c = self._crit(level)
        lo = self.params - c * self.std_errors
        hi = self.params + c * self.std_errors
        out = pd.DataFrame({"lower": lo, "upper": hi})
        if self._bootstrap is not None and abs(level - float(self._bootstrap.attrs.get("level", 0.95))) < 1e-12:
            b = self._bootstrap
            ok = b["ci_lower"].notna()
            out.loc[ok[ok].index, "lower"] = b.loc[ok, "ci_lower"]
            out.loc[ok[ok].index, "upper"] = b.loc[ok, "ci_upper"]
        # no interval where there is no inference (a zero standard error is no precision)
        out.loc[self._tstats.isna().to_numpy(), ["lower", "upper"]] = np.nan
        return out

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term: ``estimate``, ``std_error``, ``tstat``, ``pvalue``, ``ci_lower``, ``ci_upper``."""
        ci = self.conf_int(level)
        return pd.DataFrame({"estimate": self.params, "std_error": self.std_errors, "tstat": self.tstats,
                             "pvalue": self.pvalues, "ci_lower": ci["lower"], "ci_upper": ci["upper"]})

    def wald_test(self, terms=None, values=None, f_test: bool = False) -> WaldTest:
        """Joint Wald test that ``terms`` (default: all but the intercept) equal ``values`` (default 0).

        ``W = (b - r)' V^{-1} (b - r)`` with the result's covariance; ``f_test=True`` reports
        ``F = W / q`` against ``F(q, df_dist)``.
        """
        if terms is None:
            terms = [t for t in self.params.index if t != "Intercept"]
        terms = [terms] if isinstance(terms, str) else list(terms)
        missing = [t for t in terms if t not in self.params.index]
        if missing:
            raise KeyError(f"terms {missing} are not in the model; terms are {list(self.params.index)}")
        r = np.zeros(len(terms)) if values is None else np.asarray(values, float)
        q = len(terms)
        name = "joint test of " + ", ".join(terms)
        if self._tstats[terms].isna().any():  # a zero standard error: no test (see build)
            return WaldTest(float("nan"), q, float("nan"), name + " (not computed: zero standard errors)",
                            df_denom=(self.df_dist if self.dist == "t" else np.inf) if f_test else None)
        d = self.params[terms].to_numpy() - r
        V = self.cov.loc[terms, terms].to_numpy()
        w = float(d @ np.linalg.solve(V, d))
        if f_test:
            df2 = self.df_dist if self.dist == "t" else np.inf
            return WaldTest(w / q, q, float(scipy.stats.f.sf(w / q, q, df2)), name, df_denom=df2)
        return WaldTest(w, q, float(scipy.stats.chi2.sf(w, q)), name)

    # ------------------------------------------------------------------ reporting
    @property
    def cov_label(self) -> str:
        s = self.spec
        if s.cov_type == "clustered":
            return f"clustered by {s.cluster} ({s.cluster_small_sample})"
        if s.cov_type == "wild_bootstrap":
            return f"wild cluster bootstrap by {s.cluster} ({s.bootstrap_weights})"
        if s.cov_type == "driscoll_kraay":
            return "Driscoll-Kraay"
        return s.cov_type

    def summary(self) -> str:
        """A text summary: model, sample, fit, coefficient table and notes."""
        s = self.spec
        lines = [f"Panel model: {s.label}",
                 f"  estimator: {s.estimator}    effects: {s.effects}    outcome: {self.y_name}",
                 f"  observations: {self.nobs}    towns: {self.n_entities}    years: {self.n_periods}"
                 f"    df_resid: {self.df_resid}",
                 f"  R-squared: {self.rsquared:.4f}    within: {self.rsquared_within:.4f}    between: "
                 f"{self.rsquared_between:.4f}    overall: {self.rsquared_overall:.4f}",
                 f"  standard errors: {self.cov_label}"
                 + (f"    clusters: {', '.join(f'{k}={v}' for k, v in self.n_clusters.items())}" if self.n_clusters else ""),
                 f"  inference: {'normal' if self.dist == 'normal' else f't({self.df_dist:g})'}"]
        lines[1:2] = [self._model_line()]
        lines[3:4] = self._fit_lines()
        if self.variance_components:
            vc = self.variance_components
            lines.append(f"  sigma2_e: {vc['sigma2_e']:.6g}    sigma2_u: {vc['sigma2_u']:.6g}    theta: "
                         f"{vc['theta']:.4f}    rho: {vc['rho']:.4f}")
        tab = self.to_frame()
        width = max([len(t) for t in tab.index] + [8])
        head = f"  {'term':<{width}} {'estimate':>12} {'std_error':>12} {'tstat':>9} {'pvalue':>8} {'ci_lower':>12} {'ci_upper':>12}"
        lines += ["", head, "  " + "-" * (len(head) - 2)]
        for term, row in tab.iterrows():
            lines.append(f"  {term:<{width}} {row.estimate:12.6g} {row.std_error:12.6g} {row.tstat:9.3f} "
                         f"{row.pvalue:8.4f} {row.ci_lower:12.6g} {row.ci_upper:12.6g}")
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def _model_line(self) -> str:
        s = self.spec
        effects = " + ".join(self.absorbed) if s.absorb else s.effects
        iv = f"    endogenous: {', '.join(s.endog)}    instruments: {', '.join(s.instruments)}" if s.endog else ""
        return f"  estimator: {s.estimator}    effects: {effects}    outcome: {self.y_name}{iv}"

    def _fit_lines(self) -> list[str]:
        if np.isfinite(self.pseudo_rsquared) or self.spec.estimator == "ppml":
            return [f"  pseudo R-squared (McFadden): {self.pseudo_rsquared:.4f}    deviance: {self.deviance:.6g}"
                    f"    log-likelihood: {self.loglik:.6g}"]
        lines = [f"  R-squared: {self.rsquared:.4f}    within: {self.rsquared_within:.4f}    between: "
                 f"{self.rsquared_between:.4f}    overall: {self.rsquared_overall:.4f}"]
        tests = self.first_stage_tests
        if tests is not None:
            for endog, row in tests.iterrows():
                lines.append(f"  first stage {endog}: F({row['df']:g}, {row['df_denom']:g}) = {row['F']:.4g}"
                             f" (p = {row['pvalue']:.4g}), partial R-squared {row['partial_rsquared']:.4f}")
            d = self.iv_diagnostics
            weak = f"  Cragg-Donald Wald F: {d.cragg_donald_f:.4g}"
            if d.kleibergen_paap_f is not None:
                weak += f"    Kleibergen-Paap rk Wald F: {d.kleibergen_paap_f:.4g}"
            lines.append(weak)
            for test in (d.overid, d.endogeneity, d.endogeneity_c):
                if test is not None:
                    lines.append(f"  {test.name}: {test.statistic:.4g} (df {test.df}"
                                 + (f", {test.df_denom:g}" if test.df_denom is not None else "")
                                 + f"), p = {test.pvalue:.4g}")
        return lines

    def __repr__(self) -> str:
        return (f"PanelModelResult({self.spec.label!r}, estimator={self.spec.estimator!r}, "
                f"effects={self.spec.effects!r}, nobs={self.nobs})")
