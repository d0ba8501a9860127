"""Two-stage least squares with absorbed effects (``models.iv``) against reference software.

References (``results/iv.py`` names the source, version and command of each number):

* pyfixest 0.60.0 IV with town, year and region-by-year effects on ``data/iv_panel.csv``
  (coefficients, iid / HC1 / CRV1 / two-way CRV1 standard errors, weights, first-stage F,
  effective F), printed by ``data/iv_reference_pyfixest.py``;
* R plm 2.6.2 IV within (one-way, two-way, two endogenous regressors) and AER 1.2.10's
  ``ivreg`` on Stock and Watson's cigarette demand with ``summary(..., diagnostics = TRUE)``,
  printed by ``data/iv_reference.R``; Stock and Watson's published (rounded) estimates;
* Stata's ivreg2 (as stored by the R package ivreg2r): two endogenous regressors (iid and
  robust), one-way and two-way clustering, weights: Cragg-Donald F, Kleibergen-Paap rk Wald F,
  Sargan / Hansen J, first-stage F and partial R-squared;
* FixedEffectModels.jl's Kleibergen-Paap F with two endogenous regressors and an absorbed effect.

Tolerance: 1e-6 relative for coefficients and standard errors (the issue's target); the
statistics are compared at 1e-6 too (the ivreg2 data are single precision, so agreement there
is about 1e-9).
"""

from __future__ import annotations

import runpy
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.absorb import Factor, demean
from models.clusters import nested
from models.covariance import cluster_meat, cov_clustered
from models.exceptions import AbsorbedRegressorError, CollinearityError, DegenerateModelError
from models.iv import (
    IdentificationError,
    IVCovariance,
    cragg_donald_f,
    kleibergen_paap_rk,
    multiway_meat,
    two_sls,
)

DATA = Path(__file__).parent / "data"
REF = runpy.run_path(str(Path(__file__).parent / "results" / "iv.py"))
RTOL = 1e-6


def codes(values) -> tuple[np.ndarray, int]:
    c, levels = pd.factorize(pd.Series(values), sort=True)
    return c.astype(np.int64), len(levels)


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def by_name(result, names):
    index = {n: i for i, n in enumerate(result.names)}
    return np.array([result.params[index[n]] for n in names]), np.array([result.std_errors[index[n]] for n in names])


def check_first_stage(stage, ref):
    """The first stage's coefficients and standard errors against pyfixest's (by name)."""
    if "first_stage_params" not in ref:
        return
    index = {n: i for i, n in enumerate(stage.names)}
    names = list(ref["first_stage_params"])
    close(stage.params[[index[n] for n in names]], [ref["first_stage_params"][n] for n in names])
    close(stage.std_errors[[index[n] for n in names]], [ref["first_stage_std_errors"][n] for n in names])


# ----------------------------------------------------------------------------- the synthetic panel
@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(DATA / "iv_panel.csv")


def three_effects(d: pd.DataFrame) -> list[Factor]:
    ry = d["region"].astype(str) + "^" + d["year"].astype(str)
    return [Factor("town_id", *codes(d["town_id"])), Factor("year", *codes(d["year"])), Factor("region^year", *codes(ry))]


def pyfixest_dof(factors: list[Factor], cluster_codes=()) -> tuple[int, int]:
    """The absorbed degrees of freedom as pyfixest counts them (``utils.get_ssc``,
    ``k_fixef="nonnested"``): ``sum(levels) - (n_fe - 1)``; under CRV1 the levels of effects
    nested in a cluster dimension are left out and one is added back per such effect."""
    total = sum(f.n_levels for f in factors) - (len(factors) - 1)
    nest = [f for f in factors if any(nested(f.codes, f.n_levels, c) for c in cluster_codes)]
    return total, total - sum(f.n_levels for f in nest) + len(nest)


def fit_panel(d, cov_type, cluster_dims=(), exog=("x1",), endog=("x2",), instruments=("z1", "z2"), factors=None,
              weights=None, small_sample="stata"):
    factors = three_effects(d) if factors is None else factors
    clusters = [codes(d[c]) for c in cluster_dims]
    dof, dof_crv = pyfixest_dof(factors, [c for c, _ in clusters])
    return two_sls(d["y"].to_numpy(), d[list(exog)].to_numpy(), d[list(endog)].to_numpy(),
                   d[list(instruments)].to_numpy(), exog_names=exog, endog_names=endog, instrument_names=instruments,
                   factors=factors, weights=weights, cov_type=cov_type, clusters=clusters, small_sample=small_sample,
                   df_absorbed=dof, df_absorbed_crv=dof_crv)


