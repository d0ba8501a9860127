"""Absorbed (high-dimensional) fixed effects and multi-way clustering.

* :func:`models.absorb.demean` against the exact least-squares residuals on the dense dummy
  matrix (``numpy.linalg.lstsq``), 1 to 3 factors, weighted and unweighted, unbalanced.
* Singletons dropped iteratively across effects, degrees of freedom (both rules, against the
  rank of the dummy matrix), convergence errors, specification errors.
* Coefficients and standard errors against pyfixest 0.60.0 (``results/hdfe.py``, written by
  ``data/hdfe_reference_pyfixest.py``) to 1e-6 relative: three effects (town, year,
  region-by-year) with CRV1, HC1 and iid errors; an unbalanced panel with singletons; a flows
  table with origin and destination effects; two-way clustering. Three-way clustering against
  R's sandwich 3.0.22 (``data/hdfe_threeway_sandwich.R``).
"""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import models
from models.absorb import Factor, absorbed_dof, demean, effect_codes, make_factor, singleton_rows
from models.exceptions import ConvergenceError

HERE = Path(__file__).parent
DATA = HERE / "data"
REF = runpy.run_path(str(HERE / "results" / "hdfe.py"))
INDEX = {"hdfe_panel.csv": ["town_id", "year"], "hdfe_singletons.csv": ["town_id", "year"],
         "hdfe_flows.csv": ["pair", "year"]}


def _read(csv: str) -> pd.DataFrame:
    return pd.read_csv(DATA / csv).set_index(INDEX[csv])


# ------------------------------------------------------------------------------ demean, exact
def _dummies(factors) -> np.ndarray:
    return np.column_stack([np.eye(f.n_levels)[f.codes] for f in factors])


def _exact(M, factors, weights=None):
    """Residuals of the (weighted) least squares of M on all dummies, dense lstsq."""
    D = _dummies(factors)
    w = np.ones(len(M)) if weights is None else weights
    coef = np.linalg.lstsq(D * np.sqrt(w)[:, None], M * np.sqrt(w)[:, None], rcond=None)[0]
    return M - D @ coef


def _factors(n: int, sizes, rng) -> list[Factor]:
    out = []
    for q, L in enumerate(sizes):
        codes = rng.integers(0, L, size=n)
        codes[:L] = np.arange(L)  # every level present
        out.append(make_factor(f"f{q}", codes, L))
    return out


@pytest.mark.parametrize("sizes", [(17,), (25, 6), (25, 6, 40)])
@pytest.mark.parametrize("weighted", [False, True])
def test_demean_equals_exact_least_squares(sizes, weighted):
    rng = np.random.default_rng(len(sizes) + 10 * weighted)
    n = 400
    factors = _factors(n, sizes, rng)
    M = rng.normal(size=(n, 3)) + np.column_stack([f.codes for f in factors]).sum(axis=1)[:, None] * 0.1
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    got = demean(M, factors, weights=w, tol=1e-12)
    assert np.allclose(got, _exact(M, factors, w), rtol=0, atol=1e-9 * M.std())


def test_demean_default_tolerance_is_close_and_one_column_keeps_its_shape():
    rng = np.random.default_rng(3)
    factors = _factors(300, (30, 8, 12), rng)
    m = rng.normal(size=300)
    got = demean(m, factors)
    assert got.shape == (300,)
    assert np.allclose(got, _exact(m[:, None], factors)[:, 0], atol=1e-6 * m.std())


def test_demean_rejects_bad_weights_and_shapes():
    rng = np.random.default_rng(4)
    factors = _factors(50, (5, 4), rng)
    with pytest.raises(ValueError, match="weights"):
        demean(np.ones((50, 1)), factors, weights=-np.ones(50))
    with pytest.raises(ValueError, match="50 rows"):
        demean(np.ones((49, 1)), factors)


def test_convergence_error_names_the_effects():
    rng = np.random.default_rng(5)
    factors = _factors(500, (60, 50, 40), rng)
    with pytest.raises(ConvergenceError, match=r"did not converge in 1 sweeps.*f\d"):
        demean(rng.normal(size=(500, 2)), factors, tol=1e-14, maxiter=1)
    d = _read("hdfe_panel.csv")
    with pytest.raises(ConvergenceError, match=r"region\^year|year"):
        models.fit_panel_model(d, models.PanelModelSpec("y ~ x1 + x2 | town_id + year + region^year",
                                                        fe_tol=1e-14, fe_maxiter=1))


