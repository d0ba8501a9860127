"""PPML with absorbed effects (``models.ppml``) and the gravity frame (``models.gravity``).

References (values and calls in ``results/ppml.py``, written by ``data/ppml_references.py``
from the ``data/ppml_*.csv`` files): pyfixest 0.60.0 ``fepois``, to 1e-6 relative for
coefficients and standard errors (they agree to about 1e-12); R 4.2.2 ``glm`` with the effects as
dummies and sandwich 3.0.2 (HC1, ``vcovCL``); statsmodels' GLM Poisson for models without effects;
ppmlhdfe's own test ``problem1.do`` for regressor separation. Two checks fit statsmodels' GLM here
(the weighted null model, and a fit without the separated rows).
"""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from features.connectivity import haversine_matrix
from models.absorb import Factor
from models.exceptions import (
    AbsorbedRegressorError,
    CollinearityError,
    ConvergenceError,
    DegenerateModelError,
    ModelWarning,
)
from models.gravity import gravity_frame
from models.ppml import drop_fe_separation, ppml, ppml_covariance, ppml_df_k, relu_separation

HERE = Path(__file__).parent
DATA = HERE / "data"
REF = runpy.run_path(str(HERE / "results" / "ppml.py"))
TIGHT = dict(tol=1e-13, fixef_tol=1e-13)


def factor(name: str, values) -> Factor:
    codes, levels = pd.factorize(pd.Series(values), sort=True)
    return Factor(name, codes.astype(np.int64), len(levels))


def check(r, ref: dict, rtol: float = 1e-6) -> None:
    """Coefficients and standard errors to ``rtol``; rows, deviance, likelihoods to 1e-9."""
    assert r.names == tuple(ref["params"])
    np.testing.assert_allclose(r.params, list(ref["params"].values()), rtol=rtol)
    np.testing.assert_allclose(r.std_errors, list(ref["std_errors"].values()), rtol=rtol)
    assert r.nobs == ref["nobs"]
    assert np.flatnonzero(~r.keep).tolist() == ref["dropped"]
    np.testing.assert_allclose(r.deviance, ref["deviance"], rtol=1e-9)
    np.testing.assert_allclose(r.loglik, ref["loglik"], rtol=1e-9)
    if ref["pseudo_r2"] is not None:
        np.testing.assert_allclose(r.pseudo_r2, ref["pseudo_r2"], rtol=1e-9)


# ------------------------------------------------------------------------------ (a) a panel of counts
@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(DATA / "ppml_panel.csv")


@pytest.mark.parametrize(("case", "cov_type", "clusters", "weighted"), [
    ("panel_crv1_town", "clustered", ("town_id",), False),
    ("panel_hetero", "robust", (), False),
    ("panel_iid", "unadjusted", (), False),
    ("panel_crv1_town_year", "clustered", ("town_id", "year"), False),
    ("panel_weighted_crv1_town", "clustered", ("town_id",), True),
])
def test_panel_two_effects_matches_pyfixest(panel, case, cov_type, clusters, weighted):
    r = ppml(panel["y"], panel[["x1", "x2"]], [factor("town_id", panel["town_id"]), factor("year", panel["year"])],
             weights=panel["w"].to_numpy() if weighted else None, clusters=[factor(c, panel[c]) for c in clusters],
             names=("x1", "x2"), cov_type=cov_type, **TIGHT)
    check(r, REF[case])
    assert r.converged and r.effects[1] == ("year", 12)
    assert set(r.reasons[~r.keep]) == {"only zero outcomes in town_id"}


def test_default_tolerances_are_within_1e6_of_pyfixest(panel, gravity):
    """The defaults (deviance criterion 1e-8, demeaning from 1e-4 down to 1e-8, warm-started)
    still agree with the tight references to 1e-6."""
    r = ppml(panel["y"], panel[["x1", "x2"]], [factor("town_id", panel["town_id"]), factor("year", panel["year"])],
             clusters=[factor("town_id", panel["town_id"])], names=("x1", "x2"))
    check(r, REF["panel_crv1_town"], rtol=1e-6)
    g = ppml(gravity["flow"], gravity[["log_dist", "same_region"]],
             [_codes(gravity, "origin^year", "origin_year_code"), _codes(gravity, "destination^year", "destination_year_code")],
             clusters=[_codes(gravity, "pair", "pair_code")], names=("log_dist", "same_region"))
    check(g, REF["gravity_odyear_crv1_pair"], rtol=1e-6)