PYFIXEST_CASES = {"iid": ("unadjusted", ()), "hetero": ("robust", ()), "crv1_town": ("clustered", ("town_id",)),
                  "crv1_town_year": ("clustered", ("town_id", "year"))}


@pytest.mark.parametrize("case", list(PYFIXEST_CASES))
def test_three_effects_match_pyfixest(panel, case):
    ref = REF["pyfixest"][case]
    cov_type, dims = PYFIXEST_CASES[case]
    r = fit_panel(panel, cov_type, dims)
    params, se = by_name(r, ["x1", "x2"])
    close(params, [ref["params"]["x1"], ref["params"]["x2"]])
    close(se, [ref["std_errors"]["x1"], ref["std_errors"]["x2"]])
    if "first_stage_f" in ref:  # pyfixest clusters its first stage by the first dimension only
        close(r.first_stage[0].f_test.statistic, ref["first_stage_f"])
        check_first_stage(r.first_stage[0], ref)
    assert r.df_dist == (min(r.n_clusters) - 1 if dims else r.df_resid)


def test_weighted_matches_pyfixest(panel):
    ref = REF["pyfixest"]["weighted_crv1_town"]
    r = fit_panel(panel, "clustered", ("town_id",), weights=panel["w"].to_numpy())
    params, se = by_name(r, ["x1", "x2"])
    close(params, list(ref["params"].values()))
    close(se, list(ref["std_errors"].values()))
    close(r.first_stage[0].f_test.statistic, ref["first_stage_f"])
    check_first_stage(r.first_stage[0], ref)


@pytest.mark.parametrize("case", ["no_exog_hetero", "no_exog_crv1_town"])
def test_effective_f_matches_pyfixest_without_exogenous_regressors(panel, case):
    # pyfixest's _eff_F uses the instruments before the exogenous regressors are partialled
    # out, so the two definitions agree when there are none
    ref = REF["pyfixest"][case]
    cov_type, dims = ("robust", ()) if case.endswith("hetero") else ("clustered", ("town_id",))
    r = fit_panel(panel, cov_type, dims, exog=())
    close(r.params, [ref["params"]["x2"]])
    close(r.std_errors, [ref["std_errors"]["x2"]])
    close(r.first_stage[0].f_test.statistic, ref["first_stage_f"])
    close(r.diagnostics.effective_f, ref["effective_f"])
    check_first_stage(r.first_stage[0], ref)


# ----------------------------------------------------------------------------- plm IV within
PLM_CASES = {"oneway": (("town_id",), ("x2",), ("z1", "z2")), "twoways": (("town_id", "year"), ("x2",), ("z1", "z2")),
             "two_endog": (("town_id",), ("x2", "x3"), ("z1", "z2", "z3"))}


@pytest.mark.parametrize("case", list(PLM_CASES))
def test_iv_within_matches_plm(panel, case):
    ref = REF["plm"][case]
    effects, endog, instruments = PLM_CASES[case]
    factors = [Factor(e, *codes(panel[e])) for e in effects]
    names = ["x1", *endog]
    kw = dict(exog=("x1",), endog=endog, instruments=instruments, factors=factors)
    r = fit_panel(panel, "unadjusted", **kw)
    params, se = by_name(r, names)
    close(params, [ref["params"][n] for n in names])
    close(se, [ref["std_errors"][n] for n in names])
    assert r.df_resid == ref["df_resid"]
    close(float(r.resid @ r.resid), ref["rss"])
    # vcovHC: Arellano's clustered errors by town, no factor (HC0); type = "sss": G/(G-1) (N-1)/(N-K), K = slopes
    for small, key in (("none", "std_errors_hc0"), ("plm", "std_errors_sss")):
        r = fit_panel(panel, "clustered", ("town_id",), small_sample=small, **kw)
        close(by_name(r, names)[1], [ref[key][n] for n in names])


