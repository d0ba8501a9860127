"""Monte Carlo of the panel estimators on the synthetic towns: bias, RMSE and coverage.

Question: on panels shaped like the study's (a few hundred towns, 15 years, regressors
built from firm registries), does the two-way within estimator recover the wage equation,
and do 95 % intervals cover the truth 95 % of the time, with many clusters (towns) and with
few (10 to 15 regions)?

Design (fixed regressors, fresh errors): the regressors ``corp_share``,
``core_control_share`` and their product are those of one synthetic dataset
(:func:`typology.data.synth.generate`, features from :func:`features.build_features`), as are
the towns and years; every replication draws new town and year effects and new errors and
rebuilds ``y = X b + a_i + g_t + e`` with the generator's true wage coefficients.

Settings
--------
``many_clusters``
    ``e_it`` is AR(1) within towns (``rho``), sd ``sigma``: errors clustered by town (the
    default of :class:`models.PanelModelSpec`) are the right inference.
``few_clusters``
    towns are grouped in ``n_regions`` regions (bands of longitude of equal numbers of
    towns); on top of the AR(1) errors each region has its own random deviation of the slope
    of ``corp_share`` (sd ``tau``) and region-year shocks (sd ``region_sd``), so the errors
    are correlated within regions and inference must cluster by region. Compared: CRV1
    clustered by town (ignores the regional correlation), CRV1 clustered by region
    (``t(G-1)``), and the wild cluster bootstrap restricted by the null (WCR, Rademacher
    weights) clustered by region (coverage of the test-inversion interval = share of
    replications where the true value is not rejected at 5 %).

Every replication draws from its own child of ``numpy.random.SeedSequence(seed)`` and is a
task of :func:`models.compute.run_tasks` (``n_jobs`` local workers, or the dask cluster of an
enclosing ``models.compute_backend``), so the result does not depend on where it runs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from features import build_features
from models import PanelModelSpec, fit_panel_model
from models.bootstrap import wild_cluster_bootstrap
from models.compute import run_tasks

from ..data.synth import WAGE_COEF, generate

__all__ = ["monte_carlo_design", "run_monte_carlo"]

TERMS = ("corp_share", "core_control_share", "corp_share:core_control_share")
FORMULA = "y ~ corp_share + core_control_share + corp_share:core_control_share"


def monte_carlo_design(n_towns: int = 300, n_years: int = 15, data_seed: int = 0, n_regions: int = 12,
                       unequal_regions: bool = True) -> pd.DataFrame:
    """The fixed design: regressors of one synthetic dataset, indexed by (town_id, year), with ``region``.

    Regions are bands of longitude; with ``unequal_regions`` their numbers of towns fall
    geometrically (ratio 0.75, the largest about a quarter of the towns), as real regions
    differ in size, otherwise they are equal.
    """
    ds = generate(n_towns=n_towns, n_years=n_years, seed=data_seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = build_features(ds.data)
    X = feats[["corp_share", "core_control_share"]].dropna()
    towns = ds.data.towns.set_index("town_id")
    ids = X.index.get_level_values(0).unique()
    lon = towns.loc[ids, "lon"].sort_values(kind="stable")
    w = 0.75 ** np.arange(n_regions) if unequal_regions else np.ones(n_regions)
    edges = np.cumsum(w) / w.sum() * len(lon)
    region = pd.Series(np.searchsorted(edges, np.arange(len(lon)), side="right").clip(0, n_regions - 1),
                       index=lon.index)
    X = X.assign(region=region.reindex(X.index.get_level_values(0)).to_numpy().astype(int))
    return X


def _one_rep(design: pd.DataFrame, child: np.random.SeedSequence, rho: float, sigma: float, tau: float,
             region_sd: float, bootstrap_reps: int) -> list[dict]:
    rng = np.random.default_rng(child)
    ent, ent_codes = np.unique(design.index.get_level_values(0), return_inverse=True)
    yrs, yr_codes = np.unique(design.index.get_level_values(1), return_inverse=True)
    reg = design["region"].to_numpy()
    n_ent, n_yr, n_reg = len(ent), len(yrs), int(reg.max()) + 1
    cs = design["corp_share"].to_numpy()
    cc = design["core_control_share"].to_numpy()
    xb = WAGE_COEF["corp_share"] * cs + WAGE_COEF["core_control_share"] * cc + \
        WAGE_COEF["corp_share:core_control_share"] * cs * cc
    # AR(1) errors within towns on the full town-year grid (stationary start)
    shocks = rng.normal(0.0, sigma, (n_ent, n_yr))
    e = np.empty((n_ent, n_yr))
    e[:, 0] = shocks[:, 0]
    for t in range(1, n_yr):  # loop over the years of the grid, vectorized over towns
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1.0 - rho**2) * shocks[:, t]
    effects = rng.normal(0.0, 0.1, n_ent)[ent_codes] + rng.normal(0.0, 0.05, n_yr)[yr_codes]
    base = xb + effects + e[ent_codes, yr_codes]
    out = []
    truth = {t: WAGE_COEF[t] for t in TERMS}

    def record(setting, method, res, pvals=None):
        ci = res.conf_int(0.95) if pvals is None else None
        for t in TERMS:
            est = float(res.params[t])
            covered = (ci.loc[t, "lower"] <= truth[t] <= ci.loc[t, "upper"]) if pvals is None else pvals[t] > 0.05
            out.append({"setting": setting, "method": method, "term": t, "estimate": est,
                        "std_error": float(res.std_errors[t]), "covered": bool(covered)})

    d1 = design.assign(y=base)
    r = fit_panel_model(d1, PanelModelSpec(FORMULA, effects="twoway"))
    record("many_clusters", "CRV1 by town", r)
    slope_dev = rng.normal(0.0, tau, n_reg)[reg] * (cs - cs.mean())
    region_year = rng.normal(0.0, region_sd, (n_reg, n_yr))[reg, yr_codes]
    d2 = design.assign(y=base + slope_dev + region_year)
    r_town = fit_panel_model(d2, PanelModelSpec(FORMULA, effects="twoway"))
    record("few_clusters", "CRV1 by town", r_town)
    r_reg = fit_panel_model(d2, PanelModelSpec(FORMULA, effects="twoway", cluster="region"))
    record("few_clusters", "CRV1 by region", r_reg)
    boot = wild_cluster_bootstrap(r_reg, list(TERMS), null=truth, reps=bootstrap_reps,
                                  random_state=rng.integers(2**32), level=None)
    record("few_clusters", "WCR bootstrap by region", r_reg, pvals=boot["pvalue"].to_dict())
    return out


def error_summary(g, n_reps: int) -> dict:
    """Columns of a Monte Carlo summary from replications grouped by ``g`` (columns ``estimate``,
    ``error`` = estimate - truth, ``std_error``): ``mean_estimate``, ``bias``, ``rmse``
    (``sqrt(mean(error^2))``), ``sd_estimate`` (NaN with one replication), ``mean_std_error``."""
    return {"mean_estimate": g["estimate"].mean(), "bias": g["error"].mean(),
            "rmse": g["error"].apply(lambda v: float(np.sqrt(np.mean(v**2)))),
            "sd_estimate": g["estimate"].std(ddof=1) if n_reps > 1 else g["estimate"].mean() * np.nan,
            "mean_std_error": g["std_error"].mean()}


def run_monte_carlo(n_reps: int = 200, seed: int = 0, n_jobs: int = 1, n_towns: int = 300, n_years: int = 15,
                    n_regions: int = 12, rho: float = 0.5, sigma: float = 0.04, tau: float = 0.4,
                    region_sd: float = 0.02, bootstrap_reps: int = 399, data_seed: int = 0,
                    unequal_regions: bool = True, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """Run the Monte Carlo (see the module docstring) and summarize it.

    Returns
    -------
    DataFrame
        One row per (``setting``, ``method``, ``term``): ``true``, ``mean_estimate``,
        ``bias``, ``rmse``, ``sd_estimate``, ``mean_std_error``, ``coverage`` (share of 95 %
        intervals containing the truth), ``n_reps``; ``attrs`` hold the parameters.
    """
    if n_reps < 1:
        raise ValueError(f"n_reps must be >= 1; found {n_reps}")
    if design is None:
        design = monte_carlo_design(n_towns, n_years, data_seed, n_regions, unequal_regions)
    children = np.random.SeedSequence(seed).spawn(n_reps)
    runs = run_tasks(_one_rep, [(design, c, rho, sigma, tau, region_sd, bootstrap_reps) for c in children], n_jobs)
    draws = pd.DataFrame([row for run in runs for row in run])
    draws["true"] = draws["term"].map(WAGE_COEF)
    draws["error"] = draws["estimate"] - draws["true"]
    g = draws.groupby(["setting", "method", "term"], sort=False)
    out = pd.DataFrame({"true": g["true"].first(), **error_summary(g, n_reps), "coverage": g["covered"].mean(),
                        "n_reps": g["estimate"].size()})
    out.attrs.update({"n_reps": n_reps, "seed": seed, "n_towns": n_towns, "n_years": n_years,
                      "n_regions": int(design["region"].max()) + 1, "rho": rho, "sigma": sigma, "tau": tau,
                      "region_sd": region_sd, "bootstrap_reps": bootstrap_reps, "nobs": len(design)})
    return out