@pytest.mark.parametrize(("case", "data", "formula_terms"), [
    ("r_panel_hc1", "ppml_panel.csv", ("x1", "x2")),
    ("r_separation_hc1", "ppml_separation.csv", ("x1",)),
])
def test_two_effects_hc1_matches_r_glm_with_dummies(case, data, formula_terms):
    """R's ``glm`` with town and year dummies and sandwich's ``vcovHC(type = "HC1")``
    (``data/ppml_references.R``): its ``n / (n - k)`` counts every dummy, fixest's ``K``."""
    d = pd.read_csv(DATA / data)
    r = ppml(d["y"], d[list(formula_terms)], [factor("town_id", d["town_id"]), factor("year", d["year"])],
             names=formula_terms, cov_type="robust", **TIGHT)
    ref = REF[case]
    np.testing.assert_allclose(r.params, list(ref["params"].values()), rtol=1e-9)
    np.testing.assert_allclose(r.std_errors, list(ref["std_errors"].values()), rtol=1e-9)
    np.testing.assert_allclose([r.deviance, r.loglik], [ref["deviance"], ref["loglik"]], rtol=1e-10)
    assert r.nobs == ref["nobs"]


def test_weighted_pseudo_r2_is_against_the_weighted_intercept_only_model(panel):
    """pyfixest reports no pseudo R-squared with weights; the null model here is the weighted
    intercept-only Poisson MLE (``mu_0 = sum w y / sum w``), statsmodels' GLM with ``var_weights``."""
    f = [factor("town_id", panel["town_id"]), factor("year", panel["year"])]
    r = ppml(panel["y"], panel[["x1", "x2"]], f, weights=panel["w"].to_numpy(), **TIGHT)
    used = panel[r.keep]
    null = sm.GLM(used["y"], np.ones(len(used)), family=sm.families.Poisson(), var_weights=used["w"]).fit(tol=1e-14)
    np.testing.assert_allclose(r.loglik_null, null.llf, rtol=1e-12)
    np.testing.assert_allclose(r.pseudo_r2, 1 - REF["panel_weighted_crv1_town"]["loglik"] / null.llf, rtol=1e-9)


# ------------------------------------------------------------------------------ (b) a gravity model
@pytest.fixture(scope="module")
def gravity() -> pd.DataFrame:
    towns = pd.read_csv(DATA / "ppml_towns.csv", dtype={"region": str})
    g = gravity_frame(pd.read_csv(DATA / "ppml_links.csv"), towns)
    region = towns.set_index("town_id")["region"]
    g["log_dist"] = np.log(g["distance_km"])
    g["same_region"] = (g["origin"].map(region).to_numpy() == g["destination"].map(region).to_numpy()).astype(float)
    return g


def _codes(g: pd.DataFrame, name: str, column: str) -> Factor:
    return Factor(name, g[column].to_numpy(), int(g[column].max()) + 1)


@pytest.mark.parametrize(("case", "effects", "clusters"), [
    ("gravity_od_crv1_pair", (("origin", "origin_code"), ("destination", "destination_code")),
     (("pair", "pair_code"),)),
    ("gravity_od_crv1_origin", (("origin", "origin_code"), ("destination", "destination_code")),
     (("origin", "origin_code"),)),
    ("gravity_odyear_crv1_pair", (("origin^year", "origin_year_code"), ("destination^year", "destination_year_code")),
     (("pair", "pair_code"),)),
    ("gravity_odyear_crv1_origin_destination",
     (("origin^year", "origin_year_code"), ("destination^year", "destination_year_code")),
     (("origin", "origin_code"), ("destination", "destination_code"))),
])
def test_gravity_matches_pyfixest(gravity, case, effects, clusters):
    r = ppml(gravity["flow"], gravity[["log_dist", "same_region"]], [_codes(gravity, *e) for e in effects],
             clusters=[_codes(gravity, *c) for c in clusters], names=("log_dist", "same_region"), **TIGHT)
    check(r, REF[case])
    if case.startswith("gravity_od_"):  # the origin effect is nested in the origin clusters: out of K
        assert r.df_k == 2 + 20 + 20 - 1 - (20 - 1 if case == "gravity_od_crv1_origin" else 0)