# ----------------------------------------------------------------------------- AER: cigarette demand
@pytest.fixture(scope="module")
def cigarettes():
    c = pd.read_csv(DATA / "iv_cigarettes_sw_1995.csv")
    n = len(c)
    X_exog = np.column_stack([np.ones(n), np.log(c["income"] / c["population"] / c["cpi"])])
    X_endog = np.log(c["price"] / c["cpi"]).to_numpy()[:, None]
    Z = np.column_stack([(c["taxs"] - c["tax"]) / c["cpi"], c["tax"] / c["cpi"]])
    return np.log(c["packs"]).to_numpy(), X_exog, X_endog, Z


def fit_cigarettes(data, cov_type):
    y, X_exog, X_endog, Z = data
    return two_sls(y, X_exog, X_endog, Z, exog_names=("Intercept", "lrincome"), endog_names=("lrprice",),
                   instrument_names=("tdiff", "taxcpi"), cov_type=cov_type)


def test_cigarette_demand_matches_aer(cigarettes):
    ref = REF["cigarettes"]
    names = ["Intercept", "lrprice", "lrincome"]
    for cov_type, se_key, suffix in (("unadjusted", "std_errors", ""), ("robust", "std_errors_hc1", "_hc1")):
        r = fit_cigarettes(cigarettes, cov_type)
        params, se = by_name(r, names)
        close(params, [ref["params"][n] for n in names])
        close(se, [ref[se_key][n] for n in names])
        for test, key in ((r.first_stage[0].f_test, "weak_instruments"), (r.diagnostics.endogeneity, "wu_hausman")):
            expected = ref[key + suffix]
            close(test.statistic, expected["statistic"])
            close(test.pvalue, expected["pvalue"])
            assert (test.df, test.df_denom) == (expected["df"], expected["df_denom"])
    r = fit_cigarettes(cigarettes, "unadjusted")  # AER's Sargan is the homoskedastic one whatever vcov. is
    assert r.diagnostics.overid.name == "Sargan" and r.diagnostics.overid.df == REF["cigarettes"]["sargan"]["df"]
    close(r.diagnostics.overid.statistic, REF["cigarettes"]["sargan"]["statistic"])
    close(r.diagnostics.overid.pvalue, REF["cigarettes"]["sargan"]["pvalue"])


def test_cigarette_demand_matches_stock_and_watson(cigarettes):
    ref = REF["stock_watson"]
    r = fit_cigarettes(cigarettes, "robust")
    names = ["Intercept", "lrprice", "lrincome"]
    params, se = by_name(r, names)
    np.testing.assert_array_equal(np.round(params, 2), [ref["params"][n] for n in names])
    np.testing.assert_array_equal(np.round(se, 2), [ref["std_errors_robust"][n] for n in names])


# ----------------------------------------------------------------------------- Stata ivreg2
def stata_floats(name: str) -> pd.DataFrame:
    """An ivreg2 fixture's data: Stata held them as float (single precision)."""
    return pd.read_csv(DATA / name).astype(np.float32).astype(np.float64)


def check_ivreg2(r, ref):
    names = list(ref["params"])
    params, se = by_name(r, names)
    close(params, [ref["params"][n] for n in names])
    close(se, [ref["std_errors"][n] for n in names])
    close(r.diagnostics.cragg_donald_f, ref["cdf"])
    if "widstat" in ref:
        close(r.diagnostics.kleibergen_paap_f, ref["widstat"])
    check_estat(r, ref)


def check_estat(r, ref):
    """ivreg2's endog() C statistic (``e(estat)``, ``e(estatp)``); ``None`` where Stata has none."""
    if "estat" not in ref:
        return
    c = r.diagnostics.endogeneity_c
    if ref["estat"] is None:
        assert c is None and any("C endogeneity test is not reported" in n for n in r.diagnostics.notes)
        return
    close(c.statistic, ref["estat"])
    assert c.df == len(r.first_stage)
    if "estatp" in ref:
        close(c.pvalue, ref["estatp"])


