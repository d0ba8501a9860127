"""The synthetic panel of the IV tests (``iv_panel.csv``) and pyfixest's IV results on it
(stored in ``tests/test_models/results/iv.py``).

pyfixest 0.60.0 (PyPI; numpy 2.4.6, pandas 3.1.1), a development dependency only:

    cd tests/test_models/data && python iv_reference_pyfixest.py --write-data   # the CSV (once)
    cd tests/test_models/data && python iv_reference_pyfixest.py                # the numbers

The panel: 100 towns in 5 regions (``town_id % 5``) observed 2010-2017, about 12% of the
town-years dropped at random (unbalanced); town, year and region-by-year effects; ``x1``
exogenous, ``x2`` and ``x3`` endogenous (correlated with the error ``e``), ``z1``, ``z2``, ``z3``
instruments, ``w`` analytic weights; errors heteroskedastic and correlated within towns. Every
column is rounded to 6 decimals, so the CSV holds the exact numbers both sides use.

Every fit absorbs ``town_id + year + region^year`` and keeps every row (``fixef_rm="none"``)
with the projection converged to ``fixef_tol=1e-12``. pyfixest counts the absorbed degrees of
freedom as ``sum(levels) - (number of effects - 1)`` and, under CRV1, leaves out the levels of
effects nested in a cluster dimension, adding one per such effect (``utils.get_ssc``,
``k_fixef="nonnested"``); the tests pass the same counts. pyfixest's first stage is clustered
by the first cluster dimension only, so its first-stage F is not printed for two-way clustering.
"""

import sys
import warnings

import numpy as np
import pandas as pd

N_TOWNS, N_YEARS, N_REGIONS, FIRST_YEAR = 100, 8, 5, 2010


def make_panel(seed: int = 20240613) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    town = np.repeat(np.arange(N_TOWNS), N_YEARS)
    t = np.tile(np.arange(N_YEARS), N_TOWNS)
    region = town % N_REGIONS
    a_town = rng.normal(size=N_TOWNS)[town]
    a_year = rng.normal(size=N_YEARS)[t]
    a_ry = rng.normal(scale=0.5, size=(N_REGIONS, N_YEARS))[region, t]
    n = town.size
    z1 = rng.normal(size=n) + 0.5 * a_town
    z2 = rng.normal(size=n) + 0.3 * a_ry
    x1 = rng.normal(size=n) + 0.4 * a_town - 0.2 * a_year
    e = rng.normal(size=n)
    x2 = 0.5 * z1 + 0.4 * z2 + 0.3 * x1 + a_town + a_ry + 0.6 * e + 0.8 * rng.normal(size=n)
    x3 = 0.3 * z1 - 0.5 * z2 + 0.6 * rng.normal(size=n) + 0.4 * e + a_year
    z3 = rng.normal(size=n) + 0.2 * x3
    u = e * (1 + 0.5 * np.abs(x1)) + 0.5 * rng.normal(size=N_TOWNS)[town]
    y = 1.0 + 0.5 * x1 - 1.0 * x2 + 0.3 * x3 + 2 * a_town + a_year + a_ry + u
    w = rng.uniform(0.5, 2.0, size=n)
    d = pd.DataFrame({"town_id": town, "year": FIRST_YEAR + t, "region": region, "y": y, "x1": x1, "x2": x2,
                      "x3": x3, "z1": z1, "z2": z2, "z3": z3, "w": w})
    keep = rng.uniform(size=n) > 0.12
    return d[keep].round(6).reset_index(drop=True)


def show(name, fit, first=True, effective=False):
    print(f"{name} = {{")
    print(f"    'params': {({k: float(v) for k, v in fit.coef().items()})!r},")
    print(f"    'std_errors': {({k: float(v) for k, v in fit.se().items()})!r},")
    if first:
        fit.first_stage()
        print(f"    'first_stage_f': {float(fit._f_stat_1st_stage)!r},")
        first_fit = fit._model_1st_stage  # feols of x2 on the instruments and x1, same effects and vcov
        print(f"    'first_stage_params': {({k: float(v) for k, v in first_fit.coef().items()})!r},")
        print(f"    'first_stage_std_errors': {({k: float(v) for k, v in first_fit.se().items()})!r},")
    if effective:
        fit.IV_Diag()
        print(f"    'effective_f': {float(fit._eff_F)!r},")
    print("}")


def main() -> None:
    if "--write-data" in sys.argv:
        make_panel().to_csv("iv_panel.csv", index=False)
    import pyfixest as pf

    warnings.filterwarnings("ignore")
    d = pd.read_csv("iv_panel.csv")
    fe = "town_id + year + region^year"
    opts = {"fixef_tol": 1e-12, "fixef_rm": "none"}
    for name, vcov in (("iid", "iid"), ("hetero", "hetero"), ("crv1_town", {"CRV1": "town_id"}),
                       ("crv1_town_year", {"CRV1": "town_id+year"})):
        fit = pf.feols(f"y ~ x1 | {fe} | x2 ~ z1 + z2", data=d, vcov=vcov, **opts)
        show(f"three_effects_{name}", fit, first=name != "crv1_town_year")
    fit = pf.feols(f"y ~ x1 | {fe} | x2 ~ z1 + z2", data=d, vcov={"CRV1": "town_id"}, weights="w", **opts)
    show("three_effects_weighted_crv1_town", fit)
    for name, vcov in (("hetero", "hetero"), ("crv1_town", {"CRV1": "town_id"})):
        fit = pf.feols(f"y ~ 1 | {fe} | x2 ~ z1 + z2", data=d, vcov=vcov, **opts)
        show(f"no_exog_{name}", fit, effective=True)


if __name__ == "__main__":
    main()