def test_gravity_matches_r_glm_with_dummies(gravity):
    """R's ``glm(flow ~ log_dist + same_region + factor(origin) + factor(destination))`` with
    sandwich's ``vcovCL(cluster = ~pair, type = "HC1")`` (``data/ppml_references.R``)."""
    r = ppml(gravity["flow"], gravity[["log_dist", "same_region"]],
             [_codes(gravity, "origin", "origin_code"), _codes(gravity, "destination", "destination_code")],
             clusters=[_codes(gravity, "pair", "pair_code")], names=("log_dist", "same_region"), **TIGHT)
    ref = REF["r_gravity_od_crv1_pair"]
    np.testing.assert_allclose(r.params, list(ref["params"].values()), rtol=1e-9)
    np.testing.assert_allclose(r.std_errors, list(ref["std_errors"].values()), rtol=1e-9)
    np.testing.assert_allclose([r.deviance, r.loglik], [ref["deviance"], ref["loglik"]], rtol=1e-10)
    assert r.nobs == ref["nobs"] == len(gravity)


def test_gravity_frame_fills_the_absent_pairs_with_zeros():
    """Against a frame built independently (a product of years, origins and destinations merged
    with the links), as ``data/ppml_references.py`` builds the frame of the pyfixest references."""
    towns = pd.read_csv(DATA / "ppml_towns.csv", dtype={"region": str})
    links = pd.read_csv(DATA / "ppml_links.csv")
    g = gravity_frame(links, towns)
    ids, years = towns["town_id"], sorted(links["year"].unique())
    full = pd.MultiIndex.from_product([years, ids, ids], names=["year", "origin", "destination"]).to_frame(index=False)
    full = full[full["origin"] != full["destination"]].merge(
        links.rename(columns={"source_town_id": "origin", "target_town_id": "destination"}), how="left")
    assert len(g) == 4 * 20 * 19 and (g["flow"] == 0).sum() == len(g) - len(links)
    np.testing.assert_array_equal(g["flow"], full["weight"].fillna(0.0))
    assert (g["origin"].to_numpy() == full["origin"].to_numpy()).all()
    lat, lon = towns.set_index("town_id")["lat"], towns.set_index("town_id")["lon"]
    i, j = 5, 777
    d = haversine_matrix(np.array([lat[g["origin"][j]]]), np.array([lon[g["origin"][j]]]),
                         np.array([lat[g["destination"][j]]]), np.array([lon[g["destination"][j]]]))[0, 0]
    assert g["distance_km"][j] == pytest.approx(d, rel=1e-14) and g["distance_km"][i] > 0
    # codes: one level per origin-year, each with the 19 destinations
    assert np.bincount(g["origin_year_code"]).tolist() == [19] * 80
    assert g.groupby("pair_code")[["origin", "destination"]].nunique().eq(1).all().all()
    assert g["pair_code"].nunique() == 380


def test_gravity_frame_cross_section_self_pairs_and_errors():
    links = pd.DataFrame({"source_town_id": ["a", "b"], "target_town_id": ["b", "b"], "weight": [2.0, 1.0]})
    g = gravity_frame(links, self_pairs=True)
    assert g[["origin", "destination", "flow"]].values.tolist() == [["a", "a", 0.0], ["a", "b", 2.0],
                                                                    ["b", "a", 0.0], ["b", "b", 1.0]]
    assert "year" not in g and "distance_km" not in g
    with pytest.raises(ValueError, match="join a town to itself"):
        gravity_frame(links)
    with pytest.raises(ValueError, match="repeat a pair"):
        gravity_frame(pd.concat([links, links]), self_pairs=True)
    with pytest.raises(ValueError, match=">= 0"):
        gravity_frame(links.assign(weight=[-1.0, 1.0]), self_pairs=True)
    with pytest.raises(ValueError, match="not in the towns table"):
        gravity_frame(links, pd.DataFrame({"town_id": ["a"]}), self_pairs=True)
    with pytest.raises(ValueError, match="max_rows"):
        gravity_frame(links, self_pairs=True, max_rows=3)