@pytest.mark.parametrize("case", ["iid", "hc1"])
def test_two_endogenous_regressors_match_ivreg2(case):
    ref = REF["ivreg2_multi_endo"][case]
    d = stata_floats("iv_ivreg2_multi_endo.csv")
    r = two_sls(d["y"], np.column_stack([d["x1"], d["x2"], np.ones(len(d))]), d[["endo1", "endo2"]],
                d[["z1", "z2", "z3", "z4"]], exog_names=("x1", "x2", "_cons"), endog_names=("endo1", "endo2"),
                instrument_names=("z1", "z2", "z3", "z4"), cov_type="unadjusted" if case == "iid" else "robust")
    check_ivreg2(r, ref)
    close([s.f_test.statistic for s in r.first_stage], [ref["first_stage_f"]["endo1"], ref["first_stage_f"]["endo2"]])
    assert [s.f_test.df_denom for s in r.first_stage] == [993, 993]
    if case == "iid":
        close([s.partial_r2 for s in r.first_stage], [ref["partial_r2"]["endo1"], ref["partial_r2"]["endo2"]])
        assert r.diagnostics.kleibergen_paap_f is None and r.diagnostics.overid.name == "Sargan"
        close(r.diagnostics.overid.statistic, ref["sargan"])
        close(r.diagnostics.overid.pvalue, ref["sarganp"])
    else:
        assert r.diagnostics.overid.name == "Hansen J"
        close(r.diagnostics.overid.statistic, ref["j"])
        close(r.diagnostics.overid.pvalue, ref["jp"])
    assert r.diagnostics.overid.df == 2


def test_clustered_matches_ivreg2():
    ref = REF["ivreg2_cluster"]
    d = stata_floats("iv_ivreg2_cluster.csv")
    r = two_sls(d["y"], np.column_stack([d["x1"], np.ones(len(d))]), d[["endo1"]], d[["z1", "z2"]],
                exog_names=("x1", "_cons"), endog_names=("endo1",), instrument_names=("z1", "z2"),
                cov_type="clustered", clusters=[codes(d["cluster_id"])])
    check_ivreg2(r, ref)
    close(r.first_stage[0].f_test.statistic, ref["first_stage_f"])
    close(r.diagnostics.overid.statistic, ref["j"])
    close(r.diagnostics.overid.pvalue, ref["jp"])
    close(r.first_stage[0].partial_r2, ref["pr2"])
    assert r.df_dist == 49 and r.first_stage[0].f_test.df_denom == 49


@pytest.mark.parametrize("case", ["hc1", "iid"])
def test_cluster_data_robust_and_homoskedastic_match_ivreg2(case):
    ref = REF[f"ivreg2_cluster_{case}"]
    d = stata_floats("iv_ivreg2_cluster.csv")
    r = two_sls(d["y"], np.column_stack([d["x1"], np.ones(len(d))]), d[["endo1"]], d[["z1", "z2"]],
                exog_names=("x1", "_cons"), endog_names=("endo1",), instrument_names=("z1", "z2"),
                cov_type="robust" if case == "hc1" else "unadjusted")
    check_estat(r, ref)
    if case == "hc1":
        close(r.diagnostics.kleibergen_paap_f, ref["widstat"])
        close(r.diagnostics.overid.statistic, ref["j"])
        close(r.diagnostics.overid.pvalue, ref["jp"])


def test_sargan_counts_absorbed_levels_as_ivreg2_dofminus():
    ref = REF["ivreg2_cluster_dofminus"]
    d = stata_floats("iv_ivreg2_cluster.csv")
    for dof, expected, estat in ((1, ref["sargan"], ref["estat"]),
                                 (0, ref["sargan_without_dofminus"], REF["ivreg2_cluster_iid"]["estat"])):
        r = two_sls(d["y"], np.column_stack([d["x1"], np.ones(len(d))]), d[["endo1"]], d[["z1", "z2"]],
                    exog_names=("x1", "_cons"), endog_names=("endo1",), instrument_names=("z1", "z2"),
                    df_absorbed=dof)
        close(r.diagnostics.overid.statistic, expected)
        close(r.diagnostics.endogeneity_c.statistic, estat)
        assert r.diagnostics.overid.df == ref["sargandf"]


