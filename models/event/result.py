"""The read-only result of :func:`models.event_study`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

__all__ = ["EventStudyResult", "estimate_table"]

COLUMNS = ["estimate", "std_error", "ci_lower", "ci_upper", "band_lower", "band_upper"]


def estimate_table(labels, theta, se, level: float, crit: float, index_name) -> pd.DataFrame:
    """Estimates with pointwise intervals (``theta +- z se``) and the uniform band (``+- crit se``);
    bounds are NaN where the standard error or the critical value is not finite."""
    theta = np.asarray(theta, dtype=float)
    se = np.asarray(se, dtype=float)
    z = scipy.stats.norm.ppf(0.5 + level / 2)
    ok = np.isfinite(se) & (se > 0)
    half = np.where(ok, z * se, np.nan)
    band = np.where(ok & np.isfinite(crit), crit * se, np.nan)
    index = pd.Index(labels, name=index_name) if not isinstance(labels, pd.Index) else labels
    return pd.DataFrame({"estimate": theta, "std_error": np.where(ok, se, np.nan),
                         "ci_lower": theta - half, "ci_upper": theta + half,
                         "band_lower": theta - band, "band_upper": theta + band}, index=index)


def _fmt(v: float, width: int = 10) -> str:
    return f"{v:{width}.4f}" if np.isfinite(v) else f"{'-':>{width}}"


def _stars(est: float, se: float) -> str:
    if not (np.isfinite(se) and se > 0 and np.isfinite(est)):
        return ""
    p = 2 * scipy.stats.norm.sf(abs(est / se))
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


@dataclass(frozen=True, eq=False)
class EventStudyResult:
    """Event-study estimates of one outcome by one method (read-only: the tables are copies).

    Attributes
    ----------
    dynamic : DataFrame indexed by ``event_time``: ``estimate``, ``std_error``, ``ci_lower``,
        ``ci_upper`` (pointwise, ``level``), ``band_lower``, ``band_upper`` (uniform band, sup-t
        critical value ``crit_value`` from the multiplier bootstrap). A reference period has
        estimate 0 and no standard error.
    overall : Series ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``pvalue`` (the
        overall ATT: Callaway-Sant'Anna's "simple", the IW or imputation ATT over treated
        town-years, or the static two-way DiD for ``twfe``).
    pretrend : Series ``statistic``, ``df``, ``pvalue``: Wald chi2 test that the pre-period
        estimates (event times before ``-anticipation``, reference excluded) are all 0, with
        their clustered covariance; ``df`` = rank of that covariance (the number of pre-period
        estimates when it is full rank).
    by_cohort, by_calendar_year : DataFrames like ``dynamic`` indexed by ``cohort`` / ``year``
        (empty for ``twfe``).
    group_time : DataFrame indexed by (``cohort``, ``year``), ATT(g, t) with ``base_year``,
        ``event_time``, ``n_treated``, ``n_control`` (Callaway-Sant'Anna only; else empty).
    method, control, estimation, outcome, n_towns, n_clusters, n_boot, level, crit_value,
    bootstrap_seed (the entropy the bootstrap drew from), notes (what was dropped or changed).
    """

    method: str
    control: str
    outcome: str
    estimation: str
    n_towns: int
    n_clusters: int
    n_boot: int
    level: float
    crit_value: float
    bootstrap_seed: int | None
    anticipation: int
    _dynamic: pd.DataFrame = field(repr=False)
    _overall: pd.Series = field(repr=False)
    _pretrend: pd.Series = field(repr=False)
    _by_cohort: pd.DataFrame = field(repr=False)
    _by_calendar_year: pd.DataFrame = field(repr=False)
    _group_time: pd.DataFrame = field(repr=False)
    notes: tuple = ()

    dynamic = property(lambda self: self._dynamic.copy(), doc="Estimates by event time (a copy).")
    overall = property(lambda self: self._overall.copy(), doc="The overall ATT (a copy).")
    pretrend = property(lambda self: self._pretrend.copy(), doc="The joint pre-trend Wald test (a copy).")
    by_cohort = property(lambda self: self._by_cohort.copy(), doc="Estimates by cohort (a copy).")
    by_calendar_year = property(lambda self: self._by_calendar_year.copy(), doc="Estimates by year (a copy).")
    group_time = property(lambda self: self._group_time.copy(), doc="ATT(g, t) cells (a copy).")

    def to_frame(self) -> pd.DataFrame:
        """All estimates in one long table: ``table`` (dynamic, overall, by_cohort,
        by_calendar_year, group_time), ``label`` and the columns of ``dynamic``."""
        parts = []
        for name in ("dynamic", "overall", "by_cohort", "by_calendar_year", "group_time"):
            if name == "overall":
                d = self._overall.to_frame().T.drop(columns="pvalue").assign(label="overall")
            else:
                d = getattr(self, "_" + name)
                d = d.assign(label=[str(v) for v in d.index])[COLUMNS + ["label"]]
            parts.append(d.reset_index(drop=True).assign(table=name))
        out = pd.concat(parts, ignore_index=True)
        return out[["table", "label"] + COLUMNS]

    def summary(self) -> str:
        """A text summary: the design, the overall ATT, the pre-trend test and the dynamic table."""
        o, p = self._overall, self._pretrend
        pct = round(100 * self.level)
        lines = [f"Event study of {self.outcome}: {self.method}"
                 + (f" ({self.estimation})" if self.method == "callaway_santanna" else "")
                 + f", control {self.control}, anticipation {self.anticipation}",
                 f"towns {self.n_towns}, clusters {self.n_clusters}, bootstrap draws {self.n_boot}, "
                 + (f"uniform {pct}% critical value {self.crit_value:.3f}" if np.isfinite(self.crit_value)
                    else "no uniform band"),
                 f"overall ATT {_fmt(o['estimate'], 0)} (s.e. {_fmt(o['std_error'], 0)})"
                 f"{_stars(o['estimate'], o['std_error'])}",
                 (f"pre-trend Wald chi2({int(p['df'])}) = {p['statistic']:.3f}, p = {p['pvalue']:.4f}"
                  if p["df"] > 0 and np.isfinite(p["statistic"]) else "pre-trend test: no pre-period estimate"),
                 "",
                 f"{'event_time':>10} {'estimate':>10} {'std_error':>10} {'ci_lower':>10} {'ci_upper':>10} "
                 f"{'band_lower':>10} {'band_upper':>10}"]
        for e, r in self._dynamic.iterrows():
            lines.append(f"{e!s:>10} " + " ".join(_fmt(r[c]) for c in COLUMNS)
                         + f" {_stars(r['estimate'], r['std_error'])}")
        lines += [f"note: {n}" for n in self.notes]
        lines.append("*** p<0.01, ** p<0.05, * p<0.1 (pointwise); '-': not estimated")
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """The event-study plot of this result (see :func:`models.event_plot`)."""
        from .plot import event_plot

        return event_plot({self.method: self}, ax=ax, **kwargs)