# ------------------------------------------------------------------------------ (c) separation
def test_all_zero_towns_and_years_and_singletons_are_dropped_as_pyfixest():
    d = pd.read_csv(DATA / "ppml_separation.csv")
    f = [factor("town_id", d["town_id"]), factor("year", d["year"])]
    r = ppml(d["y"], d[["x1"]], f, clusters=[factor("town_id", d["town_id"])], names=("x1",), **TIGHT)
    check(r, REF["separation_crv1_town"])
    check(ppml(d["y"], d[["x1"]], f, names=("x1",), cov_type="robust", **TIGHT), REF["separation_hetero"])
    # singletons first, then towns whose outcomes are all zero, then the year of zeros
    zero_town = d.groupby("town_id")["y"].transform("max").eq(0).to_numpy()
    expected = np.select([d["town_id"].isin([5, 6]), zero_town, d["year"].eq(2020)],
                         ["singleton in town_id", "only zero outcomes in town_id", "only zero outcomes in year"], "")
    assert r.reasons.tolist() == expected.tolist()
    assert set(d.loc[zero_town, "town_id"]) >= {3, 11, 27}


def test_singletons_left_by_dropping_zeros_are_dropped_too():
    """Town B's only positive year is 2001, whose other rows are zeros, and year 2001 has no
    other positive outcome... Built by hand: dropping the all-zero town C leaves year 2002 with
    one row (town A's), a singleton; ppmlhdfe drops it, pyfixest (singletons first, then zeros,
    once) keeps it."""
    town = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3])
    year = np.array([0, 1, 2, 0, 1, 1, 2, 0, 1])
    y = np.array([1.0, 2.0, 3.0, 0.0, 4.0, 0.0, 0.0, 2.0, 1.0])
    keep, why = drop_fe_separation(y, [Factor("town", town, 4), Factor("year", year, 3)])
    assert why.tolist() == ["", "", "singleton in year", "", "", "only zero outcomes in town",
                            "only zero outcomes in town", "", ""]
    assert keep.tolist() == [True, True, False, True, True, False, False, True, True]


def test_regressor_separation_ppmlhdfe_problem1():
    """ppmlhdfe's test ``problem1.do``: x2 > 0 only where y = 0 separates rows 5, 8, 14, 15
    (1-based), which leaves row 7 a singleton of i; ppmlhdfe matches ``glm`` on the other 13
    rows, with x2 omitted. pyfixest's rectifier (``separation_check=["fe", "ir"]``) finds the
    same 4 rows (and keeps the singleton); the 13-row fit is pyfixest's on those rows."""
    d = pd.read_csv(DATA / "ppml_problem1.csv")
    f = [factor("i", d["i"]), factor("j", d["j"])]
    sep, by = relu_separation(d["y"].to_numpy(float), d[["x1", "x2"]].to_numpy(float), f, ["x1", "x2"])
    assert np.flatnonzero(sep).tolist() == REF["problem1_ir_hetero"]["dropped"] == [4, 7, 13, 14]
    assert by == ("x2",)
    for separation in ("auto", "relu"):
        r = ppml(d["y"], d[["x1", "x2"]], f, names=("x1", "x2"), cov_type="robust", separation=separation, **TIGHT)
        assert np.flatnonzero(~r.keep).tolist() == [4, 6, 7, 13, 14]
        assert r.reasons[6] == "singleton in i" and r.reasons[4] == "separated by x2"
        assert r.omitted == ("x2",) and r.separated_by == ("x2",)
        check(r, {**REF["problem1_13rows_hetero"], "dropped": [4, 6, 7, 13, 14]})
        np.testing.assert_allclose(r.params, list(REF["problem1_ir_hetero"]["params"].values()), rtol=1e-9)


