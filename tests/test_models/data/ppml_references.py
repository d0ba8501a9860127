"""Reference values of PPML with fixed effects (tests/test_models/test_ppml.py).

pyfixest 0.60.0 (PyPI; numpy 2.4.6, pandas 3.0, in the project's environment, where it is a
development dependency only):

    cd tests/test_models/data && python ppml_references.py --data   # writes the ppml_*.csv files
    cd tests/test_models/data && python ppml_references.py > ../results/ppml.py   # the values

The datasets are drawn here from fixed seeds (``--data``) and written as CSV; the references are
computed from the CSV files as stored. ``pf.fepois`` runs with tight tolerances
(``iwls_tol=1e-15``, ``iwls_maxiter=200``, ``demeaner=pf.MapDemeaner(fixef_tol=1e-13)``) so that its last IRLS step
changes nothing: pyfixest forms the covariance with the weights of the step before the last,
which at the default ``iwls_tol=1e-8`` moves the standard errors by about 1e-8 relative.

* ``ppml_panel.csv``: 150 towns x 12 years, unbalanced (15 % of town-years missing), counts with
  about 60 % zeros: ``y ~ x1 + x2 | town_id + year``, and ``w`` (positive weights).
* ``ppml_towns.csv`` and ``ppml_links.csv``: 20 towns with coordinates and a region, and the
  links with a positive flow in 4 years (the zeros are the pairs absent from the links);
  the full table of 20 x 19 x 4 directed pairs is formed here with pandas (a product and a
  merge, independently of ``models.gravity``), with ``log_dist`` (haversine, radius 6371.0088 km)
  and ``same_region``.
* ``ppml_separation.csv``: 40 towns x 8 years with towns and a year whose outcomes are all zero
  and singletons, for the rows dropped.
* ``ppml_problem1.csv``: the 18 rows of ppmlhdfe's test ``test/problem1.do`` (sergiocorreia/
  ppmlhdfe, "same as Paulo's prob1.dta"), where ``x2`` separates rows 5, 8, 14 and 15 (1-based),
  which leaves row 7 a singleton of ``i``; that test compares ppmlhdfe to ``glm`` on the rows
  ``!inlist(_n, 5, 7, 8, 14, 15)``.
* ``ppml_references.R`` (run from here): R's ``glm`` with the effects as dummies and sandwich's
  HC1 / ``vcovCL`` errors on the panel, the gravity frame (effects origin + destination,
  clustered by pair), the separation data and the counts (cases ``r_*``).
* ``ppml_counts.csv``: 400 counts with an exposure (``log_exposure``, the offset) and two
  cluster variables ``g`` (25 levels) and ``h`` (7), for the model without effects
  (statsmodels' GLM Poisson).
"""

import sys

import numpy as np
import pandas as pd
import pyfixest as pf

TIGHT = dict(iwls_tol=1e-15, iwls_maxiter=200, demeaner=pf.MapDemeaner(fixef_tol=1e-13))
EARTH_RADIUS_KM = 6371.0088
PROBLEM1 = """y,x1,x2,i,j
2,0,0,2,1
0,0,0,4,2
0,0,0,1,1
1,1,0,4,3
0,0,1,2,2
0,0,0,2,2
1,0,0,5,4
0,1,2,2,3
1,0,0,1,1
0,0,0,2,2
0,2,0,1,3
0,0,0,1,3
0,1,0,2,2
0,0,1,5,2
0,0,1,2,4
0,0,0,1,2
0,0,0,1,1
2,0,0,1,2
"""