@pytest.mark.parametrize("case", ["unweighted", "weighted"])
def test_two_way_clustered_matches_ivreg2(case):
    ref = REF["ivreg2_twoway"][case]
    d = stata_floats("iv_ivreg2_twoway.csv")
    r = two_sls(d["y"], np.column_stack([d["x1"], np.ones(len(d))]), d[["endo1"]], d[["z1", "z2"]],
                exog_names=("x1", "_cons"), endog_names=("endo1",), instrument_names=("z1", "z2"),
                weights=d["wt"].to_numpy() if case == "weighted" else None, cov_type="clustered",
                clusters=[codes(d["firm_id"]), codes(d["year_id"])])
    check_ivreg2(r, ref)
    close(r.first_stage[0].f_test.statistic, ref["first_stage_f"])
    assert r.n_clusters == (25, 10) and r.df_dist == 9
    close(r.first_stage[0].partial_r2, ref["pr2"])
    if ref["j"] is None:  # as ivreg2: S not positive definite, no J, and the note says why
        assert r.diagnostics.overid is None and "not positive definite" in r.diagnostics.notes[0]
    else:
        close(r.diagnostics.overid.statistic, ref["j"])


def test_kleibergen_paap_two_endogenous_with_effect_matches_fixedeffectmodels():
    d = pd.read_csv(DATA / "iv_fem_ftest.csv")
    r = two_sls(d["Y"], np.empty((len(d), 0)), d[["X1", "X2"]], d[["Z1", "Z2"]], exog_names=(),
                endog_names=("X1", "X2"), instrument_names=("Z1", "Z2"), factors=[Factor("id", *codes(d["id"]))],
                cov_type="robust", df_absorbed=2)
    close(r.diagnostics.kleibergen_paap_f, REF["fixest_jl_ftest"]["kleibergen_paap_f"])


# ----------------------------------------------------------------------------- identities
def test_kleibergen_paap_reduces_to_cragg_donald_and_first_stage_f(panel):
    factors = three_effects(panel)
    M = demean(panel[["x1", "x2", "x3", "z1", "z2", "z3"]].to_numpy(), factors, tol=1e-12)
    W, E, Z = M[:, :1], M[:, 1:3], M[:, 3:]
    Q, _ = np.linalg.qr(W)
    E_t, Z_t = E - Q @ (Q.T @ E), Z - Q @ (Q.T @ Z)
    dof = pyfixest_dof(factors)[0]
    iid = IVCovariance("unadjusted", len(panel), df_absorbed=dof)
    close(kleibergen_paap_rk(E_t, Z_t, iid, 4) / 3, cragg_donald_f(E_t, Z_t, len(panel) - 4 - dof), rtol=1e-10)
    # one endogenous regressor: the rk Wald F is the first stage's F, robust and clustered
    for cov_type, dims in (("robust", ()), ("clustered", ("town_id",)), ("clustered", ("town_id", "year"))):
        r = fit_panel(panel, cov_type, dims)
        close(r.diagnostics.kleibergen_paap_f, r.first_stage[0].f_test.statistic, rtol=1e-10)
    r = fit_panel(panel, "unadjusted")
    close(r.diagnostics.effective_f, r.first_stage[0].f_test.statistic, rtol=1e-10)
    close(r.diagnostics.cragg_donald_f, r.first_stage[0].f_test.statistic, rtol=1e-10)


def brute_force_meat(scores, dims):
    """``sum_S (-1)^(|S|+1) sum_g s_g s_g'`` with pandas: cluster sums by the tuples of the
    dimensions in ``S``."""
    frame = pd.DataFrame(scores)
    total = np.zeros((scores.shape[1], scores.shape[1]))
    for size in range(1, len(dims) + 1):
        for subset in combinations(range(len(dims)), size):
            sums = frame.groupby([dims[i] for i in subset]).sum().to_numpy()
            total += (-1) ** (size + 1) * sums.T @ sums
    return total