def test_separation_found_on_regressors_demeaned_in_place_gives_the_same_fit():
    """``overwrite_X=True`` (as ``fit_panel_model`` calls it): the IRLS demeans the caller's X in
    place, so the check for separation after the fit (``"auto"``) works on the demeaned
    regressors; with the effects they span the same space, so the same rows are dropped and the
    13-row fit is ppmlhdfe's and pyfixest's (test above)."""
    d = pd.read_csv(DATA / "ppml_problem1.csv")
    f = [factor("i", d["i"]), factor("j", d["j"])]
    for order in ("C", "F"):
        X = np.array(d[["x1", "x2"]], dtype=float, order=order)
        r = ppml(d["y"], X, f, names=("x1", "x2"), cov_type="robust", overwrite_X=True, **TIGHT)
        assert np.flatnonzero(~r.keep).tolist() == [4, 6, 7, 13, 14]
        assert r.reasons[6] == "singleton in i" and r.reasons[4] == "separated by x2"
        assert r.omitted == ("x2",) and r.separated_by == ("x2",)
        check(r, {**REF["problem1_13rows_hetero"], "dropped": [4, 6, 7, 13, 14]})
        assert not np.array_equal(X, d[["x1", "x2"]].to_numpy(float))  # X held the IRLS's block


def test_separation_by_a_regressor_without_effects_matches_statsmodels():
    """Without effects: a dummy that is 1 only where y = 0 separates those rows; dropped, it is
    omitted, and the rest is statsmodels' GLM on the other rows."""
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.2 + 0.5 * x)).astype(float)
    dummy = np.zeros(n)
    dummy[np.flatnonzero(y == 0)[:7]] = 1.0
    X = np.column_stack([np.ones(n), x, dummy])
    r = ppml(y, X, names=("const", "x", "dummy"), cov_type="robust", small_sample="none", **TIGHT)
    assert (~r.keep).sum() == 7 and r.omitted == ("dummy",) and set(r.reasons[~r.keep]) == {"separated by dummy"}
    m = sm.GLM(y[r.keep], X[r.keep, :2], family=sm.families.Poisson()).fit(cov_type="HC0", tol=1e-14)
    np.testing.assert_allclose(r.params, m.params, rtol=1e-10)
    np.testing.assert_allclose(r.std_errors, m.bse, rtol=1e-10)
    with pytest.warns(ModelWarning, match="look separated"):
        r = ppml(y, X, separation="fe")
    assert r.keep.all() and r.params[2] < -10


# ------------------------------------------------------------------------------ no effects: statsmodels, R
@pytest.fixture(scope="module")
def counts():
    d = pd.read_csv(DATA / "ppml_counts.csv")
    X = np.column_stack([np.ones(len(d)), d["x1"], d["x2"]])
    return d["y"].to_numpy(float), X, d["log_exposure"].to_numpy(), d["g"].to_numpy(), d["h"].to_numpy()


@pytest.mark.parametrize(("case", "cov_type", "small_sample", "rtol"), [
    ("glm_nonrobust", "unadjusted", "none", 1e-8),
    ("glm_hc0", "robust", "none", 1e-10),
    ("r_glm_offset_hc1", "robust", "stata", 1e-10),
    ("glm_crv1_g", "clustered", "stata", 1e-10),
    ("r_glm_offset_crv1_g", "clustered", "stata", 1e-10),
])
def test_no_effects_matches_statsmodels_and_r_glm(counts, case, cov_type, small_sample, rtol):
    """statsmodels' GLM Poisson and R's ``glm`` with sandwich (``results/ppml.py``), the same model
    with an offset. statsmodels' cluster correction is ``G/(G-1) (N-1)/(N-K)`` (fixest's,
    pyfixest's, sandwich's ``vcovCL(type = "HC1")``); HC1 is sandwich's ``vcovHC(type = "HC1")``,
    ``N/(N-K)``. Exact (1e-10) but for the model-based covariance, which statsmodels takes at the
    weights of its last IRLS step (1e-8)."""
    y, X, offset, g, _ = counts
    clusters = [Factor("g", g, 25)] if cov_type == "clustered" else []
    r = ppml(y, X, clusters=clusters, offset=offset, names=("const", "x1", "x2"), cov_type=cov_type,
             small_sample=small_sample, **TIGHT)
    ref = REF[case]
    np.testing.assert_allclose(r.params, list(ref["params"].values()), rtol=1e-10)
    np.testing.assert_allclose(r.std_errors, list(ref["std_errors"].values()), rtol=rtol)
    np.testing.assert_allclose([r.deviance, r.loglik], [ref["deviance"], ref["loglik"]], rtol=1e-12)
    if "pseudo_r2" in ref:
        np.testing.assert_allclose(r.pseudo_r2, ref["pseudo_r2"], rtol=1e-10)
    assert r.nobs == len(y) == ref["nobs"] and r.keep.all() and r.df_k == 3 and r.dropped == {}