# ------------------------------------------------------------------------------ coding, singletons
def test_effect_codes_interaction_and_index_levels():
    d = pd.DataFrame({"region": ["a", "a", "b", "b", None], "v": 1.0},
                     index=pd.MultiIndex.from_arrays([["t1", "t1", "t2", "t3", "t3"], [2010, 2011, 2010, 2010, 2011]],
                                                     names=["town_id", "year"]))
    codes, n = effect_codes(d, "region^year")
    assert n == 3 and codes[4] == -1
    assert codes[0] != codes[1] and codes[2] == codes[3] and codes[0] != codes[2]
    codes, n = effect_codes(d, "town_id")
    assert n == 3 and list(codes) == [0, 0, 1, 2, 2]


def test_singletons_dropped_iteratively_across_effects():
    # region r9: u1 in 2010-2011, u2 in 2011-2013; r9 2010, 2012 and 2013 are singleton
    # region-years, dropping them leaves u1 and u2 one row each (2011): singleton towns
    rows = [("u1", 2010, "r9"), ("u1", 2011, "r9"), ("u2", 2011, "r9"), ("u2", 2012, "r9"), ("u2", 2013, "r9")]
    rng = np.random.default_rng(0)
    rows += [(f"t{i}", y, "r0") for i in range(4) for y in (2010, 2011, 2012)]
    idx = pd.MultiIndex.from_tuples([r[:2] for r in rows], names=["town_id", "year"])
    d = pd.DataFrame({"region": [r[2] for r in rows], "x": rng.normal(size=len(rows)),
                      "y": rng.normal(size=len(rows))}, index=idx)
    effects = [effect_codes(d, "town_id"), effect_codes(d, "region^year")]
    keep, by = singleton_rows(effects, np.ones(len(d), bool))
    assert keep.sum() == 12 and not keep[:5].any()
    # one pass (towns, then region-years) would keep the 2011 rows: the drop is repeated
    assert list(by[:5]) == [1, 0, 0, 1, 1]
    r = models.fit_panel_model(d, models.PanelModelSpec("y ~ x | town_id + region^year"))
    assert r.nobs == 12
    assert r.dropped["reason"].tolist() == ["singleton region^year", "singleton town_id", "singleton town_id",
                                            "singleton region^year", "singleton region^year"]
    kept = models.fit_panel_model(d.iloc[5:], models.PanelModelSpec("y ~ x | town_id + region^year"))
    assert np.allclose(r.params.to_numpy(), kept.params.to_numpy(), rtol=1e-10)


def test_missing_effect_rows_are_dropped_with_the_reason():
    d = _read("hdfe_panel.csv").copy()
    d.loc[d.index[:3], "region"] = np.nan
    r = models.fit_panel_model(d, models.PanelModelSpec("y ~ x1 | town_id + region^year"))
    assert (r.dropped["reason"] == "missing region^year").sum() == 3


# ------------------------------------------------------------------------------ degrees of freedom
def _rank(factors) -> int:
    return int(np.linalg.matrix_rank(_dummies(factors)))


def test_absorbed_dof_two_rules_connected_and_disconnected():
    rng = np.random.default_rng(8)
    conn = _factors(300, (20, 9), rng)
    assert absorbed_dof(conn, "firstpair") == absorbed_dof(conn, "fixest") == (19, 8)
    assert 1 + sum(absorbed_dof(conn, "firstpair")) == _rank(conn)
    # towns nested in 3 regions, region-by-year effects: 3 connected components
    town = np.repeat(np.arange(12), 5)
    year = np.tile(np.arange(5), 12)
    ry = (town % 3) * 5 + year
    disc = [Factor("town_id", town, 12), Factor("region^year", ry, 15)]
    assert absorbed_dof(disc, "firstpair") == (11, 15 - 3)
    assert absorbed_dof(disc, "fixest") == (11, 14)
    assert 1 + sum(absorbed_dof(disc, "firstpair")) == _rank(disc)  # exact for two factors
    assert 1 + sum(absorbed_dof(disc, "fixest")) == _rank(disc) + 2  # fixest overcounts by C - 1
    with pytest.raises(ValueError, match="rule"):
        absorbed_dof(disc, "exact")


def test_fe_dof_rules_change_only_disconnected_designs():
    d = _read("hdfe_singletons.csv")
    spec = dict(formula="y ~ x1 + x2 | town_id + region^year", cov_type="clustered", cluster="town_id")
    fx = models.fit_panel_model(d, models.PanelModelSpec(**spec))
    fp = models.fit_panel_model(d, models.PanelModelSpec(**spec, fe_dof="firstpair"))
    assert np.allclose(fx.params, fp.params, rtol=1e-12)
    assert (fp.std_errors[["x1", "x2"]] < fx.std_errors[["x1", "x2"]]).all()  # the towns sit in 6 regions


# ------------------------------------------------------------------------------ specification errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(formula="y ~ x1 | town_id + nowhere"), "nowhere"),
    (dict(formula="y ~ x1", absorb=("town_id", "region^nowhere")), "nowhere"),
])
def test_unknown_effect_column_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.fit_panel_model(_read("hdfe_panel.csv"), models.PanelModelSpec(**kwargs))