def write_data() -> None:
    rng = np.random.default_rng(20240613)
    # (a) a panel of counts with many zeros
    n_towns, n_years = 150, 12
    town = np.repeat(np.arange(n_towns), n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_towns)
    keep = rng.uniform(size=town.size) > 0.15
    town, year = town[keep], year[keep]
    a = rng.normal(-1.0, 1.2, n_towns)
    g = rng.normal(0.0, 0.3, n_years)
    x1 = rng.normal(size=town.size) + 0.3 * a[town]
    x2 = rng.binomial(1, 0.4, town.size).astype(float)
    y = rng.poisson(np.exp(a[town] + g[year - 2010] + 0.4 * x1 - 0.6 * x2))
    w = rng.uniform(0.5, 2.0, town.size)
    pd.DataFrame({"town_id": [f"t{t:03d}" for t in town], "year": year, "y": y, "x1": x1.round(6),
                  "x2": x2, "w": w.round(6)}).to_csv("ppml_panel.csv", index=False)
    # (b) towns and links with positive flows
    n = 20
    towns = pd.DataFrame({"town_id": [f"m{i:02d}" for i in range(n)], "region": rng.integers(0, 3, n).astype(str),
                          "lat": rng.uniform(59.0, 66.0, n).round(4), "lon": rng.uniform(28.0, 40.0, n).round(4),
                          "size": rng.normal(0.0, 1.0, n).round(4)})
    towns.loc[0, "size"] = -6.0  # a town that (almost) never sends or receives
    towns.to_csv("ppml_towns.csv", index=False)
    full = _pairs(towns, [2019, 2020, 2021, 2022])
    s = towns.set_index("town_id")["size"]
    eta = (1.0 + 0.8 * full["origin"].map(s).to_numpy() + 0.5 * full["destination"].map(s).to_numpy()
           - 1.1 * full["log_dist"].to_numpy() + 0.7 * full["same_region"].to_numpy() + 0.1 * (full["year"] - 2019) + 4)
    flow = rng.poisson(np.exp(eta))
    links = full.loc[flow > 0, ["origin", "destination", "year"]].assign(weight=flow[flow > 0])
    links.columns = ["source_town_id", "target_town_id", "year", "weight"]
    links.to_csv("ppml_links.csv", index=False)
    # (c) all-zero towns and years, singletons
    n_towns, n_years = 40, 8
    town = np.repeat(np.arange(n_towns), n_years)
    year = np.tile(np.arange(2015, 2015 + n_years), n_towns)
    keep = rng.uniform(size=town.size) > 0.1
    keep[(town == 5) & (year != 2016)] = False  # town 5: a singleton (y > 0)
    keep[(town == 6) & (year != 2019)] = False  # town 6: a singleton (y = 0)
    town, year = town[keep], year[keep]
    x1 = rng.normal(size=town.size)
    y = rng.poisson(np.exp(-0.5 + 0.5 * x1 + rng.normal(0.0, 0.8, n_towns)[town]))
    y[np.isin(town, [3, 11, 27])] = 0  # towns whose outcomes are all zero
    y[year == 2020] = 0  # a year whose outcomes are all zero
    y[(town == 5)] = 2
    y[(town == 6)] = 0
    pd.DataFrame({"town_id": town, "year": year, "y": y, "x1": x1.round(6)}).to_csv("ppml_separation.csv", index=False)
    with open("ppml_problem1.csv", "w") as f:
        f.write(PROBLEM1)
    write_counts()


def write_counts() -> None:
    """(d) counts without effects, with an exposure and two cluster variables (its own seed)."""
    rng = np.random.default_rng(11)
    n = 400
    x1, x2 = rng.normal(size=n), rng.uniform(size=n)
    log_exposure = np.log(rng.uniform(0.5, 3.0, n))
    y = rng.poisson(np.exp(log_exposure + 0.1 + 0.4 * x1 - 0.8 * x2))
    pd.DataFrame({"y": y, "x1": x1.round(6), "x2": x2.round(6), "log_exposure": log_exposure.round(6),
                  "g": rng.integers(0, 25, n), "h": rng.integers(0, 7, n)}).to_csv("ppml_counts.csv", index=False)


def _pairs(towns: pd.DataFrame, years) -> pd.DataFrame:
    """Every directed pair of distinct towns in every year, with log distance and same region."""
    ids = towns["town_id"]
    full = pd.MultiIndex.from_product([years, ids, ids], names=["year", "origin", "destination"]).to_frame(index=False)
    full = full[full["origin"] != full["destination"]].reset_index(drop=True)
    t = towns.set_index("town_id")
    p1, l1 = np.radians(full["origin"].map(t["lat"])), np.radians(full["origin"].map(t["lon"]))
    p2, l2 = np.radians(full["destination"].map(t["lat"])), np.radians(full["destination"].map(t["lon"]))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    full["log_dist"] = np.log(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)))
    full["same_region"] = (full["origin"].map(t["region"]) == full["destination"].map(t["region"])).astype(float)
    return full


def gravity() -> pd.DataFrame:
    towns = pd.read_csv("ppml_towns.csv", dtype={"region": str})
    links = pd.read_csv("ppml_links.csv")
    full = _pairs(towns, sorted(links["year"].unique()))
    links = links.rename(columns={"source_town_id": "origin", "target_town_id": "destination", "weight": "flow"})
    full = full.merge(links, on=["year", "origin", "destination"], how="left")
    full["flow"] = full["flow"].fillna(0.0)
    full["pair"] = full["origin"] + ">" + full["destination"]
    return full


