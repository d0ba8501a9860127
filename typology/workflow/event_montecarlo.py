"""Monte Carlo of the event-study estimators on the world with corporate events: bias, RMSE, coverage.

Question: on panels shaped like the study's (a few hundred municipalities, 15 years, staggered
corporate entry in five cohorts, effects that build up over the years after entry and differ
by cohort and by town), do the heterogeneity-robust event-study estimators of
:func:`models.event_study` recover the average effect of entry, by event time and overall,
and do their 95 % pointwise intervals and uniform bands cover it, with many clusters (towns)?
And how far off is the two-way fixed-effects event study and its static DiD?

Design (the world's event schedule and effects, resampled towns, fresh outcomes):

* one dataset of the generator's world 2 (:func:`typology.data.synth.generate`, seed
  ``data_seed``, without missing outcome cells so that every town-year has its effect);
  kept: the municipalities observed in every year whose anchor firm is not VI-owned from the
  first year (those have no untreated year; every estimator drops them). Each kept
  municipality has its cohort ``entry_year`` (0 never) and its effect path
  ``tau_it = Y_it(actual) - Y_it(untreated)`` of the outcome (log wage by default) from the
  generator's potential outcomes (``SyntheticDataset.potential``): 0 before entry, built up
  after it, including the later exit of some towns (the effect of entry as it happened:
  the estimators treat entry as absorbing, ``exit=None``);
* the population effects are the design's ``ATT(g, e)`` = mean of ``tau`` over the
  municipalities of cohort ``g`` at event time ``e``;
* every replication draws as many municipalities as the design has, with replacement (new
  identifiers; the cohort sizes ``n_g`` vary), new town effects (sd 0.1), new year effects
  (sd 0.05) and errors AR(1) within towns (``rho``, sd ``sigma``):
  ``y_it = a_i + d_t + tau_it + e_it``; so parallel trends hold by construction and the
  effects differ across cohorts, over time and across towns as in the world;
* the truth of a replication is the estimand the estimators target on its sample:
  ``theta(e) = sum_g n_g ATT(g, e) / sum_g n_g`` over the cohorts observed at ``e`` (Callaway
  and Sant'Anna's dynamic aggregation; 0 before entry) and the overall ATT
  ``sum_g n_g sum_{e >= 0} ATT(g, e) / sum_g n_g T_g`` (the simple aggregation, which equals
  the imputation and Sun-Abraham overall estimands on a balanced panel);
* estimators (:data:`METHODS`): Callaway-Sant'Anna with never-treated and with not-yet-treated
  controls (doubly robust, varying base period), Sun-Abraham (never-treated control),
  imputation (Borusyak, Jaravel and Spiess), the two-way event study (every event time, no
  bins; its ``overall`` is the static two-way DiD), all clustered by town, uniform bands from
  ``n_boot`` multiplier-bootstrap draws.

Every replication draws from its own child of ``numpy.random.SeedSequence(seed)``, runs with
one BLAS thread and is a task of :func:`models.compute.run_tasks` (``n_jobs`` local workers,
or the dask cluster of an enclosing ``models.compute_backend``), so the result does not depend
on where it runs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from models import event_study
from models.compute import run_tasks

from ..data.synth import EVENT_OUTCOMES, generate
from .montecarlo import error_summary

__all__ = ["METHODS", "att_by_cohort", "event_design", "replication_truth", "run_event_monte_carlo"]

# (label, method, control) of the estimators compared
METHODS = (
    ("callaway_santanna (never treated)", "callaway_santanna", "never_treated"),
    ("callaway_santanna (not yet treated)", "callaway_santanna", "not_yet_treated"),
    ("sun_abraham", "sun_abraham", "never_treated"),
    ("imputation", "imputation", "not_yet_treated"),
    ("twfe", "twfe", "not_yet_treated"),
)
ROBUST = tuple(m[0] for m in METHODS if m[1] != "twfe")
_OBSERVED = {"log_wage": "avg_wage", "log_employment": "employment", "log_population": "population"}


def event_design(n_towns: int = 300, n_years: int = 15, data_seed: int = 0, outcome: str = "log_wage") -> pd.DataFrame:
    """The fixed design: ``entry_year`` (0 never) and the effect ``tau`` of every kept
    municipality-year of one world-2 dataset, indexed by (town_id, year) (see the module docstring)."""
    if outcome not in EVENT_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(EVENT_OUTCOMES)}; got {outcome!r}")
    ds = generate(n_towns=n_towns, n_years=n_years, seed=data_seed, missing_outcome_rate=0.0)
    o = ds.data.outcomes.set_index(["town_id", "year"]).sort_index()
    actual = np.log(o[_OBSERVED[outcome]].astype(float))
    tau = actual - ds.potential[outcome].reindex(o.index)
    towns = o.index.get_level_values("town_id")
    first_year = int(o.index.get_level_values("year").min())
    counts = pd.Series(1, index=towns).groupby(level=0).size()
    entry = pd.to_numeric(o["entry_year"]).fillna(0).astype(int)
    keep = towns.isin(counts.index[counts.to_numpy() == n_years]) & (entry.to_numpy() != first_year)
    return pd.DataFrame({"entry_year": entry.to_numpy()[keep], "tau": tau.to_numpy()[keep]}, index=o.index[keep])


def _arrays(design: pd.DataFrame):
    """(tau units x T, cohort per unit, years) of the balanced design."""
    years = np.unique(design.index.get_level_values("year"))
    towns = design.index.get_level_values("town_id")
    n = towns.nunique()
    tau = design["tau"].to_numpy().reshape(n, len(years))
    cohort = design["entry_year"].to_numpy().reshape(n, len(years))[:, 0]
    return tau, cohort, years


def att_by_cohort(design: pd.DataFrame) -> pd.DataFrame:
    """Population ``ATT(g, e)`` of the design: rows cohorts, columns event times (NaN where the
    cohort is not observed at ``e``)."""
    tau, cohort, years = _arrays(design)
    groups = np.unique(cohort[cohort > 0])
    e_all = np.arange(years[0] - groups.max(), years[-1] - groups.min() + 1)
    out = pd.DataFrame(np.nan, index=pd.Index(groups, name="cohort"), columns=pd.Index(e_all, name="event_time"))
    for g in groups:  # a handful of cohorts
        out.loc[g, years - g] = tau[cohort == g].mean(axis=0)
    return out


def replication_truth(att: pd.DataFrame, n_g: pd.Series) -> tuple[pd.Series, float]:
    """``(theta(e) by event time, overall ATT)`` weighted by the replication's cohort sizes
    ``n_g`` (cohorts absent from the sample weigh nothing)."""
    w = n_g.reindex(att.index).fillna(0).to_numpy()[:, None] * att.notna().to_numpy()
    v = att.fillna(0.0).to_numpy()
    den = w.sum(axis=0)
    theta = pd.Series(np.where(den > 0, (w * v).sum(axis=0) / np.where(den > 0, den, 1), np.nan), index=att.columns)
    post = (att.columns.to_numpy() >= 0)[None, :]
    overall = float((w * v * post).sum() / (w * post).sum())
    return theta.dropna(), overall


def _one_rep(tau, cohort, years, att, child, rho, sigma, n_boot) -> list[dict]:
    rng = np.random.default_rng(child)
    n, T = tau.shape
    idx = rng.integers(0, n, n)
    shocks = rng.normal(0.0, sigma, (n, T))
    e = np.empty((n, T))
    e[:, 0] = shocks[:, 0]
    for t in range(1, T):  # over the years, vectorized over towns
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1.0 - rho**2) * shocks[:, t]
    y = rng.normal(0.0, 0.1, n)[:, None] + (0.03 * np.arange(T) + rng.normal(0.0, 0.05, T))[None, :] + tau[idx] + e
    ids = np.array([f"r{i:05d}" for i in range(n)])
    frame = pd.DataFrame({"y": y.ravel(), "entry_year": np.repeat(cohort[idx], T)},
                         index=pd.MultiIndex.from_arrays([np.repeat(ids, T), np.tile(years, n)],
                                                         names=["town_id", "year"]))
    n_g = pd.Series(cohort[idx]).value_counts()
    theta, overall = replication_truth(att, n_g[n_g.index > 0])
    boot_seed = int(rng.integers(2**31))
    out = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, method, control in METHODS:
            r = event_study(frame, "y", "entry_year", method=method, control=control, n_boot=n_boot,
                            random_state=boot_seed, exit=None)
            o = r.overall
            out.append({"method": label, "target": "overall", "true": overall, "estimate": o["estimate"],
                        "std_error": o["std_error"], "covered": o["ci_lower"] <= overall <= o["ci_upper"]})
            d = r.dynamic[np.isfinite(r.dynamic["std_error"])]  # the reference period has no interval
            tr = theta.reindex(d.index).to_numpy()
            inside = (d["band_lower"].to_numpy() <= tr) & (tr <= d["band_upper"].to_numpy())
            out += [{"method": label, "target": int(k), "true": float(t), "estimate": float(est), "std_error": float(se),
                     "covered": bool(lo <= t <= hi), "in_band": bool(b)}
                    for k, t, est, se, lo, hi, b in zip(d.index, tr, d["estimate"], d["std_error"], d["ci_lower"],
                                                        d["ci_upper"], inside, strict=True)]
            out.append({"method": label, "target": "path", "covered": bool(inside.all()),
                        "n_event_times": int(len(d)), "crit_value": float(r.crit_value)})
    return out


def _summarize(draws: pd.DataFrame, n_reps: int) -> pd.DataFrame:
    est = draws[draws["target"] != "path"].copy()
    est["error"] = est["estimate"] - est["true"]
    g = est.groupby(["method", "target"], sort=False)
    summary = error_summary(g, n_reps)
    out = pd.DataFrame({
        "true": g["true"].mean(),
        **{k: summary[k] for k in ("mean_estimate", "bias", "rmse", "sd_estimate")},
        "sd_error": g["error"].std(ddof=1) if n_reps > 1 else g["error"].mean() * np.nan,
        "mean_std_error": summary["mean_std_error"],
        "coverage": g["covered"].mean(),
        "band_coverage": g["in_band"].mean(),
        "n_reps": g["estimate"].size(),
    })
    path = draws[draws["target"] == "path"].groupby(["method", "target"], sort=False)
    band = pd.DataFrame({"coverage": path["covered"].mean(), "band_coverage": path["covered"].mean(),
                         "n_reps": path["covered"].size()})
    out = pd.concat([out, band])
    order = {m[0]: i for i, m in enumerate(METHODS)}
    key = [(order[m], 0 if t == "overall" else 2 if t == "path" else 1, t if isinstance(t, int) else 0)
           for m, t in out.index]
    return out.iloc[sorted(range(len(out)), key=key.__getitem__)]


def run_event_monte_carlo(n_reps: int = 200, seed: int = 0, n_jobs: int = 1, n_boot: int = 499,
                          rho: float = 0.5, sigma: float = 0.04, outcome: str = "log_wage", n_towns: int = 300,
                          n_years: int = 15, data_seed: int = 0, design: pd.DataFrame | None = None,
                          progress=None) -> pd.DataFrame:
    """Run the Monte Carlo (see the module docstring) and summarize it.

    Parameters
    ----------
    n_reps, seed, n_jobs : replications, root seed, local workers (the result does not depend on it).
    n_boot : multiplier-bootstrap draws of each uniform band.
    rho, sigma : AR(1) correlation and sd of the errors within towns.
    outcome : ``"log_wage"``, ``"log_employment"`` or ``"log_population"`` (whose effects ``tau`` are used).
    design : a design from :func:`event_design` (default: built from ``n_towns``, ``n_years``, ``data_seed``).
    progress : a callable taking a line of text (replications done), or None.

    Returns
    -------
    DataFrame
        Indexed by (``method``, ``target``): ``target`` is ``"overall"`` (the overall ATT; the
        two-way: the static DiD), an event time (int), or ``"path"`` (the whole true path
        inside the uniform band). Columns ``true`` (mean over replications of the truth of each),
        ``mean_estimate``, ``bias``, ``rmse``, ``sd_estimate``, ``sd_error`` (of the estimate minus
        its replication's truth, which varies with the cohort sizes), ``mean_std_error``, ``coverage``
        (share of 95 % pointwise intervals holding the truth; for ``path``, share of
        replications whose band holds the whole path), ``band_coverage`` (the truth at that event
        time inside the uniform band), ``n_reps``; ``attrs`` hold the parameters.
    """
    if n_reps < 1:
        raise ValueError(f"n_reps must be >= 1; found {n_reps}")
    if design is None:
        design = event_design(n_towns, n_years, data_seed, outcome)
    tau, cohort, years = _arrays(design)
    att = att_by_cohort(design)
    children = np.random.SeedSequence(seed).spawn(n_reps)
    step = max(1, n_reps // 10)

    def done(i: int, n: int) -> None:
        if progress is not None and (i % step == 0 or i == n):
            progress(f"  {i}/{n} replications")

    runs = run_tasks(_one_rep, [(tau, cohort, years, att, c, rho, sigma, n_boot) for c in children], n_jobs,
                     progress=done)
    draws = pd.DataFrame([row for run in runs for row in run])
    out = _summarize(draws, n_reps)
    out.attrs.update({"n_reps": n_reps, "seed": seed, "n_boot": n_boot, "rho": rho, "sigma": sigma,
                      "outcome": outcome, "n_units": int(len(cohort)), "n_years": int(len(years)),
                      "cohort_sizes": {int(g): int(k) for g, k in zip(*np.unique(cohort[cohort > 0], return_counts=True),
                                                                       strict=True)},
                      "overall_population": replication_truth(att, pd.Series(cohort[cohort > 0]).value_counts())[1]})
    return out