def test_multiway_meat_matches_brute_force_and_the_covariance_module(panel):
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(len(panel), 3))
    dims = [panel["town_id"].to_numpy(), panel["year"].to_numpy(), panel["region"].to_numpy()]
    clusters = [codes(v) for v in dims]
    np.testing.assert_allclose(multiway_meat(scores, clusters), brute_force_meat(scores, dims), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(multiway_meat(scores, clusters[:1]), cluster_meat(scores, *clusters[0]), rtol=1e-12)
    # two dimensions, Stata's factor on the smallest G: models.covariance's two-way CRV1
    X, u = scores[:, :2], scores[:, 2]
    bread = np.linalg.inv(X.T @ X)
    expected = cov_clustered(X, u, bread, clusters[:2], "stata", 5, 2)
    got = bread @ multiway_meat(X * u[:, None], clusters[:2], "stata", len(u), 5) @ bread
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_three_way_clustered_errors_are_the_sandwich(panel):
    dims = ("town_id", "year", "region")
    r = fit_panel(panel, "clustered", dims)
    assert r.n_clusters == (100, 8, 5) and r.df_dist == 4
    factors = three_effects(panel)
    M = demean(panel[["y", "x1", "x2", "z1", "z2"]].to_numpy(), factors, tol=1e-12)
    y, X, Zf = M[:, 0], M[:, 1:3], M[:, [1, 3, 4]]
    Xhat = Zf @ np.linalg.lstsq(Zf, X, rcond=None)[0]
    u = y - X @ r.params
    bread = np.linalg.inv(Xhat.T @ Xhat)
    n, dof_crv = len(y), pyfixest_dof(factors, [codes(panel[c])[0] for c in dims])[1]
    factor = 5 / 4 * (n - 1) / (n - 2 - dof_crv)  # G = 5 regions, K = 2 + absorbed levels not nested
    expected = bread @ brute_force_meat(Xhat * u[:, None], [panel[c].to_numpy() for c in dims]) @ bread * factor
    np.testing.assert_allclose(r.cov, expected, rtol=1e-9)


def test_hansen_j_is_not_reported_when_the_moments_outnumber_the_clusters(panel):
    r = fit_panel(panel, "clustered", ("region",), instruments=("z1", "z2", "z3"))  # 5 regions, 4 instruments: fine
    assert r.diagnostics.overid is not None
    r = fit_panel(panel, "clustered", ("region",), exog=("x1", "x3"), instruments=("z1", "z2", "z3", "w"))
    assert r.diagnostics.overid is None and "not positive definite" in r.diagnostics.notes[0]


def test_exactly_identified_has_no_overidentification_test(panel):
    r = fit_panel(panel, "robust", instruments=("z1",))
    assert r.diagnostics.overid is None and r.diagnostics.notes == ()
    assert r.diagnostics.endogeneity.df == 1 and 0.0 <= r.diagnostics.endogeneity.pvalue <= 1.0


# ----------------------------------------------------------------------------- identification failures
def small_panel(seed=3):
    rng = np.random.default_rng(seed)
    town, year = np.repeat(np.arange(30), 6), np.tile(np.arange(6), 30)
    d = pd.DataFrame({"town_id": town, "year": year, "x1": rng.normal(size=180), "z1": rng.normal(size=180),
                      "z2": rng.normal(size=180)})
    d["x2"] = d["z1"] + d["z2"] + rng.normal(size=180)
    d["y"] = d["x1"] + d["x2"] + rng.normal(size=180)
    return d


def fit_small(d, exog=("x1",), endog=("x2",), instruments=("z1", "z2"), effects=("town_id",)):
    factors = [Factor(e, *codes(d[e])) for e in effects]
    return two_sls(d["y"].to_numpy(), d[list(exog)].to_numpy(), d[list(endog)].to_numpy(),
                   d[list(instruments)].to_numpy(), exog_names=exog, endog_names=endog, instrument_names=instruments,
                   factors=factors, df_absorbed=sum(f.n_levels for f in factors))


def test_fewer_instruments_than_endogenous_regressors():
    d = small_panel()
    d["x3"] = d["z2"] - d["x1"]
    with pytest.raises(IdentificationError, match=r"1 excluded instrument\(s\) \('z1'\) for 2 endogenous .*'x2', 'x3'"):
        fit_small(d, endog=("x2", "x3"), instruments=("z1",))


@pytest.mark.parametrize("role", ["instrument", "endogenous regressor"])
def test_variables_absorbed_by_the_effects_are_named(role):
    d = small_panel()
    d["z_town"] = d.groupby("town_id")["z1"].transform("mean")  # time-invariant: the town effects span it
    d["x_town"] = d.groupby("town_id")["x2"].transform("mean")
    with pytest.raises(IdentificationError, match="'z_town': no variation left" if role == "instrument"
                       else "'x_town': no variation left"):
        if role == "instrument":
            fit_small(d, instruments=("z1", "z_town"))
        else:
            fit_small(d, endog=("x_town",))


def test_absorbed_exogenous_regressor_and_outcome():
    d = small_panel()
    d["x_town"] = d.groupby("town_id")["x1"].transform("mean")
    with pytest.raises(AbsorbedRegressorError, match="'x_town': no variation left"):
        fit_small(d, exog=("x1", "x_town"))
    d["y"] = d.groupby("town_id")["y"].transform("mean")
    with pytest.raises(DegenerateModelError, match="outcome 'y' has no variation left"):
        fit_small(d)


def test_instruments_collinear_with_exogenous_regressors():
    d = small_panel()
    d["z_bad"] = 2.0 * d["x1"] - 0.5 * d["year"]  # a combination of x1 and the year effects
    with pytest.raises(IdentificationError, match="instruments 'z_bad' are collinear with the exogenous"):
        fit_small(d, instruments=("z1", "z_bad"), effects=("town_id", "year"))


def test_instruments_collinear_with_each_other():
    d = small_panel()
    d["z3"] = 2.0 * d["z1"] - d["z2"] + 0.1 * d["town_id"]  # a combination of z1, z2 and the town effects
    with pytest.raises(IdentificationError, match=r"instruments 'z1', 'z2', 'z3' are collinear .* or with each other"):
        fit_small(d, instruments=("z1", "z2", "z3"))


def test_first_stage_without_the_excluded_instruments():
    d = small_panel()
    W = demean(d[["x1"]].to_numpy(), [Factor("town_id", *codes(d["town_id"]))])
    x2 = demean(d["x2"].to_numpy(), [Factor("town_id", *codes(d["town_id"]))])
    basis = np.column_stack([W, x2])
    for z in ("z1", "z2"):  # instruments orthogonal to x2 given x1 and the town effects
        v = demean(d[z].to_numpy(), [Factor("town_id", *codes(d["town_id"]))])
        d[z] = v - basis @ np.linalg.lstsq(basis, v, rcond=None)[0]
    with pytest.raises(IdentificationError, match=r"\('z1', 'z2'\) do not enter the first stage of 'x2'"):
        fit_small(d)


def test_first_stages_that_move_two_regressors_together():
    d = small_panel()
    rng = np.random.default_rng(7)
    Zf = np.column_stack([np.ones(len(d)), d[["x1", "z1", "z2"]].to_numpy(), pd.get_dummies(d["town_id"]).to_numpy()])
    noise = rng.normal(size=len(d))
    noise -= Zf @ np.linalg.lstsq(Zf, noise, rcond=None)[0]  # orthogonal to every instrument and effect
    d["x3"] = 2.0 * d["x2"] + noise  # the same fitted values up to scale
    with pytest.raises(IdentificationError, match="first stages of 'x2', 'x3' are collinear"):
        fit_small(d, endog=("x2", "x3"), instruments=("z1", "z2"))


def test_collinear_exogenous_regressors_and_bad_inputs():
    d = small_panel()
    d["x1b"] = 3.0 * d["x1"]
    with pytest.raises(CollinearityError, match="'x1', 'x1b'"):
        fit_small(d, exog=("x1", "x1b"))
    with pytest.raises(ValueError, match="X_endog has 1 columns but 2 names"):
        two_sls(d["y"], d[["x1"]], d[["x2"]], d[["z1", "z2"]], exog_names=("x1",), endog_names=("x2", "x3"),
                instrument_names=("z1", "z2"))
    d.loc[3, "z1"] = np.nan
    with pytest.raises(ValueError, match="Z holds missing"):
        fit_small(d)
    with pytest.raises(ValueError, match="cov_type 'hac'"):
        two_sls(d["y"], d[["x1"]], d[["x2"]], d[["z2"]], exog_names=("x1",), endog_names=("x2",),
                instrument_names=("z2",), cov_type="hac")


def test_result_is_read_only(panel):
    r = fit_panel(panel, "clustered", ("town_id",))
    for a in (r.params, r.std_errors, r.cov, r.resid, r.first_stage[0].params, r.first_stage[0].cov):
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 0.0
    with pytest.raises(AttributeError):
        r.params = np.zeros(2)
    assert r.first_stage[0].endog == "x2" and r.first_stage[0].names == ("x1", "z1", "z2")
    assert r.diagnostics.first_stage_f[0] is r.first_stage[0].f_test
