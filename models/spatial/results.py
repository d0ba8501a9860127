"""The read-only result of :func:`models.fit_spatial_panel`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from .impacts import impacts_frame
from .logdet import SpatialOperator

__all__ = ["SpatialPanelResult"]


def _ro(a) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SpatialPanelResult:
    """Result of :func:`models.fit_spatial_panel` (read-only).

    Attributes
    ----------
    params, std_errors, tstats, pvalues : Series
        Estimates by term (the regressors, ``W(x)`` terms of a Durbin model, then ``rho`` for
        the lag and Durbin models or ``lambda`` for the error model); standard errors from the
        inverse of the information matrix (:mod:`models.spatial.likelihood`); z statistics and
        p-values on the normal distribution.
    cov : DataFrame
        Covariance of the estimates (``sigma2`` left out; its variance is ``sigma2_se**2``).
    sigma2, sigma2_se : float
        Variance of the innovations and its standard error.
    loglik : float
        Maximized log-likelihood with every constant (of the transformed model when
        ``bias_correction``; see :func:`models.fit_spatial_panel`).
    nobs, n_entities, n_periods : int
        Town-years, towns, years.
    model, effects, method : str
        ``"lag"``, ``"error"`` or ``"durbin"``; ``"twoway"``, ``"entity"`` or ``"none"``; the
        log-determinant method (``"eigen"`` or ``"lu"``).
    bias_correction : bool
        Lee and Yu's (2010) transformation approach (True) or the direct approach (False).
    resid : ndarray
        Innovations ``e`` of the transformed model, by year then town.
    notes : tuple of str
    """

    model: str
    effects: str
    method: str
    bias_correction: bool
    y_name: str
    _params: pd.Series
    _std_errors: pd.Series
    _cov: pd.DataFrame
    sigma2: float
    sigma2_se: float
    loglik: float
    nobs: int
    n_entities: int
    n_periods: int
    resid: np.ndarray = field(repr=False)
    notes: tuple = ()
    _operator: SpatialOperator | None = field(default=None, repr=False)
    _point_factors: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def build(cls, names: list[str], params, cov, **kw) -> SpatialPanelResult:
        idx = pd.Index(names, name="term")
        cov = _ro(cov)
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        return cls(_params=pd.Series(_ro(params), idx, name="estimate"),
                   _std_errors=pd.Series(_ro(se), idx, name="std_error"), _cov=pd.DataFrame(cov, idx, idx),
                   resid=_ro(kw.pop("resid")), **kw)

    @property
    def params(self) -> pd.Series:
        return self._params.copy()

    @property
    def std_errors(self) -> pd.Series:
        return self._std_errors.copy()

    @property
    def cov(self) -> pd.DataFrame:
        return self._cov.copy()

    @property
    def tstats(self) -> pd.Series:
        se = self._std_errors.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, self._params.to_numpy() / se, np.nan)
        return pd.Series(t, self._params.index, name="tstat")

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2.0 * scipy.stats.norm.sf(np.abs(self.tstats.to_numpy())), self._params.index, name="pvalue")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals ``estimate -/+ z se`` (``lower``, ``upper``), NaN without a standard error."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1); found {level!r}")
        z = float(scipy.stats.norm.ppf(0.5 + level / 2.0))
        se = self._std_errors.where(self._std_errors > 0)
        return pd.DataFrame({"lower": self._params - z * se, "upper": self._params + z * se})

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term: ``estimate``, ``std_error``, ``tstat``, ``pvalue``, ``ci_lower``, ``ci_upper``."""
        ci = self.conf_int(level)
        return pd.DataFrame({"estimate": self.params, "std_error": self.std_errors, "tstat": self.tstats,
                             "pvalue": self.pvalues, "ci_lower": ci["lower"], "ci_upper": ci["upper"]})

    @property
    def spatial_name(self) -> str:
        return "lambda" if self.model == "error" else "rho"

    def impacts(self, n_draws: int = 1000, random_state: int | None = 0) -> pd.DataFrame:
        """Direct, indirect and total effects by regressor (LeSage and Pace 2009) with simulated
        standard errors: columns ``direct``, ``direct_se``, ``indirect``, ``indirect_se``,
        ``total``, ``total_se``; exact point values; ``n_draws`` draws from the asymptotic normal
        of the estimates seeded by ``random_state`` (the same seed, the same numbers). See
        :mod:`models.spatial.impacts` for the formulas and the approximations for large ``n``."""
        if not isinstance(n_draws, int) or n_draws < 2:
            raise ValueError(f"n_draws must be an integer >= 2; found {n_draws!r}")
        names = list(self._params.index)
        k = names.index(self.spatial_name)
        return impacts_frame(self._params.to_numpy(), self._cov.to_numpy(), names,
                             None if self.model == "error" else k, self._operator, self._point_factors,
                             n_draws, random_state)

    def summary(self) -> str:
        """A text summary: model, sample, fit, coefficient table and notes."""
        model = {"lag": "spatial lag (SAR)", "error": "spatial error (SEM)", "durbin": "spatial Durbin (SDM)"}
        lines = [f"Spatial panel model: {model[self.model]}, maximum likelihood",
                 f"  effects: {self.effects}    outcome: {self.y_name}    "
                 f"{'Lee-Yu transformation approach' if self.bias_correction else 'direct approach'}",
                 f"  observations: {self.nobs}    towns: {self.n_entities}    years: {self.n_periods}",
                 f"  log-likelihood: {self.loglik:.6f}    sigma2: {self.sigma2:.6g} (s.e. {self.sigma2_se:.4g})"
                 f"    log-determinant: {self.method}",
                 "  inference: normal (information matrix)"]
        tab = self.to_frame()
        width = max([len(t) for t in tab.index] + [8])
        head = (f"  {'term':<{width}} {'estimate':>12} {'std_error':>12} {'z':>9} {'pvalue':>8} {'ci_lower':>12} "
                f"{'ci_upper':>12}")
        lines += ["", head, "  " + "-" * (len(head) - 2)]
        for term, row in tab.iterrows():
            lines.append(f"  {term:<{width}} {row.estimate:12.6g} {row.std_error:12.6g} {row.tstat:9.3f} "
                         f"{row.pvalue:8.4f} {row.ci_lower:12.6g} {row.ci_upper:12.6g}")
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"SpatialPanelResult(model={self.model!r}, effects={self.effects!r}, nobs={self.nobs}, "
                f"{self.spatial_name}={self._params[self.spatial_name]:.4g})")