@pytest.mark.parametrize("kwargs, match", [
    (dict(formula="y ~ x1", estimator="random", absorb=("town_id",)), "absorbs no effects"),
    (dict(formula="y ~ x1 | town_id", estimator="pooled"), "absorbs no effects"),
    (dict(formula="y ~ x1", absorb=("town_id", "year"), effects="twoway"), "exclusive"),
    (dict(formula="y ~ x1 | town_id + year", absorb=("town_id",)), "differs from the formula"),
    (dict(formula="y ~ x1", absorb=("town_id", "town_id")), "twice"),
    (dict(formula="y ~ x1", absorb=("region^",)), "interaction"),
    (dict(formula="y ~ x1 | town_id", fe_dof="exact"), "fe_dof"),
    (dict(formula="y ~ x1 | town_id", fe_maxiter=0), "fe_maxiter"),
    (dict(formula="y ~ x1 | town_id", fe_tol=0.0), "fe_tol"),
    (dict(formula="y ~ x1 | town_id", cov_type="clustered", cluster="a+b+c+d"), "three"),
])
def test_specification_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.PanelModelSpec(**kwargs)


def test_formula_part_and_field_are_the_same_spec():
    a = models.PanelModelSpec("y ~ x1 | town_id + region^year")
    b = models.PanelModelSpec("y ~ x1", absorb=("town_id", "region ^ year"))
    c = models.PanelModelSpec("y ~ x1 | town_id + region^year", absorb="town_id + region^year")
    assert a.absorb == b.absorb == c.absorb == ("town_id", "region^year")


def test_absorbed_regressor_is_named():
    d = _read("hdfe_panel.csv").copy()
    d["rshock"] = d.groupby(["region", d.index.get_level_values("year")])["x1"].transform("mean")
    with pytest.raises(models.AbsorbedRegressorError, match="rshock"):
        models.fit_panel_model(d, models.PanelModelSpec("y ~ x1 + rshock | town_id + region^year"))


# ------------------------------------------------------------------------------ twoway unchanged
@pytest.mark.parametrize("cov", [dict(cov_type="unadjusted"), dict(cov_type="robust"),
                                 dict(cov_type="clustered", cluster="entity")])
def test_absorb_town_year_equals_twoway_effects(cov):
    d = _read("hdfe_singletons.csv")
    tw = models.fit_panel_model(d, models.PanelModelSpec("y ~ x1 + x2", effects="twoway", **cov))
    ab = models.fit_panel_model(d, models.PanelModelSpec("y ~ x1 + x2 | town_id + year", fe_tol=1e-12, **cov))
    assert tw.nobs == ab.nobs
    assert np.allclose(tw.params, ab.params, rtol=1e-9)
    assert np.allclose(tw.std_errors, ab.std_errors, rtol=1e-7)


# ------------------------------------------------------------------------------ pyfixest
def _spec(case: dict) -> models.PanelModelSpec:
    vcov = case["vcov"]
    if vcov == "iid":
        kw = dict(cov_type="unadjusted")
    elif vcov == "hetero":
        kw = dict(cov_type="robust")
    else:
        kw = dict(cov_type="clustered", cluster=vcov["CRV1"].replace(" ", ""))
    return models.PanelModelSpec(case["formula"], **kw)


@pytest.mark.parametrize("name", sorted(REF["PYFIXEST"]))
def test_against_pyfixest(name):
    case = REF["PYFIXEST"][name]
    d = _read(case["csv"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = models.fit_panel_model(d, _spec(case))
    assert r.nobs == case["nobs"]
    assert len(r.dropped) == case["dropped"]
    names = list(case["params"])
    np.testing.assert_allclose(r.params[names].to_numpy(), list(case["params"].values()), rtol=1e-6)
    np.testing.assert_allclose(r.std_errors[names].to_numpy(), list(case["std_errors"].values()), rtol=1e-6)
    assert r.df_resid == case["nobs"] - case["df_k"] or "CRV1" in str(case["vcov"])


@pytest.mark.parametrize("kind", ["none", "plm", "stata"])
def test_threeway_clustering_against_sandwich(kind):
    ref = REF["SANDWICH_THREEWAY"]
    r = models.fit_panel_model(_read(ref["csv"]), models.PanelModelSpec(
        ref["formula"], cov_type="clustered", cluster="town_id+year+region", cluster_small_sample=kind))
    np.testing.assert_allclose(r.params[["x1", "x2"]].to_numpy(), list(ref["params"].values()), rtol=1e-9)
    np.testing.assert_allclose(r.std_errors[["x1", "x2"]].to_numpy(), list(ref[kind].values()), rtol=1e-6)