HEADER = '''"""Reference values of PPML with fixed effects (``tests/test_models/test_ppml.py``).

Written by ``data/ppml_references.py`` (do not edit by hand):

    cd tests/test_models/data && python ppml_references.py > ../results/ppml.py

from the ``data/ppml_*.csv`` files (described in the script's docstring). Each case holds the
call that produced it, the coefficients and standard errors, the observations used, deviance,
log likelihood, McFadden's pseudo R-squared ``1 - ll / ll_0`` (None where the software gives
none) and the 0-based positions of the rows dropped (singletons and separated observations).

* pyfixest {pf} ``fepois`` (numpy {np}, pandas {pd}), with
  ``TIGHT = dict(iwls_tol=1e-15, iwls_maxiter=200, demeaner=pf.MapDemeaner(fixef_tol=1e-13))``
  and its defaults ``ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")``,
  ``fixef_rm="singleton"``, ``separation_check=["fe"]``: ``fit.coef()``, ``fit.se()``,
  ``fit._N``, ``fit.deviance``, ``fit._loglik``, ``fit._pseudo_r2`` (none with weights), the rows
  missing from ``fit._data``.
* statsmodels {sm} ``GLM(family=Poisson())`` for the model without effects (``glm_*``):
  ``params``, ``bse``, ``deviance``, ``llf``, ``1 - llf / llnull``.
* R {r} ``glm(family = poisson())`` with the effects as dummies and sandwich {sw}'s ``vcovHC`` /
  ``vcovCL`` (``type = "HC1"``), on the rows the effects identify (``r_*``; the script
  ``data/ppml_references.R``, called by ``ppml_references.py``).
"""

SOURCE = "pyfixest {pf}: cd tests/test_models/data && python ppml_references.py"
SOURCE_SM = "statsmodels {sm}: cd tests/test_models/data && python ppml_references.py"
'''


def fit(fml, data, vcov, **kw):
    m = pf.fepois(fml, data, vcov=vcov, **TIGHT, **kw)
    return {"params": m.coef().to_dict(), "std_errors": m.se().to_dict(), "nobs": int(m._N),
            "deviance": float(m.deviance), "pseudo_r2": None if m._pseudo_r2 is None else float(m._pseudo_r2),
            "loglik": float(m._loglik), "dropped": sorted(set(range(len(data))) - set(m._data.index))}


def glm_cases(counts: pd.DataFrame) -> dict:
    """statsmodels' GLM Poisson with the exposure as an offset (model without effects)."""
    import statsmodels.api as sm

    X = sm.add_constant(counts[["x1", "x2"]]).rename(columns={"const": "const"})
    model = sm.GLM(counts["y"], X, family=sm.families.Poisson(), offset=counts["log_exposure"])
    calls = {
        "glm_nonrobust": ("model.fit(tol=1e-14)", {}),
        "glm_hc0": ('model.fit(cov_type="HC0", tol=1e-14)', {"cov_type": "HC0"}),
        "glm_crv1_g": ('model.fit(cov_type="cluster", cov_kwds={"groups": counts["g"], "use_correction": True, '
                       '"df_correction": True}, tol=1e-14)',
                       {"cov_type": "cluster", "cov_kwds": {"groups": counts["g"], "use_correction": True,
                                                            "df_correction": True}}),
    }
    out = {}
    for name, (call, kw) in calls.items():
        m = model.fit(tol=1e-14, **kw)
        out[name] = ("model = sm.GLM(counts['y'], sm.add_constant(counts[['x1', 'x2']]), "
                     "family=sm.families.Poisson(), offset=counts['log_exposure']); " + call,
                     {"params": m.params.to_dict(), "std_errors": m.bse.to_dict(), "nobs": int(m.nobs),
                      "deviance": float(m.deviance), "pseudo_r2": float(1 - m.llf / m.llnull),
                      "loglik": float(m.llf), "dropped": []})
    return out


R_COMMANDS = {
    "r_panel_hc1": "m <- glm(y ~ x1 + x2 + factor(town_id) + factor(year), family = poisson(), data = panel); "
                   "vcovHC(m, type = 'HC1')",
    "r_gravity_od_crv1_pair": "m <- glm(flow ~ log_dist + same_region + factor(origin) + factor(destination), "
                              "family = poisson(), data = grav); vcovCL(m, cluster = ~pair, type = 'HC1')",
    "r_separation_hc1": "m <- glm(y ~ x1 + factor(town_id) + factor(year), family = poisson(), data = sep); "
                        "vcovHC(m, type = 'HC1')",
    "r_glm_offset_hc1": "m <- glm(y ~ x1 + x2 + offset(log_exposure), family = poisson(), data = counts); "
                        "vcovHC(m, type = 'HC1')",
    "r_glm_offset_crv1_g": "m <- glm(y ~ x1 + x2 + offset(log_exposure), family = poisson(), data = counts); "
                           "vcovCL(m, cluster = ~g, type = 'HC1')",
}


