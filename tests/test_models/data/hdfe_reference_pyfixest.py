"""Reference values of linear models with absorbed effects (tests/test_models/test_absorb.py).

pyfixest 0.60.0 (PyPI; its Rust demeaner), in the project's development environment (pyfixest
is the ``bench`` extra, never imported by ``models``):

    cd tests/test_models/data && python hdfe_reference_pyfixest.py          # writes the CSVs
    cd tests/test_models/data && python hdfe_reference_pyfixest.py --print  # prints the values

The datasets are drawn once here with numpy's PCG64 (seeds below) and written as CSV
(``hdfe_panel.csv``, ``hdfe_singletons.csv``, ``hdfe_flows.csv``); the script then reads the
CSVs back and fits every reference model with ``pf.feols`` at the demeaning tolerance
``MapDemeaner(fixef_tol=1e-12)`` (the default 1e-6 leaves errors of 1e-7 relative), all other
options at pyfixest's defaults (``ssc(k_adj=True, k_fixef="nonnested", G_adj=True,
G_df="min")``, ``fixef_rm="singleton"``). The printout is what results/hdfe.py stores.

Three-way clustering is not in pyfixest (it clusters one or two ways); its reference is
sandwich's ``vcovCL`` in R (``hdfe_threeway_sandwich.R``).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def panel(seed: int = 13) -> pd.DataFrame:
    """80 towns in 8 regions (towns nested in regions), 2010-2019, 5% of rows missing; effects of
    town, year and region-by-year; errors correlated within towns and within region-years."""
    rng = np.random.default_rng(seed)
    towns, years = 80, np.arange(2010, 2020)
    d = pd.DataFrame({"town_id": np.repeat([f"t{i:02d}" for i in range(towns)], len(years)),
                      "year": np.tile(years, towns)})
    d["region"] = np.repeat([f"r{i % 8}" for i in range(towns)], len(years))
    d = d[rng.random(len(d)) > 0.05].reset_index(drop=True)
    town = d["town_id"].str[1:].astype(int).to_numpy()
    reg = d["region"].str[1:].astype(int).to_numpy()
    yr = d["year"].to_numpy() - 2010
    a_t, a_y, a_ry = rng.normal(size=towns), rng.normal(size=10), rng.normal(size=(8, 10))
    d["x1"] = a_t[town] + 0.5 * a_ry[reg, yr] + rng.normal(size=len(d))
    d["x2"] = np.sin(yr) * a_t[town] + rng.normal(size=len(d))
    u = 0.6 * rng.normal(size=towns)[town] + 0.4 * rng.normal(size=(8, 10))[reg, yr] + rng.normal(size=len(d))
    d["y"] = 0.5 * d["x1"] - 0.3 * d["x2"] + a_t[town] + a_y[yr] + a_ry[reg, yr] + u
    d["region_year"] = d["region"] + "_" + d["year"].astype(str)
    return d[["town_id", "year", "region", "region_year", "x1", "x2", "y"]]


def singletons(seed: int = 7) -> pd.DataFrame:
    """An unbalanced panel (40 towns in 5 regions, 2010-2017, 40% of rows missing) with singleton
    towns and region-years: town v1 has one row, the region-year r7 2013 one row (of town w1,
    whose other rows stay), and a chain: region r9 holds towns u1 (2010, 2011) and u2
    (2011-2013); the region-year r9 2010 is a singleton, dropping it makes u1 a singleton town,
    dropping that makes r9 2011 a singleton, and so on until both towns are gone."""
    rng = np.random.default_rng(seed)
    towns, years = 40, np.arange(2010, 2018)
    d = pd.DataFrame({"town_id": np.repeat([f"s{i:02d}" for i in range(towns)], len(years)),
                      "year": np.tile(years, towns)})
    d["region"] = np.repeat([f"r{i % 5}" for i in range(towns)], len(years))
    d = d[rng.random(len(d)) > 0.4]
    chain = pd.DataFrame({"town_id": ["u1", "u1", "u2", "u2", "u2", "v1", *["w1"] * 4, *["w2"] * 3],
                          "year": [2010, 2011, 2011, 2012, 2013, 2012, 2010, 2011, 2012, 2013, 2010, 2011, 2012],
                          "region": ["r9"] * 5 + ["r0"] + ["r7"] * 7})
    d = pd.concat([d, chain], ignore_index=True)
    d["x1"] = rng.normal(size=len(d))
    d["x2"] = rng.normal(size=len(d)) + 0.3 * d["x1"]
    d["y"] = 1.0 + 0.8 * d["x1"] + 0.2 * d["x2"] + rng.normal(size=len(d))
    return d[["town_id", "year", "region", "x1", "x2", "y"]]


def flows(seed: int = 21) -> pd.DataFrame:
    """Flows between 14 municipalities (origin != destination), 2015-2018, 30% of rows missing;
    ``log_dist`` fixed per pair, ``x`` varying by year; errors correlated within pairs."""
    rng = np.random.default_rng(seed)
    m, years = 14, np.arange(2015, 2019)
    o, de = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    o, de = o[o != de], de[o != de]
    d = pd.DataFrame({"origin": np.repeat(o, len(years)), "destination": np.repeat(de, len(years)),
                      "year": np.tile(years, len(o))})
    d = d[rng.random(len(d)) > 0.3].reset_index(drop=True)
    xy = rng.normal(size=(m, 2))
    dist = np.hypot(*(xy[d["origin"]] - xy[d["destination"]]).T)
    d["log_dist"] = np.log(dist + 0.1)
    d["x"] = rng.normal(size=len(d))
    pair_u = rng.normal(size=(m, m))[d["origin"], d["destination"]]
    d["y"] = (-1.2 * d["log_dist"] + 0.4 * d["x"] + rng.normal(size=m)[d["origin"]]
              + rng.normal(size=m)[d["destination"]] + 0.5 * pair_u + rng.normal(size=len(d)))
    d["pair"] = "p" + d["origin"].astype(str) + "_" + d["destination"].astype(str)
    d["origin"] = "m" + d["origin"].astype(str)
    d["destination"] = "m" + d["destination"].astype(str)
    return d[["pair", "origin", "destination", "year", "log_dist", "x", "y"]]


CASES = {  # name: (csv, pyfixest formula, vcov)
    "panel_crv1_town": ("hdfe_panel.csv", "y ~ x1 + x2 | town_id + year + region^year", {"CRV1": "town_id"}),
    "panel_hetero": ("hdfe_panel.csv", "y ~ x1 + x2 | town_id + year + region^year", "hetero"),
    "panel_iid": ("hdfe_panel.csv", "y ~ x1 + x2 | town_id + year + region^year", "iid"),
    "panel_crv1_region": ("hdfe_panel.csv", "y ~ x1 + x2 | town_id + year + region^year", {"CRV1": "region"}),
    "panel_twoway_town_ry": ("hdfe_panel.csv", "y ~ x1 + x2 | town_id + year + region^year",
                             {"CRV1": "town_id + region_year"}),
    "panel_twoway_town_year": ("hdfe_panel.csv", "y ~ x1 + x2 | town_id + year", {"CRV1": "town_id + year"}),
    "singletons_crv1_town": ("hdfe_singletons.csv", "y ~ x1 + x2 | town_id + region^year", {"CRV1": "town_id"}),
    "singletons_hetero": ("hdfe_singletons.csv", "y ~ x1 + x2 | town_id + year + region^year", "hetero"),
    "flows_od_pair": ("hdfe_flows.csv", "y ~ log_dist + x | origin + destination + year", {"CRV1": "pair"}),
    "flows_oy_dy_origin": ("hdfe_flows.csv", "y ~ log_dist + x | origin^year + destination^year",
                           {"CRV1": "origin"}),
}


def main() -> None:
    if "--print" not in sys.argv:
        panel().to_csv(HERE / "hdfe_panel.csv", index=False, float_format="%.17g")
        singletons().to_csv(HERE / "hdfe_singletons.csv", index=False, float_format="%.17g")
        flows().to_csv(HERE / "hdfe_flows.csv", index=False, float_format="%.17g")
        return
    import pyfixest as pf
    from pyfixest.demeaners import MapDemeaner

    for name, (csv, fml, vcov) in CASES.items():
        d = pd.read_csv(HERE / csv)
        fit = pf.feols(fml, data=d, vcov=vcov, demeaner=MapDemeaner(fixef_tol=1e-12))
        print(f"{name}: pf.feols({fml!r}, data=read_csv({csv!r}), vcov={vcov!r}, "
              "demeaner=MapDemeaner(fixef_tol=1e-12))")
        print(f"    nobs={fit._N}, dropped={len(d) - fit._N}, df_k={int(fit._df_k)}")
        print(f"    params={ {k: float(v) for k, v in fit.coef().items()} }")
        print(f"    std_errors={ {k: float(v) for k, v in fit.se().items()} }")


if __name__ == "__main__":
    main()