def test_three_way_clustering_reduces_to_two_way_when_a_dimension_repeats(counts):
    """Cameron, Gelbach and Miller (2011): with a repeated dimension the inclusion-exclusion of
    three dimensions, ``V1 + V2 + V1 - V12 - V11 - V21 + V121``, is ``V1 + V2 - V12``."""
    y, X, offset, g, h = counts
    c1, c2 = Factor("g", g, 25), Factor("h", h, 7)
    two = ppml(y, X, clusters=[c1, c2], **TIGHT)
    three = ppml(y, X, clusters=[c1, c2, c1], **TIGHT)
    np.testing.assert_allclose(three.cov, two.cov, rtol=1e-12)
    one = ppml(y, X, clusters=[c1], **TIGHT)
    assert not np.allclose(two.cov, one.cov, rtol=1e-3)


def test_df_k_counts_effects_as_fixest():
    """K = k + sum of levels - (effects - 1), less the levels of effects nested in a cluster
    dimension plus one per nested effect (pyfixest's ``get_ssc``)."""
    town = Factor("town", np.array([0, 0, 1, 1, 2, 2]), 3)
    year = Factor("year", np.array([0, 1, 0, 1, 0, 1]), 2)
    region = Factor("region", np.array([0, 0, 0, 0, 1, 1]), 2)
    assert ppml_df_k(2, [town, year]) == 2 + 3 + 2 - 1
    assert ppml_df_k(2, [town, year], [region]) == 2 + 4 - 3 + 1
    assert ppml_df_k(2, [town, year], [town]) == 2 + 4 - 3 + 1
    assert ppml_df_k(2, [], [town]) == 2
    with pytest.raises(ValueError, match="at least 2 clusters"):
        ppml_covariance(np.ones((6, 1)), np.ones(6), np.eye(1), "clustered", [Factor("c", np.zeros(6, np.int64), 1)])


# ------------------------------------------------------------------------------ errors
def test_user_mistakes_are_named(panel):
    f = [factor("town_id", panel["town_id"]), factor("year", panel["year"])]
    y, X = panel["y"].to_numpy(float), panel[["x1", "x2"]].to_numpy()
    with pytest.raises(ValueError, match="outcome >= 0.*first at row 3"):
        ppml(np.where(np.arange(len(y)) == 3, -1.0, y), X, f)
    with pytest.raises(ValueError, match="missing or infinite"):
        ppml(np.where(np.arange(len(y)) == 3, np.nan, y), X, f)
    town_level = panel.groupby("town_id")["x1"].transform("mean").to_numpy()
    with pytest.raises(AbsorbedRegressorError, match="town_mean_x1: no variation left once the effects town_id, year"):
        ppml(y, np.column_stack([X, town_level]), f, names=("x1", "x2", "town_mean_x1"))
    with pytest.raises(CollinearityError, match="x1, x2, x3"):
        ppml(y, np.column_stack([X, X[:, 0] + 2 * X[:, 1]]), f, names=("x1", "x2", "x3"))
    with pytest.raises(ValueError, match="one to three cluster dimensions"):
        ppml(y, X, f, cov_type="clustered")
    with pytest.raises(ValueError, match="'town_id': expected"):
        ppml(y, X, [Factor("town_id", f[0].codes[:-1], f[0].n_levels)])