def r_cases(grav: pd.DataFrame) -> dict:
    """R's glm with the effects as dummies and sandwich's covariances (``ppml_references.R``)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/gravity.csv"
        grav.to_csv(path, index=False)
        text = subprocess.run(["Rscript", "ppml_references.R", "ppml_panel.csv", path, "ppml_separation.csv",
                               "ppml_counts.csv"], check=True, capture_output=True, text=True).stdout
    version = subprocess.run(["Rscript", "-e", 'cat(R.version$major, R.version$minor, as.character(packageVersion("sandwich")))'],
                             check=True, capture_output=True, text=True).stdout.split()
    out: dict = {}
    for line in text.splitlines():
        case, quantity, term, value = line.split()
        if quantity == "fit":
            out.setdefault(case, {})[term] = int(value) if term == "nobs" else float(value)
        else:
            out.setdefault(case, {}).setdefault(quantity, {})[term.replace("(Intercept)", "const")] = float(value)
    return {"R " + ".".join(version[:2]) + ", sandwich " + version[2]: out}


def main() -> None:
    import pprint

    import statsmodels

    panel = pd.read_csv("ppml_panel.csv")
    grav = gravity()
    sep = pd.read_csv("ppml_separation.csv")
    prob1 = pd.read_csv("ppml_problem1.csv")
    prob1_13 = prob1.drop(index=[4, 6, 7, 13, 14]).reset_index(drop=True)
    data = {"panel": panel, "grav": grav, "sep": sep, "prob1": prob1,
            "prob1.drop(index=[4, 6, 7, 13, 14]).reset_index(drop=True)": prob1_13}
    cases = {
        "panel_crv1_town": ("y ~ x1 + x2 | town_id + year", "panel", {"CRV1": "town_id"}, {}),
        "panel_hetero": ("y ~ x1 + x2 | town_id + year", "panel", "hetero", {}),
        "panel_iid": ("y ~ x1 + x2 | town_id + year", "panel", "iid", {}),
        "panel_crv1_town_year": ("y ~ x1 + x2 | town_id + year", "panel", {"CRV1": "town_id+year"}, {}),
        "panel_weighted_crv1_town": ("y ~ x1 + x2 | town_id + year", "panel", {"CRV1": "town_id"}, {"weights": "w"}),
        "gravity_od_crv1_pair": ("flow ~ log_dist + same_region | origin + destination", "grav", {"CRV1": "pair"}, {}),
        "gravity_od_crv1_origin": ("flow ~ log_dist + same_region | origin + destination", "grav",
                                   {"CRV1": "origin"}, {}),
        "gravity_odyear_crv1_pair": ("flow ~ log_dist + same_region | origin^year + destination^year", "grav",
                                     {"CRV1": "pair"}, {}),
        "gravity_odyear_crv1_origin_destination": ("flow ~ log_dist + same_region | origin^year + destination^year",
                                                   "grav", {"CRV1": "origin+destination"}, {}),
        "separation_crv1_town": ("y ~ x1 | town_id + year", "sep", {"CRV1": "town_id"}, {}),
        "separation_hetero": ("y ~ x1 | town_id + year", "sep", "hetero", {}),
        "problem1_ir_hetero": ("y ~ x1 + x2 | i + j", "prob1", "hetero", {"separation_check": ["fe", "ir"]}),
        "problem1_13rows_hetero": ("y ~ x1 | i + j", "prob1.drop(index=[4, 6, 7, 13, 14]).reset_index(drop=True)",
                                   "hetero", {}),
    }
    ((r_source, r_values),) = r_cases(grav).items()
    r_version, sw_version = r_source.removeprefix("R ").split(", sandwich ")
    print(HEADER.format(pf=pf.__version__, np=np.__version__, pd=pd.__version__, sm=statsmodels.__version__,
                        r=r_version, sw=sw_version))
    for name, (fml, dname, vcov, kw) in cases.items():
        extra = "".join(f", {k}={v!r}" for k, v in kw.items())
        call = f"pf.fepois({fml!r}, {dname}, vcov={vcov!r}{extra}, **TIGHT)"
        print(f"{name} = " + pprint.pformat({"source": "SOURCE", "command": call, **fit(fml, data[dname], vcov, **kw)},
                                            width=110, sort_dicts=False, compact=True).replace("'SOURCE'", "SOURCE", 1) + "\n")
    for name, (call, values) in glm_cases(pd.read_csv("ppml_counts.csv")).items():
        print(f"{name} = " + pprint.pformat({"source": "SOURCE_SM", "command": call, **values},
                                            width=110, sort_dicts=False, compact=True).replace("'SOURCE_SM'", "SOURCE_SM", 1)
              + "\n")
    print(f'SOURCE_R = "{r_source}: glm(family = poisson()) and sandwich, Rscript ppml_references.R (called by '
          'ppml_references.py)"\n')
    for name, values in r_values.items():
        print(f"{name} = " + pprint.pformat({"source": "SOURCE_R", "command": R_COMMANDS[name], **values}, width=110, sort_dicts=False,
                                            compact=True).replace("'SOURCE_R'", "SOURCE_R", 1) + "\n")


if __name__ == "__main__":
    if "--data" in sys.argv:
        write_data()
    else:
        main()
