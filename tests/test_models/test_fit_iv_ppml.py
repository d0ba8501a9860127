"""Instrumental variables and PPML through ``models.fit_panel_model`` (the public route).

The numbers are the references of ``results/iv.py`` (pyfixest 0.60.0 IV with town, year and
region-by-year effects; plm 2.6.2's IV within) and ``results/ppml.py`` (pyfixest 0.60.0
``fepois``), reached here through ``PanelModelSpec`` and the orchestrator: the same rows,
effects, degrees of freedom and clusters as the numeric cores' own tests, from a data frame
indexed by (town, year). Also: specification errors, ``compare()`` rows, dropped rows.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import models
from models import PanelModelSpec, compare, fit_panel_model

HERE = Path(__file__).parent
DATA = HERE / "data"
IV = runpy.run_path(str(HERE / "results" / "iv.py"))
PPML = runpy.run_path(str(HERE / "results" / "ppml.py"))
RTOL = 1e-6


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def indexed(d: pd.DataFrame) -> pd.DataFrame:
    """The panel indexed by (town, year), the columns kept (effects and clusters name them)."""
    out = d.set_index(["town_id", "year"], drop=False)
    out.index.names = ["town", "yr"]
    return out


@pytest.fixture(scope="module")
def iv_panel() -> pd.DataFrame:
    return indexed(pd.read_csv(DATA / "iv_panel.csv"))


@pytest.fixture(scope="module")
def ppml_panel() -> pd.DataFrame:
    return indexed(pd.read_csv(DATA / "ppml_panel.csv"))


# ----------------------------------------------------------------------------- IV
IV_CASES = {"iid": ("unadjusted", "town_id"), "hetero": ("robust", "town_id"), "crv1_town": ("clustered", "town_id"),
            "crv1_town_year": ("clustered", "town_id+year")}


@pytest.mark.parametrize("case", list(IV_CASES))
def test_iv_with_three_effects_matches_pyfixest(iv_panel, case):
    ref = IV["pyfixest"][case]
    cov_type, cluster = IV_CASES[case]
    r = fit_panel_model(iv_panel, IV["PYFIXEST_FORMULA"], cov_type=cov_type, cluster=cluster)
    close(r.params[["x1", "x2"]], [ref["params"]["x1"], ref["params"]["x2"]])
    close(r.std_errors[["x1", "x2"]], [ref["std_errors"]["x1"], ref["std_errors"]["x2"]])
    assert r.absorbed == ("town_id", "year", "region^year") and "Intercept" not in r.params.index
    if "first_stage_f" in ref:
        close(r.first_stage_tests.loc["x2", "F"], ref["first_stage_f"])
        fs = r.first_stage.loc["x2"]
        close(fs.loc[["z1", "z2", "x1"], "estimate"], [ref["first_stage_params"][n] for n in ("z1", "z2", "x1")])
        close(fs.loc[["z1", "z2", "x1"], "std_error"],
              [ref["first_stage_std_errors"][n] for n in ("z1", "z2", "x1")])


def test_iv_spelled_as_fields_equals_the_formula_parts(iv_panel):
    a = fit_panel_model(iv_panel, IV["PYFIXEST_FORMULA"], cluster="town_id")
    b = fit_panel_model(iv_panel, PanelModelSpec("y ~ x1", estimator="iv", absorb=("town_id", "year", "region^year"),
                                                 endog=("x2",), instruments=("z1", "z2"), cluster="town_id"))
    pd.testing.assert_series_equal(a.params, b.params)
    pd.testing.assert_series_equal(a.std_errors, b.std_errors)


@pytest.mark.parametrize("case, effects", [("oneway", "entity"), ("twoways", "twoway")])
def test_within_with_instruments_matches_plm_iv_within(iv_panel, case, effects):
    """``plm(y ~ x1 + x2 | x1 + z1 + z2, model = "within", effect = ...)`` (results/iv.py)."""
    ref = IV["plm"][case]
    spec = PanelModelSpec("y ~ x1", effects=effects, endog=("x2",), instruments=("z1", "z2"), cov_type="unadjusted")
    r = fit_panel_model(iv_panel, spec)
    close(r.params[["x1", "x2"]], [ref["params"]["x1"], ref["params"]["x2"]])
    close(r.std_errors[["x1", "x2"]], [ref["std_errors"]["x1"], ref["std_errors"]["x2"]])
    assert r.df_resid == ref["df_resid"]
    close(r.ssr, ref["rss"])
    sss = fit_panel_model(iv_panel, PanelModelSpec("y ~ x1", effects=effects, endog=("x2",), instruments=("z1", "z2"),
                                                   cluster_small_sample="plm"))
    close(sss.std_errors[["x1", "x2"]], [ref["std_errors_sss"]["x1"], ref["std_errors_sss"]["x2"]])


def test_iv_summary_and_table_show_the_first_stage(iv_panel):
    r = fit_panel_model(iv_panel, IV["PYFIXEST_FORMULA"], cluster="town_id", name="2SLS")
    text = r.summary()
    assert "first stage x2: F(2, " in text and "Kleibergen-Paap" in text and "Hansen J" in text
    cells = compare([r]).cells
    assert cells.loc["First-stage F", "2SLS"] == f"{r.first_stage_tests.loc['x2', 'F']:.2f}"
    assert cells.loc["Effects", "2SLS"] == "town_id + year + region^year"
    assert cells.loc["Estimator", "2SLS"] == "within IV (2SLS)"


def test_an_instrument_absorbed_by_the_effects_is_named(iv_panel):
    d = iv_panel.assign(zt=iv_panel["town_id"] * 0.5)
    with pytest.raises(models.iv.IdentificationError, match="zt"):
        fit_panel_model(d, "y ~ x1 | town_id + year | x2 ~ z1 + zt")


@pytest.mark.parametrize("kw, match", [
    (dict(estimator="iv"), "needs endog"),
    (dict(estimator="random", endog=("x2",), instruments=("z1",)), "does not estimate endogenous"),
    (dict(endog=("x2",), instruments=("z1",), cov_type="driscoll_kraay"), "not available for estimator='within' with "
                                                                          "instruments"),
    (dict(endog=("x2", "x3"), instruments=("z1",)), "not identified"),
    (dict(estimator="ppml", cov_type="wild_bootstrap"), "not available for estimator='ppml'"),
])
def test_specification_errors_name_the_problem(kw, match):
    with pytest.raises(ValueError, match=match):
        PanelModelSpec("y ~ x1", **kw)


# ----------------------------------------------------------------------------- PPML
PPML_CASES = {"panel_crv1_town": dict(cov_type="clustered", cluster="town_id"),
              "panel_hetero": dict(cov_type="robust"), "panel_iid": dict(cov_type="unadjusted")}


@pytest.mark.parametrize("case", list(PPML_CASES))
def test_ppml_with_two_effects_matches_pyfixest(ppml_panel, case):
    ref = PPML[case]
    r = fit_panel_model(ppml_panel, PanelModelSpec("y ~ x1 + x2", estimator="ppml", absorb=("town_id", "year"),
                                                   **PPML_CASES[case]))
    close(r.params[["x1", "x2"]], [ref["params"]["x1"], ref["params"]["x2"]])
    close(r.std_errors[["x1", "x2"]], [ref["std_errors"]["x1"], ref["std_errors"]["x2"]])
    assert r.nobs == ref["nobs"] and r.dist == "normal"
    close(r.deviance, ref["deviance"])
    close(r.loglik, ref["loglik"])
    close(r.pseudo_rsquared, ref["pseudo_r2"])
    # the rows pyfixest left out (all-zero towns and years, singletons), by position
    dropped = np.flatnonzero(ppml_panel.index.isin(r.dropped.index))
    assert dropped.tolist() == ref["dropped"]
    assert set(r.dropped["reason"]) <= {"only zero outcomes in town_id", "only zero outcomes in year",
                                        "singleton town_id", "singleton year", "singleton in town_id",
                                        "singleton in year"}


def test_ppml_table_and_summary(ppml_panel):
    r = fit_panel_model(ppml_panel, "y ~ x1 + x2 | town_id + year", estimator="ppml", name="PPML")
    cells = compare([r]).cells
    assert cells.loc["Pseudo R-squared", "PPML"] == f"{r.pseudo_rsquared:.3f}"
    assert cells.loc["Estimator", "PPML"] == "PPML" and cells.loc["R-squared", "PPML"] == ""
    assert "pseudo R-squared (McFadden)" in r.summary()
    fig = models.coefplot([r])
    assert len(fig.axes) == 1


def test_ppml_refuses_plm_small_sample(ppml_panel):
    with pytest.raises(ValueError, match="cluster_small_sample='plm'"):
        fit_panel_model(ppml_panel, "y ~ x1 | town_id", estimator="ppml", cluster_small_sample="plm")