def test_iteration_limit_raises_or_warns(panel):
    f = [factor("town_id", panel["town_id"]), factor("year", panel["year"])]
    y, X = panel["y"], panel[["x1", "x2"]]
    with pytest.raises(ConvergenceError, match="did not converge in 2 iterations.*deviance criterion"):
        ppml(y, X, f, maxiter=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = ppml(y, X, f, maxiter=2, strict=False)
    assert not r.converged and r.iterations == 2
    assert any(issubclass(w.category, ModelWarning) for w in caught)


def test_bad_arrays_are_named_with_the_count_and_first_row(panel):
    f = [factor("town_id", panel["town_id"]), factor("year", panel["year"])]
    y, X = panel["y"].to_numpy(float), panel[["x1", "x2"]].to_numpy()
    n = len(y)
    with pytest.raises(ValueError, match=r"outcome is missing or infinite in 2 rows \(first at row 4\)"):
        ppml(np.where(np.isin(np.arange(n), [4, 9]), np.inf, y), X, f)
    X_bad = X.copy()
    X_bad[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"regressors x2 are missing or infinite in 1 rows \(first at row 7\)"):
        ppml(y, X_bad, f, names=("x1", "x2"))
    with pytest.raises(ValueError, match=f"table of {n} rows"):
        ppml(y, X[:-1], f)
    with pytest.raises(ValueError, match="names: expected 2 names"):
        ppml(y, X, f, names=("x1",))
    with pytest.raises(ValueError, match=r"weights must be > 0; found 1 rows \(first at row 0\)"):
        ppml(y, X, f, weights=np.where(np.arange(n) == 0, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"weights are missing or infinite in 1 rows \(first at row 5\)"):
        ppml(y, X, f, weights=np.where(np.arange(n) == 5, np.nan, 1.0))
    with pytest.raises(ValueError, match=f"offset: expected one value per row \\({n}\\); found 3"):
        ppml(y, X, f, offset=np.zeros(3))
    with pytest.raises(ValueError, match="'year': expected .* integer codes in 0..n_levels-1"):
        ppml(y, X, [f[0], Factor("year", f[1].codes + 1, f[1].n_levels)])
    with pytest.raises(ValueError, match="cov_type must be one of unadjusted, robust, clustered; found 'HC1'"):
        ppml(y, X, f, cov_type="HC1")
    with pytest.raises(ValueError, match="separation must be one of auto, fe, relu"):
        ppml(y, X, f, separation="simplex")


def test_no_positive_outcome_left_is_a_clear_error():
    town = Factor("town_id", np.array([0, 0, 1, 1]), 2)
    with pytest.raises(DegenerateModelError, match="no row with a positive outcome is left"):
        ppml(np.zeros(4), np.arange(4.0), [town])


def test_demeaning_that_does_not_converge_names_the_effects(panel):
    f = [factor("town_id", panel["town_id"]), factor("year", panel["year"])]
    with pytest.raises(ConvergenceError, match="town_id, year"):
        ppml(panel["y"], panel[["x1", "x2"]], f, fixef_maxiter=1)


def test_result_is_read_only_and_reports_the_rows_dropped():
    d = pd.read_csv(DATA / "ppml_separation.csv")
    r = ppml(d["y"], d[["x1"]], [factor("town_id", d["town_id"]), factor("year", d["year"])], names=("x1",))
    with pytest.raises(ValueError, match="read-only"):
        r.params[0] = 0.0
    with pytest.raises(AttributeError):
        r.nobs = 0
    assert list(r.dropped) == REF["separation_crv1_town"]["dropped"]
    assert set(r.dropped.values()) == {"singleton in town_id", "only zero outcomes in town_id",
                                       "only zero outcomes in year"}
    assert [r.dropped[i] for i in np.flatnonzero(d["town_id"].isin([5, 6]))] == ["singleton in town_id"] * 2
